// Hugging Face folder cases: config.json plus model.safetensors (or shards and
// model.safetensors.index.json) plus tokenizer files, for the three layouts tritc reads: a float
// Llama (F32, F16 or BF16), a TriLM "Unpacked" Llama (ternary values times one gamma per model-parallel
// block), a packed BitNet b1.58 (uint8 codes and a weight_scale), and tritc's own quantized layout
// (`tritc quantize`: ternary, trit-planes, int8, b-bit, Fairy2i and TBT input quantizers by turns). The config is edited key by key
// (hf_writer.ts's keys set to edge values: layer counts of 2^40, zero heads, odd head sizes, RoPE
// scaling, activations) and as JSON; the safetensors headers and the index as JSON; one file's bytes
// are mutated; a file may be left out. Read with loadModel on the folder.

import fc from 'fast-check';
import { writeSafetensors, type StDType } from '../../../compiler/io/safetensors.ts';
import type { LmFairy2i, LmInt8, LmIntB, LmTernary } from '../../../compiler/lm/model.ts';
import type { ActQuantParams } from '../../../compiler/ops/lm/act_quant.ts';
import { packTritcLayer } from '../../../compiler/quantize/tritc_hf.ts';
import { layerEntry } from '../../../compiler/quantize/write_hf.ts';
import { loadModel } from '../../../compiler/readers/index.ts';
import { rng } from '../../../compiler/harness/inputs.ts';
import { bf16Bytes, f16Bytes, f32Bytes, llamaConfig, llamaProjections, packHfTernary } from '../hf_writer.ts';
import { applyByteMutations, byteMutation, describeByteMutation } from './bytes.ts';
import { some, type FuzzCase, type FuzzReader } from './harness.ts';
import { describeJsonMutation, jsonMutation, jsonValue, mutateJson, type Json } from './json.ts';

interface Spec {
  name: string;
  dtype: StDType;
  shape: number[];
  bytes: Uint8Array;
}

type TritcTensor = LmTernary | LmInt8 | LmIntB | LmFairy2i;

type Layout = 'float' | 'trilm' | 'bitnet' | 'tritc';

interface Shape {
  layout: Layout;
  heads: number;
  kvHeads: number;
  headDim: number;
  hidden: number;
  layers: number;
  vocab: number;
  dtype: 'F32' | 'F16' | 'BF16';
  head: boolean;
  seed: number;
}

const shapeArb: fc.Arbitrary<Shape> = fc.record({
  layout: fc.constantFrom<Layout>('float', 'trilm', 'bitnet', 'tritc'),
  heads: fc.constantFrom(1, 2, 4),
  kvHeads: fc.constantFrom(1, 2),
  headDim: fc.constantFrom(2, 4),
  hidden: fc.constantFrom(4, 6, 8),
  layers: fc.constantFrom(1, 2),
  vocab: fc.constantFrom(5, 10),
  dtype: fc.constantFrom<'F32' | 'F16' | 'BF16'>('F32', 'F16', 'BF16'),
  head: fc.boolean(),
  seed: fc.nat(1000),
});

/** A value every float dtype holds exactly: a multiple of 1/64 in [-1, 1]. */
function values(n: number, next: () => number): number[] {
  return Array.from({ length: n }, () => Math.round((2 * next() - 1) * 64) / 64);
}

function encode(dtype: 'F32' | 'F16' | 'BF16', v: number[]): Uint8Array {
  return dtype === 'F32' ? f32Bytes(v) : dtype === 'F16' ? f16Bytes(v) : bf16Bytes(v);
}

