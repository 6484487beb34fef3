// Fairy2i (compiler/quantize/fairy2i.ts, docs/formats.md "Fairy2i"): the widely-linear form of a real
// layer is exact (the round trip gives back every float32 weight, so the converted model's logits are
// the original's bit for bit), the phase quantizer against its definition (codes, boundaries, scales,
// a hand-worked layer), the residual stage lowering the error, the quantized stories260K in the
// interpreter against the float64 reference, and the errors a bad Fairy2i tensor gives.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TritcError } from '../compiler/diagnostics.ts';
import { rng } from '../compiler/harness/inputs.ts';
import { packC4, unpackC4 } from '../compiler/emit/pack.ts';
import { buildLmGraph } from '../compiler/lm/build.ts';
import { type LmFairy2i, type LmModel, validateLmModel } from '../compiler/lm/model.ts';
import { LmSession } from '../compiler/lm/session.ts';
import {
  fairy2iDequantize,
  fairy2iQuantize,
  fairy2iQuantizeModel,
  fromWidelyLinear,
  phaseCode,
  phaseQuantize,
  toWidelyLinear,
  widelyLinearApply,
} from '../compiler/quantize/fairy2i.ts';
import { writeHfModel } from '../compiler/quantize/write_hf.ts';
import { readHfFolder } from '../compiler/readers/hf/folder.ts';
import { readLlama2c } from '../compiler/readers/llama2c/checkpoint.ts';
import { SHARED_DATA } from '../examples/data.ts';
import { dequantize, referenceLogits } from './support/lm_reference.ts';
import { scaled } from './support/tier.ts';

const stories = (): LmModel => readLlama2c(join(SHARED_DATA, 'llama2c_stories260K', 'stories260K.bin'));
const PROMPT = [1, 403, 407, 261, 378, 8, 9, 10];

function randomMatrix(rows: number, cols: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: rows * cols }, () => Math.fround(Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()) * 0.3));
}

function errorsOf(t: LmFairy2i, w: ArrayLike<number>): number {
  const q = fairy2iDequantize(t);
  let e = 0;
  for (let i = 0; i < q.length; i++) e += (q[i]! - w[i]!) ** 2;
  return e;
}

describe('the widely-linear form is exact', () => {
  it(`round trip gives back every float32 weight (${scaled(20)} random layers and every stories260K projection)`, () => {
    for (let s = 0; s < scaled(20); s++) {
      const r = rng(s);
      const rows = 2 * (1 + Math.floor(r() * 9));
      const cols = 2 * (1 + Math.floor(r() * 9));
      const w = randomMatrix(rows, cols, 100 + s);
      expect(Array.from(Float32Array.from(fromWidelyLinear(toWidelyLinear(w, rows, cols))))).toEqual(Array.from(w));
    }
    for (const [name, t] of stories().tensors) {
      if (t.kind !== 'float32' || t.shape.length !== 2 || name === 'token_embd') continue;
      const [rows, cols] = t.shape as [number, number];
      const back = fromWidelyLinear(toWidelyLinear(t.data, rows, cols));
      expect(
        back.every((v, i) => v === t.data[i]),
        name,
      ).toBe(true);
    }
  });

  it('y = U x + W conj(x) equals R x (float64, to rounding)', () => {
    const rows = 6;
    const cols = 10;
    const w = randomMatrix(rows, cols, 7);
    const x = randomMatrix(1, cols, 8);
    const wl = toWidelyLinear(w, rows, cols);
    const y = widelyLinearApply(wl, x);
    for (let o = 0; o < rows; o++) {
      let want = 0;
      for (let k = 0; k < cols; k++) want += w[o * cols + k]! * x[k]!;
      expect(Math.abs(y[o]! - want)).toBeLessThan(1e-12);
    }
  });

  it("the converted stories260K (every projection through U, W and back) gives the original's logits bit for bit", () => {
    const model = stories();
    const tensors = new Map(model.tensors);
    for (const [name, t] of model.tensors)
      if (t.kind === 'float32' && t.shape.length === 2 && name !== 'token_embd') {
        const [rows, cols] = t.shape as [number, number];
        tensors.set(name, { kind: 'float32', shape: t.shape, data: Float32Array.from(fromWidelyLinear(toWidelyLinear(t.data, rows, cols))) });
      }
    const a = new LmSession(buildLmGraph(model, { context: 16, chunk: 4 })).forward(PROMPT);
    const b = new LmSession(buildLmGraph({ ...model, tensors }, { context: 16, chunk: 4 })).forward(PROMPT);
    a.forEach((l, p) => expect(Array.from(b[p]!)).toEqual(Array.from(l)));
  });
});

