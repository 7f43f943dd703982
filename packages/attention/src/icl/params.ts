/**
 * Parameters and initialisations of seed 004's in-context-regression attention: the single-layer
 * query-only model (`MultiHeadAttention`) and the layers of its causal stack
 * (`CausalMultiHeadAttention` inside `MultiHeadAttentionStack`).
 *
 * Orientation: every per-head matrix is stored for row vectors, "x·W": q = z_q·Wq^h, k_i = z_i·Wk^h,
 * v_i = z_i·Wv^h, out = Σ_h ctx_h·Wo^h. PyTorch's `nn.Linear` stores weight [out, in] and computes
 * x·weightᵀ, so with D = d + 1:
 *   Wq^h = q_proj.weight[h·D:(h+1)·D, :]ᵀ   (q_proj.weight is [H·D, D]; same for k, v)
 *   Wo^h = o_proj.weight[:, h·D:(h+1)·D]ᵀ   (o_proj.weight is [nOut, H·D])
 * which is exactly the seed's `extract_qk` / `extract_ov` (W_Q = q_matrix[:, h, :] of weightᵀ).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@attnlab/data';
import { checkInt, checkOneOf, checkSeed, checkU32, checkTensor, shapeStr } from './validate.js';

/** The seed's four initialisations. */
export type IclInit = 'random' | 'small_id' | 'small_id_qk' | 'oppo_small_id';
export const ICL_INITS: readonly IclInit[] = ['random', 'small_id', 'small_id_qk', 'oppo_small_id'];

/** Single-layer query-only model: Wq, Wk, Wv [H, D, D] and Wo [H, D, nOut], D = d + 1, no bias. */
export type IclAttentionParams = {
  Wq: tf.Tensor3D;
  Wk: tf.Tensor3D;
  Wv: tf.Tensor3D;
  Wo: tf.Tensor3D;
};

/** One causal layer of the stack: Wq, Wk, Wv, Wo all [H, D, D] (the layer maps width D to D). */
export type IclCausalLayerParams = IclAttentionParams;

/** The multi-layer causal stack over [Z; z_q]. */
export type IclStackParams = {
  /** One entry per layer, or a single shared entry when `tied`. */
  layers: IclCausalLayerParams[];
  /** Final linear, [D, nOut] (x·W orientation: final_linear.weightᵀ). */
  final: tf.Tensor2D;
  /** Number of layers applied. */
  numLayers: number;
  /** Weight tying: the single entry of `layers` is applied `numLayers` times. */
  tied: boolean;
  /** Residual connections x ← x + layer(x) (default false: the seed's stack has none). */
  residual: boolean;
};

/** Options of {@link initIclAttention}. */
export interface IclAttentionConfig {
  /** Input dimension d (tokens have width d + 1). */
  d: number;
  /** Number of heads H. */
  numHeads: number;
  /** Output width (default 1, the seed's n_out = 1; d + 1 plays the seed's n_out = None). */
  nOut?: number;
  /** Initialisation (default 'random'). */
  init?: IclInit;
  /** Seed of the @attnlab/data Rng (default 0). */
  seed?: number;
  /** Rng stream (default 0). */
  stream?: number;
}

/** Options of {@link initIclStack}. */
export interface IclStackConfig {
  d: number;
  numHeads: number;
  /** Number of causal layers (≥ 1). */
  numLayers: number;
  /** Width of the final linear (default 1). */
  nOut?: number;
  /** Share one layer's weights across all layers (default false). */
  tied?: boolean;
  /** Residual connections (default false, as the seed). */
  residual?: boolean;
  /** Initialisation of every layer (default 'random'; the seed's stack always uses 'random'). */
  init?: IclInit;
  seed?: number;
  stream?: number;
}

/** PyTorch layout of the single-layer model: q/k/v_proj.weight [H·D, D], o_proj.weight [nOut, H·D]. */
export type IclTorchWeights = {
  qProj: tf.Tensor2D;
  kProj: tf.Tensor2D;
  vProj: tf.Tensor2D;
  oProj: tf.Tensor2D;
};

