import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose, expectNoLeak } from '@attnlab/backend/testing';
import {
  autodiffEngine,
  deserializeCheckpoint,
  serializeCheckpoint,
  sgd,
  train,
  type Engine,
  type EngineState,
  type HostTensor,
  type TrainEvent,
} from './index.js';
import { TestRng, hostBatch, makeParams, regressionLoss, toTensors } from './test-utils/regression.js';

/** Batch t of the regression fixture, host side (the same numbers the autodiff path gets as tensors). */
const batchAt = (t: number, n = 16) => hostBatch(new TestRng(1000 + t), n);

/**
 * A host engine written for these tests: float64 SGD on the regression fixture, by hand. It is
 * an independent implementation of what `autodiffEngine` + `sgd` compute in float32.
 */
function hostSgdEngine(lr: number): Engine & { calls: number[] } {
  let w = [0.1, 0.2, -0.1],
    b = 0,
    step = 0,
    owned: tf.Tensor[] = [];
  const calls: number[] = [];
  const host = (): Record<string, HostTensor> => ({
    w: { shape: [3, 1], dtype: 'float64', values: Float64Array.from(w) },
    b: { shape: [], dtype: 'float64', values: Float64Array.from([b]) },
  });
  return {
    name: 'host float64 sgd',
    calls,
    get step() {
      return step;
    },
    async run(n) {
      calls.push(n);
      tf.dispose(owned);
      owned = [];
      const losses = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const { x, y } = batchAt(step);
        const r = x.map((row, k) => row.reduce((s, v, j) => s + v * w[j]!, b) - y[k]!);
        losses[i] = r.reduce((s, v) => s + v * v, 0) / r.length;
        const gw = w.map((_, j) => (2 / r.length) * r.reduce((s, rk, k) => s + rk * x[k]![j]!, 0));
        const gb = (2 / r.length) * r.reduce((s, v) => s + v, 0);
        w = w.map((v, j) => v - lr * gw[j]!);
        b -= lr * gb;
        step++;
      }
      return losses;
    },
    params() {
      if (owned.length === 0) owned = [tf.tensor2d(w, [3, 1]), tf.scalar(b)];
      return { w: owned[0]!, b: owned[1]! };
    },
    async state(): Promise<EngineState> {
      return { step, params: host(), optimizer: { type: 'sgd', config: { lr, weightDecay: 0 }, params: {} } };
    },
    restore(s) {
      w = Array.from(s.params.w!.values);
      b = s.params.b!.values[0]!;
      step = s.step;
      tf.dispose(owned);
      owned = [];
    },
    dispose() {
      tf.dispose(owned);
      owned = [];
    },
  };
}

