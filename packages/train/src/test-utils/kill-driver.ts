/**
 * Child process for the SIGKILL resume test (bundled with esbuild at test time).
 *   node driver.mjs <dir> <steps> <checkpointEvery> <fresh|resume>
 * Trains the regression fixture with AdamW on the cpu backend, checkpointing to <dir>/ckpt.bin
 * and printing "ckpt <completed>" after each checkpoint is on disk, then "done".
 */
import * as path from 'node:path';
import { initBackend } from '@attnlab/backend';
import { adamw, loadCheckpoint, saveCheckpoint, train, type Checkpoint } from '../index.js';
import { TestRng, hostBatch, makeParams, regressionLoss, toTensors } from './regression.js';

async function main(): Promise<void> {
  const [dir, stepsArg, everyArg, mode] = process.argv.slice(2);
  const steps = Number(stepsArg),
    every = Number(everyArg);
  await initBackend({ prefer: 'cpu' });
  const file = path.join(dir!, 'ckpt.bin');
  const rng = new TestRng(2024),
    valRng = new TestRng(77);
  let ckpt: Checkpoint | undefined;
  const params = makeParams();
  const optimizer = adamw({ lr: 0.02, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 });
  if (mode === 'resume') {
    ckpt = await loadCheckpoint(file);
    const s = ckpt.rngState as { train: number; val: number };
    rng.state = s.train;
    valRng.state = s.val;
    process.stdout.write(`resumed ${ckpt.step}\n`);
  }
  await train({
    params,
    optimizer,
    steps,
    loss: regressionLoss,
    data: { batch: () => toTensors(hostBatch(rng, 16)) },
    validation: { batch: () => toTensors(hostBatch(valRng, 32)) },
    probes: { w: { every: 25, run: async (p) => Array.from(await p.w!.data()) } },
    schedule: { checkpointEvery: every, validationEvery: 20, readEvery: 10 },
    resume: ckpt,
    checkpoint: {
      rngState: () => ({ train: rng.state, val: valRng.state }),
      meta: { driver: 'kill-driver' },
      write: (c) => saveCheckpoint(file, c),
    },
    onEvent: (e) => {
      if (e.type === 'checkpoint') process.stdout.write(`ckpt ${e.completed}\n`);
    },
  });
  process.stdout.write('done\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
