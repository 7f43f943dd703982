import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerGradients } from './gradients.js';
import { nodeRequire } from '#node-require';
import { errorText, isNode, isNotInstalled } from './platform.js';
import {
  BACKEND_NAMES,
  BackendUnavailableError,
  type BackendCandidate,
  type BackendName,
  type BackendPreference,
  type BackendReport,
  type InitBackendOptions,
  type Platform,
} from './types.js';

/** Order of preference per platform. */
export const BACKEND_ORDER: Record<Platform, readonly BackendName[]> = {
  node: ['tensorflow', 'webgpu', 'wasm', 'cpu'],
  browser: ['webgpu', 'webgl', 'wasm', 'cpu'],
};

const NODE_TF_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

interface Attempt {
  ok: boolean;
  via: string;
  reason?: string;
  hint?: string;
  adapter?: BackendReport['adapter'];
  /** A usable but second-rate option (software GPU) that `auto` skips. */
  soft?: boolean;
}

interface WebGPUState {
  device: GPUDevice;
  adapter: BackendReport['adapter'];
}
let webgpuState: WebGPUState | undefined;
let tensorflowVia: string | undefined;

async function tryTensorflow(): Promise<Attempt> {
  if (!isNode()) return { ok: false, via: '@tensorflow/tfjs-node', reason: 'only available in Node' };
  if (tensorflowVia) return { ok: true, via: tensorflowVia };
  const req = await nodeRequire();
  const reasons: string[] = [];
  for (const pkg of NODE_TF_PACKAGES) {
    try {
      req(pkg);
      if (!tf.findBackendFactory('tensorflow')) throw new Error(`${pkg} loaded but registered no 'tensorflow' backend`);
      tensorflowVia = pkg;
      return { ok: true, via: pkg };
    } catch (err) {
      reasons.push(isNotInstalled(err, pkg) ? `${pkg} not installed` : `${pkg} failed to load (${errorText(err)})`);
    }
  }
  return {
    ok: false,
    via: NODE_TF_PACKAGES.join(' | '),
    reason: reasons.join('; '),
    hint: 'install @tensorflow/tfjs-node-gpu@4.22.0 (CUDA 11.2 + cuDNN 8.1) or @tensorflow/tfjs-node@4.22.0; their install downloads libtensorflow, so it needs internet access',
  };
}

function hasGpuDevice(fs: typeof import('node:fs')): boolean {
  try {
    return (
      fs.readdirSync('/dev').some((f) => f.startsWith('nvidia')) ||
      fs.readdirSync('/dev/dri').some((f) => f.startsWith('renderD'))
    );
  } catch {
    return false;
  }
}

/**
 * Node: sets what Dawn (the `webgpu` package) reads from the environment, unless already set:
 * VK_ICD_FILENAMES to SwiftShader's Vulkan driver (Debian's chromium) when the machine has no GPU
 * device node (Mesa's software driver is too old for Dawn), and XDG_RUNTIME_DIR. `initBackend`
 * calls it; call it yourself on the main thread before starting worker threads that may pick
 * webgpu: a worker's `process.env` is its own copy, which native code such as Dawn never reads.
 * Does nothing outside Node.
 * @example
 * await prepareWebgpuEnvironment(); // then new Worker(...) threads that call initBackend('auto')
 */
