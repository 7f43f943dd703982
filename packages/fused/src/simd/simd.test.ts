import { philox4x32 } from '@attnlab/data';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allocWork, createCpuModel, cpuModelStep, fusedLossGrad, paramCount, initParams } from '../single/float64.js';
import { allocBatch, fillIclBatch, fillNormals } from '../data.js';
import { createIclWasm, createSimdIclModel, simdAvailable, simdUnsupported, type IclWasm } from './module.js';

const ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

/** Float32 units in the last place between a and b (0 when equal). */
function ulps32(a: number, b: number): number {
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  return Math.abs(i[0]! - i[1]!);
}

describe('SIMD engine (WebAssembly)', () => {
  let w: IclWasm;
  beforeAll(async () => {
    expect(simdAvailable()).toBe(true);
    w = await createIclWasm();
  });

  it('the committed module is what assembly/icl.ts compiles to', () => {
    const script = join(__dirname, '..', '..', 'scripts', 'build-wasm.mjs');
    expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('Philox words: the Random123 known answers and @attnlab/data for 4 consecutive blocks', () => {
    const out = w.alloc(64);
    w.exports.philoxWords(out, 0, 0, 0, 0, 0, 0);
    let words = w.u32(out, 16);
    // word-major: words[4·j + l] is word j of block l
    expect([0, 1, 2, 3].map((j) => words[4 * j]!)).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
    w.exports.philoxWords(out, 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0);
    words = w.u32(out, 16);
    expect([0, 1, 2, 3].map((j) => words[4 * j]!)).toEqual([0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]);
    for (let i = 0; i < 200; i++) {
      const c0 = (i * 2654435761) >>> 0;
      const k: [number, number] = [(i * 97) >>> 0, (0xffffffff - i) >>> 0];
      w.exports.philoxWords(out, c0, i, (i * 40503) >>> 0, i % 3, k[0], k[1]);
      words = w.u32(out, 16);
      for (let l = 0; l < 4; l++) {
        const ref = philox4x32([(c0 + l) >>> 0, i, (i * 40503) >>> 0, i % 3], k);
        expect([0, 1, 2, 3].map((j) => words[4 * j + l]!)).toEqual(ref);
      }
    }
  });

  it('log is fdlibm (equal to Math.log bit for bit on the Box–Muller inputs)', () => {
    const n = 20000;
    const p = w.alloc(n * 8);
    const out = w.alloc(n * 8);
    const x = w.f64(p, n);
    for (let i = 0; i < n; i++) {
      const u32 = i < 10 ? [0, 1, 2 ** 31, 4294967295, 4294967294, 2 ** 32 - 4096, 3037000499, 3037000500, 1 << 20, 12345][i]! : (Math.imul(i, 2654435761) >>> 0);
      x[i] = (u32 + 0.5) * 2 ** -32;
    }
    w.exports.logInto(out, p, n);
    const got = w.f64(out, n);
    const xs = w.f64(p, n);
    let differ = 0;
    for (let i = 0; i < n; i++) {
      const ref = Math.log(xs[i]!);
      if (got[i] !== ref) differ += 1;
      expect(Math.abs(got[i]! - ref)).toBeLessThanOrEqual(2.3e-16 * Math.abs(ref));
    }
    expect(differ).toBe(0);
  });

  it('cos and sin on [0, 2π] are within one double ulp of Math.cos / Math.sin', () => {
    const n = 20000;
    const p = w.alloc(n * 8);
    const oc = w.alloc(n * 8);
    const os = w.alloc(n * 8);
    const x = w.f64(p, n);
    for (let i = 0; i < n; i++) x[i] = 2 * Math.PI * (((Math.imul(i, 2654435761) >>> 0) + 0.5) * 2 ** -32);
    x[0] = Math.PI / 4; x[1] = Math.PI / 2; x[2] = Math.PI; x[3] = 1.5 * Math.PI; x[4] = 2 * Math.PI * (1 - 2 ** -33); x[5] = 1e-9;
    w.exports.cosSinInto(oc, os, p, n);
    const c = w.f64(oc, n);
    const s = w.f64(os, n);
    const xs = w.f64(p, n);
    for (let i = 0; i < n; i++) {
      expect(Math.abs(c[i]! - Math.cos(xs[i]!))).toBeLessThanOrEqual(1.2e-16);
      expect(Math.abs(s[i]! - Math.sin(xs[i]!))).toBeLessThanOrEqual(1.2e-16);
    }
  });

  it('float32 exp of non-positive numbers is within 2 float32 ulp of Math.exp', () => {
    const n = 4000;
    const p = w.alloc(n * 4);
    const out = w.alloc(n * 4);
    const x = w.f32(p, n);
    for (let i = 0; i < n; i++) x[i] = -((i * 0.0137) % 30) - 1e-3 * (i % 11);
    x[0] = 0; x[1] = -120; x[2] = -1e-30; x[3] = -87;
    w.exports.expInto(out, p, n);
    const got = w.f32(out, n);
    const xs = w.f32(p, n);
    for (let i = 2; i < n; i++) expect(Math.abs(got[i]! - Math.exp(xs[i]!))).toBeLessThanOrEqual(2.4e-7 * Math.exp(xs[i]!));
    expect(got[0]).toBe(1);
    expect(got[1]).toBeLessThan(1e-37);
  });

  it('normals equal fillNormals up to a rare last-bit difference', () => {
    const nb = w.alloc(256 * 8);
    const tmp = w.alloc(64);
    const ref = new Float64Array(250);
    let differ = 0;
    let total = 0;
    for (let e = 0; e < 40; e++) {
      w.exports.exampleNormals(nb, 63, 77 + e, e, e % 3, 5 + e, 9 * e, tmp);
      fillNormals(ref, 0, 250, 77 + e, e, e % 3, 5 + e, 9 * e, new Uint32Array(4));
      const got = w.f64(nb, 250);
      for (let i = 0; i < 250; i++) {
        total += 1;
        if (got[i] !== ref[i]) differ += 1;
        expect(Math.abs(got[i]! - ref[i]!)).toBeLessThanOrEqual(5e-16 * Math.max(1, Math.abs(ref[i]!)));
      }
    }
    // sin/cos may differ from V8's (glibc-derived) Math.sin/cos in the last bit; float32 rounding hides it (next test)
    expect(differ / total).toBeLessThan(0.25);
  });

  it('ICL batches equal fillIclBatch (float32 values identical, at most 1 ulp on a rare one)', () => {
    const B = 128;
    const L = 40;
    const D = 6;
    const zi = w.alloc(B * L * D * 4);
    const zqi = w.alloc(B * D * 4);
    const yq = w.alloc(B * 4);
    const nb = w.alloc(256 * 8);
    const tmp = w.alloc(64);
    const ref = allocBatch(B, L, 5);
    let differ = 0;
    for (const [seed, step, stream] of [[1024, 0, 0], [7, 123456, 1], [2 ** 40 + 3, 9, 2]] as const) {
      fillIclBatch(ref, seed, step, B, L, 5, 0.01, stream);
      w.exports.iclBatch(zi, zqi, yq, seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0, step, B, L, 5, Math.sqrt(5) * 0.01, stream, 0, nb, tmp);
      const z = w.f32(zi, B * L * D);
      const zq = w.f32(zqi, B * D);
      const y = w.f32(yq, B);
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < L; i++) {
          for (let k = 0; k < D; k++) {
            const got = z[(((b >> 2) * L + i) * D + k) * 4 + (b & 3)]!;
            const want = ref.z[(b * L + i) * D + k]!;
            if (got !== want) { differ += 1; expect(ulps32(got, want)).toBeLessThanOrEqual(1); }
          }
        }
        for (let k = 0; k < D; k++) {
          const got = zq[((b >> 2) * D + k) * 4 + (b & 3)]!;
          if (got !== ref.zq[b * D + k]) { differ += 1; expect(ulps32(got, ref.zq[b * D + k]!)).toBeLessThanOrEqual(1); }
        }
        if (y[b] !== ref.yq[b]) { differ += 1; expect(ulps32(y[b]!, ref.yq[b]!)).toBeLessThanOrEqual(1); }
      }
    }
    expect(differ).toBeLessThanOrEqual(3);
  });

  it('loss and gradient equal core.ts fusedLossGrad (float64) within float32 accuracy', () => {
    for (const H of [1, 2, 3]) {
      const shape = { heads: H, d: 5 };
      const B = 16;
      const L = 11;
      const D = 6;
      const P = paramCount(shape);
      const params = initParams(shape, 5 + H);
      const ref = allocBatch(B, L, 5);
      fillIclBatch(ref, 99, 3, B, L, 5, 0.01, 0);
      const work = allocWork(shape, L);
      const refLoss = fusedLossGrad(params, 0, shape, L, B, ref.z, ref.zq, ref.yq, work);
      const p = w.alloc(P * 8);
      const zi = w.alloc(B * L * D * 4);
      const zqi = w.alloc(B * D * 4);
      const yq = w.alloc(B * 4);
      const sc = w.alloc(w.exports.scratchBytes(H, L));
      const g = w.alloc(P * 8);
      w.f64(p, P).set(params);
      const z = w.f32(zi, B * L * D);
      const zq = w.f32(zqi, B * D);
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < L; i++) for (let k = 0; k < D; k++) z[(((b >> 2) * L + i) * D + k) * 4 + (b & 3)] = ref.z[(b * L + i) * D + k]!;
        for (let k = 0; k < D; k++) zq[((b >> 2) * D + k) * 4 + (b & 3)] = ref.zq[b * D + k]!;
      }
      w.f32(yq, B).set(ref.yq);
      const loss = w.exports.lossGrad6(p, H, L, B, zi, zqi, yq, sc, g, B);
      expect(Math.abs(loss - refLoss)).toBeLessThanOrEqual(2e-6 * refLoss);
      const grad = w.f64(g, P);
      const scale = Math.max(...Array.from(work.grad, Math.abs));
      for (let i = 0; i < P; i++) expect(Math.abs(grad[i]! - work.grad[i]!)).toBeLessThanOrEqual(1e-5 * scale);
    }
  });

  for (const workerThread of [false, true]) {
    it(`trains like the float64 plain-TS engine (${workerThread ? 'two threads' : 'one thread'}): 300 steps of H = 2 within 1e-5`, async () => {
      const shape = { heads: 2, d: 5 };
      const simd = await createSimdIclModel(shape, 40, 32, 1024, ADAM, 0.01, { workerThread });
      try {
        expect(simd.workerExamples > 0).toBe(workerThread);
        const a = [...simd.train(120), ...simd.train(180)];
        const cpu = createCpuModel(shape, 40, 32, 1024, ADAM);
        const b = Array.from({ length: 300 }, () => cpuModelStep(cpu));
        expect(simd.t).toBe(300);
        for (let i = 0; i < 300; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(1e-5 * b[i]!);
        const s = simd.getState();
        const P = paramCount(shape);
        for (let i = 0; i < P; i++) expect(Math.abs(s[i]! - cpu.state[i]!)).toBeLessThanOrEqual(1e-5);
        // resume from a plain-TS state at another step: the worker's queued batches are dropped
        simd.setState(cpu.state);
        simd.t = 1000;
        cpu.t = 1000;
        expect(Array.from(simd.getState())).toEqual(Array.from(cpu.state));
        const c = simd.train(20);
        for (let i = 0; i < 20; i++) {
          const want = cpuModelStep(cpu);
          expect(Math.abs(c[i]! - want)).toBeLessThanOrEqual(1e-5 * want);
        }
        expect(() => simd.setState(new Float64Array(3))).toThrow(/state must hold 684 numbers/);
      } finally {
        simd.dispose();
      }
      expect(() => simd.train(1)).toThrow(/disposed/);
    });
  }

  it('says what it does not support', async () => {
    expect(simdUnsupported({ heads: 2, d: 5 }, 40, 128)).toBeUndefined();
    expect(simdUnsupported({ heads: 2, d: 3 }, 40, 128)).toMatch(/d = 5/);
    expect(simdUnsupported({ heads: 2, d: 5 }, 40, 126)).toMatch(/multiple of 4/);
    await expect(createSimdIclModel({ heads: 1, d: 4 }, 40, 128, 1, ADAM)).rejects.toThrow(/createSimdIclModel: the SIMD engine supports d = 5/);
  });
});

