// A local pool of worker threads (one per core by default): each runs one point at a time.
import { Worker } from 'node:worker_threads';
import { loadBackend } from '../backend.js';
import type { PointOutcome, PointTask } from './point.js';
import type { FromThread, ToThread } from './thread.js';

/** workerData that makes the CLI's entry file start a sweep thread instead of the command line. */
const THREAD_MARKER = 'attnlab-sweep-thread'; // main.ts checks the same name

interface Slot {
  worker: Worker;
  busy?: { id: string; resolve: (o: PointOutcome) => void };
}

/**
 * A pool of `size` point threads running `entry`. Sets Dawn's environment first, on this (the
 * main) thread: a worker's process.env is a copy that native code never reads, so a thread that
 * picks webgpu would otherwise look for a Vulkan driver without it.
 */
export async function openPointPool(size: number, entry: string): Promise<PointPool> {
  await (await loadBackend()).prepareWebgpuEnvironment();
  return new PointPool(size, entry);
}

export class PointPool {
  private readonly slots: Slot[] = [];
  private readonly waiting: { task: PointTask; resolve: (o: PointOutcome) => void; onStart?: () => void }[] = [];
  private aborted = false;

  constructor(
    readonly size: number,
    /** The CLI's entry file (dist/attnlab.js): the thread runs it with {@link THREAD_MARKER}. */
    private readonly entry: string,
  ) {}

  /** Runs a point on the next free thread; `onStart` is called when a thread takes it. */
  run(task: PointTask, onStart?: () => void): Promise<PointOutcome> {
    return new Promise((resolve) => {
      this.waiting.push({ task, resolve, ...(onStart ? { onStart } : {}) });
      this.pump();
    });
  }

  /** Points running now. */
  get active(): number {
    return this.slots.filter((s) => s.busy).length;
  }

  /** Aborts every running point (each saves its checkpoint) and every waiting one. */
  abort(): void {
    this.aborted = true;
    for (const w of this.waiting.splice(0)) w.resolve({ kind: 'aborted', step: null });
    for (const s of this.slots) if (s.busy) s.worker.postMessage({ type: 'abort' } satisfies ToThread);
  }

  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private pump(): void {
    while (this.waiting.length > 0 && !this.aborted) {
      let slot = this.slots.find((s) => !s.busy);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const next = this.waiting.shift()!;
      slot.busy = { id: next.task.point.id, resolve: next.resolve };
      slot.worker.postMessage({ type: 'run', task: next.task } satisfies ToThread);
      next.onStart?.();
    }
  }

  private spawn(): Slot {
    const worker = new Worker(this.entry, { workerData: { [THREAD_MARKER]: true } });
    const slot: Slot = { worker };
    worker.on('message', (m: FromThread) => {
      const b = slot.busy;
      if (m.type !== 'outcome' || !b || b.id !== m.id) return;
      slot.busy = undefined;
      b.resolve(m.outcome);
      this.pump();
    });
    const fail = (why: string): void => {
      const b = slot.busy;
      slot.busy = undefined;
      const k = this.slots.indexOf(slot);
      if (k >= 0) this.slots.splice(k, 1);
      b?.resolve({ kind: 'error', message: why });
      this.pump();
    };
    worker.on('error', (e) => fail(`the point's thread failed: ${e.message}`));
    worker.on('exit', (code) => {
      if (this.slots.includes(slot)) fail(`the point's thread exited (code ${code})`);
    });
    this.slots.push(slot);
    return slot;
  }
}
