// Closed forms and the approximate-loss model behind "In-Context Linear Regression Demystified"
// (He, Pan, Chen & Yang, ICML 2025): what a trained one-layer multi-head softmax attention
// converges to, for every head count. Plain numbers on the host, float64.
import { Rng } from '@attnlab/data';
import type { GaussianTaskModel } from './types.js';
import { checkTaskModel, fail, finiteNumber, isArray } from './validate.js';

/**
 * The risk-minimising step of debiased one-step GD (closed form, x ~ N(0, I)):
 * η* = L·b / (b(L + d) + σ²d) with b = d·betaVar = E‖β‖² and σ² = noiseVar.
 * It is the limit of Σ_h ω^h μ^h for a trained multi-head attention with paired heads.
 * @example
 * debiasedGdOptimalStep({ d: 5, L: 40, betaVar: 1 / 5, noiseVar: 0.1 }); // 40 / 45.5 ≈ 0.8791
 */
export function debiasedGdOptimalStep(model: GaussianTaskModel): number {
  const { d, L, betaVar, noiseVar } = checkTaskModel('debiasedGdOptimalStep', model);
  const b = d * betaVar;
  return (L * b) / (b * (L + d) + noiseVar * d);
}

/**
 * Expected squared error of debiased one-step GD with step η against the noiseless query target
 * (closed form; add noiseVar for a noisy target). With n = L − 1 and b = d·betaVar,
 * R(η) = b − 2η·b·n/L + η²·(n/L²)·(b(n + d + 1) + σ²d), from E[XᵀCX] = nI and
 * E tr((XᵀCX)²) = n·d·(n + d + 1) for the centred Wishart matrix XᵀCX. Without η, the risk at η*.
 * @example
 * debiasedGdRisk({ d: 5, L: 40, betaVar: 1 / 5, noiseVar: 0.1 }); // 1 − 39/45.5 ≈ 0.1429
 */
export function debiasedGdRisk(model: GaussianTaskModel, stepSize?: number): number {
  const { d, L, betaVar, noiseVar } = checkTaskModel('debiasedGdRisk', model);
  const eta =
    stepSize === undefined ? debiasedGdOptimalStep(model) : finiteNumber('debiasedGdRisk', 'stepSize', stepSize);
  const b = d * betaVar;
  const n = L - 1;
  const second = (n / (L * L)) * (b * (n + d + 1) + noiseVar * d);
  return b - 2 * eta * b * (n / L) + eta * eta * second;
}

/**
 * Bayes-optimal risk against the noiseless query target in the proportional limit (d, L → ∞
 * with d/L = ξ fixed): σ²·ξ·m(−λ/L) with λ = noiseVar/betaVar and m the Stieltjes transform of
 * the Marchenko–Pastur law of ratio ξ. The posterior mean is ridge with that λ, and its risk is
 * σ²·E tr((XᵀX + λI)⁻¹). Without noise it is 0 for L ≥ d and betaVar·(d − L) for L < d (exact).
 * @example
 * bayesRiskLimit({ d: 20, L: 40, betaVar: 1 / 20, noiseVar: 0.5 });
 */
export function bayesRiskLimit(model: GaussianTaskModel): number {
  const { d, L, betaVar, noiseVar } = checkTaskModel('bayesRiskLimit', model);
  if (noiseVar === 0) return L >= d ? 0 : betaVar * (d - L);
  const xi = d / L;
  const t = noiseVar / betaVar / L;
  const a = 1 - xi + t;
  // m(−t) = (√(a² + 4ξt) − a) / (2ξt), written without the cancellation for small t.
  const m = 2 / (Math.sqrt(a * a + 4 * xi * t) + a);
  return noiseVar * xi * m;
}

/** A head count's parameters in the paper's reduced model: KQ scale ω^h and OV output μ^h per head. */
export interface HeadParams {
  omega: number[];
  mu: number[];
}

