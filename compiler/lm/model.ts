// A decoder-only language model as every LM reader delivers it (GGUF, llama2.c, Hugging Face folders):
// the architecture's hyper-parameters, its tensors decoded into exact values under canonical names,
// and the tokenizer when the file has one. The decoder builder (compiler/lm/build.ts) turns it into
// an IR graph; nothing downstream knows which file format it came from.
//
// Canonical tensor names are GGUF's (llama.cpp's `LLM_TENSOR_*` names without the `.weight` suffix),
// with matrices in PyTorch orientation [out_features, in_features] (row n = output n, the same
// memory order as GGUF's ne = [in, out]):
//
//   token_embd                 [vocab, dim]
//   blk.<i>.attn_norm          [dim]
//   blk.<i>.attn_q             [nHeads * headDim, dim]
//   blk.<i>.attn_k             [nKvHeads * headDim, dim]
//   blk.<i>.attn_v             [nKvHeads * headDim, dim]
//   blk.<i>.attn_sub_norm      [nHeads * headDim]          (subNorms only)
//   blk.<i>.attn_output        [dim, nHeads * headDim]
//   blk.<i>.ffn_norm           [dim]
//   blk.<i>.ffn_gate           [hiddenDim, dim]
//   blk.<i>.ffn_up             [hiddenDim, dim]
//   blk.<i>.ffn_sub_norm       [hiddenDim]                 (subNorms only)
//   blk.<i>.ffn_down           [dim, hiddenDim]
//   output_norm                [dim]
//   output                     [vocab, dim]                (absent when tiedOutput)
//
// A MoTE layer (config.moe, docs/formats.md "MoTE") keeps ffn_gate/ffn_up/ffn_down as its shared
// expert and adds, for e < moe.experts:
//
//   blk.<i>.ffn_gate_inp       [experts, dim]              (the router, float)
//   blk.<i>.ffn_gate_exps.<e>  [expertHiddenDim, dim]      (routed expert e, ternary in MoTE)
//   blk.<i>.ffn_up_exps.<e>    [expertHiddenDim, dim]
//   blk.<i>.ffn_down_exps.<e>  [dim, expertHiddenDim]
//
// Q and K rows are in the order the model's RoPE style expects (`ropeStyle`): readers never permute
// weights, they record the style the checkpoint was trained with.

import { DiagnosticBag } from '../diagnostics.ts';
import type { ActQuantParams } from '../ops/lm/act_quant.ts';

export type LmArch = 'llama' | 'bitnet';

export interface LmConfig {
  /** Semantics family: `llama` (LLaMA, TriLM) or `bitnet` (BitNet b1.58: sub-norms). */
  arch: LmArch;
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  /** Per head; dim / nHeads for every architecture read today. */
  headDim: number;
  vocabSize: number;
  /** The context the model was trained with (metadata); `--context` may compile a shorter one. */
  contextLength: number;
  /** RMSNorm epsilon. */
  normEps: number;
  /** RoPE base frequency. */
  ropeTheta: number;
  /** Dimensions of each head that RoPE rotates (<= headDim; the rest pass through). */
  ropeDim: number;
  /**
   * 'adjacent': pairs (x[2i], x[2i+1]) rotate by pos * theta^(-2i/ropeDim) (llama.cpp NORM, llama2.c);
   * 'half': pairs (x[i], x[i + ropeDim/2]) (llama.cpp NEOX, Hugging Face rotate_half).
   */
  ropeStyle: 'adjacent' | 'half';
  /** The gated FFN's activation: down(act(gate x) * up x). */
  ffnAct: 'silu' | 'relu2';
  /** BitNet sub-norms: RMSNorm(attn_sub_norm) before attn_output, RMSNorm(ffn_sub_norm) before ffn_down. */
  subNorms: boolean;
  /** The output head is token_embd. */
  tiedOutput: boolean;
  /**
   * What the ternary layers' activations are by the model's own definition: 'float' (llama.cpp's
   * semantics for GGUF, TriLM) or 'int8-per-token' (BitNet's absmax quantizer, the HF BitNet code).
   */
  activations: 'float' | 'int8-per-token';
  /** Mixture of ternary experts (MoTE) in every layer's FFN; absent: a dense FFN. */
  moe?: LmMoeConfig;
}

