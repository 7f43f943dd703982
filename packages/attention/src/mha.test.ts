import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose, expectNoLeak, read } from '@attnlab/backend/testing';
import {
  causalMask,
  disposeParams,
  fromPyTorchStateDict,
  initMultiHeadAttention,
  multiHeadAttention,
  repeatKvHeads,
  resolveMultiHeadAttentionConfig,
  scaledDotProductAttention,
  toPyTorchStateDict,
  type MultiHeadAttentionParams,
} from './index.js';
import { crossAttention as CA, groupedQuery as GQ, selfAttention as SA } from './test-utils/pytorch-mha.fixture.js';
import { lcg } from './test-utils/helpers.js';

function selfParams(): MultiHeadAttentionParams {
  const E = SA.embedDim;
  return fromPyTorchStateDict(
    {
      in_proj_weight: tf.tensor2d(SA.inProjWeight, [3 * E, E]),
      in_proj_bias: tf.tensor1d(SA.inProjBias),
      'out_proj.weight': tf.tensor2d(SA.outProjWeight, [E, E]),
      'out_proj.bias': tf.tensor1d(SA.outProjBias),
    },
    { embedDim: E, numHeads: SA.numHeads },
  );
}

describeBackends('multiHeadAttention vs PyTorch nn.MultiheadAttention', (ctx) => {
  it('self-attention without a mask: output and per-head weights', async () => {
    const before = tf.memory().numTensors;
    const p = selfParams();
    const x = tf.tensor3d(SA.x, [SA.B, SA.T, SA.embedDim]);
    await expectNoLeak(
      () => multiHeadAttention(p, x, x, x),
      (r) => tf.dispose([r.output, r.weights]),
    );
    const r = multiHeadAttention(p, x, x, x);
    expect(r.output.shape).toEqual([2, 4, 8]);
    expect(r.weights.shape).toEqual([2, 2, 4, 4]);
    expect(r.averagedWeights).toBeUndefined();
    await expectClose(r.output, SA.output, ctx.tol);
    await expectClose(r.weights, SA.weights, ctx.tol);
    tf.dispose([x, r.output, r.weights]);
    disposeParams(p);
    // fromPyTorchStateDict's inputs were created inline above; 4 inputs remain, nothing else.
    expect(tf.memory().numTensors - before).toBe(4);
  });

  it('causal: `causal: true` and the negated PyTorch attn_mask both match; averaged weights too', async () => {
    const p = selfParams();
    const x = tf.tensor3d(SA.x, [SA.B, SA.T, SA.embedDim]);
    const torchMask = tf.tensor2d(
      [
        [F, T, T, T],
        [F, F, T, T],
        [F, F, F, T],
        [F, F, F, F],
      ],
      undefined,
      'bool',
    ); // True = NOT allowed
    const ours = tf.logicalNot(torchMask);
    for (const opts of [{ causal: true }, { mask: ours }]) {
      const r = multiHeadAttention(p, x, x, x, { ...opts, averageWeights: true });
      await expectClose(r.output, SA.causalOutput, ctx.tol);
      await expectClose(r.weights, SA.causalWeights, ctx.tol);
      await expectClose(r.averagedWeights!, SA.causalAveragedWeights, ctx.tol);
      tf.dispose([r.output, r.weights, r.averagedWeights!]);
    }
    tf.dispose([x, torchMask, ours]);
    disposeParams(p);
  });

  it('cross-attention with kdim ≠ vdim ≠ embedDim and a key padding mask', async () => {
    const { embedDim: E, kdim, vdim } = CA;
    const p = fromPyTorchStateDict(
      {
        q_proj_weight: chunk(CA.q_proj_weight, E),
        k_proj_weight: chunk(CA.k_proj_weight, kdim),
        v_proj_weight: chunk(CA.v_proj_weight, vdim),
        in_proj_bias: CA.in_proj_bias,
        'out_proj.weight': chunk(CA.outProjWeight, E),
        'out_proj.bias': CA.outProjBias,
      },
      { embedDim: E, numHeads: CA.numHeads, kdim, vdim },
    );
    const q = tf.tensor3d(CA.query, [CA.B, CA.Tq, E]);
    const k = tf.tensor3d(CA.key, [CA.B, CA.Tk, kdim]);
    const v = tf.tensor3d(CA.value, [CA.B, CA.Tk, vdim]);
    const kpm = tf.tensor2d(
      [
        [T, T, T],
        [T, T, F],
      ],
      undefined,
      'bool',
    ); // true = real key
    await expectNoLeak(
      () => multiHeadAttention(p, q, k, v, { keyPaddingMask: kpm }),
      (r) => tf.dispose([r.output, r.weights]),
    );
    const res = multiHeadAttention(p, q, k, v, { keyPaddingMask: kpm });
    await expectClose(res.output, CA.output, ctx.tol);
    await expectClose(res.weights, CA.weights, ctx.tol);
    tf.dispose([q, k, v, kpm, res.output, res.weights]);
    disposeParams(p);
  });

  it('grouped-query attention (4 query heads, 2 KV heads) matches PyTorch with repeat_interleave', async () => {
    const E = GQ.embedDim;
    const p = fromPyTorchStateDict(
      {
        in_proj_weight: chunk(GQ.inProjWeight, E),
        in_proj_bias: GQ.inProjBias,
        'out_proj.weight': chunk(GQ.outProjWeight, E),
        'out_proj.bias': GQ.outProjBias,
      },
      { embedDim: E, numHeads: GQ.numHeads, numKvHeads: GQ.numKvHeads },
    );
    expect(p.wK.shape).toEqual([8, 4]);
    const x = tf.tensor3d(GQ.x, [GQ.B, GQ.T, E]);
    const r = multiHeadAttention(p, x, x, x, { causal: true });
    await expectClose(r.output, GQ.causalOutput, ctx.tol);
    await expectClose(r.weights, GQ.causalWeights, ctx.tol);
    tf.dispose([x, r.output, r.weights]);
    disposeParams(p);
  });
});

