// The float64 reference forward pass (test/support/lm_reference.ts) on the real model files, as a
// cross-check of the LM readers, and on small hand-built models whose logits are known by hand or
// must satisfy an invariance.
//
// Real files (../shared/data): files that hold the same weights must give the same logits; the
// greedy continuations are printed so that a human can compare them with llama.cpp / llama2.c.
// Note for that comparison: llama.cpp multiplies TQ1_0/TQ2_0/I2_S weights with activations it first
// quantizes to 8 bits (Q8_K, I8_S), while the readers record activations 'float' for GGUF; its logits
// for the quantized files therefore differ slightly from these, the F32 files' much less.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LmConfig, LmModel, LmTensor, LmTernary } from '../compiler/lm/model.ts';
import { readGgufLm } from '../compiler/readers/gguf/lm.ts';
import { readLlama2c } from '../compiler/readers/llama2c/checkpoint.ts';
import {
  ReferenceDecoder,
  argmax,
  bfloat16BitsToNumber,
  dequantize,
  greedyContinuation,
  halfBitsToNumber,
  quantizeInt8PerToken,
  referenceLogits,
  roundHalfEven,
} from './support/lm_reference.ts';

const DATA = join(import.meta.dirname, '../../shared/data');
const GGUF = join(DATA, 'gguf');
const STORIES_BIN = join(DATA, 'llama2c_stories260K/stories260K.bin');

const loaded = new Map<string, LmModel>();
function gguf(file: string): LmModel {
  let m = loaded.get(file);
  if (!m) {
    m = readGgufLm(join(GGUF, file));
    loaded.set(file, m);
  }
  return m;
}
function stories(): LmModel {
  let m = loaded.get(STORIES_BIN);
  if (!m) {
    m = readLlama2c(STORIES_BIN);
    loaded.set(STORIES_BIN, m);
  }
  return m;
}

/** Largest |a - b| over all positions and vocab entries. */
function maxAbsDiff(a: Float64Array[], b: Float64Array[]): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    expect(a[i]!.length).toBe(b[i]!.length);
    for (let j = 0; j < a[i]!.length; j++) m = Math.max(m, Math.abs(a[i]![j]! - b[i]![j]!));
  }
  return m;
}

function maxAbs(a: Float64Array[]): number {
  let m = 0;
  for (const row of a) for (const v of row) m = Math.max(m, Math.abs(v));
  return m;
}

