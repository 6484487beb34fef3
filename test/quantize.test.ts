// The weight quantizers of compiler/quantize/ (PTQTP, Tequila, TBT, GPTQ) and the float64 linear
// algebra GPTQ stands on, each checked against its definition: hand-worked cases where the rule is a
// formula, and for the optimisers the property they exist for (GPTQ below round-to-nearest on the
// layer objective, PTQTP below one-plane ternary, errors that do not rise).

import { describe, expect, it } from 'vitest';
import { TritcError } from '../compiler/diagnostics.ts';
import { rng } from '../compiler/harness/inputs.ts';
import type { LmIntB, LmTernary } from '../compiler/lm/model.ts';
import { ternarizeTensor } from '../compiler/lm/ternarize.ts';
import { f16BitsToF32, f32ToF16Bits } from '../compiler/numerics/half.ts';
import { type GptqOptions, accumulateHessian, gptqQuantize, newHessian, roundToNearest } from '../compiler/quantize/gptq.ts';
import { NotPositiveDefinite, cholesky, choleskyInverse, choleskyUpper, solveLower, solveLowerTransposed } from '../compiler/quantize/linalg.ts';
import { ptqtpQuantize } from '../compiler/quantize/ptqtp.ts';
import { elasticAlphaInit, elasticQuantize, symQuantize8, tbtBinary, tbtTernary } from '../compiler/quantize/tbt.ts';
import { tequilaQuantize } from '../compiler/quantize/tequila.ts';
import { dequantize } from './support/lm_reference.ts';
import { scaled } from './support/tier.ts';

// ---------------------------------------------------------------------------------------------------
// helpers

function gaussian(next: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

function randomMatrix(rows: number, cols: number, seed: number, scale = 1): Float32Array {
  const g = gaussian(rng(seed));
  return Float32Array.from({ length: rows * cols }, () => Math.fround(g() * scale));
}

/** Calibration inputs [tokens, cols] with correlated columns: x = z M + 0.1 z' (M random). */
function correlatedInputs(tokens: number, cols: number, seed: number): Float64Array {
  const g = gaussian(rng(seed));
  const latent = Math.max(2, Math.floor(cols / 4));
  const m = Float64Array.from({ length: latent * cols }, () => g());
  const x = new Float64Array(tokens * cols);
  for (let t = 0; t < tokens; t++) {
    const z = Float64Array.from({ length: latent }, () => g());
    for (let c = 0; c < cols; c++) {
      let s = 0.1 * g();
      for (let l = 0; l < latent; l++) s += z[l]! * m[l * cols + c]!;
      x[t * cols + c] = s;
    }
  }
  return x;
}

/** ||(W - Q) X^T||^2: GPTQ's layer objective over the calibration tokens. */
function layerError(w: ArrayLike<number>, q: Float64Array, x: Float64Array, rows: number, cols: number): number {
  const tokens = x.length / cols;
  let e = 0;
  for (let r = 0; r < rows; r++)
    for (let t = 0; t < tokens; t++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += (w[r * cols + c]! - q[r * cols + c]!) * x[t * cols + c]!;
      e += s * s;
    }
  return e;
}

function hessianOf(x: Float64Array, cols: number, batches: number) {
  const h = newHessian(cols);
  const tokens = x.length / cols;
  const per = tokens / batches;
  for (let b = 0; b < batches; b++) accumulateHessian(h, x.subarray(b * per * cols, (b + 1) * per * cols), per, cols);
  return h;
}

function sqError(w: ArrayLike<number>, q: Float64Array): number {
  let e = 0;
  for (let i = 0; i < q.length; i++) e += (w[i]! - q[i]!) ** 2;
  return e;
}

function matmulT(a: Float64Array, b: Float64Array, n: number): Float64Array {
  // a b^T for n x n matrices
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) out[i * n + j]! += a[i * n + k]! * b[j * n + k]!;
  return out;
}

