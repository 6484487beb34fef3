// Fairy2i (arXiv 2512.02901; seed-methods 5; docs/formats.md "Fairy2i"): a real linear layer
// R [N, K] (N = 2n, K = 2m) rewritten, exactly, in the widely-linear complex form
//
//   y = U x + W conj(x),   x = x[:m] + i x[m:],   y = y[:n] + i y[n:]
//   U_re = (R11 + R22)/2   U_im = (R21 - R12)/2   W_re = (R11 - R22)/2   W_im = (R12 + R21)/2
//   R11 = U_re + W_re      R12 = W_im - U_im      R21 = U_im + W_im      R22 = U_re - W_re
//
// (R11 = R[:n, :m], R12 = R[:n, m:], R21 = R[n:, :m], R22 = R[n:, m:]), then U and W quantized to
// the fourth roots of unity by phase, each with one real and one imaginary scale per stage:
//
//   code  = +1, +i, -1, -i by angle(w) in [-pi/4, pi/4), [pi/4, 3pi/4), [3pi/4, pi] u (-pi, -3pi/4), [-3pi/4, -pi/4)
//   s_re  = mean |Re w| over the weights coded +-1,  s_im = mean |Im w| over those coded +-i  (each >= 1e-6)
//   stage t + 1 quantizes the residual w - q_0 - ... - q_t (Fairy2i-W1: 1 stage, W2: 2)
//
// as the official code does (PKULab1806/Fairy2i-W2, model_module/quantization.py). Choices it leaves
// open, recorded in docs/formats.md: the conversion and the residuals are float64 (the official code
// runs in the weight's dtype); angles are Math.atan2 in float64 against float64 multiples of pi;
// scales are means in float64 rounded once to float32, and the residual of the next stage subtracts
// the float32 scale that is stored.

import { fail } from '../diagnostics.ts';
import { floatValues, LM_PROJECTIONS } from '../lm/ternarize.ts';
import { FAIRY2I_MAX_STAGES, type LmFairy2i, type LmModel } from '../lm/model.ts';
import { checkMatrix } from './matrix.ts';
import { toHalfRope } from './write_hf.ts';

/** The widely-linear form of a real [2n, 2m] layer: U and W, [n, m] each, real and imaginary parts. */
export interface WidelyLinear {
  n: number;
  m: number;
  uRe: Float64Array;
  uIm: Float64Array;
  wRe: Float64Array;
  wIm: Float64Array;
}

/** R [rows, cols] (both even) -> (U, W). Exact for float32 R (float64 sums of two float32 values, halved). */
export function toWidelyLinear(r: ArrayLike<number>, rows: number, cols: number): WidelyLinear {
  checkMatrix('toWidelyLinear', r, rows, cols);
  if (rows % 2 !== 0 || cols % 2 !== 0) throw new Error(`internal: toWidelyLinear: [${rows}, ${cols}] has an odd dimension`);
  const n = rows / 2;
  const m = cols / 2;
  const wl: WidelyLinear = { n, m, uRe: new Float64Array(n * m), uIm: new Float64Array(n * m), wRe: new Float64Array(n * m), wIm: new Float64Array(n * m) };
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) {
      const r11 = r[i * cols + j]!;
      const r12 = r[i * cols + m + j]!;
      const r21 = r[(n + i) * cols + j]!;
      const r22 = r[(n + i) * cols + m + j]!;
      const e = i * m + j;
      wl.uRe[e] = (r11 + r22) / 2;
      wl.uIm[e] = (r21 - r12) / 2;
      wl.wRe[e] = (r11 - r22) / 2;
      wl.wIm[e] = (r12 + r21) / 2;
    }
  return wl;
}

/** (U, W) -> R [2n, 2m], the inverse of toWidelyLinear. */
export function fromWidelyLinear(wl: WidelyLinear): Float64Array {
  const { n, m } = wl;
  const cols = 2 * m;
  const r = new Float64Array(4 * n * m);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) {
      const e = i * m + j;
      r[i * cols + j] = wl.uRe[e]! + wl.wRe[e]!;
      r[i * cols + m + j] = wl.wIm[e]! - wl.uIm[e]!;
      r[(n + i) * cols + j] = wl.uIm[e]! + wl.wIm[e]!;
      r[(n + i) * cols + m + j] = wl.uRe[e]! - wl.wRe[e]!;
    }
  return r;
}

