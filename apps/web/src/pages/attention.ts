import { computeAttention, kvChoices, type PlayNumbers, type PlaySettings } from '../attention/compute.js';
import { cellText, MatrixView, type MatrixScale } from '../attention/matrix-view.js';
import {
  DEFAULT_SENTENCE,
  DIMS,
  HEAD_DIM,
  HEADS,
  MAX_HEADS,
  MAX_WORDS,
  tokenize,
  VOCABULARY,
} from '../attention/toy.js';
import {
  headThumbs,
  kvLabel,
  readSettings,
  settingsParams,
  temperatureSlider,
  type StoryState,
} from '../attention/controls.js';
import { button, h, reducedMotion } from '../dom.js';
import type { Page } from '../router.js';
import '../story.css';

interface Step {
  title: string;
  formula: string;
  /** Which matrix the big grid shows (steps 3 … 7). */
  grid?: 'scores' | 'scaled' | 'masked' | 'weights';
  explain: (n: PlayNumbers, s: StoryState) => string;
  notice: string;
}

const STEPS: Step[] = [
  {
    title: 'Words to vectors',
    formula: 'X',
    explain: () =>
      'Each word becomes a row of numbers, its embedding: what kind of word it is, whether it is alive, and where it stands (its position p, p² and a constant 1).',
    notice: 'Two words of the same kind differ only in their position columns (and “alive”).',
  },
  {
    title: 'Project',
    formula: 'Q = X·W_Q, K = X·W_K, V = X·W_V',
    explain: () =>
      'Three weight matrices turn each embedding into a query (what the word looks for), a key (what it offers to others) and a value (what it hands over if chosen).',
    notice: 'Hover a cell of Q, K or V: the row of X and the column of W that multiply into it light up.',
  },
  {
    title: 'Scores',
    formula: 'S = Q·Kᵀ',
    grid: 'scores',
    explain: () =>
      'Every query is compared with every key by a dot product. A large score means “this word answers my question”.',
    notice: 'Hover a score: the query row and the key row it comes from light up.',
  },
  {
    title: 'Scale',
    formula: 'S × 1/(τ·√dₖ)',
    grid: 'scaled',
    explain: (n, s) =>
      `The scores are multiplied by 1/(τ·√dₖ) = 1/(${s.temperature.toFixed(2)}·√${HEAD_DIM}) = ${n.scale.toFixed(3)}. Dividing by √dₖ keeps scores from growing with the width of the vectors; the temperature τ is yours to turn.`,
    notice: 'Lower the temperature and the numbers grow; raise it and they shrink towards 0.',
  },
  {
    title: 'Mask',
    formula: 'S + mask',
    grid: 'masked',
    explain: (_n, s) =>
      s.causal
        ? 'With the causal mask a word may only look at itself and the words before it: later words get −∞ (hatched).'
        : 'No mask: every word may look at every word. Turn on “no peeking” to hide later words.',
    notice: 'The hatched cells are above the diagonal: the future.',
  },
  {
    title: 'Softmax',
    formula: 'A = softmax(S) row by row',
    grid: 'weights',
    explain: () =>
      'Softmax turns each row of scores into weights that are positive and add up to 1: how the word spreads its attention.',
    notice: 'Every row adds up to 1; −∞ becomes exactly 0.',
  },
  {
    title: 'Mix the values',
    formula: 'O = A·V',
    grid: 'weights',
    explain: () =>
      'Each word’s output is the weighted average of the value rows, using its attention weights. This is what the head passes on.',
    notice: 'Hover an output cell: the row of weights and the column of V that make it light up.',
  },
];

const GRID_TITLE: Record<NonNullable<Step['grid']>, string> = {
  scores: 'Scores Q·Kᵀ (query word ↓, key word →)',
  scaled: 'Scaled scores',
  masked: 'Masked scores',
  weights: 'Attention weights A',
};

const dimCols = Array.from({ length: HEAD_DIM }, (_, c) => String(c + 1));

