// A pool thread: runs the points its parent posts, one at a time, and aborts the current one (it
// saves a checkpoint) when asked. Started by pool.ts from the CLI's own entry file.
import { parentPort } from 'node:worker_threads';
import { runPoint, type PointTask } from './point.js';

export type ToThread = { type: 'run'; task: PointTask } | { type: 'abort' };
export type FromThread = { type: 'outcome'; id: string; outcome: import('./point.js').PointOutcome };

/** The thread's message loop. */
export function threadMain(): void {
  const port = parentPort;
  if (!port) throw new Error('sweep thread: no parent port');
  let ac = new AbortController();
  port.on('message', (m: ToThread) => {
    if (m.type === 'abort') {
      ac.abort();
      return;
    }
    ac = new AbortController();
    void runPoint(m.task, ac.signal).then((outcome) => {
      const msg: FromThread = { type: 'outcome', id: m.task.point.id, outcome };
      port.postMessage(msg);
    });
  });
}
