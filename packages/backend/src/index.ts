export {
  initBackend,
  probeBackends,
  disposeBackend,
  formatBackendReport,
  prepareWebgpuEnvironment,
  BACKEND_ORDER,
} from './init.js';
export { registerGradients } from './gradients.js';
export { BACKEND_NAMES, BackendUnavailableError } from './types.js';
export type {
  BackendName,
  BackendPreference,
  BackendReport,
  BackendCandidate,
  InitBackendOptions,
  Platform,
} from './types.js';
