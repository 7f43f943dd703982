import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ParsedArgs } from './args.js';
import { atomicWrite, checkWritableFile } from './run-folder.js';
import { loadBackend } from './backend.js';
import { CliError } from './errors.js';
import { bold, type Io } from './term.js';

interface TorchRow {
  heads: number;
  setting: 'seed' | 'paper';
  stepsPerSecond: number;
}
interface TorchResult {
  rows?: TorchRow[];
  error?: string;
}

function runTorch(heads: number[], seconds: number): TorchResult {
  // The bundle's chunks live in dist/chunks; the script is copied to dist/.
  const here = dirname(fileURLToPath(import.meta.url));
  const script = [join(here, 'torch_bench.py'), join(here, '..', 'torch_bench.py')].find((p) => existsSync(p));
  if (!script) return { error: `torch_bench.py not found beside the CLI (${here})` };
  // Debian's python3-torch installs for /usr/bin/python3, which a pyenv or venv python3 may shadow.
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const r = spawnSync(
    python,
    [script, '--heads', heads.join(','), '--settings', 'seed,paper', '--seconds', String(seconds)],
    { encoding: 'utf8', timeout: 600_000 },
  );
  if (r.error) return { error: `python3 could not be started (${r.error.message}); install python3 and python3-torch` };
  if (r.status !== 0) return { error: (r.stderr || r.stdout).trim().split('\n').pop() ?? `exit ${r.status}` };
  try {
    const parsed = JSON.parse(r.stdout) as {
      rows: { heads: number; setting?: 'seed' | 'paper'; stepsPerSecond: number }[];
    };
    return {
      rows: parsed.rows.map((x) => ({
        heads: x.heads,
        setting: x.setting ?? 'seed',
        stepsPerSecond: x.stepsPerSecond,
      })),
    };
  } catch {
    return { error: `could not read torch_bench.py's output: ${r.stdout.slice(0, 200)}` };
  }
}

interface SeedsTorchRow {
  name: string;
  seconds: number;
}
interface SeedsTorchResult {
  rows?: SeedsTorchRow[];
  threads?: number;
  torch?: string;
  error?: string;
}

/** Seeds 003 and 000 in PyTorch with the seeds' own code (seeds_torch.py, one thread). */
function runSeedsTorch(rows: string[], cvConfig: number[], repeat: number): SeedsTorchResult {
  const here = dirname(fileURLToPath(import.meta.url));
  const script = [join(here, 'seeds_torch.py'), join(here, '..', 'seeds_torch.py')].find((p) => existsSync(p));
  if (!script) return { error: `seeds_torch.py not found beside the CLI (${here})` };
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const r = spawnSync(
    python,
    [script, '--rows', rows.join(','), '--config', cvConfig.join(','), '--threads', '1', '--repeat', String(repeat)],
    { encoding: 'utf8', timeout: 3_600_000 },
  );
  if (r.error)
    return {
      error: `python3 could not be started (${r.error.message}); install python3, python3-torch and python3-numpy`,
    };
  if (r.status !== 0) return { error: (r.stderr || r.stdout).trim().split('\n').pop() ?? `exit ${r.status}` };
  try {
    return JSON.parse(r.stdout) as SeedsTorchResult;
  } catch {
    return { error: `could not read seeds_torch.py's output: ${r.stdout.slice(0, 200)}` };
  }
}

const SEED_ROWS = ['cv-one', 'cv-preset', 'value-matrix', 'cv-step'];
/** Our row id → seeds_torch.py's row name. */
const TORCH_NAME: Record<string, string> = {
  'cv-one': 'cv-sweep one configuration',
  'cv-preset': 'cv-sweep seed preset',
  'cv-one-reference': 'cv-sweep one configuration',
  'cv-preset-interleaved': 'cv-sweep seed preset',
  'value-matrix': 'value-matrix',
  'value-matrix-learning': 'value-matrix learning (experiment 5)',
  'value-matrix-learning-reference': 'value-matrix learning (experiment 5)',
};

