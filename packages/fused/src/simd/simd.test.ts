import { philox4x32, type IclTaskConfig } from '@attnlab/data';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allocBatch, fillIclBatch, fillNormals, iclDataParams, type IclBatch } from '../data.js';
import { allocWork, fusedLossGrad, paramCount } from '../single/float64.js';
import { initialSingleParams } from '../single/init.js';
import { allocStackWork, stackLossGrad, stackParamCount, type StackShape } from '../stack/float64.js';
import { createIclWasm, dataBlockValues, simdAvailable, writeDataBlock, type IclWasm } from './module.js';

/** Float32 units in the last place between a and b (0 when equal). */
function ulps32(a: number, b: number): number {
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  return Math.abs(i[0]! - i[1]!);
}

/** Deterministic values in [−scale, scale). */
function randomParams(n: number, seed: number, scale: number): Float64Array {
  const p = new Float64Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    p[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return p;
}

/** A float64 batch copied into the module's 4-example-interleaved float32 layout (zero lanes after the last example). */
function interleave(w: IclWasm, b: IclBatch, B: number, L: number, D: number): { zi: number; zqi: number; yq: number } {
  const quads = Math.ceil(B / 4);
  const zi = w.alloc(quads * L * D * 16),
    zqi = w.alloc(quads * D * 16),
    yq = w.alloc(quads * 16);
  const z = w.f32(zi, quads * L * D * 4),
    zq = w.f32(zqi, quads * D * 4);
  for (let e = 0; e < B; e++) {
    for (let i = 0; i < L; i++)
      for (let k = 0; k < D; k++) z[(((e >> 2) * L + i) * D + k) * 4 + (e & 3)] = b.z[(e * L + i) * D + k]!;
    for (let k = 0; k < D; k++) zq[((e >> 2) * D + k) * 4 + (e & 3)] = b.zq[e * D + k]!;
  }
  w.f32(yq, B).set(b.yq.subarray(0, B));
  return { zi, zqi, yq };
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
      const u32 =
        i < 10
          ? [0, 1, 2 ** 31, 4294967295, 4294967294, 2 ** 32 - 4096, 3037000499, 3037000500, 1 << 20, 12345][i]!
          : Math.imul(i, 2654435761) >>> 0;
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
    x[0] = Math.PI / 4;
    x[1] = Math.PI / 2;
    x[2] = Math.PI;
    x[3] = 1.5 * Math.PI;
    x[4] = 2 * Math.PI * (1 - 2 ** -33);
    x[5] = 1e-9;
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
    x[0] = 0;
    x[1] = -120;
    x[2] = -1e-30;
    x[3] = -87;
    w.exports.expInto(out, p, n);
    const got = w.f32(out, n);
    const xs = w.f32(p, n);
    for (let i = 2; i < n; i++)
      expect(Math.abs(got[i]! - Math.exp(xs[i]!))).toBeLessThanOrEqual(2.4e-7 * Math.exp(xs[i]!));
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

  const tasks: Array<[string, IclTaskConfig, number]> = [
    ["seed 004's task, B 128", { L: 40, dx: 5, noiseStd: 0.01 }, 128],
    [
      'the paper setting, B 256',
      { L: 40, dx: 5, noiseStd: Math.sqrt(0.1 / 5), betaScale: 'inverse-d', queryNoise: true },
      256,
    ],
    [
      'a covariance, d 3, B 13 (padded lanes)',
      {
        L: 9,
        dx: 3,
        noiseStd: 0.2,
        queryNoise: true,
        covariance: [
          [2, 0.5, -0.2],
          [0.5, 1, 0.1],
          [-0.2, 0.1, 0.7],
        ],
      },
      13,
    ],
  ];
  it.each(tasks)(
    'ICL batches equal fillIclBatch (float32 values identical, at most 3 one-ulp differences per 3 batches of 32,000): %s',
    (_, task, B) => {
      const L = task.L;
      const D = task.dx + 1;
      const quads = Math.ceil(B / 4);
      const zi = w.alloc(quads * L * D * 16);
      const zqi = w.alloc(quads * D * 16);
      const yq = w.alloc(quads * 16);
      const nb = w.alloc(512 * 8);
      const tmp = w.alloc(64);
      const ref = allocBatch(B, L, task.dx);
      let differ = 0;
      let values = 0;
      for (const [seed, step, stream] of [
        [1024, 0, 0],
        [7, 123456, 1],
        [2 ** 40 + 3, 9, 2],
      ] as const) {
        const data = iclDataParams(task, seed, stream);
        fillIclBatch(ref, data, step, B);
        // pad lanes hold garbage before the call: iclBatch must zero them
        w.f32(zi, quads * L * D * 4).fill(7);
        w.f32(zqi, quads * D * 4).fill(7);
        w.f32(yq, quads * 4).fill(7);
        w.exports.iclBatch(writeDataBlock(w, dataBlockValues(data), data.chol), zi, zqi, yq, step, B, 0, nb, tmp);
        const z = w.f32(zi, quads * L * D * 4);
        const zq = w.f32(zqi, quads * D * 4);
        const y = w.f32(yq, quads * 4);
        for (let b = 0; b < 4 * quads; b++) {
          const pad = b >= B;
          for (let i = 0; i < L; i++) {
            for (let k = 0; k < D; k++) {
              const got = z[(((b >> 2) * L + i) * D + k) * 4 + (b & 3)]!;
              if (pad) {
                expect(got).toBe(0);
                continue;
              }
              const want = ref.z[(b * L + i) * D + k]!;
              values += 1;
              if (got !== want) {
                differ += 1;
                expect(ulps32(got, want)).toBeLessThanOrEqual(1);
              }
            }
          }
          for (let k = 0; k < D; k++) {
            const got = zq[((b >> 2) * D + k) * 4 + (b & 3)]!;
            if (pad) {
              expect(got).toBe(0);
              continue;
            }
            if (got !== ref.zq[b * D + k]) {
              differ += 1;
              expect(ulps32(got, ref.zq[b * D + k]!)).toBeLessThanOrEqual(1);
            }
          }
          if (pad) {
            expect(y[b]).toBe(0);
            continue;
          }
          if (y[b] !== ref.yq[b]) {
            differ += 1;
            expect(ulps32(y[b]!, ref.yq[b]!)).toBeLessThanOrEqual(1);
          }
        }
      }
      expect(differ).toBeLessThanOrEqual(Math.max(3, Math.ceil((3 * values) / 96000)));
    },
  );

  const singles: Array<[number, number, number, number, number]> = [
    [1, 5, 1, 11, 16],
    [2, 5, 1, 40, 13],
    [3, 5, 2, 7, 10],
    [2, 3, 1, 9, 6],
    [2, 8, 3, 5, 9],
  ];
  it.each(singles)(
    'single layer: loss and gradient equal src/single/float64.ts within float32 accuracy (H %i, d %i, nOut %i, L %i, B %i)',
    (H, d, nOut, L, B) => {
      const shape = { heads: H, d, nOut };
      const D = d + 1;
      const P = paramCount(shape);
      const params = initialSingleParams(shape, 5 + H);
      for (let i = 0; i < P; i++) params[i] = params[i]! * 2;
      const ref = allocBatch(B, L, d);
      fillIclBatch(ref, iclDataParams({ L, dx: d, noiseStd: 0.1 }, 99), 3, B);
      const work = allocWork(shape, L);
      const refLoss = fusedLossGrad(params, 0, shape, L, B, ref.z, ref.zq, ref.yq, work);
      const p = w.alloc(P * 8);
      w.f64(p, P).set(params);
      const { zi, zqi, yq } = interleave(w, ref, B, L, D);
      const sc = w.alloc(w.exports.scratchBytes(H, d, L));
      const g = w.alloc(P * 8);
      const loss = w.exports.lossGrad(p, H, d, nOut, L, B, zi, zqi, yq, sc, g, B, 0);
      expect(Math.abs(loss - refLoss)).toBeLessThanOrEqual(2e-6 * refLoss);
      const grad = Float64Array.from(w.f64(g, P));
      const scale = Math.max(...Array.from(work.grad, Math.abs));
      for (let i = 0; i < P; i++) expect(Math.abs(grad[i]! - work.grad[i]!)).toBeLessThanOrEqual(1e-5 * scale);
      for (let i = 0; i < P; i++) if (work.grad[i] === 0) expect(grad[i]).toBe(0); // Wo's columns before the last
      if (d === 5) {
        // the generic loop gives the unrolled loop's numbers bit for bit
        const g2 = w.alloc(P * 8);
        expect(w.exports.lossGrad(p, H, d, nOut, L, B, zi, zqi, yq, sc, g2, B, 1)).toBe(loss);
        expect(Array.from(w.f64(g2, P))).toEqual(Array.from(grad));
      }
    },
  );

  const stacks: Array<[StackShape, number, number]> = [
    [{ heads: 2, d: 5, layers: 2, tied: false, residual: false }, 9, 16],
    [{ heads: 1, d: 5, layers: 3, tied: true, residual: false, nOut: 2 }, 6, 13],
    [{ heads: 2, d: 3, layers: 2, tied: false, residual: true }, 7, 6],
  ];
  it.each(stacks)(
    'causal stack: loss and gradient equal src/stack/float64.ts within float32 accuracy (%j, L %i, B %i)',
    (s, L, B) => {
      const D = s.d + 1;
      const P = stackParamCount(s);
      const params = randomParams(P, 11, 0.5);
      const ref = allocBatch(B, L, s.d);
      fillIclBatch(ref, iclDataParams({ L, dx: s.d, noiseStd: 0.1 }, 21), 1, B);
      const work = allocStackWork(s, L);
      const refLoss = stackLossGrad(params, 0, s, L, B, ref.z, ref.zq, ref.yq, work);
      const p = w.alloc(P * 8);
      w.f64(p, P).set(params);
      const { zi, zqi, yq } = interleave(w, ref, B, L, D);
      const stored = s.tied ? 1 : s.layers;
      const sc = w.alloc(w.exports.stackScratchBytes(s.heads, s.d, s.layers, stored, L, s.nOut ?? 1));
      const g = w.alloc(P * 8);
      const loss = w.exports.stackLossGrad4(
        p,
        s.heads,
        s.d,
        s.layers,
        s.tied ? 1 : 0,
        s.residual ? 1 : 0,
        s.nOut ?? 1,
        L,
        B,
        zi,
        zqi,
        yq,
        sc,
        g,
        B,
      );
      expect(Math.abs(loss - refLoss)).toBeLessThanOrEqual(1e-5 * refLoss);
      const grad = w.f64(g, P);
      const scale = Math.max(...Array.from(work.grad, Math.abs));
      for (let i = 0; i < P; i++) expect(Math.abs(grad[i]! - work.grad[i]!)).toBeLessThanOrEqual(2e-5 * scale);
    },
  );
});

