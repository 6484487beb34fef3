// GGUF cases: llama.cpp's own files (../shared/data/gguf) and small generated decoders (F32, F16,
// Q8_0 tensors, a tokenizer), edited at the structure level (keys dropped, repeated or given values
// of the wrong type or at the edges; tensors dropped, repeated, renamed, retyped, given huge or
// swapped dimensions or offsets), written back with every count, length, type, dimension and offset
// recorded so field mutations can aim at them, then mutated byte by byte; read with loadModel, the
// way `tritc compile model.gguf` reads it (the container, the LM reader, the decoder graph).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { readGguf, type GgufArray, type GgufValue } from '../../../compiler/readers/gguf/container.ts';
import { loadModel } from '../../../compiler/readers/index.ts';
import { f32ToF16Bits } from '../../../compiler/numerics/half.ts';
import type { LmTensor } from '../../../compiler/lm/model.ts';
import { SHARED_DATA } from '../../../examples/data.ts';
import { randomLm } from '../../../bench/gen/random_lm.ts';
import { ByteWriter } from '../gguf_writer.ts';
import { dequantize } from '../lm_reference.ts';
import { applyByteMutations, byteMutation, describeByteMutation } from './bytes.ts';
import { fieldMutation, mutateFields, type Field } from './fields.ts';
import { some, type FuzzCase, type FuzzReader } from './harness.ts';

interface Tensor {
  name: string;
  ne: bigint[];
  type: number;
  data: Uint8Array;
  /** Data offset relative to the data section (packed when absent). */
  offset?: bigint;
}

interface Model {
  kv: [string, GgufValue][];
  tensors: Tensor[];
}

// ---------------------------------------------------------------------------------------------------
// Writing, with every field recorded

const TYPE_ID: Record<string, number> = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12 };

function serialize(m: Model): { bytes: Uint8Array; fields: Field[] } {
  const w = new ByteWriter();
  const fields: Field[] = [];
  const at = (width: 1 | 2 | 4 | 8, label: string) => fields.push({ at: w.length, width, label });
  const str = (s: string, label: string) => {
    at(8, `${label} length`);
    w.str(s);
  };
  const body = (v: GgufValue, label: string): void => {
    switch (v.type) {
      case 'string':
        return void str(v.value, label);
      case 'array':
        return array(v.value, label);
      case 'u32':
      case 'i32':
        at(4, label);
        w.u32(v.value);
        return;
      case 'u64':
      case 'i64':
        at(8, label);
        w.u64(BigInt.asUintN(64, v.value));
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
      case 'u16':
      case 'i16':
        w.u16(v.value & 0xffff);
        return;
      case 'bool':
        w.u8(v.value ? 1 : 0);
        return;
      default:
        w.u8(v.value & 0xff);
    }
  };
  const array = (a: GgufArray, label: string): void => {
    at(4, `${label} item type`);
    w.u32(TYPE_ID[a.itemType]!);
    at(8, `${label} count`);
    w.u64(a.items.length);
    const items = Array.from(a.items as ArrayLike<unknown>);
    items.forEach((item, i) =>
      body((a.itemType === 'array' ? { type: 'array', value: item } : { type: a.itemType, value: item }) as GgufValue, `${label}[${i}]`),
    );
  };
  w.bytes(new TextEncoder().encode('GGUF'));
  at(4, 'the version');
  w.u32(3);
  at(8, 'the tensor count');
  w.u64(m.tensors.length);
  at(8, 'the key/value count');
  w.u64(m.kv.length);
  for (const [k, v] of m.kv) {
    str(k, `key ${k}`);
    at(4, `${k} value type`);
    w.u32(TYPE_ID[v.type]!);
    body(v, k);
  }
  const offsets: bigint[] = [];
  let next = 0n;
  for (const t of m.tensors) {
    const off = t.offset ?? next;
    offsets.push(off);
    if (t.offset === undefined) next = ((next + BigInt(t.data.length) + 31n) / 32n) * 32n;
  }
  m.tensors.forEach((t, i) => {
    str(t.name, `tensor ${t.name} name`);
    at(4, `tensor ${t.name} n_dims`);
    w.u32(t.ne.length);
    t.ne.forEach((d, j) => {
      at(8, `tensor ${t.name} ne[${j}]`);
      w.u64(BigInt.asUintN(64, d));
    });
    at(4, `tensor ${t.name} type`);
    w.u32(t.type);
    at(8, `tensor ${t.name} offset`);
    w.u64(BigInt.asUintN(64, offsets[i]!));
  });
  w.pad(32);
  const start = w.length;
  const end = m.tensors.reduce((e, t, i) => (offsets[i]! < 2n ** 31n ? Math.max(e, Number(offsets[i]!) + t.data.length) : e), 0);
  const out = new Uint8Array(start + end);
  out.set(w.result());
  m.tensors.forEach((t, i) => {
    if (offsets[i]! < 2n ** 31n) out.set(t.data, start + Number(offsets[i]!));
  });
  return { bytes: out, fields };
}

