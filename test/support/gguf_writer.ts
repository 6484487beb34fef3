// A small GGUF writer for tests only: synthetic files, edited copies of real ones, and the byte-level
// pieces to build malformed ones. Not a product writer: it writes exactly what it is told, including
// nonsense, so tests can aim each malformation at one rule of the reader.

import type { GgufArray, GgufFile, GgufValue } from '../../compiler/readers/gguf/container.ts';

const VALUE_TYPE_ID: Record<string, number> = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
  u64: 10,
  i64: 11,
  f64: 12,
};

/** Append-only little-endian byte buffer. */
export class ByteWriter {
  private buf = new Uint8Array(1024);
  private dv = new DataView(this.buf.buffer);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }
  u8(v: number): this {
    this.room(1);
    this.dv.setUint8(this.length, v);
    this.length += 1;
    return this;
  }
  u16(v: number): this {
    this.room(2);
    this.dv.setUint16(this.length, v, true);
    this.length += 2;
    return this;
  }
  u32(v: number): this {
    this.room(4);
    this.dv.setUint32(this.length, v >>> 0, true);
    this.length += 4;
    return this;
  }
  u64(v: number | bigint): this {
    this.room(8);
    this.dv.setBigUint64(this.length, BigInt(v), true);
    this.length += 8;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }
  /** A GGUF string: u64 byte length then the bytes (a Uint8Array is written raw, e.g. invalid UTF-8). */
  str(s: string | Uint8Array): this {
    const b = typeof s === 'string' ? new TextEncoder().encode(s) : s;
    return this.u64(b.length).bytes(b);
  }
  pad(alignment: number): this {
    const n = (alignment - (this.length % alignment)) % alignment;
    this.room(n);
    this.length += n;
    return this;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Write a value's body (no type id). */
function writeBody(w: ByteWriter, v: GgufValue): void {
  switch (v.type) {
    case 'u8':
      w.u8(v.value);
      return;
    case 'i8':
      w.u8(v.value & 0xff);
      return;
    case 'u16':
      w.u16(v.value);
      return;
    case 'i16':
      w.u16(v.value & 0xffff);
      return;
    case 'u32':
      w.u32(v.value);
      return;
    case 'i32':
      w.u32(v.value | 0);
      return;
    case 'f32': {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setFloat32(0, v.value, true);
      w.bytes(b);
      return;
    }
    case 'f64': {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, v.value, true);
      w.bytes(b);
      return;
    }
    case 'u64':
      w.u64(v.value);
      return;
    case 'i64':
      w.u64(BigInt.asUintN(64, v.value));
      return;
    case 'bool':
      w.u8(v.value ? 1 : 0);
      return;
    case 'string':
      w.str(v.value);
      return;
    case 'array':
      writeArray(w, v.value);
      return;
  }
}

function writeArray(w: ByteWriter, a: GgufArray): void {
  w.u32(VALUE_TYPE_ID[a.itemType]!).u64(a.items.length);
  for (const item of Array.from(a.items as ArrayLike<unknown>)) {
    writeBody(w, (a.itemType === 'array' ? { type: 'array', value: item } : { type: a.itemType, value: item }) as GgufValue);
  }
}

export function writeKv(w: ByteWriter, key: string, v: GgufValue): void {
  w.str(key).u32(VALUE_TYPE_ID[v.type]!);
  writeBody(w, v);
}

export interface WTensor {
  name: string;
  /** ggml order: ne[0] = row length. */
  ne: number[];
  /** ggml type id. */
  type: number;
  data: Uint8Array;
  /** Force this data offset (relative to the data section) instead of packing. */
  offset?: number;
}

export interface WOptions {
  version?: number;
  /** The alignment used to place data (write `general.alignment` yourself to declare another). */
  alignment?: number;
  /** Override the counts written in the header. */
  tensorCount?: bigint;
  kvCount?: bigint;
}

/** Serialise a GGUF file: header, key/value pairs, tensor infos, padding, data packed in order. */
export function writeGguf(kv: [string, GgufValue][], tensors: WTensor[], opts: WOptions = {}): Uint8Array {
  const alignment = opts.alignment ?? 32;
  const w = new ByteWriter();
  w.bytes(new TextEncoder().encode('GGUF')).u32(opts.version ?? 3);
  w.u64(opts.tensorCount ?? BigInt(tensors.length)).u64(opts.kvCount ?? BigInt(kv.length));
  for (const [k, v] of kv) writeKv(w, k, v);
  const offsets: number[] = [];
  let next = 0;
  for (const t of tensors) {
    const off = t.offset ?? next;
    offsets.push(off);
    next = Math.max(next, Math.ceil((off + t.data.length) / alignment) * alignment);
  }
  tensors.forEach((t, i) => {
    w.str(t.name).u32(t.ne.length);
    for (const d of t.ne) w.u64(d);
    w.u32(t.type).u64(offsets[i]!);
  });
  w.pad(alignment);
  const dataStart = w.length;
  const out = new Uint8Array(dataStart + next);
  out.set(w.result());
  tensors.forEach((t, i) => out.set(t.data, dataStart + offsets[i]!));
  return out;
}

/** The key/value pairs and tensors of a parsed file, ready to edit and write back. */
export function unpack(g: GgufFile): { kv: [string, GgufValue][]; tensors: WTensor[] } {
  return {
    kv: [...g.metadata.entries],
    tensors: [...g.tensors.values()].map((t) => ({ name: t.name, ne: [...t.ne], type: t.type, data: t.data })),
  };
}

/** float32 -> IEEE binary16 bits, round to nearest even (an independent check of the reader's half->float). */
export function f32ToHalfBits(x: number): number {
  const f = new DataView(new ArrayBuffer(4));
  f.setFloat32(0, x);
  const u = f.getUint32(0);
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const man = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 : 0);
  // Value = 1.man * 2^(exp-127); half exponent e = exp - 127 + 15.
  const e = exp - 112;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half: value / 2^-24, rounded to nearest even.
    if (e < -10) return sign;
    const m = man | 0x800000;
    const shift = 14 - e; // bits dropped
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (man >>> 13);
  const rem = man & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // may carry into the exponent: still right
  return sign | h;
}

/** Deterministic PRNG (mulberry32) for seeded property tests. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
