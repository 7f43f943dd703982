import * as tf from '@tensorflow/tfjs-core';
import { toCsv, renderSvg, type HeatmapSpec } from '@attnlab/plot';
import { download, fmt, h } from '../dom.js';
import { accessibleHeatmap } from '../heatmap.js';
import type { Page, PageContext } from '../router.js';

/** Seed 002 ("complete attention flow"): 3 tokens, d_k = 4. */
export const SEED_002 = {
  tokens: ['Me', 'against', 'the'],
  q: [[1, 0, 1, 0], [0, 1, 0, 1], [1, 1, 0, 0]],
  k: [[1, 0, 0, 1], [0, 1, 1, 0], [1, 0, 1, 1]],
  v: [[1, 2, 3, 4], [0.5, 1.5, 2.5, 3.5], [2, 1, 4, 3]],
};

export interface WalkthroughResult {
  scores: number[][];
  scaled: number[][];
  masked: number[][];
  /** `true` where query i may attend to key j. */
  allowed: boolean[][];
  weights: number[][];
  output: number[][];
}

const rows2d = (flat: ArrayLike<number>, r: number, c: number): number[][] =>
  Array.from({ length: r }, (_, i) => Array.from({ length: c }, (_, j) => flat[i * c + j]!));

/** scores → ÷√d_k → mask → softmax → ·V with tfjs on the active backend; every step returned. */
export async function computeWalkthrough(q: number[][], k: number[][], v: number[][], causal: boolean): Promise<WalkthroughResult> {
  const n = q.length;
  const dk = q[0]!.length;
  const dv = v[0]!.length;
  const allowed = Array.from({ length: n }, (_, i) => Array.from({ length: k.length }, (_, j) => !causal || j <= i));
  const ts = tf.tidy(() => {
    const Q = tf.tensor2d(q);
    const K = tf.tensor2d(k);
    const V = tf.tensor2d(v);
    const scores = tf.matMul(Q, K, false, true);
    const scaled = tf.div(scores, Math.sqrt(dk));
    const mask = tf.tensor2d(allowed.map((r) => r.map((a) => (a ? 1 : 0))), undefined, 'bool');
    const masked = tf.where(mask, scaled, tf.fill(scaled.shape, -Infinity));
    const weights = tf.softmax(masked);
    const output = tf.matMul(weights, V);
    return [scores, scaled, masked, weights, output];
  });
  const data = await Promise.all(ts.map((t) => t.data()));
  ts.forEach((t) => t.dispose());
  const m = k.length;
  return {
    scores: rows2d(data[0]!, n, m),
    scaled: rows2d(data[1]!, n, m),
    masked: rows2d(data[2]!, n, m),
    allowed,
    weights: rows2d(data[3]!, n, m),
    output: rows2d(data[4]!, n, dv),
  };
}

interface Step {
  key: keyof Omit<WalkthroughResult, 'allowed'>;
  title: string;
  formula: string;
  explain: (causal: boolean, dk: number) => string;
}

const STEPS: Step[] = [
  { key: 'scores', title: 'Scores', formula: 'S = Q Kᵀ', explain: () => 'Each query row is compared with every key row by a dot product: how well what a token looks for matches what another token offers.' },
  { key: 'scaled', title: 'Scale', formula: 'S / √dₖ', explain: (_c, dk) => `Divide by √dₖ = √${dk} = ${fmt(Math.sqrt(dk))} so the scores do not grow with the vector width and the softmax stays soft.` },
  { key: 'masked', title: 'Mask', formula: 'S + mask', explain: (c) => (c ? 'Causal mask: token i may only see tokens j ≤ i. Future positions become −∞ (hatched), which the softmax turns into exactly 0.' : 'No mask: every token may attend to every token. Turn on “causal” to hide the future.') },
  { key: 'weights', title: 'Softmax', formula: 'A = softmax(S)', explain: () => 'Softmax along each row turns scores into attention weights: non-negative, each row sums to 1.' },
  { key: 'output', title: 'Output', formula: 'O = A V', explain: () => 'Each output row is the weighted average of the value rows, with that query’s attention weights.' },
];

