/**
 * The one parameter layout of seed 004's model, shared by every engine that trains it: names,
 * shapes and the initial values (host arrays), so that one seed means one set of weights whether
 * the model trains through tfjs autodiff, the WebAssembly SIMD engine or the float64 engine.
 *
 * Names: the single-layer query-only model (`layers: 1`) has `Wq`, `Wk`, `Wv` [H, D, D] and `Wo`
 * [H, D, nOut]; the causal stack (`layers ≥ 2`) has `l{i}.Wq`, `l{i}.Wk`, `l{i}.Wv`, `l{i}.Wo`
 * [H, D, D] for each stored layer i (one when `tied`) and `final` [D, nOut]. Orientation "x·W"
 * as in {@link initIclAttention}.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  ICL_INITS,
  drawIclAttention,
  drawIclStack,
  type IclAttentionParams,
  type IclInit,
  type IclStackParams,
} from './params.js';
import { checkInt, checkOneOf, checkSeed, shapeStr } from './validate.js';

/** Seed 004's model: the query-only single layer (`layers` 1) or the causal stack (`layers` ≥ 2). */
export interface IclModelConfig {
  /** Input dimension d (tokens have width D = d + 1). */
  d: number;
  /** Heads H. */
  numHeads: number;
  /** 1: the single query-only layer; ≥ 2: the causal stack with a final linear. */
  layers: number;
  /** Output width (default 1; the prediction is the last output). */
  nOut?: number;
  /** Stack only: one layer's weights shared by every layer (default false). */
  tied?: boolean;
  /** Stack only: residual connections (default false, as the seed). */
  residual?: boolean;
  /** Initialisation (default 'random'). */
  init?: IclInit;
  /** Seed of the initialisation (default 0). */
  seed?: number;
  /**
   * The attention of the single layer (default 'softmax', the seed's). The linear ones drop the
   * softmax: 'linear' divides the scaled scores by the prompt's length, w_i = (q·k_i/√D)/L (linear
   * attention normalised by L, as Zhang, Frei & Bartlett and Ahn et al. write it); 'linear-unnormalised'
   * keeps w_i = q·k_i/√D (von Oswald et al.'s linear self-attention, whose sum grows with L). Same layout.
   */
  attention?: IclAttentionKind;
}

/** The attentions of the single layer: the seed's softmax, linear attention normalised by L, or not normalised. */
export type IclAttentionKind = 'softmax' | 'linear' | 'linear-unnormalised';
export const ICL_ATTENTION_KINDS: readonly IclAttentionKind[] = ['softmax', 'linear', 'linear-unnormalised'];

/** A named parameter's values on the host (float32, row-major). */
export interface IclHostParam {
  shape: number[];
  values: Float32Array;
}

/** The resolved model config: every field present and checked. */
export type IclModelShape = Required<IclModelConfig>;

/**
 * Checks a model config and fills in the defaults.
 * @example
 * iclModelShape({ d: 5, numHeads: 2, layers: 1 }); // { …, nOut: 1, tied: false, residual: false, init: 'random', seed: 0, attention: 'softmax' }
 */
export function iclModelShape(config: IclModelConfig, fn = 'iclModelShape'): IclModelShape {
  if (typeof config !== 'object' || config === null) {
    throw new TypeError(
      `${fn}: config must be { d, numHeads, layers, nOut?, tied?, residual?, init?, seed?, attention? }; got ${String(config)}`,
    );
  }
  const out: IclModelShape = {
    d: checkInt(fn, 'config.d', config.d, 1),
    numHeads: checkInt(fn, 'config.numHeads', config.numHeads, 1),
    layers: checkInt(fn, 'config.layers', config.layers, 1),
    nOut: checkInt(fn, 'config.nOut', config.nOut ?? 1, 1),
    tied: config.tied ?? false,
    residual: config.residual ?? false,
    init: checkOneOf(fn, 'config.init', config.init ?? 'random', ICL_INITS),
    seed: checkSeed(fn, 'config.seed', config.seed ?? 0),
    attention: checkOneOf(fn, 'config.attention', config.attention ?? 'softmax', ICL_ATTENTION_KINDS),
  };
  for (const k of ['tied', 'residual'] as const) {
    if (typeof out[k] !== 'boolean') throw new TypeError(`${fn}: config.${k} must be a boolean; got ${String(out[k])}`);
  }
  if (out.layers === 1 && (out.tied || out.residual)) {
    throw new RangeError(
      `${fn}: config.tied and config.residual apply to the stack (layers ≥ 2); got layers 1 with tied ${out.tied}, residual ${out.residual}`,
    );
  }
  if (out.layers > 1 && out.attention !== 'softmax') {
    throw new RangeError(
      `${fn}: config.attention '${out.attention}' applies to the single layer (layers 1); the causal stack is softmax attention; got layers ${out.layers}`,
    );
  }
  return out;
}

