// The GGUF reader (compiler/readers/gguf/): every file of ../shared/data/gguf reads with the facts
// its README states; TQ1_0, TQ2_0 and I2_S decode to exactly the F32 file's weights; one test per
// class of malformed input; and seeded random corruption never escapes as anything but a TritcError.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TritcError, formatDiagnostic } from '../compiler/diagnostics.ts';
import type { GgufValue } from '../compiler/readers/gguf/container.ts';
import { looksLikeGguf, readGguf } from '../compiler/readers/gguf/container.ts';
import { ggufToLm, readGgufLm } from '../compiler/readers/gguf/lm.ts';
import { decodeTQ1_0, decodeTQ2_0 } from '../compiler/readers/gguf/quants.ts';
import { f16BitsToF32 as halfToFloat } from '../compiler/numerics/half.ts';
import type { LmModel, LmTensor } from '../compiler/lm/model.ts';
import { ByteWriter, f32ToHalfBits, rng, unpack, writeGguf, writeKv } from './support/gguf_writer.ts';
import type { WTensor } from './support/gguf_writer.ts';

const DIR = join(import.meta.dirname, '../../shared/data/gguf');
const path = (f: string): string => join(DIR, f);
const fileBytes = (f: string): Uint8Array => new Uint8Array(readFileSync(path(f)));

// sha256 from ../shared/data/gguf/README.md: the tests below are about exactly these files.
const SHA256: Record<string, string> = {
  'trilm-synth-f32.gguf': '1fad78b9ae351fc7a4d80b7d0b09e80bcbf1fa1859de20a75576383c1e64d4e4',
  'trilm-synth-tq2_0.gguf': '71deb0a027fc974da315310186dc8dadeecaca4143f25a3011d5417d7d96a86a',
  'trilm-synth-tq1_0.gguf': '3e87290cf9531af9fe2fcff87dcd090e1abb1450838cb7e8278b30f45b9105e1',
  'bitnet-synth-f32.gguf': '23abaec840de5e859c2f34442bb3e9e2b767dcf06b78300f6a4210552e38302f',
  'bitnet-synth-tq2_0.gguf': 'b8c6ef2ea090664e761efec5d1e10c85947be89743b8fbdd44f4cd525bae6d92',
  'bitnet-synth-tq1_0.gguf': '18d2f827f4a52049de38346cb892fd277627d06ddf007daeae8dca944fc0c662',
  'bitnet-synth-i2_s.gguf': '5e0eb3ca3198b95d94a2414e3d80dfe5347f416cc71aae400f0b32f55abca7b7',
  'stories260K-f32.gguf': 'ca6e06086b2a0237d58c7a07c6da2088b109fe38a60c21fb0da9eca7f94263dc',
};

/** Run `f`, expect a TritcError with `code` whose message matches every pattern; return it. */
function expectTritc(f: () => unknown, code: string, ...patterns: RegExp[]): TritcError {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  if (!(err instanceof TritcError)) throw new Error(`expected a TritcError, got ${err === undefined ? 'no error' : String(err)}`);
  expect(err.code, err.message).toBe(code);
  for (const p of patterns) expect(err.message).toMatch(p);
  for (const d of err.diagnostics) expect(formatDiagnostic(d)).not.toContain('\n');
  return err;
}

function tensor(m: LmModel, name: string): LmTensor {
  const t = m.tensors.get(name);
  if (!t) throw new Error(`no tensor ${name}`);
  return t;
}

const kvU32 = (value: number): GgufValue => ({ type: 'u32', value });
const kvStr = (value: string): GgufValue => ({ type: 'string', value });

/** An F32 tensor of `ne` filled with small distinct values. */
function f32Tensor(name: string, ne: number[], offset?: number): WTensor {
  const n = ne.reduce((a, b) => a * b, 1);
  const data = new Uint8Array(4 * n);
  const dv = new DataView(data.buffer);
  for (let i = 0; i < n; i++) dv.setFloat32(4 * i, (i % 7) / 8, true);
  const t: WTensor = { name, ne, type: 0, data };
  if (offset !== undefined) t.offset = offset;
  return t;
}

/** stories260K unpacked, for edit-and-rewrite tests of the LM layer. */
function stories(): ReturnType<typeof unpack> {
  return unpack(readGguf(fileBytes('stories260K-f32.gguf'), 'stories260K-f32.gguf'));
}

// ---------------------------------------------------------------------------------------------------

