import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose, expectNoLeak, read } from '@attnlab/backend/testing';
import {
  bayesPosteriorMean,
  debiasedGd,
  kernelEstimator,
  leastSquares,
  modelEstimator,
  oneStepGd,
  oneStepGdRisk,
  preconditionedGd,
  optimalOneStepGd,
  optimalOneStepGdStep,
  ridge,
  type IclTaskBatch,
} from './index.js';
import { gaussianTasks, mcRisk } from './test-utils/tasks.js';

/** One task: x = [[1], [2]], y = [3, 4], x_q = [1] (d = 1, L = 2). */
const tiny = (): IclTaskBatch => ({ x: tf.tensor3d([[[1], [2]]]), y: tf.tensor2d([[3, 4]]), xq: tf.tensor2d([[1]]) });
const free = (b: IclTaskBatch) => tf.dispose([b.x, b.y, b.xq]);

describeBackends('estimators', (ctx) => {
  it('kernel estimator equals Σ_h μ^h Σ_i y_i softmax(x_q·x_i w^h) by hand', async () => {
    const b = tiny();
    const est = kernelEstimator({ w: [0.5, -1], mu: [2, 0.5] });
    const s = (w: number) => {
      const e1 = Math.exp(1 * w),
        e2 = Math.exp(2 * w);
      return (3 * e1 + 4 * e2) / (e1 + e2);
    };
    await expectNoLeak(
      () => est.predict(b),
      (t) => t.dispose(),
    );
    const out = await est.predict(b);
    await expectClose(out, [2 * s(0.5) + 0.5 * s(-1)], ctx.tol);
    tf.dispose(out);
    free(b);
  });

  it('one-step GD is (η/L) Σ y_i ⟨x_i, x_q⟩; debiased GD centres the inputs', async () => {
    const b = tiny();
    const gd = await oneStepGd().predict(b);
    await expectClose(gd, [(3 * 1 + 4 * 2) / 2], ctx.tol);
    const gd2 = await oneStepGd({ stepSize: 0.5 }).predict(b);
    await expectClose(gd2, [0.5 * 5.5], ctx.tol);
    const dgd = await debiasedGd().predict(b); // x̄ = 1.5: (3·(−0.5) + 4·0.5)/2
    await expectClose(dgd, [0.25], ctx.tol);
    tf.dispose([gd, gd2, dgd]);
    free(b);
  });

  it('ridge, least squares and the Bayes posterior mean by hand (d = 1) and exact recovery', async () => {
    const b = tiny();
    const r = await ridge({ lambda: 1 }).predict(b); // Σxy/(Σx²+λ) = 11/6
    await expectClose(r, [11 / 6], ctx.tol);
    const bayes = await bayesPosteriorMean({ d: 1, L: 2, betaVar: 2, noiseVar: 1 }).predict(b); // λ = 1/2
    await expectClose(bayes, [11 / 5.5], ctx.tol);
    tf.dispose([r, bayes]);
    free(b);
    // Noiseless d = 3, L = 5: least squares recovers x_q·β exactly.
    const beta = [0.5, -1, 2];
    const xs = [
      [1, 0, 2],
      [0, 1, 1],
      [2, 1, 0],
      [-1, 3, 1],
      [0.5, 0.5, -2],
    ];
    const x = tf.tensor3d([xs]);
    const y = tf.tensor2d([xs.map((r) => r[0]! * beta[0]! + r[1]! * beta[1]! + r[2]! * beta[2]!)]);
    const xq = tf.tensor2d([[1, 2, 3]]);
    const ls = await leastSquares().predict({ x, y, xq });
    await expectClose(ls, [0.5 - 2 + 6], 1e-4);
    // L < d: the minimum-norm solution. x = [1, 1, 0], y = 2 → β = [1, 1, 0], x_q·β = 3.
    const mn = await leastSquares().predict({
      x: tf.tensor3d([[[1, 1, 0]]]),
      y: tf.tensor2d([[2]]),
      xq: tf.tensor2d([[1, 2, 3]]),
    });
    await expectClose(mn, [3], 1e-5);
    tf.dispose([x, y, xq, ls, mn]);
  });

  it('modelEstimator feeds Z = [x, y] and z_q = [x_q, 0] and takes the last output', async () => {
    const b = tiny();
    let seen: number[][] = [];
    const est = modelEstimator('probe', async (Z, zq) => {
      seen = [await read(Z), await read(zq)];
      return tf.tidy(() => tf.concat([tf.ones([1, 1]), tf.reshape(tf.sum(Z), [1, 1])], 1));
    });
    const before = tf.memory().numTensors;
    const out = await est.predict(b);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(seen).toEqual([
      [1, 3, 2, 4],
      [1, 0],
    ]);
    await expectClose(out, [10], ctx.tol);
    tf.dispose(out);
    free(b);
  });

  it('validates its arguments, naming them', async () => {
    expect(() => kernelEstimator({ w: [1], mu: [1, 2] })).toThrow(
      /kernelEstimator: w and mu must have the same non-zero length/,
    );
    expect(() => ridge({ lambda: -1 })).toThrow(/ridge: lambda must be a finite number ≥ 0; got -1/);
    expect(() => optimalOneStepGdStep({ d: 0, L: 4, betaVar: 1, noiseVar: 0 })).toThrow(
      /model.d must be an integer ≥ 1; got 0/,
    );
    const bad = {
      x: tf.zeros([2, 3, 4]) as tf.Tensor3D,
      y: tf.zeros([2, 3]) as tf.Tensor2D,
      xq: tf.zeros([2, 5]) as tf.Tensor2D,
    };
    await expect(oneStepGd().predict(bad)).rejects.toThrow(/batch.xq must be \[2, 4\] to match x; got shape \[2, 5\]/);
    free(bad);
  });
});