export async function prepareWebgpuEnvironment(): Promise<void> {
  if (!isNode()) return;
  const req = await nodeRequire();
  const fs = req('node:fs') as typeof import('node:fs');
  if (!process.env.VK_ICD_FILENAMES && fs.existsSync(SWIFTSHADER_ICD) && !hasGpuDevice(fs)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  process.env.XDG_RUNTIME_DIR ??= (req('node:os') as typeof import('node:os')).tmpdir();
}

async function installNavigatorGpu(options: InitBackendOptions): Promise<string | undefined> {
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator?.gpu) return undefined;
  if (!isNode()) return 'navigator.gpu is missing (this browser has no WebGPU, or it is disabled)';
  const req = await nodeRequire();
  let dawn: { create: (opts: string[]) => unknown; globals: Record<string, unknown> };
  try {
    dawn = req('webgpu') as typeof dawn;
  } catch (err) {
    return isNotInstalled(err, 'webgpu')
      ? 'the `webgpu` package (Dawn for Node) is not installed'
      : `the \`webgpu\` package failed to load (${errorText(err)})`;
  }
  await prepareWebgpuEnvironment();
  for (const [k, v] of Object.entries(dawn.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  g.navigator ??= {};
  Object.defineProperty(g.navigator, 'gpu', { value: dawn.create(options.dawnOptions ?? []), configurable: true });
  return undefined;
}

async function tryWebGPU(options: InitBackendOptions): Promise<Attempt> {
  const via = isNode() ? 'webgpu (Dawn for Node)' : 'navigator.gpu';
  if (webgpuState) return { ok: true, via, adapter: webgpuState.adapter, soft: webgpuState.adapter?.software };
  const missing = await installNavigatorGpu(options);
  if (missing)
    return {
      ok: false,
      via,
      reason: missing,
      hint: isNode()
        ? "pnpm add webgpu (Dawn); with no GPU, install Debian's chromium for SwiftShader"
        : 'use a browser with WebGPU (Chrome ≥ 113), or start Chromium with --enable-unsafe-webgpu',
    };
  const gpu = (globalThis as unknown as { navigator: { gpu: GPU } }).navigator.gpu;
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return { ok: false, via, reason: `requestAdapter failed (${errorText(err)})` };
  }
  if (!adapter) {
    return {
      ok: false,
      via,
      reason: 'no WebGPU adapter',
      hint: isNode()
        ? `install a Vulkan driver, or Debian's chromium and set VK_ICD_FILENAMES=${SWIFTSHADER_ICD}`
        : 'enable WebGPU in the browser',
    };
  }
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const desc = `${info?.description ?? ''} ${info?.architecture ?? ''} ${info?.vendor ?? ''}`.toLowerCase();
  const software =
    Boolean((adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter) ||
    /swiftshader|llvmpipe|lavapipe|software|microsoft basic/.test(desc);
  const adapterReport = {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    description: info?.description ?? '',
    software,
  };
  try {
    const wanted: GPUFeatureName[] = [];
    if (adapter.features.has('timestamp-query')) wanted.push('timestamp-query');
    const limits = adapter.limits;
    const device = await adapter.requestDevice({
      requiredFeatures: wanted,
      requiredLimits: {
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      },
    });
    const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
    // Registered by hand (not by the package's import side effect) to control the device and
    // its features; the name must stay 'webgpu' because its kernels are registered under it.
    tf.registerBackend('webgpu', () => new WebGPUBackend(device, info as never), 3);
    webgpuState = { device, adapter: adapterReport };
    return { ok: true, via, adapter: adapterReport, soft: software };
  } catch (err) {
    return { ok: false, via, reason: `could not create a WebGPU device (${errorText(err)})` };
  }
}

async function tryWebGL(): Promise<Attempt> {
  if (isNode()) return { ok: false, via: 'WebGL', reason: 'WebGL is browser-only' };
  try {
    await import('@tensorflow/tfjs-backend-webgl');
  } catch (err) {
    return { ok: false, via: 'WebGL', reason: `@tensorflow/tfjs-backend-webgl failed to load (${errorText(err)})` };
  }
  const canvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(1, 1) : document.createElement('canvas');
  if (!canvas.getContext('webgl2') && !canvas.getContext('webgl'))
    return { ok: false, via: 'WebGL', reason: 'no WebGL context' };
  return { ok: true, via: 'WebGL' };
}

let wasmPathsSet = false;
async function tryWasm(options: InitBackendOptions): Promise<Attempt> {
  if (typeof WebAssembly === 'undefined')
    return { ok: false, via: '@tensorflow/tfjs-backend-wasm', reason: 'WebAssembly is not supported here' };
  if (options.wasmPaths && !wasmPathsSet) {
    setWasmPaths(options.wasmPaths as never);
    wasmPathsSet = true;
  }
  return { ok: true, via: '@tensorflow/tfjs-backend-wasm' };
}

async function attempt(name: BackendName, options: InitBackendOptions): Promise<Attempt> {
  switch (name) {
    case 'tensorflow':
      return tryTensorflow();
    case 'webgpu':
      return tryWebGPU(options);
    case 'webgl':
      return tryWebGL();
    case 'wasm':
      return tryWasm(options);
    case 'cpu':
      return { ok: true, via: '@tensorflow/tfjs-backend-cpu' };
  }
}

async function activate(name: BackendName): Promise<string | undefined> {
  try {
    const ok = await tf.setBackend(name);
    await tf.ready();
    if (!ok || tf.getBackend() !== name) return `tfjs could not initialise it (setBackend returned ${String(ok)})`;
    // The cpu backend prints a "install tfjs-node" banner on first use in Node; our report
    // already says why tensorflow was not chosen.
    if (name === 'cpu') (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
    return undefined;
  } catch (err) {
    return `tfjs could not initialise it (${errorText(err)})`;
  }
}

function validatePreference(prefer: unknown, platform: Platform): BackendPreference {
  const allowed: readonly string[] = ['auto', ...BACKEND_ORDER[platform]];
  if (typeof prefer !== 'string' || !allowed.includes(prefer)) {
    const known = (BACKEND_NAMES as readonly string[]).includes(prefer as string);
    throw new RangeError(
      `initBackend: prefer must be one of ${allowed.join(', ')}; got ${JSON.stringify(prefer)}` +
        (known ? ` (${String(prefer)} is not available on ${platform})` : ''),
    );
  }
  return prefer as BackendPreference;
}

/**
 * Chooses and initialises the TensorFlow.js backend, registers gradients, and reports what it
 * chose and why every better candidate was skipped.
 *
 * @example
 * const report = await initBackend({ prefer: 'auto' });
 * console.log(report.chosen, report.candidates);
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendReport> {
  const platform: Platform = isNode() ? 'node' : 'browser';
  const preference = validatePreference(options.prefer ?? 'auto', platform);
  const gradients = registerGradients();
  const order = BACKEND_ORDER[platform];
  const candidates: BackendCandidate[] = [];
  let chosen: { name: BackendName; via: string; adapter?: BackendReport['adapter'] } | undefined;

  const names = preference === 'auto' ? order : [preference];
  for (const name of names) {
    const a = await attempt(name, options);
    if (!a.ok) {
      if (preference !== 'auto') throw new BackendUnavailableError(name, a.reason ?? 'unavailable', a.hint);
      candidates.push({ name, via: a.via, status: 'unavailable', reason: a.reason, hint: a.hint });
      continue;
    }
    if (preference === 'auto' && a.soft && !options.allowSoftwareWebGPU) {
      candidates.push({
        name,
        via: a.via,
        status: 'skipped',
        reason: `only a software adapter (${a.adapter?.description || a.adapter?.architecture || 'emulated GPU'}), slower than WASM on this CPU`,
        hint: 'force it with prefer: "webgpu" (--backend webgpu)',
      });
      continue;
    }
    const failed = await activate(name);
    if (failed) {
      if (preference !== 'auto') throw new BackendUnavailableError(name, failed);
      candidates.push({ name, via: a.via, status: 'unavailable', reason: failed });
      continue;
    }
    candidates.push({ name, via: a.via, status: 'chosen' });
    chosen = { name, via: a.via, adapter: a.adapter };
    break;
  }
  if (!chosen) throw new BackendUnavailableError('cpu', 'no backend could be initialised');
  for (const name of order)
    if (!candidates.some((c) => c.name === name)) candidates.push({ name, via: '', status: 'not-tried' });
  return {
    chosen: chosen.name,
    via: chosen.via,
    platform,
    preference,
    candidates,
    ...(chosen.adapter ? { adapter: chosen.adapter } : {}),
    versions: { tfjsCore: tf.version_core, ...(isNode() ? { node: process.versions.node } : {}) },
    gradients,
  };
}

/**
 * Checks every backend of this platform without keeping any of them active (for `attnlab doctor`).
 * The current backend is restored afterwards.
 */
export async function probeBackends(options: InitBackendOptions = {}): Promise<BackendCandidate[]> {
  const platform: Platform = isNode() ? 'node' : 'browser';
  registerGradients();
  const previous = tf.getBackend();
  const out: BackendCandidate[] = [];
  for (const name of BACKEND_ORDER[platform]) {
    const a = await attempt(name, options);
    if (!a.ok) {
      out.push({ name, via: a.via, status: 'unavailable', reason: a.reason, hint: a.hint });
      continue;
    }
    const failed = await activate(name);
    if (failed) {
      out.push({ name, via: a.via, status: 'unavailable', reason: failed });
      continue;
    }
    out.push({
      name,
      via: a.via,
      status: 'available',
      ...(a.soft ? { reason: `software adapter (${a.adapter?.description || 'emulated'}); auto prefers WASM` } : {}),
    });
  }
  if (previous) await tf.setBackend(previous);
  return out;
}

/** Releases the WebGPU device (so a Node process can exit) and disposes every tfjs variable. */
export async function disposeBackend(): Promise<void> {
  tf.disposeVariables();
  if (webgpuState) {
    if (tf.findBackend('webgpu')) tf.removeBackend('webgpu');
    webgpuState.device.destroy();
    webgpuState = undefined;
    const g = globalThis as { navigator?: { gpu?: unknown } };
    if (isNode() && g.navigator && 'gpu' in g.navigator) delete g.navigator.gpu;
  }
}

/** One line per candidate, for logs and `attnlab doctor`. */
export function formatBackendReport(report: Pick<BackendReport, 'chosen' | 'candidates'>): string {
  const lines = report.candidates.map((c) => {
    const mark = c.status === 'chosen' ? '→' : c.status === 'available' ? '✓' : c.status === 'not-tried' ? '·' : '✗';
    const why = c.reason ? `: ${c.reason}` : '';
    const hint = c.hint ? ` (${c.hint})` : '';
    return `${mark} ${c.name.padEnd(10)} ${c.status}${why}${hint}`;
  });
  return lines.join('\n');
}
