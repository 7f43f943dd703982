import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose, expectNoLeak, read } from '@attnlab/backend/testing';
import { adam, adamw, optimizerFromState, sgd, type Optimizer } from './index.js';

// The quadratic used for every optimizer test:
//   L(w, b) = ½ Σ A⊙w² + 0.1 Σ w + Σ (b − C)²,  ∇w = A⊙w + 0.1,  ∇b = 2(b − C).
const A = [1, 3, 0.5];
const C = [0.1, -0.2, 0.4, 0];
const W0 = [1, -2, 0.5];
const B0 = [0.3, -0.7, 1.5, 0.2];

// ---- independent float64 references: PyTorch's update rules written out by hand -------------
type Vec = number[];
interface RefOpts {
  kind: 'sgd' | 'adam' | 'adamw';
  lr: number;
  wd: number;
  b1?: number;
  b2?: number;
  eps?: number;
  /** Wrong variants, to show the tests can tell them apart. */
  epsForm?: 'torch' | 'insideSqrt' | 'beforeBiasCorrection';
}
function reference(o: RefOpts, steps: number): { w: Vec; b: Vec; losses: number[] } {
  let w = [...W0],
    b = [...B0];
  const m = { w: w.map(() => 0), b: b.map(() => 0) },
    v = { w: w.map(() => 0), b: b.map(() => 0) };
  const losses: number[] = [];
  for (let t = 1; t <= steps; t++) {
    losses.push(
      0.5 * w.reduce((s, x, i) => s + A[i]! * x * x, 0) +
        0.1 * w.reduce((s, x) => s + x, 0) +
        b.reduce((s, x, i) => s + (x - C[i]!) ** 2, 0),
    );
    const g = { w: w.map((x, i) => A[i]! * x + 0.1), b: b.map((x, i) => 2 * (x - C[i]!)) };
    const upd = (p: Vec, gr: Vec, key: 'w' | 'b'): Vec => {
      if (o.kind === 'sgd') return p.map((x, i) => x - o.lr * (gr[i]! + o.wd * x));
      const q = o.kind === 'adamw' ? p.map((x) => x * (1 - o.lr * o.wd)) : [...p];
      const gg = o.kind === 'adam' ? gr.map((x, i) => x + o.wd * p[i]!) : gr;
      m[key] = m[key].map((x, i) => o.b1! * x + (1 - o.b1!) * gg[i]!);
      v[key] = v[key].map((x, i) => o.b2! * x + (1 - o.b2!) * gg[i]! * gg[i]!);
      const stepSize = o.lr / (1 - o.b1! ** t);
      const bc2Sqrt = Math.sqrt(1 - o.b2! ** t);
      const denom = (vi: number): number =>
        o.epsForm === 'insideSqrt'
          ? Math.sqrt(vi / bc2Sqrt ** 2 + o.eps!)
          : o.epsForm === 'beforeBiasCorrection'
            ? (Math.sqrt(vi) + o.eps!) / bc2Sqrt
            : Math.sqrt(vi) / bc2Sqrt + o.eps!;
      return q.map((x, i) => x - (stepSize * m[key][i]!) / denom(v[key][i]!));
    };
    w = upd(w, g.w, 'w');
    b = upd(b, g.b, 'b');
  }
  return { w, b, losses };
}

