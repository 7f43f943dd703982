import { validateFigure, type LineChartSpec } from '@attnlab/plot';
import { aggregateSweep, meanSe, parseSweepRows, sweepRowsTable, type SweepRow } from './aggregate.js';
import { sweepClaims } from './claims.js';
import { expandSweep, pointId, resolveSweep, type SweepPoint } from './spec.js';

const icl = (axes: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  experiment: 'icl-regression',
  base: { steps: 10 },
  axes,
  ...extra,
});

describe('sweep specs', () => {
  it('a product of a list and a range, the last axis fastest, with full configs', () => {
    const pts = expandSweep(icl({ heads: [1, 2, 4], seed: { from: 0, to: 7, step: 1 } }));
    expect(pts).toHaveLength(24);
    expect(pts.map((p) => p.label).slice(0, 3)).toEqual(['heads=1 seed=0', 'heads=1 seed=1', 'heads=1 seed=2']);
    expect(pts[23]!.values).toEqual({ heads: 4, seed: 7 });
    const c = pts[9]!.config as { heads: number; seed: number; steps: number; d: number };
    expect([c.heads, c.seed, c.steps, c.d]).toEqual([2, 1, 10, 5]);
    expect(new Set(pts.map((p) => p.id)).size).toBe(24);
  });
  it('ids are a hash of the config: the same config gives the same id whatever the spec says', () => {
    const a = expandSweep(icl({ heads: [2], seed: [3] }))[0]!;
    const b = expandSweep({
      experiment: 'icl-regression',
      base: { steps: 10, seed: 3 },
      axes: { heads: { values: [2] } },
    })[0]!;
    expect(a.id).toBe(b.id);
    expect(a.id).toMatch(/^[0-9a-f]{12}$/);
    expect(pointId('icl-regression', { x: 1, y: 2 })).toBe(pointId('icl-regression', { y: 2, x: 1 }));
    expect(expandSweep(icl({ heads: [2], seed: [4] }))[0]!.id).not.toBe(a.id);
  });
  it('the id is FNV-1a 64 of the canonical JSON (computed independently in Python)', () => {
    // python: h = 0xcbf29ce484222325; for c in '{"config":{"x":1},"experiment":"a"}': h ^= ord(c); h = h * 0x100000001b3 % 2**64
    expect(pointId('a', { x: 1 })).toBe('e87adf32d38c');
  });
  it('zip pairs axes instead of a product; dotted paths and float ranges', () => {
    const pts = expandSweep(
      icl(
        { 'optimizer.lr': { from: 0.001, to: 0.003, step: 0.001 }, steps: [10, 20, 30], seed: [0, 1] },
        { zip: [['optimizer.lr', 'steps']] },
      ),
    );
    expect(pts).toHaveLength(6);
    expect(pts.map((p) => p.values)).toEqual([
      { 'optimizer.lr': 0.001, steps: 10, seed: 0 },
      { 'optimizer.lr': 0.001, steps: 10, seed: 1 },
      { 'optimizer.lr': 0.002, steps: 20, seed: 0 },
      { 'optimizer.lr': 0.002, steps: 20, seed: 1 },
      { 'optimizer.lr': 0.003, steps: 30, seed: 0 },
      { 'optimizer.lr': 0.003, steps: 30, seed: 1 },
    ]);
    expect((pts[2]!.config as { optimizer: { lr: number } }).optimizer.lr).toBe(0.002);
  });
  it.each([
    [icl({ heads: [1, 2, 0] }), 'axes.heads[2]: must be an integer ≥ 1 and ≤ 64; got 0'],
    [icl({ 'optimizer.lr': [0.1, -1] }), 'axes.optimizer.lr[1]: must be a number > 0 and ≤ 10; got -1'],
    [icl({ head: [1] }), 'axes.head: is not a config field of icl-regression'],
    [icl({ heads: [] }), 'axes.heads: has no values'],
    [icl({ heads: [1, 1] }), 'axes.heads: repeats a value'],
    [icl({ seed: { from: 0, to: 3, step: -1 } }), 'axes.seed.step: must be non-zero and go from 0 towards 3'],
    [
      icl({ heads: [1, 2], seed: [0] }, { zip: [['heads', 'seed']] }),
      'zip[0]: pairs axes of different lengths (heads: 2, seed: 1)',
    ],
    [icl({ heads: [1] }, { zip: [['heads', 'nope']] }), 'zip[0][1]: must be one of the axes heads; got "nope"'],
    [{ experiment: 'nope', axes: { seed: [1] } }, 'experiment: must be one of icl-regression'],
    [icl({ heads: [1] }, { base: { step: 3 } }), 'base.step: must be one of the fields'],
    [icl({ heads: [1] }, { extra: 1 }), 'extra: is not a sweep field'],
    [icl({}), 'axes: must be an object with at least one axis'],
  ])('rejects bad specs naming the field and value (%#)', (spec, message) => {
    expect(() => expandSweep(spec)).toThrow(message);
  });
  it('resolveSweep keeps the groups in spec order', () => {
    const r = resolveSweep(icl({ heads: [1, 2], L: [8, 16], seed: [0, 1] }, { zip: [['heads', 'seed']] }));
    expect(r.groups).toEqual([['heads', 'seed'], ['L']]);
  });
});

