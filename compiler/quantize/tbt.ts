// TBT, binary and ternary transformers (arXiv 2306.01841; seed-methods 8), as
// facebookresearch/Ternary_Binary_Transformer `quant/utils_quant.py` computes them (read in the
// public code index): statistics-based weights per output row, and the activation quantizers.
//
// Every step is a float32 operation rounded as PyTorch's float32 tensors round it (Math.fround after
// each), round half to even as torch.round; means are summed in float64 and rounded once (torch's
// float32 reduction order cannot be reproduced anyway). Choices where the code leaves room are in
// docs/formats.md ("TBT").

import type { LmTernary } from '../lm/model.ts';
import { roundEven } from '../lm/ternarize.ts';
import { checkMatrix } from './matrix.ts';

const f = Math.fround;

function rowMeanAbs(w: ArrayLike<number>, r: number, cols: number): number {
  let s = 0;
  for (let c = 0; c < cols; c++) s += Math.abs(w[r * cols + c]!);
  return f(s / cols);
}

/**
 * Ternary weights (weight_bits = 2): a_n = 4/3 mean_k |W[n,k]|, T = round(clamp(W / a_n, -1, 1)),
 * so |w| > (2/3) mean|W_row| becomes +-1 (exactly a_n / 2 rounds to 0, half to even). A row of zeros
 * (a_n = 0, where the reference divides 0 by 0) gets codes 0.
 */
export function tbtTernary(w: ArrayLike<number>, rows: number, cols: number): LmTernary {
  checkMatrix('tbtTernary', w, rows, cols);
  const codes = new Int8Array(rows * cols);
  const scales = new Float32Array(rows);
  const fourThirds = f(4 / 3);
  for (let r = 0; r < rows; r++) {
    const a = f(fourThirds * rowMeanAbs(w, r, cols));
    scales[r] = a;
    if (a === 0) continue;
    for (let c = 0; c < cols; c++) codes[r * cols + c] = roundEven(Math.max(-1, Math.min(1, f(w[r * cols + c]! / a))));
  }
  return { kind: 'ternary', shape: [rows, cols], codes, scales, granularity: 'per_row', source: 'TBT ternary, 4/3 mean|W| per row' };
}

/**
 * Binary weights (weight_bits = 1): a_n = mean_k |W[n,k]|, codes sign(W). torch.sign(0) is 0, which
 * would make an exactly-zero weight a third value; here it is +1, so the codes are binary (the value
 * of such a weight becomes a_n instead of 0). The paper subtracts the row mean first; the released
 * code does not, and neither does this.
 */
export function tbtBinary(w: ArrayLike<number>, rows: number, cols: number): LmTernary {
  checkMatrix('tbtBinary', w, rows, cols);
  const codes = new Int8Array(rows * cols);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    scales[r] = rowMeanAbs(w, r, cols);
    for (let c = 0; c < cols; c++) codes[r * cols + c] = w[r * cols + c]! < 0 ? -1 : 1;
  }
  return { kind: 'ternary', shape: [rows, cols], codes, scales, granularity: 'per_row', source: 'TBT binary, mean|W| per row' };
}

/**
 * SymQuantizer, 8 bits, layerwise (the W2A8 / W1A8 activations): clamp to [-clipVal, clipVal] (a
 * fixed buffer, 2.5 by default), s = 127 / max|x| over the whole tensor, x -> round(x s) / s.
 * An all-zero tensor, where the reference computes 0 * inf = NaN, stays zero here.
 */
export function symQuantize8(x: ArrayLike<number>, clipVal = 2.5): Float32Array {
  const c = f(clipVal);
  const out = new Float32Array(x.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const v = Math.max(-c, Math.min(c, f(x[i]!)));
    out[i] = v;
    m = Math.max(m, Math.abs(v));
  }
  if (m === 0) return out;
  const s = f(127 / m);
  for (let i = 0; i < out.length; i++) out[i] = f(roundEven(f(out[i]! * s)) / s);
  return out;
}

/** The step the elastic quantizers use: alpha clamped to at least 1e-5 (torch.where(alpha > eps, alpha, eps)). */
function step(alpha: number): number {
  const eps = f(0.00001);
  const a = f(alpha);
  return a > eps ? a : eps;
}

/**
 * The elastic (LSQ-style) 1- and 2-bit activation quantizers with a learned step alpha, layerwise:
 *   signed   (ElasticQuantBinarizerSigned):   2 bits: alpha * clamp(round(x / alpha), -1, 1) (ternary);
 *                                             1 bit:  alpha * sign(x) (sign(0) = 0, as torch)
 *   unsigned (ElasticQuantBinarizerUnsigned): 2 bits: m = min(x) over the tensor, x' = x - m,
 *                                             q = clamp(round(x' / alpha), 0, 2), q alpha + m;
 *                                             1 bit: clamp(round(x / alpha), 0, 1) alpha, no min.
 */
export function elasticQuantize(x: ArrayLike<number>, alpha: number, bits: 1 | 2, signed: boolean): Float32Array {
  const a = step(alpha);
  const out = new Float32Array(x.length);
  if (signed) {
    for (let i = 0; i < x.length; i++) {
      const v = f(x[i]!);
      const q = bits === 1 ? Math.sign(v) : Math.max(-1, Math.min(1, roundEven(f(v / a))));
      out[i] = f(q * a) + 0; // + 0: no -0
    }
    return out;
  }
  const qp = bits === 2 ? 2 : 1;
  let m = 0;
  if (bits === 2) {
    m = Infinity;
    for (let i = 0; i < x.length; i++) m = Math.min(m, f(x[i]!));
  }
  for (let i = 0; i < x.length; i++) {
    const v = bits === 2 ? f(f(x[i]!) - m) : f(x[i]!);
    const q = Math.max(0, Math.min(qp, roundEven(f(v / a))));
    out[i] = bits === 2 ? f(f(q * a) + m) : f(q * a);
  }
  return out;
}

/**
 * The initial step of an elastic quantizer from calibration values (AlphaInit.initialize_wrapper,
 * init_method 'default'): Qp = 2^(b-1) - 1 signed, 2^b - 1 unsigned, 1 when that is 0;
 * alpha = 2 mean|x| / sqrt(Qp) signed, 4 mean|x| / sqrt(Qp) unsigned (of the raw x, before any min is
 * subtracted), at least 1e-5. The reference initialises on the first batch it sees; here the mean is
 * over all the values given.
 */
export function elasticAlphaInit(samples: ArrayLike<number>, bits: 1 | 2, signed: boolean): number {
  if (samples.length === 0) throw new Error('internal: elasticAlphaInit needs calibration values');
  let qp = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  if (qp === 0) qp = 1;
  let s = 0;
  for (let i = 0; i < samples.length; i++) s += Math.abs(f(samples[i]!));
  const mean = f(s / samples.length);
  return step(f(f((signed ? 2 : 4) * mean) / f(Math.sqrt(qp))));
}
