// GGUF -> LmModel (compiler/lm/model.ts): llama.cpp's `llama` and the BitNet fork's `bitnet`
// architectures. The container (container.ts) has already checked the bytes; this module reads the
// hyper-parameters the way llama.cpp's loader does (same keys, same defaults), decodes each tensor
// with quants.ts into the exact values ggml would compute, and hands the result to validateLmModel.
//
// Semantics recorded in the config, as llama.cpp runs each architecture:
//   llama:  RoPE NORM (adjacent pairs), SiLU-gated FFN, no sub-norms, output tied when the file has no
//           output.weight (llama.cpp falls back to token_embd).
//   bitnet: RoPE NEOX (pairs i, i + ropeDim/2), SiLU-gated FFN, attn/ffn sub-norms, output always
//           tied (the fork never creates output.weight for this architecture).
//   Both: activations 'float' (llama.cpp multiplies float activations by the dequantized weights).
//
// Float tensors are views into the file's bytes when aligned (no copy): the returned model keeps the
// whole file buffer alive, as llama2.c's mmap does.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fail } from '../../diagnostics.ts';
import type { LmArch, LmConfig, LmModel, LmTensor, LmTokenizer } from '../../lm/model.ts';
import { validateLmModel } from '../../lm/model.ts';
import type { GgufFile, GgufMetadata, GgufTensorInfo } from './container.ts';
import { quoted, readGguf } from './container.ts';
import {
  GGML_BF16,
  GGML_F16,
  GGML_F32,
  GGML_I2_S,
  GGML_Q8_0,
  GGML_TQ1_0,
  GGML_TQ2_0,
  QK_K,
  decodeI2_S,
  decodeQ8_0,
  decodeTQ1_0,
  decodeTQ2_0,
  describeGgmlType,
  f32Values,
  u16Bits,
} from './quants.ts';

export { looksLikeGguf } from './container.ts';

export interface GgufLmOptions {
  /** Names the file in messages (default: the path as given). */
  label?: string;
}

const ARCHS: readonly LmArch[] = ['llama', 'bitnet'];
/** llama.cpp's default when `<arch>.rope.freq_base` is absent. */
const DEFAULT_ROPE_BASE = 10000;
/** The types this reader decodes, for messages. */
const DECODED = 'F32, F16, BF16, Q8_0, TQ1_0, TQ2_0, I2_S';

/** Read a GGUF language model from a file. */
export function readGgufLm(path: string, opts: GgufLmOptions = {}): LmModel {
  const label = opts.label ?? path;
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    fail('io', label, `cannot read: ${(e as Error).message}`);
  }
  return ggufToLm(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), label, path);
}

/** Read a GGUF language model held in memory; `source` is the path recorded in the model. */
export function ggufToLm(bytes: Uint8Array, label: string, source: string = label): LmModel {
  const g = readGguf(bytes, label);
  const notes: string[] = [];
  const config = readConfig(g, notes);
  const tokenizer = readTokenizer(g.metadata, config.vocabSize, notes);

  const tensors = new Map<string, LmTensor>();
  const ggufName = new Map<string, string>();
  const counts = new Map<string, number>();
  for (const t of g.tensors.values()) {
    const canonical = t.name.endsWith('.weight') ? t.name.slice(0, -'.weight'.length) : t.name;
    const other = ggufName.get(canonical);
    if (other !== undefined) {
      fail('duplicate', `${label}: tensor ${quoted(t.name)}`, `and tensor ${quoted(other)} both name the tensor ${quoted(canonical)}`);
    }
    tensors.set(canonical, decodeTensor(t, `${label}: tensor ${quoted(t.name)}`));
    ggufName.set(canonical, t.name);
    counts.set(t.typeName, (counts.get(t.typeName) ?? 0) + 1);
  }
  notes.push(`tensor types: ${[...counts].map(([k, n]) => `${k} x${n}`).join(', ')}`);

  const model: LmModel = {
    name: cName(basename(source).replace(/\.gguf$/i, '')),
    source,
    format: 'gguf',
    sourceHash: createHash('sha256').update(bytes).digest('hex').slice(0, 16),
    config,
    tensors,
    notes,
  };
  if (tokenizer) model.tokenizer = tokenizer;
  validateLmModel(model, (name) => `${label}: tensor ${quoted(ggufName.get(name) ?? `${name}.weight`)}`);
  return model;
}

