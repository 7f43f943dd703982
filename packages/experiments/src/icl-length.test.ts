import { describeBackends } from '@attnlab/backend/testing';
import {
  iclLength,
  metricCurves,
  metricNumbers,
  resolveConfig,
  validateResult,
  type CheckpointStore,
} from './index.js';
import { getExperiment } from './registry.js';

describeBackends(
  'icl-length config',
  () => {
    it('its presets validate, it is in the registry, bad fields are named', () => {
      for (const p of ['quick', 'seed', 'paper']) expect(resolveConfig(iclLength, { preset: p }).L).toBe(40);
      expect(getExperiment('icl-length')).toBe(iclLength);
      expect(() => resolveConfig(iclLength, { overrides: { attentions: ['softmax', 'cosine'] } })).toThrow(
        /config\.attentions\[1\].*softmax, linear, linear-unnormalised/,
      );
      expect(() => resolveConfig(iclLength, { overrides: { attentions: [] } })).toThrow(/config\.attentions/);
      expect(() => resolveConfig(iclLength, { overrides: { headCounts: [1, 2] } })).toThrow(
        /headCounts.*is not a known field/,
      );
    });

    it('refuses a config without error curves (they are what it compares)', async () => {
      const c = resolveConfig(iclLength, { overrides: { evaluation: { samples: 0 } } });
      await expect(iclLength.run(c)).rejects.toThrow(/config\.evaluation\.samples.*must be ≥ 1/);
    });
  },
  ['cpu'],
);

/**
 * He, Pan, Chen & Yang (ICML 2025): "compared to linear transformers, the softmax attention readily
 * generalizes to sequences longer than those seen during training". Trained at L = 10 (the paper's
 * sampling: β ~ N(0, I/d), σ² = 0.1, noisy y_q; d = 2, H = 2), evaluated to L = 51:
 * - softmax attention keeps its error at longer prompts (the softmax normalises over whatever L
 *   comes: its output is a weighted mean of the y_i);
 * - von Oswald et al.'s linear attention (no normalisation) sums L terms, so a model trained at L = 10
 *   overshoots by about L/10 at longer prompts and its error grows many times over;
 * - linear attention normalised by the prompt length (scores/L) has no such scale to get wrong, and
 *   generalises as well (its error also falls with L): the paper's contrast is with the unnormalised one.
 */
describeBackends(
  'icl-length science: softmax generalises to longer prompts, unnormalised linear attention does not',
  () => {
    it('trained at L = 10, evaluated to L = 51', async () => {
      const config = resolveConfig(iclLength, {
        preset: 'quick',
        overrides: {
          d: 2,
          L: 10,
          heads: 2,
          batch: 64,
          steps: 1500,
          log: { loss: 100, validation: 500, dynamics: 500, qk: 1500 },
          finalValidationSamples: 2000,
          evaluation: { maxL: 51, stepL: 10, samples: 2000 },
          trainer: 'auto',
        },
      });
      const r = await iclLength.run(config);
      validateResult(iclLength, JSON.parse(JSON.stringify(r)));
      expect(r.figures.map((f) => f.id).slice(0, 3)).toEqual([
        'length-generalisation',
        'length-ratio',
        'length-summary',
      ]);
      const by = Object.fromEntries(r.data.summary.map((x) => [x.attention, x]));
      const soft = by.softmax!,
        lin = by.linear!,
        raw = by['linear-unnormalised']!;
      console.log(
        r.data.summary
          .map(
            (x) =>
              `${x.attention}: L=10 ${x.atTrain.toFixed(3)} (${x.ratioAtTrain.toFixed(2)}× ridge), L=51 ${x.atMax.toFixed(3)} (${x.ratioAtMax.toFixed(2)}× ridge)`,
          )
          .join('; '),
      );
      // A sweep averages each attention's curve and the estimators' (once), and the summary numbers.
      expect(Object.keys(metricCurves(r))).toEqual(
        expect.arrayContaining([
          'softmax attention',
          'linear attention',
          'linear-unnormalised attention',
          'ridge (Bayes λ)',
        ]),
      );
      expect(metricNumbers(r)['ratio to ridge at longest L: softmax']).toBeCloseTo(soft.ratioAtMax, 12);
      // The linear ones trained on the reference (the fast engines refuse them, saying why).
      expect(r.data.runs[1]!.data.runs[0]!.engine.reason).toMatch(
        /no fast engine runs this config.*runs softmax attention only/,
      );
      // Every model learned something at the training length: below the zero predictor's 1 + σ² = 1.1.
      for (const x of [soft, lin, raw]) expect(x.atTrain).toBeLessThan(0.9);
      // Softmax: no worse at L = 51 than at L = 10 (within 5%), and far better there than unnormalised linear.
      expect(soft.atMax).toBeLessThan(1.05 * soft.atTrain);
      expect(raw.atMax).toBeGreaterThan(3 * raw.atTrain);
      expect(raw.atMax).toBeGreaterThan(3 * soft.atMax);
      // Normalised by L, linear attention generalises too.
      expect(lin.atMax).toBeLessThan(1.05 * lin.atTrain);
    }, 1_200_000); // three trainings of 1,500 steps (two on the tfjs reference): minutes on 2 cores, not a timing test
  },
  ['wasm'],
);

