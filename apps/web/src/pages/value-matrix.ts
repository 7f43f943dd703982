import type { ValueMatrixData } from '@attnlab/experiments';
import { fmtSig } from '../dom.js';
import { experimentPage } from './experiment-page.js';

const group = (name: string): string =>
  ({
    compression: '1. Compression through W_V',
    multihead: '2. Head correlation',
    retrieval: '3. Retrieval under attention patterns',
    learning: '5. Learned compression',
  })[name] ?? name;

/** Seed 000's value-matrix experiments, run by `valueMatrix.run` in a worker. */
export const valueMatrixPage = experimentPage({
  path: 'value-matrix',
  title: 'Value-matrix lab',
  experimentId: 'value-matrix',
  lede: 'The value projection W_V as lossy compression (pseudo-inverse reconstruction error, singular spectrum, effective rank), how correlated several heads’ values are, what four attention patterns retrieve from structured values, and a small model learning to keep the colour dimensions and drop the noise. The KV-cache experiment (4) has its own page, the KV-cache calculator. Runs in the background as the page opens.',
  exclude: ['kvCache'],
  labels: {
    seed: 'Random seed',
    compression: group('compression'),
    'compression.dModel': 'Embedding width',
    'compression.dV': 'Value width',
    'compression.nTokens': 'Tokens',
    'compression.energyThreshold': 'Energy kept by the effective rank',
    multihead: group('multihead'),
    'multihead.dModel': 'Embedding width',
    'multihead.nTokens': 'Tokens',
    'multihead.heads': 'Heads',
    'multihead.headDim': 'Width per head',
    retrieval: group('retrieval'),
    'retrieval.nTokens': 'Tokens',
    'retrieval.dV': 'Value width',
    'retrieval.noiseStd': 'Noise (standard deviation)',
    learning: group('learning'),
    'learning.dModel': 'Embedding width',
    'learning.dV': 'Compressed width',
    'learning.nSamples': 'Samples',
    'learning.colorDims': 'Colour dimensions',
    'learning.epochs': 'Training steps',
    'learning.lr': 'Learning rate',
  },
  autoRun: true,
  skipFigures: ['kv-cache-table', 'kv-cache-compare', 'kv-cache-curve'],
  summary: (r) => {
    const d = r.data as ValueMatrixData;
    const c = d.compression;
    return [
      `Compression ${fmtSig(c.compressionRatio)}×: reconstruction MSE ${fmtSig(c.mse)}, relative error ${(c.relativeError * 100).toFixed(1)}% (expected ${(c.expectedRelativeError * 100).toFixed(1)}% for a random W_V).`,
      `Effective rank of W_V: ${c.effectiveRank} of ${c.maxRank} by energy, ${fmtSig(c.entropyEffectiveRank)} by entropy.`,
      `Head correlation: mean |corr| ${fmtSig(d.multihead.meanAbsCorrelation)} over ${d.multihead.pairs} pairs of heads; ${d.multihead.diverse ? 'the heads are diverse' : 'the heads are not diverse'}.`,
      `Retrieval: ${d.retrieval.patterns.map((p) => `${p.name} ‖output‖ ${fmtSig(p.outputNorm)}`).join(', ')}.`,
      `Learned compression: final loss ${fmtSig(d.learning.finalLoss)}, colour/noise weight ratio ${fmtSig(d.learning.ratio)} (${d.learning.focused ? 'focused on colour' : 'not focused'}).`,
    ];
  },
  extra: (r) => {
    const d = r.data as ValueMatrixData;
    const n = d.retrieval.patterns[0]?.weights.length ?? 0;
    return [
      {
        id: 'retrieval-patterns',
        spec: {
          kind: 'heatmap',
          title: 'The four attention patterns (weights over tokens)',
          scale: 'sequential',
          domain: [0, 1],
          colorbarLabel: 'weight',
          values: d.retrieval.patterns.map((p) => p.weights),
          rowLabels: d.retrieval.patterns.map((p) => p.name),
          colLabels: Array.from({ length: n }, (_, j) =>
            j < 2 ? `person ${j}` : j < 4 ? `location ${j}` : j < 6 ? `action ${j}` : `noise ${j}`,
          ),
          xLabel: 'token',
          yLabel: 'pattern',
          showValues: n <= 12,
        },
        data: d.retrieval,
      },
    ];
  },
});
