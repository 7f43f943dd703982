import { divergingColor, colorFor, luminance, sequentialColor } from './color.js';
import { escapeXml, formatNumber, formatTick } from './format.js';
import { logTicks, niceTicks } from './scale.js';

describe('niceTicks', () => {
  it('uses steps of 1, 2 or 5 × 10^k and covers the range', () => {
    expect(niceTicks(0, 1, 5)).toEqual({ ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], step: 0.2 });
    expect(niceTicks(0.3, 9.7, 5)).toEqual({ ticks: [0, 2, 4, 6, 8, 10], step: 2 });
    expect(niceTicks(-3, 3, 6).ticks).toEqual([-3, -2, -1, 0, 1, 2, 3]);
    expect(niceTicks(0, 0.3, 3)).toEqual({ ticks: [0, 0.1, 0.2, 0.3], step: 0.1 }); // not 0.30000000000000004
  });
  it('widens a zero-width range', () => {
    const { ticks } = niceTicks(5, 5);
    expect(ticks[0]).toBeLessThan(5);
    expect(ticks[ticks.length - 1]).toBeGreaterThan(5);
  });
  it('rejects non-finite ends', () => {
    expect(() => niceTicks(0, Infinity)).toThrow(/niceTicks: min and max must be finite; got 0, Infinity/);
  });
});

describe('logTicks', () => {
  it('returns whole powers of ten covering the range', () => {
    expect(logTicks(0.003, 250)).toEqual([0.001, 0.01, 0.1, 1, 10, 100, 1000]);
    expect(logTicks(2, 5)).toEqual([1, 10]);
    expect(logTicks(1, 100)).toEqual([1, 10, 100]);
  });
  it('thins very wide ranges to at most ~9 labels, still powers of ten', () => {
    const t = logTicks(1e-12, 1e12);
    expect(t.length).toBeLessThanOrEqual(9);
    for (const v of t) expect(Math.log10(v)).toBeCloseTo(Math.round(Math.log10(v)), 12);
  });
  it('rejects values ≤ 0', () => {
    expect(() => logTicks(0, 10)).toThrow(/logTicks: min and max must be finite and > 0; got 0, 10/);
  });
});

describe('formatNumber / formatTick', () => {
  it('is compact', () => {
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(1234.5678)).toBe('1235');
    expect(formatNumber(0.5)).toBe('0.5');
    expect(formatNumber(-2.5)).toBe('-2.5');
    expect(formatNumber(0.000012345)).toBe('1.23e-5');
    expect(formatNumber(123456789)).toBe('1.23e8');
    expect(formatNumber(0.27406)).toBe('0.2741');
    expect(formatNumber(NaN)).toBe('NaN');
  });
  it('tick labels carry exactly the decimals of their step', () => {
    expect(formatTick(0.30000000000000004, 0.1)).toBe('0.3');
    expect(formatTick(1, 0.5)).toBe('1.0');
    expect(formatTick(0, 0.5)).toBe('0.0');
    expect(formatTick(-0.00000001, 0.5)).toBe('-1e-8'); // tiny non-zero stays visible
    expect(formatTick(200, 50)).toBe('200');
  });
});

describe('escapeXml', () => {
  it('escapes the five XML specials and drops forbidden control characters', () => {
    expect(escapeXml(`a < b & "c" > 'd'`)).toBe('a &lt; b &amp; &quot;c&quot; &gt; &#39;d&#39;');
    expect(escapeXml('x\u0000y\u0007z\tw')).toBe('xyz\tw');
    expect(escapeXml('&amp;')).toBe('&amp;amp;');
  });
});

describe('colour scales', () => {
  // Reference stops: ColorBrewer RdBu (centre #f7f7f7, ends #053061 / #67001f), matplotlib viridis (ends #440154 / #fde725).
  it('diverging: 0 is the near-white centre, negatives blue, positives red', () => {
    expect(colorFor(0, 'diverging', [-2, 2])).toBe('#f7f7f7');
    expect(colorFor(0, 'diverging', [-1, 5])).toBe('#f7f7f7'); // asymmetric domain keeps 0 white
    expect(colorFor(-2, 'diverging', [-2, 2])).toBe('#053061');
    expect(colorFor(2, 'diverging', [-2, 2])).toBe('#67001f');
    const neg = colorFor(-1, 'diverging', [-2, 2]);
    const pos = colorFor(1, 'diverging', [-2, 2]);
    expect(parseInt(neg.slice(5, 7), 16)).toBeGreaterThan(parseInt(neg.slice(1, 3), 16)); // more blue than red
    expect(parseInt(pos.slice(1, 3), 16)).toBeGreaterThan(parseInt(pos.slice(5, 7), 16)); // more red than blue
    expect(luminance(divergingColor(0.5))).toBeGreaterThan(0.9);
  });
  it('sequential: viridis ends, clamped outside the domain', () => {
    expect(sequentialColor(0)).toBe('#440154');
    expect(sequentialColor(1)).toBe('#fde725');
    expect(colorFor(-5, 'sequential', [0, 1])).toBe('#440154');
    expect(colorFor(9, 'sequential', [0, 1])).toBe('#fde725');
    // luminance increases monotonically along viridis
    const lum = [0, 0.25, 0.5, 0.75, 1].map((t) => luminance(sequentialColor(t)));
    for (let i = 1; i < lum.length; i++) expect(lum[i]!).toBeGreaterThan(lum[i - 1]!);
  });
});