function cName(s: string): string {
  const t = s.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(t) ? t : `m_${t}`;
}

// ---------------------------------------------------------------------------------------------------
// Hyper-parameters

function readConfig(g: GgufFile, notes: string[]): LmConfig {
  const md = g.metadata;
  const archName = md.getString('general.architecture');
  if (!(ARCHS as readonly string[]).includes(archName)) {
    fail('unsupported', md.where('general.architecture'), `is ${quoted(archName)}; tritc reads the architectures ${ARCHS.map((a) => `"${a}"`).join(' and ')}`);
  }
  const arch = archName as LmArch;
  const key = (k: string): string => `${arch}.${k}`;
  const count = (k: string): number => positive(md, key(k), md.getUint(key(k)));

  const dim = count('embedding_length');
  const nLayers = count('block_count');
  const hiddenDim = positive(md, key('feed_forward_length'), uniform(md, key('feed_forward_length'), nLayers));
  const nHeads = positive(md, key('attention.head_count'), uniform(md, key('attention.head_count'), nLayers));
  const nKvHeads = md.has(key('attention.head_count_kv'))
    ? positive(md, key('attention.head_count_kv'), uniform(md, key('attention.head_count_kv'), nLayers))
    : nHeads;
  const contextLength = count('context_length');
  const normEps = md.getFloat(key('attention.layer_norm_rms_epsilon'));

  // Head size: llama.cpp's attention.key_length, default n_embd / n_head.
  let headDim: number;
  const keyLength = md.optUint(key('attention.key_length'));
  const valueLength = md.optUint(key('attention.value_length'));
  if (keyLength !== undefined) {
    headDim = positive(md, key('attention.key_length'), keyLength);
  } else {
    if (dim % nHeads !== 0) {
      fail(
        'weights',
        md.where(key('attention.head_count')),
        `is ${nHeads}, which does not divide ${key('embedding_length')} = ${dim} (and there is no ${key('attention.key_length')})`,
      );
    }
    headDim = dim / nHeads;
  }
  if (valueLength !== undefined && valueLength !== headDim) {
    fail(
      'unsupported',
      md.where(key('attention.value_length')),
      `is ${valueLength}, different from the key length ${headDim}; tritc needs equal key and value head sizes`,
    );
  }

  let ropeTheta = md.optFloat(key('rope.freq_base'));
  if (ropeTheta === undefined) {
    ropeTheta = DEFAULT_ROPE_BASE;
    notes.push(`${key('rope.freq_base')} is absent: RoPE base ${DEFAULT_ROPE_BASE}, llama.cpp's default`);
  }
  const ropeDimKey = md.optUint(key('rope.dimension_count'));
  const ropeDim = ropeDimKey === undefined ? headDim : positive(md, key('rope.dimension_count'), ropeDimKey);

  // The checks validateLmModel makes on the config, made here first so that each message names the
  // key that is wrong rather than only the file.
  if (nHeads % nKvHeads !== 0) {
    fail('weights', md.where(key('attention.head_count_kv')), `is ${nKvHeads}, which does not divide ${key('attention.head_count')} = ${nHeads}`);
  }
  if (ropeDim > headDim || ropeDim % 2 !== 0) {
    fail('weights', md.where(key('rope.dimension_count')), `is ${ropeDim}; it must be even and at most the head dimension ${headDim}`);
  }
  if (!(normEps > 0 && normEps < 1)) fail('weights', md.where(key('attention.layer_norm_rms_epsilon')), `is ${normEps}, expected a value in (0, 1)`);
  if (!(ropeTheta > 0 && Number.isFinite(ropeTheta))) fail('weights', md.where(key('rope.freq_base')), `is ${ropeTheta}, expected a positive number`);

  const vocabSize = vocabularySize(g);
  const tiedOutput = arch === 'bitnet' || !g.tensors.has('output.weight');
  if (tiedOutput) {
    notes.push(
      arch === 'bitnet'
        ? 'bitnet: the output head is token_embd (the fork always ties it)'
        : 'no output.weight: the output head is token_embd (tied), as llama.cpp does',
    );
  }
  return {
    arch,
    dim,
    hiddenDim,
    nLayers,
    nHeads,
    nKvHeads,
    headDim,
    vocabSize,
    contextLength,
    normEps,
    ropeTheta,
    ropeDim,
    ropeStyle: arch === 'llama' ? 'adjacent' : 'half',
    ffnAct: 'silu',
    subNorms: arch === 'bitnet',
    tiedOutput,
    activations: 'float',
  };
}

