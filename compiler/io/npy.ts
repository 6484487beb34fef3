// NumPy .npy files (format versions 1.0, 2.0 and 3.0).
//
// Layout: the magic string "\x93NUMPY", one byte major and one byte minor version, the header length
// (little-endian u16 for 1.0, u32 for 2.0 and 3.0), then the header: the repr() of a Python dict with
// exactly the keys 'descr', 'fortran_order' and 'shape', padded with spaces and a final newline so that
// the data starts at a multiple of 64 bytes. The header is latin-1 for 1.0/2.0 and UTF-8 for 3.0. The
// raw element data follows, in C order unless fortran_order is True.
//
// The header is parsed by a small recursive-descent parser for the Python literal subset NumPy writes
// (strings, integers, True/False/None, tuples, lists and dicts); nothing is evaluated.

import { fail } from '../diagnostics.ts';
import { HOST_LITTLE_ENDIAN, type NdArray, type NpDType, NP_DTYPES, bytesPerElement, copyBytes, elementCount, swapBytesInPlace, viewData } from './ndarray.ts';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ARRAY_ALIGN = 64;
/** NumPy leaves room after the header so the growth axis can be rewritten in place. */
const GROWTH_AXIS_MAX_DIGITS = 21;
const MAX_NESTING = 64;

/** The descr NumPy writes for each dtype (little-endian for multi-byte types). */
const DESCR: Record<NpDType, string> = {
  float32: '<f4',
  float64: '<f8',
  int8: '|i1',
  uint8: '|u1',
  int16: '<i2',
  uint16: '<u2',
  int32: '<i4',
  uint32: '<u4',
  int64: '<i8',
  uint64: '<u8',
  bool: '|b1',
  float16: '<f2',
};

/** Type codes (descr without the byte-order character) that we read. */
const TYPE_CODES: Record<string, NpDType> = {
  f2: 'float16',
  f4: 'float32',
  f8: 'float64',
  i1: 'int8',
  i2: 'int16',
  i4: 'int32',
  i8: 'int64',
  u1: 'uint8',
  u2: 'uint16',
  u4: 'uint32',
  u8: 'uint64',
  b1: 'bool',
  '?': 'bool',
};

// ---------------------------------------------------------------------------------------------------
// Python literal parser

type PyValue =
  | { kind: 'str'; value: string; src: string }
  | { kind: 'int'; value: bigint; src: string }
  | { kind: 'bool'; value: boolean; src: string }
  | { kind: 'none'; src: string }
  | { kind: 'tuple'; items: PyValue[]; src: string }
  | { kind: 'list'; items: PyValue[]; src: string }
  | { kind: 'dict'; entries: [PyValue, PyValue][]; src: string };

function shorten(s: string, max = 160): string {
  return s.length <= max ? s : `${s.slice(0, max)}...`;
}

class LiteralParser {
  private pos = 0;
  constructor(
    private readonly text: string,
    private readonly label: string,
  ) {}

  parseAll(): PyValue {
    const v = this.value(0);
    this.skipSpace();
    if (this.pos < this.text.length) this.error(`unexpected ${this.describeHere()} after the header dictionary`);
    return v;
  }

  private error(what: string): never {
    fail(
      'npy',
      this.label,
      `cannot parse the header (expected a Python dict literal): ${what} at character ${this.pos}; header is ${JSON.stringify(shorten(this.text))}`,
    );
  }

  private describeHere(): string {
    if (this.pos >= this.text.length) return 'end of header';
    return `character ${JSON.stringify(this.text[this.pos])}`;
  }