// ---- PyTorch 1.13.1 (Debian python3-torch), float32: w, b = torch.tensor(W0), torch.tensor(B0)
// ---- (requires_grad), opt = torch.optim.SGD/Adam/AdamW([w, b], lr=…, betas=…, eps=…,
// ---- weight_decay=…) with the hyperparameters of each case below; per step: zero_grad,
// ---- loss = the quadratic, loss.backward(), opt.step(); values printed with '%.9g'.
// ---- 5 steps unless said; losses are recorded before each step.
const TORCH = {
  sgd: {
    w: [0.518261015, -0.340019077, 0.322602659],
    b: [0.158244491, -0.347259551, 0.725289643, 0.0615411364],
    losses: [8.05249977, 4.28553677, 2.36229324, 1.35810196, 0.818630695],
  },
  adam: {
    w: [0.506527185, -1.50281549, 0.0146351159],
    b: [-0.0209502485, -0.226447642, 1.00639451, -0.117364801],
    losses: [8.05249977, 6.97999954, 6.03518009, 5.20772552, 4.47382736],
  },
  adamBigEps: {
    w: [0.549635768, -1.51182187, 0.124683142],
    b: [0.0195187367, -0.274806559, 1.02966821, -0.077870287],
    losses: [8.05249977, 7.02777481, 6.1099987, 5.29293585, 4.56522894],
  },
  adamw: {
    w: [0.46825105, -1.4154079, 0.000256061554],
    b: [-0.0165344812, -0.205899239, 0.944300056, -0.11493054],
    losses: [8.05249977, 6.82084274, 5.75440836, 4.83735466, 4.04081202],
  },
  adamwBigEps: {
    w: [0.374948204, -1.11118305, 0.0593288466],
    b: [0.0161833614, -0.180262819, 0.746941924, -0.0739197209],
    losses: [8.05249977, 6.24896336, 4.79141808, 3.62881327, 2.7097249],
    // optimizer.state after 5 steps: exp_avg / exp_avg_sq
    m: { w: [0.522378385, -3.04801559, 0.15763694], b: [0.0191863291, -0.295977384, 0.955504239, 0.0306075234] },
    v: { w: [0.279502451, 9.123909, 0.0262337457], b: [0.0165293273, 0.137444004, 0.98881346, 0.0161460079] },
  },
  // 50 steps
  adam50: {
    w: [-0.166999608, -0.129611701, -0.152821273],
    b: [0.0930236652, -0.196968824, 0.329236418, -0.00666506588],
    last: 0.0116511825,
  },
  adamw50: {
    w: [-0.16591318, -0.118763365, -0.156825319],
    b: [0.09324871, -0.19681856, 0.332156003, -0.00671680085],
    last: 0.00744219264,
  },
};

function quadratic(p: { w: tf.Tensor; b: tf.Tensor }): tf.Scalar {
  return tf.tidy(
    () =>
      tf.addN([
        tf.mul(0.5, tf.sum(tf.mul(tf.tensor1d(A), tf.square(p.w)))),
        tf.mul(0.1, tf.sum(p.w)),
        tf.sum(tf.square(tf.sub(p.b, tf.tensor2d(C, [2, 2])))),
      ]) as tf.Scalar,
  );
}

async function runSteps(opt: Optimizer, steps: number) {
  const params = tf.tidy(() => ({ w: tf.variable(tf.tensor1d(W0)), b: tf.variable(tf.tensor2d(B0, [2, 2])) }));
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const { value, grads } = tf.variableGrads(() => quadratic(params), [params.w, params.b]);
    losses.push((await read(value))[0]!);
    opt.step(params, { w: grads[params.w.name], b: grads[params.b.name] });
    tf.dispose([value, ...Object.values(grads)]);
  }
  return { params, losses, w: await read(params.w), b: await read(params.b) };
}

const CASES = [
  {
    name: 'sgd lr 0.1 wd 0.1',
    make: () => sgd({ lr: 0.1, weightDecay: 0.1 }),
    ref: { kind: 'sgd', lr: 0.1, wd: 0.1 },
    torch: TORCH.sgd,
  },
  {
    name: 'adam lr 0.1 betas (0.9, 0.99) eps 1e-8 wd 0.05',
    make: () => adam({ lr: 0.1, betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0.05 }),
    ref: { kind: 'adam', lr: 0.1, wd: 0.05, b1: 0.9, b2: 0.99, eps: 1e-8 },
    torch: TORCH.adam,
  },
  {
    name: 'adam lr 0.1 betas (0.8, 0.9) eps 0.1 wd 0.05',
    make: () => adam({ lr: 0.1, betas: [0.8, 0.9], eps: 0.1, weightDecay: 0.05 }),
    ref: { kind: 'adam', lr: 0.1, wd: 0.05, b1: 0.8, b2: 0.9, eps: 0.1 },
    torch: TORCH.adamBigEps,
  },
  {
    name: 'adamw lr 0.1 betas (0.9, 0.99) eps 1e-8 wd 0.1',
    make: () => adamw({ lr: 0.1, betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0.1 }),
    ref: { kind: 'adamw', lr: 0.1, wd: 0.1, b1: 0.9, b2: 0.99, eps: 1e-8 },
    torch: TORCH.adamw,
  },
  {
    name: 'adamw lr 0.1 betas (0.8, 0.9) eps 0.1 wd 0.5',
    make: () => adamw({ lr: 0.1, betas: [0.8, 0.9], eps: 0.1, weightDecay: 0.5 }),
    ref: { kind: 'adamw', lr: 0.1, wd: 0.5, b1: 0.8, b2: 0.9, eps: 0.1 },
    torch: TORCH.adamwBigEps,
  },
] as const;

