import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectClose, expectNoLeak, read } from '@attnlab/backend/testing';
import {
  Rng,
  colorCompressionData,
  randomEmbeddings,
  randomValueProjection,
  retrievalAttentionPatterns,
  structuredValueMatrix,
} from './index.js';

const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

describeBackends('seed 000 data', (ctx) => {
  it('randomEmbeddings are Rng(seed).normal values, N(0, 1)', async () => {
    const X = randomEmbeddings(10, 512, { seed: 42 });
    expect(X.shape).toEqual([10, 512]);
    const v = await read(X);
    expect(v).toEqual(Array.from(Float32Array.from(new Rng(42).normal(5120))));
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    const variance = v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length;
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(5120));
    expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / 5120));
    X.dispose();
  });
  it('randomValueProjection has variance 1/dModel', async () => {
    const W = randomValueProjection(512, 64, { seed: 1 });
    expect(W.shape).toEqual([512, 64]);
    const v = await read(W);
    const ms = v.reduce((s, x) => s + x * x, 0) / v.length;
    expect(Math.abs(ms * 512 - 1)).toBeLessThan(5 * Math.sqrt(2 / v.length));
    W.dispose();
  });
  it('structuredValueMatrix plants the seed groups; retrieval norms match hand computation', async () => {
    const { V, groups } = structuredValueMatrix({ seed: 42 });
    expect(V.shape).toEqual([8, 64]);
    expect(groups).toEqual({ person: [0, 32], location: [16, 48], action: [32, 64] });
    const v = await read(V);
    const row = (i: number) => v.slice(i * 64, (i + 1) * 64);
    expect(row(0)).toEqual([...new Array<number>(32).fill(1), ...new Array<number>(32).fill(0)]);
    expect(row(1)).toEqual([...new Array<number>(32).fill(Math.fround(0.8)), ...new Array<number>(32).fill(0)]);
    expect(row(3)).toEqual([
      ...new Array<number>(16).fill(0),
      ...new Array<number>(32).fill(Math.fround(0.7)),
      ...new Array<number>(16).fill(0),
    ]);
    expect(row(5).slice(32)).toEqual(new Array<number>(32).fill(Math.fround(0.9)));
    expect(row(6)).toEqual(Array.from(Float32Array.from(new Rng(42).normal(128, 0, 0.1).subarray(0, 64))));
    // Focus on person tokens: output = 0.5·(V0 + V1) = 0.9 on dims 0–31, 0 elsewhere → norm 0.9·√32
    const { person, uniform, location, mixed } = retrievalAttentionPatterns();
    expect(await read(person)).toEqual([0.5, 0.5, 0, 0, 0, 0, 0, 0]);
    await expectClose(uniform, new Array<number>(8).fill(0.125), ctx.tol);
    expect(await read(location)).toEqual([0, 0, 0.5, 0.5, 0, 0, 0, 0]);
    await expectClose(mixed, [0.3, 0.3, 0, 0, 0.2, 0.2, 0, 0], ctx.tol);
    const out = tf.tidy(() => tf.matMul(tf.reshape(person, [1, 8]), V));
    const o = await read(out);
    await expectClose(norm(o), 0.9 * Math.sqrt(32), ctx.tol);
    await expectClose(norm(o.slice(32)), 0, ctx.tol, 1e-6);
    tf.dispose([V, person, uniform, location, mixed, out]);
  });
  it('colorCompressionData: colour columns have sd colorScale, Y = X[:, :3]', async () => {
    const { X, Y } = colorCompressionData({ nSamples: 2000 });
    expect(X.shape).toEqual([2000, 16]);
    expect(Y.shape).toEqual([2000, 3]);
    const x = await read(X);
    const y = await read(Y);
    let c = 0;
    let r = 0;
    for (let i = 0; i < 2000; i++) {
      for (let j = 0; j < 16; j++) {
        if (j < 3) {
          c += x[i * 16 + j]! ** 2;
          expect(y[i * 3 + j]).toBe(x[i * 16 + j]);
        } else r += x[i * 16 + j]! ** 2;
      }
    }
    expect(Math.abs(c / 6000 - 4)).toBeLessThan(5 * 4 * Math.sqrt(2 / 6000));
    expect(Math.abs(r / 26000 - 1)).toBeLessThan(5 * Math.sqrt(2 / 26000));
    tf.dispose([X, Y]);
  });
  it('no leaks and clear errors', async () => {
    await expectNoLeak(
      () => structuredValueMatrix({ nTokens: 6, dV: 8 }),
      (r) => r.V.dispose(),
    );
    await expectNoLeak(
      () => retrievalAttentionPatterns(),
      (r) => tf.dispose([r.uniform, r.person, r.location, r.mixed]),
    );
    expect(() => structuredValueMatrix({ dV: 10 })).toThrow(
      /structuredValueMatrix: options.dV must be a multiple of 4; got 10/,
    );
    expect(() => structuredValueMatrix({ nTokens: 5 })).toThrow(
      /structuredValueMatrix: options.nTokens must be an integer ≥ 6; got 5/,
    );
    expect(() => randomEmbeddings(0, 3)).toThrow(/randomEmbeddings: nTokens must be an integer ≥ 1; got 0/);
    expect(() => colorCompressionData({ colorDims: 20 })).toThrow(
      /colorCompressionData: options.colorDims must be an integer in \[1, 16\]; got 20/,
    );
  });
});
