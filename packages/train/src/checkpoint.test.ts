import * as tf from '@tensorflow/tfjs-core';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeBackends, read } from '@attnlab/backend/testing';
import {
  CHECKPOINT_FORMAT_VERSION,
  adam,
  adamw,
  crc32,
  deserializeCheckpoint,
  loadCheckpoint,
  optimizerFromState,
  restoreParams,
  saveCheckpoint,
  serializeCheckpoint,
  train,
  variablesFromCheckpoint,
  type Checkpoint,
  type History,
} from './index.js';
import { TestRng, hostBatch, makeParams, regressionLoss, toTensors } from './test-utils/regression.js';

const HISTORY: History = {
  loss: { step: [0, 1, 2], value: [1.5, Number.NaN, 0.1 + 0.2] },
  validation: { step: [0], value: [Math.PI] },
  probes: {
    qk: {
      step: [0, 2],
      value: [
        [
          [1, 2],
          [3, 4],
        ],
        { w: [-0.25, Infinity], mu: null, note: 'x' },
      ],
    },
  },
};

describe('checkpoint format', () => {
  it("CRC-32 matches zlib's check value", () => {
    // The standard check value: crc32("123456789") = 0xCBF43926 (zlib, IEEE 802.3).
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('round-trips host values bit-exactly, with the documented layout', async () => {
    const w = new Float32Array([1.5, -0, 3.4028234663852886e38, 1e-45, Number.NaN]);
    const k = new Int32Array([-2147483648, 7]);
    const bytes = await serializeCheckpoint({
      params: { w: { shape: [5], dtype: 'float32', values: w }, k: { shape: [1, 2], dtype: 'int32', values: k } },
      optimizerState: {
        type: 'adamw',
        config: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 },
        params: {
          w: {
            step: 3,
            slots: { m: { shape: [5], dtype: 'float32', values: w }, v: { shape: [5], dtype: 'float32', values: w } },
          },
        },
      },
      rngState: { key: [1, 2], counter: [3, 4, 5, 6], nan: Number.NaN },
      step: 3,
      history: HISTORY,
      meta: { seed: 42, backend: 'cpu' },
    });
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe('ATTNCKPT');
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    expect(view.getUint32(8, true)).toBe(CHECKPOINT_FORMAT_VERSION);
    const h = view.getUint32(12, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + h)));
    expect(header.format).toBe('attnlab-checkpoint');
    expect(16 + h + ((8 - ((16 + h) % 8)) % 8) + header.payload.byteLength + 4).toBe(bytes.byteLength); // + the CRC-32 trailer

    const c: Checkpoint = deserializeCheckpoint(bytes);
    expect(c.step).toBe(3);
    expect(new Uint8Array(c.params.w!.values.buffer)).toEqual(new Uint8Array(w.buffer)); // -0 and NaN bits too
    expect(c.params.k).toEqual({ shape: [1, 2], dtype: 'int32', values: k });
    expect(c.optimizerState!.params.w!.step).toBe(3);
    expect(c.optimizerState!.config.betas).toEqual([0.9, 0.999]);
    expect(c.rngState).toEqual({ key: [1, 2], counter: [3, 4, 5, 6], nan: Number.NaN });
    expect(c.history.loss.value[1]).toBeNaN();
    expect(c.history.loss.value[2]).toBe(0.1 + 0.2); // float64, exact
    expect(c.history).toEqual(HISTORY);
    expect(c.meta).toEqual({ seed: 42, backend: 'cpu' });
  });

  it('refuses corrupt, truncated or foreign bytes', async () => {
    const bytes = await serializeCheckpoint({
      params: { w: { shape: [2], dtype: 'float32', values: new Float32Array([1, 2]) } },
      step: 0,
    });
    const flipped = bytes.slice();
    flipped[flipped.length - 5]! ^= 1;
    expect(() => deserializeCheckpoint(flipped)).toThrow(
      /deserializeCheckpoint: CRC-32 of the checkpoint is \d+, its last 4 bytes say \d+; truncated or corrupt checkpoint/,
    );
    expect(() => deserializeCheckpoint(bytes.subarray(0, bytes.length - 4))).toThrow(/truncated or corrupt/);
    expect(() => deserializeCheckpoint(bytes.subarray(0, 30))).toThrow(/truncated or corrupt|truncated checkpoint/);
    expect(() => deserializeCheckpoint(new TextEncoder().encode('{"not":"a checkpoint"}'))).toThrow(/magic 'ATTNCKPT'/);
    const v3 = bytes.slice();
    new DataView(v3.buffer).setUint32(8, 3, true);
    expect(() => deserializeCheckpoint(v3)).toThrow(/format version must be 2; got 3/);
    const v1 = bytes.slice();
    new DataView(v1.buffer).setUint32(8, 1, true);
    expect(() => deserializeCheckpoint(v1)).toThrow(/got 1 \(written by an older attnlab/);
  });

  it('refuses a change anywhere in the header: the step, the meta, one digit of a number', async () => {
    const bytes = await serializeCheckpoint({
      params: { w: { shape: [2], dtype: 'float32', values: new Float32Array([1, 2]) } },
      step: 1234,
      meta: { experiment: 'x', lr: 0.001 },
    });
    const text = new TextDecoder().decode(bytes);
    for (const needle of ['"step":1234', '"lr":0.001', '"experiment":"x"']) {
      const at = text.indexOf(needle);
      expect(at).toBeGreaterThan(0);
      const edited = bytes.slice();
      edited[at + needle.length - 2] = edited[at + needle.length - 2] === 0x31 ? 0x32 : 0x31; // same length, one character changed
      expect(() => deserializeCheckpoint(edited)).toThrow(
        /CRC-32 of the checkpoint is \d+, its last 4 bytes say \d+; truncated or corrupt checkpoint/,
      );
    }
  });

  it('keeps float64 entries as float64, bit for bit (engines that keep float64 state)', async () => {
    const p = Float64Array.from([Math.PI, -0, 1e-300, Number.NaN, 1 + 2 ** -52]);
    const bytes = await serializeCheckpoint({
      params: { w: { shape: [5], dtype: 'float64', values: p } },
      step: 2,
      optimizerState: {
        type: 'adam',
        config: { lr: 1e-3, weightDecay: 0, betas: [0.9, 0.999], eps: 1e-8 },
        params: {
          w: {
            step: 2,
            slots: { m: { shape: [5], dtype: 'float64', values: p }, v: { shape: [5], dtype: 'float64', values: p } },
          },
        },
      },
    });
    const c = deserializeCheckpoint(bytes);
    expect(c.params.w!.dtype).toBe('float64');
    expect(c.params.w!.values).toBeInstanceOf(Float64Array);
    expect(new Uint8Array(c.params.w!.values.buffer)).toEqual(new Uint8Array(p.buffer));
    expect(new Uint8Array(c.optimizerState!.params.w!.slots.v!.values.buffer)).toEqual(new Uint8Array(p.buffer));
    await expect(
      serializeCheckpoint({ params: { w: { shape: [5], dtype: 'float32', values: p } }, step: 0 }),
    ).rejects.toThrow(/input.params\['w'\].dtype is 'float32' but its values are Float64Array/);
  });
});

