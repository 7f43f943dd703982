import * as tf from '@tensorflow/tfjs-core';
import { solveHost } from '@attnlab/linalg';
import type { Estimator, GaussianTaskModel, IclTaskBatch } from './types.js';
import { checkBatch, checkSquare, checkTaskModel, fail, finiteNumber, isArray } from './validate.js';
import { debiasedGdOptimalStep } from './theory.js';

const y2d = (y: tf.Tensor2D | tf.Tensor3D): tf.Tensor2D => (y.rank === 3 ? tf.squeeze(y, [2]) : y) as tf.Tensor2D;

/** ⟨x_i, x_q⟩ for every context token: `[B, L]`. */
function queryDots(x: tf.Tensor3D, xq: tf.Tensor2D): tf.Tensor2D {
  return tf.squeeze(tf.matMul(x, tf.expandDims(xq, 2)), [2]) as tf.Tensor2D;
}

/**
 * Seed 004's kernel estimator, the closed form of a trained one-layer multi-head softmax attention:
 * ŷ = Σ_h μ^h Σ_i y_i softmax_i(⟨x_q, x_i⟩ · w^h).
 * @example
 * const est = kernelEstimator({ w: [-0.139, 0.142], mu: [-3.17, 3.19] });
 * const yhat = await est.predict({ x, y, xq });
 */
export function kernelEstimator(
  params: { w: readonly number[]; mu: readonly number[] },
  name = 'kernel estimator',
): Estimator {
  const fn = 'kernelEstimator';
  if (!params || !isArray(params.w) || !isArray(params.mu))
    fail(fn, 'params must be { w: number[], mu: number[] } (one entry per head)');
  if (params.w.length !== params.mu.length || params.w.length === 0)
    fail(
      fn,
      `w and mu must have the same non-zero length (one per head); got ${params.w.length} and ${params.mu.length}`,
    );
  params.w.forEach((v, h) => finiteNumber(fn, `w[${h}]`, v));
  params.mu.forEach((v, h) => finiteNumber(fn, `mu[${h}]`, v));
  const w = [...params.w];
  const mu = [...params.mu];
  return {
    name,
    async predict(batch) {
      checkBatch(`${fn}.predict`, batch);
      return tf.tidy(() => {
        const dots = queryDots(batch.x, batch.xq);
        const y = y2d(batch.y);
        let out: tf.Tensor = tf.zeros([batch.x.shape[0]]);
        for (let h = 0; h < w.length; h++) {
          const a = tf.softmax(tf.mul(dots, w[h]!));
          out = tf.add(out, tf.mul(tf.sum(tf.mul(a, y), 1), mu[h]!));
        }
        return out as tf.Tensor1D;
      });
    },
  };
}

/**
 * One step of gradient descent from β = 0 on the context's squared loss, step size η:
 * ŷ = (η / L) Σ_i y_i ⟨x_i, x_q⟩. With η = 1 this is seed 004's `gradient_step_estimator`.
 * @example
 * const gd = oneStepGd();                                   // the seed's estimator
 * const best = oneStepGd({ stepSize: optimalOneStepGdStep(model) });
 */
export function oneStepGd(options: { stepSize?: number } = {}, name?: string): Estimator {
  const eta = finiteNumber('oneStepGd', 'stepSize', options.stepSize ?? 1);
  return {
    name: name ?? (eta === 1 ? 'one-step GD' : `one-step GD (η=${+eta.toPrecision(4)})`),
    async predict(batch) {
      const { L } = checkBatch('oneStepGd.predict', batch);
      return tf.tidy(
        () => tf.mul(tf.sum(tf.mul(queryDots(batch.x, batch.xq), y2d(batch.y)), 1), eta / L) as tf.Tensor1D,
      );
    },
  };
}

