import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TritcError } from '../compiler/diagnostics.ts';
import { blk, type LmFloat32, type LmInt8, type LmModel } from '../compiler/lm/model.ts';
import { looksLikeLlama2c, readLlama2c } from '../compiler/readers/llama2c/checkpoint.ts';
import { writeTokenizerBin } from '../compiler/readers/llama2c/tokenizer_bin.ts';
import { type Llama2cSpec, quantizeQ80, randomWeights, writeLlama2c } from './support/llama2c_writer.ts';

const STORIES = new URL('../../shared/data/llama2c_stories260K/stories260K.bin', import.meta.url).pathname;

const dir = mkdtempSync(join(tmpdir(), 'tritc-llama2c-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
function tmpFile(bytes: Uint8Array, name = `m${fileNo++}.bin`): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

function tritcError(f: () => unknown): TritcError {
  try {
    f();
  } catch (e) {
    if (!(e instanceof TritcError)) throw e;
    return e;
  }
  throw new Error('expected a TritcError, but nothing was thrown');
}

function f32(m: LmModel, name: string): LmFloat32 {
  const t = m.tensors.get(name);
  if (t?.kind !== 'float32') throw new Error(`${name}: expected float32, got ${t?.kind}`);
  return t;
}

function i8(m: LmModel, name: string): LmInt8 {
  const t = m.tensors.get(name);
  if (t?.kind !== 'int8') throw new Error(`${name}: expected int8, got ${t?.kind}`);
  return t;
}

// ---------------------------------------------------------------------------------------------------
// the real stories260K.bin (version 0)

describe('stories260K.bin (llama2.c version 0)', () => {
  const bytes = new Uint8Array(readFileSync(STORIES));
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  /** The float32 at float index `i` after the 28-byte header, read straight from the file. */
  const raw = (i: number): number => dv.getFloat32(28 + 4 * i, true);
  const m = readLlama2c(STORIES);
  // Sizes from the model card (stories260K.md), used to compute offsets independently of the reader.
  const D = 64,
    F = 172,
    L = 5,
    KV = 32,
    V = 512;

  it('reads the config the model card gives', () => {
    expect(m.format).toBe('llama2c');
    expect(m.name).toBe('stories260K');
    expect(m.config).toEqual({
      arch: 'llama',
      dim: 64,
      hiddenDim: 172,
      nLayers: 5,
      nHeads: 8,
      nKvHeads: 4,
      headDim: 8,
      vocabSize: 512,
      contextLength: 512,
      normEps: Math.fround(1e-5), // run.c adds 1e-5f
      ropeTheta: 10000,
      ropeDim: 8,
      ropeStyle: 'adjacent',
      ffnAct: 'silu',
      subNorms: false,
      tiedOutput: true,
      activations: 'float',
    });
    expect(m.tensors.has('output')).toBe(false);
    expect(m.tensors.size).toBe(1 + 9 * 5 + 1);
    expect(m.sourceHash).toBe(createHash('sha256').update(bytes).digest('hex').slice(0, 16));
    expect(m.tokenizer).toBeUndefined();
  });

  it('places weights where run.c maps them', () => {
    // token_embedding_table starts right after the header.
    expect(f32(m, 'token_embd').data[0]).toBe(raw(0));
    expect(f32(m, 'token_embd').data[V * D - 1]).toBe(raw(V * D - 1));
    // rms_att_weight for all layers, then wq for all layers.
    const attNorm = V * D;
    expect(f32(m, blk(2, 'attn_norm')).data[5]).toBe(raw(attNorm + 2 * D + 5));
    const wq = attNorm + L * D;
    expect(f32(m, blk(3, 'attn_q')).data[5 * D + 7]).toBe(raw(wq + 3 * D * D + 5 * D + 7));
    const wk = wq + L * D * D;
    expect(f32(m, blk(1, 'attn_k')).shape).toEqual([KV, D]);
    expect(f32(m, blk(1, 'attn_k')).data[31 * D + 63]).toBe(raw(wk + KV * D + 31 * D + 63));
    const wv = wk + L * KV * D;
    const wo = wv + L * KV * D;
    expect(f32(m, blk(0, 'attn_v')).data[0]).toBe(raw(wv));
    expect(f32(m, blk(4, 'attn_output')).data[D * D - 1]).toBe(raw(wo + 5 * D * D - 1));
    const ffnNorm = wo + L * D * D;
    const w1 = ffnNorm + L * D;
    const w2 = w1 + L * F * D;
    const w3 = w2 + L * D * F;
    expect(f32(m, blk(4, 'ffn_norm')).data[63]).toBe(raw(ffnNorm + 4 * D + 63));
    expect(f32(m, blk(2, 'ffn_gate')).data[100 * D + 3]).toBe(raw(w1 + 2 * F * D + 100 * D + 3));
    expect(f32(m, blk(4, 'ffn_down')).shape).toEqual([D, F]);
    expect(f32(m, blk(4, 'ffn_down')).data[10 * F + 100]).toBe(raw(w2 + 4 * D * F + 10 * F + 100));
    expect(f32(m, blk(0, 'ffn_up')).data[1]).toBe(raw(w3 + 1));
    const finalNorm = w3 + L * F * D;
    expect(f32(m, 'output_norm').data[0]).toBe(raw(finalNorm));
    // Then only the two freq_cis tables (512 x 4 floats each) remain.
    expect(bytes.length).toBe(28 + 4 * (finalNorm + D + 2 * 512 * 4));
  });

  it('is recognised by looksLikeLlama2c, and a size off by 4 bytes is not', () => {
    expect(looksLikeLlama2c(bytes.subarray(0, 256), bytes.length)).toBe(true);
    expect(looksLikeLlama2c(bytes.subarray(0, 256), bytes.length + 4)).toBe(false);
    expect(looksLikeLlama2c(new TextEncoder().encode('{"format": "tritc"}'), 19)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------
// round trips through export.py's layouts

const SPECS: Omit<Llama2cSpec, 'version' | 'shared'>[] = [
  { dim: 16, hiddenDim: 48, nLayers: 2, nHeads: 4, nKvHeads: 4, vocabSize: 37, seqLen: 12 },
  { dim: 32, hiddenDim: 64, nLayers: 3, nHeads: 8, nKvHeads: 2, vocabSize: 50, seqLen: 7 },
  { dim: 24, hiddenDim: 40, nLayers: 1, nHeads: 6, nKvHeads: 3, vocabSize: 9, seqLen: 3 },
];

describe('round trips', () => {
  for (const version of [0, 1, 2] as const) {
    for (const shared of [true, false]) {
      SPECS.forEach((base, k) => {
        const groupSize = base.dim === 24 ? 8 : 16;
        const spec: Llama2cSpec = { ...base, version, shared, ...(version === 2 ? { groupSize } : {}) };
        it(`version ${version}, ${shared ? 'shared' : 'unshared'} classifier, dim ${spec.dim}, ${spec.nHeads}/${spec.nKvHeads} heads`, () => {
          const weights = randomWeights(spec, 1000 * version + 10 * k + (shared ? 1 : 0));
          const bytes = writeLlama2c(spec, weights);
          const path = tmpFile(bytes);
          expect(looksLikeLlama2c(bytes.subarray(0, 256), bytes.length)).toBe(true);
          const m = readLlama2c(path);
          expect(m.config.tiedOutput).toBe(shared);
          expect(m.config.nKvHeads).toBe(spec.nKvHeads);
          expect(m.config.contextLength).toBe(spec.seqLen);
          expect([...m.tensors.keys()].sort()).toEqual([...weights.keys()].sort());
          for (const [name, want] of weights) {
            const isNorm = /norm$/.test(name);
            if (version === 2 && !isNorm) {
              const t = i8(m, name);
              const q = quantizeQ80(want, groupSize);
              expect(t.groupSize).toBe(groupSize);
              expect(t.codes).toEqual(q.codes);
              expect(t.scales).toEqual(q.scales);
              expect(t.scales.length).toBe(t.shape[0] * (t.shape[1] / groupSize));
            } else {
              expect(f32(m, name).data).toEqual(want);
            }
          }
        });
      });
    }
  }

  it("attaches a tokenizer.bin of the checkpoint's vocabulary size", () => {
    const spec: Llama2cSpec = { ...SPECS[2]!, version: 1, shared: true };
    const path = tmpFile(writeLlama2c(spec, randomWeights(spec, 5)));
    const tokens = ['<unk>', '\n<s>\n', '\n</s>\n', 'a', 'b', ' ', 'ab', ' a', 'é'];
    const tokPath = tmpFile(
      writeTokenizerBin(
        tokens,
        tokens.map((_, i) => -i),
      ),
      'tok.bin',
    );
    const m = readLlama2c(path, { tokenizer: tokPath, name: 'tiny' });
    expect(m.name).toBe('tiny');
    expect(m.tokenizer?.tokens).toEqual(tokens);
    expect(m.tokenizer?.bos).toBe(1);
    const bigger = tmpFile(
      writeTokenizerBin(
        [...tokens, 'x'],
        [...tokens, 'x'].map(() => 0),
      ),
      'tok10.bin',
    );
    const e = tritcError(() => readLlama2c(path, { tokenizer: bigger }));
    expect(e.message).toMatch(/tok10\.bin: .*follow the last of the checkpoint's 9 tokens/);
  });
});

// ---------------------------------------------------------------------------------------------------
// malformed files: one test per class of problem

describe('malformed checkpoints', () => {
  const base: Llama2cSpec = { dim: 16, hiddenDim: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 11, seqLen: 6, version: 0, shared: true };
  const file = (spec: Llama2cSpec, patch?: (dv: DataView, bytes: Uint8Array) => void): Uint8Array => {
    const bytes = writeLlama2c(spec, randomWeights(spec, 77));
    patch?.(new DataView(bytes.buffer), bytes);
    return bytes;
  };
  const err = (bytes: Uint8Array): TritcError => {
    const path = tmpFile(bytes);
    const e = tritcError(() => readLlama2c(path));
    expect(e.message.startsWith(`${path}: `)).toBe(true);
    expect(e.message).not.toMatch(/\n/);
    return e;
  };

  it('a file shorter than the header', () => {
    const e = err(new Uint8Array(10));
    expect(e.code).toBe('weights');
    expect(e.message).toMatch(/: header: the file has 10 bytes, fewer than the 28-byte header/);
    const v2 = file({ ...base, version: 2, groupSize: 16 }).subarray(0, 100);
    expect(err(v2).message).toMatch(/fewer than the 256-byte header of a version 2 checkpoint/);
  });

  it('non-positive sizes', () => {
    const e = err(file(base, (dv) => dv.setInt32(0, 0, true)));
    expect(e.code).toBe('schema');
    expect(e.message).toMatch(/header: dim is 0; it must be positive/);
    expect(err(file(base, (dv) => dv.setInt32(8, -3, true))).message).toMatch(/n_layers is -3/);
    expect(err(file(base, (dv) => dv.setInt32(20, 0, true))).message).toMatch(/vocab_size is 0/);
    const v1 = file({ ...base, version: 1 }, (dv) => dv.setInt32(28, -11, true));
    expect(err(v1).message).toMatch(/vocab_size is -11; only version 0 files mark an unshared classifier/);
  });

  it('absurd sizes fail at once, before any allocation', () => {
    const e = err(file(base, (dv) => dv.setInt32(0, 2 ** 30, true)));
    expect(e.code).toBe('limit');
    expect(e.message).toMatch(/above the limit of 2\^31 - 1/);
    // Within the per-tensor limit but not the file: the implied size is checked before reading.
    const layers = err(file(base, (dv) => dv.setInt32(8, 2 ** 31 - 1, true)));
    expect(layers.code).toBe('weights');
    expect(layers.message).toMatch(/implies \d+ bytes/);
  });

  it('n_heads not dividing dim', () => {
    expect(err(file(base, (dv) => dv.setInt32(12, 5, true))).message).toMatch(/header: n_heads 5 does not divide dim 16/);
  });

  it('n_kv_heads not dividing n_heads', () => {
    expect(err(file(base, (dv) => dv.setInt32(16, 3, true))).message).toMatch(/header: n_kv_heads 3 does not divide n_heads 4/);
  });

  it('an odd head size', () => {
    const spec = { ...base, dim: 12, nHeads: 4, nKvHeads: 4 };
    expect(err(file(spec)).message).toMatch(/head size dim \/ n_heads = 3 is odd/);
  });

  it('a file size that does not match the header, with both classifier layouts', () => {
    const good = file(base);
    const e = err(good.subarray(0, good.length - 4));
    expect(e.code).toBe('weights');
    const shared = good.length;
    const unshared = shared + 4 * 11 * 16;
    expect(e.message).toContain(`implies ${shared} bytes with a shared classifier or ${unshared} bytes with a separate one`);
    expect(e.message).toContain(`but the file has ${shared - 4} bytes`);
    // An unshared file whose vocab_size sign says shared.
    const flipped = err(file({ ...base, shared: false }, (dv) => dv.setInt32(20, 11, true)));
    expect(flipped.message).toMatch(/vocab_size 11 says shared\), but the file has \d+ bytes; it would fit the other classifier layout/);
    const v1 = err(file({ ...base, version: 1 }, (_, b) => (b[36] = 0)));
    expect(v1.message).toMatch(/the shared_classifier byte says unshared/);
  });

  it('an unknown version', () => {
    const e = err(file({ ...base, version: 1 }, (dv) => dv.setInt32(4, 3, true)));
    expect(e.code).toBe('unsupported');
    expect(e.message).toMatch(/header: version 3 after the "ak42" magic/);
  });

  it('a shared_classifier byte other than 0 or 1', () => {
    expect(err(file({ ...base, version: 1 }, (_, b) => (b[36] = 7))).message).toMatch(/shared_classifier byte \(offset 36\) is 7/);
  });

  it('a group size that does not divide the quantized rows', () => {
    // hidden_dim 40 with groups of 16: w2's 16 x 40 = 640 values split into whole groups, as
    // export.py checks, but its rows of 40 would straddle groups.
    const spec: Llama2cSpec = { ...base, hiddenDim: 40, version: 2, groupSize: 16 };
    const e = err(file(spec));
    expect(e.code).toBe('schema');
    expect(e.message).toMatch(/group_size 16 does not divide hidden_dim 40/);
    expect(err(file({ ...base, version: 2, groupSize: 16 }, (dv) => dv.setInt32(37, 0, true))).message).toMatch(/group_size \(offset 37\) is 0/);
    expect(err(file({ ...base, version: 2, groupSize: 16 }, (dv) => dv.setInt32(37, 32, true))).message).toMatch(/group_size 32 does not divide dim 16/);
  });

  it('non-finite weights, naming the array and layer', () => {
    const D = 16,
      V = 11,
      L = 2;
    // Version 0: wq of layer 1 starts after the embedding, the attention norms and wq of layer 0.
    const at = 28 + 4 * (V * D + L * D + D * D + 3);
    const e = err(file(base, (dv) => dv.setFloat32(at, NaN, true)));
    expect(e.code).toBe('weights');
    expect(e.message).toMatch(/: weights: wq of layer 1: value NaN at index 3 \(file offset \d+\) is not finite/);
    // Version 2: a scale of the token embedding.
    const spec: Llama2cSpec = { ...base, version: 2, groupSize: 16 };
    const scaleAt = 256 + 4 * (2 * L * D + D) + V * D;
    const e2 = err(file(spec, (dv) => dv.setFloat32(scaleAt + 4, Infinity, true)));
    expect(e2.message).toMatch(/weights: token_embedding_table \(scales\): value Infinity at index 1/);
  });

  it('a missing file and a directory are io errors', () => {
    expect(tritcError(() => readLlama2c(join(dir, 'nope.bin'))).code).toBe('io');
    expect(tritcError(() => readLlama2c(dir)).code).toBe('io');
  });
});