function checkHeads(fn: string, p: HeadParams, name = 'params'): { omega: number[]; mu: number[] } {
  if (!p || typeof p !== 'object') fail(fn, `${name} must be { omega: number[], mu: number[] }; got ${String(p)}`);
  const { omega, mu } = p;
  if (!isArray(omega) || omega.length === 0) fail(fn, `${name}.omega must be a non-empty array of numbers`);
  if (!isArray(mu) || mu.length !== omega.length)
    fail(fn, `${name}.mu must be an array of ${omega.length} numbers (one per head, like omega)`);
  omega.forEach((v, i) => finiteNumber(fn, `${name}.omega[${i}]`, v));
  mu.forEach((v, i) => finiteNumber(fn, `${name}.mu[${i}]`, v));
  return { omega: [...omega] as number[], mu: [...mu] as number[] };
}

/** The quadratic form of the approximate loss: A = b·ωωᵀ + (v/L)·exp(d·ωωᵀ) (exp elementwise). */
function approxA(d: number, L: number, b: number, v: number, omega: readonly number[]): Float64Array {
  const H = omega.length;
  const A = new Float64Array(H * H);
  for (let i = 0; i < H; i++)
    for (let j = 0; j < H; j++) {
      const o = omega[i]! * omega[j]!;
      A[i * H + j] = b * o + (v / L) * Math.exp(d * o);
    }
  return A;
}

function signalAndTotal(model: GaussianTaskModel): { b: number; v: number } {
  const b = model.d * model.betaVar;
  return { b, v: b + model.noiseVar };
}

/**
 * The paper's approximate population loss of multi-head softmax attention reduced to its
 * per-head scalars (diagonal KQ = ω^h·I, OV last entry μ^h), against the noisy query target:
 * L̃(ω, μ) = v − 2b·μᵀω + μᵀ(b·ωωᵀ + (v/L)·exp(d·ωωᵀ))μ, with b = E‖β‖² = d·betaVar and
 * v = b + noiseVar = E[y²]. For betaVar = 1/d it is the authors' expression (b = 1).
 * @example
 * approxLoss({ d: 5, L: 40, betaVar: 0.2, noiseVar: 0.1 }, { omega: [0.139, -0.139], mu: [3.15, -3.15] });
 */
export function approxLoss(model: GaussianTaskModel, params: HeadParams): number {
  const fn = 'approxLoss';
  const { d, L } = checkTaskModel(fn, model);
  const { omega, mu } = checkHeads(fn, params);
  const { b, v } = signalAndTotal(model);
  const H = omega.length;
  const A = approxA(d, L, b, v, omega);
  let lin = 0,
    quad = 0;
  for (let i = 0; i < H; i++) {
    lin += mu[i]! * omega[i]!;
    for (let j = 0; j < H; j++) quad += mu[i]! * A[i * H + j]! * mu[j]!;
  }
  return v - 2 * b * lin + quad;
}

/**
 * The gradient of {@link approxLoss} with respect to ω and μ.
 * @example
 * const g = approxLossGradient(model, { omega: [0.3, -0.2], mu: [1, -0.5] }); // { omega: [...], mu: [...] }
 */
export function approxLossGradient(model: GaussianTaskModel, params: HeadParams): HeadParams {
  const fn = 'approxLossGradient';
  const { d, L } = checkTaskModel(fn, model);
  const { omega, mu } = checkHeads(fn, params);
  return gradient(d, L, signalAndTotal(model), omega, mu);
}

