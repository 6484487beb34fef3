// GGUF container: header, metadata key/value pairs, tensor infos and the data section, checked byte
// by byte. It knows nothing about language models (lm.ts) or how a ggml type's blocks decode
// (quants.ts); it only needs each type's block layout to size the tensors.
//
// Layout (little-endian, versions 2 and 3 are identical on disk; v1 used 32-bit counts):
//   "GGUF" u32 version, u64 tensor_count, u64 kv_count
//   kv_count x { string key, u32 value_type, value }            string = u64 length + UTF-8 bytes
//   tensor_count x { string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset }
//   padding to `general.alignment` (u32, default 32), then the data section; each tensor's offset is
//   relative to the start of the data section and a multiple of the alignment.
//
// The rules follow ggml's own reader (ggml/src/gguf.cpp): every count and length is checked against
// the bytes left before anything is allocated, keys and tensor names are unique, n_dims <= 4, names
// shorter than GGML_MAX_NAME (64), `general.alignment` a u32 power of two, ne[0] a multiple of the
// type's block size. Two places are stricter or looser on purpose: ggml requires the tensors to be
// packed back to back in info order, we only require each one aligned, inside the file and not
// overlapping another (what matters for reading); and nested arrays, which gguf.cpp rejects but the
// format's spec allows, are read up to a small depth.
//
// Hand-written rather than taken from npm (@huggingface/gguf, hyllama): those are built for listing
// remote files, throw plain Errors without the key or tensor, and do not check sizes, alignment or
// overlaps, so a malformed file could become a wrong model instead of a one-line diagnostic.
//
// Every problem is a TritcError, one line: `<file>: header | metadata key "k" | tensor "t": <what>`,
// code 'weights', or 'unsupported' for a ggml type whose layout this reader does not know.
// Tensor data is never copied here: each tensor's `data` is a view into the file's bytes.

import { fail } from '../../diagnostics.ts';
import { GGML_MAX_DIMS, describeGgmlType, ggmlTypeInfo, tensorNbytes } from './quants.ts';

const GGUF_MAGIC = 'GGUF';
/** ggml's default when `general.alignment` is absent (GGUF_DEFAULT_ALIGNMENT). */
const GGUF_DEFAULT_ALIGNMENT = 32;
/** ggml's GGML_MAX_NAME: a tensor name must be shorter (it is stored NUL-terminated in 64 bytes). */
const GGML_MAX_NAME = 64;
/** Arrays of arrays deeper than this are refused (gguf.cpp refuses any; the recursion must end). */
const MAX_ARRAY_DEPTH = 8;

/** GGUF value types, indexed by their on-disk id (gguf_type). */
const VALUE_TYPES = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'f32', 'bool', 'string', 'array', 'u64', 'i64', 'f64'] as const;
type GgufValueType = (typeof VALUE_TYPES)[number];

/** Bytes of one value on disk; strings and arrays are variable (0 here). */
const VALUE_SIZE: Record<GgufValueType, number> = {
  u8: 1,
  i8: 1,
  u16: 2,
  i16: 2,
  u32: 4,
  i32: 4,
  f32: 4,
  bool: 1,
  string: 0,
  array: 0,
  u64: 8,
  i64: 8,
  f64: 8,
};
/** The fewest bytes one item of an array can take: a string is at least its u64 length, an array its header. */
const MIN_ITEM_SIZE: Record<GgufValueType, number> = { ...VALUE_SIZE, string: 8, array: 12 };

type GgufNumberType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64';

export type GgufValue =
  | { type: GgufNumberType; value: number }
  | { type: 'u64' | 'i64'; value: bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; value: GgufArray };

/** An array value: numbers in typed arrays (copied out of the file, native byte order). */
export type GgufArray =
  | { itemType: 'u8'; items: Uint8Array }
  | { itemType: 'i8'; items: Int8Array }
  | { itemType: 'u16'; items: Uint16Array }
  | { itemType: 'i16'; items: Int16Array }
  | { itemType: 'u32'; items: Uint32Array }
  | { itemType: 'i32'; items: Int32Array }
  | { itemType: 'f32'; items: Float32Array }
  | { itemType: 'f64'; items: Float64Array }
  | { itemType: 'u64'; items: BigUint64Array }
  | { itemType: 'i64'; items: BigInt64Array }
  | { itemType: 'bool'; items: boolean[] }
  | { itemType: 'string'; items: string[] }
  | { itemType: 'array'; items: GgufArray[] };

