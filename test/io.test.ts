import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TritcError } from '../compiler/diagnostics.ts';
import { type NdArray, type NdData, type NpDType, NP_DTYPES, bytesPerElement, elementCount, makeNdArray } from '../compiler/io/ndarray.ts';
import { readNpy, writeNpy } from '../compiler/io/npy.ts';
import { crc32, readNpz, writeNpz } from '../compiler/io/npz.ts';
import { type StDType, readSafetensors, stToTyped, writeSafetensors } from '../compiler/io/safetensors.ts';
import { rng } from '../compiler/harness/inputs.ts';

// ---------------------------------------------------------------------------------------------------
// helpers

/** Deterministic PRNG (mulberry32, shared with the input generator). */
const mulberry32 = rng;

/** Run `f` and return the TritcError it throws (failing the test if it throws anything else or nothing). */
function tritcError(f: () => unknown): TritcError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(TritcError);
    return e as TritcError;
  }
  throw new Error('expected a TritcError, but nothing was thrown');
}

/** Assert `f` throws a TritcError with this code whose message matches `re`. */
function expectTritc(f: () => unknown, code: string, re: RegExp): TritcError {
  expect(f).toThrow(re);
  const e = tritcError(f);
  expect(e.code).toBe(code);
  return e;
}

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Little-endian byte builder for hand-made files. */
class Bytes {
  private parts: Uint8Array[] = [];
  length = 0;
  u8(...v: number[]): this {
    return this.raw(Uint8Array.from(v));
  }
  u16(v: number): this {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, v, true);
    return this.raw(b);
  }
  u32(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    return this.raw(b);
  }
  u64(v: number | bigint): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    return this.raw(b);
  }
  raw(b: Uint8Array): this {
    this.parts.push(b);
    this.length += b.length;
    return this;
  }
  done(): Uint8Array {
    return concat(this.parts);
  }
}

/** A .npy file with the given header text (a newline is appended) and raw data. */
function npyFile(header: string, data: Uint8Array, version: 1 | 2 | 3 = 1): Uint8Array {
  const h = version === 3 ? ascii(`${header}\n`) : Uint8Array.from(`${header}\n`, (c) => c.charCodeAt(0));
  const b = new Bytes().u8(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0);
  if (version === 1) b.u16(h.length);
  else b.u32(h.length);
  return b.raw(h).raw(data).done();
}

