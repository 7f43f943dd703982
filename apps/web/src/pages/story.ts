import { computeAttention, type PlayNumbers } from '../attention/compute.js';
import { headThumbs, kvLabel, settingsParams, temperatureSlider } from '../attention/controls.js';
import { iclPrompt } from '../attention/icl-prompt.js';
import { cellText, MatrixView } from '../attention/matrix-view.js';
import { DEFAULT_SENTENCE, HEADS, MAX_HEADS, MAX_WORDS, tokenize, VOCABULARY } from '../attention/toy.js';
import type { EstimatorRow } from '@attnlab/experiments';
import { divergingColor } from '@attnlab/plot';
import { h } from '../dom.js';
import type { Page } from '../router.js';
import '../story.css';

const abbr = (text: string, title: string): HTMLElement => h('abbr', { title }, text);
const notice = (...text: (string | Node)[]): HTMLElement =>
  h('p', { class: 'st-notice' }, h('strong', {}, 'What to notice: '), ...text);
const link = (href: string, text: string): HTMLAnchorElement => h('a', { href }, text);
const para = (...text: (string | Node)[]): HTMLElement => h('p', {}, ...text);

/** Labels for a sentence's words, numbered where a word repeats ("the·1", "the·5"). */
const labels = (words: string[]): string[] =>
  words.map((w, i) => (words.indexOf(w) !== i || words.lastIndexOf(w) !== i ? `${w}·${i + 1}` : w));

