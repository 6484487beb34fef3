// The ComPEFT delta blob (.tdelta): a sparse ternary task vector, alpha * sign at given positions,
// per projection of a base model, that a compiled model applies at run time without recompiling
// (docs/formats.md, "ComPEFT task vectors", has the layout). This module writes and reads it; a
// reader failure is one line naming the blob and what is wrong, never an exception of its own.
//
// Little-endian; every field 4-byte aligned when the blob is:
//   0  "TDLT"   4 u32 version   8 u32 length (bytes of the blob)   12 u32 CRC-32 of bytes [16, length)
//   16 u64 base hash           24 u32 tensors                      28 u32 reserved (0)
//   per tensor, slots strictly increasing:
//     u32 slot, u32 rows, u32 cols, f32 alpha, u32 nnz, u32 row_ptr[rows + 1],
//     u16 entry[nnz] (column | 0x8000 for -alpha; columns strictly increasing within a row), zero pad to 4

import { crc32 } from 'node:zlib';
import { fail } from '../../diagnostics.ts';
import type { SparseTernaryDelta } from '../../ops/lm/delta_term.ts';

const DELTA_MAGIC = 'TDLT';
const DELTA_VERSION = 1;
const DELTA_HEADER_BYTES = 32;
/** Columns fit the entry's low 15 bits. */
export const DELTA_MAX_COLS = 0x8000;

export interface DeltaTensor extends SparseTernaryDelta {
  slot: number;
}

export interface TaskDelta {
  baseHash: bigint;
  tensors: DeltaTensor[];
}

/** Bytes of one tensor's record. */
function recordBytes(t: { rows: number; nnz: number }): number {
  return 20 + 4 * (t.rows + 1) + 4 * Math.ceil(t.nnz / 2);
}

export function encodeDelta(d: TaskDelta): Uint8Array {
  const tensors = [...d.tensors].sort((a, b) => a.slot - b.slot);
  const length = DELTA_HEADER_BYTES + tensors.reduce((s, t) => s + recordBytes({ rows: t.rows, nnz: t.entries.length }), 0);
  const out = new Uint8Array(length);
  const dv = new DataView(out.buffer);
  out.set(new TextEncoder().encode(DELTA_MAGIC));
  dv.setUint32(4, DELTA_VERSION, true);
  dv.setUint32(8, length, true);
  dv.setBigUint64(16, BigInt.asUintN(64, d.baseHash), true);
  dv.setUint32(24, tensors.length, true);
  let at = DELTA_HEADER_BYTES;
  for (const t of tensors) {
    if (t.cols > DELTA_MAX_COLS) throw new Error(`internal: delta slot ${t.slot} has ${t.cols} columns (at most ${DELTA_MAX_COLS})`);
    dv.setUint32(at, t.slot, true);
    dv.setUint32(at + 4, t.rows, true);
    dv.setUint32(at + 8, t.cols, true);
    dv.setFloat32(at + 12, t.alpha, true);
    dv.setUint32(at + 16, t.entries.length, true);
    at += 20;
    for (const p of t.rowPtr) {
      dv.setUint32(at, p, true);
      at += 4;
    }
    for (const e of t.entries) {
      dv.setUint16(at, e, true);
      at += 2;
    }
    at = (at + 3) & ~3;
  }
  dv.setUint32(12, crc32(out.subarray(16)), true);
  return out;
}

/**
 * Read a blob; `where` names it in messages. Checks, in the order the C loader does: magic, version,
 * length (truncated), CRC-32 (corrupted), then the structure. The base hash is checked against a model
 * by `checkDeltaFits`.
 */
