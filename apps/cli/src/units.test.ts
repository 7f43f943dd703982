// Units of the CLI that need no process: flag → config mapping, the run file, JSON errors,
// progress drawing, text tables and the report's escaping.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expandSweep, iclRegression, kvCache } from '@attnlab/experiments';
import { COMMANDS } from './commands.js';
import { findField, flagForField, flagOverrides, setPath } from './overrides.js';
import { Progress, formatDuration, progressText } from './progress.js';
import { escapeHtml, htmlTable } from './report.js';
import { readSpecFile } from './sweep/commands.js';
import { parseRunFile } from './run-file.js';
import { parseJson } from './run-folder.js';
import { textTable } from './summary.js';
import type { Io } from './term.js';
import { cliError } from './test-utils/errors.js';

const cmd = (name: string) => COMMANDS.find((c) => c.name === name)!;

describe('flags → config', () => {
  it('maps icl train flags onto config paths', () => {
    const o = flagOverrides(
      cmd('icl train'),
      { steps: 50, heads: 4, dim: 3, context: 7, lr: 0.01, optimizer: 'sgd', 'eval-samples': 0, seed: 9, json: true },
      iclRegression.configSchema,
      'icl-regression',
    );
    expect(o).toEqual({
      steps: 50,
      heads: 4,
      d: 3,
      L: 7,
      optimizer: { lr: 0.01, method: 'sgd' },
      evaluation: { samples: 0 },
      seed: 9,
    });
  });
  it('finds a field anywhere in a schema, top level first', () => {
    expect(findField(iclRegression.configSchema, 'maxL')).toBe('evaluation.maxL');
    expect(findField(iclRegression.configSchema, 'seed')).toBe('seed');
    expect(findField(kvCache.configSchema, 'seed')).toBeUndefined();
    const o: Record<string, unknown> = { a: 1 };
    setPath(o, 'b.c.d', 2);
    expect(o).toEqual({ a: 1, b: { c: { d: 2 } } });
  });
  it('a ?field flag on an experiment without that field is a one-line error (exit 2)', () => {
    const e = cliError(() => flagOverrides(cmd('run'), { seed: 3 }, kvCache.configSchema, 'kv-cache'));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(
      /^--seed: the kv-cache experiment has no setting 'seed' \(its settings: models, custom, seqLens/,
    );
  });
  it('names the flag behind a config field', () => {
    expect(flagForField(cmd('icl train'), 'config.optimizer.lr', iclRegression.configSchema)).toBe('--lr');
    expect(flagForField(cmd('icl train'), 'config.d', iclRegression.configSchema)).toBe('--dim');
    expect(flagForField(cmd('icl train'), 'config.nOut', iclRegression.configSchema)).toBeUndefined();
  });
});

describe('run file', () => {
  const ids = ['icl-regression', 'kv-cache'];
  it('accepts the documented fields', () => {
    const rf = parseRunFile(
      { experiment: 'kv-cache', preset: 'seed', backend: 'cpu', config: { batch: 2 }, provenance: {} },
      'f.json',
      ids,
    );
    expect(rf).toMatchObject({ experiment: 'kv-cache', preset: 'seed', config: { batch: 2 } });
    // An experiment's own presets: a run made with `icl train --preset paper` can be re-reported and resumed.
    expect(parseRunFile({ experiment: 'icl-regression', preset: 'paper' }, 'f.json', ids).preset).toBe('paper');
  });
  it.each([
    [[1], 'f.json: the file must be a JSON object { "experiment": …, "config": { … } }; got an array'],
    [{}, 'f.json: experiment is required: one of icl-regression, kv-cache'],
    [{ experiment: 'icl' }, 'f.json: experiment must be one of icl-regression, kv-cache; got "icl"'],
    [{ experiment: 'kv-cache', preset: 'fast' }, 'f.json: preset must be one of quick, seed; got "fast"'],
    [{ experiment: 'kv-cache', preset: 'paper' }, 'f.json: preset must be one of quick, seed; got "paper"'],
    [{ experiment: 'icl-regression', preset: 'fast' }, 'f.json: preset must be one of quick, seed, paper; got "fast"'],
    [{ experiment: 'kv-cache', seed: -1 }, 'f.json: seed must be an integer in [0, 4294967295]; got -1'],
    [
      { experiment: 'kv-cache', backend: 'gpu' },
      'f.json: backend must be one of auto, tensorflow, webgpu, wasm, cpu; got "gpu"',
    ],
    [{ experiment: 'kv-cache', config: [] }, 'f.json: config must be an object of config fields; got an array'],
    [
      { experiment: 'kv-cache', steps: 3 },
      'f.json: steps is not a known field (known: experiment, preset, seed, backend, config, provenance); experiment settings go inside "config"',
    ],
  ])('%j → %s', (json, message) => {
    const e = cliError(() => parseRunFile(json, 'f.json', ids));
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe(message);
  });
});

describe('parseJson', () => {
  it('names the file, line and column of malformed JSON', () => {
    expect(cliError(() => parseJson('{\n  "a": 1,\n  "b": }', 'x.json')).message).toBe(
      "x.json: malformed JSON at line 3, column 8: unexpected '}'",
    );
    expect(cliError(() => parseJson('{"a": 1,}', 'x.json')).message).toBe(
      'x.json: malformed JSON at line 1, column 9: expected double-quoted property name',
    );
    expect(cliError(() => parseJson('{"a": [1, 2', 'x.json')).message).toBe(
      'x.json: malformed JSON at line 1, column 12: unexpected end of input',
    );
    expect(parseJson('{"a": [1, 2]}', 'x.json')).toEqual({ a: [1, 2] });
  });
});

function fakeIo(tty: boolean): Io & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    out: (t) => log.push(`out:${t}`),
    err: (t) => log.push(`err:${t}`),
    errRaw: (t) => log.push(`raw:${t}`),
    color: false,
    tty,
    columns: () => 100,
  };
}