/** The landing page: a guided path from one word looking at others to a model that learns in context. */
export const storyPage: Page = {
  // The first page given to the router, so `#/` (and any unknown route) shows it too.
  path: 'start',
  title: 'Start here',
  render(root, ctx) {
    let words = tokenize(DEFAULT_SENTENCE).words;
    let gone = false;
    const fig = {
      hero: { head: 3, temperature: 1, query: 3 },
      mask: { causal: true },
      share: { kvHeads: MAX_HEADS },
    };
    const s = ctx.params.get('s');
    if (s) {
      const t = tokenize(s);
      if (t.words.length) words = t.words;
    }

    // The sentence, shared by every figure.
    const input = h('input', {
      id: 'st-sentence',
      type: 'text',
      value: words.join(' '),
      autocomplete: 'off',
      spellcheck: 'false',
      'aria-describedby': 'st-sentence-msg',
    });
    const msg = h('p', { id: 'st-sentence-msg', class: 'st-msg', 'aria-live': 'polite' });
    input.addEventListener('input', () => {
      const t = tokenize(input.value);
      const parts: string[] = [];
      if (t.unknown.length)
        parts.push(
          `Not in this page’s small vocabulary, left out: ${t.unknown.map((w) => `“${w}”`).join(', ')}. The playground lists every word.`,
        );
      if (t.dropped) parts.push(`Only the first ${MAX_WORDS} words are used.`);
      msg.textContent = parts.join(' ');
      input.setAttribute('aria-invalid', String(t.unknown.length > 0));
      if (t.words.length === 0) return;
      words = t.words;
      fig.hero.query = Math.min(fig.hero.query, words.length - 1);
      ctx.setParams({ s: words.join(' ') });
      update();
    });

    // Figure 1: one word's attention over the sentence.
    const bars = h('div', { class: 'st-bars', role: 'group', 'aria-label': 'Choose the word that is looking' });
    const heroHeads = h('div', { class: 'st-seg', role: 'group', 'aria-label': 'What the word looks for' });
    const heroHeadButtons = HEADS.map((hd, i) => {
      const b = h('button', { type: 'button', class: 'st-segb', 'data-head': String(i) }, hd.name);
      b.addEventListener('click', () => {
        fig.hero.head = i;
        redrawHero();
      });
      heroHeads.append(b);
      return b;
    });
    const heroTemp = temperatureSlider('st-temp', 1, (t) => {
      fig.hero.temperature = t;
      update(['hero']);
    });
    const heroReadout = h('p', { class: 'st-readout', 'aria-live': 'polite' });
    const hero = h(
      'figure',
      { class: 'st-fig st-hero', id: 'st-hero' },
      h(
        'div',
        { class: 'st-field st-wide' },
        h('label', { for: 'st-sentence' }, 'A sentence (type your own)'),
        input,
        msg,
      ),
      bars,
      heroReadout,
      h(
        'div',
        { class: 'st-hero-controls' },
        h('div', { class: 'st-field' }, h('span', { class: 'st-label' }, 'Looking for'), heroHeads),
        heroTemp.el,
      ),
      h(
        'figcaption',
        {},
        notice(
          'the bars show how one word divides its attention: the heights add up to 100%. Click another word to make it the one looking; drag the temperature to the left and the word becomes picky (one bar takes almost everything), to the right and it spreads its attention evenly.',
        ),
      ),
    );

    // Figure 2: every word at once, one head.
    const gridReadout = h('p', { class: 'st-readout', 'aria-live': 'polite' }, 'Hover or focus a cell.');
    let gridNumbers: PlayNumbers | null = null;
    let grid: MatrixView | null = null;
    const gridSlot = h('div', { class: 'pg-slot' });
    const gridFig = h(
      'figure',
      { class: 'st-fig', id: 'st-grid' },
      gridSlot,
      gridReadout,
      h(
        'figcaption',
        {},
        notice(
          'every row adds up to 1. Things look at things, actions at actions: this head compares what kind of word each one is. Hover a cell to see the score behind it.',
        ),
      ),
    );

    // Figure 3: four heads.
    const heads = headThumbs('st-heads');
    const headsFig = h(
      'figure',
      { class: 'st-fig', id: 'st-heads' },
      heads.el,
      h(
        'figcaption',
        {},
        notice(
          'the four pictures differ: a diagonal just below the middle (each word looks at the one before it), a bright first column (back to the start), blocks of words of the same kind, and things paired with actions. One layer asks four questions at once.',
        ),
      ),
    );

    // Figure 4: the mask.
    const maskToggle = h('input', { type: 'checkbox', id: 'st-causal', checked: true });
    maskToggle.addEventListener('change', () => {
      fig.mask.causal = maskToggle.checked;
      update(['mask']);
    });
    let maskView: MatrixView | null = null;
    const maskSlot = h('div', { class: 'pg-slot' });
    const maskFig = h(
      'figure',
      { class: 'st-fig', id: 'st-mask' },
      h(
        'label',
        { for: 'st-causal', class: 'st-check' },
        maskToggle,
        ' No peeking: each word sees only itself and earlier words',
      ),
      maskSlot,
      h(
        'figcaption',
        {},
        notice(
          'with the mask on, everything above the diagonal is hatched and its weight is exactly 0; the first word can only look at itself, so its row is a single 1. The remaining weights in each row grow to still add up to 1.',
        ),
      ),
    );

    // Figure 5: sharing keys and values.
    const share = headThumbs('st-share');
    const shareBox = h('fieldset', { class: 'st-kv' }, h('legend', {}, 'Key/value heads for the four query heads'));
    for (const g of [4, 2, 1]) {
      const id = `st-kv-${g}`;
      const r = h('input', { type: 'radio', name: 'st-kv', id, value: String(g), checked: g === MAX_HEADS });
      r.addEventListener('change', () => {
        fig.share.kvHeads = g;
        update(['share']);
      });
      shareBox.append(h('label', { for: id, class: 'st-radio' }, r, ` ${kvLabel(g, MAX_HEADS)}`));
    }
    const shareNote = h('p', { class: 'st-readout', 'aria-live': 'polite' });
    const shareFig = h(
      'figure',
      { class: 'st-fig', id: 'st-share' },
      shareBox,
      share.el,
      shareNote,
      h(
        'figcaption',
        {},
        notice(
          'with 2 key/value heads nothing changes, because heads 1 and 2 both want “where is the word” keys and heads 3 and 4 both want “what kind of word” keys. With 1, heads 3 and 4 must use position keys and lose their pattern.',
        ),
      ),
    );

    // Figure 6: one prompt, answered by the trained layer's rule and by the classic estimators.
    const promptStrip = h('div', {
      class: 'st-prompt',
      role: 'img',
      'aria-label': 'A prompt: example pairs (x, y), then a question x with its answer hidden',
    });
    const iclTable = h('table', { class: 'st-icl-table' });
    const iclNote = h('p', { class: 'st-readout', 'aria-live': 'polite' });
    const again = h('button', { type: 'button', class: 'st-nav' }, 'New prompt');
    const iclFig = h(
      'figure',
      { class: 'st-fig', id: 'st-icl-fig' },
      promptStrip,
      iclNote,
      iclTable,
      again,
      h(
        'figcaption',
        {},
        notice(
          'ridge regression, which solves for the rule from all the examples, lands almost on the truth. The trained layer’s rule and one step of gradient descent usually get the sign and the rough size right but miss by more: neither solves for the rule, both weigh the examples’ answers by how much each x resembles the question. Press New prompt a few times.',
        ),
      ),
    );
    const num = (v: number): string => cellText(v);
    async function drawIcl(): Promise<void> {
      const p = await iclPrompt();
      if (gone) return;
      const { d, L } = p.run;
      const cells = (x: number[]): HTMLElement =>
        h(
          'span',
          { class: 'st-xcells', 'aria-hidden': 'true' },
          ...x.map((v) =>
            h('span', {
              class: 'st-xc',
              style: `background-color:${divergingColor(0.5 + Math.max(-0.5, Math.min(0.5, v / 5)))}`,
            }),
          ),
        );
      const shown = 5;
      promptStrip.replaceChildren(
        ...p.task.x
          .slice(0, shown)
          .map((x, i) =>
            h(
              'span',
              { class: 'st-pair' },
              h('span', {}, h('i', {}, `x${sub(i + 1)}`), cells(x)),
              h('span', {}, num(p.task.y[i]!)),
            ),
          ),
        h('span', { class: 'st-dots' }, `… ${L - shown} more pairs`),
        h(
          'span',
          { class: 'st-pair st-query' },
          h('span', {}, h('i', {}, 'x'), cells(p.task.xq[0]!)),
          h('span', {}, '?'),
        ),
      );
      const pick = (re: RegExp): EstimatorRow | undefined => p.rows.find((r) => re.test(r.name));
      const shownRows: [string, EstimatorRow | undefined][] = [
        ['The trained layer’s rule (kernel estimator)', pick(/^kernel estimator/)],
        ['One step of gradient descent', pick(/^one-step GD/)],
        ['Ridge regression', pick(/^ridge/)],
      ];
      iclTable.replaceChildren(
        h('caption', {}, `Answers to the question, from the ${L} examples (each x has ${d} numbers)`),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'Who answers'),
            h('th', { scope: 'col' }, 'Answer'),
            h('th', { scope: 'col' }, 'Off by'),
          ),
        ),
        h(
          'tbody',
          {},
          h(
            'tr',
            { class: 'st-truth' },
            h('th', { scope: 'row' }, 'The hidden truth'),
            h('td', { 'data-value': String(p.truth) }, num(p.truth)),
            h('td', {}, '—'),
          ),
          ...shownRows.map(([label, r]) => {
            const v = r?.predictions[0] ?? NaN;
            return h(
              'tr',
              { 'data-estimator': r?.name ?? '' },
              h('th', { scope: 'row' }, label),
              h('td', { 'data-value': String(v) }, num(v)),
              h('td', {}, num(Math.abs(v - p.truth))),
            );
          }),
        ),
      );
      iclNote.textContent = `A fresh prompt: a secret rule with ${d} numbers, ${L} examples of it, and a question. The trained layer is the trainer’s precomputed example (${p.run.heads} heads, ${p.run.steps.toLocaleString('en')} training steps on prompts like this one).`;
      iclFig.dataset.ready = 'true';
    }
    again.addEventListener('click', () => {
      delete iclFig.dataset.ready;
      void drawIcl();
    });

    const playground = link('#/attention', 'Open the playground');
    const sec = (id: string, title: string, ...body: (Node | null)[]): HTMLElement =>
      h('section', { class: 'st-sec', 'aria-labelledby': id }, h('h2', { id }, title), ...body);

    root.append(
      h(
        'article',
        { class: 'st-story' },
        h('h1', {}, 'How a transformer decides what to look at'),
        h(
          'p',
          { class: 'st-lede' },
          'A language model reads a sentence one word at a time, and for every word it decides which other words matter. That decision is called ',
          abbr(
            'attention',
            'attention: each word takes a weighted average of the other words, with weights it computes itself',
          ),
          '. Everything on this page is computed live in your browser; nothing is a recording.',
        ),
        hero,
        sec(
          'st-ask',
          'Every word asks, every word answers',
          para(
            'Each word is turned into three short lists of numbers. A ',
            abbr('query', 'query (Q): what a word is looking for'),
            ' says what the word is looking for, a ',
            abbr('key', 'key (K): what a word offers to words that look at it'),
            ' says what it offers, and a ',
            abbr('value', 'value (V): what a word hands over when it is looked at'),
            ' is what it hands over when chosen. The match between one word’s query and another’s key is a single number, a score; the ',
            abbr('softmax', 'softmax: turns a row of scores into positive weights that add up to 1'),
            ' turns each word’s scores into weights that add up to 1, and the word’s new meaning is the weighted average of the values.',
          ),
          para(
            'Here the words’ numbers are chosen by hand so that you can read them, and each head is built to look for one thing. In a trained model the same arithmetic runs on numbers learned from data.',
          ),
          gridFig,
          para(
            playground,
            ' to follow every step for any sentence: the words’ vectors, the three projections, the scores, the scaling, the mask, the softmax and the mixed values, with every number shown.',
          ),
        ),
        sec(
          'st-many',
          'Many heads, many questions',
          para(
            'One set of queries and keys can only ask one kind of question. So a layer has several ',
            abbr('heads', 'head: one independent set of query, key and value weights'),
            ', each with its own weights, side by side. Their outputs are put next to each other and mixed by one more matrix. Here are the four heads of the playground on your sentence:',
          ),
          headsFig,
        ),
        sec(
          'st-no-peeking',
          'No peeking ahead',
          para(
            'A model that writes text one word at a time must not see the words it has not written yet. A ',
            abbr('causal mask', 'causal mask: word i may attend only to words 1 … i'),
            ' sets the scores of later words to minus infinity before the softmax, so their weight is exactly zero.',
          ),
          maskFig,
        ),
        sec(
          'st-sharing',
          'Sharing keys to save memory',
          para(
            'While a model writes, it keeps every earlier word’s keys and values in memory (the ',
            abbr('KV cache', 'KV cache: the keys and values of earlier words, kept so they are not computed again'),
            '). Large models save memory by letting several query heads share one set of keys and values: ',
            abbr('GQA', 'grouped-query attention: groups of query heads share one key/value head'),
            ' shares them in groups, ',
            abbr('MQA', 'multi-query attention: all query heads share one key/value head'),
            ' across all heads.',
          ),
          shareFig,
          para(
            'How much memory this saves for real models (and DeepSeek’s latent variant) is worked out in the ',
            link('#/kv-cache', 'KV-cache calculator'),
            '.',
          ),
        ),
        sec(
          'st-icl',
          'From looking things up to learning in context',
          para(
            'So far the heads were built by hand. What does attention learn on its own? A clean test is ',
            abbr(
              'in-context learning',
              'in-context learning: solving a new task from examples given in the prompt, with no change to the weights',
            ),
            '. Each prompt is a small regression problem: a list of example pairs, then a question.',
          ),
          para(
            'Every prompt has its own secret rule y = w·x (plus a little noise), so no fixed answer can be memorised: the model must work out the rule from the examples in front of it. Trained on many such prompts, the query’s attention learns to weigh each example by how similar its x is to the question, and to answer with a weighted sum of the examples’ y: a ',
            abbr(
              'kernel estimator',
              'kernel estimator: a prediction that averages the examples’ answers, weighted by similarity to the question',
            ),
            '. With two heads pulling in opposite directions the weighted sum becomes, in effect, one step of ',
            abbr('gradient descent', 'gradient descent: improving a guess by stepping against the slope of the error'),
            ' on the examples: a simple algorithm, not the best one (',
            abbr(
              'ridge regression',
              'ridge regression: least squares with a small penalty on large weights; the best possible estimate here',
            ),
            ' is better). The figure below puts the three side by side on one prompt.',
          ),
          para(
            'The ',
            link('#/icl', 'in-context trainer'),
            ' trains this model in your browser: watch the loss fall, the two learned matrices (what the query compares, what the answer copies) take the shape of the kernel estimator, and the error as the prompt gets longer, beside ridge regression and one step of gradient descent on the same prompts.',
          ),
          iclFig,
          notice(
            'on the trainer’s error-versus-prompt-length chart, compare the trained model with the kernel estimator made from its own learned numbers, and with ridge regression: which one does it follow?',
          ),
        ),
        sec(
          'st-next',
          'Where to go next',
          h(
            'ul',
            { class: 'st-next' },
            h(
              'li',
              {},
              link('#/attention', 'Playground'),
              ': every step of attention for your sentence, with temperature, mask, heads and shared keys.',
            ),
            h(
              'li',
              {},
              link('#/walkthrough', 'Walkthrough'),
              ': the same arithmetic on numbers you type, one step at a time.',
            ),
            h(
              'li',
              {},
              link('#/icl', 'In-context trainer'),
              ': train the in-context regression model and compare it with the classic estimators.',
            ),
            h(
              'li',
              {},
              link('#/value-matrix', 'Value-matrix lab'),
              ': what the value matrix keeps and throws away, and what several heads retrieve.',
            ),
            h(
              'li',
              {},
              link('#/cv-sweep', 'Geometry sweep'),
              ': how evenly spread a model’s learned vectors are, as the width of each head changes.',
            ),
            h('li', {}, link('#/kv-cache', 'KV-cache calculator'), ': the memory of keys and values for real models.'),
          ),
        ),
        sec(
          'st-glossary',
          'Glossary',
          h(
            'dl',
            { class: 'st-glossary' },
            ...GLOSSARY.flatMap(([term, text]) => [h('dt', {}, h('dfn', {}, term)), h('dd', {}, text)]),
          ),
        ),
      ),
    );

    function drawHero(n: PlayNumbers): void {
      const hd = n.heads[fig.hero.head]!;
      const q = fig.hero.query;
      const row = hd.weights[q]!;
      bars.dataset.weights = JSON.stringify(row);
      bars.dataset.head = String(fig.hero.head);
      bars.dataset.query = String(q);
      const old = bars.querySelectorAll<HTMLButtonElement>('button.st-tok');
      const focused = document.activeElement instanceof HTMLElement ? document.activeElement.dataset.index : undefined;
      const buttons =
        old.length === n.words.length
          ? [...old]
          : n.words.map((_, i) => {
              const b = h(
                'button',
                { type: 'button', class: 'st-tok', 'data-index': String(i) },
                h('span', { class: 'st-w' }),
                h('span', { class: 'st-pct' }),
                h('span', { class: 'st-sr' }),
                h('span', { class: 'st-bar' }),
              );
              b.addEventListener('click', () => {
                fig.hero.query = i;
                redrawHero();
              });
              return b;
            });
      buttons.forEach((b, i) => {
        const w = row[i]!;
        b.querySelector<HTMLElement>('.st-bar')!.style.setProperty('--w', String(w));
        b.querySelector('.st-pct')!.textContent = `${Math.round(w * 100)}%`;
        b.querySelector('.st-w')!.textContent = n.words[i]!;
        b.dataset.weight = String(w);
        b.setAttribute('aria-pressed', String(i === q));
        b.querySelector('.st-sr')!.textContent =
          ` of “${n.words[q]}”’s attention${i === q ? ' (the word looking)' : ''}`;
      });
      if (old.length !== n.words.length) bars.replaceChildren(...buttons);
      if (focused !== undefined && old.length !== n.words.length) buttons[Number(focused)]?.focus();
      heroHeadButtons.forEach((b, i) => b.setAttribute('aria-pressed', String(i === fig.hero.head)));
      const max = Math.max(...row);
      const top = row.flatMap((w, i) => (w > max - 0.01 ? [`“${n.words[i]}”`] : []));
      const name = HEADS[fig.hero.head]!.name;
      const what = name === 'thing ↔ action' ? (kindWord(n.words[q]!) ? 'an action' : 'a thing') : `the ${name}`;
      heroReadout.textContent = `“${n.words[q]}” looks for ${what}: ${Math.round(max * 100)}% of its attention goes to ${top.length > 1 ? `each of ${top.slice(0, -1).join(', ')} and ${top.at(-1)}` : top[0]}.`;
    }

    function drawGrid(n: PlayNumbers): void {
      gridNumbers = n;
      const l = labels(n.words);
      if (!grid || !grid.fits(l, l)) {
        grid = new MatrixView({
          name: 'story-grid',
          title: 'Head 3, “same kind”: attention weights (row: the word looking, column: the word looked at)',
          rowLabels: l,
          colLabels: l,
          scale: 'weights',
          describe: (i, j, v) => `“${l[i]}” gives “${l[j]}” weight ${v}`,
          onCell: (c) => {
            grid?.highlight(c ? [c.i] : null, c ? [c.j] : null);
            const g = gridNumbers?.heads[2];
            if (!c || !g) return;
            gridReadout.textContent = `“${l[c.i]}” asks, “${l[c.j]}” answers: score ${cellText(g.scores[c.i]![c.j]!)}, scaled ${cellText(g.scaled[c.i]![c.j]!)}, weight ${cellText(g.weights[c.i]![c.j]!)} after the softmax over the row.`;
          },
        });
        gridSlot.replaceChildren(grid.el);
      }
      grid.update(n.heads[2]!.weights);
    }

    function drawMask(n: PlayNumbers): void {
      const l = labels(n.words);
      if (!maskView || !maskView.fits(l, l)) {
        maskView = new MatrixView({
          name: 'story-mask',
          title: 'Head 4, “thing ↔ action”: attention weights',
          rowLabels: l,
          colLabels: l,
          scale: 'weights',
          describe: (i, j, v) => `“${l[i]}” gives “${l[j]}” weight ${v}`,
          onCell: (c) => maskView?.highlight(c ? [c.i] : null, c ? [c.j] : null),
        });
        maskSlot.replaceChildren(maskView.el);
      }
      maskView.update(
        n.heads[3]!.weights,
        n.mask.map((r) => r.map((ok) => !ok)),
      );
      maskView.el.dataset.causal = String(fig.mask.causal);
    }

    function drawShare(n: PlayNumbers): void {
      share.update(n);
      const g = n.wK.length;
      shareNote.textContent = `Keys and values kept per word: ${g} of ${MAX_HEADS} (${Math.round((100 * g) / MAX_HEADS)}% of the memory).`;
      share.el.dataset.kv = String(g);
    }

    type Fig = 'hero' | 'base' | 'mask' | 'share';
    const latest: Partial<Record<Fig, PlayNumbers>> = {};
    const generations: Record<Fig, number> = { hero: 0, base: 0, mask: 0, share: 0 };
    const draws: Record<Fig, (n: PlayNumbers) => void> = {
      hero: drawHero,
      base: (n) => {
        drawGrid(n);
        heads.update(n);
      },
      mask: drawMask,
      share: drawShare,
    };
    /** Computes the figures named (each only when its own settings change) and draws each as it arrives. */
    function update(figs: Fig[] = ['hero', 'base', 'mask', 'share']): void {
      const base = { words, heads: MAX_HEADS, kvHeads: MAX_HEADS, causal: false, temperature: 1 };
      const settings: Record<Fig, typeof base> = {
        hero: { ...base, temperature: fig.hero.temperature },
        base,
        mask: { ...base, causal: fig.mask.causal },
        share: { ...base, kvHeads: fig.share.kvHeads },
      };
      playground.href = `#/attention?${new URLSearchParams(settingsParams({ ...base, head: 2, step: 6 })).toString()}`;
      // One after another, the first figure first: it is what the reader sees on arrival.
      let chain = Promise.resolve();
      for (const f of figs) {
        const my = ++generations[f];
        chain = chain
          .then(() => computeAttention(settings[f]))
          .then((n) => {
            if (my !== generations[f] || gone) return;
            latest[f] = n;
            draws[f](n);
            if (Object.keys(latest).length === 4) root.dataset.ready = 'true';
          })
          .catch((err: unknown) => {
            msg.textContent = (err as Error).message;
          });
      }
    }
    /** Draws the first figure again from its last numbers (the word looking or the head changed). */
    const redrawHero = (): void => {
      if (latest.hero) drawHero(latest.hero);
    };
    update();
    drawIcl().catch((err: unknown) => {
      iclNote.textContent = `The example could not be computed: ${(err as Error).message}`;
    });
    return () => {
      gone = true;
    };
  },
};

