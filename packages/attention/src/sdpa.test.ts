import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose, expectNoLeak, read } from '@attnlab/backend/testing';
import {
  attentionSteps,
  causalMask,
  combineMasks,
  maskedSoftmax,
  paddingMask,
  scaledDotProductAttention,
} from './index.js';
import { expectPrinted, lcg, matmul } from './test-utils/helpers.js';

const T = true,
  F = false;

describeBackends('masks', () => {
  it('causalMask: top-left, strict and bottom-right alignment', async () => {
    const cases: [tf.Tensor, boolean[]][] = [
      [causalMask(3, 3), [T, F, F, T, T, F, T, T, T]],
      [causalMask(3, 3, { strict: true }), [F, F, F, T, F, F, T, T, F]],
      // Tq = 2 < Tk = 4: top-left puts query i at position i, bottom-right at i + 2.
      [causalMask(2, 4), [T, F, F, F, T, T, F, F]],
      [causalMask(2, 4, { alignment: 'bottom-right' }), [T, T, T, F, T, T, T, T]],
      [causalMask(2, 4, { alignment: 'bottom-right', strict: true }), [T, T, F, F, T, T, T, F]],
      // Tq > Tk, bottom-right (PyTorch causal_lower_right): the first Tq − Tk queries see nothing.
      [causalMask(3, 2, { alignment: 'bottom-right' }), [F, F, T, F, T, T]],
    ];
    for (const [m, e] of cases) {
      expect(m.dtype).toBe('bool');
      expect((await read(m)).map(Boolean)).toEqual(e);
      m.dispose();
    }
  });

  it('paddingMask from numbers and from a tensor; combineMasks', async () => {
    const a = paddingMask([2, 3], 3);
    expect(a.shape).toEqual([2, 1, 1, 3]);
    expect((await read(a)).map(Boolean)).toEqual([T, T, F, T, T, T]);
    const lens = tf.tensor1d([1, 0], 'int32');
    await expectNoLeak(
      () => paddingMask(lens, 2, { rank: 3 }),
      (m) => m.dispose(),
    );
    const b = paddingMask(lens, 2, { rank: 3 });
    expect(b.shape).toEqual([2, 1, 2]);
    expect((await read(b)).map(Boolean)).toEqual([T, F, F, F]);
    const c3 = causalMask(3, 3);
    const p = paddingMask([2], 3, { rank: 2 });
    const comb = combineMasks(c3, p);
    expect((await read(comb)).map(Boolean)).toEqual([T, F, F, T, T, F, T, T, F]);
    tf.dispose([a, b, lens, c3, p, comb]);
  });

  it('validates arguments', () => {
    expect(() => causalMask(0, 3)).toThrow(/causalMask: tq must be a positive integer; got 0/);
    expect(() => causalMask(2, 2, { alignment: 'center' as never })).toThrow(
      /causalMask: options.alignment must be one of 'top-left', 'bottom-right'; got "center"/,
    );
    expect(() => paddingMask([4], 3)).toThrow(/paddingMask: lengths\[0\] must be ≤ tk = 3; got 4/);
    const f = tf.ones([2, 2]);
    expect(() => combineMasks(f)).toThrow(/combineMasks: masks\[0\] must have dtype bool/);
    f.dispose();
  });
});