/**
 * Preconditioned one-step GD: ŷ = (η / L) Σ_i y_i x_iᵀ Γ x_q for a d×d preconditioner Γ (for
 * x ~ N(0, Σ), Γ = Σ⁻¹ is what multi-head attention learns in the paper's anisotropic experiment).
 * @example
 * const pgd = preconditionedGd({ preconditioner: [[2, -1], [-1, 2]], stepSize: 0.9 });
 */
export function preconditionedGd(
  options: { preconditioner: readonly (readonly number[])[]; stepSize?: number },
  name = 'preconditioned GD',
): Estimator {
  const fn = 'preconditionedGd';
  const eta = finiteNumber(fn, 'options.stepSize', options?.stepSize ?? 1);
  const G = checkSquare(fn, 'options.preconditioner', options.preconditioner);
  return {
    name,
    async predict(batch) {
      const { L, d } = checkBatch(`${fn}.predict`, batch);
      if (G.length !== d)
        fail(`${fn}.predict`, `the preconditioner is ${G.length}×${G.length} but the tasks have d = ${d}`);
      return tf.tidy(() => {
        const gq = tf.matMul(batch.xq, tf.tensor2d(G.flat(), [d, d]), false, true) as tf.Tensor2D; // Γ x_q per task
        return tf.mul(tf.sum(tf.mul(queryDots(batch.x, gq), y2d(batch.y)), 1), eta / L) as tf.Tensor1D;
      });
    },
  };
}

/**
 * One-step GD with the risk-minimising step for the Gaussian prior at each batch's own (d, L):
 * η*(L) = L·s² / (s²(L + d + 1) + σ²), so one estimator serves a whole error-vs-L curve.
 * @example
 * const best = optimalOneStepGd({ betaVar: 1, noiseVar: 5e-4 });
 */
export function optimalOneStepGd(
  prior: { betaVar: number; noiseVar: number },
  name = 'optimal one-step GD',
): Estimator {
  return perBatchStep('optimalOneStepGd', prior, name, optimalOneStepGdStep, (eta) =>
    oneStepGd({ stepSize: eta }, name),
  );
}

/** An estimator whose step comes from the prior and each batch's own (d, L), so one serves a whole error curve. */
function perBatchStep(
  fn: string,
  prior: { betaVar: number; noiseVar: number },
  name: string,
  step: (model: GaussianTaskModel) => number,
  make: (eta: number) => Estimator,
): Estimator {
  finiteNumber(fn, 'prior.betaVar', prior?.betaVar, { positive: true });
  finiteNumber(fn, 'prior.noiseVar', prior.noiseVar, { min: 0 });
  return {
    name,
    async predict(batch) {
      const { L, d } = checkBatch(`${fn}.predict`, batch);
      return make(step({ d, L, betaVar: prior.betaVar, noiseVar: prior.noiseVar })).predict(batch);
    },
  };
}

/**
 * Debiased one-step GD (He, Pan, Chen & Yang 2025): GD on centred context inputs,
 * ŷ = (η / L) Σ_i y_i ⟨x_i − x̄, x_q⟩ with x̄ the context mean; what multi-head softmax attention approximates.
 * @example
 * const dgd = debiasedGd({ stepSize: 1 });
 */
export function debiasedGd(options: { stepSize?: number } = {}, name = 'debiased GD'): Estimator {
  const eta = finiteNumber('debiasedGd', 'stepSize', options.stepSize ?? 1);
  return {
    name,
    async predict(batch) {
      const { L } = checkBatch('debiasedGd.predict', batch);
      return tf.tidy(() => {
        const centred = tf.sub(batch.x, tf.mean(batch.x, 1, true)) as tf.Tensor3D;
        return tf.mul(tf.sum(tf.mul(queryDots(centred, batch.xq), y2d(batch.y)), 1), eta / L) as tf.Tensor1D;
      });
    },
  };
}

/**
 * Debiased one-step GD with the risk-minimising step at each batch's own (d, L):
 * η*(L) = L·b / (b(L + d) + σ²d), b = d·betaVar ({@link debiasedGdOptimalStep}) — the limit that
 * multi-head softmax attention with paired heads approaches (He, Pan, Chen & Yang 2025).
 * @example
 * const dgd = optimalDebiasedGd({ betaVar: 1 / 5, noiseVar: 0.1 });
 */
