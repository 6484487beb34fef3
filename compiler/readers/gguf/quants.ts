// ggml tensor types: the id table (name, block size, bytes per block) and the decoders tritc needs,
// bit-exact with ggml's reference `dequantize_row_*` (ggml/src/ggml-quants.c) and the BitNet fork's
// I2_S. One place per block layout; the container only asks for sizes, the LM reader for values.
//
// Sources (read, not copied): ggml/include/ggml.h (enum ggml_type), ggml/src/ggml.c (type_traits:
// blck_size, type_size), ggml/src/ggml-common.h (block_* structs), ggml/src/ggml-quants.c
// (dequantize_row_q8_0 / tq1_0 / tq2_0), and for I2_S the fork that microsoft/BitNet pins
// (Eddie-Wang1120/llama.cpp, ids 36..39; see ../shared/data/gguf/README.md).
//
// Ternary types decode to codes (-1/0/+1, row-major, one Int8 per element) and their float32 scales,
// never to products: value = code * scale, exactly what ggml computes as (float)(q - 1) * d.

import { fail } from '../../diagnostics.ts';
import { HOST_LITTLE_ENDIAN } from '../../io/ndarray.ts';
import { f16BitsToF32 } from '../../numerics/half.ts';

/** ggml's GGML_MAX_DIMS. */
export const GGML_MAX_DIMS = 4;
/** QK_K: the super-block of the K and ternary types. */
export const QK_K = 256;

export const GGML_F32 = 0;
export const GGML_F16 = 1;
export const GGML_Q8_0 = 8;
export const GGML_BF16 = 30;
export const GGML_TQ1_0 = 34;
export const GGML_TQ2_0 = 35;
/** The BitNet fork's I2_S (upstream ggml has no type 36 in files). */
export const GGML_I2_S = 36;

/** A ggml type whose layout is known: `blockSize` elements take `typeSize` bytes. */
export interface GgmlTypeInfo {
  id: number;
  name: string;
  blockSize: number;
  typeSize: number;
}

const KNOWN: [number, string, number, number][] = [
  // id, name, elements per block, bytes per block
  [0, 'F32', 1, 4],
  [1, 'F16', 1, 2],
  [2, 'Q4_0', 32, 18], // d, qs[16]
  [3, 'Q4_1', 32, 20], // d, m, qs[16]
  [6, 'Q5_0', 32, 22], // d, qh[4], qs[16]
  [7, 'Q5_1', 32, 24], // d, m, qh[4], qs[16]
  [8, 'Q8_0', 32, 34], // d, qs[32]
  [9, 'Q8_1', 32, 36], // d, s, qs[32]
  [10, 'Q2_K', 256, 84],
  [11, 'Q3_K', 256, 110],
  [12, 'Q4_K', 256, 144],
  [13, 'Q5_K', 256, 176],
  [14, 'Q6_K', 256, 210],
  [15, 'Q8_K', 256, 292], // float d, qs[256], bsums[16]
  [16, 'IQ2_XXS', 256, 66],
  [17, 'IQ2_XS', 256, 74],
  [18, 'IQ3_XXS', 256, 98],
  [19, 'IQ1_S', 256, 50],
  [20, 'IQ4_NL', 32, 18],
  [21, 'IQ3_S', 256, 110],
  [22, 'IQ2_S', 256, 82],
  [23, 'IQ4_XS', 256, 136],
  [24, 'I8', 1, 1],
  [25, 'I16', 1, 2],
  [26, 'I32', 1, 4],
  [27, 'I64', 1, 8],
  [28, 'F64', 1, 8],
  [29, 'IQ1_M', 256, 56],
  [30, 'BF16', 1, 2],
  [34, 'TQ1_0', 256, 54], // qs[48] (5 trits/byte), qh[4] (4 trits/byte), d
  [35, 'TQ2_0', 256, 66], // qs[64] (4 trits/byte), d
  // The fork's type traits say block 1, size 1; ggml_nbytes special-cases the size (tensorNbytes).
  [36, 'I2_S', 1, 1],
  // Upstream ids after the fork diverged; 40..42 do not collide with it.
  [40, 'NVFP4', 64, 36], // d[4] (UE4M3), qs[32]
  [41, 'Q1_0', 128, 18], // d, qs[16]
  [42, 'Q2_0', 64, 18], // d, qs[16]
];

/** Ids that exist (or existed) but whose layout tritc does not know or cannot tell apart. */
const NAMED_ONLY = new Map<number, string>([
  [4, 'Q4_2, removed from ggml'],
  [5, 'Q4_3, removed from ggml'],
  [31, 'Q4_0_4_4, removed from GGUF files'],
  [32, 'Q4_0_4_8, removed from GGUF files'],
  [33, 'Q4_0_8_8, removed from GGUF files'],
  [37, 'I8_S in the BitNet fork; IQ4_NL_4_8 (removed) upstream'],
  [38, 'TL1 in the BitNet fork; IQ4_NL_8_8 (removed) upstream'],
  // Upstream's MXFP4 took the id the fork had given TL2, so a file alone cannot say which it is.
  [39, 'TL2 in the BitNet fork, MXFP4 in upstream ggml'],
]);

