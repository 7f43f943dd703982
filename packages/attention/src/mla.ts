import * as tf from '@tensorflow/tfjs-core';
import { causalMask, type MaskAlignment } from './masks.js';
import { linear, tidy, mergeHeads, splitHeads, uniform } from './linear.js';
import { layerMask, validateMhaOptions } from './mha.js';
import { rope, type RopeStyle } from './rope.js';
import { scaledDotProductAttention } from './sdpa.js';
import {
  assertFloat,
  assertNonNegativeInt,
  assertOneOf,
  assertPositiveInt,
  assertRank,
  assertShape,
  assertTensor,
  shapeStr,
} from './validate.js';

/** Shape of a DeepSeek-V2 multi-head latent attention layer (names follow DeepSeek's config). */
export interface MultiHeadLatentAttentionConfig {
  /** Model width D. */
  dModel: number;
  numHeads: number;
  /** Width r of the joint KV latent c_KV = x W_DKV (DeepSeek's kv_lora_rank). */
  kvLoraRank: number;
  /** Width of the query latent c_Q = x W_DQ; 0 or omitted: no query compression (q_lora_rank). */
  qLoraRank?: number;
  /** Per-head width of the content ("no-position") part of queries and keys (qk_nope_head_dim). */
  qkNopeHeadDim: number;
  /** Width of the decoupled RoPE query (per head) and RoPE key (shared across heads) (qk_rope_head_dim); even. */
  qkRopeHeadDim: number;
  /** Per-head value width (v_head_dim). */
  vHeadDim: number;
  /** RoPE frequency base; default 10000. */
  ropeBase?: number;
  /** RoPE feature pairing; default 'interleaved'. */
  ropeStyle?: RopeStyle;
}

/** {@link MultiHeadLatentAttentionConfig} with defaults filled in. */
export interface ResolvedMultiHeadLatentAttentionConfig extends Required<MultiHeadLatentAttentionConfig> {
  /** 1/√(qkNopeHeadDim + qkRopeHeadDim). */
  scale: number;
}

/**
 * MLA parameters in `y = x W` layout (no biases, as DeepSeek-V2). Head h uses columns
 * h·d … (h+1)·d − 1 of each per-head projection.
 */
export interface MultiHeadLatentAttentionParams {
  readonly kind: 'mla';
  readonly config: ResolvedMultiHeadLatentAttentionConfig;
  /** Query down-projection `[dModel, qLoraRank]`; absent without query compression. */
  wDQ?: tf.Tensor2D;
  /** Query up-projection (content part) `[qIn, H·qkNopeHeadDim]`, qIn = qLoraRank or dModel. */
  wUQ: tf.Tensor2D;
  /** Decoupled RoPE query projection `[qIn, H·qkRopeHeadDim]`. */
  wQR: tf.Tensor2D;
  /** Joint KV down-projection `[dModel, kvLoraRank]`. */
  wDKV: tf.Tensor2D;
  /** Key up-projection `[kvLoraRank, H·qkNopeHeadDim]`. */
  wUK: tf.Tensor2D;
  /** Value up-projection `[kvLoraRank, H·vHeadDim]`. */
  wUV: tf.Tensor2D;
  /** Decoupled RoPE key projection `[dModel, qkRopeHeadDim]` (one key shared by all heads). */
  wKR: tf.Tensor2D;
  /** Output projection `[H·vHeadDim, dModel]`. */
  wO: tf.Tensor2D;
}

/** Attention form: 'naive' materialises per-head K and V; 'absorbed' folds W_UK into the query and W_UV into the output and attends over the latent. */
export type LatentAttentionForm = 'naive' | 'absorbed';
const FORMS: readonly LatentAttentionForm[] = ['naive', 'absorbed'];

