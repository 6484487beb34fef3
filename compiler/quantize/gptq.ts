// GPTQ (Frantar et al., arXiv 2210.17323): quantize one linear layer's weights column by column,
// spreading each column's rounding error over the columns not yet quantized so that the layer's
// output on the calibration inputs, ||W X - Q X||^2, moves as little as possible. The procedure is
// that of IST-DASLab/gptq `gptq.py` (fasterquant) with AutoGPTQ's additions (`auto_gptq/quantization/
// gptq.py`, `quantizer.py`): per-group parameters computed when a group starts, static groups, the
// g_idx map. Read in the public code index, reimplemented here:
//
//   H = 2/n sum_x x x^T                     accumulateHessian, one call = one sample as add_batch
//   dead = {i : H[i,i] == 0}                H[i,i] = 1, W[:, i] = 0
//   act-order: perm = argsort(diag H, descending); W, H permuted
//   H += dampPercent * mean(diag H) * I;  U = chol(H^-1) upper (U^T U = H^-1)
//   for each block of blockSize columns, for each column i in it:
//     (a new group starts at i: quantizer parameters from the current W[:, i : i+G])
//     q = quant(w_i);  err = (w_i - q) / U[i,i];  W[:, i:blockEnd] -= err U[i, i:blockEnd]
//   after the block: W[:, blockEnd:] -= Err U[block, blockEnd:]   (the lazy batched update)
//
// The quantizer (quantizer.py): per row of a group, xmin = min(0, min w), xmax = max(0, max w);
// symmetric: xmax = max(|xmin|, xmax), xmin = -xmax; all zero: [-1, 1]. Asymmetric:
// scale = (xmax - xmin) / maxq, zero = round(-xmin / scale); symmetric: zero = 2^(b-1);
// code = clamp(round(w / scale) + zero, 0, maxq); value = scale * (code - zero). GPTQ's ternary mode
// (`--trits`): scale = xmax, zero = xmin, value = xmax if w > xmax/2, xmin if w < xmin/2, else 0.
//
// Choices where the references leave room (docs/formats.md, "GPTQ"):
// * Everything is float64 (the references run float32 on a GPU); rounding is half to even (torch.round).
// * act-order ties (equal H[i,i]) keep column order (torch.argsort is not stable; this is).
// * As AutoGPTQ, a group's parameters are computed from W as it stood at the start of the current
//   block: updates made inside the block are not seen (they only differ when a group starts mid-block).
// * `v1Zeros` (default on): an asymmetric zero point that rounds to 0 cannot be stored by AutoGPTQ's
//   v1 format (it writes z - 1, and -1 corrupts the packed word); such a group uses zero = 1 and
//   scale = xmax / (maxq - 1) instead, a grid that still covers [xmin, xmax].
// * `fp16Scales` (default on): the result carries the scales as AutoGPTQ's checkpoint stores them,
//   rounded to float16, with each code recomputed from the quantized weight as AutoGPTQ's `pack`
//   does (round((Q + z s) / half(s)), which gives GPTQ's own code unless half(s) is far from s).
//
// Output: LmIntB with codes in STORED order: act-order's groups made contiguous by a stable sort of
// the input columns by g_idx, `columns` the permutation (absent when it is the identity), scales and
// zeros per (row, group). Trits: LmTernary with two planes, {0,+1} scaled by xmax and {0,-1} scaled
// by -xmin (the planes never overlap: one trit a weight, see docs/formats.md for bits per weight).

import { fail } from '../diagnostics.ts';
import type { LmIntB, LmTernary } from '../lm/model.ts';
import { roundEven } from '../lm/ternarize.ts';
import { f16BitsToF32, f32ToF16Bits } from '../numerics/half.ts';
import { checkMatrix } from './matrix.ts';
import { NotPositiveDefinite, cholesky, choleskyInverse, choleskyUpper } from './linalg.ts';

/** The running Hessian of one layer's inputs, as AutoGPTQ's GPTQ.H and GPTQ.nsamples. */
export interface Hessian {
  cols: number;
  /** [cols, cols] row-major. */
  h: Float64Array;
  /** Calls of accumulateHessian so far (AutoGPTQ counts batches, not tokens). */
  samples: number;
}

export function newHessian(cols: number): Hessian {
  return { cols, h: new Float64Array(cols * cols), samples: 0 };
}

