import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectNoLeak } from '@attnlab/backend/testing';
import { cayleyMengerVolumeSquaredHost } from '@attnlab/linalg';
import { CV_BAND, inCvBand, mulberry32, simplexVolumeCV, simplexVolumeCVs } from './index.js';
import { sampleDistinct } from './random.js';

/**
 * Seed 003's cv_metric written out independently of simplex.ts: the same subsets (mulberry32 and a
 * partial Fisher–Yates shuffle), squared volumes by @attnlab/linalg's Cayley–Menger determinant of
 * the bordered squared-distance matrix, then std/(mean + 1e-8) over volumes above 1e-20.
 */
function referenceCv(
  rowsData: ArrayLike<number>,
  rows: number,
  d: number,
  samples: number,
  seed: number,
  pool = 512,
): number | null {
  const p = Math.min(rows, pool);
  const random = mulberry32(seed);
  const scratch = Int32Array.from({ length: p }, (_, i) => i);
  const chosen = new Int32Array(5);
  const pts = new Float64Array(5 * d);
  const vols: number[] = [];
  for (let s = 0; s < samples; s++) {
    sampleDistinct(random, p, scratch, chosen);
    for (let i = 0; i < 5; i++) for (let k = 0; k < d; k++) pts[i * d + k] = rowsData[chosen[i]! * d + k]!;
    const v2 = cayleyMengerVolumeSquaredHost(pts, 5, d);
    if (v2 > 1e-20) vols.push(Math.sqrt(v2));
  }
  if (vols.length < 10) return null;
  const mean = vols.reduce((a, b) => a + b, 0) / vols.length;
  const sd = Math.sqrt(vols.reduce((a, v) => a + (v - mean) ** 2, 0) / (vols.length - 1));
  return sd / (mean + 1e-8);
}

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

describeBackends('simplexVolumeCVs (batched)', () => {
  it('equals the Cayley–Menger reference and simplexVolumeCV for every matrix and every block of a stack', async () => {
    // Weights-like [D, D], per-head stacks [H, headDim, D] and [H, rows, headDim], a 10-row classifier.
    const mats = [
      tf.randomNormal([64, 32], 0, 1, 'float32', 1),
      tf.randomNormal([4, 8, 32], 0, 0.1, 'float32', 2),
      tf.randomNormal([2, 600, 16], 0, 3, 'float32', 3),
      tf.randomNormal([10, 32], 0, 1, 'float32', 4),
    ];
    const opts = { samples: 120, seed: 42 };
    const batch = await expectNoLeak(() => simplexVolumeCVs(mats, opts));
    expect(batch.map((r) => r.length)).toEqual([1, 4, 2, 1]);
    for (let i = 0; i < mats.length; i++) {
      const m = mats[i]!;
      const [rows, d] = m.shape.slice(-2) as [number, number];
      const data = await m.data();
      for (let b = 0; b < batch[i]!.length; b++) {
        const got = batch[i]![b]!;
        const block = data.subarray(b * rows * d, (b + 1) * rows * d);
        const want = referenceCv(block, rows, d, 120, 42);
        expect(got.cv).not.toBeNull();
        expect(Math.abs(got.cv! - want!)).toBeLessThan(1e-9 * want!);
        const slice = tf.tensor2d(block, [rows, d]);
        expect(await simplexVolumeCV(slice, opts)).toEqual(got);
        slice.dispose();
      }
    }
    tf.dispose(mats);
  });

  it('a stack of i.i.d. Gaussian blocks each falls near the closed form (D = 64, 2000 simplices, ±12%)', async () => {
    const x = tf.randomNormal([3, 512, 64], 0, 1, 'float32', 7);
    const [blocks] = await simplexVolumeCVs([x], { samples: 2000, seed: 1 });
    for (const r of blocks!) {
      expect(r.valid).toBe(2000);
      expect(Math.abs(r.cv! - GAUSSIAN_CV[0]![1]) / GAUSSIAN_CV[0]![1]).toBeLessThan(0.12);
    }
    x.dispose();
  });

  it('validates its arguments, naming the matrix', async () => {
    const ok = tf.zeros([6, 3]);
    const short = tf.zeros([2, 4, 3]);
    const r4 = tf.zeros([1, 1, 6, 3]);
    await expect(simplexVolumeCVs([])).rejects.toThrow(
      'simplexVolumeCVs: matrices must be a non-empty array of tensors [V, D] or [n, V, D]; got []',
    );
    await expect(simplexVolumeCVs([ok, short])).rejects.toThrow(
      'simplexVolumeCVs: matrices[1] needs at least options.points = 5 rows; got shape [2, 4, 3]',
    );
    await expect(simplexVolumeCVs([r4])).rejects.toThrow(
      'simplexVolumeCVs: matrices[0] must be rank 2 or 3; got shape [1, 1, 6, 3]',
    );
    await expect(simplexVolumeCVs([ok], { minValid: 1 })).rejects.toThrow(
      'simplexVolumeCVs: options.minValid must be an integer ≥ 2; got 1',
    );
    tf.dispose([ok, short, r4]);
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