/** y = U x + W conj(x) in float64 complex arithmetic, returned as the real [y_re; y_im] (2n values). */
export function widelyLinearApply(wl: WidelyLinear, x: ArrayLike<number>): Float64Array {
  const { n, m } = wl;
  if (x.length !== 2 * m) throw new Error(`internal: widelyLinearApply: ${x.length} inputs for K = ${2 * m}`);
  const y = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    let re = 0;
    let im = 0;
    for (let j = 0; j < m; j++) {
      const e = i * m + j;
      const xr = x[j]!;
      const xi = x[m + j]!;
      // U x: (a + ib)(xr + i xi);  W conj(x): (c + id)(xr - i xi)
      re += wl.uRe[e]! * xr - wl.uIm[e]! * xi + wl.wRe[e]! * xr + wl.wIm[e]! * xi;
      im += wl.uIm[e]! * xr + wl.uRe[e]! * xi + wl.wIm[e]! * xr - wl.wRe[e]! * xi;
    }
    y[i] = re;
    y[n + i] = im;
  }
  return y;
}

/** One stage of the phase quantizer on one complex matrix: codes e (the weight i^e) and the two scales. */
export interface PhaseQuant {
  codes: Uint8Array;
  sRe: number;
  sIm: number;
}

const QUARTER = Math.PI / 4;
/** Smallest scale (the official clamp; also the scale of an empty class). */
const MIN_SCALE = 1e-6;

/** The exponent e in {0, 1, 2, 3} of the code i^e nearest in phase to re + i im (angle 0 -> +1). */
export function phaseCode(re: number, im: number): number {
  const theta = Math.atan2(im, re);
  if (theta >= -QUARTER && theta < QUARTER) return 0;
  if (theta >= QUARTER && theta < 3 * QUARTER) return 1;
  if (theta >= -3 * QUARTER && theta < -QUARTER) return 3;
  return 2;
}

/** The phase quantizer (one stage) of a complex matrix given as real and imaginary parts. */
export function phaseQuantize(re: Float64Array, im: Float64Array): PhaseQuant {
  const codes = new Uint8Array(re.length);
  let sumRe = 0;
  let countRe = 0;
  let sumIm = 0;
  let countIm = 0;
  for (let i = 0; i < re.length; i++) {
    const c = phaseCode(re[i]!, im[i]!);
    codes[i] = c;
    if (c % 2 === 0) {
      sumRe += Math.abs(re[i]!);
      countRe++;
    } else {
      sumIm += Math.abs(im[i]!);
      countIm++;
    }
  }
  const scale = (sum: number, count: number) => Math.fround(Math.max(count > 0 ? sum / count : 0, MIN_SCALE));
  return { codes, sRe: scale(sumRe, countRe), sIm: scale(sumIm, countIm) };
}

/** Re(i^e) and Im(i^e). */
const CODE_RE = [1, 0, -1, 0] as const;
const CODE_IM = [0, 1, 0, -1] as const;

export interface Fairy2iResult {
  tensor: LmFairy2i;
  /** ||R - R_q||^2 (float64) after each stage. */
  errors: number[];
}

/** Quantize a real layer [rows, cols] (both even) to `stages` Fairy2i stages. */
export function fairy2iQuantize(w: ArrayLike<number>, rows: number, cols: number, stages: number, source = 'Fairy2i'): Fairy2iResult {
  if (!(Number.isInteger(stages) && stages >= 1 && stages <= FAIRY2I_MAX_STAGES)) throw new Error(`internal: fairy2iQuantize: ${stages} stages`);
  const wl = toWidelyLinear(w, rows, cols);
  const size = wl.n * wl.m;
  const codes = new Uint8Array(stages * 2 * size);
  const scales = new Float32Array(stages * 4);
  // The residuals of U and W, quantized stage after stage.
  const residual = [
    [wl.uRe.slice(), wl.uIm.slice()],
    [wl.wRe.slice(), wl.wIm.slice()],
  ] as const;
  const errors: number[] = [];
  for (let s = 0; s < stages; s++) {
    for (let mat = 0; mat < 2; mat++) {
      const [re, im] = residual[mat]!;
      const q = phaseQuantize(re, im);
      codes.set(q.codes, (s * 2 + mat) * size);
      scales[(s * 2 + mat) * 2] = q.sRe;
      scales[(s * 2 + mat) * 2 + 1] = q.sIm;
      for (let e = 0; e < size; e++) {
        re[e] = re[e]! - q.sRe * CODE_RE[q.codes[e]!]!;
        im[e] = im[e]! - q.sIm * CODE_IM[q.codes[e]!]!;
      }
    }
    // ||dR||^2 = 2 (||dU||^2 + ||dW||^2): each complex entry of U and W reaches four entries of R.
    let err = 0;
    for (const [re, im] of residual) for (let e = 0; e < size; e++) err += re[e]! * re[e]! + im[e]! * im[e]!;
    errors.push(2 * err);
  }
  return { tensor: { kind: 'fairy2i', shape: [rows, cols], stages, codes, scales, source }, errors };
}

