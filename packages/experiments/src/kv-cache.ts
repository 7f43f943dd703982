import {
  KV_CACHE_PRESETS,
  kvCacheBytes,
  kvCacheBytesPerToken,
  mebibytes,
  type KvCacheModel,
  type KvCachePresetName,
} from '@attnlab/metrics';
import type { FigureSpec } from '@attnlab/plot';
import { RESULT_SCHEMA_VERSION, type Experiment, type ExperimentResult, type NamedFigure } from './experiment.js';
import { startMeta } from './meta.js';
import { ConfigError, s, type Infer } from './schema.js';

const PRESET_IDS = Object.keys(KV_CACHE_PRESETS) as KvCachePresetName[];
const KINDS = ['mha', 'mqa', 'gqa', 'mla'] as const;

interface ModelRow {
  model: string;
  label: string;
  attention: string;
  layers: number;
  heads: number;
  kvHeads: number | null;
  headDim: number | null;
  kvLoraRank: number | null;
  ropeHeadDim: number | null;
  bytesPerToken: number;
  sizes: { seqLen: number; bytes: number; mebibytes: number }[];
}
export interface KvCacheData {
  bytesPerElement: number;
  batch: number;
  table: ModelRow[];
  comparison: {
    model: string;
    seqLen: number;
    variants: { name: string; attention: string; bytes: number; mebibytes: number; reduction: number }[];
  };
  curve: { seqLens: number[]; series: { name: string; mebibytes: number[] }[] };
}

const customModel = s.object({
  label: s.string({ minLength: 1 }),
  attention: s.enum(KINDS),
  layers: s.int({ min: 1 }),
  heads: s.int({ min: 1 }),
  kvHeads: s.int({ min: 1, optional: true }),
  headDim: s.int({ min: 1, optional: true }),
  kvLoraRank: s.int({ min: 1, optional: true }),
  ropeHeadDim: s.int({ min: 0, optional: true }),
});

export const kvCacheSectionSchema = s.object(
  {
    models: s.array(s.enum(PRESET_IDS), {
      default: ['gpt2-small', 'gpt2-large', 'llama-7b', 'llama-13b'],
      description: 'named models',
    }),
    custom: s.array(customModel, { default: [], description: 'custom shapes' }),
    seqLens: s.array(s.int({ min: 1, max: 1e9 }), {
      minItems: 1,
      maxItems: 1000,
      default: [512, 1024, 2048, 4096],
      description: 'sequence lengths',
    }),
    batch: s.int({ min: 1, max: 1e6, default: 1, description: 'sequences in the batch' }),
    bytesPerElement: s.number({
      min: 0,
      exclusiveMin: true,
      default: 2,
      description: 'bytes per cached number (2 = fp16)',
    }),
    compare: s.object(
      {
        model: s.enum(PRESET_IDS, { default: 'llama-7b' }),
        seqLen: s.int({ min: 1, default: 2048 }),
        gqaKvHeads: s.int({ min: 1, default: 4 }),
        mlaKvLoraRank: s.int({ min: 1, default: 512 }),
        mlaRopeHeadDim: s.int({ min: 0, default: 64 }),
      },
      { default: {} },
    ),
    curveMaxSeqLen: s.int({ min: 2, default: 131072, description: 'longest context on the size curve' }),
  },
  { default: {} },
);

/** The config of the KV-cache section: derived from `kvCacheSectionSchema`. */
export type KvCacheSectionConfig = Infer<typeof kvCacheSectionSchema>;

const rowSchema = s.object({
  model: s.string(),
  label: s.string(),
  attention: s.string(),
  layers: s.int(),
  heads: s.int(),
  kvHeads: s.nullable(s.int()),
  headDim: s.nullable(s.int()),
  kvLoraRank: s.nullable(s.int()),
  ropeHeadDim: s.nullable(s.int()),
  bytesPerToken: s.number(),
  sizes: s.array(s.object({ seqLen: s.int(), bytes: s.number(), mebibytes: s.number() })),
});
export const kvCacheDataSchema = s.object({
  bytesPerElement: s.number(),
  batch: s.int(),
  table: s.array(rowSchema),
  comparison: s.object({
    model: s.string(),
    seqLen: s.int(),
    variants: s.array(
      s.object({
        name: s.string(),
        attention: s.string(),
        bytes: s.number(),
        mebibytes: s.number(),
        reduction: s.number(),
      }),
    ),
  }),
  curve: s.object({
    seqLens: s.array(s.int()),
    series: s.array(s.object({ name: s.string(), mebibytes: s.array(s.number()) })),
  }),
});

