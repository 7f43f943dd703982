import { describeFlagValue, levenshtein, parseArgs, suggest, usageLine, UsageError, type CommandSpec } from './args.js';
import { COMMANDS } from './commands.js';

const parse = (...argv: string[]) => parseArgs(argv, COMMANDS);
const fails = (argv: string[], commands: readonly CommandSpec[] = COMMANDS): UsageError => {
  try {
    parseArgs(argv, commands);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    expect((e as UsageError).exitCode).toBe(2);
    expect((e as Error).message).not.toContain('\n'); // one line
    return e as UsageError;
  }
  throw new Error(`no UsageError for ${argv.join(' ')}`);
};

describe('parseArgs: commands', () => {
  it('bare argv, --help and --version', () => {
    expect(parse()).toMatchObject({ help: false, version: false });
    expect(parse().command).toBeUndefined();
    expect(parse('--help')).toMatchObject({ help: true });
    expect(parse('-h')).toMatchObject({ help: true });
    expect(parse('--version')).toMatchObject({ version: true });
    expect(parse('-V')).toMatchObject({ version: true });
  });
  it('one- and two-word commands', () => {
    expect(parse('doctor').command!.name).toBe('doctor');
    expect(parse('icl', 'train').command!.name).toBe('icl train');
    expect(parse('icl', 'eval', 'runs/a').positionals).toEqual({ run: 'runs/a' });
    expect(parse('icl', '--help')).toMatchObject({ help: true, group: 'icl' });
  });
  it('unknown commands name themselves, suggest, and list the allowed ones', () => {
    expect(fails(['doctr']).message).toBe(
      "unknown command 'doctr' (did you mean 'doctor'?); commands: doctor, start, walkthrough, value-matrix, cv-sweep, icl, kv-cache, run, resume, report, sweep, worker, bench",
    );
    expect(fails(['frobnicate']).message).toMatch(/^unknown command 'frobnicate'; commands: doctor,/);
    expect(fails(['icl']).message).toBe(
      "'icl' needs a subcommand: train, heads, length, linear-vs-softmax, multitask, eval",
    );
    expect(fails(['icl', 'trian']).message).toBe(
      "unknown command 'icl trian' (did you mean 'icl train'?); 'icl' subcommands: train, heads, length, linear-vs-softmax, multitask, eval",
    );
    expect(fails(['--json']).message).toMatch(/^--json must come after a command; commands: doctor/);
  });
});