const row = (index: number, heads: number, seed: number, loss: number, curve: number[]): SweepRow => ({
  id: `p${index}`,
  index,
  label: `heads=${heads} seed=${seed}`,
  values: { heads, seed },
  experiment: 'icl-regression',
  metrics: { 'final training loss': loss, 'duration (s)': 1 },
  curves: { transformer: { x: [1, 11], y: curve } },
  engine: 'float64',
  backend: 'cpu',
  durationMs: 1000,
  resumedFrom: null,
});

describe('sweep aggregation', () => {
  it('meanSe: the sample standard deviation over √n (hand-computed)', () => {
    // 1, 2, 3, 4: mean 2.5, s² = (2.25 + 0.25 + 0.25 + 2.25)/3 = 5/3, se = √(5/3 / 4) = 0.645497…
    const s = meanSe([1, 2, 3, 4, null]);
    expect(s.mean).toBe(2.5);
    expect(s.se).toBeCloseTo(0.6454972243679028, 15);
    expect(s.n).toBe(4);
    expect(meanSe([7])).toEqual({ mean: 7, se: null, n: 1 });
    expect(meanSe([])).toEqual({ mean: null, se: null, n: 0 });
  });
  it('groups by every axis but the seed; metrics and curves averaged pointwise; valid figures', () => {
    const rows = [
      row(3, 2, 1, 4, [4, 2]),
      row(0, 1, 0, 1, [1, 0.5]),
      row(1, 1, 1, 3, [3, 1.5]),
      row(2, 2, 0, 2, [2, 1]),
    ];
    const agg = aggregateSweep(rows, ['heads', 'seed']);
    expect(agg.axes).toEqual(['heads']);
    expect(agg.over).toEqual(['seed']);
    expect(agg.groups.map((g) => g.label)).toEqual(['heads=1', 'heads=2']);
    // heads=1: losses 1, 3 → mean 2, se = √(2/2) / √2... s² = ((1-2)² + (3-2)²)/1 = 2, se = √(2/2) = 1.
    expect(agg.groups[0]!.metrics['final training loss']).toEqual({ mean: 2, se: 1, n: 2 });
    expect(agg.groups[1]!.metrics['final training loss']).toEqual({ mean: 3, se: 1, n: 2 });
    expect(agg.groups[0]!.curves.transformer).toEqual({ x: [1, 11], mean: [2, 1], se: [1, 0.5] });
    const ids = agg.figures.map((f) => f.id);
    expect(ids).toEqual(['aggregate', 'error-vs-L', 'final-training-loss-vs-heads', 'duration-s-vs-heads']);
    for (const f of agg.figures) expect(() => validateFigure(f.spec)).not.toThrow();
    const band = agg.figures[1]!.spec as { series: { name: string; lower: number[]; upper: number[] }[] };
    expect(band.series[0]).toMatchObject({ name: 'heads=1', lower: [1, 0.5], upper: [3, 1.5] });
    const t = sweepRowsTable(rows, ['heads', 'seed']);
    expect(t.columns.slice(0, 6)).toEqual(['id', 'index', 'label', 'heads', 'seed', 'final training loss']);
    expect(t.rows.map((r) => r[0])).toEqual(['p0', 'p1', 'p2', 'p3']);
  });
  it('parseSweepRows reads results.jsonl back; a bad line is named', () => {
    const rows = [row(0, 1, 0, 1, [1, 0.5]), row(1, 1, 1, 3, [3, 1.5])];
    expect(parseSweepRows(`${rows.map((r) => JSON.stringify(r)).join('\n')}\n\n`)).toEqual(rows);
    expect(() => parseSweepRows('{"id":"x"}')).toThrow('results.jsonl line 1: not a sweep row (no index)');
    expect(() => parseSweepRows(`${JSON.stringify(rows[0])}\n{oops`)).toThrow('results.jsonl line 2: not JSON');
    expect(() => parseSweepRows('')).toThrow('results.jsonl: no rows');
  });
});

