// Text <-> token ids for an LmTokenizer: SentencePiece-style BPE by piece scores with byte fallback,
// the algorithm of llama2.c's run.c `encode` / `decode`, for llama2.c (tokenizer.bin) and GGUF
// (tokenizer.ggml.model = "llama") vocabularies alike.
//
// encode:
//   1. BOS if asked (default: the tokenizer's addBos);
//   2. if the text is not empty, a dummy-prefix space before it (SentencePiece's add_dummy_prefix);
//   3. the text split into code points, each looked up as a piece, else written as its UTF-8 bytes'
//      "<0xXX>" pieces (byte fallback), else as UNK when the vocabulary has no byte pieces;
//   4. repeatedly merge the adjacent pair whose concatenated text is a piece with the highest score,
//      leftmost on ties, until no adjacent pair forms a piece;
//   5. EOS if asked.
// Spaces: llama2.c's tokenizer.bin spells them ' ', GGUF / SentencePiece vocabularies '▁' (U+2581).
// A vocabulary with any '▁'-prefixed piece is taken to use '▁', and the text's spaces become '▁'.
// Byte pieces are found by their "<0xXX>" text (and token type 6 when the types are known), not by
// run.c's fixed id byte + 3, so GGUF vocabularies that put them elsewhere work too.
//
// Differences from run.c, on purpose:
//   - merges pop a priority queue keyed by (score, position) and skip stale pairs, O(n log n), where
//     run.c rescans every pair after each merge, O(n^2) for an n-character prompt (prompts can be
//     thousands of characters). The queue holds exactly the current adjacent pairs, so it picks the
//     same pair run.c does; test/tokenizer.test.ts checks this against a transcription of run.c's loop.
//   - special pieces (BOS, EOS, UNK, control and unknown types, byte pieces) are never matched from
//     text nor merged: run.c would turn a typed "<0x41>" into the byte piece for 'A' if the merges
//     happened to spell it, and decode(encode(s)) would no longer give s back.
//   - run.c starts its best score at -1e10 and so never merges a pair scoring lower; any score but NaN
//     merges here.
//   - a vocabulary without a ' ' piece gets the dummy prefix as a byte piece (run.c would emit -1).
// Differences from llama.cpp's llm_tokenizer_spm (GGUF): llama.cpp starts from raw UTF-8 characters,
// merges by text even through characters that are not pieces, and looks pieces up only at the end
// (falling back to bytes then); it also matches any token text, control tokens included, and can split
// special tokens out of the text first (parse_special). Looking code points up first, as run.c does,
// gives the same ids unless a merged piece contains a character that is not itself a piece, which
// vocabularies trained by SentencePiece (every merge built from pieces) do not have.
//
// User-defined pieces (type 4) are merged like normal ones; SentencePiece would match them whole.
//
// decode(prev, token), as run.c's: the piece's bytes, "<0xXX>" as the raw byte, the leading space
// dropped after BOS (SentencePiece strips the dummy prefix). Unlike run.c, the space is also dropped at
// the start of the text (no prev) and when it comes from a "<0x20>" piece, so that
// decodeAll(encode(s)) == s with or without BOS; control pieces (BOS, EOS, type 3) decode to nothing
// (run.c would print llama2.c's "\n<s>\n"). decodeAll joins the bytes and decodes UTF-8 once at the
// end, so a character split over byte pieces comes out whole.
//
// Tokenizers are indexed once (a Map from piece text to id) and cached per LmTokenizer object: treat
// an LmTokenizer as immutable once it has been used here.

import { fail } from '../diagnostics.ts';
import type { LmTokenizer } from './model.ts';

/** SentencePiece's visible space. */
export const SPM_SPACE = '\u2581';

const TYPE_UNKNOWN = 2;
const TYPE_CONTROL = 3;
const TYPE_BYTE = 6;

const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;

/** What a token is, for encoding and decoding (values of Index.roles). */
const Role = {
  /** Matched from text and merged. */
  Normal: 0,
  /** "<0xXX>": decodes to one raw byte; never matched from text or merged. */
  Byte: 1,
  /** BOS, EOS, control type: decodes to nothing. */
  Control: 2,
  /** UNK, unknown type: decodes to its text; never matched from text or merged. */
  Unknown: 3,
} as const;

interface Index {
  space: ' ' | typeof SPM_SPACE;
  /** Text of every Normal piece -> its id (the lowest id when a text repeats). */
  pieces: Map<string, number>;
  /** Byte value -> id of its "<0xXX>" piece, or -1. */
  byteIds: Int32Array;
  /** Per token: its byte value (Role.Byte) or -1. */
  byteOf: Int16Array;
  roles: Uint8Array;
  /** Per token, its decoded bytes (filled lazily). */
  bytes: (Uint8Array | undefined)[];
}

