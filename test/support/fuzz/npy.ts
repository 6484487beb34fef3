// .npy and .npz cases: arrays of every NumPy dtype written the way np.save / np.savez do, then
// corrupted at the structure level (the header dict: descr, fortran_order, shape with huge, negative
// or non-integer dimensions, missing or extra keys; the ZIP records' counts, sizes, offsets, CRCs and
// methods) and at the byte level, and read as `tritc run --inputs` reads them, into a model input
// of another dtype (the conversion is part of what is fuzzed).

import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import type { DType, Graph, Tensor } from '../../../compiler/ir.ts';
import { loadInputRuns } from '../../../compiler/harness/inputs.ts';
import { makeNdArray, NP_DTYPES, type NpDType } from '../../../compiler/io/ndarray.ts';
import { writeNpy } from '../../../compiler/io/npy.ts';
import { crc32 } from '../../../compiler/io/npz.ts';
import { applyByteMutations, byteMutation, describeByteMutation } from './bytes.ts';
import { fieldMutation, mutateFields, type Field } from './fields.ts';
import { some, type FuzzCase, type FuzzReader } from './harness.ts';

// ---------------------------------------------------------------------------------------------------
// One array

/** Values that test every conversion: exact and inexact in float32, fractional, out of every range. */
const VALUES: readonly number[] = [
  0,
  1,
  -1,
  2,
  0.5,
  0.1,
  -2.5,
  127,
  128,
  -128,
  -129,
  255,
  256,
  65535,
  2 ** 24 + 1,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31),
  2 ** 53 + 2,
  1e10,
  3.4e38,
  1e39,
  1e-45,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
];

interface ArrayPlan {
  dtype: NpDType;
  shape: number[];
  values: number[];
  fortran: boolean;
  /** Header edits: [part, raw Python text]. */
  header: [HeaderPart, string][];
  version: 1 | 2 | 3;
}

type HeaderPart = 'descr' | 'fortran_order' | 'shape' | 'extra' | 'drop';

const HEADER_EDITS: Record<HeaderPart, readonly string[]> = {
  descr: ["'<f4'", "'>f4'", "'=i4'", "'|u1'", "'<f8'", "'<f2'", "'<c8'", "'|O'", "'<U4'", "'|S3'", "'<M8[s]'", "[('a', '<f4')]", "'f4'", "''", '4', 'None'],
  fortran_order: ['True', 'False', '1', 'None', "'yes'"],
  shape: [
    '()',
    '(0,)',
    '(3)',
    '[3]',
    '(-1,)',
    '(1099511627776,)',
    '(2147483648, 2)',
    '(65536, 65536, 65536)',
    '(9223372036854775807,)',
    "('a',)",
    '(1.5,)',
    '(2, 3, 4, 5, 6, 7, 8, 9, 10)',
    '(1,' + '1,'.repeat(40) + ')',
  ],
  extra: ["'extra': 1", "'descr': '<f8'", "'shape': (7,)", '1: 2'],
  drop: ['descr', 'fortran_order', 'shape'],
};

const arrayPlanOf = (headerNone: number): fc.Arbitrary<ArrayPlan> =>
  fc.record({
    dtype: fc.constantFrom(...NP_DTYPES),
    shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
    values: fc.array(fc.constantFrom(...VALUES), { minLength: 1, maxLength: 8 }),
    fortran: fc.boolean(),
    header: some(
      fc.constantFrom(...(Object.keys(HEADER_EDITS) as HeaderPart[])).chain((part) => fc.tuple(fc.constant(part), fc.constantFrom(...HEADER_EDITS[part]))),
      2,
      headerNone,
    ),
    version: fc.constantFrom(1 as const, 1 as const, 2 as const, 3 as const),
  });
const arrayPlan = arrayPlanOf(3);

/** The array's elements: the plan's values cycled, cast the way NumPy's astype would (wrapping). */
function arrayOf(p: ArrayPlan) {
  const a = makeNdArray(p.dtype, p.shape);
  for (let i = 0; i < a.data.length; i++) {
    const x = p.values[i % p.values.length]!;
    if (a.data instanceof BigInt64Array || a.data instanceof BigUint64Array) a.data[i] = Number.isFinite(x) ? BigInt(Math.trunc(x)) : 0n;
    else if (p.dtype === 'float16') a.data[i] = Number.isNaN(x) ? 0x7e00 : x > 65504 ? 0x7c00 : x < -65504 ? 0xfc00 : (x * 1000) & 0xffff;
    else a.data[i] = p.dtype === 'bool' ? (x ? 1 : 0) : x;
  }
  return a;
}

