/**
 * WGSL of the causal stack's kernels on webgpu: src/stack.ts's algorithm (forward, analytic
 * backward) with one invocation per example, float32. Pass 1 writes each example's prediction
 * (forward) or its parameter gradient and squared error into a [B, P+1] buffer; pass 2 sums
 * that buffer over the batch (one invocation per parameter). Straightforward rather than fast:
 * the SIMD engine and the WGSL single-layer trainer are the fast paths.
 */
import { EXP_WGSL } from './single.js';
import { stackOffsets, type StackShape } from '../stack/float64.js';

/** What the per-example pass computes. */
export type StackShaderMode = 'forward' | 'backward' | 'lossgrad';

/** Floats of per-example scratch of the stack shader. */
export function stackScratchFloats(s: StackShape, L: number): number {
  const D = s.d + 1;
  const T = L + 1;
  return (s.layers + 1) * T * D + 4 * s.layers * s.heads * T * D + s.layers * s.heads * T * T + 6 * T * D + T;
}

/**
 * Pass 1. Bindings: params, z [B,L,D], zq [B,D], third (dy or yq [B]; unused by forward),
 * scratch [B·S], out (forward: pred [B]; else per-example [B, P+1]: gradient then squared error).
 */
export function stackExampleShader(s: StackShape, L: number, B: number, mode: StackShaderMode): string {
  const D = s.d + 1;
  const T = L + 1;
  const H = s.heads;
  const NL = s.layers;
  const off = stackOffsets(s);
  const P = off.size;
  const S = stackScratchFloats(s, L);
  // scratch offsets (floats, per example)
  const oX = 0;
  const oQ = oX + (NL + 1) * T * D;
  const oK = oQ + NL * H * T * D;
  const oV = oK + NL * H * T * D;
  const oC = oV + NL * H * T * D;
  const oA = oC + NL * H * T * D;
  const oDX0 = oA + NL * H * T * T;
  const oDX1 = oDX0 + T * D;
  const oDC = oDX1 + T * D;
  const oDQ = oDC + T * D;
  const oDK = oDQ + T * D;
  const oDV = oDK + T * D;
  const oDA = oDV + T * D;
  const layerBase = (l: string) => (s.tied ? '0u' : `(${l}) * ${4 * H * D * D}u`);
  // offsets of head h of layer l: its activations (ho), attention weights (ao) and four matrices
  const headLets = `      let ho = (l * H + h) * T * D;
      let ao = A + (l * H + h) * T * T;
      let wq = lw + h * D * D;
      let wk = lw + ${H * D * D}u + h * D * D;
      let wv = lw + ${2 * H * D * D}u + h * D * D;
      let wo = lw + ${3 * H * D * D}u + h * D * D;
`;
  return /* wgsl */ `
${EXP_WGSL}
@group(0) @binding(0) var<storage, read> params: array<f32>;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read> zq: array<f32>;
@group(0) @binding(3) var<storage, read> third: array<f32>;
@group(0) @binding(4) var<storage, read_write> sc: array<f32>;
@group(0) @binding(5) var<storage, read_write> outv: array<f32>;
const D = ${D}u;
const T = ${T}u;
const H = ${H}u;
const NL = ${NL}u;
const P = ${P}u;
const FIN = ${off.final}u;
const INV = ${1 / Math.sqrt(D)};

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let b = gid.x;
  if (b >= ${B}u) { return; }
  let base = b * ${S}u;
  let X = base + ${oX}u;
  let Q = base + ${oQ}u;
  let KT = base + ${oK}u;
  let VT = base + ${oV}u;
  let C = base + ${oC}u;
  let A = base + ${oA}u;
  // x0 = [z_1 … z_L; z_q]
  for (var i = 0u; i < ${L * D}u; i++) { sc[X + i] = z[b * ${L * D}u + i]; }
  for (var j = 0u; j < D; j++) { sc[X + ${L * D}u + j] = zq[b * D + j]; }
  for (var l = 0u; l < NL; l++) {
    let lw = ${layerBase('l')};
    let xo = X + l * T * D;
    let xn = X + (l + 1u) * T * D;
    var i0 = 0u;
    if (l == NL - 1u) { i0 = T - 1u; }
    for (var i = i0 * D; i < T * D; i++) { sc[xn + i] = ${s.residual ? 'sc[xo + i]' : '0.0'}; }
    for (var h = 0u; h < H; h++) {
${headLets}      for (var i = i0; i < T; i++) {
        for (var c = 0u; c < D; c++) {
          var acc = 0.0;
          for (var k = 0u; k < D; k++) { acc += sc[xo + i * D + k] * params[wq + k * D + c]; }
          sc[Q + ho + i * D + c] = acc;
        }
      }
      for (var j = 0u; j < T; j++) {
        for (var c = 0u; c < D; c++) {
          var sk = 0.0;
          var sv = 0.0;
          for (var k = 0u; k < D; k++) {
            let xv = sc[xo + j * D + k];
            sk += xv * params[wk + k * D + c];
            sv += xv * params[wv + k * D + c];
          }
          sc[KT + ho + c * T + j] = sk;
          sc[VT + ho + c * T + j] = sv;
        }
      }
      if (i0 == 0u) {
        for (var j = 0u; j < T; j++) { sc[ao + j] = 0.0; }
        for (var c = 0u; c < D; c++) { sc[C + ho + c] = 0.0; }
      }
      for (var i = max(i0, 1u); i < T; i++) {
        let ar = ao + i * T;
        var mx = -3.0e38;
        for (var j = 0u; j < i; j++) {
          var sj = 0.0;
          for (var c = 0u; c < D; c++) { sj += sc[Q + ho + i * D + c] * INV * sc[KT + ho + c * T + j]; }
          sc[ar + j] = sj;
          mx = max(mx, sj);
        }
        var sum = 0.0;
        for (var j = 0u; j < i; j++) { let e = expf(sc[ar + j] - mx); sc[ar + j] = e; sum += e; }
        let r = 1.0 / sum;
        for (var j = 0u; j < i; j++) { sc[ar + j] = sc[ar + j] * r; }
        for (var c = 0u; c < D; c++) {
          var acc = 0.0;
          for (var j = 0u; j < i; j++) { acc += sc[ar + j] * sc[VT + ho + c * T + j]; }
          sc[C + ho + i * D + c] = acc;
        }
      }
      for (var i = i0; i < T; i++) {
        for (var c = 0u; c < D; c++) {
          var acc = sc[xn + i * D + c];
          for (var k = 0u; k < D; k++) { acc += sc[C + ho + i * D + k] * params[wo + k * D + c]; }
          sc[xn + i * D + c] = acc;
        }
      }
    }
  }
  if (b == 0xffffffffu) { sc[0] = third[0]; } // keeps binding 3 in the auto layout
  let last = X + NL * T * D + ${L * D}u;
  var pred = 0.0;
  for (var j = 0u; j < D; j++) { pred += sc[last + j] * params[FIN + j]; }
${
  mode === 'forward'
    ? `  outv[b] = pred;
}`
    : `  ${mode === 'backward' ? 'let g = third[b];\n  let sq = 0.0;' : `let diff = pred - third[b];\n  let g = 2.0 * diff / ${B}.0;\n  let sq = diff * diff;`}
  let gb = b * ${P + 1}u;
  for (var i = 0u; i < P; i++) { outv[gb + i] = 0.0; }
  outv[gb + P] = sq;
  var dx = base + ${oDX0}u;
  var dxp = base + ${oDX1}u;
  let DC = base + ${oDC}u;
  let DQ = base + ${oDQ}u;
  let DK = base + ${oDK}u;
  let DV = base + ${oDV}u;
  let DA = base + ${oDA}u;
  for (var i = 0u; i < T * D; i++) { sc[dx + i] = 0.0; }
  for (var j = 0u; j < D; j++) {
    outv[gb + FIN + j] = g * sc[last + j];
    sc[dx + ${L * D}u + j] = g * params[FIN + j];
  }
  for (var li = 0u; li < NL; li++) {
    let l = NL - 1u - li;
    let lw = ${layerBase('l')};
    let xo = X + l * T * D;
    var i0 = 0u;
    if (l == NL - 1u) { i0 = T - 1u; }
    for (var i = 0u; i < T * D; i++) { sc[dxp + i] = ${s.residual ? 'sc[dx + i]' : '0.0'}; }
    for (var h = 0u; h < H; h++) {
${headLets}      for (var i = i0; i < T; i++) {
        for (var k = 0u; k < D; k++) {
          var acc = 0.0;
          for (var c = 0u; c < D; c++) { acc += sc[dx + i * D + c] * params[wo + k * D + c]; }
          sc[DC + i * D + k] = acc;
        }
      }
      for (var k = 0u; k < D; k++) {
        for (var c = 0u; c < D; c++) {
          var acc = 0.0;
          for (var i = i0; i < T; i++) { acc += sc[C + ho + i * D + k] * sc[dx + i * D + c]; }
          outv[gb + wo + k * D + c] += acc;
        }
      }
      for (var i = 0u; i < T * D; i++) { sc[DQ + i] = 0.0; sc[DK + i] = 0.0; sc[DV + i] = 0.0; }
      for (var i = max(i0, 1u); i < T; i++) {
        let ar = ao + i * T;
        for (var j = 0u; j < i; j++) { sc[DA + j] = 0.0; }
        for (var c = 0u; c < D; c++) {
          let dci = sc[DC + i * D + c];
          for (var j = 0u; j < i; j++) {
            sc[DA + j] += dci * sc[VT + ho + c * T + j];
            sc[DV + c * T + j] += sc[ar + j] * dci;
          }
        }
        var dot = 0.0;
        for (var j = 0u; j < i; j++) { dot += sc[ar + j] * sc[DA + j]; }
        for (var j = 0u; j < i; j++) { sc[DA + j] = sc[ar + j] * (sc[DA + j] - dot) * INV; }
        for (var c = 0u; c < D; c++) {
          let qic = sc[Q + ho + i * D + c];
          var acc = 0.0;
          for (var j = 0u; j < i; j++) {
            let ds = sc[DA + j];
            acc += ds * sc[KT + ho + c * T + j];
            sc[DK + c * T + j] += ds * qic;
          }
          sc[DQ + i * D + c] = acc;
        }
      }
      for (var r = 0u; r < D; r++) {
        for (var c = 0u; c < D; c++) {
          var aq = 0.0;
          var ak = 0.0;
          var av = 0.0;
          for (var i = 0u; i < T; i++) {
            let xi = sc[xo + i * D + r];
            aq += xi * sc[DQ + i * D + c];
            ak += xi * sc[DK + c * T + i];
            av += xi * sc[DV + c * T + i];
          }
          outv[gb + wq + r * D + c] += aq;
          outv[gb + wk + r * D + c] += ak;
          outv[gb + wv + r * D + c] += av;
        }
      }
      for (var i = 0u; i < T; i++) {
        for (var r = 0u; r < D; r++) {
          var acc = sc[dxp + i * D + r];
          for (var c = 0u; c < D; c++) {
            acc += sc[DQ + i * D + c] * params[wq + r * D + c] + sc[DK + c * T + i] * params[wk + r * D + c] + sc[DV + c * T + i] * params[wv + r * D + c];
          }
          sc[dxp + i * D + r] = acc;
        }
      }
    }
    let t = dx;
    dx = dxp;
    dxp = t;
  }
}`
}
`;
}

/**
 * Pass 2: out[i] = Σ_b per[b·(P+1) + i] for the gradient; with `loss`, out = [loss, grad…] where
 * loss = Σ_b per[b·(P+1) + P] / B.
 */
export function stackReduceShader(P: number, B: number, loss: boolean): string {
  return /* wgsl */ `
@group(0) @binding(0) var<storage, read> per: array<f32>;
@group(0) @binding(1) var<storage, read_write> outv: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i > ${P}u) { return; }
  var acc = 0.0;
  for (var b = 0u; b < ${B}u; b++) { acc += per[b * ${P + 1}u + i]; }
  ${loss ? `if (i == ${P}u) { outv[0] = acc / ${B}.0; } else { outv[1u + i] = acc; }` : `if (i < ${P}u) { outv[i] = acc; }`}
}
`;
}
