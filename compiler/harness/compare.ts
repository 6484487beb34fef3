// Bit-for-bit comparison of generated-code outputs with the interpreter's (docs/numerics.md):
// floats must have identical bits; the one exception is NaN, whose payload and sign IEEE-754
// leaves to the hardware (x86 and ARM differ), so any NaN equals any NaN.

import type { TypedData } from '../ir.ts';
import { f32Bits } from '../numerics/f32.ts';

export interface Mismatch {
  index: number;
  got: number;
  want: number;
  /** Hex bit patterns, for floats. */
  gotBits?: string;
  wantBits?: string;
}

export function firstMismatch(got: TypedData, want: TypedData): Mismatch | undefined {
  if (got.length !== want.length) return { index: -1, got: got.length, want: want.length };
  const isFloat = want instanceof Float32Array;
  for (let i = 0; i < want.length; i++) {
    if (!isFloat) {
      if (got[i] !== want[i]) return { index: i, got: Number(got[i]), want: Number(want[i]) };
      continue;
    }
    const a = got[i] as number;
    const b = want[i] as number;
    if (a !== a && b !== b) continue;
    if (f32Bits(a) !== f32Bits(b))
      return { index: i, got: a, want: b, gotBits: `0x${f32Bits(a).toString(16).padStart(8, '0')}`, wantBits: `0x${f32Bits(b).toString(16).padStart(8, '0')}` };
  }
  return undefined;
}

export function describeMismatch(output: string, run: number, m: Mismatch): string {
  if (m.index < 0) return `output "${output}" run ${run}: ${m.got} values, expected ${m.want}`;
  const bits = m.gotBits ? ` (bits ${m.gotBits} vs ${m.wantBits})` : '';
  return `output "${output}" run ${run} element ${m.index}: generated code gave ${m.got}, interpreter ${m.want}${bits}`;
}

/** A float32 value in the fewest digits that read back as the same float32 (0.1, not 0.10000000149011612). */
export function f32Text(x: number): string {
  if (!Number.isFinite(x) || Number.isInteger(x)) return String(x);
  for (let p = 1; p < 9; p++) {
    const s = x.toPrecision(p);
    if (Math.fround(Number(s)) === x) return String(Number(s));
  }
  return String(Number(x.toPrecision(9)));
}
