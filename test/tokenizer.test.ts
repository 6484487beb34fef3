import { describe, expect, it } from 'vitest';
import { TritcError } from '../compiler/diagnostics.ts';
import { rng } from '../compiler/harness/inputs.ts';
import type { LmTokenizer } from '../compiler/lm/model.ts';
import { SPM_SPACE, decode, decodeAll, encode, tokenizerSpace } from '../compiler/lm/tokenizer.ts';
import { parseTokenizerBin, readTokenizerBin, writeTokenizerBin } from '../compiler/readers/llama2c/tokenizer_bin.ts';

function tritcError(f: () => unknown): TritcError {
  try {
    f();
  } catch (e) {
    if (!(e instanceof TritcError)) throw e;
    return e;
  }
  throw new Error('expected a TritcError, but nothing was thrown');
}

const hex = (b: number): string => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;

// ---------------------------------------------------------------------------------------------------
// vocabularies

/** llama2.c-style (tokenizer.bin): <unk>, BOS, EOS, the 256 byte pieces at 3..258, then pieces with ' '. */
function llama2cVocab(): LmTokenizer {
  const pieces: [string, number][] = [
    ['<unk>', 0],
    ['\n<s>\n', 0],
    ['\n</s>\n', 0],
    ...Array.from({ length: 256 }, (_, b): [string, number] => [hex(b), 0]),
    [' ', -10], // 259
    ['a', -10], // 260
    ['b', -10], // 261
    ['c', -10], // 262
    ['h', -10], // 263
    ['e', -10], // 264
    ['l', -10], // 265
    ['o', -10], // 266
    ['é', -10], // 267
    ['he', -1], // 268
    ['ll', -2], // 269
    ['lo', -1.5], // 270
    ['llo', -5], // 271
    ['cb', -2], // 272
    ['bc', -2], // 273
    [' he', -3], // 274
  ];
  return { model: 'llama', tokens: pieces.map((p) => p[0]), scores: Float32Array.from(pieces.map((p) => p[1])), bos: 1, eos: 2, unk: 0, addBos: true };
}

/** SentencePiece / GGUF-style: '▁' for spaces, token types, the byte pieces after the others (22..277). */
function spmVocab(withTypes = true): LmTokenizer {
  const pieces: [string, number, number][] = [
    ['<unk>', 0, 2],
    ['<s>', 0, 3],
    ['</s>', 0, 3],
    ['▁', -10, 1], // 3
    ['h', -10, 1], // 4
    ['e', -10, 1], // 5
    ['l', -10, 1], // 6
    ['o', -10, 1], // 7
    ['w', -10, 1], // 8
    ['r', -10, 1], // 9
    ['d', -10, 1], // 10
    ['▁h', -4, 1], // 11
    ['he', -1, 1], // 12
    ['ll', -2, 1], // 13
    ['lo', -1.5, 1], // 14
    ['▁he', -3, 1], // 15
    ['llo', -5, 1], // 16
    ['▁w', -2.5, 1], // 17
    ['or', -1.2, 1], // 18
    ['▁wor', -3.5, 1], // 19
    ['ld', -1.1, 1], // 20
    ['▁world', -0.5, 1], // 21
    ...Array.from({ length: 256 }, (_, b): [string, number, number] => [hex(b), 0, 6]),
  ];
  const tok: LmTokenizer = {
    model: 'llama',
    tokens: pieces.map((p) => p[0]),
    scores: Float32Array.from(pieces.map((p) => p[1])),
    bos: 1,
    eos: 2,
    unk: 0,
    addBos: true,
  };
  if (withTypes) tok.types = Int32Array.from(pieces.map((p) => p[2]));
  return tok;
}

const L2C_BYTE = (b: number): number => b + 3;
const SPM_BYTE = (b: number): number => b + 22;

// ---------------------------------------------------------------------------------------------------
// encode, worked out by hand