describe('checkpoint files (Node)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attnlab-train-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes atomically: replaces the old file, leaves no temp file, fails cleanly', async () => {
    const file = path.join(dir, 'ckpt.bin');
    const one = { shape: [1], dtype: 'float32' as const, values: new Float32Array([1]) };
    await saveCheckpoint(file, { params: { w: one }, step: 1 });
    const r = await saveCheckpoint(file, {
      params: { w: { ...one, values: new Float32Array([2]) } },
      step: 2,
      history: HISTORY,
    });
    expect(r.bytes).toBe(fs.statSync(file).size);
    expect(fs.readdirSync(dir)).toEqual(['ckpt.bin']);
    const c = await loadCheckpoint(file);
    expect(c.step).toBe(2);
    expect(Array.from(c.params.w!.values)).toEqual([2]);
    await expect(saveCheckpoint(path.join(dir, 'missing', 'c.bin'), { params: { w: one }, step: 1 })).rejects.toThrow(
      /ENOENT/,
    );
    // a failed serialisation writes nothing at all
    await expect(saveCheckpoint(file, { params: { w: one }, step: -1 })).rejects.toThrow(
      /serializeCheckpoint: input.step must be an integer ≥ 0/,
    );
    expect(fs.readdirSync(dir)).toEqual(['ckpt.bin']);
    expect((await loadCheckpoint(file)).step).toBe(2);
    fs.writeFileSync(path.join(dir, 'bad.bin'), 'garbage!garbage!garbage!');
    await expect(loadCheckpoint(path.join(dir, 'bad.bin'))).rejects.toThrow(
      /loadCheckpoint: .*bad.bin: deserializeCheckpoint: bytes do not start with the magic/,
    );
  });
});

/** Data from a stateful stream: resuming needs rngState to continue it. */
function streamData(rng: TestRng, n: number) {
  return { batch: () => toTensors(hostBatch(rng, n)) };
}