function dataBytes(d: NdData): Uint8Array {
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** Deterministic sample data for a dtype. */
function sample(dtype: NpDType, n: number, seed = 1): NdArray['data'] {
  const rnd = mulberry32(seed);
  const a = makeNdArray(dtype, [n]).data;
  for (let i = 0; i < n; i++) {
    const r = rnd();
    switch (dtype) {
      case 'float32':
      case 'float64':
        (a as Float64Array)[i] = (r - 0.5) * 1000;
        break;
      case 'int64':
        (a as BigInt64Array)[i] = BigInt(Math.floor((r - 0.5) * 2 ** 52)) * 4099n;
        break;
      case 'uint64':
        (a as BigUint64Array)[i] = BigInt(Math.floor(r * 2 ** 52)) * 4099n;
        break;
      case 'bool':
        (a as Uint8Array)[i] = r < 0.5 ? 1 : 0;
        break;
      default:
        (a as Int32Array)[i] = Math.floor((r - 0.5) * 2 ** 33); // wraps into the type's range
    }
  }
  return a;
}

interface ZipSpec {
  name: string;
  data: Uint8Array;
  method?: 0 | 8 | number;
  /** Write sizes and CRC in a data descriptor after the data (flag bit 3), zeros in the local header. */
  descriptor?: boolean;
  /** Put sizes (and the local header offset) into ZIP64 extra fields, with 0xFFFFFFFF markers. */
  zip64?: boolean;
  flags?: number;
  crc?: number;
}

/** A hand-made ZIP archive, to exercise the reader on structures writeNpz never produces. */
function buildZip(entries: ZipSpec[], opts: { zip64Eocd?: boolean; comment?: string } = {}): Uint8Array {
  const b = new Bytes();
  const central = new Bytes();
  for (const e of entries) {
    const method = e.method ?? 0;
    const comp = method === 8 ? new Uint8Array(deflateRawSync(e.data)) : e.data;
    const crc = e.crc ?? crc32(e.data);
    const name = ascii(e.name);
    const flags = (e.flags ?? 0) | (e.descriptor ? 0x0008 : 0);
    const offset = b.length;
    const localExtra = e.zip64 ? new Bytes().u16(1).u16(16).u64(e.data.length).u64(comp.length).done() : new Uint8Array(0);
    b.u32(0x04034b50).u16(45).u16(flags).u16(method).u16(0).u16(0x21);
    if (e.descriptor) b.u32(0).u32(0).u32(0);
    else if (e.zip64) b.u32(crc).u32(0xffffffff).u32(0xffffffff);
    else b.u32(crc).u32(comp.length).u32(e.data.length);
    b.u16(name.length).u16(localExtra.length).raw(name).raw(localExtra).raw(comp);
    if (e.descriptor) {
      b.u32(0x08074b50).u32(crc);
      if (e.zip64) b.u64(comp.length).u64(e.data.length);
      else b.u32(comp.length).u32(e.data.length);
    }
    const cExtra = e.zip64 ? new Bytes().u16(1).u16(24).u64(e.data.length).u64(comp.length).u64(offset).done() : new Uint8Array(0);
    central.u32(0x02014b50).u16(0x031e).u16(45).u16(flags).u16(method).u16(0).u16(0x21).u32(crc);
    if (e.zip64) central.u32(0xffffffff).u32(0xffffffff);
    else central.u32(comp.length).u32(e.data.length);
    central.u16(name.length).u16(cExtra.length).u16(0).u16(0).u16(0).u32(0);
    central
      .u32(e.zip64 ? 0xffffffff : offset)
      .raw(name)
      .raw(cExtra);
  }
  const cdOffset = b.length;
  const cd = central.done();
  b.raw(cd);
  if (opts.zip64Eocd) {
    const recPos = b.length;
    b.u32(0x06064b50).u64(44).u16(0x031e).u16(45).u32(0).u32(0).u64(entries.length).u64(entries.length);
    b.u64(cd.length).u64(cdOffset);
    b.u32(0x07064b50).u32(0).u64(recPos).u32(1);
    b.u32(0x06054b50).u16(0).u16(0).u16(0xffff).u16(0xffff).u32(0xffffffff).u32(0xffffffff);
  } else {
    b.u32(0x06054b50).u16(0).u16(0).u16(entries.length).u16(entries.length).u32(cd.length).u32(cdOffset);
  }
  const comment = ascii(opts.comment ?? '');
  b.u16(comment.length).raw(comment);
  return b.done();
}

/** A safetensors file from a literal header (unpadded) and data. */
function stFile(header: unknown, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = ascii(typeof header === 'string' ? header : JSON.stringify(header));
  return new Bytes().u64(json.length).raw(json).raw(data).done();
}

const SHAPES: number[][] = [[], [0], [5], [2, 3, 4], [0, 5], [3, 0, 2], [1, 1, 1, 1]];

// ---------------------------------------------------------------------------------------------------
// ndarray

describe('ndarray helpers', () => {
  it('counts elements and bytes', () => {
    expect(elementCount([])).toBe(1);
    expect(elementCount([0, 7])).toBe(0);
    expect(elementCount([2, 3, 4])).toBe(24);
    expect(bytesPerElement('float16')).toBe(2);
    expect(bytesPerElement('bool')).toBe(1);
    expect(bytesPerElement('uint64')).toBe(8);
  });

  it('makes zero-filled arrays of the right class and checks given data', () => {
    const a = makeNdArray('int64', [2, 2]);
    expect(a.data).toBeInstanceOf(BigInt64Array);
    expect(a.data.length).toBe(4);
    expect(makeNdArray('float16', [3]).data).toBeInstanceOf(Uint16Array);
    expect(makeNdArray('bool', []).data).toBeInstanceOf(Uint8Array);
    expect(makeNdArray('float32', [2], new Float32Array([1, 2])).shape).toEqual([2]);
    expect(() => makeNdArray('float32', [3], new Float32Array(2))).toThrow(/needs 3 elements/);
    expect(() => makeNdArray('float32', [2], new Float64Array(2) as unknown as Float32Array)).toThrow(/Float64Array/);
    expect(() => makeNdArray('float32', [-1])).toThrow(/invalid dimension/);
  });
});

// ---------------------------------------------------------------------------------------------------
// npy

describe('npy', () => {
  it('round-trips every dtype and shape kind', () => {
    let seed = 1;
    for (const dtype of NP_DTYPES) {
      for (const shape of SHAPES) {
        const a = makeNdArray(dtype, shape, sample(dtype, elementCount(shape), seed++));
        const bytes = writeNpy(a);
        const b = readNpy(bytes, 'x.npy');
        expect(b.dtype).toBe(dtype);
        expect(b.shape).toEqual(shape);
        expect(b.data.constructor).toBe(a.data.constructor);
        expect(Array.from(dataBytes(b.data))).toEqual(Array.from(dataBytes(a.data)));
      }
    }
  });

  it('writes exactly what np.save writes', () => {
    // np.save(f, np.arange(6, dtype=np.float32).reshape(2, 3)) with NumPy 2.4
    const numpy = Buffer.from(
      'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPwAAAEAAAEBAAACAQAAAoEA=',
      'base64',
    );
    const mine = writeNpy(makeNdArray('float32', [2, 3], Float32Array.from([0, 1, 2, 3, 4, 5])));
    expect(Buffer.from(mine).equals(numpy)).toBe(true);
    // 0-d: no growth padding; the data still starts at a multiple of 64
    const zeroD = writeNpy(makeNdArray('int16', [], Int16Array.from([7])));
    const header = new TextDecoder().decode(zeroD.subarray(10, 128));
    expect(header).toBe(`{'descr': '<i2', 'fortran_order': False, 'shape': (), }${' '.repeat(62)}\n`);
    expect(zeroD.length).toBe(130);
  });

  it('aligns the data of every written file to 64 bytes', () => {
    for (const shape of [[], [1], [12345678901, 0], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0]]) {
      const bytes = writeNpy(makeNdArray('uint8', shape, new Uint8Array(elementCount(shape))));
      const hlen = bytes[8]! | (bytes[9]! << 8);
      expect((10 + hlen) % 64).toBe(0);
      expect(bytes[10 + hlen - 1]).toBe(0x0a);
    }
  });

  it('switches to format 2.0 when the header outgrows a 16-bit length', () => {
    const shape = new Array<number>(25000).fill(1);
    const bytes = writeNpy(makeNdArray('int32', shape, Int32Array.from([42])));
    expect(bytes[6]).toBe(2);
    const hlen = new DataView(bytes.buffer).getUint32(8, true);
    expect(hlen).toBeGreaterThan(0xffff);
    expect((12 + hlen) % 64).toBe(0);
    const a = readNpy(bytes, 'big.npy');
    expect(a.shape.length).toBe(25000);
    expect(Array.from(a.data as Int32Array)).toEqual([42]);
  });

  it('normalises bool values to 0/1', () => {
    const b = readNpy(npyFile("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", Uint8Array.from([0, 2, 255])), 'b.npy');
    expect(Array.from(b.data as Uint8Array)).toEqual([0, 1, 1]);
  });

  it('reads big-endian data into native order', () => {
    const dv = new DataView(new ArrayBuffer(6 * 4));
    for (let i = 0; i < 6; i++) dv.setFloat32(i * 4, i * 1.5 - 2, false);
    const a = readNpy(npyFile("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", new Uint8Array(dv.buffer)), 'be.npy');
    expect(a.dtype).toBe('float32');
    expect(Array.from(a.data as Float32Array)).toEqual([-2, -0.5, 1, 2.5, 4, 5.5]);

    const dv64 = new DataView(new ArrayBuffer(16));
    dv64.setBigInt64(0, -5n, false);
    dv64.setBigInt64(8, 2n ** 62n + 3n, false);
    const b = readNpy(npyFile("{'descr': '>i8', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(dv64.buffer)), 'be.npy');
    expect(Array.from(b.data as BigInt64Array)).toEqual([-5n, 2n ** 62n + 3n]);

    const f16 = readNpy(npyFile("{'descr': '>f2', 'fortran_order': False, 'shape': (1,), }", Uint8Array.from([0x3c, 0x00])), 'be.npy');
    expect(Array.from(f16.data as Uint16Array)).toEqual([0x3c00]);

    const u16 = readNpy(npyFile("{'descr': '>u2', 'fortran_order': False, 'shape': (), }", Uint8Array.from([0x12, 0x34])), 'be.npy');
    expect(u16.shape).toEqual([]);
    expect(Array.from(u16.data as Uint16Array)).toEqual([0x1234]);
  });

  it('accepts native, unspecified and not-applicable byte orders', () => {
    const data = new Uint8Array(new Int32Array([1, -2]).buffer);
    for (const descr of ['=i4', 'i4', '<i4', '|i4']) {
      const a = readNpy(npyFile(`{'descr': '${descr}', 'fortran_order': False, 'shape': (2,)}`, data), 'x.npy');
      expect(Array.from(a.data as Int32Array)).toEqual([1, -2]);
    }
    for (const descr of ['>i1', '<i1', '|i1', '=u1', '|?', '<b1']) {
      const a = readNpy(npyFile(`{'descr': '${descr}', 'fortran_order': False, 'shape': (1,)}`, Uint8Array.from([1])), 'x.npy');
      expect(a.data.length).toBe(1);
    }
  });

  it('converts fortran_order arrays to C order', () => {
    // 2x3 matrix [[0,1,2],[3,4,5]] stored column by column: 0 3 1 4 2 5
    const f = Int16Array.from([0, 3, 1, 4, 2, 5]);
    const a = readNpy(npyFile("{'descr': '<i2', 'fortran_order': True, 'shape': (2, 3), }", dataBytes(f)), 'f.npy');
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.data as Int16Array)).toEqual([0, 1, 2, 3, 4, 5]);

    // 2x3x4 array with value = C index; Fortran order: first axis fastest
    const shape = [2, 3, 4];
    const fdata = new Float64Array(24);
    let k = 0;
    for (let z = 0; z < 4; z++) for (let y = 0; y < 3; y++) for (let x = 0; x < 2; x++) fdata[k++] = x * 12 + y * 4 + z;
    const dv = new DataView(new ArrayBuffer(24 * 8));
    fdata.forEach((v, i) => dv.setFloat64(i * 8, v, false));
    const b = readNpy(npyFile("{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3, 4), }", new Uint8Array(dv.buffer)), 'f.npy');
    expect(b.shape).toEqual(shape);
    expect(Array.from(b.data as Float64Array)).toEqual(Array.from({ length: 24 }, (_, i) => i));

    // 1-d and empty fortran arrays are unchanged
    const c = readNpy(npyFile("{'descr': '|u1', 'fortran_order': True, 'shape': (3,), }", Uint8Array.from([7, 8, 9])), 'f.npy');
    expect(Array.from(c.data as Uint8Array)).toEqual([7, 8, 9]);
    const e = readNpy(npyFile("{'descr': '<f4', 'fortran_order': True, 'shape': (0, 3), }", new Uint8Array(0)), 'f.npy');
    expect(e.shape).toEqual([0, 3]);
  });

  it('reads format versions 2.0 and 3.0, Python 2 headers and odd spacing', () => {
    const data = dataBytes(Uint32Array.from([1, 2, 3]));
    const h = "{'descr': '<u4', 'fortran_order': False, 'shape': (3,), }";
    expect(Array.from(readNpy(npyFile(h, data, 2), 'v2.npy').data as Uint32Array)).toEqual([1, 2, 3]);
    expect(Array.from(readNpy(npyFile(h, data, 3), 'v3.npy').data as Uint32Array)).toEqual([1, 2, 3]);
    const py2 = readNpy(npyFile("{'descr': '<u4', 'fortran_order': False, 'shape': (3L,), }", data), 'py2.npy');
    expect(py2.shape).toEqual([3]);
    const odd = readNpy(npyFile(`{ "shape" :( 1 , 3 ) ,"fortran_order":False,\n'descr':u'<u4'}  \t`, data), 'odd.npy');
    expect(odd.shape).toEqual([1, 3]);
    const group = readNpy(npyFile("{'descr': ('<u4'), 'fortran_order': (False), 'shape': ((3),)}", data), 'g.npy');
    expect(group.shape).toEqual([3]);
  });

  it('handles zero-size arrays with huge dimensions, trailing bytes and Buffer inputs', () => {
    const z = readNpy(npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (123456789012, 0), }", new Uint8Array(0)), 'z.npy');
    expect(z.shape).toEqual([123456789012, 0]);
    expect(z.data.length).toBe(0);

    const a = makeNdArray('float64', [3], Float64Array.from([1.25, -2, 3]));
    const withTail = concat([writeNpy(a), ascii('trailing garbage')]);
    expect(Array.from(readNpy(withTail, 't.npy').data as Float64Array)).toEqual([1.25, -2, 3]);

    // an unaligned view into a larger (pooled) Buffer
    const padded = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(writeNpy(a))]);
    const view = padded.subarray(3);
    const r = readNpy(view, 'buf.npy');
    expect(r.data.byteOffset).toBe(0);
    expect(Array.from(r.data as Float64Array)).toEqual([1.25, -2, 3]);
  });

  describe('errors', () => {
    const ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    const data = new Uint8Array(24);

    it('bad magic', () => {
      const e = expectTritc(() => readNpy(ascii('PK\x03\x04 not numpy'), 'inputs.npy'), 'npy', /not a NumPy \.npy file: expected the magic string/);
      expect(e.diagnostics[0]!.where).toBe('inputs.npy');
      expect(e.message).toMatch(/^inputs\.npy: /);
      expectTritc(() => readNpy(new Uint8Array(0), 'inputs.npy'), 'npy', /found an empty file/);
    });

    it('unsupported version', () => {
      const f = npyFile(ok, data);
      f[6] = 4;
      expectTritc(() => readNpy(f, 'x.npy'), 'npy', /unsupported \.npy format version 4\.0 \(expected 1\.0, 2\.0 or 3\.0\)/);
    });

    it('truncated prelude and header', () => {
      const f = npyFile(ok, data);
      expectTritc(() => readNpy(f.subarray(0, 7), 'x.npy'), 'npy', /truncated: the file ends after 7 bytes/);
      expectTritc(() => readNpy(f.subarray(0, 9), 'x.npy'), 'npy', /truncated: the file ends after 9 bytes, inside the header length/);
      expectTritc(() => readNpy(f.subarray(0, 40), 'x.npy'), 'npy', /truncated: header says 60 bytes, file has 30 after the 10-byte prelude/);
    });

    it('truncated data', () => {
      expectTritc(
        () => readNpy(npyFile(ok, new Uint8Array(10)), 'inputs.npy'),
        'npy',
        /^inputs\.npy: truncated: expected 24 bytes of data, found 10 \(shape \(2, 3\) of float32\)$/,
      );
      expectTritc(
        () => readNpy(npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }", data), 'x.npy'),
        'npy',
        /truncated: expected 9671406556917033397649408 bytes of data, found 24/,
      );
    });

    it('unsupported descr', () => {
      const cases: [string, RegExp][] = [
        ["'<c8'", /unsupported dtype descr "<c8": complex dtypes are not supported/],
        ["'|S5'", /unsupported dtype descr "\|S5": string dtypes are not supported/],
        ["'<U3'", /unsupported dtype descr "<U3": string dtypes are not supported/],
        ["'|O'", /unsupported dtype descr "\|O": object dtypes are not supported/],
        ["'<M8[ns]'", /unsupported dtype descr "<M8\[ns\]": datetime dtypes are not supported/],
        ["'<f3'", /unsupported dtype descr "<f3": not a supported numeric dtype/],
        ["[('a', '<i4'), ('b', '<f8')]", /unsupported dtype descr \[\('a', '<i4'\), \('b', '<f8'\)\]: structured dtypes are not supported/],
        ['3', /unsupported dtype descr 3: expected a dtype string/],
      ];
      for (const [descr, re] of cases) {
        expectTritc(() => readNpy(npyFile(`{'descr': ${descr}, 'fortran_order': False, 'shape': (2, 3), }`, data), 'x.npy'), 'npy', re);
      }
    });

    it('malformed header dictionaries', () => {
      const cases: [string, RegExp][] = [
        ["['descr', 'shape']", /the header is not a dictionary: found \['descr', 'shape'\]/],
        ["{'descr': '<f4', 'shape': (2, 3)}", /the header lacks the 'fortran_order' key/],
        ["{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", /unexpected key "x"/],
        ["{1: '<f4'}", /header dictionary key 1 is not a string/],
        ["{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3)}", /'fortran_order' must be True or False, found 0/],
        ["{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}", /'shape' must be a tuple of non-negative integers, found \[2, 3\]/],
        ["{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3)}", /found \(2, -3\) \(dimension -3 is negative\)/],
        ["{'descr': '<f4', 'fortran_order': False, 'shape': (2, 'a')}", /'shape' must be a tuple/],
        ["{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", /dimension 99999999999999999999 is too large/],
        ["{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,)}", /only integer numbers are allowed/],
        ["{'descr': '<f4, 'fortran_order': False}", /cannot parse the header/],
        ["{'descr': '<f4'", /expected ',' or '}' but found end of header/],
        ["{'descr' '<f4'}", /expected ':' after a dictionary key/],
        ["{'descr': open('x')}", /unknown name "open"/],
        ["{'descr': '<f4'} extra", /unexpected character "e" after the header dictionary/],
        ['', /unexpected end of header where a value was expected/],
        [`{'a': ${'('.repeat(200)}`, /nesting deeper than 64 levels/],
      ];
      for (const [header, re] of cases) {
        expectTritc(() => readNpy(npyFile(header, data), 'x.npy'), 'npy', re);
      }
    });

    it('invalid UTF-8 in a version 3.0 header', () => {
      const f = npyFile(ok, data, 3);
      f[14] = 0xff;
      expectTritc(() => readNpy(f, 'x.npy'), 'npy', /version 3\.0 header is not valid UTF-8/);
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// npz

describe('npz', () => {
  const arrays: [string, NdArray][] = [
    ['weights', makeNdArray('float32', [2, 3], Float32Array.from([1, 2, 3, 4, 5, 6]))],
    ['codes', makeNdArray('int8', [4], Int8Array.from([-1, 0, 1, 1]))],
    ['scalar', makeNdArray('float64', [], Float64Array.from([Math.PI]))],
    ['empty', makeNdArray('uint16', [0, 3])],
    ['größe', makeNdArray('bool', [2], Uint8Array.from([1, 0]))],
  ];

  it('computes CRC-32', () => {
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(ascii('56789'), crc32(ascii('1234')))).toBe(0xcbf43926);
  });

  it('round-trips arrays in order (Map or pairs)', () => {
    for (const input of [arrays, new Map(arrays)]) {
      const m = readNpz(writeNpz(input), 'x.npz');
      expect([...m.keys()]).toEqual(arrays.map(([k]) => k));
      for (const [k, a] of arrays) {
        const b = m.get(k)!;
        expect(b.dtype).toBe(a.dtype);
        expect(b.shape).toEqual(a.shape);
        expect(Array.from(dataBytes(b.data))).toEqual(Array.from(dataBytes(a.data)));
      }
    }
    expect(readNpz(writeNpz([]), 'empty.npz').size).toBe(0);
    // an unaligned view into a Node Buffer
    const buf = Buffer.concat([Buffer.alloc(3), Buffer.from(writeNpz(arrays))]).subarray(3);
    expect(Array.from(readNpz(buf, 'buf.npz').get('weights')!.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('round-trips every dtype', () => {
    const list: [string, NdArray][] = NP_DTYPES.map((d, i) => [d, makeNdArray(d, [3, 2], sample(d, 6, i + 50))]);
    const m = readNpz(writeNpz(list), 'all.npz');
    for (const [k, a] of list) expect(Array.from(dataBytes(m.get(k)!.data))).toEqual(Array.from(dataBytes(a.data)));
  });

  it('reads stored and deflated entries, data descriptors, ZIP64 extras and a ZIP64 end record', () => {
    const npy = (i: number) => writeNpy(arrays[i]![1]);
    const variants: { name: string; zip: Uint8Array }[] = [
      {
        name: 'stored',
        zip: buildZip([
          { name: 'weights.npy', data: npy(0) },
          { name: 'codes.npy', data: npy(1) },
        ]),
      },
      {
        name: 'deflated',
        zip: buildZip([
          { name: 'weights.npy', data: npy(0), method: 8 },
          { name: 'codes.npy', data: npy(1), method: 8 },
        ]),
      },
      {
        name: 'descriptor',
        zip: buildZip([
          { name: 'weights.npy', data: npy(0), method: 8, descriptor: true },
          { name: 'codes.npy', data: npy(1), descriptor: true, zip64: true },
        ]),
      },
      {
        name: 'zip64',
        zip: buildZip(
          [
            { name: 'weights.npy', data: npy(0), zip64: true },
            { name: 'codes.npy', data: npy(1), method: 8, zip64: true },
          ],
          { zip64Eocd: true, comment: 'archive comment' },
        ),
      },
    ];
    for (const v of variants) {
      const m = readNpz(v.zip, `${v.name}.npz`);
      expect([...m.keys()]).toEqual(['weights', 'codes']);
      expect(Array.from(m.get('weights')!.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(Array.from(m.get('codes')!.data as Int8Array)).toEqual([-1, 0, 1, 1]);
    }
  });

  it('ignores entries that are not .npy files', () => {
    const zip = buildZip([
      { name: 'dir/', data: new Uint8Array(0) },
      { name: 'README.txt', data: ascii('hello') },
      { name: 'dir/x.npy', data: writeNpy(arrays[1]![1]) },
    ]);
    expect([...readNpz(zip, 'x.npz').keys()]).toEqual(['dir/x']);
  });

  describe('errors', () => {
    it('CRC mismatch', () => {
      const good = writeNpz(arrays.slice(0, 2));
      // flip one data byte of the first entry's array (past its 30+11 byte local header and 128 byte npy header)
      const bad = good.slice();
      bad[30 + 'weights.npy'.length + 128 + 5]! ^= 0x40;
      const e = expectTritc(() => readNpz(bad, 'inputs.npz'), 'npy', /CRC-32 mismatch: the archive says 0x[0-9a-f]{8}, the data gives 0x[0-9a-f]{8}/);
      expect(e.diagnostics[0]!.where).toBe('inputs.npz: entry "weights.npy"');
      // and in a deflated entry, with a wrong CRC in the directory
      const zip = buildZip([{ name: 'a.npy', data: writeNpy(arrays[0]![1]), method: 8, crc: 0x12345678 }]);
      expectTritc(() => readNpz(zip, 'x.npz'), 'npy', /CRC-32 mismatch: the archive says 0x12345678/);
    });

    it('not a ZIP archive', () => {
      expectTritc(
        () => readNpz(ascii('hello world, this is not a zip file'), 'x.npz'),
        'npy',
        /not a ZIP archive \(\.npz\): no end-of-central-directory record found$/,
      );
      expectTritc(() => readNpz(writeNpy(arrays[0]![1]), 'x.npz'), 'npy', /looks like a single-array \.npy file/);
      expectTritc(() => readNpz(new Uint8Array(0), 'x.npz'), 'npy', /not a ZIP archive/);
    });

    it('truncated archives', () => {
      const good = writeNpz(arrays.slice(0, 2));
      // cut off the start: the central directory offset then points past the end
      expectTritc(() => readNpz(good.subarray(100), 'x.npz'), 'npy', /truncated archive|bad (central|local)/);
      // a directory that promises more entries than it holds
      const bad = good.slice();
      const eocd = bad.length - 22;
      bad[eocd + 10] = 3;
      expectTritc(() => readNpz(bad, 'x.npz'), 'npy', /the central directory promises 3 entries but ends after 2/);
      // an entry whose data runs past the end of the file
      const zip = buildZip([{ name: 'a.npy', data: writeNpy(arrays[0]![1]) }]);
      const cd = zip.length - 22 - 46 - 5;
      new DataView(zip.buffer).setUint32(cd + 20, 100000, true);
      new DataView(zip.buffer).setUint32(cd + 24, 100000, true);
      expectTritc(() => readNpz(zip, 'x.npz'), 'npy', /truncated archive: the entry's data needs bytes 35 to 100035/);
    });

    it('unsupported compression and encryption', () => {
      const data = writeNpy(arrays[1]![1]);
      expectTritc(() => readNpz(buildZip([{ name: 'a.npy', data, method: 12 }]), 'x.npz'), 'npy', /compression method 12 is not supported/);
      expectTritc(() => readNpz(buildZip([{ name: 'a.npy', data, flags: 1 }]), 'x.npz'), 'npy', /encrypted ZIP entries are not supported/);
    });

    it('corrupt deflate stream', () => {
      const zip = buildZip([{ name: 'a.npy', data: writeNpy(arrays[0]![1]), method: 8 }]);
      for (let i = 30 + 5; i < 30 + 5 + 20; i++) zip[i] = 0xff;
      expectTritc(() => readNpz(zip, 'x.npz'), 'npy', /cannot inflate the deflated data|deflated data expands|CRC-32 mismatch/);
    });

    it('missing ZIP64 extra field', () => {
      const zip = buildZip([{ name: 'a.npy', data: writeNpy(arrays[0]![1]), zip64: true }]);
      // set the central entry's extra length to 0: its ZIP64 fields vanish (into the next record's bytes)
      const cdStart = zip.length - 22 - (46 + 5 + 28);
      new DataView(zip.buffer).setUint16(cdStart + 30, 0, true);
      expectTritc(() => readNpz(zip, 'x.npz'), 'npy', /sizes say ZIP64 but the entry has no ZIP64 extra field/);
    });

    it('duplicate arrays and bad arrays inside', () => {
      const data = writeNpy(arrays[1]![1]);
      expectTritc(
        () =>
          readNpz(
            buildZip([
              { name: 'a.npy', data },
              { name: 'a.npy', data },
            ]),
            'x.npz',
          ),
        'npy',
        /^x\.npz: entry "a\.npy": duplicate entry: the archive holds two arrays named "a"$/,
      );
      const e = expectTritc(
        () => readNpz(buildZip([{ name: 'bad.npy', data: data.subarray(0, data.length - 1) }]), 'inputs.npz'),
        'npy',
        /truncated: expected 4 bytes of data, found 3/,
      );
      expect(e.diagnostics[0]!.where).toBe('inputs.npz: entry "bad.npy"');
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// safetensors

describe('safetensors', () => {
  const ST: { dtype: StDType; size: number; typed: string }[] = [
    { dtype: 'F64', size: 8, typed: 'Float64Array' },
    { dtype: 'F32', size: 4, typed: 'Float32Array' },
    { dtype: 'F16', size: 2, typed: 'Uint16Array' },
    { dtype: 'BF16', size: 2, typed: 'Uint16Array' },
    { dtype: 'I64', size: 8, typed: 'BigInt64Array' },
    { dtype: 'I32', size: 4, typed: 'Int32Array' },
    { dtype: 'I16', size: 2, typed: 'Int16Array' },
    { dtype: 'I8', size: 1, typed: 'Int8Array' },
    { dtype: 'U8', size: 1, typed: 'Uint8Array' },
    { dtype: 'U16', size: 2, typed: 'Uint16Array' },
    { dtype: 'U32', size: 4, typed: 'Uint32Array' },
    { dtype: 'U64', size: 8, typed: 'BigUint64Array' },
    { dtype: 'BOOL', size: 1, typed: 'Uint8Array' },
  ];

  function randomBytes(n: number, seed: number): Uint8Array {
    const rnd = mulberry32(seed);
    return Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
  }

  it('round-trips every dtype and shape kind, with metadata', () => {
    const tensors: { name: string; dtype: StDType; shape: number[]; bytes: Uint8Array }[] = [];
    let seed = 7;
    for (const { dtype, size } of ST) {
      for (const [i, shape] of [[], [0], [3, 4, 2], [5]].entries()) {
        tensors.push({ name: `${dtype}.t${i}`, dtype, shape, bytes: randomBytes(elementCount(shape) * size, seed++) });
      }
    }
    const file = writeSafetensors(tensors, { format: 'pt', note: 'ünïcode' });
    const n = Number(new DataView(file.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const st = readSafetensors(file, 'model.safetensors');
    expect(st.metadata).toEqual({ format: 'pt', note: 'ünïcode' });
    expect([...st.tensors.keys()]).toEqual(tensors.map((t) => t.name));
    for (const t of tensors) {
      const r = st.tensors.get(t.name)!;
      expect(r.name).toBe(t.name);
      expect(r.dtype).toBe(t.dtype);
      expect(r.shape).toEqual(t.shape);
      expect(Array.from(r.bytes)).toEqual(Array.from(t.bytes));
      const typed = stToTyped(r);
      expect(typed.constructor.name).toBe(ST.find((s) => s.dtype === t.dtype)!.typed);
      expect(typed.byteOffset).toBe(0);
      expect(Array.from(dataBytes(typed))).toEqual(Array.from(t.bytes));
    }
  });

  it('writes the documented layout', () => {
    const w = new Float32Array([1.5, -2]);
    const file = writeSafetensors([
      { name: 'fc1.w', dtype: 'F32', shape: [2], bytes: dataBytes(w) },
      { name: 'fc1.b', dtype: 'I8', shape: [3], bytes: Int8Array.from([-1, 0, 1]) as unknown as Uint8Array },
    ]);
    const n = Number(new DataView(file.buffer).getBigUint64(0, true));
    const header = new TextDecoder().decode(file.subarray(8, 8 + n));
    expect(header.trimEnd()).toBe('{"fc1.w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"fc1.b":{"dtype":"I8","shape":[3],"data_offsets":[8,11]}}');
    expect(header.length % 8).toBe(0);
    expect(/^ *$/.test(header.slice(header.trimEnd().length))).toBe(true);
    expect(file.length).toBe(8 + n + 11);
    // stToTyped decodes values, also from an unaligned Buffer view
    const buf = Buffer.concat([Buffer.from([9]), Buffer.from(file)]).subarray(1);
    const st = readSafetensors(buf, 'm.safetensors');
    expect(Array.from(stToTyped(st.tensors.get('fc1.w')!) as Float32Array)).toEqual([1.5, -2]);
    expect(Array.from(stToTyped(st.tensors.get('fc1.b')!) as Int8Array)).toEqual([-1, 0, 1]);
    expect(st.metadata).toEqual({});
  });

  it('accepts hand-made files: gaps, unsorted offsets, padding, null metadata, extra fields', () => {
    const data = dataBytes(Int32Array.from([10, 20, 30, 40, 50]));
    const file = stFile(
      `{"b":{"dtype":"I32","shape":[2],"data_offsets":[12,20],"extra":1},"a":{"dtype":"I32","shape":[],"data_offsets":[4,8]},` +
        `"__metadata__":null,"z":{"dtype":"F32","shape":[0,4],"data_offsets":[4,4]}}     `,
      data,
    );
    const st = readSafetensors(file, 'm.safetensors');
    expect([...st.tensors.keys()]).toEqual(['z', 'a', 'b']); // data order (the empty tensor at offset 4 first)
    expect(Array.from(stToTyped(st.tensors.get('a')!) as Int32Array)).toEqual([20]);
    expect(Array.from(stToTyped(st.tensors.get('b')!) as Int32Array)).toEqual([40, 50]);
    expect(stToTyped(st.tensors.get('z')!).length).toBe(0);
  });

  describe('errors', () => {
    const okEntry = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
    const read = (f: Uint8Array) => () => readSafetensors(f, 'model.safetensors');

    it('file too short and header length beyond the file', () => {
      expectTritc(read(new Uint8Array(5)), 'weights', /^model\.safetensors: truncated: the file has 5 bytes, fewer than the 8-byte header length$/);
      const f = stFile({ w: okEntry }, new Uint8Array(8));
      expectTritc(read(f.subarray(0, 20)), 'weights', /truncated: header says 54 bytes, file has 12 after the 8-byte length/);
      const huge = new Bytes()
        .u64(2n ** 64n - 1n)
        .raw(ascii('{}'))
        .done();
      expectTritc(read(huge), 'weights', /truncated: header says 18446744073709551615 bytes, file has 2/);
    });

    it('invalid UTF-8 and JSON', () => {
      expectTritc(read(new Bytes().u64(2).u8(0xc3, 0x28).done()), 'weights', /the header is not valid UTF-8/);
      expectTritc(read(stFile('{"w": {')), 'weights', /the header is not valid JSON \(/);
      expectTritc(read(stFile('[1, 2]')), 'weights', /the header must be a JSON object of tensors, found an array/);
      expectTritc(read(stFile('null')), 'weights', /found null/);
    });

    it('bad tensor entries', () => {
      const cases: [unknown, RegExp][] = [
        [5, /tensor "w": expected an object with "dtype", "shape" and "data_offsets", found number 5/],
        [{ shape: [2], data_offsets: [0, 8] }, /tensor "w": missing "dtype"/],
        [{ dtype: 'F32', data_offsets: [0, 8] }, /tensor "w": missing "shape"/],
        [{ dtype: 'F32', shape: [2] }, /tensor "w": missing "data_offsets"/],
        [{ ...okEntry, dtype: 4 }, /"dtype" must be a string, found number 4/],
        [{ ...okEntry, dtype: 'F8' }, /tensor "w": unknown dtype "F8" \(expected one of F64, F32/],
        [{ ...okEntry, shape: 2 }, /"shape" must be an array of non-negative integers, found number 2/],
        [{ ...okEntry, shape: [2, -1] }, /"shape" must be an array of non-negative integers, found \[2, -1\]/],
        [{ ...okEntry, shape: [2.5] }, /found \[2\.5\]/],
        [{ ...okEntry, shape: ['2'] }, /found \["2"\]/],
        [{ ...okEntry, data_offsets: [0] }, /"data_offsets" must be \[begin, end\] with non-negative integers, found \[0\]/],
        [{ ...okEntry, data_offsets: [0, '8'] }, /found \[0, "8"\]/],
        [{ ...okEntry, data_offsets: { begin: 0 } }, /found an object/],
        [{ ...okEntry, data_offsets: [8, 0] }, /"data_offsets" \[8, 0\] end before they begin/],
      ];
      for (const [entry, re] of cases) {
        const e = expectTritc(read(stFile({ w: entry }, new Uint8Array(8))), 'weights', re);
        expect(e.diagnostics[0]!.where).toBe('model.safetensors: tensor "w"');
      }
    });

    it('size disagreeing with shape x dtype', () => {
      const f = stFile({ 'fc1.w': { dtype: 'F32', shape: [32, 64], data_offsets: [0, 4096] } }, new Uint8Array(4096));
      expectTritc(read(f), 'weights', /^model\.safetensors: tensor "fc1\.w": shape \[32, 64\] of F32 needs 8192 bytes, data_offsets give 4096$/);
    });

    it('offsets beyond the end of the file', () => {
      const f = stFile({ 'fc1.w': { dtype: 'F32', shape: [32, 64], data_offsets: [0, 8192] } }, new Uint8Array(5000));
      expectTritc(
        read(f),
        'weights',
        /^model\.safetensors: tensor "fc1\.w": file truncated: the tensor ends at byte 8192 of the data, the data has only 5000 bytes$/,
      );
    });

    it('overlapping tensors', () => {
      const f = stFile(
        {
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'U8', shape: [4], data_offsets: [6, 10] },
        },
        new Uint8Array(10),
      );
      expectTritc(read(f), 'weights', /tensor "b": data bytes \[6, 10\) overlap tensor "a" at \[0, 8\)/);
    });

    it('bad metadata', () => {
      expectTritc(read(stFile({ __metadata__: [1] })), 'weights', /__metadata__: expected an object of string values, found an array/);
      const e = expectTritc(read(stFile({ __metadata__: { format: 1 } })), 'weights', /metadata values must be strings, found number 1/);
      expect(e.diagnostics[0]!.where).toBe('model.safetensors: __metadata__."format"');
    });

    it('writer rejects programming errors with plain Errors', () => {
      expect(() => writeSafetensors([{ name: 'a', dtype: 'F32', shape: [3], bytes: new Uint8Array(8) }])).toThrow(/needs 12 bytes, got 8/);
      expect(() =>
        writeSafetensors([
          { name: 'a', dtype: 'U8', shape: [1], bytes: new Uint8Array(1) },
          { name: 'a', dtype: 'U8', shape: [1], bytes: new Uint8Array(1) },
        ]),
      ).toThrow(/duplicate tensor/);
      expect(() => writeSafetensors([{ name: '__metadata__', dtype: 'U8', shape: [], bytes: new Uint8Array(1) }])).toThrow(/reserved/);
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// fuzz: every mutation either parses or throws a TritcError

describe('fuzz', () => {
  type Reader = (b: Uint8Array) => unknown;

  function mutations(valid: Uint8Array, seed: number, lengthFieldAt: number, lengthFieldSize: 2 | 4 | 8): Uint8Array[] {
    const rnd = mulberry32(seed);
    const int = (n: number) => Math.floor(rnd() * n);
    const out: Uint8Array[] = [];
    // truncation at every length
    for (let len = 0; len < valid.length; len++) out.push(valid.subarray(0, len));
    // random bit flips (1 to 4 bits)
    for (let i = 0; i < 250; i++) {
      const m = valid.slice();
      for (let k = 0, n = 1 + int(4); k < n; k++) m[int(m.length)]! ^= 1 << int(8);
      out.push(m);
    }
    // byte swaps
    for (let i = 0; i < 100; i++) {
      const m = valid.slice();
      const a = int(m.length);
      const b = int(m.length);
      const t = m[a]!;
      m[a] = m[b]!;
      m[b] = t;
      out.push(m);
    }
    // overwrite bytes with syntax characters and extreme values
    const special = ascii('(){}[]\'",:-0123456789 TrueFalseNone\n\\x');
    for (let i = 0; i < 150; i++) {
      const m = valid.slice();
      for (let k = 0, n = 1 + int(3); k < n; k++) {
        m[int(m.length)] = rnd() < 0.7 ? special[int(special.length)]! : [0, 0xff, 0x80, 0x7f][int(4)]!;
      }
      out.push(m);
    }
    // header-length corruption
    const edges = [0n, 1n, 7n, 8n, 0xffn, 0xffffn, 0xffffffffn, BigInt(valid.length), BigInt(valid.length - 1), 2n ** 53n, 2n ** 64n - 1n];
    for (let i = 0; i < 40; i++) edges.push(BigInt(int(valid.length * 2)));
    for (const v of edges) {
      const m = valid.slice();
      const dv = new DataView(m.buffer);
      if (lengthFieldSize === 2) dv.setUint16(lengthFieldAt, Number(v & 0xffffn), true);
      else if (lengthFieldSize === 4) dv.setUint32(lengthFieldAt, Number(v & 0xffffffffn), true);
      else dv.setBigUint64(lengthFieldAt, v & (2n ** 64n - 1n), true);
      out.push(m);
    }
    return out;
  }

  function run(read: Reader, inputs: Uint8Array[]): { parsed: number; rejected: number } {
    let parsed = 0;
    let rejected = 0;
    const wrong: string[] = [];
    inputs.forEach((m, i) => {
      try {
        read(m);
        parsed++;
      } catch (e) {
        if (e instanceof TritcError) rejected++;
        else wrong.push(`#${i} (${m.length} bytes): ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      }
    });
    expect(wrong).toEqual([]);
    return { parsed, rejected };
  }

  it('npy', () => {
    const a = writeNpy(makeNdArray('float32', [2, 3, 2], sample('float32', 12, 3)));
    const dv = new DataView(new ArrayBuffer(6 * 8));
    for (let i = 0; i < 6; i++) dv.setFloat64(i * 8, i, false);
    const b = npyFile("{'descr': '>f8', 'fortran_order': True, 'shape': (3, 2), }", new Uint8Array(dv.buffer));
    const c = npyFile("{'descr': '|b1', 'fortran_order': False, 'shape': (), }", Uint8Array.from([1]), 3);
    const r1 = run((m) => readNpy(m, 'f.npy'), mutations(a, 1, 8, 2));
    const r2 = run((m) => readNpy(m, 'f.npy'), mutations(b, 2, 8, 2));
    const r3 = run((m) => readNpy(m, 'f.npy'), mutations(c, 3, 8, 4));
    for (const r of [r1, r2, r3]) {
      expect(r.rejected).toBeGreaterThan(50);
      expect(r.parsed).toBeGreaterThan(0);
    }
  });

  it('npz', () => {
    const arrays: [string, NdArray][] = [
      ['w', makeNdArray('int16', [3, 2], sample('int16', 6, 9))],
      ['s', makeNdArray('float64', [], Float64Array.from([2]))],
    ];
    const stored = writeNpz(arrays);
    const deflated = buildZip(
      [
        { name: 'w.npy', data: writeNpy(arrays[0]![1]), method: 8, descriptor: true },
        { name: 's.npy', data: writeNpy(arrays[1]![1]), method: 8, zip64: true },
      ],
      { zip64Eocd: true },
    );
    const read = (m: Uint8Array) => readNpz(m, 'f.npz');
    // length fields: the EOCD central-directory size / the first entry's name length
    const r1 = run(read, mutations(stored, 4, stored.length - 10, 4));
    const r2 = run(read, mutations(deflated, 5, 26, 2));
    for (const r of [r1, r2]) expect(r.rejected).toBeGreaterThan(50);
    expect(r1.parsed).toBeGreaterThan(10);
  });

  it('safetensors', () => {
    const file = writeSafetensors(
      [
        { name: 'fc1.w', dtype: 'F32', shape: [2, 3], bytes: dataBytes(sample('float32', 6, 11)) },
        { name: 'fc1.b', dtype: 'I8', shape: [3], bytes: Uint8Array.from([1, 2, 255]) },
        { name: 'e', dtype: 'BF16', shape: [0], bytes: new Uint8Array(0) },
      ],
      { k: 'v' },
    );
    const r = run(
      (m) => {
        const st = readSafetensors(m, 'f.safetensors');
        for (const t of st.tensors.values()) stToTyped(t);
      },
      mutations(file, 6, 0, 8),
    );
    expect(r.rejected).toBeGreaterThan(50);
    expect(r.parsed).toBeGreaterThan(10);
  });
});
