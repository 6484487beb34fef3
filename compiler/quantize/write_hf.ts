// Write an LmModel as a Hugging Face folder (LlamaForCausalLM: config.json + model.safetensors) that
// compiler/readers/hf reads back to the same tensors, so `tritc quantize` can save what it made.
// The layout is in docs/formats.md ("Hugging Face folders written by tritc"):
//
//   * float tensors keep their bits (F32, F16 or BF16) under transformers' names;
//   * when every quantized projection is b-bit GPTQ that AutoGPTQ's v1 format can hold (2/3/4/8 bits,
//     in and out features multiples of 32, zero points >= 1, one bit width and one group rule for
//     all), the folder is a standard AutoGPTQ checkpoint: qweight/qzeros/scales/g_idx(/bias), and
//     quantization_config in config.json plus quantize_config.json (quant_method "gptq");
//   * otherwise (ternary, PTQTP and Tequila planes, int8, b-bit groups AutoGPTQ cannot hold) it is
//     quant_method "tritc" with a per-projection `layers` map (compiler/quantize/tritc_hf.ts).
//
// Q and K rows: transformers applies RoPE to halves of a head (rotate_half); a model whose RoPE
// rotates adjacent pairs (llama2.c, GGUF llama) has its attn_q / attn_k rows permuted within each
// head as transformers' convert_llama_weights_to_hf does (row h*d + a*d/2 + i <- row h*d + 2i + a), so
// the folder computes what the model computes. Scales, zero points and biases move with their rows.
//
// The folder is written beside `dir` and renamed into place: a failure leaves nothing half-written.
// Tokenizers are not written (the Hugging Face reader does not read them either).

import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fail } from '../diagnostics.ts';
import { writeSafetensors } from '../io/safetensors.ts';
import type { LmConfig, LmIntB, LmModel, LmTensor } from '../lm/model.ts';
import { hfNames } from '../readers/hf/names.ts';
import { AUTOGPTQ_BITS, packAutoGptq } from './autogptq.ts';
import { type PackedTensor, f32Bytes } from './layer_io.ts';
import { type TritcLayer, packTritcLayer } from './tritc_hf.ts';

export interface WriteHfResult {
  /** 'gptq': an AutoGPTQ v1 checkpoint; 'tritc': tritc's layers map; 'float': no quantized projection. */
  format: 'gptq' | 'tritc' | 'float';
  files: string[];
}

function unsupportedConfig(c: LmConfig): string | undefined {
  if (c.arch !== 'llama') return `architecture "${c.arch}"; tritc writes LlamaForCausalLM folders only`;
  if (c.ffnAct !== 'silu') return `FFN activation "${c.ffnAct}"; a Llama folder means SiLU`;
  if (c.subNorms) return 'sub-norms (BitNet); a Llama folder has none';
  if (c.moe) return 'a mixture of experts; tritc writes dense Llama folders only';
  if (c.activations !== 'float') return `"${c.activations}" activations; a Llama folder means float activations`;
  if (c.ropeDim !== c.headDim) return `RoPE over ${c.ropeDim} of ${c.headDim} dimensions; transformers' Llama rotates whole heads`;
  return undefined;
}

/** A copy of `t` with its rows (outputs) reordered: row r of the result is row perm[r] of `t`. */
function permuteRows(t: LmTensor, perm: Int32Array): LmTensor {
  const rows = t.shape[0]!;
  const cols = t.shape.length === 2 ? t.shape[1]! : 1;
  const take = <A extends Float32Array | Uint16Array | Int8Array | Uint8Array>(a: A, width: number, planes = 1): A => {
    const out = a.slice() as A;
    for (let p = 0; p < planes; p++)
      for (let r = 0; r < rows; r++) out.set(a.subarray((p * rows + perm[r]!) * width, (p * rows + perm[r]! + 1) * width), (p * rows + r) * width);
    return out;
  };
  switch (t.kind) {
    case 'float32':
      return { ...t, data: take(t.data, cols) };
    case 'float16':
    case 'bfloat16':
      return { ...t, bits: take(t.bits, cols) };
    case 'int8':
      return { ...t, codes: take(t.codes, cols), scales: take(t.scales, t.scales.length / rows) };
    case 'ternary': {
      const p = t.planes ?? 1;
      const scales = t.granularity === 'per_tensor' ? t.scales : take(t.scales, t.scales.length / (p * rows), p);
      return { ...t, codes: take(t.codes, cols, p), scales, ...(t.bias ? { bias: take(t.bias, 1) } : {}) };
    }
    case 'intb': {
      const g = t.scales.length / rows;
      return { ...t, codes: take(t.codes, cols), scales: take(t.scales, g), zeros: take(t.zeros, g), ...(t.bias ? { bias: take(t.bias, 1) } : {}) };
    }
    case 'fairy2i':
      // Rows pair up as real and imaginary halves: fairy2iQuantizeModel puts Q and K in this order first.
      return fail('unsupported', t.source, 'is a Fairy2i weight in llama2.c RoPE order; its rows pair real and imaginary halves and cannot be reordered');
  }
}

