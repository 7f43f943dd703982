import {
  cvSweepConfigSchema,
  iclConfigSchema,
  iclLength,
  iclLengthConfigSchema,
  iclMultitask,
  iclMultitaskConfigSchema,
  iclRegression,
  schemaAt,
  valueMatrixConfigSchema,
  walkthroughConfigSchema,
  type Schema,
} from '@attnlab/experiments';
import type { CommandSpec, FlagSpec } from './args.js';

/** Backends a user can force from the command line (Node). */
export const CLI_BACKENDS = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type CliBackend = (typeof CLI_BACKENDS)[number];

const backend: FlagSpec = {
  name: 'backend',
  type: 'enum',
  values: CLI_BACKENDS,
  valueName: '<name>',
  description: 'TensorFlow.js backend: auto picks the best available (see attnlab doctor)',
};
const seed: FlagSpec = {
  name: 'seed',
  type: 'int',
  min: 0,
  max: 4294967295,
  valueName: '<n>',
  description: 'random seed; the same seed on the same backend gives the same numbers',
};
const preset: FlagSpec = {
  name: 'preset',
  type: 'enum',
  values: ['quick', 'seed'],
  valueName: '<name>',
  description: "quick: under a minute on a laptop CPU; seed: the seed notebook's own settings",
};
const out: FlagSpec = {
  name: 'out',
  type: 'string',
  valueName: '<dir>',
  description: 'run folder to write (default: runs/<experiment>-<time>)',
};
const maxMemory: FlagSpec = {
  name: 'max-memory',
  type: 'string',
  valueName: '<size>',
  description: 'refuse a run estimated to need more memory than this (default 4GiB; e.g. 16GB, 512MiB)',
};
const run = [backend, seed, preset, out, maxMemory];
const queueFlag: FlagSpec = {
  name: 'queue',
  type: 'string',
  valueName: '<redis://host:port>',
  description: 'run the points through BullMQ on this Redis server (for attnlab worker)',
};

const int = (name: string, min: number, max: number, description: string): FlagSpec => ({
  name,
  type: 'int',
  min,
  max,
  valueName: '<n>',
  description,
});

const at = (f: FlagSpec, config: string, short?: string): FlagSpec => ({ ...f, config, ...(short ? { short } : {}) });

const seedAt = (path: string): FlagSpec => at(seed, path);

/**
 * A flag that sets the config field at `path`, its type, bounds, allowed values and description
 * read from the experiment's one config schema (so the command line cannot drift from it).
 */
function schemaFlag(schema: Schema, path: string, name: string, short?: string): FlagSpec {
  const node = schemaAt(schema, path);
  const description = node.description ?? path;
  const base = { name, description, config: path, ...(short ? { short } : {}) };
  switch (node.kind) {
    case 'number':
      return {
        ...base,
        type: node.integer ? 'int' : 'number',
        valueName: node.integer ? '<n>' : '<x>',
        ...(node.min !== undefined ? (node.exclusiveMin ? { gt: node.min } : { min: node.min }) : {}),
        ...(node.max !== undefined ? { max: node.max } : {}),
      };
    case 'enum':
      return { ...base, type: 'enum', values: node.values.map(String), valueName: '<name>' };
    case 'boolean':
      return { ...base, type: 'boolean' };
    case 'string':
      return { ...base, type: 'string', valueName: '<text>' };
    case 'array':
      if (node.items.kind === 'enum')
        return { ...base, type: 'enum-list', values: node.items.values.map(String), valueName: '<name[,name…]>' };
      if (node.items.kind === 'number' && node.items.integer) {
        return {
          ...base,
          type: 'int-list',
          valueName: '<n[,n…]>',
          ...(node.items.min !== undefined ? { min: node.items.min } : {}),
          ...(node.items.max !== undefined ? { max: node.items.max } : {}),
        };
      }
      break;
    default:
      break;
  }
  throw new RangeError(`schemaFlag: ${path} (${node.kind}) has no command-line form`);
}

