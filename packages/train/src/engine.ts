/**
 * The stepping seam: one interface that every way of running training iterations implements —
 * tfjs autodiff over variables ({@link autodiffEngine}) and the fast engines of other packages
 * (the WebAssembly SIMD and float64 engines in `@attnlab/fused`, …). `train()` runs any of them
 * with one schedule, one history, one set of events, one checkpoint format and one abort/resume
 * behaviour.
 *
 * Iteration t (0-based) draws batch t, computes the loss (reported by `run`, the loss before the
 * update) and applies the optimizer. `step` counts completed iterations: after `run(n)` from
 * step s, step is s + n and the next iteration trains on batch s + n.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Optimizer, OptimizerState } from './optimizers.js';
import type { DataStream, GradMap, HostTensor, ParamMap, TensorMap } from './types.js';
import { restoreParams } from './checkpoint.js';
import { checkFunction, checkInt, checkObject, show } from './validate.js';

/** Everything an engine needs to continue exactly where it was: what checkpoints store. */
export interface EngineState {
  /** Completed iterations. */
  step: number;
  /** Parameters by name, in the model's one layout (float32, or float64 for engines that keep float64). */
  params: Record<string, HostTensor>;
  /** The optimizer's state in the standard form ({@link OptimizerState}; slots may be float64), or null. */
  optimizer: OptimizerState | null;
}

/** Something that runs training iterations. */
export interface Engine {
  /** What runs the iterations, for reports: e.g. 'autodiff (wasm)', 'simd (2 threads)', 'float64'. */
  readonly name: string;
  /** Completed iterations; the next iteration trains on batch `step`. */
  readonly step: number;
  /** Runs `n` ≥ 1 iterations and gives their training losses in order (each the loss before its update). */
  run(n: number): Promise<ArrayLike<number>>;
  /**
   * The current parameters as tensors by name (for validation, probes, evaluation). They belong
   * to the engine and stay valid until the next `run`, `restore` or `dispose`.
   */
  params(): TensorMap;
  /** The state to checkpoint, read to the host. */
  state(): Promise<EngineState>;
  /** Continues from a state (from `state()` or a checkpoint); throws naming what does not fit. */
  restore(state: EngineState): void | Promise<void>;
  /** Frees what the engine holds (worker threads, buffers, its own tensors); not the caller's variables. */
  dispose(): void;
}

/** Options of {@link autodiffEngine}. */
export interface AutodiffEngineOptions<B> {
  /** The trainable parameters by name (variables, updated in place; they stay the caller's). */
  params: ParamMap;
  /** The loss of a batch as a scalar tensor; differentiable in the parameters. */
  loss: (params: ParamMap, batch: B, step: number) => tf.Scalar;
  /** Training batches. */
  data: DataStream<B>;
  optimizer: Optimizer;
  /** Dispose tensors found in each batch after use (default true). */
  disposeBatches?: boolean;
  /** Completed iterations at the start (default 0). */
  step?: number;
  /** The name reported (default `autodiff (<tfjs backend>)`). */
  name?: string;
}

/**
 * The reference engine: tfjs autodiff (`tf.variableGrads`) and an {@link Optimizer} over variables.
 * Losses stay on the device during `run(n)` and are read in one transfer at its end.
 * @example
 * const engine = autodiffEngine({ params, loss, data: { batch }, optimizer: adam(cfg) });
 * const losses = await engine.run(10); // Float64Array(10)
 * @param fn the caller's name in error messages
 */
export function autodiffEngine<B>(options: AutodiffEngineOptions<B>, fn = 'autodiffEngine'): Engine {
  checkObject(fn, 'options', options);
  const { params, loss, data, optimizer } = options;
  checkObject(fn, 'options.params', params);
  const names = Object.keys(params);
  if (names.length === 0) throw new RangeError(`${fn}: options.params must hold at least one variable; got {}`);
  const byVarName = new Map<string, string>();
  for (const name of names) {
    const v = params[name];
    if (!(v instanceof tf.Variable))
      throw new TypeError(`${fn}: options.params['${name}'] must be a tf.Variable; got ${show(v)}`);
    if (byVarName.has(v.name))
      throw new RangeError(`${fn}: options.params['${name}'] and ['${byVarName.get(v.name)}'] are the same variable`);
    byVarName.set(v.name, name);
  }
  checkFunction(fn, 'options.loss', loss);
  checkObject(fn, 'options.data', data);
  checkFunction(fn, 'options.data.batch', data.batch);
  if (typeof optimizer?.step !== 'function' || typeof optimizer.getState !== 'function') {
    throw new TypeError(`${fn}: options.optimizer must be an Optimizer (sgd, adam or adamw); got ${show(optimizer)}`);
  }
  const disposeBatches = options.disposeBatches ?? true;
  let step = checkInt(fn, 'options.step', options.step ?? 0, 0);
  const vars = names.map((n) => params[n]!);
  return {
    name: options.name ?? `autodiff (${tf.getBackend()})`,
    get step() {
      return step;
    },
    async run(n: number): Promise<Float64Array> {
      checkInt(`${fn}.run`, 'n', n, 1);
      const pending: tf.Scalar[] = [];
      try {
        for (let i = 0; i < n; i++) {
          const t = step;
          const batch = await data.batch(t);
          try {
            pending.push(
              tf.tidy(() => {
                const { value, grads } = tf.variableGrads(() => loss(params, batch, t), vars);
                const named: GradMap = {};
                for (const [varName, g] of Object.entries(grads)) named[byVarName.get(varName)!] = g;
                optimizer.step(params, named);
                return value;
              }),
            );
          } finally {
            if (disposeBatches) tf.dispose(batch as unknown as tf.TensorContainer);
          }
          step = t + 1;
        }
        if (pending.length === 1) return Float64Array.from(await pending[0]!.data());
        const stacked = tf.stack(pending);
        try {
          return Float64Array.from(await stacked.data());
        } finally {
          stacked.dispose();
        }
      } finally {
        tf.dispose(pending);
      }
    },
    params: () => params,
    async state(): Promise<EngineState> {
      const out: Record<string, HostTensor> = {};
      for (const name of names) {
        const v = params[name]!;
        const d = await v.data();
        out[name] = {
          shape: [...v.shape],
          dtype: v.dtype === 'int32' ? 'int32' : 'float32',
          values: v.dtype === 'int32' ? Int32Array.from(d) : Float32Array.from(d),
        };
      }
      return { step, params: out, optimizer: await optimizer.getState() };
    },
    restore(state: EngineState): void {
      checkObject(`${fn}.restore`, 'state', state);
      const s = checkInt(`${fn}.restore`, 'state.step', state.step, 0);
      restoreParams(params, state.params);
      if (state.optimizer) optimizer.setState(state.optimizer);
      step = s;
    },
    dispose(): void {
      /* the variables and the optimizer are the caller's */
    },
  };
}
