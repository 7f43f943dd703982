/** The figure-spec format version this package reads and writes. */
export const FIGURE_SPEC_VERSION = 1;

/** Axis scale of a line chart. */
export type AxisScale = 'linear' | 'log';

/** Colour scale of a heatmap: `diverging` (blue–white–red, white at 0) or `sequential` (viridis). */
export type ColorScaleName = 'diverging' | 'sequential';

export interface AxisSpec {
  label?: string;
  /** Default `linear`. On a `log` axis values ≤ 0 are left out (the line breaks there). */
  scale?: AxisScale;
  /** Fixed ends of the axis; by default the data range, widened to nice ticks. */
  min?: number;
  max?: number;
}

interface FigureBase {
  /** Spec format version; absent means {@link FIGURE_SPEC_VERSION}. */
  version?: 1;
  title?: string;
  /** Text for screen readers (SVG `<desc>`); a summary is generated when absent. */
  description?: string;
  /** Width of the SVG in px (height follows the content for heatmaps and tables). */
  width?: number;
}

export interface LineSeries {
  name: string;
  x: number[];
  /** Non-finite entries (NaN, ±Infinity) break the line. */
  y: number[];
  /** Optional error band: lower and upper bounds, same length as `x`. */
  lower?: number[];
  upper?: number[];
  /** CSS colour; default from the colour-blind-safe Okabe–Ito palette. */
  color?: string;
  dashed?: boolean;
  /** Draw a dot at each point. */
  markers?: boolean;
}

export interface LineChartSpec extends FigureBase {
  kind: 'line';
  height?: number;
  x?: AxisSpec;
  y?: AxisSpec;
  series: LineSeries[];
  /** Show the legend; default: when there is more than one series. */
  legend?: boolean;
}

export interface HeatmapPanel {
  title?: string;
  /** Row-major matrix `values[row][col]`. Non-finite values are drawn as masked. */
  values: number[][];
  rowLabels?: string[];
  colLabels?: string[];
  /** `true` marks a cell as masked: drawn hatched, not coloured. */
  masked?: boolean[][];
}

interface HeatmapCommon {
  /** Default `diverging` when the data has both signs, else `sequential`. */
  scale?: ColorScaleName;
  /** Colour domain; diverging default is ±max|v|, sequential default is [min, max]. */
  domain?: [number, number];
  colorbarLabel?: string;
  xLabel?: string;
  yLabel?: string;
  /** Print values in the cells; default when cells are large enough. */
  showValues?: boolean;
  /** Side of one cell in px (default from the matrix size). */
  cellSize?: number;
}

export interface HeatmapSpec extends FigureBase, HeatmapCommon, HeatmapPanel {
  kind: 'heatmap';
}

/** Small multiples (e.g. QK per head) sharing one colour scale and one colour bar. */
export interface HeatmapGridSpec extends FigureBase, HeatmapCommon {
  kind: 'heatmap-grid';
  panels: HeatmapPanel[];
  /** Panels per row (default: up to 4). */
  columns?: number;
}

export interface BarGroup {
  name: string;
  /** One value per category. */
  values: number[];
  color?: string;
}

/** Grouped bar chart: one cluster per category, one bar per group. */
export interface BarChartSpec extends FigureBase {
  kind: 'bar';
  height?: number;
  categories: string[];
  groups: BarGroup[];
  xLabel?: string;
  yLabel?: string;
  legend?: boolean;
}

export type TableCell = string | number | boolean | null;

export interface TableSpec extends FigureBase {
  kind: 'table';
  columns: string[];
  rows: TableCell[][];
}

/** Any figure this package can draw. JSON-serialisable. */
export type FigureSpec = LineChartSpec | HeatmapSpec | HeatmapGridSpec | BarChartSpec | TableSpec;
export type FigureKind = FigureSpec['kind'];
export const FIGURE_KINDS: readonly FigureKind[] = ['line', 'heatmap', 'heatmap-grid', 'bar', 'table'];