const icl = (path: string, name: string, short?: string): FlagSpec => schemaFlag(iclConfigSchema, path, name, short);
/** The flags of the in-context regression commands that set training fields (all but --heads). */
const iclModelFlags: FlagSpec[] = [
  icl('steps', 'steps'),
  icl('layers', 'layers'),
  icl('d', 'dim', 'd'),
  icl('L', 'context', 'L'),
  icl('batch', 'batch'),
  icl('optimizer.lr', 'lr'),
  icl('optimizer.method', 'optimizer'),
  icl('optimizer.weightDecay', 'weight-decay'),
  icl('init', 'init'),
  icl('noiseVariance', 'noise-var'),
  icl('queryNoise', 'query-noise'),
  icl('betaScale', 'beta-scale'),
  icl('covarianceRho', 'covariance-rho'),
  icl('log.loss', 'log-every'),
  icl('log.validation', 'validate-every'),
  icl('checkpointEvery', 'checkpoint-every'),
  icl('trainer', 'trainer'),
];
/** Flags of the evaluation after training (error-vs-L curves, final validation). */
const iclEvalFlags: FlagSpec[] = [
  icl('evaluation.maxL', 'max-context'),
  icl('evaluation.stepL', 'context-step'),
  icl('evaluation.samples', 'eval-samples'),
  icl('finalValidationSamples', 'final-samples'),
];
/** The run flags of a command whose config has a top-level seed, with its own `--preset` when given. */
const runFlagsWith = (own?: FlagSpec): FlagSpec[] =>
  run.map((f) => (f.name === 'seed' ? seedAt('seed') : f.name === 'preset' && own ? own : f));
/** `--preset` naming an experiment's own presets. */
const presetOf = (presets: Record<string, unknown>, description: string): FlagSpec => ({
  ...preset,
  values: Object.keys(presets),
  description,
});

/** `--preset` for icl-regression: its own presets (quick, seed, paper). */
const iclPreset = presetOf(
  iclRegression.presets,
  "quick: under a minute on a laptop CPU; seed: the seed notebook's own settings; paper: the paper authors' sampling (β ~ N(0, I/d), σ² = 0.1, noisy y_q, batch 256)",
);

const iclL = (path: string, name: string, short?: string): FlagSpec =>
  schemaFlag(iclLengthConfigSchema, path, name, short);
/** The flags of `icl length` and `icl linear-vs-softmax`: icl train's, read from icl-length's schema, and --attentions. */
const iclLengthFlags: FlagSpec[] = [
  ...runFlagsWith(
    presetOf(
      iclLength.presets,
      "quick: 3,000 steps in the paper's sampling; seed: the seed notebook's settings; paper: the paper authors' sampling, 20,000 steps",
    ),
  ),
  iclL('heads', 'heads'),
  iclL('attentions', 'attentions'),
  ...[...iclModelFlags, ...iclEvalFlags].map((f) => iclL(f.config!, f.name, f.short)),
];

const iclM = (path: string, name: string, short?: string): FlagSpec =>
  schemaFlag(iclMultitaskConfigSchema, path, name, short);
/** The flags of `icl multitask`, read from icl-multitask's schema. */
const iclMultitaskFlags: FlagSpec[] = [
  ...runFlagsWith(
    presetOf(
      iclMultitask.presets,
      "quick: d = 2, L = 10, 3,000 steps in the paper's sampling; seed: the seed notebook's settings; paper: the paper authors' sampling (d = 5, L = 40, batch 256)",
    ),
  ),
  iclM('tasks', 'tasks', 'k'),
  iclM('heads', 'heads'),
  iclM('steps', 'steps'),
  iclM('d', 'dim', 'd'),
  iclM('L', 'context', 'L'),
  iclM('batch', 'batch'),
  iclM('optimizer.lr', 'lr'),
  iclM('optimizer.method', 'optimizer'),
  iclM('noiseVariance', 'noise-var'),
  iclM('queryNoise', 'query-noise'),
  iclM('betaScale', 'beta-scale'),
  iclM('log.loss', 'log-every'),
  iclM('log.validation', 'validate-every'),
  iclM('finalValidationSamples', 'final-samples'),
];

