import { iclBatchArrays, iclTokensArrays, normals, philox4x32 } from '@attnlab/data';
import { allocBatch, fillIclBatch, fillNormals, philoxInto } from './data.js';

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

  it('fills the same batch as iclTokensArrays(iclBatchArrays(...)), bit for bit', () => {
    const L = 40;
    const d = 5;
    const B = 16;
    const b = allocBatch(B, L, d);
    fillIclBatch(b, 2 ** 32 + 3, 7, B, L, d, 0.01, 1, 0);
    const t = iclTokensArrays(iclBatchArrays({ L, dx: d, noiseStd: 0.01 }, { seed: 2 ** 32 + 3, stream: 1, step: 7, batch: B }));
    expect(Array.from(Float32Array.from(b.z))).toEqual(Array.from(t.Z));
    expect(Array.from(Float32Array.from(b.zq))).toEqual(Array.from(t.zq));
    expect(Array.from(Float32Array.from(b.yq))).toEqual(Array.from(t.yq));
    // Already float32-exact (no further rounding when uploaded).
    expect(Array.from(b.z)).toEqual(Array.from(t.Z));
  });
});
