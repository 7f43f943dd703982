import { describeBackends } from '@attnlab/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { kvCache, resolveConfig, validateResult, valueMatrix } from './index.js';

describeBackends('value-matrix (seed preset)', () => {
  it("meets seed 000's numbers: 87.5% error, effective rank 55–62, diverse heads, focused learned compression", async () => {
    const before = tf.memory().numTensors;
    const phases: string[] = [];
    const r = await valueMatrix.run(resolveConfig(valueMatrix, { preset: 'seed' }), { onEvent: (e) => { if (e.type === 'phase') phases.push(e.phase); } });
    expect(tf.memory().numTensors).toBe(before);
    expect(phases).toEqual(['compression', 'multihead', 'retrieval', 'kv-cache', 'learning']);
    validateResult(valueMatrix, JSON.parse(JSON.stringify(r)));
    const d = r.data;
    expect(Math.abs(d.compression.relativeError - 0.875)).toBeLessThan(0.03);
    expect(d.compression.effectiveRank).toBeGreaterThanOrEqual(55);
    expect(d.compression.effectiveRank).toBeLessThanOrEqual(62);
    expect(d.compression.spectrum).toHaveLength(64);
    expect(d.multihead.meanAbsCorrelation).toBeLessThan(0.1);
    expect(d.multihead.pairs).toBe(28);
    expect(d.learning.losses).toHaveLength(500);
    expect(d.learning.finalLoss).toBeLessThan(d.learning.losses[0]! / 5);
    expect(d.learning.ratio).toBeGreaterThan(1.5);
    // Retrieval: focusing on the person tokens retrieves the person dimensions (and not the action ones).
    const person = d.retrieval.patterns.find((p) => p.name === 'person')!;
    expect(person.groups.person!).toBeGreaterThan(3 * person.groups.action!);
    expect(r.figures.map((f) => f.id)).toEqual(['spectrum', 'retrieval', 'kv-cache-table', 'kv-cache-compare', 'kv-cache-curve', 'learning', 'summary']);
  });
}, ['cpu', 'wasm']);

describe('kv-cache', () => {
  it("reproduces seed 000's KV-cache table and MQA/GQA savings exactly (its formula, worked by hand)", async () => {
    const r = await kvCache.run(resolveConfig(kvCache, { preset: 'seed' }));
    validateResult(kvCache, JSON.parse(JSON.stringify(r)));
    const mb = r.data.table.map((row) => [row.label, ...row.sizes.map((x) => x.mebibytes.toFixed(1))]);
    expect(mb).toEqual([
      ['GPT-2 Small', '18.0', '36.0', '72.0', '144.0'],
      ['GPT-2 Large', '90.0', '180.0', '360.0', '720.0'],
      ['LLaMA-7B', '256.0', '512.0', '1024.0', '2048.0'],
      ['LLaMA-13B', '400.0', '800.0', '1600.0', '3200.0'],
    ]);
    const v = r.data.comparison.variants;
    expect(v.map((x) => [x.name, x.mebibytes.toFixed(1), x.reduction.toFixed(1)])).toEqual([
      ['MHA', '1024.0', '1.0'],
      ['GQA (4 KV heads)', '128.0', '8.0'],
      ['MQA (1 KV head)', '32.0', '32.0'],
      // MLA: (512 + 64) numbers per token per layer: 576 · 32 layers · 2048 · 2 bytes = 72 MiB.
      ['MLA (latent 512 + RoPE 64)', '72.0', (1024 / 72).toFixed(1)],
    ]);
  });

  it('accepts custom shapes and names a bad one', async () => {
    const r = await kvCache.run(resolveConfig(kvCache, { overrides: { models: [], custom: [{ label: 'tiny', attention: 'gqa', layers: 2, heads: 4, kvHeads: 2, headDim: 8 }], seqLens: [10] } }));
    expect(r.data.table[0]!.sizes[0]!.bytes).toBe(2 * 2 * 8 * 2 * 10 * 2); // K and V · kvHeads · headDim · layers · tokens · bytes
    await expect(kvCache.run(resolveConfig(kvCache, { overrides: { custom: [{ label: 'bad', attention: 'gqa', layers: 2, heads: 4, kvHeads: 3, headDim: 8 }] } })))
      .rejects.toThrow(/config.custom\[0\]: heads \(4\) must be divisible by kvHeads/);
    expect(() => resolveConfig(kvCache, { overrides: { models: ['gpt5'] } })).toThrow(/config.models\[0\]: must be one of gpt2-small, .*deepseek-v2; got "gpt5"/);
  });
});
