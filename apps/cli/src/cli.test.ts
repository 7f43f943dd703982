// The CLI as a process: build dist/attnlab.js once, spawn it on the cpu backend with tiny configs,
// and check what a user sees: exit codes, stdout/stderr separation, --json validated against the
// experiment's result schema, the run folder, Ctrl-C → resume, one-line errors, report.html in
// headless Chromium.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EXPERIMENT_IDS, getExperiment, validateResult, type ExperimentResult } from '@attnlab/experiments';
import { bin, buildCli, env, interruptedCli, root, runCli, type Result } from './test-utils/process.js';

let tmp: string;
const at = (...p: string[]) => join(tmp, ...p);
const cli = (args: string[], extra: Record<string, string> = {}): Result => runCli(tmp, args, extra);
/** Starts the CLI and sends `signal` once its stderr matches `when`. */
const interrupted = (args: string[], when: RegExp, signal: NodeJS.Signals = 'SIGINT') =>
  interruptedCli(tmp, args, when, signal);

/** A bad-input failure: exit 2, nothing on stdout, one error line naming the problem, a usage line, no stack. */
function expectUsageError(r: Result, named: string, usage = 'usage: attnlab'): void {
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^attnlab: error: /);
  expect(lines[0]).toContain(named);
  expect(lines[1]).toContain(usage);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.code).toBe(2);
}

function validated(stdout: string): ExperimentResult {
  const json = JSON.parse(stdout) as { experiment: string };
  return validateResult(getExperiment(json.experiment), json);
}

const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

// A few seconds on the cpu backend.
const TINY_ICL = [
  '--backend',
  'cpu',
  '--steps',
  '40',
  '--batch',
  '8',
  '--context',
  '8',
  '--eval-samples',
  '20',
  '--max-context',
  '21',
  '--context-step',
  '10',
  '--final-samples',
  '50',
];