export interface GgufTensorInfo {
  name: string;
  /** Position in the file's tensor list. */
  index: number;
  /** ggml order: ne[0] is the row length (fastest varying); n_dims entries, no padding ones. */
  ne: number[];
  /** ggml type id (see quants.ts). */
  type: number;
  typeName: string;
  nElements: number;
  /** Offset relative to the data section, as stored. */
  offset: number;
  /** Absolute offset of the first data byte in the file. */
  fileOffset: number;
  /** The tensor's bytes: a view into the file, not a copy (may be unaligned for typed arrays). */
  data: Uint8Array;
}

export interface GgufFile {
  /** The file name used in messages. */
  label: string;
  version: number;
  alignment: number;
  /** Absolute offset where the data section starts. */
  dataOffset: number;
  metadata: GgufMetadata;
  /** In file order. */
  tensors: Map<string, GgufTensorInfo>;
  /** The whole file (tensor `data` are views into it). */
  bytes: Uint8Array;
}

/** Does this look like a GGUF file (the magic)? Cheap: reads 4 bytes. */
export function looksLikeGguf(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x47 && head[1] === 0x47 && head[2] === 0x55 && head[3] === 0x46;
}

// ---------------------------------------------------------------------------------------------------
// Messages

/** A name or key as it appears in a message: quoted, escaped (one line), and not too long. */
export function quoted(s: string): string {
  // Escape first, then cut: a corrupt name full of control characters must not make a long line.
  let out = '';
  for (const ch of s) {
    const e = JSON.stringify(ch).slice(1, -1);
    if (out.length + e.length > 80) return `"${out}..."`;
    out += e;
  }
  return `"${out}"`;
}

function describeValue(v: GgufValue): string {
  switch (v.type) {
    case 'string':
      return `the string ${quoted(v.value)}`;
    case 'array':
      return `an array of ${v.value.items.length} ${v.value.itemType}`;
    case 'bool':
      return `bool ${v.value}`;
    default:
      return `${v.type} ${String(v.value)}`;
  }
}

// ---------------------------------------------------------------------------------------------------
// Typed metadata access

/**
 * The key/value pairs with accessors that fail with one line naming the key when it is missing or of
 * the wrong type. `get*` require the key; `opt*` return undefined when it is absent (and still fail
 * on a wrong type).
 */
export class GgufMetadata {
  constructor(
    readonly label: string,
    readonly entries: ReadonlyMap<string, GgufValue>,
  ) {}

  has(key: string): boolean {
    return this.entries.has(key);
  }
  get(key: string): GgufValue | undefined {
    return this.entries.get(key);
  }
  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** The `where` of a diagnostic about this key. */
  where(key: string): string {
    return `${this.label}: metadata key ${quoted(key)}`;
  }

  private need(key: string): GgufValue {
    const v = this.entries.get(key);
    if (v === undefined) fail('weights', this.where(key), 'is missing');
    return v;
  }
  private wrongType(key: string, v: GgufValue, expected: string): never {
    fail('weights', this.where(key), `is ${describeValue(v)}, expected ${expected}`);
  }

  getString(key: string): string {
    const v = this.need(key);
    if (v.type !== 'string') this.wrongType(key, v, 'a string');
    return v.value;
  }
  optString(key: string): string | undefined {
    return this.has(key) ? this.getString(key) : undefined;
  }

  getU32(key: string): number {
    const v = this.need(key);
    if (v.type !== 'u32') this.wrongType(key, v, 'a u32');
    return v.value;
  }
  optU32(key: string): number | undefined {
    return this.has(key) ? this.getU32(key) : undefined;
  }

  getF32(key: string): number {
    const v = this.need(key);
    if (v.type !== 'f32') this.wrongType(key, v, 'an f32');
    return v.value;
  }
  optF32(key: string): number | undefined {
    return this.has(key) ? this.getF32(key) : undefined;
  }

