import { allocWork, fusedForward, fusedLossGrad, paramOffsets } from './float64.js';
import { initialSingleParams } from './init.js';
import { allocBatch, fillIclBatch, iclDataParams } from '../data.js';

// Pure-TS tests (no tfjs backend involved): the analytic gradient against central finite
// differences of a direct transcription of the seed's forward, in float64.

const fill = (b: ReturnType<typeof allocBatch>, seed: number, step: number, B: number, L: number, d: number) =>
  fillIclBatch(b, iclDataParams({ L, dx: d, noiseStd: 0.01 }, seed), step, B);

/** Direct float64 transcription of the seed's forward (q, k, v per head; softmax; Wo's last column), for FD. */
function naiveLoss(
  p: Float64Array,
  H: number,
  d: number,
  L: number,
  B: number,
  z: Float64Array,
  zq: Float64Array,
  yq: Float64Array,
  nOut = 1,
): number {
  const D = d + 1;
  const off = paramOffsets({ heads: H, d, nOut });
  let loss = 0;
  for (let b = 0; b < B; b++) {
    let pred = 0;
    for (let h = 0; h < H; h++) {
      const q = new Array<number>(D).fill(0);
      for (let c = 0; c < D; c++)
        for (let r = 0; r < D; r++) q[c]! += zq[b * D + r]! * p[off.wq + h * D * D + r * D + c]!;
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
        pred += o * p[off.wo + (h * D + c) * nOut + nOut - 1]!;
      }
    }
    loss += (pred - yq[b]!) ** 2;
  }
  return loss / B;
}

describe('fused core (float64)', () => {
  for (const [H, d, nOut] of [
    [2, 5, 1],
    [3, 2, 1],
    [2, 3, 3],
  ] as const) {
    it(`gradient equals central finite differences (H=${H}, d=${d}, nOut=${nOut}; zero for the columns of Wo before the last)`, () => {
      const shape = { heads: H, d, nOut };
      const L = 7;
      const B = 5;
      const batch = allocBatch(B, L, d);
      fill(batch, 11, 3, B, L, d);
      const p = initialSingleParams(shape, 5);
      // Larger weights than the init so that the softmax is far from uniform.
      for (let i = 0; i < p.length; i++) p[i] = p[i]! * 3;
      const work = allocWork(shape, L);
      const loss = fusedLossGrad(p, 0, shape, L, B, batch.z, batch.zq, batch.yq, work);
      expect(loss).toBeCloseTo(naiveLoss(p, H, d, L, B, batch.z, batch.zq, batch.yq, nOut), 12);
      const hstep = 1e-6;
      for (let i = 0; i < p.length; i++) {
        const keep = p[i]!;
        p[i] = keep + hstep;
        const lp = naiveLoss(p, H, d, L, B, batch.z, batch.zq, batch.yq, nOut);
        p[i] = keep - hstep;
        const lm = naiveLoss(p, H, d, L, B, batch.z, batch.zq, batch.yq, nOut);
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
    fill(batch, 1, 0, B, L, 5);
    const p = initialSingleParams(shape, 2);
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
    fill(batch, 4, 1, B, L, 5);
    const p = initialSingleParams(shape, 9);
    const w1 = allocWork(shape, L);
    fusedLossGrad(p, 0, shape, L, B, batch.z, batch.zq, batch.yq, w1);
    const pred = new Float64Array(B);
    fusedForward(p, 0, shape, L, B, batch.z, batch.zq, pred, w1);
    const dPred = pred.map((x, b) => (2 * (x - batch.yq[b]!)) / B);
    const w2 = allocWork(shape, L);
    // Float32 inputs take the generic loop, so this also checks the unrolled d = 5 loop against it.
    fusedLossGrad(p, 0, shape, L, B, Float32Array.from(batch.z), Float32Array.from(batch.zq), null, w2, dPred);
    for (let i = 0; i < w1.grad.length; i++)
      expect(Math.abs(w2.grad[i]! - w1.grad[i]!)).toBeLessThan(1e-6 * (1 + Math.abs(w1.grad[i]!)));
  });
});
