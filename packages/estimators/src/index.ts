export type { Estimator, IclTaskBatch, GaussianTaskModel } from './types.js';
export {
  kernelEstimator,
  oneStepGd,
  optimalOneStepGd,
  debiasedGd,
  ridge,
  bayesPosteriorMean,
  leastSquares,
  modelEstimator,
  optimalOneStepGdStep,
  oneStepGdRisk,
} from './estimators.js';
export { errorCurve, type ErrorCurve, type ErrorCurveOptions } from './error-curve.js';
