import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose, expectNoLeak, read } from '@attnlab/backend/testing';
import {
  EVALUATION_STREAM,
  IclTaskStream,
  TRAIN_STREAM,
  VALIDATION_STREAM,
  iclBatch,
  iclBatchArrays,
  iclNormalsPerExample,
  iclTaskFromArrays,
  iclTokens,
  iclTokensArrays,
  normals,
  type IclTaskStreamState,
} from './index.js';

// Reference numbers: an independent Python implementation of the documented generator
// (big-int Philox checked on Random123's KATs, Box–Muller in float64, numpy's Cholesky),
// rounding x and β to float32 before forming y, as documented.
const REF_A = {
  config: { L: 3, dx: 2, dy: 1, noiseStd: 0.1 },
  options: { seed: 1234567, stream: 1, step: 5, batch: 2 },
  x: [
    -0.2742489278316498, 0.059568703174591064, 0.20338325202465057, 0.16487184166908264, -0.33781513571739197,
    1.2382749319076538, -0.8852773904800415, -0.6548703908920288, -2.3881092071533203, -0.785325825214386,
    0.02504969947040081, -0.6384150981903076,
  ],
  y: [
    0.4466789662837982, -0.1799754500389099, 1.316721796989441, -0.18653038144111633, -0.8352718949317932,
    -0.2613113224506378,
  ],
  xq: [-0.547050952911377, 1.1842589378356934, -0.6358579993247986, -0.3577800393104553],
  yq: [1.8440113067626953, -0.24340835213661194],
  beta: [-2.1349477767944336, 0.5708938241004944, 0.4669155478477478, -0.1494874656200409],
};
const REF_B = {
  config: {
    L: 2,
    dx: 2,
    dy: 2,
    noiseStd: 0.05,
    betaScale: 'inverse-d' as const,
    covariance: [
      [2, 0.5],
      [0.5, 1],
    ],
  },
  options: { seed: 77, stream: 0, step: 0, batch: 1 },
  x: [-2.544611930847168, -1.473808765411377, 0.1135912835597992, -1.2590173482894897],
  y: [1.209327220916748, -2.718421459197998, 0.6870818138122559, 0.26436856389045715],
  xq: [2.998724937438965, 0.8499548435211182],
  yq: [-1.1044813394546509, 3.527557373046875],
  beta: [-0.24396246671676636, 1.232707142829895, -0.4387350380420685, -0.1988249272108078],
};

