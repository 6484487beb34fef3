// llama2.c's tokenizer.bin (written by tokenizer.py `export`, read by run.c `build_tokenizer`):
//
//   uint32 max_token_length                     (run.c reads an int)
//   then, for each of vocab_size tokens:
//     float32 score, uint32 length, `length` bytes of UTF-8 (no terminator)
//
// The file does not record how many tokens it holds; the vocabulary size comes from the checkpoint.
// Pieces are SentencePiece's with '▁' written as ' ', BOS as "\n<s>\n", EOS as "\n</s>\n" and the
// byte-fallback pieces kept as "<0xXX>". run.c hard-codes BOS = 1 and EOS = 2 and finds byte b at
// id b + 3 ("the first 3 vocab elements are <unk>, <s>, </s>"), so UNK is 0.

import { readFileSync } from 'node:fs';
import { fail } from '../../diagnostics.ts';
import type { LmTokenizer } from '../../lm/model.ts';

/** Read `path` as the tokenizer of a checkpoint with `vocabSize` tokens. */
export function readTokenizerBin(path: string, vocabSize: number): LmTokenizer {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    fail('io', path, `cannot read: ${(e as Error).message}`);
  }
  return parseTokenizerBin(bytes, vocabSize, path);
}

/**
 * Decode tokenizer.bin bytes. Every malformation is a TritcError naming `label` and the token:
 * truncation ('weights'), a length that is not positive or exceeds max_token_length, a piece that is
 * not UTF-8, a score that is not finite ('schema'), and bytes left over after the last token
 * ('weights': the file was written for another vocabulary).
 */
export function parseTokenizerBin(bytes: Uint8Array, vocabSize: number, label: string): LmTokenizer {
  if (!Number.isInteger(vocabSize) || vocabSize < 1) throw new Error(`internal: parseTokenizerBin: vocabulary size ${vocabSize}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4) fail('weights', `${label}: header`, `the file has ${bytes.length} bytes, fewer than the 4-byte max_token_length`);
  const maxLen = dv.getInt32(0, true);
  if (maxLen < 1) fail('schema', `${label}: header`, `max_token_length is ${maxLen}; it must be positive`);
  // Each token takes at least 9 bytes (score, length, one byte): refuse a vocabulary the file cannot
  // hold before allocating anything for it.
  const least = 4 + 9 * vocabSize;
  if (bytes.length < least) {
    fail(
      'weights',
      label,
      `the file has ${bytes.length} bytes, too few for the checkpoint's ${vocabSize} tokens (at least ${least} bytes: a score, a length and one byte each)`,
    );
  }
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const tokens = new Array<string>(vocabSize);
  const scores = new Float32Array(vocabSize);
  let off = 4;
  for (let i = 0; i < vocabSize; i++) {
    const where = `${label}: token ${i}`;
    if (off + 8 > bytes.length) fail('weights', where, `the file ends at byte ${bytes.length}, inside the score and length of token ${i} of ${vocabSize}`);
    const score = dv.getFloat32(off, true);
    const len = dv.getInt32(off + 4, true);
    if (!Number.isFinite(score)) fail('schema', where, `score ${score} is not finite`);
    // run.c cannot read an empty piece either (fread of 0 items reports failure).
    if (len < 1) fail('schema', where, `length ${len} (at byte ${off + 4}) is not positive`);
    if (len > maxLen) fail('schema', where, `length ${len} (at byte ${off + 4}) is above max_token_length ${maxLen}`);
    off += 8;
    if (off + len > bytes.length) fail('weights', where, `the file ends at byte ${bytes.length}, inside the ${len} bytes of token ${i} of ${vocabSize}`);
    try {
      tokens[i] = utf8.decode(bytes.subarray(off, off + len));
    } catch {
      fail('schema', where, `the ${len} bytes at byte ${off} are not valid UTF-8`);
    }
    scores[i] = score;
    off += len;
  }
  if (off !== bytes.length) {
    fail(
      'weights',
      label,
      `${bytes.length - off} bytes follow the last of the checkpoint's ${vocabSize} tokens; was the tokenizer written for a larger vocabulary?`,
    );
  }
  const tok: LmTokenizer = { model: 'llama', tokens, scores, unk: 0, addBos: true };
  if (vocabSize > 1) tok.bos = 1;
  if (vocabSize > 2) tok.eos = 2;
  return tok;
}

/** Serialise pieces and scores as tokenizer.bin (max_token_length is the longest piece in bytes). */
export function writeTokenizerBin(tokens: readonly string[], scores: ArrayLike<number>): Uint8Array {
  if (tokens.length !== scores.length) throw new Error(`internal: writeTokenizerBin: ${tokens.length} tokens but ${scores.length} scores`);
  const enc = new TextEncoder();
  const pieces = tokens.map((t) => enc.encode(t));
  const total = 4 + pieces.reduce((a, p) => a + 8 + p.length, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(
    0,
    pieces.reduce((a, p) => Math.max(a, p.length), 0),
    true,
  );
  let off = 4;
  for (let i = 0; i < pieces.length; i++) {
    dv.setFloat32(off, scores[i]!, true);
    dv.setUint32(off + 4, pieces[i]!.length, true);
    out.set(pieces[i]!, off + 8);
    off += 8 + pieces[i]!.length;
  }
  return out;
}
