import {
  SEED_001,
  SEED_002,
  attentionWalkthrough,
  resolveConfig,
  type WalkthroughConfig,
  type WalkthroughData,
  type WalkthroughHead,
} from '@attnlab/experiments';
import { renderSvg, type HeatmapSpec } from '@attnlab/plot';
import { button, fmt, h } from '../dom.js';
import { figurePanel } from '../figure.js';
import { matrixFromParam, matrixText, matrixToParam, parseMatrix, sameMatrix } from '../matrix-text.js';
import type { Page, PageContext } from '../router.js';

type Matrix = (number | null)[][];
type HeadKey = 'scores' | 'scaledScores' | 'maskedScores' | 'weights' | 'output';

interface Step {
  key: HeadKey | 'concat' | 'projected';
  title: string;
  formula: string;
  explain: (c: { causal: boolean; scale: number; heads: number }) => string;
}

const HEAD_STEPS: Step[] = [
  {
    key: 'scores',
    title: 'Scores',
    formula: 'S = Q Kᵀ',
    explain: () =>
      'Each query row is compared with every key row by a dot product: how well what a token looks for matches what another token offers.',
  },
  {
    key: 'scaledScores',
    title: 'Scale',
    formula: 'S / √dₖ',
    explain: ({ scale }) =>
      `Multiply by 1/√dₖ = ${fmt(scale)} (dₖ = ${fmt(1 / scale ** 2)}) so the scores do not grow with the vector width and the softmax stays soft.`,
  },
  {
    key: 'maskedScores',
    title: 'Mask',
    formula: 'S + mask',
    explain: ({ causal }) =>
      causal
        ? 'Causal mask: token i may only see tokens j ≤ i. Future positions become −∞ (hatched), which the softmax turns into exactly 0.'
        : 'No mask: every token may attend to every token. Turn on “causal” to hide the future.',
  },
  {
    key: 'weights',
    title: 'Softmax',
    formula: 'A = softmax(S)',
    explain: () => 'Softmax along each row turns scores into attention weights: non-negative, each row sums to 1.',
  },
  {
    key: 'output',
    title: 'Output',
    formula: 'O = A V',
    explain: () => 'Each output row is the weighted average of the value rows, with that query’s attention weights.',
  },
];
const MULTI_STEPS: Step[] = [
  {
    key: 'concat',
    title: 'Concatenate',
    formula: '[O₁ … O_H]',
    explain: ({ heads }) => `The ${heads} head outputs side by side: every token now carries what each head retrieved.`,
  },
  {
    key: 'projected',
    title: 'Project',
    formula: '[O₁ … O_H] W_O',
    explain: () => 'The output projection W_O mixes the heads back into the model width.',
  },
];

/** null (JSON's non-finite: −∞ where masked, NaN or ±∞ from an overflow) drawn as not finite, never as 0. */
const zero = (m: Matrix): number[][] => m.map((r) => r.map((x) => x ?? NaN));
/** For the numbers table: −∞ where the mask removed a score, NaN for any other non-finite entry. */
const full = (m: Matrix, key: string, mask: boolean[][]): number[][] =>
  m.map((r, i) =>
    r.map((x, j) => (x !== null ? x : key === 'maskedScores' && mask[i]?.[j] === false ? -Infinity : NaN)),
  );

function headSpec(step: Step, head: WalkthroughHead, tokens: string[], small = false): HeatmapSpec {
  const key = step.key as HeadKey;
  const out = key === 'output';
  const hatch = key === 'maskedScores' || key === 'weights';
  const values = zero(head[key]);
  return {
    kind: 'heatmap',
    version: 1,
    ...(small ? {} : { title: `${step.title}: ${step.formula}` }),
    values,
    rowLabels: tokens,
    colLabels: out ? Array.from({ length: values[0]?.length ?? 0 }, (_, j) => `v${j + 1}`) : tokens,
    ...(hatch ? { masked: head.mask.map((r) => r.map((ok) => !ok)) } : {}),
    // Weights are in [0, 1]: sequential (viridis). Scores are signed in general: diverging, white at 0.
    ...(out ? {} : { scale: key === 'weights' ? ('sequential' as const) : ('diverging' as const) }),
    ...(key === 'weights' ? { domain: [0, 1] as [number, number] } : {}),
    ...(small
      ? { cellSize: 16, showValues: false }
      : {
          colorbarLabel: key === 'weights' ? 'weight' : 'value',
          xLabel: out ? 'value dimension' : 'key token',
          yLabel: 'query token',
          showValues: true,
          cellSize: 64,
        }),
  };
}

