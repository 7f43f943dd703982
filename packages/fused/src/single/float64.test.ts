import {
  adamFlat, allocWork, createCpuModel, cpuModelStep, fusedForward, fusedLossGrad, initParams, paramCount, paramOffsets,
} from './float64.js';
import { allocBatch, fillIclBatch } from '../data.js';

// Pure-TS tests (no tfjs backend involved): the analytic gradient against central finite
// differences of the fused loss in float64, and Adam against a hand computation.

/** Direct float64 transcription of the seed's forward (q, k, v per head; softmax; Wo), for FD. */
function naiveLoss(p: Float64Array, H: number, d: number, L: number, B: number, z: Float64Array, zq: Float64Array, yq: Float64Array): number {
  const D = d + 1;
  const off = paramOffsets({ heads: H, d });
  let loss = 0;
  for (let b = 0; b < B; b++) {
    let pred = 0;
    for (let h = 0; h < H; h++) {
      const q = new Array<number>(D).fill(0);
      for (let c = 0; c < D; c++) for (let r = 0; r < D; r++) q[c]! += zq[b * D + r]! * p[off.wq + h * D * D + r * D + c]!;
      const s: number[] = [];
      const vs: number[][] = [];
      for (let i = 0; i < L; i++) {
        const k = new Array<number>(D).fill(0);
        const v = new Array<number>(D).fill(0);
        for (let c = 0; c < D; c++) {
          for (let r = 0; r < D; r++) {
            const zv = z[(b * L + i) * D + r]!;
            k[c]! += zv * p[off.wk + h * D * D + r * D + c]!;
            v[c]! += zv * p[off.wv + h * D * D + r * D + c]!;
          }
        }
        s.push(q.reduce((acc, qc, c) => acc + qc * k[c]!, 0) / Math.sqrt(D));
        vs.push(v);
      }
      const mx = Math.max(...s);
      const e = s.map((x) => Math.exp(x - mx));
      const sum = e.reduce((x, y) => x + y, 0);
      for (let c = 0; c < D; c++) {
        let o = 0;
        for (let i = 0; i < L; i++) o += (e[i]! / sum) * vs[i]![c]!;
        pred += o * p[off.wo + h * D + c]!;
      }
    }
    loss += (pred - yq[b]!) ** 2;
  }
  return loss / B;
}

