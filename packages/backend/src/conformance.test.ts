import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose, expectNoLeak, read } from './testing.js';

// The conformance suite: numbers computed by hand or in closed form, checked on every backend.
describeBackends('conformance', (ctx) => {
  it('matMul equals the hand-computed product (seed 002, Example 1: Q Kᵀ)', async () => {
    const q = tf.tensor2d([
      [1, 2, 3],
      [1, 2, 1],
    ]);
    const k = tf.tensor2d([
      [1, 2, 1],
      [2, 1, 3],
    ]);
    const r = tf.matMul(q, k, false, true);
    await expectClose(r, [8, 13, 6, 7], ctx.tol);
    tf.dispose([q, k, r]);
  });

  it('batched matMul with transposes', async () => {
    const a = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
    const r = tf.matMul(a, a, true, false); // aᵀ a per batch
    await expectClose(r, [10, 14, 14, 20, 74, 86, 86, 100], ctx.tol);
    tf.dispose([a, r]);
  });

  it('softmax matches exp(x)/Σexp(x) and rows sum to one', async () => {
    const x = tf.tensor2d([
      [1, 2, 3],
      [-1000, 0, 1000],
    ]);
    const s = tf.softmax(x);
    const e = [1, Math.E, Math.E ** 2];
    const z = e[0]! + e[1]! + e[2]!;
    await expectClose(s, [e[0]! / z, e[1]! / z, e[2]! / z, 0, 0, 1], ctx.tol, 1e-7);
    tf.dispose([x, s]);
  });

  it('masked softmax gives masked entries exactly zero', async () => {
    const scores = tf.tensor2d([
      [0.5, 0.2, 0.9],
      [0.1, 0.4, 0.3],
      [1, 1, 1],
    ]);
    const allowed = tf.tensor2d(
      [
        [1, 0, 0],
        [1, 1, 0],
        [1, 1, 1],
      ],
      undefined,
      'bool',
    ); // causal
    const masked = tf.where(allowed, scores, tf.fill([3, 3], -Infinity));
    const w = await read(tf.softmax(masked));
    expect(w[1]).toBe(0);
    expect(w[2]).toBe(0);
    expect(w[5]).toBe(0);
    await expectClose(w.slice(0, 1), [1], ctx.tol);
    const e1 = Math.exp(0.1),
      e2 = Math.exp(0.4);
    await expectClose([w[3]!, w[4]!], [e1 / (e1 + e2), e2 / (e1 + e2)], ctx.tol);
    await expectClose(w.slice(6), [1 / 3, 1 / 3, 1 / 3], ctx.tol);
    tf.disposeVariables();
  });

  it('gradient of sum(softmax(x W) ⊙ c) matches the closed form', async () => {
    // f(W) = Σ_j c_j softmax(xW)_j ; ∂f/∂W_ij = x_i p_j (c_j − Σ_k p_k c_k)
    const xv = [0.3, -1.2],
      cv = [1, -2, 0.5];
    const Wv = [
      [0.1, 0.2, -0.3],
      [0.4, -0.5, 0.6],
    ];
    const x = tf.tensor2d([xv]);
    const c = tf.tensor1d(cv);
    const W = tf.tensor2d(Wv);
    const g = tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.softmax(tf.matMul(x, w)), c)));
    const dW = g(W);
    const logits = [0, 1, 2].map((j) => xv[0]! * Wv[0]![j]! + xv[1]! * Wv[1]![j]!);
    const m = Math.max(...logits);
    const ex = logits.map((l) => Math.exp(l - m));
    const zs = ex.reduce((a, b) => a + b, 0);
    const p = ex.map((e) => e / zs);
    const pc = p.reduce((a, pj, j) => a + pj * cv[j]!, 0);
    const expected = [0, 1].flatMap((i) => [0, 1, 2].map((j) => xv[i]! * p[j]! * (cv[j]! - pc)));
    await expectClose(dW, expected, 1e-4, 1e-6);
    tf.dispose([x, c, W, dW]);
  });

  it('gradient through a masked softmax and matMul sends nothing to masked keys', async () => {
    const k = tf.tensor2d([
      [1, 0],
      [0, 1],
      [1, 1],
    ]);
    const q = tf.tensor2d([[0.5, -0.5]]);
    const mask = tf.tensor2d([[1, 1, 0]], undefined, 'bool');
    const g = tf.grad((kk: tf.Tensor) => {
      const s = tf.matMul(q, kk, false, true);
      const w = tf.softmax(tf.where(mask, s, tf.fill(s.shape, -Infinity)));
      return tf.sum(tf.mul(w, tf.tensor1d([1, 2, 3])));
    });
    const dk = await read(g(k));
    // Key 3 is masked: its gradient is exactly zero. Keys 1, 2: p = softmax([0.5, -0.5]),
    // ∂f/∂s_j = p_j (c_j − Σ p c), ∂f/∂k_j = ∂f/∂s_j · q.
    const p1 = 1 / (1 + Math.exp(-1)),
      p2 = 1 - p1;
    const pc = p1 * 1 + p2 * 2;
    const ds = [p1 * (1 - pc), p2 * (2 - pc)];
    await expectClose(dk, [ds[0]! * 0.5, ds[0]! * -0.5, ds[1]! * 0.5, ds[1]! * -0.5, 0, 0], 1e-4, 1e-6);
    tf.dispose([k, q, mask]);
  });

  it('seeded random draws are reproducible and have the right moments', async () => {
    const a = await read(tf.randomNormal([4000], 0, 1, 'float32', 42));
    const b = await read(tf.randomNormal([4000], 0, 1, 'float32', 42));
    const c = await read(tf.randomNormal([4000], 0, 1, 'float32', 43));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const v = a.reduce((s, x) => s + (x - mean) ** 2, 0) / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.06); // 4σ for n = 4000
    expect(Math.abs(v - 1)).toBeLessThan(0.09);
    const u = await read(tf.randomUniform([2000], 0, 1, 'float32', 7));
    expect(u).toEqual(await read(tf.randomUniform([2000], 0, 1, 'float32', 7)));
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
  });

  it('a tidy of many ops leaks no tensors', async () => {
    await expectNoLeak(async () => {
      const r = tf.tidy(() => tf.sum(tf.softmax(tf.matMul(tf.ones([4, 4]), tf.eye(4)))));
      const v = await r.data();
      r.dispose();
      expect(v[0]).toBeCloseTo(4, 5);
    });
  });
});
