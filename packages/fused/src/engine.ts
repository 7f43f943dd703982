/**
 * The fast engines behind @attnlab/train's `Engine` seam: seed 004's model (single layer or causal
 * stack) trained by the WebAssembly SIMD engine or by the float64 TypeScript engine, from
 * `iclInitialParams(spec.model)` on @attnlab/data's batches, with @attnlab/train's optimizers'
 * rules, its parameter names and its checkpoint state (float64 parameters and slots, a step per
 * parameter), so that `train({ engine })` runs, checkpoints and resumes them bit-identically.
 */
import * as tf from '@tensorflow/tfjs-core';
import { iclInitialParams } from '@attnlab/attention';
import type { Engine, EngineState, HostTensor, OptimizerState, TensorMap } from '@attnlab/train';
import { allocBatch, fillIclBatch, normalsPerExample } from './data.js';
import { optimizeFlat, type Segment } from './optimizer.js';
import { allocWork, fusedLossGrad } from './single/float64.js';
import { singleScratchBytes, singleSimdKernel } from './single/simd.js';
import { allocStackWork, stackLossGrad, type StackShape } from './stack/float64.js';
import { stackScratchBytes, stackSimdKernel } from './stack/simd.js';
import { batchBytes, simdAvailable } from './simd/module.js';
import { createSimdModel } from './simd/model.js';
import { resolveIclSpec, type IclTrainingSpec, type ResolvedIclSpec } from './spec.js';
import { checkInt, checkObject, checkOneOf, show } from './validate.js';

/** The fast engines, fastest first. */
export const ICL_ENGINE_KINDS = ['simd', 'float64'] as const;
export type IclEngineKind = (typeof ICL_ENGINE_KINDS)[number];

/** One engine that could train a spec; `unsupported` says which field it cannot run and why. */
export interface IclEngineCandidate {
  kind: IclEngineKind;
  unsupported?: string;
}

/** Options of {@link createIclEngine}. */
export interface IclEngineOptions {
  /** 'auto' (default): the fastest engine that runs the spec; or force one. */
  engine?: 'auto' | IclEngineKind;
  /**
   * SIMD engine: split every batch (its data and gradient) with a worker thread: Node's
   * worker_threads, or in a browser a nested Worker of a cross-origin-isolated dedicated worker
   * (none on a page's main thread). true always (where one can run), false never. Default: start
   * one when there are ≥ 2 logical CPUs and the batch has ≥ 8 examples, and use it only while it
   * measures faster than one thread (a loaded machine can make one thread faster). One thread and
   * two give the same numbers, bit for bit.
   */
  workerThread?: boolean;
}

/** A fast engine: @attnlab/train's Engine plus which one it is and why it was chosen. */
export interface IclEngine extends Engine {
  readonly kind: IclEngineKind;
  /** Why this engine: e.g. 'simd: every field of the spec is supported; 2 threads'. */
  readonly reason: string;
  /** Runs n ≥ 1 iterations; their training losses (each before its update), in float64. */
  run(n: number): Promise<Float64Array>;
}

/** The SIMD module's memory limit this package keeps to (pointers stay below 2^31). */
const SIMD_MEMORY_LIMIT = 2 ** 31;

/** Bytes of WebAssembly memory the SIMD engine needs for a spec (state, gradient, a batch, scratch). */
function simdBytes(s: ResolvedIclSpec): number {
  const { model, batch, P } = s;
  const L = s.task.L;
  const b = batchBytes(batch, L, model.d, s.task.queryNoise);
  const scratch = model.layers === 1 ? singleScratchBytes(singleShape(s), L) : stackScratchBytes(stackShape(s), L);
  return (
    65536 + 4 * P * 8 + b.z + b.zq + b.yq + b.nb + scratch + 4096 * 8 + s.segments.length * 12 + model.d * model.d * 8
  );
}

function singleShape(s: ResolvedIclSpec): { heads: number; d: number; nOut: number } {
  return { heads: s.model.numHeads, d: s.model.d, nOut: s.model.nOut };
}

