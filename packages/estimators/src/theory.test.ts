import * as tf from '@tensorflow/tfjs-core';
import { describeBackends } from '@attnlab/backend/testing';
import {
  approxLoss,
  approxLossFlow,
  approxLossGradient,
  approxOptimalMu,
  bayesPosteriorMean,
  bayesRiskLimit,
  debiasedGd,
  debiasedGdOptimalStep,
  debiasedGdRisk,
  multiHeadTheory,
  optimalDebiasedGd,
  singleHeadOptimum,
} from './index.js';
import { gaussianTasks, mcRisk } from './test-utils/tasks.js';

/** The paper's setting: d = 5, L = 40, β ~ N(0, I/d), σ² = 0.1 (the authors' plots.ipynb). */
const paper = { d: 5, L: 40, betaVar: 1 / 5, noiseVar: 0.1 };

describe('approximate loss', () => {
  it("equals the authors' expression (b = 1), evaluated independently in numpy", () => {
    // numpy: 1 + var − 2 μ·ω + μᵀ(ωωᵀ + (1 + var)/L · exp(d ωωᵀ))μ, float64.
    expect(approxLoss(paper, { omega: [0.139, -0.139], mu: [3.15, -3.15] })).toBeCloseTo(0.22105651553369654, 12);
    expect(approxLoss(paper, { omega: [0.3, -0.2, 0.05], mu: [1, -0.5, 2] })).toBeCloseTo(0.5587864959138237, 12);
    expect(approxLoss({ d: 5, L: 20, betaVar: 0.2, noiseVar: 0.5 }, { omega: [0.4472], mu: [1.6] })).toBeCloseTo(
      1.1028072502940214,
      12,
    );
  });

  it('has the gradient of its finite differences', () => {
    const m = { d: 4, L: 25, betaVar: 1, noiseVar: 0.3 }; // b = 4 ≠ 1: the general form
    const p = { omega: [0.3, -0.2, 0.1], mu: [1, -0.5, 0.7] };
    const g = approxLossGradient(m, p);
    const e = 1e-6;
    for (const key of ['omega', 'mu'] as const)
      for (let k = 0; k < 3; k++) {
        const up = { omega: [...p.omega], mu: [...p.mu] };
        const dn = { omega: [...p.omega], mu: [...p.mu] };
        up[key][k]! += e;
        dn[key][k]! -= e;
        expect(g[key][k]).toBeCloseTo((approxLoss(m, up) - approxLoss(m, dn)) / (2 * e), 6);
      }
  });

  it('optimal μ solves the normal equations (numpy: [0.95464071, -2.55602663, 1.60434989])', () => {
    const mu = approxOptimalMu(paper, [0.3, -0.2, 0.05]);
    [0.95464071, -2.55602663, 1.60434989].forEach((v, i) => expect(mu[i]).toBeCloseTo(v, 7));
    const g = approxLossGradient(paper, { omega: [0.3, -0.2, 0.05], mu });
    for (const v of g.mu) expect(Math.abs(v)).toBeLessThan(1e-12);
    // One head at ω = 1/√d: the authors' μ = √d / (1 + (1 + σ²) d e / L).
    expect(approxOptimalMu(paper, [1 / Math.sqrt(5)])[0]).toBeCloseTo(Math.sqrt(5) / (1 + (1.1 * 5 * Math.E) / 40), 12);
    expect(() => approxOptimalMu(paper, [])).toThrow(/approxOptimalMu: omega must be a non-empty array/);
  });

  it('single head: the flow settles at |ω| = 1/√d with the optimal μ (closed form d·ω² = 1)', () => {
    const f = approxLossFlow(paper, { omega: [0.05], mu: [0.1] }, { steps: 20000, stepSize: 0.01 });
    const w = f.omega.at(-1)![0]!,
      mu = f.mu.at(-1)![0]!;
    const th = multiHeadTheory(paper, 1);
    if (th.kind !== 'single') throw new Error('expected the single-head theory');
    expect(Math.abs(w)).toBeCloseTo(1 / Math.sqrt(5), 6);
    expect(mu * Math.sign(w)).toBeCloseTo(th.mu, 6);
    expect(f.loss.at(-1)).toBeCloseTo(th.noisyRisk, 9);
    // The loss never goes up along gradient flow.
    for (let i = 1; i < f.loss.length; i++) expect(f.loss[i]).toBeLessThanOrEqual(f.loss[i - 1]! + 1e-15);
  });

  it('two heads of opposite sign: μ sums to 0 and Σ ω μ tends to the step of debiased GD, while ω shrinks', () => {
    const f = approxLossFlow(paper, { omega: [0.1, -0.09], mu: [0.1, -0.12] }, { steps: 200000, stepSize: 0.01 });
    const [w1, w2] = f.omega.at(-1)!,
      [m1, m2] = f.mu.at(-1)!;
    expect(Math.sign(w1!)).toBe(-Math.sign(w2!));
    expect(Math.abs(m1! + m2!)).toBeLessThan(0.02 * Math.abs(m1!));
    const step = w1! * m1! + w2! * m2!;
    // For b = 1 the approximate loss's limit step is L / (L + (1 + σ²) d) = 40/45.5: η* of debiased GD.
    expect(step).toBeCloseTo(40 / 45.5, 2);
    expect(debiasedGdOptimalStep(paper)).toBeCloseTo(40 / 45.5, 12);
    // No finite minimiser: |ω| is still falling at the end.
    const mid = f.omega[Math.floor(f.omega.length / 2)]!;
    expect(Math.abs(w1!)).toBeLessThan(Math.abs(mid[0]!));
  });

  it('two heads of the same sign stay in the single-head plateau (the failure mode of training)', () => {
    const f = approxLossFlow(paper, { omega: [0.1, 0.12], mu: [0.1, 0.3] }, { steps: 20000, stepSize: 0.01 });
    const [w1, w2] = f.omega.at(-1)!;
    expect(w1).toBeCloseTo(1 / Math.sqrt(5), 5);
    expect(w2).toBeCloseTo(1 / Math.sqrt(5), 5);
    expect(f.loss.at(-1)).toBeCloseTo(multiHeadTheory(paper, 1).noisyRisk, 8);
    expect(f.loss.at(-1)).toBeGreaterThan(multiHeadTheory(paper, 2).noisyRisk);
  });

  it('refuses bad input, naming the argument', () => {
    expect(() => approxLoss(paper, { omega: [1, 2], mu: [1] })).toThrow(
      /approxLoss: params.mu must be an array of 2 numbers/,
    );
    expect(() => approxLoss({ ...paper, d: 0 }, { omega: [1], mu: [1] })).toThrow(
      /approxLoss: model.d must be an integer ≥ 1; got 0/,
    );
    expect(() => approxLossFlow(paper, { omega: [1], mu: [1] }, { steps: 10, stepSize: 1e9 })).toThrow(
      /approxLossFlow: the flow diverged at step \d+; give a smaller options.stepSize/,
    );
    expect(() => multiHeadTheory(paper, 0)).toThrow(/multiHeadTheory: heads must be an integer ≥ 1; got 0/);
  });
});

