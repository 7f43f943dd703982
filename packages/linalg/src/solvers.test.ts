import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose, expectNoLeak, read } from '@attnlab/backend/testing';
import { cholesky, det, solve } from './index.js';

describeBackends('det', () => {
  it('matches hand-computed determinants', async () => {
    const cases: Array<[number[][], number]> = [
      [
        [
          [1, 2],
          [3, 4],
        ],
        -2,
      ],
      [
        [
          [6, 1, 1],
          [4, -2, 5],
          [2, 8, 7],
        ],
        -306,
      ], // 6(−14−40) − 1(28−10) + 1(32+4)
      [
        [
          [2, 0, 1],
          [1, 3, 2],
          [1, 1, 1],
        ],
        0,
      ], // row 3 = (row 1 + row 2)/3 … exactly singular
      [
        [
          [0, 1, 0],
          [0, 0, 1],
          [1, 0, 0],
        ],
        1,
      ], // cyclic permutation (even)
      [
        [
          [0, 1],
          [1, 0],
        ],
        -1,
      ], // transposition (odd)
      // Vandermonde on x = 1, 2, 4, 7: Π_{i<j} (x_j − x_i) = 1·3·6·2·5·3 = 540
      [
        [
          [1, 1, 1, 1],
          [1, 2, 4, 8],
          [1, 4, 16, 64],
          [1, 7, 49, 343],
        ],
        540,
      ],
    ];
    for (const [rows, want] of cases) {
      const a = tf.tensor2d(rows);
      const d = await det(a);
      expect(d.shape).toEqual([]);
      await expectClose(d, [want], 1e-6, 1e-6);
      tf.dispose([a, d]);
    }
  });

  it('computes in float64: the 6×6 Hilbert matrix with float32 entries', async () => {
    // mpmath (60 digits) determinant of the float32-rounded Hilbert matrix; the exact Hilbert
    // determinant is 5.3673e-18, so the 3% gap is the input rounding, not the algorithm.
    const h = tf.tensor2d(Array.from({ length: 6 }, (_, i) => Array.from({ length: 6 }, (_, j) => 1 / (i + j + 1))));
    const d = await det(h);
    await expectClose(d, [5.54662874472569e-18], 1e-5, 0);
    tf.dispose([h, d]);
  });

  it('is batched over leading dimensions and leaks nothing', async () => {
    const t = 0.7;
    const a = tf.tensor4d([
      [
        [
          [Math.cos(t), -Math.sin(t)],
          [Math.sin(t), Math.cos(t)],
        ],
        [
          [2, 0],
          [0, 3],
        ],
      ],
      [
        [
          [1, 2],
          [2, 4],
        ],
        [
          [0, 0],
          [0, 0],
        ],
      ],
    ]);
    const d = await det(a);
    expect(d.shape).toEqual([2, 2]);
    await expectClose(d, [1, 6, 0, 0], 1e-6, 1e-6);
    await expectNoLeak(
      () => det(a),
      (x) => x.dispose(),
    );
    tf.dispose([a, d]);
  });

  it('rejects non-square input', async () => {
    const a = tf.zeros([2, 3]);
    await expect(det(a)).rejects.toThrow(
      'det: a must be square in its last two dimensions [..., n, n]; got shape [2, 3]',
    );
    a.dispose();
  });
});

describeBackends('solve', () => {
  it('solves a 3×3 system with a vector right-hand side', async () => {
    // [[3,2,−1],[2,−2,4],[−1,½,−1]] · [1,−2,−2] = [1,−2,0] (by hand)
    const a = tf.tensor2d([
      [3, 2, -1],
      [2, -2, 4],
      [-1, 0.5, -1],
    ]);
    const b = tf.tensor1d([1, -2, 0]);
    const x = await solve(a, b);
    expect(x.shape).toEqual([3]);
    await expectClose(x, [1, -2, -2], 1e-6);
    await expectNoLeak(
      () => solve(a, b),
      (t) => t.dispose(),
    );
    tf.dispose([a, b, x]);
  });

  it('solves batched systems with several right-hand sides', async () => {
    const a = tf.tensor3d([
      [
        [2, 0],
        [0, 4],
      ],
      [
        [1, 1],
        [1, -1],
      ],
    ]);
    const b = tf.tensor3d([
      [
        [2, 4],
        [2, 8],
      ],
      [
        [3, 1],
        [1, 1],
      ],
    ]);
    const x = await solve(a, b);
    expect(x.shape).toEqual([2, 2, 2]);
    // second: x + y = 3, x − y = 1 → (2, 1); x + y = 1, x − y = 1 → (1, 0)
    await expectClose(x, [1, 2, 0.5, 2, 2, 1, 1, 0], 1e-6, 1e-7);
    tf.dispose([a, b, x]);
  });

  it('throws on a singular matrix and on mismatched shapes', async () => {
    const s = tf.tensor2d([
      [1, 2],
      [2, 4],
    ]);
    const b = tf.tensor1d([1, 1]);
    await expect(solve(s, b)).rejects.toThrow('solve: a is singular');
    const b3 = tf.tensor1d([1, 1, 1]);
    await expect(solve(s, b3)).rejects.toThrow('solve: a vector b [n] needs a single matrix a [n, n]');
    const bm = tf.zeros([3, 1]);
    await expect(solve(s, bm)).rejects.toThrow('solve: b must be [2, k]');
    tf.dispose([s, b, b3, bm]);
  });
});

describeBackends('cholesky', () => {
  it('factors the classic SPD example exactly', async () => {
    const a = tf.tensor2d([
      [4, 12, -16],
      [12, 37, -43],
      [-16, -43, 98],
    ]);
    const L = await cholesky(a);
    await expectClose(L, [2, 0, 0, 6, 1, 0, -8, 5, 3], 1e-6, 1e-6);
    await expectNoLeak(
      () => cholesky(a),
      (t) => t.dispose(),
    );
    tf.dispose([a, L]);
  });

  it('is batched and L·Lᵀ reconstructs the input', async () => {
    const a = tf.tensor3d([
      [
        [4, 2],
        [2, 3],
      ],
      [
        [1, 0.5],
        [0.5, 1],
      ],
    ]);
    const L = await cholesky(a);
    await expectClose(L, [2, 0, 1, Math.SQRT2, 1, 0, 0.5, Math.sqrt(0.75)], 1e-6, 1e-7);
    const back = tf.matMul(L, L, false, true);
    await expectClose(back, await read(a), 1e-6, 1e-6);
    tf.dispose([a, L, back]);
  });

  it('says which minor fails when the matrix is not positive definite', async () => {
    const a = tf.tensor2d([
      [1, 2],
      [2, 1],
    ]); // eigenvalues 3, −1
    await expect(cholesky(a)).rejects.toThrow(
      'cholesky: a must be symmetric positive definite; the leading 2×2 minor is not (pivot -3)',
    );
    const batch = tf.tensor3d([
      [
        [1, 0],
        [0, 1],
      ],
      [
        [-1, 0],
        [0, 1],
      ],
    ]);
    await expect(cholesky(batch)).rejects.toThrow('(matrix 1 of the batch)');
    tf.dispose([a, batch]);
  });
});
