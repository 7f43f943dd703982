// The run folder's lock, unique names, temp-file cleaning and file-system errors (no CLI process).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliError } from './errors.js';
import { acquireRunLock, claimRunDir, cleanTempFiles, createRunDir, fsError, LOCK_FILE } from './run-folder.js';
import { cliError } from './test-utils/errors.js';

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'attnlab-folder-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** The pid of a process that has exited (its pid is free again, barring reuse). */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '0']).pid;

describe('createRunDir', () => {
  it('two runs in the same second get two folders (-2), each created by one exclusive mkdir and locked', () => {
    const now = new Date(2026, 0, 2, 3, 4, 5);
    const root = join(tmp, 'runs');
    const a = createRunDir('icl', { root, now });
    const b = createRunDir('icl', { root, now });
    const c = createRunDir('icl', { root, now });
    expect(a.dir).toBe(join(root, 'icl-20260102-030405'));
    expect(b.dir).toBe(join(root, 'icl-20260102-030405-2'));
    expect(c.dir).toBe(join(root, 'icl-20260102-030405-3'));
    expect([a.createdRoot, b.createdRoot]).toEqual([true, false]);
    const lock = JSON.parse(readFileSync(join(a.dir, LOCK_FILE), 'utf8')) as { pid: number; host: string };
    expect(lock).toMatchObject({ pid: process.pid, host: hostname() });
    for (const r of [a, b, c]) r.release();
    expect(readdirSync(a.dir)).toEqual([]);
  });
});

describe('acquireRunLock', () => {
  it('a second lock on a held folder is refused, naming the holder; released, it can be taken again', () => {
    const dir = join(tmp, 'run');
    mkdirSync(dir);
    // A lock held by another live process on this host (our parent).
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: process.ppid, host: hostname(), command: 'icl train' }));
    const e = cliError(() => acquireRunLock(dir));
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain(`is in use by another attnlab run (pid ${process.ppid} on ${hostname()}: icl train)`);
    rmSync(join(dir, LOCK_FILE));
    const release = acquireRunLock(dir);
    expect(cliError(() => acquireRunLock(dir)).message).toContain('already locked by this process');
    release();
    release(); // twice is harmless
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });
  it("a stale lock (its process is gone) is taken over; another host's lock is never", () => {
    const dir = join(tmp, 'run');
    mkdirSync(dir);
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: hostname() }));
    const release = acquireRunLock(dir);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
    release();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: 'elsewhere' }));
    expect(cliError(() => acquireRunLock(dir)).message).toContain('on elsewhere');
  });
  it('claimRunDir: an --out folder that another run filled meanwhile is refused under the lock', () => {
    const dir = join(tmp, 'out');
    const first = claimRunDir(dir);
    expect(first.created).toBe(true);
    writeFileSync(join(dir, 'config.json'), '{}');
    first.release();
    expect(cliError(() => claimRunDir(dir)).message).toContain('already exists and is not empty');
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });
});

describe('leftovers and errors', () => {
  it('cleanTempFiles removes interrupted atomic writes and nothing else', () => {
    const dir = join(tmp, 'run');
    mkdirSync(join(dir, 'checkpoints'), { recursive: true });
    mkdirSync(join(dir, 'figures'));
    for (const f of [
      'checkpoints/.latest.ckpt.123.tmp',
      'checkpoints/latest.ckpt',
      '.results.json.9.tmp',
      'config.json',
      'figures/.loss.svg.4.tmp',
      'figures/loss.svg',
    ])
      writeFileSync(join(dir, f), 'x');
    expect(cleanTempFiles(dir).sort()).toEqual(
      [
        join(dir, '.results.json.9.tmp'),
        join(dir, 'checkpoints', '.latest.ckpt.123.tmp'),
        join(dir, 'figures', '.loss.svg.4.tmp'),
      ].sort(),
    );
    expect(readdirSync(join(dir, 'checkpoints'))).toEqual(['latest.ckpt']);
    expect(readdirSync(dir).sort()).toEqual(['checkpoints', 'config.json', 'figures']);
  });
  it('fsError names disk full, read-only and permission errors (exit 2); others pass through', () => {
    const err = (code: string) => Object.assign(new Error(`${code}: x`), { code });
    expect(fsError(err('ENOSPC'), 'r/a.json', 'write')).toMatchObject({
      exitCode: 2,
      message: 'cannot write (r/a.json): the disk is full; free some space and try again',
    });
    expect((fsError(err('EROFS'), 'r', 'write') as CliError).message).toContain('read-only');
    expect((fsError(err('EACCES'), 'r', 'write') as CliError).message).toContain('permission denied');
    const other = err('EIO');
    expect(fsError(other, 'r', 'write')).toBe(other);
  });
});
