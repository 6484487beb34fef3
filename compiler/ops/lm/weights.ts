// The weight tensors the language-model ops take: float32, float16 (IEEE half bits), int8 codes with
// float32 scales, ternary codes with float32 scales (optionally P trit-planes, [P, N, K]), or unsigned
// b-bit codes with a float32 scale and a uint8 zero point per group (value = (code - zero) * scale);
// scales per tensor, per row, or per group of `groupSize` consecutive elements of a row. One place for
// their checks and their scale index.

import { DTYPE_INFO } from '../../dtypes.ts';
import { elementCount, shapeStr, type Tensor } from '../../ir.ts';
import type { InferContext } from '../op.ts';

/** What a weight may be beyond a 2-D float, int8 or one-plane ternary matrix. */
export interface WeightForms {
  /** Ternary trit-planes [P, N, K] (PTQTP). */
  planes?: boolean;
  /** uint8 b-bit codes with zero points (GPTQ). */
  zeroPoints?: boolean;
}

/** Check input `i` is a constant weight of a supported kind, with a scale tensor when it has codes. */
export function checkWeight(ctx: InferContext, w: Tensor, i: number, forms: WeightForms = {}): boolean {
  const where = `input ${i} "${w.name}"`;
  if (w.kind !== 'constant') return fail(ctx, `${where} must be a constant weight`);
  const kinds = ['float32', 'float16', 'int8', 'ternary', ...(forms.zeroPoints ? ['uint8'] : [])];
  if (!kinds.includes(w.dtype)) return fail(ctx, `${where} must be ${kinds.join(', ')}, found ${w.dtype}`, 'dtype');
  const rank = forms.planes && w.dtype === 'ternary' ? [2, 3] : [2];
  if (!rank.includes(w.shape.length))
    return fail(ctx, `${where} must be ${rank.length > 1 ? '[rows, cols] or [planes, rows, cols]' : '2-D [rows, cols]'}, found ${shapeStr(w.shape)}`);
  const coded = w.dtype === 'int8' || w.dtype === 'ternary' || w.dtype === 'uint8';
  if (coded !== !!w.quant) return fail(ctx, coded ? `${where} (${w.dtype} codes) has no scale` : `${where} (${w.dtype}) must not have a scale`);
  if (w.quant) {
    const s = ctx.graph.tensors.get(w.quant.scale);
    const want = scaleCount(w);
    if (!s || s.dtype !== 'float32' || elementCount(s.shape) !== want)
      return fail(
        ctx,
        `scale "${w.quant.scale}" of ${where} must be float32 with ${want} values (${w.quant.granularity}${w.quant.groupSize ? ` ${w.quant.groupSize}` : ''})`,
      );
    if (w.dtype === 'uint8') {
      const bits = w.quant.bits ?? 8;
      if (!(Number.isInteger(bits) && bits >= 2 && bits <= 8)) return fail(ctx, `${where} has ${bits}-bit codes; 2 to 8 bits are supported`);
      if (w.quant.granularity === 'per_tensor') return fail(ctx, `${where}: b-bit codes take a scale per row or per group`);
      const z = w.quant.zeroPoint ? ctx.graph.tensors.get(w.quant.zeroPoint) : undefined;
      if (!z || z.dtype !== 'uint8' || z.kind !== 'constant' || elementCount(z.shape) !== want)
        return fail(ctx, `${where} (uint8 codes) needs a constant uint8 zero point per scale (${want} values)`);
      const max = (1 << bits) - 1;
      const bad = [...(w.data as Uint8Array), ...(z.data as Uint8Array)].find((c) => c > max);
      if (bad !== undefined) return fail(ctx, `${where}: code or zero point ${bad} does not fit ${bits} bits`);
    } else if (w.quant.zeroPoint) return fail(ctx, `${where} (${w.dtype} codes) cannot have a zero point`);
  }
  return true;
}

function fail(ctx: InferContext, message: string, code?: 'dtype'): false {
  ctx.error(message, code);
  return false;
}

/** Trit-planes of a weight (1 unless [P, N, K]). */
export function planesOf(w: Tensor): number {
  return w.shape.length === 3 ? w.shape[0]! : 1;
}

/** Output rows N of a weight [N, K] or [P, N, K]. */
export function rowsOfWeight(w: Tensor): number {
  return w.shape[w.shape.length - 2]!;
}

/** Columns K. */
export function colsOfWeight(w: Tensor): number {
  return w.shape[w.shape.length - 1]!;
}

/** Scale groups per row: 0 for one scale per tensor (the index is then always 0). */
export function groupsPerRow(w: Tensor): number {
  const cols = colsOfWeight(w);
  switch (w.quant?.granularity) {
    case 'per_group':
      return Math.ceil(cols / w.quant.groupSize!);
    case 'per_row':
      return 1;
    default:
      return 0;
  }
}

/** Elements per scale group along a row (the whole row unless per_group). */
export function groupSize(w: Tensor): number {
  return w.quant?.granularity === 'per_group' ? w.quant.groupSize! : colsOfWeight(w);
}

/** Scales of one plane. */
export function scalesPerPlane(w: Tensor): number {
  const g = groupsPerRow(w);
  return g === 0 ? 1 : rowsOfWeight(w) * g;
}

function scaleCount(w: Tensor): number {
  return planesOf(w) * scalesPerPlane(w);
}

/** The index of the scale of element (row, col) of plane `plane`. */
export function scaleOf(w: Tensor, row: number, col: number, plane = 0): number {
  return plane * scalesPerPlane(w) + row * groupsPerRow(w) + Math.floor(col / groupSize(w));
}

/**
 * The kernel-name suffix of a weight kind: f32, f16, q8 (int8 codes), t2 (ternary, 2-bit codes),
 * t2p (ternary trit-planes), ub (unsigned b-bit codes with zero points).
 */
export function weightKernelSuffix(w: Tensor): 'f32' | 'f16' | 'q8' | 't2' | 't2p' | 'ub' {
  if (w.dtype === 'ternary') return planesOf(w) > 1 ? 't2p' : 't2';
  return w.dtype === 'float32' ? 'f32' : w.dtype === 'float16' ? 'f16' : w.dtype === 'int8' ? 'q8' : 'ub';
}

/** Bytes the weight takes in flash as emitted (ternary: 2 bits per code; b-bit: b bits; plus scales and zero points). */
export function weightBytes(w: Tensor): number {
  const rows = elementCount(w.shape) / colsOfWeight(w);
  const k = colsOfWeight(w);
  const codes =
    w.dtype === 'ternary'
      ? rows * Math.ceil(k / 4)
      : w.dtype === 'uint8'
        ? rows * Math.ceil((k * (w.quant?.bits ?? 8)) / 8) + 1
        : elementCount(w.shape) * DTYPE_INFO[w.dtype].bytes;
  return codes + (w.quant ? scaleCount(w) * (w.quant.zeroPoint ? 5 : 4) : 0);
}