describe('the phase quantizer', () => {
  it('codes by angle, boundaries as the official code: [-pi/4, pi/4) -> +1, [pi/4, 3pi/4) -> +i, [-3pi/4, -pi/4) -> -i, else -1', () => {
    const cases: [number, number, number][] = [
      [1, 0, 0],
      [0, 0, 0], // angle(0) = 0
      [1, 1, 1], // pi/4 belongs to +i
      [1, -1, 0], // -pi/4 belongs to +1
      [-1, 1, 2], // 3pi/4 belongs to -1
      [-1, -1, 3], // -3pi/4 belongs to -i
      [-1, 0, 2], // pi
      [-1, -0, 2], // -pi (atan2 of -0) is outside [-3pi/4, -pi/4): -1
      [0, 1, 1],
      [0, -1, 3],
      [0.3, -0.29, 0],
      [-0.29, 0.3, 1],
    ];
    for (const [re, im, want] of cases) expect(phaseCode(re, im), `${re} + ${im}i`).toBe(want);
  });

  it('scales are the mean |Re| over the +-1 codes and the mean |Im| over the +-i codes, at least 1e-6', () => {
    const re = Float64Array.from([2, -4, 0.1, 0.5, -3]);
    const im = Float64Array.from([1, 0.5, 3, -2, 0]);
    // angles: ~0.46 (+1), ~3.02 (-1), ~1.54 (+i), ~-1.33 (-i), pi (-1)
    const q = phaseQuantize(re, im);
    expect(Array.from(q.codes)).toEqual([0, 2, 1, 3, 2]);
    expect(q.sRe).toBe(Math.fround((2 + 4 + 3) / 3));
    expect(q.sIm).toBe(Math.fround((3 + 2) / 2));
    const onlyReal = phaseQuantize(Float64Array.from([1, -2]), Float64Array.from([0, 0]));
    expect(onlyReal.sIm).toBe(Math.fround(1e-6));
  });

  it('a hand-worked 2 x 2 layer: R = [[3, 1], [1, 1]] -> U = 2, W = 1 + i -> one stage U = 2, W = 1 (codes +1, +1)', () => {
    const { tensor, errors } = fairy2iQuantize(Float32Array.from([3, 1, 1, 1]), 2, 2, 1);
    // U = (R11 + R22)/2 + i (R21 - R12)/2 = 2;  W = (R11 - R22)/2 + i (R12 + R21)/2 = 1 + i (angle pi/4: +i)
    expect(Array.from(tensor.codes)).toEqual([0, 1]);
    expect(Array.from(tensor.scales)).toEqual([2, Math.fround(1e-6), Math.fround(1e-6), 1]);
    // W_q = i: R_q = [[2, 1], [1, 2]]
    expect(Array.from(fairy2iDequantize(tensor)).map((v) => Math.round(v * 1e5) / 1e5)).toEqual([2, 1, 1, 2]);
    expect(errors[0]).toBeCloseTo(2, 9);
  });

  it('codes in {+1, +i, -1, -i}, scales recomputed from the residual per stage, and stage 2 lowers the error', () => {
    for (let s = 0; s < scaled(6); s++) {
      const rows = 8 + 2 * s;
      const cols = 12;
      const w = randomMatrix(rows, cols, 500 + s);
      const w1 = fairy2iQuantize(w, rows, cols, 1);
      const w2 = fairy2iQuantize(w, rows, cols, 2);
      expect(w2.tensor.codes.every((c) => c <= 3)).toBe(true);
      // Stage 1 of W2 is W1.
      expect(Array.from(w2.tensor.codes.subarray(0, w1.tensor.codes.length))).toEqual(Array.from(w1.tensor.codes));
      expect(Array.from(w2.tensor.scales.subarray(0, 4))).toEqual(Array.from(w1.tensor.scales));
      // Stage 2 quantizes the residual of stage 1 with its own scales.
      const wl = toWidelyLinear(w, rows, cols);
      const q1 = toWidelyLinear(fairy2iDequantize(w1.tensor), rows, cols);
      const resU = phaseQuantize(
        wl.uRe.map((v, i) => v - q1.uRe[i]!),
        wl.uIm.map((v, i) => v - q1.uIm[i]!),
      );
      expect([w2.tensor.scales[4], w2.tensor.scales[5]]).toEqual([resU.sRe, resU.sIm]);
      expect(w2.errors[0]).toBe(w1.errors[0]);
      expect(w2.errors[1]!).toBeLessThan(0.6 * w2.errors[0]!);
      expect(errorsOf(w2.tensor, w)).toBeCloseTo(w2.errors[1]!, 6);
      // The test reference's dequantization (written separately) agrees.
      const ref = dequantize(w2.tensor);
      fairy2iDequantize(w2.tensor).forEach((v, i) => expect(Math.abs(v - ref[i]!)).toBeLessThan(1e-12));
    }
  });

  it('c4 packs 4 codes a byte, low bits first, rows padded', () => {
    const codes = Uint8Array.from([0, 1, 2, 3, 3, 2, 1, 0, 1, 3]);
    const packed = packC4(codes, 5);
    expect(Array.from(packed)).toEqual([0b11100100, 0b11, 0b01000110, 0b11]);
    expect(Array.from(unpackC4(packed, 5))).toEqual(Array.from(codes));
  });
});