const cache = new WeakMap<LmTokenizer, Index>();
const utf8 = new TextEncoder();

function index(tok: LmTokenizer): Index {
  const hit = cache.get(tok);
  if (hit) return hit;
  const n = tok.tokens.length;
  if (tok.scores.length !== n) throw new Error(`internal: tokenizer has ${n} tokens but ${tok.scores.length} scores`);
  if (tok.types && tok.types.length !== n) throw new Error(`internal: tokenizer has ${n} tokens but ${tok.types.length} types`);
  for (const [what, id] of [
    ['bos', tok.bos],
    ['eos', tok.eos],
    ['unk', tok.unk],
  ] as const) {
    if (id !== undefined && !(Number.isInteger(id) && id >= 0 && id < n)) throw new Error(`internal: tokenizer ${what} id ${id} is outside its ${n} tokens`);
  }
  const roles = new Uint8Array(n);
  const byteOf = new Int16Array(n).fill(-1);
  const byteIds = new Int32Array(256).fill(-1);
  const pieces = new Map<string, number>();
  let spm = false;
  for (let i = 0; i < n; i++) {
    const text = tok.tokens[i]!;
    const type = tok.types?.[i];
    const m = BYTE_PIECE.exec(text);
    if (i === tok.bos || i === tok.eos || type === TYPE_CONTROL) roles[i] = Role.Control;
    else if (i === tok.unk || type === TYPE_UNKNOWN) roles[i] = Role.Unknown;
    else if (m && (type === undefined || type === TYPE_BYTE)) {
      roles[i] = Role.Byte;
      const b = parseInt(m[1]!, 16);
      byteOf[i] = b;
      if (byteIds[b] === -1) byteIds[b] = i;
    } else {
      if (!pieces.has(text)) pieces.set(text, i);
      if (text.startsWith(SPM_SPACE)) spm = true;
    }
  }
  const idx: Index = { space: spm ? SPM_SPACE : ' ', pieces, byteIds, byteOf, roles, bytes: new Array(n) };
  cache.set(tok, idx);
  return idx;
}

/** The character the vocabulary spells spaces with: ' ' (llama2.c) or '▁' (SentencePiece, GGUF). */
export function tokenizerSpace(tok: LmTokenizer): ' ' | typeof SPM_SPACE {
  return index(tok).space;
}

// ---------------------------------------------------------------------------------------------------
// encode

export interface EncodeOptions {
  /** Start with BOS (default: the tokenizer's addBos). */
  bos?: boolean;
  /** End with EOS (default false). */
  eos?: boolean;
}

/** Token ids of `text`. */
export function encode(tok: LmTokenizer, text: string, opts: EncodeOptions = {}): number[] {
  const idx = index(tok);
  const out: number[] = [];
  if (opts.bos ?? tok.addBos) out.push(special(tok.bos, 'BOS'));
  if (text.length > 0) {
    const spelled = idx.space + (idx.space === ' ' ? text : text.replaceAll(' ', SPM_SPACE));
    for (const id of mergePairs(tok, idx, codePointIds(tok, idx, spelled))) out.push(id);
  }
  if (opts.eos) out.push(special(tok.eos, 'EOS'));
  return out;
}

function special(id: number | undefined, what: string): number {
  if (id === undefined) fail('unsupported', 'tokenizer', `the vocabulary has no ${what} token`);
  return id;
}

/** Step 3: one piece per code point, or its bytes' pieces, or UNK. */
function codePointIds(tok: LmTokenizer, idx: Index, text: string): number[] {
  const ids: number[] = [];
  for (const ch of text) {
    const id = idx.pieces.get(ch);
    if (id !== undefined) {
      ids.push(id);
      continue;
    }
    const bytes = utf8.encode(ch);
    if (bytes.every((b) => idx.byteIds[b]! >= 0)) {
      for (const b of bytes) ids.push(idx.byteIds[b]!);
    } else if (tok.unk !== undefined) {
      ids.push(tok.unk);
    } else {
      const cp = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      fail('unsupported', 'tokenizer', `U+${cp} is not in the vocabulary, which has neither byte pieces for it nor an unknown token`);
    }
  }
  return ids;
}

/** A candidate merge of the adjacent symbols `left` and `right` into piece `id`. */
interface Pair {
  score: number;
  left: number;
  right: number;
  /** The symbols' versions when the pair was formed; a merge bumps its left symbol's version. */
  leftVersion: number;
  rightVersion: number;
  id: number;
}

/** Pops the highest score first, then the leftmost pair (run.c's strict `>` keeps the first best). */
function before(a: Pair, b: Pair): boolean {
  return a.score > b.score || (a.score === b.score && a.left < b.left);
}