/**
 * The layout: parameter names and shapes, in storage order.
 * @example
 * iclParamLayout({ d: 5, numHeads: 2, layers: 1 }); // [{ name: 'Wq', shape: [2, 6, 6] }, …, { name: 'Wo', shape: [2, 6, 1] }]
 */
export function iclParamLayout(config: IclModelConfig): { name: string; shape: number[] }[] {
  const c = iclModelShape(config, 'iclParamLayout');
  const H = c.numHeads,
    D = c.d + 1;
  if (c.layers === 1) {
    return [
      { name: 'Wq', shape: [H, D, D] },
      { name: 'Wk', shape: [H, D, D] },
      { name: 'Wv', shape: [H, D, D] },
      { name: 'Wo', shape: [H, D, c.nOut] },
    ];
  }
  const out: { name: string; shape: number[] }[] = [];
  for (let i = 0; i < (c.tied ? 1 : c.layers); i++) {
    for (const k of ['Wq', 'Wk', 'Wv', 'Wo']) out.push({ name: `l${i}.${k}`, shape: [H, D, D] });
  }
  out.push({ name: 'final', shape: [D, c.nOut] });
  return out;
}

/**
 * The initial parameters as named host arrays: the same draws as {@link initIclAttention} and
 * {@link initIclStack} (they are built from this), for engines that train outside tfjs.
 * @example
 * const p = iclInitialParams({ d: 5, numHeads: 2, layers: 1, seed: 3 }); // p.Wq.values: Float32Array(72)
 */
export function iclInitialParams(config: IclModelConfig): Record<string, IclHostParam> {
  const fn = 'iclInitialParams';
  const c = iclModelShape(config, fn);
  const H = c.numHeads,
    D = c.d + 1;
  const out: Record<string, IclHostParam> = {};
  if (c.layers === 1) {
    const l = drawIclAttention(fn, c.d, H, c.nOut, c.init, c.seed, 0);
    out.Wq = { shape: [H, D, D], values: l.Wq };
    out.Wk = { shape: [H, D, D], values: l.Wk };
    out.Wv = { shape: [H, D, D], values: l.Wv };
    out.Wo = { shape: [H, D, c.nOut], values: l.Wo };
    return out;
  }
  const s = drawIclStack(fn, c.d, H, c.layers, c.nOut, c.tied, c.init, c.seed, 0);
  s.layers.forEach((l, i) => {
    for (const k of ['Wq', 'Wk', 'Wv', 'Wo'] as const) out[`l${i}.${k}`] = { shape: [H, D, D], values: l[k] };
  });
  out.final = { shape: [D, c.nOut], values: s.final };
  return out;
}

/**
 * Named tensors (a flat map in the layout's names) as the structured params that `iclAttention`
 * and `iclStack` take. The tensors are used as they are, not copied.
 * @example
 * const st = iclStructure(config, { Wq, Wk, Wv, Wo }); // IclAttentionParams
 */
export function iclStructure(
  config: IclModelConfig,
  named: Record<string, tf.Tensor>,
): IclAttentionParams | IclStackParams {
  const fn = 'iclStructure';
  const c = iclModelShape(config, fn);
  for (const { name, shape } of iclParamLayout(c)) {
    const t = named[name];
    if (!(t instanceof tf.Tensor))
      throw new TypeError(
        `${fn}: named['${name}'] must be a tf.Tensor of shape ${shapeStr(shape)}; got ${t === undefined ? 'nothing' : String(t)}`,
      );
    if (!tf.util.arraysEqual(t.shape, shape))
      throw new RangeError(`${fn}: named['${name}'] must have shape ${shapeStr(shape)}; got ${shapeStr(t.shape)}`);
  }
  const get = (k: string) => named[k] as tf.Tensor3D;
  if (c.layers === 1) return { Wq: get('Wq'), Wk: get('Wk'), Wv: get('Wv'), Wo: get('Wo') };
  return {
    layers: Array.from({ length: c.tied ? 1 : c.layers }, (_, i) => ({
      Wq: get(`l${i}.Wq`),
      Wk: get(`l${i}.Wk`),
      Wv: get(`l${i}.Wv`),
      Wo: get(`l${i}.Wo`),
    })),
    final: named.final as tf.Tensor2D,
    numLayers: c.layers,
    tied: c.tied,
    residual: c.residual,
  };
}

/**
 * Structured params as a flat map in the layout's names (the inverse of {@link iclStructure}).
 * @example
 * const named = iclNamedParams(initIclAttention({ d: 5, numHeads: 2 })); // { Wq, Wk, Wv, Wo }
 */
export function iclNamedParams(p: IclAttentionParams | IclStackParams): Record<string, tf.Tensor> {
  if ('layers' in p) {
    const out: Record<string, tf.Tensor> = {};
    p.layers.forEach((l, i) => {
      for (const k of ['Wq', 'Wk', 'Wv', 'Wo'] as const) out[`l${i}.${k}`] = l[k];
    });
    out.final = p.final;
    return out;
  }
  return { Wq: p.Wq, Wk: p.Wk, Wv: p.Wv, Wo: p.Wo };
}
