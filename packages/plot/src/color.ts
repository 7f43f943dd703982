import type { ColorScaleName } from './types.js';

type RGB = [number, number, number];

function hexToRgb(hex: string): RGB {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function rgbToHex([r, g, b]: RGB): string {
  return `#${[r, g, b]
    .map((c) =>
      Math.round(Math.min(255, Math.max(0, c)))
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}

/** Viridis (matplotlib's default sequential map), 10 evenly spaced stops. */
const VIRIDIS = [
  '#440154',
  '#482878',
  '#3e4a89',
  '#31688e',
  '#26828e',
  '#1f9e89',
  '#35b779',
  '#6ece58',
  '#b5de2b',
  '#fde725',
].map(hexToRgb);
/** ColorBrewer RdBu (11 classes) reversed: blue for negative, near-white at the centre, red for positive. */
const RDBU_R = [
  '#053061',
  '#2166ac',
  '#4393c3',
  '#92c5de',
  '#d1e5f0',
  '#f7f7f7',
  '#fddbc7',
  '#f4a582',
  '#d6604d',
  '#b2182b',
  '#67001f',
].map(hexToRgb);

function ramp(stops: RGB[], t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i]!;
  const b = stops[i + 1]!;
  return rgbToHex([a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f]);
}

/**
 * Viridis colour at t ∈ [0, 1] (clamped), as `#rrggbb`.
 *
 * @example
 * sequentialColor(0); // '#440154'
 */
export function sequentialColor(t: number): string {
  return ramp(VIRIDIS, t);
}

/**
 * Blue–white–red colour at t ∈ [0, 1] (clamped; 0.5 is the near-white centre), as `#rrggbb`.
 *
 * @example
 * divergingColor(0.5); // '#f7f7f7'
 */
export function divergingColor(t: number): string {
  return ramp(RDBU_R, t);
}

/**
 * Maps a value to its colour on a heatmap scale. Diverging scales put 0 at the white centre
 * (the domain must straddle 0); sequential scales span the domain linearly.
 *
 * @example
 * colorFor(0, 'diverging', [-2, 2]); // '#f7f7f7'
 */
export function colorFor(value: number, scale: ColorScaleName, domain: [number, number]): string {
  const [lo, hi] = domain;
  if (scale === 'diverging') {
    // Piecewise: [lo, 0] → [0, 0.5], [0, hi] → [0.5, 1], so 0 is always the centre.
    const t = value < 0 ? (lo < 0 ? 0.5 - 0.5 * (value / lo) : 0.5) : hi > 0 ? 0.5 + 0.5 * (value / hi) : 0.5;
    return divergingColor(t);
  }
  return sequentialColor(hi === lo ? 0.5 : (value - lo) / (hi - lo));
}

/** Relative luminance (WCAG) of a `#rrggbb` colour, for choosing black or white text on it. */
export function luminance(hex: string): number {
  const lin = hexToRgb(hex).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * lin[0]! + 0.7152 * lin[1]! + 0.0722 * lin[2]!;
}

/** Okabe–Ito colour-blind-safe palette for series and bar groups (yellow left out: too light on white). */
export const SERIES_COLORS: readonly string[] = [
  '#0072b2',
  '#d55e00',
  '#009e73',
  '#cc79a7',
  '#e69f00',
  '#56b4e9',
  '#000000',
];
