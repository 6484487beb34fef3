// llama2.c checkpoints: the .bin files of Karpathy's llama2.c (export.py writes them; run.c reads
// version 0, runq.c version 2).
//
// Three layouts, all little-endian, weights back to back with no alignment:
//
//   version 0 (export.py `legacy_export`, no magic): a 28-byte header of 7 int32
//       dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len
//     (vocab_size < 0 marks a classifier separate from the token embedding), then float32 weights in
//     run.c's `memory_map_weights` order:
//       token_embedding_table, rms_att_weight[L], wq[L], wk[L], wv[L], wo[L], rms_ffn_weight[L],
//       w1[L], w2[L], w3[L], rms_final_weight, freq_cis_real, freq_cis_imag (seq_len * head_size / 2
//       floats each, unused by today's run.c), then wcls when unshared.
//   version 1 (`version1_export`): a 256-byte header: uint32 magic 0x616b3432 ("ak42"), int32
//     version, the same 7 int32 (vocab_size positive), a uint8 shared_classifier flag at byte 36,
//     zero padding; then float32
//       rms_att_weight[L], rms_ffn_weight[L], rms_final_weight, token_embedding_table, wq[L], wk[L],
//       wv[L], wo[L], w1[L], w2[L], w3[L], then wcls when unshared (no freq_cis tables).
//   version 2 (`version2_export`, runq.c): the version 1 header plus an int32 group_size at byte 37
//     (unaligned: export.py packs it right after the flag byte); then the norms in float32
//       rms_att_weight[L], rms_ffn_weight[L], rms_final_weight
//     and every matrix as Q8_0-style int8: for each tensor, its int8 codes, then one float32 scale
//     per group of group_size consecutive values of the flattened tensor (value = code * scale):
//       token_embedding_table, wq[L], wk[L], wv[L], wo[L], w1[L], w2[L], w3[L], then wcls when
//       unshared.
//
// Matrices are PyTorch nn.Linear weights, [out_features, in_features], which is the canonical
// orientation of compiler/lm/model.ts, so nothing is transposed or permuted. RoPE rotates adjacent
// pairs (model.py views q and k as (..., head_size / 2, 2); run.c rotates vec[i], vec[i+1]).
//
// The reader never allocates what the header merely claims: the header is checked, the file size
// it implies is computed (in BigInt) and compared with the real size, and only then is anything read.

