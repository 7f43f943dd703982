export { renderSvg, heatmapDomain } from './svg.js';
export { toCsv, parseCsv } from './csv.js';
export { validateFigure, FigureSpecError } from './validate.js';
export { niceTicks, logTicks } from './scale.js';
export { colorFor, divergingColor, sequentialColor, luminance, SERIES_COLORS } from './color.js';
export { escapeXml, formatNumber } from './format.js';
export { FIGURE_SPEC_VERSION, FIGURE_KINDS } from './types.js';
export type {
  FigureSpec,
  FigureKind,
  LineChartSpec,
  LineSeries,
  AxisSpec,
  AxisScale,
  HeatmapSpec,
  HeatmapGridSpec,
  HeatmapPanel,
  ColorScaleName,
  BarChartSpec,
  BarGroup,
  TableSpec,
  TableCell,
} from './types.js';