/** A small deterministic PRNG (mulberry32), uniform in [0, 1). */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Round a value to the nearest binary16 (ties to even) and return its bits. */
function toHalfBits(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (Number.isNaN(x)) return 0x7e00;
  if (a < 2 ** -14) return sign | roundHalfEven(a / 2 ** -24); // subnormal (1024 carries into the smallest normal)
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  let m = roundHalfEven((a / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e++;
  }
  if (e + 15 >= 31) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | m;
}

/** A copy of `model` whose float32 tensors `names` are stored as float16 (rounded to nearest even). */
function withHalf(model: LmModel, names: string[]): LmModel {
  const tensors = new Map(model.tensors);
  for (const n of names) {
    const t = tensors.get(n);
    if (!t || t.kind !== 'float32') throw new Error(`${n} is not float32`);
    tensors.set(n, { kind: 'float16', shape: [...t.shape], bits: Uint16Array.from(t.data, toHalfBits) });
  }
  return { ...model, tensors };
}

function withConfig(model: LmModel, patch: Partial<LmConfig>): LmModel {
  return { ...model, config: { ...model.config, ...patch } };
}

const FAMILIES: { name: string; files: string[] }[] = [
  { name: 'trilm', files: ['trilm-synth-f32.gguf', 'trilm-synth-tq2_0.gguf', 'trilm-synth-tq1_0.gguf'] },
  { name: 'bitnet', files: ['bitnet-synth-f32.gguf', 'bitnet-synth-tq2_0.gguf', 'bitnet-synth-tq1_0.gguf', 'bitnet-synth-i2_s.gguf'] },
];

/** 12 positions of token ids drawn once (fixed seed) from the 512-token vocabulary. */
const SYNTH_TOKENS = ((): number[] => {
  const r = prng(2024);
  return [1, ...Array.from({ length: 11 }, () => Math.floor(r() * 512))];
})();

describe('reference decoding of stored values', () => {
  it('decodes float16 and bfloat16 bits exactly', () => {
    expect(halfBitsToNumber(0x3c00)).toBe(1);
    expect(halfBitsToNumber(0xc000)).toBe(-2);
    expect(halfBitsToNumber(0x3555)).toBe(0.333251953125);
    expect(halfBitsToNumber(0x7bff)).toBe(65504);
    expect(halfBitsToNumber(0x0001)).toBe(2 ** -24);
    expect(halfBitsToNumber(0x03ff)).toBe(1023 * 2 ** -24);
    expect(halfBitsToNumber(0x0400)).toBe(2 ** -14);
    expect(halfBitsToNumber(0x7c00)).toBe(Infinity);
    expect(bfloat16BitsToNumber(0x3f80)).toBe(1);
    expect(bfloat16BitsToNumber(0xc0a0)).toBe(-5);
    expect(bfloat16BitsToNumber(0x3eab)).toBe(0.333984375);
    expect(bfloat16BitsToNumber(0x0001)).toBe(2 ** -133);
    // the test's own rounding, used below to emulate llama-quantize's F32 -> F16
    for (const bits of [0x0001, 0x03ff, 0x0400, 0x3555, 0x3c00, 0x3c01, 0x7bff, 0xb555, 0x8001]) expect(toHalfBits(halfBitsToNumber(bits))).toBe(bits);
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00); // a tie rounds to even
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(toHalfBits(65520)).toBe(0x7c00);
  });

  it('decodes int8 groups and ternary scales per tensor, row and group', () => {
    const int8: LmTensor = { kind: 'int8', shape: [2, 3], codes: Int8Array.of(1, -2, 3, -128, 0, 127), scales: Float32Array.of(0.5, 4, 0.25, 2), groupSize: 2 };
    expect(Array.from(dequantize(int8))).toEqual([0.5, -1, 12, -32, 0, 254]);
    const codes = Int8Array.of(1, -1, 0, 1, 0, -1);
    const t = (granularity: LmTernary['granularity'], scales: number[], groupSize?: number): LmTensor => ({
      kind: 'ternary',
      shape: [2, 3],
      codes,
      scales: Float32Array.from(scales),
      granularity,
      ...(groupSize ? { groupSize } : {}),
      source: 'test',
    });
    expect(Array.from(dequantize(t('per_tensor', [3])))).toEqual([3, -3, 0, 3, 0, -3]);
    expect(Array.from(dequantize(t('per_row', [2, 5])))).toEqual([2, -2, 0, 5, 0, -5]);
    expect(Array.from(dequantize(t('per_group', [1, 2, 3, 4], 2)))).toEqual([1, -1, 0, 3, 0, -4]);
  });

  it('quantizes activations per token as BitNet does: absmax to 127, round half to even', () => {
    const { q, s } = quantizeInt8PerToken(Float64Array.of(127, 0.5, 1.5, -2.5, 2.5, -3.5, 126.6, -127));
    expect(s).toBe(1);
    expect(Array.from(q)).toEqual([127, 0, 2, -2, 2, -4, 127, -127]);
    const half = quantizeInt8PerToken(Float64Array.of(-2, 1, 0.5)); // s = 63.5
    expect(half.s).toBe(63.5);
    expect(Array.from(half.q)).toEqual([-127, 64, 32]); // 63.5 -> 64 (even), 31.75 -> 32
    const tiny = quantizeInt8PerToken(Float64Array.of(1e-6, -2e-6, 0));
    expect(tiny.s).toBe(127 / 1e-5); // max|x| is clamped to 1e-5
    expect(Array.from(tiny.q)).toEqual([13, -25, 0]);
    expect(roundHalfEven(-0.5) === 0 && roundHalfEven(0.5) === 0 && roundHalfEven(-1.5) === -2).toBe(true);
  });
});