/** validateLmModel's bound on every dimension, checked here too so the message names the key. */
const MAX_DIM = 2 ** 31 - 1;

function positive(md: GgufMetadata, key: string, v: number): number {
  if (v < 1) fail('weights', md.where(key), `is ${v}, expected at least 1`);
  if (v > MAX_DIM) fail('limit', md.where(key), `is ${v}, more than tritc supports (${MAX_DIM})`);
  return v;
}

/** A per-layer hyper-parameter: a number, or (newer llama.cpp) an array with one equal value per layer. */
function uniform(md: GgufMetadata, key: string, nLayers: number): number {
  const v = md.get(key);
  if (v?.type !== 'array') return md.getUint(key);
  const a = v.value;
  if (a.itemType === 'string' || a.itemType === 'bool' || a.itemType === 'array' || a.itemType === 'f32' || a.itemType === 'f64') {
    fail('weights', md.where(key), `is an array of ${a.itemType}, expected an unsigned integer or one per layer`);
  }
  const items = Array.from(a.items as ArrayLike<number | bigint>, Number);
  if (items.length !== nLayers) fail('weights', md.where(key), `has ${items.length} values, expected one per layer (${nLayers})`);
  if (items.some((x) => x !== items[0])) {
    const shown = items.length > 8 ? `${items.slice(0, 8).join(', ')}, ...` : items.join(', ');
    fail('unsupported', md.where(key), `differs between layers ([${shown}]); tritc needs one value for every layer`);
  }
  return items[0]!;
}

function vocabularySize(g: GgufFile): number {
  const tokens = g.metadata.get('tokenizer.ggml.tokens');
  if (tokens !== undefined) {
    return positive(g.metadata, 'tokenizer.ggml.tokens', g.metadata.getStringArray('tokenizer.ggml.tokens').length);
  }
  const embd = g.tensors.get('token_embd.weight');
  if (embd === undefined || embd.ne.length !== 2) {
    fail(
      'weights',
      `${g.label}: tensor "token_embd.weight"`,
      embd ? `has ne [${embd.ne.join(', ')}], expected [dim, vocab]` : 'is missing (and there is no tokenizer.ggml.tokens to give the vocabulary size)',
    );
  }
  return embd.ne[1]!;
}

// ---------------------------------------------------------------------------------------------------
// Tokenizer