  getBool(key: string): boolean {
    const v = this.need(key);
    if (v.type !== 'bool') this.wrongType(key, v, 'a bool');
    return v.value;
  }
  optBool(key: string): boolean | undefined {
    return this.has(key) ? this.getBool(key) : undefined;
  }

  /**
   * A non-negative integer of any integer type (u8..u64, i8..i64) that fits a JS number exactly.
   * Writers disagree on widths (gguf-py writes u32, some converters u64); the value is what matters.
   */
  getUint(key: string): number {
    const v = this.need(key);
    switch (v.type) {
      case 'u8':
      case 'i8':
      case 'u16':
      case 'i16':
      case 'u32':
      case 'i32':
        if (v.value < 0) fail('weights', this.where(key), `is ${v.type} ${v.value}, expected a non-negative integer`);
        return v.value;
      case 'u64':
      case 'i64':
        if (v.value < 0n || v.value > BigInt(Number.MAX_SAFE_INTEGER))
          fail('weights', this.where(key), `is ${v.type} ${v.value}, expected a non-negative integer below 2^53`);
        return Number(v.value);
      default:
        this.wrongType(key, v, 'an unsigned integer');
    }
  }
  optUint(key: string): number | undefined {
    return this.has(key) ? this.getUint(key) : undefined;
  }

  /** An f32 or f64 (as a JS number). */
  getFloat(key: string): number {
    const v = this.need(key);
    if (v.type !== 'f32' && v.type !== 'f64') this.wrongType(key, v, 'an f32 or f64');
    return v.value;
  }
  optFloat(key: string): number | undefined {
    return this.has(key) ? this.getFloat(key) : undefined;
  }

  getArray(key: string): GgufArray {
    const v = this.need(key);
    if (v.type !== 'array') this.wrongType(key, v, 'an array');
    return v.value;
  }
  getStringArray(key: string): string[] {
    const a = this.getArray(key);
    if (a.itemType !== 'string') fail('weights', this.where(key), `is an array of ${a.itemType}, expected an array of strings`);
    return a.items;
  }
  getF32Array(key: string): Float32Array {
    const a = this.getArray(key);
    if (a.itemType !== 'f32') fail('weights', this.where(key), `is an array of ${a.itemType}, expected an array of f32`);
    return a.items;
  }
  getI32Array(key: string): Int32Array {
    const a = this.getArray(key);
    if (a.itemType !== 'i32') fail('weights', this.where(key), `is an array of ${a.itemType}, expected an array of i32`);
    return a.items;
  }
}

// ---------------------------------------------------------------------------------------------------
// The byte cursor: every read checks what is left and names what it was reading.

class Cursor {
  pos = 0;
  /** What is being read, for messages: `header`, `metadata key "k"`, `tensor "t"`. */
  context = 'header';
  readonly dv: DataView;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

