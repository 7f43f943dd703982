import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose, read } from '@attnlab/backend/testing';
import { adam, sgd, tensorProbe, train, type TrainEvent } from './index.js';
import {
  TestRng,
  TRUE_B,
  TRUE_W,
  hostBatch,
  makeParams,
  regressionLoss,
  toTensors,
  type Batch,
  type HostBatch,
} from './test-utils/regression.js';

/** Batches keyed by step (deterministic, no state): batch t uses seed 1000 + t. */
const keyed =
  (n: number) =>
  (t: number): Batch =>
    toTensors(hostBatch(new TestRng(1000 + t), n));

/** Plain float64 SGD on the same batches: w ← w − lr·∇, ∇ of mean((Xw + b − y)²). */
function sgdReference(steps: number, n: number, lr: number): { w: number[]; b: number; losses: number[] } {
  let w = [0.1, 0.2, -0.1],
    b = 0;
  const losses: number[] = [];
  for (let t = 0; t < steps; t++) {
    const { x, y }: HostBatch = hostBatch(new TestRng(1000 + t), n);
    const r = x.map((row, i) => row.reduce((s, v, j) => s + v * w[j]!, b) - y[i]!);
    losses.push(r.reduce((s, v) => s + v * v, 0) / n);
    const gw = w.map((_, j) => (2 / n) * r.reduce((s, ri, i) => s + ri * x[i]![j]!, 0));
    const gb = (2 / n) * r.reduce((s, v) => s + v, 0);
    w = w.map((v, j) => v - lr * gw[j]!);
    b -= lr * gb;
  }
  return { w, b, losses };
}