describe('encode, llama2.c vocabulary', () => {
  const tok = llama2cVocab();

  it('uses spaces as they are', () => {
    expect(tokenizerSpace(tok)).toBe(' ');
  });

  it('merges the best-scoring pair first', () => {
    // " hello" = [' ', h, e, l, l, o]; pairs he -1, ll -2, lo -1.5:
    //   he -> [' ', he, l, l, o]   (new pair ' he' -3)
    //   lo -> [' ', he, l, lo]     (new pair llo -5; 'll' is gone)
    //   ' he' -> [' he', l, lo]
    //   llo -> [' he', llo]
    expect(encode(tok, 'hello', { bos: false })).toEqual([274, 271]);
    expect(encode(tok, 'hello')).toEqual([1, 274, 271]);
    expect(encode(tok, 'hello', { bos: true, eos: true })).toEqual([1, 274, 271, 2]);
  });

  it('takes the leftmost pair on a tie', () => {
    // " cbc": cb -2 and bc -2 tie; the leftmost (cb) wins, then nothing merges.
    expect(encode(tok, 'cbc', { bos: false })).toEqual([259, 272, 262]);
  });

  it('falls back to byte pieces at byte + 3 for characters not in the vocabulary', () => {
    // é is a piece; 中 is E4 B8 AD; 😀 is F0 9F 98 80.
    expect(encode(tok, 'é中', { bos: false })).toEqual([259, 267, L2C_BYTE(0xe4), L2C_BYTE(0xb8), L2C_BYTE(0xad)]);
    expect(encode(tok, '😀', { bos: false })).toEqual([259, ...[0xf0, 0x9f, 0x98, 0x80].map(L2C_BYTE)]);
  });

  it('never matches a special piece from text', () => {
    // "<0x41>" typed out is six characters, each a byte piece, not the byte piece for 'A'.
    expect(encode(tok, '<0x41>', { bos: false })).toEqual([259, ...[...'<0x41>'].map((c) => L2C_BYTE(c.charCodeAt(0)))]);
  });

  it('writes the dummy prefix as a byte piece when there is no space piece, and decodes it away', () => {
    const noSpace: LmTokenizer = { ...tok, tokens: tok.tokens.map((t) => (t === ' ' ? 'zz' : t)) };
    expect(encode(noSpace, 'a', { bos: false })).toEqual([L2C_BYTE(0x20), 260]);
    expect(decodeAll(noSpace, encode(noSpace, 'a b'))).toBe('a b');
  });

  it('encodes the empty string as nothing, or BOS (no dummy prefix)', () => {
    expect(encode(tok, '', { bos: false })).toEqual([]);
    expect(encode(tok, '')).toEqual([1]);
    expect(encode(tok, '', { eos: true })).toEqual([1, 2]);
  });
});

describe('encode, SentencePiece vocabulary', () => {
  for (const withTypes of [true, false]) {
    const tok = spmVocab(withTypes);
    describe(withTypes ? 'with token types' : 'without token types', () => {
      it('writes spaces as ▁', () => {
        expect(tokenizerSpace(tok)).toBe(SPM_SPACE);
      });

      it('merges by score across words', () => {
        // "▁hello▁world": he -1, ld -1.1, or -1.2, lo -1.5, ▁w -2.5, ▁he -3, ▁wor -3.5, ▁world -0.5,
        // llo -5, in that order (each new pair joining the queue as its neighbours merge).
        expect(encode(tok, 'hello world', { bos: false })).toEqual([15, 16, 21]);
        expect(encode(tok, 'hello world')).toEqual([1, 15, 16, 21]);
      });

      it('finds byte pieces by their text, wherever they are', () => {
        expect(encode(tok, 'hé', { bos: false })).toEqual([11, SPM_BYTE(0xc3), SPM_BYTE(0xa9)]);
        expect(encode(tok, 'a b', { bos: false })).toEqual([3, SPM_BYTE(0x61), 3, SPM_BYTE(0x62)]);
      });

      it('encodes the empty string as nothing', () => {
        expect(encode(tok, '', { bos: false })).toEqual([]);
      });
    });
  }

  it('uses UNK when there are no byte pieces', () => {
    const tok = spmVocab();
    const keep = tok.tokens.length - 256;
    const small: LmTokenizer = { ...tok, tokens: tok.tokens.slice(0, keep), scores: tok.scores.slice(0, keep), types: tok.types!.slice(0, keep) };
    expect(encode(small, 'hé', { bos: false })).toEqual([11, 0]);
    const noUnk: LmTokenizer = { ...small, tokens: [...small.tokens], unk: undefined } as LmTokenizer;
    delete noUnk.unk;
    const e = tritcError(() => encode(noUnk, 'hé'));
    expect(e.message).toMatch(/U\+00E9 is not in the vocabulary/);
  });
});

// ---------------------------------------------------------------------------------------------------
// decode