export interface MultiHeadLatentAttentionOptions {
  /** Boolean mask broadcastable to `[B, H, Tq, Tk]`, `true` = may attend. */
  mask?: tf.Tensor;
  /** Boolean `[B, Tk]`, `true` = a real key. */
  keyPaddingMask?: tf.Tensor;
  causal?: boolean;
  strictCausal?: boolean;
  alignment?: MaskAlignment;
  /** Default 'naive'. */
  form?: LatentAttentionForm;
  /** Position of the first token for RoPE; default 0. */
  positionOffset?: number;
  /** Precomputed {@link absorbLatentAttention} weights for the absorbed form (else computed per call). */
  absorbed?: AbsorbedLatentWeights;
}

/** Output `[B, Tq, dModel]` and per-head weights `[B, H, Tq, Tk]`. */
export interface MultiHeadLatentAttentionResult {
  output: tf.Tensor3D;
  weights: tf.Tensor4D;
}

/** Absorbed weights: W_UQ_h W_UK_hᵀ `[H, qIn, kvLoraRank]` and W_UV_h W_O_h `[H, kvLoraRank, dModel]`. */
export interface AbsorbedLatentWeights {
  wQK: tf.Tensor3D;
  wVO: tf.Tensor3D;
}

/**
 * Validates an MLA config and fills its defaults.
 * @example
 * resolveMultiHeadLatentAttentionConfig({ dModel: 16, numHeads: 2, kvLoraRank: 4, qkNopeHeadDim: 4, qkRopeHeadDim: 2, vHeadDim: 3 }).scale; // 1/√6
 */
export function resolveMultiHeadLatentAttentionConfig(
  config: MultiHeadLatentAttentionConfig,
  fn = 'resolveMultiHeadLatentAttentionConfig',
): ResolvedMultiHeadLatentAttentionConfig {
  if (config === null || typeof config !== 'object')
    throw new TypeError(`${fn}: config must be an object; got ${String(config)}`);
  for (const name of ['dModel', 'numHeads', 'kvLoraRank', 'qkNopeHeadDim', 'qkRopeHeadDim', 'vHeadDim'] as const) {
    assertPositiveInt(fn, `config.${name}`, config[name]);
  }
  const qLoraRank = config.qLoraRank ?? 0;
  assertNonNegativeInt(fn, 'config.qLoraRank', qLoraRank);
  if (config.qkRopeHeadDim % 2 !== 0)
    throw new RangeError(`${fn}: config.qkRopeHeadDim must be even (RoPE rotates pairs); got ${config.qkRopeHeadDim}`);
  const ropeBase = config.ropeBase ?? 10000;
  if (typeof ropeBase !== 'number' || !(ropeBase > 0) || !Number.isFinite(ropeBase))
    throw new RangeError(`${fn}: config.ropeBase must be a finite number > 0; got ${String(ropeBase)}`);
  const ropeStyle = config.ropeStyle ?? 'interleaved';
  assertOneOf(fn, 'config.ropeStyle', ropeStyle, ['interleaved', 'half'] as const);
  return {
    dModel: config.dModel,
    numHeads: config.numHeads,
    kvLoraRank: config.kvLoraRank,
    qLoraRank,
    qkNopeHeadDim: config.qkNopeHeadDim,
    qkRopeHeadDim: config.qkRopeHeadDim,
    vHeadDim: config.vHeadDim,
    ropeBase,
    ropeStyle,
    scale: 1 / Math.sqrt(config.qkNopeHeadDim + config.qkRopeHeadDim),
  };
}

function shapesOf(c: ResolvedMultiHeadLatentAttentionConfig) {
  const qIn = c.qLoraRank > 0 ? c.qLoraRank : c.dModel;
  const h = c.numHeads;
  return {
    wDQ: [c.dModel, c.qLoraRank],
    wUQ: [qIn, h * c.qkNopeHeadDim],
    wQR: [qIn, h * c.qkRopeHeadDim],
    wDKV: [c.dModel, c.kvLoraRank],
    wUK: [c.kvLoraRank, h * c.qkNopeHeadDim],
    wUV: [c.kvLoraRank, h * c.vHeadDim],
    wKR: [c.dModel, c.qkRopeHeadDim],
    wO: [h * c.vHeadDim, c.dModel],
  } as const;
}

