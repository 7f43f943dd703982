import { allocBatch, fillIclBatch, iclDataParams } from '../data.js';
import { optimizeFlat } from '../optimizer.js';
import {
  allocStackWork,
  stackForward,
  stackLossGrad,
  stackOffsets,
  stackParamCount,
  type StackShape,
} from './float64.js';

const fill = (b: ReturnType<typeof allocBatch>, seed: number, step: number, B: number, L: number, d: number) =>
  fillIclBatch(b, iclDataParams({ L, dx: d, noiseStd: 0.01 }, seed), step, B);

function randomParams(n: number, seed: number, scale: number): Float64Array {
  const p = new Float64Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    p[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return p;
}

describe('fused causal stack (float64 TypeScript)', () => {
  const shapes: StackShape[] = [
    { heads: 2, d: 3, layers: 2, tied: false, residual: false },
    { heads: 1, d: 2, layers: 3, tied: true, residual: false },
    { heads: 3, d: 2, layers: 2, tied: false, residual: true },
    { heads: 2, d: 2, layers: 2, tied: false, residual: false, nOut: 3 },
  ];
  it('lays out parameters per stored layer, then the final linear', () => {
    const o = stackOffsets({ heads: 2, d: 5, layers: 3, tied: false, residual: false });
    expect(o.layers).toHaveLength(3);
    expect(o.layers[1]).toEqual({ wq: 288, wk: 360, wv: 432, wo: 504 });
    expect(o.final).toBe(864);
    expect(stackParamCount({ heads: 2, d: 5, layers: 3, tied: true, residual: false })).toBe(288 + 6);
    expect(stackParamCount({ heads: 2, d: 5, layers: 3, tied: true, residual: false, nOut: 2 })).toBe(288 + 12);
  });

  it('a one-token-context stack by hand: token 1 attends only to token 0', () => {
    // L = 1, T = 2, D = 2, H = 1, one layer, identity Wv and Wo, final = [1, 0]: ŷ = x0[0] (the context token's first entry).
    const s: StackShape = { heads: 1, d: 1, layers: 1, tied: false, residual: false };
    const p = new Float64Array(stackParamCount(s));
    const o = stackOffsets(s);
    p.set([0.3, -0.2, 0.5, 0.1], o.layers[0]!.wq);
    p.set([1, 0.4, -0.7, 2], o.layers[0]!.wk);
    p.set([1, 0, 0, 1], o.layers[0]!.wv);
    p.set([1, 0, 0, 1], o.layers[0]!.wo);
    p.set([1, 0], o.final);
    const out = new Float64Array(1);
    stackForward(p, 0, s, 1, 1, [0.8, -1.5], [2, 0], out, allocStackWork(s, 1));
    expect(out[0]).toBeCloseTo(0.8, 12);
  });

  for (const s of shapes) {
    it(`gradient equals central differences (H=${s.heads}, layers=${s.layers}, tied=${s.tied}, residual=${s.residual}, nOut=${s.nOut ?? 1})`, () => {
      const L = 7;
      const B = 4;
      const P = stackParamCount(s);
      const p = randomParams(P, 17 + s.heads, 0.6);
      const batch = allocBatch(B, L, s.d);
      fill(batch, 5, 1, B, L, s.d);
      const work = allocStackWork(s, L);
      stackLossGrad(p, 0, s, L, B, batch.z, batch.zq, batch.yq, work);
      const grad = Float64Array.from(work.grad);
      const h = 1e-6;
      let worst = 0;
      for (let i = 0; i < P; i++) {
        const keep = p[i]!;
        p[i] = keep + h;
        const up = stackLossGrad(p, 0, s, L, B, batch.z, batch.zq, batch.yq, work);
        p[i] = keep - h;
        const down = stackLossGrad(p, 0, s, L, B, batch.z, batch.zq, batch.yq, work);
        p[i] = keep;
        const fd = (up - down) / (2 * h);
        worst = Math.max(worst, Math.abs(fd - grad[i]!) / Math.max(1e-3, Math.abs(fd)));
      }
      expect(worst).toBeLessThan(1e-5);
    });
  }

  it('Adam on the analytic gradient fits a fixed batch', () => {
    const s: StackShape = { heads: 2, d: 5, layers: 2, tied: false, residual: false };
    const P = stackParamCount(s);
    const state = new Float64Array(3 * P);
    state.set(randomParams(P, 3, 0.4));
    const batch = allocBatch(8, 10, 5);
    fill(batch, 4, 0, 8, 10, 5);
    const work = allocStackWork(s, 10);
    const adam = {
      method: 'adam' as const,
      lr: 1e-2,
      betas: [0.9, 0.999] as [number, number],
      eps: 1e-8,
      weightDecay: 0,
    };
    const first = stackLossGrad(state, 0, s, 10, 8, batch.z, batch.zq, batch.yq, work);
    let loss = first;
    const steps = [0];
    for (let t = 1; t <= 400; t++) {
      optimizeFlat(
        adam,
        state.subarray(0, P),
        state.subarray(P, 2 * P),
        state.subarray(2 * P),
        work.grad,
        [{ offset: 0, length: P }],
        steps,
      );
      loss = stackLossGrad(state, 0, s, 10, 8, batch.z, batch.zq, batch.yq, work);
    }
    expect(loss).toBeLessThan(0.1 * first);
  });
});
