// Fault injection on the built CLI: signals in each phase, kill -9, checkpoint byte flips,
// concurrent writers on one folder, read-only and full disks, oversized inputs, deep JSON.
// Each test waits on conditions (a line on stderr, a file, process exit), never on time, and
// asserts that nothing is lost: the run resumes to its end, or is refused (exit 2) untouched.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli, interruptedCli, runCli, startCli, type Result } from './test-utils/process.js';

let tmp: string;
const at = (...p: string[]) => join(tmp, ...p);
const cli = (args: string[]): Result => runCli(tmp, args);
const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;

/** exit 2, one error line (plus the usage line), no stack trace. */
function refused(r: Result, named: string | RegExp): void {
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('attnlab: error: '));
  expect(errors).toHaveLength(1);
  const first = errors[0]!;
  if (typeof named === 'string') expect(first).toContain(named);
  else expect(first).toMatch(named);
  expect(r.code).toBe(2);
}

// Small icl-regression runs on the cpu backend.
const ICL = ['icl', 'train', '--backend', 'cpu', '--batch', '8', '--context', '8', '--final-samples', '0'];
const TRAIN = [...ICL, '--steps', '400', '--eval-samples', '0', '--checkpoint-every', '20'];
const LONG = [...ICL, '--steps', '1000000', '--eval-samples', '0', '--checkpoint-every', '50'];

beforeAll(() => {
  buildCli();
  tmp = mkdtempSync(join(tmpdir(), 'attnlab-faults-'));
}, 120_000);
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('signals end a run with a checkpoint and the shell exit code; resume finishes it', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('%s during training → exit %i, resumable', async (signal, code) => {
    const dir = `train-${signal}`;
    const r = await interruptedCli(tmp, [...TRAIN, '--out', dir], /train H=2 +[1-9]\d*\/400/, signal);
    expect(r.sent).toBe(true);
    expect(r.code).toBe(code);
    expect(r.stderr).toContain(`interrupted; resume with: attnlab resume ${dir}`);
    expect(existsSync(at(dir, 'checkpoints', 'latest.ckpt'))).toBe(true);
    expect(existsSync(at(dir, '.attnlab.lock'))).toBe(false);
    const resumed = cli(['resume', dir, '--json']);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ meta: { aborted: false } });
  });

  it("SIGINT inside icl length's second attention → exit 130; resume keeps the first, continues the second, ends with an uninterrupted run's losses", async () => {
    const args = [
      ...['icl', 'length', '--backend', 'cpu', '--attentions', 'softmax,linear', '--batch', '8', '--context', '8'],
      ...['--steps', '1500', '--checkpoint-every', '20', '--final-samples', '50'],
      ...['--eval-samples', '20', '--max-context', '21', '--context-step', '10'],
    ];
    const r = await interruptedCli(tmp, [...args, '--out', 'length-cut'], /linear: train H=2 +[1-9]\d*\/1500/);
    expect(r.sent).toBe(true);
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('interrupted; resume with: attnlab resume length-cut');
    const resumed = cli(['resume', 'length-cut', '--json']);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).not.toMatch(/softmax: train/);
    type Length = {
      meta: { aborted: boolean; resumedFrom?: number };
      data: { runs: { data: { runs: { loss: unknown; validation: unknown }[] } }[]; summary: unknown };
    };
    const a = JSON.parse(resumed.stdout) as Length;
    expect(a.meta.aborted).toBe(false);
    expect(a.meta.resumedFrom).toBeGreaterThan(0);
    const straight = cli([...args, '--out', 'length-straight', '--json']);
    expect(straight.code).toBe(0);
    const b = JSON.parse(straight.stdout) as Length;
    for (let i = 0; i < 2; i++) {
      expect(a.data.runs[i]!.data.runs[0]!.loss).toEqual(b.data.runs[i]!.data.runs[0]!.loss);
      expect(a.data.runs[i]!.data.runs[0]!.validation).toEqual(b.data.runs[i]!.data.runs[0]!.validation);
    }
    expect(a.data.summary).toEqual(b.data.summary);
  }, 300_000);

  it('SIGINT during evaluation (error curves) → exit 130, then resume evaluates to the end', async () => {
    const args = [...ICL, '--steps', '40', '--eval-samples', '400', '--max-context', '201', '--context-step', '20'];
    const r = await interruptedCli(tmp, [...args, '--out', 'eval-cut'], /evaluate +[1-9]/);
    expect(r.sent).toBe(true);
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('interrupted; resume with: attnlab resume eval-cut');
    expect(existsSync(at('eval-cut', 'checkpoints', 'latest.ckpt'))).toBe(true);
    const resumed = cli(['resume', 'eval-cut', '--json']);
    expect(resumed.code).toBe(0);
    const done = JSON.parse(resumed.stdout) as { data: { errorCurves: { contextLengths: number[] } | null } };
    expect(done.data.errorCurves!.contextLengths).toHaveLength(11);
  });

  it('kill -9 while checkpoints are written every step: resume takes over the stale lock, removes the temp files, finishes', async () => {
    const run = startCli(tmp, [
      ...ICL,
      '--steps',
      '300',
      '--eval-samples',
      '0',
      '--checkpoint-every',
      '1',
      '--out',
      'k9',
    ]);
    await run.when(/train H=2 +[1-9]\d*\/300/);
    run.child.kill('SIGKILL');
    const killed = await run.done;
    expect(killed.code).toBeNull();
    expect(existsSync(at('k9', '.attnlab.lock'))).toBe(true); // left behind: its process is gone
    writeFileSync(at('k9', 'checkpoints', '.latest.ckpt.99999.tmp'), 'half a checkpoint');
    const resumed = cli(['resume', 'k9', '--json']);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ meta: { aborted: false } });
    expect(readdirSync(at('k9', 'checkpoints'))).toEqual(['latest.ckpt']);
    expect(readdirSync(at('k9')).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});

