import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose, expectNoLeak, read } from '@attnlab/backend/testing';
import { cayleyMengerVolumeSquared, corrcoef } from './index.js';

const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));

describeBackends('corrcoef', () => {
  it('matches hand-computed Pearson correlations (rows are variables)', async () => {
    // x = 1..5, y = [2,1,4,3,5]: centred dot 8, both sums of squares 10 → r = 0.8
    const x = tf.tensor2d([
      [1, 2, 3, 4, 5],
      [2, 1, 4, 3, 5],
    ]);
    const r = await corrcoef(x);
    expect(r.shape).toEqual([2, 2]);
    await expectClose(r, [1, 0.8, 0.8, 1], 1e-6);
    await expectNoLeak(
      () => corrcoef(x),
      (t) => t.dispose(),
    );
    // [1,2,3] vs [1,3,2]: centred [−1,0,1]·[−1,1,0] = 1, sums of squares 2 → 0.5
    const y = tf.tensor2d([
      [1, 2, 3],
      [1, 3, 2],
    ]);
    const ry = await corrcoef(y);
    await expectClose(ry, [1, 0.5, 0.5, 1], 1e-6);
    tf.dispose([x, r, y, ry]);
  });

  it('gives ±1 for exactly (anti)linear rows and NaN for a constant row', async () => {
    const x = tf.tensor2d([
      [1, 2, 3, 4],
      [2, 4, 6, 8],
      [4, 3, 2, 1],
      [5, 5, 5, 5],
    ]);
    const rt = await corrcoef(x);
    const r = await read(rt);
    rt.dispose();
    await expectClose(r.slice(0, 3), [1, 1, -1], 1e-6);
    await expectClose(r.slice(8, 11), [-1, -1, 1], 1e-6);
    expect(r.slice(12).every(Number.isNaN)).toBe(true);
    expect(Number.isNaN(r[3])).toBe(true);
    tf.dispose(x);
  });

  it('is batched and rejects a single observation', async () => {
    const x = tf.tensor3d([
      [
        [1, 2, 3],
        [3, 2, 1],
      ],
      [
        [1, 2, 3],
        [1, 3, 2],
      ],
    ]);
    const r = await corrcoef(x);
    expect(r.shape).toEqual([2, 2, 2]);
    await expectClose(r, [1, -1, -1, 1, 1, 0.5, 0.5, 1], 1e-6);
    const one = tf.zeros([3, 1]);
    await expect(corrcoef(one)).rejects.toThrow('corrcoef: x needs at least 2 observations');
    tf.dispose([x, r, one]);
  });
});

describeBackends('cayleyMengerVolumeSquared', () => {
  it('gives 1/(n!)² for the unit right simplex {0, e_1, …, e_n}, n = 1..6', async () => {
    for (let n = 1; n <= 6; n++) {
      const pts = [
        new Array(n).fill(0),
        ...Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))),
      ];
      const p = tf.tensor3d([pts]);
      const v2 = await cayleyMengerVolumeSquared(p);
      expect(v2.shape).toEqual([1]);
      await expectClose(v2, [1 / factorial(n) ** 2], 1e-6, 0);
      tf.dispose([p, v2]);
    }
  });

  it('gives (n+1)/(n!)² for the regular simplex {e_1, …, e_{n+1}} (edge √2), embedded in more dimensions', async () => {
    // Regular n-simplex with edge a: V = aⁿ/n! · √((n+1)/2ⁿ); with a = √2, V² = (n+1)/(n!)².
    for (const n of [2, 4]) {
      const d = n + 3;
      const pts = Array.from({ length: n + 1 }, (_, i) =>
        Array.from({ length: d }, (_, j) => (i === j ? 1 : 0) + (j === d - 1 ? 100 : 0)),
      );
      const p = tf.tensor3d([pts]);
      const v2 = await cayleyMengerVolumeSquared(p);
      await expectClose(v2, [(n + 1) / factorial(n) ** 2], 1e-6, 0);
      tf.dispose([p, v2]);
    }
  });

  it('is batched over leading dims, ≈0 for a degenerate simplex, and leaks nothing', async () => {
    // Triangles: legs 3 and 4 (area 6 → 36); collinear (0); equilateral side 2 (area √3 → 3).
    const p = tf.tensor4d([
      [
        [
          [0, 0],
          [3, 0],
          [0, 4],
        ],
        [
          [0, 0],
          [1, 1],
          [2, 2],
        ],
      ],
      [
        [
          [0, 0],
          [2, 0],
          [1, Math.sqrt(3)],
        ],
        [
          [1, 1],
          [4, 1],
          [1, 5],
        ],
      ],
    ]);
    const v2 = await cayleyMengerVolumeSquared(p);
    expect(v2.shape).toEqual([2, 2]);
    await expectClose(v2, [36, 0, 3, 36], 1e-5, 1e-5);
    await expectNoLeak(
      () => cayleyMengerVolumeSquared(p),
      (t) => t.dispose(),
    );
    tf.dispose([p, v2]);
  });

  it('squared length for two points; rejects rank < 2', async () => {
    const p = tf.tensor2d([
      [1, 2, 3],
      [4, 6, 3],
    ]); // a single 1-simplex of length 5 → shape []
    const v2 = await cayleyMengerVolumeSquared(p);
    expect(v2.shape).toEqual([]);
    await expectClose(v2, [25], 1e-6);
    const bad = tf.tensor1d([1, 2]);
    await expect(cayleyMengerVolumeSquared(bad)).rejects.toThrow(
      'cayleyMengerVolumeSquared: points must be rank ≥ 2 [..., rows, cols]; got shape [2]',
    );
    tf.dispose([p, v2, bad]);
  });
});
