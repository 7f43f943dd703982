/** The fused tfjs ops: each runs one kernel of this package (registering them on first use). */
import * as tf from '@tensorflow/tfjs-core';
import {
  ADAM_FLAT,
  ICL_FORWARD,
  ICL_LOSS_GRAD,
  ICL_STACK_FORWARD,
  ICL_STACK_LOSS_GRAD,
  type IclAttrs,
  type IclStackAttrs,
} from './names.js';
import { registerFusedKernels } from './register.js';

/** Adam hyperparameters of {@link adamFlatUpdate} (PyTorch's, weight decay 0). */
export interface AdamFlatConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

/** Validates Adam's attributes. */
function checkAdam(name: string, a: AdamFlatConfig): void {
  for (const [k, v, lo, hi] of [
    ['lr', a.lr, 0, Infinity],
    ['beta1', a.beta1, 0, 1],
    ['beta2', a.beta2, 0, 1],
    ['eps', a.eps, 0, Infinity],
  ] as const) {
    if (!(typeof v === 'number' && v >= lo && v < hi))
      throw new RangeError(`${name}: ${k} must be a number in [${lo}, ${hi}); got ${String(v)}`);
  }
}

/**
 * Fused forward of seed 004's query-only attention: predictions [B] from flat params, z and zq
 * (differentiable with respect to params).
 *
 * @example
 * const pred = iclForward(params, z, zq, { heads: 2, d: 5 });
 */
export function iclForward(params: tf.Tensor1D, z: tf.Tensor3D, zq: tf.Tensor2D, attrs: IclAttrs): tf.Tensor1D {
  registerFusedKernels();
  return tf.engine().runKernel(ICL_FORWARD, { params, z, zq }, attrs as never) as tf.Tensor1D;
}

/**
 * Fused MSE loss and its parameter gradient in one kernel.
 *
 * @example
 * const [loss, grad] = iclLossGrad(params, z, zq, yq, { heads: 2, d: 5 });
 */
export function iclLossGrad(
  params: tf.Tensor1D,
  z: tf.Tensor3D,
  zq: tf.Tensor2D,
  yq: tf.Tensor1D,
  attrs: IclAttrs,
): [tf.Scalar, tf.Tensor1D] {
  registerFusedKernels();
  return tf.engine().runKernel(ICL_LOSS_GRAD, { params, z, zq, yq }, attrs as never) as unknown as [
    tf.Scalar,
    tf.Tensor1D,
  ];
}

/**
 * One fused Adam update (PyTorch form) of a flat parameter vector; returns new [param, m, v].
 *
 * @example
 * const [p1, m1, v1] = adamFlatUpdate(p, m, v, g, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 1);
 */
export function adamFlatUpdate(
  param: tf.Tensor1D,
  m: tf.Tensor1D,
  v: tf.Tensor1D,
  grad: tf.Tensor1D,
  cfg: AdamFlatConfig,
  step: number,
): [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D] {
  registerFusedKernels();
  checkAdam('adamFlatUpdate', cfg);
  if (!Number.isInteger(step) || step < 1)
    throw new RangeError(`adamFlatUpdate: step must be an integer ≥ 1; got ${step}`);
  const attrs = { lr: cfg.lr, beta1: cfg.beta1, beta2: cfg.beta2, eps: cfg.eps, step };
  return tf.engine().runKernel(ADAM_FLAT, { param, m, v, grad }, attrs as never) as unknown as [
    tf.Tensor1D,
    tf.Tensor1D,
    tf.Tensor1D,
  ];
}

/**
 * Fused forward of seed 004's causal stack (cpu, wasm and webgpu backends): predictions [B] from flat
 * params (stack.ts's layout), z and zq, differentiable with respect to params.
 *
 * @example
 * const pred = iclStackForward(params, z, zq, { heads: 2, d: 5, layers: 2, tied: false, residual: false });
 */
export function iclStackForward(
  params: tf.Tensor1D,
  z: tf.Tensor3D,
  zq: tf.Tensor2D,
  attrs: IclStackAttrs,
): tf.Tensor1D {
  registerFusedKernels();
  return tf.engine().runKernel(ICL_STACK_FORWARD, { params, z, zq }, attrs as never) as tf.Tensor1D;
}

/**
 * The causal stack's MSE loss and its parameter gradient in one kernel (cpu, wasm and webgpu backends).
 *
 * @example
 * const [loss, grad] = iclStackLossGrad(params, z, zq, yq, { heads: 2, d: 5, layers: 2, tied: false, residual: false });
 */
export function iclStackLossGrad(
  params: tf.Tensor1D,
  z: tf.Tensor3D,
  zq: tf.Tensor2D,
  yq: tf.Tensor1D,
  attrs: IclStackAttrs,
): [tf.Scalar, tf.Tensor1D] {
  registerFusedKernels();
  return tf.engine().runKernel(ICL_STACK_LOSS_GRAD, { params, z, zq, yq }, attrs as never) as unknown as [
    tf.Scalar,
    tf.Tensor1D,
  ];
}
