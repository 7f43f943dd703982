import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectNoLeak } from '@attnlab/backend/testing';
import { CV_BAND, inCvBand, mulberry32, simplexVolumeCV } from './index.js';

// CV of the volume of a 4-simplex with i.i.d. N(0, I_D) vertices, in closed form: the volume is a
// constant times Π_{i=0..3} χ_{D−i} (independent chi variables), so
// CV² = Π (D−i) / Π E[χ_{D−i}]² − 1 with E[χ_n] = √2 Γ((n+1)/2)/Γ(n/2) (evaluated with lgamma in Python).
const GAUSSIAN_CV: Array<[number, number]> = [
  [64, 0.1803515230623969],
  [128, 0.12624186260546116],
  [256, 0.08882363462924146],
];

describeBackends('simplexVolumeCV', () => {
  it('falls near the closed form for i.i.d. Gaussian rows (D = 64, 128, 256)', async () => {
    // With 512 rows and 2000 simplices numpy's estimator scatters by 2.4–3% (relative sd, 40 reps);
    // ±12% is about 4 sd. Squared volumes would give ≈ 2× these values, so the convention is tested.
    for (const [d, want] of GAUSSIAN_CV) {
      const x = tf.randomNormal([512, d], 0, 1, 'float32', d);
      const r = await simplexVolumeCV(x, { samples: 2000, seed: 1 });
      expect(r.valid).toBe(2000);
      expect(Math.abs(r.cv! - want) / want).toBeLessThan(0.12);
      expect(r.inBand).toBe(want > CV_BAND.low);
      x.dispose();
    }
  });

  it('is deterministic for a seed, varies with it, and leaks nothing', async () => {
    const x = tf.randomNormal([100, 16], 0, 1, 'float32', 5);
    const a = await expectNoLeak(() => simplexVolumeCV(x, { samples: 200, seed: 42 }));
    const b = await simplexVolumeCV(x, { samples: 200, seed: 42 });
    const c = await simplexVolumeCV(x, { samples: 200, seed: 43 });
    expect(a).toEqual(b);
    expect(a.cv).not.toBe(c.cv);
    x.dispose();
  });

  it('gives CV 0 for congruent simplices and null when too few are non-degenerate', async () => {
    // The 5 vertices of a regular simplex (e_1..e_5): every 5-subset is the same simplex.
    const reg = tf.eye(5);
    const r = await simplexVolumeCV(reg, { samples: 20 });
    expect(r.cv).toBeCloseTo(0, 6);
    expect(r.meanVolume).toBeCloseTo(Math.sqrt(5) / 24, 6); // V² = (n+1)/(n!)² with n = 4
    expect(r.inBand).toBe(false);
    // Points on a line: every simplex is degenerate.
    const line = tf.tensor2d(Array.from({ length: 10 }, (_, i) => [i, 2 * i, 0]));
    const l = await simplexVolumeCV(line, { samples: 50 });
    expect(l.cv).toBeNull();
    expect(l.valid).toBe(0);
    tf.dispose([reg, line]);
  });

  it('flags the seed’s band strictly and validates options', async () => {
    expect([0.13, 0.131, 0.299, 0.3, null].map(inCvBand)).toEqual([false, true, true, false, false]);
    const x = tf.zeros([4, 3]);
    await expect(simplexVolumeCV(x)).rejects.toThrow(
      'simplexVolumeCV: matrix needs at least options.points = 5 rows; got shape [4, 3]',
    );
    await expect(simplexVolumeCV(x, { points: 3, samples: 1 })).rejects.toThrow(
      'simplexVolumeCV: options.samples must be an integer ≥ 2; got 1',
    );
    x.dispose();
  });
});

describe('mulberry32', () => {
  it('matches the reference sequence for seed 0 and stays in [0, 1)', () => {
    // Reference: mulberry32 re-implemented in Python with explicit 32-bit masking, seed 0.
    const r = mulberry32(0);
    const first = Array.from({ length: 3 }, () => r());
    expect(first).toEqual([0.26642920868471265, 0.0003297457005828619, 0.2232720274478197]);
    const many = Array.from({ length: 1000 }, () => r());
    expect(many.every((u) => u >= 0 && u < 1)).toBe(true);
  });
});
