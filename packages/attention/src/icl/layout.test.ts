import * as tf from '@tensorflow/tfjs-core';
import { describeBackends, expectNoLeak } from '@attnlab/backend/testing';
import { initIclAttention, initIclStack, disposeIclParams } from './params.js';
import { iclInitialParams, iclModelShape, iclNamedParams, iclParamLayout, iclStructure } from './layout.js';

describeBackends('seed 004 parameter layout', () => {
  it("attention: 'softmax' by default, 'linear' for the single layer only, anything else named", () => {
    expect(iclModelShape({ d: 2, numHeads: 1, layers: 1 }).attention).toBe('softmax');
    expect(iclModelShape({ d: 2, numHeads: 1, layers: 1, attention: 'linear' }).attention).toBe('linear');
    expect(() => iclModelShape({ d: 2, numHeads: 1, layers: 2, attention: 'linear' })).toThrow(
      /config\.attention 'linear' applies to the single layer \(layers 1\)/,
    );
    expect(() => iclModelShape({ d: 2, numHeads: 1, layers: 1, attention: 'cosine' as never })).toThrow(
      new RangeError(
        "iclModelShape: config.attention must be one of 'softmax', 'linear', 'linear-unnormalised'; got 'cosine'",
      ),
    );
  });

  it('host initial values are initIclAttention’s draws, for every init', async () => {
    for (const init of ['random', 'small_id', 'small_id_qk', 'oppo_small_id'] as const) {
      const host = iclInitialParams({ d: 3, numHeads: 2, layers: 1, nOut: 4, init, seed: 11 });
      const p = initIclAttention({ d: 3, numHeads: 2, nOut: 4, init, seed: 11 });
      for (const [k, t] of Object.entries(iclNamedParams(p))) {
        expect(host[k]!.shape).toEqual(t.shape);
        expect(Array.from(host[k]!.values)).toEqual(Array.from(await t.data()));
      }
      disposeIclParams(p);
    }
  });

  it('host initial values are initIclStack’s draws (tied and untied)', async () => {
    for (const tied of [false, true]) {
      const host = iclInitialParams({ d: 2, numHeads: 2, layers: 3, tied, seed: 5 });
      const p = initIclStack({ d: 2, numHeads: 2, numLayers: 3, tied, seed: 5 });
      const named = iclNamedParams(p);
      expect(Object.keys(host)).toEqual(Object.keys(named));
      expect(Object.keys(host)).toEqual(iclParamLayout({ d: 2, numHeads: 2, layers: 3, tied }).map((x) => x.name));
      for (const [k, t] of Object.entries(named))
        expect(Array.from(host[k]!.values)).toEqual(Array.from(await t.data()));
      disposeIclParams(p);
    }
  });

  it('iclStructure and iclNamedParams are inverses and copy nothing', async () => {
    await expectNoLeak(async () => {
      const p = initIclStack({ d: 2, numHeads: 1, numLayers: 2, seed: 1 });
      const st = iclStructure({ d: 2, numHeads: 1, layers: 2 }, iclNamedParams(p));
      expect('layers' in st && st.layers[1]!.Wv).toBe(p.layers[1]!.Wv);
      expect('layers' in st && st.numLayers).toBe(2);
      disposeIclParams(p);
    });
  });

  it('names the field and the allowed values on bad input', () => {
    expect(() => iclModelShape({ d: 5, numHeads: 0, layers: 1 })).toThrow(
      /config\.numHeads must be an integer ≥ 1; got 0/,
    );
    expect(() => iclModelShape({ d: 5, numHeads: 2, layers: 1, init: 'zeros' as never })).toThrow(
      /config\.init must be one of 'random'/,
    );
    expect(() => iclModelShape({ d: 5, numHeads: 2, layers: 1, tied: true })).toThrow(/apply to the stack/);
    const w = tf.zeros([2, 6, 6]);
    expect(() => iclStructure({ d: 5, numHeads: 2, layers: 1 }, { Wq: w, Wk: w, Wv: w })).toThrow(
      /named\['Wo'\] must be a tf.Tensor of shape \[2, 6, 1\]/,
    );
    w.dispose();
  });
});