beforeAll(() => {
  buildCli();
  tmp = mkdtempSync(join(tmpdir(), 'attnlab-cli-'));
}, 120_000);
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('attnlab (process): help, parsing, doctor', () => {
  it('--help: usage on stdout, exit 0, fast, nothing on stderr', () => {
    const r = cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^attnlab \d+\.\d+\.\d+: /);
    expect(r.stdout).toContain('Usage: attnlab <command> [flags]');
    for (const c of [
      'doctor',
      'start',
      'walkthrough',
      'value-matrix',
      'cv-sweep',
      'icl train',
      'icl heads',
      'icl length',
      'icl linear-vs-softmax',
      'icl multitask',
      'icl eval',
      'kv-cache',
      'run',
      'resume',
      'report',
      'sweep',
      'sweep resume',
      'sweep status',
      'sweep collect',
      'worker',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`\\n {2}${c} +\\S`));
    }
  });
  it('--help loads no tfjs backend and nothing optional (bare imports recorded by a module hook)', () => {
    // Startup time is for benchmarks; what keeps --help fast is what it does not load. A resolve hook
    // records every bare module specifier the CLI imports; --help may reach only tfjs-core.
    const hook = at('record-imports.mjs');
    const record = at('imports.txt');
    writeFileSync(
      hook,
      `import { register } from 'node:module';\nregister('data:text/javascript,' + encodeURIComponent(${JSON.stringify(
        "import { appendFileSync } from 'node:fs'; export async function resolve(s, c, next) { if (!/^(\\.|\\/|node:|file:|data:)/.test(s)) appendFileSync(process.env.ATTNLAB_TEST_IMPORTS, s + '\\n'); return next(s, c); }",
      )}));\n`,
    );
    const withHook = { NODE_OPTIONS: `--import ${pathToFileURL(hook).href}`, ATTNLAB_TEST_IMPORTS: record };
    const imported = (args: string[]): string[] => {
      rmSync(record, { force: true });
      expect(cli(args, withHook).code).toBe(0);
      return existsSync(record) ? [...new Set(readFileSync(record, 'utf8').trim().split('\n'))].sort() : [];
    };
    expect(imported(['--help'])).toEqual(['@tensorflow/tfjs-core']);
    expect(imported(['icl', 'train', '--help'])).toEqual(['@tensorflow/tfjs-core']);
    // The hook sees a backend when one loads (so the check above can fail).
    expect(imported(['doctor', '--backend', 'cpu', '--json'])).toContain('@tensorflow/tfjs-backend-cpu');
  });
  it('--version and <command> --help with examples', () => {
    expect(cli(['--version'])).toMatchObject({ code: 0, stdout: 'attnlab 0.1.0\n', stderr: '' });
    const h = cli(['icl', 'train', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('Usage: attnlab icl train [flags]');
    expect(h.stdout).toContain('--backend <auto|tensorflow|webgpu|wasm|cpu>');
    expect(h.stdout).toMatch(/-L, --context <n> +context length L during training \(an integer in \[1, 4096\]\)/);
    expect(h.stdout).toContain('Examples:\n  attnlab icl train --preset quick --heads 2');
    expect(cli(['icl', '--help']).stdout).toMatch(/icl eval +error vs context length/);
  });
  it('bare attnlab: help on stderr, exit 2', () => {
    const r = cli([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Usage: attnlab <command>');
  });
  it.each([
    [['doctor', '--jsn'], '--jsn', "usage: attnlab doctor [flags]  (see 'attnlab doctor --help')"],
    [
      ['doctor', '--backend', 'gpu'],
      "--backend must be one of auto, tensorflow, webgpu, wasm, cpu; got 'gpu'",
      'usage: attnlab doctor',
    ],
    [['doctor', '--backend'], '--backend needs a value', 'usage: attnlab doctor'],
    [
      ['doctr'],
      "unknown command 'doctr' (did you mean 'doctor'?); commands: doctor, start, walkthrough, value-matrix, cv-sweep, icl, kv-cache, run, resume, report",
      "usage: attnlab <command> [flags]  (see 'attnlab --help')",
    ],
    [['start', 'now'], "unexpected argument 'now'", 'usage: attnlab start'],
    [
      ['icl', 'train', '--heads', 'two'],
      "--heads must be an integer in [1, 64]; got 'two'",
      'usage: attnlab icl train',
    ],
    [['icl', 'train', '--lr', '0'], "--lr must be a number > 0 and ≤ 10; got '0'", 'usage: attnlab icl train'],
    [['icl', 'trian'], "unknown command 'icl trian' (did you mean 'icl train'?)", 'usage: attnlab <command>'],
    [
      ['icl', 'linear-vs-softmax', '--attentions', 'softmax,lineer'],
      "--attentions must be a comma-separated list of softmax, linear, linear-unnormalised; got 'softmax,lineer' (did you mean linear?)",
      'usage: attnlab icl linear-vs-softmax',
    ],
    [['icl', 'length', '--heads', '0'], "--heads must be an integer in [1, 64]; got '0'", 'usage: attnlab icl length'],
    [
      ['icl', 'multitask', '--tasks', '0'],
      "--tasks must be an integer in [1, 16]; got '0'",
      'usage: attnlab icl multitask',
    ],
    [
      ['icl', 'length', '--preset', 'fast'],
      "--preset must be one of quick, seed, paper; got 'fast'",
      'usage: attnlab icl length',
    ],
    [
      ['kv-cache', '--seq', '1024,4k'],
      "--seq must be a comma-separated list of integers in [1, 100000000]; got '1024,4k'",
      'usage: attnlab kv-cache',
    ],
    [
      ['kv-cache', '--model', 'gpt5'],
      "--model must be one of gpt2-small, gpt2-large, llama-7b, llama-13b, llama-2-70b, mistral-7b, deepseek-v2 (or a comma-separated list of them); got 'gpt5'",
      'usage: attnlab kv-cache',
    ],
    [['kv-cache', '--heads', '32'], 'a custom shape needs --layers and --heads', 'usage: attnlab kv-cache'],
    [
      ['kv-cache', '--layers', '2', '--heads', '32', '--kv-heads', '5', '--head-dim', '8'],
      '--kv-heads must divide --heads 32; got 5',
      'usage: attnlab kv-cache',
    ],
  ])('bad input %j → exit 2, one error line naming it, a usage hint, no stack', (args, named, usage) => {
    expectUsageError(cli(args), named, usage);
  });
  it('doctor --json --backend cpu: valid JSON on stdout only, every backend listed', () => {
    const r = cli(['doctor', '--json', '--backend', 'cpu']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout) as {
      chosen: string;
      preference: string;
      tfjsCore: string;
      node: string;
      attnlab: string;
      backends: { name: string; status: string; reason?: string }[];
    };
    expect(j).toMatchObject({
      chosen: 'cpu',
      preference: 'cpu',
      tfjsCore: '4.22.0',
      node: process.versions.node,
      attnlab: '0.1.0',
    });
    expect(j.backends.map((b) => b.name)).toEqual(['tensorflow', 'webgpu', 'wasm', 'cpu']);
    expect(j.backends.find((b) => b.name === 'cpu')!.status).toBe('chosen');
    expect(j.backends.find((b) => b.name === 'wasm')!.status).toBe('available');
    for (const b of j.backends) {
      expect(['chosen', 'available', 'unavailable']).toContain(b.status);
      if (b.status === 'unavailable') expect(b.reason).toBeTruthy(); // says why
    }
  });
  it('--backend wasm finds the WASM binaries next to the bundle', () => {
    const r = cli(['doctor', '--json', '--backend', 'wasm']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ chosen: 'wasm', via: '@tensorflow/tfjs-backend-wasm' });
  });
  it('doctor (auto): a line per backend and the one auto picks; progress on stderr; no colour with NO_COLOR', () => {
    const r = cli(['doctor'], { FORCE_COLOR: '1' });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('\u001b[');
    for (const b of ['tensorflow', 'webgpu', 'wasm', 'cpu'])
      expect(r.stdout).toMatch(new RegExp(`[→✓✗] ${b} +(chosen|available|unavailable)`));
    expect(r.stdout).toMatch(/auto picks: (tensorflow|webgpu|wasm|cpu) \(/);
    expect(r.stdout).toContain('tfjs-core 4.22.0');
    expect(r.stderr).toContain('checking backends');
  });
  it('bench --json: fused and reference rows for the asked head count, memory, no tensors left', () => {
    const r = cli([
      'bench',
      '--backend',
      'cpu',
      '--heads',
      '2',
      '--seconds',
      '0.2',
      '--models',
      '1',
      '--json',
      '--quiet',
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      rows: { path: string; backend: string; heads: number; stepsPerSecond: number }[];
      memory: { tfNumTensors: number };
    };
    const paths = out.rows.map((x) => `${x.path}/${x.backend}`);
    expect(paths).toEqual(
      expect.arrayContaining([
        'fused-simd (2 threads)/wasm-simd',
        'fused-simd (1 thread)/wasm-simd',
        'fused-js/js',
        'reference (tfjs autodiff + adam)/cpu',
        'fused tfjs kernels/cpu',
      ]),
    );
    for (const row of out.rows) expect(row.stepsPerSecond).toBeGreaterThan(0);
    expect(out.rows.filter((x) => x.heads !== 0).every((x) => x.heads === 2)).toBe(true);
    expect(out.memory.tfNumTensors).toBe(0);
    const bad = cli(['bench', '--seconds', '0']);
    expectUsageError(bad, '--seconds');
  });

  it('bench --seeds value-matrix --no-icl --json: the seed-000 rows only, no tensors left; bad rows named', () => {
    const r = cli(['bench', '--backend', 'cpu', '--seeds', 'value-matrix', '--no-icl', '--json', '--quiet']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      seeds: { backend: string; rows: { id: string; seconds: number }[]; memory: { tfNumTensors: number } };
    };
    expect(out.seeds.backend).toBe('cpu');
    expect(out.seeds.rows.map((x) => x.id)).toEqual([
      'value-matrix',
      'value-matrix-learning',
      'value-matrix-learning-reference',
    ]);
    for (const row of out.seeds.rows) expect(row.seconds).toBeGreaterThan(0);
    expect(out.seeds.memory.tfNumTensors).toBe(0);
    const bad = cli(['bench', '--seeds', 'cv-two', '--no-icl']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      "bench: --seeds takes cv-one, cv-preset, value-matrix, cv-step (comma list) or all; got 'cv-two'",
    );
  });

  it('FORCE_COLOR without NO_COLOR colours the report', () => {
    const r = cli(['doctor', '--backend', 'cpu', '--quiet'], { NO_COLOR: '', FORCE_COLOR: '1' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('\u001b[1m');
  });
});

describe('attnlab (process): experiments on the cpu backend', () => {
  it('kv-cache --model llama-7b --seq 4096 --json: the seed-000 table, MHA/GQA/MQA/MLA side by side', () => {
    const r = cli(['kv-cache', '--model', 'llama-7b', '--seq', '4096', '--json', '--out', 'kv-llama']);
    expect(r.code).toBe(0);
    const res = validated(r.stdout);
    const d = res.data as {
      table: { label: string; bytesPerToken: number; sizes: { seqLen: number; bytes: number }[] }[];
      comparison: { seqLen: number; variants: { name: string; mebibytes: number }[] };
    };
    // Closed form (seed 000): 2 · seq · d_head · heads · layers · 2 bytes = 2 · 4096 · 128 · 32 · 32 · 2.
    expect(d.table).toHaveLength(1);
    expect(d.table[0]!.sizes).toEqual([{ seqLen: 4096, bytes: 2147483648, mebibytes: 2048 }]);
    expect(d.comparison.seqLen).toBe(4096);
    // GQA 4 KV heads: ÷8; MQA: ÷32; MLA (512 + 64) · 32 layers · 2 bytes · 4096 = 144 MiB.
    expect(d.comparison.variants.map((v) => v.mebibytes)).toEqual([2048, 256, 64, 144]);
    expect(r.stderr).toContain('run folder: kv-llama');
  });
  it('kv-cache with a custom shape: MHA, GQA, MQA and MLA rows of that shape; text tables on stdout', () => {
    const r = cli([
      'kv-cache',
      '--layers',
      '32',
      '--heads',
      '32',
      '--kv-heads',
      '8',
      '--head-dim',
      '128',
      '--latent-dim',
      '512',
      '--seq',
      '8192',
      '--dtype',
      'bf16',
      '--label',
      'mine',
      '--out',
      'kv-custom',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const res = readJson(at('kv-custom', 'results.json')) as ExperimentResult;
    validateResult(getExperiment('kv-cache'), res);
    const table = (res.data as { table: { label: string; bytesPerToken: number; sizes: { mebibytes: number }[] }[] })
      .table;
    // bytes/token = 2 (K and V) · kvHeads · 128 · 32 layers · 2 bytes; MLA: (512 + 64) · 32 · 2.
    expect(table.map((t) => [t.label, t.bytesPerToken, t.sizes[0]!.mebibytes])).toEqual([
      ['mine MHA', 524288, 4096],
      ['mine GQA (8 KV heads)', 131072, 1024],
      ['mine MQA', 16384, 128],
      ['mine MLA (latent 512)', 36864, 288],
    ]);
    expect(r.stdout).toMatch(/mine GQA \(8 KV heads\) @ 8192 tokens +1024\.0 MB \(4\.0× smaller than MHA\)/);
    expect(r.stdout).toMatch(/\nmodel +attention +layers/);
    expect(r.stdout).toContain('report: kv-custom/report.html');
  });
  it('walkthrough --causal: every intermediate on stdout, --json validates with the hand-computed weights', () => {
    const text = cli(['walkthrough', '--backend', 'cpu', '--causal', '--out', 'wt-text']);
    expect(text.code).toBe(0);
    expect(text.stderr).toBe('');
    for (const m of ['scores QKᵀ', 'scaled scores QKᵀ·0.5', 'masked scores', 'weights softmax(·)', 'output weights·V'])
      expect(text.stdout).toContain(m);
    expect(text.stdout).toMatch(/\nMe +0\.5000 +-inf +-inf/);
    const r = cli(['walkthrough', '--backend', 'cpu', '--causal', '--json', '--out', 'wt-json']);
    expect(r.code).toBe(0);
    const d = validated(r.stdout).data as { heads: { weights: number[][]; output: number[][] }[] };
    // Seed 002, causal: the visible scores of each row are equal, so the weights are uniform over j ≤ i.
    const w = d.heads[0]!.weights;
    [
      [1, 0, 0],
      [0.5, 0.5, 0],
      [1 / 3, 1 / 3, 1 / 3],
    ].forEach((row, i) => row.forEach((x, j) => expect(w[i]![j]).toBeCloseTo(x, 5)));
    // Last row: the mean of V's rows.
    [(1 + 0.5 + 2) / 3, (2 + 1.5 + 1) / 3, (3 + 2.5 + 4) / 3, (4 + 3.5 + 3) / 3].forEach((x, j) =>
      expect(d.heads[0]!.output[2]![j]).toBeCloseTo(x, 5),
    );
  });
  it('value-matrix --epochs 20 --json validates; the learned-compression series has 20 losses', () => {
    const r = cli(['value-matrix', '--backend', 'cpu', '--epochs', '20', '--json', '--out', 'vm']);
    expect(r.code).toBe(0);
    const res = validated(r.stdout);
    expect((res.data as { learning: { losses: number[] } }).learning.losses).toHaveLength(20);
    expect((res.config as { learning: { epochs: number } }).learning.epochs).toBe(20);
    expect(readFileSync(at('vm', 'metrics.csv'), 'utf8')).toMatch(/^quantity,value\r?\n/);
  });
  it('icl train --json: the result on stdout, progress on stderr, a complete run folder', () => {
    const r = cli(['icl', 'train', ...TINY_ICL, '--heads', '2', '--json', '--out', 'icl']);
    expect(r.code).toBe(0);
    const res = validated(r.stdout); // all of stdout is the JSON result
    const data = res.data as {
      runs: { heads: number; completedSteps: number; loss: { step: number[] } }[];
      errorCurves: { contextLengths: number[] };
    };
    expect(data.runs.map((x) => [x.heads, x.completedSteps])).toEqual([[2, 40]]);
    expect(data.errorCurves.contextLengths).toEqual([1, 11, 21]);
    expect(r.stderr).toMatch(/In-context regression \(seed 004\) → icl \(backend cpu\)/);
    expect(r.stderr).toMatch(/train H=2 +40\/40 +100%/);
    expect(r.stderr).toContain('report: icl/report.html');
    const files = readdirSync(at('icl')).sort();
    expect(files).toEqual(['checkpoints', 'config.json', 'figures', 'metrics.csv', 'report.html', 'results.json']);
    expect(readdirSync(at('icl', 'checkpoints'))).toEqual(['latest.ckpt']);
    for (const f of res.figures) {
      expect(existsSync(at('icl', 'figures', `${f.id}.svg`))).toBe(true);
      expect(existsSync(at('icl', 'figures', `${f.id}.csv`))).toBe(true);
    }
    const cfg = readJson(at('icl', 'config.json'));
    expect(cfg).toMatchObject({
      experiment: 'icl-regression',
      preset: 'quick',
      seed: 0,
      backend: 'cpu',
      config: { steps: 40, heads: 2, batch: 8, L: 8 },
    });
    expect(cfg.provenance).toMatchObject({
      backendUsed: 'cpu',
      versions: { attnlab: '0.1.0', tfjsCore: '4.22.0', node: process.versions.node },
    });
    expect(readJson(at('icl', 'results.json'))).toEqual(JSON.parse(r.stdout));
    const csv = readFileSync(at('icl', 'metrics.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('heads,step,loss,validation_loss');
    expect(csv).toHaveLength(1 + data.runs[0]!.loss.step.length);
  });
  it('icl eval <run>: the saved model evaluated again (no training), into a new folder', () => {
    const before = readFileSync(at('icl', 'results.json'), 'utf8');
    const r = cli([
      'icl',
      'eval',
      'icl',
      '--backend',
      'cpu',
      '--max-context',
      '31',
      '--context-step',
      '15',
      '--eval-samples',
      '30',
      '--json',
      '--out',
      'icl-eval',
    ]);
    expect(r.code).toBe(0);
    const res = validated(r.stdout);
    const src = JSON.parse(before) as ExperimentResult;
    const run = (x: ExperimentResult) =>
      (x.data as { runs: { completedSteps: number; statistics: unknown }[] }).runs[0]!;
    expect(run(res).completedSteps).toBe(40);
    expect(run(res).statistics).toEqual(run(src).statistics); // the trained parameters, untouched
    expect((res.data as { errorCurves: { contextLengths: number[]; samples: number } }).errorCurves).toMatchObject({
      contextLengths: [1, 16, 31],
      samples: 30,
    });
    expect(readJson(at('icl-eval', 'config.json')).provenance.source).toBe('icl');
    expect(readFileSync(at('icl', 'results.json'), 'utf8')).toBe(before); // the source run is not changed
  });
  it('icl length trains softmax only; icl linear-vs-softmax adds both linear attentions, on the reference', () => {
    const tiny = ['--backend', 'cpu', '--steps', '20', '--batch', '8', '--context', '8', '--final-samples', '20'];
    const ev = ['--max-context', '21', '--context-step', '10', '--eval-samples', '20', '--json'];
    const one = cli(['icl', 'length', ...tiny, ...ev, '--out', 'length']);
    expect(one.code).toBe(0);
    const a = validated(one.stdout) as { data: { summary: { attention: string }[] } };
    expect(a.data.summary.map((x) => x.attention)).toEqual(['softmax']);
    const both = cli(['icl', 'linear-vs-softmax', ...tiny, ...ev, '--out', 'lvs']);
    expect(both.code).toBe(0);
    const b = validated(both.stdout) as {
      data: { summary: { attention: string }[]; runs: { data: { runs: { engine: { reason: string } }[] } }[] };
      figures: { id: string }[];
    };
    expect(b.data.summary.map((x) => x.attention)).toEqual(['softmax', 'linear', 'linear-unnormalised']);
    expect(b.data.runs[1]!.data.runs[0]!.engine.reason).toMatch(/^auto: no fast engine runs this config/);
    expect(b.figures.map((f) => f.id)).toContain('length-generalisation');
    expect(existsSync(join(tmp, 'lvs', 'figures', 'length-generalisation.svg'))).toBe(true);
    expect(readFileSync(join(tmp, 'lvs', 'report.html'), 'utf8')).toContain('Length generalisation');
  });
  it('icl multitask: k outputs, per-task rows and the head × task figure', () => {
    const r = cli([
      'icl',
      'multitask',
      '--backend',
      'cpu',
      '--tasks',
      '3',
      '--heads',
      '2',
      '--steps',
      '20',
      '--batch',
      '8',
      '--final-samples',
      '30',
      '--json',
      '--out',
      'multitask',
    ]);
    expect(r.code).toBe(0);
    const res = validated(r.stdout) as { data: { tasks: unknown[]; heads: { mu: number[] }[] } };
    expect(res.data.tasks).toHaveLength(3);
    expect(res.data.heads.map((h) => h.mu.length)).toEqual([3, 3]);
    expect(existsSync(join(tmp, 'multitask', 'figures', 'head-task-circuits.svg'))).toBe(true);
  });
  it('icl heads: H ∈ {1, 2, 4, 8}, one run each, the comparison table', () => {
    const r = cli([
      'icl',
      'heads',
      '--backend',
      'cpu',
      '--steps',
      '20',
      '--batch',
      '8',
      '--context',
      '8',
      '--eval-samples',
      '0',
      '--final-samples',
      '20',
      '--json',
      '--out',
      'heads',
    ]);
    expect(r.code).toBe(0);
    const res = validated(r.stdout);
    expect((res.config as { headCounts: number[] }).headCounts).toEqual([1, 2, 4, 8]);
    expect(
      (res.data as { runs: { heads: number; completedSteps: number }[] }).runs.map((x) => [x.heads, x.completedSteps]),
    ).toEqual([
      [1, 20],
      [2, 20],
      [4, 20],
      [8, 20],
    ]);
    expect(res.figures.map((f) => f.id)).toContain('heads');
    expect(r.stderr).toMatch(/Training H = 8 \(4 of 4\)/);
  });
  it('cv-sweep resolves its experiment at run time', () => {
    if (!(EXPERIMENT_IDS as readonly string[]).includes('cv-sweep')) {
      const r = cli(['cv-sweep', '--backend', 'cpu']);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `attnlab: error: the cv-sweep experiment is not registered in this build of @attnlab/experiments (it has: ${EXPERIMENT_IDS.join(', ')})\n`,
      );
      return;
    }
    const r = cli([
      'cv-sweep',
      '--backend',
      'cpu',
      '--widths',
      '8',
      '--heads',
      '1,2',
      '--epochs',
      '2',
      '--json',
      '--out',
      'cv',
    ]);
    expect(r.code).toBe(0);
    const res = validated(r.stdout);
    expect(res.config).toMatchObject({ widths: [8], heads: [1, 2], epochs: 2 });
  });
});

describe('attnlab (process): run files, resume, report, errors', () => {
  const file = (name: string, content: unknown) => {
    writeFileSync(at(name), typeof content === 'string' ? content : JSON.stringify(content));
    return name;
  };
  it("run <config.json>: preset + seed + config overrides; a run folder's config.json runs it again identically", () => {
    const f = file('tiny.json', {
      experiment: 'icl-regression',
      preset: 'quick',
      seed: 3,
      config: { steps: 30, batch: 8, L: 8, finalValidationSamples: 0, evaluation: { samples: 0 } },
    });
    const r = cli(['run', f, '--backend', 'cpu', '--json', '--out', 'from-file']);
    expect(r.code).toBe(0);
    const res = validated(r.stdout);
    expect(res.config).toMatchObject({
      seed: 3,
      steps: 30,
      batch: 8,
      L: 8,
      heads: 2,
      evaluation: { samples: 0, maxL: 201 },
    });
    const again = cli(['run', 'from-file/config.json', '--json', '--quiet', '--out', 'from-file-again']);
    expect(again.code).toBe(0);
    expect(again.stderr).toBe('');
    const res2 = validated(again.stdout);
    expect(res2.config).toEqual(res.config);
    expect(res2.meta.backend).toBe('cpu'); // the backend recorded in config.json
    const run = (x: ExperimentResult) => (x.data as { runs: { statistics: unknown; loss: unknown }[] }).runs[0]!;
    expect(run(res2).statistics).toEqual(run(res).statistics);
    expect(run(res2).loss).toEqual(run(res).loss);
  });
  it.each([
    [
      'malformed.json',
      '{\n  "experiment": "icl-regression",\n  "config": { "steps": 10, }\n}',
      'malformed.json: malformed JSON at line 3, column 28: expected double-quoted property name',
    ],
    [
      'wrong-type.json',
      { experiment: 'icl-regression', config: { heads: 'two' } },
      'wrong-type.json: config.heads: must be an integer ≥ 1 and ≤ 64; got "two"',
    ],
    [
      'nested.json',
      { experiment: 'icl-regression', config: { optimizer: { lr: -1 } } },
      'nested.json: config.optimizer.lr: must be a number > 0 and ≤ 10; got -1',
    ],
    [
      'unknown-field.json',
      { experiment: 'icl-regression', config: { stepz: 10 } },
      'unknown-field.json: config.stepz: is not a known field (known: layers, heads,',
    ],
    ['no-experiment.json', { config: {} }, 'no-experiment.json: experiment is required: one of icl-regression'],
    ['bad-experiment.json', { experiment: 'icl' }, 'bad-experiment.json: experiment must be one of icl-regression'],
    ['top-level.json', { experiment: 'kv-cache', steps: 3 }, 'top-level.json: steps is not a known field'],
  ])('run %s → exit 2 naming the field', (name, content, named) => {
    const f = file(name, content);
    expectUsageError(
      cli(['run', f, '--backend', 'cpu', '--out', `never-${name}`]),
      named,
      'usage: attnlab run <config> [flags]',
    );
    expect(existsSync(at(`never-${name}`))).toBe(false);
  });
  it('run with a missing file, resume/report of something that is not a run folder → exit 2', () => {
    expectUsageError(cli(['run', 'nope.json']), 'nope.json: no such file', 'usage: attnlab run');
    expectUsageError(
      cli(['resume', 'nowhere']),
      "'resume': nowhere is not a run folder (no such folder)",
      'usage: attnlab resume',
    );
    expectUsageError(
      cli(['icl', 'eval', 'kv-llama']),
      "'icl eval' needs a run of icl train; kv-llama ran kv-cache",
      'usage: attnlab icl eval',
    );
  });
  it('--out pointing at a non-empty folder is refused before anything is written', () => {
    mkdirSync(at('occupied'));
    writeFileSync(at('occupied', 'keep.txt'), 'mine');
    expectUsageError(
      cli(['walkthrough', '--backend', 'cpu', '--out', 'occupied']),
      '--out occupied already exists and is not empty',
      'usage: attnlab walkthrough',
    );
    expect(readdirSync(at('occupied'))).toEqual(['keep.txt']);
    expectUsageError(
      cli(['icl', 'train', '--backend', 'cpu', '--out', 'icl']),
      '--out icl already exists and is not empty; give a new or empty folder (to continue that run: attnlab resume icl)',
    );
  });
  it('a config the experiment rejects, or an unavailable forced backend: exit 2, no run folder left', () => {
    expectUsageError(
      cli(['icl', 'train', '--backend', 'cpu', '--init', 'oppo_small_id', '--heads', '3', '--out', 'odd']),
      'config.heads: must be even with init oppo_small_id (two halves of opposite sign); got 3 (set by --heads)',
      'usage: attnlab icl train',
    );
    expect(existsSync(at('odd'))).toBe(false);
    const doctor = JSON.parse(cli(['doctor', '--json', '--backend', 'cpu']).stdout) as {
      backends: { name: string; status: string }[];
    };
    if (doctor.backends.find((b) => b.name === 'tensorflow')!.status === 'unavailable') {
      const r = cli(['icl', 'train', '--backend', 'tensorflow', '--out', 'tf']);
      expectUsageError(r, "--backend tensorflow: backend 'tensorflow' is unavailable: ", 'usage: attnlab icl train');
      expect(r.stderr).toMatch(/install @tensorflow\/tfjs-node/);
      expect(existsSync(at('tf'))).toBe(false);
    }
  });
  it('SIGINT during training: checkpoint, exit 130, "resume with"; resume ends with the parameters of an uninterrupted run', async () => {
    const args = [
      'icl',
      'train',
      '--backend',
      'cpu',
      '--steps',
      '600',
      '--batch',
      '8',
      '--context',
      '8',
      '--eval-samples',
      '0',
      '--final-samples',
      '0',
      '--checkpoint-every',
      '100',
    ];
    const cut = await interrupted([...args, '--out', 'cut'], /train H=2 +[1-9]\d*\/600/);
    expect(cut.sent).toBe(true);
    expect(cut.code).toBe(130);
    expect(cut.stderr).toMatch(/SIGINT: stopping at the next step and saving a checkpoint/);
    expect(cut.stderr.trimEnd().split('\n').pop()).toBe('interrupted; resume with: attnlab resume cut');
    expect(cut.stdout).toBe('');
    const partial = readJson(at('cut', 'results.json')) as ExperimentResult;
    expect(partial.meta.aborted).toBe(true);
    const stoppedAt = (partial.data as { runs: { completedSteps: number }[] }).runs[0]!.completedSteps;
    expect(stoppedAt).toBeGreaterThan(0);
    expect(stoppedAt).toBeLessThan(600);
    expect(readFileSync(at('cut', 'report.html'), 'utf8')).toContain('<b>Interrupted.</b>');

    const resumed = cli(['resume', 'cut', '--json']);
    expect(resumed.code).toBe(0);
    const res = validated(resumed.stdout);
    expect(res.meta).toMatchObject({ aborted: false, resumedFrom: stoppedAt });
    const straight = cli([...args, '--json', '--out', 'straight']);
    expect(straight.code).toBe(0);
    const ref = validated(straight.stdout);
    const run = (x: ExperimentResult) =>
      (
        x.data as {
          runs: {
            completedSteps: number;
            statistics: { qk: number[][]; ov: number[][] }[];
            loss: unknown;
            validation: unknown;
          }[];
        }
      ).runs[0]!;
    expect(run(res).completedSteps).toBe(600);
    expect(run(res).statistics.map((s) => [s.qk, s.ov])).toEqual(run(ref).statistics.map((s) => [s.qk, s.ov]));
    expect(run(res).loss).toEqual(run(ref).loss);
    expect(run(res).validation).toEqual(run(ref).validation);
    expect(readJson(at('cut', 'results.json'))).toEqual(res);

    const again = cli(['resume', 'cut']);
    expect(again).toMatchObject({ code: 0, stdout: '' });
    expect(again.stderr).toContain('cut is already complete; nothing to resume');
  });
  it('start: the quick icl train with H = 2 (SIGTERM stops it with a checkpoint, exit 143)', async () => {
    const r = await interrupted(['start', '--backend', 'cpu', '--out', 'first'], /train H=2 +\d+\/\d+/, 'SIGTERM');
    expect(r.sent).toBe(true);
    expect(r.code).toBe(143);
    expect(r.stderr).toContain('interrupted; resume with: attnlab resume first');
    expect(readJson(at('first', 'config.json'))).toMatchObject({
      experiment: 'icl-regression',
      preset: 'quick',
      config: { heads: 2, steps: (getExperiment('icl-regression').presets.quick as { steps: number }).steps },
      provenance: { command: 'start --backend cpu --out first' },
    });
    expect(existsSync(at('first', 'checkpoints', 'latest.ckpt'))).toBe(true);
  });
  it('report <run> re-renders the same report.html and figures from results.json; a damaged results.json → exit 2', () => {
    const report = readFileSync(at('icl', 'report.html'), 'utf8');
    const figures = readdirSync(at('icl', 'figures')).sort();
    rmSync(at('icl', 'report.html'));
    rmSync(at('icl', 'figures'), { recursive: true });
    const r = cli(['report', 'icl']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^report: icl\/report\.html \(\d+ figures in icl\/figures\)\n$/);
    expect(readFileSync(at('icl', 'report.html'), 'utf8')).toBe(report);
    expect(readdirSync(at('icl', 'figures')).sort()).toEqual(figures);

    cpSync(at('icl'), at('damaged'), { recursive: true });
    const res = readJson(at('damaged', 'results.json'));
    res.data.runs[0].heads = 'two';
    writeFileSync(at('damaged', 'results.json'), JSON.stringify(res));
    expectUsageError(
      cli(['report', 'damaged']),
      'damaged/results.json: result.data.runs[0].heads: must be an integer; got "two"',
      'usage: attnlab report',
    );
  });
  it('report.html renders offline in headless Chromium without console errors or requests', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: '/usr/lib/chromium/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    try {
      for (const dir of ['icl', 'heads', 'vm', 'cut']) {
        const page = await browser.newPage();
        const problems: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
        });
        page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
        page.on('request', (q) => {
          if (!q.url().startsWith('file:') && !q.url().startsWith('data:')) problems.push(`request: ${q.url()}`);
        });
        await page.goto(pathToFileURL(at(dir, 'report.html')).href, { waitUntil: 'load' });
        const res = readJson(at(dir, 'results.json')) as ExperimentResult;
        const exp = getExperiment(res.experiment);
        expect(await page.title()).toBe(`${exp.title} · attnlab`);
        const drawn = res.figures.filter((f) => f.spec.kind !== 'table').length;
        expect(await page.locator('figure .svg > svg').count()).toBe(drawn);
        expect(await page.locator('figure').count()).toBe(res.figures.length);
        expect(await page.locator('h2').allTextContents()).toEqual(['Key numbers', 'Figures', 'Config']);
        expect(problems).toEqual([]);
        await page.close();
      }
    } finally {
      await browser.close();
    }
  });
});

// ---- sweeps (issue 15) --------------------------------------------------------------------------

/** A 24-point sweep: H ∈ {1, 2, 4} × 8 seeds, each point a few tenths of a second, a checkpoint every 100 steps. */
const SWEEP_24 = {
  experiment: 'icl-regression',
  backend: 'cpu',
  base: {
    steps: 1500,
    batch: 16,
    L: 10,
    log: { loss: 50, validation: 500, dynamics: 500, qk: 1500 },
    checkpointEvery: 100,
    finalValidationSamples: 100,
    evaluation: { maxL: 21, stepL: 10, samples: 20 },
  },
  axes: { heads: [1, 2, 4], seed: { from: 0, to: 7, step: 1 } },
};

interface Proc {
  child: ChildProcessWithoutNullStreams;
  out: string;
  err: string;
  exited: Promise<number | null>;
  code?: number | null;
}
function startCli(args: string[]): Proc {
  const child = spawn(process.execPath, [bin, ...args], { env: env(), cwd: tmp });
  const p: Proc = { child, out: '', err: '', exited: Promise.resolve(null) };
  child.stdout.on('data', (d: Buffer) => (p.out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (p.err += d.toString()));
  p.exited = new Promise((res) =>
    child.on('close', (code) => {
      p.code = code;
      res(code);
    }),
  );
  return p;
}
/** Resolves once `cond` holds (checked on every event-loop turn, at most every 20 ms); fails if `alive` says the process ended. */
function until<T>(what: string, cond: () => T | undefined | false, alive?: Proc): Promise<T> {
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      let v: T | undefined | false;
      try {
        v = cond();
      } catch {
        v = undefined;
      }
      if (v !== undefined && v !== false) return resolve(v);
      if (alive && alive.code !== undefined)
        return reject(new Error(`${what}: the process exited (${alive.code}) first\n${alive.err}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}
interface Row {
  id: string;
  metrics: Record<string, number | null>;
  resumedFrom: number | null;
}
const rowsOf = (dir: string): Row[] =>
  readFileSync(at(dir, 'results.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Row);
const indexOf = (dir: string) =>
  readJson(at(dir, 'index.json')) as { points: { id: string; state: string }[]; queue?: string };
const ckpt = (dir: string, id: string) => existsSync(at(dir, 'points', id, 'checkpoints', 'latest.ckpt'));
const finished = (dir: string, id: string): boolean => {
  const p = at(dir, 'points', id, 'results.json');
  return existsSync(p) && (readJson(p) as { meta: { aborted: boolean } }).meta.aborted === false;
};
const losses = (dir: string, id: string): number[] =>
  (readJson(at(dir, 'points', id, 'results.json')) as { data: { runs: { loss: { value: number[] } }[] } }).data.runs[0]!
    .loss.value;

/** A worker's next point that has saved a checkpoint and not finished: its id (the worker is then mid-point). */
function midPoint(w: Proc, dir: string, seen: Set<string>): string | false {
  for (const m of w.err.matchAll(/\(([0-9a-f]{12})\) attempt \d+ in /g)) {
    const id = m[1]!;
    if (seen.has(id)) continue;
    if (finished(dir, id)) {
      seen.add(id);
      continue;
    }
    if (ckpt(dir, id)) return id;
  }
  return false;
}

describe('attnlab (process): sweeps', () => {
  let redis: ReturnType<typeof spawn> | undefined;
  afterAll(() => {
    redis?.kill('SIGKILL');
  });

  it('sweep: bad specs are one line naming the field (exit 2); the smoke example runs; status and collect', () => {
    writeFileSync(at('bad-sweep.json'), JSON.stringify({ experiment: 'icl-regression', axes: { heads: [1, 2, 0] } }));
    expectUsageError(
      cli(['sweep', 'bad-sweep.json', '--out', 'bad']),
      'bad-sweep.json: axes.heads[2]: must be an integer ≥ 1 and ≤ 64; got 0',
      'usage: attnlab sweep <spec>',
    );
    expect(existsSync(at('bad'))).toBe(false);
    writeFileSync(at('bad-sweep.yaml'), 'experiment: icl-regression\naxes:\n  optimizer.lr: [0.001, -1]\n');
    expectUsageError(cli(['sweep', 'bad-sweep.yaml']), 'axes.optimizer.lr[1]: must be a number > 0 and ≤ 10; got -1');
    expectUsageError(
      cli(['sweep', 'bad-sweep.json', '--queue', 'http://x']),
      "--queue must be a redis://host:port URL (e.g. redis://127.0.0.1:6379); got 'http://x'",
    );

    const smoke = join(root, '..', '..', 'examples', 'sweeps', 'smoke.json');
    const r = cli(['sweep', smoke, '--out', 'smoke']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Sweep of icl-regression: 9 of 9 points done');
    expect(r.stdout).toMatch(/heads=4 +\S+ ± \S+ \(n = 3\)/);
    expect(readdirSync(at('smoke')).sort()).toEqual([
      'aggregate.csv',
      'aggregate.json',
      'claims.csv',
      'claims.json',
      'figures',
      'index.json',
      'points',
      'report.html',
      'results.csv',
      'results.jsonl',
      'spec.json',
    ]);
    expect(readdirSync(at('smoke', 'figures'))).toEqual(expect.arrayContaining(['error-vs-L.svg', 'aggregate.csv']));
    const rows = rowsOf('smoke');
    expect(rows).toHaveLength(9);
    const p = rows[0]!.id;
    expect(readdirSync(at('smoke', 'points', p)).sort()).toEqual([
      'checkpoints',
      'config.json',
      'figures',
      'metrics.csv',
      'report.html',
      'results.json',
    ]);
    // The aggregate is the mean of the rows' numbers (computed here from results.jsonl).
    const agg = readJson(at('smoke', 'aggregate.json')) as {
      groups: { values: { heads: number }; metrics: Record<string, { mean: number }> }[];
    };
    const h1 = rows.filter(
      (x) => (readJson(at('smoke', 'points', x.id, 'config.json')) as { config: { heads: number } }).config.heads === 1,
    );
    const mean = h1.reduce((a, x) => a + x.metrics['final training loss']!, 0) / h1.length;
    expect(agg.groups[0]!.metrics['final training loss']!.mean).toBeCloseTo(mean, 12);
    // Started again: nothing runs, the same rows.
    const again = cli(['sweep', smoke, '--out', 'smoke']);
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain('points to run');
    expect(rowsOf('smoke')).toEqual(rows);
    const st = cli(['sweep', 'status', 'smoke']);
    expect(st.stdout).toContain('smoke: 9 of 9 done, 0 running, 0 pending, 0 interrupted, 0 failed');
    expect(cli(['sweep', 'collect', 'smoke']).code).toBe(0);
    // A different spec into the same folder is refused.
    writeFileSync(at('other.json'), JSON.stringify({ experiment: 'icl-regression', axes: { heads: [1] } }));
    expectUsageError(cli(['sweep', 'other.json', '--out', 'smoke']), 'smoke holds a different sweep');
  }, 120_000);

  it("sweep report: each of the paper's claims beside its figure, attnlab's mean ± s.e. from the points' results, the theory's number for each group", () => {
    // The paper's sampling at d = 2, L = 10: β ~ N(0, I/2), σ² = 0.1 on the context and the query target.
    const spec = {
      experiment: 'icl-regression',
      preset: 'paper',
      backend: 'cpu',
      base: {
        d: 2,
        L: 10,
        batch: 16,
        steps: 100,
        log: { loss: 10, validation: 50, dynamics: 50, qk: 100 },
        checkpointEvery: 50,
        finalValidationSamples: 100,
        evaluation: { maxL: 21, stepL: 10, samples: 20 },
      },
      axes: { heads: [1, 2], seed: { from: 0, to: 1, step: 1 } },
    };
    writeFileSync(at('claims-sweep.json'), JSON.stringify(spec));
    expect(cli(['sweep', 'claims-sweep.json', '--out', 'claims', '--workers', '1', '-q']).code).toBe(0);
    interface Block {
      id: string;
      claim: string;
      figure: string | null;
      rows: {
        group: string;
        metric: string;
        attnlab: { mean: number; se: number; n: number };
        theory: number | null;
      }[];
    }
    const { blocks } = readJson(at('claims', 'claims.json')) as { blocks: Block[] };
    expect(blocks.map((b) => b.id)).toEqual(
      expect.arrayContaining([
        'single-head-w',
        'single-head-mu',
        'risk',
        'mu-sum',
        'gd-step',
        'gd-cosine',
        'error-vs-L',
      ]),
    );
    const block = (id: string) => blocks.find((b) => b.id === id)!;
    // attnlab's numbers are the mean and standard error of the points' own numbers (results.jsonl).
    const rows = rowsOf('claims');
    const heads = (id: string) =>
      (readJson(at('claims', 'points', id, 'config.json')) as { config: { heads: number } }).config.heads;
    for (const b of blocks)
      for (const r of b.rows) {
        const h = Number(r.group.replace('heads=', ''));
        const xs = rows.filter((x) => heads(x.id) === h).map((x) => x.metrics[r.metric]!);
        expect(xs).toHaveLength(2);
        expect(typeof xs[0]).toBe('number');
        const mean = (xs[0]! + xs[1]!) / 2;
        expect(r.attnlab.n).toBe(2);
        expect(r.attnlab.mean).toBeCloseTo(mean, 12);
        expect(r.attnlab.se).toBeCloseTo(Math.abs(xs[0]! - xs[1]!) / 2, 12);
      }
    // The theory's numbers, by hand for d = 2, L = 10, E‖β‖² = 1, σ² = 0.1: debiased GD's optimal step
    // L/(L + d + σ²d) = 10/12.2, its risk 1 − (L − 1)/L · η* = 1 − 0.9 · 10/12.2, plus σ² on the noisy target.
    const risk = block('risk');
    expect(risk.rows.map((r) => r.group)).toEqual(['heads=1', 'heads=2']);
    expect(risk.rows[1]!.theory).toBeCloseTo(1 - (0.9 * 10) / 12.2 + 0.1, 12);
    expect(block('gd-step').rows[0]!.theory).toBeCloseTo(10 / 12.2, 12);
    expect(block('mu-sum').rows[0]!.theory).toBe(0);
    // One head: the exact optimum (Monte Carlo) lies away from the approximate loss's 1/√2.
    const w1 = block('single-head-w').rows[0]!.theory!;
    expect(w1).toBeGreaterThan(0.2);
    expect(Math.abs(w1 - Math.SQRT1_2)).toBeGreaterThan(0.01);
    // The report: a claims section, each claim a table of attnlab against the theory beside its figure.
    const html = readFileSync(at('claims', 'report.html'), 'utf8');
    expect(html).toContain("<h2>The paper's claims</h2>");
    expect(html.indexOf("<h2>The paper's claims</h2>")).toBeLessThan(html.indexOf('<h2>Summary</h2>'));
    for (const b of blocks) {
      const start = html.indexOf(`<section class="claim" id="claim-${b.id}">`);
      expect(start).toBeGreaterThan(0);
      const section = html.slice(start, html.indexOf('</section>', start));
      expect(section).toContain('<th>group</th><th>attnlab (mean ± s.e.)</th><th>theory</th>');
      expect(section.match(/<tr><td>/g)).toHaveLength(b.rows.length);
      expect(b.figure).not.toBeNull();
      expect(section).toContain(`<figure id="fig-${b.figure}"><div class="svg"><svg`);
      expect(existsSync(at('claims', 'figures', `${b.figure}.svg`))).toBe(true);
    }
    const csv = readFileSync(at('claims', 'claims.csv'), 'utf8').split(/\r?\n/)[0];
    expect(csv).toBe('claim,figure,group,metric,attnlab (mean ± s.e.),n,theory,theory: source');
  }, 300_000);

  it('sweep folders: a corrupt index.json is rebuilt from the point folders; one submitter per folder; a point another process runs is not run twice', () => {
    const smoke = join(root, '..', '..', 'examples', 'sweeps', 'smoke.json');
    expect(cli(['sweep', smoke, '--out', 'locked', '-q']).code).toBe(0);
    const rows = rowsOf('locked');
    // A corrupt index (malformed JSON, then the wrong shape): status says what to do (exit 2); resume
    // rebuilds it, runs nothing again and keeps every row.
    for (const bad of ['{ "version": 1, "points": [', JSON.stringify({ version: 1, sweepId: 'x', points: 5 })]) {
      writeFileSync(at('locked', 'index.json'), bad);
      const st = cli(['sweep', 'status', 'locked']);
      expectUsageError(st, join('locked', 'index.json'), 'usage: attnlab sweep status');
      expect(st.stderr).toContain('attnlab sweep resume locked (or sweep collect) rebuilds it');
      const r = cli(['sweep', 'resume', 'locked']);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/warning: .*index\.json.*rebuilt it from the point folders/);
      expect(r.stderr).not.toContain('points to run');
      expect(rowsOf('locked')).toEqual(rows);
      expect(cli(['sweep', 'status', 'locked']).stdout).toContain('9 of 9 done');
    }
    // A live submitter holds the folder (this test process stands in for it): a second one is refused.
    const lock = JSON.stringify({ pid: process.pid, host: hostname(), command: 'attnlab sweep' });
    writeFileSync(at('locked', '.attnlab.lock'), lock);
    expectUsageError(cli(['sweep', 'resume', 'locked']), `in use by another attnlab run (pid ${process.pid}`);
    expectUsageError(cli(['sweep', smoke, '--out', 'locked']), 'in use by another attnlab run');
    rmSync(at('locked', '.attnlab.lock'));
    // A point that another live process is running (its lock in the point folder) is not run here:
    // it fails naming the holder, and runs once that process has gone.
    const id = rows[4]!.id;
    rmSync(at('locked', 'points', id, 'results.json'));
    writeFileSync(at('locked', 'points', id, '.attnlab.lock'), lock);
    const busy = cli(['sweep', 'resume', 'locked', '-q']);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain(`failed: ${join('locked', 'points', id)} is in use by another attnlab run`);
    expect(indexOf('locked').points.find((p) => p.id === id)!.state).toBe('failed');
    rmSync(at('locked', 'points', id, '.attnlab.lock'));
    expect(cli(['sweep', 'resume', 'locked', '-q']).code).toBe(0);
    // The same numbers (timings aside: the point resumed from its final checkpoint).
    const science = (rs: Row[]) =>
      rs.map((r) => [r.id, Object.entries(r.metrics).filter(([k]) => k !== 'duration (s)' && k !== 'steps/s')]);
    expect(science(rowsOf('locked'))).toEqual(science(rows));
    expect(existsSync(at('locked', '.attnlab.lock'))).toBe(false);
  }, 120_000);

  it('icl heads --seeds 2: the preset sweep H ∈ {1, 2, 4, 8} × 2 seeds with error bars; one seed stays one run', () => {
    const r = cli([
      'icl',
      'heads',
      ...TINY_ICL.filter((_, i, a) => a[i] !== '--eval-samples' && a[i - 1] !== '--eval-samples'),
      '--eval-samples',
      '10',
      '--seed',
      '5',
      '--seeds',
      '2',
      '--out',
      'heads-sweep',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Sweep of icl-regression: 8 of 8 points done');
    for (const h of [1, 2, 4, 8]) expect(r.stdout).toMatch(new RegExp(`heads=${h} +\\S+ ± \\S+ \\(n = 2\\)`));
    const spec = readJson(at('heads-sweep', 'spec.json')) as { axes: unknown; base: Record<string, unknown> };
    expect(spec.axes).toEqual({ heads: [1, 2, 4, 8], seed: { from: 5, to: 6, step: 1 } });
    expect(spec.base.headCounts).toBeUndefined();
    expect(readdirSync(at('heads-sweep', 'figures'))).toEqual(
      expect.arrayContaining(['error-vs-L.svg', 'final-training-loss-vs-heads.svg']),
    );
    // The error bar is the standard error over the two seeds: |x₁ − x₂| / 2.
    const rows = rowsOf('heads-sweep') as (Row & { values: { heads: number } })[];
    const two = rows.filter((x) => x.values.heads === 4).map((x) => x.metrics['final training loss']!);
    const agg = readJson(at('heads-sweep', 'aggregate.json')) as {
      groups: { values: { heads: number }; metrics: Record<string, { mean: number; se: number }> }[];
    };
    const g4 = agg.groups.find((g) => g.values.heads === 4)!.metrics['final training loss']!;
    expect(g4.se).toBeCloseTo(Math.abs(two[0]! - two[1]!) / 2, 12);
    expectUsageError(cli(['icl', 'heads', '--workers', '2']), '--workers needs --seeds N with N ≥ 2');
  }, 120_000);
  it("pool threads on backend 'auto' find Dawn's Vulkan driver as the main thread does: no driver warnings, the backend doctor picks", () => {
    const env = { VK_ICD_FILENAMES: '' };
    const spec = { ...SWEEP_24, backend: 'auto', base: { ...SWEEP_24.base, steps: 40 }, axes: { heads: [1, 2] } };
    writeFileSync(at('auto2.json'), JSON.stringify(spec, null, 2));
    const r = cli(['sweep', 'auto2.json', '--out', 'auto2', '--workers', '2'], env);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/XDG_RUNTIME_DIR|Vulkan|BackendType/);
    const doctor = cli(['doctor', '--json'], env);
    const chosen = (JSON.parse(doctor.stdout) as { chosen: string }).chosen;
    const rows = rowsOf('auto2');
    expect(rows).toHaveLength(2);
    for (const row of rows)
      expect(readJson(at('auto2', 'points', row.id, 'config.json'))).toMatchObject({
        provenance: { backendUsed: chosen },
      });
  }, 120_000);
  it('24 points on the local pool (killed with SIGKILL and started again) and on Redis with three workers (one SIGKILLed, one SIGTERMed mid-point, the submitter killed and restarted): every point once, the same numbers', async () => {
    writeFileSync(at('sweep24.json'), JSON.stringify(SWEEP_24, null, 2));
    // Local pool, SIGKILL once a few points are done and one has a checkpoint but no result.
    const local = startCli(['sweep', 'sweep24.json', '--out', 'local', '--workers', '2']);
    const victim = await until(
      'local: 3 points done and one mid-point',
      () => {
        const ix = indexOf('local');
        if (ix.points.filter((x) => x.state === 'done').length < 3) return false;
        return ix.points.find((x) => x.state === 'running' && ckpt('local', x.id) && !finished('local', x.id))?.id;
      },
      local,
    );
    local.child.kill('SIGKILL');
    await local.exited;
    const wasMid = !finished('local', victim);
    const again = cli(['sweep', 'sweep24.json', '--out', 'local', '--workers', '2']);
    expect(again.code).toBe(0);
    const localRows = rowsOf('local');
    expect(localRows).toHaveLength(24);
    expect(new Set(localRows.map((r) => r.id)).size).toBe(24);
    expect(indexOf('local').points.every((x) => x.state === 'done')).toBe(true);
    if (wasMid) expect(localRows.find((r) => r.id === victim)!.resumedFrom).toBeGreaterThanOrEqual(100);

    // Redis on a free port, three workers with a short lock so a dead worker's point is taken back quickly.
    const port = await new Promise<number>((res) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => res(p));
      });
    });
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    let redisOut = '';
    redis.stdout!.on('data', (d: Buffer) => (redisOut += d.toString()));
    await until('redis ready', () => /Ready to accept connections/.test(redisOut));
    const url = `redis://127.0.0.1:${port}`;
    const workerArgs = [
      'worker',
      '--queue',
      url,
      '--concurrency',
      '1',
      '--lock-duration',
      '4000',
      '--stalled-interval',
      '1000',
    ];
    const a = startCli(workerArgs);
    const b = startCli(workerArgs);
    const c = startCli(workerArgs);
    for (const w of [a, b, c]) await until('worker ready', () => /ready on redis:/.test(w.out), w);
    let submitter = startCli(['sweep', 'sweep24.json', '--out', 'redis', '--queue', url]);

    const killedA = await until('worker A mid-point', () => midPoint(a, 'redis', new Set()), a);
    a.child.kill('SIGKILL');
    await a.exited;
    const aWasMid = !finished('redis', killedA);

    await until('submitter: 2 points collected', () => /\[2\/24\]/.test(submitter.err), submitter);
    submitter.child.kill('SIGKILL');
    await submitter.exited;
    submitter = startCli(['sweep', 'resume', 'redis']);

    const stoppedB = await until('worker B mid-point', () => midPoint(b, 'redis', new Set([killedA])), b);
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    expect(b.err).toMatch(/SIGTERM: checkpointing the running points/);
    const bWasMid = !finished('redis', stoppedB);

    expect(await submitter.exited).toBe(0);
    expect(submitter.out).toContain('Sweep of icl-regression: 24 of 24 points done');
    c.child.kill('SIGTERM');
    expect(await c.exited).toBe(0);

    const redisRows = rowsOf('redis');
    expect(redisRows).toHaveLength(24);
    expect(new Set(redisRows.map((r) => r.id))).toEqual(new Set(localRows.map((r) => r.id)));
    expect(indexOf('redis').points.every((x) => x.state === 'done')).toBe(true);
    expect(indexOf('redis').queue).toBe(url);
    // The same numbers, bit for bit, however each point was interrupted and resumed.
    for (const r of localRows) {
      const q = redisRows.find((x) => x.id === r.id)!;
      expect(q.metrics['final training loss']).toBe(r.metrics['final training loss']);
      expect(q.metrics['final validation MSE']).toBe(r.metrics['final validation MSE']);
      expect(losses('redis', r.id)).toEqual(losses('local', r.id));
    }
    // The killed and the stopped workers' points were finished by another worker, from their checkpoints.
    if (aWasMid) expect(c.err).toContain(`(${killedA}) done`);
    if (bWasMid) {
      expect(c.err).toContain(`(${stoppedB}) done`);
      expect(redisRows.find((r) => r.id === stoppedB)!.resumedFrom).toBeGreaterThanOrEqual(100);
    }
    const st = cli(['sweep', 'status', 'redis']);
    expect(st.stdout).toContain('redis: 24 of 24 done');
    expect(st.stdout).toMatch(/queue redis:\/\/127\.0\.0\.1:\d+: 0 wait, 0 active, 0 delayed, 24 completed, 0 failed/);
  }, 240_000);

  it('a worker without the sweep folder (--scratch): the submitter writes each point folder from the job result', async () => {
    expect(redis).toBeDefined();
    const url = indexOf('redis').queue!;
    const w = startCli(['worker', '--queue', url, '--concurrency', '2', '--scratch']);
    await until('worker ready', () => /ready on redis:/.test(w.out), w);
    const smoke = join(root, '..', '..', 'examples', 'sweeps', 'smoke.json');
    const r = cli(['sweep', smoke, '--out', 'smoke-queue', '--queue', url]);
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    expect(r.code).toBe(0);
    expect(w.err).toMatch(/attempt 1 in .*attnlab-worker/);
    const here = rowsOf('smoke-queue');
    const there = rowsOf('smoke');
    expect(here.map((x) => x.id)).toEqual(there.map((x) => x.id));
    for (const x of there) {
      expect(losses('smoke-queue', x.id)).toEqual(losses('smoke', x.id));
      expect(readdirSync(at('smoke-queue', 'points', x.id)).sort()).toEqual([
        'config.json',
        'figures',
        'metrics.csv',
        'report.html',
        'results.json',
      ]);
    }
  }, 120_000);
});