/** `attnlab bench`: @attnlab/fused's benchmark as a table (or JSON), optionally beside PyTorch. */
export async function bench(args: ParsedArgs, io: Io): Promise<number> {
  const f = args.flags;
  const prefer = (f.backend as string | undefined) ?? 'auto';
  const backends = prefer === 'auto' ? (['cpu', 'wasm', 'webgpu'] as const) : [prefer];
  if (prefer === 'tensorflow')
    throw new CliError(
      'bench has no tensorflow rows (the fused kernels are registered for cpu, wasm and webgpu); use --backend auto|cpu|wasm|webgpu',
      2,
    );
  const heads = (f.heads as number[] | undefined) ?? [1, 2, 4, 8];
  const seconds = (f.seconds as number | undefined) ?? 2;
  const json = f.json === true;
  const log = (line: string) => {
    if (!f.quiet) io.err(line);
  };
  const seedRows =
    typeof f.seeds === 'string'
      ? f.seeds === 'all'
        ? SEED_ROWS
        : f.seeds
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean)
      : [];
  const badRow = seedRows.find((r) => !SEED_ROWS.includes(r));
  if (badRow !== undefined || (typeof f.seeds === 'string' && seedRows.length === 0))
    throw new CliError(`bench: --seeds takes ${SEED_ROWS.join(', ')} (comma list) or all; got '${String(f.seeds)}'`, 2);
  const cvConfig = (f['cv-config'] as number[] | undefined) ?? [64, 4];
  if (cvConfig.length !== 2 || cvConfig[0]! % cvConfig[1]! !== 0 || cvConfig[0]! < 4)
    throw new CliError(`bench: --cv-config takes D,H with H dividing D and D ≥ 4; got ${cvConfig.join(',')}`, 2);
  if (f['no-icl'] === true && seedRows.length === 0)
    throw new CliError('bench: --no-icl leaves nothing to time without --seeds', 2);
  if (typeof f.out === 'string') checkWritableFile(f.out, '--out');
  const seeds = seedRows.length > 0 ? await benchSeeds(seedRows, cvConfig, prefer, f.torch === true, log) : undefined;
  if (f['no-icl'] === true) {
    const out = { seeds };
    if (typeof f.out === 'string') atomicWrite(f.out, `${JSON.stringify(out, null, 2)}\n`);
    if (json) io.out(JSON.stringify(out, null, 2));
    else io.out(seedsTable(seeds!, io).join('\n'));
    return 0;
  }
  const { runBenchmark } = await import('@attnlab/experiments/bench');
  const result = await runBenchmark({
    heads,
    seconds,
    backends: backends as ('cpu' | 'wasm' | 'webgpu')[],
    reference: f['no-reference'] !== true,
    ...(f.models ? { models: f.models as number[] } : {}),
    log,
    initBackend: async ({ prefer: p, dawnOptions }) =>
      (await loadBackend()).initBackend({ prefer: p, ...(dawnOptions ? { dawnOptions } : {}) }),
  });
  let torch: TorchResult | undefined;
  if (f.torch === true) {
    log('running PyTorch (torch_bench.py)…');
    torch = runTorch(heads, seconds);
  }
  const out = { ...result, ...(torch ? { torch } : {}), ...(seeds ? { seeds } : {}) };
  if (typeof f.out === 'string') atomicWrite(f.out, `${JSON.stringify(out, null, 2)}\n`);
  if (json) {
    io.out(JSON.stringify(out, null, 2));
    return 0;
  }
  const c = io.outColor ?? io.color;
  const pad = (s: string, n: number) => s.padEnd(n);
  const lines = [
    bold(
      c,
      "attnlab bench — seed 004's model (d = 5, L = 40, Adam; seed setting batch 128, paper setting batch 256: β ~ N(0, I/d), σ² = 0.1, noisy y_q)",
    ),
    '',
  ];
  lines.push(
    `${pad('path', 34)}${pad('backend', 11)}${pad('H', 4)}${pad('models', 8)}${'steps/s'.padStart(10)}${'model-steps/s'.padStart(15)}`,
  );
  for (const r of result.rows) {
    lines.push(
      `${pad(r.path, 34)}${pad(r.backend, 11)}${pad(String(r.heads), 4)}${pad(String(r.models), 8)}${r.stepsPerSecond.toFixed(1).padStart(10)}${Math.round(r.modelStepsPerSecond).toString().padStart(15)}`,
    );
  }
  for (const s of result.skipped ?? []) lines.push(`skipped ${s.what}: ${s.reason}`);
  if (torch?.rows) {
    lines.push('', bold(c, 'PyTorch (one thread) side by side (same machine, same minute):'));
    for (const t of torch.rows) {
      // The default engine (measured threads), two threads, and one (what a browser gets), in the same setting.
      const tag = t.setting === 'paper' ? ' paper' : '';
      const ours = [`fused-simd${tag} (measured)`, `fused-simd${tag} (2 threads)`, `fused-simd${tag} (1 thread)`]
        .map((p) => result.rows.find((r) => r.path === p && r.heads === t.heads))
        .filter((r) => r !== undefined);
      const vs = ours
        .map((r) => `; ${r.path} ${r.stepsPerSecond.toFixed(1)} (${(r.stepsPerSecond / t.stepsPerSecond).toFixed(1)}×)`)
        .join('');
      lines.push(`  H=${t.heads} (${t.setting} setting): PyTorch ${t.stepsPerSecond.toFixed(1)} steps/s${vs}`);
    }
  } else if (torch?.error) {
    lines.push('', `PyTorch not run: ${torch.error}`);
  }
  lines.push(
    '',
    `peak RSS ${result.memory.peakRssMB.toFixed(0)} MB; tf.memory() ${result.memory.tfNumTensors} tensors at the end`,
  );
  if (seeds) lines.push('', ...seedsTable(seeds, io));
  io.out(lines.join('\n'));
  return 0;
}