describe('SIMD engine worker threads', () => {
  it('a model dropped without dispose() stops its worker thread once it is garbage-collected', () => {
    // In a child process with --expose-gc: five models with worker threads are created and dropped.
    const dir = join(__dirname, '..', '..', 'node_modules', '.cache', 'attnlab-simd-gc');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'child.mjs'), `
      import { build } from 'esbuild';
      import { readFileSync } from 'node:fs';
      await build({ entryPoints: [${JSON.stringify(join(__dirname, 'module.ts'))}], bundle: true, platform: 'node', format: 'esm',
        outfile: ${JSON.stringify(join(dir, 'simd.mjs'))}, conditions: ['@attnlab/source'], logLevel: 'error' });
      const { createSimdIclModel } = await import('./simd.mjs');
      const threads = () => +readFileSync('/proc/self/status', 'utf8').match(/Threads:\\s+(\\d+)/)[1];
      const adam = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
      for (let i = 0; i < 5; i++) { const m = await createSimdIclModel({ heads: 1, d: 5 }, 8, 16, 1, adam, 0.01, { workerThread: true }); m.train(2); }
      await new Promise((r) => setTimeout(r, 300));
      const dropped = threads();
      let after = dropped;
      for (let k = 0; k < 20 && dropped - after < 4; k++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 250)); after = threads(); }
      console.log(JSON.stringify({ dropped, after }));
      process.exit(0); // esbuild's service process would keep this one alive
    `);
    const out = execFileSync(process.execPath, ['--expose-gc', join(dir, 'child.mjs')], { cwd: join(__dirname, '..', '..'), encoding: 'utf8', timeout: 50_000 });
    const { dropped, after } = JSON.parse(out.trim().split('\n').pop()!) as { dropped: number; after: number };
    expect(dropped - after).toBeGreaterThanOrEqual(4);
  }, 60_000);
});
