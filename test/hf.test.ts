// The Hugging Face model-folder reader (compiler/readers/hf/): folders written from small random weights
// under the real tensor names, read back and compared exactly; then one folder per class of malformation,
// each expected to fail with one line naming the file and the key or tensor.

import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TritcError } from '../compiler/diagnostics.ts';
import { rng } from '../compiler/harness/inputs.ts';
import type { LmModel, LmTensor, LmTernary } from '../compiler/lm/model.ts';
import { fround } from '../compiler/numerics/f32.ts';
import { unpackHfTernary } from '../compiler/readers/hf/bitlinear.ts';
import { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits } from '../compiler/numerics/half.ts';
import { looksLikeHfFolder, readHfFolder } from '../compiler/readers/hf/folder.ts';
import {
  type HfTensorSpec,
  bf16Bytes,
  f16Bytes,
  f16Of,
  f32Bytes,
  llamaConfig,
  llamaProjections,
  packHfTernary,
  tmpFolder,
  writeHfFolder,
} from './support/hf_writer.ts';

// ---------------------------------------------------------------------------------------------------
// helpers

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
function folder(stem: string): string {
  const d = tmpFolder(stem);
  made.push(d);
  return d;
}

/** Run `f` and return the TritcError it throws. */
function tritcError(f: () => unknown): TritcError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(TritcError);
    return e as TritcError;
  }
  throw new Error('expected a TritcError, but nothing was thrown');
}

/** One line, this code, these fragments, no stack trace. */
function expectLine(f: () => unknown, code: string, ...fragments: string[]): string {
  const e = tritcError(f);
  expect(e.code).toBe(code);
  expect(e.message.split('\n')).toHaveLength(1);
  for (const s of fragments) expect(e.message).toContain(s);
  return e.message;
}

function ternary(t: LmTensor | undefined): LmTernary {
  expect(t?.kind).toBe('ternary');
  return t as LmTernary;
}

const u16 = (b: Uint8Array): Uint16Array => new Uint16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

/** Llama test sizes: dim 8, 2 heads of 4, 1 KV head, FFN 12, vocab 10, 2 layers. */
const L = { dim: 8, hidden: 12, q: 8, kv: 4, vocab: 10, layers: 2 };

type Enc = 'F32' | 'F16';
/** A value the encoding holds exactly: float32 in [-1, 1), or a multiple of 2^-10 in [-1, 1] for F16. */
function randomValue(enc: Enc, next: () => number): number {
  return enc === 'F32' ? fround(2 * next() - 1) : Math.round((2 * next() - 1) * 1024) / 1024;
}
function randomTensor(name: string, shape: number[], enc: Enc, next: () => number): HfTensorSpec & { values: number[] } {
  const values = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => randomValue(enc, next));
  return { name, dtype: enc, shape, bytes: enc === 'F32' ? f32Bytes(values) : f16Bytes(values), values };
}

/** Embedding, norms and (optionally) lm_head of a Llama, random. */
function llamaFrame(enc: Enc, next: () => number, head: boolean): (HfTensorSpec & { values: number[] })[] {
  const out = [randomTensor('model.embed_tokens.weight', [L.vocab, L.dim], enc, next)];
  for (let i = 0; i < L.layers; i++) {
    out.push(randomTensor(`model.layers.${i}.input_layernorm.weight`, [L.dim], enc, next));
    out.push(randomTensor(`model.layers.${i}.post_attention_layernorm.weight`, [L.dim], enc, next));
  }
  out.push(randomTensor('model.norm.weight', [L.dim], enc, next));
  if (head) out.push(randomTensor('lm_head.weight', [L.vocab, L.dim], enc, next));
  return out;
}