/**
 * Add one calibration sample: `x` is [rows, cols] (the layer's inputs for `rows` tokens), row-major.
 * As AutoGPTQ's add_batch with a 2-D input: H *= n / (n + 1); n += 1; H += (2 / n) x^T x. So after
 * n calls, H = 2/n * sum over every token of x x^T, in float64.
 */
export function accumulateHessian(hs: Hessian, x: ArrayLike<number>, rows: number, cols: number): void {
  if (cols !== hs.cols) throw new Error(`internal: accumulateHessian: ${cols} columns for a Hessian of ${hs.cols}`);
  if (x.length !== rows * cols) throw new Error(`internal: accumulateHessian: ${x.length} values for [${rows}, ${cols}]`);
  const h = hs.h;
  const keep = hs.samples / (hs.samples + 1);
  for (let i = 0; i < h.length; i++) h[i]! *= keep;
  hs.samples++;
  const f = 2 / hs.samples;
  for (let t = 0; t < rows; t++) {
    const o = t * cols;
    for (let i = 0; i < cols; i++) {
      const xi = x[o + i]! * f;
      if (xi === 0) continue;
      const hi = i * cols;
      for (let j = 0; j <= i; j++) h[hi + j]! += xi * x[o + j]!;
    }
  }
  // Only the lower triangle was accumulated: mirror it.
  for (let i = 0; i < cols; i++) for (let j = 0; j < i; j++) h[j * cols + i] = h[i * cols + j]!;
}

export interface GptqOptions {
  bits: 2 | 3 | 4 | 8;
  /** Columns per group; -1 (the default) is one group per row. */
  groupSize?: number;
  /** desc_act: quantize columns in decreasing order of H[i,i]. Default false. */
  actOrder?: boolean;
  /**
   * Symmetric grid (zero = 2^(b-1); trits: xmin = -xmax). Default true for b bits, as AutoGPTQ's
   * BaseQuantizeConfig; false for trits, as GPTQ's own scripts (--sym is off) and the {xmin, 0, xmax} grid.
   */
  sym?: boolean;
  /** Dampening as a fraction of the mean of diag(H). Default 0.01. */
  dampPercent?: number;
  /** Columns per lazy batch. Default 128. */
  blockSize?: number;
  /** Group parameters from the original W before any update, in original column order. Default false. */
  staticGroups?: boolean;
  /** GPTQ's ternary grid {xmin, 0, xmax} instead of b bits (bits is then ignored). Default false. */
  trits?: boolean;
  /** Keep asymmetric zero points >= 1 so AutoGPTQ's v1 format can store them. Default true. */
  v1Zeros?: boolean;
  /** Scales rounded to float16, as AutoGPTQ stores them. Default true (b-bit only). */
  fp16Scales?: boolean;
  /** The tensor's name, for messages. */
  name?: string;
  /** Called after each block with the columns done and the total (for a progress bar). */
  onProgress?: (done: number, total: number) => void;
}

export interface GptqResult {
  tensor: LmIntB | LmTernary;
  /** The group of each input column, in original column order (AutoGPTQ's g_idx). */
  gIdx: Int32Array;
  /** GPTQ's own loss estimate: sum over columns of ||w - q||^2 / (2 U[i,i]^2). */
  loss: number;
}

interface Grid {
  trits: boolean;
  maxq: number;
  sym: boolean;
  v1Zeros: boolean;
}

/** Per-row quantizer parameters of one group. */
interface Params {
  scale: Float64Array;
  zero: Float64Array;
}

