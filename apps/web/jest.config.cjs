// The browser tests: build with Vite (unless dist is fresh), serve dist on 127.0.0.1 and drive
// Debian's chromium with playwright-core.
module.exports = {
  preset: '@attnlab/jest-preset',
  testMatch: ['<rootDir>/e2e/**/*.test.ts'],
  testTimeout: 60000,
  // One file at a time: each builds dist when it is stale and starts its own chromium.
  maxWorkers: 1,
};
