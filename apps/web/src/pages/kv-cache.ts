import { kvCache, resolveConfig, type KvCacheData, type KvCacheSectionConfig } from '@attnlab/experiments';
import type { FigureSpec } from '@attnlab/plot';
import { button, fmtSig, h } from '../dom.js';
import { figurePanel, type FigurePanel } from '../figure.js';
import type { Page, PageContext } from '../router.js';
import { configProblems, configToParams, paramsToOverrides, schemaForm } from '../schema-form.js';

const LABELS: Record<string, string> = {
  models: 'Models in the table',
  seqLens: 'Context lengths (tokens)',
  batch: 'Batch',
  bytesPerElement: 'Bytes per number',
  'compare.model': 'Compare: model',
  'compare.seqLen': 'Compare: context length',
  'compare.gqaKvHeads': 'GQA: KV heads',
  'compare.mlaKvLoraRank': 'MLA: latent rank',
  'compare.mlaRopeHeadDim': 'MLA: RoPE dim',
  curveMaxSeqLen: 'Curve up to (tokens)',
};
const INCLUDE = Object.keys(LABELS);
const MIB = 1024 * 1024;

function comparisonTable(d: KvCacheData): FigureSpec {
  const c = d.comparison;
  return {
    kind: 'table',
    title: `${c.model}, ${c.seqLen} tokens, batch ${d.batch}: MHA, GQA, MQA and MLA side by side`,
    columns: ['attention', 'bytes per token', 'total bytes', 'MB', 'smaller than MHA'],
    rows: c.variants.map((v) => [
      v.name,
      v.bytes / c.seqLen / d.batch,
      v.bytes,
      Number(v.mebibytes.toFixed(2)),
      `${v.reduction.toFixed(1)}×`,
    ]),
  };
}

