import * as tf from '@tensorflow/tfjs-core';
import { linear, tidy, splitHeads } from './linear.js';
import {
  attendHeads,
  validateMhaOptions,
  type MultiHeadAttentionParams,
  type MultiHeadAttentionResult,
} from './mha.js';
import {
  attendLatent,
  latentKv,
  validateLatentInput,
  validateLatentOptions,
  validateLatentParams,
  type AbsorbedLatentWeights,
  type LatentAttentionForm,
  type MultiHeadLatentAttentionParams,
  type MultiHeadLatentAttentionResult,
} from './mla.js';
import { assertFloat, assertRank, assertTensor, shapeStr } from './validate.js';

/**
 * KV cache of a multi-head / grouped-query / multi-query layer: keys and values of the
 * numKvHeads KV heads only, `[B, Hkv, T, headDim]` each. Owned by the caller: `dispose()` it.
 */
export interface KvCache {
  readonly kind: 'mha';
  /** `[B, numKvHeads, length, headDim]`, or null before the first step. */
  keys: tf.Tensor4D | null;
  values: tf.Tensor4D | null;
  /** Tokens cached so far. */
  length: number;
  /** Cached elements per token per sequence: 2 · numKvHeads · headDim. */
  readonly elementsPerToken: number;
  /** Elements held now: batch · length · elementsPerToken. */
  size(): number;
  dispose(): void;
}

/**
 * KV cache of a multi-head latent attention layer: only the latent c_KV `[B, T, kvLoraRank]` and
 * the shared RoPE key `[B, T, qkRopeHeadDim]`. Owned by the caller: `dispose()` it.
 */
export interface LatentKvCache {
  readonly kind: 'mla';
  latent: tf.Tensor3D | null;
  ropeKey: tf.Tensor3D | null;
  length: number;
  /** Cached elements per token per sequence: kvLoraRank + qkRopeHeadDim. */
  readonly elementsPerToken: number;
  size(): number;
  dispose(): void;
}

/** Options of {@link decodeStep}. */
export interface DecodeStepOptions {
  /** MHA: also return the head-averaged weights. */
  averageWeights?: boolean;
  /** MLA: 'naive' (rebuild K, V from the cached latent) or 'absorbed' (attend over the latent; default). */
  form?: LatentAttentionForm;
  /** MLA: precomputed absorbed weights (see absorbLatentAttention). */
  absorbed?: AbsorbedLatentWeights;
}

/**
 * An empty KV cache for a layer: keys/values per KV head for MHA/GQA/MQA, latent + RoPE key for MLA.
 * @example
 * const cache = createKvCache(params); // then decodeStep(params, cache, xToken) per token; cache.dispose()
 */
export function createKvCache(params: MultiHeadAttentionParams): KvCache;
export function createKvCache(params: MultiHeadLatentAttentionParams): LatentKvCache;
export function createKvCache(
  params: MultiHeadAttentionParams | MultiHeadLatentAttentionParams,
): KvCache | LatentKvCache {
  const fn = 'createKvCache';
  if (params?.kind === 'mla') {
    validateLatentParams(fn, params);
    const c = params.config;
    const cache: LatentKvCache = {
      kind: 'mla',
      latent: null,
      ropeKey: null,
      length: 0,
      elementsPerToken: c.kvLoraRank + c.qkRopeHeadDim,
      size() {
        return (this.latent?.size ?? 0) + (this.ropeKey?.size ?? 0);
      },
      dispose() {
        this.latent?.dispose();
        this.ropeKey?.dispose();
        this.latent = null;
        this.ropeKey = null;
        this.length = 0;
      },
    };
    return cache;
  }
  if (params?.kind !== 'mha') {
    throw new TypeError(
      `${fn}: params must be attention parameters of kind 'mha' or 'mla'; got ${params === null || typeof params !== 'object' ? String(params) : `kind ${String((params as { kind?: unknown }).kind)}`}`,
    );
  }
  const c = params.config;
  const cache: KvCache = {
    kind: 'mha',
    keys: null,
    values: null,
    length: 0,
    elementsPerToken: 2 * c.numKvHeads * c.headDim,
    size() {
      return (this.keys?.size ?? 0) + (this.values?.size ?? 0);
    },
    dispose() {
      this.keys?.dispose();
      this.values?.dispose();
      this.keys = null;
      this.values = null;
      this.length = 0;
    },
  };
  return cache;
}

function appendAlong(old: tf.Tensor | null, next: tf.Tensor, axis: number): tf.Tensor {
  return old ? tf.concat([old, next], axis) : next;
}

/**
 * Feeds new tokens x `[B, Tnew, dModel]` (one token, or a prompt chunk) through a layer with a KV
 * cache: appends their keys/values (MHA/GQA/MQA) or latent + RoPE key (MLA) to the cache (in place)
 * and attends causally over everything cached. Token-by-token decoding equals the full causal forward.
 * @example
 * const cache = createKvCache(p);
 * for (const xt of tokens) { const { output, weights } = decodeStep(p, cache, xt); ... }
 */
