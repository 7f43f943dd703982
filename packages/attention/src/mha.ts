import * as tf from '@tensorflow/tfjs-core';
import { MASK_ALIGNMENTS, type MaskAlignment } from './masks.js';
import { linear, tidy, mergeHeads, splitHeads, uniform } from './linear.js';
import { scaledDotProductAttention } from './sdpa.js';
import {
  assertBoolean,
  assertFloat,
  assertOneOf,
  assertPositiveInt,
  assertRank,
  assertShape,
  assertTensor,
  broadcastsTo,
  shapeStr,
} from './validate.js';

/** Shape of a multi-head attention layer (PyTorch `nn.MultiheadAttention` plus `numKvHeads`). */
export interface MultiHeadAttentionConfig {
  /** Model width E (query input and output width). */
  embedDim: number;
  /** Query heads H; head width is embedDim / numHeads. */
  numHeads: number;
  /** Key/value heads (GQA); H for MHA (default), 1 for MQA. numHeads must be divisible by it. */
  numKvHeads?: number;
  /** Key input width; default embedDim. */
  kdim?: number;
  /** Value input width; default embedDim. */
  vdim?: number;
  /** In-projection and output-projection biases; default true (as PyTorch). */
  bias?: boolean;
}

/** {@link MultiHeadAttentionConfig} with every default filled in. */
export interface ResolvedMultiHeadAttentionConfig {
  embedDim: number;
  numHeads: number;
  numKvHeads: number;
  kdim: number;
  vdim: number;
  bias: boolean;
  /** embedDim / numHeads. */
  headDim: number;
}

/**
 * Parameters of a multi-head attention layer in `y = x W + b` layout (W is `[in, out]`, the
 * transpose of PyTorch's `Linear.weight`). Head h of Q uses columns h·headDim … (h+1)·headDim − 1.
 */
export interface MultiHeadAttentionParams {
  readonly kind: 'mha';
  readonly config: ResolvedMultiHeadAttentionConfig;
  /** `[embedDim, numHeads·headDim]`. */
  wQ: tf.Tensor2D;
  /** `[kdim, numKvHeads·headDim]`. */
  wK: tf.Tensor2D;
  /** `[vdim, numKvHeads·headDim]`. */
  wV: tf.Tensor2D;
  /** `[embedDim, embedDim]` (concatenated heads → model width). */
  wO: tf.Tensor2D;
  bQ?: tf.Tensor1D;
  bK?: tf.Tensor1D;
  bV?: tf.Tensor1D;
  bO?: tf.Tensor1D;
}

/** Options of {@link multiHeadAttention}. */
export interface MultiHeadAttentionOptions {
  /** Boolean mask broadcastable to `[B, H, Tq, Tk]` (e.g. `[Tq, Tk]`), `true` = may attend (PyTorch's `attn_mask` is the opposite). */
  mask?: tf.Tensor;
  /** Boolean `[B, Tk]`, `true` = a real key (PyTorch's `key_padding_mask` is the opposite). */
  keyPaddingMask?: tf.Tensor;
  causal?: boolean;
  strictCausal?: boolean;
  alignment?: MaskAlignment;
  /** Factor on QKᵀ; default 1/√headDim. */
  scale?: number;
  /** Also return the weights averaged over heads, `[B, Tq, Tk]` (PyTorch's `average_attn_weights`). */
  averageWeights?: boolean;
}

/** Output `[B, Tq, embedDim]`, per-head weights `[B, H, Tq, Tk]`, and their head average on request. */
export interface MultiHeadAttentionResult {
  output: tf.Tensor3D;
  weights: tf.Tensor4D;
  averagedWeights?: tf.Tensor3D;
}

/**
 * Validates a config and fills its defaults.
 * @example
 * resolveMultiHeadAttentionConfig({ embedDim: 8, numHeads: 4, numKvHeads: 2 }).headDim; // 2
 */
