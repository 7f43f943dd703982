import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose, expectNoLeak } from '@attnlab/backend/testing';
import { meanAbsHeadCorrelation, retrievalNorms, SEED_RETRIEVAL_GROUPS } from './index.js';

describeBackends('meanAbsHeadCorrelation', () => {
  it('averages |corr| over head pairs (hand-computed)', async () => {
    // [1,2,3]·[1,3,2] → 0.5; [1,2,3]·[3,2,1] → −1; [1,3,2]·[3,2,1] → −0.5; mean |·| = 2/3
    const heads = tf.tensor3d([[[1, 2, 3]], [[1, 3, 2]], [[3, 2, 1]]]);
    const r = await meanAbsHeadCorrelation(heads);
    await expectClose(r.meanAbs, 2 / 3, 1e-12);
    expect(r.pairs).toBe(3);
    expect(r.diverse).toBe(false);
    await expectNoLeak(() => meanAbsHeadCorrelation(heads));
    const list = [
      tf.tensor2d([
        [1, 2],
        [3, 4],
      ]),
      tf.tensor2d([
        [1, 3],
        [2, 5],
      ]),
    ];
    // flattened [1,2,3,4] vs [1,3,2,5]: centred [−1.5,−0.5,0.5,1.5]·[−1.75,0.25,−0.75,2.25] = 5.5;
    // sums of squares 5 and 8.75 → r = 5.5/√43.75 = 0.8315218
    const l = await expectNoLeak(() => meanAbsHeadCorrelation(list));
    await expectClose(l.meanAbs, 5.5 / Math.sqrt(5 * 8.75), 1e-6);
    tf.dispose([heads, ...list]);
  });

  it('finds independent random heads diverse, as seed 000 does (0.026)', async () => {
    // X [20, 512], 8 heads W_h [512, 64]/√512, V_h = X·W_h. numpy over 300 draws: mean 0.0227, sd 0.0031.
    const v = tf.tidy(() => {
      const x = tf.randomNormal([20, 512], 0, 1, 'float32', 11);
      return tf.stack(
        Array.from({ length: 8 }, (_, h) =>
          tf.matMul(x, tf.div(tf.randomNormal([512, 64], 0, 1, 'float32', 100 + h), Math.sqrt(512))),
        ),
      );
    });
    const r = await meanAbsHeadCorrelation(v);
    expect(r.meanAbs).toBeGreaterThan(0.01);
    expect(r.meanAbs).toBeLessThan(0.04);
    expect(r.diverse).toBe(true);
    expect(r.pairs).toBe(28);
    v.dispose();
  });

  it('rejects a single head and unequal shapes', async () => {
    const one = tf.zeros([1, 4]);
    await expect(meanAbsHeadCorrelation(one)).rejects.toThrow('meanAbsHeadCorrelation: needs at least 2 heads; got 1');
    const a = tf.zeros([2, 2]);
    const b = tf.zeros([2, 3]);
    await expect(meanAbsHeadCorrelation([a, b])).rejects.toThrow('every head must have the same shape');
    tf.dispose([one, a, b]);
  });
});

describeBackends('retrievalNorms', () => {
  it('reproduces seed 000’s retrieval experiment (hand-computed norms)', async () => {
    // Seed 000's V [8, 64]; its noise rows 6–7 are fixed here to +0.1 and −0.1 (they cancel).
    const rows = Array.from({ length: 8 }, () => new Array<number>(64).fill(0));
    for (let j = 0; j < 64; j++) {
      if (j < 32) {
        rows[0]![j] = 1;
        rows[1]![j] = 0.8;
      }
      if (j >= 16 && j < 48) {
        rows[2]![j] = 1;
        rows[3]![j] = 0.7;
      }
      if (j >= 32) {
        rows[4]![j] = 1;
        rows[5]![j] = 0.9;
      }
      rows[6]![j] = 0.1;
      rows[7]![j] = -0.1;
    }
    const v = tf.tensor2d(rows);
    const alphas = tf.tensor2d([
      new Array(8).fill(1 / 8), // uniform
      [0.5, 0.5, 0, 0, 0, 0, 0, 0], // person
      [0, 0, 0.5, 0.5, 0, 0, 0, 0], // location
      [0.3, 0.3, 0, 0, 0.2, 0.2, 0, 0], // person + action
    ]);
    const r = await expectNoLeak(() => retrievalNorms(v, alphas, SEED_RETRIEVAL_GROUPS));
    // e.g. person focus: 0.9 on dims 0–31 → total 0.9·√32, location dims 16–31 → 0.9·4, action 0.
    const want = [
      [2.831078, 1.967867, 2.510478, 2.035313],
      [5.091169, 5.091169, 3.6, 0],
      [4.808326, 3.4, 4.808326, 3.4],
      [3.735238, 3.054701, 2.641212, 2.149605],
    ];
    expect(r).toHaveLength(4);
    for (let i = 0; i < 4; i++) {
      const g = r[i]!;
      await expectClose([g.total, g.groups.person!, g.groups.location!, g.groups.action!], want[i]!, 1e-6, 1e-6);
    }
    const single = await retrievalNorms(v, tf.tensor1d([0.5, 0.5, 0, 0, 0, 0, 0, 0]));
    expect(single).toHaveLength(1);
    await expectClose(single[0]!.total, 5.091169, 1e-6);
    tf.dispose([v, alphas]);
  });

  it('validates shapes and groups', async () => {
    const v = tf.zeros([4, 8]);
    const w = tf.zeros([3]);
    await expect(retrievalNorms(v, w)).rejects.toThrow(
      'retrievalNorms: weights must be [T] or [S, T] with T = values.shape[0] = 4; got weights [3]',
    );
    const w4 = tf.zeros([4]);
    await expect(retrievalNorms(v, w4, { a: [0, 9] })).rejects.toThrow(
      'retrievalNorms: groups.a must be [start, end) with 0 ≤ start < end ≤ 8; got [0, 9]',
    );
    tf.dispose([v, w, w4]);
  });
});