describe('reference on the real files: files with the same weights give the same logits', () => {
  for (const fam of FAMILIES) {
    it(`${fam.name}: the quantized files agree exactly; F32 agrees once its F16 tensors are rounded as llama-quantize does`, () => {
      const models = fam.files.map(gguf);
      const [f32, tq2, ...others] = models as [LmModel, LmModel, ...LmModel[]];
      for (const m of models) expect(m.config).toEqual(f32.config);
      const ref = new Map(fam.files.slice(1).map((f, i) => [f, referenceLogits(models[i + 1]!, SYNTH_TOKENS)]));
      const l2 = ref.get(fam.files[1]!)!;
      // TQ1_0, TQ2_0 (and I2_S) decode to the same ternary values and the same F16 embedding/head.
      for (let i = 0; i < others.length; i++) expect(maxAbsDiff(ref.get(fam.files[i + 2]!)!, l2), `${fam.files[i + 2]} vs ${fam.files[1]}`).toBe(0);
      expect(tq2.tensors.get('token_embd')!.kind).toBe('float16');
      expect(tq2.tensors.get('blk.0.attn_q')!.kind).toBe('ternary');

      // The F32 file's linear weights are exactly codes * fp16 scale, so the only difference is
      // that llama-quantize stored token_embd (and output) as F16: rounding them here makes the F32
      // model the TQ model, to the last bit of every logit.
      const f16Names = f32.config.tiedOutput ? ['token_embd'] : ['token_embd', 'output'];
      expect(maxAbsDiff(referenceLogits(withHalf(f32, f16Names), SYNTH_TOKENS), l2)).toBe(0);

      // As read, F32 and TQ differ by that rounding only. F16 keeps 11 significant bits, so each
      // value moves by at most 2^-11 of itself; for the head that moves logit v by at most
      // 2^-11 * sum_k |h_k W_vk| (h: the state the head multiplies). The embedding's rounding is
      // the same relative perturbation of the network's input, given the same allowance: the
      // tolerance is twice the head's bound, taken over every position.
      const d = new ReferenceDecoder(f32);
      const head = dequantize(f32.tensors.get(f32.config.tiedOutput ? 'token_embd' : 'output')!);
      const { dim, vocabSize } = f32.config;
      let bound = 0;
      const l32: Float64Array[] = [];
      for (const t of SYNTH_TOKENS) {
        l32.push(d.step(t));
        const h = d.lastHidden!;
        for (let v = 0; v < vocabSize; v++) {
          let s = 0;
          for (let k = 0; k < dim; k++) s += Math.abs(h[k]! * head[v * dim + k]!);
          bound = Math.max(bound, s * 2 ** -11);
        }
      }
      const diff = maxAbsDiff(l32, l2);
      console.log(
        `${fam.name}: F32 vs TQ2_0 max |logit difference| ${diff.toExponential(3)}, head rounding bound ${bound.toExponential(3)}, max |logit| ${maxAbs(l32).toFixed(3)}`,
      );
      expect(diff).toBeGreaterThan(0);
      expect(diff).toBeLessThanOrEqual(2 * bound);
    });
  }

  it('stories260K: the llama2.c checkpoint and its llama.cpp GGUF conversion agree', () => {
    const bin = stories();
    const gg = gguf('stories260K-f32.gguf');
    const { contextLength: _c1, tiedOutput: _t1, normEps: eps1, ...c1 } = bin.config;
    const { contextLength: _c2, tiedOutput: _t2, normEps: eps2, ...c2 } = gg.config;
    expect(c1).toEqual(c2);
    // llama2.c ties the classifier; the converter wrote it out twice, as token_embd and output.
    expect(bin.config.tiedOutput).toBe(true);
    expect(gg.config.tiedOutput).toBe(false);
    // The GGUF holds eps as float32 (1e-5f, as run.c adds); the llama2.c reader records the double 1e-5.
    expect(eps2).toBe(Math.fround(1e-5));
    expect(Math.abs(eps1 - eps2)).toBeLessThan(1e-12);
    const tokens = [1, ...SYNTH_TOKENS.slice(1).map((t) => t % 512)];
    const lb = referenceLogits(bin, tokens);
    const lg = referenceLogits(gg, tokens);
    // With the same epsilon, the same weights give the same logits to the last bit.
    expect(maxAbsDiff(referenceLogits(withConfig(bin, { normEps: eps2 }), tokens), lg)).toBe(0);
    // As read, the epsilons differ by 2.5e-13: each RMSNorm factor 1/sqrt(ms + eps) moves by a
    // relative 1.3e-13 / ms, so unless a mean square ms fell below ~1e-3 (it does not: the logits
    // move by ~1e-11 of their size), the logits agree to far better than 1e-9 of their size.
    expect(maxAbsDiff(lb, lg)).toBeLessThan(1e-9 * maxAbs(lg));
  });
});

