import { sequentialColor } from '@attnlab/plot';
import { h } from '../dom.js';
import { kvChoices, type PlayNumbers, type PlaySettings } from './compute.js';
import { DEFAULT_SENTENCE, HEADS, MAX_HEADS, tokenize } from './toy.js';

/** The playground's settings plus what the reader looks at: a head (0-based) and a step (1-based). */
export interface StoryState extends PlaySettings {
  head: number;
  step: number;
}

const T_MIN = 0.125;
const T_MAX = 8;

/** Reads settings from a link; each bad one is dropped with a sentence naming it and what is allowed. */
export function readSettings(
  params: URLSearchParams,
  defaults: Partial<StoryState> = {},
): { state: StoryState; dropped: string[] } {
  const dropped: string[] = [];
  const state: StoryState = {
    words: tokenize(DEFAULT_SENTENCE).words,
    heads: MAX_HEADS,
    kvHeads: MAX_HEADS,
    causal: false,
    temperature: 1,
    head: 0,
    step: 1,
    ...defaults,
  };
  const s = params.get('s');
  if (s !== null) {
    const t = tokenize(s);
    if (t.words.length) state.words = t.words;
    else dropped.push(`s (no known word in “${s}”)`);
  }
  const num = (key: string, ok: (v: number) => boolean, allowed: string, set: (v: number) => void): void => {
    const raw = params.get(key);
    if (raw === null) return;
    const v = Number(raw);
    if (raw.trim() !== '' && ok(v)) set(v);
    else dropped.push(`${key}=${raw} (allowed: ${allowed})`);
  };
  num(
    'heads',
    (v) => Number.isInteger(v) && v >= 1 && v <= MAX_HEADS,
    `1 … ${MAX_HEADS}`,
    (v) => (state.heads = v),
  );
  if (!kvChoices(state.heads).includes(state.kvHeads)) state.kvHeads = state.heads;
  num(
    'kv',
    (v) => kvChoices(state.heads).includes(v),
    kvChoices(state.heads).join(', '),
    (v) => (state.kvHeads = v),
  );
  num(
    't',
    (v) => v >= T_MIN && v <= T_MAX,
    `${T_MIN} … ${T_MAX}`,
    (v) => (state.temperature = v),
  );
  num(
    'causal',
    (v) => v === 0 || v === 1,
    '0, 1',
    (v) => (state.causal = v === 1),
  );
  num(
    'head',
    (v) => Number.isInteger(v) && v >= 1 && v <= state.heads,
    `1 … ${state.heads}`,
    (v) => (state.head = v - 1),
  );
  num(
    'step',
    (v) => Number.isInteger(v) && v >= 1 && v <= 7,
    '1 … 7',
    (v) => (state.step = v),
  );
  return { state, dropped };
}

/** The state as link settings (read back by {@link readSettings}). */
export function settingsParams(s: StoryState): Record<string, string> {
  return {
    s: s.words.join(' '),
    t: String(Number(s.temperature.toFixed(3))),
    causal: s.causal ? '1' : '0',
    heads: String(s.heads),
    kv: String(s.kvHeads),
    head: String(s.head + 1),
    step: String(s.step),
  };
}

/** “2 (pairs share: GQA)”: a key/value head count in words. */
export function kvLabel(g: number, heads: number): string {
  if (g === heads) return `${g}: every head its own (MHA)`;
  if (g === 1) return '1: all heads share one (MQA)';
  return `${g}: groups of ${heads / g} share (GQA)`;
}

/** A temperature slider on a log scale (τ from 1/8 to 8), with its value and the scale it gives. */
export function temperatureSlider(
  id: string,
  initial: number,
  onChange: (t: number) => void,
): { el: HTMLElement; input: HTMLInputElement } {
  const input = h('input', {
    type: 'range',
    id,
    min: String(Math.log2(T_MIN)),
    max: String(Math.log2(T_MAX)),
    step: '0.125',
    value: String(Math.log2(initial)),
    'aria-describedby': `${id}-help`,
  });
  const out = h('output', { for: id });
  const show = (t: number): void => {
    out.textContent = `τ = ${t.toFixed(2)}`;
    input.setAttribute('aria-valuetext', `temperature ${t.toFixed(2)}`);
  };
  show(initial);
  input.addEventListener('input', () => {
    const t = 2 ** Number(input.value);
    show(t);
    onChange(t);
  });
  const el = h(
    'div',
    { class: 'st-field' },
    h(
      'label',
      { for: id },
      h('abbr', { title: 'temperature τ: scores are divided by it before the softmax' }, 'Temperature'),
      ' ',
    ),
    input,
    ' ',
    out,
    h('small', { id: `${id}-help` }, 'left: pickier (sharper), right: more even'),
  );
  return { el, input };
}

/** A small picture of each head's attention weights, each a button that selects the head. */
export function headThumbs(
  prefix: string,
  onSelect?: (head: number) => void,
): { el: HTMLElement; update(n: PlayNumbers, selected?: number): void } {
  const el = h('div', { class: 'st-thumbs' });
  const update = (n: PlayNumbers, selected?: number): void => {
    // The buttons are drawn again: the one that had the focus keeps it.
    const focused = document.activeElement?.id;
    const group = n.heads.length / n.wK.length;
    el.replaceChildren(
      ...n.heads.map((hd, i) => {
        const T = hd.weights.length;
        const grid = h('span', { class: 'st-thumb-grid', 'aria-hidden': 'true', style: `--n:${T}` });
        hd.weights.forEach((row, r) =>
          row.forEach((w, c) => {
            const masked = !n.mask[r]![c]!;
            grid.append(
              h('span', {
                class: masked ? 'st-tc st-tc-masked' : 'st-tc',
                'data-value': String(w),
                style: masked ? undefined : `background-color:${sequentialColor(w)}`,
              }),
            );
          }),
        );
        const info = HEADS[i]!;
        const label = h(
          'span',
          { class: 'st-thumb-label' },
          h('strong', {}, `Head ${i + 1}`),
          ` ${info.name}`,
          group > 1 ? h('small', {}, `keys and values of head ${hd.kvHead * group + 1}`) : null,
        );
        const attrs = {
          class: 'st-thumb',
          'data-head': String(i),
          id: `${prefix}-thumb-${i}`,
          title: info.looksFor,
        };
        if (!onSelect) return h('div', attrs, grid, label);
        const b = h('button', { ...attrs, type: 'button', 'aria-pressed': String(i === selected) }, grid, label);
        b.addEventListener('click', () => onSelect(i));
        return b;
      }),
    );
    if (focused?.startsWith(`${prefix}-thumb-`)) document.getElementById(focused)?.focus();
  };
  return { el, update };
}
