import { experimentPage } from './experiment-page.js';

/** Seed 003's CV sweep (`cv-sweep`), run in a worker; its tables fill as it reports. */
export const cvSweepPage = experimentPage({
  path: 'cv-sweep',
  title: 'CV sweep',
  experimentId: 'cv-sweep',
  lede: 'Train a small embedding + multi-head attention classifier for each embedding width and head count, and measure how evenly its weights and activations are spread: the coefficient of variation (CV) of the volumes of the 4-dimensional simplices that groups of five of them span (pentachora). The grid runs in a worker; each configuration’s numbers appear in the table as soon as it reports them.',
  unavailable:
    'The CV sweep is not registered in this build yet (experiment “cv-sweep”). This page runs it as soon as it is.',
});
