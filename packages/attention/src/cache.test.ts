import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose, read } from '@attnlab/backend/testing';
import {
  createKvCache,
  decodeStep,
  disposeParams,
  initMultiHeadAttention,
  initMultiHeadLatentAttention,
  multiHeadAttention,
  multiHeadLatentAttention,
} from './index.js';
import { lcg } from './test-utils/helpers.js';

const [B, T] = [2, 4];

/** Runs decodeStep over x in chunks of the given sizes; returns the outputs concatenated along time. */
async function decodeAll(
  step: (x: tf.Tensor) => { output: tf.Tensor; weights: tf.Tensor },
  x: tf.Tensor,
  chunks: number[],
): Promise<{ out: number[]; lastWeights: number[] }> {
  const outs: tf.Tensor[] = [];
  let lastWeights: number[] = [];
  let t0 = 0;
  for (const n of chunks) {
    const xt = tf.slice(x, [0, t0, 0], [-1, n, -1]);
    const r = step(xt);
    expect(r.weights.shape[3]).toBe(t0 + n);
    outs.push(r.output);
    lastWeights = await read(r.weights);
    tf.dispose([xt, r.weights]);
    t0 += n;
  }
  const cat = tf.concat(outs, 1);
  const out = await read(cat);
  tf.dispose([cat, ...outs]);
  return { out, lastWeights };
}

describeBackends(
  'KV-cache decoding',
  (ctx) => {
    for (const [name, numKvHeads] of [
      ['MHA', 4],
      ['GQA', 2],
      ['MQA', 1],
    ] as const) {
      it(`${name}: token-by-token decoding equals the full causal forward; cache holds Hkv heads only`, async () => {
        const E = 8,
          H = 4,
          d = 2;
        const before = tf.memory().numTensors;
        const p = initMultiHeadAttention({ embedDim: E, numHeads: H, numKvHeads }, 21);
        tf.dispose([p.bQ!, p.bK!, p.bV!]);
        p.bQ = tf.tensor1d(lcg(E, 1));
        p.bK = tf.tensor1d(lcg(numKvHeads * d, 2));
        p.bV = tf.tensor1d(lcg(numKvHeads * d, 3));
        const x = tf.tensor3d(lcg(B * T * E, 4), [B, T, E]);
        const full = multiHeadAttention(p, x, x, x, { causal: true });
        const fullOut = await read(full.output);
        const fullW = await read(full.weights);
        for (const chunks of numKvHeads === 2
          ? [
              [1, 1, 1, 1],
              [2, 1, 1],
            ]
          : [[1, 1, 1, 1]]) {
          const cache = createKvCache(p);
          expect(cache.elementsPerToken).toBe(2 * numKvHeads * d);
          const { out, lastWeights } = await decodeAll((xt) => decodeStep(p, cache, xt), x, chunks);
          expect(cache.length).toBe(T);
          expect(cache.keys!.shape).toEqual([B, numKvHeads, T, d]);
          expect(cache.size()).toBe(B * T * cache.elementsPerToken);
          await expectClose(out, fullOut, ctx.tol);
          // Last step's weights are the last query row of every head's full weights.
          const lastRows = [];
          for (let bh = 0; bh < B * H; bh++) lastRows.push(...fullW.slice((bh * T + T - 1) * T, (bh * T + T) * T));
          await expectClose(lastWeights, lastRows, ctx.tol);
          cache.dispose();
          expect(cache.keys).toBeNull();
        }
        tf.dispose([x, full.output, full.weights]);
        disposeParams(p);
        expect(tf.memory().numTensors).toBe(before);
      });
    }

    for (const form of ['absorbed', 'naive'] as const) {
      it(`MLA (${form}): token-by-token decoding equals the full causal forward; the cache stores latent + RoPE key only`, async () => {
        const before = tf.memory().numTensors;
        const cfg = {
          dModel: 12,
          numHeads: 3,
          kvLoraRank: 4,
          qLoraRank: 6,
          qkNopeHeadDim: 4,
          qkRopeHeadDim: 2,
          vHeadDim: 3,
        };
        const p = initMultiHeadLatentAttention(cfg, 5);
        const x = tf.tensor3d(lcg(B * T * 12, 6), [B, T, 12]);
        const full = multiHeadLatentAttention(p, x, { causal: true, form: 'naive' });
        const fullOut = await read(full.output);
        for (const chunks of form === 'absorbed'
          ? [
              [1, 1, 1, 1],
              [2, 2],
            ]
          : [[1, 1, 1, 1]]) {
          const cache = createKvCache(p);
          expect(cache.elementsPerToken).toBe(cfg.kvLoraRank + cfg.qkRopeHeadDim); // 6 elements per token
          const { out } = await decodeAll((xt) => decodeStep(p, cache, xt, { form }), x, chunks);
          expect(cache.latent!.shape).toEqual([B, T, 4]);
          expect(cache.ropeKey!.shape).toEqual([B, T, 2]);
          expect(cache.size()).toBe(B * T * 6);
          // The same layer as MHA would cache 2 · H · (dNope + dRope or dV) per token; MLA caches 6.
          expect(cache.size() / (B * T)).toBeLessThan(2 * cfg.numHeads * cfg.vHeadDim);
          await expectClose(out, fullOut, ctx.tol * 10, 1e-5);
          cache.dispose();
        }
        tf.dispose([x, full.output, full.weights]);
        disposeParams(p);
        expect(tf.memory().numTensors).toBe(before);
      });
    }

    it('validates cache kind, batch and width', () => {
      const p = initMultiHeadAttention({ embedDim: 4, numHeads: 2 }, 0);
      const m = initMultiHeadLatentAttention(
        { dModel: 4, numHeads: 2, kvLoraRank: 2, qkNopeHeadDim: 2, qkRopeHeadDim: 2, vHeadDim: 2 },
        0,
      );
      const c = createKvCache(p);
      const lc = createKvCache(m);
      const x = tf.ones([1, 1, 4]);
      expect(() => decodeStep(p, lc as never, x)).toThrow(
        /decodeStep: cache must be a KV cache of kind 'mha' \(from createKvCache\(params\)\); got kind mla/,
      );
      const r = decodeStep(p, c, x);
      const x2 = tf.ones([2, 1, 4]);
      expect(() => decodeStep(p, c, x2)).toThrow(
        /decodeStep: x must have the cache's batch size 1; got shape \[2, 1, 4\]/,
      );
      const x3 = tf.ones([1, 1, 3]);
      expect(() => decodeStep(p, c, x3)).toThrow(
        /decodeStep: x must have last dim embedDim = 4 \[B, Tnew, embedDim\]; got shape \[1, 1, 3\]/,
      );
      expect(() => createKvCache({ kind: 'rnn' } as never)).toThrow(
        /createKvCache: params must be attention parameters of kind 'mha' or 'mla'; got kind rnn/,
      );
      tf.dispose([x, x2, x3, r.output, r.weights]);
      c.dispose();
      lc.dispose();
      disposeParams(p);
      disposeParams(m);
    });
  },
  undefined,
);
