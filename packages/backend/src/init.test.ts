import * as tf from '@tensorflow/tfjs-core';
import {
  BackendUnavailableError,
  formatBackendReport,
  initBackend,
  probeBackends,
  registerGradients,
} from './index.js';

describe('initBackend', () => {
  it('auto in Node reports every candidate in order and why each better one was skipped', async () => {
    const report = await initBackend({ prefer: 'auto' });
    expect(report.platform).toBe('node');
    expect(report.candidates.map((c) => c.name)).toEqual(['tensorflow', 'webgpu', 'wasm', 'cpu']);
    expect(tf.getBackend()).toBe(report.chosen);
    const chosenIdx = report.candidates.findIndex((c) => c.status === 'chosen');
    expect(chosenIdx).toBeGreaterThanOrEqual(0);
    for (const c of report.candidates.slice(0, chosenIdx)) {
      expect(['unavailable', 'skipped']).toContain(c.status);
      expect(c.reason).toEqual(expect.any(String));
    }
    // tfjs-node(-gpu) are optional and not installed in this workspace.
    expect(report.candidates[0]!.reason).toMatch(/tfjs-node-gpu not installed; @tensorflow\/tfjs-node not installed/);
    expect(formatBackendReport(report)).toContain('→');
  });

  it('a forced backend that is missing throws, saying why and what to install', async () => {
    await expect(initBackend({ prefer: 'tensorflow' })).rejects.toThrow(BackendUnavailableError);
    await expect(initBackend({ prefer: 'tensorflow' })).rejects.toThrow(
      /not installed.*install @tensorflow\/tfjs-node-gpu/,
    );
  });

  it('webgl is refused in Node with the allowed values named', async () => {
    await expect(initBackend({ prefer: 'webgl' })).rejects.toThrow(
      /prefer must be one of auto, tensorflow, webgpu, wasm, cpu; got "webgl" \(webgl is not available on node\)/,
    );
    await expect(initBackend({ prefer: 'gpu' as never })).rejects.toThrow(/got "gpu"/);
  });

  it('forcing cpu and wasm switches tfjs to them', async () => {
    expect((await initBackend({ prefer: 'cpu' })).chosen).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect((await initBackend({ prefer: 'wasm' })).chosen).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('registers gradients once', () => {
    expect(registerGradients()).toBe(0);
    expect(tf.getGradient('Softmax')).toBeDefined();
    expect(tf.getGradient('BatchMatMul')).toBeDefined();
  });

  it('probeBackends lists each backend with a status and restores the current one', async () => {
    await initBackend({ prefer: 'cpu' });
    const list = await probeBackends();
    expect(list.map((c) => c.name)).toEqual(['tensorflow', 'webgpu', 'wasm', 'cpu']);
    expect(list.find((c) => c.name === 'cpu')!.status).toBe('available');
    expect(list.find((c) => c.name === 'tensorflow')!.status).toBe('unavailable');
    expect(tf.getBackend()).toBe('cpu');
  });
});
