import type { IclMultitaskData } from '@attnlab/experiments';
import { fmtSig } from '../dom.js';
import { experimentPage } from './experiment-page.js';

/** Several regression tasks in one prompt: each example carries k answers, the heads are shared. */
export const iclMultitaskPage = experimentPage({
  path: 'icl-multitask',
  title: 'Several tasks',
  experimentId: 'icl-multitask',
  lede: 'Each example in the prompt now carries several answers, one for each of k unrelated linear rules, and the model must answer all k for the question. The heads are shared between the tasks. What to notice: each task’s error lands near what one task alone allows (one step of debiased gradient descent with the best step size), and the same heads serve several tasks at once, in superposition (the head × task picture).',
  summary: (r) => {
    const d = r.data as IclMultitaskData;
    return [
      ...d.tasks.map(
        (t) =>
          `Task ${t.task + 1}: error ${fmtSig(t.mse)} ± ${fmtSig(t.stderr)} (one task alone, in theory: ${fmtSig(d.theory.risk)}); step Σ w·μ ${fmtSig(t.step)} (theory ${fmtSig(d.theory.step)}), Σ μ ${fmtSig(t.muSum)} (theory 0).`,
      ),
      d.superposed.length
        ? `Heads ${d.superposed.join(', ')} serve more than one task.`
        : 'No head serves more than one task.',
    ];
  },
});
