import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectNoLeak, read } from '@attnlab/backend/testing';
import { Rng, tokenPatternArrays, tokenPatternData } from './index.js';

describe('tokenPatternArrays (seed 003 make_data)', () => {
  it('has the seed defaults: 10 classes × 50 samples of 8 tokens from a 256 vocabulary', () => {
    const d = tokenPatternArrays();
    expect(d.n).toBe(500);
    expect(d.seqLen).toBe(8);
    expect(d.x.length).toBe(4000);
    expect(d.basePatterns.length).toBe(80);
    expect(Math.min(...d.x)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...d.x)).toBeLessThan(256);
    const counts = new Array<number>(10).fill(0);
    for (const c of d.y) counts[c]!++;
    expect(counts).toEqual(new Array<number>(10).fill(50));
    // shuffled: labels are not in class order
    expect(Array.from(d.y.subarray(0, 50))).not.toEqual(new Array<number>(50).fill(0));
  });
  it('base patterns are the first draws of Rng(seed) and about 25% of positions are perturbed', () => {
    const d = tokenPatternArrays({ seed: 42 });
    expect(Array.from(d.basePatterns)).toEqual(Array.from(new Rng(42).int(80, 256)));
    let differ = 0;
    for (let i = 0; i < d.n; i++) {
      const c = d.y[i]!;
      for (let t = 0; t < 8; t++) if (d.x[i * 8 + t] !== d.basePatterns[c * 8 + t]) differ++;
    }
    // a perturbed position keeps its token with probability 1/256: expected fraction 0.25·255/256
    const frac = differ / 4000;
    const p = 0.25 * (255 / 256);
    expect(Math.abs(frac - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / 4000));
  });
  it('perturbProb 0 gives exact copies; unshuffled keeps class order; seeds reproduce', () => {
    const d = tokenPatternArrays({
      perturbProb: 0,
      shuffle: false,
      nClasses: 3,
      samplesPerClass: 2,
      seqLen: 4,
      vocab: 5,
    });
    expect(Array.from(d.y)).toEqual([0, 0, 1, 1, 2, 2]);
    for (let i = 0; i < 6; i++)
      expect(Array.from(d.x.subarray(i * 4, i * 4 + 4))).toEqual(
        Array.from(d.basePatterns.subarray(d.y[i]! * 4, d.y[i]! * 4 + 4)),
      );
    expect(tokenPatternArrays({ seed: 3 }).x).toEqual(tokenPatternArrays({ seed: 3 }).x);
    expect(tokenPatternArrays({ seed: 3 }).x).not.toEqual(tokenPatternArrays({ seed: 4 }).x);
  });
  it('validates', () => {
    expect(() => tokenPatternArrays({ perturbProb: 2 })).toThrow(
      /tokenPatternArrays: options.perturbProb must be a finite number in \[0, 1\]; got 2/,
    );
    expect(() => tokenPatternArrays({ vocab: 0 })).toThrow(
      /options.vocab must be an integer in \[1, 2147483648\]; got 0/,
    );
  });
});

describeBackends('tokenPatternData', () => {
  it('int32 tensors equal to the host arrays on every backend', async () => {
    const a = tokenPatternArrays({ seed: 7 });
    const t = tokenPatternData({ seed: 7 });
    expect(t.x.dtype).toBe('int32');
    expect(t.x.shape).toEqual([500, 8]);
    expect(t.y.shape).toEqual([500]);
    expect(t.basePatterns.shape).toEqual([10, 8]);
    expect(await read(t.x)).toEqual(Array.from(a.x));
    expect(await read(t.y)).toEqual(Array.from(a.y));
    expect(await read(t.basePatterns)).toEqual(Array.from(a.basePatterns));
    tf.dispose([t.x, t.y, t.basePatterns]);
    await expectNoLeak(
      () => tokenPatternData({ nClasses: 2, samplesPerClass: 3 }),
      (r) => tf.dispose([r.x, r.y, r.basePatterns]),
    );
  });
});