// Monte Carlo checks of closed forms: a statistical property, not a kernel; cpu only keeps CI fast.
describeBackends(
  'estimator risks',
  () => {
    it('one-step GD risk matches its closed form by Monte Carlo, and η* beats η = 1', async () => {
      const model = { d: 3, L: 10, betaVar: 1, noiseVar: 0.25 };
      const B = 20000;
      const t = gaussianTasks(B, model.L, model.d, model.betaVar, model.noiseVar, 11);
      const etaStar = optimalOneStepGdStep(model);
      for (const eta of [1, etaStar]) {
        const pred = await oneStepGd({ stepSize: eta }).predict(t);
        const { mean, se } = await mcRisk(pred, t.yq);
        const closed = oneStepGdRisk(model, eta);
        expect(Math.abs(mean - closed)).toBeLessThan(4 * se);
        pred.dispose();
      }
      const auto = await optimalOneStepGd({ betaVar: model.betaVar, noiseVar: model.noiseVar }).predict(t);
      const byHand = await oneStepGd({ stepSize: etaStar }).predict(t);
      await expectClose(auto, await read(byHand), 1e-5, 1e-6);
      tf.dispose([auto, byHand]);
      expect(oneStepGdRisk(model)).toBeLessThan(oneStepGdRisk(model, 1));
      expect(oneStepGdRisk(model)).toBeLessThan(oneStepGdRisk(model, etaStar * 1.05));
      expect(oneStepGdRisk(model)).toBeLessThan(oneStepGdRisk(model, etaStar * 0.95));
      // The Bayes predictor is better than optimal one-step GD.
      const bayes = await bayesPosteriorMean(model).predict(t);
      const rb = await mcRisk(bayes, t.yq);
      expect(rb.mean).toBeLessThan(oneStepGdRisk(model));
      tf.dispose([bayes, t.x, t.y, t.xq, t.yq]);
    });
  },
  ['cpu'],
);

describe('closed forms', () => {
  it('match the numbers derived by hand for the seed configuration', () => {
    const seed = { d: 5, L: 40, betaVar: 1, noiseVar: 5 * 0.01 ** 2 };
    expect(optimalOneStepGdStep(seed)).toBeCloseTo(40 / 46.0005, 12);
    expect(oneStepGdRisk(seed, 1)).toBeCloseTo((5 * 6.0005) / 40, 12); // d(d+1+σ²)/L
    expect(oneStepGdRisk(seed)).toBeCloseTo(5 * (1 - 40 / 46.0005), 12); // d·s²·(1 − η*)
  });
});