function floatLlama(next: () => number, opts: { head?: boolean } = {}): (HfTensorSpec & { values: number[] })[] {
  const out = llamaFrame('F32', next, opts.head ?? true);
  for (let i = 0; i < L.layers; i++) {
    for (const [suffix, n, k] of llamaProjections(L)) out.push(randomTensor(`model.layers.${i}.${suffix}`, [n, k], 'F32', next));
  }
  return out;
}

/** A TriLM projection: random codes, one F16-exact gamma per block of an MP-way split along `axis`. */
interface TriWeight {
  spec: HfTensorSpec;
  codes: Int8Array;
  gammas: number[];
  mp: number;
  axis: 'N' | 'K';
}
function trilmWeight(name: string, n: number, k: number, mp: number, axis: 'N' | 'K', next: () => number): TriWeight {
  const gammas = Array.from({ length: mp }, (_, b) => (20 + 7 * b + Math.floor(next() * 4)) / 1024); // distinct, 11 bits
  const codes = new Int8Array(n * k);
  const values: number[] = [];
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < k; c++) {
      const code = Math.floor(next() * 3) - 1;
      codes[r * k + c] = code;
      const b = axis === 'N' ? Math.floor(r / (n / mp)) : Math.floor(c / (k / mp));
      values.push(code === 0 ? 0 : code * gammas[b]!);
    }
  }
  return { spec: { name, dtype: 'F16', shape: [n, k], bytes: f16Bytes(values) }, codes, gammas, mp, axis };
}

const MEGATRON: Record<string, 'N' | 'K'> = {
  'self_attn.q_proj.weight': 'N',
  'self_attn.k_proj.weight': 'N',
  'self_attn.v_proj.weight': 'N',
  'self_attn.o_proj.weight': 'K',
  'mlp.gate_proj.weight': 'N',
  'mlp.up_proj.weight': 'N',
  'mlp.down_proj.weight': 'K',
};
const CANONICAL: Record<string, string> = {
  'self_attn.q_proj.weight': 'attn_q',
  'self_attn.k_proj.weight': 'attn_k',
  'self_attn.v_proj.weight': 'attn_v',
  'self_attn.o_proj.weight': 'attn_output',
  'mlp.gate_proj.weight': 'ffn_gate',
  'mlp.up_proj.weight': 'ffn_up',
  'mlp.down_proj.weight': 'ffn_down',
};

function trilm(next: () => number, mp: number, axisOf: (suffix: string) => 'N' | 'K'): { specs: HfTensorSpec[]; weights: Map<string, TriWeight> } {
  const specs: HfTensorSpec[] = llamaFrame('F16', next, true);
  const weights = new Map<string, TriWeight>();
  for (let i = 0; i < L.layers; i++) {
    for (const [suffix, n, k] of llamaProjections(L)) {
      const w = trilmWeight(`model.layers.${i}.${suffix}`, n, k, mp, axisOf(suffix), next);
      weights.set(`blk.${i}.${CANONICAL[suffix]}`, w);
      specs.push(w.spec);
    }
  }
  return { specs, weights };
}

