/**
 * Test fixture: a tiny linear regression y = X·w* + b* + noise with a stateful, serialisable
 * random stream (mulberry32 + Box–Muller), so tests can exercise rngState in checkpoints.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Json, ParamMap } from '../types.js';
import { meanSquaredError } from '../losses.js';

export const TRUE_W = [1.5, -2, 0.5];
export const TRUE_B = 0.25;

/** A seeded stream of uniforms; its whole state is one uint32. */
export class TestRng {
  constructor(public state: number) {}
  uniform(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  normal(): number {
    const u = Math.max(this.uniform(), 1e-12),
      v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  getState(): Json {
    return { mulberry32: this.state };
  }
  setState(s: Json): void {
    this.state = (s as { mulberry32: number }).mulberry32;
  }
}

export interface HostBatch {
  x: number[][];
  y: number[];
}
export interface Batch {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
}

export function hostBatch(rng: TestRng, n: number, noise = 0.1): HostBatch {
  const x: number[][] = [],
    y: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = TRUE_W.map(() => rng.normal());
    x.push(row);
    y.push(row.reduce((s, v, j) => s + v * TRUE_W[j]!, TRUE_B) + noise * rng.normal());
  }
  return { x, y };
}

export function toTensors(b: HostBatch): Batch {
  return { x: tf.tensor2d(b.x), y: tf.tensor2d(b.y, [b.y.length, 1]) };
}

export function makeParams(): ParamMap {
  return tf.tidy(() => ({
    w: tf.variable(tf.tensor2d([[0.1], [0.2], [-0.1]])),
    b: tf.variable(tf.scalar(0)),
  }));
}

export function regressionLoss(p: ParamMap, b: Batch): tf.Scalar {
  return tf.tidy(() => {
    const pred = tf.add(tf.matMul(b.x, p.w!), p.b!);
    return meanSquaredError(pred, b.y);
  });
}
