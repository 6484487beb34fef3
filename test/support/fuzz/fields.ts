// Mutations of a binary format's own fields: the writers in this folder record where each count,
// length, type, dimension and offset sits, so a mutation can aim at "the tensor count" or "ne[1] of
// tensor 3" instead of a random byte: set it to an edge value, nudge it by one, or copy another
// field's value into it.

import fc from 'fast-check';
import { INTERESTING } from './bytes.ts';

export interface Field {
  at: number;
  width: 1 | 2 | 4 | 8;
  label: string;
}

export type FieldMutation =
  { op: 'set'; field: number; value: bigint } | { op: 'nudge'; field: number; delta: number } | { op: 'copy'; field: number; from: number };

export const fieldMutation: fc.Arbitrary<FieldMutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('set' as const), field: fc.nat(), value: fc.constantFrom(...INTERESTING) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('nudge' as const), field: fc.nat(), delta: fc.constantFrom(-2, -1, 1, 2) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('copy' as const), field: fc.nat(), from: fc.nat() }) },
);

function read(b: Uint8Array, f: Field): bigint {
  let v = 0n;
  for (let i = f.width - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[f.at + i]!);
  return v;
}

function write(b: Uint8Array, f: Field, v: bigint): void {
  const u = BigInt.asUintN(f.width * 8, v);
  for (let i = 0; i < f.width; i++) b[f.at + i] = Number((u >> BigInt(8 * i)) & 0xffn);
}

/** Apply field mutations to a copy of `bytes`; returns the bytes and one line per mutation. */
export function mutateFields(bytes: Uint8Array, fields: readonly Field[], ms: readonly FieldMutation[]): { bytes: Uint8Array; what: string[] } {
  if (fields.length === 0 || ms.length === 0) return { bytes, what: [] };
  const b = bytes.slice();
  const what: string[] = [];
  for (const m of ms) {
    const f = fields[m.field % fields.length]!;
    if (f.at + f.width > b.length) continue;
    let v: bigint;
    if (m.op === 'set') v = m.value;
    else if (m.op === 'nudge') v = read(b, f) + BigInt(m.delta);
    else {
      const g = fields[m.from % fields.length]!;
      v = g.at + g.width <= b.length ? read(b, g) : 0n;
    }
    write(b, f, v);
    what.push(`${f.label} := ${BigInt.asUintN(f.width * 8, v)}`);
  }
  return { bytes: b, what };
}