export function validateLatentParams(fn: string, params: MultiHeadLatentAttentionParams): void {
  if (params === null || typeof params !== 'object' || params.kind !== 'mla') {
    throw new TypeError(
      `${fn}: params must be multi-head latent attention parameters (kind 'mla', from initMultiHeadLatentAttention); got ${params === null ? 'null' : typeof params === 'object' ? `kind ${String((params as { kind?: unknown }).kind)}` : typeof params}`,
    );
  }
  const shapes = shapesOf(params.config);
  for (const name of ['wDQ', 'wUQ', 'wQR', 'wDKV', 'wUK', 'wUV', 'wKR', 'wO'] as const) {
    const t = params[name];
    if (name === 'wDQ' && params.config.qLoraRank === 0) {
      if (t !== undefined)
        throw new TypeError(
          `${fn}: params.wDQ must be absent when config.qLoraRank = 0; got shape ${shapeStr(t.shape)}`,
        );
      continue;
    }
    if (t === undefined) throw new TypeError(`${fn}: params.${name} is required; got undefined`);
    assertTensor(fn, `params.${name}`, t);
    assertShape(fn, `params.${name}`, t, shapes[name], '');
  }
}

/**
 * Random MLA parameters, each projection U(±1/√fan_in) as PyTorch's `nn.Linear`; same seed, same numbers on every backend.
 * @example
 * const p = initMultiHeadLatentAttention({ dModel: 16, numHeads: 2, kvLoraRank: 4, qLoraRank: 6, qkNopeHeadDim: 4, qkRopeHeadDim: 2, vHeadDim: 3 }, 7);
 */
export function initMultiHeadLatentAttention(
  config: MultiHeadLatentAttentionConfig,
  seed: number,
): MultiHeadLatentAttentionParams {
  const fn = 'initMultiHeadLatentAttention';
  const c = resolveMultiHeadLatentAttentionConfig(config, fn);
  if (typeof seed !== 'number' || !Number.isFinite(seed))
    throw new TypeError(`${fn}: seed must be a finite number; got ${String(seed)}`);
  const s = shapesOf(c);
  const draw = (shape: readonly [number, number], i: number) =>
    uniform([...shape], 1 / Math.sqrt(shape[0]), seed + i) as tf.Tensor2D;
  const p: MultiHeadLatentAttentionParams = {
    kind: 'mla',
    config: c,
    wUQ: draw(s.wUQ, 1),
    wQR: draw(s.wQR, 2),
    wDKV: draw(s.wDKV, 3),
    wUK: draw(s.wUK, 4),
    wUV: draw(s.wUV, 5),
    wKR: draw(s.wKR, 6),
    wO: draw(s.wO, 7),
  };
  if (c.qLoraRank > 0) p.wDQ = draw(s.wDQ, 0);
  return p;
}

/**
 * Precomputes the absorbed weights: W_UQ_h W_UK_hᵀ `[H, qIn, kvLoraRank]` (query side) and
 * W_UV_h W_O_h `[H, kvLoraRank, dModel]` (output side). The caller disposes them.
 * @example
 * const abs = absorbLatentAttention(p); multiHeadLatentAttention(p, x, { form: 'absorbed', absorbed: abs });
 */
export function absorbLatentAttention(params: MultiHeadLatentAttentionParams): AbsorbedLatentWeights {
  validateLatentParams('absorbLatentAttention', params);
  const c = params.config;
  const h = c.numHeads;
  return tidy(() => {
    // Per head: [qIn, dNope] · [dNope, r]; heads as the batch dim.
    const uq = tf.transpose(tf.reshape(params.wUQ, [-1, h, c.qkNopeHeadDim]), [1, 0, 2]); // [H, qIn, dNope]
    const uk = tf.transpose(tf.reshape(params.wUK, [c.kvLoraRank, h, c.qkNopeHeadDim]), [1, 2, 0]); // [H, dNope, r]
    const uv = tf.transpose(tf.reshape(params.wUV, [c.kvLoraRank, h, c.vHeadDim]), [1, 0, 2]); // [H, r, dV]
    const o = tf.reshape(params.wO, [h, c.vHeadDim, c.dModel]); // [H, dV, D]
    return { wQK: tf.matMul(uq, uk) as tf.Tensor3D, wVO: tf.matMul(uv, o) as tf.Tensor3D };
  });
}

