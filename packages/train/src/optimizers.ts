/**
 * SGD (no momentum), Adam and AdamW with PyTorch's update rules (torch.optim, single-tensor
 * path), every hyperparameter explicit, and an explicit, serialisable state.
 *
 * Per parameter p with gradient g, at that parameter's step t (1-based):
 *   SGD:   g ← g + wd·p (if wd ≠ 0);  p ← p − lr·g
 *   Adam:  g ← g + wd·p (if wd ≠ 0, L2 folded into the gradient)
 *          m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g·g
 *          stepSize = lr / (1 − β1^t);  denom = √v / √(1 − β2^t) + eps   (eps outside the root)
 *          p ← p − stepSize · m / denom
 *   AdamW: p ← p·(1 − lr·wd) first (decoupled decay), then the Adam step without the L2 term.
 * Scalars (bias corrections, step size) are computed in float64 on the host, as PyTorch does
 * with Python floats, then enter the float32 tensor math.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradMap, HostTensor, ParamMap } from './types.js';
import { checkInt, checkNumber, checkObject, show } from './validate.js';

/** The optimizers this package implements. */
export type OptimizerType = 'sgd' | 'adam' | 'adamw';

/** SGD without momentum (torch.optim.SGD with momentum 0, dampening 0, nesterov false). */
export interface SgdConfig {
  /** Learning rate, ≥ 0. */
  lr: number;
  /** L2 penalty added to the gradient (PyTorch `weight_decay`); 0 when omitted. */
  weightDecay?: number;
}

/** Adam / AdamW hyperparameters: all explicit (PyTorch's defaults differ between the two). */
export interface AdamConfig {
  /** Learning rate, ≥ 0. */
  lr: number;
  /** (β1, β2), each in [0, 1). PyTorch's default is (0.9, 0.999). */
  betas: readonly [number, number];
  /** Added to √v̂, outside the square root, ≥ 0. PyTorch's default is 1e-8. */
  eps: number;
  /** Adam: L2 added to the gradient; AdamW: decoupled decay factor. PyTorch's defaults are 0 and 1e-2. */
  weightDecay: number;
}

/** One parameter's optimizer state: its own step count (as PyTorch keeps) and its slots (Adam: `m`, `v`). */
export interface ParamOptimizerState {
  step: number;
  slots: Record<string, HostTensor>;
}

/** The whole optimizer state on the host: JSON-able apart from the typed arrays, which checkpoints store in binary. */
export interface OptimizerState {
  type: OptimizerType;
  config: { lr: number; weightDecay: number; betas?: [number, number]; eps?: number };
  params: Record<string, ParamOptimizerState>;
}

/** An optimizer over a flat dictionary of named variables. */
export interface Optimizer {
  readonly type: OptimizerType;
  /** The hyperparameters, normalised (weightDecay always present). */
  readonly config: Readonly<OptimizerState['config']>;
  /**
   * Applies one update in place to every parameter that has a gradient (missing/null gradients
   * are skipped and their step count does not advance, as in PyTorch). Gradients are not disposed.
   */
  step(params: ParamMap, grads: GradMap): void;
  /** Reads the state to the host (async: values may live on a GPU). */
  getState(): Promise<OptimizerState>;
  /** Replaces the state; type and hyperparameters must match this optimizer's. */
  setState(state: OptimizerState): void;
  /** Frees the state's tensors. The optimizer can still be used (state restarts from zero). */
  dispose(): void;
}

interface Slot {
  step: number;
  tensors: Record<string, tf.Variable>;
}

function normaliseSgd(fn: string, config: unknown): { lr: number; weightDecay: number } {
  checkObject(fn, 'config', config);
  const lr = checkNumber(fn, 'config.lr', config.lr, 0);
  const weightDecay =
    config.weightDecay === undefined ? 0 : checkNumber(fn, 'config.weightDecay', config.weightDecay, 0);
  return { lr, weightDecay };
}

function normaliseAdam(
  fn: string,
  config: unknown,
): { lr: number; betas: [number, number]; eps: number; weightDecay: number } {
  checkObject(fn, 'config', config);
  for (const key of ['lr', 'betas', 'eps', 'weightDecay']) {
    if (config[key] === undefined) {
      throw new TypeError(
        `${fn}: config.${key} is required (all of lr, betas, eps, weightDecay are explicit); got ${show(config)}`,
      );
    }
  }
  const lr = checkNumber(fn, 'config.lr', config.lr, 0);
  const betas = config.betas;
  if (!Array.isArray(betas) || betas.length !== 2)
    throw new TypeError(`${fn}: config.betas must be a pair [β1, β2]; got ${show(betas)}`);
  const b1 = betas[0] as unknown,
    b2 = betas[1] as unknown;
  if (typeof b1 !== 'number' || !(b1 >= 0 && b1 < 1))
    throw new RangeError(`${fn}: config.betas[0] must be a number in [0, 1); got ${show(b1)}`);
  if (typeof b2 !== 'number' || !(b2 >= 0 && b2 < 1))
    throw new RangeError(`${fn}: config.betas[1] must be a number in [0, 1); got ${show(b2)}`);
  const eps = checkNumber(fn, 'config.eps', config.eps, 0);
  const weightDecay = checkNumber(fn, 'config.weightDecay', config.weightDecay, 0);
  return { lr, betas: [b1, b2], eps, weightDecay };
}