export function resolveMultiHeadAttentionConfig(
  config: MultiHeadAttentionConfig,
  fn = 'resolveMultiHeadAttentionConfig',
): ResolvedMultiHeadAttentionConfig {
  if (config === null || typeof config !== 'object')
    throw new TypeError(`${fn}: config must be an object; got ${String(config)}`);
  const { embedDim, numHeads } = config;
  assertPositiveInt(fn, 'config.embedDim', embedDim);
  assertPositiveInt(fn, 'config.numHeads', numHeads);
  if (embedDim % numHeads !== 0) {
    throw new RangeError(`${fn}: config.embedDim must be divisible by config.numHeads = ${numHeads}; got ${embedDim}`);
  }
  const numKvHeads = config.numKvHeads ?? numHeads;
  assertPositiveInt(fn, 'config.numKvHeads', numKvHeads);
  if (numHeads % numKvHeads !== 0) {
    throw new RangeError(
      `${fn}: config.numHeads (${numHeads}) must be divisible by config.numKvHeads; got numKvHeads = ${numKvHeads} (allowed: divisors of ${numHeads})`,
    );
  }
  const kdim = config.kdim ?? embedDim;
  const vdim = config.vdim ?? embedDim;
  assertPositiveInt(fn, 'config.kdim', kdim);
  assertPositiveInt(fn, 'config.vdim', vdim);
  assertBoolean(fn, 'config.bias', config.bias);
  return { embedDim, numHeads, numKvHeads, kdim, vdim, bias: config.bias ?? true, headDim: embedDim / numHeads };
}

/** Expected shapes of each parameter for a resolved config. */
function paramShapes(c: ResolvedMultiHeadAttentionConfig) {
  const kv = c.numKvHeads * c.headDim;
  return {
    wQ: [c.embedDim, c.embedDim],
    wK: [c.kdim, kv],
    wV: [c.vdim, kv],
    wO: [c.embedDim, c.embedDim],
    bQ: [c.embedDim],
    bK: [kv],
    bV: [kv],
    bO: [c.embedDim],
  } as const;
}

function validateParams(fn: string, params: MultiHeadAttentionParams): void {
  if (params === null || typeof params !== 'object' || params.kind !== 'mha') {
    throw new TypeError(
      `${fn}: params must be multi-head attention parameters (kind 'mha', from initMultiHeadAttention or fromPyTorchStateDict); got ${params === null ? 'null' : typeof params === 'object' ? `kind ${String((params as { kind?: unknown }).kind)}` : typeof params}`,
    );
  }
  const shapes = paramShapes(params.config);
  for (const name of ['wQ', 'wK', 'wV', 'wO', 'bQ', 'bK', 'bV', 'bO'] as const) {
    const t = params[name];
    if (t === undefined) {
      if (name.startsWith('w')) throw new TypeError(`${fn}: params.${name} is required; got undefined`);
      continue;
    }
    assertTensor(fn, `params.${name}`, t);
    assertShape(fn, `params.${name}`, t, shapes[name], '');
  }
}

/**
 * Random parameters initialised as PyTorch's `nn.MultiheadAttention` does: Xavier-uniform
 * in-projections (over the stacked [W_q; W_k; W_v] when kdim = vdim = embedDim, per matrix
 * otherwise), out-projection U(±1/√embedDim), zero biases. The same seed gives the same numbers on every backend.
 * @example
 * const p = initMultiHeadAttention({ embedDim: 8, numHeads: 2 }, 42);
 */