export function optimalDebiasedGd(
  prior: { betaVar: number; noiseVar: number },
  name = 'optimal debiased GD',
): Estimator {
  return perBatchStep('optimalDebiasedGd', prior, name, debiasedGdOptimalStep, (eta) =>
    debiasedGd({ stepSize: eta }, name),
  );
}

/**
 * Solves the d×d (or L×L) systems of ridge / least squares for each task on the host in float64
 * (@attnlab/linalg's LU; tiny systems, so the host is both exact and fast).
 */
async function ridgePredict(batch: IclTaskBatch, lambda: number, fn: string): Promise<tf.Tensor1D> {
  const { B, L, d } = checkBatch(fn, batch);
  const [xs, ys, qs] = await Promise.all([batch.x.data(), batch.y.data(), batch.xq.data()]);
  const out = new Float32Array(B);
  const primal = lambda > 0 || L >= d;
  const n = primal ? d : L;
  const A = new Float64Array(n * n);
  const rhs = new Float64Array(n);
  for (let b = 0; b < B; b++) {
    const X = (i: number, j: number) => xs[(b * L + i) * d + j]!;
    const Y = (i: number) => ys[b * L + i]!;
    A.fill(0);
    rhs.fill(0);
    if (primal) {
      // (XᵀX + λI) β = Xᵀy, ŷ = x_qᵀβ
      for (let i = 0; i < L; i++) {
        for (let r = 0; r < d; r++) {
          const xr = X(i, r);
          rhs[r]! += xr * Y(i);
          for (let c = 0; c <= r; c++) A[r * d + c]! += xr * X(i, c);
        }
      }
      for (let r = 0; r < d; r++) {
        A[r * d + r]! += lambda;
        for (let c = 0; c < r; c++) A[c * d + r] = A[r * d + c]!;
      }
      const beta = spdSolve(A, rhs, n, fn);
      let s = 0;
      for (let r = 0; r < d; r++) s += qs[b * d + r]! * beta[r]!;
      out[b] = s;
    } else {
      // Minimum-norm least squares when L < d: β = Xᵀ (X Xᵀ)⁻¹ y.
      for (let i = 0; i < L; i++) {
        rhs[i] = Y(i);
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let c = 0; c < d; c++) s += X(i, c) * X(j, c);
          A[i * L + j] = s;
          A[j * L + i] = s;
        }
      }
      const alpha = spdSolve(A, rhs, n, fn);
      let s = 0;
      for (let i = 0; i < L; i++) {
        let dot = 0;
        for (let c = 0; c < d; c++) dot += X(i, c) * qs[b * d + c]!;
        s += alpha[i]! * dot;
      }
      out[b] = s;
    }
  }
  return tf.tensor1d(out);
}

function spdSolve(A: Float64Array, rhs: Float64Array, n: number, fn: string): Float64Array {
  try {
    return solveHost({ rows: n, cols: n, data: A }, { rows: n, cols: 1, data: rhs }).data;
  } catch {
    fail(fn, 'the context matrix is singular (duplicate or degenerate inputs); use ridge with λ > 0');
  }
}

/**
 * Ridge regression on the context, ŷ = x_qᵀ (XᵀX + λI)⁻¹ Xᵀy (float64 on the host).
 * @example
 * const r = ridge({ lambda: 0.1 });
 */
export function ridge(options: { lambda: number }, name?: string): Estimator {
  const lambda = finiteNumber('ridge', 'lambda', options?.lambda, { min: 0 });
  return {
    name: name ?? `ridge (λ=${+lambda.toPrecision(4)})`,
    predict: (b) => ridgePredict(b, lambda, 'ridge.predict'),
  };
}

