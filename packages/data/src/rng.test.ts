import { Rng, type RngState } from './index.js';

describe('Rng', () => {
  // Reference: an independent Python big-int Philox; word w of (seed, stream) is output w % 4 of the
  // block with counter [b mod 2^32, floor(b / 2^32), 0xffffffff, stream], b = floor(w / 4).
  it('draws the documented words in the documented order (seed 42, stream 3)', () => {
    const rng = new Rng(42, 3);
    expect([rng.uint32(), rng.uint32(), rng.uint32()]).toEqual([2644884930, 1041174413, 3250621102]);
    const u = rng.uniform(2);
    expect(u[0]).toBeCloseTo(0.3801196081331, 14);
    expect(u[1]).toBeCloseTo(0.5433036413742229, 14);
    const z = rng.normal(3); // word 5 is skipped (pairs start at even words), then pairs (6,7), (8,9)
    [0.3558579599829014, 0.09852893241876687, 0.6298955315605604].forEach((e, i) => expect(z[i]).toBeCloseTo(e, 13));
    expect(rng.state()).toEqual({ seed: 42, stream: 3, word: 10 });
    expect(Array.from(rng.int(5, 10))).toEqual([6, 6, 4, 3, 9]);
  });
  it('addresses words past 2^34 (block counter crosses into the second word)', () => {
    const rng = Rng.fromState({ seed: 9, stream: 0, word: 2 ** 34 + 1 });
    expect(rng.uint32()).toBe(1061583867);
  });
  it('state() is JSON and fromState resumes exactly', () => {
    const a = new Rng(7, 1);
    a.normal(5);
    a.uniform(3);
    const saved = JSON.parse(JSON.stringify(a.state())) as RngState;
    const b = Rng.fromState(saved);
    expect(Array.from(b.normal(7))).toEqual(Array.from(a.normal(7)));
    expect(Array.from(b.int(9, 1000))).toEqual(Array.from(a.int(9, 1000)));
    const c = a.clone();
    expect(c.uniform(4)).toEqual(a.uniform(4));
  });
  it('mean and std options of normal and bounds of uniform', () => {
    const z = new Rng(3).normal(20000, 5, 2);
    const mean = z.reduce((s, v) => s + v, 0) / z.length;
    const sd = Math.sqrt(z.reduce((s, v) => s + (v - mean) ** 2, 0) / z.length);
    expect(Math.abs(mean - 5)).toBeLessThan(5 * (2 / Math.sqrt(20000)));
    expect(Math.abs(sd - 2)).toBeLessThan(5 * 2 * Math.sqrt(1 / (2 * 20000)));
    const u = new Rng(3).uniform(1000, -2, -1);
    expect(Math.min(...u)).toBeGreaterThan(-2);
    expect(Math.max(...u)).toBeLessThan(-1);
  });
  it('int is uniform on {0..high−1} (chi-square) and shuffle/permutation are permutations', () => {
    const k = 7;
    const n = 70000;
    const x = new Rng(11).int(n, k);
    const counts = new Array<number>(k).fill(0);
    for (const v of x) counts[v]!++;
    const chi2 = counts.reduce((s, o) => s + (o - n / k) ** 2 / (n / k), 0);
    expect(chi2).toBeLessThan(6 + 5 * Math.sqrt(12)); // df 6
    const p = new Rng(5).permutation(50);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Array.from(p)).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    const arr = ['a', 'b', 'c', 'd', 'e'];
    const same = new Rng(5).shuffle(arr);
    expect(same).toBe(arr);
    expect([...arr].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
  it('different seeds and streams differ; the same seed repeats', () => {
    expect(new Rng(1).uniform(4)).toEqual(new Rng(1).uniform(4));
    expect(new Rng(1).uniform(4)).not.toEqual(new Rng(2).uniform(4));
    expect(new Rng(1, 0).uniform(4)).not.toEqual(new Rng(1, 1).uniform(4));
  });
  it('validates its arguments', () => {
    expect(() => new Rng(-1)).toThrow(/Rng: seed must be an integer in \[0, 2\^53 − 1\]; got -1/);
    expect(() => new Rng(1, 2 ** 32)).toThrow(/Rng: stream must be an integer in \[0, 4294967295\]; got 4294967296/);
    expect(() => new Rng(1).int(3, 0)).toThrow(/Rng.int: high must be an integer in \[1, 2147483648\]; got 0/);
    expect(() => new Rng(1).normal(2, 0, -1)).toThrow(
      /Rng.normal: std must be a finite number in \[0, Infinity\]; got -1/,
    );
    expect(() => Rng.fromState({ seed: 1, stream: 0, word: -3 })).toThrow(
      /Rng.fromState: state.word must be an integer ≥ 0; got -3/,
    );
  });
});