export function initMultiHeadAttention(config: MultiHeadAttentionConfig, seed: number): MultiHeadAttentionParams {
  const fn = 'initMultiHeadAttention';
  const c = resolveMultiHeadAttentionConfig(config, fn);
  if (typeof seed !== 'number' || !Number.isFinite(seed))
    throw new TypeError(`${fn}: seed must be a finite number; got ${String(seed)}`);
  const kv = c.numKvHeads * c.headDim;
  const stacked = c.kdim === c.embedDim && c.vdim === c.embedDim;
  const xavier = (fanIn: number, fanOut: number) => Math.sqrt(6 / (fanIn + fanOut));
  const stackedBound = xavier(c.embedDim, c.embedDim + 2 * kv);
  const params: MultiHeadAttentionParams = {
    kind: 'mha',
    config: c,
    wQ: uniform([c.embedDim, c.embedDim], stacked ? stackedBound : xavier(c.embedDim, c.embedDim), seed) as tf.Tensor2D,
    wK: uniform([c.kdim, kv], stacked ? stackedBound : xavier(c.kdim, kv), seed + 1) as tf.Tensor2D,
    wV: uniform([c.vdim, kv], stacked ? stackedBound : xavier(c.vdim, kv), seed + 2) as tf.Tensor2D,
    wO: uniform([c.embedDim, c.embedDim], 1 / Math.sqrt(c.embedDim), seed + 3) as tf.Tensor2D,
  };
  if (c.bias) {
    params.bQ = tf.zeros([c.embedDim]);
    params.bK = tf.zeros([kv]);
    params.bV = tf.zeros([kv]);
    params.bO = tf.zeros([c.embedDim]);
  }
  return params;
}

/**
 * Repeats key/value heads for grouped-query attention: `[B, Hkv, T, d]` → `[B, numHeads, T, d]`,
 * query head h getting KV head floor(h / (numHeads / Hkv)) (PyTorch's `repeat_interleave` on dim 1).
 * @example
 * repeatKvHeads(k, 4); // k [1, 2, T, d] → heads [k0, k0, k1, k1]
 */
export function repeatKvHeads(x: tf.Tensor, numHeads: number): tf.Tensor4D {
  const fn = 'repeatKvHeads';
  assertTensor(fn, 'x', x);
  assertRank(fn, 'x', x, 4, '[B, Hkv, T, d]');
  assertPositiveInt(fn, 'numHeads', numHeads);
  const hkv = x.shape[1]!;
  if (numHeads % hkv !== 0)
    throw new RangeError(`${fn}: numHeads must be a multiple of x's Hkv = ${hkv}; got ${numHeads}`);
  if (hkv === numHeads) return x.clone() as tf.Tensor4D;
  const group = numHeads / hkv;
  return tidy(() =>
    tf.gather(
      x,
      tf.tensor1d(
        Array.from({ length: numHeads }, (_, h) => Math.floor(h / group)),
        'int32',
      ),
      1,
    ),
  ) as tf.Tensor4D;
}