const TABLE = new Map<number, GgmlTypeInfo>(KNOWN.map(([id, name, blockSize, typeSize]) => [id, { id, name, blockSize, typeSize }]));

/** The layout of a ggml type id, or undefined when tritc does not know it. */
export function ggmlTypeInfo(id: number): GgmlTypeInfo | undefined {
  return TABLE.get(id);
}

/** What an id is, for messages: "Q4_K", "TL1 in the BitNet fork; ...", or "unknown". */
export function describeGgmlType(id: number): string {
  return TABLE.get(id)?.name ?? NAMED_ONLY.get(id) ?? 'not a ggml type tritc knows';
}

/**
 * Bytes of a tensor of `n` elements (the caller has checked ne[0] % blockSize === 0). I2_S is the
 * fork's special case in ggml_nbytes: n bytes / 4 (rounded down) + 32 (the float32 scale, padded).
 */
export function tensorNbytes(type: number, n: number): number {
  const t = TABLE.get(type);
  if (t === undefined) throw new Error(`internal: tensorNbytes: unknown ggml type ${type}`);
  if (type === GGML_I2_S) return Math.floor(n / 4) + 32;
  return (n / t.blockSize) * t.typeSize;
}

// ---------------------------------------------------------------------------------------------------
// Scalars

// (half and bfloat16 conversions: compiler/numerics/half.ts)

// ---------------------------------------------------------------------------------------------------
// Plain types: views into the file when the host is little-endian and the bytes are aligned.

/** F32 data as a Float32Array: a view (no copy) when possible. */
export function f32Values(data: Uint8Array, n: number): Float32Array {
  if (data.length !== 4 * n) throw new Error(`internal: f32Values: ${data.length} bytes for ${n} values`);
  if (HOST_LITTLE_ENDIAN && data.byteOffset % 4 === 0) return new Float32Array(data.buffer, data.byteOffset, n);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
  return out;
}

/** F16 or BF16 data as raw 16-bit patterns: a view (no copy) when possible. */
export function u16Bits(data: Uint8Array, n: number): Uint16Array {
  if (data.length !== 2 * n) throw new Error(`internal: u16Bits: ${data.length} bytes for ${n} values`);
  if (HOST_LITTLE_ENDIAN && data.byteOffset % 2 === 0) return new Uint16Array(data.buffer, data.byteOffset, n);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) out[i] = dv.getUint16(2 * i, true);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Block types

export interface BlockCodes {
  /** One code per element, in element order. */
  codes: Int8Array;
  /** One float32 scale per block, in block order (exact conversions of the stored fp16/fp32). */
  scales: Float32Array;
}

function checkBlocks(data: Uint8Array, n: number, blockSize: number, typeSize: number, name: string): number {
  if (n % blockSize !== 0 || data.length !== (n / blockSize) * typeSize) {
    throw new Error(`internal: ${name}: ${data.length} bytes for ${n} elements`);
  }
  return n / blockSize;
}

/** Q8_0 (block 32: fp16 d, then 32 int8 codes): value = code * d. */
export function decodeQ8_0(data: Uint8Array, n: number): BlockCodes {
  const nb = checkBlocks(data, n, 32, 34, 'decodeQ8_0');
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const codes = new Int8Array(n);
  const scales = new Float32Array(nb);
  for (let b = 0; b < nb; b++) {
    const at = 34 * b;
    scales[b] = f16BitsToF32(dv.getUint16(at, true));
    for (let j = 0; j < 32; j++) codes[32 * b + j] = dv.getInt8(at + 2 + j);
  }
  return { codes, scales };
}

/** Trit n (0 = most significant) of a TQ1_0 byte, as ggml extracts it: multiply, wrap to 8 bits, * 3 >> 8. */
const POW3 = [1, 3, 9, 27, 81];

/**
 * TQ1_0 (block 256, 54 bytes: qs[48], qh[4], fp16 d). The quantizer packs five trits t0..t4
 * (digits 0, 1, 2 for -1, 0, +1) as v = t0*81 + t1*27 + t2*9 + t3*3 + t4 and stores ceil(v * 256 / 243),
 * a fixed-point fraction, so that trit n is ((byte * 3^n mod 256) * 3) >> 8. Element order per block
 * (dequantize_row_tq1_0):
 *   qs[m], m < 32:        trit n -> element n*32 + m           (elements 0..159)
 *   qs[32 + m], m < 16:   trit n -> element 160 + n*16 + m     (elements 160..239)
 *   qh[j], j < 4:         trit n (n < 4) -> element 240 + n*4 + j   (elements 240..255)
 * Every byte value decodes to digits 0..2 (255 * 3 >> 8 = 2), so unlike TQ2_0 there is no invalid
 * code: bytes the quantizer never writes still decode, as in ggml.
 */
