// Reliability of configs and results: the resource estimate and its limit, non-finite results that
// stay re-reportable, constraints checked before a run, and error messages of bounded length.
import { describeBackends } from '@attnlab/backend/testing';
import {
  BROWSER_OPERATION_LIMIT,
  checkResources,
  ConfigError,
  DEFAULT_MEMORY_LIMIT,
  flagNonFinite,
  formatBytes,
  iclRegression,
  kvCache,
  parseByteSize,
  ResourceError,
  resolveConfig,
  s,
  validate,
  validateResult,
  valueMatrix,
  type ExperimentResult,
} from './index.js';

const icl = (overrides: Record<string, unknown>) => resolveConfig(iclRegression, { preset: 'quick', overrides });
const refusal = (fn: () => unknown): ConfigError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('no ConfigError');
};

describe('resource estimate', () => {
  it('counts the parameters of the layout exactly: H = 2, d = 5 has 3·2·6·6 + 2·6·1 = 228', () => {
    expect(iclRegression.estimate!(icl({ heads: 2, d: 5 })).parameters).toBe(228);
  });
  it('the presets fit the default limit; sizes that each pass their bound but are huge together are refused, naming them', () => {
    for (const preset of Object.keys(iclRegression.presets))
      expect(checkResources(iclRegression, resolveConfig(iclRegression, { preset }))!.bytes).toBeLessThan(
        DEFAULT_MEMORY_LIMIT,
      );
    const big = icl({ heads: 64, layers: 16, d: 256 });
    const e = refusal(() => checkResources(iclRegression, big));
    expect(e.field).toBe('resources');
    for (const f of ['heads = 64', 'layers = 16', 'd = 256', '--max-memory']) expect(e.message).toContain(f);
    expect(refusal(() => checkResources(iclRegression, icl({ batch: 65536, L: 4096, d: 256 }))).message).toContain(
      'batch = 65536, L = 4096',
    );
    // Raised explicitly, it passes.
    expect(checkResources(iclRegression, big, 1e15)!.bytes).toBeGreaterThan(DEFAULT_MEMORY_LIMIT);
  });
  it('value-matrix: its memory is led by the arrays it allocates, its work by the training steps; oversized settings are refused naming their fields', () => {
    const vm = (overrides: Record<string, unknown>) => resolveConfig(valueMatrix, { overrides });
    for (const preset of Object.keys(valueMatrix.presets))
      expect(
        checkResources(
          valueMatrix,
          resolveConfig(valueMatrix, { preset }),
          DEFAULT_MEMORY_LIMIT,
          BROWSER_OPERATION_LIMIT,
        ),
      ).toBeDefined();
    // Width 8192: A = XᵀX alone is 8·8192² bytes = 512 MiB of float64, the rest of the run far less.
    const wide = valueMatrix.estimate!(vm({ learning: { dModel: 8192 } }));
    expect(wide.bytes).toBeGreaterThanOrEqual(8 * 8192 ** 2);
    expect(wide.bytes).toBeLessThan(1.2 * 8 * 8192 ** 2);
    expect(wide.drivers).toEqual([{ field: 'learning.dModel', value: 8192 }]);
    expect(wide.parameters).toBe(8192 * 4 + 4 * 3);
    // 1000 steps at width 512: each forms A·W (2·512²·3 operations, 3 colour dimensions) and little else;
    // the other parts (an SVD of a 64 × 64 matrix, eight 20 × 512 × 64 products) add under a tenth.
    const steps = valueMatrix.estimate!(vm({ learning: { dModel: 512, epochs: 1000 } })).operations!;
    expect(steps.count).toBeGreaterThanOrEqual(1000 * 2 * 512 ** 2 * 3);
    expect(steps.count).toBeLessThan(1.2 * 1000 * 2 * 512 ** 2 * 3);
    expect(steps.drivers[0]!.field).toBe('learning.dModel'); // quadratic
    expect(steps.drivers.map((d) => d.field).sort()).toEqual([
      'learning.colorDims',
      'learning.dModel',
      'learning.epochs',
    ]);
    // Over memory: 65,536 × 65,536 samples are 17 GiB as float32 alone.
    const e = refusal(() => checkResources(valueMatrix, vm({ learning: { nSamples: 65536, dModel: 65536 } })));
    expect(e).toBeInstanceOf(ResourceError);
    expect((e as ResourceError).kind).toBe('memory');
    expect((e as ResourceError).drivers.map((d) => d.field).sort()).toEqual(['learning.dModel', 'learning.nSamples']);
    expect(
      refusal(() => checkResources(valueMatrix, vm({ compression: { dModel: 65536, dV: 65536 } }))).message,
    ).toMatch(/compression\.(dModel|dV) = 65536, compression\.(dModel|dV) = 65536/);
    // Over the tab's work, within memory: refused with the web lab's limit, run by the CLI (no limit on work).
    const long = vm({ learning: { dModel: 4096, epochs: 1000000 } });
    const w = refusal(() =>
      checkResources(valueMatrix, long, DEFAULT_MEMORY_LIMIT, BROWSER_OPERATION_LIMIT),
    ) as ResourceError;
    expect(w.kind).toBe('operations');
    expect(w.drivers.map((d) => d.field).sort()).toEqual(['learning.colorDims', 'learning.dModel', 'learning.epochs']);
    expect(w.message).toContain('learning.epochs = 1000000');
    expect(checkResources(valueMatrix, long)!.operations!.count).toBeGreaterThan(1e14);
  });
  it('parses and prints sizes', () => {
    expect(parseByteSize('8GB')).toBe(8e9);
    expect(parseByteSize('512MiB')).toBe(512 * 2 ** 20);
    expect(parseByteSize(' 1.5 gib ')).toBe(1.5 * 2 ** 30);
    expect(parseByteSize('1000')).toBe(1000);
    for (const bad of ['', 'x', '-1GB', '0', '8 parsecs']) expect(parseByteSize(bad)).toBeUndefined();
    expect(formatBytes(4 * 2 ** 30)).toBe('4 GiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
  });
});

describe('configs checked before a run', () => {
  it('value-matrix retrieval.dV must be a multiple of 4 (was: an internal error half-way through the run)', () => {
    const e = refusal(() => resolveConfig(valueMatrix, { overrides: { retrieval: { dV: 5 } } }));
    expect(e.message).toBe('config.retrieval.dV: must be an integer ≥ 4 and ≤ 4096 and a multiple of 4; got 5');
  });
  it('kv-cache bounds its list of sequence lengths and its batch', () => {
    expect(refusal(() => resolveConfig(kvCache, { overrides: { seqLens: new Array(1001).fill(8) } })).field).toBe(
      'config.seqLens',
    );
    expect(refusal(() => resolveConfig(kvCache, { overrides: { batch: 1e308 } })).field).toBe('config.batch');
  });
  it('a huge string value is clipped in the message (not echoed whole)', () => {
    const e = refusal(() => validate(s.object({ mode: s.enum(['a', 'b']) }), { mode: 'x'.repeat(1e6) }, 'config'));
    expect(e.message.length).toBeLessThan(200);
    expect(e.message).toContain('(1000000 characters)');
  });
});

describeBackends('non-finite results', () => {
  it('are flagged in meta.nonFinite, and the saved result (NaN → null) validates again', async () => {
    const r = (await valueMatrix.run(
      resolveConfig(valueMatrix, { overrides: { learning: { lr: 1e308, epochs: 3 } } }),
    )) as ExperimentResult;
    flagNonFinite(r);
    expect(r.meta.nonFinite).toEqual(expect.arrayContaining([{ path: 'data.learning.finalLoss', value: 'NaN' }]));
    const saved = JSON.parse(JSON.stringify(r)) as ExperimentResult;
    expect(() => validateResult(valueMatrix, saved)).not.toThrow();
    expect(validateResult(valueMatrix, saved).meta.nonFinite).toEqual(r.meta.nonFinite);
  });
});
