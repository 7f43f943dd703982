import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose, expectNoLeak } from '@attnlab/backend/testing';
import { initParams, paramCount } from './single/float64.js';
import { createFusedIclTrainer, createMultiIclTrainer } from './multi.js';

describeBackends('fused trainers', (ctx) => {
  it('the trainer on this backend reproduces the float64 js trainer\'s losses (1e-4 relative)', async () => {
    const steps = 15;
    const js = await createFusedIclTrainer({ heads: 2, seed: 31, lr: 3e-3, backend: 'js' });
    const want = await js.step(steps);
    const backend = ctx.backend;
    await expectNoLeak(async () => {
      const tr = await createFusedIclTrainer({ heads: 2, seed: 31, lr: 3e-3, backend, stepsPerDispatch: 4, dispatchesPerSubmit: 2 });
      const got = await tr.step(steps);
      expect(tr.completedSteps).toBe(steps);
      await expectClose(Array.from(got), want, 1e-4, 0);
      const p = await tr.params();
      const q = await js.params();
      expect(p.wq.length).toBe(2 * 36);
      expect(p.wo.length).toBe(2 * 6);
      await expectClose(Array.from(p.flat), Array.from(q.flat), 1e-3, 2e-6);
      tr.dispose();
    });
    // Training moves the parameters away from the initial ones.
    const init = initParams({ heads: 2, d: 5 }, 31);
    const moved = (await js.params()).flat.reduce((s, x, i) => Math.max(s, Math.abs(x - init[i]!)), 0);
    expect(moved).toBeGreaterThan(1e-2);
  });
});

describeBackends('multi-model trainer', () => {
  for (const backend of ['simd', 'js'] as const) {
    it(`M models in one pass equal M separate trainers (${backend})`, async () => {
      const models = [{ heads: 1, seed: 3 }, { heads: 2, seed: 3, lr: 2e-3 }, { heads: 4, seed: 8, dataSeed: 3 }];
      const multi = await createMultiIclTrainer({ models, ...(backend === 'js' ? { backend } : {}) });
      expect(multi.backend).toBe(backend);
      const losses = await multi.step(6);
      for (let i = 0; i < models.length; i++) {
        const m = models[i]!;
        // one thread, like the multi trainer: the worker's split batch sums in another order
        const one = await createFusedIclTrainer({ heads: m.heads, seed: m.seed, lr: m.lr, backend, workerThread: false });
        let want = await one.step(6);
        one.dispose();
        if (m.dataSeed !== undefined) {
          // Different data seed: compare with a single model built the same way.
          const single = await createMultiIclTrainer({ models: [m], backend });
          want = (await single.step(6))[0]!;
        }
        expect(Array.from(losses[i]!)).toEqual(Array.from(want));
        expect((await multi.params(i)).flat.length).toBe(paramCount({ heads: m.heads, d: 5 }));
      }
      await expect(multi.params(3)).rejects.toThrow('params(i): i must be an integer in [0, 2]; got 3');
    });
  }

  it('defaults to the SIMD engine where it applies, and to js elsewhere', async () => {
    const auto = await createFusedIclTrainer({ heads: 2, seed: 31, lr: 3e-3 });
    const js = await createFusedIclTrainer({ heads: 2, seed: 31, lr: 3e-3, backend: 'js' });
    expect(auto.backend).toBe('simd');
    await expectClose(Array.from(await auto.step(50)), Array.from(await js.step(50)), 1e-5, 0);
    auto.dispose();
    await expect(auto.step(1)).rejects.toThrow('step after dispose');
    const odd = await createFusedIclTrainer({ heads: 1, seed: 2, batch: 6 });
    expect(odd.backend).toBe('js');
    await expect(createFusedIclTrainer({ heads: 1, seed: 2, d: 3, backend: 'simd' })).rejects.toThrow("createFusedIclTrainer: engine 'simd' supports d = 5 (the seed's token width) only; got d = 3");
  });

  it('validates its arguments with clear messages', async () => {
    await expect(createFusedIclTrainer({ heads: 0, seed: 1 })).rejects.toThrow('createFusedIclTrainer: heads must be an integer ≥ 1; got 0');
    await expect(createFusedIclTrainer({ heads: 2, seed: -1 })).rejects.toThrow('seed must be a non-negative safe integer; got -1');
    await expect(createFusedIclTrainer({ heads: 2, seed: 1, backend: 'gpu' as never })).rejects.toThrow("backend must be one of auto, simd, js, cpu, wasm, webgpu; got \"gpu\"");
    await expect(createFusedIclTrainer({ heads: 2, seed: 1, betas: [0.9, 1] })).rejects.toThrow('betas[1] must be a number in [0, 1); got 1');
    await expect(createMultiIclTrainer({ models: [] })).rejects.toThrow('createMultiIclTrainer: options.models must be a non-empty array');
    await expect(createMultiIclTrainer({ models: [{ heads: 1, seed: 1 }], backend: 'gpu' as never })).rejects.toThrow('backend must be one of auto, simd, js, webgpu; got "gpu"');
    await expect(createMultiIclTrainer({ models: [{ heads: 1, seed: 1 }], batch: 6, backend: 'simd' })).rejects.toThrow("createMultiIclTrainer: backend 'simd' needs a batch that is a multiple of 4; got 6");
    if (tf.getBackend() !== 'wasm') {
      await expect(createFusedIclTrainer({ heads: 2, seed: 1, backend: 'wasm' })).rejects.toThrow("backend 'wasm' needs it to be the active tfjs backend");
    }
  });
}, ['cpu']);