describe('parseArgs: flags', () => {
  it('parses every type, with --flag value and --flag=value', () => {
    const a = parse(
      'icl',
      'train',
      '--backend',
      'wasm',
      '--seed=7',
      '--preset',
      'quick',
      '--out',
      'runs/x',
      '--steps',
      '200',
      '--heads=2',
      '--lr',
      '1e-3',
      '--optimizer',
      'adamw',
      '--json',
      '-q',
    );
    expect(a.flags).toEqual({
      backend: 'wasm',
      seed: 7,
      preset: 'quick',
      out: 'runs/x',
      steps: 200,
      heads: 2,
      lr: 0.001,
      optimizer: 'adamw',
      json: true,
      quiet: true,
    });
    expect(a.help).toBe(false);
  });
  it('booleans take =true / =false; -h anywhere asks for help', () => {
    expect(parse('doctor', '--json=false').flags.json).toBe(false);
    expect(parse('doctor', '--backend', 'cpu', '-h')).toMatchObject({ help: true });
    expect(fails(['doctor', '--json=yes']).message).toBe("--json must be no value (or =true / =false); got 'yes'");
  });
  it('wrong type and out of range name the flag, the allowed values and what was given', () => {
    expect(fails(['icl', 'train', '--seed', 'abc']).message).toBe(
      "--seed must be an integer in [0, 4294967295]; got 'abc'",
    );
    expect(fails(['icl', 'train', '--seed', '1.5']).message).toBe(
      "--seed must be an integer in [0, 4294967295]; got '1.5'",
    );
    expect(fails(['icl', 'train', '--seed', '-1']).message).toBe(
      "--seed must be an integer in [0, 4294967295]; got '-1'",
    );
    expect(fails(['icl', 'train', '--steps', '0']).message).toBe(
      "--steps must be an integer in [1, 100000000]; got '0'",
    );
    expect(fails(['icl', 'train', '--heads', '65']).message).toBe("--heads must be an integer in [1, 64]; got '65'");
    expect(fails(['icl', 'train', '--lr', '0']).message).toBe("--lr must be a number > 0 and ≤ 10; got '0'");
    expect(fails(['icl', 'train', '--lr', '1e-3x']).message).toBe("--lr must be a number > 0 and ≤ 10; got '1e-3x'");
    expect(fails(['icl', 'train', '--lr', 'Infinity']).message).toMatch(/^--lr must be a number/);
    expect(fails(['doctor', '--backend', 'gpu']).message).toBe(
      "--backend must be one of auto, tensorflow, webgpu, wasm, cpu; got 'gpu' (did you mean cpu?)",
    );
    expect(fails(['icl', 'train', '--preset', 'slow']).message).toBe(
      "--preset must be one of quick, seed, paper; got 'slow'",
    );
  });
  it('a negative number is a value, not a flag; a missing value is named', () => {
    expect(fails(['icl', 'train', '--lr', '-0.5']).message).toBe("--lr must be a number > 0 and ≤ 10; got '-0.5'");
    expect(fails(['doctor', '--backend']).message).toBe(
      '--backend needs a value: one of auto, tensorflow, webgpu, wasm, cpu',
    );
    expect(fails(['icl', 'train', '--seed', '--json']).message).toBe(
      '--seed needs a value: an integer in [0, 4294967295]',
    );
    expect(fails(['icl', 'train', '--out=']).message).toBe("--out must be <dir>; got ''");
  });
  it('unknown and repeated flags', () => {
    const e = fails(['doctor', '--jsn']);
    expect(e.message).toBe(
      "unknown flag --jsn for 'doctor' (did you mean --json?); flags: --backend, --help, --json, --quiet",
    );
    expect(e.command!.name).toBe('doctor');
    expect(fails(['doctor', '--steps', '3']).message).toMatch(/^unknown flag --steps for 'doctor'; flags:/);
    expect(fails(['doctor', '-x']).message).toMatch(/^unknown flag -x for 'doctor'/);
    expect(fails(['icl', 'train', '--seed', '1', '--seed=2']).message).toBe('--seed given more than once');
  });
  it('kv-cache flags: rope-dim may be 0, dtype is an enum', () => {
    expect(
      parse(
        'kv-cache',
        '--layers',
        '32',
        '--heads',
        '32',
        '--kv-heads',
        '8',
        '--head-dim',
        '128',
        '--rope-dim',
        '0',
        '--dtype',
        'bf16',
      ).flags,
    ).toEqual({ layers: 32, heads: 32, 'kv-heads': 8, 'head-dim': 128, 'rope-dim': 0, dtype: 'bf16' });
    expect(fails(['kv-cache', '--dtype', 'fp64']).message).toBe(
      "--dtype must be one of fp32, fp16, bf16, fp8, int8; got 'fp64'",
    );
    expect(parse('kv-cache', '--seq', '512,4096').flags.seq).toEqual([512, 4096]);
    expect(parse('kv-cache', '--seq=8192').flags.seq).toEqual([8192]);
    expect(fails(['kv-cache', '--seq', '512,,4096']).message).toBe(
      "--seq must be a comma-separated list of integers in [1, 100000000]; got '512,,4096'",
    );
    expect(fails(['kv-cache', '--seq', '0']).message).toBe(
      "--seq must be a comma-separated list of integers in [1, 100000000]; got '0'",
    );
  });
  it('enum-list flags (icl linear-vs-softmax --attentions): each item one of the values', () => {
    expect(parse('icl', 'linear-vs-softmax', '--attentions', 'softmax, linear').flags.attentions).toEqual([
      'softmax',
      'linear',
    ]);
    expect(fails(['icl', 'length', '--attentions', 'softmax,,linear']).message).toBe(
      "--attentions must be a comma-separated list of softmax, linear, linear-unnormalised; got 'softmax,,linear'",
    );
  });
});

describe('parseArgs: positionals', () => {
  it('required, extra, and after --', () => {
    expect(fails(['icl', 'eval']).message).toBe("'icl eval' needs <run> (a run folder written by icl train)");
    expect(fails(['doctor', 'now']).message).toBe("unexpected argument 'now': 'doctor' takes no arguments");
    expect(fails(['run', 'a.json', 'b.json']).message).toBe("unexpected argument 'b.json': 'run' takes <config>");
    expect(parse('run', '--', '--weird.json').positionals).toEqual({ config: '--weird.json' });
    expect(parse('run', 'cfg.json', '--seed', '3')).toMatchObject({
      positionals: { config: 'cfg.json' },
      flags: { seed: 3 },
    });
  });
  it('--help skips positional checks', () => {
    expect(parse('icl', 'eval', '--help')).toMatchObject({ help: true });
  });
});

describe('helpers', () => {
  it('levenshtein and suggest', () => {
    expect(levenshtein('kitten', 'sitting')).toBe(3);
    expect(levenshtein('trian', 'train')).toBe(1); // transposition
    expect(suggest('jsn', ['json', 'quiet'])).toBe('json');
    expect(suggest('zzzzzz', ['json', 'quiet'])).toBeUndefined();
    expect(suggest('val', ['value-matrix', 'walkthrough'])).toBe('value-matrix');
  });
  it('describeFlagValue and usageLine', () => {
    expect(describeFlagValue({ name: 'n', type: 'int', min: 1, description: '' })).toBe('an integer ≥ 1');
    expect(describeFlagValue({ name: 'x', type: 'number', description: '' })).toBe('a number');
    expect(usageLine(COMMANDS.find((c) => c.name === 'icl eval')!)).toBe('attnlab icl eval <run> [flags]');
  });
  it('every command has a summary, an example, and unique flag names', () => {
    for (const c of COMMANDS) {
      expect(c.summary.length).toBeGreaterThan(10);
      expect(c.examples.length).toBeGreaterThan(0);
      for (const e of c.examples) expect(() => parseArgs(e.split(' ').slice(1), COMMANDS)).not.toThrow();
      const names = c.flags.map((f) => f.name);
      expect(new Set(names).size).toBe(names.length);
    }
  });
});
