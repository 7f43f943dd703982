import * as tf from '@tensorflow/tfjs-core';
import { describeBackends } from '@attnlab/backend/testing';
import { normals, philox4x32 } from '@attnlab/data';
import { createIclEngine } from '../engine.js';
import { paramCount } from '../single/float64.js';
import { createWebGPUIclTrainer, checkShader } from './trainer.js';
import { PHILOX_TEST_WGSL } from './single.js';

function device(): GPUDevice {
  return (tf.backend() as unknown as { device: GPUDevice }).device;
}

async function readBuffer(dev: GPUDevice, src: GPUBuffer, size: number): Promise<ArrayBuffer> {
  const read = dev.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = dev.createCommandEncoder();
  enc.copyBufferToBuffer(src, 0, read, 0, size);
  dev.queue.submit([enc.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const out = read.getMappedRange().slice(0);
  read.unmap();
  read.destroy();
  return out;
}

describeBackends(
  'WGSL trainer',
  () => {
    it('WGSL Philox equals @attnlab/data bit for bit (KATs + 4096 blocks); normals within float32', async () => {
      const dev = device();
      const ctr: number[][] = [
        [0, 0, 0, 0],
        [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
        [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
      ];
      const key: number[][] = [
        [0, 0],
        [0xffffffff, 0xffffffff],
        [0xa4093822, 0x299f31d0],
      ];
      // A normal sequence (stream 2, c1 9, c2 4) under seed 2^32 + 77: blocks 0..4095.
      for (let i = 0; i < 4096; i++) {
        ctr.push([i, 9, 4, 2]);
        key.push([77, 1]);
      }
      const n = ctr.length;
      const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
      const cb = dev.createBuffer({ size: 16 * n, usage });
      dev.queue.writeBuffer(cb, 0, Uint32Array.from(ctr.flat()));
      const kb = dev.createBuffer({ size: 8 * n, usage });
      dev.queue.writeBuffer(kb, 0, Uint32Array.from(key.flat()));
      const ub = dev.createBuffer({ size: 16 * n, usage });
      const nb = dev.createBuffer({ size: 16 * n, usage });
      const module = dev.createShaderModule({ code: PHILOX_TEST_WGSL });
      await checkShader(module, 'philox test');
      const pipeline = dev.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
      const bg = dev.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [cb, kb, ub, nb].map((buffer, binding) => ({ binding, resource: { buffer } })),
      });
      const enc = dev.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bg);
      pass.dispatchWorkgroups(Math.ceil(n / 64));
      pass.end();
      dev.queue.submit([enc.finish()]);
      const u = new Uint32Array(await readBuffer(dev, ub, 16 * n));
      const g = new Float32Array(await readBuffer(dev, nb, 16 * n));
      for (const b of [cb, kb, ub, nb]) b.destroy();
      for (let i = 0; i < n; i++) {
        const want = philox4x32(ctr[i] as [number, number, number, number], key[i] as [number, number]);
        if (u[4 * i] !== want[0] || u[4 * i + 1] !== want[1] || u[4 * i + 2] !== want[2] || u[4 * i + 3] !== want[3]) {
          throw new Error(`block ${i}: WGSL ${Array.from(u.subarray(4 * i, 4 * i + 4))} vs TS ${want}`);
        }
      }
      const ref = normals(2 ** 32 + 77, 2, 9, 4, 4 * 4096);
      let worst = 0;
      for (let j = 0; j < ref.length; j++)
        worst = Math.max(worst, Math.abs(g[12 + j]! - ref[j]!) / (1 + Math.abs(ref[j]!)));
      expect(worst).toBeLessThan(2e-5);
    });

    it("trains several models per dispatch with the float64 engine's losses (1e-4 relative)", async () => {
      const specs = [
        { heads: 2, seed: 1 },
        { heads: 1, seed: 7, lr: 3e-3 },
        { heads: 3, seed: 2 ** 33 + 5 },
      ];
      const steps = 12;
      const gpu = await createWebGPUIclTrainer({
        device: device(),
        models: specs,
        stepsPerDispatch: 5,
        dispatchesPerSubmit: 2,
      });
      const losses = await gpu.run(steps);
      expect(gpu.step).toBe(steps);
      for (let i = 0; i < specs.length; i++) {
        const s = specs[i]!;
        const cpu = await createIclEngine(
          {
            model: { d: 5, numHeads: s.heads, layers: 1, seed: s.seed },
            task: { L: 40, dx: 5, noiseStd: 0.01 },
            batch: 128,
            dataSeed: s.seed,
            optimizer: { method: 'adam', lr: s.lr ?? 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 },
          },
          { engine: 'float64' },
        );
        const want = await cpu.run(steps);
        for (let k = 0; k < steps; k++) {
          const got = losses[i]![k]!;
          if (!(Math.abs(got - want[k]!) <= 1e-4 * Math.abs(want[k]!)))
            throw new Error(`model ${i} step ${k}: GPU loss ${got}, CPU ${want[k]}`);
        }
        const p = await gpu.params(i);
        expect(p.length).toBe(paramCount({ heads: s.heads, d: 5 }));
        const st = await cpu.state();
        const flat = [
          ...st.params.Wq!.values,
          ...st.params.Wk!.values,
          ...st.params.Wv!.values,
          ...st.params.Wo!.values,
        ];
        let worst = 0;
        for (let j = 0; j < p.length; j++) worst = Math.max(worst, Math.abs(p[j]! - flat[j]!));
        expect(worst).toBeLessThan(1e-5);
        cpu.dispose();
      }
      gpu.dispose();
    });
  },
  ['webgpu'],
);