/** Adjacent-pair RoPE rows -> rotate_half rows, per head of `d` rows. */
function halfRopeOrder(heads: number, d: number): Int32Array {
  const perm = new Int32Array(heads * d);
  for (let h = 0; h < heads; h++) for (let a = 0; a < 2; a++) for (let i = 0; i < d / 2; i++) perm[h * d + a * (d / 2) + i] = h * d + 2 * i + a;
  return perm;
}

function floatTensor(name: string, t: LmTensor): PackedTensor {
  switch (t.kind) {
    case 'float32':
      return { suffix: name, dtype: 'F32', shape: [...t.shape], bytes: f32Bytes(t.data) };
    case 'float16':
    case 'bfloat16': {
      const bytes = new Uint8Array(t.bits.length * 2);
      const dv = new DataView(bytes.buffer);
      for (let i = 0; i < t.bits.length; i++) dv.setUint16(2 * i, t.bits[i]!, true);
      return { suffix: name, dtype: t.kind === 'float16' ? 'F16' : 'BF16', shape: [...t.shape], bytes };
    }
    default:
      return fail('unsupported', name, `is ${t.kind}; tritc writes quantized projections only, embeddings, heads and norms stay float`);
  }
}

/** Whether AutoGPTQ's v1 format holds `t` exactly (its group rule: -1 when one group spans every row). */
function autoGptqRule(t: LmTensor): { bits: number; groupSize: number } | undefined {
  if (t.kind !== 'intb') return undefined;
  const [n, k] = t.shape;
  if (!AUTOGPTQ_BITS.includes(t.bits) || k % 32 !== 0 || n % 32 !== 0) return undefined;
  if (t.zeros.some((z) => z < 1)) return undefined;
  return { bits: t.bits, groupSize: t.groupSize >= k ? -1 : t.groupSize };
}

function gptqConfig(layers: LmIntB[], bits: number, groupSize: number): Record<string, unknown> {
  return {
    bits,
    group_size: groupSize,
    damp_percent: 0.01,
    desc_act: layers.some((t) => t.columns !== undefined),
    static_groups: false,
    sym: layers.every((t) => t.zeros.every((z) => z === 2 ** (bits - 1))),
    true_sequential: true,
    model_name_or_path: null,
    model_file_base_name: 'model',
    quant_method: 'gptq',
    checkpoint_format: 'gptq',
  };
}

/** The layers-map entry of one projection (config.json's quantization_config.layers[prefix]). */
export function layerEntry(l: TritcLayer): Record<string, unknown> {
  const e: Record<string, unknown> = { format: l.format };
  if (l.format === 'ternary')
    Object.assign(
      e,
      { planes: l.planes, granularity: l.granularity },
      l.groupSize !== undefined ? { group_size: l.groupSize } : {},
      l.inputQuant ? { input_quant: { ...l.inputQuant } } : {},
    );
  else if (l.format === 'int8') e['group_size'] = l.groupSize;
  else if (l.format === 'fairy2i') e['stages'] = l.stages;
  else Object.assign(e, { bits: l.bits, group_size: l.groupSize });
  if (l.source !== undefined) e['source'] = l.source;
  return e;
}

/**
 * The same model with its Q and K rows in rotate_half order (ropeStyle 'half'), as a Hugging Face
 * folder stores them: exact, RoPE rotates the same pairs of values. Whole-head rotary only (the
 * model is returned unchanged otherwise, or when it is already 'half').
 */
export function toHalfRope(model: LmModel): LmModel {
  const c = model.config;
  if (c.ropeStyle === 'half' || c.ropeDim !== c.headDim) return model;
  const qRows = halfRopeOrder(c.nHeads, c.headDim);
  const kRows = halfRopeOrder(c.nKvHeads, c.headDim);
  const tensors = new Map(model.tensors);
  for (const [name, t] of model.tensors) {
    if (/^blk\.\d+\.attn_q$/.test(name)) tensors.set(name, permuteRows(t, qRows));
    if (/^blk\.\d+\.attn_k$/.test(name)) tensors.set(name, permuteRows(t, kRows));
  }
  return { ...model, config: { ...c, ropeStyle: 'half' }, tensors };
}

/**
 * Write `model` to the folder `dir` (which must not exist unless `overwrite`): config.json,
 * model.safetensors, and quantize_config.json for a GPTQ checkpoint.
 */