function row(id: string, m: KvCacheModel, c: KvCacheSectionConfig, path: string): ModelRow {
  let bytesPerToken: number;
  try {
    bytesPerToken = kvCacheBytesPerToken({ ...m, bytesPerElement: c.bytesPerElement });
  } catch (err) {
    throw new ConfigError(
      path,
      'a consistent model shape',
      m,
      (err as Error).message.replace(/^kvCacheBytesPerToken: /, ''),
    );
  }
  return {
    model: id,
    label: m.label ?? id,
    attention: m.attention,
    layers: m.layers,
    heads: m.heads,
    kvHeads:
      m.attention === 'mla' ? null : m.attention === 'mha' ? m.heads : m.attention === 'mqa' ? 1 : (m.kvHeads ?? null),
    headDim: m.headDim ?? null,
    kvLoraRank: m.kvLoraRank ?? null,
    ropeHeadDim: m.ropeHeadDim ?? null,
    bytesPerToken,
    sizes: c.seqLens.map((seqLen) => {
      const bytes = kvCacheBytes({ ...m, seqLen, batch: c.batch, bytesPerElement: c.bytesPerElement });
      return { seqLen, bytes, mebibytes: mebibytes(bytes) };
    }),
  };
}

function computeSection(c: KvCacheSectionConfig): KvCacheData {
  const table = [
    ...c.models.map((id, i) => row(id, KV_CACHE_PRESETS[id], c, `config.models[${i}]`)),
    ...c.custom.map((m, i) => row(m.label, m, c, `config.custom[${i}]`)),
  ];
  const base = KV_CACHE_PRESETS[c.compare.model];
  if (base.attention === 'mla' || base.headDim === undefined) {
    throw new ConfigError(
      'config.compare.model',
      'an MHA/GQA model with a head width',
      c.compare.model,
      'must be an MHA or GQA model (MLA has no per-head cache to compare)',
    );
  }
  if (base.heads % c.compare.gqaKvHeads !== 0) {
    throw new ConfigError(
      'config.compare.gqaKvHeads',
      `a divisor of ${base.heads} (the model's heads)`,
      c.compare.gqaKvHeads,
    );
  }
  const variants: { name: string; model: KvCacheModel }[] = [
    { name: 'MHA', model: { ...base, attention: 'mha', kvHeads: undefined } },
    {
      name: `GQA (${c.compare.gqaKvHeads} KV heads)`,
      model: { ...base, attention: 'gqa', kvHeads: c.compare.gqaKvHeads },
    },
    { name: 'MQA (1 KV head)', model: { ...base, attention: 'mqa', kvHeads: undefined } },
    {
      name: `MLA (latent ${c.compare.mlaKvLoraRank} + RoPE ${c.compare.mlaRopeHeadDim})`,
      model: {
        attention: 'mla',
        layers: base.layers,
        heads: base.heads,
        kvLoraRank: c.compare.mlaKvLoraRank,
        ropeHeadDim: c.compare.mlaRopeHeadDim,
      },
    },
  ];
  const sizeOf = (m: KvCacheModel, seqLen: number) =>
    kvCacheBytes({ ...m, seqLen, batch: c.batch, bytesPerElement: c.bytesPerElement });
  const mhaBytes = sizeOf(variants[0]!.model, c.compare.seqLen);
  const comparison = {
    model: base.label ?? c.compare.model,
    seqLen: c.compare.seqLen,
    variants: variants.map((v) => {
      const bytes = sizeOf(v.model, c.compare.seqLen);
      return {
        name: v.name,
        attention: v.model.attention,
        bytes,
        mebibytes: mebibytes(bytes),
        reduction: mhaBytes / bytes,
      };
    }),
  };
  const seqLens: number[] = [];
  for (let L = 256; L <= c.curveMaxSeqLen; L *= 2) seqLens.push(L);
  if (seqLens[seqLens.length - 1] !== c.curveMaxSeqLen) seqLens.push(c.curveMaxSeqLen);
  const curve = {
    seqLens,
    series: variants.map((v) => ({ name: v.name, mebibytes: seqLens.map((L) => mebibytes(sizeOf(v.model, L))) })),
  };
  return { bytesPerElement: c.bytesPerElement, batch: c.batch, table, comparison, curve };
}