const T = true,
  F = false;
function chunk(flat: number[], cols: number): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < flat.length; i += cols) rows.push(flat.slice(i, i + cols));
  return rows;
}

describeBackends('grouped- and multi-query attention', (ctx) => {
  it('repeatKvHeads repeats each KV head numHeads / Hkv times, in order', async () => {
    const k = tf.tensor4d([1, 2, 3, 4], [1, 2, 1, 2]); // head 0: [1, 2], head 1: [3, 4]
    const r = await expectNoLeak(
      () => repeatKvHeads(k, 6),
      (t) => t.dispose(),
    );
    const r2 = repeatKvHeads(k, 6);
    expect(r2.shape).toEqual([1, 6, 1, 2]);
    expect(await read(r2)).toEqual([1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4]);
    expect(r.isDisposed).toBe(true);
    tf.dispose([k, r2]);
  });

  for (const numKvHeads of [2, 1]) {
    it(`numKvHeads = ${numKvHeads} equals a naive loop over heads (head h uses KV head ⌊h / (H / Hkv)⌋)`, async () => {
      const [B, Tq, Tk, E, H] = [2, 3, 5, 8, 4];
      const d = E / H;
      const p = initMultiHeadAttention({ embedDim: E, numHeads: H, numKvHeads }, 3);
      // Non-zero biases so they are exercised.
      tf.dispose([p.bQ!, p.bK!, p.bV!, p.bO!]);
      p.bQ = tf.tensor1d(lcg(E, 31));
      p.bK = tf.tensor1d(lcg(numKvHeads * d, 32));
      p.bV = tf.tensor1d(lcg(numKvHeads * d, 33));
      p.bO = tf.tensor1d(lcg(E, 34));
      const xq = tf.tensor3d(lcg(B * Tq * E, 35), [B, Tq, E]);
      const xk = tf.tensor3d(lcg(B * Tk * E, 36), [B, Tk, E]);
      const r = multiHeadAttention(p, xq, xk, xk, { causal: true, alignment: 'bottom-right' });
      const naive = tf.tidy(() => {
        const outs: tf.Tensor[] = [];
        const ws: tf.Tensor[] = [];
        const G = H / numKvHeads;
        for (let h = 0; h < H; h++) {
          const g = Math.floor(h / G);
          const cols = (w: tf.Tensor, b: tf.Tensor, j: number) =>
            [tf.slice(w, [0, j * d], [-1, d]), tf.slice(b, [j * d], [d])] as const;
          const [wq, bq] = cols(p.wQ, p.bQ!, h);
          const [wk, bk] = cols(p.wK, p.bK!, g);
          const [wv, bv] = cols(p.wV, p.bV!, g);
          const proj = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
            tf.reshape(tf.add(tf.matMul(tf.reshape(x, [-1, E]), w), b), [B, -1, d]);
          const a = scaledDotProductAttention(proj(xq, wq, bq), proj(xk, wk, bk), proj(xk, wv, bv), {
            causal: true,
            alignment: 'bottom-right',
          });
          outs.push(a.output);
          ws.push(a.weights);
        }
        const cat = tf.reshape(tf.concat(outs, -1), [-1, E]);
        return { out: tf.add(tf.matMul(cat, p.wO), p.bO!), w: tf.stack(ws, 1) };
      });
      await expectClose(r.output, await read(naive.out), ctx.tol);
      await expectClose(r.weights, await read(naive.w), ctx.tol);
      tf.dispose([xq, xk, r.output, r.weights, naive.out, naive.w]);
      disposeParams(p);
    });
  }

  it('initMultiHeadAttention is deterministic, PyTorch-shaped and bounded', async () => {
    const a = initMultiHeadAttention({ embedDim: 8, numHeads: 4, numKvHeads: 2 }, 5);
    const b = initMultiHeadAttention({ embedDim: 8, numHeads: 4, numKvHeads: 2 }, 5);
    expect(a.wQ.shape).toEqual([8, 8]);
    expect(a.wK.shape).toEqual([8, 4]);
    expect(a.wV.shape).toEqual([8, 4]);
    expect(a.bK!.shape).toEqual([4]);
    expect(await read(a.wK)).toEqual(await read(b.wK));
    const bound = Math.sqrt(6 / (8 + 16)); // Xavier over the stacked [16, 8] in-projection
    expect(Math.max(...(await read(a.wQ)).map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...(await read(a.wO)).map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(8));
    expect(await read(a.bO!)).toEqual(new Array(8).fill(0));
    disposeParams(a);
    disposeParams(b);
  });

  it('toPyTorchStateDict round-trips through fromPyTorchStateDict', async () => {
    const p = initMultiHeadAttention({ embedDim: 6, numHeads: 3, numKvHeads: 1 }, 9);
    const sd = toPyTorchStateDict(p);
    expect(sd.in_proj_weight!.shape).toEqual([6 + 2 * 2, 6]);
    const q = fromPyTorchStateDict(sd as never, { embedDim: 6, numHeads: 3, numKvHeads: 1 });
    for (const name of ['wQ', 'wK', 'wV', 'wO', 'bQ', 'bK', 'bV', 'bO'] as const) {
      expect(await read(q[name]!)).toEqual(await read(p[name]!));
    }
    tf.dispose(Object.values(sd));
    disposeParams(p);
    disposeParams(q);
  });
});

describeBackends(
  'multiHeadAttention validation',
  () => {
    it('clear errors for configs, params and inputs', () => {
      expect(() => resolveMultiHeadAttentionConfig({ embedDim: 8, numHeads: 4, numKvHeads: 3 })).toThrow(
        /config.numHeads \(4\) must be divisible by config.numKvHeads; got numKvHeads = 3 \(allowed: divisors of 4\)/,
      );
      expect(() => initMultiHeadAttention({ embedDim: 10, numHeads: 4 }, 0)).toThrow(
        /initMultiHeadAttention: config.embedDim must be divisible by config.numHeads = 4; got 10/,
      );
      const p = initMultiHeadAttention({ embedDim: 8, numHeads: 2 }, 0);
      const x = tf.ones([2, 3, 8]);
      const bad = tf.ones([2, 3, 7]);
      expect(() => multiHeadAttention(p, bad, x, x)).toThrow(
        /multiHeadAttention: query must have last dim embedDim = 8 \[B, T, embedDim\]; got shape \[2, 3, 7\]/,
      );
      const m = tf.ones([3, 4], 'bool');
      expect(() => multiHeadAttention(p, x, x, x, { mask: m })).toThrow(
        /options.mask must broadcast to \[B, H, Tq, Tk\] = \[2, 2, 3, 3\]; got \[3, 4\]/,
      );
      const kp = tf.ones([2, 3]);
      expect(() => multiHeadAttention(p, x, x, x, { keyPaddingMask: kp })).toThrow(
        /options.keyPaddingMask must have dtype bool/,
      );
      expect(() => multiHeadAttention({ ...p, kind: 'mla' } as never, x, x, x)).toThrow(
        /multiHeadAttention: params must be multi-head attention parameters/,
      );
      const c = causalMask(3, 3);
      expect(() =>
        fromPyTorchStateDict({ in_proj_weight: [[1, 2]], 'out_proj.weight': [[1]] }, { embedDim: 2, numHeads: 1 }),
      ).toThrow(/fromPyTorchStateDict: stateDict\['in_proj_weight'\] must have shape \[6, 2\]/);
      tf.dispose([x, bad, m, kp, c]);
      disposeParams(p);
    });
  },
  ['cpu'],
);
