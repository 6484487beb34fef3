// TBT, binary and ternary transformers (arXiv 2306.01841; seed-methods 8), as
// facebookresearch/Ternary_Binary_Transformer `quant/utils_quant.py` computes them (read in the
// public code index): statistics-based weights per output row, and the activation quantizers.
//
// Every step is a float32 operation rounded as PyTorch's float32 tensors round it (Math.fround after
// each), round half to even as torch.round; means are summed in float64 and rounded once (torch's
// float32 reduction order cannot be reproduced anyway). Choices where the code leaves room are in
// docs/formats.md ("TBT").

import type { LmTernary } from '../lm/model.ts';
import { actQuantRow, elasticStep, type ActQuantParams } from '../ops/lm/act_quant.ts';
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
 * An all-zero tensor, where the reference computes 0 * inf = NaN, stays zero here. The ActQuant op
 * (compiler/ops/lm/act_quant.ts) is the same per token; this is its layerwise form (one row).
 */
export function symQuantize8(x: ArrayLike<number>, clipVal = 2.5): Float32Array {
  return layerwise({ method: 'clip8', bits: 8, signed: true, alpha: 1, clip: clipVal }, x);
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
  return layerwise({ method: 'elastic', bits, signed, alpha, clip: 0 }, x);
}

function layerwise(p: ActQuantParams, x: ArrayLike<number>): Float32Array {
  const out = new Float32Array(x.length);
  actQuantRow(p, x, 0, x.length, out, 0);
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
  let s = 0;
  for (let i = 0; i < samples.length; i++) s += Math.abs(f(samples[i]!));
  return elasticAlphaFromMean(f(s / samples.length), bits, signed);
}

/** The same from mean|x| already taken (over a stream of calibration rows). */
export function elasticAlphaFromMean(meanAbs: number, bits: 1 | 2, signed: boolean): number {
  let qp = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  if (qp === 0) qp = 1;
  return elasticStep(f(f((signed ? 2 : 4) * f(meanAbs)) / f(Math.sqrt(qp))));
}