/**
 * MoTE (seed-methods 10): y = shared(x) + sum over the top-k experts e of gate_e * expert_e(x), the
 * shared expert being the dense FFN (ffn_gate/up/down). Router: logits = ffn_gate_inp x; the top-k
 * logits by value, ties to the lower expert index; gates = softmax over all experts' logits at the
 * chosen ones (normalizeGates false: MoTE's g(p), Qwen-MoE's norm_topk_prob false) or softmax over the
 * k chosen logits (true: Mixtral). docs/formats.md "MoTE", docs/numerics.md "Router".
 */
interface LmMoeConfig {
  experts: number;
  topK: number;
  /** Hidden width of each routed expert. */
  expertHiddenDim: number;
  normalizeGates: boolean;
}

/** Exact float32 values. */
export interface LmFloat32 {
  kind: 'float32';
  shape: number[];
  data: Float32Array;
}

/** IEEE half bits, kept as stored (an embedding or head the file holds in f16). */
export interface LmFloat16 {
  kind: 'float16';
  shape: number[];
  bits: Uint16Array;
}

/** bfloat16 bits, kept as stored. */
export interface LmBFloat16 {
  kind: 'bfloat16';
  shape: number[];
  bits: Uint16Array;
}

/** int8 codes with a float32 scale per group of `groupSize` consecutive elements of a row (Q8_0: 32). */
export interface LmInt8 {
  kind: 'int8';
  shape: [number, number];
  codes: Int8Array;
  /** [rows, ceil(cols / groupSize)], row-major. */
  scales: Float32Array;
  groupSize: number;
}

/**
 * Ternary codes {-1, 0, +1} with float32 scales: value = code * scale. Scales are one per tensor,
 * one per row, or one per group of `groupSize` consecutive elements of a row ([rows, groups]).
 *
 * With `planes` P > 1 (PTQTP's trit-planes), the value is the sum over planes of code_p * scale_p:
 * codes are [P, rows, cols] and scales [P, rows, groups] (per tensor: [P]).
 */
export interface LmTernary {
  kind: 'ternary';
  shape: [number, number];
  codes: Int8Array;
  scales: Float32Array;
  granularity: 'per_tensor' | 'per_row' | 'per_group';
  groupSize?: number;
  /** Trit-planes (default 1). */
  planes?: number;
  /** A static per-row bias added to the product (Tequila's folded deadzone term C[n]). */
  bias?: Float32Array;
  /**
   * TBT's activation quantizer on this projection's input (its QuantizeLinear's act quantizer:
   * elastic 1-2-bit with a learned step, or 8 bits after clipping): the projection runs on the
   * quantized values (the ActQuant op, docs/formats.md "TBT"), whatever --activations says.
   */
  input?: ActQuantParams;
  /** Where the codes came from, for `inspect` (e.g. "GGUF TQ2_0, fp16 scale per 256"). */
  source: string;
}

/**
 * b-bit unsigned codes (2 <= b <= 8) with a zero point and a float32 scale per group of `groupSize`
 * consecutive stored columns of a row: value = scale * (code - zero) (GPTQ, QONNX Quant).
 * Codes are [rows, cols] one per byte here (packed at b bits only when emitted); scales and zeros are
 * [rows, groups]. `columns`, when present, is GPTQ's act-order made contiguous: stored column j
 * multiplies input column columns[j] (a permutation of 0..cols-1).
 */
export interface LmIntB {
  kind: 'intb';
  bits: number;
  shape: [number, number];
  codes: Uint8Array;
  scales: Float32Array;
  zeros: Uint8Array;
  groupSize: number;
  columns?: Int32Array;
  bias?: Float32Array;
  source: string;
}