  private skipSpace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      // space, \t, \n, \v, \f, \r, and a backslash-newline line continuation
      if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) this.pos++;
      else if (c === 0x5c && (t[this.pos + 1] === '\n' || t[this.pos + 1] === '\r')) this.pos += 2;
      else break;
    }
  }

  private value(depth: number): PyValue {
    if (depth > MAX_NESTING) this.error(`nesting deeper than ${MAX_NESTING} levels`);
    this.skipSpace();
    const start = this.pos;
    const t = this.text;
    if (this.pos >= t.length) this.error('unexpected end of header where a value was expected');
    const c = t[this.pos]!;
    if (c === '{') return this.dict(depth, start);
    if (c === '(') return this.tupleOrGroup(depth, start);
    if (c === '[') return this.list(depth, start);
    if (c === "'" || c === '"') return this.string(start);
    if ((c === 'u' || c === 'U' || c === 'b' || c === 'B') && (t[this.pos + 1] === "'" || t[this.pos + 1] === '"')) {
      this.pos++;
      return this.string(start);
    }
    if (c === '-' || c === '+' || (c >= '0' && c <= '9')) return this.int(start);
    if (/[A-Za-z_]/.test(c)) {
      let end = this.pos;
      while (end < t.length && /[A-Za-z0-9_]/.test(t[end]!)) end++;
      const word = t.slice(this.pos, end);
      this.pos = end;
      if (word === 'True') return { kind: 'bool', value: true, src: word };
      if (word === 'False') return { kind: 'bool', value: false, src: word };
      if (word === 'None') return { kind: 'none', src: word };
      this.pos = start;
      this.error(`unknown name ${JSON.stringify(shorten(word, 40))}`);
    }
    this.error(`unexpected ${this.describeHere()} where a value was expected`);
  }

  private string(start: number): PyValue {
    const t = this.text;
    const quote = t[this.pos]!;
    this.pos++;
    let out = '';
    for (;;) {
      if (this.pos >= t.length) {
        this.pos = start;
        this.error('unterminated string');
      }
      const c = t[this.pos]!;
      if (c === quote) {
        this.pos++;
        break;
      }
      if (c === '\n') {
        this.pos = start;
        this.error('unterminated string');
      }
      if (c === '\\') {
        const e = t[this.pos + 1];
        if (e === undefined) {
          this.pos = start;
          this.error('unterminated string');
        }
        this.pos += 2;
        switch (e) {
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case 'r':
            out += '\r';
            break;
          case '0':
            out += '\0';
            break;
          case '\n':
            break;
          case 'x': {
            const hex = t.slice(this.pos, this.pos + 2);
            if (!/^[0-9a-fA-F]{2}$/.test(hex)) this.error('invalid \\x escape in string');
            out += String.fromCharCode(parseInt(hex, 16));
            this.pos += 2;
            break;
          }
          default:
            // \\, \', \" and (as in Python) any unknown escape keep the character(s).
            out += e === '\\' || e === "'" || e === '"' ? e : `\\${e}`;
        }
        continue;
      }
      out += c;
      this.pos++;
    }
    return { kind: 'str', value: out, src: t.slice(start, this.pos) };
  }

  private int(start: number): PyValue {
    const t = this.text;
    let p = this.pos;
    let negative = false;
    if (t[p] === '-' || t[p] === '+') {
      negative = t[p] === '-';
      p++;
      while (p < t.length && (t[p] === ' ' || t[p] === '\t')) p++;
    }
    const digitsStart = p;
    while (p < t.length && t[p]! >= '0' && t[p]! <= '9') p++;
    if (p === digitsStart) {
      this.pos = p;
      this.error('expected digits');
    }
    const digits = t.slice(digitsStart, p);
    if (t[p] === '.' || t[p] === 'e' || t[p] === 'E' || t[p] === 'j' || t[p] === 'x') {
      this.pos = p;
      this.error('only integer numbers are allowed');
    }
    if (t[p] === 'L' || t[p] === 'l') p++; // Python 2 long suffix, as in headers written by Python 2
    this.pos = p;
    const magnitude = BigInt(digits);
    return { kind: 'int', value: negative ? -magnitude : magnitude, src: t.slice(start, p) };
  }

  /** Parse comma-separated values up to `close`; report whether a comma was seen. */
  private sequence(depth: number, close: string): { items: PyValue[]; sawComma: boolean } {
    const items: PyValue[] = [];
    let sawComma = false;
    this.pos++; // opening bracket
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === close) {
        this.pos++;
        return { items, sawComma };
      }
      items.push(this.value(depth + 1));
      this.skipSpace();
      const c = this.text[this.pos];
      if (c === ',') {
        sawComma = true;
        this.pos++;
      } else if (c === close) {
        this.pos++;
        return { items, sawComma };
      } else {
        this.error(`expected ',' or '${close}' but found ${this.describeHere()}`);
      }
    }
  }

  private tupleOrGroup(depth: number, start: number): PyValue {
    const { items, sawComma } = this.sequence(depth, ')');
    if (items.length === 1 && !sawComma) return items[0]!; // (x) is just x
    return { kind: 'tuple', items, src: this.text.slice(start, this.pos) };
  }

  private list(depth: number, start: number): PyValue {
    const { items } = this.sequence(depth, ']');
    return { kind: 'list', items, src: this.text.slice(start, this.pos) };
  }

  private dict(depth: number, start: number): PyValue {
    const entries: [PyValue, PyValue][] = [];
    this.pos++;
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === '}') {
        this.pos++;
        break;
      }
      const key = this.value(depth + 1);
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.error(`expected ':' after a dictionary key but found ${this.describeHere()}`);
      this.pos++;
      const val = this.value(depth + 1);
      entries.push([key, val]);
      this.skipSpace();
      const c = this.text[this.pos];
      if (c === ',') this.pos++;
      else if (c === '}') {
        this.pos++;
        break;
      } else this.error(`expected ',' or '}' but found ${this.describeHere()}`);
    }
    return { kind: 'dict', entries, src: this.text.slice(start, this.pos) };
  }
}

