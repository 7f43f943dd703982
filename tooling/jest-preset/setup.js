// Runs before each test file. Tests share Node's main context (see jest-preset.js), so tfjs's
// engine, kernel registry and flags persist from one test file to the next in a worker; PROD
// silences tfjs's "kernel already registered" warnings when a later file loads tfjs again.
// (Not IS_TEST: that also turns on tfjs's own per-kernel leak check, which trips on an internal
// leak of tfjs-backend-wasm 4.22's logSoftmax.)
try {
  const tfPath = require.resolve('@tensorflow/tfjs-core', { paths: [process.cwd()] });
  require(tfPath).env().set('PROD', true);
} catch {
  // A package without tfjs (e.g. @attnlab/plot).
}
