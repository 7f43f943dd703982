/**
 * @attnlab/linalg: the dense linear algebra tfjs-core lacks, computed on the host in float64 and
 * returned as float32 tensors. Every tensor function is async (it reads its input with `data()`).
 */
export { svd, singularValues, pinv, eigenvalues } from './decompositions.js';
export type { SvdResult, EigenvaluesResult } from './decompositions.js';
export { det, solve, cholesky } from './solvers.js';
export { corrcoef, cayleyMengerVolumeSquared } from './statistics.js';

// Host (float64, synchronous) routines, for callers that already hold values on the host.
export type { HostMatrix } from './host/matrix.js';
export { fromRows, identity, matmul, transpose, zeros } from './host/matrix.js';
export { svdHost, singularValuesHost, pinvHost, householderQr } from './host/svd.js';
export type { HostSvd } from './host/svd.js';
export { detHost, solveHost, choleskyHost, luHost } from './host/lu.js';
export type { HostLu } from './host/lu.js';
export { eigenvaluesHost } from './host/eig.js';
export { corrcoefHost, cayleyMengerVolumeSquaredHost } from './host/stats.js';