/**
 * Fairy2i (arXiv 2512.02901; docs/formats.md "Fairy2i"): a real [N, K] layer (N, K even) in the
 * widely-linear complex form y = U x + W conj(x), x = x[:K/2] + i x[K/2:], y = y[:N/2] + i y[N/2:],
 * with U and W [N/2, K/2] complex, each the sum over `stages` of s_re * Re(c) + i s_im * Im(c) for a
 * code c in {+1, +i, -1, -i}. Codes are the exponent e of c = i^e (0: +1, 1: +i, 2: -1, 3: -i),
 * [stages, 2 (U, W), N/2, K/2] row-major; scales [stages, 2 (U, W), 2 (s_re, s_im)].
 */
export interface LmFairy2i {
  kind: 'fairy2i';
  /** The real layer's [N, K]. */
  shape: [number, number];
  stages: number;
  codes: Uint8Array;
  scales: Float32Array;
  source: string;
}

/** The most Fairy2i stages a kernel pass reads (the official code defines 1 to 4). */
export const FAIRY2I_MAX_STAGES = 4;

export type LmTensor = LmFloat32 | LmFloat16 | LmBFloat16 | LmInt8 | LmTernary | LmIntB | LmFairy2i;

export interface LmTokenizer {
  /** 'llama': SentencePiece-style BPE by scores with byte fallback (llama2.c, GGUF tokenizer.ggml.model = llama). */
  model: 'llama';
  tokens: string[];
  scores: Float32Array;
  /** GGUF token types (1 normal, 2 unknown, 3 control, 4 user defined, 5 unused, 6 byte), when known. */
  types?: Int32Array;
  bos?: number;
  eos?: number;
  unk?: number;
  /** Whether a text prompt starts with BOS. */
  addBos: boolean;
}

export interface LmModel {
  /** A C-identifier-friendly name (from the file name or metadata). */
  name: string;
  /** The path as given, for messages and generated-file headers. */
  source: string;
  format: 'gguf' | 'llama2c' | 'hf';
  /** A short hash of the model's bytes, recorded in generated code. */
  sourceHash: string;
  config: LmConfig;
  tensors: Map<string, LmTensor>;
  tokenizer?: LmTokenizer;
  /** What the reader decided that a user should know (one line each), shown by `inspect`. */
  notes: string[];
}

/** The canonical name of a per-layer tensor. */
export function blk(layer: number, name: string): string {
  return `blk.${layer}.${name}`;
}

/** Expected shape of every canonical tensor of `c`, for readers to check what they read. */
export function expectedShapes(c: LmConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const q = c.nHeads * c.headDim;
  const kv = c.nKvHeads * c.headDim;
  m.set('token_embd', [c.vocabSize, c.dim]);
  for (let i = 0; i < c.nLayers; i++) {
    m.set(blk(i, 'attn_norm'), [c.dim]);
    m.set(blk(i, 'attn_q'), [q, c.dim]);
    m.set(blk(i, 'attn_k'), [kv, c.dim]);
    m.set(blk(i, 'attn_v'), [kv, c.dim]);
    if (c.subNorms) m.set(blk(i, 'attn_sub_norm'), [q]);
    m.set(blk(i, 'attn_output'), [c.dim, q]);
    m.set(blk(i, 'ffn_norm'), [c.dim]);
    m.set(blk(i, 'ffn_gate'), [c.hiddenDim, c.dim]);
    m.set(blk(i, 'ffn_up'), [c.hiddenDim, c.dim]);
    if (c.subNorms) m.set(blk(i, 'ffn_sub_norm'), [c.hiddenDim]);
    m.set(blk(i, 'ffn_down'), [c.dim, c.hiddenDim]);
    if (c.moe) {
      m.set(blk(i, 'ffn_gate_inp'), [c.moe.experts, c.dim]);
      for (let e = 0; e < c.moe.experts; e++) {
        m.set(blk(i, `ffn_gate_exps.${e}`), [c.moe.expertHiddenDim, c.dim]);
        m.set(blk(i, `ffn_up_exps.${e}`), [c.moe.expertHiddenDim, c.dim]);
        m.set(blk(i, `ffn_down_exps.${e}`), [c.dim, c.moe.expertHiddenDim]);
      }
    }
  }
  m.set('output_norm', [c.dim]);
  if (!c.tiedOutput) m.set('output', [c.vocabSize, c.dim]);
  return m;
}

