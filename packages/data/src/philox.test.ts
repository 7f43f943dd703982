import {
  philox4x32,
  philoxKey,
  uint32ToUniform,
  normalAt,
  normals,
  PHILOX_M0,
  PHILOX_M1,
  PHILOX_W0,
  PHILOX_W1,
} from './index.js';

describe('philox4x32 (Random123 known-answer vectors)', () => {
  // Random123 kat_vectors, philox4x32_10 lines.
  it('counter 0, key 0', () => {
    expect(philox4x32([0, 0, 0, 0], [0, 0])).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
  });
  it('all ones', () => {
    expect(philox4x32([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff])).toEqual([
      0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd,
    ]);
  });
  it('pi digits', () => {
    expect(philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])).toEqual([
      0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1,
    ]);
  });
  it('exports the Random123 constants', () => {
    expect([PHILOX_M0, PHILOX_M1, PHILOX_W0, PHILOX_W1]).toEqual([0xd2511f53, 0xcd9e8d57, 0x9e3779b9, 0xbb67ae85]);
  });
  it('block for counter [0, 5, 3, 2] under seed 2^40 + 7 (independent Python big-int Philox)', () => {
    expect(philox4x32([0, 5, 3, 2], philoxKey(2 ** 40 + 7))).toEqual([0x9e000f0a, 0x5bc76812, 0x6faaa4ec, 0xd8fb36e3]);
  });
  it('rejects non-u32 words with a clear message', () => {
    expect(() => philox4x32([0, 0, 0, -1], [0, 0])).toThrow(
      /philox4x32: counter\[3\] must be an integer in \[0, 4294967295\]; got -1/,
    );
    expect(() => philox4x32([0, 0, 0] as never, [0, 0])).toThrow(/philox4x32: counter must be 4 u32 words/);
    expect(() => philox4x32([0, 0, 0, 0], [0, 2 ** 32])).toThrow(/key\[1\]/);
  });
});

describe('philoxKey and uniforms', () => {
  it('splits the seed into low and high words', () => {
    expect(philoxKey(0)).toEqual([0, 0]);
    expect(philoxKey(2 ** 32 + 5)).toEqual([5, 1]);
    expect(philoxKey(2 ** 53 - 1)).toEqual([0xffffffff, 2 ** 21 - 1]);
    expect(() => philoxKey(2 ** 53)).toThrow(
      /philoxKey: seed must be an integer in \[0, 2\^53 − 1\]; got 9007199254740992/,
    );
    expect(() => philoxKey(1.5)).toThrow(/seed/);
  });
  it('maps u32 to the open interval (0, 1)', () => {
    expect(uint32ToUniform(0)).toBe(0.5 / 2 ** 32);
    expect(uint32ToUniform(0xffffffff)).toBe((2 ** 32 - 0.5) / 2 ** 32);
    expect(uint32ToUniform(0xffffffff)).toBeLessThan(1);
    expect(uint32ToUniform(2 ** 31)).toBe((2 ** 31 + 0.5) / 2 ** 32);
  });
});

