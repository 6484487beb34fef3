// safetensors files.
//
// Layout: an 8-byte little-endian u64 N, then N bytes of UTF-8 JSON
//   { "<name>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, ...,
//     "__metadata__": { "<key>": "<string>" } }
// (possibly padded with trailing spaces), then the data buffer. Offsets are relative to the start of
// the data buffer, tensor data is little-endian and C-ordered.
//
// Diagnostics about one tensor use `where` = `<label>: tensor "<name>"`, so the formatted message
// reads e.g. `model.safetensors: tensor "fc1.w": shape [32, 64] of F32 needs 8192 bytes, ...`.

import type { NdData } from './ndarray.ts';
import { fail } from '../diagnostics.ts';
import { HOST_LITTLE_ENDIAN, copyBytes, swapBytesInPlace } from './ndarray.ts';
import { jsonSyntaxProblem } from '../util/json.ts';

export type StDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'U16' | 'U32' | 'U64' | 'BOOL';

export interface StTensor {
  name: string;
  dtype: StDType;
  shape: number[];
  /** View of the raw little-endian data inside the file's bytes (not a copy; may be unaligned). */
  bytes: Uint8Array;
}

export interface StFile {
  /** Tensors in the order their data appears in the file. */
  tensors: Map<string, StTensor>;
  metadata: Record<string, string>;
}

/** The typed arrays safetensors data converts to (float16/bfloat16 stay raw Uint16 bits). */
export type StTyped = NdData;

const DTYPE_SIZE: Record<StDType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  U16: 2,
  U32: 4,
  U64: 8,
  BOOL: 1,
};

const METADATA_KEY = '__metadata__';

function isStDType(s: unknown): s is StDType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_SIZE, s);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  return `${typeof v} ${String(v)}`;
}

function shapeText(shape: readonly unknown[]): string {
  return `[${shape.map((d) => (typeof d === 'string' ? JSON.stringify(d) : String(d))).join(', ')}]`;
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Parse and validate a safetensors file. Tensor `bytes` are views into `bytes`. Every malformation
 * (truncation, bad JSON, bad entries, inconsistent sizes, overlaps) becomes a TritcError with code
 * 'weights'.
 */
export function readSafetensors(bytes: Uint8Array, label: string): StFile {
  if (bytes.length < 8) {
    fail('weights', label, `truncated: the file has ${bytes.length} bytes, fewer than the 8-byte header length`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = dv.getBigUint64(0, true);
  const rest = bytes.length - 8;
  if (headerLen > BigInt(rest)) {
    fail('weights', label, `truncated: header says ${headerLen} bytes, file has ${rest} after the 8-byte length`);
  }
  const n = Number(headerLen);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail('weights', label, 'the header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    fail('weights', label, `the header is not valid JSON (${jsonSyntaxProblem(text)})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    fail('weights', label, `the header must be a JSON object of tensors, found ${describe(header)}`);
  }

  const data = bytes.subarray(8 + n);
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: StDType; shape: number[]; begin: number; end: number }[] = [];

  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (entry === null) continue;
      if (typeof entry !== 'object' || Array.isArray(entry)) {
        fail('weights', `${label}: ${METADATA_KEY}`, `expected an object of string values, found ${describe(entry)}`);
      }
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') {
          fail('weights', `${label}: ${METADATA_KEY}.${JSON.stringify(k)}`, `metadata values must be strings, found ${describe(v)}`);
        }
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    const where = `${label}: tensor ${JSON.stringify(name)}`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      fail('weights', where, `expected an object with "dtype", "shape" and "data_offsets", found ${describe(entry)}`);
    }
    const e = entry as Record<string, unknown>;
    for (const field of ['dtype', 'shape', 'data_offsets']) {
      if (!Object.prototype.hasOwnProperty.call(e, field)) {
        fail('weights', where, `missing "${field}" (each tensor needs "dtype", "shape" and "data_offsets")`);
      }
    }
    const dtype = e['dtype'];
    if (typeof dtype !== 'string') fail('weights', where, `"dtype" must be a string, found ${describe(dtype)}`);
    if (!isStDType(dtype)) {
      fail('weights', where, `unknown dtype ${JSON.stringify(dtype)} (expected one of ${Object.keys(DTYPE_SIZE).join(', ')})`);
    }
    const shape = e['shape'];
    if (!Array.isArray(shape)) fail('weights', where, `"shape" must be an array of non-negative integers, found ${describe(shape)}`);
    for (const d of shape) {
      if (!isIndex(d)) {
        fail('weights', where, `"shape" must be an array of non-negative integers, found ${shapeText(shape)}`);
      }
    }
    const offsets = e['data_offsets'];
    if (!Array.isArray(offsets) || offsets.length !== 2 || !isIndex(offsets[0]) || !isIndex(offsets[1])) {
      fail(
        'weights',
        where,
        `"data_offsets" must be [begin, end] with non-negative integers, found ${Array.isArray(offsets) ? shapeText(offsets) : describe(offsets)}`,
      );
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) fail('weights', where, `"data_offsets" [${begin}, ${end}] end before they begin`);
    let needed = BigInt(DTYPE_SIZE[dtype]);
    for (const d of shape as number[]) needed *= BigInt(d);
    if (needed !== BigInt(end - begin)) {
      fail('weights', where, `shape ${shapeText(shape)} of ${dtype} needs ${needed} bytes, data_offsets give ${end - begin}`);
    }
    if (end > data.length) {
      fail('weights', where, `file truncated: the tensor ends at byte ${end} of the data, the data has only ${data.length} bytes`);
    }
    entries.push({ name, dtype, shape: [...(shape as number[])], begin, end });
  }

  // Overlap check: sort by position; every non-empty tensor must start at or after the previous end.
  const order = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let prev: (typeof entries)[number] | undefined;
  for (const t of order) {
    if (t.end === t.begin) continue;
    if (prev !== undefined && t.begin < prev.end) {
      fail(
        'weights',
        `${label}: tensor ${JSON.stringify(t.name)}`,
        `data bytes [${t.begin}, ${t.end}) overlap tensor ${JSON.stringify(prev.name)} at [${prev.begin}, ${prev.end})`,
      );
    }
    prev = t;
  }

  const tensors = new Map<string, StTensor>();
  for (const t of order) {
    tensors.set(t.name, { name: t.name, dtype: t.dtype, shape: t.shape, bytes: data.subarray(t.begin, t.end) });
  }
  return { tensors, metadata };
}

