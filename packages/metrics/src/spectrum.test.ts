import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose, expectNoLeak } from '@attnlab/backend/testing';
import { energyEffectiveRank, entropyEffectiveRank, pinvReconstructionError, singularSpectrum } from './index.js';
import { matmul, pinvHost } from '@attnlab/linalg';

describeBackends('singularSpectrum and effective ranks', () => {
  it('returns the descending spectrum, optionally the top k', async () => {
    const a = tf.tensor2d([
      [0, 3, 0],
      [1, 0, 0],
      [0, 0, 2],
      [0, 0, 0],
    ]);
    const s = await singularSpectrum(a);
    await expectClose(s, [3, 2, 1], 1e-6);
    const top = await singularSpectrum(a, { top: 2 });
    await expectClose(top, [3, 2], 1e-6);
    await expectNoLeak(
      () => singularSpectrum(a, { top: 2 }),
      (t) => t.dispose(),
    );
    tf.dispose([a, s, top]);
  });

  it('energy effective rank follows the seed’s count(cumsum(σ²)/Σσ² < t) + 1', async () => {
    // σ = 3, 2, 1: cumulative energy 9/14 = 0.643, 13/14 = 0.929, 1
    const s = tf.tensor1d([1, 3, 2]); // order does not matter for a spectrum
    expect(await energyEffectiveRank(s, 0.95)).toBe(3);
    expect(await energyEffectiveRank(s, 0.9)).toBe(2);
    expect(await energyEffectiveRank(s, 0.5)).toBe(1);
    expect(await energyEffectiveRank(s, 1)).toBe(3);
    const z = tf.zeros([3, 2]);
    expect(await energyEffectiveRank(z)).toBe(0);
    await expect(energyEffectiveRank(s, 1.5)).rejects.toThrow(
      'energyEffectiveRank: threshold must be a number in (0, 1]; got 1.5',
    );
    const neg = tf.tensor1d([1, -1]);
    await expect(energyEffectiveRank(neg)).rejects.toThrow(
      'energyEffectiveRank: x as a spectrum (rank 1) must hold finite singular values ≥ 0; got -1 at index 1',
    );
    tf.dispose([s, z, neg]);
  });

  it('entropy effective rank (Roy & Vetterli) matches numpy values', async () => {
    // numpy: p = s/s.sum(); exp(-(p*log p).sum())
    const a = tf.tensor1d([3, 2, 1]);
    await expectClose(await entropyEffectiveRank(a), 2.749459273997205, 1e-12);
    const b = tf.tensor1d([4, 1, 1, 0]);
    await expectClose(await entropyEffectiveRank(b), 2.381101577952299, 1e-12);
    const eye = tf.eye(5);
    await expectClose(await entropyEffectiveRank(eye), 5, 1e-12);
    const rank1 = tf.tensor2d([
      [1, 2],
      [2, 4],
    ]);
    await expectClose(await entropyEffectiveRank(rank1), 1, 1e-6);
    tf.dispose([a, b, eye, rank1]);
  });

  it('reproduces seed 000’s “Effective rank (95% variance): 58” for a random 512×64 value projection', async () => {
    // W_V = randn(512, 64)/√512. Over 200 numpy draws the 95% energy rank was 58 every time;
    // the top singular value is near the Marchenko–Pastur edge 1 + √(64/512) ≈ 1.35 (seed: 1.357).
    const w = tf.tidy(() => tf.div(tf.randomNormal([512, 64], 0, 1, 'float32', 7), Math.sqrt(512)));
    expect(await energyEffectiveRank(w, 0.95)).toBe(58);
    const top = await singularSpectrum(w, { top: 1 });
    await expectClose(top, [1.34], 0.04);
    const erank = await entropyEffectiveRank(w);
    expect(erank).toBeGreaterThan(60);
    expect(erank).toBeLessThan(64);
    tf.dispose([w, top]);
  });
});

