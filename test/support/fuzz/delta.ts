// ComPEFT delta blob cases (.tdelta, compiler/lm/delta/blob.ts): blobs written by encodeDelta from
// generated sparse ternary deltas (1 to 4 tensors, shapes up to 40 x 40, any density), then their
// own fields mutated (magic, version, length, CRC, base hash, tensor count; per tensor slot, rows,
// cols, alpha, nnz and row pointers) with the CRC recomputed or not (a recomputed CRC lets a damaged
// structure reach the checks behind it), then bytes. Read as `tritc generate --delta` and
// `tritc delta inspect` read a blob: decoded, then checked against the base it was made for.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { checkDeltaFits, decodeDelta, encodeDelta, type DeltaTensor } from '../../../compiler/lm/delta/blob.ts';
import { applyByteMutations, byteMutation, describeByteMutation } from './bytes.ts';
import { fieldMutation, mutateFields, type Field } from './fields.ts';
import { some, type FuzzCase, type FuzzReader } from './harness.ts';

interface Shape {
  slot: number;
  rows: number;
  cols: number;
  density: number;
  alpha: number;
}

/** Slots 0 .. MAX_SLOT: the base the cases are checked against has that many. */
const MAX_SLOT = 20;

const shapeArb: fc.Arbitrary<Shape> = fc.record({
  slot: fc.nat(MAX_SLOT),
  rows: fc.integer({ min: 1, max: 40 }),
  cols: fc.integer({ min: 1, max: 40 }),
  density: fc.constantFrom(0, 0.05, 0.3, 1),
  alpha: fc.float({ min: Math.fround(1e-4), max: 4, noNaN: true }),
});

/** A delta of the given shapes (slots made distinct and increasing), entries from a seeded LCG. */
function tensors(shapes: Shape[], seed: number): DeltaTensor[] {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const slots = [...new Set(shapes.map((x) => x.slot))].sort((a, b) => a - b);
  return slots.map((slot) => {
    const x = shapes.find((y) => y.slot === slot)!;
    const rowPtr = new Uint32Array(x.rows + 1);
    const entries: number[] = [];
    for (let r = 0; r < x.rows; r++) {
      for (let c = 0; c < x.cols; c++) if (next() < x.density) entries.push(c | (next() < 0.5 ? 0x8000 : 0));
      rowPtr[r + 1] = entries.length;
    }
    return { slot, rows: x.rows, cols: x.cols, alpha: x.alpha, rowPtr, entries: Uint16Array.from(entries) };
  });
}

/** Where each field of the blob sits (blob.ts's layout). */
function fieldsOf(ts: DeltaTensor[]): Field[] {
  const f: Field[] = [
    { at: 0, width: 4, label: 'the magic' },
    { at: 4, width: 4, label: 'the version' },
    { at: 8, width: 4, label: 'the length' },
    { at: 12, width: 4, label: 'the CRC' },
    { at: 16, width: 8, label: 'the base hash' },
    { at: 24, width: 4, label: 'the tensor count' },
  ];
  let at = 32;
  ts.forEach((t, i) => {
    f.push(
      { at, width: 4, label: `tensor ${i} slot` },
      { at: at + 4, width: 4, label: `tensor ${i} rows` },
      { at: at + 8, width: 4, label: `tensor ${i} cols` },
      { at: at + 12, width: 4, label: `tensor ${i} alpha` },
      { at: at + 16, width: 4, label: `tensor ${i} nnz` },
    );
    for (const r of [0, 1, t.rows]) if (r <= t.rows) f.push({ at: at + 20 + 4 * r, width: 4, label: `tensor ${i} row pointer ${r}` });
    if (t.entries.length) f.push({ at: at + 20 + 4 * (t.rows + 1), width: 2, label: `tensor ${i} entry 0` });
    at += 20 + 4 * (t.rows + 1) + 4 * Math.ceil(t.entries.length / 2);
  });
  return f;
}

export const deltaReader: FuzzReader = {
  name: 'delta',
  about: 'ComPEFT .tdelta blobs: generated sparse ternary deltas, header and record fields and bytes mutated, checked against their base',
  cases: () =>
    fc
      .record({
        shapes: fc.array(shapeArb, { minLength: 1, maxLength: 4 }),
        seed: fc.nat(),
        hash: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fields: some(fieldMutation, 3),
        fixCrc: fc.boolean(),
        bytes: some(byteMutation, 2),
      })
      .map(({ shapes, seed, hash, fields, fixCrc, bytes }): FuzzCase => {
        const ts = tensors(shapes, seed);
        const blob = encodeDelta({ baseHash: hash, tensors: ts });
        const f = mutateFields(blob, fieldsOf(ts), fields);
        const b = f.bytes.slice();
        if (fixCrc && b.length >= 16) {
          const dv = new DataView(b.buffer);
          const length = Math.min(b.length, dv.getUint32(8, true));
          if (length >= 16) dv.setUint32(12, crc32(b.subarray(16, length)), true);
        }
        // The base the unmutated blob was made for: its hash, and a slot of each tensor's shape.
        const slots = Array.from({ length: MAX_SLOT + 1 }, (_, i) => {
          const t = ts.find((x) => x.slot === i);
          return { name: `slot ${i}`, rows: t?.rows ?? 8, cols: t?.cols ?? 8 };
        });
        const what = [
          `delta ${ts.map((t) => `slot ${t.slot} [${t.rows}, ${t.cols}] nnz ${t.entries.length}`).join(', ')}`,
          ...f.what,
          ...(fixCrc && f.what.length ? ['CRC recomputed'] : []),
          ...bytes.map(describeByteMutation),
        ];
        return {
          what: what.join('; '),
          files: [['d.tdelta', applyByteMutations(b, bytes)]],
          read: (dir) => {
            const path = join(dir, 'd.tdelta');
            const d = decodeDelta(new Uint8Array(readFileSync(path)), path);
            checkDeltaFits(d, { hash, slots }, path);
          },
        };
      }),
};
