import { describeBackends, expectNoLeak } from '@attnlab/backend/testing';
import { iclInitialParams } from '@attnlab/attention';
import {
  deserializeCheckpoint,
  serializeCheckpoint,
  train,
  type Checkpoint,
  type CheckpointInput,
  type EngineState,
} from '@attnlab/train';
import { createIclEngine, iclEngineCandidates, pickEngine, type IclEngineKind } from './engine.js';
import { cpuCount, createSimdModel } from './simd/model.js';
import { singleSimdKernel } from './single/simd.js';
import { resolveIclSpec, type IclTrainingSpec } from './spec.js';
import { referenceEngine } from './test-utils/reference.js';

const ADAM = { method: 'adam' as const, lr: 1e-3, betas: [0.9, 0.999] as [number, number], eps: 1e-8, weightDecay: 0 };

/** Seed 004's setting: H = 2, d = 5, L = 40, batch 128, β ~ N(0, I), δ = 0.01, y_q noiseless, Adam 1e-3. */
const SEED: IclTrainingSpec = {
  model: { d: 5, numHeads: 2, layers: 1, seed: 1024 },
  task: { L: 40, dx: 5, noiseStd: 0.01 },
  batch: 128,
  dataSeed: 1024,
  optimizer: ADAM,
};
/** The paper's setting: β ~ N(0, I/d), σ² = 0.1 (δ = √(0.1/5)), noisy y_q, batch 256. */
const PAPER: IclTrainingSpec = {
  ...SEED,
  model: { ...SEED.model, seed: 7 },
  dataSeed: 7,
  batch: 256,
  task: { L: 40, dx: 5, noiseStd: Math.sqrt(0.1 / 5), betaScale: 'inverse-d', queryNoise: true },
};
const stack = (s: IclTrainingSpec, layers: number, tied = false): IclTrainingSpec => ({
  ...s,
  model: { ...s.model, layers, tied },
});
/** A spec with a shorter context (the stack's reference path costs O(L²) per example and layer). */
const withL = (s: IclTrainingSpec, L: number): IclTrainingSpec => ({ ...s, task: { ...s.task, L } });

/** The configurations of the experiments, each against the reference path for 100 steps. */
const CASES: Array<[string, IclTrainingSpec]> = [
  ['seed setting, single layer', SEED],
  ['paper setting, single layer', PAPER],
  ['seed setting (L 20), stack of 2', withL(stack(SEED, 2), 20)],
  ['paper setting (L 20), stack of 2 (tied)', withL(stack(PAPER, 2, true), 20)],
  [
    'stack of 3, tied, nOut 2, batch 30, L 12, SGD + L2',
    {
      ...stack(SEED, 3, true),
      model: { d: 5, numHeads: 2, layers: 3, tied: true, nOut: 2, seed: 3 },
      task: { L: 12, dx: 5, noiseStd: 0.1 },
      batch: 30,
      optimizer: { method: 'sgd', lr: 0.02, weightDecay: 0.01 },
    },
  ],
  [
    'nOut 2, batch 13, AdamW, small_id_qk init',
    {
      ...SEED,
      model: { ...SEED.model, nOut: 2, init: 'small_id_qk' },
      batch: 13,
      optimizer: { ...ADAM, method: 'adamw', lr: 3e-3, weightDecay: 0.1 },
    },
  ],
  [
    'd 3, covariance, noisy y_q, inverse-d, Adam + L2, oppo_small_id init, batch 10',
    {
      model: { d: 3, numHeads: 2, layers: 1, init: 'oppo_small_id', seed: 5 },
      batch: 10,
      dataSeed: 11,
      task: {
        L: 20,
        dx: 3,
        noiseStd: 0.2,
        betaScale: 'inverse-d',
        queryNoise: true,
        covariance: [
          [2, 0.3, 0],
          [0.3, 1, 0.1],
          [0, 0.1, 0.5],
        ],
      },
      optimizer: { ...ADAM, lr: 5e-3, weightDecay: 0.01 },
    },
  ],
  [
    'small_id init, H 3, untied stack of 2, residual, batch 7, SGD',
    {
      model: { d: 4, numHeads: 3, layers: 2, residual: true, init: 'small_id', seed: 9 },
      batch: 7,
      dataSeed: 2,
      task: { L: 10, dx: 4, noiseStd: 0.05 },
      optimizer: { method: 'sgd', lr: 0.05, weightDecay: 0 },
    },
  ],
];

