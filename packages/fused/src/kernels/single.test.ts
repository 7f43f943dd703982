import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose, expectNoLeak, read } from '@attnlab/backend/testing';
import { allocWork, fusedLossGrad, initParams, paramCount } from '../single/float64.js';
import { adamFlatUpdate, iclForward, iclLossGrad } from './register.js';
import { allocBatch, fillIclBatch } from '../data.js';
import { createReferenceModel, referenceForward, referenceLoss, referenceStep } from '../reference.js';
import { initBackend } from '@attnlab/backend';

const shape = { heads: 2, d: 5 };
const L = 40;
const P = paramCount(shape);

function batchTensors(B: number, seed: number, step: number) {
  const b = allocBatch(B, L, 5);
  fillIclBatch(b, seed, step, B, L, 5);
  return {
    z: tf.tensor3d(Float32Array.from(b.z), [B, L, 6]),
    zq: tf.tensor2d(Float32Array.from(b.zq), [B, 6]),
    yq: tf.tensor1d(Float32Array.from(b.yq)),
    host: b,
  };
}

function splitFlat(p: tf.Tensor1D) {
  const m = shape.heads * 36;
  return {
    wq: tf.reshape(tf.slice(p, 0, m), [2, 6, 6]),
    wk: tf.reshape(tf.slice(p, m, m), [2, 6, 6]),
    wv: tf.reshape(tf.slice(p, 2 * m, m), [2, 6, 6]),
    wo: tf.reshape(tf.slice(p, 3 * m, 12), [2, 6, 1]),
  };
}

const ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
let referenceCache: Promise<number[]> | undefined;

/**
 * Losses of the naive reference path (tfjs autodiff + tf.train.adam, float32) for the first
 * `steps` steps of seed 1024 (init and data). Computed once, on the wasm backend (the naive
 * path is 30× slower on tfjs-cpu and on SwiftShader), then the caller's backend is restored.
 */
async function referenceLosses(steps: number): Promise<number[]> {
  referenceCache ??= (async () => {
    const previous = tf.getBackend() as 'cpu' | 'wasm' | 'webgpu';
    await initBackend({ prefer: 'wasm' });
    const ref = createReferenceModel(shape, initParams(shape, 1024), ADAM);
    const losses: tf.Scalar[] = [];
    for (let t = 1; t <= steps; t++) {
      const { z, zq, yq } = batchTensors(128, 1024, t - 1);
      losses.push(referenceStep(ref, z, zq, yq));
      tf.dispose([z, zq, yq]);
    }
    const all = tf.stack(losses);
    const out = await read(all);
    tf.dispose([all, ...losses]);
    ref.dispose();
    await initBackend({ prefer: previous });
    if (previous === 'webgpu') tf.env().set('WEBGPU_CPU_FORWARD', false);
    return out;
  })();
  return referenceCache;
}