function stackShape(s: ResolvedIclSpec): StackShape {
  const m = s.model;
  return { heads: m.numHeads, d: m.d, layers: m.layers, tied: m.tied, residual: m.residual, nOut: m.nOut };
}

function simdUnsupported(s: ResolvedIclSpec): string | undefined {
  if (!simdAvailable()) return 'needs WebAssembly SIMD, which this JavaScript engine lacks';
  const bytes = simdBytes(s);
  if (bytes >= SIMD_MEMORY_LIMIT) {
    return `needs ${Math.ceil(bytes / 2 ** 20)} MiB of WebAssembly memory for spec.model (layers ${s.model.layers}, numHeads ${s.model.numHeads}, d ${s.model.d}), spec.task.L ${s.task.L} and spec.batch ${s.batch}; it allows < 2048 MiB`;
  }
  return undefined;
}

/**
 * The engines that could train a spec, fastest first, each with the reason it cannot when it
 * cannot (the float64 engine runs every valid spec of softmax attention; neither runs
 * `model.attention: 'linear'`, which trains on the tfjs reference). Throws a RangeError/TypeError naming the
 * field when the spec itself is invalid.
 * @example
 * iclEngineCandidates(spec); // [{ kind: 'simd' }, { kind: 'float64' }]
 */
export function iclEngineCandidates(spec: IclTrainingSpec): IclEngineCandidate[] {
  return candidates(resolveIclSpec('iclEngineCandidates', spec));
}

function candidates(s: ResolvedIclSpec): IclEngineCandidate[] {
  if (s.model.attention !== 'softmax') {
    // The fused kernels are softmax attention's forward and backward; linear attention trains on the tfjs reference.
    const unsupported = `runs softmax attention only; spec.model.attention is '${s.model.attention}'`;
    return ICL_ENGINE_KINDS.map((kind) => ({ kind, unsupported }));
  }
  const why = simdUnsupported(s);
  return [why ? { kind: 'simd', unsupported: why } : { kind: 'simd' }, { kind: 'float64' }];
}

/** The flat [params] of a spec's initial weights (`iclInitialParams(spec.model)`). */
function initialFlat(s: ResolvedIclSpec): Float64Array {
  const init = iclInitialParams(s.model);
  const out = new Float64Array(s.P);
  for (const seg of s.segments) out.set(init[seg.name]!.values, seg.offset);
  return out;
}

/** What the Engine wrapper needs from an engine: iterations and views of its state. */
interface Core {
  readonly name: string;
  /** For the reason: e.g. '2 threads'. */
  readonly detail?: string;
  run(n: number, step: number): Float64Array;
  params(): Float64Array;
  m(): Float64Array;
  v(): Float64Array;
  readSteps(): number[];
  writeSteps(steps: ArrayLike<number>): void;
  dispose(): void;
}

function float64Core(s: ResolvedIclSpec): Core {
  const { P, batch: B, segments, optimizer, data } = s;
  const L = s.task.L;
  const params = new Float64Array(P);
  const m = new Float64Array(P);
  const v = new Float64Array(P);
  const steps = new Int32Array(segments.length);
  const host = allocBatch(B, L, s.model.d);
  const normals = new Float64Array(normalsPerExample(data));
  const scratch = new Uint32Array(4);
  let lossGrad: () => number;
  let grad: Float64Array;
  if (s.model.layers === 1) {
    const shape = singleShape(s);
    const work = allocWork(shape, L);
    grad = work.grad;
    lossGrad = () => fusedLossGrad(params, 0, shape, L, B, host.z, host.zq, host.yq, work);
  } else {
    const shape = stackShape(s);
    const work = allocStackWork(shape, L);
    grad = work.grad;
    lossGrad = () => stackLossGrad(params, 0, shape, L, B, host.z, host.zq, host.yq, work);
  }
  return {
    name: 'float64',
    run(n: number, step: number) {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        fillIclBatch(host, data, step + i, B, 0, normals, scratch);
        out[i] = lossGrad();
        optimizeFlat(optimizer, params, m, v, grad, segments, steps);
      }
      return out;
    },
    params: () => params,
    m: () => m,
    v: () => v,
    readSteps: () => Array.from(steps),
    writeSteps: (t) => steps.set(t),
    dispose() {
      /* nothing to free */
    },
  };
}

