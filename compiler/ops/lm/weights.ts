// The weight tensors the language-model ops take: float32, float16 (IEEE half bits), int8 codes with
// float32 scales, or ternary codes with float32 scales; scales per tensor, per row, or per group of
// `groupSize` consecutive elements of a row. One place for their checks and their scale index.

import { DTYPE_INFO } from '../../dtypes.ts';
import { elementCount, shapeStr, type Tensor } from '../../ir.ts';
import type { InferContext } from '../op.ts';

const KINDS = ['float32', 'float16', 'int8', 'ternary'];

/** Check input `i` is a 2-D constant weight of a supported kind, with a scale tensor when it has codes. */
export function checkWeight(ctx: InferContext, w: Tensor, i: number): boolean {
  const where = `input ${i} "${w.name}"`;
  if (w.kind !== 'constant') return fail(ctx, `${where} must be a constant weight`);
  if (!KINDS.includes(w.dtype)) return fail(ctx, `${where} must be float32, float16, int8 or ternary, found ${w.dtype}`, 'dtype');
  if (w.shape.length !== 2) return fail(ctx, `${where} must be 2-D [rows, cols], found ${shapeStr(w.shape)}`);
  const coded = w.dtype === 'int8' || w.dtype === 'ternary';
  if (coded !== !!w.quant) return fail(ctx, coded ? `${where} (${w.dtype} codes) has no scale` : `${where} (${w.dtype}) must not have a scale`);
  if (w.quant) {
    const s = ctx.graph.tensors.get(w.quant.scale);
    const want = scaleCount(w);
    if (!s || s.dtype !== 'float32' || elementCount(s.shape) !== want)
      return fail(
        ctx,
        `scale "${w.quant.scale}" of ${where} must be float32 with ${want} values (${w.quant.granularity}${w.quant.groupSize ? ` ${w.quant.groupSize}` : ''})`,
      );
  }
  return true;
}

function fail(ctx: InferContext, message: string, code?: 'dtype'): false {
  ctx.error(message, code);
  return false;
}

/** Scale groups per row: 0 for one scale per tensor (the index is then always 0). */
export function groupsPerRow(w: Tensor): number {
  const cols = w.shape[1]!;
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
  return w.quant?.granularity === 'per_group' ? w.quant.groupSize! : w.shape[1]!;
}

function scaleCount(w: Tensor): number {
  const g = groupsPerRow(w);
  return g === 0 ? 1 : w.shape[0]! * g;
}

/** The index of the scale of element (row, col). */
export function scaleOf(w: Tensor, row: number, col: number): number {
  return row * groupsPerRow(w) + Math.floor(col / groupSize(w));
}

/** The kernel-name suffix of a weight kind: f32, f16, q8 (int8 codes), t2 (ternary, 2-bit codes). */
export function weightKernelSuffix(w: Tensor): 'f32' | 'f16' | 'q8' | 't2' {
  return w.dtype === 'float32' ? 'f32' : w.dtype === 'float16' ? 'f16' : w.dtype === 'int8' ? 'q8' : 't2';
}

/** Bytes the weight takes in flash as emitted (ternary: 2 bits per code; plus its scales). */
export function weightBytes(w: Tensor): number {
  const n = elementCount(w.shape);
  const codes = w.dtype === 'ternary' ? w.shape[0]! * Math.ceil(w.shape[1]! / 4) : n * DTYPE_INFO[w.dtype].bytes;
  return codes + (w.quant ? scaleCount(w) * 4 : 0);
}
