/**
 * Process-level resume: a child process training with checkpoints is SIGKILLed mid-run,
 * a new process resumes from the last checkpoint on disk, and the final parameters and history
 * equal an uninterrupted run's bit for bit (cpu backend).
 * The child is src/test-utils/kill-driver.ts, bundled here with esbuild (workspace sources
 * through the '@attnlab/source' condition), because Node cannot run the .ts sources directly.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { describeBackends } from '@attnlab/backend/testing';
import { loadCheckpoint } from './index.js';

const STEPS = 600,
  EVERY = 50;

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runChild(script: string, args: string[], killAfterCheckpoint?: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '',
      stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (killAfterCheckpoint !== undefined && !child.killed) {
        const seen = [...stdout.matchAll(/^ckpt (\d+)$/gm)].map((m) => Number(m[1]));
        if (seen.some((s) => s >= killAfterCheckpoint)) child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describeBackends(
  'SIGKILL and resume (child processes)',
  () => {
    let tmp: string;
    let script: string;
    beforeAll(() => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'attnlab-kill-'));
      script = path.join(tmp, 'driver.mjs');
      buildSync({
        entryPoints: [path.join(__dirname, 'test-utils', 'kill-driver.ts')],
        outfile: script,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        conditions: ['@attnlab/source'],
        // optional native backends are loaded with require at run time, never bundled
        external: ['webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
        banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
        // tfjs-backend-cpu's CJS entry registers the backend but is missing from its sideEffects list
        ignoreAnnotations: true,
        logLevel: 'error',
      });
    });
    afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it("a run killed with SIGKILL and resumed ends with the uninterrupted run's parameters, bit for bit", async () => {
      const straight = path.join(tmp, 'straight'),
        killed = path.join(tmp, 'killed');
      fs.mkdirSync(straight);
      fs.mkdirSync(killed);

      const a = await runChild(script, [straight, String(STEPS), String(EVERY), 'fresh']);
      expect(a.stderr).toBe('');
      expect(a.code).toBe(0);
      expect(a.stdout).toMatch(/done/);

      const b = await runChild(script, [killed, String(STEPS), String(EVERY), 'fresh'], 3 * EVERY);
      expect(b.signal).toBe('SIGKILL');
      expect(b.stdout).not.toMatch(/done/);
      const mid = await loadCheckpoint(path.join(killed, 'ckpt.bin')); // never half-written
      expect(mid.step).toBeGreaterThanOrEqual(3 * EVERY);
      expect(mid.step).toBeLessThan(STEPS);
      expect(mid.step % EVERY).toBe(0);

      const c = await runChild(script, [killed, String(STEPS), String(EVERY), 'resume']);
      expect(c.stderr).toBe('');
      expect(c.code).toBe(0);
      expect(c.stdout).toMatch(new RegExp(`^resumed ${mid.step}$`, 'm'));

      const fa = await loadCheckpoint(path.join(straight, 'ckpt.bin'));
      const fc = await loadCheckpoint(path.join(killed, 'ckpt.bin'));
      expect(fa.step).toBe(STEPS);
      expect(fc.step).toBe(STEPS);
      for (const name of ['w', 'b']) {
        expect(new Uint8Array(fc.params[name]!.values.buffer)).toEqual(new Uint8Array(fa.params[name]!.values.buffer));
      }
      expect(fc.optimizerState).toEqual(fa.optimizerState);
      expect(fc.rngState).toEqual(fa.rngState);
      expect(fc.history).toEqual(fa.history);
      expect(fc.history.loss.step).toHaveLength(STEPS);
      expect(fs.readdirSync(killed).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });
  },
  ['cpu'],
);