describe('decode', () => {
  const tok = llama2cVocab();
  const text = (b: Uint8Array): string => new TextDecoder().decode(b);

  it('strips the leading space after BOS and at the start, not elsewhere', () => {
    expect(text(decode(tok, 1, 274))).toBe('he');
    expect(text(decode(tok, undefined, 274))).toBe('he');
    expect(text(decode(tok, 271, 274))).toBe(' he');
  });

  it('turns byte pieces into raw bytes and control pieces into nothing', () => {
    expect([...decode(tok, 5, L2C_BYTE(0xe4))]).toEqual([0xe4]);
    expect(decode(tok, 5, 1).length).toBe(0);
    expect(decode(tok, 5, 2).length).toBe(0);
    expect(text(decode(tok, 5, 0))).toBe('<unk>');
  });

  it('joins bytes before decoding UTF-8, so split characters come out whole', () => {
    expect(decodeAll(tok, [1, 259, 267, L2C_BYTE(0xe4), L2C_BYTE(0xb8), L2C_BYTE(0xad)])).toBe('é中');
    expect(decodeAll(tok, [1, 274, 271, 2])).toBe('hello');
    expect(decodeAll(tok, [L2C_BYTE(0xe4)])).toBe('\uFFFD');
  });

  it('maps ▁ back to spaces in SentencePiece vocabularies', () => {
    const spm = spmVocab();
    expect(decodeAll(spm, [1, 15, 16, 21])).toBe('hello world');
    expect(text(decode(spm, 16, 21))).toBe(' world');
  });

  it('rejects ids outside the vocabulary', () => {
    expect(tritcError(() => decode(tok, undefined, 9999)).message).toMatch(/token id 9999 is outside the vocabulary of 275 tokens/);
  });
});

// ---------------------------------------------------------------------------------------------------
// round trips and a cross-check against run.c's loop

const PARTS = ['a', 'b', 'c', 'h', 'e', 'l', 'o', 'w', 'r', 'd', ' ', '  ', '\n', '\t', 'é', '中', '😀', '<0x41>', 'Z', 'll', '\u0000', 'hello', ' world'];

function randomText(next: () => number, maxParts: number): string {
  let s = '';
  const n = Math.floor(next() * (maxParts + 1));
  for (let i = 0; i < n; i++) s += PARTS[Math.floor(next() * PARTS.length)]!;
  return s;
}

describe('decode(encode(s)) == s', () => {
  for (const [name, tok] of [
    ['llama2.c', llama2cVocab()],
    ['SentencePiece', spmVocab()],
    ['SentencePiece without types', spmVocab(false)],
  ] as const) {
    it(`${name} vocabulary, 500 seeded random strings`, () => {
      const next = rng(42);
      for (let i = 0; i < 500; i++) {
        const s = randomText(next, 12);
        expect(decodeAll(tok, encode(tok, s, { bos: true }))).toBe(s);
        expect(decodeAll(tok, encode(tok, s, { bos: false, eos: true }))).toBe(s);
      }
    });
  }
});

/** run.c's encode loop, transcribed: rescan every adjacent pair after each merge (O(n^2)). */
function runcEncode(tok: LmTokenizer, text: string): number[] {
  const special = (i: number): boolean => i === tok.bos || i === tok.eos || i === tok.unk || /^<0x[0-9A-F]{2}>$/.test(tok.tokens[i]!);
  const lookup = (s: string): number => {
    for (let i = 0; i < tok.tokens.length; i++) if (!special(i) && tok.tokens[i] === s) return i;
    return -1;
  };
  const ids: number[] = [];
  if (text !== '') {
    for (const ch of ' ' + text) {
      const id = lookup(ch);
      if (id >= 0) ids.push(id);
      else for (const b of new TextEncoder().encode(ch)) ids.push(b + 3);
    }
  }
  for (;;) {
    let best = -Infinity;
    let bestId = -1;
    let bestIdx = -1;
    for (let i = 0; i + 1 < ids.length; i++) {
      if (special(ids[i]!) || special(ids[i + 1]!)) continue;
      const id = lookup(tok.tokens[ids[i]!]! + tok.tokens[ids[i + 1]!]!);
      if (id >= 0 && tok.scores[id]! > best) {
        best = tok.scores[id]!;
        bestId = id;
        bestIdx = i;
      }
    }
    if (bestIdx < 0) break;
    ids.splice(bestIdx, 2, bestId);
  }
  return ids;
}

/** A llama2.c-style vocabulary of random merges with scores from a small set (so ties are common). */
function randomVocab(seed: number, merges: number, base = [' ', 'a', 'b', 'c', 'd', 'e'], maxLen = 8): LmTokenizer {
  const next = rng(seed);
  const tokens = ['<unk>', '\n<s>\n', '\n</s>\n', ...Array.from({ length: 256 }, (_, b) => hex(b))];
  const scores = tokens.map(() => 0);
  const seen = new Set(tokens);
  const normal: string[] = [];
  for (const c of base) {
    tokens.push(c);
    scores.push(-100);
    seen.add(c);
    normal.push(c);
  }
  for (let tries = 0; normal.length < base.length + merges && tries < 1000 * merges; tries++) {
    const t = normal[Math.floor(next() * normal.length)]! + normal[Math.floor(next() * normal.length)]!;
    if (t.length > maxLen || seen.has(t)) continue;
    seen.add(t);
    tokens.push(t);
    scores.push(-Math.floor(next() * 6));
    normal.push(t);
  }
  return { model: 'llama', tokens, scores: Float32Array.from(scores), bos: 1, eos: 2, unk: 0, addBos: false };
}

