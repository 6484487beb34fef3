// The float32 dot product every language-model kernel uses, in one fixed order so that scalar C,
// SIMD C (8 lanes of AVX2, 2 x 4 of NEON) and this file agree bit for bit (docs/numerics.md, "Lane
// sums"):
//
//   acc[0..7] = +0
//   for k = k0 .. k1-1 (in order):  acc[(k - k0) mod 8] = fl(acc[(k - k0) mod 8] + term(k))
//   result = fl( fl(fl(acc0 + acc1) + fl(acc2 + acc3)) + fl(fl(acc4 + acc5) + fl(acc6 + acc7)) )
//
// Each term is itself one float32 value: fl(x * w) for float weights, +x / -x / +0 for a ternary code.

import { fround } from './f32.ts';

const LANES = 8;

const acc = new Float64Array(LANES); // holds float32 values only

/** The lane sum of term(k) for k in [k0, k1). */
export function laneSum(k0: number, k1: number, term: (k: number) => number): number {
  acc.fill(0);
  for (let k = k0; k < k1; k++) {
    const j = (k - k0) & 7;
    acc[j] = fround(acc[j]! + term(k));
  }
  return combineLanes(acc);
}

/** The fixed tree that combines the eight lanes. */
export function combineLanes(a: ArrayLike<number>): number {
  const s01 = fround(a[0]! + a[1]!);
  const s23 = fround(a[2]! + a[3]!);
  const s45 = fround(a[4]! + a[5]!);
  const s67 = fround(a[6]! + a[7]!);
  return fround(fround(s01 + s23) + fround(s45 + s67));
}