function multiSpec(step: Step, data: WalkthroughData, headDim: number): HeatmapSpec {
  const m = step.key === 'concat' ? data.concat : (data.projected ?? []);
  const values = zero(m);
  const cols =
    step.key === 'concat'
      ? Array.from({ length: values[0]?.length ?? 0 }, (_, j) => `h${Math.floor(j / headDim) + 1}.${(j % headDim) + 1}`)
      : Array.from({ length: values[0]?.length ?? 0 }, (_, j) => `d${j + 1}`);
  return {
    kind: 'heatmap',
    version: 1,
    title: `${step.title}: ${step.formula}`,
    values,
    rowLabels: data.tokens,
    colLabels: cols,
    xLabel: step.key === 'concat' ? 'head.dimension' : 'model dimension',
    yLabel: 'token',
    showValues: true,
    cellSize: 56,
    colorbarLabel: 'value',
  };
}

function numbersTable(values: number[][], rowLabels: string[], colLabels: string[], caption: string): HTMLTableElement {
  return h(
    'table',
    { class: 'numbers' },
    h('caption', {}, caption),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        // The corner names the row labels (an empty header cell is announced as nothing).
        h('th', { scope: 'col', class: 'corner' }, 'token'),
        ...colLabels.map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    h(
      'tbody',
      {},
      ...values.map((row, i) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, rowLabels[i] ?? ''),
          ...row.map((v, j) =>
            h('td', { 'data-row': String(i), 'data-col': String(j), 'data-value': String(v) }, fmt(v)),
          ),
        ),
      ),
    ),
  );
}

const intParam = (p: URLSearchParams, key: string, def: number, min: number, max: number): number => {
  const v = Number(p.get(key));
  return p.has(key) && Number.isInteger(v) ? Math.min(max, Math.max(min, v)) : def;
};