describe('reference greedy continuations (printed for comparison with llama.cpp / llama2.c)', () => {
  const SYNTH_PROMPT = [1, 100, 200, 300, 400];
  const STORIES_PROMPT = [1]; // BOS only: what run.c starts from with no prompt
  const N = 20;
  const runs: { label: string; model: () => LmModel; prompt: number[] }[] = [
    ...FAMILIES.flatMap((f) => f.files.map((file) => ({ label: file, model: () => gguf(file), prompt: SYNTH_PROMPT }))),
    { label: 'stories260K-f32.gguf', model: () => gguf('stories260K-f32.gguf'), prompt: STORIES_PROMPT },
    { label: 'stories260K.bin', model: stories, prompt: STORIES_PROMPT },
  ];
  const results = new Map<string, number[]>();

  for (const run of runs) {
    it(`${run.label}: ${N} greedy tokens from [${run.prompt.join(', ')}]`, () => {
      const model = run.model();
      const { tokens, logits } = greedyContinuation(model, run.prompt, N);
      console.log(`greedy ${run.label}: prompt [${run.prompt.join(' ')}] -> ${tokens.join(' ')}`);
      expect(tokens).toHaveLength(N);
      expect(logits).toHaveLength(run.prompt.length + N - 1);
      for (const row of logits) {
        expect(row).toHaveLength(model.config.vocabSize);
        for (const v of row) expect(Number.isFinite(v)).toBe(true);
      }
      for (const t of tokens) expect(t >= 0 && t < model.config.vocabSize && Number.isInteger(t)).toBe(true);
      // Stable: running prompt + continuation from an empty cache again predicts every generated
      // token from its prefix (the continuation is a fixed point of greedy decoding).
      const again = referenceLogits(model, [...run.prompt, ...tokens]);
      for (let i = 0; i < N; i++) expect(argmax(again[run.prompt.length - 1 + i]!)).toBe(tokens[i]);
      expect(maxAbsDiff(again.slice(0, logits.length), logits)).toBe(0);
      results.set(run.label, tokens);
    });
  }

  it('files with identical weights continue identically', () => {
    const same = [
      ['trilm-synth-tq2_0.gguf', 'trilm-synth-tq1_0.gguf'],
      ['bitnet-synth-tq2_0.gguf', 'bitnet-synth-tq1_0.gguf', 'bitnet-synth-i2_s.gguf'],
      ['stories260K.bin', 'stories260K-f32.gguf'],
    ];
    for (const group of same) {
      const first = results.get(group[0]!);
      expect(first, `the continuation of ${group[0]} (an earlier test) is missing`).toBeDefined();
      for (const other of group.slice(1)) expect(results.get(other), `${other} vs ${group[0]}`).toEqual(first);
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// Hand-built models

const f32 = (shape: number[], values: number[]): LmTensor => ({ kind: 'float32', shape, data: Float32Array.from(values) });
function ternary(shape: [number, number], codes: number[], granularity: LmTernary['granularity'], scales: number[], groupSize?: number): LmTernary {
  return {
    kind: 'ternary',
    shape,
    codes: Int8Array.from(codes),
    scales: Float32Array.from(scales),
    granularity,
    ...(groupSize ? { groupSize } : {}),
    source: 'test',
  };
}

/**
 * dim 4, 1 layer, 1 head (headDim 4, ropeDim 4, adjacent pairs), vocab 3, FFN hidden 2.
 *   token_embd (float16): t0 = [1, 0, 0, 1], t1 = [0, 1, 0, 1], t2 = 0
 *   attn_q = attn_k = attn_v = attn_output = I (ternary, one scale 1); norms 1 except output_norm
 *   ffn_gate: rows e0, e1; ffn_up: rows e0, -e1 (ternary per row); ffn_down: columns e0, e1 (per group)
 *   output_norm = [2, 1, 1, 0.5]; output (bfloat16) rows e0, e1, e3
 */
function handModel(activations: LmConfig['activations'], patch: Partial<LmConfig> = {}): LmModel {
  const I4 = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  const h1 = 0x3c00; // float16 1.0
  const b1 = 0x3f80; // bfloat16 1.0
  const tensors = new Map<string, LmTensor>([
    ['token_embd', { kind: 'float16', shape: [3, 4], bits: Uint16Array.of(h1, 0, 0, h1, 0, h1, 0, h1, 0, 0, 0, 0) }],
    ['blk.0.attn_norm', f32([4], [1, 1, 1, 1])],
    ['blk.0.attn_q', ternary([4, 4], I4, 'per_tensor', [1])],
    ['blk.0.attn_k', ternary([4, 4], I4, 'per_tensor', [1])],
    ['blk.0.attn_v', ternary([4, 4], I4, 'per_tensor', [1])],
    ['blk.0.attn_output', ternary([4, 4], I4, 'per_tensor', [1])],
    ['blk.0.ffn_norm', f32([4], [1, 1, 1, 1])],
    ['blk.0.ffn_gate', ternary([2, 4], [1, 0, 0, 0, 0, 1, 0, 0], 'per_row', [1, 1])],
    ['blk.0.ffn_up', ternary([2, 4], [1, 0, 0, 0, 0, -1, 0, 0], 'per_row', [1, 1])],
    ['blk.0.ffn_down', ternary([4, 2], [1, 0, 0, 1, 0, 0, 0, 0], 'per_group', [1, 1, 1, 1], 2)],
    ['output_norm', f32([4], [2, 1, 1, 0.5])],
    // int8-per-token never quantizes the head's input, even when it is ternary: the int8 variant
    // stores it ternary, the float one bfloat16
    activations === 'float'
      ? ['output', { kind: 'bfloat16', shape: [3, 4], bits: Uint16Array.of(b1, 0, 0, 0, 0, b1, 0, 0, 0, 0, 0, b1) }]
      : ['output', ternary([3, 4], [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], 'per_row', [1, 1, 1])],
  ]);
  const config: LmConfig = {
    arch: 'llama',
    dim: 4,
    hiddenDim: 2,
    nLayers: 1,
    nHeads: 1,
    nKvHeads: 1,
    headDim: 4,
    vocabSize: 3,
    contextLength: 8,
    normEps: 1e-5,
    ropeTheta: 10000,
    ropeDim: 4,
    ropeStyle: 'adjacent',
    ffnAct: 'silu',
    subNorms: false,
    tiedOutput: false,
    activations,
    ...patch,
  };
  if (config.subNorms) {
    tensors.set('blk.0.attn_sub_norm', f32([4], [1, 2, 1, 1]));
    tensors.set('blk.0.ffn_sub_norm', f32([2], [1, 0.5]));
  }
  return { name: 'hand', source: 'hand', format: 'gguf', sourceHash: '0', config, tensors, notes: [] };
}

describe('reference on a hand-built model', () => {
  const eps = 1e-5;
  const silu = (z: number): number => z / (1 + Math.exp(-z));
  const rms = (v: number[]): number => Math.sqrt(v.reduce((a, x) => a + x * x, 0) / 4 + eps);

  it('float activations: logits for tokens [0, 1] worked out by hand', () => {
    // Both embeddings have mean square 1/2, so attn_norm scales them by r.
    const r = 1 / Math.sqrt(0.5 + eps);
    // Position 0, token 0 = [1,0,0,1]: q = k = v = r t0, RoPE at 0 is the identity, one position so
    // the attention output is v; residual h = (1 + r) t0.
    const a = (1 + r) / Math.sqrt((1 + r) ** 2 / 2 + eps); // ffn_norm(h) = [a, 0, 0, a]
    // gate = up = [a, 0] (ffn_up's -e1 row meets a 0); down puts a * silu(a) into dim 0.
    const y0 = [1 + r + a * silu(a), 0, 0, 1 + r];
    const n0 = rms(y0);
    const want0 = [(2 * y0[0]!) / n0, 0, (0.5 * y0[3]!) / n0];

    // Position 1, token 1 = [0,1,0,1]: x = r t1. RoPE at position 1 turns pair (0,1) by 1 radian and
    // pair (2,3) by 10000^(-2/4) = 0.01: q1 = k1 = r [-sin 1, cos 1, -sin 0.01, cos 0.01].
    // Scores / sqrt(4): with k0 = r t0: r^2 (cos 0.01 - sin 1) / 2; with k1: 2 r^2 / 2.
    const s0 = (r * r * (Math.cos(0.01) - Math.sin(1))) / 2;
    const s1 = r * r;
    const w0 = Math.exp(s0) / (Math.exp(s0) + Math.exp(s1));
    const w1 = 1 - w0;
    // o = w0 v0 + w1 v1 = [w0 r, w1 r, 0, r]; h = t1 + o.
    const h = [w0 * r, 1 + w1 * r, 0, 1 + r];
    const m = rms(h);
    // gate = [n0, n1], up = [n0, -n1]: act(gate) * up
    const f = [(h[0]! / m) * silu(h[0]! / m), -(h[1]! / m) * silu(h[1]! / m)];
    const y1 = [h[0]! + f[0]!, h[1]! + f[1]!, 0, h[3]!];
    const n1 = rms(y1);
    const want1 = [(2 * y1[0]!) / n1, y1[1]! / n1, (0.5 * y1[3]!) / n1];

    const got = referenceLogits(handModel('float'), [0, 1]);
    expect(got).toHaveLength(2);
    for (const [g, w] of [
      [got[0]!, want0],
      [got[1]!, want1],
    ] as const)
      for (let i = 0; i < 3; i++) expect(g[i]!).toBeCloseTo(w[i]!, 12);
    // the causal mask: position 0 does not see token 1
    expect(Array.from(referenceLogits(handModel('float'), [0])[0]!)).toEqual(Array.from(got[0]!));
    // and the same token at position 1 differs from position 0 only through attention
    expect(Math.abs(got[1]![0]! - want0[0]!)).toBeGreaterThan(0.1);
  });

  it('int8-per-token activations: every ternary projection quantizes its input, the head does not', () => {
    // The rule, written out: s = 127 / max|v|, v -> round_half_even(v * s) / s.
    const q8 = (v: number[]): number[] => {
      const s = 127 / Math.max(...v.map(Math.abs));
      return v.map((x) => roundHalfEven(x * s) / s);
    };
    const r = 1 / Math.sqrt(0.5 + eps);
    // Position 0: each quantized vector has equal nonzero magnitudes (r t0, [a,0,0,a], [a silu a, 0]),
    // which quantize exactly, so the logits are the float ones.
    const a = (1 + r) / Math.sqrt((1 + r) ** 2 / 2 + eps);
    const y0 = [1 + r + a * silu(a), 0, 0, 1 + r];
    const n0 = rms(y0);
    const want0 = [(2 * y0[0]!) / n0, 0, (0.5 * y0[3]!) / n0];
    // Position 1: the attention output [w0 r, w1 r, 0, r] does not quantize exactly.
    const s0 = (r * r * (Math.cos(0.01) - Math.sin(1))) / 2;
    const s1 = r * r;
    const w0 = Math.exp(s0) / (Math.exp(s0) + Math.exp(s1));
    const o = q8([w0 * r, (1 - w0) * r, 0, r]); // attn_output's input
    const h = [o[0]!, 1 + o[1]!, 0, 1 + o[3]!];
    const m = rms(h);
    const nq = q8(h.map((x) => x / m)); // ffn_gate's and ffn_up's input
    const fq = q8([nq[0]! * silu(nq[0]!), -nq[1]! * silu(nq[1]!)]); // ffn_down's input
    const y1 = [h[0]! + fq[0]!, h[1]! + fq[1]!, 0, h[3]!];
    const n1 = rms(y1);
    const want1 = [(2 * y1[0]!) / n1, y1[1]! / n1, (0.5 * y1[3]!) / n1]; // head input not quantized

    const got = referenceLogits(handModel('int8-per-token'), [0, 1]);
    for (const [g, w] of [
      [got[0]!, want0],
      [got[1]!, want1],
    ] as const)
      for (let i = 0; i < 3; i++) expect(g[i]!).toBeCloseTo(w[i]!, 12);
    // and the quantization is visible: position 1 differs from the float model's
    const fl = referenceLogits(handModel('float'), [0, 1]);
    expect(Math.abs(fl[1]![1]! - got[1]![1]!)).toBeGreaterThan(1e-5);
  });

  it('BitNet semantics (half RoPE, sub-norms, relu2): logits for tokens [0, 1] worked out by hand', () => {
    const model = handModel('float', { arch: 'bitnet', ropeStyle: 'half', subNorms: true, ffnAct: 'relu2' });
    const relu2 = (z: number): number => Math.max(z, 0) ** 2;
    const rms2 = (v: number[]): number => Math.sqrt(v.reduce((a, x) => a + x * x, 0) / v.length + eps);
    const r = 1 / Math.sqrt(0.5 + eps);
    // Position 0: the attention output r t0 goes through attn_sub_norm [1, 2, 1, 1] before attn_output.
    const ro = rms2([r, 0, 0, r]);
    const u = r / ro;
    const h0 = [1 + u, 0, 0, 1 + u];
    const a = h0[0]! / rms2(h0);
    // gate = up = [a, 0]; relu2(a) * a; ffn_sub_norm [1, 0.5] over the 2 hidden values, then down.
    const g0 = [relu2(a) * a, 0];
    const rg0 = rms2(g0);
    const y0 = [h0[0]! + g0[0]! / rg0, 0, 0, h0[3]!];
    const n0 = rms(y0);
    const want0 = [(2 * y0[0]!) / n0, 0, (0.5 * y0[3]!) / n0];
    // Position 1: 'half' pairs are (0, 2), turned by 1 radian, and (1, 3), by 0.01. x = r t1 has
    // (x0, x2) = (0, 0) and (x1, x3) = (r, r): q1 = k1 = r [0, cos .01 - sin .01, 0, sin .01 + cos .01].
    // Scores / 2: with k0 = r t0, r^2 (sin .01 + cos .01) / 2; with k1, 2 r^2 / 2.
    const c = Math.cos(0.01);
    const sn = Math.sin(0.01);
    const s0 = (r * r * (sn + c)) / 2;
    const s1 = r * r;
    const w0 = Math.exp(s0) / (Math.exp(s0) + Math.exp(s1));
    const w1 = 1 - w0;
    const o = [w0 * r, w1 * r, 0, r];
    const ro1 = rms2(o);
    const h = [o[0]! / ro1, 1 + (2 * o[1]!) / ro1, 0, 1 + o[3]! / ro1];
    const m = rms2(h);
    const g = [relu2(h[0]! / m) * (h[0]! / m), relu2(h[1]! / m) * -(h[1]! / m)];
    const rg = rms2(g);
    const y1 = [h[0]! + g[0]! / rg, h[1]! + (0.5 * g[1]!) / rg, 0, h[3]!];
    const n1 = rms(y1);
    const want1 = [(2 * y1[0]!) / n1, y1[1]! / n1, (0.5 * y1[3]!) / n1];

    const got = referenceLogits(model, [0, 1]);
    for (const [gl, w] of [
      [got[0]!, want0],
      [got[1]!, want1],
    ] as const)
      for (let i = 0; i < 3; i++) expect(gl[i]!).toBeCloseTo(w[i]!, 12);
  });

  it('rejects a token outside the vocabulary', () => {
    expect(() => referenceLogits(handModel('float'), [3])).toThrow(/outside the vocabulary/);
  });
});

// ---------------------------------------------------------------------------------------------------
// A synthetic BitNet-like model and invariances that catch indexing bugs

const SYN: LmConfig = {
  arch: 'bitnet',
  dim: 20,
  hiddenDim: 12,
  nLayers: 2,
  nHeads: 6,
  nKvHeads: 3,
  headDim: 8,
  vocabSize: 11,
  contextLength: 16,
  normEps: 1e-5,
  ropeTheta: 10000,
  ropeDim: 6,
  ropeStyle: 'half',
  ffnAct: 'relu2',
  subNorms: true,
  tiedOutput: true,
  activations: 'int8-per-token',
};

function syntheticModel(seed: number): LmModel {
  const r = prng(seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const c = SYN;
  const tensors = new Map<string, LmTensor>();
  const vec = (n: number): LmTensor =>
    f32(
      [n],
      Array.from({ length: n }, () => 1 + 0.1 * normal()),
    );
  const lin = (rows: number, cols: number): LmTensor =>
    ternary(
      [rows, cols],
      Array.from({ length: rows * cols }, () => Math.floor(r() * 3) - 1),
      'per_row',
      Array.from({ length: rows }, () => 0.2 + 0.3 * r()),
    );
  tensors.set('token_embd', f32([c.vocabSize, c.dim], Array.from({ length: c.vocabSize * c.dim }, normal)));
  const qd = c.nHeads * c.headDim;
  const kvd = c.nKvHeads * c.headDim;
  for (let l = 0; l < c.nLayers; l++) {
    const n = (s: string): string => `blk.${l}.${s}`;
    tensors.set(n('attn_norm'), vec(c.dim));
    tensors.set(n('attn_q'), lin(qd, c.dim));
    tensors.set(n('attn_k'), lin(kvd, c.dim));
    tensors.set(n('attn_v'), lin(kvd, c.dim));
    tensors.set(n('attn_sub_norm'), vec(qd));
    tensors.set(n('attn_output'), lin(c.dim, qd));
    tensors.set(n('ffn_norm'), vec(c.dim));
    tensors.set(n('ffn_gate'), lin(c.hiddenDim, c.dim));
    tensors.set(n('ffn_up'), lin(c.hiddenDim, c.dim));
    tensors.set(n('ffn_sub_norm'), vec(c.hiddenDim));
    tensors.set(n('ffn_down'), lin(c.dim, c.hiddenDim));
  }
  tensors.set('output_norm', vec(c.dim));
  return { name: 'synthetic', source: 'synthetic', format: 'hf', sourceHash: '0', config: c, tensors, notes: [] };
}

/** New row i = sign * old row src (a per-row ternary's scale moves with its row). */
function mapRows(t: LmTensor, map: (row: number) => { src: number; sign: 1 | -1 }, rows = (t.shape as number[])[0]!): LmTensor {
  const cols = t.shape[1]!;
  if (t.kind === 'ternary' && t.granularity === 'per_row') {
    const codes = new Int8Array(rows * cols);
    const scales = new Float32Array(rows);
    for (let i = 0; i < rows; i++) {
      const { src, sign } = map(i);
      for (let k = 0; k < cols; k++) codes[i * cols + k] = sign * t.codes[src * cols + k]! || 0;
      scales[i] = t.scales[src]!;
    }
    return { ...t, shape: [rows, cols], codes, scales };
  }
  throw new Error(`mapRows: ${t.kind}`);
}

/** New column j = old column src(j), every row (scales per row are unchanged). */
function mapCols(t: LmTensor, src: (col: number) => number): LmTensor {
  if (t.kind !== 'ternary' || t.granularity !== 'per_row') throw new Error('mapCols: per-row ternary only');
  const [rows, cols] = t.shape;
  const codes = new Int8Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) codes[i * cols + j] = t.codes[i * cols + src(j)]!;
  return { ...t, codes };
}

function mapVector(t: LmTensor, src: (i: number) => number): LmTensor {
  if (t.kind !== 'float32') throw new Error('mapVector: float32 only');
  return { ...t, data: t.data.map((_, i) => t.data[src(i)]!) };
}

function edit(model: LmModel, config: Partial<LmConfig>, change: (name: string, t: LmTensor) => LmTensor): LmModel {
  const tensors = new Map<string, LmTensor>();
  for (const [n, t] of model.tensors) tensors.set(n, change(n, t));
  return { ...model, config: { ...model.config, ...config }, tensors };
}

describe('reference invariances on a synthetic model (RoPE half, GQA, sub-norms, relu2, int8 activations)', () => {
  const base = syntheticModel(7);
  const tokens = [3, 7, 1, 9, 4, 10, 0, 5];
  const baseLogits = referenceLogits(base, tokens);
  const hd = SYN.headDim;
  const group = SYN.nHeads / SYN.nKvHeads;
  const rel = (a: Float64Array[]): number => maxAbsDiff(a, baseLogits) / maxAbs(baseLogits);

  it('has logits that depend on the tokens and positions (the invariances below are not vacuous)', () => {
    for (const row of baseLogits) for (const v of row) expect(Number.isFinite(v)).toBe(true);
    expect(maxAbs(baseLogits)).toBeGreaterThan(0.1);
    const shuffled = referenceLogits(base, [7, 3, 1, 9, 4, 10, 0, 5]);
    expect(maxAbsDiff(shuffled.slice(2), baseLogits.slice(2))).toBeGreaterThan(1e-3);
  });

  it('permuting the KV heads, and query heads with their groups, leaves the logits unchanged', () => {
    // KV head j of the new model is old KV head pi[j]; new query head h = g*group + w is old query head
    // pi[g]*group + (group-1-w) (its group moves with its KV head, and heads swap within the group).
    const pi = [2, 0, 1];
    const oldHead = (h: number): number => pi[Math.floor(h / group)]! * group + (group - 1 - (h % group));
    const perm =
      (headOf: (h: number) => number) =>
      (i: number): number =>
        headOf(Math.floor(i / hd)) * hd + (i % hd);
    const permuted = (qHead: (h: number) => number, kvHead: (j: number) => number): LmModel =>
      edit(base, {}, (n, t) => {
        if (n.endsWith('attn_q')) return mapRows(t, (i) => ({ src: perm(qHead)(i), sign: 1 }));
        if (n.endsWith('attn_k') || n.endsWith('attn_v')) return mapRows(t, (i) => ({ src: perm(kvHead)(i), sign: 1 }));
        if (n.endsWith('attn_output')) return mapCols(t, perm(qHead));
        if (n.endsWith('attn_sub_norm')) return mapVector(t, perm(qHead));
        return t;
      });
    const same = referenceLogits(
      permuted(oldHead, (j) => pi[j]!),
      tokens,
    );
    expect(rel(same)).toBeLessThan(1e-12);
    // Control: moving query heads to another group without their KV head changes the logits.
    const wrong = referenceLogits(
      permuted(
        (h) => (h + group) % SYN.nHeads,
        (j) => j,
      ),
      tokens,
    );
    expect(rel(wrong)).toBeGreaterThan(1e-3);
  });

  it('GQA equals multi-head attention with each KV head repeated for its query heads', () => {
    const expanded = edit(base, { nKvHeads: SYN.nHeads }, (n, t) =>
      n.endsWith('attn_k') || n.endsWith('attn_v')
        ? mapRows(t, (i) => ({ src: Math.floor(Math.floor(i / hd) / group) * hd + (i % hd), sign: 1 }), SYN.nHeads * hd)
        : t,
    );
    expect(maxAbsDiff(referenceLogits(expanded, tokens), baseLogits)).toBe(0);
  });

  it('turning each RoPE pair of Q and K by a fixed quarter-turn, and swapping the unrotated dims, leaves the logits unchanged', () => {
    // 2D rotations commute, so rotating the pair (i, i + ropeDim/2) of every query and key head by
    // the same angle before RoPE cannot change q . k; neither can the same swap of two dims RoPE
    // leaves alone (ropeDim 6 of headDim 8: dims 6 and 7). Quarter turns keep the codes ternary.
    const half = SYN.ropeDim / 2;
    const turn =
      (pairs: [number, number][]) =>
      (d: number): { src: number; sign: 1 | -1 } => {
        for (let i = 0; i < pairs.length; i++) {
          const [a, b] = pairs[i]!;
          const quarter = (i % 3) + 1; // 90, 180, 270 degrees
          // rows (a, b) -> R (a, b): 90: (-b, a); 180: (-a, -b); 270: (b, -a)
          if (d === a) return quarter === 1 ? { src: b, sign: -1 } : quarter === 2 ? { src: a, sign: -1 } : { src: b, sign: 1 };
          if (d === b) return quarter === 1 ? { src: a, sign: 1 } : quarter === 2 ? { src: b, sign: -1 } : { src: a, sign: -1 };
        }
        if (d === 6) return { src: 7, sign: 1 };
        if (d === 7) return { src: 6, sign: 1 };
        return { src: d, sign: 1 };
      };
    const rotated = (pairs: [number, number][]): LmModel =>
      edit(base, {}, (n, t) => {
        if (!n.endsWith('attn_q') && !n.endsWith('attn_k')) return t;
        const within = turn(pairs);
        return mapRows(t, (i) => {
          const m = within(i % hd);
          return { src: Math.floor(i / hd) * hd + m.src, sign: m.sign };
        });
      });
    const halfPairs = Array.from({ length: half }, (_, i): [number, number] => [i, i + half]);
    expect(rel(referenceLogits(rotated(halfPairs), tokens))).toBeLessThan(1e-12);
    // Control: the same turns on adjacent pairs (0,1), (2,3), (4,5) do not commute with 'half' RoPE.
    const adjacentPairs = Array.from({ length: half }, (_, i): [number, number] => [2 * i, 2 * i + 1]);
    expect(rel(referenceLogits(rotated(adjacentPairs), tokens))).toBeGreaterThan(1e-3);
  });

  it('with attn_output all zero, each position depends on its own token only', () => {
    const deaf = edit(base, {}, (n, t) => (n.endsWith('attn_output') && t.kind === 'ternary' ? { ...t, codes: new Int8Array(t.codes.length) } : t));
    const all = referenceLogits(deaf, tokens);
    for (let p = 0; p < tokens.length; p++) expect(Array.from(all[p]!)).toEqual(Array.from(referenceLogits(deaf, [tokens[p]!])[0]!));
  });
});