describe('the shared GGUF files', () => {
  it('are the files the README describes (sha256)', () => {
    for (const [f, sha] of Object.entries(SHA256)) {
      expect(createHash('sha256').update(fileBytes(f)).digest('hex'), f).toBe(sha);
    }
  });

  it('all start with the GGUF magic', () => {
    for (const f of Object.keys(SHA256)) expect(looksLikeGguf(fileBytes(f).subarray(0, 4))).toBe(true);
    expect(looksLikeGguf(new TextEncoder().encode('GGML'))).toBe(false);
    expect(looksLikeGguf(new Uint8Array(2))).toBe(false);
  });

  it('trilm-synth-*: llama, dim 256, 4 layers, 8/4 heads, FFN 768, vocab 512, untied, ternary types as quantized', () => {
    for (const [q, type, fileType] of [
      ['f32', 'F32', undefined],
      ['tq2_0', 'TQ2_0', 37],
      ['tq1_0', 'TQ1_0', 36],
    ] as const) {
      const f = `trilm-synth-${q}.gguf`;
      const g = readGguf(fileBytes(f), f);
      expect(g.version).toBe(3);
      expect(g.alignment).toBe(32);
      expect(g.metadata.optU32('general.file_type')).toBe(fileType ?? 0);
      expect(g.tensors.size).toBe(4 * 9 + 3);
      const m = readGgufLm(path(f));
      expect(m.format).toBe('gguf');
      expect(m.config).toEqual({
        arch: 'llama',
        dim: 256,
        hiddenDim: 768,
        nLayers: 4,
        nHeads: 8,
        nKvHeads: 4,
        headDim: 32,
        vocabSize: 512,
        contextLength: 256,
        normEps: Math.fround(1e-5),
        ropeTheta: 10000,
        ropeDim: 32,
        ropeStyle: 'adjacent',
        ffnAct: 'silu',
        subNorms: false,
        tiedOutput: false,
        activations: 'float',
      });
      // Per layer: q 256x256, k/v 256x128, o 256x256, gate/up 256x768, down 768x256 (GGUF ne order).
      const shapes: Record<string, number[]> = {
        'blk.3.attn_q': [256, 256],
        'blk.3.attn_k': [128, 256],
        'blk.3.attn_v': [128, 256],
        'blk.3.attn_output': [256, 256],
        'blk.3.ffn_gate': [768, 256],
        'blk.3.ffn_up': [768, 256],
        'blk.3.ffn_down': [256, 768],
        token_embd: [512, 256],
        output: [512, 256],
        'blk.3.attn_norm': [256],
        output_norm: [256],
      };
      for (const [name, shape] of Object.entries(shapes)) expect(tensor(m, name).shape, `${f} ${name}`).toEqual(shape);
      for (const l of ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down']) {
        const t = tensor(m, `blk.0.${l}`);
        if (q === 'f32') expect(t.kind).toBe('float32');
        else {
          expect(t.kind).toBe('ternary');
          if (t.kind !== 'ternary') continue;
          expect(t.granularity).toBe('per_group');
          expect(t.groupSize).toBe(256);
          expect(t.scales.length).toBe((t.shape[0] * t.shape[1]) / 256);
          expect(t.source).toContain(type);
        }
      }
      expect(tensor(m, 'token_embd').kind).toBe(q === 'f32' ? 'float32' : 'float16');
      expect(tensor(m, 'output').kind).toBe(q === 'f32' ? 'float32' : 'float16');
      expect(tensor(m, 'blk.0.ffn_norm').kind).toBe('float32');
      const tok = m.tokenizer!;
      expect(tok.model).toBe('llama');
      expect(tok.tokens.length).toBe(512);
      expect(tok.tokens[0]).toBe('<t0>');
      expect(tok.tokens[511]).toBe('<t511>');
      expect([...tok.scores].every((s) => s === 0)).toBe(true);
      expect([...tok.types!.subarray(0, 4)]).toEqual([2, 3, 3, 1]); // unknown, control, control, normal
      expect([tok.unk, tok.bos, tok.eos, tok.addBos]).toEqual([0, 1, 2, false]);
    }
  });

  it('bitnet-synth-*: bitnet, NEOX RoPE, sub-norms, always tied, TQ2_0 / TQ1_0 / I2_S', () => {
    for (const [q, fileType] of [
      ['f32', 0],
      ['tq2_0', 37],
      ['tq1_0', 36],
      ['i2_s', 40],
    ] as const) {
      const f = `bitnet-synth-${q}.gguf`;
      const g = readGguf(fileBytes(f), f);
      expect(g.metadata.getU32('general.file_type')).toBe(fileType);
      expect(g.tensors.has('output.weight')).toBe(false);
      const m = readGgufLm(path(f));
      expect(m.config).toMatchObject({
        arch: 'bitnet',
        dim: 256,
        hiddenDim: 768,
        nLayers: 4,
        nHeads: 8,
        nKvHeads: 4,
        headDim: 32,
        vocabSize: 512,
        contextLength: 256,
        ropeDim: 32,
        ropeStyle: 'half',
        subNorms: true,
        tiedOutput: true,
        activations: 'float',
      });
      expect(tensor(m, 'blk.2.attn_sub_norm').shape).toEqual([256]);
      expect(tensor(m, 'blk.2.ffn_sub_norm').shape).toEqual([768]);
      expect(m.tensors.has('output')).toBe(false);
      expect(tensor(m, 'token_embd').kind).toBe(q === 'f32' ? 'float32' : 'float16');
      const t = tensor(m, 'blk.1.ffn_down');
      if (q === 'i2_s') {
        expect(t).toMatchObject({ kind: 'ternary', granularity: 'per_tensor', shape: [256, 768] });
        if (t.kind === 'ternary') expect(t.scales.length).toBe(1);
      } else if (q !== 'f32') {
        expect(t).toMatchObject({ kind: 'ternary', granularity: 'per_group', groupSize: 256 });
      }
    }
  });

  it('stories260K-f32: llama2.c converted, dim 64, 5 layers, 8/4 heads (head dim 8), FFN 172, rope base defaulted', () => {
    const m = readGgufLm(path('stories260K-f32.gguf'));
    expect(m.config).toMatchObject({
      arch: 'llama',
      dim: 64,
      hiddenDim: 172,
      nLayers: 5,
      nHeads: 8,
      nKvHeads: 4,
      headDim: 8,
      vocabSize: 512,
      contextLength: 128,
      ropeDim: 8,
      ropeTheta: 10000,
      normEps: Math.fround(1e-5),
      tiedOutput: false,
    });
    expect(m.notes.join('\n')).toMatch(/rope\.freq_base is absent/);
    expect(m.tokenizer!.tokens.slice(0, 3)).toEqual(['<unk>', '<s>', '</s>']);
    expect(m.tokenizer!.addBos).toBe(true); // no add_bos_token key: llama.cpp's default for SPM
    const g = readGguf(fileBytes('stories260K-f32.gguf'), 'stories');
    expect(g.metadata.has('general.file_type')).toBe(false);
    expect(g.metadata.getU32('tokenizer.ggml.padding_token_id')).toBe(0xffffffff);
    // llama2.c's shared classifier is written twice.
    const e = tensor(m, 'token_embd');
    const o = tensor(m, 'output');
    expect(e.kind === 'float32' && o.kind === 'float32' && e.data.every((v, i) => v === o.data[i])).toBe(true);
  });

  it('F32 tensors are views into the file bytes, not copies', () => {
    const bytes = fileBytes('stories260K-f32.gguf');
    const m = ggufToLm(bytes, 'stories');
    const t = tensor(m, 'blk.0.attn_q');
    expect(t.kind).toBe('float32');
    if (t.kind === 'float32') expect(t.data.buffer).toBe(bytes.buffer);
  });
});

