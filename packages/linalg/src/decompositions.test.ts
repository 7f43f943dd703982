import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose, expectNoLeak, read } from '@attnlab/backend/testing';
import { eigenvalues, pinv, singularValues, svd } from './index.js';

/** Asserts that `q` `[m, k]` has orthonormal columns (qᵀq = I) within `tol`. */
async function expectOrthonormalColumns(q: tf.Tensor2D, tol: number): Promise<void> {
  const k = q.shape[1];
  const g = tf.matMul(q, q, true, false);
  const eye = tf.eye(k);
  await expectClose(g, await read(eye), 0, tol);
  tf.dispose([g, eye]);
}

/** U · diag(S) · Vt for one matrix. */
function reconstruct(U: tf.Tensor, S: tf.Tensor, Vt: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.matMul(tf.mul(U, tf.expandDims(S, -2)), Vt));
}

// A fixed 5×4 matrix; its singular values by numpy.linalg.svd (float64) on the same entries.
const A54 = [
  [2, -1, 0.5, 3],
  [1, 4, -2, 0],
  [0.5, 0, 1, -1],
  [3, 2, 1, 1],
  [-1, 0.25, 2, 5],
];
const A54_S = [6.3949566885, 5.2588134705, 3.2311732393, 1.8898225662];

// Singular values of the 10×10 Hilbert matrix with entries rounded to float32 (what a float32
// tensor holds), by mpmath at 80 digits (eigsy of the rounded, still SPD matrix). The exact
// Hilbert matrix has σ_min = 1.0932e-13; float32 rounding alone moves it to 6.18e-10, and float32
// arithmetic could not resolve either: the point of computing in float64.
const HILBERT10_F32_S = [
  1.7519196895547375, 0.3429295507722359, 0.035741817851986005, 0.002530890008734193, 0.0001287537565854982,
  4.729214893945525e-6, 1.2467663117645415e-7, 3.0141621202579255e-9, 1.719276252920153e-9, 6.181756282376917e-10,
];

const hilbert = (n: number): number[][] =>
  Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => 1 / (i + j + 1)));