// ---------------------------------------------------------------------------------------------------
// Reading

function hexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  const CHUNK = 4096;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    s += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + CHUNK)));
  }
  return s;
}

interface ParsedDescr {
  dtype: NpDType;
  /** Byte order of the data in the file. */
  littleEndian: boolean;
}

function supportedList(): string {
  return "'<f2', '<f4', '<f8', '|i1', '<i2', '<i4', '<i8', '|u1', '<u2', '<u4', '<u8', '|b1' (with '<', '>', '=' or '|' byte order)";
}

function parseDescr(v: PyValue, label: string): ParsedDescr {
  if (v.kind !== 'str') {
    const why = v.kind === 'list' ? 'structured dtypes are not supported' : `expected a dtype string, found a ${v.kind}`;
    fail('npy', label, `unsupported dtype descr ${shorten(v.src, 120)}: ${why}; supported: ${supportedList()}`);
  }
  const s = v.value;
  let order = '=';
  let code = s;
  if (s.length > 0 && '<>=|'.includes(s[0]!)) {
    order = s[0]!;
    code = s.slice(1);
  }
  const dtype = TYPE_CODES[code];
  if (dtype === undefined) {
    let why = 'not a supported numeric dtype';
    if (/^[SUa]/.test(code)) why = 'string dtypes are not supported';
    else if (code.startsWith('O')) why = 'object dtypes are not supported';
    else if (code.startsWith('V')) why = 'void/structured dtypes are not supported';
    else if (code.startsWith('c')) why = 'complex dtypes are not supported';
    else if (/^[mM]/.test(code)) why = 'datetime dtypes are not supported';
    fail('npy', label, `unsupported dtype descr ${JSON.stringify(s)}: ${why}; supported: ${supportedList()}`);
  }
  const littleEndian = order === '<' ? true : order === '>' ? false : HOST_LITTLE_ENDIAN;
  return { dtype, littleEndian };
}

function parseShape(v: PyValue, label: string): number[] {
  const bad = (why: string): never => fail('npy', label, `'shape' must be a tuple of non-negative integers, found ${shorten(v.src, 120)}${why}`);
  if (v.kind !== 'tuple') return bad('');
  const shape: number[] = [];
  for (const item of v.items) {
    if (item.kind !== 'int') return bad('');
    if (item.value < 0n) return bad(` (dimension ${item.src} is negative)`);
    if (item.value > BigInt(Number.MAX_SAFE_INTEGER)) return bad(` (dimension ${item.src} is too large)`);
    shape.push(Number(item.value));
  }
  return shape;
}