/** Missing tensors named one by one; past this many, one line says how many more. */
const MAX_MISSING_LISTED = 12;

/**
 * Check a reader's result against its config: every expected tensor present with its shape, no
 * unknown tensor, every float finite, every code in its alphabet. One diagnostic per problem, all
 * reported together; `where(name)` says where a tensor came from (file and the name it had there).
 */
export function validateLmModel(model: LmModel, where: (name: string) => string): void {
  const bag = new DiagnosticBag();
  const c = model.config;
  const positive: (keyof LmConfig)[] = ['dim', 'hiddenDim', 'nLayers', 'nHeads', 'nKvHeads', 'headDim', 'vocabSize', 'contextLength', 'ropeDim'];
  for (const k of positive) {
    const v = c[k] as number;
    if (!Number.isInteger(v) || v < 1 || v > 2 ** 31 - 1) bag.error('schema', model.source, `${k} is ${v}; it must be a positive integer`);
  }
  if (c.nHeads % c.nKvHeads !== 0) bag.error('schema', model.source, `${c.nHeads} attention heads are not a multiple of ${c.nKvHeads} KV heads`);
  if (c.ropeDim > c.headDim || c.ropeDim % 2 !== 0)
    bag.error('schema', model.source, `the RoPE dimension ${c.ropeDim} must be even and at most the head dimension ${c.headDim}`);
  if (!(c.normEps > 0 && c.normEps < 1)) bag.error('schema', model.source, `the RMSNorm epsilon ${c.normEps} must be in (0, 1)`);
  if (!(c.ropeTheta > 0 && Number.isFinite(c.ropeTheta))) bag.error('schema', model.source, `the RoPE base ${c.ropeTheta} must be positive`);
  // Every layer has tensors of its own: a layer count beyond the tensors the file holds is a corrupt
  // header, refused before anything is made per layer.
  if (c.nLayers > model.tensors.size)
    bag.error(
      'schema',
      model.source,
      `the config says ${c.nLayers} layers, but the model holds only ${model.tensors.size} tensors (each layer has at least 9)`,
    );
  if (c.moe) {
    const { experts, topK, expertHiddenDim } = c.moe;
    if (!(Number.isInteger(experts) && experts >= 1 && experts <= 256))
      bag.error('schema', model.source, `the MoE has ${experts} experts; 1 to 256 are supported`);
    if (!(Number.isInteger(topK) && topK >= 1 && topK <= Math.min(experts, 8)))
      bag.error('schema', model.source, `the router's top-k is ${topK}; it must be from 1 to min(experts, 8) = ${Math.min(experts, 8)}`);
    if (!(Number.isInteger(expertHiddenDim) && expertHiddenDim >= 1))
      bag.error('schema', model.source, `the experts' hidden size ${expertHiddenDim} must be a positive integer`);
    if (c.subNorms) bag.error('unsupported', model.source, 'an MoE with BitNet sub-norms is not supported (the experts would need an ffn_sub_norm each)');
  }
  bag.throwIfAny();
  const want = expectedShapes(c);
  const missing: string[] = [];
  for (const [name, shape] of want) {
    const t = model.tensors.get(name);
    if (!t) {
      missing.push(name);
      if (missing.length <= MAX_MISSING_LISTED)
        bag.error('weights', where(name), `is missing; a ${c.arch} model with this config needs it with shape [${shape.join(', ')}]`);
      continue;
    }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
      bag.error('shape', where(name), `has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}] from the model's config`);
  }
  if (missing.length > MAX_MISSING_LISTED)
    bag.error('weights', model.source, `${missing.length - MAX_MISSING_LISTED} more tensors are missing (${missing.length} in all, up to ${missing.at(-1)})`);
  if (c.moe)
    for (let i = 0; i < c.nLayers; i++) {
      const r = model.tensors.get(blk(i, 'ffn_gate_inp'));
      if (r && !['float32', 'float16', 'bfloat16'].includes(r.kind))
        bag.error('weights', where(blk(i, 'ffn_gate_inp')), `is ${r.kind}; the router must be float`);
      for (let e = 0; e < c.moe.experts; e++)
        for (const p of ['ffn_gate_exps', 'ffn_up_exps', 'ffn_down_exps']) {
          const name = blk(i, `${p}.${e}`);
          const t = model.tensors.get(name);
          if ((t?.kind === 'ternary' || t?.kind === 'intb') && (t.bias || (t.kind === 'intb' && t.columns)))
            bag.error('unsupported', where(name), 'a routed expert with a static bias or act-order columns is not supported');
        }
    }
  for (const [name, t] of model.tensors) {
    if (!want.has(name)) {
      bag.error('weights', where(name), `is not a tensor of a ${c.arch} model with this config`);
      continue;
    }
    checkValues(name, t, where, bag);
  }
  bag.throwIfAny();
}

