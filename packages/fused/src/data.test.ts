import {
  iclBatchArrays,
  iclNormalsPerExample,
  iclTokensArrays,
  normals,
  philox4x32,
  type IclTaskConfig,
} from '@attnlab/data';
import { allocBatch, fillIclBatch, fillNormals, iclDataParams, normalsPerExample, philoxInto } from './data.js';

// The fused path's allocation-free generator must produce @attnlab/data's numbers exactly.
describe('fused Philox / ICL fill', () => {
  it('passes the Random123 known-answer tests', () => {
    const out = new Uint32Array(4);
    philoxInto(out, 0, 0, 0, 0, 0, 0);
    expect(Array.from(out)).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
    philoxInto(out, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff);
    expect(Array.from(out)).toEqual([0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]);
    philoxInto(out, 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0);
    expect(Array.from(out)).toEqual([0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]);
  });

  it('equals @attnlab/data philox4x32 and normals', () => {
    const out = new Uint32Array(4);
    for (let i = 0; i < 500; i++) {
      const c: [number, number, number, number] = [(i * 2654435761) >>> 0, i, (i * 40503) >>> 0, i % 3];
      const k: [number, number] = [(i * 97) >>> 0, 0xffffffff - i];
      philoxInto(out, c[0], c[1], c[2], c[3], k[0], k[1]);
      expect(Array.from(out)).toEqual(philox4x32(c, k));
    }
    const mine = new Float64Array(250);
    fillNormals(mine, 0, 250, 77, 0, 1, 5, 9, new Uint32Array(4));
    expect(Array.from(mine)).toEqual(Array.from(normals(77, 1, 5, 9, 250)));
  });

  const tasks: Array<[string, IclTaskConfig]> = [
    ["seed 004's task (d 5, δ 0.01)", { L: 40, dx: 5, noiseStd: 0.01 }],
    [
      'the paper setting (inverse-d β, σ² = 0.1, noisy y_q)',
      { L: 40, dx: 5, noiseStd: Math.sqrt(0.1 / 5), betaScale: 'inverse-d', queryNoise: true },
    ],
    [
      'a covariance, d 3',
      {
        L: 7,
        dx: 3,
        noiseStd: 0.3,
        covariance: [
          [2, 0.5, -0.2],
          [0.5, 1, 0.1],
          [-0.2, 0.1, 0.7],
        ],
      },
    ],
    [
      'everything, d 2',
      {
        L: 5,
        dx: 2,
        noiseStd: 1.5,
        betaScale: 'inverse-d',
        queryNoise: true,
        covariance: [
          [1, 0.9],
          [0.9, 1],
        ],
      },
    ],
  ];
  it.each(tasks)('fills the same batch as iclTokensArrays(iclBatchArrays(...)), bit for bit: %s', (_, task) => {
    const B = 16;
    const seed = 2 ** 32 + 3;
    const b = allocBatch(B, task.L, task.dx);
    fillIclBatch(b, iclDataParams(task, seed, 1), 7, B - 3, 3);
    const t = iclTokensArrays(iclBatchArrays(task, { seed, stream: 1, step: 7, batch: B - 3, offset: 3 }));
    const D = task.dx + 1;
    expect(Array.from(b.z.subarray(0, (B - 3) * task.L * D))).toEqual(Array.from(t.Z));
    expect(Array.from(b.zq.subarray(0, (B - 3) * D))).toEqual(Array.from(t.zq));
    expect(Array.from(b.yq.subarray(0, B - 3))).toEqual(Array.from(t.yq));
    expect(normalsPerExample(iclDataParams(task, seed))).toBe(iclNormalsPerExample(task));
  });

  it("iclDataParams validates the task with @attnlab/data's messages", () => {
    expect(() =>
      iclDataParams(
        {
          L: 3,
          dx: 2,
          noiseStd: 0.1,
          covariance: [
            [1, 2],
            [2, 1],
          ],
        },
        1,
      ),
    ).toThrow(/iclNormalsPerExample: config.covariance must be positive definite/);
  });
});
