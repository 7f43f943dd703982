// Text tables and the walkthrough's matrices for the terminal (the key numbers of each experiment
// come from @attnlab/experiments' keyNumbers). Presentation only: every number comes from the result.
import { formatValue, keyNumbers, type ExperimentResult } from '@attnlab/experiments';

export { keyNumbers };

export type Cell = string | number | boolean | null | undefined;

/** A table cell as text: integers in full, other numbers with about 4 significant digits. */
export const fmt = (v: Cell): string =>
  v === null || v === undefined
    ? '–'
    : typeof v === 'number'
      ? Number.isSafeInteger(v)
        ? String(v)
        : formatValue(v)
      : String(v);

/** A plain-text table with aligned columns (numbers right-aligned). */
export function textTable(columns: readonly string[], rows: readonly Cell[][]): string {
  const cells = rows.map((r) => columns.map((_, j) => fmt(r[j])));
  const numeric = columns.map(
    (_, j) => rows.length > 0 && rows.every((r) => typeof r[j] === 'number' || r[j] === null || r[j] === undefined),
  );
  const w = columns.map((c, j) => Math.max(c.length, ...cells.map((r) => r[j]!.length)));
  const line = (r: string[]) =>
    r
      .map((x, j) => (numeric[j] ? x.padStart(w[j]!) : x.padEnd(w[j]!)))
      .join('  ')
      .trimEnd();
  return [line([...columns]), line(w.map((n) => '-'.repeat(n))), ...cells.map(line)].join('\n');
}

function matrixCell(x: number | null, masked: boolean): string {
  if (x === null) return masked ? '-inf' : 'NaN/inf';
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  return x.toFixed(4);
}

/**
 * A matrix with row labels, 4 decimals. A null entry (JSON's non-finite) is `-inf` where `mask`
 * says the cell is masked (false = may not attend), otherwise `NaN/inf`: an overflow is never shown as a mask.
 */
export function textMatrix(
  title: string,
  m: (number | null)[][],
  rowLabels?: readonly string[],
  colLabels?: readonly string[],
  mask?: readonly (readonly boolean[])[],
): string {
  const cols = m[0]?.length ?? 0;
  const header =
    colLabels && colLabels.length === cols ? [...colLabels] : Array.from({ length: cols }, (_, j) => String(j));
  return `${title}\n${textTable(
    ['', ...header],
    m.map((r, i) => [rowLabels?.[i] ?? String(i), ...r.map((x, j) => matrixCell(x, mask?.[i]?.[j] === false))]),
  )}`;
}

/** Every intermediate of the walkthrough, head by head. */
export function walkthroughText(result: ExperimentResult): string {
  const d = result.data as {
    tokens: string[];
    scale: number;
    heads: (Record<
      'q' | 'k' | 'v' | 'scores' | 'scaledScores' | 'maskedScores' | 'weights' | 'output',
      (number | null)[][]
    > & { mask: boolean[][] })[];
    concat: (number | null)[][];
    wO: (number | null)[][] | null;
    projected: (number | null)[][] | null;
  };
  const t = d.tokens;
  const out: string[] = [];
  d.heads.forEach((h, i) => {
    if (d.heads.length > 1) out.push(`── head ${i + 1} ──`);
    out.push(textMatrix('Q', h.q, t), textMatrix('K', h.k, t), textMatrix('V', h.v, t));
    out.push(
      textMatrix('scores QKᵀ', h.scores, t, t),
      textMatrix(`scaled scores QKᵀ·${formatValue(d.scale)}`, h.scaledScores, t, t),
    );
    out.push(
      textMatrix('masked scores', h.maskedScores, t, t, h.mask),
      textMatrix('weights softmax(·)', h.weights, t, t),
      textMatrix('output weights·V', h.output, t),
    );
  });
  if (d.projected && d.wO)
    out.push(
      textMatrix('concat(heads)', d.concat, t),
      textMatrix('W_O', d.wO),
      textMatrix('output concat·W_O', d.projected, t),
    );
  return out.join('\n\n');
}