export function decodeStep(
  params: MultiHeadAttentionParams,
  cache: KvCache,
  x: tf.Tensor,
  options?: DecodeStepOptions,
): MultiHeadAttentionResult;
export function decodeStep(
  params: MultiHeadLatentAttentionParams,
  cache: LatentKvCache,
  x: tf.Tensor,
  options?: DecodeStepOptions,
): MultiHeadLatentAttentionResult;
export function decodeStep(
  params: MultiHeadAttentionParams | MultiHeadLatentAttentionParams,
  cache: KvCache | LatentKvCache,
  x: tf.Tensor,
  options: DecodeStepOptions = {},
): MultiHeadAttentionResult | MultiHeadLatentAttentionResult {
  const fn = 'decodeStep';
  if (params === null || typeof params !== 'object' || (params.kind !== 'mha' && params.kind !== 'mla')) {
    throw new TypeError(`${fn}: params must be attention parameters of kind 'mha' or 'mla'; got ${String(params)}`);
  }
  if (cache === null || typeof cache !== 'object' || cache.kind !== params.kind) {
    throw new TypeError(
      `${fn}: cache must be a KV cache of kind '${params.kind}' (from createKvCache(params)); got ${cache === null || typeof cache !== 'object' ? String(cache) : `kind ${String(cache.kind)}`}`,
    );
  }
  assertTensor(fn, 'x', x);
  assertRank(fn, 'x', x, 3, '[B, Tnew, dModel]');
  assertFloat(fn, 'x', x);
  const b = x.shape[0];
  const cachedB = cache.kind === 'mha' ? cache.keys?.shape[0] : cache.latent?.shape[0];
  if (cachedB !== undefined && cachedB !== b)
    throw new RangeError(`${fn}: x must have the cache's batch size ${cachedB}; got shape ${shapeStr(x.shape)}`);
  const tq = x.shape[1]!;
  const tk = cache.length + tq;
  if (params.kind === 'mha') {
    const c = params.config;
    if (c.kdim !== c.embedDim || c.vdim !== c.embedDim) {
      throw new RangeError(
        `${fn}: self-attention decoding needs kdim = vdim = embedDim; got kdim ${c.kdim}, vdim ${c.vdim}, embedDim ${c.embedDim}`,
      );
    }
    if (x.shape[2] !== c.embedDim)
      throw new RangeError(
        `${fn}: x must have last dim embedDim = ${c.embedDim} [B, Tnew, embedDim]; got shape ${shapeStr(x.shape)}`,
      );
    const mopts = { causal: true, alignment: 'bottom-right' as const, averageWeights: options.averageWeights };
    validateMhaOptions(fn, mopts);
    const kv = cache as KvCache;
    const r = tidy(() => {
      const q = splitHeads(linear(x, params.wQ, params.bQ), c.numHeads);
      const keys = appendAlong(kv.keys, splitHeads(linear(x, params.wK, params.bK), c.numKvHeads), 2) as tf.Tensor4D;
      const values = appendAlong(
        kv.values,
        splitHeads(linear(x, params.wV, params.bV), c.numKvHeads),
        2,
      ) as tf.Tensor4D;
      const res = attendHeads(params, q, keys, values, mopts, undefined);
      return { ...res, keys, values };
    });
    kv.keys?.dispose();
    kv.values?.dispose();
    kv.keys = r.keys;
    kv.values = r.values;
    kv.length = tk;
    const out: MultiHeadAttentionResult = { output: r.output, weights: r.weights };
    if (r.averagedWeights) out.averagedWeights = r.averagedWeights;
    return out;
  }
  const lc = cache as LatentKvCache;
  const lopts = {
    causal: true,
    alignment: 'bottom-right' as const,
    form: options.form ?? 'absorbed',
    absorbed: options.absorbed,
    positionOffset: lc.length,
  };
  validateLatentParams(fn, params);
  validateLatentOptions(fn, lopts, params);
  validateLatentInput(fn, params, x);
  const r = tidy(() => {
    const fresh = latentKv(params, x, lc.length);
    const latent = appendAlong(lc.latent, fresh.latent, 1) as tf.Tensor3D;
    const ropeKey = appendAlong(lc.ropeKey, fresh.ropeKey, 1) as tf.Tensor3D;
    const res = attendLatent(fn, params, x, latent, ropeKey, lopts);
    return { ...res, latent, ropeKey };
  });
  lc.latent?.dispose();
  lc.ropeKey?.dispose();
  lc.latent = r.latent;
  lc.ropeKey = r.ropeKey;
  lc.length = tk;
  return { output: r.output, weights: r.weights };
}