function randomSpd(n: number, seed: number): Float64Array {
  const g = gaussian(rng(seed));
  const b = Float64Array.from({ length: n * n }, () => g());
  const a = matmulT(b, b, n);
  for (let i = 0; i < n; i++) a[i * n + i]! += n;
  return a;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

// ---------------------------------------------------------------------------------------------------
// linear algebra

describe('linalg (float64 Cholesky and triangular solves)', () => {
  for (const n of [1, 2, 7, 33]) {
    it(`factors, solves and inverts a random ${n} x ${n} SPD matrix`, () => {
      const a = randomSpd(n, 100 + n);
      const l = cholesky(a, n);
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(l[i * n + j]).toBe(0);
      expect(maxAbsDiff(matmulT(l, l, n), a)).toBeLessThan(1e-10 * n);
      const b = Float64Array.from({ length: n }, (_, i) => Math.sin(i + 1));
      const y = solveLower(l, n, b);
      const ly = Float64Array.from({ length: n }, (_, i) => {
        let s = 0;
        for (let k = 0; k <= i; k++) s += l[i * n + k]! * y[k]!;
        return s;
      });
      expect(maxAbsDiff(ly, b)).toBeLessThan(1e-12 * n);
      const x = solveLowerTransposed(l, n, b);
      const ltx = Float64Array.from({ length: n }, (_, i) => {
        let s = 0;
        for (let k = i; k < n; k++) s += l[k * n + i]! * x[k]!;
        return s;
      });
      expect(maxAbsDiff(ltx, b)).toBeLessThan(1e-12 * n);
      const inv = choleskyInverse(l, n);
      const eye = matmulT(a, inv, n); // inv is symmetric, so a inv^T = a inv
      expect(
        maxAbsDiff(
          eye,
          Float64Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0)),
        ),
      ).toBeLessThan(1e-10 * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(inv[i * n + j]).toBe(inv[j * n + i]);
      const u = choleskyUpper(inv, n);
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(u[i * n + j]).toBe(0);
      // U^T U = inv
      const utu = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) utu[i * n + j]! += u[k * n + i]! * u[k * n + j]!;
      expect(maxAbsDiff(utu, inv)).toBeLessThan(1e-12 * n);
    });
  }

  it('refuses a matrix that is not positive definite, naming the pivot', () => {
    // [[1, 2], [2, 1]] has a negative eigenvalue: the second pivot is 1 - 4 < 0.
    expect(() => cholesky(Float64Array.of(1, 2, 2, 1), 2)).toThrow(NotPositiveDefinite);
    try {
      cholesky(Float64Array.of(4, 0, 0, 0, 0, 0, 0, 0, 1), 3);
    } catch (e) {
      expect((e as NotPositiveDefinite).pivot).toBe(1);
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// GPTQ

describe('GPTQ', () => {
  it('accumulates H = 2/n sum x x^T as AutoGPTQ add_batch, n counting calls', () => {
    const cols = 5;
    const x = correlatedInputs(12, cols, 1);
    const h = hessianOf(x, cols, 3);
    expect(h.samples).toBe(3);
    const want = new Float64Array(cols * cols);
    for (let t = 0; t < 12; t++)
      for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) want[i * cols + j]! += (2 / 3) * x[t * cols + i]! * x[t * cols + j]!;
    expect(maxAbsDiff(h.h, want)).toBeLessThan(1e-12 * maxAbsDiff(want, new Float64Array(cols * cols)));
  });

  const rows = 24;
  const cols = 96;
  const tokens = 512;
  const w = randomMatrix(rows, cols, 7, 0.05);
  const x = correlatedInputs(tokens, cols, 8);
  const h = hessianOf(x, cols, 4);

  const cases: { bits: 2 | 3 | 4 | 8; groupSize: number; actOrder: boolean; sym: boolean }[] = [];
  for (const bits of [2, 3, 4, 8] as const)
    for (const groupSize of [-1, 32]) for (const actOrder of [false, true]) cases.push({ bits, groupSize, actOrder, sym: (bits + groupSize) % 2 === 0 });
  for (const c of cases) {
    it(`int${c.bits} ${c.groupSize === -1 ? 'per row' : `group ${c.groupSize}`}${c.actOrder ? ' act-order' : ''}${c.sym ? ' sym' : ' asym'}: ||WX - QX||^2 below round-to-nearest`, () => {
      const opts: GptqOptions = { ...c, blockSize: 40 }; // groups start mid-block too
      const g = gptqQuantize(w, rows, cols, h, opts);
      const rtn = roundToNearest(w, rows, cols, opts);
      const t = g.tensor as LmIntB;
      expect(t.kind).toBe('intb');
      expect(t.bits).toBe(c.bits);
      expect(t.groupSize).toBe(c.groupSize === -1 ? cols : c.groupSize);
      expect(t.scales.length).toBe(rows * (c.groupSize === -1 ? 1 : cols / c.groupSize));
      expect(t.codes.every((q) => q < 2 ** c.bits)).toBe(true);
      // Scales are float16 values, as the checkpoint stores them; zeros are v1-storable.
      for (const s of t.scales) expect(f16BitsToF32(f32ToF16Bits(s))).toBe(s);
      expect(t.zeros.every((z) => z >= 1)).toBe(true);
      if (c.sym) expect(t.zeros.every((z) => z === 2 ** (c.bits - 1))).toBe(true);
      // act-order with groups makes the groups non-contiguous: `columns` says where each stored column goes.
      expect(t.columns !== undefined).toBe(c.actOrder && c.groupSize !== -1);
      const eg = layerError(w, dequantize(t), x, rows, cols);
      const er = layerError(w, dequantize(rtn.tensor), x, rows, cols);
      expect(eg).toBeLessThan(er);
      if (c.bits <= 4) expect(eg).toBeLessThan(0.9 * er);
      expect(Number.isFinite(g.loss)).toBe(true);
    });
  }

  it('int8 reproduces W closely', () => {
    const seen: number[] = [];
    const g = gptqQuantize(w, rows, cols, h, { bits: 8, groupSize: 32, sym: false, blockSize: 40, onProgress: (done) => seen.push(done) });
    expect(seen).toEqual([40, 80, 96]);
    const q = dequantize(g.tensor);
    expect(Math.sqrt(sqError(w, q) / sqError(w, new Float64Array(q.length)))).toBeLessThan(0.01);
  });

  it('act-order is equivariant: permuting the input columns permutes the result (so `columns` is right)', () => {
    const perm = Int32Array.from({ length: cols }, (_, i) => i);
    const next = rng(11);
    for (let i = cols - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    }
    // W' = W P, X' = X P: column c of the primed problem is column perm[c] of the original.
    const wp = Float32Array.from({ length: rows * cols }, (_, i) => w[Math.floor(i / cols) * cols + perm[i % cols]!]!);
    const hp = newHessian(cols);
    hp.samples = h.samples;
    for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) hp.h[i * cols + j] = h.h[perm[i]! * cols + perm[j]!]!;
    for (const opts of [
      { bits: 4, groupSize: 32, actOrder: true },
      { bits: 3, groupSize: 16, actOrder: true, sym: false },
    ] as GptqOptions[]) {
      const a = dequantize(gptqQuantize(w, rows, cols, h, opts).tensor);
      const b = dequantize(gptqQuantize(wp, rows, cols, hp, opts).tensor);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) expect(b[r * cols + c]).toBe(a[r * cols + perm[c]!]);
    }
  });

  it('g_idx: groups in quantization order under act-order, identity with static groups', () => {
    const act = gptqQuantize(w, rows, cols, h, { bits: 4, groupSize: 32, actOrder: true });
    const diag = Array.from({ length: cols }, (_, i) => h.h[i * cols + i]!);
    const order = Array.from({ length: cols }, (_, i) => i).sort((a, b) => diag[b]! - diag[a]! || a - b);
    order.forEach((c, p) => expect(act.gIdx[c]).toBe(Math.floor(p / 32)));
    const t = act.tensor as LmIntB;
    // Stored columns: sorted by group, ascending within one.
    for (let j = 1; j < cols; j++) {
      const [a, b] = [t.columns![j - 1]!, t.columns![j]!];
      expect(act.gIdx[a]! < act.gIdx[b]! || (act.gIdx[a] === act.gIdx[b] && a < b)).toBe(true);
    }
    const stat = gptqQuantize(w, rows, cols, h, { bits: 4, groupSize: 32, actOrder: true, staticGroups: true });
    expect(Array.from(stat.gIdx)).toEqual(Array.from({ length: cols }, (_, i) => Math.floor(i / 32)));
    expect((stat.tensor as LmIntB).columns).toBeUndefined();
    expect(layerError(w, dequantize(stat.tensor), x, rows, cols)).toBeLessThan(
      layerError(w, dequantize(roundToNearest(w, rows, cols, { bits: 4, groupSize: 32 }).tensor), x, rows, cols),
    );
  });

  it('dead columns (H[i,i] = 0) quantize to exactly 0 and the rest stays finite', () => {
    const xd = Float64Array.from(x);
    const dead = [0, 5, 50, 95];
    for (let t = 0; t < tokens; t++) for (const c of dead) xd[t * cols + c] = 0;
    const hd = hessianOf(xd, cols, 2);
    for (const opts of [{ bits: 4 }, { bits: 2, groupSize: 32, actOrder: true, sym: false }] as GptqOptions[]) {
      const q = dequantize(gptqQuantize(w, rows, cols, hd, opts).tensor);
      for (let r = 0; r < rows; r++) for (const c of dead) expect(q[r * cols + c]).toBe(0);
      expect(q.every(Number.isFinite)).toBe(true);
    }
  });

  it('keeps asymmetric zero points >= 1 (v1-storable) and covers the range when they would round to 0', () => {
    // A row of non-negative weights: xmin = 0, so zero = round(0 / s) = 0.
    const wpos = Float32Array.from({ length: 2 * 32 }, (_, i) => (i < 32 ? (i % 7) / 7 : Math.sin(i)));
    const hid = newHessian(32);
    accumulateHessian(
      hid,
      Float64Array.from({ length: 32 * 32 }, (_, i) => (i % 33 === 0 ? 1 : 0)),
      32,
      32,
    ); // H = 2 I
    const t = gptqQuantize(wpos, 2, 32, hid, { bits: 2, sym: false }).tensor as LmIntB;
    expect(t.zeros[0]).toBe(1);
    // scale = xmax / (maxq - 1) = (6/7) / 2: the top weight is still exact.
    expect(t.scales[0]).toBe(f16BitsToF32(f32ToF16Bits(6 / 7 / 2)));
    const raw = gptqQuantize(wpos, 2, 32, hid, { bits: 2, sym: false, v1Zeros: false, fp16Scales: false }).tensor as LmIntB;
    expect(raw.zeros[0]).toBe(0);
    expect(raw.scales[0]).toBe(Math.fround(6 / 7 / 3));
  });

  it("GPTQ's ternary mode: values in {xmin, 0, xmax} per row, two disjoint planes, below round-to-nearest", () => {
    for (const opts of [{ trits: true }, { trits: true, groupSize: 32, sym: true }, { trits: true, actOrder: true }] as Partial<GptqOptions>[]) {
      const g = gptqQuantize(w, rows, cols, h, { bits: 2, ...opts });
      const t = g.tensor as LmTernary;
      expect(t.kind).toBe('ternary');
      expect(t.planes).toBe(2);
      const n = rows * cols;
      for (let i = 0; i < n; i++) {
        expect(t.codes[i]! >= 0 && t.codes[n + i]! <= 0).toBe(true);
        expect(t.codes[i] !== 0 && t.codes[n + i] !== 0).toBe(false);
      }
      expect(t.scales.every((s) => s >= 0)).toBe(true);
      const eg = layerError(w, dequantize(t), x, rows, cols);
      const er = layerError(w, dequantize(roundToNearest(w, rows, cols, { bits: 2, ...opts }).tensor), x, rows, cols);
      expect(eg).toBeLessThan(er);
    }
    // The rule itself on one row: xmax = 0.8, xmin = -0.4; w > 0.4 -> xmax, w < -0.2 -> xmin.
    const one = roundToNearest(Float32Array.of(0.8, 0.41, 0.4, -0.2, -0.21, -0.4, 0, 0.1), 1, 8, { bits: 2, trits: true });
    expect(Array.from(dequantize(one.tensor))).toEqual([0.8, 0.8, 0, 0, -0.4, -0.4, 0, 0].map(Math.fround));
    // Symmetric: xmin = -xmax = -0.8, so only w < -0.4 is negative.
    const sym = roundToNearest(Float32Array.of(0.8, 0.41, 0.4, -0.2, -0.21, -0.4, 0, 0.1), 1, 8, { bits: 2, trits: true, sym: true });
    expect(Array.from(dequantize(sym.tensor))).toEqual([0.8, 0.8, 0, 0, 0, 0, 0, 0].map(Math.fround));
    expect(() => gptqQuantize(w, rows, cols, h, { bits: 2, trits: true, groupSize: 32, actOrder: true })).toThrow(TritcError);
  });

  it('says plainly when the dampened Hessian is not positive definite', () => {
    const bad = newHessian(4);
    bad.h.set([1, 2, 0, 0, 2, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    bad.samples = 1;
    expect(() => gptqQuantize(new Float32Array(8), 2, 4, bad, { bits: 4, name: 'blk.0.attn_q' })).toThrow(/blk\.0\.attn_q: .*not positive definite/);
  });
});

// ---------------------------------------------------------------------------------------------------
// PTQTP

describe('PTQTP', () => {
  for (const groupSize of [undefined, 16, 20]) {
    it(`fits two trit-planes${groupSize ? ` per group of ${groupSize}` : ' per row'}: errors never rise, far below one-plane absmean`, () => {
      const rows = 12;
      const cols = 64;
      const w = randomMatrix(rows, cols, 21, 0.1);
      let progress = 0;
      const { tensor, errors } = ptqtpQuantize(w, rows, cols, { ...(groupSize ? { groupSize } : {}), onProgress: (done, total) => (progress = done / total) });
      expect(progress).toBe(1);
      expect(tensor.planes).toBe(2);
      expect(tensor.codes.length).toBe(2 * rows * cols);
      const groups = groupSize ? Math.ceil(cols / groupSize) : 1;
      expect(tensor.scales.length).toBe(2 * rows * groups);
      expect(tensor.granularity).toBe(groupSize ? 'per_group' : 'per_row');
      expect(tensor.scales.every((s) => s >= 0 && !Object.is(s, -0))).toBe(true);
      for (let i = 1; i < errors.length; i++) expect(errors[i]).toBeLessThanOrEqual(errors[i - 1]! * (1 + 1e-9));
      expect(errors.length).toBeGreaterThan(2);
      const e = sqError(w, dequantize(tensor));
      expect(e).toBeCloseTo(Math.min(...errors), 10);
      const one = sqError(w, dequantize(ternarizeTensor('w', { kind: 'float32', shape: [rows, cols], data: w }, { kind: 'per_row' })));
      expect(e).toBeLessThan(0.4 * one);
    });
  }

  it('recovers an exact one-plane and an exact two-plane matrix (up to float32 scales and the ridge term)', () => {
    const rows = 4;
    const cols = 32;
    const next = rng(5);
    const trit = () => Math.floor(next() * 3) - 1;
    const w = Float32Array.from({ length: rows * cols }, () => Math.fround(0.5 * trit()));
    const r1 = ptqtpQuantize(w, rows, cols);
    const norm = (v: ArrayLike<number>) => sqError(v, new Float64Array(v.length));
    expect(sqError(w, dequantize(r1.tensor))).toBeLessThan(1e-9 * norm(w));
    const w2 = Float32Array.from({ length: rows * cols }, () => 0.75 * trit() + 0.25 * trit());
    const r2 = ptqtpQuantize(w2, rows, cols);
    expect(sqError(w2, dequantize(r2.tensor))).toBeLessThan(1e-9 * norm(w2));
  });
});

// ---------------------------------------------------------------------------------------------------
// Tequila

describe('Tequila', () => {
  it('per (row, 128-column group): alpha = mean|w|, the comparison thresholds at alpha/2, the deadzone bias', () => {
    // One row of 4 columns (group 4): mean|w| = (0.6 + 0.3 + 0.1 + 0.2) / 4 = 0.3, Delta = 0.15.
    const t = tequilaQuantize(Float32Array.of(0.6, -0.3, 0.1, -0.2), 1, 4, { groupSize: 4, lambda: 0.5 });
    expect(t.scales[0]).toBe(Math.fround(0.3));
    expect(Array.from(t.codes)).toEqual([1, -1, 0, -1]);
    expect(t.bias![0]).toBe(Math.fround(0.5 * Math.fround(0.1)));
    // w exactly +-Delta is +-1 (the comparison form); round(w / alpha) would give 0 (half to even).
    const tie = tequilaQuantize(Float32Array.of(0.25, -0.25, 1, -0.5), 1, 4, { groupSize: 4 });
    expect(tie.scales[0]).toBe(0.5);
    expect(Array.from(tie.codes)).toEqual([1, -1, 1, -1]);
    expect(tie.bias![0]).toBe(0);
  });

  it('a row of 200 columns: one group of 128, then a shorter group of 72; the default lambda is 1e-3', () => {
    const w = randomMatrix(3, 200, 31);
    const t = tequilaQuantize(w, 3, 200);
    expect(t.granularity).toBe('per_group');
    expect(t.groupSize).toBe(128);
    expect(t.scales.length).toBe(6);
    for (let r = 0; r < 3; r++) {
      let dead = 0;
      for (const [g, from, to] of [
        [0, 0, 128],
        [1, 128, 200],
      ] as const) {
        let s = 0;
        for (let c = from; c < to; c++) s += Math.abs(w[r * 200 + c]!);
        const alpha = Math.fround(s / (to - from));
        expect(t.scales[r * 2 + g]).toBe(alpha);
        for (let c = from; c < to; c++) {
          const v = w[r * 200 + c]!;
          expect(t.codes[r * 200 + c]).toBe(v >= alpha / 2 ? 1 : v <= -alpha / 2 ? -1 : 0);
          if (t.codes[r * 200 + c] === 0) dead += v;
        }
      }
      expect(t.bias![r]).toBe(Math.fround(1e-3 * dead));
    }
    expect(tequilaQuantize(w, 3, 200, { lambda: 0 }).bias).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------------
// TBT

describe('TBT', () => {
  it('ternary weights: a = 4/3 mean|W_row|, codes round(clamp(W / a)), a/2 exactly rounds to 0', () => {
    // mean|w| = 0.75, a = 1: 0.5 -> 0 (half to even), 0.51 -> 1, -1.5 -> -1 (clamped), 0.25 -> 0
    const t = tbtTernary(Float32Array.of(0.5, Math.fround(0.51), -1.5, Math.fround(0.49)), 1, 4);
    expect(t.scales[0]).toBe(Math.fround(Math.fround(4 / 3) * Math.fround(Math.fround(0.51 + 0.5 + 1.5 + Math.fround(0.49)) / 4)));
    expect(Array.from(t.codes)).toEqual([0, 1, -1, 0]);
    expect(t.granularity).toBe('per_row');
    expect(Array.from(tbtTernary(new Float32Array(3), 1, 3).codes)).toEqual([0, 0, 0]);
  });

  it('binary weights: a = mean|W_row|, sign(W) with sign(0) = +1', () => {
    const t = tbtBinary(Float32Array.of(0.5, -0.25, 0, -1, 2, 0, 0, 0), 2, 4);
    expect(Array.from(t.scales)).toEqual([Math.fround(1.75 / 4), 0.5]);
    expect(Array.from(t.codes)).toEqual([1, -1, 1, -1, 1, 1, 1, 1]);
  });

  it('8-bit SymQuantizer: clip, one absmax scale over the tensor, round half to even', () => {
    const x = Float32Array.of(3, -1, 0.5, 0.01, -2.6);
    const q = symQuantize8(x, 2.5);
    const s = Math.fround(127 / 2.5);
    const want = [2.5, -1, 0.5, 0.01, -2.5].map((v) => Math.fround(Math.round(Math.fround(Math.fround(v) * s)) / s));
    expect(Array.from(q)).toEqual(want);
    expect(Array.from(symQuantize8(new Float32Array(3)))).toEqual([0, 0, 0]);
    // A value landing exactly on .5 of a step rounds to even: m = 127, s = 1, 2.5 -> 2.
    expect(Array.from(symQuantize8(Float32Array.of(127, 2.5, 3.5), 1000))).toEqual([127, 2, 4]);
  });

  it('elastic quantizers: signed ternary / sign, unsigned with the min added back, step >= 1e-5', () => {
    expect(Array.from(elasticQuantize(Float32Array.of(0.3, -0.05, 0.049, 2, -0.1), 0.2, 2, true))).toEqual([0.2, 0, 0, 0.2, 0].map(Math.fround));
    expect(Array.from(elasticQuantize(Float32Array.of(0.3, -0.05, 0), 0.2, 1, true))).toEqual([0.2, -0.2, 0].map(Math.fround));
    // unsigned 2-bit: min -1; x' = [0, 1, 1.5, 3]; /0.5 = [0, 2, 3, 6] -> clamp 2 -> [0, 1, 1, 1] + min
    expect(Array.from(elasticQuantize(Float32Array.of(-1, 0, 0.5, 2), 0.5, 2, false))).toEqual([-1, 0, 0, 0]);
    // half to even: x'/alpha = 0.5 -> 0, 1.5 -> 2
    expect(Array.from(elasticQuantize(Float32Array.of(0, 0.5, 1.5), 1, 2, false))).toEqual([0, 0, 2]);
    // unsigned 1-bit: no min, levels {0, alpha}
    expect(Array.from(elasticQuantize(Float32Array.of(-1, 0.3, 0.6), 1, 1, false))).toEqual([0, 0, 1]);
    expect(Array.from(elasticQuantize(Float32Array.of(1e-5, 3e-5), 0, 2, true))).toEqual([Math.fround(1e-5), Math.fround(1e-5)]);
  });

  it('alpha initialisation: 2 mean|x| / sqrt(Qp) signed, 4 mean|x| / sqrt(Qp) unsigned', () => {
    const x = Float32Array.of(1, -2, 3, -4); // mean|x| = 2.5
    expect(elasticAlphaInit(x, 2, true)).toBe(Math.fround(5)); // Qp = 1
    expect(elasticAlphaInit(x, 1, true)).toBe(Math.fround(5)); // Qp = 0 -> 1
    expect(elasticAlphaInit(x, 2, false)).toBe(Math.fround(10 / Math.fround(Math.sqrt(3)))); // Qp = 3
    expect(elasticAlphaInit(x, 1, false)).toBe(10); // Qp = 1
    expect(elasticAlphaInit(new Float32Array(4), 2, true)).toBe(Math.fround(1e-5));
  });
});

it('random cases agree with the definitions (GPTQ int4 beats RTN on fresh data)', () => {
  for (let k = 0; k < scaled(4); k++) {
    const rows = 8 + k;
    const cols = 32;
    const w = randomMatrix(rows, cols, 200 + k, 0.02);
    const x = correlatedInputs(128, cols, 300 + k);
    const h = hessianOf(x, cols, 2);
    const opts: GptqOptions = { bits: 4, groupSize: 16, actOrder: k % 2 === 1, sym: k % 3 === 0 };
    const eg = layerError(w, dequantize(gptqQuantize(w, rows, cols, h, opts).tensor), x, rows, cols);
    const er = layerError(w, dequantize(roundToNearest(w, rows, cols, opts).tensor), x, rows, cols);
    expect(eg).toBeLessThan(er);
  }
});