/** The attention walkthrough page (seeds 001/002), computed by `attentionWalkthrough.run`. */
export const walkthroughPage: Page = {
  path: 'walkthrough',
  title: 'Attention walkthrough',
  render(root: HTMLElement, ctx: PageContext): void {
    const p = ctx.params;
    let mode: WalkthroughConfig['mode'] = p.get('mode') === 'embeddings' ? 'embeddings' : 'qkv';
    let causal = p.get('causal') === '1';
    // A link's step outside this mode's steps is shown as the nearest one, and said so.
    const stepCount = mode === 'embeddings' ? HEAD_STEPS.length + MULTI_STEPS.length : HEAD_STEPS.length;
    let stepIndex = intParam(p, 'step', 1, 1, stepCount) - 1;
    const linkNote = h('p', { class: 'muted', role: 'status', id: 'wt-link-note' });
    if (p.has('step') && String(stepIndex + 1) !== p.get('step'))
      linkNote.textContent = `The link's step=${p.get('step')!.slice(0, 20)} is not one of this mode's steps (1–${stepCount}); showing step ${stepIndex + 1}.`;
    let locked = intParam(p, 'head', 1, 1, 16) - 1;
    let preview: number | undefined;

    const defaultsFor = (m: WalkthroughConfig['mode']): string[] => (m === 'qkv' ? SEED_002.tokens : SEED_001.tokens);
    const tokensIn = h('input', {
      id: 'wt-tokens',
      type: 'text',
      value: p.get('tokens') ?? defaultsFor(mode).join(' '),
      'aria-describedby': 'wt-tokens-help',
    });
    const area = (id: string, m: number[][]) => h('textarea', { id, rows: '6', spellcheck: 'false' }, matrixText(m));
    const qIn = area('wt-q', matrixFromParam(p.get('q')) ?? SEED_002.q);
    const kIn = area('wt-k', matrixFromParam(p.get('k')) ?? SEED_002.k);
    const vIn = area('wt-v', matrixFromParam(p.get('v')) ?? SEED_002.v);
    const embIn = area('wt-emb', matrixFromParam(p.get('emb')) ?? SEED_001.embeddings);
    const num = (id: string, value: number, min: number, max: number) =>
      h('input', { id, type: 'number', min: String(min), max: String(max), step: '1', value: String(value) });
    const headsIn = num('wt-heads', intParam(p, 'heads', 2, 1, 16), 1, 16);
    const headDimIn = num('wt-headdim', intParam(p, 'hd', 2, 1, 64), 1, 64);
    const seedIn = num('wt-seed', intParam(p, 'seed', 0, 0, 2 ** 31), 0, 2 ** 31);
    const causalIn = h('input', { id: 'wt-causal', type: 'checkbox', checked: causal });
    const modeQkv = h('input', {
      id: 'wt-mode-qkv',
      type: 'radio',
      name: 'wt-mode',
      value: 'qkv',
      checked: mode === 'qkv',
    });
    const modeEmb = h('input', {
      id: 'wt-mode-emb',
      type: 'radio',
      name: 'wt-mode',
      value: 'embeddings',
      checked: mode === 'embeddings',
    });
    const error = h('p', { class: 'error', role: 'alert', id: 'wt-error' });
    const stepBar = h('div', { class: 'steps', role: 'toolbar', 'aria-label': 'Steps' });
    const headGrid = h('div', {
      class: 'head-grid',
      id: 'wt-heads-grid',
      role: 'group',
      'aria-label': 'Heads: hover or focus to preview, click to lock',
    });
    const stage = h('section', { class: 'stage', id: 'wt-stage' });
    const qkvFields = h(
      'div',
      { class: 'inputs-row' },
      h('div', { class: 'field' }, h('label', { for: 'wt-q' }, 'Q (queries)'), qIn),
      h('div', { class: 'field' }, h('label', { for: 'wt-k' }, 'K (keys)'), kIn),
      h('div', { class: 'field' }, h('label', { for: 'wt-v' }, 'V (values)'), vIn),
    );
    const embFields = h(
      'div',
      { class: 'inputs-row' },
      h('div', { class: 'field' }, h('label', { for: 'wt-emb' }, 'Embeddings (one row per token)'), embIn),
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'wt-heads' }, 'Heads'),
        headsIn,
        h('label', { for: 'wt-headdim' }, 'Head width dₖ'),
        headDimIn,
        h('label', { for: 'wt-seed' }, 'Random seed of W_Q, W_K, W_V, W_O'),
        seedIn,
      ),
    );
    let last: { data: WalkthroughData; config: WalkthroughConfig } | undefined;

    root.append(
      h('h1', {}, 'Attention walkthrough'),
      h(
        'p',
        { class: 'lede' },
        'Attention(Q, K, V) = softmax(Q Kᵀ / √dₖ + mask) V, one step at a time, computed in your browser on the backend shown above. Give queries, keys and values directly (three tokens to start with), or a sentence’s token embeddings, which random matrices W_Q, W_K, W_V project into several heads.',
      ),
      h(
        'form',
        { class: 'inputs', id: 'wt-form' },
        h(
          'fieldset',
          { class: 'field wide modes' },
          h('legend', {}, 'Input'),
          modeQkv,
          h('label', { for: 'wt-mode-qkv' }, 'Q, K, V (one head)'),
          modeEmb,
          h('label', { for: 'wt-mode-emb' }, 'Embeddings (several heads)'),
        ),
        h(
          'div',
          { class: 'field wide' },
          h('label', { for: 'wt-tokens' }, 'Tokens'),
          tokensIn,
          h('small', { id: 'wt-tokens-help' }, 'One per row, separated by spaces.'),
        ),
        qkvFields,
        embFields,
        h(
          'div',
          { class: 'field check' },
          causalIn,
          h('label', { for: 'wt-causal' }, 'Causal mask (token i sees j ≤ i)'),
        ),
      ),
      error,
      linkNote,
      stepBar,
      headGrid,
      stage,
    );

    const steps = (): Step[] => (mode === 'embeddings' ? [...HEAD_STEPS, ...MULTI_STEPS] : HEAD_STEPS);
    const saveState = (): void => {
      const state: Record<string, string> = { mode, step: String(stepIndex + 1), causal: causal ? '1' : '0' };
      const words = tokensIn.value.trim().split(/\s+/).filter(Boolean);
      if (words.join(' ') !== defaultsFor(mode).join(' ')) state.tokens = words.join(' ');
      try {
        if (mode === 'qkv') {
          for (const [key, el, def] of [
            ['q', qIn, SEED_002.q],
            ['k', kIn, SEED_002.k],
            ['v', vIn, SEED_002.v],
          ] as const) {
            const m = parseMatrix(el.value, key);
            if (!sameMatrix(m, def)) state[key] = matrixToParam(m);
          }
        } else {
          const m = parseMatrix(embIn.value, 'emb');
          if (!sameMatrix(m, SEED_001.embeddings)) state.emb = matrixToParam(m);
          Object.assign(state, {
            heads: headsIn.value,
            hd: headDimIn.value,
            seed: seedIn.value,
            head: String(locked + 1),
          });
        }
      } catch {
        /* invalid input is reported by recompute; keep the rest of the state */
      }
      ctx.setParams(state);
    };

    /** Redraws `container` with `draw` and gives focus back to the control that had it (same `key`). */
    const keepFocus = (container: HTMLElement, key: (el: HTMLElement) => string | null, redraw: () => void): void => {
      const active = document.activeElement;
      const had = active instanceof HTMLElement && container.contains(active) ? key(active) : null;
      redraw();
      if (had === null) return;
      for (const el of container.querySelectorAll<HTMLElement>('button'))
        if (key(el) === had) {
          el.focus();
          return;
        }
    };
    const stepKey = (el: HTMLElement) => el.dataset.step ?? el.getAttribute('aria-label');
    const drawStepBar = (): void => keepFocus(stepBar, stepKey, drawStepButtons);
    const drawStepButtons = (): void => {
      const list = steps();
      stepIndex = Math.min(stepIndex, list.length - 1);
      const buttons = list.map((s, i) =>
        button(
          `${i + 1}. ${s.title}`,
          () => {
            stepIndex = i;
            draw();
          },
          { class: 'step', 'data-step': String(i + 1), 'aria-pressed': String(i === stepIndex) },
        ),
      );
      stepBar.replaceChildren(
        button(
          '←',
          () => {
            stepIndex = Math.max(0, stepIndex - 1);
            draw();
          },
          { class: 'nav-step', 'aria-label': 'Previous step' },
        ),
        ...buttons,
        button(
          '→',
          () => {
            stepIndex = Math.min(list.length - 1, stepIndex + 1);
            draw();
          },
          { class: 'nav-step', 'aria-label': 'Next step' },
        ),
      );
    };

    const drawHeadGrid = (): void => keepFocus(headGrid, (el) => el.dataset.head ?? null, drawHeadButtons);
    const drawHeadButtons = (): void => {
      headGrid.replaceChildren();
      if (!last || mode !== 'embeddings') return;
      const step = steps()[stepIndex]!;
      if (step.key === 'concat' || step.key === 'projected') return;
      const { data } = last;
      headGrid.append(h('span', { class: 'muted' }, 'Heads (hover to preview, click to lock):'));
      data.heads.forEach((head, i) => {
        const b = h('button', {
          type: 'button',
          class: 'head-thumb',
          'data-head': String(i + 1),
          'aria-pressed': String(i === locked),
          title: i === locked ? `Head ${i + 1} is locked` : `Preview head ${i + 1}; click to lock`,
        });
        // The button's name is its visible text ("head 2"; aria-pressed says which is locked): the
        // thumbnail is a picture of the panel beside it, hidden from screen readers.
        const thumb = h('span', { class: 'thumb', 'aria-hidden': 'true' });
        thumb.innerHTML = renderSvg(headSpec(step, head, data.tokens, true)); // plot escapes all text
        b.append(thumb, h('span', {}, `head ${i + 1}`));
        const show = (): void => {
          if (preview !== i) {
            preview = i;
            drawStage();
          }
        };
        const hide = (): void => {
          if (preview !== undefined) {
            preview = undefined;
            drawStage();
          }
        };
        b.addEventListener('mouseenter', show);
        b.addEventListener('focus', show);
        b.addEventListener('mouseleave', hide);
        b.addEventListener('blur', hide);
        b.addEventListener('click', () => {
          locked = i;
          preview = undefined;
          draw();
        });
        headGrid.append(b);
      });
    };

    const drawStage = (): void => {
      stage.replaceChildren();
      if (!last) return;
      const { data, config } = last;
      const step = steps()[stepIndex]!;
      const shown = Math.min(preview ?? locked, data.heads.length - 1);
      stage.dataset.head = String(shown + 1);
      const info = { causal, scale: data.scale, heads: data.heads.length };
      const name = `attention-${step.key}${causal ? '-causal' : ''}`;
      let spec: HeatmapSpec;
      let table: HTMLTableElement;
      if (step.key === 'concat' || step.key === 'projected') {
        spec = multiSpec(step, data, config.headDim);
        table = numbersTable(spec.values, data.tokens, spec.colLabels ?? [], `${step.title} (${step.formula})`);
      } else {
        const head = data.heads[shown]!;
        spec = headSpec(step, head, data.tokens);
        if (data.heads.length > 1)
          spec.title = `Head ${shown + 1}${preview !== undefined && preview !== locked ? ' (preview)' : ''}: ${spec.title}`;
        table = numbersTable(
          full(head[step.key], step.key, head.mask),
          data.tokens,
          spec.colLabels ?? [],
          `${step.title} (${step.formula})`,
        );
      }
      const panel = figurePanel('wt', spec, { file: name, data: { config, ...data } });
      stage.append(
        h('h2', {}, `Step ${stepIndex + 1}: ${step.title}`, h('span', { class: 'formula' }, step.formula)),
        h('p', {}, step.explain(info)),
        panel.el,
        h(
          'details',
          { open: true },
          h('summary', {}, 'Numbers'),
          // Wider than a phone: it scrolls in its own box, a named tab stop (the page keeps its width).
          h('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': 'Numbers table' }, table),
        ),
      );
      if (step.key === 'projected' && data.wO) {
        const wO = zero(data.wO);
        stage.append(
          figurePanel(
            'wt-wo',
            {
              kind: 'heatmap',
              title: 'W_O (output projection)',
              values: wO,
              xLabel: 'model dimension',
              yLabel: 'head.dimension',
              rowLabels: wO.map((_, j) => `h${Math.floor(j / config.headDim) + 1}.${(j % config.headDim) + 1}`),
              colLabels: wO[0]?.map((_, j) => `d${j + 1}`) ?? [],
            },
            { file: 'attention-w-o', data: data.wO },
          ).el,
        );
      }
    };

    const draw = (): void => {
      saveState();
      drawStepBar();
      drawHeadGrid();
      drawStage();
    };

    let seq = 0;
    const recompute = async (): Promise<void> => {
      const mine = ++seq;
      qkvFields.hidden = mode !== 'qkv';
      embFields.hidden = mode !== 'embeddings';
      try {
        const words = tokensIn.value.trim().split(/\s+/).filter(Boolean);
        let overrides: Partial<WalkthroughConfig>;
        if (mode === 'qkv') {
          const q = parseMatrix(qIn.value, 'Q');
          const k = parseMatrix(kIn.value, 'K', q[0]!.length);
          const v = parseMatrix(vIn.value, 'V');
          if (k.length !== q.length || v.length !== q.length)
            throw new Error(`Q, K and V need one row per token: got ${q.length}, ${k.length} and ${v.length} rows`);
          overrides = { mode, q, k, v, causal, tokens: q.map((_, i) => words[i] ?? `t${i + 1}`) };
        } else {
          const embeddings = parseMatrix(embIn.value, 'Embeddings');
          overrides = {
            mode,
            embeddings,
            causal,
            tokens: embeddings.map((_, i) => words[i] ?? `t${i + 1}`),
            heads: Number(headsIn.value),
            headDim: Number(headDimIn.value),
            seed: Number(seedIn.value),
          };
        }
        const config = resolveConfig(attentionWalkthrough, { preset: 'quick', overrides });
        const result = await attentionWalkthrough.run(config);
        if (mine !== seq) return;
        error.textContent = '';
        last = { data: result.data, config };
        locked = Math.min(locked, result.data.heads.length - 1);
        root.dataset.ready = 'true';
      } catch (e) {
        if (mine !== seq) return;
        error.textContent = (e as Error).message;
      }
      draw();
    };
    for (const el of [qIn, kIn, vIn, embIn, tokensIn, headsIn, headDimIn, seedIn])
      el.addEventListener('input', () => void recompute());
    causalIn.addEventListener('change', () => {
      causal = causalIn.checked;
      void recompute();
    });
    for (const r of [modeQkv, modeEmb]) {
      r.addEventListener('change', () => {
        const before = mode;
        mode = modeEmb.checked ? 'embeddings' : 'qkv';
        if (tokensIn.value.trim().split(/\s+/).join(' ') === defaultsFor(before).join(' '))
          tokensIn.value = defaultsFor(mode).join(' ');
        void recompute();
      });
    }
    void recompute();
  },
};