/** The .npy bytes with the header edited, and where its version and header length sit. */
function npyBytes(p: ArrayPlan): { bytes: Uint8Array; fields: Field[] } {
  const plain = writeNpy(arrayOf(p));
  const lenAt = 8;
  const oldLen = new DataView(plain.buffer).getUint16(lenAt, true);
  const data = plain.subarray(10 + oldLen);
  const parts = new Map<string, string>([
    ['descr', new TextDecoder().decode(plain.subarray(10, 10 + oldLen)).match(/'descr': ('[^']*')/)![1]!],
    ['fortran_order', p.fortran ? 'True' : 'False'],
    ['shape', p.shape.length === 1 ? `(${p.shape[0]},)` : `(${p.shape.join(', ')})`],
  ]);
  const extra: string[] = [];
  for (const [part, text] of p.header) {
    if (part === 'drop') parts.delete(text);
    else if (part === 'extra') extra.push(text);
    else parts.set(part, text);
  }
  const dict = `{${[...[...parts].map(([k, v]) => `'${k}': ${v}`), ...extra].join(', ')}, }`;
  const lenSize = p.version === 1 ? 2 : 4;
  const pad = (64 - ((10 + (lenSize - 2) + dict.length + 1) % 64)) % 64;
  const header = new TextEncoder().encode(`${dict}${' '.repeat(pad)}\n`);
  const out = new Uint8Array(8 + lenSize + header.length + data.length);
  out.set(plain.subarray(0, 6));
  out[6] = p.version;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (lenSize === 2) dv.setUint16(8, header.length, true);
  else dv.setUint32(8, header.length, true);
  out.set(header, 8 + lenSize);
  out.set(data, 8 + lenSize + header.length);
  return {
    bytes: out,
    fields: [
      { at: 6, width: 1, label: 'the major version' },
      { at: 8, width: lenSize, label: 'the header length' },
    ],
  };
}

function describeArray(p: ArrayPlan): string {
  return `${p.dtype} [${p.shape.join(', ')}]${p.fortran ? ' fortran' : ''} v${p.version}${p.header.map(([k, v]) => `, ${k} ${v}`).join('')}`;
}

// ---------------------------------------------------------------------------------------------------
// The model input it is read into

const INPUT_DTYPES: readonly DType[] = ['float32', 'int8', 'uint8', 'int32', 'int64', 'bool', 'ternary'];

interface InputPlan {
  /** 'array': the dtype the array has (when a model input can have it). */
  dtype: DType | 'array';
  /** The input's shape: the array's (batched: without its first axis), or another. */
  shape: 'same' | 'batched' | number[];
  range?: [number, number];
}

const inputPlan: fc.Arbitrary<InputPlan> = fc.record(
  {
    dtype: fc.constantFrom<DType | 'array'>(...INPUT_DTYPES, 'array', 'array', 'array'),
    shape: fc.oneof(fc.constant('same' as const), fc.constant('batched' as const), fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 2 })),
    range: fc.constantFrom<[number, number]>([0, 9], [-1, 1], [-100, 100]),
  },
  { requiredKeys: ['dtype', 'shape'] },
);

function inputTensor(name: string, p: InputPlan, array: ArrayPlan | undefined): Tensor {
  const arrayShape = array?.shape ?? [2];
  const shape = p.shape === 'same' ? arrayShape : p.shape === 'batched' ? arrayShape.slice(1) : p.shape;
  const dtype: DType = p.dtype !== 'array' ? p.dtype : array && (INPUT_DTYPES as string[]).includes(array.dtype) ? (array.dtype as DType) : 'float32';
  const t: Tensor = { name, dtype, shape, kind: 'input' };
  if (p.range && dtype !== 'float32') t.range = p.range;
  return t;
}

function inputGraph(tensors: Tensor[]): Graph {
  return {
    name: 'inputs',
    source: 'fuzz',
    inputs: tensors.map((t) => t.name),
    outputs: [],
    tensors: new Map(tensors.map((t) => [t.name, t])),
    nodes: [],
    sourceHash: '',
  };
}

// ---------------------------------------------------------------------------------------------------
// .npy