/** The codes and scales recovered must be exactly those the test generated. */
function expectRecovered(model: LmModel, weights: Map<string, TriWeight>): void {
  for (const [name, w] of weights) {
    const t = ternary(model.tensors.get(name));
    const [n, k] = w.spec.shape as [number, number];
    expect(t.shape).toEqual([n, k]);
    expect(Array.from(t.codes)).toEqual(Array.from(w.codes));
    expect(t.source).toContain('HF F16 unpacked ternary');
    if (w.mp === 1) {
      expect(t.granularity).toBe('per_tensor');
      expect(Array.from(t.scales)).toEqual([w.gammas[0]]);
    } else if (w.axis === 'N') {
      expect(t.granularity).toBe('per_row');
      expect(Array.from(t.scales)).toEqual(Array.from({ length: n }, (_, r) => w.gammas[Math.floor(r / (n / w.mp))]));
      expect(t.source).toContain(`${w.mp} shards along N`);
    } else {
      expect(t.granularity).toBe('per_group');
      expect(t.groupSize).toBe(k / w.mp);
      expect(Array.from(t.scales)).toEqual(Array.from({ length: n * w.mp }, (_, i) => w.gammas[i % w.mp]));
      expect(t.source).toContain(`${w.mp} shards along K`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// float bits

describe('floatbits', () => {
  it('widens every half and bfloat16 exactly, and narrows them back to the same bits', () => {
    for (let b = 0; b < 0x10000; b++) {
      const h = f16BitsToF32(b);
      if (Number.isNaN(h)) expect((b & 0x7c00) === 0x7c00 && (b & 0x3ff) !== 0).toBe(true);
      else expect(f32ToF16Bits(h)).toBe(b);
      const g = bf16BitsToF32(b);
      if (!Number.isNaN(g)) expect(f32ToBf16Bits(g)).toBe(b);
    }
  });
  it('decodes known patterns and rounds ties to even', () => {
    expect(f16BitsToF32(0x3c00)).toBe(1);
    expect(f16BitsToF32(0xc000)).toBe(-2);
    expect(f16BitsToF32(0x0001)).toBe(2 ** -24);
    expect(f16BitsToF32(0x7bff)).toBe(65504);
    expect(bf16BitsToF32(0x3f80)).toBe(1);
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie, to even
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie, to even (up)
    expect(f32ToF16Bits(65520)).toBe(0x7c00); // rounds to infinity
    expect(f32ToF16Bits(2 ** -25)).toBe(0); // tie between 0 and the smallest subnormal
    expect(f32ToF16Bits(fround(1.5 * 2 ** -25))).toBe(1);
    expect(f32ToBf16Bits(1 + 2 ** -8)).toBe(0x3f80);
    expect(f32ToBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(f16Of(0.5)).toBe(0x3800); // the test writer's independent encoder agrees
  });
});

// ---------------------------------------------------------------------------------------------------
// Llama and TriLM

describe('LlamaForCausalLM', () => {
  it('reads a float Llama (F32) as float32 tensors under canonical names', () => {
    const specs = floatLlama(rng(1));
    const dir = writeHfFolder(folder('llama-f32'), { config: llamaConfig(), tensors: specs });
    expect(looksLikeHfFolder(dir)).toBe(true);
    const m = readHfFolder(dir);
    expect(m.format).toBe('hf');
    expect(m.sourceHash).toMatch(/^[0-9a-f]{16}$/);
    expect(m.config).toEqual({
      arch: 'llama',
      dim: 8,
      hiddenDim: 12,
      nLayers: 2,
      nHeads: 2,
      nKvHeads: 1,
      headDim: 4,
      vocabSize: 10,
      contextLength: 64,
      normEps: 1e-5,
      ropeTheta: 10000,
      ropeDim: 4,
      ropeStyle: 'half',
      ffnAct: 'silu',
      subNorms: false,
      tiedOutput: false,
      activations: 'float',
    });
    const byName = new Map(specs.map((s) => [s.name, s.values]));
    const check = (canonical: string, hf: string): void => {
      const t = m.tensors.get(canonical);
      expect(t?.kind).toBe('float32');
      expect(Array.from((t as { data: Float32Array }).data)).toEqual(byName.get(hf));
    };
    check('token_embd', 'model.embed_tokens.weight');
    check('blk.1.attn_norm', 'model.layers.1.input_layernorm.weight');
    check('blk.0.attn_k', 'model.layers.0.self_attn.k_proj.weight');
    check('blk.1.ffn_down', 'model.layers.1.mlp.down_proj.weight');
    check('output_norm', 'model.norm.weight');
    check('output', 'lm_head.weight');
    expect(m.tensors.size).toBe(1 + L.layers * 9 + 2);
    expect(m.notes.some((n) => n.includes('no projection is ternary') && n.includes('14 projections stay F32'))).toBe(true);
  });

  it('reads a TriLM unpacked F16 checkpoint with MP = 1: one exact scale per tensor', () => {
    const { specs, weights } = trilm(rng(2), 1, () => 'N');
    const dir = writeHfFolder(folder('trilm-mp1'), { config: llamaConfig({ pretraining_model_parallel: 1 }), tensors: specs });
    const m = readHfFolder(dir);
    expectRecovered(m, weights);
    // The embedding and head keep their half bits; norms become the exact float32 of theirs.
    const embd = m.tensors.get('token_embd');
    expect(embd?.kind).toBe('float16');
    expect(Array.from((embd as { bits: Uint16Array }).bits)).toEqual(Array.from(u16(specs[0]!.bytes)));
    const norm = m.tensors.get('blk.0.attn_norm') as { kind: string; data: Float32Array };
    expect(norm.kind).toBe('float32');
    expect(Array.from(norm.data)).toEqual(Array.from(u16(specs[1]!.bytes), f16BitsToF32));
    expect(m.notes).toContain('TriLM unpacked: all 14 projections are ternary (MP = 1)');
  });

  it('reads TriLM with MP = 2: rows sharded -> per_row, columns sharded -> per_group of K/2', () => {
    const { specs, weights } = trilm(rng(3), 2, (s) => MEGATRON[s]!);
    const dir = writeHfFolder(folder('trilm-mp2'), { config: llamaConfig({ pretraining_model_parallel: 2 }), tensors: specs });
    const m = readHfFolder(dir);
    expectRecovered(m, weights);
    expect(ternary(m.tensors.get('blk.0.ffn_down')).groupSize).toBe(6);
    expect(ternary(m.tensors.get('blk.0.attn_output')).groupSize).toBe(4);
  });

  it('finds MP and the shard axis from the data alone (axes opposite to Megatron, no pretraining_model_parallel)', () => {
    const { specs, weights } = trilm(rng(4), 2, (s) => (MEGATRON[s] === 'N' ? 'K' : 'N'));
    const dir = writeHfFolder(folder('trilm-auto'), { config: llamaConfig(), tensors: specs });
    const m = readHfFolder(dir);
    expectRecovered(m, weights);
    expect(m.notes).toContain('TriLM unpacked: all 14 projections are ternary (MP found in the data)');
  });

  it('keeps a ternary-looking tensor with more magnitudes than MP as float, with a note', () => {
    const next = rng(5);
    const { specs } = trilm(next, 2, (s) => MEGATRON[s]!);
    // blk.0.attn_q: three magnitudes where MP = 2 allows two.
    const q = specs.findIndex((s) => s.name === 'model.layers.0.self_attn.q_proj.weight');
    const values = Array.from({ length: L.q * L.dim }, (_, i) => [0, 0.03125, -0.0625, 0.09375][i % 4]!);
    specs[q] = { name: specs[q]!.name, dtype: 'F16', shape: [L.q, L.dim], bytes: f16Bytes(values) };
    const dir = writeHfFolder(folder('trilm-3mags'), { config: llamaConfig({ pretraining_model_parallel: 2 }), tensors: specs });
    const m = readHfFolder(dir);
    const t = m.tensors.get('blk.0.attn_q') as { kind: string; bits: Uint16Array };
    expect(t.kind).toBe('float16');
    expect(Array.from(t.bits)).toEqual(values.map(f16Of));
    expect(m.notes).toContain('TriLM unpacked: 13 of 14 projections are ternary (MP = 2); 1 stay float');
    expect(m.notes.some((n) => n.startsWith('blk.0.attn_q (model.layers.0.self_attn.q_proj.weight) stays F16: 3 distinct nonzero magnitudes'))).toBe(true);
  });

  it('reads a sharded checkpoint through model.safetensors.index.json', () => {
    const specs = floatLlama(rng(6));
    const single = readHfFolder(writeHfFolder(folder('single'), { config: llamaConfig(), tensors: specs }));
    const sharded = readHfFolder(writeHfFolder(folder('sharded'), { config: llamaConfig(), tensors: specs, shards: 3 }));
    expect([...sharded.tensors.keys()].sort()).toEqual([...single.tensors.keys()].sort());
    for (const [name, t] of single.tensors) expect(sharded.tensors.get(name)).toEqual(t);
    expect(sharded.config).toEqual(single.config);
  });

  it('ties the head when lm_head is absent, or when tie_word_embeddings says so', () => {
    const specs = floatLlama(rng(7), { head: false });
    const absent = readHfFolder(writeHfFolder(folder('tied-absent'), { config: llamaConfig(), tensors: specs }));
    expect(absent.config.tiedOutput).toBe(true);
    expect(absent.tensors.has('output')).toBe(false);
    expect(absent.notes).toContain('lm_head.weight is absent: the output head is tied to model.embed_tokens.weight');
    const tied = readHfFolder(writeHfFolder(folder('tied-flag'), { config: llamaConfig({ tie_word_embeddings: true }), tensors: specs }));
    expect(tied.config.tiedOutput).toBe(true);
    expect(tied.tensors.has('output')).toBe(false);
    expect(tied.notes.some((n) => n.includes('lm_head'))).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------
// BitNet

/** BitNet test sizes: dim 18 (3 heads of 6), 1 KV head, FFN 10, vocab 11: N % 4 = 2 for every projection. */
const B = { dim: 18, hidden: 10, q: 18, kv: 6, vocab: 11, layers: 2 };

function bitnetConfig(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ['BitNetForCausalLM'],
    model_type: 'bitnet',
    hidden_size: B.dim,
    intermediate_size: B.hidden,
    num_hidden_layers: B.layers,
    num_attention_heads: 3,
    num_key_value_heads: 1,
    max_position_embeddings: 32,
    rms_norm_eps: 1e-5,
    rope_theta: 500000,
    vocab_size: B.vocab,
    hidden_act: 'relu2',
    tie_word_embeddings: true,
    torch_dtype: 'bfloat16',
    quantization_config: { quant_method: 'bitnet', linear_class: 'autobitlinear', quantization_mode: 'offline' },
    ...over,
  };
}

const bf16Random = (next: () => number): number => bf16BitsToF32(f32ToBf16Bits(2 * next() - 1));

function bf16Tensor(name: string, shape: number[], next: () => number): HfTensorSpec & { values: number[] } {
  const values = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => bf16Random(next));
  return { name, dtype: 'BF16', shape, bytes: bf16Bytes(values), values };
}

interface PackedWeight {
  codes: Int8Array;
  scale: number;
}
/** A packed BitNet checkpoint; `edit` may replace any spec before writing. */
function bitnetPacked(next: () => number): { specs: HfTensorSpec[]; weights: Map<string, PackedWeight> } {
  const specs: HfTensorSpec[] = [bf16Tensor('model.embed_tokens.weight', [B.vocab, B.dim], next)];
  const weights = new Map<string, PackedWeight>();
  for (let i = 0; i < B.layers; i++) {
    const p = `model.layers.${i}.`;
    specs.push(bf16Tensor(`${p}input_layernorm.weight`, [B.dim], next));
    specs.push(bf16Tensor(`${p}post_attention_layernorm.weight`, [B.dim], next));
    specs.push(bf16Tensor(`${p}self_attn.attn_sub_norm.weight`, [B.q], next));
    specs.push(bf16Tensor(`${p}mlp.ffn_sub_norm.weight`, [B.hidden], next));
    for (const [suffix, n, k] of llamaProjections(B)) {
      const codes = Int8Array.from({ length: n * k }, () => Math.floor(next() * 3) - 1);
      const scale = bf16BitsToF32(f32ToBf16Bits(0.01 + next() / 16));
      specs.push({ name: `${p}${suffix}`, dtype: 'U8', shape: [Math.ceil(n / 4), k], bytes: packHfTernary(codes, n, k) });
      specs.push({ name: `${p}${suffix}_scale`, dtype: 'BF16', shape: [1], bytes: bf16Bytes([scale]) });
      weights.set(`blk.${i}.${CANONICAL[suffix]}`, { codes, scale });
    }
  }
  specs.push(bf16Tensor('model.norm.weight', [B.dim], next));
  return { specs, weights };
}

describe('BitNetForCausalLM', () => {
  it("unpacks transformers' documented example", () => {
    // unpack_weights' docstring: packed [[0b10100001, 0b00011000], [0b10010000, 0b00001010]] -> 8 x 2.
    const codes = unpackHfTernary(Uint8Array.of(0b10100001, 0b00011000, 0b10010000, 0b00001010), 8, 2, 'example');
    expect(Array.from(codes)).toEqual([0, -1, -1, 1, -1, 1, -1, 1, 1, 0, 0, -1, 1, -1, 1, -1]);
  });

  it('reads a packed checkpoint (AutoBitLinear offline: weight_scale multiplies), N not a multiple of 4', () => {
    const { specs, weights } = bitnetPacked(rng(10));
    const dir = writeHfFolder(folder('bitnet'), { config: bitnetConfig(), tensors: specs });
    const m = readHfFolder(dir);
    expect(m.config).toMatchObject({
      arch: 'bitnet',
      dim: 18,
      hiddenDim: 10,
      nHeads: 3,
      nKvHeads: 1,
      headDim: 6,
      ropeTheta: 500000,
      ropeStyle: 'half',
      ffnAct: 'relu2',
      subNorms: true,
      tiedOutput: true,
      activations: 'int8-per-token',
    });
    for (const [name, w] of weights) {
      const t = ternary(m.tensors.get(name));
      expect(Array.from(t.codes)).toEqual(Array.from(w.codes));
      expect(t.granularity).toBe('per_tensor');
      expect(Array.from(t.scales)).toEqual([w.scale]);
      expect(t.source).toContain('multiplies');
    }
    const embd = m.tensors.get('token_embd') as { kind: string; bits: Uint16Array };
    expect(embd.kind).toBe('bfloat16');
    expect(Array.from(embd.bits)).toEqual(Array.from(u16(specs[0]!.bytes)));
    const sub = m.tensors.get('blk.1.attn_sub_norm') as { kind: string; data: Float32Array };
    expect(sub.kind).toBe('float32');
    const subSpec = specs.find((s) => s.name === 'model.layers.1.self_attn.attn_sub_norm.weight')!;
    expect(Array.from(sub.data)).toEqual(Array.from(u16(subSpec.bytes), bf16BitsToF32));
    expect(m.tensors.has('output')).toBe(false);
  });

  it('reads linear_class "bitlinear" with scale = float32(1 / weight_scale)', () => {
    const { specs, weights } = bitnetPacked(rng(11));
    const config = bitnetConfig({ quantization_config: { quant_method: 'bitnet', linear_class: 'bitlinear' } });
    const m = readHfFolder(writeHfFolder(folder('bitlinear'), { config, tensors: specs }));
    for (const [name, w] of weights) {
      const t = ternary(m.tensors.get(name));
      expect(Array.from(t.scales)).toEqual([fround(1 / w.scale)]);
      expect(t.source).toContain('divides');
    }
  });

  it('quantizes a float (bf16) checkpoint at load with absmean when quantization_mode is "online"', () => {
    const next = rng(12);
    const { specs: packed } = bitnetPacked(next);
    const specs: HfTensorSpec[] = [];
    const floats = new Map<string, number[]>();
    for (const s of packed) {
      if (s.name.endsWith('_scale')) continue;
      if (s.dtype !== 'U8') {
        specs.push(s);
        continue;
      }
      const suffix = Object.keys(CANONICAL).find((x) => s.name.endsWith(x))!;
      const [, n, k] = llamaProjections(B).find(([x]) => x === suffix)!;
      const t = bf16Tensor(s.name, [n, k], next);
      floats.set(`blk.${s.name.split('.')[2]}.${CANONICAL[suffix]}`, t.values);
      specs.push(t);
    }
    specs.push(bf16Tensor('lm_head.weight', [B.vocab, B.dim], next));
    const config = bitnetConfig({
      tie_word_embeddings: false,
      quantization_config: { quant_method: 'bitnet', linear_class: 'autobitlinear', quantization_mode: 'online' },
    });
    const m = readHfFolder(writeHfFolder(folder('bitnet-online'), { config, tensors: specs }));
    expect(m.config.tiedOutput).toBe(false);
    expect(m.tensors.get('output')?.kind).toBe('bfloat16');
    for (const [name, w] of floats) {
      // WeightQuant in float32: s = 1 / max(mean|W|, 1e-5); code = clamp(round_half_even(W * s), -1, 1).
      const mean = fround(w.reduce((a, v) => a + Math.abs(v), 0) / w.length);
      const s = fround(1 / Math.max(mean, fround(1e-5)));
      const codes = w.map((v) => {
        const x = fround(v * s);
        const r = Math.abs(x - Math.trunc(x)) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x);
        return Math.max(-1, Math.min(1, r)) + 0; // + 0: no -0 in an Int8Array
      });
      const t = ternary(m.tensors.get(name));
      expect(Array.from(t.codes)).toEqual(codes);
      expect(Array.from(t.scales)).toEqual([bf16BitsToF32(f32ToBf16Bits(fround(1 / s)))]);
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// malformed folders: one line each, naming the file and the key or tensor

describe('malformed folders', () => {
  it('a missing config.json key', () => {
    const config = llamaConfig();
    delete config['hidden_size'];
    const dir = writeHfFolder(folder('no-key'), { config, tensors: floatLlama(rng(20)) });
    expectLine(() => readHfFolder(dir), 'schema', `${join(dir, 'config.json')}: hidden_size`, 'is missing');
  });

  it('a tensor whose shape disagrees with the config', () => {
    const specs = floatLlama(rng(21));
    const i = specs.findIndex((s) => s.name === 'model.layers.1.mlp.up_proj.weight');
    specs[i] = randomTensor(specs[i]!.name, [14, L.dim], 'F32', rng(22));
    const dir = writeHfFolder(folder('bad-shape'), { config: llamaConfig(), tensors: specs });
    expectLine(
      () => readHfFolder(dir),
      'shape',
      `${join(dir, 'model.safetensors')}: tensor "model.layers.1.mlp.up_proj.weight"`,
      'has shape [14, 8], expected [12, 8]',
    );
  });

  it('a missing tensor', () => {
    const specs = floatLlama(rng(23)).filter((s) => s.name !== 'model.layers.1.self_attn.k_proj.weight');
    const dir = writeHfFolder(folder('missing'), { config: llamaConfig(), tensors: specs });
    expectLine(() => readHfFolder(dir), 'weights', 'tensor "model.layers.1.self_attn.k_proj.weight"', 'is missing');
  });

  it('an index.json entry pointing at a missing shard', () => {
    const dir = writeHfFolder(folder('no-shard'), {
      config: llamaConfig(),
      tensors: floatLlama(rng(24)),
      shards: 2,
      editIndex: (wm) => {
        wm['model.norm.weight'] = 'model-00003-of-00002.safetensors';
      },
    });
    expectLine(
      () => readHfFolder(dir),
      'io',
      `${join(dir, 'model.safetensors.index.json')}: weight_map["model.norm.weight"]`,
      '"model-00003-of-00002.safetensors", which is not in',
    );
  });

  it('an unknown architecture', () => {
    const dir = writeHfFolder(folder('arch'), { config: llamaConfig({ architectures: ['MistralForCausalLM'] }), tensors: floatLlama(rng(25)) });
    expectLine(() => readHfFolder(dir), 'unsupported', 'config.json: architectures[0]', '"MistralForCausalLM"', 'LlamaForCausalLM', 'BitNetForCausalLM');
  });

  it('a packed weight with a wrong packed shape', () => {
    const { specs } = bitnetPacked(rng(26));
    const i = specs.findIndex((s) => s.name === 'model.layers.0.self_attn.q_proj.weight');
    specs[i] = { ...specs[i]!, shape: [4, B.dim], bytes: new Uint8Array(4 * B.dim) };
    const dir = writeHfFolder(folder('packed-shape'), { config: bitnetConfig(), tensors: specs });
    expectLine(() => readHfFolder(dir), 'shape', 'tensor "model.layers.0.self_attn.q_proj.weight"', 'packed shape [4, 18]', '[5, 18]');
  });

  it('a bad dtype for a packed weight', () => {
    const { specs } = bitnetPacked(rng(27));
    const i = specs.findIndex((s) => s.name === 'model.layers.1.mlp.down_proj.weight');
    specs[i] = { ...specs[i]!, dtype: 'I16', bytes: new Uint8Array(2 * specs[i]!.bytes.length) };
    const dir = writeHfFolder(folder('packed-dtype'), { config: bitnetConfig(), tensors: specs });
    expectLine(() => readHfFolder(dir), 'dtype', 'tensor "model.layers.1.mlp.down_proj.weight"', 'is I16', 'must be U8');
  });

  it('a packed code outside {0, 1, 2}', () => {
    const { specs } = bitnetPacked(rng(28));
    const s = specs.find((x) => x.name === 'model.layers.0.mlp.up_proj.weight')!;
    s.bytes[0] = 0xff;
    const dir = writeHfFolder(folder('packed-code'), { config: bitnetConfig(), tensors: specs });
    expectLine(() => readHfFolder(dir), 'codes', 'tensor "model.layers.0.mlp.up_proj.weight"', 'hold 3');
  });

  it('a BitNet folder without quantization_config', () => {
    const config = bitnetConfig();
    delete config['quantization_config'];
    const dir = writeHfFolder(folder('no-qc'), { config, tensors: bitnetPacked(rng(29)).specs });
    expectLine(() => readHfFolder(dir), 'schema', 'config.json: quantization_config', 'is missing');
  });

  it('unsupported rope_scaling', () => {
    const dir = writeHfFolder(folder('rope'), { config: llamaConfig({ rope_scaling: { rope_type: 'llama3', factor: 8 } }), tensors: floatLlama(rng(30)) });
    expectLine(() => readHfFolder(dir), 'unsupported', 'config.json: rope_scaling', '"llama3"');
  });

  it('a tensor the architecture does not have', () => {
    const specs = floatLlama(rng(31));
    specs.push(randomTensor('model.layers.0.self_attn.q_proj.bias', [L.q], 'F32', rng(32)));
    const dir = writeHfFolder(folder('extra'), { config: llamaConfig(), tensors: specs });
    expectLine(() => readHfFolder(dir), 'weights', 'tensor "model.layers.0.self_attn.q_proj.bias"', 'is not a tensor of a LlamaForCausalLM');
  });

  it('no config.json, and looksLikeHfFolder', () => {
    const dir = folder('empty');
    expect(looksLikeHfFolder(dir)).toBe(false);
    expectLine(() => readHfFolder(dir), 'io', `${join(dir, 'config.json')}: is missing`);
    writeFileSync(join(dir, 'config.json'), '{"model_type": "llama"}');
    expect(looksLikeHfFolder(dir)).toBe(false);
    expect(looksLikeHfFolder(join(dir, 'config.json'))).toBe(false);
  });
});