const KINDS: IclEngineKind[] = ['simd', 'float64'];

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.abs(b[i]!));
  return worst;
}

describeBackends(
  'fast engines vs the reference path (attention model + autodiffEngine + train optimizer)',
  () => {
    it.each(CASES)(
      '100 steps within 1e-4 relative on both engines (losses; and the parameters, every output column): %s',
      async (_, spec) => {
        const ref = referenceEngine(spec);
        const want = await ref.run(100);
        const refParams = (await ref.state()).params;
        ref.dispose();
        expect(want[0]).toBeGreaterThan(0);
        for (const engine of KINDS) {
          const e = await createIclEngine(spec, { engine, workerThread: engine === 'simd' && spec.batch >= 128 });
          try {
            const got = [...(await e.run(60)), ...(await e.run(40))];
            expect(e.step).toBe(100);
            const worst = maxRel(got, want);
            if (!(worst <= 1e-4))
              throw new Error(`${e.name}: worst relative difference ${worst.toExponential(2)} > 1e-4`);
            const params = (await e.state()).params;
            for (const [name, h] of Object.entries(refParams)) {
              const a = params[name]!.values,
                b = h.values;
              const scale = Math.max(...Array.from(b, Math.abs));
              for (let i = 0; i < b.length; i++) {
                if (!(Math.abs(a[i]! - b[i]!) <= 1e-4 * scale))
                  throw new Error(`${e.name}: ${name}[${i}] is ${a[i]}, the reference's ${b[i]}`);
              }
            }
          } finally {
            e.dispose();
          }
        }
      },
    );

    it('restores a float32 state of the reference path (its checkpoint) and continues as it does', async () => {
      const spec = CASES[5]![1];
      const ref = referenceEngine(spec);
      await ref.run(20);
      const st = await ref.state();
      const want = await ref.run(30);
      ref.dispose();
      expect(st.params.Wq!.dtype).toBe('float32');
      const cp = deserializeCheckpoint(
        await serializeCheckpoint({ params: st.params, optimizerState: st.optimizer, step: st.step }),
      );
      for (const engine of KINDS) {
        const e = await createIclEngine(spec, { engine });
        const r = await train({ engine: e, steps: 50, resume: cp });
        expect(r.history.loss.step).toEqual(Array.from({ length: 30 }, (_, i) => 20 + i));
        expect(maxRel(r.history.loss.value, want)).toBeLessThanOrEqual(1e-4);
        e.dispose();
      }
    });

    it("params() are the layout's named tensors, owned by the engine (freed by the next run and by dispose)", async () => {
      await expectNoLeak(async () => {
        const e = await createIclEngine(stack(SEED, 2), { engine: 'simd', workerThread: false });
        const p0 = e.params();
        expect(Object.keys(p0)).toEqual([
          'l0.Wq',
          'l0.Wk',
          'l0.Wv',
          'l0.Wo',
          'l1.Wq',
          'l1.Wk',
          'l1.Wv',
          'l1.Wo',
          'final',
        ]);
        expect(p0.final!.shape).toEqual([6, 1]);
        expect(e.params()).toBe(p0);
        // the initial weights are iclInitialParams(spec.model): one seed, one set of weights
        const init = iclInitialParams(stack(SEED, 2).model);
        expect(Array.from(await p0['l1.Wk']!.data())).toEqual(Array.from(init['l1.Wk']!.values));
        await e.run(3);
        expect(p0.final!.isDisposed).toBe(true);
        const p1 = e.params();
        expect(Array.from(await p1['l1.Wk']!.data())).not.toEqual(Array.from(init['l1.Wk']!.values));
        e.dispose();
        expect(p1.final!.isDisposed).toBe(true);
      });
    });
  },
  ['wasm'],
);