function parseMatrix(text: string, name: string, cols?: number): number[][] {
  const rows = text.trim().split('\n').map((l) => l.trim()).filter(Boolean)
    .map((l, i) => l.split(/[\s,]+/).map((x) => {
      const v = Number(x);
      if (x === '' || !Number.isFinite(v)) throw new Error(`${name}, row ${i + 1}: '${x}' is not a number`);
      return v;
    }));
  if (!rows.length) throw new Error(`${name} is empty`);
  const c = cols ?? rows[0]!.length;
  rows.forEach((r, i) => {
    if (r.length !== c) throw new Error(`${name}, row ${i + 1}: expected ${c} numbers, got ${r.length}`);
  });
  return rows;
}

const matrixText = (m: number[][]): string => m.map((r) => r.join(' ')).join('\n');

function figureFor(step: Step, r: WalkthroughResult, tokens: string[], dv: number): HeatmapSpec {
  const out = step.key === 'output';
  const values = r[step.key];
  const masked = out ? undefined : r.allowed.map((row) => row.map((a) => !a && step.key !== 'scores' && step.key !== 'scaled'));
  return {
    kind: 'heatmap',
    version: 1,
    title: `${step.title}: ${step.formula}`,
    values,
    rowLabels: tokens,
    colLabels: out ? Array.from({ length: dv }, (_, j) => `v${j + 1}`) : tokens,
    ...(masked ? { masked } : {}),
    // Weights are in [0, 1]: sequential. Scores are signed in general: diverging, white at 0.
    ...(out ? {} : { scale: step.key === 'weights' ? 'sequential' as const : 'diverging' as const }),
    ...(step.key === 'weights' ? { domain: [0, 1] as [number, number] } : {}),
    colorbarLabel: step.key === 'weights' ? 'weight' : 'value',
    xLabel: out ? 'value dimension' : 'key token',
    yLabel: 'query token',
    showValues: true,
    cellSize: 64,
  };
}

function numbersTable(values: number[][], rowLabels: string[], colLabels: string[], caption: string): HTMLTableElement {
  return h('table', { class: 'numbers' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, ''), ...colLabels.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...values.map((row, i) => h('tr', {}, h('th', { scope: 'row' }, rowLabels[i] ?? ''),
      ...row.map((v, j) => h('td', { 'data-row': String(i), 'data-col': String(j), 'data-value': String(v) }, fmt(v)))))),
  );
}

