import { BACKEND_ORDER, initBackend, type BackendPreference, type BackendReport } from '@attnlab/backend';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

/** The WASM binaries as bundled by Vite (hashed file names), so no CDN is ever needed. */
export const WASM_PATHS: Record<string, string> = {
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
};

const ALLOWED: readonly string[] = ['auto', ...BACKEND_ORDER.browser];

/** Reads `?backend=` from the page URL; an unknown value is reported and `auto` is used. */
export function requestedBackend(search: string): { prefer: BackendPreference; warning?: string } {
  const value = new URLSearchParams(search).get('backend');
  if (value === null || value === '') return { prefer: 'auto' };
  if (!ALLOWED.includes(value)) {
    return {
      prefer: 'auto',
      warning: `?backend=${value} is not a backend; allowed: ${ALLOWED.join(', ')}. Using auto.`,
    };
  }
  return { prefer: value as BackendPreference };
}

/**
 * Starts TensorFlow.js on the requested backend. In the lab a software WebGPU adapter
 * (SwiftShader) is accepted: these pages are about WebGPU, and the work per page is small.
 * A forced backend that fails falls back to auto, and the reason is kept for the badge.
 */
export async function startBackend(
  prefer: BackendPreference,
): Promise<{ report: BackendReport; forcedFailure?: string }> {
  const options = { wasmPaths: WASM_PATHS, allowSoftwareWebGPU: true };
  try {
    return { report: await initBackend({ ...options, prefer }) };
  } catch (err) {
    if (prefer === 'auto') throw err;
    const forcedFailure = err instanceof Error ? err.message : String(err);
    return { report: await initBackend({ ...options, prefer: 'auto' }), forcedFailure };
  }
}

const LABEL: Record<string, string> = {
  webgpu: 'WebGPU',
  webgl: 'WebGL',
  wasm: 'WASM',
  cpu: 'CPU',
  tensorflow: 'TensorFlow',
};
export const backendLabel = (name: string): string => LABEL[name] ?? name;