/** Step 4, over a doubly linked list of symbols with a binary heap of candidate pairs. */
function mergePairs(tok: LmTokenizer, idx: Index, ids: number[]): number[] {
  const n = ids.length;
  const id = Int32Array.from(ids);
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const version = new Int32Array(n);
  const alive = new Uint8Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  const heap: Pair[] = [];
  const push = (p: Pair): void => {
    heap.push(p);
    for (let i = heap.length - 1; i > 0;) {
      const up = (i - 1) >> 1;
      if (!before(heap[i]!, heap[up]!)) break;
      [heap[i], heap[up]] = [heap[up]!, heap[i]!];
      i = up;
    }
  };
  const pop = (): Pair => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < heap.length && before(heap[l]!, heap[best]!)) best = l;
        if (r < heap.length && before(heap[r]!, heap[best]!)) best = r;
        if (best === i) break;
        [heap[i], heap[best]] = [heap[best]!, heap[i]!];
        i = best;
      }
    }
    return top;
  };
  const consider = (l: number, r: number): void => {
    if (l < 0 || r < 0) return;
    const a = id[l]!;
    const b = id[r]!;
    if (idx.roles[a] !== Role.Normal || idx.roles[b] !== Role.Normal) return;
    const m = idx.pieces.get(tok.tokens[a]! + tok.tokens[b]!);
    if (m === undefined) return;
    const score = tok.scores[m]!;
    if (Number.isNaN(score)) return; // run.c's `>` never picks a NaN score
    push({ score, left: l, right: r, leftVersion: version[l]!, rightVersion: version[r]!, id: m });
  };
  for (let i = 0; i + 1 < n; i++) consider(i, i + 1);
  while (heap.length > 0) {
    const p = pop();
    const { left: l, right: r } = p;
    // Stale: a symbol was merged away or changed since this pair was formed.
    if (!alive[l] || !alive[r] || version[l] !== p.leftVersion || version[r] !== p.rightVersion || next[l] !== r) continue;
    id[l] = p.id;
    version[l]!++;
    alive[r] = 0;
    next[l] = next[r]!;
    if (next[r]! >= 0) prev[next[r]!] = l;
    consider(prev[l]!, l);
    consider(l, next[l]!);
  }
  // Symbol 0 is never merged away (only right-hand symbols are), so the list starts there.
  const out: number[] = [];
  for (let i = n > 0 ? 0 : -1; i >= 0; i = next[i]!) out.push(id[i]!);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// decode

/** The bytes a token stands for, before any leading-space stripping. */
function tokenBytes(tok: LmTokenizer, idx: Index, token: number): Uint8Array {
  const cached = idx.bytes[token];
  if (cached) return cached;
  let bytes: Uint8Array;
  const role = idx.roles[token];
  if (role === Role.Control) bytes = new Uint8Array(0);
  else if (role === Role.Byte) bytes = Uint8Array.of(idx.byteOf[token]!);
  else {
    const text = tok.tokens[token]!;
    bytes = utf8.encode(idx.space === SPM_SPACE ? text.replaceAll(SPM_SPACE, ' ') : text);
  }
  idx.bytes[token] = bytes;
  return bytes;
}

/** decode's bytes as a view of the cached piece (not to be modified). */
function pieceAfter(tok: LmTokenizer, idx: Index, prev: number | undefined, token: number): Uint8Array {
  if (!Number.isInteger(token) || token < 0 || token >= tok.tokens.length) {
    fail('schema', 'tokenizer', `token id ${token} is outside the vocabulary of ${tok.tokens.length} tokens`);
  }
  const bytes = tokenBytes(tok, idx, token);
  if ((prev === undefined || prev === tok.bos) && bytes[0] === 0x20) return bytes.subarray(1);
  return bytes;
}

/**
 * The bytes of `token` following `prev` (undefined at the start of the text), as run.c's decode: the
 * leading space is dropped after BOS or at the start (the dummy prefix), "<0xXX>" is its raw byte,
 * control tokens are empty. The result may be part of a UTF-8 character; see decodeAll.
 */
export function decode(tok: LmTokenizer, prev: number | undefined, token: number): Uint8Array {
  return pieceAfter(tok, index(tok), prev, token).slice();
}

/** The text of a whole sequence of ids: every token's bytes joined, then decoded as UTF-8 once. */
export function decodeAll(tok: LmTokenizer, ids: readonly number[]): string {
  const idx = index(tok);
  const parts: Uint8Array[] = [];
  let total = 0;
  let prev: number | undefined;
  for (const t of ids) {
    const b = pieceAfter(tok, idx, prev, t);
    parts.push(b);
    total += b.length;
    prev = t;
  }
  const all = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  // Not fatal: a model may well emit a byte sequence that is not UTF-8; it shows as U+FFFD.
  return new TextDecoder('utf-8').decode(all);
}
