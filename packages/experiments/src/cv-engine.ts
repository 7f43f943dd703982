/**
 * Seed 003's classifier (embedding + positions → nn.MultiheadAttention → residual + LayerNorm →
 * sequence mean → linear → cross-entropy, Adam) as one fused, pure training step on the host: no
 * tape, no tensor per operation, every buffer allocated once.
 *
 * Two exact rewrites make it cheap. The token embedding has only `vocab` rows and `seqLen` positions,
 * so Q, K and V are gathered from [E; P]·[W_Q | W_K | W_V] (`vocab + seqLen` rows instead of one row
 * per token), and their weight gradient is [E; P]ᵀ·G with G the per-token gradients summed by token
 * id and by position; the embedding's gradient through them is G·[W_Q | W_K | W_V]ᵀ. What remains
 * per token (the out-projection and its two gradient products) goes to a matrix product `Gemm` that
 * the caller chooses: {@link jsGemm} (plain TypeScript, any platform) or {@link tfjsGemm}
 * (tf.matMul on the current backend: XNNPACK on wasm). Attention itself (seqLen × seqLen per
 * sample and head), LayerNorm, the classifier, the loss and Adam are loops over float32 buffers with
 * float64 sums; parameters and Adam moments are float64.
 *
 * The step is a pure function of (state, batch) and its workspace: the caller owns the loop (the
 * tfjs path in cv-sweep.ts stays the reference; cv-engine.test.ts checks the two agree).
 */
import * as tf from '@tensorflow/tfjs-core';
import { createCvAttentionWasm, type CvAttentionExports } from '@attnlab/fused';
import type { Engine, EngineState, HostTensor, OptimizerState, TensorMap } from '@attnlab/train';

/**
 * C `[m, n]` = A `[m, k]` · B `[k, n]`, all row-major float32, written into `out`; with `transposeA`,
 * `a` holds Aᵀ `[k, m]` (C = aᵀ·b).
 */
export type Gemm = (
  a: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
  out: Float32Array,
  transposeA?: boolean,
) => void;

/** Matrix product in plain TypeScript (four rows at a time, float32 storage). */
export const jsGemm: Gemm = (a, b, m, k, n, out, transposeA = false) => {
  out.fill(0, 0, m * n);
  if (transposeA) {
    // C += a[t, :]ᵀ b[t, :] for each t: one row of a scales rows of b into C.
    for (let t = 0; t < k; t++) {
      const ao = t * m,
        bo = t * n;
      for (let i = 0; i < m; i++) {
        const x = a[ao + i]!;
        if (x === 0) continue;
        const co = i * n;
        for (let j = 0; j < n; j++) out[co + j] = out[co + j]! + x * b[bo + j]!;
      }
    }
    return;
  }
  let i = 0;
  for (; i + 3 < m; i += 4) {
    const a0 = i * k,
      a1 = a0 + k,
      a2 = a1 + k,
      a3 = a2 + k;
    const c0 = i * n,
      c1 = c0 + n,
      c2 = c1 + n,
      c3 = c2 + n;
    for (let t = 0; t < k; t++) {
      const x0 = a[a0 + t]!,
        x1 = a[a1 + t]!,
        x2 = a[a2 + t]!,
        x3 = a[a3 + t]!;
      const bo = t * n;
      for (let j = 0; j < n; j++) {
        const y = b[bo + j]!;
        out[c0 + j] = out[c0 + j]! + x0 * y;
        out[c1 + j] = out[c1 + j]! + x1 * y;
        out[c2 + j] = out[c2 + j]! + x2 * y;
        out[c3 + j] = out[c3 + j]! + x3 * y;
      }
    }
  }
  for (; i < m; i++) {
    const ao = i * k,
      co = i * n;
    for (let t = 0; t < k; t++) {
      const x = a[ao + t]!;
      const bo = t * n;
      for (let j = 0; j < n; j++) out[co + j] = out[co + j]! + x * b[bo + j]!;
    }
  }
};

/**
 * Matrix product through tf.matMul on the current tfjs backend (untransposed, unbatched: XNNPACK on
 * wasm, 20–30 GFLOP/s on one core). Synchronous, so only for backends whose data can be read
 * synchronously (cpu, wasm); throws on others.
 */
export function tfjsGemm(): Gemm {
  const backend = tf.getBackend();
  if (backend !== 'wasm' && backend !== 'cpu') {
    throw new RangeError(
      `tfjsGemm: needs a backend that reads synchronously (cpu or wasm); the current one is '${backend}' (use jsGemm there)`,
    );
  }
  return (a, b, m, k, n, out, transposeA = false) => {
    const r = tf.tidy(() => {
      // An explicit transpose, then an untransposed product: the form XNNPACK runs on wasm.
      const A = transposeA
        ? tf.transpose(tf.tensor2d(a.subarray(0, m * k), [k, m]))
        : tf.tensor2d(a.subarray(0, m * k), [m, k]);
      return tf.matMul(A, tf.tensor2d(b.subarray(0, k * n), [k, n]));
    });
    out.set(r.dataSync() as Float32Array);
    r.dispose();
  };
}

/** The model's sizes (seed 003: vocab 256, seqLen 8, classes 10, width 64–256, heads 1–8). */
export interface CvClassifierShape {
  vocab: number;
  seqLen: number;
  classes: number;
  width: number;
  heads: number;
}

/** Names of the parameter blocks, in cv-sweep's ParamMap names and layouts (y = x·W + b, W `[in, out]`). */
export const CV_PARAM_NAMES = [
  'emb',
  'pos',
  'wQ',
  'wK',
  'wV',
  'wO',
  'bQ',
  'bK',
  'bV',
  'bO',
  'lnGain',
  'lnBias',
  'wC',
  'bC',
] as const;
export type CvParamName = (typeof CV_PARAM_NAMES)[number];

/** Offset and size of each block in the flat parameter vector. */
export type CvParamLayout = Record<CvParamName, { offset: number; size: number; shape: number[] }> & { total: number };