describe('closed forms of the limits', () => {
  it('debiased GD: the exact Monte Carlo limit of paired softmax heads (numpy, 200,000 tasks)', () => {
    // numpy, paper setting: Σ_h μ^h K(ω^h) with ω = ±0.02 and least-squares μ gave 2ωμ = 0.8798 and
    // noisy-target risk 0.24309 (Monte Carlo standard error ≈ 0.001).
    expect(debiasedGdOptimalStep(paper)).toBeCloseTo(0.8798, 2);
    expect(debiasedGdRisk(paper) + paper.noiseVar).toBeCloseTo(0.24309, 2);
    expect(debiasedGdRisk(paper)).toBeCloseTo(1 - 39 / 45.5, 12);
  });

  it("one head: the exact optimum is where training ends, not at the approximate loss's 1/√d", () => {
    // numpy, paper setting, 200,000 tasks, ω on a 0.02 grid with least-squares μ: the minimum is at
    // ω = 0.52 (μ = 1.493, noisy-target risk 0.40276; 0.40303 at 0.50 and 0.40291 at 0.54). attnlab's
    // H = 1 training at 20,000 steps ends at w = −0.5204, μ = −1.515, validation 0.404.
    const o = singleHeadOptimum(paper, { samples: 20000, seed: 1 });
    expect(Math.abs(o.omega - 0.52)).toBeLessThan(0.03);
    expect(Math.abs(o.mu - 1.493)).toBeLessThan(0.06);
    expect(Math.abs(o.noisyRisk - 0.40276)).toBeLessThan(0.012);
    expect(o.noisyRisk - o.risk).toBeCloseTo(paper.noiseVar, 12);
    expect(o.omega).toBeGreaterThan(1 / Math.sqrt(5) + 0.03);
    expect(() => singleHeadOptimum(paper, { samples: 1 })).toThrow(/options.samples must be an integer ≥ 2; got 1/);
  });

  it('Bayes risk limit: the small-noise and noiseless limits', () => {
    // σ² → 0 with ξ < 1: least squares, risk σ²·ξ/(1 − ξ).
    expect(bayesRiskLimit({ d: 10, L: 40, betaVar: 1, noiseVar: 1e-9 }) / 1e-9).toBeCloseTo(10 / 30, 5);
    expect(bayesRiskLimit({ d: 10, L: 40, betaVar: 1, noiseVar: 0 })).toBe(0);
    expect(bayesRiskLimit({ d: 10, L: 4, betaVar: 0.5, noiseVar: 0 })).toBe(3);
    // Much noise: the prior alone, risk → d·betaVar.
    expect(bayesRiskLimit({ d: 10, L: 40, betaVar: 0.1, noiseVar: 1e9 })).toBeCloseTo(1, 5);
    // Below every other estimator's limit in the paper's setting.
    expect(bayesRiskLimit(paper)).toBeLessThan(debiasedGdRisk(paper));
  });
});

