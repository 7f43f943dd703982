import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose, expectNoLeak, read } from '@attnlab/backend/testing';
import { Rng } from '@attnlab/data';
import {
  disposeIclCircuits,
  disposeIclParams,
  iclAttention,
  iclAttentionFromTorch,
  iclAttentionToTorch,
  iclCircuitStatistics,
  iclCircuits,
  iclStack,
  initIclAttention,
  initIclStack,
  type IclAttentionParams,
  type IclStackParams,
} from './index.js';
import { SINGLE, STACK } from './torch-reference.fixture.js';

// ---- an independent float64 host implementation (plain loops), used only for finite differences ----
type HostParams = {
  H: number;
  D: number;
  nOut: number;
  Wq: Float64Array;
  Wk: Float64Array;
  Wv: Float64Array;
  Wo: Float64Array;
};

/** Query-only model in float64: per head softmax(q·k_i/√D) over context tokens, Σ_h ctx_h·Wo^h. */
function hostForward(p: HostParams, Z: number[], zq: number[], B: number, L: number): number[] {
  const { H, D, nOut } = p;
  const out = new Array<number>(B * nOut).fill(0);
  const proj = (W: Float64Array, h: number, x: number[], off: number) =>
    Array.from({ length: D }, (_, j) =>
      x.slice(off, off + D).reduce((s, xi, i) => s + xi * W[(h * D + i) * D + j]!, 0),
    );
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const q = proj(p.Wq, h, zq, b * D);
      const ks = Array.from({ length: L }, (_, i) => proj(p.Wk, h, Z, (b * L + i) * D));
      const vs = Array.from({ length: L }, (_, i) => proj(p.Wv, h, Z, (b * L + i) * D));
      const s = ks.map((k) => k.reduce((acc, kj, j) => acc + kj * q[j]!, 0) / Math.sqrt(D));
      const m = Math.max(...s);
      const e = s.map((x) => Math.exp(x - m));
      const tot = e.reduce((a, x) => a + x, 0);
      const ctx = new Array<number>(D).fill(0);
      vs.forEach((v, i) => v.forEach((vj, j) => (ctx[j]! += (e[i]! / tot) * vj)));
      for (let o = 0; o < nOut; o++)
        for (let j = 0; j < D; j++) out[b * nOut + o]! += ctx[j]! * p.Wo[(h * D + j) * nOut + o]!;
    }
  }
  return out;
}

function hostLoss(p: HostParams, Z: number[], zq: number[], y: number[], B: number, L: number): number {
  const o = hostForward(p, Z, zq, B, L);
  return o.reduce((s, v, i) => s + (v - y[i]!) ** 2, 0) / o.length;
}

async function toHost(p: IclAttentionParams): Promise<HostParams> {
  const [H, D] = p.Wq.shape;
  return {
    H,
    D,
    nOut: p.Wo.shape[2],
    Wq: Float64Array.from(await p.Wq.data()),
    Wk: Float64Array.from(await p.Wk.data()),
    Wv: Float64Array.from(await p.Wv.data()),
    Wo: Float64Array.from(await p.Wo.data()),
  };
}

function torchParams(): IclAttentionParams {
  const { H, d } = SINGLE;
  const D = d + 1;
  const w = SINGLE.weights;
  return tf.tidy(() =>
    iclAttentionFromTorch(
      {
        qProj: tf.tensor2d(w.qProj as unknown as number[], [H * D, D]),
        kProj: tf.tensor2d(w.kProj as unknown as number[], [H * D, D]),
        vProj: tf.tensor2d(w.vProj as unknown as number[], [H * D, D]),
        oProj: tf.tensor2d(w.oProj as unknown as number[], [1, H * D]),
      },
      H,
    ),
  );
}

function stackFromTorch(layerIdx: number[], tied: boolean, residual: boolean): IclStackParams {
  const H = 2;
  const D = 3;
  return tf.tidy(() => {
    const layers = (tied ? [layerIdx[0]!] : layerIdx).map((i) => {
      const ly = STACK.layers[i]!;
      return iclAttentionFromTorch(
        {
          qProj: tf.tensor2d(ly.q as unknown as number[], [H * D, D]),
          kProj: tf.tensor2d(ly.k as unknown as number[], [H * D, D]),
          vProj: tf.tensor2d(ly.v as unknown as number[], [H * D, D]),
          oProj: tf.tensor2d(ly.o as unknown as number[], [D, H * D]),
        },
        H,
      );
    });
    const final = tf.transpose(tf.tensor2d(STACK.final as unknown as number[], [1, D])) as tf.Tensor2D;
    return { layers, final, numLayers: layerIdx.length, tied, residual };
  });
}