describe('stories260K in Fairy2i', () => {
  const base = stories();
  const floatLogits = new LmSession(buildLmGraph(base, { context: 16, chunk: 4 })).forward(PROMPT);
  const distance = (m: LmModel) => {
    const got = new LmSession(buildLmGraph(m, { context: 16, chunk: 4 })).forward(PROMPT);
    let d = 0;
    got.forEach((l, p) => l.forEach((v, j) => (d += (v - floatLogits[p]![j]!) ** 2)));
    return { got, d };
  };
  const results = ([1, 2] as const).map((stages) => {
    const seen: number[] = [];
    const m = fairy2iQuantizeModel(base, { stages, onProgress: (done) => seen.push(done) });
    return { stages, m, seen, ...distance(m) };
  });

  for (const r of [0, 1]) {
    it(`W${r + 1}: every projection is Fairy2i, the graph runs WidelyLinear, and the interpreter is within 1e-4 of the float64 reference`, () => {
      const { m, seen, got, stages } = results[r]!;
      validateLmModel(m, (n) => n);
      const projections = [...m.tensors.values()].filter((t) => t.kind === 'fairy2i');
      expect(projections.length).toBe(7 * base.config.nLayers);
      expect(projections.every((t) => t.kind === 'fairy2i' && t.stages === stages)).toBe(true);
      expect(seen.at(-1)).toBe(7 * base.config.nLayers);
      expect(m.notes.at(-1)).toMatch(new RegExp(`^Fairy2i-W${stages}: 35 of 35 projections in the widely-linear form`));
      const g = buildLmGraph(m, { context: 16, chunk: 4 });
      expect(g.nodes.filter((n) => n.op === 'WidelyLinear').length).toBe(7 * base.config.nLayers);
      const ref = referenceLogits(m, PROMPT);
      got.forEach((l, p) => l.forEach((v, j) => expect(Math.abs(v - ref[p]![j]!), `position ${p} logit ${j}`).toBeLessThan(1e-4)));
    });
  }

  it('with the head (as the official W2): a tied head is untied, the embedding stays float, the head runs WidelyLinear on the last rows', () => {
    const m = fairy2iQuantizeModel(base, { stages: 2, head: true });
    validateLmModel(m, (n) => n);
    expect(m.config.tiedOutput).toBe(false);
    expect(m.tensors.get('token_embd')!.kind).toBe('float32');
    expect(m.tensors.get('output')!.kind).toBe('fairy2i');
    expect(m.notes.at(-1)).toMatch(/^Fairy2i-W2: 36 of 36 matrices \(projections and the head, untied from the embedding\)/);
    const g = buildLmGraph(m, { context: 16, chunk: 4 });
    expect(g.nodes.find((n) => n.name === 'output')!.op).toBe('WidelyLinear');
    const got = new LmSession(g).forward(PROMPT);
    const ref = referenceLogits(m, PROMPT);
    got.forEach((l, p) => l.forEach((v, j) => expect(Math.abs(v - ref[p]![j]!), `position ${p} logit ${j}`).toBeLessThan(1e-4)));
  });

  it('W2 written as a Hugging Face folder (tritc layers, format fairy2i) reads back to the same tensors and logits', () => {
    const { m, got } = results[1]!;
    expect(m.config.ropeStyle).toBe('half'); // llama2.c's Q and K rows put in rotate_half order before quantizing
    expect(m.notes.at(-1)).toContain('Q and K rows put in rotate_half order first (exact)');
    const dir = mkdtempSync(join(tmpdir(), 'tritc-fairy2i-'));
    try {
      expect(writeHfModel(m, join(dir, 'out')).format).toBe('tritc');
      const back = readHfFolder(join(dir, 'out'));
      for (const [name, t] of m.tensors)
        if (t.kind === 'fairy2i') {
          const r = back.tensors.get(name) as LmFairy2i;
          expect([r.kind, r.stages, Array.from(r.codes), Array.from(r.scales)], name).toEqual([t.kind, t.stages, Array.from(t.codes), Array.from(t.scales)]);
        }
      const again = new LmSession(buildLmGraph(back, { context: 16, chunk: 4 })).forward(PROMPT);
      again.forEach((l, p) => expect(Array.from(l)).toEqual(Array.from(got[p]!)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('W2 is closer to the float model than W1 (squared logit distance over the prompt)', () => {
    // Measured: W1 1.58e5, W2 1.01e5 (post-training, no fine-tuning: both far from the float model).
    expect(results[1]!.d).toBeLessThan(0.8 * results[0]!.d);
  });
});

describe('bad Fairy2i tensors and options', () => {
  const model = (): LmModel => fairy2iQuantizeModel(stories(), { stages: 1 });
  const problem = (edit: (t: LmFairy2i) => LmFairy2i): string => {
    const m = model();
    const name = 'blk.0.attn_q';
    m.tensors.set(name, edit(m.tensors.get(name) as LmFairy2i));
    try {
      validateLmModel(m, (n) => `stories260K.bin: ${n}`);
    } catch (e) {
      expect(e).toBeInstanceOf(TritcError);
      return (e as Error).message;
    }
    return 'no error';
  };

  it('say what is wrong, naming the tensor', () => {
    expect(problem((t) => ({ ...t, codes: t.codes.map((c, i) => (i === 5 ? 4 : c)) }))).toBe(
      'stories260K.bin: blk.0.attn_q: Fairy2i code 4 at index 5 is not 0..3 (the exponent e of i^e in {+1, +i, -1, -i})',
    );
    expect(problem((t) => ({ ...t, stages: 5 }))).toBe('stories260K.bin: blk.0.attn_q: has 5 Fairy2i stages; 1 to 4 are supported');
    expect(problem((t) => ({ ...t, scales: t.scales.subarray(0, 3) }))).toBe('stories260K.bin: blk.0.attn_q: holds 3 Fairy2i scales; 1 stage(s) need 4');
    expect(problem((t) => ({ ...t, codes: t.codes.subarray(1) }))).toMatch(/holds 2047 Fairy2i codes; 1 stage\(s\) of U and W need 2048$/);
    expect(problem((t) => ({ ...t, scales: t.scales.map((s, i) => (i === 2 ? NaN : s)) }))).toMatch(/Fairy2i scale NaN at index 2 is not finite$/);
  });

  it('an odd dimension is an error in a Fairy2i tensor, and the quantizer leaves such a layer as it was', () => {
    const base = stories();
    const m = model();
    const q = m.tensors.get('blk.0.attn_q') as LmFairy2i;
    const oddTensors = new Map(m.tensors);
    oddTensors.set('blk.0.attn_q', { ...q, shape: [64, 63] });
    const odd: LmModel = { ...m, tensors: oddTensors };
    let message = '';
    try {
      validateLmModel(odd, (n) => n);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('blk.0.attn_q: is a Fairy2i weight of shape [64, 63]; the widely-linear form needs even rows and columns');
    // A layer with an odd dimension stays float (Fairy2i's own code skips it too) and the note says so.
    const tensors = new Map(base.tensors);
    tensors.set('blk.0.ffn_up', { kind: 'float32', shape: [171, 64], data: new Float32Array(171 * 64) });
    const skipped = fairy2iQuantizeModel({ ...base, tensors }, { stages: 1 });
    expect(skipped.tensors.get('blk.0.ffn_up')!.kind).toBe('float32');
    expect(skipped.notes.at(-1)).toContain('kept as they were (odd dimension): blk.0.ffn_up [171, 64]');
  });

  it('--stages outside 1..4 and a non-float projection are refused', () => {
    expect(() => fairy2iQuantizeModel(stories(), { stages: 0 })).toThrow('--stages: must be an integer from 1 to 4, got 0');
    expect(() => fairy2iQuantizeModel(model(), { stages: 2 })).toThrow(/tensor "blk\.0\.attn_q" is fairy2i; quantize a float checkpoint/);
  });
});