// Monte Carlo checks of the closed forms (statistics, not kernels: cpu only keeps CI fast).
describeBackends(
  'closed forms by Monte Carlo',
  () => {
    it('debiased GD risk at any step matches its closed form', async () => {
      const model = { d: 3, L: 8, betaVar: 1, noiseVar: 0.25 };
      const t = gaussianTasks(20000, model.L, model.d, model.betaVar, model.noiseVar, 21);
      for (const eta of [1, debiasedGdOptimalStep(model)]) {
        const pred = await debiasedGd({ stepSize: eta }).predict(t);
        const { mean, se } = await mcRisk(pred, t.yq);
        expect(Math.abs(mean - debiasedGdRisk(model, eta))).toBeLessThan(4 * se);
        pred.dispose();
      }
      // The per-batch optimal step is the closed-form η* (same predictions as the fixed step).
      const auto = await optimalDebiasedGd({ betaVar: model.betaVar, noiseVar: model.noiseVar }).predict(t);
      const fixed = await debiasedGd({ stepSize: debiasedGdOptimalStep(model) }).predict(t);
      expect(Array.from(await auto.data())).toEqual(Array.from(await fixed.data()));
      expect(debiasedGdRisk(model)).toBeLessThan(debiasedGdRisk(model, 1));
      tf.dispose([auto, fixed, t.x, t.y, t.xq, t.yq]);
    });

    it("Bayes risk limit is the posterior mean's risk at moderate sizes (within the finite-size gap)", async () => {
      const model = { d: 24, L: 48, betaVar: 1 / 24, noiseVar: 0.5 };
      const t = gaussianTasks(3000, model.L, model.d, model.betaVar, model.noiseVar, 5);
      const pred = await bayesPosteriorMean(model).predict(t);
      const { mean, se } = await mcRisk(pred, t.yq);
      // The limit drops O(1/d) terms; at d = 24 they are a few per cent.
      expect(Math.abs(mean - bayesRiskLimit(model))).toBeLessThan(0.05 * mean + 4 * se);
      tf.dispose([pred, t.x, t.y, t.xq, t.yq]);
    });
  },
  ['cpu'],
);
