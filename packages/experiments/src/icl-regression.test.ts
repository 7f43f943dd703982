import { describeBackends } from '@attnlab/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { iclRegression, metricNumbers, resolveConfig, validateResult, type CheckpointStore } from './index.js';
import { toeplitz, toeplitzInverse } from './icl-regression.js';

const small = {
  steps: 60,
  log: { loss: 5, validation: 20, dynamics: 20, qk: 30 },
  finalValidationSamples: 200,
  evaluation: { maxL: 41, stepL: 20, samples: 50 },
  checkpointEvery: 25,
};

/** A checkpoint store in memory, and what it last saved. */
function memoryStore(): { store: CheckpointStore; saved: () => Uint8Array | undefined } {
  let bytes: Uint8Array | undefined;
  return {
    store: {
      load: async () => bytes,
      save: async (b) => {
        bytes = b;
      },
    },
    saved: () => bytes,
  };
}

describeBackends(
  'icl-regression (short runs)',
  () => {
    it('trains, records circuits and dynamics, evaluates the estimators, leaks nothing', async () => {
      const before = tf.memory().numTensors;
      const r = await iclRegression.run(resolveConfig(iclRegression, { preset: 'quick', overrides: small }));
      expect(tf.memory().numTensors).toBe(before);
      validateResult(iclRegression, JSON.parse(JSON.stringify(r)));
      const run = r.data.runs[0]!;
      expect(run.heads).toBe(2);
      expect(run.completedSteps).toBe(60);
      expect(run.loss.step).toEqual(Array.from({ length: 12 }, (_, i) => i * 5));
      expect(run.validation.step).toEqual([0, 20, 40]);
      expect(run.dynamics.step).toEqual([0, 20, 40]);
      expect(run.dynamics.w[0]).toHaveLength(1);
      expect(run.dynamics.w[0]![0]).toHaveLength(2);
      expect(run.qkSnapshots.matrices[0]![0]![0]).toHaveLength(6);
      expect(run.statistics).toHaveLength(2);
      expect(run.finalValidation!.samples).toBe(200);
      const names = r.data.errorCurves!.series.map((x) => x.name);
      expect(names).toEqual([
        'transformer',
        'kernel estimator',
        'one-step GD',
        'optimal one-step GD',
        'optimal debiased GD',
        'ridge (Bayes λ)',
      ]);
      expect(r.data.errorCurves!.contextLengths).toEqual([1, 21, 41]);
      // A sweep's numbers for this run carry the paper's measures.
      const m = metricNumbers(r);
      expect(m['Σ w^h μ^h']).toBeCloseTo(
        run.statistics.reduce((a, x) => a + x.w * x.mu, 0),
        12,
      );
      expect(m['cos(∂ŷ/∂x_q) with debiased GD']).toBe(run.gdAlignment!.gradientCosine);
      // Against debiased GD on the first 200 evaluation tasks; results written before the field validate too.
      expect(run.gdAlignment!.samples).toBe(200);
      expect(Math.abs(run.gdAlignment!.gradientCosine)).toBeLessThanOrEqual(1 + 1e-6);
      const { gdAlignment: _g, ...older } = run;
      expect(() => validateResult(iclRegression, { ...r, data: { ...r.data, runs: [older] } })).not.toThrow();
      // The error-vs-L figure: every Monte Carlo series with its ±1 s.e. band, then the closed-form Bayes limit.
      const ec = r.figures.find((f) => f.id === 'error-curves')!.spec as {
        series: { name: string; y: number[]; lower?: number[]; upper?: number[] }[];
      };
      for (const [i, sr] of r.data.errorCurves!.series.entries()) {
        expect(ec.series[i]!.lower![1]).toBeCloseTo(sr.mse[1]! - sr.stderr[1]!, 12);
        expect(ec.series[i]!.upper![1]).toBeCloseTo(sr.mse[1]! + sr.stderr[1]!, 12);
      }
      expect(ec.series.at(-1)!.name).toBe('Bayes-optimal risk (large-d limit)');
      // The theory table names the H = 2 prediction: paired heads, Σ μ^h → 0, Σ w^h μ^h → the debiased-GD step.
      const th = r.figures.find((f) => f.id === 'theory')!.spec as { rows: unknown[][] };
      expect(th.rows.map((row) => row[1])).toEqual([
        'heads with w^h > 0 / < 0',
        'Σ μ^h',
        'Σ w^h μ^h (the GD step)',
        'risk (noiseless target)',
      ]);
      expect(th.rows[2]![3]).toBeCloseTo(Number((200 / 225.0025).toFixed(4)), 10); // seed's β ~ N(0, I), σ² = 5e-4
      expect(run.engine.name).toMatch(/^simd/);
      expect(run.engine.reason).not.toBe('');
    });
  },
  ['cpu', 'wasm'],
);

