/**
 * KV-cache sizes for MHA, MQA, GQA and MLA (seed 000, experiment 4, and DeepSeek-V2).
 *
 * Elements cached per token per layer:
 * - MHA: 2 · heads · headDim (a key and a value per head);
 * - GQA: 2 · kvHeads · headDim; MQA is GQA with kvHeads = 1;
 * - MLA (DeepSeek-V2): kvLoraRank + ropeHeadDim (the joint KV latent and the decoupled RoPE key,
 *   shared across heads; keys and values are re-expanded from the latent).
 * Bytes = elements · layers · seqLen · batch · bytesPerElement.
 */
import { checkInteger } from './validate.js';

export type AttentionKind = 'mha' | 'mqa' | 'gqa' | 'mla';

/** The architecture fields that fix the cache size per token. */
export interface KvCacheModel {
  attention: AttentionKind;
  /** Display name, e.g. "LLaMA-7B". */
  label?: string;
  layers: number;
  /** Query heads. */
  heads: number;
  /** Key/value heads: = heads for MHA, 1 for MQA, a divisor of heads for GQA; unused by MLA. */
  kvHeads?: number;
  /** Per-head key/value width (seed 000's d_v); required except for MLA. */
  headDim?: number;
  /** MLA: width of the compressed KV latent c_KV (DeepSeek-V2's kv_lora_rank). */
  kvLoraRank?: number;
  /** MLA: width of the decoupled RoPE key shared across heads (qk_rope_head_dim). */
  ropeHeadDim?: number;
}

/** How much is cached: sequence length, batch and precision (2 bytes = fp16/bf16, the default). */
export interface KvCacheUsage {
  seqLen: number;
  batch?: number;
  bytesPerElement?: number;
}

export type KvCacheConfig = KvCacheModel & KvCacheUsage;

export type KvCachePresetName =
  'gpt2-small' | 'gpt2-large' | 'llama-7b' | 'llama-13b' | 'llama-2-70b' | 'mistral-7b' | 'deepseek-v2';

/**
 * Named configurations: seed 000's four MHA models, two GQA models and DeepSeek-V2's MLA
 * (60 layers, 128 heads, kv_lora_rank 512, qk_rope_head_dim 64 from its config.json).
 */
export const KV_CACHE_PRESETS: Readonly<Record<KvCachePresetName, Readonly<KvCacheModel>>> = {
  'gpt2-small': { attention: 'mha', label: 'GPT-2 Small', layers: 12, heads: 12, headDim: 64 },
  'gpt2-large': { attention: 'mha', label: 'GPT-2 Large', layers: 36, heads: 20, headDim: 64 },
  'llama-7b': { attention: 'mha', label: 'LLaMA-7B', layers: 32, heads: 32, headDim: 128 },
  'llama-13b': { attention: 'mha', label: 'LLaMA-13B', layers: 40, heads: 40, headDim: 128 },
  'llama-2-70b': { attention: 'gqa', label: 'LLaMA-2-70B', layers: 80, heads: 64, kvHeads: 8, headDim: 128 },
  'mistral-7b': { attention: 'gqa', label: 'Mistral-7B', layers: 32, heads: 32, kvHeads: 8, headDim: 128 },
  'deepseek-v2': { attention: 'mla', label: 'DeepSeek-V2', layers: 60, heads: 128, kvLoraRank: 512, ropeHeadDim: 64 },
};

const KINDS: AttentionKind[] = ['mha', 'mqa', 'gqa', 'mla'];

