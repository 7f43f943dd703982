// Shared jest preset: TypeScript through @swc/jest (no type check; `pnpm typecheck` does that),
// workspace packages resolved to their `src` through the "@attnlab/source" export condition,
// so a stale `dist` can never hide a bug.
const fs = require('node:fs');

// WebGPU through Dawn needs a Vulkan driver; with none installed, use SwiftShader from
// Debian's chromium. Set here, in jest's parent process, so the native loader in every
// worker sees it (process.env inside a test sandbox does not reach native code).
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
// A machine with a GPU has /dev/nvidia* or /dev/dri/renderD*; without one, Mesa's ICDs
// (lavapipe, too old for Dawn) are all the loader would find.
const hasGpuDevice = () => {
  try {
    return (
      fs.readdirSync('/dev').some((f) => f.startsWith('nvidia')) ||
      fs.readdirSync('/dev/dri').some((f) => f.startsWith('renderD'))
    );
  } catch {
    return false;
  }
};
if (!process.env.VK_ICD_FILENAMES && fs.existsSync(SWIFTSHADER_ICD) && !hasGpuDevice()) {
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
}
process.env.XDG_RUNTIME_DIR ??= require('node:os').tmpdir();

/** @type {import('jest').Config} */
module.exports = {
  // Node's main context instead of a fresh vm context per file: V8 does not inline Math builtins
  // in vm contexts, which made numerical code (Math.imul, Math.exp, …) 10–150× slower under jest.
  testEnvironment: require.resolve('jest-environment-node-single-context'),
  setupFiles: [require.resolve('./setup.js')],
  testEnvironmentOptions: {
    customExportConditions: ['@attnlab/source', 'node', 'node-addons', 'require', 'default'],
  },
  transform: {
    '^.+\\.(t|j)sx?$': [
      require.resolve('@swc/jest'),
      {
        jsc: { parser: { syntax: 'typescript', tsx: true }, target: 'es2022' },
        module: { type: 'commonjs' },
      },
    ],
  },
  extensionsToTreatAsEsm: [],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/src/**/*.test.ts'],
  testTimeout: 120000,
};