  constructor(
    readonly bytes: Uint8Array,
    readonly label: string,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get left(): number {
    return this.bytes.length - this.pos;
  }

  error(message: string, code: 'weights' | 'unsupported' = 'weights'): never {
    fail(code, `${this.label}: ${this.context}`, message);
  }

  need(n: number, what: string): void {
    if (n > this.left) {
      this.error(`truncated: ${what} needs ${n} byte${n === 1 ? '' : 's'} at offset ${this.pos}, the file ends at ${this.bytes.length}`);
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.pos++]!;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.dv.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(what: string): bigint {
    this.need(8, what);
    const v = this.dv.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A u64 that must be a count or size of at most `max` (bytes left, usually): checked before use. */
  count(what: string, unit: number, unitText: string): number {
    const n = this.u64(what);
    const left = this.left;
    if (n * BigInt(unit) > BigInt(left)) {
      this.error(`${what} is ${n}, but ${n} ${unitText} need at least ${n * BigInt(unit)} bytes and only ${left} remain`);
    }
    return Number(n);
  }

  /** A GGUF string: u64 length, then that many bytes of UTF-8. */
  string(what: string): string {
    const at = this.pos;
    const n = this.u64(`the length of ${what}`);
    if (n > BigInt(this.left)) {
      this.error(`${what} at offset ${at} claims ${n} bytes, but only ${this.left} remain in the file`);
    }
    const len = Number(n);
    const raw = this.bytes.subarray(this.pos, this.pos + len);
    let s: string;
    try {
      s = this.utf8.decode(raw);
    } catch {
      this.error(`${what} at offset ${at} is not valid UTF-8`);
    }
    this.pos += len;
    return s;
  }
}

function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

// ---------------------------------------------------------------------------------------------------
// Values

function valueType(c: Cursor, what: string): GgufValueType {
  const at = c.pos;
  const id = c.u32(what);
  const t = VALUE_TYPES[id];
  if (t === undefined) {
    c.error(`${what} at offset ${at} is ${id}, not a GGUF value type (0..${VALUE_TYPES.length - 1}: ${VALUE_TYPES.join(', ')})`);
  }
  return t;
}

function readScalar(c: Cursor, type: Exclude<GgufValueType, 'array'>): GgufValue {
  switch (type) {
    case 'string':
      return { type, value: c.string('the string value') };
    case 'bool': {
      const at = c.pos;
      const b = c.u8('the bool value');
      if (b > 1) c.error(`the bool value at offset ${at} is byte ${b}, expected 0 or 1`);
      return { type, value: b === 1 };
    }
    case 'u64':
    case 'i64': {
      c.need(8, `the ${type} value`);
      const value = type === 'u64' ? c.dv.getBigUint64(c.pos, true) : c.dv.getBigInt64(c.pos, true);
      c.pos += 8;
      return { type, value };
    }
    default: {
      const size = VALUE_SIZE[type];
      c.need(size, `the ${type} value`);
      const value = readNumber(c.dv, c.pos, type);
      c.pos += size;
      return { type, value };
    }
  }
}

function readNumber(dv: DataView, at: number, type: GgufNumberType): number {
  switch (type) {
    case 'u8':
      return dv.getUint8(at);
    case 'i8':
      return dv.getInt8(at);
    case 'u16':
      return dv.getUint16(at, true);
    case 'i16':
      return dv.getInt16(at, true);
    case 'u32':
      return dv.getUint32(at, true);
    case 'i32':
      return dv.getInt32(at, true);
    case 'f32':
      return dv.getFloat32(at, true);
    case 'f64':
      return dv.getFloat64(at, true);
  }
}

/** An array's body (after its value type id): item type, count, items. */
function readArray(c: Cursor, depth: number): GgufArray {
  if (depth > MAX_ARRAY_DEPTH) c.error(`arrays are nested more than ${MAX_ARRAY_DEPTH} deep at offset ${c.pos}`);
  const itemType = valueType(c, 'the array item type');
  const n = c.count('the array length', MIN_ITEM_SIZE[itemType], `${itemType} items`);
  switch (itemType) {
    case 'string': {
      const items: string[] = [];
      for (let i = 0; i < n; i++) items.push(c.string(`array item ${i}`));
      return { itemType, items };
    }
    case 'bool': {
      const items: boolean[] = [];
      for (let i = 0; i < n; i++) {
        const b = c.bytes[c.pos + i]!;
        if (b > 1) c.error(`array item ${i} (bool, offset ${c.pos + i}) is byte ${b}, expected 0 or 1`);
        items.push(b === 1);
      }
      c.pos += n;
      return { itemType, items };
    }
    case 'array': {
      // Each item is an array body (item type, count, items) with no value type of its own: the
      // spec's gguf_metadata_value_t nests without tags.
      const items: GgufArray[] = [];
      for (let i = 0; i < n; i++) items.push(readArray(c, depth + 1));
      return { itemType, items };
    }
    case 'u64':
    case 'i64': {
      const items = itemType === 'u64' ? new BigUint64Array(n) : new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        items[i] = itemType === 'u64' ? c.dv.getBigUint64(c.pos + 8 * i, true) : c.dv.getBigInt64(c.pos + 8 * i, true);
      }
      c.pos += 8 * n;
      return itemType === 'u64' ? { itemType, items: items as BigUint64Array } : { itemType, items: items as BigInt64Array };
    }
    default: {
      // Numbers are copied into a native typed array with explicit little-endian reads: the file's
      // bytes may be unaligned for a view, and metadata arrays are small next to tensor data.
      const size = VALUE_SIZE[itemType];
      const at = c.pos;
      c.pos += size * n;
      return numberArray(c.dv, at, n, itemType);
    }
  }
}

function numberArray(dv: DataView, at: number, n: number, t: GgufNumberType): GgufArray {
  const fill = <A extends { [i: number]: number }>(a: A, size: number): A => {
    for (let i = 0; i < n; i++) a[i] = readNumber(dv, at + size * i, t);
    return a;
  };
  switch (t) {
    case 'u8':
      return { itemType: t, items: fill(new Uint8Array(n), 1) };
    case 'i8':
      return { itemType: t, items: fill(new Int8Array(n), 1) };
    case 'u16':
      return { itemType: t, items: fill(new Uint16Array(n), 2) };
    case 'i16':
      return { itemType: t, items: fill(new Int16Array(n), 2) };
    case 'u32':
      return { itemType: t, items: fill(new Uint32Array(n), 4) };
    case 'i32':
      return { itemType: t, items: fill(new Int32Array(n), 4) };
    case 'f32':
      return { itemType: t, items: fill(new Float32Array(n), 4) };
    case 'f64':
      return { itemType: t, items: fill(new Float64Array(n), 8) };
  }
}

function readValue(c: Cursor): GgufValue {
  const type = valueType(c, 'the value type');
  if (type === 'array') return { type, value: readArray(c, 1) };
  return readScalar(c, type);
}

// ---------------------------------------------------------------------------------------------------
// The file

/**
 * Parse and check a GGUF file held in memory. `label` names it in messages. Tensor `data` are views
 * into `bytes`.
 */
export function readGguf(bytes: Uint8Array, label: string): GgufFile {
  const c: Cursor = new Cursor(bytes, label);

  // Header.
  if (bytes.length < 4) c.error(`truncated: the file has ${bytes.length} bytes, fewer than the 4-byte magic "GGUF"`);
  if (!looksLikeGguf(bytes)) {
    const shown = [...bytes.subarray(0, 4)].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`));
    c.error(`not a GGUF file: the magic is "${shown.join('')}", expected "${GGUF_MAGIC}"`);
  }
  c.pos = 4;
  const version = c.u32('the version');
  if (version === 0) c.error('version 0 is not a GGUF version (expected 2 or 3)');
  if ((version & 0xffff) === 0) {
    // A big-endian file's version 3 reads as 0x03000000 here (the magic is bytes, so it matches).
    const swapped = ((version >>> 24) | ((version >>> 8) & 0xff00)) >>> 0;
    c.error(`the version reads as 0x${version.toString(16)}: this looks like a big-endian GGUF (version ${swapped}); only little-endian files are supported`);
  }
  if (version === 1) c.error('GGUF version 1 (32-bit counts) is no longer supported by ggml or tritc; re-convert the model to version 3');
  if (version > 3) c.error(`GGUF version ${version} is newer than this reader knows (2 and 3)`);
  // Minimal sizes: a tensor info is a name length (8), n_dims (4), type (4) and offset (8); a
  // key/value pair a key length (8), at least one key byte, a value type (4) and a 1-byte value.
  const nTensors = c.count('the tensor count', 24, 'tensor infos');
  const nKv = c.count('the metadata key/value count', 14, 'key/value pairs');

  // Metadata.
  const entries = new Map<string, GgufValue>();
  for (let i = 0; i < nKv; i++) {
    c.context = `metadata entry ${i}`;
    const key = c.string('the key');
    if (key.length === 0) c.error('the key is empty');
    c.context = `metadata key ${quoted(key)}`;
    if (entries.has(key)) c.error(`duplicate key (entry ${i} repeats an earlier one)`);
    entries.set(key, readValue(c));
  }
  const metadata = new GgufMetadata(label, entries);

  // Alignment: gguf.cpp requires a u32 power of two.
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const alignValue = entries.get('general.alignment');
  if (alignValue !== undefined) {
    c.context = 'metadata key "general.alignment"';
    if (alignValue.type !== 'u32') c.error(`is ${describeValue(alignValue)}, expected a u32`);
    alignment = alignValue.value;
    if (alignment === 0 || (alignment & (alignment - 1)) !== 0) c.error(`is ${alignment}, expected a power of two`);
  }

  // Tensor infos.
  const infos: Omit<GgufTensorInfo, 'fileOffset' | 'data'>[] = [];
  const names = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    c.context = `tensor info ${i}`;
    const name = c.string('the tensor name');
    c.context = `tensor ${quoted(name)}`;
    const nameBytes = new TextEncoder().encode(name).length;
    if (nameBytes >= GGML_MAX_NAME) c.error(`the name is ${nameBytes} bytes long; ggml allows at most ${GGML_MAX_NAME - 1}`);
    if (names.has(name)) c.error(`duplicate tensor name (tensor info ${i} repeats an earlier one)`);
    names.add(name);

    const nDims = c.u32('n_dims');
    if (nDims > GGML_MAX_DIMS) c.error(`has ${nDims} dimensions; ggml allows at most ${GGML_MAX_DIMS}`);
    const ne: number[] = [];
    let product = 1n;
    for (let d = 0; d < nDims; d++) {
      const v = c.u64(`ne[${d}]`);
      product *= v;
      // 2^53: every element index must be an exact JS number (ggml's own limit is INT64_MAX).
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || product > BigInt(Number.MAX_SAFE_INTEGER)) {
        c.error(`ne[${d}] = ${v} makes the element count ${product} too large (at most 2^53 - 1)`);
      }
      ne.push(Number(v));
    }
    const nElements = Number(product);

    const typeAt = c.pos;
    const type = c.u32('the ggml type');
    const info = ggmlTypeInfo(type);
    if (info === undefined) {
      c.error(`has ggml type ${type} (${describeGgmlType(type)}, at offset ${typeAt}), whose block layout tritc does not know`, 'unsupported');
    }
    const ne0 = nDims > 0 ? ne[0]! : 1;
    if (ne0 % info.blockSize !== 0) {
      c.error(`ne[0] = ${ne0} (the row length) is not a multiple of ${info.name}'s block size ${info.blockSize}`);
    }
    const offset = c.u64('the data offset');
    if (offset > BigInt(Number.MAX_SAFE_INTEGER)) c.error(`the data offset ${offset} is past any file tritc can read`);
    if (offset % BigInt(alignment) !== 0n) c.error(`the data offset ${offset} is not a multiple of the alignment ${alignment}`);
    infos.push({ name, index: i, ne, type, typeName: info.name, nElements, offset: Number(offset) });
  }

  // Data section: starts at the aligned end of the infos (ggml seeks there only when there are tensors).
  c.context = 'header';
  const dataOffset = nTensors > 0 ? alignUp(c.pos, alignment) : c.pos;
  if (nTensors > 0 && dataOffset > bytes.length) {
    c.error(
      `truncated: the data section starts at offset ${dataOffset} (the tensor infos end at ${c.pos}, aligned to ${alignment}), the file ends at ${bytes.length}`,
    );
  }

  const placed: { name: string; begin: number; end: number }[] = [];
  const tensors = new Map<string, GgufTensorInfo>();
  for (const t of infos) {
    const where = `${label}: tensor ${quoted(t.name)}`;
    const size = tensorNbytes(t.type, t.nElements);
    const begin = dataOffset + t.offset;
    const end = begin + size;
    if (end > bytes.length) {
      fail(
        'weights',
        where,
        `data [${begin}, ${end}) (${size} bytes of ${t.typeName} for ne [${t.ne.join(', ')}]) runs past the end of the file at ${bytes.length}`,
      );
    }
    placed.push({ name: t.name, begin, end });
    tensors.set(t.name, { ...t, fileOffset: begin, data: bytes.subarray(begin, end) });
  }

  // Overlaps: sorted by start, every non-empty tensor must begin at or after the previous end.
  placed.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let prev: (typeof placed)[number] | undefined;
  for (const t of placed) {
    if (t.end === t.begin) continue;
    if (prev !== undefined && t.begin < prev.end) {
      fail('weights', `${label}: tensor ${quoted(t.name)}`, `data [${t.begin}, ${t.end}) overlaps tensor ${quoted(prev.name)} at [${prev.begin}, ${prev.end})`);
    }
    if (prev === undefined || t.end > prev.end) prev = t;
  }

  return { label, version, alignment, dataOffset, metadata, tensors, bytes };
}