// ---------------------------------------------------------------------------------------------------
// Seeds

const SEED_FILES = [
  'trilm-synth-tq2_0.gguf',
  'trilm-synth-tq1_0.gguf',
  'bitnet-synth-i2_s.gguf',
  'bitnet-synth-tq2_0.gguf',
  'bitnet-synth-tq1_0.gguf',
  'stories260K-f32.gguf',
  'trilm-synth-f32.gguf',
  'bitnet-synth-f32.gguf',
];

const seedCache = new Map<string, Model>();

function realSeed(file: string): Model {
  let m = seedCache.get(file);
  if (!m) {
    const g = readGguf(new Uint8Array(readFileSync(join(SHARED_DATA, 'gguf', file))), file);
    m = {
      kv: [...g.metadata.entries],
      tensors: [...g.tensors.values()].map((t) => ({ name: t.name, ne: t.ne.map(BigInt), type: t.type, data: t.data })),
    };
    seedCache.set(file, m);
  }
  return m;
}

const u32 = (value: number): GgufValue => ({ type: 'u32', value });
const f32 = (value: number): GgufValue => ({ type: 'f32', value });
const str = (value: string): GgufValue => ({ type: 'string', value });

function tensorBytes(t: LmTensor): { type: number; data: Uint8Array } {
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.kind === 'float16' || t.kind === 'bfloat16') return { type: t.kind === 'float16' ? 1 : 30, data: new Uint8Array(t.bits.slice().buffer) };
  // Every other kind as the float values it stands for (the Q8_0 below re-quantizes int8 rows).
  const v = Float32Array.from(dequantize(t));
  // Q8_0 when the rows split into blocks of 32: d (f16), then 32 int8 codes.
  if (t.kind === 'int8' && t.shape[1] % 32 === 0) {
    const out = new Uint8Array((n / 32) * 34);
    for (let b = 0; b < n / 32; b++) {
      let amax = 0;
      for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(v[32 * b + j]!));
      const d = amax / 127;
      const h = f32ToF16Bits(d);
      out[34 * b] = h & 0xff;
      out[34 * b + 1] = h >> 8;
      for (let j = 0; j < 32; j++) out[34 * b + 2 + j] = (d ? Math.round(v[32 * b + j]! / d) : 0) & 0xff;
    }
    return { type: 8, data: out };
  }
  return { type: 0, data: new Uint8Array(v.buffer) };
}

/** A small decoder written as llama.cpp would write it (random_lm.ts's models). */
function generatedSeed(seed: number, tokenizer: boolean): Model {
  const lm = randomLm(seed);
  const c = lm.config;
  const a = c.arch;
  const kv: [string, GgufValue][] = [
    ['general.architecture', str(a)],
    ['general.alignment', u32(32)],
    [`${a}.embedding_length`, u32(c.dim)],
    [`${a}.feed_forward_length`, u32(c.hiddenDim)],
    [`${a}.block_count`, u32(c.nLayers)],
    [`${a}.attention.head_count`, u32(c.nHeads)],
    [`${a}.attention.head_count_kv`, u32(c.nKvHeads)],
    [`${a}.context_length`, u32(c.contextLength)],
    [`${a}.attention.layer_norm_rms_epsilon`, f32(c.normEps)],
    [`${a}.rope.freq_base`, f32(c.ropeTheta)],
    [`${a}.rope.dimension_count`, u32(c.ropeDim)],
  ];
  if (tokenizer) {
    const tokens = Array.from({ length: c.vocabSize }, (_, i) =>
      i < 3 ? ['<unk>', '<s>', '</s>'][i]! : i < 6 ? `<0x${(i - 3).toString(16).padStart(2, '0')}>` : `▁t${i}`,
    );
    kv.push(
      ['tokenizer.ggml.model', str('llama')],
      ['tokenizer.ggml.tokens', { type: 'array', value: { itemType: 'string', items: tokens } }],
      ['tokenizer.ggml.scores', { type: 'array', value: { itemType: 'f32', items: Float32Array.from(tokens, (_, i) => -i) } }],
      [
        'tokenizer.ggml.token_type',
        { type: 'array', value: { itemType: 'i32', items: Int32Array.from(tokens, (_, i) => (i === 0 ? 2 : i < 3 ? 3 : i < 6 ? 6 : 1)) } },
      ],
      ['tokenizer.ggml.bos_token_id', u32(1)],
      ['tokenizer.ggml.eos_token_id', u32(2)],
    );
  }
  const tensors: Tensor[] = [];
  for (const [name, t] of lm.tensors) {
    if (name === 'output' && a === 'bitnet') continue;
    tensors.push({ name: `${name}.weight`, ne: [...t.shape].reverse().map(BigInt), ...tensorBytes(t) });
  }
  return { kv, tensors };
}