export function cvParamLayout(s: CvClassifierShape): CvParamLayout {
  checkShape('cvParamLayout', s);
  const { vocab: V, seqLen: S, classes: C, width: D } = s;
  const shapes: Record<CvParamName, number[]> = {
    emb: [V, D],
    pos: [1, S, D],
    wQ: [D, D],
    wK: [D, D],
    wV: [D, D],
    wO: [D, D],
    bQ: [D],
    bK: [D],
    bV: [D],
    bO: [D],
    lnGain: [D],
    lnBias: [D],
    wC: [D, C],
    bC: [C],
  };
  let offset = 0;
  const out = {} as Record<CvParamName, { offset: number; size: number; shape: number[] }>;
  for (const name of CV_PARAM_NAMES) {
    const size = shapes[name].reduce((a, b) => a * b, 1);
    out[name] = { offset, size, shape: shapes[name] };
    offset += size;
  }
  return { ...out, total: offset };
}

function checkShape(fn: string, s: CvClassifierShape): void {
  if (s === null || typeof s !== 'object')
    throw new TypeError(`${fn}: shape must be an object {vocab, seqLen, classes, width, heads}; got ${String(s)}`);
  for (const k of ['vocab', 'seqLen', 'classes', 'width', 'heads'] as const) {
    const v = s[k];
    if (!Number.isInteger(v) || v < 1)
      throw new RangeError(`${fn}: shape.${k} must be an integer ≥ 1; got ${String(v)}`);
  }
  if (s.width % s.heads !== 0)
    throw new RangeError(`${fn}: shape.width must be divisible by shape.heads = ${s.heads}; got ${s.width}`);
}

/** Parameters and Adam state: float64, laid out by {@link cvParamLayout}. */
export interface CvClassifierState {
  params: Float64Array;
  m: Float64Array;
  v: Float64Array;
  /** Adam steps taken. */
  step: number;
}

/** A fresh state from parameter values by name (e.g. read from cv-sweep's tf.Variables). */
export function cvClassifierState(
  s: CvClassifierShape,
  values: Record<CvParamName, ArrayLike<number>>,
): CvClassifierState {
  const layout = cvParamLayout(s);
  const params = new Float64Array(layout.total);
  for (const name of CV_PARAM_NAMES) {
    const v = values[name];
    const { offset, size } = layout[name];
    if (v === undefined || v.length !== size)
      throw new RangeError(
        `cvClassifierState: values.${name} must hold ${size} numbers; got ${v === undefined ? 'undefined' : v.length}`,
      );
    for (let i = 0; i < size; i++) params[offset + i] = v[i]!;
  }
  return { params, m: new Float64Array(layout.total), v: new Float64Array(layout.total), step: 0 };
}