export function writeHfModel(model: LmModel, dir: string, opts: { overwrite?: boolean } = {}): WriteHfResult {
  const c = model.config;
  const why = unsupportedConfig(c);
  if (why) fail('unsupported', model.source, `cannot be written as a Hugging Face folder: ${why}`);
  if (existsSync(dir) && !opts.overwrite) fail('io', dir, 'exists; choose a new folder (tritc does not write over one)');

  const qRows = halfRopeOrder(c.nHeads, c.headDim);
  const kRows = halfRopeOrder(c.nKvHeads, c.headDim);
  const tensorOf = (canonical: string): LmTensor | undefined => {
    const t = model.tensors.get(canonical);
    if (!t || c.ropeStyle === 'half') return t;
    if (/^blk\.\d+\.attn_q$/.test(canonical)) return permuteRows(t, qRows);
    if (/^blk\.\d+\.attn_k$/.test(canonical)) return permuteRows(t, kRows);
    return t;
  };

  const names = hfNames(c.nLayers, false).filter((n) => !(n.role === 'head' && c.tiedOutput));
  const linears = names.filter((n) => n.role === 'linear').map((n) => ({ name: n, t: tensorOf(n.canonical) }));
  const quantized = linears.filter((l) => l.t !== undefined && l.t.kind !== 'float32' && l.t.kind !== 'float16' && l.t.kind !== 'bfloat16');
  const rules = quantized.map((l) => autoGptqRule(l.t!));
  const asGptq =
    quantized.length > 0 && rules.every((r) => r !== undefined && r.bits === rules[0]!.bits && r.groupSize === rules[0]!.groupSize) ? rules[0] : undefined;

  const st: { name: string; dtype: PackedTensor['dtype']; shape: number[]; bytes: Uint8Array }[] = [];
  const layers: Record<string, unknown> = {};
  for (const n of names) {
    const t = tensorOf(n.canonical);
    if (!t) fail('weights', model.source, `has no tensor "${n.canonical}" (${n.hf})`);
    const prefix = n.hf.replace(/\.weight$/, '');
    if (n.role !== 'linear' || t.kind === 'float32' || t.kind === 'float16' || t.kind === 'bfloat16') {
      const f = floatTensor(n.hf, t);
      st.push({ ...f, name: n.hf });
    } else if (asGptq) {
      for (const p of packAutoGptq(t as LmIntB, n.canonical)) st.push({ ...p, name: `${prefix}.${p.suffix}` });
    } else if (t.kind === 'ternary' || t.kind === 'int8' || t.kind === 'intb' || t.kind === 'fairy2i') {
      if (t.kind === 'ternary' && t.granularity === 'per_group' && t.groupSize === undefined)
        throw new Error(`internal: ${n.canonical}: per-group ternary without a group size`);
      const packed = packTritcLayer(t);
      layers[prefix] = layerEntry(packed.layer);
      for (const p of packed.tensors) st.push({ ...p, name: `${prefix}.${p.suffix}` });
    }
  }

  const embd = model.tensors.get('token_embd');
  const config: Record<string, unknown> = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: c.dim,
    intermediate_size: c.hiddenDim,
    num_hidden_layers: c.nLayers,
    num_attention_heads: c.nHeads,
    num_key_value_heads: c.nKvHeads,
    ...(c.headDim * c.nHeads !== c.dim ? { head_dim: c.headDim } : {}),
    vocab_size: c.vocabSize,
    max_position_embeddings: c.contextLength,
    rms_norm_eps: c.normEps,
    rope_theta: c.ropeTheta,
    rope_scaling: null,
    hidden_act: 'silu',
    attention_bias: false,
    mlp_bias: false,
    tie_word_embeddings: c.tiedOutput,
    torch_dtype: embd?.kind === 'float16' ? 'float16' : embd?.kind === 'bfloat16' ? 'bfloat16' : 'float32',
  };
  let format: WriteHfResult['format'] = 'float';
  let quantizeConfig: Record<string, unknown> | undefined;
  if (asGptq) {
    format = 'gptq';
    quantizeConfig = gptqConfig(
      quantized.map((l) => l.t as LmIntB),
      asGptq.bits,
      asGptq.groupSize,
    );
    config['quantization_config'] = quantizeConfig;
  } else if (quantized.length > 0) {
    format = 'tritc';
    config['quantization_config'] = { quant_method: 'tritc', format_version: 1, layers };
  }

  const files: [string, string | Uint8Array][] = [
    ['config.json', `${JSON.stringify(config, null, 2)}\n`],
    ['model.safetensors', writeSafetensors(st, { format: 'pt' })],
  ];
  if (quantizeConfig) files.push(['quantize_config.json', `${JSON.stringify(quantizeConfig, null, 2)}\n`]);

  // Write beside the destination, then move into place.
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = `${dir}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    mkdirSync(tmp);
    for (const [f, data] of files) writeFileSync(join(tmp, f), data);
    if (existsSync(dir)) rmSync(dir, { recursive: true });
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    fail('io', dir, `could not be written (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }
  return { format, files: files.map(([f]) => f) };
}