/** Commands that run an experiment and write a run folder, with the experiment id each drives. */
export const EXPERIMENT_COMMANDS: Readonly<Record<string, { experiment: string; folder: string }>> = {
  walkthrough: { experiment: 'attention-walkthrough', folder: 'walkthrough' },
  'value-matrix': { experiment: 'value-matrix', folder: 'value-matrix' },
  'cv-sweep': { experiment: 'cv-sweep', folder: 'cv-sweep' },
  'icl train': { experiment: 'icl-regression', folder: 'icl-train' },
  'icl heads': { experiment: 'icl-regression', folder: 'icl-heads' },
  'icl length': { experiment: 'icl-length', folder: 'icl-length' },
  'icl linear-vs-softmax': { experiment: 'icl-length', folder: 'icl-linear-vs-softmax' },
  'icl multitask': { experiment: 'icl-multitask', folder: 'icl-multitask' },
  'kv-cache': { experiment: 'kv-cache', folder: 'kv-cache' },
};

/** The head counts `icl heads` compares (seed 004). */
export const ICL_HEAD_COUNTS = [1, 2, 4, 8] as const;

/** Element types of `kv-cache --dtype` and their bytes per number. */
export const KV_DTYPES: Readonly<Record<string, number>> = { fp32: 4, fp16: 2, bf16: 2, fp8: 1, int8: 1 };