describe('checkpoints', () => {
  it('a flipped byte anywhere (preamble, header, payload, checksum), a truncated or a random file: exit 2 naming the file, untouched', async () => {
    const r = await interruptedCli(tmp, [...TRAIN, '--out', 'flip'], /train H=2 +[1-9]\d*\/400/);
    expect(r.code).toBe(130);
    const file = at('flip', 'checkpoints', 'latest.ckpt');
    const good = readFileSync(file);
    const damaged: Buffer[] = [];
    for (const pos of [3, 12, 40, Math.floor(good.length / 2), good.length - 9, good.length - 1]) {
      const b = Buffer.from(good);
      b[pos] = b[pos]! ^ 0x10;
      damaged.push(b);
    }
    damaged.push(good.subarray(0, good.length - 100), Buffer.alloc(0), Buffer.from('x'.repeat(500)));
    for (const bytes of damaged) {
      writeFileSync(file, bytes);
      const res = cli(['resume', 'flip']);
      refused(res, join('flip', 'checkpoints', 'latest.ckpt'));
      expect(res.stderr).toMatch(/Restore a good copy, or move it aside/);
      expect(readFileSync(file).equals(bytes)).toBe(true);
    }
    writeFileSync(file, good);
    expect(cli(['resume', 'flip']).code).toBe(0);
  });
});

describe('run folders: one run per folder', () => {
  it('a second run, a resume or a report on a folder in use is refused (exit 2) while the first goes on', async () => {
    const first = startCli(tmp, [...LONG, '--out', 'busy']);
    await first.when(/train H=2 +[1-9]\d*\//);
    refused(cli([...TRAIN, '--out', 'busy']), /--out busy is in use by another attnlab run \(pid \d+/);
    refused(cli(['resume', 'busy']), /busy is in use by another attnlab run \(pid \d+/);
    first.child.kill('SIGINT');
    const end = await first.done;
    expect(end.code).toBe(130);
    expect(readJson(at('busy', 'config.json'))).toMatchObject({ config: { steps: 1_000_000 } });
    expect(cli(['report', 'busy']).code).toBe(0);
  });

  it('runs started together without --out get folders of their own, each with its own config and results', async () => {
    const cwd = at('together');
    mkdirSync(cwd);
    const seeds = [1, 2, 3, 4];
    const runs = seeds.map((seed) =>
      startCli(cwd, ['walkthrough', '--mode', 'embeddings', '--backend', 'cpu', '--seed', String(seed), '-q']),
    );
    const ends = await Promise.all(runs.map((r) => r.done));
    for (const e of ends) expect(e.code).toBe(0);
    const dirs = readdirSync(join(cwd, 'runs'));
    expect(dirs).toHaveLength(seeds.length);
    const found = dirs.map((d) => {
      const cfg = readJson(join(cwd, 'runs', d, 'config.json')) as { config: { seed: number } };
      const res = readJson(join(cwd, 'runs', d, 'results.json')) as { config: { seed: number } };
      expect(res.config.seed).toBe(cfg.config.seed);
      return cfg.config.seed;
    });
    expect(found.sort()).toEqual(seeds);
  });
});

describe('leftovers', () => {
  it('a config error found by the run leaves no folder and no empty runs/ (value-matrix retrieval.dV: 5)', () => {
    const cwd = at('clean');
    mkdirSync(cwd);
    writeFileSync(
      join(cwd, 'dv.json'),
      JSON.stringify({ experiment: 'value-matrix', config: { retrieval: { dV: 5 } } }),
    );
    const r = runCli(cwd, ['run', 'dv.json', '--backend', 'cpu']);
    refused(r, 'dv.json: config.retrieval.dV: must be an integer ≥ 4 and ≤ 4096 and a multiple of 4; got 5');
    expect(readdirSync(cwd)).toEqual(['dv.json']);
  });
});

describe('disks that refuse writes', () => {
  // A tmpfs needs root (CI's container has it); elsewhere a folder without write permission stands in.
  const canMount = process.getuid?.() === 0 && spawnSync('mount', ['--version']).status === 0;
  const mounts: string[] = [];
  const mount = (opts: string): string | undefined => {
    const dir = mkdtempSync(join(tmpdir(), 'attnlab-mnt-'));
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir]).status !== 0) return undefined;
    mounts.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const m of mounts) spawnSync('umount', [m]);
  });

  it('a read-only folder is named as such (exit 2), nothing half-made', () => {
    let cwd: string | undefined = canMount ? mount('size=1m,ro') : undefined;
    let expected = /the file system is read-only/;
    if (!cwd) {
      if (process.getuid?.() === 0) return; // root writes through permissions, and cannot mount here
      cwd = at('readonly');
      mkdirSync(cwd, { mode: 0o555 });
      expected = /permission denied/;
    }
    refused(runCli(cwd, ['walkthrough', '--backend', 'cpu']), expected);
    refused(runCli(cwd, ['walkthrough', '--backend', 'cpu', '--out', 'x']), expected);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('a full disk during training: exit 2 "the disk is full", the last checkpoint intact and resumable elsewhere', () => {
    if (!canMount) return;
    const cwd = mount('size=256k');
    if (!cwd) return;
    const r = runCli(cwd, [
      ...ICL,
      '--steps',
      '100000',
      '--eval-samples',
      '0',
      '--checkpoint-every',
      '50',
      '--log-every',
      '1',
      '--out',
      'full',
    ]);
    refused(r, /the disk is full; free some space/);
    expect(r.stderr).toContain('the run folder keeps its checkpoint: attnlab resume full');
  });
});

