// The run-time delta API a decoder built with deltas gets (ComPEFT task vectors, docs/formats.md):
//
//   int <p>_load_delta(const void *blob, uint32_t len);
//
// validates a .tdelta blob against this model (magic, version, length, CRC-32, base hash, slots and
// shapes, every index) and points the model's delta slots into it: no copy, so the blob may sit in
// flash or RAM, and must stay there, unchanged, while it is in use. NULL and 0 remove the delta. On
// any error the previous delta stays in place. runtime-c/ref/tn_delta.c does the work.

import type { NameTable } from './cnames.ts';

export interface DeltaApi {
  slotsName: string;
  header: string[];
  source: string[];
}

/** Error codes of tn_delta_load (runtime-c/tn_delta.h), by the name the model header gives them. */
export const DELTA_ERRORS = { MAGIC: -10, VERSION: -11, TRUNCATED: -12, CORRUPT: -13, BASE: -14, LAYOUT: -15, ALIGN: -16 } as const;

export function lmDeltaApi(d: { baseHash: bigint; slots: { name: string; rows: number; cols: number }[] }, prefix: string, globals: NameTable): DeltaApi {
  const P = prefix.toUpperCase();
  const load = globals.get('load_delta', `${prefix}_`);
  if (load !== `${prefix}_load_delta`) throw new Error(`internal: ${prefix}_load_delta is taken`);
  const slotsName = globals.get('delta_slots', `${prefix}_`);
  const shapes = globals.get('delta_shapes', `${prefix}_`);
  const hash = d.baseHash.toString(16).padStart(16, '0');
  const lo = d.baseHash & 0xffffffffn;
  const hi = d.baseHash >> 32n;
  const header = [
    `/* Run-time deltas (ComPEFT task vectors, docs/formats.md): ${d.slots.length} slots, base ${hash}. */`,
    `#define ${P}_DELTA_SLOTS ${d.slots.length}`,
    `#define ${P}_DELTA_BASE "${hash}"`,
    ...Object.entries(DELTA_ERRORS).map(([k, v]) => `#define ${P}_E_DELTA_${k} (${v})`),
    ``,
    `/* Apply or swap the delta in blob[0 .. len) (a .tdelta file's bytes, 4-byte aligned, in flash or RAM;`,
    ` * it must stay unchanged while in use). NULL, 0 removes it. Returns 0, or ${P}_E_DELTA_* and keeps the`,
    ` * previous delta: MAGIC not a delta, VERSION another format version, TRUNCATED shorter than its header`,
    ` * says, CORRUPT CRC-32 mismatch, BASE made for another base, LAYOUT slots, shapes or indices that do`,
    ` * not fit this model, ALIGN blob not 4-byte aligned. */`,
    `int ${prefix}_load_delta(const void *blob, uint32_t len);`,
  ];
  const source = [
    `/* ---- Run-time deltas (ComPEFT task vectors, docs/formats.md) ------------------------------ */`,
    ``,
    `/* rows, cols of each slot: ${d.slots.map((s) => s.name).join(', ')} */`,
    `static const int32_t ${shapes}[${2 * d.slots.length}] = { ${d.slots.map((s) => `${s.rows}, ${s.cols}`).join(', ')} };`,
    `static tn_delta_slot ${slotsName}[${d.slots.length}];`,
    ``,
    `int ${prefix}_load_delta(const void *blob, uint32_t len) {`,
    `  return tn_delta_load((const uint8_t *)blob, len, 0x${lo.toString(16)}u, 0x${hi.toString(16)}u, ${shapes}, ${d.slots.length}, ${slotsName});`,
    `}`,
  ];
  return { slotsName, header, source };
}