/** True for a thing (which looks for an action in the “thing ↔ action” head). */
const kindWord = (w: string): boolean => VOCABULARY.thing.includes(w);

const sub = (i: number): string => String(i).replace(/\d/g, (d) => '₀₁₂₃₄₅₆₇₈₉'[Number(d)]!);

const GLOSSARY: [string, string][] = [
  [
    'Attention',
    'Each word’s new representation is a weighted average of the values of the words it may see, with weights from softmax(scores).',
  ],
  [
    'Embedding (X)',
    'The list of numbers that stands for a word (here: its kind, whether it is alive, and its position).',
  ],
  [
    'Query, key, value (Q, K, V)',
    'Three projections of each embedding: Q = X·W_Q, K = X·W_K, V = X·W_V, with weight matrices W_Q, W_K, W_V.',
  ],
  ['Score', 'The dot product of a query with a key, Q·Kᵀ: large when the key answers the query.'],
  [
    'Scaling and temperature (τ)',
    'Scores are multiplied by 1/(τ·√dₖ), dₖ the length of a key; √dₖ keeps scores from growing with the width, τ makes the softmax sharper (τ < 1) or flatter (τ > 1).',
  ],
  ['Softmax', 'softmax(s)ᵢ = exp(sᵢ) / Σⱼ exp(sⱼ): positive weights that add up to 1.'],
  [
    'Head',
    'One independent set of W_Q, W_K, W_V. A layer runs several heads side by side and mixes their outputs with W_O.',
  ],
  ['Causal mask', 'Word i may attend only to words 1 … i; later scores become −∞ and their weights 0.'],
  [
    'MHA, GQA, MQA',
    'Multi-head attention gives every query head its own keys and values; grouped-query attention shares them within groups of heads; multi-query attention shares one set across all heads.',
  ],
  ['KV cache', 'The keys and values of the words written so far, kept in memory while a model generates text.'],
  [
    'In-context learning',
    'Solving a new task from examples given in the prompt, without changing the model’s weights.',
  ],
  [
    'Kernel estimator',
    'A prediction ŷ = Σᵢ yᵢ·k(x, xᵢ) that weighs each example’s answer by its similarity k to the question; what the trained attention layer computes.',
  ],
  [
    'Gradient descent step',
    'Improving a guess by stepping against the gradient of the error; one step from zero on the examples gives ŷ = (η/N) Σᵢ yᵢ ⟨xᵢ, x⟩.',
  ],
  [
    'Ridge regression',
    'Least squares with a penalty λ‖w‖² on the weights; with the right λ the best possible estimate for these prompts.',
  ],
];