/** U(−bound, bound) values: bound·(2u − 1), one Rng word each. */
function uniformInit(rng: Rng, n: number, bound: number): Float32Array {
  const u = rng.uniform(n, -bound, bound);
  return Float32Array.from(u);
}

function setIdentity(buf: Float32Array, D: number, cols: number, head: number, value: number): void {
  const base = head * D * cols;
  for (let i = 0; i < D * cols; i++) buf[base + i] = 0;
  for (let i = 0; i < Math.min(D, cols); i++) buf[base + i * cols + i] = value;
}

export interface HostLayer {
  Wq: Float32Array;
  Wk: Float32Array;
  Wv: Float32Array;
  Wo: Float32Array;
}

/**
 * Draws one layer as PyTorch would before the seed's overrides: U(±1/√D) for Wq, Wk, Wv
 * (fan_in D) then U(±1/√(H·D)) for Wo (fan_in H·D), in that order, each row-major [H][D][cols].
 */
function drawLayer(rng: Rng, H: number, D: number, nOut: number): HostLayer {
  const b = 1 / Math.sqrt(D);
  return {
    Wq: uniformInit(rng, H * D * D, b),
    Wk: uniformInit(rng, H * D * D, b),
    Wv: uniformInit(rng, H * D * D, b),
    Wo: uniformInit(rng, H * D * nOut, 1 / Math.sqrt(H * D)),
  };
}

function applyInit(
  fn: string,
  layer: HostLayer,
  init: IclInit,
  H: number,
  D: number,
  nOut: number,
  causal: boolean,
): void {
  if (init === 'random') return;
  if (init === 'small_id' || init === 'small_id_qk') {
    const v = init === 'small_id' ? 1e-6 : 1e-4;
    for (let h = 0; h < H; h++) {
      setIdentity(layer.Wq, D, D, h, v);
      setIdentity(layer.Wk, D, D, h, v);
      if (init === 'small_id') setIdentity(layer.Wv, D, D, h, v);
    }
    // MultiHeadAttention sets o_proj only when n_out is None (nOut = D here); the causal layer
    // never does (its n_out is always set), so its O stays random.
    if (init === 'small_id' && !causal && nOut === D)
      for (let h = 0; h < H; h++) setIdentity(layer.Wo, D, nOut, h, 1e-6);
    return;
  }
  // oppo_small_id
  if (H % 2 !== 0) {
    throw new RangeError(
      `${fn}: init 'oppo_small_id' needs an even number of heads (half +1e-6·I, half −1e-6·I); got numHeads = ${H}`,
    );
  }
  for (let h = 0; h < H; h++) {
    const sign = h < H / 2 ? 1 : -1;
    setIdentity(layer.Wq, D, D, h, sign * 1e-6);
    // MultiHeadAttention: K = +1e-6·I for every head, V and O random.
    // CausalMultiHeadAttention: K, V and O all take the same ±1e-6·I as Q.
    setIdentity(layer.Wk, D, D, h, causal ? sign * 1e-6 : 1e-6);
    if (causal) {
      setIdentity(layer.Wv, D, D, h, sign * 1e-6);
      setIdentity(layer.Wo, D, D, h, sign * 1e-6);
    }
  }
}

function layerTensors(l: HostLayer, H: number, D: number, nOut: number): IclAttentionParams {
  return {
    Wq: tf.tensor3d(l.Wq, [H, D, D]),
    Wk: tf.tensor3d(l.Wk, [H, D, D]),
    Wv: tf.tensor3d(l.Wv, [H, D, D]),
    Wo: tf.tensor3d(l.Wo, [H, D, nOut]),
  };
}