// ---------------------------------------------------------------------------------------------------
// Structure edits

const KEYS = [
  'general.architecture',
  'general.alignment',
  'llama.embedding_length',
  'llama.feed_forward_length',
  'llama.block_count',
  'llama.attention.head_count',
  'llama.attention.head_count_kv',
  'llama.attention.key_length',
  'llama.attention.value_length',
  'llama.context_length',
  'llama.attention.layer_norm_rms_epsilon',
  'llama.rope.freq_base',
  'llama.rope.dimension_count',
  'bitnet.embedding_length',
  'bitnet.block_count',
  'bitnet.attention.head_count',
  'tokenizer.ggml.model',
  'tokenizer.ggml.tokens',
  'tokenizer.ggml.scores',
  'tokenizer.ggml.token_type',
  'tokenizer.ggml.bos_token_id',
  'tokenizer.ggml.add_bos_token',
];

const value: fc.Arbitrary<GgufValue> = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, 7, 31, 64, 256, 65535, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1).map(u32),
  fc.constantFrom(-1, -(2 ** 31), 0).map((value): GgufValue => ({ type: 'i32', value })),
  fc.constantFrom(0n, 1n, 2n ** 31n, 2n ** 40n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n).map((value): GgufValue => ({ type: 'u64', value })),
  fc.constantFrom(-1n, -(2n ** 63n)).map((value): GgufValue => ({ type: 'i64', value })),
  fc.constantFrom(0, -1, 1e-5, 0.5, 1, 1e30, Number.NaN, Number.POSITIVE_INFINITY).map(f32),
  fc.constantFrom(0, 1e-6, Number.NaN).map((value): GgufValue => ({ type: 'f64', value })),
  fc.boolean().map((value): GgufValue => ({ type: 'bool', value })),
  fc.constantFrom('', 'llama', 'bitnet', 'gpt2', 'x'.repeat(300), '\u0000\n').map(str),
  fc
    .constantFrom(
      { itemType: 'string', items: [] },
      { itemType: 'string', items: ['a', 'a'] },
      { itemType: 'u32', items: Uint32Array.of(4, 4, 4, 4) },
      { itemType: 'u32', items: Uint32Array.of(1, 2) },
      { itemType: 'i32', items: Int32Array.of(-1) },
      { itemType: 'f32', items: Float32Array.of(Number.NaN) },
      { itemType: 'array', items: [{ itemType: 'u8', items: Uint8Array.of(1) }] },
    )
    .map((value): GgufValue => ({ type: 'array', value: value as GgufArray })),
);

type Edit =
  | { op: 'drop-key'; at: number }
  | { op: 'repeat-key'; at: number }
  | { op: 'set-key'; at: number; value: GgufValue }
  | { op: 'add-key'; key: string; value: GgufValue }
  | { op: 'drop-tensor'; at: number }
  | { op: 'repeat-tensor'; at: number }
  | { op: 'rename-tensor'; at: number; to: string | number }
  | { op: 'retype-tensor'; at: number; type: number }
  | { op: 'reshape-tensor'; at: number; ne: bigint[] | 'swap' | 'drop-dim' | 'add-dim' }
  | { op: 'move-tensor'; at: number; offset: bigint }
  | { op: 'swap-tensors'; at: number; with: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constant('drop-key' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('repeat-key' as const), at: fc.nat() }),
  { weight: 3, arbitrary: fc.record({ op: fc.constant('set-key' as const), at: fc.nat(), value }) },
  fc.record({ op: fc.constant('add-key' as const), key: fc.constantFrom(...KEYS), value }),
  fc.record({ op: fc.constant('drop-tensor' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('repeat-tensor' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('rename-tensor' as const),
    at: fc.nat(),
    to: fc.oneof(fc.nat(), fc.constantFrom('', 'token_embd', 'output.weight', 'blk.0.attn_q', 'blk.99.attn_q.weight', 'x'.repeat(70), '\u00ff\u0000')),
  }),
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('retype-tensor' as const),
      at: fc.nat(),
      type: fc.constantFrom(0, 1, 2, 8, 10, 24, 26, 28, 30, 31, 34, 35, 36, 37, 39, 40, 99, 2 ** 31),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('reshape-tensor' as const),
      at: fc.nat(),
      ne: fc.oneof(
        fc.constantFrom('swap' as const, 'drop-dim' as const, 'add-dim' as const),
        fc.array(fc.constantFrom(0n, 1n, 2n, 32n, 256n, 2n ** 20n, 2n ** 31n, 2n ** 40n, 2n ** 63n, 2n ** 64n - 1n), { maxLength: 5 }),
      ),
    }),
  },
  fc.record({ op: fc.constant('move-tensor' as const), at: fc.nat(), offset: fc.constantFrom(0n, 1n, 32n, 64n, 2n ** 32n, 2n ** 62n) }),
  fc.record({ op: fc.constant('swap-tensors' as const), at: fc.nat(), with: fc.nat() }),
);

