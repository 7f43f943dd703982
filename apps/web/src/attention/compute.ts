import * as tf from '@tensorflow/tfjs-core';
import { attentionSteps, repeatKvHeads } from '@attnlab/attention';
import { embed, HEAD_DIM, headWeights, MAX_HEADS } from './toy.js';

/** What the reader chose. */
export interface PlaySettings {
  words: string[];
  /** Query heads H (1 … 4). */
  heads: number;
  /** Key/value heads (a divisor of H): H = every head its own (MHA), 1 = one shared (MQA), between = GQA. */
  kvHeads: number;
  causal: boolean;
  /** Temperature τ > 0: scores are multiplied by 1 / (τ √d_k). */
  temperature: number;
}

/** One query head's numbers, every matrix as rows (−∞ where the mask removed a score). */
interface HeadNumbers {
  /** The key/value head this query head reads. */
  kvHead: number;
  q: number[][];
  k: number[][];
  v: number[][];
  scores: number[][];
  scaled: number[][];
  masked: number[][];
  weights: number[][];
  output: number[][];
}

export interface PlayNumbers {
  words: string[];
  x: number[][];
  /** Per query head `[dims, d_k]`. */
  wQ: number[][][];
  /** Per key/value head `[dims, d_k]`. */
  wK: number[][][];
  wV: number[][][];
  scale: number;
  /** true = may attend. */
  mask: boolean[][];
  heads: HeadNumbers[];
}

/** The divisors of h: the key/value head counts a layer with h query heads can have. */
export function kvChoices(h: number): number[] {
  return Array.from({ length: h }, (_, i) => i + 1).filter((g) => h % g === 0);
}

/** Columns of per-head `[dims, d]` blocks side by side: `[dims, n·d]`. */
const sideBySide = (blocks: number[][][]): number[][] => blocks[0]!.map((_, r) => blocks.flatMap((b) => b[r]!));

/**
 * Projects the sentence and runs attention with @attnlab/attention: X·W_Q, X·W_K, X·W_V for every
 * head, key/value heads shared in groups (`repeatKvHeads`), then `attentionSteps` (scores, scaling,
 * mask, softmax, output) on the chosen backend.
 */
export async function computeAttention(s: PlaySettings): Promise<PlayNumbers> {
  const H = s.heads;
  const G = s.kvHeads;
  if (!Number.isInteger(H) || H < 1 || H > MAX_HEADS)
    throw new RangeError(`heads must be an integer 1 … ${MAX_HEADS}; got ${H}`);
  if (!kvChoices(H).includes(G))
    throw new RangeError(`key/value heads must be one of ${kvChoices(H).join(', ')}; got ${G}`);
  if (!(s.temperature > 0) || !Number.isFinite(s.temperature))
    throw new RangeError(`temperature must be a positive number; got ${s.temperature}`);
  const T = s.words.length;
  if (T < 1) throw new RangeError('the sentence needs at least one known word');
  const x = embed(s.words);
  const qW = Array.from({ length: H }, (_, h) => headWeights(h).wQ);
  // Key/value head g keeps the weights of the first query head in its group.
  const group = H / G;
  const kW = Array.from({ length: G }, (_, g) => headWeights(g * group).wK);
  const vW = Array.from({ length: G }, (_, g) => headWeights(g * group).wV);
  const scale = 1 / (s.temperature * Math.sqrt(HEAD_DIM));
  const toHeads = (m: tf.Tensor, n: number): tf.Tensor4D =>
    tf.transpose(tf.reshape(m, [1, T, n, HEAD_DIM]), [0, 2, 1, 3]) as tf.Tensor4D;
  // One flat tensor and one read: a GPU backend pays its read-back latency once per figure.
  const flat = tf.tidy(() => {
    const X = tf.tensor2d(x);
    const q = toHeads(tf.matMul(X, tf.tensor2d(sideBySide(qW))), H);
    const k = toHeads(tf.matMul(X, tf.tensor2d(sideBySide(kW))), G);
    const v = toHeads(tf.matMul(X, tf.tensor2d(sideBySide(vW))), G);
    const kk = repeatKvHeads(k, H);
    const vv = repeatKvHeads(v, H);
    const st = attentionSteps(q, kk, vv, { causal: s.causal, scale });
    return tf.concat(
      [q, kk, vv, st.scores, st.scaledScores, st.maskedScores, st.weights, st.output].map((t) => tf.reshape(t, [-1])),
    );
  });
  const data = await flat.data();
  flat.dispose();
  let at = 0;
  /** The next `[H][T][cols]` block of the read values. */
  const take = (cols: number): number[][][] =>
    Array.from({ length: H }, () =>
      Array.from({ length: T }, () => {
        const row = Array.from(data.subarray(at, at + cols));
        at += cols;
        return row;
      }),
    );
  const [q, k, v] = [take(HEAD_DIM), take(HEAD_DIM), take(HEAD_DIM)];
  const [scores, scaled, masked, weights] = [take(T), take(T), take(T), take(T)];
  const output = take(HEAD_DIM);
  const heads = Array.from({ length: H }, (_, h): HeadNumbers => ({
    kvHead: Math.floor(h / group),
    q: q[h]!,
    k: k[h]!,
    v: v[h]!,
    scores: scores[h]!,
    scaled: scaled[h]!,
    masked: masked[h]!,
    weights: weights[h]!,
    output: output[h]!,
  }));
  // What the mask allowed, as attention applied it: −∞ in the masked scores where it did not.
  const mask = masked[0]!.map((row) => row.map((m) => m !== -Infinity));
  return { words: s.words, x, wQ: qW, wK: kW, wV: vW, scale, mask, heads };
}