/**
 * Serialise tensors (in the order given, packed back to back) with an optional `__metadata__`
 * object. The JSON header is padded with spaces so the data starts at a multiple of 8 bytes.
 * Invalid input (unknown dtype, size mismatch, duplicate or reserved names) is a programming error
 * and throws a plain Error.
 */
export function writeSafetensors(
  tensors: { name: string; dtype: StDType; shape: number[]; bytes: Uint8Array }[],
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  const put = (k: string, v: unknown): void => {
    Object.defineProperty(header, k, { value: v, enumerable: true, writable: true, configurable: true });
  };
  if (metadata !== undefined) {
    const md: Record<string, string> = {};
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`internal: writeSafetensors: metadata ${JSON.stringify(k)} is not a string`);
      Object.defineProperty(md, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    put(METADATA_KEY, md);
  }
  const seen = new Set<string>();
  let offset = 0;
  for (const t of tensors) {
    if (t.name === METADATA_KEY) throw new Error(`internal: writeSafetensors: "${METADATA_KEY}" is reserved`);
    if (seen.has(t.name)) throw new Error(`internal: writeSafetensors: duplicate tensor ${JSON.stringify(t.name)}`);
    seen.add(t.name);
    if (!isStDType(t.dtype)) throw new Error(`internal: writeSafetensors: unknown dtype ${String(t.dtype)}`);
    let count = 1;
    for (const d of t.shape) {
      if (!isIndex(d)) throw new Error(`internal: writeSafetensors: tensor ${JSON.stringify(t.name)} has invalid dimension ${d}`);
      count *= d;
    }
    const size = count * DTYPE_SIZE[t.dtype];
    if (size !== t.bytes.length) {
      throw new Error(
        `internal: writeSafetensors: tensor ${JSON.stringify(t.name)} shape ${shapeText(t.shape)} of ${t.dtype} needs ${size} bytes, got ${t.bytes.length}`,
      );
    }
    put(t.name, { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + size] });
    offset += size;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let p = 8 + padded;
  for (const t of tensors) {
    out.set(t.bytes, p);
    p += t.bytes.length;
  }
  return out;
}

/**
 * Copy a tensor's data into a fresh, aligned typed array in native byte order: F32 -> Float32Array,
 * F64 -> Float64Array, I8 -> Int8Array, U8/BOOL -> Uint8Array, I16 -> Int16Array, U16 -> Uint16Array,
 * F16/BF16 -> Uint16Array (raw bit patterns), I32 -> Int32Array, U32 -> Uint32Array,
 * I64 -> BigInt64Array, U64 -> BigUint64Array.
 */
export function stToTyped(t: StTensor): StTyped {
  const size = DTYPE_SIZE[t.dtype];
  if (t.bytes.length % size !== 0) {
    throw new Error(`internal: stToTyped: tensor ${JSON.stringify(t.name)} has ${t.bytes.length} bytes, not a multiple of ${size}`);
  }
  const copy = copyBytes(t.bytes);
  if (!HOST_LITTLE_ENDIAN) swapBytesInPlace(copy, size);
  const buf = copy.buffer;
  const n = copy.length / size;
  switch (t.dtype) {
    case 'F32':
      return new Float32Array(buf, 0, n);
    case 'F64':
      return new Float64Array(buf, 0, n);
    case 'F16':
    case 'BF16':
    case 'U16':
      return new Uint16Array(buf, 0, n);
    case 'I16':
      return new Int16Array(buf, 0, n);
    case 'I8':
      return new Int8Array(buf, 0, n);
    case 'U8':
    case 'BOOL':
      return copy;
    case 'I32':
      return new Int32Array(buf, 0, n);
    case 'U32':
      return new Uint32Array(buf, 0, n);
    case 'I64':
      return new BigInt64Array(buf, 0, n);
    case 'U64':
      return new BigUint64Array(buf, 0, n);
  }
}
