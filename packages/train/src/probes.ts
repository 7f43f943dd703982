import * as tf from '@tensorflow/tfjs-core';
import type { Probe } from './loop.js';
import type { Json, TensorMap } from './types.js';
import { checkFunction, checkInt } from './validate.js';

type TensorOutput = tf.Tensor | tf.Tensor[] | Record<string, tf.Tensor>;

/**
 * A probe from a tensor function: runs `fn` inside `tf.tidy`, reads the result(s) to nested
 * arrays (async, so it works on webgpu) and frees them. Returns a number for a scalar.
 * @example
 * const qk = tensorProbe(1000, (p) => tf.matMul(p.wq!, p.wk!, false, true)); // QK snapshots
 */
export function tensorProbe(every: number, fn: (params: TensorMap, step: number) => TensorOutput): Probe {
  checkInt('tensorProbe', 'every', every, 1);
  checkFunction('tensorProbe', 'fn', fn);
  return {
    every,
    async run(params, step) {
      const out = tf.tidy(() => fn(params, step));
      const list: tf.Tensor[] = out instanceof tf.Tensor ? [out] : Array.isArray(out) ? out : Object.values(out);
      try {
        const read = async (t: tf.Tensor): Promise<Json> => (await t.array()) as Json;
        if (out instanceof tf.Tensor) return await read(out);
        if (Array.isArray(out)) return await Promise.all(out.map(read));
        const obj: { [k: string]: Json } = {};
        for (const [k, t] of Object.entries(out)) obj[k] = await read(t);
        return obj;
      } finally {
        tf.dispose(list);
      }
    },
  };
}
