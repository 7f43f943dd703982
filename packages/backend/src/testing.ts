/**
 * The conformance harness: a suite written once runs on every backend we support in Node.
 *
 *   describeBackends('softmax', (ctx) => {
 *     it('rows sum to one', async () => { ... await expectClose(t, expected, ctx.tol) ... });
 *   });
 *
 * produces tests named "[cpu] softmax rows sum to one", "[wasm] …", "[webgpu] …".
 * webgpu runs on Dawn; with no GPU it uses SwiftShader from Debian's chromium. If no adapter
 * can be had, the webgpu block fails when ATTNLAB_REQUIRE_WEBGPU=1 (CI) and is skipped otherwise.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from './index.js';

export type TestBackend = 'cpu' | 'wasm' | 'webgpu';

export interface BackendContext {
  backend: TestBackend;
  /** Relative tolerance that fits float32 on this backend. */
  tol: number;
}

function requested(): TestBackend[] {
  const env = process.env.ATTNLAB_TEST_BACKENDS;
  const all: TestBackend[] = ['cpu', 'wasm', 'webgpu'];
  if (!env) return all;
  const list = env
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const b of list)
    if (!all.includes(b as TestBackend))
      throw new Error(`ATTNLAB_TEST_BACKENDS: unknown backend '${b}'; allowed: ${all.join(', ')}`);
  return list as TestBackend[];
}

const webgpuProbe: { result?: Promise<string | undefined> } = {};
async function webgpuAvailable(): Promise<string | undefined> {
  webgpuProbe.result ??= initBackend({ prefer: 'webgpu' }).then(
    () => undefined,
    (e: Error) => e.message,
  );
  return webgpuProbe.result;
}

/** Runs `body` once per backend inside `describe('[backend] title')`. */
export function describeBackends(title: string, body: (ctx: BackendContext) => void, only?: TestBackend[]): void {
  for (const backend of requested()) {
    if (only && !only.includes(backend)) continue;
    const ctx: BackendContext = { backend, tol: backend === 'webgpu' ? 1e-4 : 1e-5 };
    describe(`[${backend}] ${title}`, () => {
      let skip: string | undefined;
      beforeAll(async () => {
        if (backend === 'webgpu') {
          const why = await webgpuAvailable();
          if (why) {
            if (process.env.ATTNLAB_REQUIRE_WEBGPU === '1') throw new Error(`webgpu required but unavailable: ${why}`);
            skip = why;
            return;
          }
          // Measure the GPU kernels themselves, not tfjs's small-tensor CPU forwarding.
          tf.env().set('WEBGPU_CPU_FORWARD', false);
        }
        await initBackend({ prefer: backend as BackendName });
        expect(tf.getBackend()).toBe(backend);
      });
      beforeEach(() => {
        if (skip) console.warn(`[${backend}] skipped: ${skip}`);
      });
      body(ctx);
    });
  }
}

/** Reads any tensor (works on webgpu, where dataSync is unavailable in Node). */
export async function read(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

/** Asserts |a - b| ≤ atol + rtol·|b| elementwise, with a readable failure. */
export async function expectClose(
  actual: tf.Tensor | number[] | number,
  expected: ArrayLike<number> | number,
  rtol = 1e-5,
  atol = rtol,
): Promise<void> {
  const a = typeof actual === 'number' ? [actual] : Array.isArray(actual) ? actual : await read(actual);
  const e = typeof expected === 'number' ? [expected] : Array.from(expected);
  expect(a.length).toBe(e.length);
  for (let i = 0; i < e.length; i++) {
    const diff = Math.abs(a[i]! - e[i]!);
    if (!(diff <= atol + rtol * Math.abs(e[i]!))) {
      throw new Error(
        `element ${i}: got ${a[i]}, expected ${e[i]} (|diff| ${diff.toExponential(2)} > ${atol} + ${rtol}·|expected|)`,
      );
    }
  }
}

/** Asserts that `fn` leaves the number of live tensors unchanged (it may be async). */
export async function expectNoLeak<T>(fn: () => T | Promise<T>, dispose?: (r: T) => void): Promise<T> {
  const before = tf.memory().numTensors;
  const r = await fn();
  dispose?.(r);
  const after = tf.memory().numTensors;
  if (after !== before)
    throw new Error(`tensor leak: ${after - before} tensors left (before ${before}, after ${after})`);
  return r;
}
