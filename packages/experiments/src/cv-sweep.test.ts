import { describeBackends } from '@attnlab/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { cvSweep, gaussianSimplexCv, type CvSweepConfig } from './cv-sweep.js';
import { resolveConfig, validateResult, type ExperimentEvent } from './experiment.js';
import { ConfigError } from './schema.js';

// Closed form of the 4-simplex-volume CV for i.i.d. Gaussian rows in D dimensions, computed
// independently in Python: CV² = Π_{n=D−3}^{D} n / (√2·Γ((n+1)/2)/Γ(n/2))² − 1 with math.lgamma.
// (@attnlab/metrics' README quotes the same values: 0.1804 at 64, 0.1262 at 128, 0.0888 at 256.)
const GAUSSIAN_CV: Record<number, number> = {
  16: 0.3856396617542596,
  32: 0.2604864107570666,
  64: 0.18035152306239813,
  128: 0.1262418626054594,
  256: 0.08882363462924146,
};

const SEED_TABLE_COLUMNS = {
  weights: ['D', 'heads', 'hdim', 'emb', 'Q_full', 'K_full', 'V_full', 'out', 'acc'],
  activations: ['D', 'heads', 'hdim', 'act_emb', 'aQ_h0', 'aK_h0', 'aV_h0', 'aPost0', 'act_full', 'acc'],
  delta: ['D', 'heads', 'hdim', 'act_emb', 'aQ_h0', 'aK_h0', 'aV_h0', 'aPost0', 'act_full'],
};

function expectedCvNames(heads: number): string[] {
  const perHead = (prefix: string[]) => Array.from({ length: heads }, (_, i) => prefix.map((p) => `${p}_h${i}`)).flat();
  return [
    'emb',
    'Q_full',
    'K_full',
    'V_full',
    ...perHead(['Q', 'K', 'V']),
    'out_proj',
    'cls_head',
    ...perHead(['act_Q', 'act_K', 'act_V', 'act_post']),
    'act_emb',
    'act_post_full',
  ];
}

describe('gaussianSimplexCv', () => {
  it('matches the closed form computed with lgamma', () => {
    for (const [d, cv] of Object.entries(GAUSSIAN_CV)) expect(gaussianSimplexCv(Number(d))).toBeCloseTo(cv, 10);
    // By hand, triangles (3 points) in the plane: area ∝ χ_2·χ_1 with E[χ_2²]/E[χ_2]² = 2/(π/2) = 4/π
    // and E[χ_1²]/E[χ_1]² = 1/(2/π) = π/2, so CV² = (4/π)(π/2) − 1 = 1.
    expect(gaussianSimplexCv(2, 3)).toBeCloseTo(1, 12);
    expect(() => gaussianSimplexCv(3)).toThrow(/gaussianSimplexCv: width must be an integer ≥ points − 1 = 4; got 3/);
    expect(() => gaussianSimplexCv(64, 1)).toThrow(/gaussianSimplexCv: points must be an integer ≥ 2; got 1/);
  });
});