import { createHash, type Hash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { type DiagnosticCode, fail } from '../../diagnostics.ts';
import { HOST_LITTLE_ENDIAN, swapBytesInPlace } from '../../io/ndarray.ts';
import { MAX_ELEMENTS } from '../../limits.ts';
import { type LmConfig, type LmModel, type LmTensor, blk, validateLmModel } from '../../lm/model.ts';
import { readTokenizerBin } from './tokenizer_bin.ts';

/** "ak42" read as a little-endian uint32: the first 4 bytes of version 1 and 2 files. */
const LLAMA2C_MAGIC = 0x616b3432;
const LEGACY_HEADER_BYTES = 28;
const HEADER_BYTES = 256;

interface Llama2cHeader {
  version: 0 | 1 | 2;
  /** Bytes before the first weight: 28 (version 0) or 256. */
  headerBytes: number;
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  /** As stored: negative in version 0 when the classifier is not shared. */
  rawVocabSize: number;
  vocabSize: number;
  seqLen: number;
  /** The classifier is the token embedding (no wcls in the file). */
  shared: boolean;
  /** Version 2 only (0 otherwise). */
  groupSize: number;
}

export interface Llama2cOptions {
  /** A llama2.c tokenizer.bin to attach; its vocabulary size is the checkpoint's. */
  tokenizer?: string;
  /** The model's name (default: the file name without its extension, made C-friendly). */
  name?: string;
}

/** A problem found in a header, so that both the reader (which fails) and the sniffer (which says no) can use the checks. */
interface Problem {
  code: DiagnosticCode;
  message: string;
}

function isProblem(x: Llama2cHeader | Problem): x is Problem {
  return 'message' in x;
}

// ---------------------------------------------------------------------------------------------------
// header

/**
 * Decode the header from the first bytes of a file of `fileSize` bytes. `head` holds the first
 * min(fileSize, 256) bytes. Checks only that the header is there and its version is known.
 */
function decodeHeader(head: Uint8Array, fileSize: number): Llama2cHeader | Problem {
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (head.length >= 4 && dv.getUint32(0, true) === LLAMA2C_MAGIC) {
    if (head.length < 8) return { code: 'weights', message: `the file has ${fileSize} bytes, too few for the magic and version of a llama2.c checkpoint` };
    const version = dv.getInt32(4, true);
    if (version !== 1 && version !== 2) {
      return {
        code: 'unsupported',
        message: `version ${version} after the "ak42" magic is not a llama2.c checkpoint version tritc reads (1: float32, 2: int8 groups; version 0 files have no magic)`,
      };
    }
    if (fileSize < HEADER_BYTES) {
      return { code: 'weights', message: `the file has ${fileSize} bytes, fewer than the ${HEADER_BYTES}-byte header of a version ${version} checkpoint` };
    }
    const flag = head[36]!;
    if (flag !== 0 && flag !== 1) return { code: 'schema', message: `the shared_classifier byte (offset 36) is ${flag}; export.py writes 0 or 1` };
    const raw = dv.getInt32(28, true);
    return {
      version,
      headerBytes: HEADER_BYTES,
      dim: dv.getInt32(8, true),
      hiddenDim: dv.getInt32(12, true),
      nLayers: dv.getInt32(16, true),
      nHeads: dv.getInt32(20, true),
      nKvHeads: dv.getInt32(24, true),
      rawVocabSize: raw,
      vocabSize: raw,
      seqLen: dv.getInt32(32, true),
      shared: flag === 1,
      groupSize: version === 2 ? dv.getInt32(37, true) : 0,
    };
  }
  if (fileSize < LEGACY_HEADER_BYTES || head.length < LEGACY_HEADER_BYTES) {
    return { code: 'weights', message: `the file has ${fileSize} bytes, fewer than the ${LEGACY_HEADER_BYTES}-byte header of a llama2.c checkpoint (7 int32)` };
  }
  const raw = dv.getInt32(20, true);
  return {
    version: 0,
    headerBytes: LEGACY_HEADER_BYTES,
    dim: dv.getInt32(0, true),
    hiddenDim: dv.getInt32(4, true),
    nLayers: dv.getInt32(8, true),
    nHeads: dv.getInt32(12, true),
    nKvHeads: dv.getInt32(16, true),
    rawVocabSize: raw,
    vocabSize: Math.abs(raw),
    seqLen: dv.getInt32(24, true),
    shared: raw > 0,
    groupSize: 0,
  };
}

/** The header's own consistency: sizes positive, heads dividing, groups fitting, tensors within limits. */
function checkHeader(h: Llama2cHeader): Problem | undefined {
  const fields: [string, number][] = [
    ['dim', h.dim],
    ['hidden_dim', h.hiddenDim],
    ['n_layers', h.nLayers],
    ['n_heads', h.nHeads],
    ['n_kv_heads', h.nKvHeads],
    ['vocab_size', h.rawVocabSize],
    ['seq_len', h.seqLen],
  ];
  for (const [name, v] of fields) {
    // Version 0 stores vocab_size negated for an unshared classifier.
    const ok = name === 'vocab_size' && h.version === 0 ? v !== 0 : v >= 1;
    if (ok) continue;
    const why = name === 'vocab_size' && v < 0 ? '; only version 0 files mark an unshared classifier by a negative vocab_size' : '; it must be positive';
    return { code: 'schema', message: `${name} is ${v}${why}` };
  }
  if (h.dim % h.nHeads !== 0) return { code: 'schema', message: `n_heads ${h.nHeads} does not divide dim ${h.dim}` };
  if (h.nHeads % h.nKvHeads !== 0) return { code: 'schema', message: `n_kv_heads ${h.nKvHeads} does not divide n_heads ${h.nHeads}` };
  const headSize = h.dim / h.nHeads;
  if (headSize % 2 !== 0) return { code: 'schema', message: `the head size dim / n_heads = ${headSize} is odd; RoPE rotates pairs of a head's values` };
  // Every tensor must be indexable with int32_t in generated C; this also stops a header claiming
  // dim 2^30 before any size arithmetic could matter.
  const big: [string, number][] = [
    ['token_embedding_table (vocab_size x dim)', h.vocabSize * h.dim],
    ['wq (dim x dim)', h.dim * h.dim],
    ['w1 (hidden_dim x dim)', h.hiddenDim * h.dim],
  ];
  for (const [what, n] of big) {
    if (n > MAX_ELEMENTS) return { code: 'limit', message: `${what} would have ${n} elements, above the limit of 2^31 - 1` };
  }
  if (h.version === 2) {
    const gs = h.groupSize;
    if (gs < 1) return { code: 'schema', message: `group_size (offset 37) is ${gs}; it must be positive` };
    // runq.c groups the flattened tensor; tritc keeps scales per row (LmInt8), which is the same thing
    // only when groups never straddle rows, i.e. when group_size divides every row length.
    if (h.dim % gs !== 0) return { code: 'schema', message: `group_size ${gs} does not divide dim ${h.dim}, the row length of every matrix but w2` };
    if (h.hiddenDim % gs !== 0) {
      return {
        code: 'schema',
        message: `group_size ${gs} does not divide hidden_dim ${h.hiddenDim}, the row length of w2: its groups would straddle rows (runq.c's matmul would skip the last ${h.hiddenDim % gs} columns too)`,
      };
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// layout: the file's tensors in order, as groups (one per llama2.c array, repeated per layer or not)

type Encoding = 'f32' | 'q8' | 'skip-f32';

interface Group {
  /** run.c's name for the array (wq, rms_att_weight, ...). */
  part: string;
  /** Canonical name (per layer: the suffix after blk.<i>.), or undefined for data tritc skips. */
  canonical?: string;
  perLayer: boolean;
  shape: number[];
  enc: Encoding;
}

function layout(h: Llama2cHeader): Group[] {
  const { dim, hiddenDim, vocabSize } = h;
  const headSize = dim / h.nHeads;
  const q = h.nHeads * headSize;
  const kv = h.nKvHeads * headSize;
  const g = (part: string, canonical: string | undefined, perLayer: boolean, shape: number[], enc: Encoding): Group => ({
    part,
    canonical,
    perLayer,
    shape,
    enc,
  });
  const mat = h.version === 2 ? 'q8' : 'f32';
  const embd = g('token_embedding_table', 'token_embd', false, [vocabSize, dim], mat);
  const attNorm = g('rms_att_weight', 'attn_norm', true, [dim], 'f32');
  const ffnNorm = g('rms_ffn_weight', 'ffn_norm', true, [dim], 'f32');
  const finalNorm = g('rms_final_weight', 'output_norm', false, [dim], 'f32');
  const matrices = [
    g('wq', 'attn_q', true, [q, dim], mat),
    g('wk', 'attn_k', true, [kv, dim], mat),
    g('wv', 'attn_v', true, [kv, dim], mat),
    g('wo', 'attn_output', true, [dim, q], mat),
  ];
  const ffn = [
    g('w1', 'ffn_gate', true, [hiddenDim, dim], mat),
    g('w2', 'ffn_down', true, [dim, hiddenDim], mat),
    g('w3', 'ffn_up', true, [hiddenDim, dim], mat),
  ];
  const wcls = h.shared ? [] : [g('wcls', 'output', false, [vocabSize, dim], mat)];
  if (h.version === 0) {
    // run.c skips seq_len * head_size / 2 floats twice (C int arithmetic, left to right).
    const freq = Math.floor((h.seqLen * headSize) / 2);
    return [
      embd,
      attNorm,
      ...matrices,
      ffnNorm,
      ...ffn,
      finalNorm,
      g('freq_cis_real', undefined, false, [freq], 'skip-f32'),
      g('freq_cis_imag', undefined, false, [freq], 'skip-f32'),
      ...wcls,
    ];
  }
  // Versions 1 and 2 write the norms first, then the embedding and matrices in the same order.
  return [attNorm, ffnNorm, finalNorm, embd, ...matrices, ...ffn, ...wcls];
}

/** Bytes of one tensor of the group (BigInt: a header's sizes may multiply past 2^53). */
function tensorBytes(gr: Group, groupSize: number): bigint {
  const n = gr.shape.reduce((a, d) => a * BigInt(d), 1n);
  return gr.enc === 'q8' ? n + 4n * (n / BigInt(groupSize)) : 4n * n;
}

/** The file size `h` implies, with the classifier shared or not. */
function impliedBytes(h: Llama2cHeader, shared: boolean): bigint {
  let total = BigInt(h.headerBytes);
  for (const gr of layout({ ...h, shared })) total += tensorBytes(gr, h.groupSize) * (gr.perLayer ? BigInt(h.nLayers) : 1n);
  return total;
}

function sizeProblem(h: Llama2cHeader, fileSize: number): Problem | undefined {
  const mine = impliedBytes(h, h.shared);
  if (mine === BigInt(fileSize)) return undefined;
  const shared = impliedBytes(h, true);
  const unshared = impliedBytes(h, false);
  const flipped = (h.shared ? unshared : shared) === BigInt(fileSize);
  const says =
    h.version === 0
      ? `vocab_size ${h.rawVocabSize} says ${h.shared ? 'shared' : 'unshared'}`
      : `the shared_classifier byte says ${h.shared ? 'shared' : 'unshared'}`;
  return {
    code: 'weights',
    message:
      `version ${h.version} with dim ${h.dim}, hidden_dim ${h.hiddenDim}, n_layers ${h.nLayers}, n_heads ${h.nHeads}, n_kv_heads ${h.nKvHeads}, ` +
      `vocab_size ${h.vocabSize}, seq_len ${h.seqLen}${h.version === 2 ? `, group_size ${h.groupSize}` : ''} implies ${shared} bytes with a shared classifier ` +
      `or ${unshared} bytes with a separate one (${says}), but the file has ${fileSize} bytes` +
      (flipped ? '; it would fit the other classifier layout' : ''),
  };
}

/** Canonical tensor name of a group for one layer. */
function canonicalName(gr: Group, layer: number): string {
  return gr.perLayer ? blk(layer, gr.canonical!) : gr.canonical!;
}

function partName(gr: Group, layer: number): string {
  return gr.perLayer ? `${gr.part} of layer ${layer}` : gr.part;
}

// ---------------------------------------------------------------------------------------------------
// sniffing

/**
 * Does a file of `size` bytes starting with `head` (its first 256 bytes, or all of it if shorter)
 * look like a llama2.c checkpoint? Versions 1 and 2 by their magic (the reader then says what is
 * wrong, if anything); version 0, which has no magic, only by a consistent header whose implied size
 * is exactly the file's.
 */
export function looksLikeLlama2c(head: Uint8Array, size: number): boolean {
  if (head.length >= 4 && new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true) === LLAMA2C_MAGIC) return true;
  const h = decodeHeader(head, size);
  if (isProblem(h) || checkHeader(h) !== undefined) return false;
  return impliedBytes(h, h.shared) === BigInt(size);
}

// ---------------------------------------------------------------------------------------------------
// reading

/** Sequential reads from an open file, hashing every byte (sourceHash covers the whole file). */
class Cursor {
  offset = 0;
  private readonly hash: Hash = createHash('sha256');
  private static readonly CHUNK = 1 << 28;

  constructor(
    private readonly fd: number,
    private readonly label: string,
    readonly size: number,
  ) {}

  /** Fill `into` from the current offset. */
  read(into: Uint8Array, what: string): void {
    let done = 0;
    while (done < into.length) {
      const want = Math.min(into.length - done, Cursor.CHUNK);
      const n = readSync(this.fd, into, done, want, this.offset + done);
      if (n <= 0) {
        fail(
          'io',
          `${this.label}: ${what}`,
          `the file ended at byte ${this.offset + done} although it had ${this.size} bytes when opened (did it change while being read?)`,
        );
      }
      done += n;
    }
    this.hash.update(into);
    this.offset += into.length;
  }

  /** Step over `n` bytes, still hashing them. */
  skip(n: number, what: string): void {
    const scratch = new Uint8Array(Math.min(n, 1 << 20));
    for (let left = n; left > 0; left -= scratch.length) this.read(left >= scratch.length ? scratch : scratch.subarray(0, left), what);
  }

  digest(): string {
    return this.hash.digest('hex').slice(0, 16);
  }
}

function readF32(cur: Cursor, n: number, where: string): Float32Array {
  const out = new Float32Array(n);
  const start = cur.offset;
  const bytes = new Uint8Array(out.buffer);
  cur.read(bytes, where);
  if (!HOST_LITTLE_ENDIAN) swapBytesInPlace(bytes, 4);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(out[i]!)) fail('weights', where, `value ${out[i]} at index ${i} (file offset ${start + 4 * i}) is not finite`);
  }
  return out;
}

function readGroup(cur: Cursor, gr: Group, groupSize: number, where: string): LmTensor {
  const n = gr.shape.reduce((a, d) => a * d, 1);
  if (gr.enc === 'f32') return { kind: 'float32', shape: [...gr.shape], data: readF32(cur, n, where) };
  // Q8_0-style: codes, then one float32 scale per group; groups never straddle rows (checkHeader).
  const codes = new Int8Array(n);
  cur.read(new Uint8Array(codes.buffer), where);
  const scales = readF32(cur, n / groupSize, `${where} (scales)`);
  const [rows, cols] = gr.shape as [number, number];
  return { kind: 'int8', shape: [rows, cols], codes, scales, groupSize };
}

/** A C-identifier-friendly model name from a file name. */
function modelName(path: string): string {
  const stem = basename(path).replace(/\.[^.]*$/, '') || 'model';
  const safe = stem.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(safe) ? `m_${safe}` : safe;
}

/** Read a llama2.c checkpoint (version 0, 1 or 2) into the decoder model every LM reader delivers. */
export function readLlama2c(path: string, opts: Llama2cOptions = {}): LmModel {
  const label = path;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    fail('io', label, `cannot open: ${(e as Error).message}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) fail('io', label, 'is not a regular file');
    const size = stat.size;
    const head = new Uint8Array(Math.min(size, HEADER_BYTES));
    if (readSync(fd, head, 0, head.length, 0) !== head.length) fail('io', label, 'could not read the header');

    const h = decodeHeader(head, size);
    if (isProblem(h)) fail(h.code, `${label}: header`, h.message);
    const bad = checkHeader(h) ?? sizeProblem(h, size);
    if (bad) fail(bad.code, `${label}: header`, bad.message);

    const cur = new Cursor(fd, label, size);
    cur.skip(h.headerBytes, 'header');
    const tensors = new Map<string, LmTensor>();
    const origin = new Map<string, string>();
    for (const gr of layout(h)) {
      for (let layer = 0; layer < (gr.perLayer ? h.nLayers : 1); layer++) {
        const where = `${label}: weights: ${partName(gr, layer)}`;
        if (gr.enc === 'skip-f32') {
          cur.skip(4 * gr.shape[0]!, where);
          continue;
        }
        const name = canonicalName(gr, layer);
        tensors.set(name, readGroup(cur, gr, h.groupSize, where));
        origin.set(name, `weights: ${partName(gr, layer)}`);
      }
    }
    if (cur.offset !== size) throw new Error(`internal: llama2.c layout read ${cur.offset} of ${size} bytes of ${label}`);

    const headDim = h.dim / h.nHeads;
    const config: LmConfig = {
      arch: 'llama',
      dim: h.dim,
      hiddenDim: h.hiddenDim,
      nLayers: h.nLayers,
      nHeads: h.nHeads,
      nKvHeads: h.nKvHeads,
      headDim,
      vocabSize: h.vocabSize,
      contextLength: h.seqLen,
      // Not in the file: run.c's rmsnorm adds 1e-5f and its RoPE uses base 10000 over the whole head.
      normEps: Math.fround(1e-5), // run.c adds 1e-5f
      ropeTheta: 10000,
      ropeDim: headDim,
      ropeStyle: 'adjacent',
      ffnAct: 'silu',
      subNorms: false,
      tiedOutput: h.shared,
      activations: 'float',
    };
    const notes = [
      h.version === 2
        ? `llama2.c version 2 checkpoint: int8 matrices with a float32 scale per group of ${h.groupSize} (runq.c's Q8_0), float32 norms`
        : `llama2.c version ${h.version} checkpoint: float32 weights`,
      h.shared ? 'the classifier is the token embedding (shared)' : 'the classifier (wcls) is separate from the token embedding',
      "the file holds no RMSNorm epsilon or RoPE base: using run.c's 1e-5 and 10000",
    ];
    if (h.version === 0) notes.push(`skipped the legacy freq_cis tables (2 x ${Math.floor((h.seqLen * headDim) / 2)} floats); RoPE is computed from the base`);
    const model: LmModel = {
      name: opts.name ?? modelName(path),
      source: label,
      format: 'llama2c',
      sourceHash: cur.digest(),
      config,
      tensors,
      notes,
    };
    if (opts.tokenizer !== undefined) model.tokenizer = readTokenizerBin(opts.tokenizer, h.vocabSize);
    validateLmModel(model, (name) => `${label}: ${origin.get(name) ?? name}${origin.has(name) ? ` (${name})` : ''}`);
    return model;
  } finally {
    closeSync(fd);
  }
}
