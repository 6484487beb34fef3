// Weight formats of the low-bit linear layers: how codes are packed in flash. The C layouts are
// documented once in runtime-c/tn_runtime.h ("packed weight formats") and docs/kernels.md; the
// packers are in compiler/emit/pack.ts and the reference decoder in runtime-c/ref/tn_lowbit_codes.c.

import type { LowBitGeometry } from '../lowbit.ts';
import {
  LUT5_ENTRIES,
  LUT5W_ENTRIES,
  LUT6W_ENTRIES,
  LUT8_ENTRIES,
  QK_B1,
  QK_T2,
  QK_T2B,
  QK_T5,
  QK_T5W,
  QK_T6W,
  QK_TBP,
  t2bBytes,
  twUnitsPerRow,
  TW_MAX_WINDOW,
  unitsPerRow,
} from '../emit/pack.ts';

export type FormatId = 't2' | 't2b' | 't5' | 't5w' | 't6w' | 'tbp' | 'b1';

export interface FormatDesc {
  id: FormatId;
  dtype: 'ternary' | 'binary';
  /** Codes per unit of storage (QK_*). */
  qk: number;
  /** For `tritc inspect` and layer comments. */
  packing: string;
  /** Bytes of the packed codes of all planes and rows (t5w / t6w: with `window` tables per window). */
  codeBytes(geo: LowBitGeometry, window?: number): number;
  /** The C element type of the packed array when it is not uint8_t (kernels take a byte pointer). */
  cElement?: 'uint16_t' | 'uint32_t';
  /** LUT formats: activations per table, halfword entries per table, 16-bit offsets (window-dependent). */
  lut?: { g: number; entries: number; wide: boolean };
}

const rows = (geo: LowBitGeometry) => geo.planes * geo.n;

export const FORMATS: Record<FormatId, FormatDesc> = {
  t2: {
    id: 't2',
    dtype: 'ternary',
    qk: QK_T2,
    packing: '2-bit, 4 per byte',
    codeBytes: (geo) => rows(geo) * Math.ceil(geo.k / QK_T2),
  },
  t2b: {
    id: 't2b',
    dtype: 'ternary',
    qk: QK_T2B,
    packing: '2-bit offset codes, blocks of 128 in 32 bytes, 4 rows interleaved',
    codeBytes: (geo) => t2bBytes(geo.k, rows(geo), geo.n),
  },
  t5: {
    id: 't5',
    dtype: 'ternary',
    qk: QK_T5,
    packing: '1.6-bit, 5 trits per byte (LUT index)',
    codeBytes: (geo) => rows(geo) * unitsPerRow(geo.k, geo.group, QK_T5),
    lut: { g: 5, entries: LUT5_ENTRIES, wide: false },
  },
  t5w: {
    id: 't5w',
    dtype: 'ternary',
    qk: QK_T5W,
    packing: '3.2-bit, 5 trits per 16-bit LUT offset, a 16-bit header per window',
    codeBytes: (geo, window) => rows(geo) * 2 * twUnitsPerRow(geo.k, geo.group, QK_T5W, window ?? maxWideWindow(LUT5W_ENTRIES)),
    lut: { g: 5, entries: LUT5W_ENTRIES, wide: true },
    cElement: 'uint16_t',
  },
  t6w: {
    id: 't6w',
    dtype: 'ternary',
    qk: QK_T6W,
    packing: '2.67-bit, 6 trits per 16-bit LUT offset, a 16-bit header per window',
    codeBytes: (geo, window) => rows(geo) * 2 * twUnitsPerRow(geo.k, geo.group, QK_T6W, window ?? maxWideWindow(LUT6W_ENTRIES)),
    lut: { g: 6, entries: LUT6W_ENTRIES, wide: true },
    cElement: 'uint16_t',
  },
  tbp: {
    id: 'tbp',
    dtype: 'ternary',
    qk: QK_TBP,
    packing: 'bit-planes: nonzero and sign masks, 32 codes per word pair',
    codeBytes: (geo) => rows(geo) * 8 * Math.ceil(geo.k / QK_TBP),
    cElement: 'uint32_t',
  },
  b1: {
    id: 'b1',
    dtype: 'binary',
    qk: QK_B1,
    packing: '1-bit, 8 per byte',
    codeBytes: (geo) => rows(geo) * Math.ceil(geo.k / QK_B1),
    lut: { g: 8, entries: LUT8_ENTRIES, wide: false },
  },
};

/** The largest LUT window (tables) of t5w / t6w: what 16-bit byte offsets can address, at most
 * TW_MAX_WINDOW (the unrolling of the Thumb-2 and RV32 lookups). */
export function maxWideWindow(entries: number): number {
  return Math.min(TW_MAX_WINDOW, Math.floor(65536 / (2 * entries)));
}
