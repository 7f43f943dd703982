import {
  BACKEND_ORDER,
  initBackend,
  probeBackends,
  type BackendName,
  type BackendPreference,
  type BackendReport,
} from '@attnlab/backend';
import * as tf from '@tensorflow/tfjs-core';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

/** The WASM binaries as bundled by Vite (hashed file names), so no CDN is ever needed. */
export const WASM_PATHS: Record<string, string> = {
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
};

const ALLOWED: readonly string[] = ['auto', ...BACKEND_ORDER.browser];

/** Reads `?backend=` from the page URL; an unknown value is reported and `auto` is used. */
export function requestedBackend(search: string): { prefer: BackendPreference; warning?: string } {
  const value = new URLSearchParams(search).get('backend');
  if (value === null || value === '') return { prefer: 'auto' };
  if (!ALLOWED.includes(value)) {
    return {
      prefer: 'auto',
      warning: `?backend=${value} is not a backend; allowed: ${ALLOWED.join(', ')}. Using auto.`,
    };
  }
  return { prefer: value as BackendPreference };
}

/**
 * Starts TensorFlow.js on the requested backend. In the lab a software WebGPU adapter
 * (SwiftShader) is accepted: these pages are about WebGPU, and the work per page is small.
 * A forced backend that fails falls back to auto, and the reason is kept for the badge.
 */
export async function startBackend(
  prefer: BackendPreference,
): Promise<{ report: BackendReport; forcedFailure?: string }> {
  const options = { wasmPaths: WASM_PATHS, allowSoftwareWebGPU: true };
  try {
    return { report: await initBackend({ ...options, prefer }) };
  } catch (err) {
    if (prefer === 'auto') throw err;
    const forcedFailure = err instanceof Error ? err.message : String(err);
    return { report: await initBackend({ ...options, prefer: 'auto' }), forcedFailure };
  }
}

const LABEL: Record<string, string> = {
  webgpu: 'WebGPU',
  webgl: 'WebGL',
  wasm: 'WASM',
  cpu: 'CPU',
  tensorflow: 'TensorFlow',
};
export const backendLabel = (name: string): string => LABEL[name] ?? name;

/** One backend's time on the probe (ms, the median of five runs after a warm-up), or why it cannot run. */
interface BackendTiming {
  name: BackendName;
  ms?: number;
  reason?: string;
}
export interface BackendMeasurement {
  fastest: BackendName;
  timings: BackendTiming[];
  /** 'measured' now, or read back from this browser's earlier measurement. */
  source: 'measured' | 'cache';
}

const MEASURE_KEY = 'attnlab:backend-measurement:v1';

/** The probe: attention over a batch of small prompts (the lab's own kind of work), read back. */
async function timeProbe(): Promise<number> {
  const once = async (): Promise<number> => {
    const t0 = performance.now();
    const y = tf.tidy(() => {
      const x = tf.randomNormal([64, 41, 6], 0, 1, 'float32', 1);
      const w = tf.softmax(tf.div(tf.matMul(x, x, false, true), Math.sqrt(6)));
      return tf.sum(tf.matMul(w, x));
    });
    await y.data();
    y.dispose();
    return performance.now() - t0;
  };
  await once(); // warm-up: shader compilation, WASM start-up
  const times: number[] = [];
  for (let i = 0; i < 5; i++) times.push(await once());
  return times.sort((a, b) => a - b)[2]!;
}

type Stored = Omit<BackendMeasurement, 'source'> & { key: string };
const measureKey = (): string => `${navigator.userAgent} tfjs ${tf.version_core}`;

/** This browser's earlier measurement (localStorage, per browser and tfjs version), if any. */
export function cachedMeasurement(): BackendMeasurement | undefined {
  try {
    const cached = JSON.parse(localStorage.getItem(MEASURE_KEY) ?? 'null') as Stored | null;
    if (cached && cached.key === measureKey())
      return { fastest: cached.fastest, timings: cached.timings, source: 'cache' };
  } catch {
    /* unreadable: measured again */
  }
  return undefined;
}

/**
 * Every backend that starts here runs the probe, the fastest wins (a software WebGPU adapter is
 * slower than WASM on most machines, a real GPU faster). Switches this thread's tfjs backend as it
 * goes: the lab runs it in a worker of its own (`measure-worker.ts`), so the page keeps drawing.
 */
export async function timeBackends(): Promise<Omit<BackendMeasurement, 'source'>> {
  const candidates = await probeBackends({ wasmPaths: WASM_PATHS, allowSoftwareWebGPU: true });
  const timings: BackendTiming[] = [];
  for (const c of candidates) {
    if (c.status !== 'available') {
      timings.push({ name: c.name, reason: c.reason ?? c.status });
      continue;
    }
    try {
      if (!(await tf.setBackend(c.name))) throw new Error('did not start');
      timings.push({ name: c.name, ms: Math.round((await timeProbe()) * 100) / 100 });
    } catch (e) {
      timings.push({ name: c.name, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  const timed = timings.filter((t) => t.ms !== undefined).sort((a, b) => a.ms! - b.ms!);
  return { fastest: timed[0]?.name ?? 'cpu', timings };
}

/**
 * Which backend is fastest in this browser, by measuring ({@link timeBackends}) in a worker, off the
 * page's thread and its tfjs; kept in localStorage, so only the first visit pays for it (a few
 * seconds, most of it WebGPU's shader compilation on a software adapter).
 */
export async function measureBackends(): Promise<BackendMeasurement> {
  const measured = await new Promise<Omit<BackendMeasurement, 'source'>>((resolve, reject) => {
    const worker = new Worker(new URL('./measure-worker.ts', import.meta.url), {
      type: 'module',
      name: 'attnlab-measure',
    });
    worker.onmessage = (e: MessageEvent<Omit<BackendMeasurement, 'source'> | { error: string }>) => {
      worker.terminate();
      if ('error' in e.data) reject(new Error(e.data.error));
      else resolve(e.data);
    };
    worker.onerror = (e) => {
      worker.terminate();
      reject(new Error(e.message || 'the measuring worker failed to start'));
    };
  });
  try {
    localStorage.setItem(MEASURE_KEY, JSON.stringify({ key: measureKey(), ...measured } satisfies Stored));
  } catch {
    /* storage full or off: measured again next time */
  }
  return { ...measured, source: 'measured' };
}
