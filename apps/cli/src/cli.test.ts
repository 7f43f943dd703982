// The CLI as a process: build dist/attnlab.js once, spawn it, check exit codes, stdout/stderr
// separation, --json validity and the one-line errors.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..');
const bin = join(root, 'dist', 'attnlab.js');
// As a user's shell would run it: without jest's NODE_PATH / NODE_ENV / JEST_WORKER_ID.
const { NODE_PATH: _np, NODE_ENV: _ne, JEST_WORKER_ID: _jw, ...userEnv } = process.env;

interface Result { code: number | null; stdout: string; stderr: string; ms: number }
function cli(args: string[], env: Record<string, string> = {}): Result {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...userEnv, NO_COLOR: '1', FORCE_COLOR: '', ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
}

beforeAll(() => {
  execFileSync(process.execPath, [join(root, 'build.mjs')], { cwd: root, stdio: 'pipe', env: userEnv });
}, 120_000);

describe('attnlab (process)', () => {
  it('--help: usage on stdout, exit 0, fast, nothing on stderr', () => {
    const r = cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^attnlab \d+\.\d+\.\d+: /);
    expect(r.stdout).toContain('Usage: attnlab <command> [flags]');
    expect(r.stdout).toMatch(/\n {2}doctor +show every backend/);
    expect(r.ms).toBeLessThan(1500); // startup to first output (issue 5)
  });
  it('--version and <command> --help', () => {
    expect(cli(['--version'])).toMatchObject({ code: 0, stdout: 'attnlab 0.1.0\n', stderr: '' });
    const h = cli(['doctor', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('Usage: attnlab doctor [flags]');
    expect(h.stdout).toContain('--backend <auto|tensorflow|webgpu|wasm|cpu>');
    expect(h.stdout).toContain('Examples:\n  attnlab doctor');
  });
  it('bare attnlab: help on stderr, exit 2', () => {
    const r = cli([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Usage: attnlab <command>');
  });
  it.each([
    [['doctor', '--jsn'], '--jsn', "usage: attnlab doctor [flags]  (see 'attnlab doctor --help')"],
    [['doctor', '--backend', 'gpu'], "--backend must be one of auto, tensorflow, webgpu, wasm, cpu; got 'gpu'", 'usage: attnlab doctor'],
    [['doctor', '--backend'], '--backend needs a value', 'usage: attnlab doctor'],
    [['doctr'], "unknown command 'doctr' (did you mean 'doctor'?); commands: doctor, start", "usage: attnlab <command> [flags]  (see 'attnlab --help')"],
    [['start', 'now'], "unexpected argument 'now'", 'usage: attnlab start'],
  ])('bad input %j → exit 2, one error line naming it, a usage hint, no stack', (args, named, usage) => {
    const r = cli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^attnlab: error: /);
    expect(lines[0]).toContain(named);
    expect(lines[1]).toContain(usage);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
  it('doctor --json --backend cpu: valid JSON on stdout only, every backend listed', () => {
    const r = cli(['doctor', '--json', '--backend', 'cpu']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout) as { chosen: string; preference: string; tfjsCore: string; node: string; attnlab: string; backends: { name: string; status: string; reason?: string }[] };
    expect(j).toMatchObject({ chosen: 'cpu', preference: 'cpu', tfjsCore: '4.22.0', node: process.versions.node, attnlab: '0.1.0' });
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
    for (const b of ['tensorflow', 'webgpu', 'wasm', 'cpu']) expect(r.stdout).toMatch(new RegExp(`[→✓✗] ${b} +(chosen|available|unavailable)`));
    expect(r.stdout).toMatch(/auto picks: (tensorflow|webgpu|wasm|cpu) \(/);
    expect(r.stdout).toContain('tfjs-core 4.22.0');
    expect(r.stderr).toContain('checking backends');
  });
  it('FORCE_COLOR without NO_COLOR colours the report', () => {
    const r = cli(['doctor', '--backend', 'cpu', '--quiet'], { NO_COLOR: '', FORCE_COLOR: '1' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('\u001b[1m');
  });
  it('start --backend cpu reports where the quick run will go', () => {
    const r = cli(['start', '--backend', 'cpu']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('attnlab is ready on cpu');
    expect(r.stderr).toMatch(/→ cpu +chosen/);
  });
});