describeBackends(
  'cv-sweep quick preset',
  () => {
    it('trains every configuration well above chance, measures every CV, validates and leaks nothing', async () => {
      const config = resolveConfig(cvSweep, { preset: 'quick' });
      const events: ExperimentEvent[] = [];
      const before = tf.memory().numTensors;
      const result = await cvSweep.run(config, { onEvent: (e) => events.push(e) });
      expect(tf.memory().numTensors).toBe(before);
      validateResult(cvSweep, JSON.parse(JSON.stringify(result)));
      expect(result.meta.aborted).toBe(false);

      const { runs } = result.data;
      expect(runs.map((r) => [r.width, r.heads, r.headDim])).toEqual(
        config.widths.flatMap((w) => config.heads.map((h) => [w, h, w / h])),
      );
      const chance = 1 / config.data.nClasses;
      for (const r of runs) {
        expect(r.completedEpochs).toBe(config.epochs);
        expect(r.history.epoch).toEqual(Array.from({ length: config.epochs }, (_, i) => i + 1));
        // Untrained: about chance; trained: well above it.
        expect(r.pre.accuracy).toBeLessThan(0.3);
        expect(r.post!.accuracy).toBeGreaterThanOrEqual(0.8);
        expect(r.post!.accuracy).toBeGreaterThan(r.pre.accuracy + 5 * chance);
        expect(r.history.loss[r.history.loss.length - 1]!).toBeLessThan(r.history.loss[0]!);
        // Cross-entropy of an untrained 10-class classifier is near ln 10.
        expect(Math.abs(r.pre.loss - Math.log(10))).toBeLessThan(0.3);
        expect(r.mid!.epoch).toBe(Math.floor(config.epochs / 2));
        // The seed's schedule: evaluation forwards only before training, midway and at the end; each
        // epoch's accuracy comes from its training forward (full batch: the parameters after e − 1
        // epochs). So epoch 1's forward sees the untrained model and epoch mid + 1's the model `mid` measured.
        expect(r.history.accuracy[0]).toBeCloseTo(r.pre.accuracy, 6);
        expect(r.history.loss[0]).toBeCloseTo(r.pre.loss, 5);
        expect(r.history.accuracy[r.mid!.epoch]).toBeCloseTo(r.mid!.accuracy, 6);
        expect(r.history.loss[r.mid!.epoch]).toBeCloseTo(r.mid!.loss, 5);
        expect(r.post!.epoch).toBe(config.epochs);
        for (const m of [r.pre, r.mid!, r.post!]) {
          expect(Object.keys(m.cv)).toEqual(expectedCvNames(r.heads));
          for (const v of Object.values(m.cv)) {
            expect(v).not.toBeNull();
            expect(v!).toBeGreaterThan(0);
            expect(v!).toBeLessThan(2);
          }
        }
        // The untrained embedding is N(0, 1): its CV is near the Gaussian closed form (200 simplices: ±20%).
        expect(Math.abs(r.pre.cv.emb! / GAUSSIAN_CV[r.width]! - 1)).toBeLessThan(0.2);
      }
      expect(result.data.gaussianCv.map((g) => g.width)).toEqual(config.widths);

      // Events: a phase per configuration, a progress event per epoch, a CV snapshot per measurement.
      expect(events.filter((e) => e.type === 'phase')).toHaveLength(runs.length);
      const epochProgress = events.filter((e) => e.type === 'progress' && e.phase !== 'sweep');
      expect(epochProgress).toHaveLength(runs.length * config.epochs);
      expect(events.filter((e) => e.type === 'snapshot' && e.name === 'cv')).toHaveLength(runs.length * 3);
      expect(
        events.filter((e) => e.type === 'progress' && e.phase === 'sweep').map((e) => (e as { done: number }).done),
      ).toEqual([1, 2, 3, 4]);

      // Figures: the seed's three summary tables, accuracy and loss curves, the CV heatmaps.
      const fig = (id: string) => result.figures.find((f) => f.id === id)!.spec;
      expect(result.figures.map((f) => f.id)).toEqual([
        'weight-cv',
        'activation-cv',
        'activation-cv-delta',
        'accuracy',
        'loss',
        'cv-grid',
      ]);
      for (const [id, columns] of [
        ['weight-cv', SEED_TABLE_COLUMNS.weights],
        ['activation-cv', SEED_TABLE_COLUMNS.activations],
        ['activation-cv-delta', SEED_TABLE_COLUMNS.delta],
      ] as const) {
        const t = fig(id);
        expect(t.kind).toBe('table');
        if (t.kind !== 'table') continue;
        expect(t.columns).toEqual(columns);
        expect(t.rows).toHaveLength(runs.length);
      }
      const weights = fig('weight-cv');
      if (weights.kind === 'table') {
        // The seed's format: 4 decimals, * on both sides inside 0.13 < CV < 0.30.
        const r0 = runs[0]!;
        const emb = r0.post!.cv.emb!;
        expect(weights.rows[0]![3]).toBe(emb > 0.13 && emb < 0.3 ? `*${emb.toFixed(4)}*` : emb.toFixed(4));
      }
      const delta = fig('activation-cv-delta');
      if (delta.kind === 'table') {
        const r0 = runs[0]!;
        expect(delta.rows[0]![3]).toBeCloseTo(r0.post!.cv.act_emb! - r0.pre.cv.act_emb!, 4);
      }
      const grid = fig('cv-grid');
      if (grid.kind === 'heatmap-grid') {
        expect(grid.panels[0]!.values).toHaveLength(config.widths.length);
        expect(grid.panels[0]!.values[0]).toHaveLength(config.heads.length);
      }
    });
  },
  ['cpu'],
);

