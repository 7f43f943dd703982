import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose, expectNoLeak, read } from '@attnlab/backend/testing';
import { iclStackForward, iclStackLossGrad } from './ops.js';
import { allocBatch, fillIclBatch, iclDataParams } from '../data.js';
import { allocStackWork, stackForward, stackLossGrad, stackParamCount, type StackShape } from '../stack/float64.js';

const shape: StackShape = { heads: 2, d: 3, layers: 2, tied: false, residual: false };
const attrs = { ...shape };
const L = 6;
const B = 5;
const P = stackParamCount(shape);

function params64(): Float64Array {
  return Float64Array.from({ length: P }, (_, i) => 0.5 * Math.sin(1.7 * i + 0.3));
}

describeBackends('causal stack kernels', () => {
  it('forward equals stack.ts; the gradient of Σ dy·ŷ equals central differences of the float64 forward', async () => {
    const batch = allocBatch(B, L, shape.d);
    fillIclBatch(batch, iclDataParams({ L, dx: shape.d, noiseStd: 0.01 }, 3), 2, B);
    const p = params64();
    const dyv = Float64Array.from({ length: B }, (_, b) => (b % 2 ? -1 : 1) * (0.5 + b));
    const work = allocStackWork(shape, L);
    const want = new Float64Array(B);
    stackForward(p, 0, shape, L, B, batch.z, batch.zq, want, work);
    // ∂(Σ dy·ŷ)/∂p by central differences in float64
    const fd = new Float64Array(P);
    const out = new Float64Array(B);
    const h = 1e-6;
    const f = () => {
      stackForward(p, 0, shape, L, B, batch.z, batch.zq, out, work);
      return out.reduce((s, y, b) => s + dyv[b]! * y, 0);
    };
    for (let i = 0; i < P; i++) {
      const keep = p[i]!;
      p[i] = keep + h;
      const up = f();
      p[i] = keep - h;
      const down = f();
      p[i] = keep;
      fd[i] = (up - down) / (2 * h);
    }
    await expectNoLeak(async () => {
      const pt = tf.tensor1d(Float32Array.from(p));
      const z = tf.tensor3d(Float32Array.from(batch.z), [B, L, shape.d + 1]);
      const zq = tf.tensor2d(Float32Array.from(batch.zq), [B, shape.d + 1]);
      const dy = tf.tensor1d(Float32Array.from(dyv));
      const pred = iclStackForward(pt, z, zq, attrs);
      expect(pred.shape).toEqual([B]);
      await expectClose(await read(pred), Array.from(want), 1e-4, 1e-5);
      const g = tf.grad((q: tf.Tensor) => tf.sum(tf.mul(iclStackForward(q as tf.Tensor1D, z, zq, attrs), dy)))(pt);
      await expectClose(await read(g), Array.from(fd), 1e-3, 1e-4);
      tf.dispose([pt, z, zq, dy, pred, g]);
    });
    // asking for ∂/∂z names what is missing (tf.grad keeps the tape's tensors when a gradient throws)
    const pt = tf.tensor1d(Float32Array.from(p));
    const z = tf.tensor3d(Float32Array.from(batch.z), [B, L, shape.d + 1]);
    const zq = tf.tensor2d(Float32Array.from(batch.zq), [B, shape.d + 1]);
    expect(() => tf.grad((zz: tf.Tensor) => tf.sum(iclStackForward(pt, zz as tf.Tensor3D, zq, attrs)))(z)).toThrow(
      'AttnlabIclStackForward: no gradient with respect to z: the fused kernels differentiate the parameters only',
    );
    tf.dispose([pt, z, zq]);
  });

  it('loss + gradient in one kernel equal stack.ts (untied, tied, residual); bad shapes name the field', async () => {
    const batch = allocBatch(B, L, shape.d);
    fillIclBatch(batch, iclDataParams({ L, dx: shape.d, noiseStd: 0.01 }, 4), 0, B);
    for (const sh of [shape, { ...shape, layers: 3, tied: true }, { ...shape, residual: true }] as StackShape[]) {
      const Pk = stackParamCount(sh);
      const pk = Float64Array.from({ length: Pk }, (_, i) => 0.5 * Math.sin(1.3 * i + 0.1));
      const wk = allocStackWork(sh, L);
      const want = stackLossGrad(pk, 0, sh, L, B, batch.z, batch.zq, batch.yq, wk);
      await expectNoLeak(async () => {
        const t = [
          tf.tensor1d(Float32Array.from(pk)),
          tf.tensor3d(Float32Array.from(batch.z), [B, L, sh.d + 1]),
          tf.tensor2d(Float32Array.from(batch.zq), [B, sh.d + 1]),
          tf.tensor1d(Float32Array.from(batch.yq)),
        ] as const;
        const [loss, grad] = iclStackLossGrad(t[0], t[1], t[2], t[3], { ...sh });
        await expectClose(await read(loss), [want], 1e-4, 0);
        await expectClose(await read(grad), Array.from(wk.grad), 1e-3, 1e-5);
        tf.dispose([...t, loss, grad]);
      });
    }
    const p = params64();
    await expectNoLeak(async () => {
      const pt = tf.tensor1d(Float32Array.from(p));
      const z = tf.tensor3d(Float32Array.from(batch.z), [B, L, shape.d + 1]);
      const zq = tf.tensor2d(Float32Array.from(batch.zq), [B, shape.d + 1]);
      const yq = tf.tensor1d(Float32Array.from(batch.yq));
      const [loss, grad] = iclStackLossGrad(pt, z, zq, yq, attrs);
      const short = tf.tensor1d(new Float32Array(P - 1));
      expect(() => iclStackForward(short, z, zq, attrs)).toThrow(
        `AttnlabIclStackForward: params must have shape [${P}] for heads 2, d 3, layers 2; got [${P - 1}]`,
      );
      expect(() => iclStackForward(pt, z, zq, { ...attrs, layers: 0 })).toThrow(
        'AttnlabIclStackForward: attrs.layers must be an integer ≥ 1; got 0',
      );
      tf.dispose([pt, z, zq, yq, loss, grad, short]);
    });
  });
});
