import type { Experiment, ExperimentId } from './experiment.js';
import { attentionWalkthrough } from './walkthrough.js';
import { kvCache } from './kv-cache.js';
import { valueMatrix } from './value-matrix.js';
import { iclRegression } from './icl-regression.js';
import { iclLength } from './icl-length.js';
import { iclMultitask } from './icl-multitask.js';
import { cvSweep } from './cv-sweep.js';

/** Every experiment, by id. */
export const experiments: Record<string, Experiment<never, unknown>> = {
  [iclRegression.id]: iclRegression as Experiment<never, unknown>,
  [iclLength.id]: iclLength as Experiment<never, unknown>,
  [iclMultitask.id]: iclMultitask as Experiment<never, unknown>,
  [valueMatrix.id]: valueMatrix as Experiment<never, unknown>,
  [attentionWalkthrough.id]: attentionWalkthrough as Experiment<never, unknown>,
  [kvCache.id]: kvCache as Experiment<never, unknown>,
  [cvSweep.id]: cvSweep as Experiment<never, unknown>,
};

export const EXPERIMENT_IDS = Object.keys(experiments) as ExperimentId[];

/** The experiment with this id, or an error naming the allowed ids. */
export function getExperiment(id: string): Experiment<unknown, unknown> {
  const e = experiments[id];
  if (!e)
    throw new RangeError(`unknown experiment ${JSON.stringify(id)}; allowed: ${Object.keys(experiments).join(', ')}`);
  return e as Experiment<unknown, unknown>;
}