describe('oversized and hostile inputs', () => {
  it('sizes that pass each bound but are huge together are refused before anything runs, naming the fields', () => {
    const r = cli(['icl', 'train', '--backend', 'cpu', '--heads', '64', '--layers', '16', '-d=256', '--out', 'huge']);
    refused(r, /this run would need about [\d.]+ GiB .*heads = 64, layers = 16, d = 256.*--max-memory/);
    expect(existsSync(at('huge'))).toBe(false);
    refused(
      cli(['icl', 'train', '--backend', 'cpu', '--batch', '65536', '-L', '4096', '-d', '256']),
      /batch = 65536, L = 4096/,
    );
    refused(cli(['icl', 'train', '--max-memory', 'lots']), '--max-memory must be a size such as 16GB');
  });

  it('JSON nested 10 000 deep, a 10 MB string, a 100 000-entry list: exit 2 with one short line', () => {
    writeFileSync(
      at('deep.json'),
      `{"experiment":"attention-walkthrough","config":{"x":${'['.repeat(10000)}${']'.repeat(10000)}}}`,
    );
    refused(cli(['run', 'deep.json']), 'deep.json: nested more than 100 levels deep');
    writeFileSync(
      at('long.json'),
      JSON.stringify({ experiment: 'attention-walkthrough', config: { mode: 'x'.repeat(1e7) } }),
    );
    const long = cli(['run', 'long.json']);
    refused(long, 'long.json: config.mode: must be one of qkv, embeddings; got "xxx');
    expect(long.stderr.length).toBeLessThan(1000);
    writeFileSync(
      at('seqs.json'),
      JSON.stringify({ experiment: 'kv-cache', config: { seqLens: new Array(100000).fill(8) } }),
    );
    refused(cli(['run', 'seqs.json']), 'config.seqLens: must have at most 1000 items');
  });

  it("non-finite results: exit 0 with a warning, flagged in the report, and the run's results.json re-reports", () => {
    writeFileSync(
      at('lr.json'),
      JSON.stringify({ experiment: 'value-matrix', config: { learning: { lr: 1e308, epochs: 5 } } }),
    );
    const r = cli(['run', 'lr.json', '--backend', 'cpu', '--out', 'nan']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: \d+ results are not finite \(data\.learning\.losses\[1\] = NaN/);
    expect(readFileSync(at('nan', 'report.html'), 'utf8')).toContain('<b>Not finite.</b>');
    const again = cli(['report', 'nan']);
    expect(again.code).toBe(0);
    expect(readFileSync(at('nan', 'report.html'), 'utf8')).toContain('<b>Not finite.</b>');
  });

  it('a figures/ symlink never makes report write outside the run folder', () => {
    expect(cli(['walkthrough', '--backend', 'cpu', '--out', 'sym', '-q']).code).toBe(0);
    const outside = at('outside');
    mkdirSync(outside);
    rmSync(at('sym', 'figures'), { recursive: true });
    symlinkSync(outside, at('sym', 'figures'));
    refused(cli(['report', 'sym']), /sym\/figures is a symbolic link/);
    expect(readdirSync(outside)).toEqual([]);
    expect(lstatSync(at('sym', 'figures')).isSymbolicLink()).toBe(true);
  });

  it('bench --out to a missing folder is refused before the benchmark', () => {
    const r = cli(['bench', '--backend', 'cpu', '--out', join('no', 'such', 'folder', 'b.json')]);
    refused(r, 'the folder no/such/folder does not exist');
    expect(r.stderr).not.toContain('steps/s'); // nothing was timed
  });

  it("the help's examples of walkthrough run (exit 0)", () => {
    for (const ex of [
      ['--mode', 'embeddings', '--heads', '2', '--causal'],
      ['--causal', '--json'],
    ]) {
      const r = cli(['walkthrough', '--backend', 'cpu', '-q', ...ex]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
  });
});