describeBackends('svd', (ctx) => {
  it('reconstructs a tall matrix with orthonormal factors and numpy singular values', async () => {
    const a = tf.tensor2d(A54);
    const { U, S, Vt } = await svd(a);
    await expectNoLeak(
      () => svd(a),
      (r) => tf.dispose([r.U, r.S, r.Vt]),
    );
    expect(U.shape).toEqual([5, 4]);
    expect(S.shape).toEqual([4]);
    expect(Vt.shape).toEqual([4, 4]);
    await expectClose(S, A54_S, 1e-6);
    const back = reconstruct(U, S, Vt);
    await expectClose(back, A54.flat(), 0, 1e-5);
    await expectOrthonormalColumns(U as tf.Tensor2D, 1e-6);
    const V = tf.transpose(Vt) as tf.Tensor2D;
    await expectOrthonormalColumns(V, 1e-6);
    tf.dispose([a, U, S, Vt, back, V]);
  });

  it('handles a wide matrix: U [m, m], Vt [m, n]', async () => {
    const a = tf.transpose(tf.tensor2d(A54)); // 4×5, same singular values
    const { U, S, Vt } = await svd(a);
    expect(U.shape).toEqual([4, 4]);
    expect(Vt.shape).toEqual([4, 5]);
    await expectClose(S, A54_S, 1e-6);
    const back = reconstruct(U, S, Vt);
    await expectClose(back, await read(a), 0, 1e-5);
    const V = tf.transpose(Vt) as tf.Tensor2D;
    await expectOrthonormalColumns(V, 1e-6);
    tf.dispose([a, U, S, Vt, back, V]);
  });

  it('is batched over leading dimensions', async () => {
    const a = tf.tensor3d([
      A54.slice(0, 3).map((r) => r.slice(0, 2)),
      [
        [3, 0],
        [4, 5],
        [0, 0],
      ],
    ]); // [2, 3, 2]
    const { U, S, Vt } = await svd(a);
    expect(U.shape).toEqual([2, 3, 2]);
    expect(S.shape).toEqual([2, 2]);
    expect(Vt.shape).toEqual([2, 2, 2]);
    // Second matrix: AᵀA = [[25, 20], [20, 25]] → σ² = 45, 5.
    const s = await read(S);
    await expectClose(s.slice(2), [Math.sqrt(45), Math.sqrt(5)], 1e-6);
    const back = reconstruct(U, S, Vt);
    await expectClose(back, await read(a), 0, 1e-5);
    tf.dispose([a, U, S, Vt, back]);
  });

  it('gives orthonormal U for a rank-deficient matrix (zero singular values)', async () => {
    // Rank 1: every row a multiple of [1, 2, 2]; σ = ‖[1,2,3,0]‖·‖[1,2,2]‖ = √14·3.
    const a = tf.tensor2d([
      [1, 2, 2],
      [2, 4, 4],
      [3, 6, 6],
      [0, 0, 0],
    ]);
    const { U, S, Vt } = await svd(a);
    await expectClose(S, [3 * Math.sqrt(14), 0, 0], 1e-6, 1e-6);
    await expectOrthonormalColumns(U as tf.Tensor2D, 1e-6);
    const back = reconstruct(U, S, Vt);
    await expectClose(back, await read(a), 0, 1e-5);
    tf.dispose([a, U, S, Vt, back]);
  });

  it('rejects NaN and vectors with a clear message', async () => {
    const v = tf.tensor1d([1, 2]);
    await expect(svd(v)).rejects.toThrow('svd: a must be rank ≥ 2 [..., rows, cols]; got shape [2]');
    const n = tf.tensor2d([
      [1, NaN],
      [0, 1],
    ]);
    await expect(svd(n)).rejects.toThrow('svd: a contains NaN or Infinity');
    tf.dispose([v, n]);
  });

  if (ctx.backend === 'cpu') {
    it('rejects non-tensors and bool tensors', async () => {
      await expect(svd([[1]] as unknown as tf.Tensor)).rejects.toThrow(TypeError);
      const b = tf.tensor2d([[true]], [1, 1], 'bool');
      await expect(svd(b)).rejects.toThrow('svd: a must have dtype float32 or int32; got bool');
      b.dispose();
    });
  }
});

describeBackends('singularValues', () => {
  it('matches the 10×10 Hilbert matrix (float32 entries) to float32 precision, σ_min ≈ 6.2e-10', async () => {
    const h = tf.tensor2d(hilbert(10));
    const s = await singularValues(h);
    await expectNoLeak(
      () => singularValues(h),
      (t) => t.dispose(),
    );
    await expectClose(s, HILBERT10_F32_S, 1e-5, 0);
    tf.dispose([h, s]);
  });

  it('agrees with svd and is batched', async () => {
    const a = tf.stack([tf.tensor2d(A54), tf.mul(tf.tensor2d(A54), 2)]);
    const s = await singularValues(a);
    expect(s.shape).toEqual([2, 4]);
    await expectClose(s, [...A54_S, ...A54_S.map((x) => 2 * x)], 1e-6);
    tf.dispose([a, s]);
  });
});