/** Adam's settings (torch.optim.Adam, no weight decay). */
export interface CvAdam {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

/** Buffers for batches of up to `maxBatch` samples, allocated once ({@link cvClassifierWorkspace}). */
export interface CvClassifierWorkspace {
  readonly shape: CvClassifierShape;
  readonly layout: CvParamLayout;
  readonly maxBatch: number;
  readonly gemm: Gemm;
  /** Where attention runs: 'wasm' (@attnlab/fused's SIMD kernels, over the buffers below in its memory) or 'js'. */
  readonly attention: 'wasm' | 'js';
  /** The SIMD kernels and their buffers' byte offsets ('wasm' only). */
  readonly kernels: {
    ex: CvAttentionExports;
    ptr: Record<WasmBlock, number>;
  } | null;
  /** The batch's token ids (a copy, in the kernels' memory where they run). */
  ids: Int32Array;
  // float32 operands of the products
  ep: Float32Array;
  wqkv: Float32Array;
  wqkvT: Float32Array;
  wo: Float32Array;
  woT: Float32Array;
  /** [E; P]·[W_Q | W_K | W_V], with the biases b_Q, b_K, b_V added to the token rows (each token has one). */
  pw: Float32Array;
  // 'wasm' only: PW's v columns per head (pv, [H, V + S, hd]); U_h = PV_h·W_O,h and GE ([H, V + S, D]);
  // W_O,hᵀ of one head ([D, hd]) and G_V,h ([V + S, hd]). Empty on 'js', which keeps o and dO instead.
  pv: Float32Array;
  U: Float32Array;
  GE: Float32Array;
  woTh: Float32Array;
  gvh: Float32Array;
  // per token
  o: Float32Array;
  y: Float32Array;
  nhat: Float32Array;
  rstd: Float64Array;
  att: Float32Array;
  pooled: Float64Array;
  logits: Float64Array;
  /** W_C transposed ([C, D], float64) and its gradient. */
  wcT: Float64Array;
  gwcT: Float64Array;
  du: Float32Array;
  dO: Float32Array;
  // one sample's q | k | v and their gradient (seqLen × 3·width), refilled per sample
  blk: Float32Array;
  dblk: Float32Array;
  g: Float32Array;
  dwqkv: Float32Array;
  dep: Float32Array;
  dwo: Float32Array;
  grad: Float64Array;
}

/** The workspace's buffers that live in the SIMD kernels' memory. */
type WasmBlock =
  'pw' | 'ids' | 'att' | 'U' | 'GE' | 'y' | 'du' | 'g' | 'blk' | 'dblk' | 'ug' | 'e' | 'row' | 'ds' | 'sv';

/** Where the workspace runs attention: 'auto' (the SIMD kernels where they apply), 'wasm' or 'js'. */
export type CvAttentionKind = 'auto' | 'wasm' | 'js';

export function cvClassifierWorkspace(
  s: CvClassifierShape,
  maxBatch: number,
  gemm: Gemm = jsGemm,
  attention: CvAttentionKind = 'auto',
): CvClassifierWorkspace {
  const fn = 'cvClassifierWorkspace';
  const layout = cvParamLayout(s);
  if (!Number.isInteger(maxBatch) || maxBatch < 1)
    throw new RangeError(`${fn}: maxBatch must be an integer ≥ 1; got ${String(maxBatch)}`);
  if (typeof gemm !== 'function')
    throw new TypeError(`${fn}: gemm must be a function (jsGemm or tfjsGemm()); got ${typeof gemm}`);
  if (attention !== 'auto' && attention !== 'wasm' && attention !== 'js')
    throw new RangeError(`${fn}: attention must be 'auto', 'wasm' or 'js'; got ${String(attention)}`);
  const { vocab: V, seqLen: S, classes: C, width: D, heads: H } = s;
  const N = maxBatch * S;
  const R = V + S;
  const f32 = (n: number) => new Float32Array(n);
  // The SIMD kernels take four lanes of the head dimension: head_dim must be a multiple of 4.
  const hd = D / H;
  let kernels: CvClassifierWorkspace['kernels'] = null;
  if (attention !== 'js') {
    const why = hd % 4 !== 0 ? `head_dim ${hd} is not a multiple of 4` : null;
    const sizes: Record<WasmBlock, number> = {
      pw: R * 3 * D * 4,
      ids: N * 4,
      att: maxBatch * H * S * S * 4,
      U: H * R * D * 4,
      GE: H * R * D * 4,
      y: N * D * 4,
      du: N * D * 4,
      g: R * 3 * D * 4,
      blk: S * 3 * D * 4,
      dblk: S * 3 * D * 4,
      ug: S * D * 4,
      e: S * D * 4,
      row: S * 8,
      ds: S * S * 4,
      sv: 2 * S * S * 16,
    };
    const w = why ? null : createCvAttentionWasm(Object.values(sizes));
    if (w) {
      const ptr = Object.fromEntries(Object.keys(sizes).map((k, i) => [k, w.pointers[i]!])) as NonNullable<
        CvClassifierWorkspace['kernels']
      >['ptr'];
      kernels = { ex: w.exports, ptr };
    } else if (attention === 'wasm') {
      throw new RangeError(
        `${fn}: attention 'wasm' cannot run here: ${why ?? 'this JavaScript engine has no WebAssembly SIMD'}; use 'auto' or 'js'`,
      );
    }
  }
  const buf = kernels?.ex.memory.buffer;
  const view = (k: Exclude<WasmBlock, 'ids' | 'row' | 'sv'>, n: number) =>
    buf ? new Float32Array(buf, kernels!.ptr[k], n) : f32(n);
  const wasmOnly = (k: 'U' | 'GE', n: number) => (buf ? view(k, n) : f32(0));
  const jsOnly = (n: number) => f32(buf ? 0 : n);
  return {
    shape: { ...s },
    layout,
    maxBatch,
    gemm,
    attention: kernels ? 'wasm' : 'js',
    kernels,
    ids: buf ? new Int32Array(buf, kernels!.ptr.ids, N) : new Int32Array(N),
    ep: f32(R * D),
    wqkv: f32(D * 3 * D),
    wqkvT: f32(3 * D * D),
    wo: f32(D * D),
    woT: f32(D * D),
    pw: view('pw', R * 3 * D),
    pv: f32(buf ? R * D : 0),
    U: wasmOnly('U', H * R * D),
    GE: wasmOnly('GE', H * R * D),
    woTh: f32(buf ? D * hd : 0),
    gvh: f32(buf ? R * hd : 0),
    o: jsOnly(N * D),
    y: view('y', N * D),
    nhat: f32(N * D),
    rstd: new Float64Array(N),
    att: view('att', maxBatch * H * S * S),
    pooled: new Float64Array(maxBatch * D),
    logits: new Float64Array(maxBatch * C),
    wcT: new Float64Array(C * D),
    gwcT: new Float64Array(C * D),
    du: view('du', N * D),
    dO: jsOnly(N * D),
    blk: view('blk', S * 3 * D),
    dblk: view('dblk', S * 3 * D),
    g: view('g', R * 3 * D),
    dwqkv: f32(D * 3 * D),
    dep: f32(R * D),
    dwo: f32(D * D),
    grad: new Float64Array(layout.total),
  };
}

/** A batch: token ids `[n, seqLen]` (row-major) and labels `[n]`. */
export interface CvBatch {
  ids: Int32Array;
  labels: Int32Array;
}

/** What a forward pass reports: mean cross-entropy and the number classified correctly. */
export interface CvForwardResult {
  loss: number;
  correct: number;
  n: number;
}

function checkBatch(fn: string, ws: CvClassifierWorkspace, b: CvBatch): number {
  const { seqLen: S, vocab: V, classes: C } = ws.shape;
  if (!(b?.ids instanceof Int32Array) || !(b.labels instanceof Int32Array))
    throw new TypeError(
      `${fn}: batch must be {ids: Int32Array, labels: Int32Array}; got ${b === null || typeof b !== 'object' ? String(b) : `{ ${Object.keys(b).join(', ')} }`}`,
    );
  const n = b.labels.length;
  if (n < 1 || n > ws.maxBatch)
    throw new RangeError(`${fn}: batch.labels must hold 1 to maxBatch = ${ws.maxBatch} labels; got ${n}`);
  if (b.ids.length !== n * S)
    throw new RangeError(`${fn}: batch.ids must hold labels.length · seqLen = ${n * S} ids; got ${b.ids.length}`);
  for (let i = 0; i < b.ids.length; i++) {
    const t = b.ids[i]!;
    if (!(t >= 0 && t < V)) throw new RangeError(`${fn}: batch.ids[${i}] must be a token id in [0, ${V}); got ${t}`);
  }
  for (let i = 0; i < n; i++) {
    const y = b.labels[i]!;
    if (!(y >= 0 && y < C)) throw new RangeError(`${fn}: batch.labels[${i}] must be a class in [0, ${C}); got ${y}`);
  }
  return n;
}

// ---- kernels: small monomorphic loops over contiguous rows (what V8 compiles best) ----------------

/** Σ_e x[xo + e]·y[yo + e] over `width` entries, with four sums. */
function dot(x: Float32Array, xo: number, y: Float32Array, yo: number, width: number): number {
  let a0 = 0,
    a1 = 0,
    a2 = 0,
    a3 = 0;
  let e = 0;
  for (; e + 3 < width; e += 4) {
    a0 += x[xo + e]! * y[yo + e]!;
    a1 += x[xo + e + 1]! * y[yo + e + 1]!;
    a2 += x[xo + e + 2]! * y[yo + e + 2]!;
    a3 += x[xo + e + 3]! * y[yo + e + 3]!;
  }
  for (; e < width; e++) a0 += x[xo + e]! * y[yo + e]!;
  return a0 + a1 + (a2 + a3);
}

/**
 * dst[dOff + e] = f · Σ_{j<S} c[co + j·cs]·src[so + j·ss + e] for e < width: four columns at a time
 * with their sums in registers, each output written once.
 */
function mixInto(
  c: Float32Array,
  co: number,
  cs: number,
  S: number,
  src: Float32Array,
  so: number,
  ss: number,
  dst: Float32Array,
  dOff: number,
  width: number,
  f: number,
): void {
  let e = 0;
  for (; e + 3 < width; e += 4) {
    let a0 = 0,
      a1 = 0,
      a2 = 0,
      a3 = 0;
    for (let j = 0; j < S; j++) {
      const w = c[co + j * cs]!;
      const r = so + j * ss + e;
      a0 += w * src[r]!;
      a1 += w * src[r + 1]!;
      a2 += w * src[r + 2]!;
      a3 += w * src[r + 3]!;
    }
    dst[dOff + e] = a0 * f;
    dst[dOff + e + 1] = a1 * f;
    dst[dOff + e + 2] = a2 * f;
    dst[dOff + e + 3] = a3 * f;
  }
  for (; e < width; e++) {
    let a0 = 0;
    for (let j = 0; j < S; j++) a0 += c[co + j * cs]! * src[so + j * ss + e]!;
    dst[dOff + e] = a0 * f;
  }
}

/** One sample's q | k | v rows: pw[id] + pw[V + s] (biases are in pw's token rows). */
function gatherBlock(
  pw: Float32Array,
  ids: Int32Array,
  t0: number,
  S: number,
  V: number,
  D3: number,
  blk: Float32Array,
): void {
  for (let s = 0; s < S; s++) {
    const xo = ids[t0 + s]! * D3,
      po = (V + s) * D3,
      bo = s * D3;
    for (let c = 0; c < D3; c++) blk[bo + c] = pw[xo + c]! + pw[po + c]!;
  }
}

/** Attention of one sample (all heads) on its q | k | v block: weights into att, outputs into o's rows. */
function attendSample(
  blk: Float32Array,
  att: Float32Array,
  ao0: number,
  o: Float32Array,
  oo: number,
  S: number,
  D: number,
  H: number,
  row: Float64Array,
): void {
  const hd = D / H,
    D3 = 3 * D,
    scale = 1 / Math.sqrt(hd);
  for (let h = 0; h < H; h++) {
    const ho = h * hd;
    const ao = ao0 + h * S * S;
    for (let i = 0; i < S; i++) {
      let max = -Infinity;
      for (let j = 0; j < S; j++) {
        const sc = dot(blk, i * D3 + ho, blk, j * D3 + D + ho, hd) * scale;
        row[j] = sc;
        if (sc > max) max = sc;
      }
      let z = 0;
      for (let j = 0; j < S; j++) {
        const ex = Math.exp(row[j]! - max);
        row[j] = ex;
        z += ex;
      }
      const iz = 1 / z;
      for (let j = 0; j < S; j++) att[ao + i * S + j] = row[j]! * iz;
      mixInto(att, ao + i * S, 1, S, blk, 2 * D + ho, D3, o, oo + i * D + ho, hd, 1);
    }
  }
}

/**
 * Attention's backward for one sample: from dO's rows and the block, dq | dk | dv into dblk.
 * da_ij = do_i·v_j, ds = a ⊙ (da − Σ_j a da) (rows), dv = aᵀ·do, dq = ds·k/√hd, dk = dsᵀ·q/√hd.
 */
function attendSampleBackward(
  blk: Float32Array,
  att: Float32Array,
  ao0: number,
  dO: Float32Array,
  oo: number,
  dblk: Float32Array,
  S: number,
  D: number,
  H: number,
  ds: Float32Array,
): void {
  const hd = D / H,
    D3 = 3 * D,
    scale = 1 / Math.sqrt(hd);
  for (let h = 0; h < H; h++) {
    const ho = h * hd;
    const ao = ao0 + h * S * S;
    for (let i = 0; i < S; i++) {
      let sum = 0;
      for (let j = 0; j < S; j++) {
        const da = dot(dO, oo + i * D + ho, blk, j * D3 + 2 * D + ho, hd);
        ds[i * S + j] = da;
        sum += att[ao + i * S + j]! * da;
      }
      for (let j = 0; j < S; j++) ds[i * S + j] = att[ao + i * S + j]! * (ds[i * S + j]! - sum);
    }
    for (let i = 0; i < S; i++) {
      // dv_i = Σ_j a_ji do_j; dq_i = Σ_j ds_ij k_j; dk_i = Σ_j ds_ji q_j.
      mixInto(att, ao + i, S, S, dO, oo + ho, D, dblk, i * D3 + 2 * D + ho, hd, 1);
      mixInto(ds, i * S, 1, S, blk, D + ho, D3, dblk, i * D3 + ho, hd, scale);
      mixInto(ds, i, S, S, blk, ho, D3, dblk, i * D3 + D + ho, hd, scale);
    }
  }
}

/** Σ_e x[xo + e]·y[yo + e] over `width` float64 entries, with two sums. */
function dot64(x: Float64Array, xo: number, y: Float64Array, yo: number, width: number): number {
  let a0 = 0,
    a1 = 0;
  let e = 0;
  for (; e + 1 < width; e += 2) {
    a0 += x[xo + e]! * y[yo + e]!;
    a1 += x[xo + e + 1]! * y[yo + e + 1]!;
  }
  if (e < width) a0 += x[xo + e]! * y[yo + e]!;
  return a0 + a1;
}

/** dst[do + c] += src[so + c] for c < n. */
function addRow(dst: Float32Array, dOff: number, src: Float32Array, so: number, n: number): void {
  for (let c = 0; c < n; c++) dst[dOff + c] = dst[dOff + c]! + src[so + c]!;
}

/** LayerNorm of token rows t0…t1−1: u = h + y + b_O → nhat, 1/σ; adds gain·nhat + bias to the sample's pooled sum. */
function layerNormRows(
  ep: Float32Array,
  y: Float32Array,
  p: Float64Array,
  bo: number,
  gain: number,
  bias: number,
  ids: Int32Array,
  t0: number,
  S: number,
  V: number,
  D: number,
  nhat: Float32Array,
  rstd: Float64Array,
  pooled: Float64Array,
  pb: number,
): void {
  for (let s = 0; s < S; s++) {
    const t = t0 + s;
    const eo = ids[t]! * D,
      po = (V + s) * D,
      to = t * D;
    let mean = 0;
    for (let c = 0; c < D; c++) {
      const u = ep[eo + c]! + ep[po + c]! + y[to + c]! + p[bo + c]!;
      nhat[to + c] = u;
      mean += u;
    }
    mean /= D;
    let vsum = 0;
    for (let c = 0; c < D; c++) {
      const d = nhat[to + c]! - mean;
      vsum += d * d;
    }
    const r = 1 / Math.sqrt(vsum / D + 1e-5);
    rstd[t] = r;
    for (let c = 0; c < D; c++) {
      const nh = (nhat[to + c]! - mean) * r;
      nhat[to + c] = nh;
      pooled[pb + c] = pooled[pb + c]! + (nh * p[gain + c]! + p[bias + c]!);
    }
  }
}

/**
 * Forward pass on `params`, leaving in the workspace what the backward pass and the CV probes read:
 * [E; P]·[W_Q | W_K | W_V] (`pw`, biases in its token rows), the attention weights, the heads' output
 * `o`, the normalised residual `nhat` and its 1/σ, the pooled states and the logits. Returns loss and
 * accuracy. q, k, v and h = E[x] + P are not stored: they are sums of two rows of `pw` / `ep`
 * ({@link cvClassifierHidden} rebuilds them).
 */
export function cvClassifierForward(params: Float64Array, batch: CvBatch, ws: CvClassifierWorkspace): CvForwardResult {
  const n = checkBatch('cvClassifierForward', ws, batch);
  const { vocab: V, seqLen: S, classes: C, width: D, heads: H } = ws.shape;
  const L = ws.layout;
  const D3 = 3 * D;
  const R = V + S;
  const p = params;
  const { ep, wqkv, wo, pw, o, y, nhat, rstd, att, pooled, logits, blk } = ws;
  const ids = batch.ids;
  // [E; P] and [W_Q | W_K | W_V] as float32, then PW = [E; P]·[W_Q | W_K | W_V] (+ biases on token rows).
  const eOff = L.emb.offset,
    pOff = L.pos.offset;
  for (let i = 0; i < V * D; i++) ep[i] = p[eOff + i]!;
  for (let i = 0; i < S * D; i++) ep[V * D + i] = p[pOff + i]!;
  const q0 = L.wQ.offset,
    k0 = L.wK.offset,
    v0 = L.wV.offset,
    o0 = L.wO.offset;
  for (let r = 0; r < D; r++) {
    const wr = r * D3,
      pr = r * D;
    for (let c = 0; c < D; c++) {
      wqkv[wr + c] = p[q0 + pr + c]!;
      wqkv[wr + D + c] = p[k0 + pr + c]!;
      wqkv[wr + 2 * D + c] = p[v0 + pr + c]!;
      wo[pr + c] = p[o0 + pr + c]!;
    }
  }
  ws.gemm(ep, wqkv, R, D, D3, pw);
  const bqkv = new Float32Array(D3);
  for (let c = 0; c < D; c++) {
    bqkv[c] = p[L.bQ.offset + c]!;
    bqkv[D + c] = p[L.bK.offset + c]!;
    bqkv[2 * D + c] = p[L.bV.offset + c]!;
  }
  for (let r = 0; r < V; r++) addRow(pw, r * D3, bqkv, 0, D3);
  // Attention per sample (its q | k | v block gathered once, in cache): a = softmax(q·kᵀ/√hd), o = a·v.
  ws.ids.set(ids.subarray(0, n * S));
  const k = ws.kernels;
  if (k) {
    // The out-projection through the gather: U_h = PW_V,h·W_O,h (V + S rows), then the kernel's
    // y_i = Σ_h Σ_j a_ij (U_h[x_j] + U_h[V + j]): y = o·W_O with no per-token product.
    const hd = D / H;
    const { pv, U } = ws;
    for (let h = 0; h < H; h++) {
      const po = h * R * hd;
      for (let r = 0; r < R; r++) for (let c = 0; c < hd; c++) pv[po + r * hd + c] = pw[r * D3 + 2 * D + h * hd + c]!;
      ws.gemm(pv.subarray(po), wo.subarray(h * hd * D), R, hd, D, U.subarray(h * R * D));
    }
    const q = k.ptr;
    k.ex.attentionForward(q.pw, q.U, q.ids, n, S, V, D, H, q.att, q.y, q.blk, q.ug, q.row, q.sv);
  } else {
    const row = new Float64Array(S);
    for (let b = 0; b < n; b++) {
      gatherBlock(pw, ids, b * S, S, V, D3, blk);
      attendSample(blk, att, b * H * S * S, o, b * S * D, S, D, H, row);
    }
    ws.gemm(o, wo, n * S, D, D, y); // y = o·W_O
  }
  // u = h + y + b_O; LayerNorm; pooled = mean over positions.
  pooled.fill(0, 0, n * D);
  for (let b = 0; b < n; b++)
    layerNormRows(
      ep,
      y,
      p,
      L.bO.offset,
      L.lnGain.offset,
      L.lnBias.offset,
      ids,
      b * S,
      S,
      V,
      D,
      nhat,
      rstd,
      pooled,
      b * D,
    );
  for (let i = 0; i < n * D; i++) pooled[i] = pooled[i]! / S;
  // Logits, cross-entropy and accuracy.
  const wc = L.wC.offset,
    bc = L.bC.offset;
  let loss = 0;
  let correct = 0;
  const wcT = ws.wcT; // W_C transposed ([C, D]): each logit one contiguous dot
  for (let d = 0; d < D; d++) for (let c = 0; c < C; c++) wcT[c * D + d] = p[wc + d * C + c]!;
  for (let b = 0; b < n; b++) {
    for (let c = 0; c < C; c++) logits[b * C + c] = p[bc + c]! + dot64(pooled, b * D, wcT, c * D, D);
    let best = -Infinity,
      arg = 0;
    for (let c = 0; c < C; c++) {
      const z = logits[b * C + c]!;
      if (z > best) {
        best = z;
        arg = c;
      }
    }
    let se = 0;
    for (let c = 0; c < C; c++) se += Math.exp(logits[b * C + c]! - best);
    loss += best + Math.log(se) - logits[b * C + batch.labels[b]!]!;
    if (arg === batch.labels[b]) correct++;
  }
  return { loss: loss / n, correct, n };
}

/**
 * The gradient of the mean cross-entropy at `params` on `batch` into `ws.grad` (laid out as the
 * parameters), after {@link cvClassifierForward} on the same params and batch.
 */
export function cvClassifierBackward(params: Float64Array, batch: CvBatch, ws: CvClassifierWorkspace): void {
  const n = checkBatch('cvClassifierBackward', ws, batch);
  const { vocab: V, seqLen: S, classes: C, width: D, heads: H } = ws.shape;
  const L = ws.layout;
  const N = n * S;
  const D3 = 3 * D;
  const R = V + S;
  const p = params;
  const {
    ep,
    wqkv,
    wqkvT,
    wo,
    woT,
    pw,
    o,
    nhat,
    rstd,
    att,
    pooled,
    logits,
    du,
    dO,
    blk,
    dblk,
    g,
    dwqkv,
    dep,
    dwo,
    grad,
  } = ws;
  const ids = batch.ids;
  grad.fill(0);
  const wc = L.wC.offset,
    bcOff = L.bC.offset,
    gain = L.lnGain.offset,
    lnb = L.lnBias.offset,
    bO = L.bO.offset,
    eOff = L.emb.offset,
    pOff = L.pos.offset;
  // Classifier: dlogits = (softmax − onehot)/n; dW_C = pooledᵀ·dlogits; dpooled = dlogits·W_Cᵀ. Then the
  // mean over positions and LayerNorm's backward per token, with b_O's gradient (Σ du) and the residual
  // path's share of the embedding and position gradients (du scattered by token id and position).
  const dpooled = new Float64Array(D);
  const dl = new Float64Array(C);
  const { wcT, gwcT } = ws; // W_C transposed (from the forward pass) and its gradient, [C, D]
  gwcT.fill(0);
  for (let b = 0; b < n; b++) {
    let max = -Infinity;
    for (let c = 0; c < C; c++) max = Math.max(max, logits[b * C + c]!);
    let z = 0;
    for (let c = 0; c < C; c++) z += Math.exp(logits[b * C + c]! - max);
    for (let c = 0; c < C; c++) {
      dl[c] = (Math.exp(logits[b * C + c]! - max) / z - (c === batch.labels[b] ? 1 : 0)) / n;
      grad[bcOff + c] = grad[bcOff + c]! + dl[c]!;
    }
    dpooled.fill(0);
    for (let c = 0; c < C; c++) {
      const f = dl[c]!,
        co = c * D,
        pb = b * D;
      for (let d = 0; d < D; d++) {
        gwcT[co + d] = gwcT[co + d]! + f * pooled[pb + d]!;
        dpooled[d] = dpooled[d]! + f * wcT[co + d]!;
      }
    }
    for (let d = 0; d < D; d++) {
      dpooled[d] = dpooled[d]! / S;
      grad[lnb + d] = grad[lnb + d]! + S * dpooled[d]!; // every position of the sample adds dz
    }
    for (let s = 0; s < S; s++) {
      const t = b * S + s,
        to = t * D;
      let m1 = 0,
        m2 = 0;
      for (let d = 0; d < D; d++) {
        const dz = dpooled[d]!;
        const nh = nhat[to + d]!;
        grad[gain + d] = grad[gain + d]! + dz * nh;
        const dn = dz * p[gain + d]!;
        m1 += dn;
        m2 += dn * nh;
      }
      m1 /= D;
      m2 /= D;
      const r = rstd[t]!;
      const eo = eOff + ids[t]! * D,
        po = pOff + s * D;
      for (let d = 0; d < D; d++) {
        const v = r * (dpooled[d]! * p[gain + d]! - m1 - nhat[to + d]! * m2);
        du[to + d] = v;
        const vf = du[to + d]!; // the float32 value the products see
        grad[eo + d] = grad[eo + d]! + vf;
        grad[po + d] = grad[po + d]! + vf;
      }
    }
  }
  for (let d = 0; d < D; d++) for (let c = 0; c < C; c++) grad[wc + d * C + c] = gwcT[c * D + d]!;
  // b_O: Σ_t du_t, i.e. the residual path's share of the position gradients (before G's is added).
  for (let q = 0; q < S; q++) for (let d = 0; d < D; d++) grad[bO + d] = grad[bO + d]! + grad[pOff + q * D + d]!;
  ws.ids.set(ids.subarray(0, n * S));
  const k = ws.kernels;
  if (k) {
    // The kernel: dq, dk into G, and e_j = Σ_i a_ij du_i scattered into GE_h; then per head
    // G_V,h = GE_h·W_O,hᵀ and dW_O,h = PV_hᵀ·GE_h (products over the V + S rows only).
    const q = k.ptr;
    k.ex.attentionBackward(
      q.pw,
      q.U,
      q.ids,
      n,
      S,
      V,
      D,
      H,
      q.att,
      q.du,
      q.g,
      q.GE,
      q.blk,
      q.dblk,
      q.ug,
      q.e,
      q.ds,
      q.sv,
    );
    const hd = D / H;
    const { pv, GE, woTh, gvh } = ws;
    for (let h = 0; h < H; h++) {
      for (let c = 0; c < D; c++) for (let r = 0; r < hd; r++) woTh[c * hd + r] = wo[(h * hd + r) * D + c]!;
      const ge = GE.subarray(h * R * D);
      ws.gemm(ge, woTh, R, D, hd, gvh);
      for (let r = 0; r < R; r++) for (let c = 0; c < hd; c++) g[r * D3 + 2 * D + h * hd + c] = gvh[r * hd + c]!;
      ws.gemm(pv.subarray(h * R * hd), ge, hd, R, D, dwo.subarray(h * hd * D), true);
    }
    for (let i = 0; i < D * D; i++) grad[L.wO.offset + i] = dwo[i]!;
  } else {
    // Out-projection: dW_O = oᵀ·du, do = du·W_Oᵀ; attention backward per sample (its q | k | v block
    // gathered again, in cache), then G: the per-token gradients of q, k, v summed by token id (rows
    // 0…V−1) and by position (V…).
    ws.gemm(o, du, D, N, D, dwo, true);
    for (let r = 0; r < D; r++) for (let c = 0; c < D; c++) woT[c * D + r] = wo[r * D + c]!;
    ws.gemm(du, woT, N, D, D, dO);
    for (let i = 0; i < D * D; i++) grad[L.wO.offset + i] = dwo[i]!;
    g.fill(0, 0, R * D3);
    const ds = new Float32Array(S * S);
    for (let b = 0; b < n; b++) {
      gatherBlock(pw, ids, b * S, S, V, D3, blk);
      attendSampleBackward(blk, att, b * H * S * S, dO, b * S * D, dblk, S, D, H, ds);
      for (let s = 0; s < S; s++) {
        addRow(g, ids[b * S + s]! * D3, dblk, s * D3, D3);
        addRow(g, (V + s) * D3, dblk, s * D3, D3);
      }
    }
  }
  // b_Q, b_K, b_V: every token adds its gradient to exactly one token row of G.
  for (let r = 0; r < V; r++) {
    const go = r * D3;
    for (let c = 0; c < D; c++) {
      grad[L.bQ.offset + c] = grad[L.bQ.offset + c]! + g[go + c]!;
      grad[L.bK.offset + c] = grad[L.bK.offset + c]! + g[go + D + c]!;
      grad[L.bV.offset + c] = grad[L.bV.offset + c]! + g[go + 2 * D + c]!;
    }
  }
  // d[W_Q | W_K | W_V] = [E; P]ᵀ·G (each row of [E; P] is h's share for its tokens).
  ws.gemm(ep, g, D, R, D3, dwqkv, true);
  for (let r = 0; r < D; r++) {
    for (let c = 0; c < D; c++) {
      grad[L.wQ.offset + r * D + c] = dwqkv[r * D3 + c]!;
      grad[L.wK.offset + r * D + c] = dwqkv[r * D3 + D + c]!;
      grad[L.wV.offset + r * D + c] = dwqkv[r * D3 + 2 * D + c]!;
    }
  }
  // d[E; P] += G·[W_Q | W_K | W_V]ᵀ.
  for (let r = 0; r < D; r++) for (let c = 0; c < D3; c++) wqkvT[c * D + r] = wqkv[r * D3 + c]!;
  ws.gemm(g, wqkvT, R, D3, D, dep);
  for (let i = 0; i < V * D; i++) grad[eOff + i] = grad[eOff + i]! + dep[i]!;
  for (let i = 0; i < S * D; i++) grad[pOff + i] = grad[pOff + i]! + dep[V * D + i]!;
}

/** Adam (torch.optim.Adam, no weight decay) on every parameter with `grad`. */
function cvAdamUpdate(state: CvClassifierState, grad: Float64Array, adam: CvAdam): void {
  state.step += 1;
  const { lr, beta1: b1, beta2: b2, eps } = adam;
  const stepSize = lr / (1 - b1 ** state.step);
  const bc2Sqrt = Math.sqrt(1 - b2 ** state.step);
  const { params: p, m, v } = state;
  for (let i = 0; i < p.length; i++) {
    const gi = grad[i]!;
    m[i] = b1 * m[i]! + (1 - b1) * gi;
    v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
    p[i] = p[i]! - stepSize * (m[i]! / (Math.sqrt(v[i]!) / bc2Sqrt + eps));
  }
}

/**
 * One training step: forward (loss and accuracy before the update, as the seed records), gradient,
 * Adam. Pure in (state, batch): the same inputs give the same state and result.
 * @example
 * const ws = cvClassifierWorkspace(shape, 500, tfjsGemm());
 * const { loss, correct } = cvClassifierStep(state, batch, ws, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
 */
export function cvClassifierStep(
  state: CvClassifierState,
  batch: CvBatch,
  ws: CvClassifierWorkspace,
  adam: CvAdam,
): CvForwardResult {
  if (state.params.length !== ws.layout.total)
    throw new RangeError(
      `cvClassifierStep: state.params must hold ${ws.layout.total} numbers for this shape; got ${state.params.length}`,
    );
  const r = cvClassifierForward(state.params, batch, ws);
  cvClassifierBackward(state.params, batch, ws);
  cvAdamUpdate(state, ws.grad, adam);
  return r;
}

/**
 * After {@link cvClassifierForward}: the first `rows` tokens' hidden states as seed 003's
 * forward_activations names them, row-major float32: h = E[x] + P (`act_emb`), q, k, v (`[rows, width]`
 * each, heads side by side), and norm(h + attn) (`act_post_full`, LayerNorm's output with its gain and bias).
 */
export function cvClassifierHidden(
  params: Float64Array,
  batch: CvBatch,
  ws: CvClassifierWorkspace,
  rows: number,
): { h: Float32Array; q: Float32Array; k: Float32Array; v: Float32Array; post: Float32Array } {
  const { vocab: V, seqLen: S, width: D } = ws.shape;
  const L = ws.layout;
  const D3 = 3 * D;
  const h = new Float32Array(rows * D),
    q = new Float32Array(rows * D),
    k = new Float32Array(rows * D),
    v = new Float32Array(rows * D),
    post = new Float32Array(rows * D);
  const { ep, pw, nhat } = ws;
  for (let t = 0; t < rows; t++) {
    const id = batch.ids[t]!,
      s = t % S;
    const eo = id * D,
      po = (V + s) * D,
      xo = id * D3,
      qo = (V + s) * D3;
    for (let c = 0; c < D; c++) {
      h[t * D + c] = ep[eo + c]! + ep[po + c]!;
      q[t * D + c] = pw[xo + c]! + pw[qo + c]!;
      k[t * D + c] = pw[xo + D + c]! + pw[qo + D + c]!;
      v[t * D + c] = pw[xo + 2 * D + c]! + pw[qo + 2 * D + c]!;
      post[t * D + c] = nhat[t * D + c]! * params[L.lnGain.offset + c]! + params[L.lnBias.offset + c]!;
    }
  }
  return { h, q, k, v, post };
}

/** Options of {@link cvClassifierEngine}. */
export interface CvClassifierEngineOptions {
  shape: CvClassifierShape;
  /** Initial parameters by name (the model's initialisation, e.g. read from the reference model's variables). */
  values: Record<CvParamName, ArrayLike<number>>;
  /** Iteration t's batch (deterministic in t). */
  batch: (step: number) => CvBatch;
  /** The largest batch `batch` gives (sizes the workspace). */
  maxBatch: number;
  adam: CvAdam;
  /** The products' kernel (default {@link jsGemm}). */
  gemm?: Gemm;
  /** The name reported (default 'fused float64 (host)'). */
  name?: string;
}

/** @attnlab/train's Engine over the fused step, plus what cv-sweep reads besides the losses. */
export interface CvClassifierEngine extends Engine {
  run(n: number): Promise<Float64Array>;
  restore(state: EngineState): void;
  /** Samples classified correctly by the training forwards since the last call (the counter then restarts). */
  takeCorrect(): number;
  /** One forward pass of the current parameters on `batch`: loss, correct count and the first `rows` tokens' hidden states. */
  evaluate(batch: CvBatch, rows: number): CvForwardResult & { hidden: ReturnType<typeof cvClassifierHidden> };
}

/**
 * The fused step as a training engine: `train({ engine })` runs it with the schedule, events and
 * abort of every other engine; `state()`/`restore()` hold the float64 parameters and Adam's moments
 * in the standard optimizer-state form (one step count for every block: the step updates all).
 * @example
 * const engine = cvClassifierEngine({ shape, values, batch: () => batch, maxBatch: 500, adam });
 * await train({ engine, steps: 50 });
 */
export function cvClassifierEngine(options: CvClassifierEngineOptions): CvClassifierEngine {
  const fn = 'cvClassifierEngine';
  if (options === null || typeof options !== 'object')
    throw new TypeError(
      `${fn}: options must be an object { shape, values, batch, maxBatch, adam }; got ${String(options)}`,
    );
  const { shape, batch, adam } = options;
  if (typeof batch !== 'function')
    throw new TypeError(`${fn}: options.batch must be a function of the step; got ${typeof batch}`);
  for (const k of ['lr', 'beta1', 'beta2', 'eps'] as const)
    if (!(typeof adam?.[k] === 'number' && Number.isFinite(adam[k])))
      throw new TypeError(`${fn}: options.adam.${k} must be a finite number; got ${String(adam?.[k])}`);
  const state = cvClassifierState(shape, options.values);
  const ws = cvClassifierWorkspace(shape, options.maxBatch, options.gemm ?? jsGemm);
  const L = ws.layout;
  let correct = 0;
  let tensors: TensorMap | null = null;
  const drop = () => {
    if (tensors) tf.dispose(Object.values(tensors));
    tensors = null;
  };
  const block = (values: Float64Array, name: CvParamName): HostTensor => ({
    shape: [...L[name].shape],
    dtype: 'float64',
    values: values.slice(L[name].offset, L[name].offset + L[name].size),
  });
  const config = { lr: adam.lr, weightDecay: 0, betas: [adam.beta1, adam.beta2] as [number, number], eps: adam.eps };
  return {
    name: options.name ?? 'fused float64 (host)',
    get step() {
      return state.step;
    },
    async run(n: number): Promise<Float64Array> {
      if (!Number.isInteger(n) || n < 1) throw new RangeError(`${fn}.run: n must be an integer ≥ 1; got ${String(n)}`);
      drop();
      const losses = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const r = cvClassifierStep(state, batch(state.step), ws, adam);
        losses[i] = r.loss;
        correct += r.correct;
      }
      return losses;
    },
    takeCorrect(): number {
      const c = correct;
      correct = 0;
      return c;
    },
    evaluate(b: CvBatch, rows: number) {
      const r = cvClassifierForward(state.params, b, ws);
      if (!Number.isInteger(rows) || rows < 0 || rows > b.ids.length)
        throw new RangeError(`${fn}.evaluate: rows must be an integer in [0, ${b.ids.length}]; got ${String(rows)}`);
      return { ...r, hidden: cvClassifierHidden(state.params, b, ws, rows) };
    },
    params(): TensorMap {
      if (!tensors) {
        const out: TensorMap = {};
        for (const name of CV_PARAM_NAMES) {
          const { offset, size, shape: s } = L[name];
          out[name] = tf.tensor(Float32Array.from(state.params.subarray(offset, offset + size)), s, 'float32');
        }
        tensors = out;
      }
      return tensors;
    },
    async state(): Promise<EngineState> {
      const params: Record<string, HostTensor> = {};
      const opt: OptimizerState['params'] = {};
      for (const name of CV_PARAM_NAMES) {
        params[name] = block(state.params, name);
        if (state.step > 0)
          opt[name] = { step: state.step, slots: { m: block(state.m, name), v: block(state.v, name) } };
      }
      return { step: state.step, params, optimizer: { type: 'adam', config: { ...config }, params: opt } };
    },
    restore(s: EngineState): void {
      const f = `${fn}.restore`;
      if (s === null || typeof s !== 'object')
        throw new TypeError(`${f}: state must be an EngineState { step, params, optimizer }; got ${String(s)}`);
      if (!Number.isInteger(s.step) || s.step < 0)
        throw new RangeError(`${f}: state.step must be an integer ≥ 0; got ${String(s.step)}`);
      const read = (where: string, h: HostTensor | undefined, name: CvParamName, dst: Float64Array) => {
        const { offset, size } = L[name];
        if (
          h === undefined ||
          !(h.values instanceof Float64Array || h.values instanceof Float32Array) ||
          h.values.length !== size
        )
          throw new RangeError(
            `${f}: ${where} must be a float32 or float64 host tensor of ${size} numbers (the layout of '${name}')`,
          );
        dst.set(h.values, offset);
      };
      const p = new Float64Array(L.total),
        m = new Float64Array(L.total),
        v = new Float64Array(L.total);
      for (const name of CV_PARAM_NAMES) read(`state.params['${name}']`, s.params?.[name], name, p);
      const o = s.optimizer;
      if (o) {
        if (
          o.type !== 'adam' ||
          o.config.lr !== adam.lr ||
          o.config.eps !== adam.eps ||
          o.config.betas?.[0] !== adam.beta1 ||
          o.config.betas[1] !== adam.beta2 ||
          (o.config.weightDecay ?? 0) !== 0
        )
          throw new RangeError(
            `${f}: state.optimizer must be this engine's Adam ${JSON.stringify(config)}; got ${JSON.stringify({ type: o.type, ...o.config })}`,
          );
        for (const name of CV_PARAM_NAMES) {
          const ps = o.params[name];
          if (ps === undefined) continue;
          if (ps.step !== s.step)
            throw new RangeError(
              `${f}: state.optimizer.params['${name}'].step must equal state.step = ${s.step} (every block steps together); got ${String(ps.step)}`,
            );
          read(`state.optimizer.params['${name}'].slots.m`, ps.slots.m, name, m);
          read(`state.optimizer.params['${name}'].slots.v`, ps.slots.v, name, v);
        }
      }
      drop();
      state.params.set(p);
      state.m.set(m);
      state.v.set(v);
      state.step = s.step;
      correct = 0;
    },
    dispose(): void {
      drop();
    },
  };
}