export const npyReader: FuzzReader = {
  name: 'npy',
  about: '.npy arrays (tritc run --inputs x.npy): every dtype, corrupt headers, into a model input of any dtype',
  cases: () =>
    fc
      .record({
        array: arrayPlan,
        input: inputPlan,
        fields: some(fieldMutation, 2),
        bytes: some(byteMutation, 2),
      })
      .map(({ array, input, fields, bytes }): FuzzCase => {
        const npy = npyBytes(array);
        const f = mutateFields(npy.bytes, npy.fields, fields);
        const file = applyByteMutations(f.bytes, bytes);
        const graph = inputGraph([inputTensor('x', input, array)]);
        return {
          what: [`npy ${describeArray(array)} into ${graph.tensors.get('x')!.dtype}`, ...f.what, ...bytes.map(describeByteMutation)].join('; '),
          files: [['x.npy', file]],
          read: (dir) => void loadInputRuns(graph, join(dir, 'x.npy')),
        };
      }),
};

// ---------------------------------------------------------------------------------------------------
// .npz: a ZIP writer that records where each field is

interface EntryPlan {
  name: string;
  array: ArrayPlan;
  deflate: boolean;
  zip64: boolean;
}

const ENTRY_NAMES = ['x', 'y', 'arr_0', 'arr_1', 'x', 'dir/', 'notes.txt', 'ü', '../x', ''];

const entryPlan: fc.Arbitrary<EntryPlan> = fc.record({
  name: fc.constantFrom(...ENTRY_NAMES),
  array: arrayPlanOf(12),
  deflate: fc.boolean(),
  zip64: fc.boolean(),
});

function zip(entries: { name: Uint8Array; data: Uint8Array; deflate: boolean; zip64: boolean; utf8: boolean }[]): { bytes: Uint8Array; fields: Field[] } {
  const parts: Uint8Array[] = [];
  const fields: Field[] = [];
  let size = 0;
  const put = (width: 1 | 2 | 4 | 8, v: number | bigint, label: string) => {
    const b = new Uint8Array(width);
    const dv = new DataView(b.buffer);
    if (width === 2) dv.setUint16(0, Number(v), true);
    else if (width === 4) dv.setUint32(0, Number(v) >>> 0, true);
    else if (width === 8) dv.setBigUint64(0, BigInt(v), true);
    else b[0] = Number(v);
    fields.push({ at: size, width, label });
    parts.push(b);
    size += width;
  };
  const raw = (b: Uint8Array) => {
    parts.push(b);
    size += b.length;
  };
  const stored = entries.map((e) => {
    const body = e.deflate ? new Uint8Array(deflateRawSync(e.data)) : e.data;
    return { ...e, body, crc: crc32(e.data) };
  });
  const offsets: number[] = [];
  stored.forEach((e, i) => {
    offsets.push(size);
    const ex = e.zip64 ? 20 : 0;
    put(4, 0x04034b50, `entry ${i} local signature`);
    put(2, e.zip64 ? 45 : 20, `entry ${i} local version`);
    put(2, e.utf8 ? 0x800 : 0, `entry ${i} local flags`);
    put(2, e.deflate ? 8 : 0, `entry ${i} local method`);
    put(4, 0, `entry ${i} local time`);
    put(4, e.crc, `entry ${i} local crc`);
    put(4, e.zip64 ? 0xffffffff : e.body.length, `entry ${i} local compressed size`);
    put(4, e.zip64 ? 0xffffffff : e.data.length, `entry ${i} local size`);
    put(2, e.name.length, `entry ${i} local name length`);
    put(2, ex, `entry ${i} local extra length`);
    raw(e.name);
    if (e.zip64) {
      put(2, 1, `entry ${i} local zip64 id`);
      put(2, 16, `entry ${i} local zip64 length`);
      put(8, e.data.length, `entry ${i} local zip64 size`);
      put(8, e.body.length, `entry ${i} local zip64 compressed size`);
    }
    raw(e.body);
  });
  const cd = size;
  stored.forEach((e, i) => {
    const ex = e.zip64 ? 28 : 0;
    put(4, 0x02014b50, `entry ${i} central signature`);
    put(2, 0x031e, `entry ${i} made by`);
    put(2, e.zip64 ? 45 : 20, `entry ${i} central version`);
    put(2, e.utf8 ? 0x800 : 0, `entry ${i} central flags`);
    put(2, e.deflate ? 8 : 0, `entry ${i} central method`);
    put(4, 0, `entry ${i} central time`);
    put(4, e.crc, `entry ${i} central crc`);
    put(4, e.zip64 ? 0xffffffff : e.body.length, `entry ${i} central compressed size`);
    put(4, e.zip64 ? 0xffffffff : e.data.length, `entry ${i} central size`);
    put(2, e.name.length, `entry ${i} central name length`);
    put(2, ex, `entry ${i} central extra length`);
    put(2, 0, `entry ${i} comment length`);
    put(2, 0, `entry ${i} disk`);
    put(2, 0, `entry ${i} internal attributes`);
    put(4, 0, `entry ${i} external attributes`);
    put(4, e.zip64 ? 0xffffffff : offsets[i]!, `entry ${i} local offset`);
    raw(e.name);
    if (e.zip64) {
      put(2, 1, `entry ${i} zip64 id`);
      put(2, 24, `entry ${i} zip64 length`);
      put(8, e.data.length, `entry ${i} zip64 size`);
      put(8, e.body.length, `entry ${i} zip64 compressed size`);
      put(8, offsets[i]!, `entry ${i} zip64 local offset`);
    }
  });
  const cdSize = size - cd;
  if (stored.some((e) => e.zip64)) {
    const rec = size;
    put(4, 0x06064b50, 'zip64 record signature');
    put(8, 44, 'zip64 record size');
    put(2, 45, 'zip64 made by');
    put(2, 45, 'zip64 version');
    put(4, 0, 'zip64 disk');
    put(4, 0, 'zip64 central directory disk');
    put(8, stored.length, 'zip64 entries on disk');
    put(8, stored.length, 'zip64 entry count');
    put(8, cdSize, 'zip64 central directory size');
    put(8, cd, 'zip64 central directory offset');
    put(4, 0x07064b50, 'zip64 locator signature');
    put(4, 0, 'zip64 locator disk');
    put(8, rec, 'zip64 record offset');
    put(4, 1, 'zip64 disks');
  }
  put(4, 0x06054b50, 'end record signature');
  put(2, 0, 'disk number');
  put(2, 0, 'central directory disk');
  put(2, stored.length, 'entries on disk');
  put(2, stored.length, 'entry count');
  put(4, cdSize, 'central directory size');
  put(4, cd, 'central directory offset');
  put(2, 0, 'comment length');
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return { bytes, fields };
}