async function simdCore(fn: string, s: ResolvedIclSpec, workerThread: boolean | undefined): Promise<Core> {
  const kernel =
    s.model.layers === 1 ? singleSimdKernel(singleShape(s), s.task.L) : stackSimdKernel(stackShape(s), s.task.L);
  const model = await createSimdModel(
    fn,
    kernel,
    s.data,
    s.batch,
    s.optimizer,
    s.segments,
    new Array<number>(s.segments.length).fill(0),
    { workerThread },
  );
  const threads = model.workerExamples > 0 ? 2 : 1;
  const detail = model.measuredThreads
    ? '1 or 2 threads, whichever measures faster as it trains (the same numbers either way)'
    : `${threads} thread${threads > 1 ? 's' : ''}`;
  return {
    name: `simd (${model.measuredThreads ? '1–2 threads' : detail})`,
    detail,
    run: (n, step) => model.train(n, step),
    params: () => model.params(),
    m: () => model.m(),
    v: () => model.v(),
    readSteps: () => model.readSteps(),
    writeSteps: (t) => model.writeSteps(t),
    dispose: () => model.dispose(),
  };
}

/**
 * Creates a fast engine for a spec, at step 0 with `iclInitialParams(spec.model)` and a fresh
 * optimizer. 'auto' takes the fastest engine that runs the spec (`reason` says which and why);
 * forcing one that cannot throws a RangeError naming the field and what is allowed.
 * @example
 * const engine = await createIclEngine(spec);          // engine.kind 'simd', engine.reason '…'
 * const losses = await engine.run(100);                // Float64Array(100)
 * await train({ engine, steps: 10000 });               // @attnlab/train's loop
 * engine.dispose();
 */
export async function createIclEngine(spec: IclTrainingSpec, options: IclEngineOptions = {}): Promise<IclEngine> {
  const fn = 'createIclEngine';
  const s = resolveIclSpec(fn, spec);
  checkObject(fn, 'options', options, "an object { engine?: 'auto' | 'simd' | 'float64', workerThread?: boolean }");
  const asked = checkOneOf(fn, 'options.engine', options.engine ?? 'auto', ['auto', ...ICL_ENGINE_KINDS]);
  if (options.workerThread !== undefined && typeof options.workerThread !== 'boolean') {
    throw new TypeError(`${fn}: options.workerThread must be a boolean; got ${show(options.workerThread)}`);
  }
  const { kind, why } = pickEngine(fn, candidates(s), asked);
  const core = kind === 'simd' ? await simdCore(fn, s, options.workerThread) : float64Core(s);
  core.params().set(initialFlat(s));
  return wrapCore(s, core, kind, `${kind}: ${why}${core.detail ? `; ${core.detail}` : ''}`);
}

/**
 * The engine 'auto' or a forced kind takes from the candidates, and why (without the engine's own
 * detail such as its threads); a forced engine that cannot run the spec throws a RangeError.
 */
export function pickEngine(
  fn: string,
  list: readonly IclEngineCandidate[],
  asked: 'auto' | IclEngineKind,
): { kind: IclEngineKind; why: string } {
  if (asked === 'auto') {
    const chosen = list.find((c) => c.unsupported === undefined);
    if (!chosen) {
      throw new RangeError(
        `${fn}: no fast engine runs this spec: ${list.map((c) => `${c.kind} ${c.unsupported}`).join('; ')}`,
      );
    }
    const skipped = list.slice(0, list.indexOf(chosen)).map((c) => `${c.kind} ${c.unsupported}`);
    return { kind: chosen.kind, why: skipped.length ? skipped.join('; ') : 'every field of the spec is supported' };
  }
  const chosen = list.find((c) => c.kind === asked)!;
  if (chosen.unsupported) {
    const others = list.filter((c) => !c.unsupported).map((c) => `'${c.kind}'`);
    throw new RangeError(
      `${fn}: options.engine '${asked}' cannot run this spec: it ${chosen.unsupported}; ${others.length ? `use options.engine 'auto' or ${others.join(' or ')}` : 'no fast engine runs it'}`,
    );
  }
  return { kind: asked, why: `options.engine '${asked}'` };
}