describeBackends('pinv', () => {
  async function expectMoorePenrose(a: tf.Tensor2D, p: tf.Tensor2D): Promise<void> {
    const apa = tf.matMul(tf.matMul(a, p), a);
    const pap = tf.matMul(tf.matMul(p, a), p);
    const ap = tf.matMul(a, p);
    const pa = tf.matMul(p, a);
    const scale = Math.max(...(await read(tf.max(tf.abs(a)))));
    await expectClose(apa, await read(a), 0, 1e-5 * scale); // A A⁺ A = A
    await expectClose(pap, await read(p), 0, 1e-5 * Math.max(1, ...(await read(tf.max(tf.abs(p)))))); // A⁺ A A⁺ = A⁺
    await expectClose(ap, await read(tf.transpose(ap)), 0, 1e-5); // (A A⁺)ᵀ = A A⁺
    await expectClose(pa, await read(tf.transpose(pa)), 0, 1e-5); // (A⁺ A)ᵀ = A⁺ A
    tf.dispose([apa, pap, ap, pa]);
  }

  it('satisfies the four Moore–Penrose conditions (tall, wide, rank-deficient)', async () => {
    const tall = tf.tensor2d(A54);
    const wide = tf.transpose(tf.tensor2d(A54)) as tf.Tensor2D;
    const deficient = tf.tensor2d([
      [1, 2, 3, 4],
      [2, 4, 6, 8],
      [1, 0, 1, 0],
      [3, 4, 7, 8],
    ]); // rank 2
    for (const a of [tall, wide, deficient]) {
      await expectNoLeak(
        () => pinv(a),
        (t) => t.dispose(),
      );
      const p = (await pinv(a)) as tf.Tensor2D;
      expect(p.shape).toEqual([a.shape[1], a.shape[0]]);
      await expectMoorePenrose(a, p);
      p.dispose();
    }
    tf.dispose([tall, wide, deficient]);
  });

  it('gives the closed form for a rank-one matrix: uvᵀ⁺ = vuᵀ/(‖u‖²‖v‖²)', async () => {
    const a = tf.tensor2d([
      [1, 2],
      [2, 4],
    ]); // [1,2]ᵀ[1,2] → A/25
    const p = await pinv(a);
    await expectClose(p, [0.04, 0.08, 0.08, 0.16], 1e-6, 1e-7);
    tf.dispose([a, p]);
  });

  it('applies numpy’s rcond cut-off relative to the largest singular value', async () => {
    const a = tf.tensor2d([
      [1, 0],
      [0, 1e-20],
    ]);
    const cut = await pinv(a); // 1e-20 ≤ 1e-15·1 → treated as zero
    await expectClose(cut, [1, 0, 0, 0], 1e-6, 0);
    const kept = await pinv(a, 0);
    await expectClose(kept, [1, 0, 0, 1e20], 1e-6, 0);
    tf.dispose([a, cut, kept]);
    await expect(pinv(tf.tensor2d([[1]]), -1)).rejects.toThrow('pinv: rcond must be a finite number ≥ 0; got -1');
  });

  it('is batched: [2, 3, 2] → [2, 2, 3]', async () => {
    const a = tf.tensor3d([
      [
        [1, 0],
        [0, 2],
        [0, 0],
      ],
      [
        [3, 0],
        [0, 0],
        [0, 4],
      ],
    ]);
    const p = await pinv(a);
    expect(p.shape).toEqual([2, 2, 3]);
    await expectClose(p, [1, 0, 0, 0, 0.5, 0, 1 / 3, 0, 0, 0, 0, 0.25], 1e-6, 1e-7);
    tf.dispose([a, p]);
  });
});

