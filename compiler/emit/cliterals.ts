// C literals that every C99 compiler reads back to the exact same value.

import { f32Bits } from '../numerics/f32.ts';

/** A float32 as a C99 hexadecimal float literal (exact), e.g. 0x1.8p+1f for 3. */
export function hexFloat(x: number): string {
  const b = f32Bits(x);
  const sign = b >>> 31 ? '-' : '';
  const e = (b >>> 23) & 0xff;
  const m = b & 0x7fffff;
  if (e === 0xff) throw new Error(`internal: non-finite constant ${x} reached the emitter`);
  if (e === 0 && m === 0) return `${sign}0x0p+0f`;
  const frac = (m << 1).toString(16).padStart(6, '0').replace(/0+$/, '');
  const exp = e === 0 ? -126 : e - 127;
  return `${sign}0x${e === 0 ? 0 : 1}${frac ? `.${frac}` : ''}p${exp >= 0 ? '+' : ''}${exp}f`;
}

/** A short decimal for comments (not for code). */
export function decimalComment(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(6).replace(/\.?0+(e|$)/, '$1');
}

/** Comma-separated lines of C literals, `perLine` per line, indented by two spaces. */
export function arrayBody<T extends number | bigint>(values: ArrayLike<T>, perLine: number, fmt: (v: T) => string): string {
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += perLine) {
    const chunk: string[] = [];
    for (let j = i; j < Math.min(values.length, i + perLine); j++) chunk.push(fmt(values[j]!));
    lines.push(`  ${chunk.join(', ')},`);
  }
  return lines.join('\n');
}

export const hexByte = (v: number): string => `0x${v.toString(16).padStart(2, '0')}`;
export const hexWord = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, '0')}u`;