/** The playground: every step of attention for a sentence you type, per head. */
export const attentionPage: Page = {
  path: 'attention',
  title: 'Playground',
  render(root, ctx) {
    const { state, dropped } = readSettings(ctx.params, { step: 6 });
    let numbers: PlayNumbers | null = null;
    let generation = 0;
    let playTimer: ReturnType<typeof setInterval> | undefined;

    const views = new Map<string, MatrixView>();
    const slots = new Map<string, HTMLElement>();
    const slot = (name: string): HTMLElement => {
      const el = h('div', { class: 'pg-slot', 'data-slot': name });
      slots.set(name, el);
      return el;
    };

    // Controls
    const input = h('input', {
      id: 'pg-sentence',
      type: 'text',
      value: state.words.join(' '),
      autocomplete: 'off',
      spellcheck: 'false',
      'aria-describedby': 'pg-sentence-msg',
    });
    const msg = h('p', { id: 'pg-sentence-msg', class: 'st-msg', 'aria-live': 'polite' });
    const vocab = h(
      'details',
      { class: 'st-vocab' },
      h('summary', {}, 'The words this playground knows'),
      ...(Object.entries(VOCABULARY) as [string, readonly string[]][]).map(([kind, ws]) =>
        h(
          'p',
          {},
          h('strong', {}, `${kind}: `),
          ...ws.map((w) =>
            button(
              w,
              () => {
                const next = `${input.value.trim()} ${w}`.trim();
                input.value = next;
                onSentence();
              },
              { class: 'st-word', 'aria-label': `add “${w}”` },
            ),
          ),
        ),
      ),
    );
    const temp = temperatureSlider('pg-temp', state.temperature, (t) => {
      state.temperature = t;
      update();
    });
    const causal = h('input', { type: 'checkbox', id: 'pg-causal', checked: state.causal });
    causal.addEventListener('change', () => {
      state.causal = causal.checked;
      update();
    });
    const headsIn = h('input', {
      type: 'range',
      id: 'pg-heads',
      min: '1',
      max: String(MAX_HEADS),
      step: '1',
      value: String(state.heads),
    });
    const headsOut = h('output', { for: 'pg-heads' }, String(state.heads));
    const kvBox = h('fieldset', { class: 'st-kv' });
    const drawKv = (): void => {
      kvBox.replaceChildren(h('legend', {}, 'Key/value heads'));
      for (const g of kvChoices(state.heads)) {
        const id = `pg-kv-${g}`;
        const r = h('input', { type: 'radio', name: 'pg-kv', id, value: String(g), checked: g === state.kvHeads });
        r.addEventListener('change', () => {
          state.kvHeads = g;
          update();
        });
        kvBox.append(h('label', { for: id, class: 'st-radio' }, r, ` ${kvLabel(g, state.heads)}`));
      }
    };
    headsIn.addEventListener('input', () => {
      state.heads = Number(headsIn.value);
      headsOut.textContent = headsIn.value;
      if (!kvChoices(state.heads).includes(state.kvHeads)) state.kvHeads = state.heads;
      state.head = Math.min(state.head, state.heads - 1);
      drawKv();
      update();
    });
    drawKv();

    const headInfo = h('p', { class: 'st-readout', 'aria-live': 'polite' });
    const thumbs = headThumbs('pg', (hd) => {
      state.head = hd;
      update(false);
    });

    // Steps
    const stepButtons = STEPS.map((st, i) =>
      button(`${i + 1}. ${st.title}`, () => goStep(i + 1), { class: 'st-step', 'data-step': String(i + 1) }),
    );
    const prev = button('← Back', () => goStep(state.step - 1), { class: 'st-nav' });
    const next = button('Next →', () => goStep(state.step + 1), { class: 'st-nav' });
    const play = button('▶ Play all steps', () => togglePlay(), { class: 'st-nav', 'aria-pressed': 'false' });

    const explain = h('p', { class: 'pg-explain', 'aria-live': 'polite' });
    const notice = h('p', { class: 'st-notice' });
    const readout = h(
      'p',
      { class: 'pg-readout', 'aria-live': 'polite' },
      'Hover or focus a cell to see where it comes from.',
    );
    const stage = h(
      'div',
      { class: 'pg-stage', 'data-step': String(state.step) },
      h('div', { class: 'pg-sec pg-embed' }, slot('x')),
      h(
        'div',
        { class: 'pg-sec pg-proj' },
        h(
          'div',
          { class: 'pg-eq' },
          h('span', { class: 'pg-op' }, 'X ·'),
          slot('wq'),
          h('span', { class: 'pg-op' }, '='),
          slot('q'),
        ),
        h(
          'div',
          { class: 'pg-eq' },
          h('span', { class: 'pg-op' }, 'X ·'),
          slot('wk'),
          h('span', { class: 'pg-op' }, '='),
          slot('k'),
        ),
        h(
          'div',
          { class: 'pg-eq' },
          h('span', { class: 'pg-op' }, 'X ·'),
          slot('wv'),
          h('span', { class: 'pg-op' }, '='),
          slot('v'),
        ),
      ),
      h('div', { class: 'pg-sec pg-qk' }, slot('q-attn'), slot('k-attn')),
      h(
        'div',
        { class: 'pg-sec pg-main' },
        slot('grid'),
        h('span', { class: 'pg-op pg-out-op' }, '·'),
        h('div', { class: 'pg-out-part' }, slot('v-out')),
        h('span', { class: 'pg-op pg-out-op' }, '='),
        h('div', { class: 'pg-out-part' }, slot('out')),
      ),
    );

    root.append(
      h('h1', {}, 'Attention you can play with'),
      h(
        'p',
        { class: 'st-lede' },
        'Type a sentence and follow one head of attention step by step, from the words to what the head passes on. The embeddings and weights are built by hand (nothing is trained), so every number can be checked; the arithmetic is the lab’s own attention code, run in this page.',
      ),
      ...(dropped.length
        ? [h('p', { class: 'st-msg', role: 'status' }, `Ignored link settings: ${dropped.join('; ')}.`)]
        : []),
      h(
        'section',
        { class: 'st-controls', 'aria-label': 'Settings' },
        h(
          'div',
          { class: 'st-field st-wide' },
          h('label', { for: 'pg-sentence' }, `Sentence (up to ${MAX_WORDS} words)`),
          input,
          msg,
          vocab,
        ),
        temp.el,
        h(
          'div',
          { class: 'st-field' },
          h('label', { for: 'pg-causal', class: 'st-check' }, causal, ' No peeking: hide later words (causal mask)'),
        ),
        h('div', { class: 'st-field' }, h('label', { for: 'pg-heads' }, 'Heads '), headsIn, ' ', headsOut),
        kvBox,
      ),
      h(
        'section',
        { 'aria-labelledby': 'pg-heads-h' },
        h('h2', { id: 'pg-heads-h', class: 'st-h3' }, 'Heads (choose one to follow)'),
        thumbs.el,
        headInfo,
      ),
      h(
        'section',
        { 'aria-labelledby': 'pg-steps-h', class: 'pg-steps-sec' },
        h('h2', { id: 'pg-steps-h', class: 'st-h3' }, 'Steps'),
        h('ol', { class: 'st-steps' }, ...stepButtons.map((b) => h('li', {}, b))),
        h('div', { class: 'st-stepnav' }, prev, next, play),
        explain,
        notice,
        stage,
        readout,
      ),
    );

    function onSentence(): void {
      const t = tokenize(input.value);
      const parts: string[] = [];
      if (t.unknown.length)
        parts.push(
          `Not in the vocabulary, left out: ${t.unknown.map((w) => `“${w}”`).join(', ')} (open the word list below).`,
        );
      if (t.dropped) parts.push(`Only the first ${MAX_WORDS} words are used.`);
      if (t.words.length === 0) parts.push('Type at least one known word; showing the example sentence.');
      msg.textContent = parts.join(' ');
      input.setAttribute('aria-invalid', String(t.unknown.length > 0 || t.words.length === 0));
      state.words = t.words.length ? t.words : tokenize(DEFAULT_SENTENCE).words;
      update();
    }
    input.addEventListener('input', onSentence);

    function goStep(n: number): void {
      state.step = Math.min(STEPS.length, Math.max(1, n));
      update(false);
    }
    function togglePlay(): void {
      if (playTimer) {
        clearInterval(playTimer);
        playTimer = undefined;
        play.setAttribute('aria-pressed', 'false');
        play.textContent = '▶ Play all steps';
        return;
      }
      play.setAttribute('aria-pressed', 'true');
      play.textContent = '❚❚ Pause';
      if (state.step >= STEPS.length) goStep(1);
      playTimer = setInterval(
        () => {
          if (state.step >= STEPS.length) togglePlay();
          else goStep(state.step + 1);
        },
        reducedMotion() ? 3000 : 1800,
      );
    }

    const view = (
      name: string,
      title: string,
      rows: string[],
      cols: string[],
      scale: MatrixScale,
      describe?: (i: number, j: number, v: string) => string,
    ): MatrixView => {
      let v = views.get(name);
      if (!v || !v.fits(rows, cols)) {
        v = new MatrixView({
          name,
          title,
          rowLabels: rows,
          colLabels: cols,
          scale,
          describe,
          onCell: (c) => link(name, c),
        });
        views.set(name, v);
        slots.get(name)?.replaceChildren(v.el);
      } else v.setTitle(title);
      return v;
    };

    function link(name: string, c: { i: number; j: number } | null): void {
      views.forEach((v) => v.highlight(null, null));
      if (!c || !numbers) return;
      const n = numbers;
      const hd = n.heads[state.head]!;
      const wi = n.words[c.i] ?? '';
      const wj = n.words[c.j] ?? '';
      const hl = (m: string, rows: number[] | null, cols: number[] | null) => views.get(m)?.highlight(rows, cols);
      if (name === 'q' || name === 'k' || name === 'v') {
        hl('x', [c.i], null);
        hl(`w${name}`, null, [c.j]);
        hl(name, [c.i], [c.j]);
        const val = hd[name][c.i]![c.j]!;
        readout.textContent = `${name.toUpperCase()}[${wi}, ${c.j + 1}] = row “${wi}” of X · column ${c.j + 1} of W_${name.toUpperCase()} = ${cellText(val)}`;
      } else if (name === 'grid') {
        hl('grid', [c.i], [c.j]);
        const step = STEPS[state.step - 1]!;
        if (state.step === 7) {
          hl('v-out', [c.j], null);
          readout.textContent = `“${wi}” gives weight ${cellText(hd.weights[c.i]![c.j]!)} to the value of “${wj}”.`;
          return;
        }
        hl('q-attn', [c.i], null);
        hl('k-attn', [c.j], null);
        hl('q', [c.i], null);
        hl('k', [c.j], null);
        const allowed = n.mask[c.i]![c.j]!;
        readout.textContent =
          `“${wi}” → “${wj}”: Q[${wi}] · K[${wj}] = ${cellText(hd.scores[c.i]![c.j]!)}` +
          (step.grid !== 'scores' ? `; × ${n.scale.toFixed(3)} = ${cellText(hd.scaled[c.i]![c.j]!)}` : '') +
          (step.grid === 'masked' || step.grid === 'weights' ? (allowed ? '' : '; masked: −∞') : '') +
          (step.grid === 'weights' ? `; weight ${cellText(hd.weights[c.i]![c.j]!)}` : '');
      } else if (name === 'out') {
        hl('out', [c.i], [c.j]);
        hl('grid', [c.i], null);
        hl('v-out', null, [c.j]);
        readout.textContent = `Output[${wi}, ${c.j + 1}] = weights of “${wi}” · column ${c.j + 1} of V = ${cellText(hd.output[c.i]![c.j]!)}`;
      } else if (name === 'q-attn' || name === 'k-attn') {
        hl(name, [c.i], null);
        hl('grid', name === 'q-attn' ? [c.i] : null, name === 'k-attn' ? [c.i] : null);
        readout.textContent = `${name === 'q-attn' ? 'Query' : 'Key'} of “${wi}”: its ${name === 'q-attn' ? 'row' : 'column'} of scores lights up.`;
      }
    }

    function draw(n: PlayNumbers): void {
      const hd = n.heads[state.head]!;
      const words = n.words.map((w, i) =>
        n.words.indexOf(w) !== i || n.words.lastIndexOf(w) !== i ? `${w}·${i + 1}` : w,
      );
      const step = STEPS[state.step - 1]!;
      stage.dataset.step = String(state.step);
      stage.dataset.head = String(state.head);
      stepButtons.forEach((b, i) =>
        i + 1 === state.step ? b.setAttribute('aria-current', 'step') : b.removeAttribute('aria-current'),
      );
      prev.disabled = state.step <= 1;
      next.disabled = state.step >= STEPS.length;
      explain.replaceChildren(h('strong', {}, `Step ${state.step}: ${step.formula}. `), step.explain(n, state));
      notice.replaceChildren(h('strong', {}, 'What to notice: '), step.notice);
      const kv = hd.kvHead;
      const shared = n.heads.length / n.wK.length > 1 ? ` (key/value head ${kv + 1}, shared)` : '';
      view('x', 'X: one row per word', words, [...DIMS], 'signed').update(n.x);
      view('wq', `W_Q of head ${state.head + 1}`, [...DIMS], dimCols, 'signed').update(n.wQ[state.head]!);
      view('wk', `W_K${shared}`, [...DIMS], dimCols, 'signed').update(n.wK[kv]!);
      view('wv', `W_V${shared}`, [...DIMS], dimCols, 'signed').update(n.wV[kv]!);
      view('q', 'Q (queries)', words, dimCols, 'signed').update(hd.q);
      view('k', 'K (keys)', words, dimCols, 'signed').update(hd.k);
      view('v', 'V (values)', words, dimCols, 'signed').update(hd.v);
      view('q-attn', 'Q', words, dimCols, 'signed').update(hd.q);
      view('k-attn', 'K', words, dimCols, 'signed').update(hd.k);
      const g = step.grid ?? 'scores';
      const grid = view(
        'grid',
        GRID_TITLE[g],
        words,
        words,
        g === 'weights' ? 'weights' : 'signed',
        (i, j, v) => `“${words[i]}” → “${words[j]}”: ${v}`,
      );
      grid.el.dataset.step = g;
      // Weights the mask removed (exactly 0) stay hatched, as their −∞ scores were.
      grid.update(hd[g], g === 'weights' ? n.mask.map((r) => r.map((ok) => !ok)) : undefined);
      view('v-out', 'V', words, dimCols, 'signed').update(hd.v);
      view('out', 'Output O', words, dimCols, 'signed').update(hd.output);
      thumbs.update(n, state.head);
      const group = n.heads.length / n.wK.length;
      headInfo.textContent =
        `Head ${state.head + 1}, ${HEADS[state.head]!.name}: ${HEADS[state.head]!.looksFor}.` +
        (group > 1
          ? ` It shares keys and values with ${group - 1 === 1 ? 'one other head' : `${group - 1} other heads`}: those of head ${kv * group + 1}, built for ${HEADS[kv * group]!.name}.`
          : '');
      root.dataset.ready = 'true';
    }

    function update(recompute = true): void {
      ctx.setParams(settingsParams(state));
      if (!recompute && numbers) {
        draw(numbers);
        return;
      }
      const my = ++generation;
      const settings: PlaySettings = { ...state };
      void computeAttention(settings).then(
        (n) => {
          if (my !== generation) return;
          numbers = n;
          draw(n);
        },
        (err: unknown) => {
          msg.textContent = (err as Error).message;
        },
      );
    }
    onSentence();
    return () => {
      generation++;
      if (playTimer) clearInterval(playTimer);
    };
  },
};