/** @attnlab/train's Engine over a Core: step, run, params as tensors, state and restore. */
function wrapCore(s: ResolvedIclSpec, core: Core, kind: IclEngineKind, reason: string): IclEngine {
  const fn = `IclEngine(${core.name})`;
  let step = 0;
  let disposed = false;
  let tensors: TensorMap | null = null;
  const drop = () => {
    if (tensors) tf.dispose(Object.values(tensors));
    tensors = null;
  };
  const alive = (what: string) => {
    if (disposed) throw new Error(`${fn}.${what}: the engine was disposed`);
  };
  const method = s.optimizer.method;
  const hasSlots = method !== 'sgd';
  const host = (values: Float64Array, seg: Segment): HostTensor => ({
    shape: [...seg.shape],
    dtype: 'float64',
    values: values.slice(seg.offset, seg.offset + seg.length),
  });
  return {
    name: core.name,
    kind,
    reason,
    get step() {
      return step;
    },
    async run(n: number): Promise<Float64Array> {
      checkInt(`${fn}.run`, 'n', n, 1);
      alive('run');
      if (step + n > 2 ** 32)
        throw new RangeError(
          `${fn}.run: steps go up to 2^32 (the data's counter word); step ${step} + n ${n} is past it`,
        );
      drop();
      const losses = core.run(n, step);
      step += n;
      return losses;
    },
    params(): TensorMap {
      alive('params');
      if (!tensors) {
        const p = core.params();
        const out: TensorMap = {};
        for (const seg of s.segments)
          out[seg.name] = tf.tensor(
            Float32Array.from(p.subarray(seg.offset, seg.offset + seg.length)),
            seg.shape,
            'float32',
          );
        tensors = out;
      }
      return tensors;
    },
    async state(): Promise<EngineState> {
      alive('state');
      const p = core.params();
      const m = core.m();
      const v = core.v();
      const steps = core.readSteps();
      const params: Record<string, HostTensor> = {};
      const optParams: OptimizerState['params'] = {};
      s.segments.forEach((seg, i) => {
        params[seg.name] = host(p, seg);
        if (steps[i]! > 0)
          optParams[seg.name] = { step: steps[i]!, slots: hasSlots ? { m: host(m, seg), v: host(v, seg) } : {} };
      });
      const o = s.optimizer;
      const config: OptimizerState['config'] = hasSlots
        ? { lr: o.lr, weightDecay: o.weightDecay, betas: [o.betas[0], o.betas[1]], eps: o.eps }
        : { lr: o.lr, weightDecay: o.weightDecay };
      return { step, params, optimizer: { type: method, config, params: optParams } };
    },
    restore(state: EngineState): void {
      const f = `${fn}.restore`;
      alive('restore');
      checkObject(f, 'state', state, 'an EngineState { step, params, optimizer }');
      const next = checkInt(f, 'state.step', state.step, 0, 2 ** 32);
      const r = readState(f, s, state);
      drop();
      core.params().set(r.params);
      core.m().set(r.m);
      core.v().set(r.v);
      core.writeSteps(r.steps);
      step = next;
    },
    dispose(): void {
      if (disposed) return;
      drop();
      core.dispose();
      disposed = true;
    },
  };
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

function readHost(fn: string, name: string, h: unknown, seg: Segment): ArrayLike<number> {
  checkObject(fn, name, h, `a host tensor { shape: [${seg.shape.join(', ')}], dtype: 'float32' | 'float64', values }`);
  const { shape, dtype, values } = h as Partial<HostTensor>;
  if (!Array.isArray(shape) || !sameShape(shape, seg.shape))
    throw new RangeError(
      `${fn}: ${name}.shape must be [${seg.shape.join(', ')}] (the layout of '${seg.name}'); got ${show(shape)}`,
    );
  if (dtype !== 'float32' && dtype !== 'float64')
    throw new TypeError(`${fn}: ${name}.dtype must be 'float32' or 'float64'; got ${show(dtype)}`);
  const ok = dtype === 'float64' ? values instanceof Float64Array : values instanceof Float32Array;
  if (!ok || values!.length !== seg.length) {
    throw new RangeError(
      `${fn}: ${name}.values must be a ${dtype === 'float64' ? 'Float64Array' : 'Float32Array'} of ${seg.length}; got ${show(values)}`,
    );
  }
  return values!;
}

/** Checks a state against the spec (every field before anything is written) and reads it flat. */
function readState(
  fn: string,
  s: ResolvedIclSpec,
  state: EngineState,
): { params: Float64Array; m: Float64Array; v: Float64Array; steps: number[] } {
  const names = new Set(s.segments.map((g) => g.name));
  const list = [...names].join(', ');
  checkObject(fn, 'state.params', state.params, `an object of host tensors named ${list}`);
  for (const k of Object.keys(state.params))
    if (!names.has(k)) throw new RangeError(`${fn}: state.params['${k}'] is not a parameter of this model (${list})`);
  const params = new Float64Array(s.P);
  const m = new Float64Array(s.P);
  const v = new Float64Array(s.P);
  const steps = new Array<number>(s.segments.length).fill(0);
  for (const seg of s.segments) {
    const h = state.params[seg.name];
    if (h === undefined) throw new RangeError(`${fn}: state.params['${seg.name}'] is missing (the model has ${list})`);
    params.set(readHost(fn, `state.params['${seg.name}']`, h, seg), seg.offset);
  }
  const o = state.optimizer;
  if (o === null || o === undefined) return { params, m, v, steps };
  checkObject(fn, 'state.optimizer', o, 'an OptimizerState { type, config, params } or null');
  const want = s.optimizer;
  if (o.type !== want.method)
    throw new RangeError(
      `${fn}: state.optimizer.type must be '${want.method}' (spec.optimizer.method); got ${show(o.type)}`,
    );
  const c = o.config;
  const hasSlots = want.method !== 'sgd';
  const same =
    typeof c === 'object' &&
    c !== null &&
    c.lr === want.lr &&
    c.weightDecay === want.weightDecay &&
    (!hasSlots ||
      (c.eps === want.eps && Array.isArray(c.betas) && c.betas[0] === want.betas[0] && c.betas[1] === want.betas[1]));
  if (!same) {
    const mine = hasSlots
      ? { lr: want.lr, weightDecay: want.weightDecay, betas: want.betas, eps: want.eps }
      : { lr: want.lr, weightDecay: want.weightDecay };
    throw new RangeError(
      `${fn}: state.optimizer.config must equal spec.optimizer's ${JSON.stringify(mine)}; got ${show(c)}`,
    );
  }
  checkObject(fn, 'state.optimizer.params', o.params, `an object of per-parameter states named ${list}`);
  for (const k of Object.keys(o.params))
    if (!names.has(k))
      throw new RangeError(`${fn}: state.optimizer.params['${k}'] is not a parameter of this model (${list})`);
  s.segments.forEach((seg, i) => {
    const ps = o.params[seg.name];
    if (ps === undefined) return; // never updated: step 0, zero slots
    const at = `state.optimizer.params['${seg.name}']`;
    checkObject(fn, at, ps, '{ step, slots }');
    steps[i] = checkInt(fn, `${at}.step`, ps.step, 0, 2 ** 31 - 1);
    if (!hasSlots) return;
    checkObject(fn, `${at}.slots`, ps.slots, '{ m, v }');
    for (const [k, dst] of [
      ['m', m],
      ['v', v],
    ] as const) {
      const h = ps.slots[k];
      if (h === undefined) throw new RangeError(`${fn}: ${at}.slots.${k} is missing (${want.method} keeps m and v)`);
      dst.set(readHost(fn, `${at}.slots.${k}`, h, seg), seg.offset);
    }
  });
  return { params, m, v, steps };
}