/** quantizer.py find_params over columns [c0, c1) of every row (c1 clipped to cols). */
function findParams(w: Float64Array, rows: number, cols: number, c0: number, c1: number, g: Grid): Params {
  const scale = new Float64Array(rows);
  const zero = new Float64Array(rows);
  const end = Math.min(c1, cols);
  for (let r = 0; r < rows; r++) {
    let lo = 0;
    let hi = 0;
    for (let c = c0; c < end; c++) {
      const v = w[r * cols + c]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (g.sym) {
      hi = Math.max(-lo, hi);
      if (lo < 0) lo = -hi;
    }
    if (lo === 0 && hi === 0) {
      lo = -1;
      hi = 1;
    }
    if (g.trits) {
      scale[r] = hi;
      zero[r] = lo;
      continue;
    }
    let s = (hi - lo) / g.maxq;
    let z = g.sym ? (g.maxq + 1) / 2 : roundEven(-lo / s);
    if (z === 0 && g.v1Zeros) {
      // lo > -s/2 here, so [-hi/(maxq-1), hi] still covers [lo, hi].
      z = 1;
      s = hi / (g.maxq - 1);
    }
    scale[r] = s;
    zero[r] = z;
  }
  return { scale, zero };
}

/** The code of one weight (b-bit) or its trit (-1, 0, +1), and the value it stands for. */
function quantOne(x: number, s: number, z: number, g: Grid): { code: number; value: number } {
  if (g.trits) {
    if (x > s / 2) return { code: 1, value: s };
    if (x < z / 2) return { code: -1, value: z };
    return { code: 0, value: 0 };
  }
  const q = Math.min(g.maxq, Math.max(0, roundEven(x / s) + z));
  return { code: q, value: s * (q - z) };
}

function gridOf(o: GptqOptions): Grid {
  const trits = o.trits ?? false;
  if (!trits && ![2, 3, 4, 8].includes(o.bits)) throw new Error(`internal: GPTQ bits ${o.bits}; expected 2, 3, 4 or 8`);
  return { trits, maxq: 2 ** o.bits - 1, sym: o.sym ?? !trits, v1Zeros: o.v1Zeros ?? true };
}

/** Everything GPTQ and round-to-nearest share once the codes are known: the output tensor. */
interface Quantized {
  /** Codes in processing order (the permuted order under act-order), [rows, cols]. */
  codes: Int32Array;
  /** Processing position -> original column. */
  perm: Int32Array;
  /** Parameters of each group, by group index. */
  params: Params[];
  /** g_idx, original column order. */
  gIdx: Int32Array;
  groupSize: number;
}

/**
 * Quantize one layer with GPTQ. `w` is [rows = out_features, cols = in_features] row-major, `hessian`
 * the layer's accumulated input Hessian ([cols, cols]).
 */
export function gptqQuantize(w: ArrayLike<number>, rows: number, cols: number, hessian: Hessian, opts: GptqOptions): GptqResult {
  checkMatrix('gptqQuantize', w, rows, cols);
  if (hessian.cols !== cols) throw new Error(`internal: gptqQuantize: a Hessian of ${hessian.cols} columns for a weight of ${cols}`);
  const g = gridOf(opts);
  const gs = opts.groupSize ?? -1;
  if (gs !== -1 && !(Number.isSafeInteger(gs) && gs > 0)) throw new Error(`internal: GPTQ group size ${gs}; expected -1 or a positive integer`);
  const actOrder = opts.actOrder ?? false;
  const staticGroups = (opts.staticGroups ?? false) && gs !== -1;
  const blockSize = opts.blockSize ?? 128;
  const damp = opts.dampPercent ?? 0.01;
  if (!(damp > 0 && damp < 1)) throw new Error(`internal: GPTQ dampPercent ${damp}; it must be in (0, 1), as AutoGPTQ requires`);
  const where = opts.name ?? 'GPTQ';
  if (g.trits && actOrder && gs !== -1 && !staticGroups)
    fail('usage', where, "GPTQ trits with act-order and groups need static groups (a ternary tensor's groups are consecutive input columns)");

  const W = Float64Array.from(w);
  const H = Float64Array.from(hessian.h);
  // With one group per row, the parameters come from W before the dead columns are zeroed (AutoGPTQ).
  let current = findParams(W, rows, cols, 0, cols, g);

  for (let i = 0; i < cols; i++) {
    if (H[i * cols + i] !== 0) continue;
    H[i * cols + i] = 1;
    for (let r = 0; r < rows; r++) W[r * cols + i] = 0;
  }
  const groupsStatic: Params[] = [];
  if (staticGroups) for (let c = 0; c < cols; c += gs) groupsStatic.push(findParams(W, rows, cols, c, c + gs, g));

  const perm = Int32Array.from({ length: cols }, (_, i) => i);
  if (actOrder) {
    const diag = Float64Array.from({ length: cols }, (_, i) => H[i * cols + i]!);
    perm.sort((a, b) => diag[b]! - diag[a]! || a - b);
    permuteColumns(W, rows, cols, perm);
    permuteSymmetric(H, cols, perm);
  }

  let mean = 0;
  for (let i = 0; i < cols; i++) mean += H[i * cols + i]!;
  mean /= cols;
  for (let i = 0; i < cols; i++) H[i * cols + i]! += damp * mean;
  let U: Float64Array;
  try {
    U = choleskyUpper(choleskyInverse(cholesky(H, cols), cols), cols);
  } catch (e) {
    if (e instanceof NotPositiveDefinite)
      fail('usage', where, `the dampened Hessian is not positive definite (column ${e.pivot}); raise the dampening above ${damp} or add calibration data`);
    throw e;
  }

  const codes = new Int32Array(rows * cols);
  const params: Params[] = [];
  let loss = 0;
  for (let i1 = 0; i1 < cols; i1 += blockSize) {
    const i2 = Math.min(i1 + blockSize, cols);
    const count = i2 - i1;
    // W1 = W[:, i1:i2] (its own copy: W keeps the block-start values, which group parameters read).
    const W1 = new Float64Array(rows * count);
    for (let r = 0; r < rows; r++) for (let i = 0; i < count; i++) W1[r * count + i] = W[r * cols + i1 + i]!;
    const Err1 = new Float64Array(rows * count);
    for (let i = 0; i < count; i++) {
      const col = i1 + i;
      if (gs !== -1) {
        if (staticGroups) current = groupsStatic[Math.floor(perm[col]! / gs)]!;
        else if (col % gs === 0) {
          current = findParams(W, rows, cols, col, col + gs, g);
          params.push(current);
        }
      }
      const d = U[col * cols + col]!;
      for (let r = 0; r < rows; r++) {
        const x = W1[r * count + i]!;
        const { code, value } = quantOne(x, current.scale[r]!, current.zero[r]!, g);
        codes[r * cols + col] = code;
        const err = (x - value) / d;
        loss += (err * err) / 2;
        Err1[r * count + i] = err;
        for (let j = i + 1; j < count; j++) W1[r * count + j]! -= err * U[col * cols + i1 + j]!;
      }
    }
    // The lazy batched update of every column after the block.
    for (let r = 0; r < rows; r++)
      for (let k = 0; k < count; k++) {
        const e = Err1[r * count + k]!;
        if (e === 0) continue;
        const urow = (i1 + k) * cols;
        for (let j = i2; j < cols; j++) W[r * cols + j]! -= e * U[urow + j]!;
      }
    opts.onProgress?.(i2, cols);
  }
  if (gs === -1) params.push(current);

  const G = gs === -1 ? cols : gs;
  const gIdx = new Int32Array(cols);
  for (let p = 0; p < cols; p++) gIdx[perm[p]!] = staticGroups ? Math.floor(perm[p]! / G) : Math.floor(p / G);
  const q: Quantized = { codes, perm, params: staticGroups ? groupsStatic : params, gIdx, groupSize: G };
  const how = `GPTQ ${g.trits ? 'trits' : `int${opts.bits}`}${gs === -1 ? ' per row' : ` group ${gs}`}${actOrder ? ', act-order' : ''}${staticGroups ? ', static groups' : ''}`;
  return { tensor: toTensor(q, rows, cols, g, opts, how), gIdx, loss };
}

/**
 * Round to nearest on the same grid as `gptqQuantize` with these options: group parameters from the
 * weights themselves, no error feedback (the baseline GPTQ is measured against). actOrder is ignored
 * (without error feedback the order does not matter).
 */
export function roundToNearest(w: ArrayLike<number>, rows: number, cols: number, opts: GptqOptions): GptqResult {
  checkMatrix('roundToNearest', w, rows, cols);
  const g = gridOf(opts);
  const gs = opts.groupSize ?? -1;
  const G = gs === -1 ? cols : gs;
  const W = Float64Array.from(w);
  const codes = new Int32Array(rows * cols);
  const params: Params[] = [];
  for (let c0 = 0; c0 < cols; c0 += G) {
    const p = findParams(W, rows, cols, c0, c0 + G, g);
    params.push(p);
    for (let r = 0; r < rows; r++)
      for (let c = c0; c < Math.min(c0 + G, cols); c++) codes[r * cols + c] = quantOne(W[r * cols + c]!, p.scale[r]!, p.zero[r]!, g).code;
  }
  const perm = Int32Array.from({ length: cols }, (_, i) => i);
  const gIdx = Int32Array.from({ length: cols }, (_, i) => Math.floor(i / G));
  const how = `round-to-nearest ${g.trits ? 'trits' : `int${opts.bits}`}${gs === -1 ? ' per row' : ` group ${gs}`}`;
  return { tensor: toTensor({ codes, perm, params, gIdx, groupSize: G }, rows, cols, g, opts, how), gIdx, loss: NaN };
}

function toTensor(q: Quantized, rows: number, cols: number, g: Grid, opts: GptqOptions, how: string): LmIntB | LmTernary {
  const groups = q.params.length;
  // Stored order: input columns stably sorted by group; pos[c] = processing position of column c.
  const columns = Int32Array.from({ length: cols }, (_, i) => i).sort((a, b) => q.gIdx[a]! - q.gIdx[b]! || a - b);
  const pos = new Int32Array(cols);
  for (let p = 0; p < cols; p++) pos[q.perm[p]!] = p;
  const identity = columns.every((c, j) => c === j);

  if (g.trits) {
    // Groups are consecutive original columns here (gptqQuantize refuses the other case).
    const codes = new Int8Array(2 * rows * cols);
    const scales = new Float32Array(2 * rows * groups);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const t = q.codes[r * cols + pos[c]!]!;
        if (t > 0) codes[r * cols + c] = 1;
        else if (t < 0) codes[rows * cols + r * cols + c] = -1;
      }
      for (let k = 0; k < groups; k++) {
        scales[r * groups + k] = q.params[k]!.scale[r]!; // xmax
        scales[rows * groups + r * groups + k] = -q.params[k]!.zero[r]!; // -xmin
      }
    }
    const perGroup = groups > 1;
    return {
      kind: 'ternary',
      shape: [rows, cols],
      codes,
      scales,
      granularity: perGroup ? 'per_group' : 'per_row',
      ...(perGroup ? { groupSize: q.groupSize } : {}),
      planes: 2,
      source: `${how}: planes {0,+1}*xmax and {0,-1}*(-xmin)`,
    };
  }

  const fp16 = opts.fp16Scales ?? true;
  const codes = new Uint8Array(rows * cols);
  const scales = new Float32Array(rows * groups);
  const zeros = new Uint8Array(rows * groups);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < groups; k++) {
      const s = q.params[k]!.scale[r]!;
      const stored = fp16 ? f16BitsToF32(f32ToF16Bits(s)) : Math.fround(s);
      if (!(stored > 0 && Number.isFinite(stored)))
        fail(
          'limit',
          opts.name ?? 'GPTQ',
          `scale ${s} of row ${r}, group ${k} is ${stored} once stored${fp16 ? ' as float16' : ''}; the weights are out of its range`,
        );
      scales[r * groups + k] = stored;
      zeros[r * groups + k] = q.params[k]!.zero[r]!;
    }
    for (let j = 0; j < cols; j++) {
      const c = columns[j]!;
      const k = q.gIdx[c]!;
      let code = q.codes[r * cols + pos[c]!]!;
      if (fp16) {
        // AutoGPTQ's pack: round((Q + z s) / half(s)) from the dequantized weight Q = s (code - z).
        const s = q.params[k]!.scale[r]!;
        const z = q.params[k]!.zero[r]!;
        code = Math.min(g.maxq, Math.max(0, roundEven((s * (code - z) + z * s) / scales[r * groups + k]!)));
      }
      codes[r * cols + j] = code;
    }
  }
  return {
    kind: 'intb',
    bits: opts.bits,
    shape: [rows, cols],
    codes,
    scales,
    zeros,
    groupSize: q.groupSize,
    ...(identity ? {} : { columns }),
    source: `${how}${fp16 ? ', float16 scales' : ''}`,
  };
}

/** W[:, j] <- W[:, perm[j]] for every row. */
function permuteColumns(w: Float64Array, rows: number, cols: number, perm: Int32Array): void {
  const tmp = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) tmp[j] = w[r * cols + perm[j]!]!;
    w.set(tmp, r * cols);
  }
}

/** H <- H[perm][:, perm]. */
function permuteSymmetric(h: Float64Array, n: number, perm: Int32Array): void {
  const src = Float64Array.from(h);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) h[i * n + j] = src[perm[i]! * n + perm[j]!]!;
}