type SeedBench = Awaited<ReturnType<(typeof import('@attnlab/experiments/bench'))['runSeedBenchmark']>> & {
  torch?: SeedsTorchResult;
  /** With --torch and cv-preset: each configuration on attnlab, then on PyTorch, in turn. */
  interleaved?: { width: number; heads: number; attnlab: number; torch: number | null }[];
};

/** Seed 003's preset grid (D × H), in the order the experiment runs it. */
const CV_PRESET_GRID = [64, 128, 256].flatMap((w) => [1, 2, 4, 8].map((h) => [w, h] as [number, number]));

async function benchSeeds(
  rows: string[],
  cvConfig: number[],
  prefer: string,
  torch: boolean,
  log: (l: string) => void,
): Promise<SeedBench> {
  const backend = prefer === 'auto' ? 'wasm' : prefer;
  await (await loadBackend()).initBackend({ prefer: backend as 'cpu' | 'wasm' | 'webgpu' });
  const { runSeedBenchmark } = await import('@attnlab/experiments/bench');
  const r: SeedBench = await runSeedBenchmark({
    rows: rows as ('cv-one' | 'cv-preset' | 'value-matrix' | 'cv-step')[],
    cvConfig: [cvConfig[0]!, cvConfig[1]!],
    log,
  });
  if (torch) {
    // The preset side by side on a shared machine: PyTorch's preset is not run in one block after
    // ours, but configuration by configuration, interleaved with ours (load changes between blocks).
    const interleave = rows.includes('cv-preset');
    log("running PyTorch with the seeds' own code (seeds_torch.py, one thread)…");
    r.torch = runSeedsTorch(
      rows.filter((x) => x !== 'cv-step' && (!interleave || x !== 'cv-preset')),
      cvConfig,
      5,
    );
    if (interleave) {
      const pairs: NonNullable<SeedBench['interleaved']> = [];
      r.interleaved = pairs;
      for (const [width, heads] of CV_PRESET_GRID) {
        log(`interleaved: D=${width} H=${heads} on attnlab, then PyTorch…`);
        const ours = await runSeedBenchmark({
          rows: ['cv-one'],
          cvConfig: [width, heads],
          cvReference: false,
          warmUp: false,
        });
        const t = runSeedsTorch(['cv-one'], [width, heads], 1);
        const tr = t.rows?.find((x) => x.name === TORCH_NAME['cv-one']);
        pairs.push({ width, heads, attnlab: ours.rows[0]!.seconds, torch: tr ? tr.seconds : null });
        r.memory.peakRssMB = Math.max(r.memory.peakRssMB, ours.memory.peakRssMB);
      }
      const sum = (f: (x: NonNullable<SeedBench['interleaved']>[number]) => number | null) =>
        pairs.reduce<number | null>((a, x) => (a === null || f(x) === null ? null : a + f(x)!), 0);
      const attnlab = sum((x) => x.attnlab)!;
      const torchSum = sum((x) => x.torch);
      r.rows.push({
        id: 'cv-preset-interleaved',
        label: 'cv-sweep seed preset, interleaved per configuration with PyTorch',
        seconds: attnlab,
        runs: 1,
      });
      if (torchSum !== null && r.torch.rows)
        r.torch.rows.push({ name: TORCH_NAME['cv-preset-interleaved']!, seconds: torchSum });
    }
  }
  return r;
}