function gradient(
  d: number,
  L: number,
  { b, v }: { b: number; v: number },
  omega: readonly number[],
  mu: readonly number[],
): HeadParams {
  const H = omega.length;
  const gO = new Array<number>(H).fill(0);
  const gM = new Array<number>(H).fill(0);
  for (let k = 0; k < H; k++) {
    let am = 0, // (A μ)_k
      dw = 0; // Σ_j μ_j ∂A_kj/∂ω_k
    for (let j = 0; j < H; j++) {
      const o = omega[k]! * omega[j]!;
      const e = Math.exp(d * o);
      am += (b * o + (v / L) * e) * mu[j]!;
      dw += (b + (v / L) * d * e) * omega[j]! * mu[j]!;
    }
    gM[k] = -2 * b * omega[k]! + 2 * am;
    // ∂/∂ω_k of μᵀAμ: row k and column k of A both depend on ω_k (the diagonal twice).
    gO[k] = -2 * b * mu[k]! + 2 * mu[k]! * dw;
  }
  return { omega: gO, mu: gM };
}

/**
 * The μ that minimises {@link approxLoss} for fixed ω: μ* = b·A⁻¹ω (solved in float64).
 * @example
 * approxOptimalMu({ d: 5, L: 40, betaVar: 0.2, noiseVar: 0.1 }, [1 / Math.sqrt(5)]); // [√5 / (1 + 1.1·5e/40)]
 */
export function approxOptimalMu(model: GaussianTaskModel, omega: readonly number[]): number[] {
  const fn = 'approxOptimalMu';
  const { d, L } = checkTaskModel(fn, model);
  if (!isArray(omega) || omega.length === 0) fail(fn, 'omega must be a non-empty array of numbers');
  omega.forEach((v, i) => finiteNumber(fn, `omega[${i}]`, v));
  const { b, v } = signalAndTotal(model);
  const H = omega.length;
  const A = approxA(d, L, b, v, omega);
  const x = omega.map((w) => b * w);
  // Gaussian elimination with partial pivoting (H is the number of heads: tiny).
  for (let c = 0; c < H; c++) {
    let p = c;
    for (let r = c + 1; r < H; r++) if (Math.abs(A[r * H + c]!) > Math.abs(A[p * H + c]!)) p = r;
    if (A[p * H + c] === 0)
      fail(fn, 'the system is singular for this omega (two heads with the same ω); give distinct values');
    if (p !== c) {
      for (let k = 0; k < H; k++) [A[c * H + k], A[p * H + k]] = [A[p * H + k]!, A[c * H + k]!];
      [x[c], x[p]] = [x[p]!, x[c]!];
    }
    for (let r = c + 1; r < H; r++) {
      const f = A[r * H + c]! / A[c * H + c]!;
      for (let k = c; k < H; k++) A[r * H + k]! -= f * A[c * H + k]!;
      x[r]! -= f * x[c]!;
    }
  }
  for (let r = H - 1; r >= 0; r--) {
    let s = x[r]!;
    for (let k = r + 1; k < H; k++) s -= A[r * H + k]! * x[k]!;
    x[r] = s / A[r * H + r]!;
  }
  return x;
}

export interface ApproxLossFlow {
  /** Times t at which the state was recorded (t = step·stepSize). */
  t: number[];
  omega: number[][];
  mu: number[][];
  loss: number[];
}

/**
 * Gradient flow on {@link approxLoss} (explicit Euler with a small step), recording every
 * `every` steps: how the paper's reduced model moves from an initialisation.
 * @example
 * const f = approxLossFlow(model, { omega: [0.1, -0.1], mu: [0.1, -0.1] }, { steps: 10000 });
 */