/**
 * Parameters of seed 004's single-layer query-only model with one of the seed's initialisations.
 * 'random' is PyTorch's nn.Linear default U(±1/√fan_in) (fan_in D for Q/K/V, H·D for O);
 * 'small_id' sets Q, K, V to 1e-6·I per head (and O to 1e-6·I when nOut = d + 1, the seed's
 * n_out = None); 'small_id_qk' sets Q, K to 1e-4·I; 'oppo_small_id' sets Q to +1e-6·I on the
 * first H/2 heads and −1e-6·I on the rest, K to +1e-6·I. Entries not set stay random.
 * Draws from `new Rng(seed, stream)`: Wq, Wk, Wv, Wo in that order (always all four).
 * @example
 * const p = initIclAttention({ d: 5, numHeads: 2, init: 'small_id', seed: 1 }); // Wq [2, 6, 6], Wo [2, 6, 1]
 */
export function initIclAttention(config: IclAttentionConfig): IclAttentionParams {
  const fn = 'initIclAttention';
  if (typeof config !== 'object' || config === null)
    throw new TypeError(`${fn}: config must be { d, numHeads, nOut?, init?, seed?, stream? }; got ${String(config)}`);
  const d = checkInt(fn, 'config.d', config.d, 1);
  const H = checkInt(fn, 'config.numHeads', config.numHeads, 1);
  const nOut = checkInt(fn, 'config.nOut', config.nOut ?? 1, 1);
  const init = checkOneOf(fn, 'config.init', config.init ?? 'random', ICL_INITS);
  const layer = drawIclAttention(
    fn,
    d,
    H,
    nOut,
    init,
    checkSeed(fn, 'config.seed', config.seed ?? 0),
    checkU32(fn, 'config.stream', config.stream ?? 0),
  );
  return layerTensors(layer, H, d + 1, nOut);
}

/** The single layer's initial values on the host (internal: the layout module and initIclAttention share it). */
export function drawIclAttention(
  fn: string,
  d: number,
  H: number,
  nOut: number,
  init: IclInit,
  seed: number,
  stream: number,
): HostLayer {
  const D = d + 1;
  const layer = drawLayer(new Rng(seed, stream), H, D, nOut);
  applyInit(fn, layer, init, H, D, nOut, false);
  return layer;
}

/**
 * Parameters of seed 004's causal stack: `numLayers` layers (one shared layer when `tied`) as in
 * `CausalMultiHeadAttention`, then a final linear [D, nOut] with PyTorch's default U(±1/√D).
 * Per layer, `init` follows the causal class: 'small_id' → Q, K, V = 1e-6·I, O random;
 * 'small_id_qk' → Q, K = 1e-4·I; 'oppo_small_id' → Q, K, V, O = ±1e-6·I in two halves of the heads.
 * Draws: each stored layer's Wq, Wk, Wv, Wo in order, then the final linear.
 * @example
 * const p = initIclStack({ d: 5, numHeads: 2, numLayers: 3, tied: true, seed: 7 }); // p.layers.length === 1
 */
export function initIclStack(config: IclStackConfig): IclStackParams {
  const fn = 'initIclStack';
  if (typeof config !== 'object' || config === null)
    throw new TypeError(
      `${fn}: config must be { d, numHeads, numLayers, nOut?, tied?, residual?, init?, seed?, stream? }; got ${String(config)}`,
    );
  const d = checkInt(fn, 'config.d', config.d, 1);
  const H = checkInt(fn, 'config.numHeads', config.numHeads, 1);
  const numLayers = checkInt(fn, 'config.numLayers', config.numLayers, 1);
  const nOut = checkInt(fn, 'config.nOut', config.nOut ?? 1, 1);
  const init = checkOneOf(fn, 'config.init', config.init ?? 'random', ICL_INITS);
  const tied = config.tied ?? false;
  const residual = config.residual ?? false;
  if (typeof tied !== 'boolean') throw new TypeError(`${fn}: config.tied must be a boolean; got ${String(tied)}`);
  if (typeof residual !== 'boolean')
    throw new TypeError(`${fn}: config.residual must be a boolean; got ${String(residual)}`);
  const D = d + 1;
  const host = drawIclStack(
    fn,
    d,
    H,
    numLayers,
    nOut,
    tied,
    init,
    checkSeed(fn, 'config.seed', config.seed ?? 0),
    checkU32(fn, 'config.stream', config.stream ?? 0),
  );
  return {
    layers: host.layers.map((l) => layerTensors(l, H, D, D)),
    final: tf.tensor2d(host.final, [D, nOut]),
    numLayers,
    tied,
    residual,
  };
}

