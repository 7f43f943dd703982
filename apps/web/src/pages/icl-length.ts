import type { IclLengthData } from '@attnlab/experiments';
import { fmtSig } from '../dom.js';
import { experimentPage } from './experiment-page.js';

/** Length generalisation: one model per attention kind, trained at one prompt length, tested on longer ones. */
export const iclLengthPage = experimentPage({
  path: 'icl-length',
  title: 'Longer prompts',
  experimentId: 'icl-length',
  lede: 'Train the same one-layer model on prompts of one length, then give it shorter and much longer prompts. With softmax attention the weights over the examples always sum to 1, so a longer prompt is just a better average; linear attention without that normalisation adds up more and more examples and its answers grow with the prompt. Choose which attention kinds to compare; each trains on the same tasks. What to notice: the error-vs-length curves after the training length, and how far each stays from the best possible (ridge) answer.',
  summary: (r) => {
    const d = r.data as IclLengthData;
    return d.summary.map(
      (x) =>
        `${x.attention} attention: error ${fmtSig(x.atTrain)} at the training length (${fmtSig(x.ratioAtTrain)}× the best possible), ${fmtSig(x.atMax)} at the longest prompt (${fmtSig(x.ratioAtMax)}×).`,
    );
  },
});
