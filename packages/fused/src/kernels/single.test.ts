import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose, expectNoLeak, read } from '@attnlab/backend/testing';
import { iclAttention } from '@attnlab/attention';
import { adam } from '@attnlab/train';
import { allocWork, fusedLossGrad, paramCount } from '../single/float64.js';
import { initialSingleParams } from '../single/init.js';
import { adamFlatUpdate, iclForward, iclLossGrad } from './ops.js';
import { allocBatch, fillIclBatch, iclDataParams } from '../data.js';
import { referenceLosses } from '../test-utils/reference.js';
import { initBackend } from '@attnlab/backend';

const shape = { heads: 2, d: 5 };
const L = 40;
const P = paramCount(shape);

function batchTensors(B: number, seed: number, step: number) {
  const b = allocBatch(B, L, 5);
  fillIclBatch(b, iclDataParams({ L, dx: 5, noiseStd: 0.01 }, seed), step, B);
  return {
    z: tf.tensor3d(Float32Array.from(b.z), [B, L, 6]),
    zq: tf.tensor2d(Float32Array.from(b.zq), [B, 6]),
    yq: tf.tensor1d(Float32Array.from(b.yq)),
    host: b,
  };
}

/** The flat parameter vector as @attnlab/attention's single-layer params. */
function splitFlat(p: tf.Tensor1D) {
  const m = shape.heads * 36;
  return {
    Wq: tf.reshape(tf.slice(p, 0, m), [2, 6, 6]) as tf.Tensor3D,
    Wk: tf.reshape(tf.slice(p, m, m), [2, 6, 6]) as tf.Tensor3D,
    Wv: tf.reshape(tf.slice(p, 2 * m, m), [2, 6, 6]) as tf.Tensor3D,
    Wo: tf.reshape(tf.slice(p, 3 * m, 12), [2, 6, 1]) as tf.Tensor3D,
  };
}

/** @attnlab/attention's model: ŷ [B] and the MSE loss. */
const attentionForward = (p: tf.Tensor1D, z: tf.Tensor3D, zq: tf.Tensor2D) =>
  tf.tidy(() => tf.reshape(iclAttention(splitFlat(p), z, zq).output, [-1]));
const attentionLoss = (p: tf.Tensor1D, z: tf.Tensor3D, zq: tf.Tensor2D, yq: tf.Tensor1D) =>
  tf.tidy(() => tf.mean(tf.square(tf.sub(attentionForward(p, z, zq), yq))) as tf.Scalar);

const ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
/** Seed 004's setting with seed 1024 (weights and data). */
const SPEC = {
  model: { d: 5, numHeads: 2, layers: 1, seed: 1024 },
  task: { L, dx: 5, noiseStd: 0.01 },
  batch: 128,
  dataSeed: 1024,
  optimizer: { method: 'adam' as const, lr: 1e-3, betas: [0.9, 0.999] as [number, number], eps: 1e-8, weightDecay: 0 },
};
let referenceCache: Promise<Float64Array> | undefined;

/**
 * Losses of the reference path (@attnlab/attention's model, tfjs autodiff, @attnlab/train's adam,
 * float32) for the first `steps` steps of SPEC. Computed once, on the wasm backend (the
 * reference path is 30× slower on tfjs-cpu and on SwiftShader), then the caller's backend is restored.
 */
async function referenceLossesOnce(steps: number): Promise<Float64Array> {
  referenceCache ??= (async () => {
    const previous = tf.getBackend() as 'cpu' | 'wasm' | 'webgpu';
    await initBackend({ prefer: 'wasm' });
    const out = await referenceLosses(SPEC, steps);
    await initBackend({ prefer: previous });
    if (previous === 'webgpu') tf.env().set('WEBGPU_CPU_FORWARD', false);
    return out;
  })();
  return referenceCache;
}