describe('fused core (float64)', () => {
  for (const [H, d] of [[2, 5], [3, 2]] as const) {
    it(`gradient equals central finite differences (H=${H}, d=${d})`, () => {
      const shape = { heads: H, d };
      const L = 7;
      const B = 5;
      const batch = allocBatch(B, L, d);
      fillIclBatch(batch, 11, 3, B, L, d);
      const p = initParams(shape, 5);
      // Larger weights than the init so that the softmax is far from uniform.
      for (let i = 0; i < p.length; i++) p[i] = p[i]! * 3;
      const work = allocWork(shape, L);
      const loss = fusedLossGrad(p, 0, shape, L, B, batch.z, batch.zq, batch.yq, work);
      expect(loss).toBeCloseTo(naiveLoss(p, H, d, L, B, batch.z, batch.zq, batch.yq), 12);
      const hstep = 1e-6;
      for (let i = 0; i < p.length; i++) {
        const keep = p[i]!;
        p[i] = keep + hstep;
        const lp = naiveLoss(p, H, d, L, B, batch.z, batch.zq, batch.yq);
        p[i] = keep - hstep;
        const lm = naiveLoss(p, H, d, L, B, batch.z, batch.zq, batch.yq);
        p[i] = keep;
        const fd = (lp - lm) / (2 * hstep);
        expect(Math.abs(work.grad[i]! - fd)).toBeLessThan(1e-7 + 1e-6 * Math.abs(fd));
      }
    });
  }

  it('forward agrees with the naive transcription', () => {
    const shape = { heads: 2, d: 5 };
    const L = 40;
    const B = 4;
    const batch = allocBatch(B, L, 5);
    fillIclBatch(batch, 1, 0, B, L, 5);
    const p = initParams(shape, 2);
    const pred = new Float64Array(B);
    fusedForward(p, 0, shape, L, B, batch.z, batch.zq, pred, allocWork(shape, L));
    const mse = pred.reduce((s, x, b) => s + (x - batch.yq[b]!) ** 2, 0) / B;
    expect(mse).toBeCloseTo(naiveLoss(p, 2, 5, L, B, batch.z, batch.zq, batch.yq), 12);
  });

  it('dPred backward equals the MSE gradient when dPred = 2(ŷ − y)/B', () => {
    const shape = { heads: 2, d: 5 };
    const L = 40;
    const B = 6;
    const batch = allocBatch(B, L, 5);
    fillIclBatch(batch, 4, 1, B, L, 5);
    const p = initParams(shape, 9);
    const w1 = allocWork(shape, L);
    fusedLossGrad(p, 0, shape, L, B, batch.z, batch.zq, batch.yq, w1);
    const pred = new Float64Array(B);
    fusedForward(p, 0, shape, L, B, batch.z, batch.zq, pred, w1);
    const dPred = pred.map((x, b) => (2 * (x - batch.yq[b]!)) / B);
    const w2 = allocWork(shape, L);
    // Float32 inputs take the generic loop, so this also checks the unrolled d = 5 loop against it.
    fusedLossGrad(p, 0, shape, L, B, Float32Array.from(batch.z), Float32Array.from(batch.zq), null, w2, dPred);
    for (let i = 0; i < w1.grad.length; i++) expect(Math.abs(w2.grad[i]! - w1.grad[i]!)).toBeLessThan(1e-6 * (1 + Math.abs(w1.grad[i]!)));
  });

  it('Adam matches a hand computation of PyTorch\'s update', () => {
    // Step 1: m = 0.1 g, v = 0.001 g², step_size = lr/0.1, denom = √v/√0.001 + eps = |g| + eps
    // → p −= lr·g/(|g| + eps). Step 2 with the same g: m = 0.19 g, v = 0.001999 g²,
    // bc1 = 0.19, bc2 = 0.001999 → p −= lr·g/(|g| + eps) again.
    const state = new Float64Array([1, -2, 0, 0, 0, 0]);
    const g = [0.5, -4];
    const cfg = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
    adamFlat(state, 0, 2, g, 1, cfg);
    expect(state[0]).toBeCloseTo(1 - 0.01 * 0.5 / (0.5 + 1e-8), 12);
    expect(state[1]).toBeCloseTo(-2 + 0.01 * 4 / (4 + 1e-8), 12);
    expect(state[2]).toBeCloseTo(0.05, 14);
    expect(state[5]).toBeCloseTo(0.016, 14);
    adamFlat(state, 0, 2, g, 2, cfg);
    expect(state[0]).toBeCloseTo(1 - 2 * 0.01 * 0.5 / (0.5 + 1e-8), 9);
  });

  it('init follows PyTorch nn.Linear bounds and the layout size', () => {
    const shape = { heads: 4, d: 5 };
    const p = initParams(shape, 123);
    expect(p.length).toBe(paramCount(shape));
    expect(p.length).toBe(4 * 6 * 19);
    const off = paramOffsets(shape);
    const qkv = Array.from(p.subarray(0, off.wo));
    const wo = Array.from(p.subarray(off.wo));
    expect(Math.max(...qkv.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(6));
    expect(Math.max(...qkv.map(Math.abs))).toBeGreaterThan(0.9 / Math.sqrt(6));
    expect(Math.max(...wo.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(24));
    // Uniform on [−b, b]: variance b²/3.
    const v = qkv.reduce((s, x) => s + x * x, 0) / qkv.length;
    expect(v).toBeGreaterThan(0.8 / 18);
    expect(v).toBeLessThan(1.2 / 18);
  });

  it('training lowers the loss on fresh Philox batches', () => {
    const m = createCpuModel({ heads: 2, d: 5 }, 40, 128, 1, { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
    const first: number[] = [];
    const last: number[] = [];
    for (let s = 0; s < 600; s++) {
      const l = cpuModelStep(m);
      if (s < 50) first.push(l);
      if (s >= 550) last.push(l);
    }
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    // E[y_q²] = d = 5 for a predictor of 0; a trained single layer must do far better.
    expect(mean(first)).toBeGreaterThan(3);
    expect(mean(last)).toBeLessThan(0.5 * mean(first));
  });
});