describe('SIMD engine worker threads', () => {
  it('an engine dropped without dispose() stops its worker thread once it is garbage-collected', () => {
    // In a child process with --expose-gc: five engines with worker threads are created and dropped.
    const dir = join(__dirname, '..', '..', 'node_modules', '.cache', 'attnlab-simd-gc');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'child.mjs'),
      `
      import { build } from 'esbuild';
      import { readFileSync } from 'node:fs';
      await build({ entryPoints: [${JSON.stringify(join(__dirname, '..', 'engine.ts'))}], bundle: true, platform: 'node', format: 'esm',
        outfile: ${JSON.stringify(join(dir, 'engine.mjs'))}, conditions: ['@attnlab/source'], logLevel: 'error', external: ['@tensorflow/*'] });
      const { createIclEngine } = await import('./engine.mjs');
      const threads = () => +readFileSync('/proc/self/status', 'utf8').match(/Threads:\\s+(\\d+)/)[1];
      const spec = { model: { d: 5, numHeads: 1, layers: 1 }, task: { L: 8, dx: 5, noiseStd: 0.01 }, batch: 16, dataSeed: 1,
        optimizer: { method: 'adam', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 } };
      for (let i = 0; i < 5; i++) { const e = await createIclEngine(spec, { engine: 'simd', workerThread: true }); await e.run(2); }
      await new Promise((r) => setTimeout(r, 300));
      const dropped = threads();
      let after = dropped;
      for (let k = 0; k < 20 && dropped - after < 4; k++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 250)); after = threads(); }
      console.log(JSON.stringify({ dropped, after }));
      process.exit(0); // esbuild's service process would keep this one alive
    `,
    );
    const out = execFileSync(process.execPath, ['--expose-gc', join(dir, 'child.mjs')], {
      cwd: join(__dirname, '..', '..'),
      encoding: 'utf8',
      timeout: 50_000,
    });
    const { dropped, after } = JSON.parse(out.trim().split('\n').pop()!) as { dropped: number; after: number };
    expect(dropped - after).toBeGreaterThanOrEqual(4);
  }, 60_000);
});
