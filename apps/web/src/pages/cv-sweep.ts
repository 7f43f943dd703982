import { experimentPage } from './experiment-page.js';

/** Seed 003's CV sweep (`cv-sweep`), run in a worker; its tables fill as it reports. */
export const cvSweepPage = experimentPage({
  path: 'cv-sweep',
  title: 'CV sweep',
  experimentId: 'cv-sweep',
  lede: 'Seed 003: train a small embedding + multi-head attention classifier for each embedding width and head count, and measure the coefficient of variation (CV) of pentachoron volumes of its weights and activations. The grid runs in a worker; each configuration’s numbers appear in the table as soon as it reports them.',
  unavailable:
    'The CV sweep (experiment “cv-sweep”, seed 003) is not registered in this build of @attnlab/experiments yet. This page runs it as soon as it is.',
});
