/** What the cpu and wasm kernels share: reading inputs and making outputs on either backend, checks, scratch. */
import type * as tf from '@tensorflow/tfjs-core';
import { allocWork, paramCount, type IclShape, type StepWork } from '../single/float64.js';
import { allocStackWork, stackParamCount, type StackShape, type StackWork } from '../stack/float64.js';
import type { IclAttrs, IclStackAttrs } from './names.js';

/** The two host backends this package's kernels run on. */
export type HostBackendName = 'cpu' | 'wasm';

type AnyBackend = {
  data: { get(id: unknown): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: string, values?: unknown): tf.TensorInfo;
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
};

/** A kernel's inputs as float32 arrays and a way to make its outputs, on the cpu or wasm backend. */
export interface HostIO {
  input(t: tf.TensorInfo): Float32Array;
  outputs(specs: Array<[number[], Float32Array]>): tf.TensorInfo[];
}

export function hostIO(backendName: HostBackendName, backend: unknown): HostIO {
  const be = backend as AnyBackend;
  const wasm = backendName === 'wasm';
  return {
    input: (t) => (wasm ? be.typedArrayFromHeap(t) : (be.data.get(t.dataId).values as Float32Array)),
    outputs(specs) {
      if (!wasm) return specs.map(([shape, vals]) => be.makeTensorInfo(shape, 'float32', vals));
      const outs = specs.map(([shape]) => be.makeOutput(shape, 'float32'));
      // Heap views only after every makeOutput: heap growth detaches earlier views.
      outs.forEach((o, i) => be.typedArrayFromHeap(o).set(specs[i]![1]));
      return outs;
    },
  };
}

const works = new Map<string, StepWork>();
/** Scratch of the single-layer core for a shape and context length (kept per configuration). */
export function workFor(shape: IclShape, L: number): StepWork {
  const key = `${shape.heads}/${shape.d}/${L}`;
  let w = works.get(key);
  if (!w) {
    w = allocWork(shape, L);
    works.set(key, w);
  }
  return w;
}

const stackWorks = new Map<string, StackWork>();
/** Scratch of the stack core for a shape and context length (kept per configuration). */
export function stackWorkFor(s: StackShape, L: number): StackWork {
  const key = `${s.heads}/${s.d}/${s.layers}/${s.tied}/${s.residual}/${L}`;
  let w = stackWorks.get(key);
  if (!w) {
    w = allocStackWork(s, L);
    stackWorks.set(key, w);
  }
  return w;
}

/** Checks z [B, L, D] and zq [B, D] of a kernel; returns B and L. */
function checkTokens(name: string, z: tf.TensorInfo, zq: tf.TensorInfo, D: number): { B: number; L: number } {
  if (z.shape.length !== 3 || z.shape[2] !== D)
    throw new RangeError(`${name}: z must have shape [B, L, ${D}]; got [${z.shape.join(', ')}]`);
  const [B, L] = z.shape as [number, number, number];
  if (zq.shape.length !== 2 || zq.shape[0] !== B || zq.shape[1] !== D) {
    throw new RangeError(`${name}: zq must have shape [${B}, ${D}]; got [${zq.shape.join(', ')}]`);
  }
  return { B, L };
}

/** Checks the inputs of a single-layer kernel and returns the shape, L and B. */
export function checkIclInputs(
  name: string,
  params: tf.TensorInfo,
  z: tf.TensorInfo,
  zq: tf.TensorInfo,
  attrs: IclAttrs,
): { shape: IclShape; L: number; B: number } {
  const shape = { heads: attrs.heads, d: attrs.d };
  const D = shape.d + 1;
  const P = paramCount(shape);
  if (params.shape.length !== 1 || params.shape[0] !== P) {
    throw new RangeError(
      `${name}: params must have shape [${P}] for heads ${shape.heads}, d ${shape.d}; got [${params.shape.join(', ')}]`,
    );
  }
  return { shape, ...checkTokens(name, z, zq, D) };
}

/** Checks the inputs of a stack kernel and returns the shape, L and B. */
export function checkStackInputs(
  name: string,
  params: tf.TensorInfo,
  z: tf.TensorInfo,
  zq: tf.TensorInfo,
  attrs: IclStackAttrs,
): { shape: StackShape; L: number; B: number } {
  const shape: StackShape = {
    heads: attrs.heads,
    d: attrs.d,
    layers: attrs.layers,
    tied: !!attrs.tied,
    residual: !!attrs.residual,
  };
  for (const k of ['heads', 'd', 'layers'] as const) {
    if (!(Number.isInteger(shape[k]) && shape[k] >= 1))
      throw new RangeError(`${name}: attrs.${k} must be an integer ≥ 1; got ${String(attrs[k])}`);
  }
  const D = shape.d + 1;
  const P = stackParamCount(shape);
  if (params.shape.length !== 1 || params.shape[0] !== P) {
    throw new RangeError(
      `${name}: params must have shape [${P}] for heads ${shape.heads}, d ${shape.d}, layers ${shape.layers}${shape.tied ? ' (tied)' : ''}; got [${params.shape.join(', ')}]`,
    );
  }
  return { shape, ...checkTokens(name, z, zq, D) };
}

let f64z = new Float64Array(0);
let f64q = new Float64Array(0);
/** A float64 copy of a float32 input in a kept buffer (one for tokens, one for queries). */
export function asF64(src: Float32Array, which: 'z' | 'q'): Float64Array {
  let buf = which === 'z' ? f64z : f64q;
  if (buf.length < src.length) {
    buf = new Float64Array(src.length);
    if (which === 'z') f64z = buf;
    else f64q = buf;
  }
  const v = buf.length === src.length ? buf : buf.subarray(0, src.length);
  v.set(src);
  return v;
}