describeBackends('eigenvalues', () => {
  async function eig(rows: number[][]): Promise<{ re: number[]; im: number[] }> {
    const a = tf.tensor2d(rows);
    await expectNoLeak(
      () => eigenvalues(a),
      (x) => tf.dispose([x.real, x.imag]),
    );
    const r = await eigenvalues(a);
    const out = { re: await read(r.real), im: await read(r.imag) };
    tf.dispose([a, r.real, r.imag]);
    return out;
  }

  it('gives ±i for a quarter-turn rotation and e^{±iθ} for a rotation by θ', async () => {
    const q = await eig([
      [0, -1],
      [1, 0],
    ]);
    await expectClose(q.re, [0, 0], 1e-6, 1e-6);
    await expectClose(q.im, [1, -1], 1e-6);
    const t = 0.3;
    const r = await eig([
      [Math.cos(t), -Math.sin(t)],
      [Math.sin(t), Math.cos(t)],
    ]);
    await expectClose(r.re, [Math.cos(t), Math.cos(t)], 1e-6);
    await expectClose(r.im, [Math.sin(t), -Math.sin(t)], 1e-6);
  });

  it('finds the roots of polynomials from their companion matrices', async () => {
    // x³ − 6x² + 11x − 6 = (x−1)(x−2)(x−3)
    const c3 = await eig([
      [6, -11, 6],
      [1, 0, 0],
      [0, 1, 0],
    ]);
    await expectClose(c3.re, [3, 2, 1], 1e-6);
    await expectClose(c3.im, [0, 0, 0], 0, 1e-6);
    // x⁴ + 1: roots (±1 ± i)/√2, a pair of conjugate pairs
    const h = Math.SQRT1_2;
    const c4 = await eig([
      [0, 0, 0, -1],
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
    ]);
    await expectClose(c4.re, [h, h, -h, -h], 1e-6);
    await expectClose(c4.im, [h, -h, h, -h], 1e-6);
    // x² + x + 1: −1/2 ± i√3/2
    const c2 = await eig([
      [-1, -1],
      [1, 0],
    ]);
    await expectClose(c2.re, [-0.5, -0.5], 1e-6);
    await expectClose(c2.im, [Math.sqrt(3) / 2, -Math.sqrt(3) / 2], 1e-6);
    // x⁵ − 15x⁴ + 85x³ − 225x² + 274x − 120 = (x−1)(x−2)(x−3)(x−4)(x−5)
    const c5 = await eig([
      [15, -85, 225, -274, 120],
      [1, 0, 0, 0, 0],
      [0, 1, 0, 0, 0],
      [0, 0, 1, 0, 0],
      [0, 0, 0, 1, 0],
    ]);
    await expectClose(c5.re, [5, 4, 3, 2, 1], 1e-5);
    await expectClose(c5.im, [0, 0, 0, 0, 0], 0, 1e-5);
  });

  it('matches numpy.linalg.eigvals on a general 5×5 matrix, and the diagonal of a triangular one', async () => {
    const m = await eig([
      [4, 1, -2, 0, 3],
      [1, -3, 0.5, 2, 1],
      [0, 2, 1, -1, 0.5],
      [2, 0, -1, 3, 1],
      [-1, 1, 2, 0, -2],
    ]);
    // numpy.linalg.eigvals (float64), sorted descending
    await expectClose(m.re, [4.4145048617, 2.2304279711, 1.6783527099, -1.7807950013, -3.5424905414], 1e-6);
    await expectClose(m.im, [0, 0, 0, 0, 0], 0, 1e-6);
    const tri = await eig([
      [2, 5, -1],
      [0, -1, 7],
      [0, 0, 0.5],
    ]);
    await expectClose(tri.re, [2, 0.5, -1], 1e-6);
    const defective = await eig([
      [1, 1],
      [0, 1],
    ]);
    await expectClose(defective.re, [1, 1], 1e-6);
  });

  it('matches numpy.linalg.eigvals on a 6×6 matrix with two complex pairs; handles 1×1', async () => {
    const m = await eig([
      [1, 2, 0, -1, 3, 0.5],
      [-2, 1, 1, 0, 0, 1],
      [0.5, -1, 2, 3, -1, 0],
      [1, 0, -3, 1, 2, -1],
      [0, 1, 1, -2, 0, 2],
      [2, -1, 0, 1, -1, -1],
    ]);
    // numpy.linalg.eigvals (float64), ordered by our convention
    await expectClose(
      m.re,
      [
        2.115030639490335, 0.835110711276641, 0.835110711276641, 0.721424469843099, -0.25333826594335723,
        -0.25333826594335723,
      ],
      1e-6,
    );
    await expectClose(
      m.im,
      [0, 4.50095401160995, -4.50095401160995, 0, 1.4141807162764077, -1.4141807162764077],
      1e-6,
      1e-6,
    );
    const one = await eig([[-3]]);
    expect(one).toEqual({ re: [-3], im: [0] });
  });

  it('is batched and rejects non-square input', async () => {
    const a = tf.tensor3d([
      [
        [0, -2],
        [2, 0],
      ],
      [
        [1, 0],
        [0, 3],
      ],
    ]);
    const { real, imag } = await eigenvalues(a);
    expect(real.shape).toEqual([2, 2]);
    await expectClose(real, [0, 0, 3, 1], 1e-6, 1e-6);
    await expectClose(imag, [2, -2, 0, 0], 1e-6, 1e-6);
    const r = tf.zeros([2, 3]);
    await expect(eigenvalues(r)).rejects.toThrow(
      'eigenvalues: a must be square in its last two dimensions [..., n, n]; got shape [2, 3]',
    );
    tf.dispose([a, real, imag, r]);
  });
});
