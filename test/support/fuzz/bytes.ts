// Byte-level mutations, as fast-check arbitraries so that a failing case shrinks: flip bits,
// truncate, grow, overwrite with "interesting" integers (0, -1, 2^31, 2^32 - 1, 2^40, 2^63...),
// delete or duplicate a run of bytes. Positions are drawn as plain integers and taken modulo the
// length of whatever they are applied to, so one mutation list fits any file.

import fc from 'fast-check';

export type ByteMutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'grow'; at: number; bytes: Uint8Array }
  | { kind: 'overwrite'; at: number; bytes: Uint8Array }
  | { kind: 'integer'; at: number; width: 1 | 2 | 4 | 8; value: bigint }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number; to: number };

/** Values that sit on the edges readers check: sizes, counts, signs, the int32 and float limits. */
export const INTERESTING: readonly bigint[] = [
  0n,
  1n,
  2n,
  3n,
  4n,
  7n,
  8n,
  16n,
  31n,
  32n,
  63n,
  64n,
  127n,
  128n,
  255n,
  256n,
  0x7fffn,
  0x8000n,
  0xffffn,
  0x10000n,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  0x100000000n,
  2n ** 40n,
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 62n,
  2n ** 63n - 1n,
  2n ** 63n,
  2n ** 64n - 1n, // -1 in every width
  2n ** 64n - 2n,
  2n ** 64n - 0x80000000n, // int64 -2^31
];

const at = fc.nat();

export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at, bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('grow' as const), at, bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('overwrite' as const), at, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('integer' as const),
      at,
      width: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
      value: fc.constantFrom(...INTERESTING),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at, length: fc.integer({ min: 1, max: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), at, length: fc.integer({ min: 1, max: 64 }), to: fc.nat() }) },
);

function splice(b: Uint8Array, start: number, remove: number, insert: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(b.length - remove + insert.length);
  out.set(b.subarray(0, start), 0);
  out.set(insert, start);
  out.set(b.subarray(start + remove), start + insert.length);
  return out;
}

/** Apply one mutation; the input is never modified. */
function applyByteMutation(b: Uint8Array, m: ByteMutation): Uint8Array {
  const n = b.length;
  const pos = (x: number, room = 0) => (n - room > 0 ? x % (n - room + 1) : 0);
  switch (m.kind) {
    case 'flip': {
      if (n === 0) return b;
      const c = b.slice();
      c[m.at % n]! ^= 1 << m.bit;
      return c;
    }
    case 'truncate':
      return b.slice(0, n === 0 ? 0 : m.at % n);
    case 'grow':
      return splice(b, pos(m.at), 0, m.bytes);
    case 'overwrite': {
      if (n === 0) return b;
      const c = b.slice();
      const p = m.at % n;
      c.set(m.bytes.subarray(0, n - p), p);
      return c;
    }
    case 'integer': {
      if (n < m.width) return b;
      const c = b.slice();
      const p = m.at % (n - m.width + 1);
      const v = BigInt.asUintN(m.width * 8, m.value);
      for (let i = 0; i < m.width; i++) c[p + i] = Number((v >> BigInt(8 * i)) & 0xffn);
      return c;
    }
    case 'delete': {
      if (n === 0) return b;
      const p = m.at % n;
      return splice(b, p, Math.min(m.length, n - p));
    }
    case 'duplicate': {
      if (n === 0) return b;
      const p = m.at % n;
      const chunk = b.slice(p, Math.min(n, p + m.length));
      return splice(b, m.to % (n + 1), 0, chunk);
    }
  }
}

export function applyByteMutations(b: Uint8Array, ms: readonly ByteMutation[]): Uint8Array {
  return ms.reduce(applyByteMutation, b);
}

/** One line for a mutation (reports). */
export function describeByteMutation(m: ByteMutation): string {
  switch (m.kind) {
    case 'flip':
      return `flip bit ${m.bit} at ${m.at}`;
    case 'truncate':
      return `truncate at ${m.at}`;
    case 'grow':
      return `insert ${m.bytes.length} bytes at ${m.at}`;
    case 'overwrite':
      return `overwrite ${m.bytes.length} bytes at ${m.at}`;
    case 'integer':
      return `write the ${m.width}-byte integer ${m.value} at ${m.at}`;
    case 'delete':
      return `delete ${m.length} bytes at ${m.at}`;
    case 'duplicate':
      return `copy ${m.length} bytes from ${m.at} to ${m.to}`;
  }
}