describe('ternary decoding is exact', () => {
  const ref = {
    trilm: readGgufLm(path('trilm-synth-f32.gguf')),
    bitnet: readGgufLm(path('bitnet-synth-f32.gguf')),
  };

  for (const f of ['trilm-synth-tq2_0', 'trilm-synth-tq1_0', 'bitnet-synth-tq2_0', 'bitnet-synth-tq1_0', 'bitnet-synth-i2_s']) {
    it(`${f}: codes x scales equal the F32 file's weights for every ternary tensor`, () => {
      const m = readGgufLm(path(`${f}.gguf`));
      const r = ref[f.startsWith('trilm') ? 'trilm' : 'bitnet'];
      let checked = 0;
      for (const [name, t] of m.tensors) {
        if (t.kind !== 'ternary') continue;
        const w = r.tensors.get(name)!;
        expect(w.kind).toBe('float32');
        if (w.kind !== 'float32') continue;
        expect(t.shape).toEqual(w.shape);
        let mismatches = 0;
        for (let i = 0; i < t.codes.length; i++) {
          const s = t.granularity === 'per_tensor' ? t.scales[0]! : t.scales[Math.floor(i / t.groupSize!)]!;
          if (Math.fround(t.codes[i]! * s) !== w.data[i]) mismatches++;
        }
        expect(mismatches, name).toBe(0);
        checked++;
      }
      expect(checked).toBe(28);
    });
  }

  it('F16 token_embd (and output) equal the F32 ones rounded to half', () => {
    for (const [q, f32] of [
      ['trilm-synth-tq2_0', 'trilm-synth-f32'],
      ['bitnet-synth-i2_s', 'bitnet-synth-f32'],
    ]) {
      const m = readGgufLm(path(`${q}.gguf`));
      const r = readGgufLm(path(`${f32}.gguf`));
      for (const name of ['token_embd', 'output']) {
        const h = m.tensors.get(name);
        if (!h) continue;
        const w = tensor(r, name);
        expect(h.kind === 'float16' && w.kind === 'float32').toBe(true);
        if (h.kind !== 'float16' || w.kind !== 'float32') continue;
        let bad = 0;
        for (let i = 0; i < w.data.length; i++) if (f32ToHalfBits(w.data[i]!) !== h.bits[i]) bad++;
        expect(bad, `${q} ${name}`).toBe(0);
      }
    }
  });

  it('half -> float is exact for every half, subnormals and signed zeros included', () => {
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x03ff)).toBe(1023 * 2 ** -24);
    expect(halfToFloat(0x0400)).toBe(2 ** -14);
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(Object.is(halfToFloat(0x8000), -0)).toBe(true);
    expect(halfToFloat(0xfc00)).toBe(-Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00) continue;
      const v = halfToFloat(h);
      if (Math.fround(v) !== v || f32ToHalfBits(v) !== h) throw new Error(`half 0x${h.toString(16)} -> ${v} -> 0x${f32ToHalfBits(v).toString(16)}`);
    }
  });

  it("TQ1_0: every byte decodes to trits; the quantizer's bytes give back their base-3 digits in ggml's element order", () => {
    // One block whose qs[m] encode v = m*5 mod 243 and qh[j] encode 4 trits; d = 1.0.
    const block = new Uint8Array(54);
    const digits = (v: number, k: number): number[] => Array.from({ length: k }, (_, i) => Math.floor(v / 3 ** (k - 1 - i)) % 3);
    const vs: number[] = [];
    for (let m = 0; m < 48; m++) {
      const v = (m * 5 + (m === 47 ? 242 : 0)) % 243;
      vs.push(v);
      block[m] = Math.ceil((v * 256) / 243); // quantize_row_tq1_0_ref's fixed-point store
    }
    const qh = [0, 40, 80, 26]; // 4-trit values (0..80)
    qh.forEach((v, j) => (block[48 + j] = Math.ceil((v * 3 * 256) / 243)));
    block[52] = 0x00;
    block[53] = 0x3c;
    const { codes, scales } = decodeTQ1_0(block, 256);
    expect([...scales]).toEqual([1]);
    for (let m = 0; m < 32; m++) digits(vs[m]!, 5).forEach((t, k) => expect(codes[k * 32 + m]).toBe(t - 1));
    for (let m = 0; m < 16; m++) digits(vs[32 + m]!, 5).forEach((t, k) => expect(codes[160 + k * 16 + m]).toBe(t - 1));
    for (let j = 0; j < 4; j++) digits(qh[j]!, 4).forEach((t, k) => expect(codes[240 + k * 4 + j]).toBe(t - 1));
    // Bytes the quantizer never writes (e.g. 255) still decode to trits, as in ggml: no error.
    const all = new Uint8Array(54).fill(255);
    expect(decodeTQ1_0(all, 256).codes.every((c) => c >= -1 && c <= 1)).toBe(true);
  });

  it('TQ2_0: bits 2l of qs[32h + m] hold element 128h + 32l + m', () => {
    const block = new Uint8Array(66);
    block[0] = 0b10_01_00_10; // elements 0, 32, 64, 96 -> codes 2, 0, 1, 2
    block[33] = 0b00_00_01_00; // element 128 + 32 + 1 -> code 1
    block[65] = 0x3c; // d = 1
    const { codes } = decodeTQ2_0(block, 256, 'x');
    expect([codes[0], codes[32], codes[64], codes[96], codes[161], codes[128]]).toEqual([1, -1, 0, 1, 0, -1]);
  });
});