function applyEdit(m: Model, e: Edit): void {
  const kvAt = (i: number) => i % Math.max(1, m.kv.length);
  const tAt = (i: number) => i % Math.max(1, m.tensors.length);
  const hasKv = m.kv.length > 0;
  const t = m.tensors.length > 0 ? m.tensors[tAt('at' in e ? e.at : 0)] : undefined;
  switch (e.op) {
    case 'drop-key':
      if (hasKv) m.kv.splice(kvAt(e.at), 1);
      return;
    case 'repeat-key':
      if (hasKv) m.kv.push(m.kv[kvAt(e.at)]!);
      return;
    case 'set-key':
      if (hasKv) m.kv[kvAt(e.at)] = [m.kv[kvAt(e.at)]![0], e.value];
      return;
    case 'add-key':
      m.kv.push([e.key, e.value]);
      return;
    case 'drop-tensor':
      if (t) m.tensors.splice(tAt(e.at), 1);
      return;
    case 'repeat-tensor':
      if (t) m.tensors.push({ ...t });
      return;
    case 'rename-tensor':
      if (t) m.tensors[tAt(e.at)] = { ...t, name: typeof e.to === 'number' ? m.tensors[tAt(e.to)]!.name.replace(/\.weight$/, '') : e.to };
      return;
    case 'retype-tensor':
      if (t) m.tensors[tAt(e.at)] = { ...t, type: e.type };
      return;
    case 'reshape-tensor': {
      if (!t) return;
      let ne = [...t.ne];
      if (e.ne === 'swap') ne.reverse();
      else if (e.ne === 'drop-dim') ne = ne.slice(0, -1);
      else if (e.ne === 'add-dim') ne.push(1n);
      else ne = e.ne;
      m.tensors[tAt(e.at)] = { ...t, ne };
      return;
    }
    case 'move-tensor':
      if (t) m.tensors[tAt(e.at)] = { ...t, offset: e.offset };
      return;
    case 'swap-tensors': {
      if (!t) return;
      const u = m.tensors[tAt(e.with)]!;
      m.tensors[tAt(e.at)] = { ...t, ne: u.ne, type: u.type };
      m.tensors[tAt(e.with)] = { ...u, ne: t.ne, type: t.type };
      return;
    }
  }
}

function describeEdit(e: Edit): string {
  const { op, ...rest } = e;
  return `${op} ${JSON.stringify(rest, (_, v) => (typeof v === 'bigint' ? `${v}` : ArrayBuffer.isView(v) ? `[${Array.from(v as Uint8Array).join(',')}]` : v))}`;
}

export const ggufReader: FuzzReader = {
  name: 'gguf',
  about: "GGUF language models: llama.cpp's files in ../shared/data/gguf and generated ones, structure- and byte-mutated",
  cases: () =>
    fc
      .record({
        seed: fc.oneof(
          { weight: 1, arbitrary: fc.constantFrom(...SEED_FILES).map((f) => ({ file: f })) },
          { weight: 3, arbitrary: fc.record({ lm: fc.integer({ min: 1, max: 1000 }), tokenizer: fc.boolean() }) },
        ),
        edits: some(edit, 3),
        fields: some(fieldMutation, 3),
        bytes: some(byteMutation, 2, 4),
      })
      .map(({ seed, edits, fields, bytes }): FuzzCase => {
        const base = 'file' in seed ? realSeed(seed.file) : generatedSeed(seed.lm, seed.tokenizer);
        const m: Model = { kv: [...base.kv], tensors: [...base.tensors] };
        for (const e of edits) applyEdit(m, e);
        const s = serialize(m);
        const f = mutateFields(s.bytes, s.fields, fields);
        const file = applyByteMutations(f.bytes, bytes);
        return {
          what: [
            `gguf ${'file' in seed ? seed.file : `random LM ${seed.lm}${seed.tokenizer ? ' with a tokenizer' : ''}`}`,
            ...edits.map(describeEdit),
            ...f.what,
            ...bytes.map(describeByteMutation),
          ].join('; '),
          files: [['model.gguf', file]],
          read: (dir) => void loadModel(join(dir, 'model.gguf')),
        };
      }),
};
