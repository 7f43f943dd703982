import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose } from '@attnlab/backend/testing';
import { adam, adamw, sgd, type Optimizer } from '@attnlab/train';
import { optimizeFlat, type FlatOptimizer } from './optimizer.js';

describe('optimizeFlat (float64)', () => {
  it("Adam's first two steps by hand (PyTorch's form)", () => {
    // Step 1: m = 0.1 g, v = 0.001 g², step size lr/0.1, denom √v/√0.001 + eps = |g| + eps → p −= lr·g/(|g| + eps).
    // Step 2 with the same g: m = 0.19 g, v = 0.001999 g², bc1 = 0.19, bc2 = 0.001999 → p −= lr·g/(|g| + eps) again.
    const o: FlatOptimizer = { method: 'adam', lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 };
    const p = Float64Array.of(1, -2),
      m = new Float64Array(2),
      v = new Float64Array(2),
      steps = [0];
    const g = [0.5, -4];
    optimizeFlat(o, p, m, v, g, [{ offset: 0, length: 2 }], steps);
    expect(p[0]).toBeCloseTo(1 - (0.01 * 0.5) / (0.5 + 1e-8), 14);
    expect(p[1]).toBeCloseTo(-2 + (0.01 * 4) / (4 + 1e-8), 14);
    expect(m[0]).toBeCloseTo(0.05, 15);
    expect(v[1]).toBeCloseTo(0.016, 15);
    optimizeFlat(o, p, m, v, g, [{ offset: 0, length: 2 }], steps);
    expect(p[0]).toBeCloseTo(1 - (2 * 0.01 * 0.5) / (0.5 + 1e-8), 13);
    expect(steps).toEqual([2]);
  });

  it('each segment at its own step; weight decay by hand (SGD L2, AdamW decoupled)', () => {
    const p = Float64Array.of(2, 2),
      m = new Float64Array(2),
      v = new Float64Array(2),
      steps = [0, 5];
    optimizeFlat(
      { method: 'sgd', lr: 0.1, betas: [0, 0], eps: 0, weightDecay: 0.5 },
      p,
      m,
      v,
      [1, 1],
      [
        { offset: 0, length: 1 },
        { offset: 1, length: 1 },
      ],
      steps,
    );
    expect(Array.from(p)).toEqual([2 - 0.1 * (1 + 0.5 * 2), 2 - 0.1 * (1 + 0.5 * 2)]);
    expect(steps).toEqual([1, 6]);
    // AdamW with a zero gradient: only the decay p·(1 − lr·wd) moves p (m = v = 0 → the Adam term is 0/eps = 0).
    const q = Float64Array.of(3),
      steps2 = [0];
    optimizeFlat(
      { method: 'adamw', lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.2 },
      q,
      new Float64Array(1),
      new Float64Array(1),
      [0],
      [{ offset: 0, length: 1 }],
      steps2,
    );
    expect(q[0]).toBeCloseTo(3 * (1 - 0.02), 15);
  });
});

describeBackends(
  'optimizeFlat equals @attnlab/train',
  () => {
    const cases: Array<[string, FlatOptimizer, () => Optimizer]> = [
      [
        'sgd + L2',
        { method: 'sgd', lr: 0.05, betas: [0, 0], eps: 0, weightDecay: 0.1 },
        () => sgd({ lr: 0.05, weightDecay: 0.1 }),
      ],
      [
        'adam + L2',
        { method: 'adam', lr: 0.01, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.05 },
        () => adam({ lr: 0.01, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.05 }),
      ],
      [
        'adamw',
        { method: 'adamw', lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1 },
        () => adamw({ lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1 }),
      ],
    ];
    it.each(cases)('%s, four steps, two parameters', async (_, o, make) => {
      const x0 = [0.5, -1, 2, 0.25, -0.75];
      const grads = [
        [0.1, -0.2, 0.3, 1e-3, 0],
        [0.05, 0.2, -0.3, 2e-3, 0.4],
        [-0.1, 0.1, 0.1, 0, -0.2],
        [0.3, 0, 0.2, -0.1, 0.1],
      ];
      const opt = make();
      const a = tf.variable(tf.tensor1d(x0.slice(0, 3)));
      const b = tf.variable(tf.tensor1d(x0.slice(3)));
      const p = Float64Array.from(x0),
        m = new Float64Array(5),
        v = new Float64Array(5),
        steps = [0, 0];
      for (const g of grads) {
        const ga = tf.tensor1d(g.slice(0, 3)),
          gb = tf.tensor1d(g.slice(3));
        opt.step({ a, b }, { a: ga, b: gb });
        tf.dispose([ga, gb]);
        optimizeFlat(
          o,
          p,
          m,
          v,
          g,
          [
            { offset: 0, length: 3 },
            { offset: 3, length: 2 },
          ],
          steps,
        );
      }
      await expectClose([...(await a.data()), ...(await b.data())], p, 2e-6, 2e-7);
      const st = await opt.getState();
      expect(steps).toEqual([st.params.a!.step, st.params.b!.step]);
      if (o.method !== 'sgd') await expectClose(Array.from(st.params.a!.slots.m!.values), m.subarray(0, 3), 1e-5, 1e-8);
      tf.dispose([a, b]);
      opt.dispose();
    });
  },
  ['cpu'],
);