function readTokenizer(md: GgufMetadata, vocabSize: number, notes: string[]): LmTokenizer | undefined {
  const model = md.optString('tokenizer.ggml.model');
  if (model === undefined) {
    notes.push('no tokenizer (tokenizer.ggml.model is absent): prompts must be token ids');
    return undefined;
  }
  if (model !== 'llama') {
    notes.push(`tokenizer.ggml.model is ${quoted(model)}; tritc only reads "llama" tokenizers, so prompts must be token ids`);
    return undefined;
  }
  const tokens = md.getStringArray('tokenizer.ggml.tokens');
  const sameLength = (key: string, n: number): void => {
    if (n !== tokens.length) fail('weights', md.where(key), `has ${n} entries, but tokenizer.ggml.tokens has ${tokens.length}`);
  };
  let scores: Float32Array;
  if (md.has('tokenizer.ggml.scores')) {
    scores = md.getF32Array('tokenizer.ggml.scores');
    sameLength('tokenizer.ggml.scores', scores.length);
  } else {
    scores = new Float32Array(tokens.length);
    notes.push('tokenizer.ggml.scores is absent: every token scores 0');
  }
  const tok: LmTokenizer = { model: 'llama', tokens, scores, addBos: md.optBool('tokenizer.ggml.add_bos_token') ?? true };
  if (md.has('tokenizer.ggml.token_type')) {
    tok.types = md.getI32Array('tokenizer.ggml.token_type');
    sameLength('tokenizer.ggml.token_type', tok.types.length);
  }
  // llama.cpp warns about an out-of-range special id and ignores it; so do we.
  const special = (name: string): number | undefined => {
    const k = `tokenizer.ggml.${name}_token_id`;
    const id = md.optUint(k);
    if (id === undefined || id < vocabSize) return id;
    notes.push(`${k} = ${id} is outside the vocabulary (${vocabSize} tokens) and is ignored`);
    return undefined;
  };
  const bos = special('bos');
  const eos = special('eos');
  const unk = special('unknown');
  if (bos !== undefined) tok.bos = bos;
  if (eos !== undefined) tok.eos = eos;
  if (unk !== undefined) tok.unk = unk;
  return tok;
}

// ---------------------------------------------------------------------------------------------------
// Tensors

/** GGUF ne = [in, out, ...] (fastest first) -> shape [..., out, in] (row-major), same memory order. */
function shapeOf(t: GgufTensorInfo): number[] {
  return [...t.ne].reverse();
}

function matrixShape(t: GgufTensorInfo, where: string): [number, number] {
  if (t.ne.length !== 2) {
    fail('unsupported', where, `is ${t.typeName} with ne [${t.ne.join(', ')}]; tritc reads ${t.typeName} only for matrices (2 dimensions)`);
  }
  return [t.ne[1]!, t.ne[0]!];
}

function decodeTensor(t: GgufTensorInfo, where: string): LmTensor {
  const n = t.nElements;
  switch (t.type) {
    case GGML_F32:
      return { kind: 'float32', shape: shapeOf(t), data: f32Values(t.data, n) };
    case GGML_F16:
      return { kind: 'float16', shape: shapeOf(t), bits: u16Bits(t.data, n) };
    case GGML_BF16:
      return { kind: 'bfloat16', shape: shapeOf(t), bits: u16Bits(t.data, n) };
    case GGML_Q8_0: {
      const shape = matrixShape(t, where);
      const { codes, scales } = decodeQ8_0(t.data, n);
      return { kind: 'int8', shape, codes, scales, groupSize: 32 };
    }
    case GGML_TQ1_0:
    case GGML_TQ2_0: {
      const shape = matrixShape(t, where);
      // Blocks run along rows (ne[0] is a multiple of 256), so block order is [rows, cols / 256].
      const { codes, scales } = t.type === GGML_TQ1_0 ? decodeTQ1_0(t.data, n) : decodeTQ2_0(t.data, n, where);
      return {
        kind: 'ternary',
        shape,
        codes,
        scales,
        granularity: 'per_group',
        groupSize: QK_K,
        source: `GGUF ${t.typeName}, fp16 scale per ${QK_K}`,
      };
    }
    case GGML_I2_S: {
      const shape = matrixShape(t, where);
      const { codes, scale } = decodeI2_S(t.data, n, where);
      return {
        kind: 'ternary',
        shape,
        codes,
        scales: Float32Array.of(scale),
        granularity: 'per_tensor',
        source: 'GGUF I2_S (BitNet fork), float32 scale per tensor',
      };
    }
    default:
      fail('unsupported', where, `has ggml type ${t.type} (${describeGgmlType(t.type)}); tritc decodes ${DECODED}`);
  }
}