describe('iclBatchArrays (host)', () => {
  it.each([
    ['seed defaults, stream 1, step 5', REF_A],
    ['covariance, inverse-d β, dy = 2', REF_B],
  ])('matches the reference: %s', async (_, ref) => {
    const a = iclBatchArrays(ref.config, ref.options);
    for (const k of ['x', 'y', 'xq', 'yq', 'beta'] as const) await expectClose(Array.from(a[k]), ref[k], 2e-7, 1e-6);
  });
  it('stream constants and the normals-per-example count', () => {
    expect([TRAIN_STREAM, VALIDATION_STREAM, EVALUATION_STREAM]).toEqual([0, 1, 2]);
    expect(iclNormalsPerExample({ L: 40, dx: 5, noiseStd: 0.01 })).toBe(250);
  });
  it('draws β, then x_1..x_L, x_q, then ε from the sequence (stream, step, example)', () => {
    const cfg = { L: 4, dx: 3, noiseStd: 0.2 };
    const a = iclBatchArrays(cfg, { seed: 5, stream: 2, step: 9, batch: 3 });
    const z = normals(5, 2, 9, 2, 3 + 15 + 4); // example 2
    expect(Array.from(a.beta.subarray(6, 9))).toEqual(Array.from(Float32Array.from(z.subarray(0, 3))));
    expect(Array.from(a.x.subarray(2 * 12, 3 * 12))).toEqual(Array.from(Float32Array.from(z.subarray(3, 15))));
    expect(Array.from(a.xq.subarray(6, 9))).toEqual(Array.from(Float32Array.from(z.subarray(15, 18))));
  });
  it('queryNoise: y_q gains √dx·δ·ε_q with ε_q the normal after all the others; every other number is unchanged', () => {
    const cfg = { L: 4, dx: 3, noiseStd: 0.2 };
    const opts = { seed: 5, stream: 2, step: 9, batch: 3 };
    const plain = iclBatchArrays(cfg, opts);
    expect(Array.from(iclBatchArrays({ ...cfg, queryNoise: false }, opts).yq)).toEqual(Array.from(plain.yq));
    const noisy = iclBatchArrays({ ...cfg, queryNoise: true }, opts);
    for (const k of ['x', 'y', 'xq', 'beta'] as const) expect(Array.from(noisy[k])).toEqual(Array.from(plain[k]));
    expect(iclNormalsPerExample({ ...cfg, queryNoise: true })).toBe(3 + 15 + 4 + 1);
    for (let b = 0; b < 3; b++) {
      const z = normals(5, 2, 9, b, 23); // example b: β (3), x_1..x_4, x_q (15), ε_1..ε_4, ε_q
      const beta = Float32Array.from(z.subarray(0, 3));
      const xq = Float32Array.from(z.subarray(15, 18));
      const clean = xq[0]! * beta[0]! + xq[1]! * beta[1]! + xq[2]! * beta[2]!;
      expect(noisy.yq[b]).toBe(Math.fround(clean + Math.sqrt(3) * 0.2 * z[22]!));
      expect(plain.yq[b]).toBe(Math.fround(clean));
    }
    const wide = iclBatchArrays({ L: 2, dx: 2, dy: 2, noiseStd: 0.5, queryNoise: true }, { seed: 1, batch: 1 });
    const zw = normals(1, 0, 0, 0, 4 + 6 + 4 + 2);
    const b2 = Float32Array.from(zw.subarray(0, 4));
    const q2 = Float32Array.from(zw.subarray(8, 10));
    for (let j = 0; j < 2; j++)
      expect(wide.yq[j]).toBe(Math.fround(q2[0]! * b2[j]! + q2[1]! * b2[2 + j]! + Math.sqrt(2) * 0.5 * zw[14 + j]!));
    expect(() => iclBatchArrays({ ...cfg, queryNoise: 1 as never }, opts)).toThrow(
      new TypeError('iclBatchArrays: config.queryNoise must be a boolean; got 1'),
    );
  });
  it('example e does not depend on the batch size; offset selects examples', () => {
    const cfg = { L: 5, dx: 2, noiseStd: 0.01 };
    const big = iclBatchArrays(cfg, { seed: 3, step: 2, batch: 6 });
    const small = iclBatchArrays(cfg, { seed: 3, step: 2, batch: 2, offset: 4 });
    expect(Array.from(small.x)).toEqual(Array.from(big.x.subarray(4 * 10)));
    expect(Array.from(small.yq)).toEqual(Array.from(big.yq.subarray(4)));
    const other = iclBatchArrays(cfg, { seed: 3, step: 3, batch: 6 });
    expect(Array.from(other.x)).not.toEqual(Array.from(big.x));
  });
  it('y − xβ is the noise √dx·δ·ε (statistics), y_q = x_q β exactly up to float32', () => {
    const cfg = { L: 40, dx: 5, noiseStd: 0.01 };
    const a = iclBatchArrays(cfg, { seed: 1024, batch: 256 });
    let ss = 0;
    let n = 0;
    for (let b = 0; b < 256; b++) {
      const beta = a.beta.subarray(b * 5, b * 5 + 5);
      for (let t = 0; t < 40; t++) {
        let s = 0;
        for (let k = 0; k < 5; k++) s += a.x[(b * 40 + t) * 5 + k]! * beta[k]!;
        ss += (a.y[b * 40 + t]! - s) ** 2;
        n++;
      }
      let q = 0;
      for (let k = 0; k < 5; k++) q += a.xq[b * 5 + k]! * beta[k]!;
      expect(Math.abs(a.yq[b]! - q)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(q)));
    }
    const sd = Math.sqrt(ss / n);
    const expected = Math.sqrt(5) * 0.01; // √dx·δ
    expect(Math.abs(sd / expected - 1)).toBeLessThan(5 / Math.sqrt(2 * n) + 1e-3); // float32 rounding of y adds ≲ 1e-4 relative
  });
  it('β scale and covariance have the requested second moments', () => {
    const B = 4000;
    const unit = iclBatchArrays({ L: 1, dx: 4, noiseStd: 0 }, { seed: 1, batch: B });
    const inv = iclBatchArrays({ L: 1, dx: 4, noiseStd: 0, betaScale: 'inverse-d' }, { seed: 1, batch: B });
    const meanSq = (v: Float32Array) => v.reduce((s, x) => s + x * x, 0) / v.length;
    expect(Math.abs(meanSq(unit.beta) - 1)).toBeLessThan(5 * Math.sqrt(2 / (4 * B)));
    expect(Math.abs(meanSq(inv.beta) - 0.25)).toBeLessThan(5 * 0.25 * Math.sqrt(2 / (4 * B)));
    const cov = [
      [4, 1.2],
      [1.2, 1],
    ];
    const c = iclBatchArrays({ L: 50, dx: 2, noiseStd: 0, covariance: cov }, { seed: 2, batch: 400 });
    let s00 = 0;
    let s01 = 0;
    let s11 = 0;
    const N = c.x.length / 2;
    for (let i = 0; i < N; i++) {
      s00 += c.x[2 * i]! ** 2;
      s01 += c.x[2 * i]! * c.x[2 * i + 1]!;
      s11 += c.x[2 * i + 1]! ** 2;
    }
    // sample second moments of N = 20 000 draws: sd(Σ00) = 4√(2/N) ≈ 0.04, sd(Σ01) = √((Σ00Σ11 + Σ01²)/N) ≈ 0.016, sd(Σ11) ≈ 0.01
    expect(Math.abs(s00 / N - 4)).toBeLessThan(0.2);
    expect(Math.abs(s01 / N - 1.2)).toBeLessThan(0.08);
    expect(Math.abs(s11 / N - 1)).toBeLessThan(0.05);
  });
  it('validates the config and options', () => {
    const ok = { L: 3, dx: 2, noiseStd: 0.1 };
    expect(() => iclBatchArrays({ ...ok, L: 0 }, { seed: 1, batch: 1 })).toThrow(
      /iclBatchArrays: config.L must be an integer ≥ 1; got 0/,
    );
    expect(() => iclBatchArrays({ ...ok, betaScale: 'x' as never }, { seed: 1, batch: 1 })).toThrow(
      /iclBatchArrays: config.betaScale must be one of 'unit', 'inverse-d'; got 'x'/,
    );
    expect(() =>
      iclBatchArrays(
        {
          ...ok,
          covariance: [
            [1, 2],
            [2, 1],
          ],
        },
        { seed: 1, batch: 1 },
      ),
    ).toThrow(/must be positive definite/);
    expect(() =>
      iclBatchArrays(
        {
          ...ok,
          covariance: [
            [1, 0],
            [0.5, 1],
          ],
        },
        { seed: 1, batch: 1 },
      ),
    ).toThrow(/must be symmetric/);
    expect(() => iclBatchArrays({ ...ok, covariance: [[1]] }, { seed: 1, batch: 1 })).toThrow(
      /config.covariance must be a 2×2 array/,
    );
    expect(() => iclBatchArrays(ok, { seed: 1, batch: 0 })).toThrow(/options.batch must be an integer ≥ 1; got 0/);
    expect(() => iclBatchArrays(ok, { seed: 1, batch: 1, step: -1 })).toThrow(
      /options.step must be an integer in \[0, 4294967295\]; got -1/,
    );
    expect(() => iclBatchArrays({ ...ok, noiseStd: -1 }, { seed: 1, batch: 1 })).toThrow(/config.noiseStd/);
  });
  it('iclTokensArrays lays out [x, y] and [x_q, 0]', () => {
    const a = iclBatchArrays(REF_A.config, REF_A.options);
    const t = iclTokensArrays(a);
    expect(t.width).toBe(3);
    expect(Array.from(t.Z.subarray(0, 6))).toEqual([a.x[0], a.x[1], a.y[0], a.x[2], a.x[3], a.y[1]]);
    expect(Array.from(t.zq)).toEqual([a.xq[0], a.xq[1], 0, a.xq[2], a.xq[3], 0]);
    expect(Array.from(t.yq)).toEqual(Array.from(a.yq));
  });
});

