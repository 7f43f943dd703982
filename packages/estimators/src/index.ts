export type { Estimator, IclTaskBatch, GaussianTaskModel } from './types.js';
export {
  kernelEstimator,
  oneStepGd,
  preconditionedGd,
  optimalOneStepGd,
  debiasedGd,
  optimalDebiasedGd,
  ridge,
  bayesPosteriorMean,
  leastSquares,
  modelEstimator,
  optimalOneStepGdStep,
  oneStepGdRisk,
} from './estimators.js';
export { errorCurve, type ErrorCurve, type ErrorCurveOptions } from './error-curve.js';
export {
  approxLoss,
  approxLossGradient,
  approxOptimalMu,
  approxLossFlow,
  bayesRiskLimit,
  debiasedGdOptimalStep,
  debiasedGdRisk,
  multiHeadTheory,
  singleHeadOptimum,
  type SingleHeadOptimum,
  type ApproxLossFlow,
  type HeadParams,
  type HeadTheory,
} from './theory.js';
export { gdAlignment, type GdAlignment } from './alignment.js';
