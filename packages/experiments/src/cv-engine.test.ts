import { describeBackends, expectNoLeak } from '@attnlab/backend/testing';
import { tokenPatternArrays } from '@attnlab/data';
import { adam, train } from '@attnlab/train';
import * as tf from '@tensorflow/tfjs-core';
import {
  CV_PARAM_NAMES,
  cvClassifierBackward,
  cvClassifierEngine,
  cvClassifierForward,
  cvClassifierHidden,
  cvClassifierState,
  cvClassifierStep,
  cvClassifierWorkspace,
  cvParamLayout,
  jsGemm,
  tfjsGemm,
  type CvClassifierShape,
  type CvParamName,
} from './cv-engine.js';
import { cvReferenceModel, cvSweep } from './cv-sweep.js';
import { resolveConfig } from './experiment.js';

// A small seed-003 configuration: 40 samples of 6 tokens over a vocabulary of 24, 5 classes, D = 16.
function setup(width: number, heads: number, samplesPerClass = 8) {
  const config = resolveConfig(cvSweep, {
    preset: 'seed',
    overrides: {
      data: { nClasses: 5, samplesPerClass, seqLen: 6, vocab: 24 },
      widths: [width],
      heads: [heads],
      lr: 1e-2,
    },
  });
  const shape: CvClassifierShape = { vocab: 24, seqLen: 6, classes: 5, width, heads };
  const arrays = tokenPatternArrays({ ...config.data, seed: config.seed });
  const batch = { ids: Int32Array.from(arrays.x), labels: Int32Array.from(arrays.y) };
  const model = cvReferenceModel.init(config, width, heads);
  return { config, shape, batch, model, n: arrays.n };
}

async function valuesOf(model: ReturnType<typeof cvReferenceModel.init>): Promise<Record<CvParamName, Float32Array>> {
  const out = {} as Record<CvParamName, Float32Array>;
  for (const name of CV_PARAM_NAMES) out[name] = (await model.vars[name]!.data()) as Float32Array;
  return out;
}

