import { adamFlat } from '../single/float64.js';
import { allocBatch, fillIclBatch } from '../data.js';
import { createSimdStackModel } from '../simd/module.js';
import { allocStackWork, createStackModel, stackForward, stackLossGrad, stackOffsets, stackParamCount, type StackShape } from './float64.js';

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
  ];
  it('lays out parameters per stored layer, then the final linear', () => {
    const o = stackOffsets({ heads: 2, d: 5, layers: 3, tied: false, residual: false });
    expect(o.layers).toHaveLength(3);
    expect(o.layers[1]).toEqual({ wq: 288, wk: 360, wv: 432, wo: 504 });
    expect(o.final).toBe(864);
    expect(stackParamCount({ heads: 2, d: 5, layers: 3, tied: true, residual: false })).toBe(288 + 6);
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
    it(`gradient equals central differences (H=${s.heads}, layers=${s.layers}, tied=${s.tied}, residual=${s.residual})`, () => {
      const L = 7;
      const B = 4;
      const P = stackParamCount(s);
      const p = randomParams(P, 17 + s.heads, 0.6);
      const batch = allocBatch(B, L, s.d);
      fillIclBatch(batch, 5, 1, B, L, s.d);
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
    fillIclBatch(batch, 4, 0, 8, 10, 5);
    const work = allocStackWork(s, 10);
    const adam = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
    const first = stackLossGrad(state, 0, s, 10, 8, batch.z, batch.zq, batch.yq, work);
    let loss = first;
    for (let t = 1; t <= 400; t++) {
      adamFlat(state, 0, P, work.grad, t, adam);
      loss = stackLossGrad(state, 0, s, 10, 8, batch.z, batch.zq, batch.yq, work);
    }
    expect(loss).toBeLessThan(0.1 * first);
  });

  it('trains on its own Philox batches, deterministically, resumable by state and t', () => {
    const s: StackShape = { heads: 2, d: 5, layers: 2, tied: false, residual: false };
    const P = stackParamCount(s);
    const init = new Float64Array(3 * P);
    init.set(randomParams(P, 3, 0.4));
    const adam = { lr: 3e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
    const a = createStackModel(s, 10, 16, 9, adam, 0.01, init);
    const b = createStackModel(s, 10, 16, 9, adam, 0.01, init);
    const la = [...a.train(150), ...a.train(150)];
    const lb = b.train(300);
    expect(Array.from(la)).toEqual(Array.from(lb));
    const c = createStackModel(s, 10, 16, 9, adam, 0.01, init);
    c.train(150);
    const resumed = createStackModel(s, 10, 16, 9, adam, 0.01, c.getState());
    resumed.t = 150;
    expect(Array.from(resumed.train(150))).toEqual(Array.from(la.slice(150)));
    expect(a.t).toBe(300);
    // the same first step by hand: stackLossGrad + adamFlat
    const state = Float64Array.from(init);
    const batch = allocBatch(16, 10, 5);
    fillIclBatch(batch, 9, 0, 16, 10, 5);
    const work = allocStackWork(s, 10);
    const l0 = stackLossGrad(state, 0, s, 10, 16, batch.z, batch.zq, batch.yq, work);
    adamFlat(state, 0, P, work.grad, 1, adam);
    expect(l0).toBe(lb[0]);
    expect(() => a.setState(new Float64Array(2))).toThrow(`state must hold ${3 * P} numbers`);
  });
});

describe('causal stack on the SIMD engine', () => {
  const adam = { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
  for (const s of [
    { heads: 2, d: 5, layers: 2, tied: false, residual: false },
    { heads: 1, d: 5, layers: 3, tied: true, residual: false },
    { heads: 2, d: 5, layers: 2, tied: false, residual: true },
  ] as StackShape[]) {
    for (const workerThread of [false, true]) {
      it(`trains like the float64 stack engine (layers ${s.layers}, tied ${s.tied}, residual ${s.residual}, worker ${workerThread}): 40 steps within 1e-4`, async () => {
        const P = stackParamCount(s);
        const init = new Float64Array(3 * P);
        init.set(randomParams(P, 11, 0.4));
        const ref = createStackModel(s, 9, 16, 21, adam, 0.01, init);
        const simd = await createSimdStackModel(s, 9, 16, 21, adam, 0.01, init, { workerThread });
        try {
          const want = ref.train(40);
          const got = [...simd.train(25), ...simd.train(15)];
          for (let i = 0; i < 40; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(1e-4 * want[i]!);
          const a = simd.getState(), b = ref.getState();
          for (let i = 0; i < P; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(1e-4);
        } finally {
          simd.dispose();
        }
      });
    }
  }

  it('says what it does not support', async () => {
    const s: StackShape = { heads: 1, d: 3, layers: 2, tied: false, residual: false };
    const P = stackParamCount(s);
    await expect(createSimdStackModel(s, 9, 16, 1, adam, 0.01, new Float64Array(3 * P))).rejects.toThrow("createSimdStackModel: the SIMD engine supports d = 5 (the seed's token width) only; got d = 3");
    const s5 = { ...s, d: 5 };
    await expect(createSimdStackModel(s5, 9, 16, 1, adam, 0.01, new Float64Array(5))).rejects.toThrow(`createSimdStackModel: init must hold ${3 * stackParamCount(s5)} numbers`);
  });
});