/** Validates a model and returns the number of cached elements per token per layer. */
function elementsPerTokenPerLayer(fn: string, m: KvCacheModel): number {
  if (!KINDS.includes(m.attention)) {
    throw new RangeError(`${fn}: attention must be one of ${KINDS.join(', ')}; got ${String(m.attention)}`);
  }
  checkInteger(fn, 'layers', m.layers, 1);
  checkInteger(fn, 'heads', m.heads, 1);
  if (m.attention === 'mla') {
    checkInteger(fn, 'kvLoraRank', m.kvLoraRank, 1);
    checkInteger(fn, 'ropeHeadDim', m.ropeHeadDim, 0);
    return m.kvLoraRank + m.ropeHeadDim;
  }
  checkInteger(fn, 'headDim', m.headDim, 1);
  let kv: number;
  if (m.attention === 'mha') {
    if (m.kvHeads !== undefined && m.kvHeads !== m.heads) {
      throw new RangeError(
        `${fn}: kvHeads must equal heads (${m.heads}) for attention 'mha'; got ${m.kvHeads} (use 'gqa' or 'mqa')`,
      );
    }
    kv = m.heads;
  } else if (m.attention === 'mqa') {
    if (m.kvHeads !== undefined && m.kvHeads !== 1) {
      throw new RangeError(`${fn}: kvHeads must be 1 for attention 'mqa'; got ${m.kvHeads}`);
    }
    kv = 1;
  } else {
    checkInteger(fn, 'kvHeads', m.kvHeads, 1);
    if (m.heads % m.kvHeads !== 0) {
      throw new RangeError(
        `${fn}: heads (${m.heads}) must be divisible by kvHeads for 'gqa'; got kvHeads ${m.kvHeads}`,
      );
    }
    kv = m.kvHeads;
  }
  return 2 * kv * m.headDim;
}

function bytesPerElementOf(fn: string, u: { bytesPerElement?: number }): number {
  const b = u.bytesPerElement ?? 2;
  if (typeof b !== 'number' || !(b > 0) || !Number.isFinite(b)) {
    throw new RangeError(
      `${fn}: bytesPerElement must be a number > 0 (e.g. 4 fp32, 2 fp16, 1 int8, 0.5 int4); got ${String(b)}`,
    );
  }
  return b;
}

/**
 * Bytes the KV cache holds per token for a whole model (all layers, batch 1).
 * @example
 * kvCacheBytesPerToken(KV_CACHE_PRESETS['deepseek-v2']);   // (512 + 64) · 60 · 2 = 69120
 */
export function kvCacheBytesPerToken(model: KvCacheModel & { bytesPerElement?: number }): number {
  const fn = 'kvCacheBytesPerToken';
  return elementsPerTokenPerLayer(fn, model) * model.layers * bytesPerElementOf(fn, model);
}

/**
 * Total KV-cache bytes for a sequence length and batch (seed 000's
 * `2 · seq_len · d_v · n_heads · n_layers · precision` for MHA).
 * @example
 * kvCacheBytes({ ...KV_CACHE_PRESETS['llama-7b'], seqLen: 2048 });   // 1073741824 (1024.0 MB)
 */
export function kvCacheBytes(config: KvCacheConfig): number {
  const fn = 'kvCacheBytes';
  const perToken = elementsPerTokenPerLayer(fn, config) * config.layers * bytesPerElementOf(fn, config);
  checkInteger(fn, 'seqLen', config.seqLen, 0);
  const batch = config.batch ?? 1;
  checkInteger(fn, 'batch', batch, 1);
  return perToken * config.seqLen * batch;
}

/**
 * How many times smaller `variant`'s cache is than `base`'s for the same tokens (per-token ratio),
 * e.g. seed 000's "MQA reduction: 32x", "GQA reduction: 8.0x" for LLaMA-7B.
 * @example
 * const mha = KV_CACHE_PRESETS['llama-7b'];
 * kvCacheReduction(mha, { ...mha, attention: 'gqa', kvHeads: 4 });   // 8
 */
export function kvCacheReduction(base: KvCacheModel, variant: KvCacheModel): number {
  return kvCacheBytesPerToken(base) / kvCacheBytesPerToken(variant);
}

/**
 * Bytes → seed 000's "MB" (mebibytes, bytes / 1024²).
 * @example
 * mebibytes(18874368);   // 18
 */
export function mebibytes(bytes: number): number {
  return bytes / 1024 ** 2;
}