/** The attention walkthrough page (seeds 001/002). */
export const walkthroughPage: Page = {
  path: 'walkthrough',
  title: 'Attention walkthrough',
  render(root: HTMLElement, ctx: PageContext): void {
    const params = ctx.params;
    let causal = params.get('causal') === '1';
    let stepIndex = Math.min(STEPS.length - 1, Math.max(0, Number(params.get('step') ?? '0') - 1 || 0));
    const tokensIn = h('input', { id: 'wt-tokens', type: 'text', value: SEED_002.tokens.join(' '), 'aria-describedby': 'wt-tokens-help' });
    const qIn = h('textarea', { id: 'wt-q', rows: '4', spellcheck: 'false' }, matrixText(SEED_002.q));
    const kIn = h('textarea', { id: 'wt-k', rows: '4', spellcheck: 'false' }, matrixText(SEED_002.k));
    const vIn = h('textarea', { id: 'wt-v', rows: '4', spellcheck: 'false' }, matrixText(SEED_002.v));
    const causalIn = h('input', { id: 'wt-causal', type: 'checkbox', checked: causal });
    const error = h('p', { class: 'error', role: 'alert', id: 'wt-error' });
    const stepBar = h('div', { class: 'steps', role: 'toolbar', 'aria-label': 'Steps' });
    const stage = h('section', { class: 'stage', 'aria-live': 'off', id: 'wt-stage' });
    const exportBar = h('div', { class: 'exports' });
    let last: { result: WalkthroughResult; tokens: string[]; dv: number } | undefined;

    root.append(
      h('h1', {}, 'Attention walkthrough'),
      h('p', { class: 'lede' }, 'Attention(Q, K, V) = softmax(Q Kᵀ / √dₖ + mask) V, one step at a time, computed with TensorFlow.js on the backend shown above. The defaults are seed 002’s three tokens with dₖ = 4.'),
      h('form', { class: 'inputs', id: 'wt-form' },
        h('div', { class: 'field wide' }, h('label', { for: 'wt-tokens' }, 'Tokens'), tokensIn, h('small', { id: 'wt-tokens-help' }, 'One per row of Q, K and V, separated by spaces.')),
        h('div', { class: 'field' }, h('label', { for: 'wt-q' }, 'Q (queries)'), qIn),
        h('div', { class: 'field' }, h('label', { for: 'wt-k' }, 'K (keys)'), kIn),
        h('div', { class: 'field' }, h('label', { for: 'wt-v' }, 'V (values)'), vIn),
        h('div', { class: 'field check' }, causalIn, h('label', { for: 'wt-causal' }, 'Causal mask (token i sees j ≤ i)')),
      ),
      error,
      stepBar,
      stage,
      exportBar,
    );

    const buttons = STEPS.map((s, i) => {
      const b = h('button', { type: 'button', class: 'step', 'data-step': String(i + 1), 'aria-pressed': String(i === stepIndex) }, `${i + 1}. ${s.title}`);
      b.addEventListener('click', () => {
        stepIndex = i;
        draw();
      });
      return b;
    });
    const prev = h('button', { type: 'button', class: 'nav-step', 'aria-label': 'Previous step' }, '←');
    const next = h('button', { type: 'button', class: 'nav-step', 'aria-label': 'Next step' }, '→');
    prev.addEventListener('click', () => { stepIndex = Math.max(0, stepIndex - 1); draw(); });
    next.addEventListener('click', () => { stepIndex = Math.min(STEPS.length - 1, stepIndex + 1); draw(); });
    stepBar.append(prev, ...buttons, next);

    const draw = (): void => {
      ctx.setParams({ step: String(stepIndex + 1), causal: causal ? '1' : '0' });
      buttons.forEach((b, i) => b.setAttribute('aria-pressed', String(i === stepIndex)));
      stage.replaceChildren();
      exportBar.replaceChildren();
      if (!last) return;
      const step = STEPS[stepIndex]!;
      const { result, tokens, dv } = last;
      const spec = figureFor(step, result, tokens, dv);
      const cols = step.key === 'output' ? Array.from({ length: dv }, (_, j) => `v${j + 1}`) : tokens;
      stage.append(
        h('h2', {}, `Step ${stepIndex + 1}: ${step.title}`, h('span', { class: 'formula' }, step.formula)),
        h('p', {}, step.explain(causal, SEED_002.q[0]!.length)),
        accessibleHeatmap(spec, 'wt-heatmap'),
        h('details', { open: true }, h('summary', {}, 'Numbers'), numbersTable(result[step.key], tokens, cols, `${step.title} (${step.formula})`)),
      );
      const name = `attention-${step.key}${causal ? '-causal' : ''}`;
      const exports: [string, () => void][] = [
        ['SVG', () => download(`${name}.svg`, renderSvg(spec), 'image/svg+xml')],
        ['CSV', () => download(`${name}.csv`, toCsv(spec), 'text/csv')],
        ['JSON', () => download(`${name}.json`, JSON.stringify({ tokens, causal, ...result }, null, 2), 'application/json')],
      ];
      exportBar.append(h('span', {}, 'Export this step: '), ...exports.map(([label, fn]) => {
        const b = h('button', { type: 'button', 'data-export': label.toLowerCase() }, label);
        b.addEventListener('click', fn);
        return b;
      }));
    };

    const recompute = async (): Promise<void> => {
      try {
        const q = parseMatrix(qIn.value, 'Q');
        const k = parseMatrix(kIn.value, 'K', q[0]!.length);
        const v = parseMatrix(vIn.value, 'V');
        if (k.length !== v.length) throw new Error(`K has ${k.length} rows but V has ${v.length}: one value per key`);
        if (causal && q.length !== k.length) throw new Error(`a causal mask needs as many queries as keys (${q.length} vs ${k.length})`);
        const words = tokensIn.value.trim().split(/\s+/).filter(Boolean);
        const tokens = Array.from({ length: Math.max(q.length, k.length) }, (_, i) => words[i] ?? `t${i + 1}`);
        error.textContent = '';
        const result = await computeWalkthrough(q, k, v, causal);
        last = { result, tokens, dv: v[0]!.length };
        root.dataset.ready = 'true';
      } catch (e) {
        error.textContent = (e as Error).message;
      }
      draw();
    };
    for (const el of [qIn, kIn, vIn, tokensIn]) el.addEventListener('input', () => void recompute());
    causalIn.addEventListener('change', () => {
      causal = causalIn.checked;
      void recompute();
    });
    void recompute();
  },
};
