import { iclInitialParams } from '@attnlab/attention';
import { initBackend } from '@attnlab/backend';
import { createIclEngine } from './engine.js';
import { createMultiIclTrainer } from './multi.js';
import type { IclTrainingSpec } from './spec.js';

/** The single-model spec of one multi-trainer model (seed 004's task, Adam). */
function specOf(m: { heads: number; seed: number; dataSeed?: number; lr?: number }): IclTrainingSpec {
  return {
    model: { d: 5, numHeads: m.heads, layers: 1, seed: m.seed },
    task: { L: 40, dx: 5, noiseStd: 0.01 },
    batch: 128,
    dataSeed: m.dataSeed ?? m.seed,
    optimizer: { method: 'adam', lr: m.lr ?? 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 },
  };
}

describe('multi-model trainer', () => {
  for (const backend of ['simd', 'float64'] as const) {
    it(`M models in one pass equal M separate engines bit for bit (${backend})`, async () => {
      const models = [
        { heads: 1, seed: 3 },
        { heads: 2, seed: 3, lr: 2e-3 },
        { heads: 4, seed: 8, dataSeed: 3 },
      ];
      const multi = await createMultiIclTrainer({ models, backend });
      expect(multi.backend).toBe(backend);
      const losses = await multi.step(6);
      for (let i = 0; i < models.length; i++) {
        // the engine's default threads: the same two parts of each batch as the multi trainer
        const one = await createIclEngine(specOf(models[i]!), { engine: backend });
        const want = await one.run(6);
        const st = await one.state();
        one.dispose();
        expect(Array.from(losses[i]!)).toEqual(Array.from(Float32Array.from(want)));
        const p = await multi.params(i);
        expect(p.Wo!.shape).toEqual([models[i]!.heads, 6, 1]);
        expect(Array.from(p.Wq!.values)).toEqual(Array.from(Float32Array.from(st.params.Wq!.values)));
      }
      await expect(multi.params(3)).rejects.toThrow('params(i): i must be an integer in [0, 2]; got 3');
    });
  }

  it('starts from iclInitialParams of each seed; validates its arguments', async () => {
    const multi = await createMultiIclTrainer({ models: [{ heads: 2, seed: 41 }] });
    expect(multi.backend).toBe('simd');
    const p = await multi.params(0);
    expect(Array.from(p.Wk!.values)).toEqual(
      Array.from(iclInitialParams({ d: 5, numHeads: 2, layers: 1, seed: 41 }).Wk!.values),
    );
    await expect(createMultiIclTrainer({ models: [] })).rejects.toThrow(
      'createMultiIclTrainer: options.models must be a non-empty array',
    );
    await expect(createMultiIclTrainer({ models: [{ heads: 1, seed: 1 }], backend: 'gpu' as never })).rejects.toThrow(
      "createMultiIclTrainer: options.backend must be one of 'auto', 'simd', 'float64', 'webgpu'; got 'gpu'",
    );
    await expect(createMultiIclTrainer({ models: [{ heads: 0, seed: 1 }] })).rejects.toThrow(
      'createMultiIclTrainer: options.models[0].heads must be an integer ≥ 1; got 0',
    );
    await expect(createMultiIclTrainer({ models: [{ heads: 1, seed: 1, beta2: 1 }] })).rejects.toThrow(
      'createMultiIclTrainer: options.models[0].beta2 must be a finite number in [0, 1); got 1',
    );
    await initBackend({ prefer: 'cpu' });
    await expect(createMultiIclTrainer({ models: [{ heads: 1, seed: 1 }], backend: 'webgpu' })).rejects.toThrow(
      "backend 'webgpu' needs the active tfjs backend to be webgpu",
    );
  });
});