/** The real matrix a Fairy2i tensor stands for, [N, K] in float64 (for tests and error measures; kernels never build it). */
export function fairy2iDequantize(t: LmFairy2i): Float64Array {
  const n = t.shape[0] / 2;
  const m = t.shape[1] / 2;
  const size = n * m;
  const wl: WidelyLinear = { n, m, uRe: new Float64Array(size), uIm: new Float64Array(size), wRe: new Float64Array(size), wIm: new Float64Array(size) };
  for (let s = 0; s < t.stages; s++)
    for (let mat = 0; mat < 2; mat++) {
      const [re, im] = mat === 0 ? [wl.uRe, wl.uIm] : [wl.wRe, wl.wIm];
      const sRe = t.scales[(s * 2 + mat) * 2]!;
      const sIm = t.scales[(s * 2 + mat) * 2 + 1]!;
      for (let e = 0; e < size; e++) {
        const c = t.codes[(s * 2 + mat) * size + e]!;
        re[e] = re[e]! + sRe * CODE_RE[c]!;
        im[e] = im[e]! + sIm * CODE_IM[c]!;
      }
    }
  return fromWidelyLinear(wl);
}

export interface Fairy2iModelOptions {
  stages: number;
  /** The projections to quantize (canonical suffixes); default the seven of every layer. */
  projections?: readonly string[];
  /**
   * Also quantize the head, as the official Fairy2i-W2 does (`skip_lm_head=False`); a tied head is
   * untied first (the embedding stays float, the head becomes a Fairy2i copy of it). Default false:
   * the head stays as trained, as in every row of the quality table.
   */
  head?: boolean;
  /** Called after each tensor with the tensors done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * A copy of `model` whose float projections with even dimensions are Fairy2i weights of `stages`
 * stages. Projections with an odd dimension stay as they are (the official code skips them too);
 * the embedding, the head and the norms are unchanged. A note says what was done.
 */
export function fairy2iQuantizeModel(model: LmModel, opts: Fairy2iModelOptions): LmModel {
  const { stages } = opts;
  if (!(Number.isInteger(stages) && stages >= 1 && stages <= FAIRY2I_MAX_STAGES))
    fail('usage', '--stages', `must be an integer from 1 to ${FAIRY2I_MAX_STAGES}, got ${stages}`);
  // Which rows pair up as real and imaginary parts depends on the row order: quantize in the order
  // of a Hugging Face folder (rotate_half Q and K rows), the order the official code sees, so the
  // result can also be written as one.
  const source = model;
  model = toHalfRope(model);
  const suffixes = opts.projections ?? LM_PROJECTIONS;
  const names = [...model.tensors.keys()].filter((name) => suffixes.some((p) => name.endsWith(`.${p}`)));
  const tensors = new Map(model.tensors);
  let config = model.config;
  if (opts.head) {
    if (config.tiedOutput) {
      tensors.set('output', model.tensors.get('token_embd')!);
      config = { ...config, tiedOutput: false };
    }
    names.push('output');
  }
  const skipped: string[] = [];
  let done = 0;
  let err = 0;
  let norm = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const w = floatValues(t);
    if (!w) fail('unsupported', model.source, `Fairy2i: tensor "${name}" is ${t.kind}; quantize a float checkpoint`);
    const [rows, cols] = t.shape as [number, number];
    if (rows % 2 !== 0 || cols % 2 !== 0) skipped.push(`${name} [${rows}, ${cols}]`);
    else {
      const r = fairy2iQuantize(w, rows, cols, stages, `Fairy2i, ${stages} stage${stages > 1 ? 's' : ''}`);
      tensors.set(name, r.tensor);
      err += r.errors[stages - 1]!;
      for (const v of w) norm += v * v;
    }
    opts.onProgress?.(++done, names.length);
  }
  const quantized = names.length - skipped.length;
  const what = opts.head ? `matrices (projections and the head${model.config.tiedOutput ? ', untied from the embedding' : ''})` : 'projections';
  const notes = [
    ...model.notes,
    `Fairy2i-W${stages}: ${quantized} of ${names.length} ${what} in the widely-linear form with ${stages} phase stage${stages > 1 ? 's' : ''}` +
      ` (relative squared weight error ${norm > 0 ? (err / norm).toPrecision(3) : 0}); embedding${opts.head ? '' : ', head'} and norms unchanged` +
      (skipped.length ? `; kept as they were (odd dimension): ${skipped.join(', ')}` : '') +
      (model !== source ? '; Q and K rows put in rotate_half order first (exact)' : ''),
  ];
  return { ...model, config, tensors, notes };
}
