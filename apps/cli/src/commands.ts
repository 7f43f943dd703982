import type { CommandSpec, FlagSpec } from './args.js';

/** Backends a user can force from the command line (Node). */
export const CLI_BACKENDS = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type CliBackend = (typeof CLI_BACKENDS)[number];

const backend: FlagSpec = {
  name: 'backend', type: 'enum', values: CLI_BACKENDS, valueName: '<name>',
  description: 'TensorFlow.js backend: auto picks the best available (see attnlab doctor)',
};
const seed: FlagSpec = { name: 'seed', type: 'int', min: 0, max: 4294967295, valueName: '<n>', description: 'random seed; the same seed on the same backend gives the same numbers' };
const preset: FlagSpec = { name: 'preset', type: 'enum', values: ['quick', 'seed'], valueName: '<name>', description: "quick: under a minute on a laptop CPU; seed: the seed notebook's own settings" };
const out: FlagSpec = { name: 'out', type: 'string', valueName: '<dir>', description: 'run folder to write (default: runs/<experiment>-<time>)' };
const run = [backend, seed, preset, out];

const int = (name: string, min: number, max: number, description: string): FlagSpec => ({ name, type: 'int', min, max, valueName: '<n>', description });

/**
 * The whole command set (issue 5). Commands without a handler in `main.ts` are parsed (so their
 * flags are designed and tested) but are neither listed in help nor runnable yet.
 */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'doctor',
    summary: 'show every backend on this machine, the one auto picks and why the others are skipped',
    details: 'Checks tensorflow (tfjs-node-gpu / tfjs-node), webgpu (Dawn), wasm and cpu, then initialises the one\n--backend asks for (default auto) and reports versions. With --json the report goes to stdout as JSON.',
    positionals: [],
    flags: [backend],
    examples: ['attnlab doctor', 'attnlab doctor --json', 'attnlab doctor --backend webgpu'],
  },
  {
    name: 'start',
    summary: 'first run: check the backends and run the quick in-context regression experiment',
    positionals: [],
    flags: [backend],
    examples: ['attnlab start', 'attnlab start --backend cpu'],
  },
  {
    name: 'walkthrough',
    summary: 'scores → ÷√d → mask → softmax → ·V on the seeds\' examples, every intermediate printed',
    positionals: [],
    flags: [...run, { name: 'causal', type: 'boolean', description: 'apply a causal mask (token i sees j ≤ i)' }],
    examples: ['attnlab walkthrough', 'attnlab walkthrough --causal --json'],
  },
  {
    name: 'value-matrix',
    summary: 'seed 000: value-matrix compression, head storage, retrieval, KV cache, learned compression',
    positionals: [],
    flags: [...run, { name: 'part', type: 'enum', values: ['all', 'compression', 'heads', 'retrieval', 'kv-cache', 'learned'], valueName: '<name>', description: 'run one of the five experiments (default all)' }],
    examples: ['attnlab value-matrix --preset quick', 'attnlab value-matrix --part compression --json'],
  },
  {
    name: 'cv-sweep',
    summary: 'seed 003: simplex-volume CV of embeddings and weights over widths and head counts',
    positionals: [],
    flags: [...run, int('epochs', 1, 100000, 'training epochs per configuration')],
    examples: ['attnlab cv-sweep --preset quick'],
  },
  {
    name: 'icl train',
    summary: 'seed 004: train attention on in-context linear regression, with circuit dynamics',
    positionals: [],
    flags: [
      ...run,
      int('steps', 1, 100_000_000, 'training steps'),
      int('heads', 1, 64, 'attention heads per layer (H)'),
      int('layers', 1, 32, 'attention layers'),
      int('dim', 1, 1024, 'input dimension d'),
      int('context', 1, 100000, 'examples per prompt L'),
      int('batch', 1, 1_000_000, 'prompts per step'),
      { name: 'lr', type: 'number', gt: 0, max: 10, valueName: '<x>', description: 'learning rate' },
      { name: 'optimizer', type: 'enum', values: ['adam', 'adamw', 'sgd'], valueName: '<name>', description: 'optimizer (PyTorch update rules)' },
    ],
    examples: ['attnlab icl train --preset quick --heads 2', 'attnlab icl train --steps 20000 --lr 1e-3 --out runs/h2'],
  },
  {
    name: 'icl heads',
    summary: 'seed 004: compare H ∈ {1, 2, 4, 8} heads and name the dummy heads',
    positionals: [],
    flags: [...run, int('steps', 1, 100_000_000, 'training steps per head count')],
    examples: ['attnlab icl heads --preset quick'],
  },
  {
    name: 'icl eval',
    summary: 'error vs context length of a saved run against kernel, one-step GD and ridge',
    positionals: [{ name: 'run', required: true, description: 'a run folder written by icl train' }],
    flags: [backend, seed, out, int('max-context', 1, 100000, 'longest context length L to evaluate')],
    examples: ['attnlab icl eval runs/h2'],
  },
  {
    name: 'kv-cache',
    summary: 'KV-cache bytes for MHA, MQA, GQA and MLA side by side, for presets or custom shapes',
    positionals: [],
    flags: [
      out,
      { name: 'model', type: 'string', valueName: '<preset>', description: 'a model preset' },
      int('layers', 1, 1000, 'transformer layers'),
      int('heads', 1, 4096, 'query heads'),
      int('kv-heads', 1, 4096, 'key/value heads (GQA; 1 = MQA)'),
      int('head-dim', 1, 65536, 'dimension per head'),
      int('latent-dim', 1, 65536, 'MLA latent dimension'),
      int('rope-dim', 0, 65536, 'MLA decoupled RoPE key dimension'),
      int('context', 1, 100_000_000, 'context length in tokens'),
      int('batch', 1, 1_000_000, 'sequences'),
      { name: 'dtype', type: 'enum', values: ['fp32', 'fp16', 'bf16', 'fp8', 'int8'], valueName: '<type>', description: 'cache element type' },
    ],
    examples: ['attnlab kv-cache --layers 32 --heads 32 --kv-heads 8 --head-dim 128 --context 8192'],
  },
  {
    name: 'run',
    summary: 'run any experiment from a config file',
    positionals: [{ name: 'config', required: true, description: 'an experiment config .json file' }],
    flags: [backend, seed, out],
    examples: ['attnlab run my-config.json --out runs/mine'],
  },
  {
    name: 'resume',
    summary: 'continue an interrupted run from its last checkpoint',
    positionals: [{ name: 'run', required: true, description: 'a run folder with a checkpoint' }],
    flags: [backend],
    examples: ['attnlab resume runs/h2'],
  },
  {
    name: 'report',
    summary: "re-render a run's report.html and figures",
    positionals: [{ name: 'run', required: true, description: 'a run folder' }],
    flags: [out],
    examples: ['attnlab report runs/h2'],
  },
  {
    name: 'bench',
    summary: 'time the kernels and a training step on each available backend',
    positionals: [],
    flags: [backend, out, int('steps', 1, 100000, 'timed repetitions')],
    examples: ['attnlab bench', 'attnlab bench --backend wasm --json'],
  },
];