describeBackends(
  'scaledDotProductAttention',
  (ctx) => {
    // Seed 002, "COMPLETE ATTENTION FLOW" (d_k = 4). The notebook's printout of this cell is cut off,
    // so the expected values are the script's own printing (np.round to 2 / 3 / 2 decimals) of numpy's
    // result, which is also the closed form: row 0 scaled scores [0.5, 0.5, 1] → [1, 1, e^0.5]/(2 + e^0.5).
    const Q = [
      [1, 0, 1, 0],
      [0, 1, 0, 1],
      [1, 1, 0, 0],
    ];
    const K = [
      [1, 0, 0, 1],
      [0, 1, 1, 0],
      [1, 0, 1, 1],
    ];
    const V = [
      [1, 2, 3, 4],
      [0.5, 1.5, 2.5, 3.5],
      [2, 1, 4, 3],
    ];

    it("reproduces seed 002's complete attention flow (scores, ÷√d_k, softmax, output)", async () => {
      const [q, k, v] = [tf.tensor2d(Q), tf.tensor2d(K), tf.tensor2d(V)];
      await expectNoLeak(
        () => attentionSteps(q, k, v),
        (r) => tf.dispose([r.scores, r.scaledScores, r.maskedScores, r.weights, r.output]),
      );
      const s = attentionSteps(q, k, v);
      await expectClose(s.scores, [1, 1, 2, 1, 1, 1, 1, 1, 1], ctx.tol);
      await expectPrinted(s.scaledScores, [0.5, 0.5, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], 2);
      await expectPrinted(s.weights, [0.274, 0.274, 0.452, 0.333, 0.333, 0.333, 0.333, 0.333, 0.333], 3);
      await expectPrinted(s.output, [1.31, 1.41, 3.31, 3.41, 1.17, 1.5, 3.17, 3.5, 1.17, 1.5, 3.17, 3.5], 2);
      const z = 2 + Math.exp(0.5);
      await expectClose((await read(s.weights)).slice(0, 3), [1 / z, 1 / z, Math.exp(0.5) / z], ctx.tol);
      expect(s.mask).toBeNull();
      await expectClose(s.maskedScores, await read(s.scaledScores), ctx.tol);
      const r = scaledDotProductAttention(q, k, v);
      await expectClose(r.output, await read(s.output), ctx.tol);
      tf.dispose([q, k, v, s.scores, s.scaledScores, s.maskedScores, s.weights, s.output, r.output, r.weights]);
    });

    it("reproduces seed 002's QKᵀ examples 1 and 3", async () => {
      const cases: [number[][], number[][], number[]][] = [
        [
          [
            [1, 2, 3],
            [1, 2, 1],
          ],
          [
            [1, 2, 1],
            [2, 1, 3],
          ],
          [8, 13, 6, 7],
        ],
        [
          [
            [1, 2],
            [3, 4],
          ],
          [
            [5, 6],
            [7, 8],
          ],
          [17, 23, 39, 53],
        ],
      ];
      for (const [qv, kv, e] of cases) {
        const [q, k] = [tf.tensor2d(qv), tf.tensor2d(kv)];
        const s = attentionSteps(q, k, k);
        await expectClose(s.scores, e, ctx.tol);
        await expectClose(
          s.scaledScores,
          e.map((x) => x / Math.sqrt(qv[0]!.length)),
          ctx.tol,
        );
        tf.dispose([q, k, s.scores, s.scaledScores, s.maskedScores, s.weights, s.output]);
      }
    });

    it("seed 001's causal walkthrough: masked entries exactly 0, rows sum to 1, output = weighted sum of values", async () => {
      // Seed 001's illustrative scaled scores ("life is short eat dessert first"), used as QKᵀ with scale 1:
      // q = scores, k = I gives QKᵀ = scores.
      const scaled = [
        [0.5, 0.4, 0.3, 0.2, 0.1, 0.0],
        [0.2, 0.6, 0.4, 0.1, 0.1, 0.0],
        [0.2, 0.3, 0.7, 0.2, 0.2, 0.1],
        [0.1, 0.1, 0.2, 0.6, 0.4, 0.2],
        [0.1, 0.1, 0.2, 0.2, 0.7, 0.5],
        [0.0, 0.1, 0.1, 0.2, 0.3, 0.7],
      ];
      const vv = lcg(6 * 3, 11);
      const [q, k, v] = [tf.tensor2d(scaled), tf.eye(6), tf.tensor2d(vv, [6, 3])];
      const s = attentionSteps(q, k, v, { causal: true, scale: 1 });
      const w = await read(s.weights);
      const ms = await read(s.maskedScores);
      for (let i = 0; i < 6; i++) {
        let sum = 0;
        for (let j = 0; j < 6; j++) {
          if (j > i) {
            expect(w[i * 6 + j]).toBe(0);
            expect(ms[i * 6 + j]).toBe(-Infinity);
          } else {
            expect(w[i * 6 + j]).toBeGreaterThan(0);
          }
          sum += w[i * 6 + j]!;
        }
        expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
      }
      // Row i: softmax over the first i + 1 scores, computed here in float64.
      const expected = scaled.flatMap((row, i) => {
        const e = row.map((x, j) => (j <= i ? Math.exp(x) : 0));
        const z = e.reduce((a, b) => a + b, 0);
        return e.map((x) => x / z);
      });
      await expectClose(w, expected, ctx.tol, 1e-7);
      await expectClose(s.output, matmul(w, vv, 6, 6, 3), ctx.tol);
      tf.dispose([q, k, v, s.scores, s.scaledScores, s.mask!, s.maskedScores, s.weights, s.output]);
    });

    it('bottom-right alignment and an explicit mask broadcast over the batch', async () => {
      // Tq = 1 query against Tk = 3 keys: top-left lets it see key 0 only, bottom-right all three.
      const q = tf.tensor3d([[[0.3, -0.2]]]);
      const k = tf.tensor3d([
        [
          [1, 0],
          [0, 1],
          [1, 1],
        ],
      ]);
      const v = tf.tensor3d([
        [
          [1, 0],
          [0, 1],
          [2, 2],
        ],
      ]);
      const tl = scaledDotProductAttention(q, k, v, { causal: true });
      await expectClose(tl.weights, [1, 0, 0], ctx.tol);
      const br = scaledDotProductAttention(q, k, v, { causal: true, alignment: 'bottom-right', scale: 1 });
      const e = [0.3, -0.2, 0.1].map(Math.exp);
      const z = e[0]! + e[1]! + e[2]!;
      await expectClose(
        br.weights,
        e.map((x) => x / z),
        ctx.tol,
      );
      await expectClose(br.output, [(e[0]! + 2 * e[2]!) / z, (e[1]! + 2 * e[2]!) / z], ctx.tol);
      const m = tf.tensor2d([[false, true, true]], undefined, 'bool'); // [Tq, Tk], broadcast over batch
      const mk = scaledDotProductAttention(q, k, v, { mask: m, scale: 1 });
      await expectClose(mk.weights, [0, e[1]! / (e[1]! + e[2]!), e[2]! / (e[1]! + e[2]!)], ctx.tol);
      tf.dispose([q, k, v, m, tl.output, tl.weights, br.output, br.weights, mk.output, mk.weights]);
    });

    it('a query with nothing to attend to gets weights 0, output 0 and finite gradients', async () => {
      const q = tf.tensor3d(lcg(2 * 3 * 4, 1), [2, 3, 4]);
      const k = tf.tensor3d(lcg(2 * 3 * 4, 2), [2, 3, 4]);
      const v = tf.tensor3d(lcg(2 * 3 * 2, 3), [2, 3, 2]);
      await expectNoLeak(async () => {
        const r = scaledDotProductAttention(q, k, v, { strictCausal: true }); // row 0 sees nothing
        const w = await read(r.weights);
        const o = await read(r.output);
        expect(w.every(Number.isFinite)).toBe(true);
        expect(o.every(Number.isFinite)).toBe(true);
        for (const b of [0, 1]) {
          expect(w.slice(b * 9, b * 9 + 3)).toEqual([0, 0, 0]);
          expect(o.slice(b * 6, b * 6 + 2)).toEqual([0, 0]);
          expect(w[b * 9 + 3]).toBeCloseTo(1, 6); // row 1 sees key 0 only
        }
        // A fully masked explicit mask: everything zero.
        const none = tf.zeros([3, 3], 'bool');
        const z = scaledDotProductAttention(q, k, v, { mask: none });
        expect(await read(z.weights)).toEqual(new Array(18).fill(0));
        expect(await read(z.output)).toEqual(new Array(12).fill(0));
        const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
          tf.sum(scaledDotProductAttention(a, b, c, { strictCausal: true }).output),
        )([q, k, v]);
        const gz = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
          tf.sum(scaledDotProductAttention(a, b, c, { mask: none }).output),
        )([q, k, v]);
        for (const g of [...grads, ...gz]) expect((await read(g)).every(Number.isFinite)).toBe(true);
        // The empty row contributes nothing: its query gradient is exactly 0.
        const gq = await read(grads[0]!);
        expect(gq.slice(0, 4)).toEqual([0, 0, 0, 0]);
        expect((await read(gz[2]!)).every((x) => x === 0)).toBe(true);
        tf.dispose([r.output, r.weights, none, z.output, z.weights, ...grads, ...gz]);
      });
      tf.dispose([q, k, v]);
    });

    it('gradients w.r.t. q, k and v match central finite differences', async () => {
      // f(q, k, v) = Σ output ⊙ C. All 2N perturbed copies of one input are evaluated as one batch.
      const [tq, tk, dk, dv] = [3, 4, 4, 2];
      const qv = lcg(tq * dk, 21),
        kv = lcg(tk * dk, 22),
        vv = lcg(tk * dv, 23),
        cv = lcg(tq * dv, 24);
      const mask = tf.tensor2d(
        [
          [T, T, F, T],
          [F, T, T, T],
          [T, T, T, T],
        ],
        undefined,
        'bool',
      );
      const opts = { mask, causal: true, alignment: 'bottom-right' as const };
      const C = tf.tensor2d(cv, [tq, dv]);
      const f = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) =>
        tf.sum(tf.mul(scaledDotProductAttention(q, k, v, opts).output, C));
      const [q, k, v] = [tf.tensor2d(qv, [tq, dk]), tf.tensor2d(kv, [tk, dk]), tf.tensor2d(vv, [tk, dv])];
      const analytic = await Promise.all(
        tf
          .grads(f)([q, k, v])
          .map(async (g) => {
            const a = await read(g);
            g.dispose();
            return a;
          }),
      );
      const eps = 1e-2;
      const inputs = [
        [qv, [tq, dk]],
        [kv, [tk, dk]],
        [vv, [tk, dv]],
      ] as const;
      for (let which = 0; which < 3; which++) {
        const [base, shape] = inputs[which]!;
        const n = base.length;
        const batch: number[] = [];
        for (let i = 0; i < n; i++)
          for (const sgn of [1, -1]) batch.push(...base.map((x, j) => (j === i ? x + sgn * eps : x)));
        const fd = tf.tidy(() => {
          const pert = tf.tensor3d(batch, [2 * n, shape[0], shape[1]]);
          const tile = (t: tf.Tensor) => tf.tile(tf.expandDims(t, 0), [2 * n, 1, 1]);
          const args = [tile(q), tile(k), tile(v)];
          args[which] = pert;
          const out = scaledDotProductAttention(args[0]!, args[1]!, args[2]!, opts).output;
          return tf.sum(tf.mul(out, C), [1, 2]);
        });
        const vals = await read(fd);
        fd.dispose();
        const numeric = Array.from({ length: n }, (_, i) => (vals[2 * i]! - vals[2 * i + 1]!) / (2 * eps));
        await expectClose(analytic[which]!, numeric, 1e-2, 2e-3);
      }
      tf.dispose([q, k, v, C, mask]);
    });

    it('batched heads [B, H, T, d] and a custom scale', async () => {
      const q = tf.tensor4d(lcg(2 * 2 * 3 * 2, 5), [2, 2, 3, 2]);
      const k = tf.tensor4d(lcg(2 * 2 * 3 * 2, 6), [2, 2, 3, 2]);
      const v = tf.tensor4d(lcg(2 * 2 * 3 * 2, 7), [2, 2, 3, 2]);
      await expectNoLeak(
        () => scaledDotProductAttention(q, k, v, { scale: 0.7 }),
        (r) => tf.dispose([r.output, r.weights]),
      );
      const r = scaledDotProductAttention(q, k, v, { scale: 0.7 });
      expect(r.weights.shape).toEqual([2, 2, 3, 3]);
      // Independent float64 reference, one (batch, head) slice at a time.
      const [qa, ka, va] = [await read(q), await read(k), await read(v)];
      const expW: number[] = [];
      const expO: number[] = [];
      for (let s = 0; s < 4; s++) {
        const qs = qa.slice(s * 6, s * 6 + 6),
          ks = ka.slice(s * 6, s * 6 + 6),
          vs = va.slice(s * 6, s * 6 + 6);
        const kt = [ks[0]!, ks[2]!, ks[4]!, ks[1]!, ks[3]!, ks[5]!];
        const sc = matmul(qs, kt, 3, 2, 3).map((x) => 0.7 * x);
        const w: number[] = [];
        for (let i = 0; i < 3; i++) {
          const e = sc.slice(i * 3, i * 3 + 3).map(Math.exp);
          const z = e[0]! + e[1]! + e[2]!;
          w.push(...e.map((x) => x / z));
        }
        expW.push(...w);
        expO.push(...matmul(w, vs, 3, 3, 2));
      }
      await expectClose(r.weights, expW, ctx.tol);
      await expectClose(r.output, expO, ctx.tol);
      tf.dispose([q, k, v, r.output, r.weights]);
    });

    it('maskedSoftmax: empty rows give zeros, others a softmax over allowed entries', async () => {
      const s = tf.tensor2d([
        [1, 2, 3],
        [-1e30, 5, 0],
      ]);
      const m = tf.tensor2d(
        [
          [F, F, F],
          [T, F, T],
        ],
        undefined,
        'bool',
      );
      const w = maskedSoftmax(s, m);
      await expectClose(w, [0, 0, 0, 0, 0, 1], ctx.tol, 1e-7);
      tf.dispose([s, m, w]);
    });
  },
  undefined,
);

