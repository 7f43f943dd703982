// Runs before each test file. Tests share Node's main context (see jest-preset.js), so tfjs's
// engine, kernel registry and flags persist from one test file to the next in a worker; IS_TEST
// silences tfjs's "kernel already registered" warnings when a later file loads tfjs again.
try {
  const tfPath = require.resolve('@tensorflow/tfjs-core', { paths: [process.cwd()] });
  require(tfPath).env().set('IS_TEST', true);
} catch {
  // A package without tfjs (e.g. @attnlab/plot).
}
