/**
 * Checkpoints in memory (browser-safe): `serializeCheckpoint` → Uint8Array → `deserializeCheckpoint`.
 *
 * Format, version 2 (all integers little-endian):
 *   bytes 0–7    magic "ATTNCKPT"
 *   bytes 8–11   uint32 format version (2)
 *   bytes 12–15  uint32 header length H
 *   bytes 16…    H bytes of UTF-8 JSON header, then zero padding to a multiple of 8
 *   payload      binary blobs, each starting at a multiple of 8 from the payload start
 *   last 4 bytes uint32 CRC-32 of every byte before it (preamble, header and payload), so a
 *                change anywhere — the step, the meta, a parameter — is refused on reading
 * The header holds step, meta, rngState, probe values (JSON; NaN/±Infinity are written as
 * {"$nonfinite":"NaN"|"Infinity"|"-Infinity"}), the payload's byte length and CRC-32, and a
 * table of blobs {dtype, offset, byteLength} that parameters, optimizer slots and the loss
 * series refer to by index. Parameters and slots keep their dtype (float32, int32, or float64
 * for engines that keep float64 state) and are stored bit-exactly; loss and validation series
 * are float64. Version 1 (checksum over the payload only) is refused with a clear message.
 */
import * as tf from '@tensorflow/tfjs-core';
import { emptyHistory, type History, type Series } from './history.js';
import type { OptimizerState, ParamOptimizerState } from './optimizers.js';
import type { HostTensor, Json, ParamMap } from './types.js';
import { checkInt, checkObject, show } from './validate.js';

/** Current checkpoint format version. */
export const CHECKPOINT_FORMAT_VERSION = 2;
const MAGIC = 'ATTNCKPT';

/** What a checkpoint is made from: tensors (read asynchronously) or host values. */
export interface CheckpointInput {
  /** Parameters by name: variables/tensors (read at serialisation time) or host tensors. */
  params: Record<string, tf.Tensor | HostTensor>;
  /** The optimizer state (`await optimizer.getState()`), or null. */
  optimizerState?: OptimizerState | null;
  /** The random stream's state, opaque JSON (e.g. `@attnlab/data`'s `Rng` state). */
  rngState?: Json;
  /** Iterations completed; a resumed run starts at this iteration. */
  step: number;
  /** Everything recorded so far. */
  history?: History;
  /** Free-form JSON: config, seed, backend, versions… */
  meta?: Json;
}

/** A checkpoint read back: host values only. */
export interface Checkpoint {
  version: number;
  step: number;
  params: Record<string, HostTensor>;
  optimizerState: OptimizerState | null;
  rngState: Json;
  history: History;
  meta: Json;
}

type BlobDtype = 'float32' | 'int32' | 'float64';
interface BlobRef {
  dtype: BlobDtype;
  offset: number;
  byteLength: number;
}
interface TensorRef {
  shape: number[];
  dtype: BlobDtype;
  blob: number;
}
interface SeriesRef {
  step: number;
  value: number;
}

interface Header {
  format: 'attnlab-checkpoint';
  version: number;
  step: number;
  meta: Json;
  rngState: Json;
  params: Record<string, TensorRef>;
  optimizer: null | {
    type: OptimizerState['type'];
    config: OptimizerState['config'];
    params: Record<string, { step: number; slots: Record<string, TensorRef> }>;
  };
  history: { loss: SeriesRef; validation: SeriesRef; probes: Record<string, { step: number[]; value: Json[] }> };
  blobs: BlobRef[];
  payload: { byteLength: number; crc32: number };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let crcTable: Uint32Array | undefined;
/** CRC-32 (IEEE 802.3, as zlib's crc32). */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function toLittleEndianBytes(a: Float32Array | Int32Array | Float64Array): Uint8Array {
  const bytes = new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
  if (!LITTLE_ENDIAN) swapBytes(bytes, a.BYTES_PER_ELEMENT);
  return bytes;
}

function swapBytes(bytes: Uint8Array, width: number): void {
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return { $nonfinite: String(value) };
  return value;
}

function jsonReviver(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const tag = (value as { $nonfinite?: unknown }).$nonfinite;
    if (keys.length === 1 && typeof tag === 'string') return Number(tag);
  }
  return value;
}