export function decodeTQ1_0(data: Uint8Array, n: number): BlockCodes {
  const nb = checkBlocks(data, n, QK_K, 54, 'decodeTQ1_0');
  const codes = new Int8Array(n);
  const scales = new Float32Array(nb);
  const trit = (byte: number, k: number): number => ((((byte * POW3[k]!) & 0xff) * 3) >> 8) - 1;
  for (let b = 0; b < nb; b++) {
    const at = 54 * b;
    const out = QK_K * b;
    for (let k = 0; k < 5; k++) for (let m = 0; m < 32; m++) codes[out + k * 32 + m] = trit(data[at + m]!, k);
    for (let k = 0; k < 5; k++) for (let m = 0; m < 16; m++) codes[out + 160 + k * 16 + m] = trit(data[at + 32 + m]!, k);
    for (let k = 0; k < 4; k++) for (let j = 0; j < 4; j++) codes[out + 240 + k * 4 + j] = trit(data[at + 48 + j]!, k);
    scales[b] = f16BitsToF32(data[at + 52]! | (data[at + 53]! << 8));
  }
  return { codes, scales };
}

/**
 * TQ2_0 (block 256, 66 bytes: qs[64], fp16 d). Codes are 2 bits, 0/1/2 for -1/0/+1 (3 is not a trit:
 * ggml would decode it as +2; we refuse it). Element order per block (dequantize_row_tq2_0): for each
 * half h (qs[32h .. 32h+31]), bits 2l..2l+1 of qs[32h + m] hold element 128h + 32l + m.
 * `where` names the tensor in the error for an invalid code.
 */
export function decodeTQ2_0(data: Uint8Array, n: number, where: string): BlockCodes {
  const nb = checkBlocks(data, n, QK_K, 66, 'decodeTQ2_0');
  const codes = new Int8Array(n);
  const scales = new Float32Array(nb);
  for (let b = 0; b < nb; b++) {
    const at = 66 * b;
    const out = QK_K * b;
    for (let h = 0; h < 2; h++) {
      for (let m = 0; m < 32; m++) {
        const byte = data[at + 32 * h + m]!;
        for (let l = 0; l < 4; l++) {
          const q = (byte >> (2 * l)) & 3;
          if (q === 3) {
            const e = 128 * h + 32 * l + m;
            fail(
              'codes',
              where,
              `TQ2_0 block ${b} (elements ${out}..${out + QK_K - 1}): element ${out + e} has the 2-bit code 3, which is not a trit (0, 1, 2 = -1, 0, +1)`,
            );
          }
          codes[out + 128 * h + 32 * l + m] = q - 1;
        }
      }
    }
    scales[b] = f16BitsToF32(data[at + 64]! | (data[at + 65]! << 8));
  }
  return { codes, scales };
}

/**
 * I2_S (BitNet fork): n/4 code bytes, then one little-endian float32 scale, then padding to n/4 + 32
 * bytes. Codes are 2 bits, 0/1/2 for -1/0/+1 (3 refused). Each consecutive group of 128 elements
 * (over the whole tensor, row-major) takes 32 bytes: element j of a group sits in byte j % 32 at bit
 * shift 6 - 2 * floor(j / 32). The fork only quantizes whole groups, so n must be a multiple of 128.
 */
export function decodeI2_S(data: Uint8Array, n: number, where: string): { codes: Int8Array; scale: number } {
  if (data.length !== Math.floor(n / 4) + 32) throw new Error(`internal: decodeI2_S: ${data.length} bytes for ${n} elements`);
  if (n % 128 !== 0) {
    fail('unsupported', where, `I2_S with ${n} elements: the fork packs whole groups of 128, and the layout of a partial group is not known`);
  }
  const codes = new Int8Array(n);
  for (let g = 0; g < n / 128; g++) {
    for (let j = 0; j < 128; j++) {
      const q = (data[32 * g + (j % 32)]! >> (6 - 2 * Math.floor(j / 32))) & 3;
      if (q === 3) {
        fail(
          'codes',
          where,
          `I2_S group ${g} (elements ${128 * g}..${128 * g + 127}): element ${128 * g + j} has the 2-bit code 3, which is not a trit (0, 1, 2 = -1, 0, +1)`,
        );
      }
      codes[128 * g + j] = q - 1;
    }
  }
  const scale = new DataView(data.buffer, data.byteOffset, data.byteLength).getFloat32(n / 4, true);
  return { codes, scale };
}