// ---------------------------------------------------------------------------------------------------

describe('malformed containers', () => {
  const small = (): Uint8Array =>
    writeGguf(
      [
        ['general.architecture', kvStr('llama')],
        ['general.name', kvStr('tiny')],
      ],
      [f32Tensor('a.weight', [8, 2]), f32Tensor('b.weight', [8])],
    );

  it('a small synthetic file reads', () => {
    const g = readGguf(small(), 'tiny.gguf');
    expect([...g.tensors.keys()]).toEqual(['a.weight', 'b.weight']);
    expect(g.tensors.get('b.weight')!.offset).toBe(64);
  });

  it('truncated at several points, including inside the tensor data', () => {
    const b = fileBytes('stories260K-f32.gguf');
    const dataOffset = readGguf(b, 's').dataOffset;
    expectTritc(() => readGguf(b.subarray(0, 2), 's.gguf'), 'weights', /^s\.gguf: header: truncated/);
    expectTritc(() => readGguf(b.subarray(0, 13), 's.gguf'), 'weights', /header: truncated: the tensor count needs 8 bytes/);
    expectTritc(() => readGguf(b.subarray(0, 3000), 's.gguf'), 'weights', /metadata key "tokenizer\.ggml\.tokens": /, /truncated|remain/);
    expectTritc(() => readGguf(b.subarray(0, dataOffset - 200), 's.gguf'), 'weights', /: tensor ("|info \d+)/, /truncated|remain/);
    expectTritc(() => readGguf(b.subarray(0, b.length - 10), 's.gguf'), 'weights', /tensor "[^"]+": data \[\d+, \d+\) .* runs past the end of the file/);
    expectTritc(() => ggufToLm(b.subarray(0, dataOffset + 1000), 's.gguf'), 'weights', /tensor "/, /runs past the end/);
  });

  it('wrong magic', () => {
    const b = small();
    b.set(new TextEncoder().encode('GGML'));
    expectTritc(() => readGguf(b, 'x.gguf'), 'weights', /x\.gguf: header: not a GGUF file: the magic is "GGML", expected "GGUF"/);
  });

  it('version 1 and version 4', () => {
    expectTritc(() => readGguf(writeGguf([], [], { version: 1 }), 'v1.gguf'), 'weights', /header: GGUF version 1 .* no longer supported/);
    expectTritc(() => readGguf(writeGguf([], [], { version: 4 }), 'v4.gguf'), 'weights', /header: GGUF version 4 is newer .* \(2 and 3\)/);
    expect(readGguf(writeGguf([['k', kvU32(1)]], [], { version: 2 }), 'v2.gguf').version).toBe(2);
  });

  it('a big-endian file', () => {
    const b = small();
    new DataView(b.buffer).setUint32(4, 3, false);
    expectTritc(() => readGguf(b, 'be.gguf'), 'weights', /header: .*big-endian GGUF \(version 3\); only little-endian/);
  });

  it('huge tensor and key/value counts fail before allocating', () => {
    const head = (nt: bigint, nkv: bigint): Uint8Array => new ByteWriter().bytes(new TextEncoder().encode('GGUF')).u32(3).u64(nt).u64(nkv).u64(0).result();
    expectTritc(() => readGguf(head(2n ** 40n, 0n), 'h.gguf'), 'weights', /header: the tensor count is 1099511627776, but .* only \d+ remain/);
    expectTritc(() => readGguf(head(0n, 2n ** 63n), 'h.gguf'), 'weights', /header: the metadata key\/value count is 9223372036854775808/);
  });

  it('a huge string length and a huge array length', () => {
    const w = new ByteWriter().bytes(new TextEncoder().encode('GGUF')).u32(3).u64(0).u64(1);
    w.str('general.name')
      .u32(8)
      .u64(2n ** 60n)
      .bytes(new Uint8Array(16));
    expectTritc(
      () => readGguf(w.result(), 's.gguf'),
      'weights',
      /metadata key "general\.name": the string value at offset \d+ claims 1152921504606846976 bytes/,
    );
    const a = new ByteWriter().bytes(new TextEncoder().encode('GGUF')).u32(3).u64(0).u64(1);
    a.str('tokenizer.ggml.tokens')
      .u32(9)
      .u32(8)
      .u64(2n ** 50n)
      .bytes(new Uint8Array(64));
    expectTritc(() => readGguf(a.result(), 'a.gguf'), 'weights', /metadata key "tokenizer\.ggml\.tokens": the array length is 1125899906842624/);
    const k = new ByteWriter()
      .bytes(new TextEncoder().encode('GGUF'))
      .u32(3)
      .u64(0)
      .u64(1)
      .u64(2n ** 62n)
      .bytes(new Uint8Array(16));
    expectTritc(() => readGguf(k.result(), 'k.gguf'), 'weights', /metadata entry 0: the key at offset 24 claims/);
  });

  it('an unknown value type, a bool that is not 0/1, invalid UTF-8, an empty or duplicate key', () => {
    const one = (build: (w: ByteWriter) => void, n = 1): Uint8Array => {
      const w = new ByteWriter().bytes(new TextEncoder().encode('GGUF')).u32(3).u64(0).u64(n);
      build(w);
      return w.result();
    };
    expectTritc(
      () =>
        readGguf(
          one((w) => w.str('x.y').u32(13).u32(0)),
          'u.gguf',
        ),
      'weights',
      /metadata key "x\.y": the value type at offset \d+ is 13, not a GGUF value type/,
    );
    expectTritc(
      () =>
        readGguf(
          one((w) => w.str('x.flag').u32(7).u8(2)),
          'b.gguf',
        ),
      'weights',
      /metadata key "x\.flag": the bool value .* is byte 2, expected 0 or 1/,
    );
    expectTritc(
      () =>
        readGguf(
          one((w) =>
            w
              .str('x.s')
              .u32(8)
              .str(new Uint8Array([0x61, 0xff, 0x62])),
          ),
          'utf.gguf',
        ),
      'weights',
      /metadata key "x\.s": the string value at offset \d+ is not valid UTF-8/,
    );
    expectTritc(
      () =>
        readGguf(
          one((w) =>
            w
              .str(new Uint8Array([0xc3]))
              .u32(4)
              .u32(0),
          ),
          'k.gguf',
        ),
      'weights',
      /metadata entry 0: the key at offset 24 is not valid UTF-8/,
    );
    expectTritc(
      () =>
        readGguf(
          one((w) => w.str('').u32(4).u32(0)),
          'e.gguf',
        ),
      'weights',
      /metadata entry 0: the key is empty/,
    );
    const dup = one((w) => {
      writeKv(w, 'general.name', kvStr('a'));
      writeKv(w, 'general.name', kvStr('b'));
    }, 2);
    expectTritc(() => readGguf(dup, 'd.gguf'), 'weights', /metadata key "general\.name": duplicate key/);
  });

  it('nested arrays read; nesting without end does not', () => {
    const inner = (xs: number[]): { itemType: 'u32'; items: Uint32Array } => ({ itemType: 'u32', items: Uint32Array.from(xs) });
    const b = writeGguf([['x.nested', { type: 'array', value: { itemType: 'array', items: [inner([1, 2]), inner([3])] } }]], []);
    const v = readGguf(b, 'n.gguf').metadata.getArray('x.nested');
    expect(v.itemType).toBe('array');
    if (v.itemType === 'array') expect(v.items.map((a) => [...(a.items as Uint32Array)])).toEqual([[1, 2], [3]]);
    const w = new ByteWriter().bytes(new TextEncoder().encode('GGUF')).u32(3).u64(0).u64(1).str('x.deep').u32(9);
    for (let i = 0; i < 50; i++) w.u32(9).u64(1);
    expectTritc(() => readGguf(w.result(), 'deep.gguf'), 'weights', /metadata key "x\.deep": arrays are nested more than 8 deep/);
  });

  it('general.alignment: a non-power of two, or not a u32', () => {
    expectTritc(
      () => readGguf(writeGguf([['general.alignment', kvU32(48)]], [f32Tensor('a', [8])], { alignment: 48 }), 'al.gguf'),
      'weights',
      /metadata key "general\.alignment": is 48, expected a power of two/,
    );
    expectTritc(
      () => readGguf(writeGguf([['general.alignment', { type: 'u64', value: 64n }]], []), 'al.gguf'),
      'weights',
      /metadata key "general\.alignment": is u64 64, expected a u32/,
    );
    const ok = readGguf(writeGguf([['general.alignment', kvU32(64)]], [f32Tensor('a', [8]), f32Tensor('b', [8])], { alignment: 64 }), 'al.gguf');
    expect(ok.tensors.get('b')!.offset).toBe(64);
  });

  it('an unknown ggml type (and a fork id whose layout is ambiguous) is unsupported, naming the tensor and id', () => {
    const t = f32Tensor('blk.0.attn_q.weight', [8]);
    expectTritc(
      () => readGguf(writeGguf([], [{ ...t, type: 99 }]), 't.gguf'),
      'unsupported',
      /tensor "blk\.0\.attn_q\.weight": has ggml type 99 \(not a ggml type tritc knows/,
    );
    expectTritc(() => readGguf(writeGguf([], [{ ...t, type: 39 }]), 't.gguf'), 'unsupported', /ggml type 39 \(TL2 in the BitNet fork, MXFP4 in upstream ggml/);
  });

  it('a misaligned offset, data past the end, overlapping tensors, a duplicate tensor', () => {
    expectTritc(
      () => readGguf(writeGguf([], [f32Tensor('a', [8]), f32Tensor('b', [8], 40)]), 'm.gguf'),
      'weights',
      /tensor "b": the data offset 40 is not a multiple of the alignment 32/,
    );
    expectTritc(
      () => readGguf(writeGguf([], [f32Tensor('a', [8]), f32Tensor('b', [8], 1 << 20)]).subarray(0, 400), 'p.gguf'),
      'weights',
      /tensor "b": data \[\d+, \d+\) \(32 bytes of F32 for ne \[8\]\) runs past the end/,
    );
    expectTritc(
      () => readGguf(writeGguf([], [f32Tensor('a', [16]), f32Tensor('b', [8], 32)]), 'o.gguf'),
      'weights',
      /tensor "b": data \[\d+, \d+\) overlaps tensor "a"/,
    );
    expectTritc(
      () => readGguf(writeGguf([], [f32Tensor('big', [64]), f32Tensor('c', [8], 192), f32Tensor('d', [8], 96)]), 'o2.gguf'),
      'weights',
      /tensor "d": .* overlaps tensor "big"/,
    );
    expectTritc(() => readGguf(writeGguf([], [f32Tensor('a', [8]), f32Tensor('a', [8])]), 'dup.gguf'), 'weights', /tensor "a": duplicate tensor name/);
  });

  it('bad tensor infos: too many dimensions, a huge element count, a row that is not whole blocks, a long name', () => {
    expectTritc(() => readGguf(writeGguf([], [f32Tensor('t5', [1, 1, 1, 1, 8])]), 'd.gguf'), 'weights', /tensor "t5": has 5 dimensions; ggml allows at most 4/);
    const huge: WTensor = { name: 'huge', ne: [2 ** 30, 2 ** 30, 2 ** 30], type: 0, data: new Uint8Array(0) };
    expectTritc(
      () => readGguf(writeGguf([], [huge]), 'h.gguf'),
      'weights',
      /tensor "huge": ne\[1\] = 1073741824 makes the element count 1152921504606846976 too large \(at most 2\^53 - 1\)/,
    );
    const tq: WTensor = { name: 'q.weight', ne: [128, 2], type: 35, data: new Uint8Array(66) };
    expectTritc(
      () => readGguf(writeGguf([], [tq]), 'b.gguf'),
      'weights',
      /tensor "q\.weight": ne\[0\] = 128 \(the row length\) is not a multiple of TQ2_0's block size 256/,
    );
    expectTritc(
      () => readGguf(writeGguf([], [f32Tensor('x'.repeat(64), [8])]), 'n.gguf'),
      'weights',
      /tensor "x{64}": the name is 64 bytes long; ggml allows at most 63/,
    );
  });

  it('typed metadata accessors name the key when it is missing or of the wrong type', () => {
    const md = readGguf(small(), 'tiny.gguf').metadata;
    expect(md.getString('general.name')).toBe('tiny');
    expectTritc(() => md.getU32('general.name'), 'weights', /^tiny\.gguf: metadata key "general\.name": is the string "tiny", expected a u32$/);
    expectTritc(() => md.getF32('llama.rope.freq_base'), 'weights', /^tiny\.gguf: metadata key "llama\.rope\.freq_base": is missing$/);
    expectTritc(() => md.getStringArray('general.name'), 'weights', /metadata key "general\.name": is the string "tiny", expected an array/);
    expect(md.optBool('x')).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------------

describe('malformed or unsupported language models', () => {
  const lm = (edit: (f: ReturnType<typeof unpack>) => void): LmModel => {
    const f = stories();
    edit(f);
    return ggufToLm(writeGguf(f.kv, f.tensors), 'edited.gguf');
  };
  const setKv = (f: ReturnType<typeof unpack>, key: string, v: GgufValue | undefined): void => {
    const i = f.kv.findIndex(([k]) => k === key);
    if (v === undefined) f.kv.splice(i, 1);
    else if (i < 0) f.kv.push([key, v]);
    else f.kv[i] = [key, v];
  };
  const replaceTensor = (f: ReturnType<typeof unpack>, t: WTensor): void => {
    f.tensors[f.tensors.findIndex((x) => x.name === t.name)] = t;
  };

  it('an unedited rewrite reads the same as the file', () => {
    const m = lm(() => {});
    expect(m.config).toEqual(readGgufLm(path('stories260K-f32.gguf')).config);
  });

  it('a tensor whose shape does not fit the config', () => {
    expectTritc(
      () => lm((f) => (f.tensors.find((t) => t.name === 'blk.0.attn_k.weight')!.ne = [32, 64])),
      'shape',
      /edited\.gguf: tensor "blk\.0\.attn_k\.weight": has shape \[64, 32\], expected \[32, 64\]/,
    );
  });

  it('a missing hyper-parameter key', () => {
    expectTritc(
      () => lm((f) => setKv(f, 'llama.embedding_length', undefined)),
      'weights',
      /^edited\.gguf: metadata key "llama\.embedding_length": is missing$/,
    );
    expectTritc(
      () => lm((f) => setKv(f, 'llama.attention.layer_norm_rms_epsilon', undefined)),
      'weights',
      /metadata key "llama\.attention\.layer_norm_rms_epsilon": is missing/,
    );
    expectTritc(
      () => lm((f) => setKv(f, 'llama.attention.head_count', kvU32(0))),
      'weights',
      /metadata key "llama\.attention\.head_count": is 0, expected at least 1/,
    );
    expectTritc(
      () => lm((f) => setKv(f, 'llama.block_count', kvStr('5'))),
      'weights',
      /metadata key "llama\.block_count": is the string "5", expected an unsigned integer/,
    );
  });

  it('hyper-parameters that contradict each other name the key', () => {
    expectTritc(
      () => lm((f) => setKv(f, 'llama.attention.head_count_kv', kvU32(3))),
      'weights',
      /metadata key "llama\.attention\.head_count_kv": is 3, which does not divide llama\.attention\.head_count = 8/,
    );
    expectTritc(
      () => lm((f) => setKv(f, 'llama.rope.dimension_count', kvU32(10))),
      'weights',
      /metadata key "llama\.rope\.dimension_count": is 10; it must be even and at most the head dimension 8/,
    );
    expectTritc(
      () => lm((f) => setKv(f, 'llama.embedding_length', { type: 'u64', value: 2n ** 40n })),
      'limit',
      /metadata key "llama\.embedding_length": is 1099511627776, more than tritc supports/,
    );
    expectTritc(
      () => lm((f) => setKv(f, 'llama.embedding_length', kvU32(60))),
      'weights',
      /metadata key "llama\.attention\.head_count": is 8, which does not divide llama\.embedding_length = 60/,
    );
    // Per-layer arrays (newer llama.cpp) are read when every layer agrees.
    const perLayer = (xs: number[]): GgufValue => ({ type: 'array', value: { itemType: 'u32', items: Uint32Array.from(xs) } });
    expect(lm((f) => setKv(f, 'llama.attention.head_count_kv', perLayer([4, 4, 4, 4, 4]))).config.nKvHeads).toBe(4);
    expectTritc(
      () => lm((f) => setKv(f, 'llama.attention.head_count_kv', perLayer([4, 4, 2, 4, 4]))),
      'unsupported',
      /metadata key "llama\.attention\.head_count_kv": differs between layers/,
    );
  });

  it('tokenizer arrays that disagree with the token list, and out-of-range special ids', () => {
    expectTritc(
      () => lm((f) => setKv(f, 'tokenizer.ggml.scores', { type: 'array', value: { itemType: 'f32', items: new Float32Array(3) } })),
      'weights',
      /metadata key "tokenizer\.ggml\.scores": has 3 entries, but tokenizer\.ggml\.tokens has 512/,
    );
    const m = lm((f) => setKv(f, 'tokenizer.ggml.bos_token_id', kvU32(9999)));
    expect(m.tokenizer!.bos).toBeUndefined();
    expect(m.notes.join('\n')).toMatch(/tokenizer\.ggml\.bos_token_id = 9999 is outside the vocabulary/);
    const g = lm((f) => setKv(f, 'tokenizer.ggml.model', kvStr('gpt2')));
    expect(g.tokenizer).toBeUndefined();
    expect(g.config.vocabSize).toBe(512);
    expect(g.notes.join('\n')).toMatch(/tokenizer\.ggml\.model is "gpt2"/);
  });

  it('an unknown architecture', () => {
    expectTritc(
      () => lm((f) => setKv(f, 'general.architecture', kvStr('gpt2'))),
      'unsupported',
      /metadata key "general\.architecture": is "gpt2"; tritc reads the architectures "llama" and "bitnet"/,
    );
    expectTritc(() => lm((f) => setKv(f, 'general.architecture', undefined)), 'weights', /metadata key "general\.architecture": is missing/);
  });

  it('a missing or extra tensor', () => {
    expectTritc(
      () => lm((f) => (f.tensors = f.tensors.filter((t) => t.name !== 'blk.4.ffn_up.weight'))),
      'weights',
      /tensor "blk\.4\.ffn_up\.weight": is missing/,
    );
    expectTritc(
      () => lm((f) => f.tensors.push(f32Tensor('rope_freqs.weight', [4]))),
      'weights',
      /tensor "rope_freqs\.weight": is not a tensor of a llama model/,
    );
    expectTritc(
      () => lm((f) => f.tensors.push(f32Tensor('output_norm', [64]))),
      'duplicate',
      /tensor "output_norm": and tensor "output_norm\.weight" both name the tensor "output_norm"/,
    );
  });

  it('a tensor type the LM reader does not decode is unsupported, naming the tensor and type', () => {
    const q4: WTensor = { name: 'output.weight', ne: [64, 512], type: 2, data: new Uint8Array(512 * 2 * 18) };
    expectTritc(() => lm((f) => replaceTensor(f, q4)), 'unsupported', /tensor "output\.weight": has ggml type 2 \(Q4_0\); tritc decodes F32, F16, BF16, Q8_0/);
  });

  it('Q8_0 reads as int8 codes with fp16 scales per 32; BF16 keeps its bits', () => {
    const data = new Uint8Array(512 * 2 * 34);
    for (let b = 0; b < 1024; b++) {
      data[34 * b] = 0x00;
      data[34 * b + 1] = 0x38; // d = 0.5
      for (let j = 0; j < 32; j++) data[34 * b + 2 + j] = (b + j * 7) & 0xff;
    }
    const bf = new Uint8Array(512 * 64 * 2);
    for (let i = 0; i < bf.length; i += 2) bf[i + 1] = 0x3f; // 0x3f00 = 0.5
    const m = lm((f) => {
      replaceTensor(f, { name: 'output.weight', ne: [64, 512], type: 8, data });
      replaceTensor(f, { name: 'token_embd.weight', ne: [64, 512], type: 30, data: bf });
    });
    const o = tensor(m, 'output');
    expect(o.kind).toBe('int8');
    if (o.kind === 'int8') {
      expect(o.shape).toEqual([512, 64]);
      expect(o.groupSize).toBe(32);
      expect(o.scales.length).toBe(1024);
      expect(o.scales.every((s) => s === 0.5)).toBe(true);
      expect(o.codes[33]).toBe(((1 + 7) << 24) >> 24);
      expect(o.codes[31]).toBe(((31 * 7) << 24) >> 24);
    }
    const e = tensor(m, 'token_embd');
    expect(e.kind === 'bfloat16' && e.bits.every((b) => b === 0x3f00)).toBe(true);
  });

  it('an invalid 2-bit code in TQ2_0 or I2_S names the tensor and block', () => {
    for (const [f, type, re] of [
      ['trilm-synth-tq2_0.gguf', 'TQ2_0', /tensor "blk\.0\.attn_q\.weight": TQ2_0 block 0 \(elements 0\.\.255\): element \d+ has the 2-bit code 3/],
      ['bitnet-synth-i2_s.gguf', 'I2_S', /tensor "blk\.0\.attn_q\.weight": I2_S group 0 \(elements 0\.\.127\): element 0 has the 2-bit code 3/],
    ] as const) {
      const b = fileBytes(f);
      const t = readGguf(b, f).tensors.get('blk.0.attn_q.weight')!;
      expect(t.typeName).toBe(type);
      b[t.fileOffset] = 0xff;
      expectTritc(() => ggufToLm(b, f), 'codes', re);
    }
    // TQ1_0 has no invalid byte: 0xff decodes to +1 trits, as in ggml.
    const b = fileBytes('trilm-synth-tq1_0.gguf');
    const t = readGguf(b, 't').tensors.get('blk.0.attn_q.weight')!;
    b[t.fileOffset] = 0xff;
    const q = tensor(ggufToLm(b, 't'), 'blk.0.attn_q');
    expect(q.kind === 'ternary' && [0, 32, 64, 96, 128].map((i) => q.codes[i])).toEqual([1, 1, 1, 1, 1]);
  });

  it('a missing file is an io error', () => {
    expectTritc(() => readGgufLm(path('no-such.gguf')), 'io', /no-such\.gguf: cannot read/);
  });
});

// ---------------------------------------------------------------------------------------------------

describe('random corruption', () => {
  // stories260K exercises F32 and the tokenizer; the I2_S and TQ1_0 files the block decoders.
  for (const [file, cases, seed] of [
    ['stories260K-f32.gguf', 400, 0x9e3779b9],
    ['bitnet-synth-i2_s.gguf', 100, 0x85ebca6b],
    ['trilm-synth-tq2_0.gguf', 100, 0xc2b2ae35],
  ] as const) {
    it(`byte flips and truncations of ${file} either read or throw a TritcError (seeded, ${cases} cases)`, () => {
      const original = fileBytes(file);
      const dataOffset = readGguf(original, 's').dataOffset;
      const next = rng(seed);
      const pick = (n: number): number => Math.floor(next() * n);
      let read = 0;
      let refused = 0;
      for (let c = 0; c < cases; c++) {
        let b = original.slice();
        const what: string[] = [];
        if (next() < 0.25) {
          const len = next() < 0.7 ? pick(dataOffset + 64) : pick(b.length);
          b = b.subarray(0, len);
          what.push(`truncate ${len}`);
        }
        const flips = 1 + pick(4);
        for (let i = 0; i < flips && b.length > 0; i++) {
          // Mostly the header, where the structure is; sometimes anywhere.
          const at = next() < 0.8 ? pick(Math.min(dataOffset, b.length)) : pick(b.length);
          const v = next() < 0.5 ? b[at]! ^ (1 << pick(8)) : pick(256);
          b[at] = v;
          what.push(`b[${at}] = ${v}`);
        }
        try {
          ggufToLm(b, 'fuzz.gguf');
          read++;
        } catch (e) {
          if (!(e instanceof TritcError)) throw new Error(`case ${c} (${what.join(', ')}): ${e instanceof Error ? e.stack : String(e)}`);
          for (const d of e.diagnostics) expect(formatDiagnostic(d), what.join(', ')).not.toContain('\n');
          refused++;
        }
      }
      // Both outcomes happen: the test is not vacuous.
      expect(read).toBeGreaterThan(0);
      expect(refused).toBeGreaterThan(cases / 4);
    });
  }
});