export const npzReader: FuzzReader = {
  name: 'npz',
  about: '.npz archives (tritc run --inputs in.npz): stored, deflated and ZIP64 entries, corrupt records, into model inputs',
  cases: () =>
    fc
      .record({
        entries: fc.oneof(
          { weight: 1, arbitrary: fc.constant([] as EntryPlan[]) },
          { weight: 9, arbitrary: fc.array(entryPlan, { minLength: 1, maxLength: 3 }) },
        ),
        inputs: fc.array(inputPlan, { minLength: 1, maxLength: 2 }),
        extraInput: fc.boolean(),
        fields: some(fieldMutation, 3),
        bytes: some(byteMutation, 2),
      })
      .map(({ entries, inputs, extraInput, fields, bytes }): FuzzCase => {
        const enc = new TextEncoder();
        const z = zip(
          entries.map((e) => ({
            name: enc.encode(e.name.endsWith('/') || e.name.endsWith('.txt') ? e.name : `${e.name}.npy`),
            data: npyBytes(e.array).bytes,
            deflate: e.deflate,
            zip64: e.zip64,
            utf8: /[^\x00-\x7f]/.test(e.name),
          })),
        );
        const f = mutateFields(z.bytes, z.fields, fields);
        const file = applyByteMutations(f.bytes, bytes);
        // Input i reads the entry named after it, or arr_i: name the inputs after the entries.
        const named: { p: InputPlan; e: EntryPlan | undefined; name: string }[] = inputs.map((p, i) => ({
          p,
          e: entries[i],
          name: entries[i] && /^[a-z]$/.test(entries[i]!.name) ? entries[i]!.name : `in${i}`,
        }));
        if (extraInput) named.push({ p: inputs[0]!, e: undefined, name: 'z' });
        const names = [...new Set(named.map((n) => n.name))];
        const graph = inputGraph(names.map((n) => named.find((m) => m.name === n)!).map(({ p, e, name }) => inputTensor(name, p, e?.array)));
        return {
          what: [
            `npz of ${entries.map((e) => `${e.name} (${describeArray(e.array)}${e.deflate ? ', deflated' : ''}${e.zip64 ? ', zip64' : ''})`).join(', ') || 'no entries'} into ${names.join(', ')}`,
            ...f.what,
            ...bytes.map(describeByteMutation),
          ].join('; '),
          files: [['in.npz', file]],
          read: (dir) => void loadInputRuns(graph, join(dir, 'in.npz')),
        };
      }),
};