function isHostTensor(v: unknown): v is HostTensor {
  if (typeof v !== 'object' || v === null || v instanceof tf.Tensor || !Array.isArray((v as HostTensor).shape))
    return false;
  const values = (v as HostTensor).values;
  return values instanceof Float32Array || values instanceof Int32Array || values instanceof Float64Array;
}

const dtypeOf = (values: HostTensor['values']): BlobDtype =>
  values instanceof Int32Array ? 'int32' : values instanceof Float64Array ? 'float64' : 'float32';

async function readHost(fn: string, name: string, v: unknown): Promise<HostTensor> {
  if (v instanceof tf.Tensor) {
    if (v.dtype !== 'float32' && v.dtype !== 'int32')
      throw new TypeError(`${fn}: ${name} must be float32 or int32; got dtype ${v.dtype}`);
    const data = await v.data();
    return {
      shape: [...v.shape],
      dtype: v.dtype,
      values: v.dtype === 'int32' ? new Int32Array(data) : new Float32Array(data),
    };
  }
  if (!isHostTensor(v))
    throw new TypeError(`${fn}: ${name} must be a tf.Tensor or a host tensor {shape, dtype, values}; got ${show(v)}`);
  const size = v.shape.reduce((a, b) => a * b, 1);
  if (v.values.length !== size)
    throw new RangeError(`${fn}: ${name} has ${v.values.length} values for shape [${v.shape.join(', ')}]`);
  const dtype = dtypeOf(v.values);
  if (v.dtype !== dtype)
    throw new TypeError(`${fn}: ${name}.dtype is '${v.dtype}' but its values are ${v.values.constructor.name}`);
  return v;
}

function checkSeries(fn: string, name: string, s: unknown): asserts s is Series<unknown> {
  checkObject(fn, name, s);
  if (!Array.isArray(s.step) || !Array.isArray(s.value) || s.step.length !== s.value.length) {
    throw new TypeError(`${fn}: ${name} must be {step: number[], value: []} of equal lengths; got ${show(s)}`);
  }
}

/**
 * Serialises a checkpoint to bytes (reads tensors to the host, hence async). Browser-safe.
 * @example
 * const bytes = await serializeCheckpoint({ params: { w }, optimizerState: await opt.getState(), step: 100 });
 */
export async function serializeCheckpoint(input: CheckpointInput): Promise<Uint8Array> {
  const fn = 'serializeCheckpoint';
  checkObject(fn, 'input', input);
  checkInt(fn, 'input.step', input.step, 0);
  checkObject(fn, 'input.params', input.params);
  const blobs: BlobRef[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const addBlob = (a: Float32Array | Int32Array | Float64Array, dtype: BlobDtype): number => {
    const bytes = toLittleEndianBytes(a);
    blobs.push({ dtype, offset, byteLength: bytes.byteLength });
    chunks.push(bytes);
    offset += bytes.byteLength;
    const pad = (8 - (offset % 8)) % 8;
    if (pad) {
      chunks.push(new Uint8Array(pad));
      offset += pad;
    }
    return blobs.length - 1;
  };
  const addTensor = (h: HostTensor): TensorRef => ({
    shape: [...h.shape],
    dtype: h.dtype,
    blob: addBlob(h.values, h.dtype),
  });

  const params: Record<string, TensorRef> = {};
  for (const [name, v] of Object.entries(input.params))
    params[name] = addTensor(await readHost(fn, `input.params['${name}']`, v));

  let optimizer: Header['optimizer'] = null;
  const os = input.optimizerState;
  if (os != null) {
    checkObject(fn, 'input.optimizerState', os);
    checkObject(fn, 'input.optimizerState.params', os.params);
    const ps: NonNullable<Header['optimizer']>['params'] = {};
    for (const [name, p] of Object.entries(os.params)) {
      const slots: Record<string, TensorRef> = {};
      for (const [s, h] of Object.entries(p.slots))
        slots[s] = addTensor(await readHost(fn, `input.optimizerState.params['${name}'].slots.${s}`, h));
      ps[name] = { step: checkInt(fn, `input.optimizerState.params['${name}'].step`, p.step, 0), slots };
    }
    optimizer = { type: os.type, config: os.config, params: ps };
  }

  const history = input.history ?? emptyHistory();
  checkSeries(fn, 'input.history.loss', history.loss);
  checkSeries(fn, 'input.history.validation', history.validation);
  const seriesRef = (s: Series<number>): SeriesRef => ({
    step: addBlob(Float64Array.from(s.step), 'float64'),
    value: addBlob(Float64Array.from(s.value), 'float64'),
  });
  const probes: Header['history']['probes'] = {};
  for (const [name, s] of Object.entries(history.probes ?? {})) {
    checkSeries(fn, `input.history.probes['${name}']`, s);
    probes[name] = { step: s.step, value: s.value };
  }

  const historyRef: Header['history'] = {
    loss: seriesRef(history.loss),
    validation: seriesRef(history.validation),
    probes,
  };

  const full = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    full.set(c, at);
    at += c.byteLength;
  }
  const header: Header = {
    format: 'attnlab-checkpoint',
    version: CHECKPOINT_FORMAT_VERSION,
    step: input.step,
    meta: input.meta ?? null,
    rngState: input.rngState ?? null,
    params,
    optimizer,
    history: historyRef,
    blobs,
    payload: { byteLength: full.byteLength, crc32: crc32(full) },
  };

  const headerBytes = new TextEncoder().encode(JSON.stringify(header, jsonReplacer));
  const payloadStart = 16 + headerBytes.byteLength + ((8 - ((16 + headerBytes.byteLength) % 8)) % 8);
  const out = new Uint8Array(payloadStart + full.byteLength + 4);
  for (let i = 0; i < MAGIC.length; i++) out[i] = MAGIC.charCodeAt(i);
  const view = new DataView(out.buffer);
  view.setUint32(8, CHECKPOINT_FORMAT_VERSION, true);
  view.setUint32(12, headerBytes.byteLength, true);
  out.set(headerBytes, 16);
  out.set(full, payloadStart);
  view.setUint32(out.byteLength - 4, crc32(out.subarray(0, out.byteLength - 4)), true);
  return out;
}

