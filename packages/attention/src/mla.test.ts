import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose, expectNoLeak, read } from '@attnlab/backend/testing';
import {
  absorbLatentAttention,
  disposeParams,
  initMultiHeadLatentAttention,
  multiHeadLatentAttention,
  resolveMultiHeadLatentAttentionConfig,
  rope,
  type MultiHeadLatentAttentionConfig,
  type MultiHeadLatentAttentionParams,
} from './index.js';
import { latentAttention as REF } from './test-utils/mla-reference.fixture.js';
import { lcg } from './test-utils/helpers.js';

describeBackends('rope', (ctx) => {
  it('rotates feature pairs by position·θ_i (hand values, both pairings)', async () => {
    const x = tf.tensor2d([
      [1, 2, 3, 4],
      [1, 2, 3, 4],
    ]); // positions 0 and 1 (T = 2, d = 4: θ = [1, 0.01])
    const c1 = Math.cos(1),
      s1 = Math.sin(1),
      c2 = Math.cos(0.01),
      s2 = Math.sin(0.01);
    await expectNoLeak(
      () => rope(x),
      (t) => t.dispose(),
    );
    const r = rope(x);
    await expectClose(r, [1, 2, 3, 4, c1 - 2 * s1, s1 + 2 * c1, 3 * c2 - 4 * s2, 3 * s2 + 4 * c2], ctx.tol);
    const h = rope(x, { style: 'half' }); // pairs (x0, x2) at θ = 1, (x1, x3) at θ = 0.01
    await expectClose(h, [1, 2, 3, 4, c1 - 3 * s1, 2 * c2 - 4 * s2, s1 + 3 * c1, 2 * s2 + 4 * c2], ctx.tol);
    const p = rope(tf.tensor2d([[1, 2, 3, 4]]), { positions: [1] });
    await expectClose(p, (await read(r)).slice(4), ctx.tol);
    const o = rope(tf.tensor2d([[0, 1]]), { offset: 3, base: 100 }); // d = 2: θ = 1, angle 3
    await expectClose(o, [-Math.sin(3), Math.cos(3)], ctx.tol);
    tf.dispose([x, r, h, p, o]);
  });

  it('scores depend only on relative position: ⟨RoPE(q, m), RoPE(k, n)⟩ = ⟨RoPE(q, m + s), RoPE(k, n + s)⟩', async () => {
    const q = tf.tensor3d(lcg(8, 1), [1, 1, 8]);
    const k = tf.tensor3d(lcg(8, 2), [1, 1, 8]);
    const dot = async (m: number, n: number) => {
      const a = rope(q, { offset: m }),
        b = rope(k, { offset: n });
      const d = tf.sum(tf.mul(a, b));
      const v = (await read(d))[0]!;
      tf.dispose([a, b, d]);
      return v;
    };
    const base = await dot(5, 2);
    await expectClose([await dot(8, 5), await dot(103, 100)], [base, base], 1e-4);
    tf.dispose([q, k]);
  });

  it('validates', () => {
    const x = tf.ones([2, 3]);
    expect(() => rope(x)).toThrow(/rope: x's last dim d must be even; got shape \[2, 3\]/);
    const y = tf.ones([2, 4]);
    expect(() => rope(y, { style: 'pairs' as never })).toThrow(
      /rope: options.style must be one of 'interleaved', 'half'; got "pairs"/,
    );
    expect(() => rope(y, { positions: [0] })).toThrow(
      /rope: options.positions must be an array of T = 2 numbers; got length 1/,
    );
    tf.dispose([x, y]);
  });
});

const small: MultiHeadLatentAttentionConfig = {
  dModel: 12,
  numHeads: 3,
  kvLoraRank: 5,
  qkNopeHeadDim: 4,
  qkRopeHeadDim: 2,
  vHeadDim: 3,
};

describeBackends(
  'multiHeadLatentAttention',
  (ctx) => {
    function refParams(): MultiHeadLatentAttentionParams {
      const c = resolveMultiHeadLatentAttentionConfig(REF);
      const m = (flat: number[], rows: number) => tf.tensor2d(flat, [rows, flat.length / rows]);
      return {
        kind: 'mla',
        config: c,
        wDQ: m(REF.wDQ, REF.dModel),
        wUQ: m(REF.wUQ, REF.qLoraRank),
        wQR: m(REF.wQR, REF.qLoraRank),
        wDKV: m(REF.wDKV, REF.dModel),
        wUK: m(REF.wUK, REF.kvLoraRank),
        wUV: m(REF.wUV, REF.kvLoraRank),
        wKR: m(REF.wKR, REF.dModel),
        wO: m(REF.wO, REF.numHeads * REF.vHeadDim),
      };
    }

    it('naive and absorbed forms match an independent float64 reference (DeepSeek-V2 equations)', async () => {
      const p = refParams();
      const x = tf.tensor3d(REF.x, [REF.B, REF.T, REF.dModel]);
      for (const form of ['naive', 'absorbed'] as const) {
        await expectNoLeak(
          () => multiHeadLatentAttention(p, x, { causal: true, form }),
          (r) => tf.dispose([r.output, r.weights]),
        );
        const r = multiHeadLatentAttention(p, x, { causal: true, form });
        expect(r.weights.shape).toEqual([1, 2, 3, 3]);
        await expectClose(r.output, REF.causalOutput, ctx.tol);
        await expectClose(r.weights, REF.causalWeights, ctx.tol);
        tf.dispose([r.output, r.weights]);
      }
      tf.dispose(x);
      disposeParams(p);
    });

    for (const qLoraRank of [0, 6]) {
      it(`absorbed form = naive form (qLoraRank ${qLoraRank}; causal, padding mask, position offset)`, async () => {
        const p = initMultiHeadLatentAttention({ ...small, qLoraRank }, 11);
        expect(p.wDQ === undefined).toBe(qLoraRank === 0);
        const x = tf.tensor3d(lcg(2 * 5 * 12, 12), [2, 5, 12]);
        const kp = tf.tensor2d(
          [
            [true, true, true, true, true],
            [true, true, false, true, true],
          ],
          undefined,
          'bool',
        );
        const opts = { causal: true, keyPaddingMask: kp, positionOffset: 7 };
        const a = multiHeadLatentAttention(p, x, { ...opts, form: 'naive' });
        const abs = absorbLatentAttention(p);
        expect(abs.wQK.shape).toEqual([3, qLoraRank || 12, 5]);
        expect(abs.wVO.shape).toEqual([3, 5, 12]);
        const b = multiHeadLatentAttention(p, x, { ...opts, form: 'absorbed', absorbed: abs });
        const b2 = multiHeadLatentAttention(p, x, { ...opts, form: 'absorbed' });
        await expectClose(b.output, await read(a.output), ctx.tol * 10, 1e-5);
        await expectClose(b.weights, await read(a.weights), ctx.tol * 10, 1e-6);
        await expectClose(b2.output, await read(b.output), ctx.tol);
        // The padded key (batch 1, token 2) gets weight exactly 0 from every query.
        const w = await read(b.weights);
        for (let h = 0; h < 3; h++) for (let i = 0; i < 5; i++) expect(w[((1 * 3 + h) * 5 + i) * 5 + 2]).toBe(0);
        tf.dispose([x, kp, a.output, a.weights, b.output, b.weights, b2.output, b2.weights, abs.wQK, abs.wVO]);
        disposeParams(p);
      });
    }

    it('validates config, options and input', () => {
      expect(() => resolveMultiHeadLatentAttentionConfig({ ...small, qkRopeHeadDim: 3 })).toThrow(
        /config.qkRopeHeadDim must be even \(RoPE rotates pairs\); got 3/,
      );
      expect(() => initMultiHeadLatentAttention({ ...small, kvLoraRank: 0 }, 1)).toThrow(
        /initMultiHeadLatentAttention: config.kvLoraRank must be a positive integer; got 0/,
      );
      const p = initMultiHeadLatentAttention(small, 1);
      const x = tf.ones([1, 2, 11]);
      expect(() => multiHeadLatentAttention(p, x)).toThrow(
        /multiHeadLatentAttention: x must have last dim dModel = 12 \[B, T, dModel\]; got shape \[1, 2, 11\]/,
      );
      const y = tf.ones([1, 2, 12]);
      expect(() => multiHeadLatentAttention(p, y, { form: 'fast' as never })).toThrow(
        /options.form must be one of 'naive', 'absorbed'; got "fast"/,
      );
      tf.dispose([x, y]);
      disposeParams(p);
    });
  },
  undefined,
);
