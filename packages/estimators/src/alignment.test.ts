import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectNoLeak } from '@attnlab/backend/testing';
import { gdAlignment, type IclTaskBatch } from './index.js';
import { gaussianTasks } from './test-utils/tasks.js';

/** A linear model of the query: ŷ = ⟨c, x_q⟩ (the last token entry is the prediction). */
const linear = (c: number[]) => (_Z: tf.Tensor3D, zq: tf.Tensor2D) =>
  tf.matMul(tf.slice(zq, [0, 0], [-1, c.length]), tf.tensor2d(c, [c.length, 1]));

describeBackends(
  'gdAlignment',
  () => {
    it('a hand-computed task: d = 2, L = 2', async () => {
      // x = [[1, 0], [0, 1]], y = [1, 2], x_q = [1, 1]: debiased GD's gradient ∝ Σ y_i (x_i − x̄) = [−0.5, 0.5];
      // plain GD's ∝ [1, 2]. The model ŷ = ⟨[3, 4], x_q⟩ = 7 has gradient [3, 4].
      const batch: IclTaskBatch = {
        x: tf.tensor3d([
          [
            [1, 0],
            [0, 1],
          ],
        ]),
        y: tf.tensor2d([[1, 2]]),
        xq: tf.tensor2d([[1, 1]]),
      };
      await expectNoLeak(async () => {
        const dgd = await gdAlignment(linear([3, 4]), batch, { stepSize: 2 });
        expect(dgd.gradientCosine).toBeCloseTo(0.5 / (5 * Math.SQRT1_2), 5); // 0.14142
        // ŷ_DGD = (2/2)·⟨[−0.5, 0.5], [1, 1]⟩ = 0.
        expect(dgd.predictionDifference).toBeCloseTo(49, 4);
        expect(dgd.relativePredictionDifference).toBeNull();
        const gd = await gdAlignment(linear([3, 4]), batch, { stepSize: 2, debiased: false });
        expect(gd.gradientCosine).toBeCloseTo(11 / (5 * Math.sqrt(5)), 5); // cos([3, 4], [1, 2])
        // ŷ_GD = (2/2)·⟨[1, 2], [1, 1]⟩ = 3 against ŷ = 7.
        expect(gd.predictionDifference).toBeCloseTo(16, 4);
        expect(gd.relativePredictionDifference).toBeCloseTo(16 / 9, 4);
        // Preconditioned by Γ = diag(2, 1): the gradient is Γᵀ[−0.5, 0.5] ∝ [−2, 1].
        const pre = await gdAlignment(linear([-2, 1]), batch, {
          stepSize: 2,
          preconditioner: [
            [2, 0],
            [0, 1],
          ],
        });
        expect(pre.gradientCosine).toBeCloseTo(1, 5);
        expect((await gdAlignment(linear([-2, 1]), batch, { stepSize: 2 })).gradientCosine).toBeCloseTo(
          3 / Math.sqrt(10),
          5,
        );
      });
      tf.dispose([batch.x, batch.y, batch.xq]);
    });

    it('paired softmax heads at small ω are debiased GD with step Σ ω μ; one head is not', async () => {
      const t = gaussianTasks(400, 40, 5, 0.2, 0.1, 3);
      const w = 0.02,
        step = 0.88;
      // Σ_h μ^h Σ_i y_i softmax_i(ω^h⟨x_q, x_i⟩) as a model of tokens (x, y from Z; x_q from z_q).
      const softmaxHeads = (ws: number[], mus: number[]) => (Z: tf.Tensor3D, zq: tf.Tensor2D) => {
        const x = tf.slice(Z, [0, 0, 0], [-1, -1, 5]);
        const y = tf.squeeze(tf.slice(Z, [0, 0, 5], [-1, -1, 1]), [2]);
        const u = tf.squeeze(tf.matMul(x, tf.expandDims(tf.slice(zq, [0, 0], [-1, 5]), 2)), [2]);
        return tf.addN(ws.map((wh, h) => tf.mul(tf.sum(tf.mul(y, tf.softmax(tf.mul(u, wh))), 1), mus[h]!)));
      };
      const a = await gdAlignment(softmaxHeads([w, -w], [step / (2 * w), -step / (2 * w)]), t, {
        stepSize: step,
      });
      expect(a.gradientCosine).toBeGreaterThan(0.995);
      expect(a.relativePredictionDifference!).toBeLessThan(0.01);
      const one = await gdAlignment(softmaxHeads([0.5], [1.5]), t, { stepSize: step });
      expect(one.gradientCosine).toBeLessThan(a.gradientCosine);
      expect(one.relativePredictionDifference!).toBeGreaterThan(0.05);
      tf.dispose([t.x, t.y, t.xq, t.yq]);
    });

    it('names a bad argument', async () => {
      const b: IclTaskBatch = {
        x: tf.zeros([1, 2, 2]) as tf.Tensor3D,
        y: tf.zeros([1, 2]) as tf.Tensor2D,
        xq: tf.zeros([1, 2]) as tf.Tensor2D,
      };
      await expect(gdAlignment(linear([1, 1]), b, { stepSize: NaN })).rejects.toThrow(
        /gdAlignment: options.stepSize must be a finite number; got null/,
      );
      tf.dispose([b.x, b.y, b.xq]);
    });
  },
  ['cpu', 'wasm'],
);