describeBackends('errorCurve', (ctx) => {
  it('averages squared errors per context length; chunking does not change the tasks', async () => {
    const { errorCurve } = await import('./index.js');
    const task = { dx: 3, noiseStd: 0, betaScale: 'unit' as const };
    const run = (chunk: number) =>
      errorCurve([oneStepGd(), leastSquares()], task, [2, 6, 12], { samples: 40, seed: 5, chunk });
    const a = await expectNoLeak(() => run(40));
    const b = await run(7);
    expect(a.contextLengths).toEqual([2, 6, 12]);
    expect(a.series.map((s) => s.name)).toEqual(['one-step GD', 'least squares']);
    for (let i = 0; i < 2; i++) await expectClose(b.series[i]!.mse, a.series[i]!.mse, 1e-4, 1e-6);
    // Noiseless tasks with L ≥ d: least squares is exact; one-step GD is not, and improves with L.
    expect(Math.max(...a.series[1]!.mse.slice(1))).toBeLessThan(1e-6);
    expect(a.series[0]!.mse[2]!).toBeLessThan(a.series[0]!.mse[0]!);
    void ctx;
  });

  it('serves timers while it works: an abort from a timer stops it within one batch and leaks nothing', async () => {
    const { errorCurve } = await import('./index.js');
    let calls = 0;
    const ac = new AbortController();
    // An estimator that only ever awaits resolved promises (as cpu/wasm reads do): without
    // macrotask yields inside errorCurve, the timer it sets on its first call could never fire
    // before the end. (Set from inside the first call, so a slow start cannot fire it before any work.)
    const slow = {
      name: 'slow',
      async predict(b: { xq: tf.Tensor2D }) {
        if (calls++ === 0) setTimeout(() => ac.abort(new DOMException('stop', 'AbortError')), 0);
        const until = Date.now() + 2;
        while (Date.now() < until) {
          /* burn ~2 ms of work */
        }
        return tf.zeros([b.xq.shape[0]]) as tf.Tensor1D;
      },
    };
    const before = tf.memory().numTensors;
    await expect(
      errorCurve([slow], { dx: 2, noiseStd: 0 }, [3], { samples: 400, seed: 1, chunk: 1, signal: ac.signal }),
    ).rejects.toThrow(/stop/);
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThan(400);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad arguments by name', async () => {
    const { errorCurve } = await import('./index.js');
    await expect(errorCurve([], { dx: 2, noiseStd: 0 }, [1], { samples: 4, seed: 0 })).rejects.toThrow(
      /estimators must be a non-empty array/,
    );
    await expect(errorCurve([oneStepGd()], { dx: 2, noiseStd: 0 }, [0], { samples: 4, seed: 0 })).rejects.toThrow(
      /contextLengths\[0\] must be an integer ≥ 1; got 0/,
    );
    await expect(
      errorCurve([oneStepGd(), oneStepGd()], { dx: 2, noiseStd: 0 }, [1], { samples: 4, seed: 0 }),
    ).rejects.toThrow(/names must be unique/);
  });
});

describeBackends('preconditionedGd', () => {
  it('a hand-computed task, Γ = I is one-step GD, and a bad preconditioner is named', async () => {
    // x = [1, 2], y = 3, x_q = [1, 0], Γ = diag(2, 1): ŷ = 3·xᵀΓx_q = 3·2 = 6.
    const b: IclTaskBatch = { x: tf.tensor3d([[[1, 2]]]), y: tf.tensor2d([[3]]), xq: tf.tensor2d([[1, 0]]) };
    const p = await preconditionedGd({
      preconditioner: [
        [2, 0],
        [0, 1],
      ],
    }).predict(b);
    expect(await read(p)).toEqual([6]);
    const t = gaussianTasks(50, 7, 3, 1, 0.1, 9);
    const eye = await preconditionedGd({
      preconditioner: [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ],
      stepSize: 0.7,
    }).predict(t);
    const gd = await oneStepGd({ stepSize: 0.7 }).predict(t);
    await expectClose(eye, await read(gd), 1e-5, 1e-6);
    await expect(
      preconditionedGd({
        preconditioner: [
          [1, 0],
          [0, 1],
        ],
      }).predict(t),
    ).rejects.toThrow(/preconditionedGd.predict: the preconditioner is 2×2 but the tasks have d = 3/);
    expect(() => preconditionedGd({ preconditioner: [[1, 2]] })).toThrow(
      /preconditionedGd: options.preconditioner must be a square d×d array of finite numbers; got 1 rows/,
    );
    tf.dispose([p, eye, gd, b.x, b.y, b.xq, t.x, t.y, t.xq, t.yq]);
  });
});