/** Reorder `itemSize`-byte elements from Fortran (column-major) order into C (row-major) order. */
function fortranToC(src: Uint8Array, shape: number[], itemSize: number): Uint8Array<ArrayBuffer> {
  const n = elementCount(shape);
  const out = new Uint8Array(src.length);
  const ndim = shape.length;
  const cStride = new Array<number>(ndim);
  let s = 1;
  for (let k = ndim - 1; k >= 0; k--) {
    cStride[k] = s;
    s *= shape[k]!;
  }
  const idx = new Array<number>(ndim).fill(0);
  let cOff = 0;
  for (let i = 0; i < n; i++) {
    out.set(src.subarray(i * itemSize, (i + 1) * itemSize), cOff * itemSize);
    // advance the Fortran-order counter: first axis fastest
    for (let k = 0; k < ndim; k++) {
      idx[k]!++;
      cOff += cStride[k]!;
      if (idx[k]! < shape[k]!) break;
      cOff -= idx[k]! * cStride[k]!;
      idx[k] = 0;
    }
  }
  return out;
}

/**
 * Parse a .npy file. `label` names the file in diagnostics. The returned array is in C order and
 * native byte order, backed by a fresh buffer (not a view of `bytes`).
 */
export function readNpy(bytes: Uint8Array, label: string): NdArray {
  const head = bytes.subarray(0, 6);
  if (bytes.length < 6 || MAGIC.some((m, i) => bytes[i] !== m)) {
    fail(
      'npy',
      label,
      `not a NumPy .npy file: expected the magic string \\x93NUMPY at the start, found ${bytes.length === 0 ? 'an empty file' : `bytes ${hexBytes(head)}`}`,
    );
  }
  if (bytes.length < 8) fail('npy', label, `truncated: the file ends after ${bytes.length} bytes, inside the format version`);
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (!((major === 1 || major === 2 || major === 3) && minor === 0)) {
    fail('npy', label, `unsupported .npy format version ${major}.${minor} (expected 1.0, 2.0 or 3.0)`);
  }
  const lenSize = major === 1 ? 2 : 4;
  const headerStart = 8 + lenSize;
  if (bytes.length < headerStart) {
    fail('npy', label, `truncated: the file ends after ${bytes.length} bytes, inside the header length`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) {
    fail('npy', label, `truncated: header says ${headerLen} bytes, file has ${bytes.length - headerStart} after the ${headerStart}-byte prelude`);
  }
  const headerBytes = bytes.subarray(headerStart, dataStart);
  let headerText: string;
  if (major === 3) {
    try {
      headerText = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
    } catch {
      fail('npy', label, 'the version 3.0 header is not valid UTF-8');
    }
  } else {
    headerText = latin1(headerBytes);
  }

  const top = new LiteralParser(headerText, label).parseAll();
  if (top.kind !== 'dict') fail('npy', label, `the header is not a dictionary: found ${shorten(top.src, 120)}`);
  const fields = new Map<string, PyValue>();
  for (const [k, v] of top.entries) {
    if (k.kind !== 'str') fail('npy', label, `header dictionary key ${shorten(k.src, 60)} is not a string`);
    if (k.value !== 'descr' && k.value !== 'fortran_order' && k.value !== 'shape') {
      fail('npy', label, `the header has an unexpected key ${JSON.stringify(k.value)} (expected exactly 'descr', 'fortran_order' and 'shape')`);
    }
    fields.set(k.value, v);
  }
  for (const key of ['descr', 'fortran_order', 'shape']) {
    if (!fields.has(key)) {
      fail('npy', label, `the header lacks the '${key}' key (expected 'descr', 'fortran_order' and 'shape'); header is ${JSON.stringify(shorten(top.src))}`);
    }
  }
  const descr = parseDescr(fields.get('descr')!, label);
  const fo = fields.get('fortran_order')!;
  if (fo.kind !== 'bool') fail('npy', label, `'fortran_order' must be True or False, found ${shorten(fo.src, 60)}`);
  const shape = parseShape(fields.get('shape')!, label);

  const itemSize = bytesPerElement(descr.dtype);
  let count = 1n;
  for (const d of shape) count *= BigInt(d);
  const needed = count * BigInt(itemSize);
  const available = bytes.length - dataStart;
  if (needed > BigInt(available)) {
    fail('npy', label, `truncated: expected ${needed} bytes of data, found ${available} (shape ${shapeRepr(shape)} of ${descr.dtype})`);
  }
  const n = Number(count);
  let raw = copyBytes(bytes.subarray(dataStart, dataStart + n * itemSize)); // fresh, aligned copy
  if (descr.littleEndian !== HOST_LITTLE_ENDIAN) swapBytesInPlace(raw, itemSize);
  if (fo.value && shape.length > 1 && n > 0) raw = fortranToC(raw, shape, itemSize);
  if (descr.dtype === 'bool') {
    for (let i = 0; i < raw.length; i++) if (raw[i] !== 0) raw[i] = 1;
  }
  return { dtype: descr.dtype, shape, data: viewData(descr.dtype, raw.buffer, 0, n) };
}

// ---------------------------------------------------------------------------------------------------
// Writing

function shapeRepr(shape: readonly number[]): string {
  if (shape.length === 0) return '()';
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/** The raw bytes of a typed array in little-endian order (always a fresh copy). */
function littleEndianBytes(a: NdArray): Uint8Array {
  const d = a.data;
  const out = copyBytes(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  if (!HOST_LITTLE_ENDIAN) swapBytesInPlace(out, bytesPerElement(a.dtype));
  if (a.dtype === 'bool') for (let i = 0; i < out.length; i++) if (out[i] !== 0) out[i] = 1;
  return out;
}

function checkArray(a: NdArray): void {
  if (!NP_DTYPES.includes(a.dtype)) throw new Error(`internal: writeNpy: unknown dtype ${String(a.dtype)}`);
  for (const d of a.shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Error(`internal: writeNpy: invalid dimension ${d}`);
  }
  const n = elementCount(a.shape);
  if (a.data.length !== n || a.data.BYTES_PER_ELEMENT !== bytesPerElement(a.dtype)) {
    throw new Error(
      `internal: writeNpy: ${a.dtype} shape [${a.shape.join(', ')}] needs ${n} elements, data is a ${a.data.constructor.name} of ${a.data.length}`,
    );
  }
}

/**
 * Serialise an array as a .npy file byte-for-byte as NumPy's `np.save` does: version 1.0 unless the
 * header is too long for a 16-bit length (then 2.0), keys sorted, spare room for the first axis to
 * grow, and the header padded with spaces and a newline so the data starts at a multiple of 64.
 */
export function writeNpy(a: NdArray): Uint8Array {
  checkArray(a);
  let header = `{'descr': '${DESCR[a.dtype]}', 'fortran_order': False, 'shape': ${shapeRepr(a.shape)}, }`;
  if (a.shape.length > 0) header += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(a.shape[0]).length));
  const hlen = header.length + 1; // + '\n'
  let lenSize = 2;
  let padlen = ARRAY_ALIGN - ((MAGIC.length + 2 + lenSize + hlen) % ARRAY_ALIGN);
  if (hlen + padlen > 0xffff) {
    lenSize = 4;
    padlen = ARRAY_ALIGN - ((MAGIC.length + 2 + lenSize + hlen) % ARRAY_ALIGN);
  }
  const data = littleEndianBytes(a);
  const prelude = MAGIC.length + 2 + lenSize;
  const total = prelude + hlen + padlen + data.length;
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = lenSize === 2 ? 1 : 2;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (lenSize === 2) dv.setUint16(8, hlen + padlen, true);
  else dv.setUint32(8, hlen + padlen, true);
  let p = prelude;
  for (let i = 0; i < header.length; i++) out[p++] = header.charCodeAt(i); // ASCII only
  out.fill(0x20, p, p + padlen);
  p += padlen;
  out[p++] = 0x0a;
  out.set(data, p);
  return out;
}