function checkParamsAndGrads(fn: string, params: ParamMap, grads: GradMap): void {
  checkObject(fn, 'params', params);
  checkObject(fn, 'grads', grads);
  for (const name of Object.keys(grads)) {
    const g = grads[name];
    if (g == null) continue;
    const p = params[name];
    if (!(p instanceof tf.Variable))
      throw new TypeError(`${fn}: params['${name}'] must be a tf.Variable (grads has '${name}'); got ${show(p)}`);
    if (!(g instanceof tf.Tensor)) throw new TypeError(`${fn}: grads['${name}'] must be a tf.Tensor; got ${show(g)}`);
    if (!tf.util.arraysEqual(p.shape, g.shape)) {
      throw new RangeError(
        `${fn}: grads['${name}'] must have the shape of its parameter [${p.shape.join(', ')}]; got [${g.shape.join(', ')}]`,
      );
    }
  }
}

async function toHost(t: tf.Tensor): Promise<HostTensor> {
  const values = await t.data();
  const dtype = t.dtype === 'int32' ? 'int32' : 'float32';
  return {
    shape: [...t.shape],
    dtype,
    values: dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values),
  };
}

function sameConfig(a: OptimizerState['config'], b: OptimizerState['config']): boolean {
  return (
    a.lr === b.lr &&
    a.weightDecay === b.weightDecay &&
    a.eps === b.eps &&
    (a.betas === undefined) === (b.betas === undefined) &&
    (a.betas === undefined || (a.betas[0] === b.betas![0] && a.betas[1] === b.betas![1]))
  );
}

abstract class BaseOptimizer implements Optimizer {
  protected slots = new Map<string, Slot>();
  abstract readonly type: OptimizerType;
  abstract readonly config: Readonly<OptimizerState['config']>;
  protected abstract readonly slotNames: readonly string[];
  protected abstract update(p: tf.Variable, g: tf.Tensor, slot: Slot): void;

  step(params: ParamMap, grads: GradMap): void {
    const fn = `${this.type}.step`;
    checkParamsAndGrads(fn, params, grads);
    for (const name of Object.keys(grads)) {
      const g = grads[name];
      if (g == null) continue;
      const p = params[name]!;
      let slot = this.slots.get(name);
      if (!slot) {
        slot = { step: 0, tensors: {} };
        for (const s of this.slotNames) slot.tensors[s] = tf.tidy(() => tf.variable(tf.zerosLike(p), false));
        this.slots.set(name, slot);
      } else {
        const first = Object.values(slot.tensors)[0];
        if (first && !tf.util.arraysEqual(first.shape, p.shape)) {
          throw new RangeError(
            `${fn}: params['${name}'] has shape [${p.shape.join(', ')}] but its optimizer state has [${first.shape.join(', ')}]`,
          );
        }
      }
      slot.step += 1;
      tf.tidy(() => this.update(p, g, slot));
    }
  }

  async getState(): Promise<OptimizerState> {
    const params: Record<string, ParamOptimizerState> = {};
    for (const [name, slot] of this.slots) {
      const slots: Record<string, HostTensor> = {};
      for (const [s, t] of Object.entries(slot.tensors)) slots[s] = await toHost(t);
      params[name] = { step: slot.step, slots };
    }
    const c = this.config;
    const config: OptimizerState['config'] = { lr: c.lr, weightDecay: c.weightDecay };
    if (c.betas) config.betas = [c.betas[0], c.betas[1]];
    if (c.eps !== undefined) config.eps = c.eps;
    return { type: this.type, config, params };
  }

  setState(state: OptimizerState): void {
    const fn = `${this.type}.setState`;
    checkObject(fn, 'state', state);
    if (state.type !== this.type)
      throw new RangeError(`${fn}: state.type must be '${this.type}'; got ${show(state.type)}`);
    if (!state.config || !sameConfig(state.config, this.config)) {
      throw new RangeError(
        `${fn}: state.config must equal this optimizer's ${JSON.stringify(this.config)}; got ${show(state.config)}`,
      );
    }
    checkObject(fn, 'state.params', state.params);
    const next = new Map<string, Slot>();
    try {
      for (const [name, ps] of Object.entries(state.params)) {
        checkInt(fn, `state.params['${name}'].step`, ps.step, 0);
        const tensors: Record<string, tf.Variable> = {};
        next.set(name, { step: ps.step, tensors });
        for (const s of this.slotNames) {
          const h = ps.slots?.[s];
          if (!h)
            throw new TypeError(
              `${fn}: state.params['${name}'].slots.${s} is missing; ${this.type} keeps ${this.slotNames.join(', ') || 'no slots'}`,
            );
          const size = h.shape.reduce((a, b) => a * b, 1);
          if (h.values.length !== size) {
            throw new RangeError(
              `${fn}: state.params['${name}'].slots.${s} has ${h.values.length} values for shape [${h.shape.join(', ')}]`,
            );
          }
          tensors[s] = tf.tidy(() =>
            tf.variable(
              h.dtype === 'float64'
                ? tf.tensor(Float32Array.from(h.values), h.shape, 'float32')
                : tf.tensor(h.values, h.shape, h.dtype),
              false,
            ),
          );
        }
      }
    } catch (e) {
      for (const slot of next.values()) for (const t of Object.values(slot.tensors)) t.dispose();
      throw e;
    }
    this.dispose();
    this.slots = next;
  }

