/**
 * WGSL for the fused step: Philox data in-shader, forward, backward, workgroup reduction and Adam,
 * one workgroup per model, K steps per dispatch. The same template (with data read from buffers
 * and no Adam) backs the webgpu tfjs kernels. Mirrors `core.ts` and `philox.ts`.
 */

/** Compile-time configuration of a shader. */
export interface ShaderConfig {
  d: number;
  L: number;
  B: number;
  /** Largest head count of any model in the dispatch. */
  hmax: number;
  /**
   * 'train': Philox data, K steps with Adam per dispatch, one workgroup per model.
   * 'lossgrad': data from buffers, one model; writes [loss, grad…]. 'backward': same with ∂L/∂ŷ
   * read from a buffer (no loss). 'forward': one thread per example writes ŷ.
   */
  mode: 'train' | 'lossgrad' | 'backward' | 'forward';
}

/** Workgroup size used for a shader configuration. */
function workgroupSize(cfg: Pick<ShaderConfig, 'd'>): number {
  const D = cfg.d + 1;
  // The reduction scratch holds (D² + D) floats per invocation; keep it under ~12 KB.
  let wg = 64;
  while (wg > 8 && (D * D + D) * wg * 4 > 12288) wg /= 2;
  return wg;
}

/** Floats per model in the trainer's state buffer: [p | m | v] for hmax heads. */
export function stateStride(d: number, hmax: number): number {
  const D = d + 1;
  return 3 * hmax * D * (3 * D + 1);
}

/** WGSL e^y (our own: several drivers' exp is far less accurate than float32). */
export const EXP_WGSL = /* wgsl */ `
// e^y (y ≤ 88): 2^k · e^r with |r| ≤ ln2/2, Taylor to r⁷.
fn expf(y: f32) -> f32 {
  let yc = max(y, -87.0);
  let k = round(yc * 1.4426950408889634);
  let r = (yc - k * 0.693145751953125) - k * 1.428606765330187e-6;
  let p = 1.0 + r * (1.0 + r * (0.5 + r * (0.16666666667 + r * (0.041666666667 + r * (0.0083333333333 + r * (0.0013888888889 + r * 0.00019841269841))))));
  return ldexp(p, i32(k));
}
`;