function folderOf(s: Shape): { config: Record<string, unknown>; tensors: Spec[] } {
  const next = rng(s.seed + 1);
  const heads = Math.max(s.heads, s.kvHeads);
  const dim = heads * s.headDim;
  const q = heads * s.headDim;
  const kv = s.kvHeads * s.headDim;
  const bitnet = s.layout === 'bitnet';
  const float = (name: string, shape: number[], dtype = s.dtype): Spec => ({
    name,
    dtype,
    shape,
    bytes: encode(
      dtype,
      values(
        shape.reduce((a, b) => a * b, 1),
        next,
      ),
    ),
  });
  const tensors: Spec[] = [float('model.embed_tokens.weight', [s.vocab, dim])];
  const layers: Record<string, Json> = {};
  for (let i = 0; i < s.layers; i++) {
    const p = `model.layers.${i}.`;
    tensors.push(float(`${p}input_layernorm.weight`, [dim]), float(`${p}post_attention_layernorm.weight`, [dim]));
    if (bitnet) tensors.push(float(`${p}self_attn.attn_sub_norm.weight`, [q]), float(`${p}mlp.ffn_sub_norm.weight`, [s.hidden]));
    for (const [suffix, n, k] of llamaProjections({ dim, hidden: s.hidden, q, kv })) {
      if (s.layout === 'float') tensors.push(float(`${p}${suffix}`, [n, k]));
      else if (s.layout === 'tritc') {
        const prefix = `${p}${suffix}`.replace(/\.weight$/, '');
        const packed = packTritcLayer(tritcTensor(n, k, next));
        layers[prefix] = layerEntry(packed.layer) as Json;
        for (const t of packed.tensors) tensors.push({ name: `${prefix}.${t.suffix}`, dtype: t.dtype, shape: t.shape, bytes: t.bytes });
      } else if (s.layout === 'trilm') {
        const gamma = (8 + Math.floor(next() * 8)) / 256;
        tensors.push({
          name: `${p}${suffix}`,
          dtype: 'F16',
          shape: [n, k],
          bytes: f16Bytes(Array.from({ length: n * k }, () => (Math.floor(next() * 3) - 1) * gamma)),
        });
      } else {
        const codes = Int8Array.from({ length: n * k }, () => Math.floor(next() * 3) - 1);
        tensors.push({ name: `${p}${suffix}`, dtype: 'U8', shape: [Math.ceil(n / 4), k], bytes: packHfTernary(codes, n, k) });
        tensors.push({ name: `${p}${suffix}_scale`, dtype: 'BF16', shape: [1], bytes: bf16Bytes([0.0625]) });
      }
    }
  }
  tensors.push(float('model.norm.weight', [dim]));
  if (s.head && !bitnet) tensors.push(float('lm_head.weight', [s.vocab, dim]));
  const common = {
    hidden_size: dim,
    intermediate_size: s.hidden,
    num_hidden_layers: s.layers,
    num_attention_heads: heads,
    num_key_value_heads: s.kvHeads,
    vocab_size: s.vocab,
    max_position_embeddings: 32,
    tie_word_embeddings: !s.head || bitnet,
  };
  const config = bitnet
    ? {
        architectures: ['BitNetForCausalLM'],
        model_type: 'bitnet',
        rms_norm_eps: 1e-5,
        rope_theta: 500000,
        hidden_act: 'relu2',
        torch_dtype: 'bfloat16',
        quantization_config: { quant_method: 'bitnet', linear_class: 'autobitlinear', quantization_mode: 'offline' },
        ...common,
      }
    : llamaConfig(common);
  if (s.layout === 'tritc') (config as Record<string, unknown>).quantization_config = { quant_method: 'tritc', format_version: 1, layers };
  return { config, tensors };
}

/** A quantized projection of tritc's layout, the kind drawn by `next`. */
function tritcTensor(n: number, k: number, next: () => number): TritcTensor {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const kind = pick(['ternary', 'planes', 'tbt', 'int8', 'intb', 'fairy2i'] as const);
  const floats = (count: number) => Float32Array.from({ length: count }, () => (1 + Math.floor(next() * 8)) / 64);
  const trits = (count: number) => Int8Array.from({ length: count }, () => Math.floor(next() * 3) - 1);
  if (kind === 'int8')
    return { kind, shape: [n, k], codes: Int8Array.from({ length: n * k }, () => Math.floor(next() * 255) - 127), scales: floats(n), groupSize: k };
  if (kind === 'intb') {
    const groups = n * Math.ceil(k / 2);
    return {
      kind,
      bits: 4,
      shape: [n, k],
      codes: Uint8Array.from({ length: n * k }, () => Math.floor(next() * 16)),
      scales: floats(groups),
      zeros: Uint8Array.from({ length: groups }, () => 8),
      groupSize: 2,
      source: 'fuzz',
    };
  }
  if (kind === 'fairy2i' && n % 2 === 0 && k % 2 === 0)
    return { kind, shape: [n, k], stages: 1, codes: Uint8Array.from({ length: (n * k) / 2 }, () => Math.floor(next() * 4)), scales: floats(4), source: 'fuzz' };
  const planes = kind === 'planes' ? 2 : 1;
  const input: ActQuantParams | undefined =
    kind === 'tbt'
      ? next() < 0.5
        ? { method: 'elastic', bits: 2, signed: true, alpha: 0.25, clip: 2.5 }
        : { method: 'clip8', bits: 8, signed: false, alpha: 1, clip: 2.5 }
      : undefined;
  return {
    kind: 'ternary',
    shape: [n, k],
    codes: trits(planes * n * k),
    scales: floats(planes * n),
    granularity: 'per_row',
    ...(planes > 1 ? { planes } : {}),
    ...(input ? { input } : {}),
    source: 'fuzz',
  };
}

// ---------------------------------------------------------------------------------------------------

const CONFIG_KEYS = [
  'architectures',
  'hidden_size',
  'intermediate_size',
  'num_hidden_layers',
  'num_attention_heads',
  'num_key_value_heads',
  'head_dim',
  'vocab_size',
  'max_position_embeddings',
  'rms_norm_eps',
  'rope_theta',
  'rope_scaling',
  'rope_parameters',
  'hidden_act',
  'tie_word_embeddings',
  'attention_bias',
  'pretraining_model_parallel',
  'quantization_config',
];