describeBackends(
  'cv-sweep',
  () => {
    it('the untrained embedding CV agrees with the Gaussian closed form (2000 simplices, ±10%)', async () => {
      const config = resolveConfig(cvSweep, {
        preset: 'seed',
        overrides: { widths: [64, 128], heads: [1], epochs: 1, data: { samplesPerClass: 2 }, cv: { samples: 2000 } },
      });
      const before = tf.memory().numTensors;
      const result = await cvSweep.run(config);
      expect(tf.memory().numTensors).toBe(before);
      for (const r of result.data.runs) {
        const expected = GAUSSIAN_CV[r.width]!;
        expect(Math.abs(r.pre.cv.emb! / expected - 1)).toBeLessThan(0.1);
      }
      expect(result.data.gaussianCv.map((g) => g.cv)).toEqual(
        [GAUSSIAN_CV[64], GAUSSIAN_CV[128]].map((v) => expect.closeTo(v!, 10)),
      );
    });

    it('the fused trainer (the default) follows the tfjs reference for 100 Adam steps: losses within 1e-4 relative, same accuracies and CVs', async () => {
      // 40 samples of 6 tokens over a vocabulary of 24, D = 16, H = 4: one full-batch step per epoch.
      const overrides = {
        data: { nClasses: 5, samplesPerClass: 8, seqLen: 6, vocab: 24 },
        widths: [16],
        heads: [4],
        epochs: 100,
        lr: 1e-2,
        cv: { samples: 100, pool: 512 },
      };
      const fused = await cvSweep.run(resolveConfig(cvSweep, { preset: 'seed', overrides }));
      const ref = await cvSweep.run(
        resolveConfig(cvSweep, { preset: 'seed', overrides: { ...overrides, trainer: 'reference' } }),
      );
      const [f, r] = [fused.data.runs[0]!, ref.data.runs[0]!];
      expect(f.engine).toMatch(/^fused float64 step/);
      expect(r.engine).toMatch(/^reference: tfjs autodiff/);
      expect(r.history.loss[99]!).toBeLessThan(0.2 * r.history.loss[0]!); // it trains
      r.history.loss.forEach((want, t) => {
        if (!(Math.abs(f.history.loss[t]! - want) <= 1e-4 * want))
          throw new Error(`step ${t}: fused loss ${f.history.loss[t]}, reference ${want}`);
      });
      expect(f.history.accuracy).toEqual(r.history.accuracy);
      for (const m of ['pre', 'mid', 'post'] as const) {
        expect(f[m]!.accuracy).toBe(r[m]!.accuracy);
        expect(Math.abs(f[m]!.loss - r[m]!.loss)).toBeLessThan(1e-4 * r[m]!.loss);
        for (const [k, want] of Object.entries(r[m]!.cv)) {
          const got = f[m]!.cv[k];
          if (want === null) expect(got).toBeNull();
          // (cls_head has 5 rows: one simplex, a CV of 0 up to rounding, hence the floor.)
          else if (!(Math.abs(got! - want) <= 1e-3 * want + 1e-6))
            throw new Error(`${m} CV ${k}: fused ${got}, reference ${want}`);
        }
      }
    });

    it('gives N/A for blocks with fewer than 5 rows, trains in mini-batches, and stops cleanly on abort', async () => {
      const small: Partial<CvSweepConfig> = {
        widths: [8, 16],
        heads: [2],
        epochs: 4,
        batchSize: 8,
        data: { samplesPerClass: 2 } as CvSweepConfig['data'],
        cv: { samples: 50, pool: 512 },
      };
      const config = resolveConfig(cvSweep, { preset: 'quick', overrides: small });
      const ac = new AbortController();
      const before = tf.memory().numTensors;
      const result = await cvSweep.run(config, {
        signal: ac.signal,
        onEvent: (e) => {
          if (e.type === 'progress' && e.phase === 'D=16 H=2' && e.done === 2) ac.abort();
        },
      });
      expect(tf.memory().numTensors).toBe(before);
      validateResult(cvSweep, JSON.parse(JSON.stringify(result)));
      expect(result.meta.aborted).toBe(true);
      const [first, second] = result.data.runs;
      expect(result.data.runs).toHaveLength(2);
      // head_dim 4: each per-head weight block has 4 rows (the seed's cv_metric returns None below 5).
      expect(first!.headDim).toBe(4);
      expect(first!.pre.cv.Q_h0).toBeNull();
      expect(first!.pre.cv.V_h1).toBeNull();
      expect(first!.pre.cv.Q_full).not.toBeNull();
      expect(first!.completedEpochs).toBe(4);
      expect(first!.post).not.toBeNull();
      // 20 samples in batches of 8: three Adam steps per epoch; every loss finite.
      expect(first!.history.loss.every(Number.isFinite)).toBe(true);
      expect(second!.headDim).toBe(8);
      expect(second!.pre.cv.Q_h0).not.toBeNull();
      expect(second!.completedEpochs).toBe(2);
      expect(second!.post).toBeNull();
      // The tables only list finished configurations; the curves show the partial one too.
      const t = result.figures.find((f) => f.id === 'weight-cv')!.spec;
      expect(t.kind === 'table' && t.rows.length).toBe(1);
      const acc = result.figures.find((f) => f.id === 'accuracy')!.spec;
      expect(acc.kind === 'line' && acc.series.map((x) => x.x.length)).toEqual([5, 3]);
    });
    // webgpu is left out: on SwiftShader each of these takes over a minute (shader compilation); the
    // layers they train are tested on webgpu in @attnlab/attention.
  },
  ['cpu', 'wasm'],
);