function checkValues(name: string, t: LmTensor, where: (name: string) => string, bag: DiagnosticBag): void {
  const n = t.shape.reduce((a, b) => a * b, 1);
  switch (t.kind) {
    case 'float32':
      if (t.data.length !== n) bag.error('weights', where(name), `holds ${t.data.length} values for shape [${t.shape.join(', ')}]`);
      for (let i = 0; i < t.data.length; i++)
        if (!Number.isFinite(t.data[i]!)) {
          bag.error('weights', where(name), `value ${t.data[i]} at index ${i} is not finite`);
          break;
        }
      return;
    case 'float16':
    case 'bfloat16': {
      if (t.bits.length !== n) bag.error('weights', where(name), `holds ${t.bits.length} values for shape [${t.shape.join(', ')}]`);
      const expMask = t.kind === 'float16' ? 0x7c00 : 0x7f80;
      for (let i = 0; i < t.bits.length; i++)
        if ((t.bits[i]! & expMask) === expMask) {
          bag.error('weights', where(name), `value at index ${i} is not finite (${t.kind} bits 0x${t.bits[i]!.toString(16)})`);
          break;
        }
      return;
    }
    case 'int8':
    case 'ternary':
    case 'intb': {
      const planes = t.kind === 'ternary' ? (t.planes ?? 1) : 1;
      if (!(Number.isInteger(planes) && planes >= 1)) bag.error('weights', where(name), `has ${planes} trit-planes`);
      if (t.codes.length !== n * planes)
        bag.error('weights', where(name), `holds ${t.codes.length} codes for shape [${t.shape.join(', ')}]${planes > 1 ? ` and ${planes} planes` : ''}`);
      if (t.kind === 'ternary')
        for (let i = 0; i < t.codes.length; i++)
          if (t.codes[i]! < -1 || t.codes[i]! > 1) {
            bag.error('codes', where(name), `code ${t.codes[i]} at index ${i} is not -1, 0 or +1`);
            break;
          }
      if (t.kind === 'intb') checkIntB(name, t, where, bag);
      for (let i = 0; i < t.scales.length; i++)
        if (!Number.isFinite(t.scales[i]!)) {
          bag.error('weights', where(name), `scale ${t.scales[i]} at index ${i} is not finite`);
          break;
        }
      if (t.kind === 'ternary' && t.input) checkActQuant(name, t.input, where, bag);
      if (t.kind !== 'int8' && t.bias) {
        if (t.bias.length !== t.shape[0]) bag.error('weights', where(name), `has a bias of ${t.bias.length} values for ${t.shape[0]} rows`);
        else if (!t.bias.every(Number.isFinite)) bag.error('weights', where(name), 'has a bias value that is not finite');
      }
      return;
    }
    case 'fairy2i':
      checkFairy2i(name, t, where, bag);
      return;
  }
}