describe('the priority queue picks the pairs run.c picks', () => {
  it('random vocabularies with ties, random strings', () => {
    for (let v = 0; v < 5; v++) {
      const tok = randomVocab(100 + v, 80);
      const next = rng(200 + v);
      for (let i = 0; i < 100; i++) {
        let s = '';
        const n = Math.floor(next() * 40);
        for (let k = 0; k < n; k++) s += ' abcdeé中'[Math.floor(next() * 9)]!;
        expect(encode(tok, s)).toEqual(runcEncode(tok, s));
      }
    }
  });

  it('a 32k vocabulary and a 20k-character prompt', () => {
    const letters = [...' abcdefghijklmnop'];
    const tok = randomVocab(7, 32000 - 259 - letters.length, letters, 16);
    expect(tok.tokens.length).toBe(32000);
    const next = rng(8);
    let s = '';
    for (let k = 0; k < 20000; k++) s += ' abcdefghijklmnopé'[Math.floor(next() * 18)]!;
    const t0 = performance.now();
    const ids = encode(tok, s);
    const ms = performance.now() - t0;
    expect(decodeAll(tok, ids)).toBe(s);
    expect(ids.length).toBeLessThan(s.length);
    // Generous: the O(n log n) merge takes tens of milliseconds here; run.c's O(n^2) would take minutes.
    expect(ms).toBeLessThan(5000);
  });
});

// ---------------------------------------------------------------------------------------------------
// tokenizer.bin

describe('tokenizer.bin', () => {
  const tok = llama2cVocab();
  const bin = writeTokenizerBin(tok.tokens, tok.scores);

  it("round-trips pieces and scores, with run.c's special ids", () => {
    const back = parseTokenizerBin(bin, tok.tokens.length, 'tok.bin');
    expect(back.tokens).toEqual(tok.tokens);
    expect(back.scores).toEqual(tok.scores);
    expect(back).toMatchObject({ model: 'llama', bos: 1, eos: 2, unk: 0, addBos: true });
    expect(new DataView(bin.buffer).getInt32(0, true)).toBe(6); // "\n</s>\n" and "<0xXX>" are the longest
    expect(encode(back, 'hello')).toEqual(encode(tok, 'hello'));
  });

  const err = (bytes: Uint8Array, vocab = tok.tokens.length): TritcError => tritcError(() => parseTokenizerBin(bytes, vocab, 'tok.bin'));
  const patched = (f: (dv: DataView) => void): Uint8Array => {
    const b = bin.slice();
    f(new DataView(b.buffer));
    return b;
  };
  // Token 0 "<unk>" sits at bytes 4..17: score at 4, length at 8, text at 12.

  it('truncation', () => {
    expect(err(bin.subarray(0, 2)).message).toMatch(/^tok\.bin: header: the file has 2 bytes/);
    const e = err(bin.subarray(0, bin.length - 1));
    expect(e.code).toBe('weights');
    expect(e.message).toMatch(/^tok\.bin: token 274: the file ends at byte \d+, inside the 3 bytes of token 274 of 275/);
    expect(err(bin, 100000).message).toMatch(/too few for the checkpoint's 100000 tokens/);
  });

  it('lengths over max_token_length, non-positive lengths and max_token_length', () => {
    expect(err(patched((dv) => dv.setInt32(0, 4, true))).message).toMatch(/^tok\.bin: token 0: length 5 \(at byte 8\) is above max_token_length 4/);
    expect(err(patched((dv) => dv.setInt32(8, -1, true))).message).toMatch(/^tok\.bin: token 0: length -1 \(at byte 8\) is not positive/);
    expect(err(patched((dv) => dv.setInt32(8, 0, true))).code).toBe('schema');
    expect(err(patched((dv) => dv.setInt32(0, 0, true))).message).toMatch(/max_token_length is 0/);
  });

  it('bytes after the last token', () => {
    const e = err(bin, tok.tokens.length - 1);
    // The last token, " he", takes 8 + 3 bytes.
    expect(e.message).toMatch(/11 bytes follow the last of the checkpoint's 274 tokens/);
  });

  it('pieces that are not UTF-8 and scores that are not finite', () => {
    expect(err(patched((dv) => dv.setUint8(12, 0xff))).message).toMatch(/token 0: the 5 bytes at byte 12 are not valid UTF-8/);
    expect(err(patched((dv) => dv.setFloat32(4, NaN, true))).message).toMatch(/token 0: score NaN is not finite/);
  });

  it('a missing file is an io error', () => {
    expect(tritcError(() => readTokenizerBin('/nonexistent/tokenizer.bin', 10)).code).toBe('io');
  });
});