/** The stack's initial values on the host (internal: the layout module and initIclStack share it). */
export function drawIclStack(
  fn: string,
  d: number,
  H: number,
  numLayers: number,
  nOut: number,
  tied: boolean,
  init: IclInit,
  seed: number,
  stream: number,
): { layers: HostLayer[]; final: Float32Array } {
  const D = d + 1;
  const rng = new Rng(seed, stream);
  const layers: HostLayer[] = [];
  for (let l = 0; l < (tied ? 1 : numLayers); l++) {
    const layer = drawLayer(rng, H, D, D);
    applyInit(fn, layer, init, H, D, D, true);
    layers.push(layer);
  }
  return { layers, final: uniformInit(rng, D * nOut, 1 / Math.sqrt(D)) };
}

/** Shape facts of single-layer params, validated. */
export function attentionDims(
  fn: string,
  p: IclAttentionParams,
  name = 'params',
  causal = false,
): { H: number; D: number; nOut: number } {
  if (typeof p !== 'object' || p === null)
    throw new TypeError(`${fn}: ${name} must be { Wq, Wk, Wv, Wo } tensors; got ${String(p)}`);
  for (const k of ['Wq', 'Wk', 'Wv', 'Wo'] as const) checkTensor(fn, `${name}.${k}`, p[k]);
  const [H, D] = p.Wq.shape;
  const nOut = p.Wo.shape[2];
  const ok =
    p.Wq.rank === 3 &&
    p.Wq.shape[2] === D &&
    [p.Wk, p.Wv].every((w) => w.rank === 3 && w.shape[0] === H && w.shape[1] === D && w.shape[2] === D) &&
    p.Wo.rank === 3 &&
    p.Wo.shape[0] === H &&
    p.Wo.shape[1] === D &&
    (!causal || nOut === D);
  if (!ok || H === undefined || D === undefined || nOut === undefined) {
    throw new RangeError(
      `${fn}: ${name} must be Wq, Wk, Wv [H, D, D] and Wo [H, D, ${causal ? 'D' : 'nOut'}]; got Wq ${shapeStr(p.Wq.shape)}, Wk ${shapeStr(p.Wk.shape)}, Wv ${shapeStr(p.Wv.shape)}, Wo ${shapeStr(p.Wo.shape)}`,
    );
  }
  return { H, D, nOut };
}

/** Shape facts of stack params, validated. */
export function stackDims(fn: string, p: IclStackParams): { H: number; D: number; nOut: number } {
  if (typeof p !== 'object' || p === null || !Array.isArray(p.layers) || p.layers.length === 0) {
    throw new TypeError(
      `${fn}: params must be { layers, final, numLayers, tied, residual } (from initIclStack); got ${typeof p === 'object' && p !== null ? 'an object without a non-empty layers array' : String(p)}`,
    );
  }
  checkInt(fn, 'params.numLayers', p.numLayers, 1);
  const expected = p.tied ? 1 : p.numLayers;
  if (p.layers.length !== expected) {
    throw new RangeError(
      `${fn}: params.layers must have ${expected} entr${expected === 1 ? 'y' : 'ies'} (numLayers ${p.numLayers}, tied ${p.tied}); got ${p.layers.length}`,
    );
  }
  const dims = p.layers.map((l, i) => attentionDims(fn, l, `params.layers[${i}]`, true));
  const { H, D } = dims[0]!;
  dims.forEach((dm, i) => {
    if (dm.H !== H || dm.D !== D)
      throw new RangeError(`${fn}: params.layers[${i}] has H ${dm.H}, D ${dm.D}; layer 0 has H ${H}, D ${D}`);
  });
  checkTensor(fn, 'params.final', p.final);
  if (p.final.rank !== 2 || p.final.shape[0] !== D)
    throw new RangeError(`${fn}: params.final must be [D = ${D}, nOut]; got ${shapeStr(p.final.shape)}`);
  return { H, D, nOut: p.final.shape[1] };
}