describe('float64 reference (test self-check)', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s: hand-coded formulas agree with PyTorch', (_n, c) => {
    const r = reference(c.ref as RefOpts, 5);
    for (const [got, want] of [
      [r.w, c.torch.w],
      [r.b, c.torch.b],
      [r.losses, c.torch.losses],
    ] as const) {
      got.forEach((x, i) => expect(Math.abs(x - want[i]!)).toBeLessThan(2e-6 * (1 + Math.abs(want[i]!))));
    }
  });
  it.each(['insideSqrt', 'beforeBiasCorrection'] as const)(
    'eps %s gives numbers far from PyTorch (so the tests can fail)',
    (form) => {
      for (const kind of ['adam', 'adamw'] as const) {
        const r = reference({ kind, lr: 0.1, wd: 0.05, b1: 0.8, b2: 0.9, eps: 0.1, epsForm: form }, 5);
        const right = reference({ kind, lr: 0.1, wd: 0.05, b1: 0.8, b2: 0.9, eps: 0.1 }, 5);
        expect(Math.max(...r.w.map((x, i) => Math.abs(x - right.w[i]!)))).toBeGreaterThan(1e-3);
      }
    },
  );
});

describeBackends('optimizers (PyTorch update rules)', (ctx) => {
  for (const c of CASES) {
    it(`${c.name}: 5 steps equal PyTorch and the float64 formulas`, async () => {
      const opt = c.make();
      const before = tf.memory().numTensors;
      const r = await runSteps(opt, 5);
      const ref = reference(c.ref as RefOpts, 5);
      await expectClose(r.w, c.torch.w, 10 * ctx.tol, 1e-5);
      await expectClose(r.b, c.torch.b, 10 * ctx.tol, 1e-5);
      await expectClose(r.losses, c.torch.losses, 10 * ctx.tol, 1e-5);
      await expectClose(r.w, ref.w, 10 * ctx.tol, 1e-5);
      await expectClose(r.b, ref.b, 10 * ctx.tol, 1e-5);
      // parameters + optimizer state are the only tensors left
      const slots = c.ref.kind === 'sgd' ? 0 : 4;
      expect(tf.memory().numTensors - before).toBe(2 + slots);
      tf.dispose([r.params.w, r.params.b]);
      opt.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('AdamW state (m, v, step) after 5 steps equals torch optimizer.state', async () => {
    const opt = adamw({ lr: 0.1, betas: [0.8, 0.9], eps: 0.1, weightDecay: 0.5 });
    const r = await runSteps(opt, 5);
    const s = await opt.getState();
    expect(s.type).toBe('adamw');
    expect(s.config).toEqual({ lr: 0.1, betas: [0.8, 0.9], eps: 0.1, weightDecay: 0.5 });
    expect(s.params.w!.step).toBe(5);
    await expectClose(Array.from(s.params.w!.slots.m!.values), TORCH.adamwBigEps.m.w, 10 * ctx.tol, 1e-5);
    await expectClose(Array.from(s.params.b!.slots.m!.values), TORCH.adamwBigEps.m.b, 10 * ctx.tol, 1e-5);
    await expectClose(Array.from(s.params.w!.slots.v!.values), TORCH.adamwBigEps.v.w, 10 * ctx.tol, 1e-5);
    await expectClose(Array.from(s.params.b!.slots.v!.values), TORCH.adamwBigEps.v.b, 10 * ctx.tol, 1e-5);
    expect(s.params.b!.slots.m!.shape).toEqual([2, 2]);
    tf.dispose([r.params.w, r.params.b]);
    opt.dispose();
  });

  it("Adam and AdamW with weight decay: 50 steps stay on PyTorch's trajectory", async () => {
    for (const [opt, want] of [
      [adam({ lr: 0.05, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 }), TORCH.adam50],
      [adamw({ lr: 0.05, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 }), TORCH.adamw50],
    ] as const) {
      const r = await runSteps(opt, 50);
      await expectClose(r.w, want.w, 1e-3, 1e-4);
      await expectClose(r.b, want.b, 1e-3, 1e-4);
      await expectClose(r.losses[49]!, want.last, 1e-3, 1e-5);
      tf.dispose([r.params.w, r.params.b]);
      opt.dispose();
    }
  });

  it('getState → setState on a fresh optimizer continues identically', async () => {
    const make = () => adam({ lr: 0.1, betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0.05 });
    const a = make();
    const r = await runSteps(a, 2);
    const state = await a.getState();
    const b = optimizerFromState(state);
    expect(b.type).toBe('adam');
    // continue 3 more steps with the restored optimizer on the same variables
    for (let i = 0; i < 3; i++) {
      const { value, grads } = tf.variableGrads(() => quadratic(r.params), [r.params.w, r.params.b]);
      b.step(r.params, { w: grads[r.params.w.name], b: grads[r.params.b.name] });
      tf.dispose([value, ...Object.values(grads)]);
    }
    await expectClose(r.params.w, TORCH.adam.w, 10 * ctx.tol, 1e-5);
    await expectClose(r.params.b, TORCH.adam.b, 10 * ctx.tol, 1e-5);
    tf.dispose([r.params.w, r.params.b]);
    a.dispose();
    b.dispose();
  });

  it('a step allocates no lasting tensors; missing gradients are skipped like PyTorch', async () => {
    const opt = adam({ lr: 0.1, betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0 });
    const w = tf.variable(tf.tensor1d([1, 2])),
      u = tf.variable(tf.tensor1d([5]));
    const g = tf.tensor1d([0.5, -0.5]);
    opt.step({ w, u }, { w: g, u: null });
    await expectNoLeak(() => opt.step({ w, u }, { w: g }));
    const s = await opt.getState();
    expect(Object.keys(s.params)).toEqual(['w']);
    expect(s.params.w!.step).toBe(2);
    await expectClose(u, [5]);
    // Adam's first steps move each coordinate by ≈ lr·sign(g)
    await expectClose(w, [1 - 0.2, 2 + 0.2], 10 * ctx.tol, 1e-5);
    tf.dispose([w, u, g]);
    opt.dispose();
  });
});

describe('optimizer validation', () => {
  it('names the function, argument, value and allowed range', () => {
    expect(() => adam({ lr: 0.1, betas: [0.9, 0.999], eps: 1e-8 } as never)).toThrow(
      /adam: config.weightDecay is required/,
    );
    expect(() => adamw({ lr: -1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 })).toThrow(
      /adamw: config.lr must be a finite number in \[0, Infinity\]; got -1/,
    );
    expect(() => adam({ lr: 1, betas: [1, 0.999], eps: 1e-8, weightDecay: 0 })).toThrow(
      /adam: config.betas\[0\] must be a number in \[0, 1\); got 1/,
    );
    expect(() => sgd({ lr: Number.NaN })).toThrow(/sgd: config.lr must be a finite number/);
    const opt = adam({ lr: 0.1, betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0 });
    expect(() => opt.setState({ type: 'adamw', config: { lr: 0.1, weightDecay: 0 }, params: {} })).toThrow(
      /adam.setState: state.type must be 'adam'; got 'adamw'/,
    );
    expect(() =>
      opt.setState({ type: 'adam', config: { lr: 0.2, betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0 }, params: {} }),
    ).toThrow(/adam.setState: state.config must equal/);
  });
});
