/** Every backend attnlab knows how to set up. */
export const BACKEND_NAMES = ['tensorflow', 'webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
/** `auto` picks the best available backend; a name forces that one (or fails, saying why). */
export type BackendPreference = 'auto' | BackendName;
export type Platform = 'node' | 'browser';

/** What happened to one candidate backend while choosing. */
export interface BackendCandidate {
  name: BackendName;
  /** How this backend would be provided, e.g. `@tensorflow/tfjs-node-gpu` or `webgpu (Dawn)`. */
  via: string;
  status: 'chosen' | 'available' | 'unavailable' | 'skipped' | 'not-tried';
  /** Why it was not chosen (or not available), in words a user can act on. */
  reason?: string;
  /** What to install or set to make it available. */
  hint?: string;
}

export interface BackendReport {
  /** The backend tfjs now runs on (`tf.getBackend()`). */
  chosen: BackendName;
  via: string;
  platform: Platform;
  preference: BackendPreference;
  /** Every candidate in order of preference for this platform, with its status. */
  candidates: BackendCandidate[];
  /** GPU adapter description when `chosen` is `webgpu`. */
  adapter?: { vendor: string; architecture: string; description: string; software: boolean };
  versions: { tfjsCore: string; node?: string };
  /** Number of gradient configs registered with tfjs (0 means they were already registered). */
  gradients: number;
}

export interface InitBackendOptions {
  prefer?: BackendPreference;
  /**
   * Where the tfjs WASM binaries are served from (browser bundles): a path prefix ending in `/`
   * or a map from file name (`tfjs-backend-wasm.wasm`, `-simd.wasm`, `-threaded-simd.wasm`) to URL.
   * In Node they are found next to `@tensorflow/tfjs-backend-wasm` automatically.
   */
  wasmPaths?: string | Record<string, string>;
  /**
   * In `auto` mode, accept a software WebGPU adapter (SwiftShader). Off by default: on a CPU,
   * WASM is faster than an emulated GPU. Forcing `webgpu` always accepts it.
   */
  allowSoftwareWebGPU?: boolean;
  /** Dawn options for WebGPU in Node, e.g. `['backend=vulkan']` or `['backend=null']`. */
  dawnOptions?: string[];
}

/** Thrown when a forced backend cannot be used; `.report` says what was tried. */
export class BackendUnavailableError extends Error {
  readonly backend: BackendName;
  readonly reason: string;
  readonly hint: string | undefined;
  constructor(backend: BackendName, reason: string, hint?: string) {
    super(`backend '${backend}' is unavailable: ${reason}${hint ? `. ${hint}` : ''}`);
    this.name = 'BackendUnavailableError';
    this.backend = backend;
    this.reason = reason;
    this.hint = hint;
  }
}