describe('fast engines', () => {
  it('the SIMD engine on one thread, two, and measured is bit-identical; the float64 engine agrees (300 steps, 1e-5 relative) and states move between them', async () => {
    const spec = { ...PAPER, task: { ...PAPER.task, L: 20 }, batch: 64 };
    const engines = await Promise.all([
      createIclEngine(spec, { engine: 'simd', workerThread: false }),
      createIclEngine(spec, { engine: 'simd', workerThread: true }),
      createIclEngine(spec, { engine: 'float64' }),
    ]);
    try {
      expect(engines.map((e) => e.name)).toEqual(['simd (1 thread)', 'simd (2 threads)', 'float64']);
      const [a, b, c] = await Promise.all(engines.map((e) => e.run(300)));
      // the same two parts of every batch, added in the same order, whichever thread computes them
      expect(Array.from(b!)).toEqual(Array.from(a!));
      expect(maxRel(a!, c!)).toBeLessThanOrEqual(1e-5);
      // continue the float64 engine from the SIMD engine's state: the same next losses
      await engines[2]!.restore(await engines[0]!.state());
      expect(maxRel(await engines[0]!.run(20), await engines[2]!.run(20))).toBeLessThanOrEqual(1e-5);
    } finally {
      for (const e of engines) e.dispose();
    }
  });

  it('measured threads (the default with ≥ 2 CPUs) time one thread and two as they train, across train() calls, and give the numbers of one thread', async () => {
    const spec = { ...SEED, task: { ...SEED.task, L: 12 }, batch: 32 };
    const s = resolveIclSpec('test', spec);
    const kernel = singleSimdKernel({ heads: 2, d: 5, nOut: 1 }, 12);
    const make = (workerThread: boolean | undefined) =>
      createSimdModel('test', kernel, s.data, s.batch, s.optimizer, s.segments, [0], { workerThread });
    const [one, measured] = await Promise.all([make(false), make(undefined)]);
    try {
      const init = new Float64Array(s.P).map((_, i) => Math.sin(i + 1) * 0.3);
      one.params().set(init);
      measured.params().set(init);
      const a = one.train(300, 0);
      // 300 steps in calls of 7: the 128-step probes of each way straddle calls
      const b = new Float64Array(300);
      for (let done = 0; done < 300; done += 7) b.set(measured.train(Math.min(7, 300 - done), done), done);
      expect(Array.from(b)).toEqual(Array.from(a));
      expect(Array.from(measured.params())).toEqual(Array.from(one.params()));
      expect(one.measuredThreads).toBe(false);
      expect(one.stepsByThreads).toEqual({ one: 300, two: 0 });
      if (cpuCount() >= 2) {
        expect(measured.measuredThreads).toBe(true);
        expect(measured.stepsByThreads.one).toBeGreaterThanOrEqual(128);
        expect(measured.stepsByThreads.two).toBeGreaterThanOrEqual(128);
        expect(measured.stepsByThreads.one + measured.stepsByThreads.two).toBe(300);
        const e = await createIclEngine(spec);
        expect(e.name).toBe('simd (1–2 threads)');
        expect(e.reason).toMatch(/; 1 or 2 threads, whichever measures faster/);
        e.dispose();
      }
    } finally {
      one.dispose();
      measured.dispose();
    }
  });

  it.each([
    ['simd (2 threads), paper setting', PAPER, 'simd', true],
    [
      'simd (1 thread), tied stack, AdamW',
      {
        ...stack(SEED, 2, true),
        batch: 16,
        task: { ...SEED.task, L: 8 },
        optimizer: { ...ADAM, method: 'adamw' as const, weightDecay: 0.1 },
      },
      'simd',
      false,
    ],
    [
      'float64, SGD, batch 9',
      { ...SEED, batch: 9, optimizer: { method: 'sgd' as const, lr: 0.01, weightDecay: 0.01 } },
      'float64',
      undefined,
    ],
  ] as Array<[string, IclTrainingSpec, IclEngineKind, boolean | undefined]>)(
    'train({ engine }) resumed from a serialized checkpoint at step k ends bit-identical to an uninterrupted run: %s',
    async (_, spec, engine, workerThread) => {
      const steps = 90;
      const opts = { engine, workerThread };
      const whole = await createIclEngine(spec, opts);
      const all = await train({ engine: whole, steps, schedule: { lossEvery: 1 } });
      const end = await whole.state();
      whole.dispose();
      // the interrupted run: checkpoints every 35 steps, aborted after the one at 35
      const first = await createIclEngine(spec, opts);
      const abort = new AbortController();
      let saved: Uint8Array | undefined;
      await train({
        engine: first,
        steps,
        signal: abort.signal,
        schedule: { checkpointEvery: 35 },
        checkpoint: {
          atEnd: false,
          write: async (c: CheckpointInput) => {
            saved = await serializeCheckpoint(c);
            abort.abort();
          },
        },
      });
      first.dispose();
      const cp: Checkpoint = deserializeCheckpoint(saved!);
      expect(cp.step).toBe(35);
      expect(cp.params[Object.keys(cp.params)[0]!]!.dtype).toBe('float64');
      const second = await createIclEngine(spec, opts);
      const rest = await train({ engine: second, steps, resume: cp });
      expect(rest.completed).toBe(steps);
      expect(rest.history.loss.value).toEqual(all.history.loss.value);
      expectSameState(await second.state(), end);
      second.dispose();
    },
  );

  it('candidates: the SIMD engine runs every configuration here, the float64 engine everything; reasons', async () => {
    expect(iclEngineCandidates(PAPER)).toEqual([{ kind: 'simd' }, { kind: 'float64' }]);
    expect(iclEngineCandidates(CASES[6]![1])).toEqual([{ kind: 'simd' }, { kind: 'float64' }]);
    const huge: IclTrainingSpec = {
      ...SEED,
      model: { d: 5, numHeads: 64, layers: 16 },
      task: { L: 4096, dx: 5, noiseStd: 0 },
    };
    const [simd, f64] = iclEngineCandidates(huge);
    expect(simd!.unsupported).toMatch(
      /^needs \d+ MiB of WebAssembly memory for spec.model \(layers 16, numHeads 64, d 5\), spec.task.L 4096 and spec.batch 128; it allows < 2048 MiB$/,
    );
    expect(f64).toEqual({ kind: 'float64' });
    await expect(createIclEngine(huge, { engine: 'simd' })).rejects.toThrow(
      /^createIclEngine: options.engine 'simd' cannot run this spec: it needs \d+ MiB .*; use options.engine 'auto' or 'float64'$/,
    );
    const e = await createIclEngine(SEED, { workerThread: true });
    expect([e.kind, e.reason]).toEqual(['simd', 'simd: every field of the spec is supported; 2 threads']);
    e.dispose();
    const f = await createIclEngine(SEED, { engine: 'float64' });
    expect([f.kind, f.name, f.reason]).toEqual(['float64', 'float64', "float64: options.engine 'float64'"]);
    f.dispose();
    const none = [
      { kind: 'simd' as const, unsupported: 'needs WebAssembly SIMD, which this JavaScript engine lacks' },
      { kind: 'float64' as const },
    ];
    expect(pickEngine('f', none, 'auto')).toEqual({
      kind: 'float64',
      why: 'simd needs WebAssembly SIMD, which this JavaScript engine lacks',
    });
    expect(() => pickEngine('f', none, 'simd')).toThrow(
      new RangeError(
        "f: options.engine 'simd' cannot run this spec: it needs WebAssembly SIMD, which this JavaScript engine lacks; use options.engine 'auto' or 'float64'",
      ),
    );
  });

  it('refuses linear attention (model.attention) with the reason, on every engine', async () => {
    const linear = { ...SEED, model: { ...SEED.model, attention: 'linear' as const } };
    const why = "runs softmax attention only; spec.model.attention is 'linear'";
    expect(iclEngineCandidates(linear)).toEqual([
      { kind: 'simd', unsupported: why },
      { kind: 'float64', unsupported: why },
    ]);
    await expect(createIclEngine(linear)).rejects.toThrow(
      new RangeError(`createIclEngine: no fast engine runs this spec: simd ${why}; float64 ${why}`),
    );
    await expect(createIclEngine(linear, { engine: 'float64' })).rejects.toThrow(
      new RangeError(
        `createIclEngine: options.engine 'float64' cannot run this spec: it ${why}; no fast engine runs it`,
      ),
    );
  });

  it('state(): float64 params and slots, a standard OptimizerState with a step per parameter', async () => {
    const e = await createIclEngine(
      { ...SEED, batch: 8, task: { ...SEED.task, L: 4 } },
      { engine: 'simd', workerThread: false },
    );
    const s0 = await e.state();
    expect(s0.optimizer).toEqual({
      type: 'adam',
      config: { lr: 1e-3, weightDecay: 0, betas: [0.9, 0.999], eps: 1e-8 },
      params: {},
    });
    await e.run(3);
    const s = await e.state();
    expect(s.step).toBe(3);
    expect(Object.keys(s.params)).toEqual(['Wq', 'Wk', 'Wv', 'Wo']);
    expect(s.params.Wo).toMatchObject({ shape: [2, 6, 1], dtype: 'float64' });
    expect(s.optimizer!.params.Wk!.step).toBe(3);
    expect(s.optimizer!.params.Wk!.slots.v!.values).toBeInstanceOf(Float64Array);
    e.dispose();
    await expect(e.run(1)).rejects.toThrow('IclEngine(simd (1 thread)).run: the engine was disposed');
  });

  it('validates the spec, the options and restored states, naming the field and what is allowed', async () => {
    const bad = (patch: Partial<IclTrainingSpec>) => createIclEngine({ ...SEED, ...patch });
    await expect(bad({ model: { ...SEED.model, numHeads: 0 } })).rejects.toThrow(
      new RangeError('createIclEngine: spec.model.numHeads must be an integer ≥ 1; got 0'),
    );
    await expect(bad({ task: { ...SEED.task, dx: 4 } })).rejects.toThrow(
      new RangeError('createIclEngine: spec.task.dx must equal spec.model.d (5); got 4'),
    );
    await expect(bad({ task: { ...SEED.task, dy: 2 } })).rejects.toThrow('createIclEngine: spec.task.dy must be 1');
    await expect(bad({ task: { ...SEED.task, betaScale: 'half' as never } })).rejects.toThrow(
      "createIclEngine: spec.task.betaScale must be one of 'unit', 'inverse-d'; got 'half'",
    );
    await expect(
      bad({
        task: {
          ...SEED.task,
          covariance: [
            [1, 0],
            [0, 1],
          ],
        },
      }),
    ).rejects.toThrow('createIclEngine: spec.task.covariance must be a 5×5 array');
    await expect(bad({ batch: 0 })).rejects.toThrow(
      'createIclEngine: spec.batch must be an integer in [1, 2147483648]; got 0',
    );
    await expect(bad({ dataSeed: -1 })).rejects.toThrow(
      'createIclEngine: spec.dataSeed must be an integer in [0, 2^53 − 1]; got -1',
    );
    await expect(bad({ optimizer: { ...ADAM, method: 'rmsprop' as never } })).rejects.toThrow(
      "createIclEngine: spec.optimizer.method must be one of 'adam', 'adamw', 'sgd'; got 'rmsprop'",
    );
    await expect(bad({ optimizer: { ...ADAM, betas: [0.9, 1] } })).rejects.toThrow(
      'createIclEngine: spec.optimizer.betas[1] must be a finite number in [0, 1); got 1',
    );
    await expect(bad({ optimizer: { method: 'adam', lr: 1e-3 } })).rejects.toThrow(
      new TypeError("createIclEngine: spec.optimizer.betas must be a pair [β1, β2] for 'adam'; got undefined"),
    );
    await expect(createIclEngine(SEED, { engine: 'gpu' as never })).rejects.toThrow(
      "createIclEngine: options.engine must be one of 'auto', 'simd', 'float64'; got 'gpu'",
    );
    expect(() => iclEngineCandidates({ ...SEED, model: { ...SEED.model, layers: 1, tied: true } })).toThrow(
      'iclEngineCandidates: spec.model.tied and spec.model.residual apply to the stack',
    );
    const e = await createIclEngine({ ...SEED, batch: 4, task: { ...SEED.task, L: 3 } }, { engine: 'float64' });
    const st = await e.state();
    const restore = (patch: Partial<EngineState>) => () => e.restore({ ...st, ...patch });
    expect(restore({ params: { ...st.params, Wx: st.params.Wq! } })).toThrow(
      "IclEngine(float64).restore: state.params['Wx'] is not a parameter of this model (Wq, Wk, Wv, Wo)",
    );
    const { Wo: _drop, ...noWo } = st.params;
    expect(restore({ params: noWo })).toThrow("IclEngine(float64).restore: state.params['Wo'] is missing");
    expect(restore({ params: { ...st.params, Wo: { ...st.params.Wo!, shape: [2, 6, 2] } } })).toThrow(
      "IclEngine(float64).restore: state.params['Wo'].shape must be [2, 6, 1] (the layout of 'Wo'); got [2, 6, 2]",
    );
    expect(restore({ optimizer: { ...st.optimizer!, type: 'sgd' } })).toThrow(
      "IclEngine(float64).restore: state.optimizer.type must be 'adam' (spec.optimizer.method); got 'sgd'",
    );
    expect(restore({ optimizer: { ...st.optimizer!, config: { lr: 1, weightDecay: 0 } } })).toThrow(
      'IclEngine(float64).restore: state.optimizer.config must equal spec.optimizer\'s {"lr":0.001,"weightDecay":0,"betas":[0.9,0.999],"eps":1e-8}',
    );
    expect(restore({ step: -1 })).toThrow(
      'IclEngine(float64).restore: state.step must be an integer in [0, 4294967296]; got -1',
    );
    await expect(e.run(0)).rejects.toThrow('IclEngine(float64).run: n must be an integer ≥ 1; got 0');
    e.dispose();
  });
});

function expectSameState(a: EngineState, b: EngineState): void {
  expect(a.step).toBe(b.step);
  expect(Object.keys(a.params)).toEqual(Object.keys(b.params));
  for (const k of Object.keys(b.params))
    expect(Array.from(a.params[k]!.values)).toEqual(Array.from(b.params[k]!.values));
  const pa = a.optimizer!.params,
    pb = b.optimizer!.params;
  expect(Object.keys(pa)).toEqual(Object.keys(pb));
  for (const k of Object.keys(pb)) {
    expect(pa[k]!.step).toBe(pb[k]!.step);
    for (const s of Object.keys(pb[k]!.slots))
      expect(Array.from(pa[k]!.slots[s]!.values)).toEqual(Array.from(pb[k]!.slots[s]!.values));
  }
}