/**
 * Reads a checkpoint from bytes; throws a clear error on a wrong magic, version, length or checksum.
 * @example
 * const ckpt = deserializeCheckpoint(bytes); // { step, params, optimizerState, rngState, history, meta }
 */
export function deserializeCheckpoint(bytes: Uint8Array): Checkpoint {
  const fn = 'deserializeCheckpoint';
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${fn}: bytes must be a Uint8Array; got ${show(bytes)}`);
  if (bytes.byteLength < 16)
    throw new RangeError(
      `${fn}: bytes is ${bytes.byteLength} bytes long, shorter than the 16-byte preamble; not a checkpoint`,
    );
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC.charCodeAt(i))
      throw new RangeError(`${fn}: bytes do not start with the magic '${MAGIC}'; not an attnlab checkpoint`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== CHECKPOINT_FORMAT_VERSION) {
    const why =
      version === 1
        ? ' (written by an older attnlab, whose checksum did not cover the header; start the run again)'
        : '';
    throw new RangeError(`${fn}: format version must be ${CHECKPOINT_FORMAT_VERSION}; got ${version}${why}`);
  }
  if (bytes.byteLength < 20)
    throw new RangeError(
      `${fn}: bytes is ${bytes.byteLength} bytes long, too short for a version-${version} checkpoint; truncated checkpoint`,
    );
  const stored = view.getUint32(bytes.byteLength - 4, true);
  const whole = crc32(bytes.subarray(0, bytes.byteLength - 4));
  if (stored !== whole)
    throw new RangeError(
      `${fn}: CRC-32 of the checkpoint is ${whole}, its last 4 bytes say ${stored}; truncated or corrupt checkpoint`,
    );
  bytes = bytes.subarray(0, bytes.byteLength - 4);
  const headerLength = view.getUint32(12, true);
  if (16 + headerLength > bytes.byteLength)
    throw new RangeError(
      `${fn}: header length ${headerLength} runs past the end (${bytes.byteLength} bytes); truncated checkpoint`,
    );
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + headerLength)), jsonReviver) as Header;
  } catch (e) {
    throw new RangeError(`${fn}: header is not valid JSON (${(e as Error).message}); corrupt checkpoint`);
  }
  const payloadStart = 16 + headerLength + ((8 - ((16 + headerLength) % 8)) % 8);
  const payload = bytes.subarray(payloadStart);
  if (payload.byteLength !== header.payload.byteLength) {
    throw new RangeError(
      `${fn}: payload is ${payload.byteLength} bytes, header says ${header.payload.byteLength}; truncated or corrupt checkpoint`,
    );
  }
  const crc = crc32(payload);
  if (crc !== header.payload.crc32)
    throw new RangeError(`${fn}: payload CRC-32 is ${crc}, header says ${header.payload.crc32}; corrupt checkpoint`);

  const readBlob = (index: number): Float32Array | Int32Array | Float64Array => {
    const ref = header.blobs[index];
    if (!ref) throw new RangeError(`${fn}: blob ${index} is missing from the header; corrupt checkpoint`);
    const raw = payload.slice(ref.offset, ref.offset + ref.byteLength);
    const width = ref.dtype === 'float64' ? 8 : 4;
    if (!LITTLE_ENDIAN) swapBytes(raw, width);
    if (ref.dtype === 'float64') return new Float64Array(raw.buffer);
    return ref.dtype === 'int32' ? new Int32Array(raw.buffer) : new Float32Array(raw.buffer);
  };
  const readTensor = (r: TensorRef): HostTensor => ({ shape: r.shape, dtype: r.dtype, values: readBlob(r.blob) });

  const params: Record<string, HostTensor> = {};
  for (const [name, r] of Object.entries(header.params)) params[name] = readTensor(r);
  let optimizerState: OptimizerState | null = null;
  if (header.optimizer) {
    const ps: Record<string, ParamOptimizerState> = {};
    for (const [name, p] of Object.entries(header.optimizer.params)) {
      const slots: Record<string, HostTensor> = {};
      for (const [s, r] of Object.entries(p.slots)) slots[s] = readTensor(r);
      ps[name] = { step: p.step, slots };
    }
    optimizerState = { type: header.optimizer.type, config: header.optimizer.config, params: ps };
  }
  const series = (r: SeriesRef): Series<number> => ({
    step: Array.from(readBlob(r.step)),
    value: Array.from(readBlob(r.value)),
  });
  const history: History = {
    loss: series(header.history.loss),
    validation: series(header.history.validation),
    probes: header.history.probes,
  };
  return { version, step: header.step, params, optimizerState, rngState: header.rngState, history, meta: header.meta };
}

/** A host tensor as a tfjs tensor (float64 becomes float32: tfjs has no float64). */
export function hostToTensor(h: HostTensor): tf.Tensor {
  return h.dtype === 'float64'
    ? tf.tensor(Float32Array.from(h.values), h.shape, 'float32')
    : tf.tensor(h.values, h.shape, h.dtype);
}

/**
 * Assigns a checkpoint's parameter values to existing variables (same names, shapes and dtypes).
 * @example
 * restoreParams(params, checkpoint.params);
 */
export function restoreParams(params: ParamMap, values: Record<string, HostTensor>): void {
  const fn = 'restoreParams';
  checkObject(fn, 'params', params);
  checkObject(fn, 'values', values);
  const want = Object.keys(params).sort(),
    have = Object.keys(values).sort();
  if (want.join('\u0000') !== have.join('\u0000')) {
    throw new RangeError(
      `${fn}: values must hold exactly the parameters [${want.join(', ')}]; got [${have.join(', ')}]`,
    );
  }
  for (const name of want) {
    const p = params[name]!,
      h = values[name]!;
    if (!(p instanceof tf.Variable))
      throw new TypeError(`${fn}: params['${name}'] must be a tf.Variable; got ${show(p)}`);
    // float64 values (an engine that keeps float64) go into float32 variables, rounded.
    const dtypeOk = p.dtype === h.dtype || (p.dtype === 'float32' && h.dtype === 'float64');
    if (!tf.util.arraysEqual(p.shape, h.shape) || !dtypeOk) {
      throw new RangeError(
        `${fn}: values['${name}'] must be ${p.dtype} [${p.shape.join(', ')}]; got ${h.dtype} [${h.shape.join(', ')}]`,
      );
    }
  }
  for (const name of want) {
    const h = values[name]!;
    tf.tidy(() => params[name]!.assign(hostToTensor(h)));
  }
}

/**
 * Creates fresh variables holding a checkpoint's parameters.
 * @example
 * const params = variablesFromCheckpoint(checkpoint.params);
 */
export function variablesFromCheckpoint(values: Record<string, HostTensor>): ParamMap {
  checkObject('variablesFromCheckpoint', 'values', values);
  const out: ParamMap = {};
  for (const [name, h] of Object.entries(values)) out[name] = tf.tidy(() => tf.variable(hostToTensor(h)));
  return out;
}