describeBackends('train', (ctx) => {
  it('SGD through the loop equals float64 SGD by hand (parameters and every recorded loss)', async () => {
    const params = makeParams();
    const opt = sgd({ lr: 0.05 });
    const r = await train({ params, optimizer: opt, steps: 40, data: { batch: keyed(16) }, loss: regressionLoss });
    const ref = sgdReference(40, 16, 0.05);
    expect(r.completed).toBe(40);
    expect(r.aborted).toBe(false);
    expect(r.history.loss.step).toEqual(Array.from({ length: 40 }, (_, i) => i));
    await expectClose(r.history.loss.value, ref.losses, 10 * ctx.tol, 1e-5);
    await expectClose(params.w!, ref.w, 10 * ctx.tol, 1e-5);
    await expectClose(params.b!, ref.b, 10 * ctx.tol, 1e-5);
    tf.dispose(Object.values(params));
  });

  it('learns the regression (Adam): weights near w*, loss near the noise floor', async () => {
    const params = makeParams();
    const opt = adam({ lr: 0.1, betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0 });
    const r = await train({
      params,
      optimizer: opt,
      steps: 120,
      data: { batch: keyed(32) },
      loss: regressionLoss,
      schedule: { lossEvery: 10 },
    });
    await expectClose(params.w!, TRUE_W, 0, 0.05);
    await expectClose(params.b!, TRUE_B, 0, 0.05);
    expect(r.lastLoss!).toBeLessThan(0.03); // noise variance is 0.01
    expect(r.history.loss.step.slice(0, 3)).toEqual([0, 10, 20]);
    tf.dispose(Object.values(params));
    opt.dispose();
  });

  it('records validation, probes and events on the seed-004 schedule (t % every === 0, after the update)', async () => {
    const params = makeParams();
    const opt = sgd({ lr: 0.05 });
    const events: TrainEvent[] = [];
    const valRng = new TestRng(7);
    const r = await train({
      params,
      optimizer: opt,
      steps: 25,
      data: { batch: keyed(8) },
      loss: regressionLoss,
      schedule: { validationEvery: 10, progressEvery: 10, readEvery: 4 },
      validation: { batch: () => toTensors(hostBatch(valRng, 64)) },
      probes: {
        wSum: { every: 5, run: async (p) => (await read(p.w!)).reduce((a, b) => a + b, 0) },
        wMatrix: tensorProbe(12, (p) => tf.transpose(p.w!)),
      },
      onEvent: (e) => events.push(e),
    });
    expect(r.history.validation.step).toEqual([0, 10, 20]);
    expect(r.history.probes.wSum!.step).toEqual([0, 5, 10, 15, 20]);
    expect(r.history.probes.wMatrix!.step).toEqual([0, 12, 24]);
    // probes see the parameters after iteration t's update: replay SGD by hand to step 0 and 24
    const ref1 = sgdReference(1, 8, 0.05),
      ref25 = sgdReference(25, 8, 0.05);
    await expectClose(
      r.history.probes.wSum!.value[0] as number,
      ref1.w.reduce((a, b) => a + b, 0),
      10 * ctx.tol,
      1e-5,
    );
    await expectClose((r.history.probes.wMatrix!.value[2] as number[][])[0]!, ref25.w, 10 * ctx.tol, 1e-5);
    // validation losses are MSE of fresh data: positive and shrinking as training proceeds
    expect(r.history.validation.value[2]!).toBeLessThan(r.history.validation.value[0]!);
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'metrics')).toHaveLength(3);
    expect(types.filter((t) => t === 'snapshot')).toHaveLength(8);
    const progress = events.filter((e): e is Extract<TrainEvent, { type: 'progress' }> => e.type === 'progress');
    expect(progress.map((p) => p.completed)).toEqual([10, 20, 25]);
    expect(progress.every((p) => p.stepsPerSecond > 0 && p.steps === 25)).toBe(true);
    expect(progress[2]!.loss).toBe(r.history.loss.value[24]);
    expect(types[types.length - 1]).toBe('done');
    const metrics = events.find((e) => e.type === 'metrics' && e.step === 10) as Extract<
      TrainEvent,
      { type: 'metrics' }
    >;
    expect(metrics.loss).toBe(r.history.loss.value[10]);
    tf.dispose(Object.values(params));
  });

  // SwiftShader runs ~1 ms per op, so webgpu does 200 steps where the others do 500.
  it('seed-004-style circuit probes: per-head QK dynamics and QK snapshots go into history', async () => {
    // Two heads, d = 2 (width d + 1 = 3). W_Q^h, W_K^h fixed (lr 0), so every record is equal.
    const wq = [
      [
        [1, 0, 0],
        [0, 2, 0],
        [0, 0, 1],
      ],
      [
        [0.5, 1, 0],
        [0, -1, 0],
        [1, 0, 3],
      ],
    ];
    const wk = [
      [
        [1, 1, 0],
        [0, 1, 0],
        [0, 0, 4],
      ],
      [
        [2, 0, 0],
        [0, 1, 1],
        [0, 0, 1],
      ],
    ];
    const params = tf.tidy(() => ({ wq: tf.variable(tf.tensor3d(wq)), wk: tf.variable(tf.tensor3d(wk)) }));
    const d = 2;
    // By hand: QK^h = W_Q^h W_K^h^T; w^h = mean of its first d diagonal entries / √(d+1).
    // head 0: diag(QK) = [1·1, 2·1, 1·4] = [1, 2, 4]; w = (1 + 2)/2/√3
    // head 1: diag(QK) = [0.5·2, −1·1, 3·1] = [1, −1, 3]; w = 0
    // (numpy: wq @ wk.transpose(0, 2, 1) gives the same matrices)
    const expectedW = [1.5 / Math.sqrt(3), 0];
    const qkOf = (p: Record<string, tf.Tensor>) => tf.matMul(p.wq!, p.wk!, false, true);
    const r = await train({
      params,
      optimizer: sgd({ lr: 0 }),
      steps: 3,
      data: { batch: () => 0 },
      loss: (p) => tf.mul(0, tf.add(tf.sum(p.wq!), tf.sum(p.wk!))) as tf.Scalar,
      probes: {
        qkDynamics: tensorProbe(1, (p) => {
          const diag = tf.sum(tf.mul(qkOf(p), tf.eye(d + 1, d + 1, [2])), -1); // [heads, d + 1]
          return tf.div(tf.mean(tf.slice(diag, [0, 0], [-1, d]), -1), Math.sqrt(d + 1)); // [heads]
        }),
        qkMatrices: tensorProbe(2, (p) => qkOf(p)),
      },
    });
    expect(r.history.probes.qkDynamics!.step).toEqual([0, 1, 2]);
    for (const v of r.history.probes.qkDynamics!.value) await expectClose(v as number[], expectedW, ctx.tol, 1e-6);
    expect(r.history.probes.qkMatrices!.step).toEqual([0, 2]);
    const qk1 = (r.history.probes.qkMatrices!.value[1] as number[][][])[1]!;
    await expectClose(qk1.flat(), [1, 1, 0, 0, -1, 0, 2, 3, 3], ctx.tol, 1e-6); // W_Q^1 W_K^1ᵀ by hand
    tf.dispose(Object.values(params));
  });

  it('tensor count is constant from step to step over hundreds of steps; nothing leaks', async () => {
    const steps = ctx.backend === 'webgpu' ? 201 : 501;
    const params = makeParams();
    const opt = adam({ lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 });
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const r = await train({
      params,
      optimizer: opt,
      steps,
      data: { batch: keyed(8) },
      loss: regressionLoss,
      schedule: { readEvery: 7, validationEvery: 50 },
      validation: { batch: keyed(8) },
      probes: {
        count: {
          every: 100,
          run: () => {
            counts.push(tf.memory().numTensors);
            return counts.length;
          },
        },
      },
    });
    expect(r.completed).toBe(steps);
    expect(counts).toHaveLength((steps - 1) / 100 + 1); // t = 0, 100, …, steps − 1
    // probes run after iteration t's update, so Adam's state exists already at t = 0
    expect(new Set(counts).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before + 4); // Adam's m and v for w and b
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(Object.values(params));
  });

  it('stops at a step boundary when aborted, returning what it recorded', async () => {
    const params = makeParams();
    const ac = new AbortController();
    const r = await train({
      params,
      optimizer: sgd({ lr: 0.05 }),
      steps: 100,
      data: { batch: keyed(8) },
      loss: regressionLoss,
      schedule: { progressEvery: 30 },
      signal: ac.signal,
      onEvent: (e) => {
        if (e.type === 'progress' && e.completed === 30) ac.abort();
      },
    });
    expect(r).toMatchObject({ completed: 30, aborted: true });
    expect(r.history.loss.step).toHaveLength(30);
    const ref = sgdReference(30, 8, 0.05);
    await expectClose(params.w!, ref.w, 10 * ctx.tol, 1e-5);
    tf.dispose(Object.values(params));
  });
});