describeBackends(
  'cv-engine (seed 003’s fused step) against the tfjs reference',
  (ctx) => {
    // Every product kernel with every attention kernel (@attnlab/fused's SIMD one and the TypeScript loops).
    const gemms = () =>
      (
        [
          ['jsGemm', jsGemm],
          ['tfjsGemm', tfjsGemm()],
        ] as const
      ).flatMap(([name, gemm]) =>
        (['wasm', 'js'] as const).map((attention) => [`${name}, attention ${attention}`, gemm, attention] as const),
      );

    it('gives tfjs autodiff’s loss and gradient of every parameter block (D = 16, H = 2 and D = 12, H = 3)', async () => {
      for (const [width, heads] of [
        [16, 2],
        [12, 3],
      ] as const) {
        const { shape, batch, model, n, config } = setup(width, heads);
        const layout = cvParamLayout(shape);
        const tokens = cvReferenceModel.tokens(batch.ids, n, shape.seqLen);
        const y = tf.tensor1d(batch.labels, 'int32');
        const vars = CV_PARAM_NAMES.map((k) => model.vars[k]!);
        const { value, grads } = tf.variableGrads(() => cvReferenceModel.loss(model, tokens, y), vars);
        const refLoss = (await value.data())[0]!;
        const state = cvClassifierState(shape, await valuesOf(model));
        for (const [, gemm, attention] of gemms()) {
          const ws = cvClassifierWorkspace(shape, n, gemm, attention);
          expect(ws.attention).toBe(attention);
          const f = cvClassifierForward(state.params, batch, ws);
          expect(Math.abs(f.loss - refLoss)).toBeLessThan(1e-5 * refLoss);
          cvClassifierBackward(state.params, batch, ws);
          // Tolerance: float32 relative, plus a floor from the block's and the whole gradient's scale
          // (∂/∂b_K is exactly 0 — softmax ignores a shift shared by every key — so both sides are rounding).
          const wants = await Promise.all(CV_PARAM_NAMES.map((name) => grads[model.vars[name]!.name]!.data()));
          const overall = Math.max(...wants.map((w) => Math.max(...Array.from(w, Math.abs))));
          for (const [bi, name] of CV_PARAM_NAMES.entries()) {
            const want = wants[bi]!;
            const { offset, size } = layout[name];
            let scale = 0;
            for (let i = 0; i < size; i++) scale = Math.max(scale, Math.abs(want[i]!));
            for (let i = 0; i < size; i++) {
              const got = ws.grad[offset + i]!;
              if (!(Math.abs(got - want[i]!) <= 2e-4 * Math.abs(want[i]!) + 2e-5 * scale + 1e-6 * overall)) {
                throw new Error(
                  `[${ctx.backend}] D=${width} H=${heads} d${name}[${i}]: fused ${got}, tfjs ${want[i]} (block max ${scale})`,
                );
              }
            }
          }
        }
        tf.dispose([value, ...Object.values(grads), tokens.ids, y, ...Object.values(model.vars)]);
        void config;
      }
    });

    it('follows the reference path’s losses for 100 Adam steps within 1e-4 relative', async () => {
      const { shape, batch, model, n, config } = setup(16, 4);
      const start = await valuesOf(model);
      const tokens = cvReferenceModel.tokens(batch.ids, n, shape.seqLen);
      const y = tf.tensor1d(batch.labels, 'int32');
      const optimizer = adam({ lr: config.lr, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 });
      const ref = await train({
        params: model.vars,
        loss: () => cvReferenceModel.loss(model, tokens, y),
        data: { batch: () => null },
        optimizer,
        steps: 100,
        schedule: { lossEvery: 1, readEvery: 100, progressEvery: 100 },
      });
      optimizer.dispose();
      const refLosses = ref.history.loss.value;
      expect(refLosses[99]!).toBeLessThan(0.5 * refLosses[0]!); // it trains
      for (const [name, gemm, attention] of gemms()) {
        const state = cvClassifierState(shape, start);
        const ws = cvClassifierWorkspace(shape, n, gemm, attention);
        const losses: number[] = [];
        await expectNoLeak(() => {
          for (let t = 0; t < 100; t++)
            losses.push(
              cvClassifierStep(state, batch, ws, { lr: config.lr, beta1: 0.9, beta2: 0.999, eps: 1e-8 }).loss,
            );
        });
        losses.forEach((l, t) => {
          if (!(Math.abs(l - refLosses[t]!) <= 1e-4 * refLosses[t]!))
            throw new Error(`[${ctx.backend}] ${name} step ${t}: fused loss ${l}, tfjs ${refLosses[t]}`);
        });
        expect(state.step).toBe(100);
      }
      tf.dispose([tokens.ids, y, ...Object.values(model.vars)]);
    });

    it('as an Engine: train() runs it, and a restored state continues bit-identically', async () => {
      const { shape, batch, model, config } = setup(16, 4);
      const values = await valuesOf(model);
      tf.dispose(Object.values(model.vars));
      const adamCfg = { lr: config.lr, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
      const make = () =>
        cvClassifierEngine({ shape, values, batch: () => batch, maxBatch: batch.labels.length, adam: adamCfg });
      const a = make();
      const first = await train({ engine: a, steps: 7, schedule: { lossEvery: 1 } });
      expect(first.history.loss.value).toHaveLength(7);
      expect(a.step).toBe(7);
      expect(a.takeCorrect()).toBeGreaterThan(0);
      expect(a.takeCorrect()).toBe(0);
      const saved = await a.state();
      expect(saved.optimizer!.params.wQ!.step).toBe(7);
      const b = make();
      b.restore(saved);
      expect(b.step).toBe(7);
      const [la, lb] = [await a.run(5), await b.run(5)];
      expect(Array.from(lb)).toEqual(Array.from(la));
      const [sa, sb] = [await a.state(), await b.state()];
      for (const name of CV_PARAM_NAMES) expect(sb.params[name]!.values).toEqual(sa.params[name]!.values);
      // params() as tensors, freed on the next run and on dispose.
      const before = tf.memory().numTensors;
      expect(Array.from(await a.params().wO!.data())).toEqual(Array.from(Float32Array.from(sa.params.wO!.values)));
      await a.run(1);
      expect(tf.memory().numTensors).toBe(before);
      a.params();
      a.dispose();
      b.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expect(() =>
        b.restore({ ...saved, optimizer: { ...saved.optimizer!, config: { lr: 1, weightDecay: 0 } } }),
      ).toThrow(/cvClassifierEngine.restore: state.optimizer must be this engine's Adam/);
      expect(() =>
        b.restore({
          ...saved,
          params: { ...saved.params, wO: { shape: [3], dtype: 'float64', values: new Float64Array(3) } },
        }),
      ).toThrow(
        "cvClassifierEngine.restore: state.params['wO'] must be a float32 or float64 host tensor of 256 numbers (the layout of 'wO')",
      );
    });

    it('leaves the activations seed 003 measures (h, q, k, v, norm(h + attn)) equal to the tfjs forward', async () => {
      const { shape, batch, model, n } = setup(16, 2);
      const state = cvClassifierState(shape, await valuesOf(model));
      const ws = cvClassifierWorkspace(shape, n);
      cvClassifierForward(state.params, batch, ws);
      const rows = 30;
      const got = cvClassifierHidden(state.params, batch, ws, rows);
      const tokens = cvReferenceModel.tokens(batch.ids, n, shape.seqLen);
      const ref = tf.tidy(() => {
        const { h, post } = cvReferenceModel.hidden(model, tokens);
        const flat = (x: tf.Tensor) => tf.slice(tf.reshape(x, [-1, 16]), [0, 0], [rows, 16]);
        const hf = flat(h);
        return {
          h: hf,
          q: tf.add(tf.matMul(hf, model.vars.wQ!), model.vars.bQ!),
          v: tf.add(tf.matMul(hf, model.vars.wV!), model.vars.bV!),
          post: flat(post),
        };
      });
      for (const k of ['h', 'q', 'v', 'post'] as const) {
        const want = await ref[k].data();
        for (let i = 0; i < want.length; i++) {
          if (!(Math.abs(got[k][i]! - want[i]!) <= 1e-5 + 1e-5 * Math.abs(want[i]!)))
            throw new Error(`${k}[${i}]: fused ${got[k][i]}, tfjs ${want[i]}`);
        }
      }
      tf.dispose([...Object.values(ref), tokens.ids, ...Object.values(model.vars)]);
    });
  },
  ['cpu', 'wasm'],
);

describe('cv-engine arguments', () => {
  it('names the bad argument', () => {
    const shape: CvClassifierShape = { vocab: 8, seqLen: 2, classes: 3, width: 4, heads: 2 };
    expect(() => cvParamLayout({ ...shape, heads: 3 })).toThrow(
      'cvParamLayout: shape.width must be divisible by shape.heads = 3; got 4',
    );
    expect(() => cvParamLayout({ ...shape, vocab: 0 })).toThrow(
      'cvParamLayout: shape.vocab must be an integer ≥ 1; got 0',
    );
    expect(() => cvClassifierWorkspace(shape, 0)).toThrow(
      'cvClassifierWorkspace: maxBatch must be an integer ≥ 1; got 0',
    );
    const layout = cvParamLayout(shape);
    expect(layout.total).toBe(8 * 4 + 2 * 4 + 4 * 16 + 4 * 4 + 2 * 4 + 4 * 3 + 3);
    const zeros = Object.fromEntries(CV_PARAM_NAMES.map((k) => [k, new Float64Array(layout[k].size)])) as Record<
      CvParamName,
      Float64Array
    >;
    expect(() => cvClassifierState(shape, { ...zeros, wO: new Float64Array(3) })).toThrow(
      'cvClassifierState: values.wO must hold 16 numbers; got 3',
    );
    const state = cvClassifierState(shape, zeros);
    const ws = cvClassifierWorkspace(shape, 2);
    const a = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
    expect(() =>
      cvClassifierStep(state, { ids: Int32Array.from([0, 1, 2]), labels: Int32Array.from([0, 1]) }, ws, a),
    ).toThrow('cvClassifierForward: batch.ids must hold labels.length · seqLen = 4 ids; got 3');
    expect(() =>
      cvClassifierStep(state, { ids: Int32Array.from([0, 1, 9, 2]), labels: Int32Array.from([0, 1]) }, ws, a),
    ).toThrow('cvClassifierForward: batch.ids[2] must be a token id in [0, 8); got 9');
    expect(() =>
      cvClassifierStep(state, { ids: Int32Array.from([0, 1, 2, 3]), labels: Int32Array.from([0, 3]) }, ws, a),
    ).toThrow('cvClassifierForward: batch.labels[1] must be a class in [0, 3); got 3');
    // Zero parameters: uniform logits, loss ln 3.
    expect(
      cvClassifierStep(state, { ids: Int32Array.from([0, 1, 2, 3]), labels: Int32Array.from([0, 1]) }, ws, a).loss,
    ).toBeCloseTo(Math.log(3), 12);
  });
});