const arr = (a: readonly number[]) => a as unknown as number[];

describeBackends('seed 004 attention: single-layer query-only model', (ctx) => {
  it('hand-computed case: d = 1, L = 2, H = 2 gives tanh(1/(2√2)) and 0', async () => {
    // Head 1: Wq = Wk = Wv = I, Wo = [0, 1]ᵀ; head 2: Wq = −I, Wk = Wv = I, Wo = [0, −1]ᵀ.
    // Example 1: z_1 = (1, 2), z_2 = (0, 1), z_q = (1, 0): head 1 scores (1, 0)/√2 → weights
    // (σ, 1 − σ), σ = sigmoid(1/√2), output y-part 2σ + (1 − σ) = 1 + σ; head 2 weights (1 − σ, σ),
    // y-part 2 − σ, times −1. Total 2σ − 1 = tanh(1/(2√2)). Example 2: z_q = 0 → uniform weights,
    // 1.5 − 1.5 = 0.
    const I = [1, 0, 0, 1];
    const negI = [-1, 0, 0, -1];
    const params: IclAttentionParams = {
      Wq: tf.tensor3d([...I, ...negI], [2, 2, 2]),
      Wk: tf.tensor3d([...I, ...I], [2, 2, 2]),
      Wv: tf.tensor3d([...I, ...I], [2, 2, 2]),
      Wo: tf.tensor3d([0, 1, 0, -1], [2, 2, 1]),
    };
    const Z = tf.tensor3d([1, 2, 0, 1, 1, 2, 0, 1], [2, 2, 2]);
    const zq = tf.tensor2d([1, 0, 0, 0], [2, 2]);
    const r = await expectNoLeak(
      () => iclAttention(params, Z, zq, { returnWeights: true }),
      (res) => tf.dispose([res.output, res.weights!]),
    );
    expect(r.output.isDisposed).toBe(true);
    const { output, weights } = iclAttention(params, Z, zq, { returnWeights: true });
    expect(output.shape).toEqual([2, 1]);
    expect(weights!.shape).toEqual([2, 2, 2]);
    const s = 1 / (1 + Math.exp(-1 / Math.SQRT2));
    await expectClose(output, [Math.tanh(1 / (2 * Math.SQRT2)), 0], ctx.tol, 1e-6);
    await expectClose(weights!, [s, 1 - s, 1 - s, s, 0.5, 0.5, 0.5, 0.5], ctx.tol);
    tf.dispose([output, weights!, Z, zq]);
    disposeIclParams(params);
  });

  it("attention 'linear': the softmax dropped, scores over L; the GD construction gives one-step GD", async () => {
    // Same weights and tokens as the hand-computed case above. Example 1: head 1 scores (1, 0)/√2,
    // weights (1/√2, 0)/L = (1/(2√2), 0); head 2 the negatives. y-part of head 1: 2/(2√2), head 2:
    // −2/(2√2) times Wo = −1 → total 2·2/(2√2) = √2. Example 2: z_q = 0 → weights 0, output 0.
    const I = [1, 0, 0, 1];
    const params: IclAttentionParams = {
      Wq: tf.tensor3d([...I, -1, 0, 0, -1], [2, 2, 2]),
      Wk: tf.tensor3d([...I, ...I], [2, 2, 2]),
      Wv: tf.tensor3d([...I, ...I], [2, 2, 2]),
      Wo: tf.tensor3d([0, 1, 0, -1], [2, 2, 1]),
    };
    const Z = tf.tensor3d([1, 2, 0, 1, 1, 2, 0, 1], [2, 2, 2]);
    const zq = tf.tensor2d([1, 0, 0, 0], [2, 2]);
    const r = iclAttention(params, Z, zq, { attention: 'linear', returnWeights: true });
    const c = 1 / (2 * Math.SQRT2);
    await expectClose(r.output, [Math.SQRT2, 0], ctx.tol, 1e-6);
    await expectClose(r.weights!, [c, 0, -c, 0, 0, 0, 0, 0], ctx.tol, 1e-6);
    tf.dispose([r.output, r.weights!]);
    // Not normalised: the same with weights L = 2 times larger.
    const u = iclAttention(params, Z, zq, { attention: 'linear-unnormalised' });
    await expectClose(u.output, [2 * Math.SQRT2, 0], ctx.tol, 1e-6);
    tf.dispose(u.output);
    disposeIclParams(params);
    // von Oswald et al.'s construction, d = 2, D = 3: Wq = √D·I and Wk = I on the x block, Wv keeps
    // y, Wo reads it → ŷ = (1/L) Σ_i y_i x_i·x_q, one-step GD with step 1 from β = 0.
    const D = 3;
    const wq = [Math.sqrt(D), 0, 0, 0, Math.sqrt(D), 0, 0, 0, 0];
    const wk = [1, 0, 0, 0, 1, 0, 0, 0, 0];
    const gd: IclAttentionParams = {
      Wq: tf.tensor3d(wq, [1, D, D]),
      Wk: tf.tensor3d(wk, [1, D, D]),
      Wv: tf.tensor3d([0, 0, 0, 0, 0, 0, 0, 0, 1], [1, D, D]),
      Wo: tf.tensor3d([0, 0, 1], [1, D, 1]),
    };
    const tokens = [0.5, -1, 2, 1.5, 0.25, -0.5, -2, 1, 0.75]; // (x1, x2, y) × L = 3
    const xq = [0.3, -0.7];
    const gdRef =
      [0, 1, 2].reduce((a, i) => a + tokens[3 * i + 2]! * (tokens[3 * i]! * xq[0]! + tokens[3 * i + 1]! * xq[1]!), 0) /
      3;
    const out = iclAttention(gd, tf.tensor3d(tokens, [1, 3, D]), tf.tensor2d([...xq, 0], [1, D]), {
      attention: 'linear',
    });
    await expectClose(out.output, [gdRef], ctx.tol, 1e-6);
    tf.dispose(out.output);
    disposeIclParams(gd);
    const one = initIclAttention({ d: 1, numHeads: 1 });
    expect(() => iclAttention(one, Z, zq, { attention: 'relu' as never })).toThrow(
      new RangeError(
        "iclAttention: options.attention must be one of 'softmax', 'linear', 'linear-unnormalised'; got 'relu'",
      ),
    );
    disposeIclParams(one);
    tf.dispose([Z, zq]);
  });

  it('matches seed 004 MultiHeadAttention in PyTorch: output, attention weights, loss', async () => {
    const p = torchParams();
    const { B, L, d } = SINGLE;
    const D = d + 1;
    const Z = tf.tensor3d(arr(SINGLE.Z), [B, L, D]);
    const zq = tf.tensor2d(arr(SINGLE.zq), [B, D]);
    const { output, weights } = iclAttention(p, Z, zq, { returnWeights: true });
    await expectClose(output, arr(SINGLE.output), ctx.tol, 1e-6);
    await expectClose(weights!, arr(SINGLE.attn), ctx.tol);
    const y = tf.tensor2d(arr(SINGLE.y), [B, 1]);
    const loss = tf.tidy(() => tf.mean(tf.square(tf.sub(output, y))));
    await expectClose(loss, SINGLE.loss, ctx.tol);
    tf.dispose([output, weights!, Z, zq, y, loss]);
    disposeIclParams(p);
  });

  it('tfjs autodiff gradients equal PyTorch autograd (through the layout converters)', async () => {
    const p = torchParams();
    const { B, L, d } = SINGLE;
    const D = d + 1;
    const Z = tf.tensor3d(arr(SINGLE.Z), [B, L, D]);
    const zq = tf.tensor2d(arr(SINGLE.zq), [B, D]);
    const y = tf.tensor2d(arr(SINGLE.y), [B, 1]);
    const before = tf.memory().numTensors;
    const f = (Wq: tf.Tensor, Wk: tf.Tensor, Wv: tf.Tensor, Wo: tf.Tensor) =>
      tf.mean(tf.square(tf.sub(iclAttention({ Wq, Wk, Wv, Wo } as IclAttentionParams, Z, zq).output, y)));
    const [gq, gk, gv, go] = tf.grads(f)([p.Wq, p.Wk, p.Wv, p.Wo]) as tf.Tensor3D[];
    const torchLayout = iclAttentionToTorch({ Wq: gq!, Wk: gk!, Wv: gv!, Wo: go! });
    const g = SINGLE.grads;
    await expectClose(torchLayout.qProj, arr(g.qProj), ctx.tol * 10, 1e-6);
    await expectClose(torchLayout.kProj, arr(g.kProj), ctx.tol * 10, 1e-6);
    await expectClose(torchLayout.vProj, arr(g.vProj), ctx.tol * 10, 1e-6);
    await expectClose(torchLayout.oProj, arr(g.oProj), ctx.tol * 10, 1e-6);
    tf.dispose([gq!, gk!, gv!, go!, torchLayout.qProj, torchLayout.kProj, torchLayout.vProj, torchLayout.oProj]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([Z, zq, y]);
    disposeIclParams(p);
  });

  it('tf.variableGrads matches central finite differences of a float64 reference', async () => {
    const B = 2;
    const L = 3;
    const d = 2;
    const D = d + 1;
    const init = initIclAttention({ d, numHeads: 2, seed: 11 });
    const rng = new Rng(5, 1);
    const zArr = Array.from(rng.normal(B * L * D));
    const zqArr = Array.from(rng.normal(B * D)).map((v, i) => (i % D === d ? 0 : v));
    const yArr = Array.from(rng.normal(B));
    const Z = tf.tensor3d(zArr, [B, L, D]);
    const zq = tf.tensor2d(zqArr, [B, D]);
    const y = tf.tensor2d(yArr, [B, 1]);
    const vars = {
      Wq: tf.variable(init.Wq),
      Wk: tf.variable(init.Wk),
      Wv: tf.variable(init.Wv),
      Wo: tf.variable(init.Wo),
    };
    const { value, grads } = tf.variableGrads(
      () => tf.mean(tf.square(tf.sub(iclAttention(vars, Z, zq).output, y))) as tf.Scalar,
      Object.values(vars),
    );
    const host = await toHost(init);
    // Z and zq as the float32 values the model sees
    const Zf = await read(Z);
    const zqf = await read(zq);
    const yf = await read(y);
    await expectClose(value, hostLoss(host, Zf, zqf, yf, B, L), ctx.tol);
    const h = 1e-5;
    for (const [name, v] of Object.entries(vars) as [keyof typeof vars, tf.Variable][]) {
      const analytic = await read(grads[v.name]!);
      const fd = Array.from(host[name], (_, i) => {
        const w = host[name];
        const orig = w[i]!;
        w[i] = orig + h;
        const up = hostLoss(host, Zf, zqf, yf, B, L);
        w[i] = orig - h;
        const down = hostLoss(host, Zf, zqf, yf, B, L);
        w[i] = orig;
        return (up - down) / (2 * h);
      });
      const scale = Math.max(...fd.map(Math.abs));
      await expectClose(analytic, fd, 1e-3, 1e-4 * scale);
    }
    tf.dispose([value, ...Object.values(grads), Z, zq, y, ...Object.values(vars)]);
    disposeIclParams(init);
  });

  it('torch layout round trip and shape errors', async () => {
    const p = initIclAttention({ d: 3, numHeads: 2, nOut: 2, seed: 1 });
    const t = iclAttentionToTorch(p);
    expect(t.qProj.shape).toEqual([8, 4]);
    expect(t.oProj.shape).toEqual([2, 8]);
    // Wq^h = q_proj.weight[h·D:(h+1)·D, :]ᵀ: entry (i, j) of head 1 is qProj[4 + j][i]
    const wq = await read(p.Wq);
    const qp = await read(t.qProj);
    expect(wq[16 + 1 * 4 + 2]).toBe(qp[(4 + 2) * 4 + 1]);
    const back = iclAttentionFromTorch(t, 2);
    for (const k of ['Wq', 'Wk', 'Wv', 'Wo'] as const) expect(await read(back[k])).toEqual(await read(p[k]));
    expect(() => iclAttentionFromTorch(t, 3)).toThrow(
      /iclAttentionFromTorch: weights.qProj must be \[H·D, D\] = \[12, 4\]; got \[8, 4\]/,
    );
    const Z = tf.zeros([2, 5, 3]) as tf.Tensor3D;
    const zq = tf.zeros([2, 4]) as tf.Tensor2D;
    expect(() => iclAttention(p, Z, zq)).toThrow(
      /iclAttention: Z must be rank 3 \[B, L, d\+1 = 4\]; got shape \[2, 5, 3\]/,
    );
    const Z2 = tf.zeros([3, 5, 4]) as tf.Tensor3D;
    expect(() => iclAttention(p, Z2, zq)).toThrow(/iclAttention: zq must be \[B = 3, d\+1 = 4\]; got shape \[2, 4\]/);
    expect(() => iclAttention({ ...p, Wk: p.Wo }, Z2, zq)).toThrow(
      /iclAttention: params must be Wq, Wk, Wv \[H, D, D\] and Wo \[H, D, nOut\]/,
    );
    tf.dispose([Z, zq, Z2, t.qProj, t.kProj, t.vProj, t.oProj]);
    disposeIclParams(p);
    disposeIclParams(back);
  });
});

describeBackends('seed 004 attention: initialisations', () => {
  it("'random' is PyTorch's nn.Linear default, drawn from Rng(seed) in the order Wq, Wk, Wv, Wo", async () => {
    const d = 5;
    const H = 2;
    const D = 6;
    const p = await expectNoLeak(() => initIclAttention({ d, numHeads: H, seed: 3 }), disposeIclParams);
    expect(p.Wq.isDisposed).toBe(true);
    const q = initIclAttention({ d, numHeads: H, seed: 3 });
    expect(q.Wq.shape).toEqual([2, 6, 6]);
    expect(q.Wo.shape).toEqual([2, 6, 1]);
    const rng = new Rng(3);
    const b = 1 / Math.sqrt(D);
    const expWq = Array.from(Float32Array.from(rng.uniform(H * D * D, -b, b)));
    rng.uniform(2 * H * D * D);
    const expWo = Array.from(Float32Array.from(rng.uniform(H * D, -1 / Math.sqrt(H * D), 1 / Math.sqrt(H * D))));
    expect(await read(q.Wq)).toEqual(expWq);
    expect(await read(q.Wo)).toEqual(expWo);
    for (const k of ['Wq', 'Wk', 'Wv'] as const) {
      const v = await read(q[k]);
      expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(b);
      expect(Math.max(...v.map(Math.abs))).toBeGreaterThan(0.8 * b); // 72 draws fill the interval
    }
    disposeIclParams(q);
  });

  it("'small_id': 1e-6·I on Q, K, V; O = 1e-6·I only when nOut = d + 1", async () => {
    const eye = (D: number, v: number) =>
      Array.from({ length: D * D }, (_, i) => (i % (D + 1) === 0 ? Math.fround(v) : 0));
    const p = initIclAttention({ d: 2, numHeads: 2, init: 'small_id', seed: 4 });
    for (const k of ['Wq', 'Wk', 'Wv'] as const) expect(await read(p[k])).toEqual([...eye(3, 1e-6), ...eye(3, 1e-6)]);
    const random = initIclAttention({ d: 2, numHeads: 2, seed: 4 });
    expect(await read(p.Wo)).toEqual(await read(random.Wo)); // nOut = 1 → O stays random (the seed's n_out = 1)
    const full = initIclAttention({ d: 2, numHeads: 2, nOut: 3, init: 'small_id', seed: 4 });
    expect(await read(full.Wo)).toEqual([...eye(3, 1e-6), ...eye(3, 1e-6)]);
    [p, random, full].forEach(disposeIclParams);
  });

  it("'small_id_qk': 1e-4·I on Q and K; V and O as 'random' with the same seed", async () => {
    const eye = Array.from({ length: 9 }, (_, i) => (i % 4 === 0 ? Math.fround(1e-4) : 0));
    const p = initIclAttention({ d: 2, numHeads: 2, init: 'small_id_qk', seed: 9 });
    const r = initIclAttention({ d: 2, numHeads: 2, seed: 9 });
    expect(await read(p.Wq)).toEqual([...eye, ...eye]);
    expect(await read(p.Wk)).toEqual([...eye, ...eye]);
    expect(await read(p.Wv)).toEqual(await read(r.Wv));
    expect(await read(p.Wo)).toEqual(await read(r.Wo));
    [p, r].forEach(disposeIclParams);
  });

  it("'oppo_small_id': Q = +1e-6·I on the first half of the heads, −1e-6·I on the rest; K = +1e-6·I; odd H errors", async () => {
    const e = Math.fround(1e-6);
    const eye = (v: number) => Array.from({ length: 9 }, (_, i) => (i % 4 === 0 ? v : 0));
    const p = initIclAttention({ d: 2, numHeads: 4, init: 'oppo_small_id', seed: 2 });
    expect(await read(p.Wq)).toEqual([...eye(e), ...eye(e), ...eye(-e), ...eye(-e)]);
    expect(await read(p.Wk)).toEqual([...eye(e), ...eye(e), ...eye(e), ...eye(e)]);
    const r = initIclAttention({ d: 2, numHeads: 4, seed: 2 });
    expect(await read(p.Wv)).toEqual(await read(r.Wv));
    [p, r].forEach(disposeIclParams);
    const before = tf.memory().numTensors;
    expect(() => initIclAttention({ d: 2, numHeads: 3, init: 'oppo_small_id' })).toThrow(
      /initIclAttention: init 'oppo_small_id' needs an even number of heads \(half \+1e-6·I, half −1e-6·I\); got numHeads = 3/,
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(() => initIclAttention({ d: 2, numHeads: 2, init: 'eye' as never })).toThrow(
      /initIclAttention: config.init must be one of 'random', 'small_id', 'small_id_qk', 'oppo_small_id'; got 'eye'/,
    );
    expect(() => initIclAttention({ d: 0, numHeads: 2 })).toThrow(
      /initIclAttention: config.d must be an integer ≥ 1; got 0/,
    );
  });

  it('the causal stack follows CausalMultiHeadAttention: oppo_small_id sets Q, K, V, O to ±1e-6·I', async () => {
    const e = Math.fround(1e-6);
    const eye = (v: number) => Array.from({ length: 9 }, (_, i) => (i % 4 === 0 ? v : 0));
    const s = initIclStack({ d: 2, numHeads: 2, numLayers: 2, init: 'oppo_small_id', seed: 1 });
    expect(s.layers.length).toBe(2);
    for (const k of ['Wq', 'Wk', 'Wv', 'Wo'] as const)
      expect(await read(s.layers[1]![k])).toEqual([...eye(e), ...eye(-e)]);
    expect(s.final.shape).toEqual([3, 1]);
    const t = initIclStack({ d: 2, numHeads: 2, numLayers: 4, tied: true, seed: 1 });
    expect(t.layers.length).toBe(1);
    expect(t.numLayers).toBe(4);
    const small = initIclStack({ d: 2, numHeads: 2, numLayers: 1, init: 'small_id', seed: 1 });
    const rand = initIclStack({ d: 2, numHeads: 2, numLayers: 1, seed: 1 });
    expect(await read(small.layers[0]!.Wv)).toEqual([...eye(e), ...eye(e)]);
    expect(await read(small.layers[0]!.Wo)).toEqual(await read(rand.layers[0]!.Wo)); // the causal class never sets O for small_id
    [s, t, small, rand].forEach(disposeIclParams);
    expect(() => initIclStack({ d: 2, numHeads: 1, numLayers: 2, init: 'oppo_small_id' })).toThrow(
      /initIclStack: init 'oppo_small_id' needs an even number of heads/,
    );
    expect(() => initIclStack({ d: 2, numHeads: 2, numLayers: 0 })).toThrow(
      /initIclStack: config.numLayers must be an integer ≥ 1; got 0/,
    );
  });
});

describeBackends('seed 004 attention: causal stack', (ctx) => {
  const B = 2;
  const D = 3;
  const inputs = () => ({ Z: tf.tensor3d(arr(STACK.Z), [B, STACK.L, D]), zq: tf.tensor2d(arr(STACK.zq), [B, D]) });

  it.each([
    ['two layers, untied', [0, 1], false, false, STACK.untied],
    ['two layers, untied, residual', [0, 1], false, true, STACK.untiedResidual],
    ['one layer tied three times', [0, 0, 0], true, false, STACK.tied3],
  ] as const)('matches PyTorch (single masked softmax): %s', async (_, idx, tied, residual, expected) => {
    const p = stackFromTorch([...idx], tied, residual);
    const { Z, zq } = inputs();
    const r = await expectNoLeak(
      () => iclStack(p, Z, zq),
      (res) => res.output.dispose(),
    );
    expect(r.output.isDisposed).toBe(true);
    const { output } = iclStack(p, Z, zq);
    expect(output.shape).toEqual([2, 1]);
    await expectClose(output, arr(expected), ctx.tol, 1e-5);
    tf.dispose([output, Z, zq]);
    disposeIclParams(p);
  });

  it('attention weights: strictly preceding tokens only, row 0 all zero, other rows sum to one', async () => {
    const p = stackFromTorch([0, 1], false, false);
    const { Z, zq } = inputs();
    const { output, weights } = iclStack(p, Z, zq, { returnWeights: true });
    expect(weights!.length).toBe(2);
    const T = STACK.L + 1;
    expect(weights![0]!.shape).toEqual([B, 2, T, T]);
    for (const w of weights!) {
      const v = await read(w);
      for (let r = 0; r < B * 2; r++) {
        for (let i = 0; i < T; i++) {
          const row = v.slice((r * T + i) * T, (r * T + i + 1) * T);
          for (let j = i; j < T; j++) expect(row[j]).toBe(0);
          const sum = row.reduce((s, x) => s + x, 0);
          if (i === 0) expect(sum).toBe(0);
          else expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
          expect(row.every(Number.isFinite)).toBe(true);
        }
      }
    }
    tf.dispose([output, ...weights!, Z, zq]);
    disposeIclParams(p);
  });

  it('a one-layer stack equals the query-only model with Wo^h·final', async () => {
    const s = initIclStack({ d: 2, numHeads: 2, numLayers: 1, nOut: 1, seed: 21 });
    const single: IclAttentionParams = tf.tidy(() => ({
      ...s.layers[0]!,
      Wo: tf.reshape(tf.matMul(tf.reshape(s.layers[0]!.Wo, [6, 3]), s.final), [2, 3, 1]) as tf.Tensor3D,
    }));
    const { Z, zq } = inputs();
    const a = iclStack(s, Z, zq).output;
    const b = iclAttention(single, Z, zq).output;
    await expectClose(a, await read(b), ctx.tol, 1e-6);
    tf.dispose([a, b, Z, zq, single.Wo]);
    disposeIclParams(s);
  });

  it('gradients flow to every layer and to the shared layer when tied (finite differences)', async () => {
    const { Z, zq } = inputs();
    const y = tf.tensor2d([0.3, -0.7], [2, 1]);
    const p = stackFromTorch([0, 0, 0], true, false);
    const loss = (q: IclStackParams) =>
      tf.tidy(() => tf.mean(tf.square(tf.sub(iclStack(q, Z, zq).output, y))) as tf.Scalar);
    const wq = p.layers[0]!.Wq;
    const [g] = tf.grads((w: tf.Tensor) => loss({ ...p, layers: [{ ...p.layers[0]!, Wq: w as tf.Tensor3D }] }))([wq]);
    const grad = await read(g!);
    // Central differences in float32 on a few coordinates (h = 1e-2; the loss is smooth): the
    // tied gradient sums the contributions of the three applications.
    const base = await read(wq);
    for (const i of [4, 13]) {
      const bump = async (delta: number) => {
        const v = base.slice();
        v[i]! += delta;
        const w = tf.tensor3d(v, wq.shape);
        const l = loss({ ...p, layers: [{ ...p.layers[0]!, Wq: w }] });
        const out = (await read(l))[0]!;
        tf.dispose([w, l]);
        return out;
      };
      const fd = ((await bump(1e-2)) - (await bump(-1e-2))) / 2e-2;
      expect(Math.abs(grad[i]! - fd)).toBeLessThan(2e-3 + 2e-2 * Math.abs(fd));
    }
    expect(grad.some((v) => Math.abs(v) > 1e-4)).toBe(true);
    tf.dispose([g!, Z, zq, y]);
    disposeIclParams(p);
  });

  it('validates params and inputs', () => {
    const p = initIclStack({ d: 2, numHeads: 2, numLayers: 2, seed: 0 });
    const { Z, zq } = inputs();
    expect(() => iclStack({ ...p, layers: [p.layers[0]!] }, Z, zq)).toThrow(
      /iclStack: params.layers must have 2 entries \(numLayers 2, tied false\); got 1/,
    );
    const bad = tf.zeros([2, 4]) as tf.Tensor2D;
    expect(() => iclStack(p, Z, bad)).toThrow(/iclStack: zq must be \[B = 2, d\+1 = 3\]; got shape \[2, 4\]/);
    tf.dispose([Z, zq, bad]);
    disposeIclParams(p);
  });
});

describeBackends('seed 004 attention: circuits and statistics', (ctx) => {
  const near = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(ctx.tol * Math.abs(b) + 1e-6);

  it('QK and OV on known weights: Wq = aI, Wk = bI → QK = ab/√D·I, w = ab/√D; OV = Wv·Wo', async () => {
    const D = 4;
    const eye = (v: number) => Array.from({ length: D * D }, (_, i) => (i % (D + 1) === 0 ? v : 0));
    const wo = [0.5, -1, 2, 3];
    const p: IclAttentionParams = {
      Wq: tf.tensor3d(eye(2), [1, D, D]),
      Wk: tf.tensor3d(eye(0.75), [1, D, D]),
      Wv: tf.tensor3d(eye(-1), [1, D, D]),
      Wo: tf.tensor3d(wo, [1, D, 1]),
    };
    const c = await expectNoLeak(() => iclCircuits(p), disposeIclCircuits);
    expect(c[0]!.QK.isDisposed).toBe(true);
    const circuits = iclCircuits(p);
    expect(circuits.length).toBe(1);
    await expectClose(circuits[0]!.QK, eye(1.5 / 2), ctx.tol);
    await expectClose(circuits[0]!.OV, [-0.5, 1, -2, -3], ctx.tol);
    disposeIclCircuits(circuits);
    const [s] = await expectNoLeak(() => iclCircuitStatistics(p));
    near(s!.w, 0.75);
    expect(s!.diagVariance).toBeLessThan(1e-12);
    expect(s!.offDiagSupNorm).toBe(0);
    near(s!.mu, -3);
    near(s!.ovRestSupNorm, 2);
    disposeIclParams(p);
  });

  it("single layer: the seed's calculate_statistics on the PyTorch reference model", async () => {
    const p = torchParams();
    const stats = await iclCircuitStatistics(p);
    expect(stats.length).toBe(2);
    stats.forEach((s, h) => {
      const e = SINGLE.stats[h]!;
      expect([s.layer, s.head]).toEqual([0, h]);
      near(s.w, e.w);
      near(s.diagVariance, e.diagVariance);
      near(s.offDiagSupNorm, e.offDiagSupNorm);
      near(s.mu, e.mu);
      near(s.ovRestSupNorm, e.ovRestSupNorm);
      s.qk.flat().forEach((v, i) => near(v, e.qk[i]!));
      s.ov.flat().forEach((v, i) => near(v, e.ov[i]!));
    });
    disposeIclParams(p);
  });

  it.each([
    ['untied two-layer stack', [0, 1], false, STACK.statsUntied],
    ['one layer tied three times', [0, 0, 0], true, STACK.statsTied3],
  ] as const)(
    "stack: per layer and head, the final linear on the last layer's OV: %s",
    async (_, idx, tied, expected) => {
      const p = stackFromTorch([...idx], tied, false);
      const stats = await expectNoLeak(() => iclCircuitStatistics(p));
      expect(stats.length).toBe(expected.length);
      stats.forEach((s, i) => {
        const e = expected[i]!;
        expect([s.layer, s.head]).toEqual([Math.floor(i / 2), i % 2]);
        near(s.w, e.w);
        near(s.mu, e.mu);
        near(s.ovRestSupNorm, e.ovRestSupNorm);
        near(s.offDiagSupNorm, e.offDiagSupNorm);
        near(s.diagVariance, e.diagVariance);
        expect(s.ov.flat().length).toBe(e.ov.length);
      });
      disposeIclParams(p);
    },
  );

  it('d = 1 has no off-diagonal entries (sup-norm 0)', async () => {
    const p = initIclAttention({ d: 1, numHeads: 2, init: 'small_id', seed: 0 });
    const stats = await iclCircuitStatistics(p);
    expect(stats.map((s) => s.offDiagSupNorm)).toEqual([0, 0]);
    near(stats[0]!.w, Math.fround(1e-6) ** 2 / Math.sqrt(2));
    disposeIclParams(p);
  });
});