describeBackends('pinvReconstructionError', () => {
  it('keeps exactly the column space of W (hand-computed)', async () => {
    // W spans e1, e2 of R⁴: X̂ keeps columns 0–1. Lost energy 9+16+4+4 = 33 of 39 over 8 entries.
    const x = tf.tensor2d([
      [1, 2, 3, 4],
      [-1, 0, 2, -2],
    ]);
    for (const wRows of [
      [
        [1, 0],
        [0, 1],
        [0, 0],
        [0, 0],
      ],
      [
        [2, 1],
        [0, 3],
        [0, 0],
        [0, 0],
      ],
    ]) {
      const w = tf.tensor2d(wRows);
      const r = await pinvReconstructionError(x, w);
      await expectClose([r.mse, r.relativeError, r.meanSquare], [33 / 8, 33 / 39, 39 / 8], 1e-12);
      await expectNoLeak(() => pinvReconstructionError(x, w));
      w.dispose();
    }
    x.dispose();
  });

  it('gives relative error ≈ 1 − 64/512 for a random 512 → 64 projection (seed 000: 86.10%)', async () => {
    // Each row keeps a Beta(32, 224) share of its energy: mean 0.125, sd 0.0206 per row, /√64 over 64 rows.
    const x = tf.randomNormal([64, 512], 0, 1, 'float32', 3);
    const w = tf.tidy(() => tf.div(tf.randomNormal([512, 64], 0, 1, 'float32', 4), Math.sqrt(512)));
    const r = await pinvReconstructionError(x, w);
    expect(Math.abs(r.relativeError - 0.875)).toBeLessThan(0.012);
    tf.dispose([x, w]);
  });

  it('drops singular directions below the cut-off and reports W’s singular values (hand-computed)', async () => {
    const x = tf.tensor2d([
      [1, 2, 3, 4],
      [-1, 0, 2, -2],
    ]);
    // Rank 1: W spans (1, 1, 0, 0)/√2; kept energy (3/√2)² + (−1/√2)² = 5 of 39.
    const w1 = tf.tensor2d([
      [1, 1],
      [1, 1],
      [0, 0],
      [0, 0],
    ]);
    const r1 = await pinvReconstructionError(x, w1);
    await expectClose([r1.mse, r1.relativeError], [34 / 8, 34 / 39], 1e-12);
    await expectClose(r1.singularValues, [2, 0], 1e-12, 1e-12);
    // WᵀW = [[4, 2], [2, 10]]: σ² = 7 ± √13.
    const w2 = tf.tensor2d([
      [2, 1],
      [0, 3],
      [0, 0],
      [0, 0],
    ]);
    await expectClose(
      (await pinvReconstructionError(x, w2)).singularValues,
      [Math.sqrt(7 + Math.sqrt(13)), Math.sqrt(7 - Math.sqrt(13))],
      1e-12,
    );
    // Square and invertible: nothing lost.
    const x3 = tf.tensor2d([[1, 2, 3]]);
    const w3 = tf.tensor2d([
      [0, 0, 1],
      [0, 2, 0],
      [3, 0, 0],
    ]);
    const r3 = await pinvReconstructionError(x3, w3);
    expect(r3.mse).toBeLessThan(1e-28);
    await expectClose(r3.singularValues, [3, 2, 1], 1e-12);
    tf.dispose([x, w1, w2, x3, w3]);
  });

  it('equals ‖X − X·W·W⁺‖² with linalg’s pinv for a random tall W', async () => {
    const xv = Array.from({ length: 5 * 40 }, (_, i) => Math.sin(0.7 * i + 1));
    const wv = Array.from({ length: 40 * 6 }, (_, i) => Math.cos(1.3 * i) + 0.1 * Math.sin(i * i));
    const X = { rows: 5, cols: 40, data: Float64Array.from(xv) };
    const W = { rows: 40, cols: 6, data: Float64Array.from(wv) };
    const Xhat = matmul(matmul(X, W), pinvHost(W));
    let se = 0;
    for (let i = 0; i < xv.length; i++) se += (xv[i]! - Xhat.data[i]!) ** 2;
    const x = tf.tensor2d(xv, [5, 40], 'float32');
    const w = tf.tensor2d(wv, [40, 6], 'float32');
    // Float32 inputs: compare with the float32-rounded values the function reads.
    const r = await pinvReconstructionError(x, w);
    const Xf = { rows: 5, cols: 40, data: Float64Array.from(await x.data()) };
    const Wf = { rows: 40, cols: 6, data: Float64Array.from(await w.data()) };
    const Xhf = matmul(matmul(Xf, Wf), pinvHost(Wf));
    let sef = 0;
    for (let i = 0; i < xv.length; i++) sef += (Xf.data[i]! - Xhf.data[i]!) ** 2;
    expect(Math.abs(r.mse - sef / 200)).toBeLessThan(1e-12 * (sef / 200));
    expect(Math.abs(sef - se) / se).toBeLessThan(1e-4);
    tf.dispose([x, w]);
  });

  it('rejects mismatched shapes', async () => {
    const x = tf.zeros([2, 3]);
    const w = tf.zeros([4, 2]);
    await expect(pinvReconstructionError(x, w)).rejects.toThrow(
      'pinvReconstructionError: w must be [dIn, dOut] with dIn = x.shape[1] = 3; got x [2, 3], w [4, 2]',
    );
    tf.dispose([x, w]);
  });
});
