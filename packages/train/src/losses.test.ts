import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose, expectNoLeak, read } from '@attnlab/backend/testing';
import { crossEntropy, meanSquaredError } from './index.js';

// Independent float64 references (hand-coded closed forms, no tfjs).
function mse64(p: number[], t: number[]): number {
  return p.reduce((s, x, i) => s + (x - t[i]!) ** 2, 0) / p.length;
}
function ce64(logits: number[][], labels: number[]): number {
  let s = 0;
  logits.forEach((row, i) => {
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
    s += lse - row[labels[i]!]!;
  });
  return s / logits.length;
}
/** Central finite differences of a float64 function. */
function numericGrad(f: (x: number[]) => number, x: number[], h = 1e-6): number[] {
  return x.map((_, i) => {
    const a = [...x],
      b = [...x];
    a[i]! += h;
    b[i]! -= h;
    return (f(a) - f(b)) / (2 * h);
  });
}

const P = [
  [1, 2],
  [3, 4],
];
const T = [
  [0.5, 2.5],
  [-1, 4],
];
const LOGITS = [
  [1, 2, 3],
  [1, 1, 1],
  [1000, 0, -1000],
  [-0.5, 0.25, 2],
];
const LABELS = [2, 0, 1, 0];
// torch.nn.CrossEntropyLoss()(x.double(), y) with PyTorch 1.13 (Debian python3-torch):
// loss 251.0585095018965, d loss/dx (flattened) below.
const CE_TORCH = 251.0585095018965;
const CE_GRAD_TORCH = [
  0.0225076432926, 0.0611821177637, -0.0836897610563, -0.166666666667, 0.0833333333333, 0.0833333333333, 0.25, -0.25,
  0.0, -0.233659590286, 0.0345926476351, 0.199066942651,
];

describeBackends('meanSquaredError', (ctx) => {
  it('matches the closed form and torch.nn.MSELoss (4.125)', async () => {
    const p = tf.tensor2d(P),
      t = tf.tensor2d(T);
    const l = await expectNoLeak(
      () => meanSquaredError(p, t),
      (x) => x.dispose(),
    );
    expect(mse64(P.flat(), T.flat())).toBeCloseTo(4.125, 12);
    const l2 = meanSquaredError(p, t);
    await expectClose(l2, 4.125, ctx.tol);
    expect(l.shape).toEqual([]);
    tf.dispose([p, t, l2]);
  });

  it('gradient equals 2(pred − target)/n and finite differences', async () => {
    const p = tf.tensor2d(P),
      t = tf.tensor2d(T);
    const g = tf.grad((x: tf.Tensor) => meanSquaredError(x, t))(p);
    const fd = numericGrad((x) => mse64(x, T.flat()), P.flat());
    await expectClose(g, [0.25, -0.25, 2, 0], ctx.tol, 1e-6); // torch: [0.25, -0.25, 2.0, 0.0]
    await expectClose(g, fd, 1e-4, 1e-6);
    tf.dispose([p, t, g]);
  });

  it('rejects mismatched shapes naming both', () => {
    const p = tf.zeros([2, 3]),
      t = tf.zeros([3, 2]);
    expect(() => meanSquaredError(p, t)).toThrow(
      /meanSquaredError: target must have the shape of pred \[2, 3\]; got shape \[3, 2\]/,
    );
    tf.dispose([p, t]);
  });
});

describeBackends('crossEntropy', (ctx) => {
  it('matches torch.nn.CrossEntropyLoss, stable for logits ±1000', async () => {
    const x = tf.tensor2d(LOGITS);
    expect(ce64(LOGITS, LABELS)).toBeCloseTo(CE_TORCH, 9);
    const l = await expectNoLeak(
      () => crossEntropy(x, LABELS),
      (r) => r.dispose(),
    );
    const l2 = crossEntropy(x, LABELS);
    const v = (await read(l2))[0]!;
    expect(Number.isFinite(v)).toBe(true);
    await expectClose(l2, CE_TORCH, ctx.tol);
    expect(l.shape).toEqual([]);
    tf.dispose([x, l2]);
  });

  it('closed forms: uniform logits give ln C; int32 tensor labels work', async () => {
    const x = tf.zeros([3, 5]);
    const y = tf.tensor1d([0, 4, 2], 'int32');
    const l = crossEntropy(x, y);
    await expectClose(l, Math.log(5), ctx.tol);
    tf.dispose([x, y, l]);
  });

  it('gradient equals (softmax − onehot)/N, torch and finite differences', async () => {
    const x = tf.tensor2d(LOGITS);
    const g = tf.grad((z: tf.Tensor) => crossEntropy(z, LABELS))(x);
    await expectClose(g, CE_GRAD_TORCH, ctx.tol, 1e-6);
    // finite differences on a moderate-logit copy (h = 1e-6 is meaningless next to 1000)
    const small = [
      [1, 2, 3],
      [1, 1, 1],
      [0.3, -0.2, 0.1],
      [-0.5, 0.25, 2],
    ];
    const xs = tf.tensor2d(small);
    const gs = tf.grad((z: tf.Tensor) => crossEntropy(z, LABELS))(xs);
    const rows = (flat: number[]) => [0, 1, 2, 3].map((i) => flat.slice(3 * i, 3 * i + 3));
    const fd = numericGrad((f) => ce64(rows(f), LABELS), small.flat());
    await expectClose(gs, fd, 1e-4, 1e-6);
    tf.dispose([x, g, xs, gs]);
  });

  it('an out-of-range int32 tensor label gives NaN, not a silent 0', async () => {
    const x = tf.zeros([2, 3]);
    for (const bad of [3, -1, 7]) {
      const y = tf.tensor1d([0, bad], 'int32');
      const l = crossEntropy(x, y);
      expect(Number.isNaN((await l.data())[0])).toBe(true);
      tf.dispose([y, l]);
    }
    x.dispose();
  });

  it('validates labels', () => {
    const x = tf.zeros([2, 3]);
    expect(() => crossEntropy(x, [0, 3])).toThrow(
      /crossEntropy: labels\[1\] must be an integer class index in \[0, 2\]; got 3/,
    );
    expect(() => crossEntropy(x, [0])).toThrow(/crossEntropy: labels must have 2 entries/);
    expect(() => crossEntropy(x, [0, -1])).toThrow(RangeError);
    const f = tf.tensor1d([0, 1]);
    expect(() => crossEntropy(x, f)).toThrow(/labels must be an int32 tensor.*got dtype float32/);
    const r1 = tf.zeros([3]);
    expect(() => crossEntropy(r1, [0])).toThrow(/crossEntropy: logits must be rank 2 \[N, C\]; got shape \[3\]/);
    tf.dispose([x, f, r1]);
  });
});