describe('icl-regression trainers', () => {
  it('the fast engine and the tfjs reference give the same losses for 100 steps (1e-4 relative)', async () => {
    const cfg = (trainer: 'auto' | 'reference') =>
      resolveConfig(iclRegression, {
        preset: 'quick',
        overrides: {
          ...small,
          steps: 100,
          log: { loss: 1, validation: 50, dynamics: 50, qk: 100 },
          evaluation: { samples: 0 },
          finalValidationSamples: 0,
          trainer,
        },
      });
    const fused = await iclRegression.run(cfg('auto'));
    const ref = await iclRegression.run(cfg('reference'));
    expect(fused.data.runs[0]!.engine.name).toMatch(/^simd/);
    expect(ref.data.runs[0]!.engine.name).toMatch(/^reference: tfjs autodiff/);
    const a = fused.data.runs[0]!.loss.value,
      b = ref.data.runs[0]!.loss.value;
    expect(a).toHaveLength(100);
    for (let i = 0; i < 100; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(1e-4 * Math.abs(b[i]!) + 1e-7);
    const va = fused.data.runs[0]!.validation.value,
      vb = ref.data.runs[0]!.validation.value;
    for (let i = 0; i < vb.length; i++) expect(Math.abs(va[i]! - vb[i]!)).toBeLessThanOrEqual(1e-4 * Math.abs(vb[i]!));
  });

  it('the fast stack engine and the tfjs reference stack give the same losses for 60 steps (1e-4 relative)', async () => {
    for (const weightTying of [false, true]) {
      const cfg = (trainer: 'auto' | 'reference') =>
        resolveConfig(iclRegression, {
          preset: 'quick',
          overrides: {
            ...small,
            layers: 2,
            weightTying,
            L: 12,
            batch: 32,
            steps: 60,
            log: { loss: 1, validation: 30, dynamics: 30, qk: 60 },
            evaluation: { samples: 0 },
            finalValidationSamples: 0,
            trainer,
          },
        });
      const fused = await iclRegression.run(cfg('auto'));
      const ref = await iclRegression.run(cfg('reference'));
      expect(fused.data.runs[0]!.engine.name).not.toMatch(/reference/);
      const a = fused.data.runs[0]!.loss.value,
        b = ref.data.runs[0]!.loss.value;
      expect(a).toHaveLength(60);
      for (let i = 0; i < 60; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(1e-4 * Math.abs(b[i]!) + 1e-7);
      const va = fused.data.runs[0]!.validation.value,
        vb = ref.data.runs[0]!.validation.value;
      for (let i = 0; i < vb.length; i++)
        expect(Math.abs(va[i]! - vb[i]!)).toBeLessThanOrEqual(1e-4 * Math.abs(vb[i]!));
      // the learned circuits (per layer and head) agree too
      const qa = fused.data.runs[0]!.statistics,
        qb = ref.data.runs[0]!.statistics;
      expect(qa.map((x) => [x.layer, x.head])).toEqual(qb.map((x) => [x.layer, x.head]));
      qa.forEach((x, i) =>
        expect(Math.abs(x.w - qb[i]!.w)).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(qb[i]!.w))),
      );
    }
  });

  it('the paper setting (β ~ N(0, I/d), σ² = 0.1, noisy y_q, batch 256) trains on the SIMD engine and matches the reference', async () => {
    const cfg = (trainer: 'auto' | 'reference') =>
      resolveConfig(iclRegression, {
        preset: 'paper',
        overrides: {
          ...small,
          steps: 100,
          log: { loss: 1, validation: 50, dynamics: 50, qk: 100 },
          evaluation: { samples: 0 },
          finalValidationSamples: 0,
          trainer,
        },
      });
    const fast = await iclRegression.run(cfg('auto'));
    const ref = await iclRegression.run(cfg('reference'));
    expect(fast.config).toMatchObject({ betaScale: 'inverse-d', noiseVariance: 0.1, queryNoise: true, batch: 256 });
    expect(fast.data.runs[0]!.engine.name).toMatch(/^simd/);
    const a = fast.data.runs[0]!.loss.value,
      b = ref.data.runs[0]!.loss.value;
    for (let i = 0; i < 100; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(1e-4 * Math.abs(b[i]!) + 1e-7);
  });

  it('refuses a trainer that cannot run the config, naming the field and why', async () => {
    // Within every field's own bounds, but 256-wide tokens × 4096 × 65536 tasks are far past the SIMD engine's memory.
    const cfg = resolveConfig(iclRegression, {
      preset: 'quick',
      overrides: { ...small, d: 256, L: 4096, batch: 65536, trainer: 'simd' },
    });
    await expect(iclRegression.run(cfg)).rejects.toThrow(
      /^config.trainer: cannot be 'simd': .*MiB of WebAssembly memory.*; got "simd"$/,
    );
  });

  it('a checkpoint of the reference trainer resumes on the fast engine (one checkpoint format)', async () => {
    const { store } = memoryStore();
    const base = { ...small, steps: 40, checkpointEvery: 20, evaluation: { samples: 0 }, finalValidationSamples: 0 };
    const ac = new AbortController();
    const first = await iclRegression.run(
      resolveConfig(iclRegression, { preset: 'quick', overrides: { ...base, trainer: 'reference' } }),
      {
        checkpoints: store,
        signal: ac.signal,
        onEvent: (e) => {
          if (e.type === 'checkpoint') ac.abort();
        },
      },
    );
    expect(first.meta.aborted).toBe(true);
    const resumed = await iclRegression.run(
      resolveConfig(iclRegression, { preset: 'quick', overrides: { ...base, trainer: 'auto' } }),
      { checkpoints: store },
    );
    expect(resumed.meta.resumedFrom).toBe(20);
    expect(resumed.data.runs[0]!.completedSteps).toBe(40);
    expect(resumed.data.runs[0]!.engine.name).toMatch(/^simd/);
    const straight = await iclRegression.run(
      resolveConfig(iclRegression, { preset: 'quick', overrides: { ...base, trainer: 'reference' } }),
    );
    const a = resumed.data.runs[0]!.loss.value,
      b = straight.data.runs[0]!.loss.value;
    expect(a).toHaveLength(b.length);
    for (let i = 0; i < b.length; i++)
      expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(1e-4 * Math.abs(b[i]!) + 1e-7);
  });
});

describe.each(['auto', 'reference', 'auto stack'] as const)('icl-regression checkpoints (%s trainer)', (which) => {
  const trainer = which === 'reference' ? 'reference' : 'auto';
  const stack = which === 'auto stack' ? { layers: 2, L: 12, batch: 16 } : {};
  it('an aborted run resumes from its checkpoint to the same final parameters as an uninterrupted run', async () => {
    const cfg = resolveConfig(iclRegression, {
      preset: 'quick',
      overrides: { ...small, ...stack, evaluation: { samples: 0 }, finalValidationSamples: 0, trainer },
    });
    const straight = await iclRegression.run(cfg);
    const { store, saved } = memoryStore();
    const ac = new AbortController();
    const first = await iclRegression.run(cfg, {
      checkpoints: store,
      signal: ac.signal,
      onEvent: (e) => {
        if (e.type === 'progress' && e.done >= 30) ac.abort();
      },
    });
    expect(first.meta.aborted).toBe(true);
    expect(saved()).toBeDefined();
    const resumed = await iclRegression.run(cfg, { checkpoints: store });
    expect(resumed.meta.aborted).toBe(false);
    expect(resumed.meta.resumedFrom).toBeGreaterThan(0);
    expect(resumed.data.runs[0]!.statistics.map((x) => x.qk)).toEqual(
      straight.data.runs[0]!.statistics.map((x) => x.qk),
    );
    expect(resumed.data.runs[0]!.loss).toEqual(straight.data.runs[0]!.loss);
    expect(resumed.data.runs[0]!.validation).toEqual(straight.data.runs[0]!.validation);
  });

  it('a head-count comparison interrupted after its first head count resumes with every error curve', async () => {
    const cfg = resolveConfig(iclRegression, {
      preset: 'quick',
      overrides: {
        ...small,
        ...stack,
        headCounts: [1, 2],
        evaluation: { samples: 8, maxL: 11, stepL: 5 },
        finalValidationSamples: 0,
        trainer,
      },
    });
    const straight = await iclRegression.run(cfg);
    const { store } = memoryStore();
    const ac = new AbortController();
    const first = await iclRegression.run(cfg, {
      checkpoints: store,
      signal: ac.signal,
      onEvent: (e) => {
        if (e.type === 'checkpoint' && e.phase === 'train H=2') ac.abort();
      },
    });
    expect(first.meta.aborted).toBe(true);
    expect(first.data.runs.map((r) => r.heads)).toEqual([1, 2]);
    const resumed = await iclRegression.run(cfg, { checkpoints: store });
    expect(resumed.meta.aborted).toBe(false);
    expect(straight.data.errorCurves).not.toBeNull();
    // Before: null (the first run's weights were lost with its engine), and one figure fewer.
    expect(resumed.data.errorCurves).toEqual(straight.data.errorCurves);
    expect(resumed.figures.map((f) => f.id)).toEqual(straight.figures.map((f) => f.id));
  });

  it('refuses a checkpoint of a different configuration', async () => {
    const { store } = memoryStore();
    const cfg = resolveConfig(iclRegression, {
      preset: 'quick',
      overrides: { ...small, ...stack, steps: 10, evaluation: { samples: 0 }, finalValidationSamples: 0, trainer },
    });
    await iclRegression.run(cfg, { checkpoints: store });
    await expect(iclRegression.run({ ...cfg, heads: 4 }, { checkpoints: store })).rejects.toThrow(
      /checkpoint: was written for a different configuration/,
    );
  });

  it('names bad config fields', () => {
    expect(() => resolveConfig(iclRegression, { overrides: { heads: 0 } })).toThrow(
      /config.heads: must be an integer ≥ 1 and ≤ 64; got 0/,
    );
    expect(() => resolveConfig(iclRegression, { overrides: { optimizer: { method: 'rmsprop' } } })).toThrow(
      /config.optimizer.method: must be one of adam, adamw, sgd; got "rmsprop"/,
    );
    expect(() => resolveConfig(iclRegression, { overrides: { init: 'zeros' } })).toThrow(
      /config.init: must be one of random, small_id, small_id_qk, oppo_small_id/,
    );
  });
});

describe('anisotropic inputs', () => {
  it('Σ_ij = ρ^|i−j| and its closed-form inverse multiply to I', () => {
    for (const [d, rho] of [
      [1, 0.3],
      [2, 0.5],
      [5, 0.9],
    ] as const) {
      const S = toeplitz(d, rho),
        P = toeplitzInverse(d, rho);
      for (let i = 0; i < d; i++)
        for (let j = 0; j < d; j++) {
          let v = 0;
          for (let k = 0; k < d; k++) v += S[i]![k]! * P[k]![j]!;
          expect(v).toBeCloseTo(i === j ? 1 : 0, 12);
        }
    }
  });
});