const PHILOX_WGSL = /* wgsl */ `
fn mulhi(a: u32, b: u32) -> u32 {
  let aL = a & 0xffffu; let aH = a >> 16u; let bL = b & 0xffffu; let bH = b >> 16u;
  let ll = aL * bL; let lh = aL * bH; let hl = aH * bL; let hh = aH * bH;
  let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}
fn philox(c: vec4<u32>, k: vec2<u32>) -> vec4<u32> {
  var x = c;
  var key = k;
  for (var r = 0u; r < 10u; r++) {
    if (r > 0u) { key = key + vec2<u32>(0x9e3779b9u, 0xbb67ae85u); }
    let hi0 = mulhi(0xd2511f53u, x.x);
    let lo0 = 0xd2511f53u * x.x;
    let hi1 = mulhi(0xcd9e8d57u, x.z);
    let lo1 = 0xcd9e8d57u * x.z;
    x = vec4<u32>(hi1 ^ x.y ^ key.x, lo1, hi0 ^ x.w ^ key.y, lo0);
  }
  return x;
}
fn u01(x: u32) -> f32 { return (f32(x) + 0.5) * 2.3283064365386963e-10; }
// Our own ln, sin and cos: some drivers (SwiftShader among them) implement WGSL's log/cos/sin
// with errors near 1e-4, far above float32, which would make GPU batches differ from the CPU's.
fn lnf(y: f32) -> f32 {
  let bits = bitcast<u32>(y);
  var e = i32((bits >> 23u) & 0xffu) - 127;
  var m = bitcast<f32>((bits & 0x007fffffu) | 0x3f800000u);
  if (m > 1.4142135) { m = m * 0.5; e = e + 1; }
  let s = (m - 1.0) / (m + 1.0);
  let s2 = s * s;
  // ln m = 2 atanh s, |s| ≤ 0.1716
  let p = s * (2.0 + s2 * (0.6666666667 + s2 * (0.4 + s2 * (0.2857142857 + s2 * 0.2222222222))));
  return p + f32(e) * 0.6931471805599453;
}
${EXP_WGSL}// 1 − e^y without cancellation for small |y|.
fn oneMinusExp(y: f32) -> f32 {
  if (abs(y) < 0.35) {
    return -y * (1.0 + y * (0.5 + y * (0.16666666667 + y * (0.041666666667 + y * (0.0083333333333 + y * (0.0013888888889 + y * 0.00019841269841))))));
  }
  return 1.0 - expf(y);
}
// −ln u for u = (x + 0.5)·2^-32. Near u = 1 use 1 − u = (~x + 0.5)·2^-32 (exact) and
// −ln(1 − v) = v + v²/2 + v³/3 + …
fn negLogU(x: u32) -> f32 {
  let v = (f32(~x) + 0.5) * 2.3283064365386963e-10;
  if (v < 0.0009765625) { return v + v * v * (0.5 + v * (1.0 / 3.0)); }
  return -lnf(u01(x));
}
// (cos 2πu, sin 2πu) for u = (x + 0.5)·2^-32: quarter-turn q = round(4u) from the integer, the
// remainder f ∈ [−1/8, 1/8] turn exactly, then Taylor polynomials on |a| ≤ π/4.
fn cosSinTurn(x: u32) -> vec2<f32> {
  let q = ((x >> 29u) + 1u) >> 1u;
  let fi = bitcast<i32>(x - (q << 30u));
  let a = (f32(fi) + 0.5) * 2.3283064365386963e-10 * 6.283185307179586;
  let a2 = a * a;
  let sa = a * (1.0 - a2 * (0.16666666667 - a2 * (0.0083333333333 - a2 * (0.00019841269841 - a2 * 0.0000027557319224))));
  let ca = 1.0 - a2 * (0.5 - a2 * (0.041666666667 - a2 * (0.0013888888889 - a2 * (0.000024801587302 - a2 * 0.00000027557319224))));
  switch (q & 3u) {
    case 0u: { return vec2<f32>(ca, sa); }
    case 1u: { return vec2<f32>(-sa, ca); }
    case 2u: { return vec2<f32>(-ca, -sa); }
    default: { return vec2<f32>(sa, -ca); }
  }
}
fn normals4(c: vec4<u32>, k: vec2<u32>) -> vec4<f32> {
  let x = philox(c, k);
  let ra = sqrt(2.0 * negLogU(x.x));
  let rb = sqrt(2.0 * negLogU(x.z));
  let ta = cosSinTurn(x.y);
  let tb = cosSinTurn(x.w);
  return vec4<f32>(ra * ta.x, ra * ta.y, rb * tb.x, rb * tb.y);
}
`;

/** Philox self-test shader: out[4i..4i+3] = philox(ctr[i], key[i]) (u32) for test vectors. */
export const PHILOX_TEST_WGSL = /* wgsl */ `${PHILOX_WGSL}
@group(0) @binding(0) var<storage, read> ctr: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> key: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read_write> outU: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read_write> outN: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= arrayLength(&ctr)) { return; }
  outU[i] = philox(ctr[i], key[i]);
  outN[i] = normals4(ctr[i], key[i]);
}
`;

