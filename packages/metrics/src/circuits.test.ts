import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose, expectNoLeak } from '@attnlab/backend/testing';
import { circuitAlignment, circuitStatistics } from './index.js';

describeBackends('circuitStatistics', (ctx) => {
  it('tables w^h and μ^h per layer and head and names a dummy head (hand-built weights)', async () => {
    // d = 2, D = 3, H = 3. Head h: Wq = a_h·I, Wk = I → QK = a_h·I/√3, so w^h = a_h/√3.
    // Wv = I, Wo = e_last·b_h → OV = Wv Wo has OV[last, last] = b_h = μ^h.
    const a = [0.6, -0.6, 0.01],
      b = [2, -2, 1.5];
    const eye = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
    const params = {
      Wq: tf.tensor3d(a.map((x) => eye.map((r) => r.map((v) => v * x)))),
      Wk: tf.tensor3d([eye, eye, eye]),
      Wv: tf.tensor3d([eye, eye, eye]),
      Wo: tf.tensor3d(b.map((x) => [[0], [0], [x]])),
    };
    const t = await expectNoLeak(() => circuitStatistics(params));
    await expectClose(
      t.w[0]!,
      a.map((x) => x / Math.sqrt(3)),
      ctx.tol,
      1e-6,
    );
    await expectClose(t.mu[0]!, b, ctx.tol, 1e-6);
    expect(t.layers[0]!.map((s) => s.head)).toEqual([0, 1, 2]);
    expect(t.dummyHeads).toEqual([{ layer: 0, head: 2 }]); // |w| = 0.01/√3 < 10% of 0.6/√3
    await expect(circuitStatistics(params, { dummyThreshold: 1 })).rejects.toThrow(
      /dummyThreshold must be a number in \[0, 1\); got 1/,
    );
    tf.dispose(Object.values(params));
  });
});

describe('circuitAlignment', () => {
  it('hand-computed circuits', () => {
    // QK = [[2, 0, 0], [0, 2, 0], [0, 0, 0]]: diagonal and homogeneous; OV = e_last·3 (last entry only).
    const pure = circuitAlignment({
      qk: [
        [2, 0, 0],
        [0, 2, 0],
        [0, 0, 0],
      ],
      ov: [[0], [0], [3]],
    });
    expect(pure).toEqual({ diagonalRatio: 1, diagonalDispersion: 0, ovLastEntryRatio: 1 });
    // diag (1, 3), off-diagonal 1, a key-side y entry 2 and a query-side y-row entry 5 (never acts):
    // ‖diag‖² = 10, ‖first two rows‖²_F = 15; var = 1, mean² = 4.
    // OV = [[0, 1], [0, 0], [2, 2]]: |2| / √9.
    const mixed = circuitAlignment({
      qk: [
        [1, 1, 0],
        [0, 3, 2],
        [0, 5, 0],
      ],
      ov: [
        [0, 1],
        [0, 0],
        [2, 2],
      ],
    });
    expect(mixed.diagonalRatio).toBeCloseTo(Math.sqrt(10 / 15), 12);
    expect(mixed.diagonalDispersion).toBeCloseTo(1 / 4, 12);
    expect(mixed.ovLastEntryRatio).toBeCloseTo(2 / 3, 12);
    expect(
      circuitAlignment({
        qk: [
          [1, 0],
          [0, 0],
        ].map((r, i) => (i ? r : [-1, 0])),
        ov: [[0], [1]],
      }).diagonalDispersion,
    ).toBe(0);
    expect(() => circuitAlignment({ qk: [[1]], ov: [[1]] })).toThrow(/circuitAlignment: head.qk must be a square/);
    expect(() =>
      circuitAlignment({
        qk: [
          [1, 0],
          [0, 1],
        ],
        ov: [[1]],
      }),
    ).toThrow(/circuitAlignment: head.ov must be a \[2, C\]/);
  });
});