describeBackends(
  'scaledDotProductAttention validation',
  () => {
    it('names the function, argument, value and what is allowed', () => {
      const q = tf.ones([3, 4]),
        k = tf.ones([5, 4]),
        v = tf.ones([5, 2]);
      const bad = tf.ones([3]);
      expect(() => scaledDotProductAttention(bad, k, v)).toThrow(
        /scaledDotProductAttention: q must be rank ≥ 2 \[..., Tq, dk\]; got shape \[3\]/,
      );
      expect(() => scaledDotProductAttention(q, tf.ones([5, 3]), v)).toThrow(
        /k's last dim must equal q's dk = 4; got k shape \[5, 3\]/,
      );
      expect(() => scaledDotProductAttention(q, k, tf.ones([4, 2]))).toThrow(
        /v must have Tk = 5 rows \(as k\); got v shape \[4, 2\]/,
      );
      expect(() => scaledDotProductAttention(q, k, v, { causal: true, strictCausal: true })).toThrow(
        /options.causal and options.strictCausal are exclusive/,
      );
      expect(() => scaledDotProductAttention(q, k, v, { alignment: 'left' as never })).toThrow(
        /options.alignment must be one of 'top-left', 'bottom-right'; got "left"/,
      );
      expect(() => scaledDotProductAttention(q, k, v, { scale: NaN })).toThrow(
        /options.scale must be a finite number; got NaN/,
      );
      const fm = tf.ones([3, 5]);
      expect(() => scaledDotProductAttention(q, k, v, { mask: fm })).toThrow(
        /options.mask must have dtype bool \(true = may attend\); got float32/,
      );
      const bm = tf.ones([2, 5], 'bool');
      expect(() => scaledDotProductAttention(q, k, v, { mask: bm })).toThrow(
        /options.mask must broadcast to the weights' shape \[3, 5\] \[..., Tq, Tk\]; got \[2, 5\]/,
      );
      tf.dispose([q, k, v, bad, fm, bm]);
    });
  },
  ['cpu'],
);