describeBackends('train() on an engine', (ctx) => {
  it('any engine: the same history as autodiff + sgd on the same batches (float32 tolerance)', async () => {
    const engine = hostSgdEngine(0.05);
    const probes = { w: { every: 10, run: async (p: Record<string, tf.Tensor>) => Array.from(await p.w!.data()) } };
    const validation = async (p: Record<string, tf.Tensor>) =>
      tf.tidy(() => regressionLoss(p as never, toTensors(batchAt(99, 32))));
    const a = await train({ engine, steps: 40, probes, validation, schedule: { validationEvery: 10 } });
    const params = makeParams();
    const b = await train({
      params,
      optimizer: sgd({ lr: 0.05 }),
      loss: regressionLoss,
      data: { batch: (t) => toTensors(batchAt(t)) },
      steps: 40,
      probes,
      validation,
      schedule: { validationEvery: 10 },
    });
    expect(a.engine).toBe('host float64 sgd');
    expect(b.engine).toMatch(/^autodiff \(/);
    expect(a.history.loss.step).toEqual(b.history.loss.step);
    await expectClose(a.history.loss.value, b.history.loss.value, 10 * ctx.tol, 1e-5);
    expect(a.history.validation.step).toEqual([0, 10, 20, 30]);
    await expectClose(a.history.validation.value, b.history.validation.value, 10 * ctx.tol, 1e-5);
    await expectClose(
      a.history.probes.w!.value.flat() as number[],
      b.history.probes.w!.value.flat() as number[],
      10 * ctx.tol,
      1e-5,
    );
    engine.dispose();
    tf.dispose(Object.values(params));
  });

  it('engine calls never cross a step where something is due, and their sizes never change the numbers', async () => {
    const histories = [];
    for (const readEvery of [1, 3, 1000]) {
      const engine = hostSgdEngine(0.05);
      const r = await train({
        engine,
        steps: 57,
        schedule: { readEvery, progressEvery: 25, validationEvery: 7 },
        validation: () => 0,
      });
      for (let i = 0, t = 0; i < engine.calls.length; t += engine.calls[i]!, i++) {
        const last = t + engine.calls[i]! - 1;
        // no due point inside a call: validation at t % 7 == 0, progress after 25, 50 and the end
        for (let s = t; s < last; s++) expect(s % 7 === 0 || (s + 1) % 25 === 0).toBe(false);
        expect(engine.calls[i]).toBeLessThanOrEqual(readEvery);
      }
      histories.push(r.history);
      engine.dispose();
    }
    expect(histories[1]).toEqual(histories[0]);
    expect(histories[2]).toEqual(histories[0]);
  });

  it('aborted, checkpointed and resumed on a fresh engine, it ends bit-identical to an uninterrupted run', async () => {
    const straight = hostSgdEngine(0.05);
    const full = await train({ engine: straight, steps: 60, schedule: { lossEvery: 2 } });
    let saved: Uint8Array | undefined;
    const ac = new AbortController();
    const first = hostSgdEngine(0.05);
    const events: TrainEvent[] = [];
    const part = await train({
      engine: first,
      steps: 60,
      signal: ac.signal,
      schedule: { lossEvery: 2, progressEvery: 10, checkpointEvery: 25 },
      checkpoint: {
        write: async (c) => {
          saved = await serializeCheckpoint(c);
        },
        meta: { run: 'x' },
      },
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'progress' && e.completed === 30) ac.abort();
      },
    });
    expect(part.aborted).toBe(true);
    expect(part.completed).toBe(30);
    const cp = deserializeCheckpoint(saved!);
    expect(cp.step).toBe(30); // the abort wrote a checkpoint where it stopped
    expect(cp.params.w!.dtype).toBe('float64');
    const second = hostSgdEngine(0.05);
    const rest = await train({ engine: second, steps: 60, resume: cp, schedule: { lossEvery: 2 } });
    expect(rest.completed).toBe(60);
    expect(rest.history).toEqual(full.history);
    expect(new Uint8Array((await second.state()).params.w!.values.buffer)).toEqual(
      new Uint8Array((await straight.state()).params.w!.values.buffer),
    );
    for (const e of [straight, first, second]) e.dispose();
  });

  it('the autodiff engine restores float64 states into float32 variables and leaks nothing', async () => {
    await expectNoLeak(async () => {
      const params = makeParams();
      const opt = sgd({ lr: 0.05 });
      const engine = autodiffEngine({
        params,
        optimizer: opt,
        loss: regressionLoss,
        data: { batch: (t) => toTensors(batchAt(t)) },
      });
      void engine.restore({
        step: 5,
        params: {
          w: { shape: [3, 1], dtype: 'float64', values: Float64Array.from([1, 2, 3]) },
          b: { shape: [], dtype: 'float64', values: Float64Array.from([0.5]) },
        },
        optimizer: null,
      });
      expect(engine.step).toBe(5);
      await expectClose(params.w!, [1, 2, 3], 0);
      const losses = await engine.run(3);
      expect(losses).toHaveLength(3);
      expect(engine.step).toBe(8);
      tf.dispose(Object.values(params));
      opt.dispose();
    });
  });

  it('names what is wrong', async () => {
    const engine = hostSgdEngine(0.1);
    await expect(train({ engine, steps: 5, validation: { batch: () => 0 } })).rejects.toThrow(
      /train: options.validation must be a function \(params, step\) => number when options.engine is given/,
    );
    await expect(train({ engine, steps: 5, params: makeParams() } as never)).rejects.toThrow(
      /train: options.params must be left out when options.engine is given/,
    );
    await expect(train({ engine, steps: 5, startStep: 3 })).rejects.toThrow(
      /train: the engine is at step 0 but the run starts at 3/,
    );
    await expect(train({ engine: { ...engine, run: undefined } as never, steps: 5 })).rejects.toThrow(
      /train: options.engine.run must be a function/,
    );
    const liar: Engine = { ...engine, name: 'liar', run: async () => new Float64Array(1) };
    await expect(train({ engine: liar, steps: 5, schedule: { readEvery: 5 } })).rejects.toThrow(
      /engine 'liar' ran \d+ iterations but gave 1 losses/,
    );
    engine.dispose();
  });
});