export function approxLossFlow(
  model: GaussianTaskModel,
  init: HeadParams,
  options: { steps: number; stepSize?: number; every?: number },
): ApproxLossFlow {
  const fn = 'approxLossFlow';
  const { d, L } = checkTaskModel(fn, model);
  let { omega, mu } = checkHeads(fn, init, 'init');
  const steps = finiteNumber(fn, 'options.steps', options?.steps, { integer: true, min: 0 });
  const lr = finiteNumber(fn, 'options.stepSize', options.stepSize ?? 0.01, { positive: true });
  const every = finiteNumber(fn, 'options.every', options.every ?? Math.max(1, Math.ceil(steps / 200)), {
    integer: true,
    min: 1,
  });
  const bv = signalAndTotal(model);
  const out: ApproxLossFlow = { t: [], omega: [], mu: [], loss: [] };
  const record = (k: number) => {
    out.t.push(k * lr);
    out.omega.push([...omega]);
    out.mu.push([...mu]);
    out.loss.push(approxLoss(model, { omega, mu }));
  };
  record(0);
  for (let k = 1; k <= steps; k++) {
    const g = gradient(d, L, bv, omega, mu);
    omega = omega.map((w, i) => w - lr * g.omega[i]!);
    mu = mu.map((m, i) => m - lr * g.mu[i]!);
    if (!omega.every(Number.isFinite) || !mu.every(Number.isFinite))
      fail(fn, `the flow diverged at step ${k}; give a smaller options.stepSize (got ${lr})`);
    if (k % every === 0 || k === steps) record(k);
  }
  return out;
}

/** What the theory says a trained one-layer attention with `heads` heads converges to. */
export type HeadTheory =
  | {
      heads: 1;
      kind: 'single';
      /** |ω| = 1/√d: the approximate loss's optimum for one head. */
      omega: number;
      /** |μ| at that ω (μ has ω's sign): b√d / (b + v·d·e/L). */
      mu: number;
      /** The reduced model's approximate risk against the noiseless target. */
      risk: number;
      /** The same against the noisy target (risk + noiseVar). */
      noisyRisk: number;
    }
  | {
      heads: number;
      kind: 'paired';
      /** Heads pair up with opposite signs and Σ_h μ^h → 0: the estimator becomes debiased GD. */
      muSum: 0;
      /** Σ_h ω^h μ^h → η*, the optimal step of debiased GD. The individual |ω^h| keep shrinking. */
      step: number;
      /** Debiased GD's risk at η* against the noiseless target (the limit of training). */
      risk: number;
      /** The same against the noisy target. */
      noisyRisk: number;
    };

/**
 * The theory's prediction for a head count: one head settles at |ω| = 1/√d with the optimal μ;
 * two or more heads pair with opposite signs, their μ sum to zero and Σ ω^h μ^h tends to the optimal
 * step of debiased GD. Neither the approximate loss nor the exact population loss has a finite
 * minimiser along that valley: ω^h keeps shrinking while ω^h μ^h stays fixed, so a trained model's
 * individual ω^h depend on how long it trained, and the invariants are what to compare.
 * @example
 * multiHeadTheory({ d: 5, L: 40, betaVar: 0.2, noiseVar: 0.1 }, 2); // { kind: 'paired', step: 0.8791, … }
 */
export function multiHeadTheory(model: GaussianTaskModel, heads: number): HeadTheory {
  const fn = 'multiHeadTheory';
  const { d, L, noiseVar } = checkTaskModel(fn, model);
  finiteNumber(fn, 'heads', heads, { integer: true, min: 1 });
  const { b, v } = signalAndTotal(model);
  if (heads === 1) {
    const c = (v * d * Math.E) / L;
    const noisyRisk = v - (b * b) / (b + c);
    return {
      heads: 1,
      kind: 'single',
      omega: 1 / Math.sqrt(d),
      mu: (b * Math.sqrt(d)) / (b + c),
      risk: noisyRisk - noiseVar,
      noisyRisk,
    };
  }
  const risk = debiasedGdRisk(model);
  return { heads, kind: 'paired', muSum: 0, step: debiasedGdOptimalStep(model), risk, noisyRisk: risk + noiseVar };
}

/** The exact single-head optimum, found numerically (see {@link singleHeadOptimum}). */
export interface SingleHeadOptimum {
  /** |ω| that minimises the population risk of μ·Σ_i y_i softmax_i(ω⟨x_q, x_i⟩). */
  omega: number;
  /** The risk-minimising μ at that ω (it has ω's sign). */
  mu: number;
  /** Its risk against the noiseless target, and against the noisy one (+ noiseVar). */
  risk: number;
  noisyRisk: number;
  /** Monte Carlo tasks behind the estimate. */
  samples: number;
}

