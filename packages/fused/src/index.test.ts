import { build } from 'esbuild';
import { join } from 'node:path';
import * as api from './index.js';

describe('public entry', () => {
  it('exports only what callers use (values; types are checked by tsc)', () => {
    expect(Object.keys(api).sort()).toEqual([
      'ICL_ENGINE_KINDS',
      'adamFlatUpdate',
      'createCvAttentionWasm',
      'createIclEngine',
      'createMultiIclTrainer',
      'createWebGPUIclTrainer',
      'iclEngineCandidates',
      'iclForward',
      'iclLossGrad',
      'iclStackForward',
      'iclStackLossGrad',
      'registerFusedKernels',
    ]);
  });

  it('bundles for browsers without Node built-ins (the benchmark lives in ./bench)', async () => {
    const r = await build({
      entryPoints: [join(__dirname, 'index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      conditions: ['@attnlab/source'],
      external: ['@tensorflow/*'],
      logLevel: 'silent',
    });
    const inputs = Object.keys(r.metafile.inputs);
    expect(inputs.some((f) => f.includes('/bench/'))).toBe(false);
    // what the bundle imports: tfjs only (the SIMD engine reaches worker_threads and os at run time, in Node only)
    const imports = Object.values(r.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
    expect([...new Set(imports)].sort()).toEqual(['@tensorflow/tfjs-core']);
  });
});