function checkActQuant(name: string, p: ActQuantParams, where: (name: string) => string, bag: DiagnosticBag): void {
  if (name === 'token_embd') bag.error('weights', where(name), 'has an activation quantizer; only projections take one');
  if (p.method === 'elastic') {
    if (p.bits !== 1 && p.bits !== 2) bag.error('weights', where(name), `has an elastic activation quantizer of ${p.bits} bits; TBT defines 1 and 2`);
    if (!(Number.isFinite(p.alpha) && p.alpha > 0))
      bag.error('weights', where(name), `has an activation step (alpha) of ${p.alpha}; it must be positive and finite`);
  } else if (p.bits !== 8 || !(Number.isFinite(p.clip) && p.clip > 0))
    bag.error('weights', where(name), `has an 8-bit activation quantizer with ${p.bits} bits and clip ${p.clip}; it needs 8 bits and a positive clip`);
}

function checkFairy2i(name: string, t: LmFairy2i, where: (name: string) => string, bag: DiagnosticBag): void {
  const [rows, cols] = t.shape;
  if (name === 'token_embd')
    bag.error('weights', where(name), 'is a Fairy2i weight; the embedding table must be float or int8 (only projections and the head take Fairy2i codes)');
  if (rows % 2 !== 0 || cols % 2 !== 0) {
    bag.error('shape', where(name), `is a Fairy2i weight of shape [${rows}, ${cols}]; the widely-linear form needs even rows and columns`);
    return;
  }
  if (!(Number.isInteger(t.stages) && t.stages >= 1 && t.stages <= FAIRY2I_MAX_STAGES)) {
    bag.error('weights', where(name), `has ${t.stages} Fairy2i stages; 1 to ${FAIRY2I_MAX_STAGES} are supported`);
    return;
  }
  const n = t.stages * 2 * (rows / 2) * (cols / 2);
  if (t.codes.length !== n) bag.error('weights', where(name), `holds ${t.codes.length} Fairy2i codes; ${t.stages} stage(s) of U and W need ${n}`);
  const bad = t.codes.findIndex((c) => c > 3);
  if (bad >= 0) bag.error('codes', where(name), `Fairy2i code ${t.codes[bad]} at index ${bad} is not 0..3 (the exponent e of i^e in {+1, +i, -1, -i})`);
  if (t.scales.length !== t.stages * 4) bag.error('weights', where(name), `holds ${t.scales.length} Fairy2i scales; ${t.stages} stage(s) need ${t.stages * 4}`);
  const badS = t.scales.findIndex((s) => !Number.isFinite(s));
  if (badS >= 0) bag.error('weights', where(name), `Fairy2i scale ${t.scales[badS]} at index ${badS} is not finite`);
}

function checkIntB(name: string, t: LmIntB, where: (name: string) => string, bag: DiagnosticBag): void {
  const [rows, cols] = t.shape;
  if (!(Number.isInteger(t.bits) && t.bits >= 2 && t.bits <= 8)) {
    bag.error('weights', where(name), `has ${t.bits}-bit codes; 2 to 8 bits are supported`);
    return;
  }
  if (!(Number.isInteger(t.groupSize) && t.groupSize >= 1)) {
    bag.error('weights', where(name), `has group size ${t.groupSize}`);
    return;
  }
  const groups = rows * Math.ceil(cols / t.groupSize);
  if (t.scales.length !== groups || t.zeros.length !== groups)
    bag.error('weights', where(name), `has ${t.scales.length} scales and ${t.zeros.length} zero points; groups of ${t.groupSize} need ${groups} of each`);
  const max = (1 << t.bits) - 1;
  const bad = t.codes.findIndex((c) => c > max);
  if (bad >= 0) bag.error('codes', where(name), `code ${t.codes[bad]} at index ${bad} does not fit ${t.bits} bits`);
  const badZ = t.zeros.findIndex((c) => c > max);
  if (badZ >= 0) bag.error('codes', where(name), `zero point ${t.zeros[badZ]} at index ${badZ} does not fit ${t.bits} bits`);
  if (t.columns) {
    const seen = new Uint8Array(cols);
    const ok = t.columns.length === cols && t.columns.every((c) => c >= 0 && c < cols && !seen[c] && (seen[c] = 1));
    if (!ok) bag.error('weights', where(name), `column order is not a permutation of 0..${cols - 1}`);
  }
}