const keyEdit = fc.record({
  key: fc.constantFrom(...CONFIG_KEYS),
  value: fc.oneof(
    { weight: 3, arbitrary: jsonValue },
    fc.constantFrom<Json>(
      2 ** 40,
      2 ** 53 - 1,
      { rope_type: 'linear', factor: 2 },
      { type: 'default' },
      { rope_type: 'default', rope_theta: -1 },
      { quant_method: 'bitnet', linear_class: 'bitlinear' },
      { quant_method: 'bitnet', linear_class: 'autobitlinear', quantization_mode: 'online' },
      { quant_method: 'gptq' },
      { quant_method: 'tritc', format_version: 1, layers: {} },
      { quant_method: 'tritc', format_version: 2 },
      ['MistralForCausalLM'],
      ['BitNetForCausalLM'],
      ['LlamaForCausalLM'],
      'gelu',
      'relu2',
      'silu',
    ),
  ),
});

const TOKENIZER_FILES: [string, string][] = [
  ['tokenizer.json', '{"version": "1.0", "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}'],
  ['tokenizer_config.json', '{"bos_token": "<s>", "eos_token": "</s>"}'],
  ['special_tokens_map.json', '{"bos_token": "<s>"}'],
];

export const hfReader: FuzzReader = {
  name: 'hf',
  about:
    "Hugging Face folders (config.json, safetensors or shards with an index, tokenizer files): float Llama, TriLM, packed BitNet, tritc's quantized layout",
  cases: () =>
    fc
      .record({
        shape: shapeArb,
        shards: fc.constantFrom(0, 0, 2),
        tokenizer: fc.boolean(),
        keys: some(keyEdit, 2),
        config: some(jsonMutation, 2, 5),
        header: some(jsonMutation, 2, 4),
        index: some(jsonMutation, 2, 4),
        file: fc.nat(),
        bytes: some(byteMutation, 2, 4),
        drop: fc.integer({ min: 0, max: 29 }),
      })
      .map(({ shape, shards, tokenizer, keys, config, header, index, file, bytes, drop }): FuzzCase => {
        const f = folderOf(shape);
        let cfg = f.config as Json as Record<string, Json>;
        for (const k of keys) cfg = { ...cfg, [k.key]: k.value };
        const files: [string, Uint8Array][] = [['config.json', new TextEncoder().encode(JSON.stringify(mutateJson(cfg, config), null, 2))]];
        // Safetensors with a header edited as JSON: rewrite the header in front of the original data.
        const st = (tensors: Spec[]): Uint8Array => {
          const b = writeSafetensors(tensors);
          if (!header.length) return b;
          const n = Number(new DataView(b.buffer).getBigUint64(0, true));
          const json = new TextEncoder().encode(JSON.stringify(mutateJson(JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n))) as Json, header)));
          const out = new Uint8Array(8 + json.length + b.length - 8 - n);
          new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
          out.set(json, 8);
          out.set(b.subarray(8 + n), 8 + json.length);
          return out;
        };
        if (shards === 0) files.push(['model.safetensors', st(f.tensors)]);
        else {
          const name = (i: number) => `model-0000${i + 1}-of-0000${shards}.safetensors`;
          const map: Record<string, Json> = {};
          for (let s = 0; s < shards; s++) {
            const mine = f.tensors.filter((_, i) => i % shards === s);
            for (const t of mine) map[t.name] = name(s);
            files.push([name(s), st(mine)]);
          }
          files.push([
            'model.safetensors.index.json',
            new TextEncoder().encode(JSON.stringify(mutateJson({ metadata: { total_size: 0 }, weight_map: map }, index))),
          ]);
        }
        if (tokenizer) for (const [n, text] of TOKENIZER_FILES) files.push([n, new TextEncoder().encode(text)]);
        const target = file % files.length;
        files[target] = [files[target]![0], applyByteMutations(files[target]![1], bytes)];
        const dropped = drop < files.length && drop !== 0 ? files.splice(drop, 1)[0]![0] : undefined;
        return {
          what: [
            `hf ${shape.layout} (${shape.layers} layers, ${shape.heads}/${shape.kvHeads} heads of ${shape.headDim}, ${shape.dtype}${shards ? `, ${shards} shards` : ''}${tokenizer ? ', tokenizer files' : ''})`,
            ...keys.map((k) => `config ${k.key} = ${JSON.stringify(k.value)}`),
            ...config.map((m) => `config.json: ${describeJsonMutation(m)}`),
            ...header.map((m) => `safetensors header: ${describeJsonMutation(m)}`),
            ...(shards ? index.map((m) => `index: ${describeJsonMutation(m)}`) : []),
            ...bytes.map((b) => `${files[target]?.[0] ?? 'a file'}: ${describeByteMutation(b)}`),
            ...(dropped ? [`${dropped} left out`] : []),
          ].join('; '),
          files,
          read: (dir) => void loadModel(dir),
        };
      }),
};