export function decodeDelta(bytes: Uint8Array, where: string): TaskDelta {
  const bad = (msg: string): never => fail('weights', where, msg);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4) bad(`is truncated: ${bytes.length} bytes, a delta blob has a ${DELTA_HEADER_BYTES}-byte header`);
  if (new TextDecoder().decode(bytes.subarray(0, 4)) !== DELTA_MAGIC) bad(`is not a ComPEFT delta blob (its first bytes are not "${DELTA_MAGIC}")`);
  if (bytes.length < DELTA_HEADER_BYTES) bad(`is truncated: ${bytes.length} bytes, a delta blob has a ${DELTA_HEADER_BYTES}-byte header`);
  const version = dv.getUint32(4, true);
  if (version !== DELTA_VERSION) bad(`has format version ${version}; this tritc reads version ${DELTA_VERSION}`);
  const length = dv.getUint32(8, true);
  if (length > bytes.length) bad(`is truncated: its header says ${length} bytes, ${bytes.length} are present`);
  if (length < DELTA_HEADER_BYTES) bad(`says it is ${length} bytes long, less than its own header`);
  const body = bytes.subarray(0, length);
  const crc = crc32(body.subarray(16));
  if (crc !== dv.getUint32(12, true))
    bad(
      `is corrupted: CRC-32 0x${crc.toString(16).padStart(8, '0')} of bytes 16..${length}, the header says 0x${dv.getUint32(12, true).toString(16).padStart(8, '0')}`,
    );
  const baseHash = dv.getBigUint64(16, true);
  const count = dv.getUint32(24, true);
  const tensors: DeltaTensor[] = [];
  let at = DELTA_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const here = `tensor ${i} (byte ${at})`;
    if (at + 20 > length) bad(`${here}: the blob ends inside its record header`);
    const slot = dv.getUint32(at, true);
    const rows = dv.getUint32(at + 4, true);
    const cols = dv.getUint32(at + 8, true);
    const alpha = dv.getFloat32(at + 12, true);
    const nnz = dv.getUint32(at + 16, true);
    if (i > 0 && slot <= tensors[i - 1]!.slot) bad(`${here}: slot ${slot} does not follow slot ${tensors[i - 1]!.slot} (slots must be strictly increasing)`);
    if (cols < 1 || cols > DELTA_MAX_COLS || rows < 1) bad(`${here}: shape [${rows}, ${cols}] is not [1.., 1..${DELTA_MAX_COLS}]`);
    if (!Number.isFinite(alpha)) bad(`${here}: alpha ${alpha} is not finite`);
    if (at + recordBytes({ rows, nnz }) > length) bad(`${here}: ${rows} rows and ${nnz} entries run past the blob's ${length} bytes`);
    const rowPtr = new Uint32Array(rows + 1);
    for (let r = 0; r <= rows; r++) rowPtr[r] = dv.getUint32(at + 20 + 4 * r, true);
    if (rowPtr[0] !== 0 || rowPtr[rows] !== nnz) bad(`${here}: row pointers run from ${rowPtr[0]} to ${rowPtr[rows]}, expected 0 to ${nnz}`);
    const eAt = at + 20 + 4 * (rows + 1);
    const entries = new Uint16Array(nnz);
    for (let e = 0; e < nnz; e++) entries[e] = dv.getUint16(eAt + 2 * e, true);
    for (let r = 0; r < rows; r++) {
      if (rowPtr[r + 1]! < rowPtr[r]!) bad(`${here}: row pointer ${r + 1} (${rowPtr[r + 1]}) is below row pointer ${r} (${rowPtr[r]})`);
      for (let e = rowPtr[r]!; e < rowPtr[r + 1]!; e++) {
        const c = entries[e]! & 0x7fff;
        if (c >= cols) bad(`${here}: row ${r} has column ${c}, outside [0, ${cols})`);
        if (e > rowPtr[r]! && c <= (entries[e - 1]! & 0x7fff))
          bad(`${here}: row ${r} lists column ${c} after column ${entries[e - 1]! & 0x7fff} (must be increasing)`);
      }
    }
    tensors.push({ slot, rows, cols, alpha, rowPtr, entries });
    at += recordBytes({ rows, nnz });
  }
  if (at !== length) bad(`has ${length - at} bytes after its ${count} tensors`);
  return { baseHash, tensors };
}

/** Check a decoded delta against the base it is applied to: its hash, and every slot and shape. */
export function checkDeltaFits(d: TaskDelta, base: { hash: bigint; slots: readonly { name: string; rows: number; cols: number }[] }, where: string): void {
  if (d.baseHash !== base.hash)
    fail(
      'weights',
      where,
      `was made for base ${hex64(d.baseHash)}, this model is base ${hex64(base.hash)} (make the delta against this base with tritc delta make)`,
    );
  for (const t of d.tensors) {
    const s = base.slots[t.slot];
    if (!s) fail('weights', where, `changes slot ${t.slot}; the model has ${base.slots.length} delta slots`);
    if (s.rows !== t.rows || s.cols !== t.cols)
      fail('weights', where, `slot ${t.slot} (${s.name}) is [${t.rows}, ${t.cols}] in the delta, [${s.rows}, ${s.cols}] in the model`);
  }
}

export function hex64(v: bigint): string {
  return v.toString(16).padStart(16, '0');
}
