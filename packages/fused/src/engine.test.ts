import { createIclEngine } from './engine.js';

const ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

describe('createIclEngine', () => {
  it("'auto' takes the SIMD engine where it applies and the float64 engine elsewhere; both train alike", async () => {
    const simd = await createIclEngine({ heads: 2, d: 5 }, 20, 16, 4, ADAM, 0.01, { workerThread: false });
    const js = await createIclEngine({ heads: 2, d: 5 }, 20, 16, 4, ADAM, 0.01, { engine: 'js' });
    const odd = await createIclEngine({ heads: 1, d: 3 }, 20, 16, 4, ADAM);
    expect([simd.kind, js.kind, odd.kind]).toEqual(['simd', 'js', 'js']);
    expect(simd.workerExamples).toBe(0);
    const a = simd.train(40);
    const b = js.train(40);
    for (let i = 0; i < 40; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(1e-5 * b[i]!);
    // state moves between engines: continue the js model from the SIMD model's state
    js.setState(simd.getState());
    js.t = simd.t;
    const c = simd.train(5);
    const d = js.train(5);
    for (let i = 0; i < 5; i++) expect(Math.abs(c[i]! - d[i]!)).toBeLessThanOrEqual(1e-5 * d[i]!);
    expect(odd.train(3)).toHaveLength(3);
    expect(() => js.setState([1, 2])).toThrow('IclEngine.setState: state must hold 684 numbers');
    for (const e of [simd, js, odd]) e.dispose();
  });

  it('names the reason when an engine cannot be used', async () => {
    await expect(createIclEngine({ heads: 2, d: 5 }, 20, 10, 4, ADAM, 0.01, { engine: 'simd' })).rejects.toThrow("createIclEngine: engine 'simd' needs a batch that is a multiple of 4; got 10");
    await expect(createIclEngine({ heads: 2, d: 5 }, 20, 16, 4, ADAM, 0.01, { engine: 'gpu' as never })).rejects.toThrow('createIclEngine: engine must be one of auto, simd, js; got "gpu"');
  });
});