/** WGSL source of the fused ICL shader for `cfg`. */
export function iclShaderSource(cfg: ShaderConfig): string {
  const { d, L, B, hmax, mode } = cfg;
  const D = d + 1;
  const WG = workgroupSize(cfg);
  const NA = D * D + D;
  const PMAX = hmax * D * (3 * D + 1);
  const GPT = Math.ceil(PMAX / WG);
  const NTOT = d + (L + 1) * d + L;
  const train = mode === 'train';
  const header = /* wgsl */ `
const D: u32 = ${D}u;
const DX: u32 = ${d}u;
const L: u32 = ${L}u;
const B: u32 = ${B}u;
const HMAX: u32 = ${hmax}u;
const WG: u32 = ${WG}u;
const NA: u32 = ${NA}u;
const PMAX: u32 = ${PMAX}u;
const GPT: u32 = ${GPT}u;
const NTOT: u32 = ${NTOT}u;
const NBLK: u32 = ${Math.ceil(NTOT / 4)}u;
const INV_SQRT_D: f32 = ${1 / Math.sqrt(D)};
${PHILOX_WGSL}
var<private> zt: array<f32, ${L * D}>;
var<private> zqv: array<f32, ${D}>;
var<private> aa: array<f32, ${hmax * L}>;
var<private> tt: array<f32, ${hmax * L}>;
var<private> yh: array<f32, ${hmax}>;
`;
  const bindings = train
    ? /* wgsl */ `
struct Model { seedLo: u32, seedHi: u32, heads: u32, stream: u32, lr: f32, b1: f32, b2: f32, eps: f32, noise: f32, p0: f32, p1: f32, p2: f32 }
struct Run { steps: u32, base: u32, lossStride: u32, stride: u32 }
@group(0) @binding(0) var<storage, read_write> state: array<f32>;
@group(0) @binding(1) var<storage, read> models: array<Model>;
@group(0) @binding(2) var<storage, read_write> counters: array<u32>;
@group(0) @binding(3) var<storage, read_write> losses: array<f32>;
@group(0) @binding(4) var<uniform> run: Run;
`
    : /* wgsl */ `
struct Run { heads: u32, p0: u32, p1: u32, p2: u32 }
@group(0) @binding(0) var<storage, read> state: array<f32>;
@group(0) @binding(1) var<storage, read> zin: array<f32>;
@group(0) @binding(2) var<storage, read> zqin: array<f32>;
@group(0) @binding(3) var<storage, read> yin: array<f32>;
@group(0) @binding(4) var<storage, read_write> outv: array<f32>;
@group(0) @binding(5) var<uniform> run: Run;
`;
  const load = train
    ? /* wgsl */ `
// Example e of step s, stream 0: normals of (stream, c1 = s, c2 = e) in the order β, x_1..x_L, x_q, ε.
fn loadExample(key: vec2<u32>, stream: u32, s: u32, e: u32, noise: f32) -> f32 {
  var beta: array<f32, ${d}>;
  for (var blk = 0u; blk < NBLK; blk++) {
    let nv = normals4(vec4<u32>(blk, s, e, stream), key);
    for (var j = 0u; j < 4u; j++) {
      let idx = blk * 4u + j;
      if (idx >= NTOT) { break; }
      let v = nv[j];
      if (idx < DX) {
        beta[idx] = v;
      } else if (idx < DX + (L + 1u) * DX) {
        let xi = idx - DX;
        let tok = xi / DX;
        let col = xi % DX;
        if (tok < L) { zt[tok * D + col] = v; } else { zqv[col] = v; }
      } else {
        zt[(idx - DX - (L + 1u) * DX) * D + DX] = v;
      }
    }
  }
  for (var i = 0u; i < L; i++) {
    var y = 0.0;
    for (var j = 0u; j < DX; j++) { y += zt[i * D + j] * beta[j]; }
    zt[i * D + DX] = y + noise * zt[i * D + DX];
  }
  zqv[DX] = 0.0;
  var yq = 0.0;
  for (var j = 0u; j < DX; j++) { yq += zqv[j] * beta[j]; }
  return yq;
}
`
    : /* wgsl */ `
fn loadExample(e: u32) -> f32 {
  for (var i = 0u; i < L * D; i++) { zt[i] = zin[e * L * D + i]; }
  for (var j = 0u; j < D; j++) { zqv[j] = zqin[e * D + j]; }
  return yin[e];
}
`;
  // Forward of the example in zt/zqv for H heads with A, c in Ac; leaves aa (softmax), tt, yh.
  const forward = /* wgsl */ `
fn forwardExample(H: u32) -> f32 {
  var pred = 0.0;
  for (var h = 0u; h < H; h++) {
    var w: array<f32, ${D}>;
    for (var s = 0u; s < D; s++) {
      var acc = 0.0;
      for (var r = 0u; r < D; r++) { acc += zqv[r] * Ac[h * NA + r * D + s]; }
      w[s] = acc;
    }
    var mx = -3.0e38;
    for (var i = 0u; i < L; i++) {
      var sc = 0.0;
      var tv = 0.0;
      for (var k = 0u; k < D; k++) {
        let zv = zt[i * D + k];
        sc += zv * w[k];
        tv += zv * Ac[h * NA + D * D + k];
      }
      aa[h * L + i] = sc;
      tt[h * L + i] = tv;
      mx = max(mx, sc);
    }
    var sum = 0.0;
    var num = 0.0;
    for (var i = 0u; i < L; i++) {
      let ev = expf(aa[h * L + i] - mx);
      aa[h * L + i] = ev;
      sum += ev;
      num += ev * tt[h * L + i];
    }
    let inv = 1.0 / sum;
    for (var i = 0u; i < L; i++) { aa[h * L + i] *= inv; }
    yh[h] = num * inv;
    pred += yh[h];
  }
  return pred;
}
`;
  const paramsAt = train ? 'state[so + ' : 'state[';
  const prepareFn = /* wgsl */ `
fn prepare(so: u32, H: u32, lid: u32) {
  let offK = H * D * D;
  let offV = 2u * H * D * D;
  let offO = 3u * H * D * D;
  for (var i = lid; i < H * NA; i += WG) {
    let h = i / NA;
    let r = i % NA;
    var s = 0.0;
    if (r < D * D) {
      let row = r / D;
      let col = r % D;
      for (var q = 0u; q < D; q++) { s += ${paramsAt}h * D * D + row * D + q] * ${paramsAt}offK + h * D * D + col * D + q]; }
      s *= INV_SQRT_D;
    } else {
      let row = r - D * D;
      for (var q = 0u; q < D; q++) { s += ${paramsAt}offV + h * D * D + row * D + q] * ${paramsAt}offO + h * D + q]; }
    }
    Ac[i] = s;
  }
}
`;
  const paramGradFn = /* wgsl */ `
// Gradient of parameter i from the reduced G (D×D) and u (D) per head in gs.
fn paramGrad(so: u32, H: u32, i: u32) -> f32 {
  let offK = H * D * D;
  let offV = 2u * H * D * D;
  let offO = 3u * H * D * D;
  var g = 0.0;
  if (i < offV) {
    let k = i % (H * D * D);
    let h = k / (D * D);
    let r = (k % (D * D)) / D;
    let c = k % D;
    if (i < offK) {
      for (var s = 0u; s < D; s++) { g += gs[h * NA + r * D + s] * ${paramsAt}offK + h * D * D + s * D + c]; }
    } else {
      for (var s = 0u; s < D; s++) { g += gs[h * NA + s * D + r] * ${paramsAt}h * D * D + s * D + c]; }
    }
    g *= INV_SQRT_D;
  } else if (i < offO) {
    let k = i - offV;
    let h = k / (D * D);
    let r = (k % (D * D)) / D;
    let c = k % D;
    g = gs[h * NA + D * D + r] * ${paramsAt}offO + h * D + c];
  } else {
    let k = i - offO;
    let h = k / D;
    let c = k % D;
    for (var r = 0u; r < D; r++) { g += gs[h * NA + D * D + r] * ${paramsAt}offV + h * D * D + r * D + c]; }
  }
  return g;
}
`;
  const prepare = prepareFn + paramGradFn;
  const shared = /* wgsl */ `
var<workgroup> Ac: array<f32, ${hmax * NA}>;
var<workgroup> red: array<f32, ${NA * WG}>;
var<workgroup> gs: array<f32, ${hmax * NA + 1}>;
var<private> acc: array<f32, ${hmax * NA}>;
`;
  // One batch pass: accumulate G, u (and the loss) for examples lid, lid+WG, ...; reduce into gs.
  const batchPass = (loadCall: string, gExpr: string) => /* wgsl */ `
  prepare(so, H, lid);
  workgroupBarrier();
  for (var i = 0u; i < H * NA; i++) { acc[i] = 0.0; }
  var lsum = 0.0;
  for (var e = lid; e < B; e += WG) {
    let yq = ${loadCall};
    let pred = forwardExample(H);
    let diff = pred - yq;
    lsum += diff * diff;
    let g = ${gExpr};
    for (var h = 0u; h < H; h++) {
      // Explicitly zeroed: some compilers hoist loop-body declarations without re-initialising them.
      var zb: array<f32, ${D}>;
      var qv: array<f32, ${D}>;
      for (var k = 0u; k < D; k++) { zb[k] = 0.0; qv[k] = 0.0; }
      for (var i = 0u; i < L; i++) {
        let ai = aa[h * L + i];
        let at = ai * tt[h * L + i];
        for (var k = 0u; k < D; k++) {
          let zv = zt[i * D + k];
          zb[k] += ai * zv;
          qv[k] += at * zv;
        }
      }
      var dw: array<f32, ${D}>;
      for (var k = 0u; k < D; k++) {
        acc[h * NA + D * D + k] += g * zb[k];
        dw[k] = g * (qv[k] - yh[h] * zb[k]);
      }
      for (var r = 0u; r < D; r++) {
        let zr = zqv[r];
        for (var s = 0u; s < D; s++) { acc[h * NA + r * D + s] += zr * dw[s]; }
      }
    }
  }
  for (var h = 0u; h < H; h++) {
    for (var k = 0u; k < NA; k++) { red[k * WG + lid] = acc[h * NA + k]; }
    workgroupBarrier();
    if (lid < NA) {
      var s = 0.0;
      for (var j = 0u; j < WG; j++) { s += red[lid * WG + j]; }
      gs[h * NA + lid] = s;
    }
    workgroupBarrier();
  }
  red[lid] = lsum;
  workgroupBarrier();
  if (lid == 0u) {
    var s = 0.0;
    for (var j = 0u; j < WG; j++) { s += red[j]; }
    gs[HMAX * NA] = s / f32(B);
  }
  workgroupBarrier();
`;
  if (mode === 'forward') {
    return `${header}${bindings}
var<workgroup> Ac: array<f32, ${hmax * NA}>;
${load}${forward}
${prepareFn}@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  let H = run.heads;
  prepare(0u, H, lid);
  workgroupBarrier();
  for (var e = lid; e < B; e += WG) {
    _ = loadExample(e);
    outv[e] = forwardExample(H);
  }
}
`;
  }
  if (mode === 'lossgrad' || mode === 'backward') {
    const gExpr = mode === 'backward' ? 'yin[e]' : '2.0 * diff / f32(B)';
    const loadCall = mode === 'backward' ? 'loadExample(e) * 0.0' : 'loadExample(e)';
    return `${header}${bindings}${shared}${load}${forward}${prepare}
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  let H = run.heads;
  let so = 0u;
  let P = H * D * (3u * D + 1u);
${batchPass(loadCall, gExpr)}
  ${mode === 'lossgrad' ? 'if (lid == 0u) { outv[0] = gs[HMAX * NA]; }' : ''}
  for (var i = lid; i < P; i += WG) { outv[${mode === 'lossgrad' ? '1u + ' : ''}i] = paramGrad(so, H, i); }
}
`;
  }
  return `${header}${bindings}${shared}${load}${forward}${prepare}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let mi = wid.x;
  let mc = models[mi];
  let H = mc.heads;
  let P = H * D * (3u * D + 1u);
  let so = mi * run.stride;
  let key = vec2<u32>(mc.seedLo, mc.seedHi);
  let t0 = counters[mi];
  for (var k = 0u; k < run.steps; k++) {
    let t = t0 + k;
${batchPass('loadExample(key, mc.stream, t, e, mc.noise)', '2.0 * diff / f32(B)')}
    var gp: array<f32, ${GPT}>;
    for (var j = 0u; j < GPT; j++) {
      let i = lid + j * WG;
      if (i < P) { gp[j] = paramGrad(so, H, i); }
    }
    workgroupBarrier();
    // Adam (PyTorch form) for step t + 1.
    let tf = f32(t + 1u);
    let bc1 = oneMinusExp(tf * lnf(mc.b1));
    let bc2 = oneMinusExp(tf * lnf(mc.b2));
    let stepSize = mc.lr / bc1;
    let rbc2 = 1.0 / sqrt(bc2);
    for (var j = 0u; j < GPT; j++) {
      let i = lid + j * WG;
      if (i < P) {
        let g = gp[j];
        let m = mc.b1 * state[so + P + i] + (1.0 - mc.b1) * g;
        let v = mc.b2 * state[so + 2u * P + i] + (1.0 - mc.b2) * g * g;
        state[so + P + i] = m;
        state[so + 2u * P + i] = v;
        state[so + i] = state[so + i] - stepSize * m / (sqrt(v) * rbc2 + mc.eps);
      }
    }
    if (lid == 0u) { losses[mi * run.lossStride + (t - run.base)] = gs[HMAX * NA]; }
    storageBarrier();
    workgroupBarrier();
  }
  if (lid == 0u) { counters[mi] = t0 + run.steps; }
}
`;
}
