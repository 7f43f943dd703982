import { runSeedBenchmark } from './bench.js';

// The benchmark itself is run by `attnlab bench --seeds` (never timed in tests); here only its arguments.
describe('runSeedBenchmark arguments', () => {
  it('names the bad option', async () => {
    await expect(runSeedBenchmark({ rows: ['cv-two' as 'cv-one'] })).rejects.toThrow(
      "runSeedBenchmark: options.rows holds 'cv-two'; allowed: cv-one, cv-preset, value-matrix, cv-step",
    );
    await expect(runSeedBenchmark({ cvConfig: [64, 3] })).rejects.toThrow(
      'runSeedBenchmark: options.cvConfig must be [width ≥ 4, heads ≥ 1] with heads dividing width; got [64, 3]',
    );
    await expect(runSeedBenchmark({ repeat: 0 })).rejects.toThrow(
      'runSeedBenchmark: options.repeat must be an integer ≥ 1; got 0',
    );
  });
});