/** Internal: validates the options shared by the layers. */
export function validateMhaOptions(fn: string, options: MultiHeadAttentionOptions): void {
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${fn}: options must be an object; got ${String(options)}`);
  assertBoolean(fn, 'options.causal', options.causal);
  assertBoolean(fn, 'options.strictCausal', options.strictCausal);
  assertBoolean(fn, 'options.averageWeights', options.averageWeights);
  if (options.alignment !== undefined) assertOneOf(fn, 'options.alignment', options.alignment, MASK_ALIGNMENTS);
  if (options.causal && options.strictCausal)
    throw new RangeError(`${fn}: options.causal and options.strictCausal are exclusive; got both true`);
  if (options.scale !== undefined && (typeof options.scale !== 'number' || !Number.isFinite(options.scale))) {
    throw new RangeError(`${fn}: options.scale must be a finite number; got ${String(options.scale)}`);
  }
}

/** Internal: combined boolean mask for `[B, H, Tq, Tk]` from `mask` and `keyPaddingMask` (inside a tidy). */
export function layerMask(
  fn: string,
  options: MultiHeadAttentionOptions,
  b: number,
  h: number,
  tq: number,
  tk: number,
): tf.Tensor | undefined {
  const target = [b, h, tq, tk];
  let m: tf.Tensor | undefined;
  if (options.mask !== undefined) {
    assertTensor(fn, 'options.mask', options.mask);
    if (options.mask.dtype !== 'bool')
      throw new TypeError(`${fn}: options.mask must have dtype bool (true = may attend); got ${options.mask.dtype}`);
    if (!broadcastsTo(options.mask.shape, target)) {
      throw new RangeError(
        `${fn}: options.mask must broadcast to [B, H, Tq, Tk] = ${shapeStr(target)}; got ${shapeStr(options.mask.shape)}`,
      );
    }
    m = options.mask;
  }
  if (options.keyPaddingMask !== undefined) {
    const kp = options.keyPaddingMask;
    assertTensor(fn, 'options.keyPaddingMask', kp);
    if (kp.dtype !== 'bool')
      throw new TypeError(`${fn}: options.keyPaddingMask must have dtype bool (true = real key); got ${kp.dtype}`);
    assertShape(fn, 'options.keyPaddingMask', kp, [b, tk], '[B, Tk]');
    const k4 = tf.reshape(kp, [b, 1, 1, tk]);
    m = m ? tf.logicalAnd(m, k4) : k4;
  }
  return m;
}

/** Internal: attention over projected heads: q `[B, H, Tq, d]`, k/v `[B, Hkv, Tk, d]`; returns merged output and weights. */
export function attendHeads(
  params: MultiHeadAttentionParams,
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  options: MultiHeadAttentionOptions,
  mask: tf.Tensor | undefined,
): MultiHeadAttentionResult {
  const c = params.config;
  const kk = c.numKvHeads === c.numHeads ? k : repeatKvHeads(k, c.numHeads);
  const vv = c.numKvHeads === c.numHeads ? v : repeatKvHeads(v, c.numHeads);
  const { output, weights } = scaledDotProductAttention(q, kk, vv, {
    mask,
    causal: options.causal,
    strictCausal: options.strictCausal,
    alignment: options.alignment,
    scale: options.scale,
  });
  const out = linear(mergeHeads(output), params.wO, params.bO) as tf.Tensor3D;
  const result: MultiHeadAttentionResult = { output: out, weights: weights as tf.Tensor4D };
  if (options.averageWeights) result.averagedWeights = tf.mean(weights, 1) as tf.Tensor3D;
  return result;
}

/**
 * Multi-head (and grouped-/multi-query) attention as PyTorch's `nn.MultiheadAttention(batch_first=True)`:
 * query `[B, Tq, embedDim]`, key `[B, Tk, kdim]`, value `[B, Tk, vdim]` → output `[B, Tq, embedDim]`,
 * per-head weights `[B, H, Tq, Tk]` (plus their head average with `averageWeights`).
 * @example
 * const p = initMultiHeadAttention({ embedDim: 8, numHeads: 2 }, 0);
 * const { output, weights } = multiHeadAttention(p, x, x, x, { causal: true });
 */
export function multiHeadAttention(
  params: MultiHeadAttentionParams,
  query: tf.Tensor,
  key: tf.Tensor,
  value: tf.Tensor,
  options: MultiHeadAttentionOptions = {},
): MultiHeadAttentionResult {
  const fn = 'multiHeadAttention';
  validateParams(fn, params);
  validateMhaOptions(fn, options);
  const c = params.config;
  for (const [name, t, width, w] of [
    ['query', query, c.embedDim, 'embedDim'],
    ['key', key, c.kdim, 'kdim'],
    ['value', value, c.vdim, 'vdim'],
  ] as const) {
    assertTensor(fn, name, t);
    assertRank(fn, name, t, 3, `[B, T, ${w}]`);
    assertFloat(fn, name, t);
    if (t.shape[2] !== width)
      throw new RangeError(
        `${fn}: ${name} must have last dim ${w} = ${width} [B, T, ${w}]; got shape ${shapeStr(t.shape)}`,
      );
  }
  const b = query.shape[0];
  if (key.shape[0] !== b || value.shape[0] !== b) {
    throw new RangeError(
      `${fn}: query, key and value must share the batch size B = ${b}; got key ${shapeStr(key.shape)}, value ${shapeStr(value.shape)}`,
    );
  }
  if (key.shape[1] !== value.shape[1]) {
    throw new RangeError(
      `${fn}: key and value must have the same Tk; got key ${shapeStr(key.shape)}, value ${shapeStr(value.shape)}`,
    );
  }
  return tidy(() => {
    const q = splitHeads(linear(query, params.wQ, params.bQ), c.numHeads);
    const k = splitHeads(linear(key, params.wK, params.bK), c.numKvHeads);
    const v = splitHeads(linear(value, params.wV, params.bV), c.numKvHeads);
    const mask = layerMask(fn, options, b, c.numHeads, query.shape[1]!, key.shape[1]!);
    return attendHeads(params, q, k, v, options, mask);
  });
}

/** A tensor, or nested number arrays as a PyTorch state dict dumps them (`tensor.tolist()`). */
export type TensorInput = tf.Tensor | number[] | number[][];

/**
 * The PyTorch `nn.MultiheadAttention.state_dict()` layout: `in_proj_weight` `[E + 2·Hkv·d, E]` =
 * [W_q; W_k; W_v] (or separate `q/k/v_proj_weight` when kdim/vdim ≠ E), `y = x Wᵀ + b`.
 */
export interface PyTorchMultiheadAttentionStateDict {
  in_proj_weight?: TensorInput;
  q_proj_weight?: TensorInput;
  k_proj_weight?: TensorInput;
  v_proj_weight?: TensorInput;
  in_proj_bias?: TensorInput;
  'out_proj.weight': TensorInput;
  'out_proj.bias'?: TensorInput;
}

function toTensor(fn: string, name: string, x: TensorInput | undefined): tf.Tensor | undefined {
  if (x === undefined) return undefined;
  if (x instanceof tf.Tensor) {
    assertFloat(fn, `stateDict['${name}']`, x);
    return x;
  }
  if (!Array.isArray(x))
    throw new TypeError(`${fn}: stateDict['${name}'] must be a tf.Tensor or nested number arrays; got ${typeof x}`);
  return tf.tensor(x, undefined, 'float32');
}

/**
 * Converts a PyTorch `nn.MultiheadAttention` state dict (PyTorch layout, `[out, in]` weights) to
 * {@link MultiHeadAttentionParams} (`[in, out]`). Returns new tensors; the inputs are not disposed.
 * A GQA layer uses the same layout with `in_proj_weight` rows E, Hkv·d, Hkv·d.
 * @example
 * const p = fromPyTorchStateDict({ in_proj_weight, in_proj_bias, 'out_proj.weight': wo, 'out_proj.bias': bo }, { embedDim: 8, numHeads: 2 });
 */
export function fromPyTorchStateDict(
  stateDict: PyTorchMultiheadAttentionStateDict,
  config: MultiHeadAttentionConfig,
): MultiHeadAttentionParams {
  const fn = 'fromPyTorchStateDict';
  if (stateDict === null || typeof stateDict !== 'object')
    throw new TypeError(`${fn}: stateDict must be an object; got ${String(stateDict)}`);
  const hasBias = stateDict.in_proj_bias !== undefined || stateDict['out_proj.bias'] !== undefined;
  const c = { ...resolveMultiHeadAttentionConfig(config, fn), bias: hasBias };
  const kv = c.numKvHeads * c.headDim;
  return tidy(() => {
    const get = (name: keyof PyTorchMultiheadAttentionStateDict, shape?: number[]) => {
      const t = toTensor(fn, name, stateDict[name]);
      if (t && shape) assertShape(fn, `stateDict['${name}']`, t, shape, '(PyTorch layout)');
      return t;
    };
    let wq: tf.Tensor, wk: tf.Tensor, wv: tf.Tensor;
    const inW = get('in_proj_weight');
    if (inW) {
      if (c.kdim !== c.embedDim || c.vdim !== c.embedDim) {
        throw new RangeError(
          `${fn}: stateDict.in_proj_weight is only valid when kdim = vdim = embedDim; got kdim ${c.kdim}, vdim ${c.vdim} (use q/k/v_proj_weight)`,
        );
      }
      assertShape(
        fn,
        "stateDict['in_proj_weight']",
        inW,
        [c.embedDim + 2 * kv, c.embedDim],
        '[E + 2·Hkv·headDim, E] (PyTorch layout)',
      );
      [wq, wk, wv] = tf.split(inW, [c.embedDim, kv, kv], 0) as [tf.Tensor, tf.Tensor, tf.Tensor];
    } else {
      const q = get('q_proj_weight', [c.embedDim, c.embedDim]);
      const k = get('k_proj_weight', [kv, c.kdim]);
      const v = get('v_proj_weight', [kv, c.vdim]);
      if (!q || !k || !v)
        throw new TypeError(
          `${fn}: stateDict needs in_proj_weight or all of q_proj_weight, k_proj_weight, v_proj_weight; got keys ${Object.keys(stateDict).join(', ')}`,
        );
      [wq, wk, wv] = [q, k, v];
    }
    const wo = get('out_proj.weight', [c.embedDim, c.embedDim]);
    if (!wo) throw new TypeError(`${fn}: stateDict['out_proj.weight'] is required; got undefined`);
    const params: MultiHeadAttentionParams = {
      kind: 'mha',
      config: c,
      wQ: tf.transpose(wq) as tf.Tensor2D,
      wK: tf.transpose(wk) as tf.Tensor2D,
      wV: tf.transpose(wv) as tf.Tensor2D,
      wO: tf.transpose(wo) as tf.Tensor2D,
    };
    const inB = get('in_proj_bias', [c.embedDim + 2 * kv]);
    if (inB)
      [params.bQ, params.bK, params.bV] = tf.split(inB, [c.embedDim, kv, kv], 0) as [
        tf.Tensor1D,
        tf.Tensor1D,
        tf.Tensor1D,
      ];
    const ob = get('out_proj.bias', [c.embedDim]);
    if (ob) params.bO = (ob === stateDict['out_proj.bias'] ? ob.clone() : ob) as tf.Tensor1D;
    return params;
  });
}

/**
 * Converts parameters back to PyTorch's `nn.MultiheadAttention.state_dict()` layout (new tensors).
 * @example
 * const sd = toPyTorchStateDict(initMultiHeadAttention({ embedDim: 8, numHeads: 2 }, 0)); // sd.in_proj_weight: [24, 8]
 */
export function toPyTorchStateDict(params: MultiHeadAttentionParams): Record<string, tf.Tensor> {
  const fn = 'toPyTorchStateDict';
  validateParams(fn, params);
  const c = params.config;
  return tidy(() => {
    const out: Record<string, tf.Tensor> = {};
    if (c.kdim === c.embedDim && c.vdim === c.embedDim) {
      out.in_proj_weight = tf.concat([tf.transpose(params.wQ), tf.transpose(params.wK), tf.transpose(params.wV)], 0);
    } else {
      out.q_proj_weight = tf.transpose(params.wQ);
      out.k_proj_weight = tf.transpose(params.wK);
      out.v_proj_weight = tf.transpose(params.wV);
    }
    if (params.bQ && params.bK && params.bV) out.in_proj_bias = tf.concat([params.bQ, params.bK, params.bV], 0);
    out['out_proj.weight'] = tf.transpose(params.wO);
    if (params.bO) out['out_proj.bias'] = params.bO.clone();
    return out;
  });
}

/**
 * Disposes every tensor of a parameter object (MHA or MLA).
 * @example
 * disposeParams(initMultiHeadAttention({ embedDim: 8, numHeads: 2 }, 0));
 */
export function disposeParams(params: object): void {
  for (const v of Object.values(params)) if (v instanceof tf.Tensor) v.dispose();
}