/** Internal: latent c_KV `[B, T, r]` and RoPE key `[B, T, dRope]` of tokens x at positions offset…. */
export function latentKv(
  params: MultiHeadLatentAttentionParams,
  x: tf.Tensor,
  offset: number,
): { latent: tf.Tensor3D; ropeKey: tf.Tensor3D } {
  const c = params.config;
  const latent = linear(x, params.wDKV) as tf.Tensor3D;
  const ropeKey = rope(linear(x, params.wKR), { offset, base: c.ropeBase, style: c.ropeStyle }) as tf.Tensor3D;
  return { latent, ropeKey };
}

/** Internal: attention of queries from x (positions offset…) over a latent `[B, Tk, r]` and RoPE key `[B, Tk, dRope]` (inside a tidy). */
export function attendLatent(
  fn: string,
  params: MultiHeadLatentAttentionParams,
  x: tf.Tensor,
  latent: tf.Tensor,
  ropeKey: tf.Tensor,
  options: MultiHeadLatentAttentionOptions,
): MultiHeadLatentAttentionResult {
  const c = params.config;
  const h = c.numHeads;
  const [b, tq] = x.shape as [number, number, number];
  const tk = latent.shape[1]!;
  const offset = options.positionOffset ?? 0;
  const form = options.form ?? 'naive';
  // Combined boolean mask [B, H, Tq, Tk] (or undefined).
  let mask = layerMask(fn, options, b, h, tq, tk);
  if (options.causal || options.strictCausal) {
    const cm = causalMask(tq, tk, {
      strict: options.strictCausal === true,
      alignment: options.alignment ?? 'top-left',
    });
    mask = mask ? tf.logicalAnd(mask, cm) : cm;
  }
  const cq = params.wDQ ? linear(x, params.wDQ) : x; // [B, Tq, qIn]
  const qR = rope(splitHeads(linear(cq, params.wQR), h), { offset, base: c.ropeBase, style: c.ropeStyle }); // [B, H, Tq, dRope]
  if (form === 'naive') {
    const qC = splitHeads(linear(cq, params.wUQ), h); // [B, H, Tq, dNope]
    const kC = splitHeads(linear(latent, params.wUK), h); // [B, H, Tk, dNope]
    const v = splitHeads(linear(latent, params.wUV), h); // [B, H, Tk, dV]
    const kR = tf.broadcastTo(tf.expandDims(ropeKey, 1), [b, h, tk, c.qkRopeHeadDim]);
    const { output, weights } = scaledDotProductAttention(tf.concat([qC, qR], -1), tf.concat([kC, kR], -1), v, {
      mask,
      scale: c.scale,
    });
    return { output: linear(mergeHeads(output), params.wO) as tf.Tensor3D, weights: weights as tf.Tensor4D };
  }
  const abs = options.absorbed ?? absorbLatentAttention(params);
  const qIn = cq.shape[2]!;
  // q̃_h = c_Q (W_UQ_h W_UK_hᵀ): heads as the batch dim of one matMul.
  const cqH = tf.broadcastTo(tf.reshape(cq, [1, b * tq, qIn]), [h, b * tq, qIn]);
  const qT = tf.transpose(tf.reshape(tf.matMul(cqH, abs.wQK), [h, b, tq, c.kvLoraRank]), [1, 0, 2, 3]); // [B, H, Tq, r]
  // Every head attends over the same key [c_KV; k_R] and value c_KV: multi-query attention over the latent,
  // with the H·Tq query rows stacked so K and V are never repeated per head.
  const qAll = tf.reshape(tf.concat([qT, qR], -1), [b, h * tq, c.kvLoraRank + c.qkRopeHeadDim]);
  const kAll = tf.concat([latent, ropeKey], -1); // [B, Tk, r + dRope]
  const mAll = mask ? tf.reshape(tf.broadcastTo(mask, [b, h, tq, tk]), [b, h * tq, tk]) : undefined;
  const { output, weights } = scaledDotProductAttention(qAll, kAll, latent, { mask: mAll, scale: c.scale }); // [B, H·Tq, r]
  // Output: Σ_h (A_h c_KV) (W_UV_h W_O_h).
  const oH = tf.reshape(tf.transpose(tf.reshape(output, [b, h, tq, c.kvLoraRank]), [1, 0, 2, 3]), [
    h,
    b * tq,
    c.kvLoraRank,
  ]);
  const out = tf.reshape(tf.sum(tf.matMul(oH, abs.wVO), 0), [b, tq, c.dModel]) as tf.Tensor3D;
  return { output: out, weights: tf.reshape(weights, [b, h, tq, tk]) as tf.Tensor4D };
}