/** A checkpoint store in memory. */
function memoryStore(): CheckpointStore {
  let bytes: Uint8Array | undefined;
  return {
    load: async () => bytes,
    save: async (b) => {
      bytes = b;
    },
  };
}

describeBackends(
  'icl-length checkpoints',
  () => {
    it('stopped inside its second attention, it resumes there (the first is not trained again) and ends as an uninterrupted run', async () => {
      const cfg = resolveConfig(iclLength, {
        preset: 'quick',
        overrides: {
          d: 2,
          L: 10,
          heads: 2,
          batch: 16,
          steps: 60,
          checkpointEvery: 20,
          log: { loss: 5, validation: 20, dynamics: 20, qk: 60 },
          finalValidationSamples: 100,
          evaluation: { maxL: 21, stepL: 10, samples: 20 },
          attentions: ['softmax', 'linear'],
        },
      });
      const straight = await iclLength.run(cfg);
      const store = memoryStore();
      const ac = new AbortController();
      const first = await iclLength.run(cfg, {
        checkpoints: store,
        signal: ac.signal,
        onEvent: (e) => {
          if (e.type === 'checkpoint' && e.phase === 'linear: train H=2' && e.step >= 20) ac.abort();
        },
      });
      expect(first.meta.aborted).toBe(true);
      expect(first.data.runs.map((r) => r.attention)).toEqual(['softmax', 'linear']);
      const phases: string[] = [];
      const resumed = await iclLength.run(cfg, { checkpoints: store, onEvent: (e) => phases.push(e.phase) });
      expect(resumed.meta.aborted).toBe(false);
      expect(resumed.meta.resumedFrom).toBeGreaterThan(0);
      // The finished softmax run was kept, not trained again; linear continued from its checkpoint.
      expect(phases.some((p) => p.startsWith('softmax:'))).toBe(false);
      expect(phases.some((p) => p.startsWith('linear: train'))).toBe(true);
      for (let i = 0; i < 2; i++) {
        const a = resumed.data.runs[i]!.data,
          b = straight.data.runs[i]!.data;
        expect(a.runs[0]!.loss).toEqual(b.runs[0]!.loss);
        expect(a.runs[0]!.validation).toEqual(b.runs[0]!.validation);
        expect(a.runs[0]!.statistics).toEqual(b.runs[0]!.statistics);
        expect(a.errorCurves).toEqual(b.errorCurves);
      }
      expect(resumed.data.summary).toEqual(straight.data.summary);
      expect(resumed.figures.map((f) => f.id)).toEqual(straight.figures.map((f) => f.id));
      // Every claim's metric and curves are numbers the result has (what a sweep's claims table reads).
      const claims = iclLength.claims!(cfg);
      expect(claims.map((c) => c.id)).toEqual(['length-softmax-train', 'length-softmax', 'length-linear']);
      const m = metricNumbers(straight);
      for (const c of claims) {
        expect(typeof m[c.metric]).toBe('number');
        for (const k of c.curves ?? []) expect(Object.keys(metricCurves(straight))).toContain(k);
      }
      // A store of another experiment is refused, naming it.
      await expect(
        iclLength.run(cfg, { checkpoints: { load: async () => new Uint8Array(64), save: async () => {} } }),
      ).rejects.toThrow(/checkpoint: is not an icl-length checkpoint/);
    }, 600_000);
  },
  ['cpu'],
);