  dispose(): void {
    for (const slot of this.slots.values()) for (const t of Object.values(slot.tensors)) t.dispose();
    this.slots.clear();
  }
}

class Sgd extends BaseOptimizer {
  readonly type = 'sgd' as const;
  readonly config: Readonly<OptimizerState['config']>;
  protected readonly slotNames = [] as const;
  constructor(config: { lr: number; weightDecay: number }) {
    super();
    this.config = Object.freeze({ ...config });
  }
  protected update(p: tf.Variable, g: tf.Tensor): void {
    const { lr, weightDecay } = this.config;
    const grad = weightDecay !== 0 ? tf.add(g, tf.mul(p, tf.scalar(weightDecay))) : g;
    p.assign(tf.sub(p, tf.mul(grad, tf.scalar(lr))));
  }
}

class Adam extends BaseOptimizer {
  readonly config: Readonly<OptimizerState['config']>;
  protected readonly slotNames = ['m', 'v'] as const;
  constructor(
    readonly type: 'adam' | 'adamw',
    config: { lr: number; betas: [number, number]; eps: number; weightDecay: number },
  ) {
    super();
    this.config = Object.freeze({ ...config, betas: Object.freeze([...config.betas]) as [number, number] });
  }
  protected update(p: tf.Variable, g: tf.Tensor, slot: Slot): void {
    const { lr, weightDecay } = this.config;
    const [b1, b2] = this.config.betas!;
    const eps = this.config.eps!;
    const t = slot.step;
    let grad = g;
    if (this.type === 'adamw') {
      // param.mul_(1 - lr * weight_decay)
      if (weightDecay !== 0) p.assign(tf.mul(p, tf.scalar(1 - lr * weightDecay)));
    } else if (weightDecay !== 0) {
      // grad = grad.add(param, alpha=weight_decay)
      grad = tf.add(g, tf.mul(p, tf.scalar(weightDecay)));
    }
    const m = slot.tensors.m!,
      v = slot.tensors.v!;
    // exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
    m.assign(tf.add(tf.mul(m, tf.scalar(b1)), tf.mul(grad, tf.scalar(1 - b1))));
    // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    v.assign(tf.add(tf.mul(v, tf.scalar(b2)), tf.mul(tf.mul(grad, tf.scalar(1 - b2)), grad)));
    const bc1 = 1 - Math.pow(b1, t);
    const bc2 = 1 - Math.pow(b2, t);
    const stepSize = lr / bc1;
    const bc2Sqrt = Math.sqrt(bc2);
    // denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
    const denom = tf.add(tf.div(tf.sqrt(v), tf.scalar(bc2Sqrt)), tf.scalar(eps));
    // param.addcdiv_(exp_avg, denom, value=-step_size)
    p.assign(tf.add(p, tf.mul(tf.div(m, denom), tf.scalar(-stepSize))));
  }
}

/**
 * SGD without momentum, as torch.optim.SGD(params, lr, weight_decay).
 * @example
 * const opt = sgd({ lr: 0.1 });
 * opt.step({ w }, { w: gradW });
 */
export function sgd(config: SgdConfig): Optimizer {
  return new Sgd(normaliseSgd('sgd', config));
}

/**
 * Adam as torch.optim.Adam (amsgrad off): L2 weight decay added to the gradient, bias
 * correction, eps added outside the square root.
 * @example
 * const opt = adam({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 });
 */
export function adam(config: AdamConfig): Optimizer {
  return new Adam('adam', normaliseAdam('adam', config));
}

/**
 * AdamW as torch.optim.AdamW (amsgrad off): decoupled decay p ← p·(1 − lr·wd) before the Adam step.
 * @example
 * const opt = adamw({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2 });
 */
export function adamw(config: AdamConfig): Optimizer {
  return new Adam('adamw', normaliseAdam('adamw', config));
}

/**
 * Builds the optimizer a state (or a checkpoint) describes, with that state loaded.
 * @example
 * const opt = optimizerFromState(checkpoint.optimizerState!);
 */
export function optimizerFromState(state: OptimizerState): Optimizer {
  checkObject('optimizerFromState', 'state', state);
  let opt: Optimizer;
  if (state.type === 'sgd') opt = sgd(state.config);
  else if (state.type === 'adam' || state.type === 'adamw') {
    const { lr, betas, eps, weightDecay } = state.config;
    opt = (state.type === 'adam' ? adam : adamw)({ lr, betas: betas!, eps: eps!, weightDecay });
  } else
    throw new RangeError(
      `optimizerFromState: state.type must be one of 'sgd', 'adam', 'adamw'; got ${show(state.type)}`,
    );
  opt.setState(state);
  return opt;
}