export function validateLatentOptions(
  fn: string,
  options: MultiHeadLatentAttentionOptions,
  params: MultiHeadLatentAttentionParams,
): void {
  validateMhaOptions(fn, options);
  if (options.form !== undefined) assertOneOf(fn, 'options.form', options.form, FORMS);
  if (options.positionOffset !== undefined) assertNonNegativeInt(fn, 'options.positionOffset', options.positionOffset);
  if (options.absorbed !== undefined) {
    const c = params.config;
    const qIn = c.qLoraRank > 0 ? c.qLoraRank : c.dModel;
    assertTensor(fn, 'options.absorbed.wQK', options.absorbed.wQK);
    assertShape(
      fn,
      'options.absorbed.wQK',
      options.absorbed.wQK,
      [c.numHeads, qIn, c.kvLoraRank],
      '[H, qIn, kvLoraRank]',
    );
    assertTensor(fn, 'options.absorbed.wVO', options.absorbed.wVO);
    assertShape(
      fn,
      'options.absorbed.wVO',
      options.absorbed.wVO,
      [c.numHeads, c.kvLoraRank, c.dModel],
      '[H, kvLoraRank, dModel]',
    );
  }
}

export function validateLatentInput(fn: string, params: MultiHeadLatentAttentionParams, x: tf.Tensor): void {
  assertTensor(fn, 'x', x);
  assertRank(fn, 'x', x, 3, '[B, T, dModel]');
  assertFloat(fn, 'x', x);
  if (x.shape[2] !== params.config.dModel)
    throw new RangeError(
      `${fn}: x must have last dim dModel = ${params.config.dModel} [B, T, dModel]; got shape ${shapeStr(x.shape)}`,
    );
}

/**
 * Multi-head latent attention (DeepSeek-V2) over x `[B, T, dModel]` (self-attention): keys and
 * values from the shared latent c_KV = x W_DKV, a decoupled RoPE key shared by all heads, RoPE
 * queries per head. `form: 'naive'` materialises K and V; `'absorbed'` attends over the latent.
 * @example
 * const { output, weights } = multiHeadLatentAttention(p, x, { causal: true, form: 'absorbed' });
 */
export function multiHeadLatentAttention(
  params: MultiHeadLatentAttentionParams,
  x: tf.Tensor,
  options: MultiHeadLatentAttentionOptions = {},
): MultiHeadLatentAttentionResult {
  const fn = 'multiHeadLatentAttention';
  validateLatentParams(fn, params);
  validateLatentOptions(fn, options, params);
  validateLatentInput(fn, params, x);
  return tidy(() => {
    const { latent, ropeKey } = latentKv(params, x, options.positionOffset ?? 0);
    return attendLatent(fn, params, x, latent, ropeKey, options);
  });
}