describe('sweep claims', () => {
  /** A finished point's row with hand-set numbers: its final validation MSE and error curves. */
  const row = (p: SweepPoint, mse: number, transformer: number[]): SweepRow => ({
    id: p.id,
    index: p.index,
    label: p.label,
    values: p.values,
    experiment: 'icl-regression',
    metrics: { 'final validation MSE': mse },
    curves: { transformer: { x: [1, 21], y: transformer }, 'ridge (Bayes λ)': { x: [1, 21], y: [1, 0.2] } },
    engine: null,
    backend: 'cpu',
    durationMs: 1,
    resumedFrom: null,
  });

  it("each claim's rows are the groups' mean ± s.e. beside the theory; curves that differ by group are named by it", () => {
    const spec = icl(
      { heads: [2, 4], seed: [0, 1] },
      { preset: 'paper', base: { steps: 10, evaluation: { maxL: 21, stepL: 20, samples: 10 } } },
    );
    const pts = expandSweep(spec);
    const rows = [
      row(pts[0]!, 0.25, [1.1, 0.3]),
      row(pts[1]!, 0.27, [1.1, 0.5]),
      row(pts[2]!, 0.3, [1, 0.4]),
      row(pts[3]!, 0.3, [1, 0.4]),
    ];
    const claims = sweepClaims(aggregateSweep(rows, ['heads', 'seed']), pts);
    const risk = claims.blocks.find((b) => b.id === 'risk')!;
    expect(risk.rows.map((r) => [r.group, r.attnlab.mean, r.attnlab.n])).toEqual([
      ['heads=2', 0.26, 2],
      ['heads=4', 0.3, 2],
    ]);
    expect(risk.rows[0]!.attnlab.se).toBeCloseTo(0.01, 12);
    // d = 5, L = 40, E‖β‖² = 1, σ² = 0.1: debiased GD's risk 1 − (39/40)·40/45.5, plus σ² (noisy target).
    expect(risk.rows[0]!.theory).toBeCloseTo(1 - 39 / 45.5 + 0.1, 12);
    // The risk against H, the theory dashed beside it.
    const fig = claims.figures.find((f) => f.id === risk.figure)!.spec as LineChartSpec;
    expect(fig.series.map((s) => [s.name, s.x, s.y])).toEqual([
      ['attnlab', [2, 4], [0.26, 0.3]],
      ['theory', [2, 4], [risk.rows[0]!.theory, risk.rows[1]!.theory]],
    ]);
    // Error against L: the trained curves per H, ridge once (the same tasks), the closed form once.
    const curves = claims.figures.find((f) => f.id === claims.blocks.find((b) => b.id === 'error-vs-L')!.figure)!
      .spec as LineChartSpec;
    expect(curves.series.map((s) => s.name)).toEqual([
      'transformer, heads=2',
      'transformer, heads=4',
      'ridge (Bayes λ)',
      'debiased GD, training step (closed form)',
    ]);
    expect(curves.series[0]!.y).toEqual([1.1, 0.4]);
    for (const f of claims.figures) expect(() => validateFigure(f.spec)).not.toThrow();
    expect(claims.table.columns.slice(0, 4)).toEqual(['claim', 'figure', 'group', 'metric']);
  });
});
