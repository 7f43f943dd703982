import {
  evaluateOwnTask,
  type CsvTask,
  type EstimatorRow,
  type ExperimentResult,
  type IclConfig,
  type IclData,
} from '@attnlab/experiments';
import example from '../fixtures/icl-example.json';

/** The trainer's precomputed run (one layer, trained on prompts of its length L). */
const EXAMPLE = example as unknown as ExperimentResult<IclConfig, IclData>;

/** A standard normal draw (Box–Muller), for an illustrative prompt only. */
function gauss(): number {
  const u = 1 - Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random());
}

export interface IclPrompt {
  task: CsvTask;
  /** The hidden rule y = x·β (plus noise). */
  beta: number[];
  truth: number;
  /** Every estimator's answer for the query, from `evaluateOwnTask` on the trainer's example run. */
  rows: EstimatorRow[];
  /** The trained run: heads H, dimension d, prompt length L. */
  run: { heads: number; d: number; L: number; steps: number };
}

/**
 * A fresh prompt drawn as the trainer draws its tasks (x ~ N(0, I), β ~ N(0, I), noise of its
 * variance, L examples), answered by the estimators of the trainer's story through
 * `@attnlab/experiments`' `evaluateOwnTask` with the precomputed trained run's learned numbers.
 */
export async function iclPrompt(): Promise<IclPrompt> {
  const c = EXAMPLE.config;
  const { d, L } = c;
  const beta = Array.from({ length: d }, () => (c.betaScale === 'unit' ? gauss() : gauss() / Math.sqrt(d)));
  const draw = (): { x: number[]; y: number } => {
    const x = Array.from({ length: d }, gauss);
    return { x, y: x.reduce((a, v, i) => a + v * beta[i]!, 0) + Math.sqrt(c.noiseVariance) * gauss() };
  };
  const context = Array.from({ length: L }, draw);
  const query = draw();
  const task: CsvTask = {
    columns: [...Array.from({ length: d }, (_, i) => `x${i + 1}`), 'y'],
    x: context.map((p) => p.x),
    y: context.map((p) => p.y),
    xq: [query.x],
    yq: [query.y],
    split: 'one query',
  };
  const { rows } = await evaluateOwnTask(task, EXAMPLE);
  return { task, beta, truth: query.y, rows, run: { heads: c.heads, d, L, steps: c.steps } };
}