describe('normalAt / normals', () => {
  it('Box–Muller on the zero KAT block (seed 0, stream 0, c1 0, c2 0)', () => {
    // From the Random123 words: sqrt(-2 ln u(w0))·cos(2π u(w1)), …·sin, and likewise (w2, w3); Python float64.
    const expected = [0.9911376799303855, -0.9246625876655352, -0.6176089594591907, -0.48206858748717946];
    for (let i = 0; i < 4; i++) expect(normalAt(0, 0, 0, 0, i)).toBeCloseTo(expected[i]!, 13);
  });
  it('matches an independent Python implementation across blocks (seed 2^40 + 7, stream 2, c1 5, c2 3)', () => {
    const expected = [
      -0.6191151320863613, 0.7627964151517905, 0.7412417008174208, -1.0535087626999062, -0.9955462225200804,
      -0.641510257030361, 0.8474494904603967, 0.29501423322367265, -0.5498528707435217,
    ];
    const got = normals(2 ** 40 + 7, 2, 5, 3, 9);
    expected.forEach((e, i) => expect(got[i]).toBeCloseTo(e, 13));
    // an unaligned start gives the same numbers
    expect(Array.from(normals(2 ** 40 + 7, 2, 5, 3, 4, 3))).toEqual(Array.from(got.subarray(3, 7)));
    expect(normalAt(2 ** 40 + 7, 2, 5, 3, 6)).toBe(got[6]);
  });
  it('different addresses give different sequences', () => {
    const a = normals(1, 0, 0, 0, 8);
    for (const [s, c1, c2] of [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ] as const) {
      const b = normals(1, s, c1, c2, 8);
      expect(Array.from(b)).not.toEqual(Array.from(a));
    }
    expect(Array.from(normals(2, 0, 0, 0, 8))).not.toEqual(Array.from(a));
  });
  it('validates its arguments', () => {
    expect(() => normalAt(0, -1, 0, 0, 0)).toThrow(/normalAt: stream must be an integer in \[0, 4294967295\]; got -1/);
    expect(() => normals(0, 0, 0, 0, -1)).toThrow(/normals: count must be an integer ≥ 0; got -1/);
  });
});

describe('moments of the counter-based streams', () => {
  const n = 1 << 18;
  it('normals: mean 0, variance 1, skewness 0, kurtosis 3', () => {
    // Concatenate the sequences of 64 examples, as a training step would use them.
    const z = new Float64Array(n);
    const per = n / 64;
    for (let e = 0; e < 64; e++) z.set(normals(1024, 0, 7, e, per), e * per);
    let m1 = 0;
    for (const v of z) m1 += v;
    m1 /= n;
    let m2 = 0;
    let m3 = 0;
    let m4 = 0;
    for (const v of z) {
      const d = v - m1;
      m2 += d * d;
      m3 += d * d * d;
      m4 += d * d * d * d;
    }
    m2 /= n;
    m3 /= n;
    m4 /= n;
    // 5-sigma bands: sd(mean) = 1/√n, sd(var) = √(2/n), sd(skew) = √(6/n), sd(kurt) = √(24/n)
    expect(Math.abs(m1)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(m2 - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(Math.abs(m3 / m2 ** 1.5)).toBeLessThan(5 * Math.sqrt(6 / n));
    expect(Math.abs(m4 / m2 ** 2 - 3)).toBeLessThan(5 * Math.sqrt(24 / n));
  });
  it('uniforms from raw words: chi-square on 64 bins and Kolmogorov–Smirnov', () => {
    const u = new Float64Array(n);
    const key = philoxKey(99);
    for (let i = 0; i < n / 4; i++) {
      const w = philox4x32([i, 0, 0, 0], key);
      for (let j = 0; j < 4; j++) u[4 * i + j] = uint32ToUniform(w[j]!);
    }
    const bins = new Array<number>(64).fill(0);
    for (const v of u) bins[Math.floor(v * 64)]!++;
    const e = n / 64;
    const chi2 = bins.reduce((s, o) => s + (o - e) ** 2 / e, 0);
    // df = 63: mean 63, sd √126 ≈ 11.2; accept within 5 sd.
    expect(chi2).toBeLessThan(63 + 5 * Math.sqrt(126));
    expect(chi2).toBeGreaterThan(63 - 5 * Math.sqrt(126));
    const sorted = Float64Array.from(u).sort();
    let dmax = 0;
    for (let i = 0; i < n; i++) dmax = Math.max(dmax, Math.abs(sorted[i]! - (i + 0.5) / n));
    // Kolmogorov distribution: P(√n·D > 1.95) ≈ 0.001
    expect(Math.sqrt(n) * dmax).toBeLessThan(1.95);
  });
});