/**
 * The whole command set (issue 5). Commands without a handler in `run.ts` are parsed (so their
 * flags are designed and tested) but are neither listed in help nor runnable yet.
 */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'doctor',
    summary: 'show every backend on this machine, the one auto picks and why the others are skipped',
    details:
      'Checks tensorflow (tfjs-node-gpu / tfjs-node), webgpu (Dawn), wasm and cpu, then initialises the one\n--backend asks for (default auto) and reports versions. With --json the report goes to stdout as JSON.',
    positionals: [],
    flags: [backend],
    examples: ['attnlab doctor', 'attnlab doctor --json', 'attnlab doctor --backend webgpu'],
  },
  {
    name: 'start',
    summary: 'first run: a quick in-context regression training (H = 2) with its report',
    details:
      'Runs `attnlab icl train --preset quick --heads 2` on the best backend and prints the run folder\nand the path of its report.html.',
    positionals: [],
    flags: [backend, out],
    examples: ['attnlab start', 'attnlab start --backend cpu'],
  },
  {
    name: 'walkthrough',
    summary: "scores → ÷√d → mask → softmax → ·V on the seeds' examples, every intermediate printed",
    details:
      "qkv mode (default) attends with seed 002's Q, K, V for 'Me against the'; embeddings mode projects\nseed 001's toy embeddings with seeded random W_Q, W_K, W_V per head, concatenates and applies W_O.",
    positionals: [],
    flags: [
      ...runFlagsWith(),
      schemaFlag(walkthroughConfigSchema, 'causal', 'causal'),
      schemaFlag(walkthroughConfigSchema, 'mode', 'mode'),
      schemaFlag(walkthroughConfigSchema, 'heads', 'heads'),
      schemaFlag(walkthroughConfigSchema, 'headDim', 'head-dim'),
    ],
    examples: [
      'attnlab walkthrough',
      'attnlab walkthrough --causal --json',
      'attnlab walkthrough --mode embeddings --heads 2 --causal',
    ],
  },
  {
    name: 'value-matrix',
    summary: 'seed 000: value-matrix compression, head storage, retrieval, KV cache, learned compression',
    positionals: [],
    flags: [
      ...runFlagsWith(),
      schemaFlag(valueMatrixConfigSchema, 'learning.epochs', 'epochs'),
      schemaFlag(valueMatrixConfigSchema, 'learning.lr', 'lr'),
    ],
    examples: ['attnlab value-matrix --preset quick', 'attnlab value-matrix --epochs 200 --json'],
  },
  {
    name: 'cv-sweep',
    summary: 'seed 003: simplex-volume CV of embeddings and weights over widths and head counts',
    positionals: [],
    flags: [
      ...runFlagsWith(),
      schemaFlag(cvSweepConfigSchema, 'epochs', 'epochs'),
      schemaFlag(cvSweepConfigSchema, 'widths', 'widths'),
      schemaFlag(cvSweepConfigSchema, 'heads', 'heads'),
      schemaFlag(cvSweepConfigSchema, 'lr', 'lr'),
      schemaFlag(cvSweepConfigSchema, 'trainer', 'trainer'),
    ],
    examples: ['attnlab cv-sweep --preset quick', 'attnlab cv-sweep --widths 32,64 --heads 1,4 --epochs 20 --json'],
  },
  {
    name: 'icl train',
    summary: 'seed 004: train attention on in-context linear regression, with circuit dynamics',
    details:
      'Trains one model (H heads), then evaluates it: final validation MSE and the error against context\nlength beside its kernel estimator, one-step GD, optimal one-step GD and ridge. Ctrl-C saves a\ncheckpoint; `attnlab resume <run>` continues it to the same result.',
    positionals: [],
    flags: [
      ...runFlagsWith(iclPreset),
      icl('heads', 'heads'),
      icl('attention', 'attention'),
      ...iclModelFlags,
      ...iclEvalFlags,
    ],
    examples: [
      'attnlab icl train --preset quick --heads 2',
      'attnlab icl train --preset paper --heads 2 --steps 20000',
      'attnlab icl train --steps 20000 --lr 1e-3 --out runs/h2',
      'attnlab icl train -d 5 -L 40 --heads 4 --json',
    ],
  },
  {
    name: 'icl heads',
    summary: 'seed 004: compare H ∈ {1, 2, 4, 8} heads and name the dummy heads',
    details:
      'One seed: one run folder with the four models and their comparison. --seeds N (N ≥ 2): the preset\nsweep H ∈ {1, 2, 4, 8} × seeds seed … seed + N − 1 on the local pool (see attnlab sweep): a sweep\nfolder with every point a run folder, mean ± standard error over the seeds and figures with\nerror bars. Started again with the same flags and --out, it continues.',
    positionals: [],
    flags: [
      ...runFlagsWith(iclPreset),
      ...iclModelFlags,
      ...iclEvalFlags,
      int('seeds', 1, 10_000, 'seeds per head count (≥ 2: a sweep with error bars over seeds; default 1)'),
      int('workers', 1, 1024, 'with --seeds: threads of the local pool (default: one per core)'),
    ],
    examples: [
      'attnlab icl heads --preset quick',
      'attnlab icl heads --steps 3000 --out runs/heads',
      'attnlab icl heads --seeds 10 --steps 3000 --out sweeps/heads',
    ],
  },
  {
    name: 'icl length',
    summary: 'the paper: train at one prompt length L, evaluate at L = 1 … 241 (length generalisation)',
    details:
      'Trains the one-layer model at --context L (default 40) and draws its error against the prompt length up\nto --max-context beside debiased GD, one-step GD and ridge, and its ratio to ridge. Softmax attention by\ndefault; --attentions softmax,linear,linear-unnormalised adds linear attention (see icl linear-vs-softmax).\nResumable (attnlab resume <dir>): each attention checkpoints its training, a finished one is kept.',
    positionals: [],
    flags: iclLengthFlags,
    examples: [
      'attnlab icl length --preset quick',
      'attnlab icl length --preset paper --heads 2 --max-context 401 --context-step 20',
    ],
  },
  {
    name: 'icl linear-vs-softmax',
    summary: 'the paper: softmax against linear attention on the error-vs-L curves, trained at one L',
    details:
      "icl length with --attentions softmax,linear,linear-unnormalised (the default here): the same model and\ntasks with the softmax, with linear attention normalised by the prompt length (scores/L) and with von\nOswald et al.'s unnormalised linear attention. The linear ones train on the tfjs reference (the fast\nengines run softmax only).",
    positionals: [],
    flags: iclLengthFlags,
    examples: [
      'attnlab icl linear-vs-softmax --preset quick',
      'attnlab icl linear-vs-softmax --preset paper --attentions softmax,linear',
    ],
  },
  {
    name: 'icl multitask',
    summary: 'the paper: k outputs from k independent β, one model; which heads serve which task (superposition)',
    details:
      "Every token carries k outputs y_i ∈ R^k (one regression per output, β_1 … β_k independent) and the model\npredicts all k. Prints each task's risk and Σ w^h μ^h_j beside one task's debiased GD, and which heads\nserve which task. Trains on the tfjs reference (the fast engines fit one output). Resumable (attnlab resume <dir>).",
    positionals: [],
    flags: iclMultitaskFlags,
    examples: ['attnlab icl multitask --preset quick', 'attnlab icl multitask --preset paper --tasks 2 --heads 8'],
  },
  {
    name: 'icl eval',
    summary: 'error vs context length of a saved run against kernel, one-step GD and ridge',
    details:
      "Loads the run's config.json and final checkpoint (no training) and evaluates the trained model again,\nwith the evaluation settings from the flags; writes a new run folder.",
    positionals: [{ name: 'run', required: true, description: 'a run folder written by icl train' }],
    flags: [backend, out, maxMemory, ...iclEvalFlags],
    examples: [
      'attnlab icl eval runs/h2',
      'attnlab icl eval runs/h2 --max-context 500 --context-step 5 --eval-samples 100',
    ],
  },
  {
    name: 'kv-cache',
    summary: 'KV-cache bytes for MHA, MQA, GQA and MLA side by side, for presets or custom shapes',
    details:
      'Presets: gpt2-small, gpt2-large, llama-7b, llama-13b, llama-2-70b, mistral-7b, deepseek-v2.\nA custom shape (--layers, --heads, --head-dim; --kv-heads adds GQA, --latent-dim/--rope-dim add MLA)\nis shown as MHA, GQA, MQA and MLA side by side. MB = 1024² bytes.',
    positionals: [],
    flags: [
      preset,
      out,
      {
        name: 'model',
        type: 'string',
        valueName: '<preset[,preset…]>',
        description: 'model presets for the table; the first MHA/GQA one is also compared as MHA/GQA/MQA/MLA',
      },
      {
        name: 'seq',
        type: 'int-list',
        min: 1,
        max: 100_000_000,
        valueName: '<n[,n…]>',
        description: 'sequence lengths in tokens (the largest is the one compared)',
      },
      int('layers', 1, 1000, 'custom shape: transformer layers'),
      int('heads', 1, 4096, 'custom shape: query heads'),
      int('kv-heads', 1, 4096, 'custom shape: key/value heads (GQA; 1 = MQA)'),
      int('head-dim', 1, 65536, 'custom shape: dimension per head'),
      int('latent-dim', 1, 65536, 'custom shape: MLA latent dimension'),
      int('rope-dim', 0, 65536, 'custom shape: MLA decoupled RoPE key dimension (default 64)'),
      {
        name: 'label',
        type: 'string',
        valueName: '<name>',
        description: 'custom shape: its name in the table (default "custom")',
      },
      int('batch', 1, 1_000_000, 'sequences'),
      {
        name: 'dtype',
        type: 'enum',
        values: Object.keys(KV_DTYPES),
        valueName: '<type>',
        description: 'cache element type (default fp16)',
      },
    ],
    examples: [
      'attnlab kv-cache',
      'attnlab kv-cache --model llama-7b --seq 4096',
      'attnlab kv-cache --layers 32 --heads 32 --kv-heads 8 --head-dim 128 --latent-dim 512 --seq 8192 --dtype bf16',
    ],
  },
  {
    name: 'run',
    summary: 'run any experiment from a config file',
    details:
      'The file is JSON: { "experiment": "<id>", "preset": "quick"|"seed", "seed": <n>, "backend": "<name>",\n"config": { …fields to override… } }; only "experiment" is required. A run folder\'s config.json is\nsuch a file. Flags override the file.',
    positionals: [{ name: 'config', required: true, description: 'an experiment config .json file' }],
    flags: [backend, seedAt('?seed'), preset, out, maxMemory],
    examples: ['attnlab run my-config.json --out runs/mine', 'attnlab run runs/h2/config.json --seed 1'],
  },
  {
    name: 'resume',
    summary: 'continue an interrupted run from its last checkpoint',
    positionals: [{ name: 'run', required: true, description: 'a run folder with a checkpoint' }],
    flags: [backend, maxMemory],
    examples: ['attnlab resume runs/h2'],
  },
  {
    name: 'report',
    summary: "re-render a run's report.html, figures and metrics.csv from its results.json",
    positionals: [{ name: 'run', required: true, description: 'a run folder' }],
    flags: [{ ...out, description: 'write the report into this folder instead of the run folder' }],
    examples: ['attnlab report runs/h2'],
  },
  {
    name: 'sweep',
    summary: 'run a grid of any experiment (axes, seeds, zip) on every core, or on a Redis queue',
    details:
      'The spec (JSON or YAML) names an experiment, a preset, base overrides and axes over config fields:\n{ "experiment": "icl-regression", "base": { "steps": 200 }, "axes": { "heads": [1, 2, 4], "seed": { "from": 0, "to": 7, "step": 1 } } }\n(lists, { values }, { from, to, step }; "zip": [["a", "b"]] pairs axes). Each point is a run folder under\n<out>/points/<id>/; the sweep folder holds index.json, results.jsonl/.csv, aggregate.json/.csv (mean ±\nstandard error over seeds), figures/ and report.html. Started again with the same spec and folder\n(or `attnlab sweep resume`), it continues: finished points are kept, interrupted ones resume from\ntheir checkpoint. --queue enqueues the points on BullMQ/Redis for `attnlab worker`s instead.',
    positionals: [{ name: 'spec', required: true, description: 'a sweep spec .json or .yaml file' }],
    flags: [
      backend,
      { ...out, description: 'sweep folder to write or continue (default: sweeps/<spec name>)' },
      int('workers', 1, 1024, 'threads of the local pool (default: one per core)'),
      queueFlag,
    ],
    examples: [
      'attnlab sweep examples/sweeps/smoke.json',
      'attnlab sweep examples/sweeps/smoke.json --workers 1 --out sweeps/one-thread',
      'attnlab sweep examples/sweeps/smoke.json --queue redis://127.0.0.1:6379',
    ],
  },
  {
    name: 'sweep resume',
    summary: 'continue a sweep: finished points kept, interrupted ones resumed from their checkpoint',
    positionals: [{ name: 'folder', required: true, description: 'a sweep folder' }],
    flags: [backend, int('workers', 1, 1024, 'threads of the local pool (default: one per core)'), queueFlag],
    examples: ['attnlab sweep resume sweeps/smoke'],
  },
  {
    name: 'sweep status',
    summary: "a sweep's point states (and its queue's job counts)",
    positionals: [{ name: 'folder', required: true, description: 'a sweep folder' }],
    flags: [],
    examples: ['attnlab sweep status sweeps/smoke'],
  },
  {
    name: 'sweep collect',
    summary: "reconnect to a queue sweep and collect its points; or rewrite a sweep's results and report",
    positionals: [{ name: 'folder', required: true, description: 'a sweep folder' }],
    flags: [],
    examples: ['attnlab sweep collect sweeps/smoke'],
  },
  {
    name: 'worker',
    summary: 'run queued sweep points (BullMQ on Redis) on this machine until SIGTERM',
    details:
      'Takes points from the queue and runs each on a thread. A point whose sweep folder this machine\nsees (shared storage) runs there and resumes from its checkpoint; otherwise it runs from the start\nin a scratch folder and its result returns to the submitter. SIGTERM: the running points save a\ncheckpoint and go back to the queue for another worker. A worker killed outright is noticed by\nthe others (BullMQ stalled-job check) and its point runs again (resumed where storage is shared).',
    positionals: [],
    flags: [
      { ...queueFlag, description: 'the Redis server of the queue, redis://host:port (required)' },
      int('concurrency', 1, 1024, 'points at a time, one thread each (default: one per core)'),
      int('lock-duration', 1000, 3_600_000, "ms a point's job lock lasts without renewal (default 30000)"),
      int('stalled-interval', 500, 3_600_000, 'ms between checks for jobs of dead workers (default 30000)'),
      {
        name: 'scratch',
        type: 'boolean',
        description:
          'run points in a scratch folder, not in the sweep folder even where it is visible (storage not shared); results return to the submitter',
      },
    ],
    examples: [
      'attnlab worker --queue redis://127.0.0.1:6379',
      'attnlab worker --queue redis://10.0.0.5:6379 --concurrency 8',
    ],
  },
  {
    name: 'bench',
    summary: "steps/s of seed 004's training: reference (tfjs autodiff) vs fused paths, H ∈ {1,2,4,8}, every backend",
    details:
      'Times whole training steps (d = 5, L = 40, batch 128, Adam) after a warm-up: the naive tfjs path and\nthe fused paths (the WebAssembly SIMD engine on one and on two threads, plain TypeScript,\nfused tfjs kernels, the WGSL many-models trainer) on each\nbackend that initialises (or only --backend). --torch also runs the same configuration in\nPyTorch (python3 with torch; Debian: apt-get install python3-torch) and prints the ratio.\n--seeds times cv-sweep (seed 003) and value-matrix (seed 000) as the experiments run them (on\n--backend, default wasm); with --torch, beside the seeds’ own code in PyTorch.\nMethod and figures: BENCHMARKS.md.',
    positionals: [],
    flags: [
      backend,
      {
        name: 'heads',
        type: 'int-list',
        min: 1,
        max: 64,
        valueName: '<H[,H…]>',
        description: 'head counts (default 1,2,4,8)',
      },
      {
        name: 'models',
        type: 'int-list',
        min: 1,
        max: 65536,
        valueName: '<M[,M…]>',
        description: 'models in flight for the many-models rows (default 1,128)',
      },
      {
        name: 'seconds',
        type: 'number',
        gt: 0,
        max: 600,
        valueName: '<s>',
        description: 'seconds per measurement (default 2)',
      },
      { name: 'no-reference', type: 'boolean', description: 'skip the naive tfjs path (slow on webgpu)' },
      { name: 'torch', type: 'boolean', description: 'also run PyTorch (python3 + torch) and print the ratio' },
      {
        name: 'seeds',
        type: 'string',
        valueName: '<rows>',
        description:
          'also time seeds 003/000 as the experiments run them: cv-one, cv-preset, value-matrix, cv-step (the fused step’s parts) (comma list) or all',
      },
      {
        name: 'cv-config',
        type: 'int-list',
        min: 1,
        max: 4096,
        valueName: '<D,H>',
        description: 'width and heads of the cv-one row (default 64,4)',
      },
      { name: 'no-icl', type: 'boolean', description: "skip seed 004's rows (with --seeds)" },
      { name: 'out', type: 'string', valueName: '<file>', description: 'also write the JSON result to this file' },
    ],
    examples: [
      'attnlab bench',
      'attnlab bench --backend wasm --heads 2 --seconds 3 --torch',
      'attnlab bench --seeds all --no-icl --torch',
      'attnlab bench --json --out bench.json',
    ],
  },
];
