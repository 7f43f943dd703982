/** The tests' oracle: the reference path of src/bench/reference.ts (attention's model, data's batches, train's optimizers). */
export { referenceEngine, referenceLosses } from '../bench/reference.js';