function seedsTable(s: SeedBench, io: Io): string[] {
  const c = io.outColor ?? io.color;
  const fmt = (x: number) => (x >= 10 ? x.toFixed(1) : x >= 0.1 ? x.toFixed(2) : x.toFixed(4));
  const lines = [bold(c, `attnlab bench — seeds 003 and 000 as the experiments run them (${s.backend})`), ''];
  lines.push(
    `${'row'.padEnd(72)}${'seconds'.padStart(10)}${s.torch?.rows ? `${'PyTorch'.padStart(10)}${'ratio'.padStart(8)}` : ''}`,
  );
  for (const r of s.rows) {
    if (r.step) {
      lines.push(r.label);
      for (const x of r.step)
        lines.push(
          `  D=${x.width} H=${x.heads}: step ${fmt(x.stepMs)} ms = products ${fmt(x.gemmMs)} + attention kernels ${fmt(x.attentionMs)} + rest ${fmt(x.restMs)}`,
        );
      continue;
    }
    // Interleaved, PyTorch's preset is the sum of its per-configuration runs: the pair for the
    // interleaved row, not for the preset timed in one block before it.
    const t =
      s.interleaved && r.id === 'cv-preset' ? undefined : s.torch?.rows?.find((x) => x.name === TORCH_NAME[r.id]);
    const label = r.runs > 1 ? `${r.label} (best of ${r.runs})` : r.label;
    lines.push(
      `${label.padEnd(72)}${fmt(r.seconds).padStart(10)}${t ? `${fmt(t.seconds).padStart(10)}${`${(t.seconds / r.seconds).toFixed(1)}×`.padStart(8)}` : ''}`,
    );
  }
  if (s.interleaved) {
    lines.push('', 'interleaved per configuration (attnlab, then PyTorch, for each):');
    for (const x of s.interleaved)
      lines.push(
        `  D=${String(x.width).padEnd(4)} H=${String(x.heads).padEnd(2)} ${fmt(x.attnlab).padStart(8)} s ${x.torch === null ? '' : `${fmt(x.torch).padStart(8)} s ${`${(x.torch / x.attnlab).toFixed(1)}×`.padStart(7)}`}`,
      );
  }
  if (s.torch?.error) lines.push('', `PyTorch not run: ${s.torch.error}`);
  else if (s.torch?.rows)
    lines.push(
      '',
      `PyTorch ${s.torch.torch ?? ''}: the seeds' own code on ${s.torch.threads ?? 1} thread${(s.torch.threads ?? 1) === 1 ? '' : 's'}, same invocation; ratio = PyTorch seconds / attnlab seconds.`,
    );
  lines.push(`peak RSS ${s.memory.peakRssMB.toFixed(0)} MB; tf.memory() ${s.memory.tfNumTensors} tensors at the end`);
  return lines;
}