/** The KV-cache calculator: `kvCache.run` on every input (it is instant). */
export const kvCachePage: Page = {
  path: 'kv-cache',
  title: 'KV-cache calculator',
  render(root: HTMLElement, ctx: PageContext): void {
    const schema = kvCache.configSchema;
    const presetName = ctx.params.get('preset') === 'seed' ? 'seed' : 'quick';
    let base: KvCacheSectionConfig = kvCache.presets[presetName];
    let initial: unknown;
    try {
      initial = resolveConfig(kvCache, { preset: presetName, overrides: paramsToOverrides(schema, ctx.params) });
    } catch {
      initial = base;
    }
    const error = h('p', { class: 'error', role: 'alert', id: 'kv-error' });
    const form = schemaForm(schema, initial, {
      idPrefix: 'kv',
      include: INCLUDE,
      labels: LABELS,
      onInput: () => void recompute(),
    });
    const custom = {
      on: h('input', { id: 'kv-custom-on', type: 'checkbox', checked: ctx.params.has('mine') }),
      label: h('input', { id: 'kv-custom-label', type: 'text', value: 'my model' }),
      attention: h(
        'select',
        { id: 'kv-custom-attention' },
        ...['mha', 'gqa', 'mqa', 'mla'].map((v) => h('option', { value: v }, v.toUpperCase())),
      ),
      layers: h('input', { id: 'kv-custom-layers', type: 'number', min: '1', value: '32' }),
      heads: h('input', { id: 'kv-custom-heads', type: 'number', min: '1', value: '32' }),
      kvHeads: h('input', { id: 'kv-custom-kvheads', type: 'number', min: '1', value: '8' }),
      headDim: h('input', { id: 'kv-custom-headdim', type: 'number', min: '1', value: '128' }),
      kvLoraRank: h('input', { id: 'kv-custom-rank', type: 'number', min: '1', value: '512' }),
      ropeHeadDim: h('input', { id: 'kv-custom-rope', type: 'number', min: '0', value: '64' }),
    };
    const saved = ctx.params.get('mine');
    if (saved) {
      try {
        const c = JSON.parse(saved) as Record<string, string | number>;
        for (const [k, v] of Object.entries(c))
          if (k in custom && k !== 'on') (custom as unknown as Record<string, HTMLInputElement>)[k]!.value = String(v);
      } catch {
        /* ignore a malformed link */
      }
    }
    const customBox = h(
      'fieldset',
      { class: 'group custom' },
      h('legend', {}, 'Your own model'),
      h('div', { class: 'field check' }, custom.on, h('label', { for: custom.on.id }, 'Add it to the table')),
      ...(
        [
          ['Name', custom.label],
          ['Attention', custom.attention],
          ['Layers', custom.layers],
          ['Query heads', custom.heads],
          ['KV heads (GQA)', custom.kvHeads],
          ['Head width', custom.headDim],
          ['MLA latent rank', custom.kvLoraRank],
          ['MLA RoPE dim', custom.ropeHeadDim],
        ] as const
      ).map(([l, c]) => h('div', { class: 'field' }, h('label', { for: c.id }, l), c)),
    );
    Object.values(custom).forEach((c) => {
      c.addEventListener('input', () => void recompute());
      c.addEventListener('change', () => void recompute());
    });

    const presets = h(
      'div',
      { class: 'presets', role: 'group', 'aria-label': 'Presets' },
      h('span', { class: 'muted' }, 'Presets: '),
      button(
        'GPT-2 and LLaMA (all MHA)',
        () => {
          base = kvCache.presets.seed;
          form.write(base);
          custom.on.checked = false;
          void recompute();
        },
        { 'data-preset': 'seed' },
      ),
      button(
        'Modern models (GQA, MLA)',
        () => {
          base = kvCache.presets.quick;
          form.write(base);
          custom.on.checked = false;
          void recompute();
        },
        { 'data-preset': 'quick' },
      ),
      button(
        'LLaMA-2-70B at 32k',
        () => {
          form.write({
            ...kvCache.presets.quick,
            compare: { ...kvCache.presets.quick.compare, model: 'llama-2-70b', seqLen: 32768, gqaKvHeads: 8 },
          });
          void recompute();
        },
        { 'data-preset': 'llama70b' },
      ),
    );
    const headline = h('p', { class: 'headline', id: 'kv-headline', 'aria-live': 'polite' });
    const out = h('div', { class: 'figures' });
    const panels = new Map<string, FigurePanel>();
    root.append(
      h('h1', {}, 'KV-cache calculator'),
      h(
        'p',
        { class: 'lede' },
        'How much memory the key/value cache of a transformer takes while it generates: per token and in total, for multi-head (MHA), grouped-query (GQA), multi-query (MQA) and multi-head latent attention (MLA). Recomputed on every change from each model’s layers, heads and widths. MB = 1024² bytes.',
      ),
      presets,
      h('form', { class: 'inputs', id: 'kv-form' }, form.el, customBox),
      error,
      headline,
      out,
    );

    const show = (id: string, spec: FigureSpec, data: unknown): void => {
      const p = panels.get(id);
      if (p) p.update(spec, data);
      else {
        const np = figurePanel(id, spec, { data });
        panels.set(id, np);
        out.append(np.el);
      }
    };

    const recompute = async (): Promise<void> => {
      try {
        const values = form.read(base) as unknown as KvCacheSectionConfig;
        const customModel = custom.on.checked
          ? [
              {
                label: custom.label.value || 'custom',
                attention: custom.attention.value as 'mha',
                layers: Number(custom.layers.value),
                heads: Number(custom.heads.value),
                ...(custom.attention.value === 'gqa' ? { kvHeads: Number(custom.kvHeads.value) } : {}),
                ...(custom.attention.value === 'mla'
                  ? { kvLoraRank: Number(custom.kvLoraRank.value), ropeHeadDim: Number(custom.ropeHeadDim.value) }
                  : { headDim: Number(custom.headDim.value) }),
              },
            ]
          : [];
        const config = resolveConfig(kvCache, { preset: 'quick', overrides: { ...values, custom: customModel } });
        const result = await kvCache.run(config);
        const d = result.data;
        error.textContent = '';
        const state: Record<string, string> = {
          ...(base === kvCache.presets.seed ? { preset: 'seed' } : {}),
          ...configToParams(schema, { ...config, custom: [] }, base),
        };
        if (custom.on.checked) {
          state.mine = JSON.stringify(
            Object.fromEntries(
              Object.entries(custom)
                .filter(([k]) => k !== 'on')
                .map(([k, c]) => [k, (c as HTMLInputElement).value]),
            ),
          );
        }
        ctx.setParams(state);
        const mha = d.comparison.variants[0]!;
        const best = d.comparison.variants.reduce((a, b) => (b.bytes < a.bytes ? b : a));
        headline.textContent = `${d.comparison.model} at ${d.comparison.seqLen.toLocaleString('en')} tokens: MHA caches ${fmtSig(mha.bytes / d.comparison.seqLen / d.batch)} bytes per token, ${fmtSig(mha.bytes / MIB)} MB in total; ${best.name} needs ${fmtSig(best.bytes / MIB)} MB (${best.reduction.toFixed(1)}× less).`;
        show('kv-cache-variants', comparisonTable(d), d.comparison);
        for (const f of result.figures)
          show(f.id, f.spec, f.id === 'kv-cache-table' ? d.table : f.id === 'kv-cache-curve' ? d.curve : d.comparison);
        root.dataset.ready = 'true';
      } catch (e) {
        // In the form's words, next to the field (never the config's internal path).
        const { problems, message } = configProblems(e, form);
        form.showProblems(problems);
        error.textContent = message;
        return;
      }
      form.showProblems([]);
    };
    void recompute();
  },
};