describe('IclTaskStream', () => {
  it('yields steps 0, 1, 2, … and resumes from its JSON state', () => {
    const cfg = { L: 6, dx: 3, noiseStd: 0.01 };
    const s = new IclTaskStream(cfg, { seed: 8, batch: 4, stream: VALIDATION_STREAM });
    const a0 = s.nextArrays();
    expect(Array.from(a0.x)).toEqual(Array.from(iclBatchArrays(cfg, { seed: 8, batch: 4, stream: 1, step: 0 }).x));
    s.nextArrays();
    const saved = JSON.parse(JSON.stringify(s.state())) as IclTaskStreamState;
    expect(saved.step).toBe(2);
    const resumed = IclTaskStream.fromState(saved);
    const x = s.nextArrays();
    const y = resumed.nextArrays();
    expect(Array.from(y.y)).toEqual(Array.from(x.y));
    expect(Array.from(resumed.arraysAt(1).x)).toEqual(
      Array.from(iclBatchArrays(cfg, { seed: 8, batch: 4, stream: 1, step: 1 }).x),
    );
    expect(resumed.currentStep).toBe(3);
  });
  it('validates', () => {
    expect(() => new IclTaskStream({ L: 1, dx: 1, noiseStd: 0 }, { seed: 1, batch: -2 })).toThrow(
      /IclTaskStream: options.batch must be an integer ≥ 1; got -2/,
    );
  });
});