describe('cv-sweep config', () => {
  it('presets: seed is seed 003; quick keeps its model and data', () => {
    const seed = resolveConfig(cvSweep, { preset: 'seed' });
    expect(seed).toEqual({
      data: { nClasses: 10, samplesPerClass: 50, seqLen: 8, vocab: 256, perturbProb: 0.25 },
      widths: [64, 128, 256],
      heads: [1, 2, 4, 8],
      epochs: 50,
      batchSize: 0,
      lr: 1e-3,
      cv: { samples: 300, pool: 512 },
      seed: 42,
      trainer: 'auto',
    });
    const quick = resolveConfig(cvSweep, { preset: 'quick' });
    expect(quick.data.seqLen).toBe(8);
    expect(quick.data.vocab).toBe(256);
  });

  it('names the bad field', async () => {
    expect(() => resolveConfig(cvSweep, { overrides: { epochs: 0 } })).toThrow(
      /config\.epochs: must be an integer ≥ 1/,
    );
    expect(() => resolveConfig(cvSweep, { overrides: { widths: [] } })).toThrow(
      /config\.widths: must have at least 1 items/,
    );
    expect(() => resolveConfig(cvSweep, { overrides: { heads: [2, 0] } })).toThrow(
      /config\.heads\[1\]: must be an integer ≥ 1/,
    );
    expect(() => resolveConfig(cvSweep, { overrides: { lr: 0 } })).toThrow(/config\.lr: must be a number > 0/);
    expect(() => resolveConfig(cvSweep, { overrides: { data: { perturbProb: 2 } } })).toThrow(
      /config\.data\.perturbProb: must be a number ≥ 0 and ≤ 1; got 2/,
    );
    expect(() => resolveConfig(cvSweep, { overrides: { width: [64] } })).toThrow(/config\.width: is not a known field/);
    const bad = resolveConfig(cvSweep, { preset: 'quick', overrides: { widths: [32, 48], heads: [1, 32] } });
    await expect(cvSweep.run(bad)).rejects.toThrow(ConfigError);
    await expect(cvSweep.run(bad)).rejects.toThrow(
      /config\.heads\[1\]: must divide every width \(32, 48\); 48 is not divisible by 32; got 32/,
    );
    const big = resolveConfig(cvSweep, { preset: 'quick', overrides: { batchSize: 1000 } });
    await expect(cvSweep.run(big)).rejects.toThrow(
      /config\.batchSize: must be 0 \(full batch\) or at most the 120 samples; got 1000/,
    );
  });
});

// Seed 003's acceptance (issue 4): every configuration of the seed preset reaches training accuracy
// ≥ 0.95 after 50 epochs (PyTorch: 0.99–1.0), and at D = 64 the per-head activation CVs rise with the
// head count (smaller head_dim; seed 003's hypothesis, and the Gaussian closed form's direction).
// Slow, so opt-in: ATTNLAB_SLOW=1 (≈ 2 min on wasm; the cpu backend needs ≈ 30 s per D = 256 epoch,
// so it is left out).
describeBackends(
  'cv-sweep seed preset (ATTNLAB_SLOW=1)',
  () => {
    (process.env.ATTNLAB_SLOW ? it : it.skip)(
      'every configuration reaches accuracy ≥ 0.95 after 50 epochs; CV rises with head count at D = 64',
      async () => {
        const config = resolveConfig(cvSweep, { preset: 'seed' });
        const { runs } = (await cvSweep.run(config)).data;
        expect(runs).toHaveLength(12);
        for (const r of runs) {
          console.log(
            `[${tf.getBackend()}] seed D=${r.width} H=${r.heads}: accuracy ${r.post!.accuracy} after ${r.completedEpochs} epochs, ${r.seconds.toFixed(1)} s`,
          );
          expect(r.post!.accuracy).toBeGreaterThanOrEqual(0.95);
        }
        const d64 = runs.filter((r) => r.width === 64).sort((a, b) => a.heads - b.heads);
        expect(d64.map((r) => r.heads)).toEqual([1, 2, 4, 8]);
        for (const key of ['act_Q_h0', 'act_K_h0', 'act_post_h0']) {
          const cv = d64.map((r) => r.post!.cv[key]!);
          for (let i = 1; i < cv.length; i++) expect(cv[i]!).toBeGreaterThan(cv[i - 1]!);
        }
        // head_dim 8 against 64: well above (measured 1.6–2.1×).
        for (const key of ['act_Q_h0', 'act_K_h0', 'act_V_h0', 'act_post_h0'])
          expect(d64[3]!.post!.cv[key]!).toBeGreaterThan(1.4 * d64[0]!.post!.cv[key]!);
      },
      3_600_000,
    );
  },
  ['wasm'],
);
