import * as tf from '@tensorflow/tfjs-core';
import { batchMatMulGradConfig } from './matmul-gradient.js';
import { describeBackends, expectClose, expectNoLeak, read } from './testing.js';

/** Deterministic, irregular values. */
const fill = (n: number, seed: number) =>
  Array.from({ length: n }, (_, i) => Math.sin(1.7 * i + seed) + 0.25 * Math.cos(0.3 * i * seed));

/** Row-major [r, c] product in float64: x [r, k] · y [k, c]. */
function hostMatMul(x: number[], y: number[], r: number, k: number, c: number): number[] {
  const out = new Array<number>(r * c).fill(0);
  for (let i = 0; i < r; i++)
    for (let j = 0; j < c; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += x[i * k + t]! * y[t * c + j]!;
      out[i * c + j] = s;
    }
  return out;
}
function hostTranspose(x: number[], r: number, c: number): number[] {
  const out = new Array<number>(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = x[i * c + j]!;
  return out;
}

/**
 * tfjs-core 4.22's BatchMatMul gradient (gradients/BatchMatMul_grad.ts), the config ours replaces:
 * every product with transpose flags, no explicit transposes.
 */
function tfjsCoreGradient(dy: tf.Tensor, a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean): [tf.Tensor, tf.Tensor] {
  if (!ta && !tb) return [tf.matMul(dy, b, false, true), tf.matMul(a, dy, true, false)];
  if (!ta && tb) return [tf.matMul(dy, b, false, false), tf.matMul(dy, a, true, false)];
  if (ta && !tb) return [tf.matMul(b, dy, false, true), tf.matMul(a, dy, false, false)];
  return [tf.matMul(b, dy, true, true), tf.matMul(dy, a, true, true)];
}

const CASES = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const;
const flags = (ta: boolean, tb: boolean) => `${ta ? 'T' : 'N'}${tb ? 'T' : 'N'}`;

describeBackends('BatchMatMul gradient', (ctx) => {
  // f(A, B) = Σ W ⊙ op(A)·op(B) has ∂f/∂op(A) = W op(B)ᵀ and ∂f/∂op(B) = op(A)ᵀ W; the gradient with
  // respect to a transposed operand is the transpose of that. Products in float64 on the host.
  for (const [ta, tb] of CASES) {
    it(`${flags(ta, tb)}: equals the closed form W op(B)ᵀ, op(A)ᵀ W for a 7×12 · 12×5 product`, async () => {
      const m = 7,
        k = 12,
        n = 5;
      const av = fill(m * k, 1),
        bv = fill(k * n, 2),
        wv = fill(m * n, 3);
      // Stored values: A is op(A) laid out as stored (transposed storage when ta).
      const a = ta ? tf.tensor2d(hostTranspose(av, m, k), [k, m]) : tf.tensor2d(av, [m, k]);
      const b = tb ? tf.tensor2d(hostTranspose(bv, k, n), [n, k]) : tf.tensor2d(bv, [k, n]);
      const w = tf.tensor2d(wv, [m, n]);
      const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, ta, tb), w)))([a, b]) as [
        tf.Tensor,
        tf.Tensor,
      ];
      const dOpA = hostMatMul(wv, hostTranspose(bv, k, n), m, n, k); // [m, k]
      const dOpB = hostMatMul(hostTranspose(av, m, k), wv, k, m, n); // [k, n]
      expect(da.shape).toEqual(a.shape);
      expect(db.shape).toEqual(b.shape);
      await expectClose(da, ta ? hostTranspose(dOpA, m, k) : dOpA, ctx.tol);
      await expectClose(db, tb ? hostTranspose(dOpB, k, n) : dOpB, ctx.tol);
      tf.dispose([a, b, w, da, db]);
    });
  }

  it('matches tfjs-core 4.22’s gradient for every transpose case, unbatched, batch-1 and batched (and leaks nothing)', async () => {
    await expectNoLeak(async () => {
      for (const batch of [[], [1], [3]]) {
        for (const [ta, tb] of CASES) {
          const m = 6,
            k = 9,
            n = 4;
          const aShape = [...batch, ...(ta ? [k, m] : [m, k])];
          const bShape = [...batch, ...(tb ? [n, k] : [k, n])];
          const size = (s: number[]) => s.reduce((p, x) => p * x, 1);
          const a = tf.tensor(fill(size(aShape), 4), aShape);
          const b = tf.tensor(fill(size(bShape), 5), bShape);
          const dy = tf.tensor(fill(size([...batch, m, n]), 6), [...batch, m, n]);
          // The tape calls gradient thunks inside a tidy, which takes the explicit transposes.
          const ours = tf.tidy(() => {
            const g = batchMatMulGradConfig.gradFunc(dy, [a, b], { transposeA: ta, transposeB: tb }) as Record<
              string,
              () => tf.Tensor
            >;
            return [g.a!(), g.b!()];
          });
          const ref = tfjsCoreGradient(dy, a, b, ta, tb);
          for (let i = 0; i < 2; i++) {
            expect(ours[i]!.shape).toEqual(ref[i]!.shape);
            await expectClose(ours[i]!, await read(ref[i]!), ctx.tol);
          }
          tf.dispose([a, b, dy, ...ours, ...ref]);
        }
      }
    });
  });

  it('sums broadcast batch axes back: a [2, 3, 4] · b [4, 5] and · b [1, 4, 5]', async () => {
    // f = Σ a_bij b_jk, so ∂f/∂b_jk = Σ_{b,i} a_bij (the same for every k) and ∂f/∂a_bij = Σ_k b_jk.
    const av = fill(24, 7),
      bv = fill(20, 8);
    const a = tf.tensor3d(av, [2, 3, 4]);
    const colSumA = [0, 1, 2, 3].map((j) =>
      [0, 1].reduce((s, bb) => s + [0, 1, 2].reduce((t, i) => t + av[bb * 12 + i * 4 + j]!, 0), 0),
    );
    const rowSumB = [0, 1, 2, 3].map((j) => [0, 1, 2, 3, 4].reduce((s, kk) => s + bv[j * 5 + kk]!, 0));
    for (const bShape of [
      [4, 5],
      [1, 4, 5],
    ]) {
      const b = tf.tensor(bv, bShape);
      const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x, y)))([a, b]);
      expect(db!.shape).toEqual(bShape);
      await expectClose(
        db!,
        colSumA.flatMap((s) => [s, s, s, s, s]),
        ctx.tol,
      );
      expect(da!.shape).toEqual([2, 3, 4]);
      await expectClose(da!, Array.from({ length: 6 }, () => rowSumB).flat(), ctx.tol);
      tf.dispose([b, da!, db!]);
    }
    a.dispose();
  });

  it('gives the same gradients for a 96×64 · 64×48 product as the host in float64 (the size XNNPACK runs)', async () => {
    const m = 96,
      k = 64,
      n = 48;
    const av = fill(m * k, 9),
      bv = fill(k * n, 10),
      wv = fill(m * n, 11);
    const a = tf.tensor2d(av, [m, k]);
    const b = tf.tensor2d(bv, [k, n]);
    const w = tf.tensor2d(wv, [m, n]);
    const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y), w)))([a, b]);
    // Sums of 48–96 terms of size ≈ 1: float32 rounding ≈ 1e-6 of the largest partial sum.
    await expectClose(da!, hostMatMul(wv, hostTranspose(bv, k, n), m, n, k), ctx.tol, 1e-4);
    await expectClose(db!, hostMatMul(hostTranspose(av, m, k), wv, k, m, n), ctx.tol, 1e-4);
    tf.dispose([a, b, w, da!, db!]);
  });

  it(
    ctx.backend === 'wasm'
      ? 'runs the unbatched backward products as explicit transposes then untransposed products (wasm)'
      : 'keeps the transposed products, with no extra transpose kernels (cpu, webgpu)',
    async () => {
      const a = tf.tensor2d(fill(32, 12), [8, 4]);
      const b = tf.tensor2d(fill(24, 13), [4, 6]);
      const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x, y)));
      const info = await tf.profile(() => {
        const r = g([a, b]);
        return r;
      });
      const names = info.kernels.map((x) => x.name);
      const transposes = names.filter((x) => x === 'Transpose').length;
      expect(names.filter((x) => x === 'BatchMatMul').length).toBe(3); // forward, dA, dB
      expect(transposes).toBe(ctx.backend === 'wasm' ? 2 : 0);
      tf.dispose([a, b, ...(info.result as tf.Tensor[])]);
    },
  );
});
