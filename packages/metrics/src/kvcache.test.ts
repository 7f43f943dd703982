import { KV_CACHE_PRESETS, kvCacheBytes, kvCacheBytesPerToken, kvCacheReduction, mebibytes } from './index.js';
import type { KvCacheModel, KvCachePresetName } from './index.js';

// Seed 000, experiment 4, as its code prints it: `f"    Seq len {seq_len}: {memory_mb:.1f} MB"`
// with memory_mb = 2·seq_len·d_v·n_heads·n_layers·2 / 1024². The stored notebook output stops
// before experiment 4, so these rows are the seed's formula evaluated by hand (e.g. GPT-2 Small at
// 512: 2·512·64·12·12·2 = 18 874 368 B = 18.0 MB), in the seed's print format.
const SEED_TABLE: Array<[KvCachePresetName, string[]]> = [
  ['gpt2-small', ['Seq len 512: 18.0 MB', 'Seq len 1024: 36.0 MB', 'Seq len 2048: 72.0 MB', 'Seq len 4096: 144.0 MB']],
  [
    'gpt2-large',
    ['Seq len 512: 90.0 MB', 'Seq len 1024: 180.0 MB', 'Seq len 2048: 360.0 MB', 'Seq len 4096: 720.0 MB'],
  ],
  [
    'llama-7b',
    ['Seq len 512: 256.0 MB', 'Seq len 1024: 512.0 MB', 'Seq len 2048: 1024.0 MB', 'Seq len 4096: 2048.0 MB'],
  ],
  [
    'llama-13b',
    ['Seq len 512: 400.0 MB', 'Seq len 1024: 800.0 MB', 'Seq len 2048: 1600.0 MB', 'Seq len 4096: 3200.0 MB'],
  ],
];

describe('kvCacheBytes', () => {
  it('reproduces seed 000’s KV-cache table to the printed digit', () => {
    for (const [name, rows] of SEED_TABLE) {
      const model = KV_CACHE_PRESETS[name];
      const printed = [512, 1024, 2048, 4096].map(
        (seqLen) =>
          `Seq len ${seqLen}: ${mebibytes(kvCacheBytes({ ...model, seqLen, bytesPerElement: 2 })).toFixed(1)} MB`,
      );
      expect(printed).toEqual(rows);
    }
    expect(KV_CACHE_PRESETS['gpt2-large']).toMatchObject({ layers: 36, heads: 20, headDim: 64 });
  });

  it('reproduces seed 000’s MQA/GQA savings block for LLaMA-7B at 2048 tokens', () => {
    const mha = KV_CACHE_PRESETS['llama-7b'];
    const mqa: KvCacheModel = { ...mha, attention: 'mqa' };
    const gqa: KvCacheModel = { ...mha, attention: 'gqa', kvHeads: 4 };
    const mb = (m: KvCacheModel): string => mebibytes(kvCacheBytes({ ...m, seqLen: 2048 })).toFixed(1);
    expect([mb(mha), mb(mqa), mb(gqa)]).toEqual(['1024.0', '32.0', '128.0']);
    // Seed prints "MQA reduction: 32x" (n_heads) and "GQA reduction: 8.0x" (n_heads / 4).
    expect(kvCacheReduction(mha, mqa)).toBe(32);
    expect(kvCacheReduction(mha, gqa).toFixed(1)).toBe('8.0');
  });

  it('sizes GQA and MLA models per token (published figures)', () => {
    // LLaMA-2-70B: 2·8·128·80·2 B = 327 680 B = 320 KiB per token; Mistral-7B: 2·8·128·32·2 = 128 KiB.
    expect(kvCacheBytesPerToken(KV_CACHE_PRESETS['llama-2-70b'])).toBe(327680);
    expect(kvCacheBytesPerToken(KV_CACHE_PRESETS['mistral-7b'])).toBe(131072);
    // DeepSeek-V2 MLA: (kv_lora_rank 512 + qk_rope_head_dim 64) elements per token per layer, 60 layers.
    expect(kvCacheBytesPerToken(KV_CACHE_PRESETS['deepseek-v2'])).toBe(576 * 60 * 2);
    expect(kvCacheBytes({ ...KV_CACHE_PRESETS['deepseek-v2'], seqLen: 1000, batch: 3, bytesPerElement: 1 })).toBe(
      576 * 60 * 1000 * 3,
    );
    // Against DeepSeek-V2 as MHA with 128 heads of width 128 (its nope head dim): 2·128·128 / 576 ≈ 56.9×.
    const asMha: KvCacheModel = { attention: 'mha', layers: 60, heads: 128, headDim: 128 };
    expect(kvCacheReduction(asMha, KV_CACHE_PRESETS['deepseek-v2'])).toBeCloseTo(32768 / 576, 12);
  });

  it('scales with batch and precision', () => {
    const base = { ...KV_CACHE_PRESETS['gpt2-small'], seqLen: 1024 };
    expect(kvCacheBytes({ ...base, batch: 4, bytesPerElement: 4 })).toBe(kvCacheBytes(base) * 8);
    expect(kvCacheBytes({ ...base, seqLen: 0 })).toBe(0);
  });

  it('rejects inconsistent configurations with a clear message', () => {
    const m = KV_CACHE_PRESETS['llama-7b'];
    expect(() => kvCacheBytes({ ...m, attention: 'gqa', kvHeads: 5, seqLen: 1 })).toThrow(
      "kvCacheBytes: heads (32) must be divisible by kvHeads for 'gqa'; got kvHeads 5",
    );
    expect(() => kvCacheBytes({ ...m, attention: 'gqa', seqLen: 1 })).toThrow(
      'kvCacheBytes: kvHeads must be an integer ≥ 1; got undefined',
    );
    expect(() => kvCacheBytes({ ...m, attention: 'mqa', kvHeads: 2, seqLen: 1 })).toThrow(
      "kvCacheBytes: kvHeads must be 1 for attention 'mqa'; got 2",
    );
    expect(() => kvCacheBytes({ ...m, seqLen: 1.5 })).toThrow('kvCacheBytes: seqLen must be an integer ≥ 0; got 1.5');
    expect(() => kvCacheBytes({ ...m, attention: 'xyz' as 'mha', seqLen: 1 })).toThrow(
      'kvCacheBytes: attention must be one of mha, mqa, gqa, mla; got xyz',
    );
    expect(() => kvCacheBytesPerToken({ ...KV_CACHE_PRESETS['deepseek-v2'], kvLoraRank: undefined })).toThrow(
      'kvCacheBytesPerToken: kvLoraRank must be an integer ≥ 1; got undefined',
    );
    expect(() => kvCacheBytes({ ...m, seqLen: 1, bytesPerElement: 0 })).toThrow(
      'kvCacheBytes: bytesPerElement must be a number > 0',
    );
  });
});
