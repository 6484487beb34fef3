// The low-bit weight geometry and accumulator bounds that the low-bit ops, the kernel choice and the
// packer agree on. Its own module, so that ops and kernels both import it and not each other.

import type { Tensor } from './ir.ts';

/** The weight geometry every low-bit op (and the packer) agrees on. */
export interface LowBitGeometry {
  planes: number;
  n: number;
  k: number;
  /** Elements per scale group along K (k itself unless per_group). */
  group: number;
  groups: number;
}

export function lowBitGeometry(w: Tensor): LowBitGeometry {
  const planes = w.shape.length === 3 ? w.shape[0]! : 1;
  const n = w.shape[w.shape.length - 2]!;
  const k = w.shape[w.shape.length - 1]!;
  const group = w.quant?.granularity === 'per_group' ? (w.quant.groupSize ?? k) : k;
  return { planes, n, k, group, groups: Math.ceil(k / group) };
}

export function scaleCount(w: Tensor, geo: LowBitGeometry): number {
  switch (w.quant?.granularity) {
    case 'per_row':
      return geo.planes * geo.n;
    case 'per_group':
      return geo.planes * geo.n * geo.groups;
    default:
      return geo.planes;
  }
}

export function weightScaleIndex(w: Tensor, geo: LowBitGeometry, p: number, n: number, g: number): number {
  switch (w.quant?.granularity) {
    case 'per_row':
      return p * geo.n + n;
    case 'per_group':
      return (p * geo.n + n) * geo.groups + g;
    default:
      return p;
  }
}

/** The largest |x| an int8 tensor can hold, from its known range. */
export function int8MaxAbs(x: Tensor): number {
  const [lo, hi] = x.range ?? [-128, 127];
  return Math.max(Math.abs(lo), Math.abs(hi));
}

/** Accumulator choice: int32 when the worst case fits, otherwise int32 partial sums flushed to int64. */
export interface AccumulatorPlan {
  bits: 32 | 64;
  /** Worst-case |acc| of one group. */
  bound: number;
  /** With 64 bits: the int32 partial is flushed into the int64 every `flush` elements (0 = never). */
  flush: number;
}

export const INT32_MAX = 2147483647;

export function accumulatorPlan(group: number, maxAbsX: number): AccumulatorPlan {
  const bound = group * maxAbsX; // |w| <= 1
  if (bound <= INT32_MAX) return { bits: 32, bound, flush: 0 };
  return { bits: 64, bound, flush: Math.floor(INT32_MAX / maxAbsX) };
}