describeBackends("fused tfjs kernels vs @attnlab/attention's model and tfjs autodiff", (ctx) => {
  it("forward and parameter gradient equal the attention model's (tf.grads)", async () => {
    await expectNoLeak(async () => {
      const { z, zq, yq } = batchTensors(16, 3, 0);
      const p = tf.tensor1d(Float32Array.from(initialSingleParams(shape, 4)));
      const fused = iclForward(p, z, zq, shape);
      const naive = attentionForward(p, z, zq);
      await expectClose(fused, await read(naive), ctx.tol, 1e-5);
      const gFused = tf.grads((q: tf.Tensor) =>
        tf.mean(tf.square(tf.sub(iclForward(q as tf.Tensor1D, z, zq, shape), yq))),
      )([p]);
      const gNaive = tf.grads((q: tf.Tensor) => attentionLoss(q as tf.Tensor1D, z, zq, yq))([p]);
      await expectClose(gFused[0]!, await read(gNaive[0]!), 1e-3, 1e-6);
      const [loss, g2] = iclLossGrad(p, z, zq, yq, shape);
      await expectClose(g2, await read(gNaive[0]!), 1e-3, 1e-6);
      const refLoss = attentionLoss(p, z, zq, yq);
      await expectClose(loss, await read(refLoss), ctx.tol);
      tf.dispose([z, zq, yq, p, fused, naive, ...gFused, ...gNaive, loss, g2, refLoss]);
    });
  });

  it('LossGrad kernel equals the float64 fused core', async () => {
    const { z, zq, yq, host } = batchTensors(128, 9, 2);
    const p64 = initialSingleParams(shape, 6);
    const p = tf.tensor1d(Float32Array.from(p64));
    const [loss, g] = iclLossGrad(p, z, zq, yq, shape);
    const work = allocWork(shape, L);
    const want = fusedLossGrad(
      Float64Array.from(Float32Array.from(p64)),
      0,
      shape,
      L,
      128,
      host.z,
      host.zq,
      host.yq,
      work,
    );
    await expectClose(loss, want, ctx.tol);
    await expectClose(g, Array.from(work.grad), 1e-4, 1e-6);
    tf.dispose([z, zq, yq, p, loss, g]);
  });

  it("Adam kernel equals @attnlab/train's adam (PyTorch form) over three steps", async () => {
    const x0 = [0.5, -1, 2, 0.25];
    const grads = [
      [0.1, -0.2, 0.3, 1e-3],
      [0.05, 0.2, -0.3, 2e-3],
      [-0.1, 0.1, 0.1, 0],
    ];
    const cfg = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
    const v = tf.variable(tf.tensor1d(x0));
    const opt = adam({ lr: cfg.lr, betas: [cfg.beta1, cfg.beta2], eps: cfg.eps, weightDecay: 0 });
    let p = tf.tensor1d(x0);
    let m = tf.zeros([4]) as tf.Tensor1D;
    let s = tf.zeros([4]) as tf.Tensor1D;
    for (let t = 1; t <= 3; t++) {
      const g = tf.tensor1d(grads[t - 1]!);
      opt.step({ v }, { v: g });
      const [p1, m1, s1] = adamFlatUpdate(p, m, s, g, cfg, t);
      tf.dispose([p, m, s, g]);
      p = p1;
      m = m1;
      s = s1;
    }
    await expectClose(p, await read(v), 1e-5, 1e-6);
    // Hand check of m after three steps: m3 = 0.9²·0.1·g1 + 0.9·0.1·g2 + 0.1·g3.
    await expectClose(
      m,
      grads[0]!.map((g1, i) => 0.081 * g1 + 0.09 * grads[1]![i]! + 0.1 * grads[2]![i]!),
      1e-5,
      1e-7,
    );
    tf.dispose([p, m, s, v]);
    opt.dispose();
  });

  it("100 training steps: fused kernels' losses equal the reference path's within 1e-4 relative", async () => {
    const steps = 100;
    const want = await referenceLossesOnce(steps);
    expect(tf.getBackend()).toBe(ctx.backend);
    let p = tf.tensor1d(Float32Array.from(initialSingleParams(shape, 1024)));
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
      p = p1;
      m = m1;
      v = v1;
    }
    // One loss scalar per step is kept; nothing else grows.
    expect(tf.memory().numTensors - before).toBe(steps);
    const f = await read(tf.stack(fusedLoss));
    expect(want[0]).toBeGreaterThan(1);
    await expectClose(f, want, 1e-4, 0);
    tf.dispose([...fusedLoss, p, m, v]);
  });
});