/**
 * The Bayes-optimal predictor (posterior mean) for the Gaussian task model: ridge with λ = noiseVar / betaVar.
 * @example
 * const bayes = bayesPosteriorMean({ d: 5, L: 40, betaVar: 1, noiseVar: 5 * 0.01 ** 2 });
 */
export function bayesPosteriorMean(model: GaussianTaskModel, name = 'Bayes (posterior mean)'): Estimator {
  checkTaskModel('bayesPosteriorMean', model);
  const lambda = model.noiseVar / model.betaVar;
  return { name, predict: (b) => ridgePredict(b, lambda, 'bayesPosteriorMean.predict') };
}

/**
 * Ordinary least squares on the context (minimum-norm solution when L < d).
 * @example
 * const ls = leastSquares();
 */
export function leastSquares(name = 'least squares'): Estimator {
  return { name, predict: (b) => ridgePredict(b, 0, 'leastSquares.predict') };
}

/**
 * Turns any model of tokens into an estimator: builds Z = [x_i, y_i] `[B, L, d+1]` and
 * z_q = [x_q, 0] `[B, d+1]`, calls `forward(Z, zq)` and takes its last output column.
 * @example
 * const tfEst = modelEstimator('transformer', (Z, zq) => iclAttentionForward(params, Z, zq));
 */
export function modelEstimator(
  name: string,
  forward: (Z: tf.Tensor3D, zq: tf.Tensor2D) => tf.Tensor | Promise<tf.Tensor>,
): Estimator {
  if (typeof forward !== 'function')
    fail('modelEstimator', `forward must be a function (Z, zq) => prediction; got ${typeof forward}`);
  return {
    name,
    async predict(batch) {
      const { B, L } = checkBatch('modelEstimator.predict', batch);
      const [Z, zq] = tf.tidy(() => [
        tf.concat([batch.x, tf.reshape(batch.y, [B, L, 1])], 2) as tf.Tensor3D,
        tf.concat([batch.xq, tf.zeros([B, 1])], 1) as tf.Tensor2D,
      ]);
      try {
        const out = await forward(Z, zq);
        const r = tf.tidy(() => {
          const flat = tf.reshape(out, [B, -1]);
          return tf.reshape(tf.slice(flat, [0, flat.shape[1]! - 1], [B, 1]), [B]) as tf.Tensor1D;
        });
        if (out !== (r as tf.Tensor)) out.dispose();
        return r;
      } finally {
        tf.dispose([Z, zq]);
      }
    },
  };
}

/**
 * The risk-minimising step size of one-step GD for the Gaussian task model (closed form):
 * η* = L·s² / (s²(L + d + 1) + σ²), with s² = betaVar and σ² = noiseVar.
 * @example
 * optimalOneStepGdStep({ d: 5, L: 40, betaVar: 1, noiseVar: 5e-4 }); // ≈ 0.8696
 */
export function optimalOneStepGdStep(model: GaussianTaskModel): number {
  const { d, L, betaVar: s2, noiseVar: n2 } = checkTaskModel('optimalOneStepGdStep', model);
  return (L * s2) / (s2 * (L + d + 1) + n2);
}

/**
 * Expected squared error of one-step GD with step η on a fresh query (closed form, x ~ N(0, I)):
 * R(η) = η²·d·(s²(1 + (d+1)/L) + σ²/L) − 2η·d·s² + d·s². Without η, the risk at η*.
 * @example
 * oneStepGdRisk({ d: 5, L: 40, betaVar: 1, noiseVar: 5e-4 }, 1); // 0.7500625 (the seed's estimator)
 */
export function oneStepGdRisk(model: GaussianTaskModel, stepSize?: number): number {
  const { d, L, betaVar: s2, noiseVar: n2 } = checkTaskModel('oneStepGdRisk', model);
  const eta =
    stepSize === undefined ? optimalOneStepGdStep(model) : finiteNumber('oneStepGdRisk', 'stepSize', stepSize);
  const second = d * (s2 * (1 + (d + 1) / L) + n2 / L);
  return eta * eta * second - 2 * eta * d * s2 + d * s2;
}
