// Writing small Hugging Face model folders for the reader's tests: config.json, model.safetensors or
// shards with model.safetensors.index.json, and the encodings a checkpoint uses (F32, F16, BF16 and
// transformers' packed BitNet layout). The encoders here are written independently of the reader's
// (compiler/readers/hf/floatbits.ts, bitlinear.ts), so a test compares two implementations.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type StDType, writeSafetensors } from '../../compiler/io/safetensors.ts';

export interface HfTensorSpec {
  name: string;
  dtype: StDType;
  shape: number[];
  bytes: Uint8Array;
}

export function tmpFolder(stem: string): string {
  return mkdtempSync(join(tmpdir(), `tritc-hf-${stem}-`));
}

export function f32Bytes(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/** IEEE half bits of a value that a half holds exactly (normal or zero); anything else is a test bug. */
export function f16Of(v: number): number {
  if (v === 0) return Object.is(v, -0) ? 0x8000 : 0;
  const sign = v < 0 ? 0x8000 : 0;
  const a = Math.abs(v);
  const e = Math.floor(Math.log2(a));
  const mant = (a / 2 ** e - 1) * 1024;
  if (e < -14 || e > 15 || !Number.isInteger(mant)) throw new Error(`test bug: ${v} is not a normal float16`);
  return sign | ((e + 15) << 10) | mant;
}

export function f16Bytes(values: ArrayLike<number>): Uint8Array {
  const bits = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) bits[i] = f16Of(values[i]!);
  return new Uint8Array(bits.buffer);
}

/** bfloat16 bits of a value that bfloat16 holds exactly (the low half of its float32 is zero). */
function bf16Of(v: number): number {
  const u = new Uint32Array(Float32Array.of(v).buffer)[0]!;
  if ((u & 0xffff) !== 0) throw new Error(`test bug: ${v} is not a bfloat16 value`);
  return u >>> 16;
}

export function bf16Bytes(values: ArrayLike<number>): Uint8Array {
  const bits = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) bits[i] = bf16Of(values[i]!);
  return new Uint8Array(bits.buffer);
}

/**
 * transformers' pack_weights, line for line: row_dim = ceil(N/4) rows of K bytes; for i < min(4, N // row_dim + 1),
 * rows [i*row_dim, min((i+1)*row_dim, N)) are OR-ed in as (code + 1) << 2i.
 */
export function packHfTernary(codes: ArrayLike<number>, n: number, k: number): Uint8Array {
  const rowDim = Math.ceil(n / 4);
  const packed = new Uint8Array(rowDim * k);
  const it = Math.min(4, Math.floor(n / rowDim) + 1);
  for (let i = 0; i < it; i++) {
    const start = i * rowDim;
    const end = Math.min(start + rowDim, n);
    for (let r = 0; r < end - start; r++) {
      for (let c = 0; c < k; c++) packed[r * k + c]! |= (codes[(start + r) * k + c]! + 1) << (2 * i);
    }
  }
  return packed;
}

export interface HfFolderSpec {
  config: Record<string, unknown>;
  tensors: HfTensorSpec[];
  /** Write this many shards (tensors dealt round-robin) and an index.json; absent: one model.safetensors. */
  shards?: number;
  /** Edit the index before it is written (to break it). */
  editIndex?: (weightMap: Record<string, string>) => void;
}

/** Write a model folder at `dir` (created if needed). */
export function writeHfFolder(dir: string, spec: HfFolderSpec): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec.config, null, 2));
  if (spec.shards === undefined) {
    writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(spec.tensors));
    return dir;
  }
  const count = spec.shards;
  const fileName = (i: number): string => `model-${String(i + 1).padStart(5, '0')}-of-${String(count).padStart(5, '0')}.safetensors`;
  const weightMap: Record<string, string> = {};
  for (let s = 0; s < count; s++) {
    const mine = spec.tensors.filter((_, i) => i % count === s);
    for (const t of mine) weightMap[t.name] = fileName(s);
    writeFileSync(join(dir, fileName(s)), writeSafetensors(mine));
  }
  spec.editIndex?.(weightMap);
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }, null, 2));
  return dir;
}

/** A small Llama config.json (override or delete keys per test). */
export function llamaConfig(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: 8,
    intermediate_size: 12,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    max_position_embeddings: 64,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    vocab_size: 10,
    hidden_act: 'silu',
    tie_word_embeddings: false,
    rope_scaling: null,
    torch_dtype: 'float16',
    ...over,
  };
}

/** The Llama projections of layer `i`: [HF suffix, rows N, columns K] for a config. */
export function llamaProjections(c: { dim: number; hidden: number; q: number; kv: number }): [string, number, number][] {
  return [
    ['self_attn.q_proj.weight', c.q, c.dim],
    ['self_attn.k_proj.weight', c.kv, c.dim],
    ['self_attn.v_proj.weight', c.kv, c.dim],
    ['self_attn.o_proj.weight', c.dim, c.q],
    ['mlp.gate_proj.weight', c.hidden, c.dim],
    ['mlp.up_proj.weight', c.hidden, c.dim],
    ['mlp.down_proj.weight', c.dim, c.hidden],
  ];
}
