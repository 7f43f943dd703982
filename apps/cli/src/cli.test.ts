// The CLI as a process: build dist/attnlab.js once, spawn it on the cpu backend with tiny configs,
// and check what a user sees: exit codes, stdout/stderr separation, --json validated against the
// experiment's result schema, the run folder, Ctrl-C → resume, one-line errors, report.html in
// headless Chromium.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EXPERIMENT_IDS, getExperiment, validateResult, type ExperimentResult } from '@attnlab/experiments';
import { buildCli, interruptedCli, runCli, type Result } from './test-utils/process.js';

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
      'icl eval',
      'kv-cache',
      'run',
      'resume',
      'report',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`\\n {2}${c} +\\S`));
    }
    expect(r.ms).toBeLessThan(1500); // startup to first output (issue 5)
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
      "bench: --seeds takes cv-one, cv-preset, value-matrix (comma list) or all; got 'cv-two'",
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
