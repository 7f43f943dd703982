// The built CLI as a child process, as a user's shell runs it: the helpers of cli.test.ts and
// faults.test.ts. Waits are on conditions (a line on stderr, process exit), never on time.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** The CLI package folder, its built entry, and the environment every spawned CLI gets. */
export const root = join(__dirname, '..', '..');
export const bin = join(root, 'dist', 'attnlab.js');
// Without jest's NODE_PATH / NODE_ENV / JEST_WORKER_ID.
const { NODE_PATH: _np, NODE_ENV: _ne, JEST_WORKER_ID: _jw, ...userEnvironment } = process.env;
const userEnv = userEnvironment;
export const env = (extra: Record<string, string> = {}) => ({ ...userEnv, NO_COLOR: '1', FORCE_COLOR: '', ...extra });

/** Builds dist/attnlab.js. */
export function buildCli(): void {
  execFileSync(process.execPath, [join(root, 'build.mjs')], { cwd: root, stdio: 'pipe', env: userEnv });
}

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the CLI in `cwd` to its end. */
export function runCli(cwd: string, args: string[], extra: Record<string, string> = {}): Result {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: env(extra), cwd, timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
}

/** A running CLI: its output so far, a promise of its end, and a way to wait for a line on stderr. */
export interface Running {
  child: ChildProcess;
  out(): { stdout: string; stderr: string };
  /** Resolves when stderr matches (or rejects when the process ends first). */
  when(re: RegExp): Promise<void>;
  done: Promise<Result>;
}

export function startCli(cwd: string, args: string[]): Running {
  const t0 = performance.now();
  const child = spawn(process.execPath, [bin, ...args], { env: env(), cwd });
  let stdout = '';
  let stderr = '';
  const waiters: { re: RegExp; resolve: () => void; reject: (e: Error) => void }[] = [];
  const check = () => {
    for (const w of [...waiters])
      if (w.re.test(stderr)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
  };
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    check();
  });
  const done = new Promise<Result>((resolve) =>
    child.on('close', (code) => {
      for (const w of waiters.splice(0))
        w.reject(new Error(`exited (${code}) before stderr matched ${w.re}; stderr:\n${stderr}`));
      resolve({ code, stdout, stderr, ms: performance.now() - t0 });
    }),
  );
  return {
    child,
    out: () => ({ stdout, stderr }),
    when: (re) =>
      new Promise<void>((resolve, reject) => {
        waiters.push({ re, resolve, reject });
        check();
      }),
    done,
  };
}

/** Starts the CLI and sends `signal` once its stderr matches `when`. */
export async function interruptedCli(
  cwd: string,
  args: string[],
  when: RegExp,
  signal: NodeJS.Signals = 'SIGINT',
): Promise<Result & { sent: boolean }> {
  const r = startCli(cwd, args);
  let sent = false;
  r.when(when).then(
    () => {
      sent = true;
      r.child.kill(signal);
    },
    () => undefined,
  );
  const res = await r.done;
  return { ...res, sent };
}