describe('progress', () => {
  it('formats durations and progress lines', () => {
    expect(formatDuration(42.4)).toBe('42s');
    expect(formatDuration(185)).toBe('3m05s');
    expect(formatDuration(7320)).toBe('2h02m');
    expect(progressText({ phase: 'train H=2', done: 450, total: 1500, rate: 120, loss: 0.12345 })).toBe(
      'train H=2  450/1500  30%  120 steps/s  ETA 9s  loss 0.1235',
    );
    expect(progressText({ phase: 'p', done: 5, total: 10 }, 10)).toBe('p  [#####-----]  5/10  50%');
  });
  it('not a terminal: a plain line each 10% (and the header first)', () => {
    const io = fakeIo(false);
    let t = 0;
    const p = new Progress(io, false, 'HEADER', () => t);
    for (let done = 1; done <= 100; done++) {
      t += 10;
      p.onEvent({ type: 'progress', phase: 'train', done, total: 100, rate: 50 });
    }
    expect(io.log[0]).toBe('err:HEADER');
    const lines = io.log.slice(1);
    expect(lines).toHaveLength(11); // 1% (first), 10%, 20%, … 100%
    expect(lines.every((l) => l.startsWith('err:train  '))).toBe(true);
    expect(lines[lines.length - 1]).toBe('err:train  100/100  100%  50 steps/s');
  });
  it('not a terminal: also a line every 5 s when progress is slow', () => {
    const io = fakeIo(false);
    let t = 0;
    const p = new Progress(io, false, undefined, () => t);
    for (let done = 1; done <= 5; done++) {
      t += 6000;
      p.onEvent({ type: 'progress', phase: 'train', done, total: 1000 });
    }
    expect(io.log).toHaveLength(5);
  });
  it('a terminal: one line redrawn in place with \\r, at most every 100 ms; a finished phase keeps its line', () => {
    const io = fakeIo(true);
    let t = 0;
    const p = new Progress(io, false, undefined, () => t);
    for (let done = 1; done <= 50; done++) {
      t += 20;
      p.onEvent({ type: 'progress', phase: 'train', done, total: 50, rate: 50, loss: 1.5 });
    }
    const raws = io.log.filter((l) => l.startsWith('raw:'));
    expect(raws.length).toBeGreaterThan(5);
    expect(raws.length).toBeLessThan(15);
    expect(raws.slice(0, -1).every((l) => l.startsWith('raw:\r\u001b[2Ktrain  ['))).toBe(true);
    expect(raws[raws.length - 2]).toBe(
      'raw:\r\u001b[2Ktrain  [####################]  50/50  100%  50 steps/s  loss 1.5',
    );
    expect(raws[raws.length - 1]).toBe('raw:\n');
    t += 200;
    p.onEvent({ type: 'progress', phase: 'evaluate', done: 1, total: 3 });
    p.line('a message');
    expect(io.log.slice(-3)).toEqual([
      'raw:\r\u001b[2K',
      'err:a message',
      'raw:\r\u001b[2Kevaluate  [#######-------------]  1/3  33%',
    ]);
    p.clear();
    expect(io.log[io.log.length - 1]).toBe('raw:\r\u001b[2K');
  });
  it('--quiet draws nothing', () => {
    const io = fakeIo(true);
    const p = new Progress(io, true, 'HEADER');
    p.onEvent({ type: 'phase', phase: 'a', message: 'A' });
    p.onEvent({ type: 'progress', phase: 'a', done: 1, total: 1 });
    expect(io.log).toEqual([]);
  });
});

describe('tables and escaping', () => {
  it('text tables align numbers right and print integers in full', () => {
    expect(
      textTable(
        ['model', 'bytes'],
        [
          ['a', 524288],
          ['bb', 1.5],
          ['c', null],
        ],
      ),
    ).toBe(['model   bytes', '-----  ------', 'a      524288', 'bb        1.5', 'c           –'].join('\n'));
  });
  it('HTML is escaped', () => {
    expect(escapeHtml('<b a="1">&\'')).toBe('&lt;b a=&quot;1&quot;&gt;&amp;&#39;');
    expect(htmlTable(['<x>'], [['<script>'], [2]])).toContain('<th scope="col">&lt;x&gt;</th>');
    expect(htmlTable(['<x>'], [['<script>'], [2]])).toContain('<td>&lt;script&gt;</td>');
  });
});

describe('the example sweep specs', () => {
  it('every examples/sweeps spec expands; cv-seed.json is the seed preset, one point per configuration', async () => {
    const dir = join(__dirname, '..', '..', '..', 'examples', 'sweeps');
    const files = readdirSync(dir).filter((f) => /\.(json|ya?ml)$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const f of files) expect(expandSweep(await readSpecFile(join(dir, f))).length).toBeGreaterThan(0);
    const cv = expandSweep(await readSpecFile(join(dir, 'cv-seed.json')));
    expect(cv.map((p) => [(p.config as { widths: number[] }).widths, (p.config as { heads: number[] }).heads])).toEqual(
      [64, 128, 256].flatMap((D) => [1, 2, 4, 8].map((H) => [[D], [H]])),
    );
    // the preset's other settings are the seed's (cv-sweep --preset seed)
    expect(cv[0]!.config).toMatchObject({ epochs: 50, lr: 1e-3 });
  });
});