describeBackends(
  'train (abort from a timer)',
  () => {
    it.each([
      ['setImmediate (Node)', false],
      ['a MessageChannel (browsers: no setImmediate)', true],
    ])('yields to the event loop so a timer can abort a long run: %s', async (_, hideImmediate) => {
      const g = globalThis as { setImmediate?: unknown };
      const saved = g.setImmediate;
      if (hideImmediate) g.setImmediate = undefined;
      try {
        await abortedByTimer();
      } finally {
        g.setImmediate = saved;
      }
    });
    const abortedByTimer = async () => {
      const params = makeParams();
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 150);
      const x = toTensors(hostBatch(new TestRng(1), 4));
      const r = await train({
        params,
        optimizer: sgd({ lr: 0.01 }),
        steps: 1_000_000,
        data: { batch: () => x },
        loss: regressionLoss,
        disposeBatches: false,
        signal: ac.signal,
      });
      expect(r.aborted).toBe(true);
      expect(r.completed).toBeGreaterThan(0);
      expect(r.completed).toBeLessThan(1_000_000);
      expect(r.history.loss.value).toHaveLength(r.completed);
      tf.dispose([x.x, x.y, ...Object.values(params)]);
    };
  },
  ['cpu'],
);

describe('train validation', () => {
  it('names the argument, value and what is allowed', async () => {
    const params = makeParams();
    const base = { params, optimizer: sgd({ lr: 0.1 }), data: { batch: keyed(4) }, loss: regressionLoss, steps: 10 };
    await expect(train({ ...base, steps: -1 })).rejects.toThrow(/train: options.steps must be an integer ≥ 0; got -1/);
    await expect(train({ ...base, schedule: { readEvery: 0 } })).rejects.toThrow(
      /train: options.schedule.readEvery must be an integer ≥ 1; got 0/,
    );
    await expect(train({ ...base, startStep: 11 })).rejects.toThrow(
      /train: options.startStep must be an integer in \[0, 10\]; got 11/,
    );
    await expect(train({ ...base, params: { w: tf.zeros([1]) as tf.Variable } })).rejects.toThrow(
      /train: options.params\['w'\] must be a tf.Variable/,
    );
    await expect(train({ ...base, probes: { p: { every: 2 } as never } })).rejects.toThrow(
      /train: options.probes\['p'\].run must be a function/,
    );
    tf.dispose(Object.values(params));
  });
});
