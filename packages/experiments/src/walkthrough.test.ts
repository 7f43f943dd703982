import { describeBackends, expectClose } from '@attnlab/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { attentionWalkthrough, resolveConfig, validateResult, ConfigError, SEED_002 } from './index.js';

const flat = (m: (number | null)[][]) => m.flat().map((x) => (x === null ? -Infinity : x));
const round = (xs: number[], digits: number) => xs.map((x) => Math.round(x * 10 ** digits) / 10 ** digits);

describeBackends('attention-walkthrough', (ctx) => {
  it("reproduces seed 002's complete attention flow (Q, K, V fixed; d_k = 4) to its printed digits", async () => {
    const before = tf.memory().numTensors;
    const r = await attentionWalkthrough.run(resolveConfig(attentionWalkthrough, { preset: 'seed' }));
    expect(tf.memory().numTensors).toBe(before);
    validateResult(attentionWalkthrough, JSON.parse(JSON.stringify(r)));
    const h = r.data.heads[0]!;
    // By hand: QKᵀ = [[1,1,2],[1,1,1],[1,1,1]]; ÷√4; softmax row 0 = (e^.5, e^.5, e^1)/Σ, rows 1–2 uniform.
    expect(flat(h.scores)).toEqual([1, 1, 2, 1, 1, 1, 1, 1, 1]);
    expect(round(flat(h.scaledScores), 2)).toEqual([0.5, 0.5, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    const z = 2 * Math.exp(0.5) + Math.E;
    const w0 = [Math.exp(0.5) / z, Math.exp(0.5) / z, Math.E / z];
    expect(round(flat(h.weights), 3)).toEqual([0.274, 0.274, 0.452, 0.333, 0.333, 0.333, 0.333, 0.333, 0.333]);
    await expectClose(flat(h.weights).slice(0, 3), w0, ctx.tol);
    const V = SEED_002.v;
    const out0 = [0, 1, 2, 3].map((c) => w0[0]! * V[0]![c]! + w0[1]! * V[1]![c]! + w0[2]! * V[2]![c]!);
    const mean = [0, 1, 2, 3].map((c) => (V[0]![c]! + V[1]![c]! + V[2]![c]!) / 3);
    await expectClose(flat(h.output), [...out0, ...mean, ...mean], ctx.tol);
    expect(round(flat(h.output), 2)).toEqual([1.31, 1.41, 3.31, 3.41, 1.17, 1.5, 3.17, 3.5, 1.17, 1.5, 3.17, 3.5]);
    expect(r.figures.map((f) => f.id)).toEqual(['weights', 'scores', 'output']);
  });

  it("reproduces seed 002's Example 1 and Example 3 QKᵀ exactly", async () => {
    const ex1 = await attentionWalkthrough.run(
      resolveConfig(attentionWalkthrough, {
        overrides: {
          tokens: ['a', 'b'],
          q: [
            [1, 2, 3],
            [1, 2, 1],
          ],
          k: [
            [1, 2, 1],
            [2, 1, 3],
          ],
          v: [[1], [2]],
        },
      }),
    );
    expect(flat(ex1.data.heads[0]!.scores)).toEqual([8, 13, 6, 7]);
    const ex3 = await attentionWalkthrough.run(
      resolveConfig(attentionWalkthrough, {
        overrides: {
          tokens: ['a', 'b'],
          q: [
            [1, 2],
            [3, 4],
          ],
          k: [
            [5, 6],
            [7, 8],
          ],
          v: [[1], [2]],
        },
      }),
    );
    expect(flat(ex3.data.heads[0]!.scores)).toEqual([17, 23, 39, 53]);
  });

  it("reproduces seed 002's Example 2 from its printed (2-decimal) Q and K within rounding", async () => {
    const q = [
      [-0.07, -1.43, -0.21],
      [0.13, 1.43, 0.9],
      [0.05, -0.58, -1.57],
      [-0.84, 0.49, -0.58],
    ];
    const k = [
      [-0.11, -0.04, 0.79],
      [-1.68, -0.42, 0.59],
      [-0.59, 0.77, -0.67],
      [0.2, 0.02, 0.16],
    ];
    const r = await attentionWalkthrough.run(
      resolveConfig(attentionWalkthrough, {
        overrides: { tokens: ['t1', 't2', 't3', 't4'], q, k, v: [[1], [2], [3], [4]] },
      }),
    );
    const h = r.data.heads[0]!;
    const printedScores = [
      -0.11, 0.59, -0.92, -0.08, 0.65, -0.3, 0.43, 0.2, -1.23, -0.76, 0.57, -0.25, -0.38, 0.87, 1.27, -0.25,
    ];
    const printedWeights = [
      0.241, 0.362, 0.151, 0.246, 0.309, 0.179, 0.273, 0.239, 0.145, 0.191, 0.409, 0.255, 0.149, 0.306, 0.385, 0.16,
    ];
    // Inputs rounded to ±0.005 move each score by at most Σ|q|·0.005 + Σ|k|·0.005 + rounding ≈ 0.03.
    await expectClose(flat(h.scores), printedScores, 0, 0.03);
    await expectClose(flat(h.weights), printedWeights, 0, 0.01);
  });

  it('causal masking: masked weights exactly 0, rows sum to 1, outputs are weighted sums of values (seed 001)', async () => {
    const r = await attentionWalkthrough.run(
      resolveConfig(attentionWalkthrough, {
        overrides: {
          mode: 'embeddings',
          causal: true,
          heads: 2,
          headDim: 2,
          tokens: ['The', 'dog', 'ran', 'quickly', 'around', 'the'],
        },
      }),
    );
    expect(r.data.heads).toHaveLength(2);
    for (const h of r.data.heads) {
      const T = h.weights.length;
      for (let i = 0; i < T; i++) {
        let sum = 0;
        for (let j = 0; j < T; j++) {
          expect(h.mask[i]![j]).toBe(j <= i);
          if (j > i) {
            expect(h.weights[i]![j]).toBe(0);
            expect(h.maskedScores[i]![j]).toBeNull();
          }
          sum += h.weights[i]![j]!;
        }
        expect(sum).toBeCloseTo(1, 5);
        const expected = h.v[0]!.map((_, c) => h.weights[i]!.reduce<number>((a, w, j) => a + w! * h.v[j]![c]!, 0));
        await expectClose(h.output[i]! as number[], expected, ctx.tol, 1e-6);
      }
    }
    expect(r.data.concat[0]).toHaveLength(4);
    expect(r.data.projected![0]).toHaveLength(3);
  });
});

describe('attention-walkthrough config', () => {
  it('names the bad field and what it allows', () => {
    expect(() => resolveConfig(attentionWalkthrough, { overrides: { heads: 0 } })).toThrow(
      /config.heads: must be an integer ≥ 1 and ≤ 16; got 0/,
    );
    expect(() => resolveConfig(attentionWalkthrough, { overrides: { mode: 'x' } })).toThrow(
      /config.mode: must be one of qkv, embeddings; got "x"/,
    );
    expect(() => resolveConfig(attentionWalkthrough, { overrides: { causal: 'yes' } })).toThrow(ConfigError);
    expect(() => resolveConfig(attentionWalkthrough, { overrides: { bogus: 1 } })).toThrow(
      /config.bogus: is not a known field/,
    );
    expect(() => resolveConfig(attentionWalkthrough, { preset: 'slow' })).toThrow(
      /preset: must be one of quick, seed; got "slow"/,
    );
  });

  it('rejects ragged or mismatched matrices when run', async () => {
    await expect(
      attentionWalkthrough.run(
        resolveConfig(attentionWalkthrough, {
          overrides: {
            q: [
              [1, 0],
              [0, 1],
            ],
          },
        }),
      ),
    ).rejects.toThrow(/config.q: must have 3 rows, one per token/);
  });
});