const fmt = (mb: number) => Number(mb.toFixed(1));

export function kvCacheFigures(d: KvCacheData): NamedFigure[] {
  const lens = d.table[0]?.sizes.map((x) => x.seqLen) ?? [];
  return [
    {
      id: 'kv-cache-table',
      spec: {
        kind: 'table',
        title: `KV-cache memory per batch of ${d.batch} (MB = 1024² bytes, ${d.bytesPerElement} bytes per number)`,
        columns: [
          'model',
          'attention',
          'layers',
          'heads',
          'KV heads',
          'head dim',
          'bytes/token',
          ...lens.map((L) => `${L} tokens (MB)`),
        ],
        rows: d.table.map((r) => [
          r.label,
          r.attention.toUpperCase(),
          r.layers,
          r.heads,
          r.kvHeads,
          r.headDim ?? (r.kvLoraRank !== null ? `${r.kvLoraRank}+${r.ropeHeadDim}` : null),
          r.bytesPerToken,
          ...r.sizes.map((x) => fmt(x.mebibytes)),
        ]),
      } as FigureSpec,
    },
    {
      id: 'kv-cache-compare',
      spec: {
        kind: 'bar',
        title: `${d.comparison.model} at ${d.comparison.seqLen} tokens: MHA vs GQA vs MQA vs MLA`,
        yLabel: 'MB',
        categories: d.comparison.variants.map((v) => `${v.name} (${v.reduction.toFixed(1)}×)`),
        groups: [{ name: 'KV cache', values: d.comparison.variants.map((v) => v.mebibytes) }],
        legend: false,
      } as FigureSpec,
    },
    {
      id: 'kv-cache-curve',
      spec: {
        kind: 'line',
        title: `${d.comparison.model}: KV cache against context length`,
        x: { label: 'context length (tokens)', scale: 'log' },
        y: { label: 'MB', scale: 'log' },
        series: d.curve.series.map((sr) => ({ name: sr.name, x: d.curve.seqLens, y: sr.mebibytes, markers: true })),
      } as FigureSpec,
    },
  ];
}

const seedSection: KvCacheSectionConfig = {
  models: ['gpt2-small', 'gpt2-large', 'llama-7b', 'llama-13b'],
  custom: [],
  seqLens: [512, 1024, 2048, 4096],
  batch: 1,
  bytesPerElement: 2,
  compare: { model: 'llama-7b', seqLen: 2048, gqaKvHeads: 4, mlaKvLoraRank: 512, mlaRopeHeadDim: 64 },
  curveMaxSeqLen: 131072,
};

/** The KV-cache section shared by the value-matrix experiment and the standalone calculator. */
export const kvCacheSection = {
  presets: { seed: seedSection },
  compute: computeSection,
};

/** KV-cache calculator: seed 000's table, MHA/GQA/MQA/MLA side by side, and a curve against context length. */
export const kvCache: Experiment<KvCacheSectionConfig, KvCacheData> = {
  id: 'kv-cache',
  title: 'KV-cache calculator',
  summary:
    "Seed 000's KV-cache memory table with MQA/GQA savings and DeepSeek-V2's MLA beside them; presets and custom shapes.",
  configSchema: kvCacheSectionSchema,
  dataSchema: kvCacheDataSchema,
  presets: {
    seed: seedSection,
    quick: {
      ...seedSection,
      models: ['gpt2-small', 'gpt2-large', 'llama-7b', 'llama-13b', 'llama-2-70b', 'mistral-7b', 'deepseek-v2'],
    },
  },
  async run(config): Promise<ExperimentResult<KvCacheSectionConfig, KvCacheData>> {
    const meta = startMeta();
    const data = computeSection(config);
    return {
      experiment: 'kv-cache',
      schemaVersion: RESULT_SCHEMA_VERSION,
      config,
      data,
      figures: kvCacheFigures(data),
      meta: meta.finish(),
    };
  },
};