/**
 * The exact population optimum of one softmax head (no small-ω expansion): the kernel estimator
 * μ·Σ_i y_i softmax_i(ω⟨x_q, x_i⟩) with μ solved in closed form for each ω, and ω found by golden-
 * section search on one fixed set of Monte Carlo tasks (common random numbers make the risk a smooth
 * function of ω). The approximate loss puts the optimum at 1/√d; this is where training ends.
 * @example
 * singleHeadOptimum({ d: 5, L: 40, betaVar: 0.2, noiseVar: 0.1 }); // { omega: ≈ 0.52, mu: ≈ 1.49, … }
 */
export function singleHeadOptimum(
  model: GaussianTaskModel,
  options: { samples?: number; seed?: number } = {},
): SingleHeadOptimum {
  const fn = 'singleHeadOptimum';
  const { d, L, betaVar, noiseVar } = checkTaskModel(fn, model);
  const N = finiteNumber(fn, 'options.samples', options.samples ?? 20000, { integer: true, min: 2 });
  const seed = finiteNumber(fn, 'options.seed', options.seed ?? 0, { integer: true, min: 0 });
  if (N * L > 5e7) fail(fn, `options.samples × model.L must be ≤ 5e7 (memory); got ${N} × ${L}`);
  const rng = new Rng(seed, 0x5eed);
  const u = new Float64Array(N * L); // ⟨x_q, x_i⟩
  const y = new Float64Array(N * L);
  const yq = new Float64Array(N); // noiseless targets
  const sb = Math.sqrt(betaVar),
    sn = Math.sqrt(noiseVar);
  for (let n = 0; n < N; n++) {
    const beta = rng.normal(d, 0, sb);
    const xq = rng.normal(d);
    let t = 0;
    for (let k = 0; k < d; k++) t += xq[k]! * beta[k]!;
    yq[n] = t;
    for (let i = 0; i < L; i++) {
      const x = rng.normal(d);
      let dot = 0,
        lab = 0;
      for (let k = 0; k < d; k++) {
        dot += x[k]! * xq[k]!;
        lab += x[k]! * beta[k]!;
      }
      u[n * L + i] = dot;
      y[n * L + i] = lab + sn * rng.normal(1)[0]!;
    }
  }
  const f = new Float64Array(N);
  const riskAt = (w: number) => {
    let fy = 0,
      ff = 0;
    for (let n = 0; n < N; n++) {
      let m = -Infinity;
      for (let i = 0; i < L; i++) m = Math.max(m, w * u[n * L + i]!);
      let z = 0,
        acc = 0;
      for (let i = 0; i < L; i++) {
        const e = Math.exp(w * u[n * L + i]! - m);
        z += e;
        acc += e * y[n * L + i]!;
      }
      f[n] = acc / z;
      fy += f[n]! * yq[n]!;
      ff += f[n]! * f[n]!;
    }
    const mu = fy / ff;
    let r = 0;
    for (let n = 0; n < N; n++) r += (yq[n]! - mu * f[n]!) ** 2;
    return { mu, risk: r / N };
  };
  // Golden-section search for ω on [0.05, 3]/√d.
  let lo = 0.05 / Math.sqrt(d),
    hi = 3 / Math.sqrt(d);
  const g = (Math.sqrt(5) - 1) / 2;
  let a = hi - g * (hi - lo),
    b = lo + g * (hi - lo);
  let fa = riskAt(a).risk,
    fb = riskAt(b).risk;
  for (let it = 0; it < 40; it++) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - g * (hi - lo);
      fa = riskAt(a).risk;
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + g * (hi - lo);
      fb = riskAt(b).risk;
    }
  }
  const omega = (lo + hi) / 2;
  const { mu, risk } = riskAt(omega);
  return { omega, mu, risk, noisyRisk: risk + noiseVar, samples: N };
}