describeBackends('@attnlab/data in-context regression tensors', (ctx) => {
  it('iclBatch tensors hold exactly the host arrays (identical on every backend)', async () => {
    const b = iclBatch(REF_A.config, REF_A.options);
    const a = iclBatchArrays(REF_A.config, REF_A.options);
    expect(b.x.shape).toEqual([2, 3, 2]);
    expect(b.y.shape).toEqual([2, 3, 1]);
    expect(b.xq.shape).toEqual([2, 2]);
    expect(b.yq.shape).toEqual([2, 1]);
    expect(b.beta.shape).toEqual([2, 2, 1]);
    expect(await read(b.x)).toEqual(Array.from(a.x));
    expect(await read(b.y)).toEqual(Array.from(a.y));
    expect(await read(b.xq)).toEqual(Array.from(a.xq));
    expect(await read(b.yq)).toEqual(Array.from(a.yq));
    expect(await read(b.beta)).toEqual(Array.from(a.beta));
    await expectClose(b.y, REF_A.y, 2e-7, 1e-6);
    tf.dispose([b.x, b.y, b.xq, b.yq, b.beta]);
  });
  it('iclTokens concatenates [x, y] and [x_q, 0] without leaks', async () => {
    const b = iclBatch(REF_B.config, REF_B.options);
    const t = await expectNoLeak(
      () => iclTokens(b),
      (r) => tf.dispose([r.Z, r.zq, r.yq]),
    );
    expect(t.Z.isDisposed).toBe(true);
    const again = iclTokens(b);
    expect(again.Z.shape).toEqual([1, 2, 4]);
    expect(again.zq.shape).toEqual([1, 4]);
    await expectClose(
      again.Z,
      [REF_B.x[0]!, REF_B.x[1]!, REF_B.y[0]!, REF_B.y[1]!, REF_B.x[2]!, REF_B.x[3]!, REF_B.y[2]!, REF_B.y[3]!],
      ctx.tol,
    );
    expect(await read(again.zq)).toEqual([...REF_B.xq.map((v) => Math.fround(v)), 0, 0]);
    const host = iclTokensArrays(iclBatchArrays(REF_B.config, REF_B.options));
    expect(await read(again.Z)).toEqual(Array.from(host.Z));
    expect(await read(again.yq)).toEqual(Array.from(host.yq));
    tf.dispose([b.x, b.y, b.xq, b.yq, b.beta, again.Z, again.zq, again.yq]);
    expect(() => iclTokens({ x: b.x } as never)).toThrow(/iclTokens: batch must be \{ x, y, xq, yq \} tensors/);
  });
  it('IclTaskStream.next returns tensors of the current step', async () => {
    const s = new IclTaskStream(
      { L: 2, dx: 2, noiseStd: 0 },
      { seed: 3, batch: 2, stream: EVALUATION_STREAM, step: 7 },
    );
    const b = s.next();
    expect(await read(b.xq)).toEqual(
      Array.from(iclBatchArrays({ L: 2, dx: 2, noiseStd: 0 }, { seed: 3, batch: 2, stream: 2, step: 7 }).xq),
    );
    tf.dispose([b.x, b.y, b.xq, b.yq, b.beta]);
  });
  it('iclTaskFromArrays builds tokens from user data', async () => {
    const t = iclTaskFromArrays(
      [
        [0, 1],
        [1, 0],
        [2, 2],
      ],
      [2, 3, 4],
      [
        [1, 1],
        [0, 2],
      ],
      [5, 6],
    );
    expect(t.Z.shape).toEqual([2, 3, 3]);
    expect(await read(t.Z)).toEqual([0, 1, 2, 1, 0, 3, 2, 2, 4, 0, 1, 2, 1, 0, 3, 2, 2, 4]);
    expect(await read(t.zq)).toEqual([1, 1, 0, 0, 2, 0]);
    expect(await read(t.yq!)).toEqual([5, 6]);
    tf.dispose([t.Z, t.zq, t.yq!]);
    const one = iclTaskFromArrays(
      [[1], [2]],
      [
        [1, 2],
        [3, 4],
      ],
      [3],
    );
    expect(one.Z.shape).toEqual([1, 2, 3]);
    expect(await read(one.zq)).toEqual([3, 0, 0]);
    expect(one.yq).toBeUndefined();
    tf.dispose([one.Z, one.zq]);
    expect(() => iclTaskFromArrays([[0, 1]], [1, 2], [0, 0])).toThrow(
      /iclTaskFromArrays: y must have one row per row of x \(1\); got 2/,
    );
    expect(() => iclTaskFromArrays([[0, 1]], [1], [0])).toThrow(
      /iclTaskFromArrays: xq\[0\] must have 2 numbers; got \[0\]/,
    );
    expect(() => iclTaskFromArrays([[0, NaN]], [1], [0, 0])).toThrow(/x\[0\]\[1\] must be a finite number; got NaN/);
  });
});