describeBackends('resume', (ctx) => {
  it('params + optimizer state + rng state + history round-trip through tensors', async () => {
    const params = makeParams();
    const opt = adamw({ lr: 0.05, betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0.1 });
    const rng = new TestRng(5);
    await train({ params, optimizer: opt, steps: 10, data: streamData(rng, 8), loss: regressionLoss });
    const bytes = await serializeCheckpoint({
      params,
      optimizerState: await opt.getState(),
      rngState: rng.getState(),
      step: 10,
    });
    const c = deserializeCheckpoint(bytes);
    const fresh = variablesFromCheckpoint(c.params);
    expect(await read(fresh.w!)).toEqual(await read(params.w!));
    const opt2 = optimizerFromState(c.optimizerState!);
    expect(await opt2.getState()).toEqual(await opt.getState());
    expect(c.rngState).toEqual(rng.getState());
    const other = makeParams();
    restoreParams(other, c.params);
    expect(await read(other.b!)).toEqual(await read(params.b!));
    expect(() => restoreParams({ w: other.w! }, c.params)).toThrow(
      /restoreParams: values must hold exactly the parameters \[w\]; got \[b, w\]/,
    );
    tf.dispose([...Object.values(params), ...Object.values(fresh), ...Object.values(other)]);
    opt.dispose();
    opt2.dispose();
    void ctx;
  });
});

describeBackends(
  'resume (bitwise, cpu)',
  () => {
    it('N steps straight == k steps, checkpoint, load into fresh variables/optimizer, N − k more', async () => {
      const N = 60,
        K = 23;
      const schedule = { validationEvery: 10, readEvery: 6, checkpointEvery: 1000 };
      const probes = { wq: { every: 7, run: async (p: Record<string, tf.Variable>) => read(p.w!) } };
      const make = () => adam({ lr: 0.05, betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0.02 });

      // uninterrupted
      const pa = makeParams(),
        oa = make(),
        rngA = new TestRng(99),
        valA = new TestRng(7);
      const ra = await train({
        params: pa,
        optimizer: oa,
        steps: N,
        data: streamData(rngA, 8),
        loss: regressionLoss,
        schedule,
        probes,
        validation: streamData(valA, 16),
      });

      // interrupted: abort after K iterations; the loop writes a checkpoint on abort
      const pb = makeParams(),
        ob = make(),
        rngB = new TestRng(99),
        valB = new TestRng(7);
      const ac = new AbortController();
      let saved: Uint8Array | undefined;
      // progress every iteration (only the reporting differs from run A), abort once K are done
      const rb = await train({
        params: pb,
        optimizer: ob,
        steps: N,
        data: streamData(rngB, 8),
        loss: regressionLoss,
        probes,
        schedule: { ...schedule, progressEvery: 1 },
        validation: streamData(valB, 16),
        signal: ac.signal,
        onEvent: (e) => {
          if (e.type === 'progress' && e.completed === K) ac.abort();
        },
        checkpoint: {
          rngState: () => ({ train: rngB.getState(), val: valB.getState() }),
          write: async (c) => {
            saved = await serializeCheckpoint(c);
          },
        },
      });
      expect(rb).toMatchObject({ completed: K, aborted: true });
      tf.dispose(Object.values(pb));
      ob.dispose();

      // resume in fresh objects
      const c = deserializeCheckpoint(saved!);
      expect(c.step).toBe(K);
      const pc = variablesFromCheckpoint(c.params);
      const oc = optimizerFromState(c.optimizerState!);
      const rs = c.rngState as { train: never; val: never };
      const rngC = new TestRng(0),
        valC = new TestRng(0);
      rngC.setState(rs.train);
      valC.setState(rs.val);
      const rc = await train({
        params: pc,
        optimizer: oc,
        steps: N,
        data: streamData(rngC, 8),
        loss: regressionLoss,
        schedule,
        probes,
        validation: streamData(valC, 16),
        resume: c,
      });
      expect(rc.completed).toBe(N);

      for (const name of ['w', 'b']) {
        const a = new Uint8Array((await pa[name]!.data()).buffer.slice(0));
        const b = new Uint8Array((await pc[name]!.data()).buffer.slice(0));
        expect(b).toEqual(a);
      }
      expect(await oc.getState()).toEqual(await oa.getState());
      expect(rc.history).toEqual(ra.history);
      tf.dispose([...Object.values(pa), ...Object.values(pc)]);
      oa.dispose();
      oc.dispose();
    });
  },
  ['cpu'],
);