describeBackends('fused tfjs kernels vs naive tfjs autodiff', (ctx) => {
  it('forward and parameter gradient equal the naive model\'s (tf.grads)', async () => {
    await expectNoLeak(async () => {
      const { z, zq, yq } = batchTensors(16, 3, 0);
      const p = tf.tensor1d(Float32Array.from(initParams(shape, 4)));
      const fused = iclForward(p, z, zq, shape);
      const naive = tf.tidy(() => referenceForward(shape, splitFlat(p), z, zq));
      await expectClose(fused, await read(naive), ctx.tol, 1e-5);
      const gFused = tf.grads((q: tf.Tensor) => tf.mean(tf.square(tf.sub(iclForward(q as tf.Tensor1D, z, zq, shape), yq))))([p]);
      const gNaive = tf.grads((q: tf.Tensor) => referenceLoss(shape, splitFlat(q as tf.Tensor1D), z, zq, yq))([p]);
      await expectClose(gFused[0]!, await read(gNaive[0]!), 1e-3, 1e-6);
      const [loss, g2] = iclLossGrad(p, z, zq, yq, shape);
      await expectClose(g2, await read(gNaive[0]!), 1e-3, 1e-6);
      const refLoss = tf.tidy(() => referenceLoss(shape, splitFlat(p), z, zq, yq));
      await expectClose(loss, await read(refLoss), ctx.tol);
      tf.dispose([z, zq, yq, p, fused, naive, ...gFused, ...gNaive, loss, g2, refLoss]);
    });
  });

  it('LossGrad kernel equals the float64 fused core', async () => {
    const { z, zq, yq, host } = batchTensors(128, 9, 2);
    const p64 = initParams(shape, 6);
    const p = tf.tensor1d(Float32Array.from(p64));
    const [loss, g] = iclLossGrad(p, z, zq, yq, shape);
    const work = allocWork(shape, L);
    const want = fusedLossGrad(Float64Array.from(Float32Array.from(p64)), 0, shape, L, 128, host.z, host.zq, host.yq, work);
    await expectClose(loss, want, ctx.tol);
    await expectClose(g, Array.from(work.grad), 1e-4, 1e-6);
    tf.dispose([z, zq, yq, p, loss, g]);
  });

  it('Adam kernel equals tf.train.adam (PyTorch form) over three steps', async () => {
    const x0 = [0.5, -1, 2, 0.25];
    const grads = [[0.1, -0.2, 0.3, 1e-3], [0.05, 0.2, -0.3, 2e-3], [-0.1, 0.1, 0.1, 0]];
    const cfg = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
    const v = tf.variable(tf.tensor1d(x0));
    const opt = tf.train.adam(cfg.lr, cfg.beta1, cfg.beta2, cfg.eps);
    let p = tf.tensor1d(x0);
    let m = tf.zeros([4]) as tf.Tensor1D;
    let s = tf.zeros([4]) as tf.Tensor1D;
    for (let t = 1; t <= 3; t++) {
      const g = tf.tensor1d(grads[t - 1]!);
      opt.applyGradients([{ name: v.name, tensor: g }]);
      const [p1, m1, s1] = adamFlatUpdate(p, m, s, g, cfg, t);
      tf.dispose([p, m, s, g]);
      p = p1; m = m1; s = s1;
    }
    await expectClose(p, await read(v), 1e-5, 1e-6);
    // Hand check of m after three steps: m3 = 0.9²·0.1·g1 + 0.9·0.1·g2 + 0.1·g3.
    await expectClose(m, grads[0]!.map((g1, i) => 0.081 * g1 + 0.09 * grads[1]![i]! + 0.1 * grads[2]![i]!), 1e-5, 1e-7);
    tf.dispose([p, m, s, v]);
    opt.dispose();
  });

  it('100 training steps: fused kernels\' losses equal the reference path\'s within 1e-4 relative', async () => {
    const steps = 100;
    const want = await referenceLosses(steps);
    expect(tf.getBackend()).toBe(ctx.backend);
    let p = tf.tensor1d(Float32Array.from(initParams(shape, 1024)));
    let m = tf.zeros([P]) as tf.Tensor1D;
    let v = tf.zeros([P]) as tf.Tensor1D;
    const before = tf.memory().numTensors;
    const fusedLoss: tf.Scalar[] = [];
    for (let t = 1; t <= steps; t++) {
      const { z, zq, yq } = batchTensors(128, 1024, t - 1);
      const [loss, g] = iclLossGrad(p, z, zq, yq, shape);
      fusedLoss.push(loss);
      const [p1, m1, v1] = adamFlatUpdate(p, m, v, g, ADAM, t);
      tf.dispose([p, m, v, g, z, zq, yq]);
      p = p1; m = m1; v = v1;
    }
    // One loss scalar per step is kept; nothing else grows.
    expect(tf.memory().numTensors - before).toBe(steps);
    const f = await read(tf.stack(fusedLoss));
    expect(want[0]).toBeGreaterThan(1);
    await expectClose(f, want, 1e-4, 0);
    tf.dispose([...fusedLoss, p, m, v]);
  });
});

describeBackends('reference model', () => {
  it('creating, stepping and disposing it leaves no tensors behind', async () => {
    const { z, zq, yq } = batchTensors(8, 1, 0);
    await expectNoLeak(() => {
      const ref = createReferenceModel(shape, initParams(shape, 2));
      for (let i = 0; i < 2; i++) referenceStep(ref, z, zq, yq).dispose();
      ref.dispose();
    });
    tf.dispose([z, zq, yq]);
  });
}, ['cpu']);