/**
 * Single-layer params from PyTorch's layout (q/k/v_proj.weight [H·D, D], o_proj.weight [nOut, H·D]).
 * @example
 * const p = iclAttentionFromTorch({ qProj, kProj, vProj, oProj }, 2);
 */
export function iclAttentionFromTorch(w: IclTorchWeights, numHeads: number): IclAttentionParams {
  const fn = 'iclAttentionFromTorch';
  const H = checkInt(fn, 'numHeads', numHeads, 1);
  if (typeof w !== 'object' || w === null)
    throw new TypeError(`${fn}: weights must be { qProj, kProj, vProj, oProj } tensors; got ${String(w)}`);
  for (const k of ['qProj', 'kProj', 'vProj', 'oProj'] as const) checkTensor(fn, `weights.${k}`, w[k]);
  const D = w.qProj.shape[1];
  for (const k of ['qProj', 'kProj', 'vProj'] as const) {
    if (w[k].rank !== 2 || w[k].shape[0] !== H * D || w[k].shape[1] !== D) {
      throw new RangeError(`${fn}: weights.${k} must be [H·D, D] = [${H * D}, ${D}]; got ${shapeStr(w[k].shape)}`);
    }
  }
  if (w.oProj.rank !== 2 || w.oProj.shape[1] !== H * D)
    throw new RangeError(`${fn}: weights.oProj must be [nOut, H·D = ${H * D}]; got ${shapeStr(w.oProj.shape)}`);
  const nOut = w.oProj.shape[0];
  return tf.tidy(() => {
    const proj = (t: tf.Tensor2D) => tf.transpose(tf.reshape(t, [H, D, D]), [0, 2, 1]) as tf.Tensor3D;
    return {
      Wq: proj(w.qProj),
      Wk: proj(w.kProj),
      Wv: proj(w.vProj),
      Wo: tf.reshape(tf.transpose(w.oProj), [H, D, nOut]) as tf.Tensor3D,
    };
  });
}

/**
 * Single-layer params in PyTorch's layout (the inverse of {@link iclAttentionFromTorch}).
 * @example
 * const { qProj } = iclAttentionToTorch(initIclAttention({ d: 5, numHeads: 2 })); // [12, 6]
 */
export function iclAttentionToTorch(p: IclAttentionParams): IclTorchWeights {
  const { H, D, nOut } = attentionDims('iclAttentionToTorch', p);
  return tf.tidy(() => {
    const proj = (t: tf.Tensor3D) => tf.reshape(tf.transpose(t, [0, 2, 1]), [H * D, D]) as tf.Tensor2D;
    return {
      qProj: proj(p.Wq),
      kProj: proj(p.Wk),
      vProj: proj(p.Wv),
      oProj: tf.transpose(tf.reshape(p.Wo, [H * D, nOut])) as tf.Tensor2D,
    };
  });
}

/**
 * Disposes every tensor of single-layer or stack params.
 * @example
 * disposeIclParams(initIclAttention({ d: 2, numHeads: 2 }));
 */
export function disposeIclParams(p: IclAttentionParams | IclStackParams): void {
  if ('layers' in p) {
    for (const l of p.layers) tf.dispose([l.Wq, l.Wk, l.Wv, l.Wo]);
    p.final.dispose();
  } else {
    tf.dispose([p.Wq, p.Wk, p.Wv, p.Wo]);
  }
}
