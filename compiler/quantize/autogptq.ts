// AutoGPTQ's v1 checkpoint format (`checkpoint_format: "gptq"`), one linear layer of K inputs and N
// outputs with b-bit codes (seed-methods 4.2; AutoGPTQ `nn_modules/qlinear/qlinear_cuda_old.py` and
// `qlinear_cuda.py` `pack` and the torch fallback of `forward`, read in the public code index):
//
//   <prefix>.qweight  int32 [K/32*b, N]       codes along K, an LSB-first bit stream per output column:
//                                             code k at stream bits [b*k, b*k + b), stream bit p in word
//                                             p/32 at bit p%32. b = 3 straddles words (codes 10 and 21 of
//                                             every 32), b = 2, 4, 8 do not.
//   <prefix>.qzeros   int32 [groups, N/32*b]  zero points minus one (z - 1), the same bit stream along N
//   <prefix>.scales   fp16  [groups, N]
//   <prefix>.g_idx    int32 [K]               the group of each input column (i / G without act-order)
//   <prefix>.bias     fp16  [N]               optional
//
// value[n, k] = scales[g, n] * (code[k, n] - (zeros[g, n] + 1)) with g = g_idx[k]. groups = ceil(K/G).
// K and N must be multiples of 32 (the shapes above are K // 32 * b and N // 32 * b in AutoGPTQ).
//
// tritc's LmIntB holds the same numbers with the groups made contiguous: stored column j is input
// column columns[j], group j / G (a stable sort of the input columns by g_idx). Packing writes the
// zero point z - 1, so z must be in [1, 2^b - 1]: AutoGPTQ itself writes z = 0 as -1 and corrupts the
// word (gptq.ts keeps zeros >= 1 for this reason). Reading refuses the z = 2^b such a word decodes
// to (an LmIntB zero point fits its b bits), naming the tensor.

import { fail } from '../diagnostics.ts';
import { stToTyped } from '../io/safetensors.ts';
import type { LmIntB } from '../lm/model.ts';
import { FLOATS, type LayerSource, type PackedTensor, expectTensor, finiteFloats, halfOrFloat, int32Bytes } from './layer_io.ts';

export const AUTOGPTQ_BITS: readonly number[] = [2, 3, 4, 8];

/** Write b-bit `values` as an LSB-first bit stream into 32-bit words words[base + stride * (bit / 32)]. */
function packStream(values: ArrayLike<number>, b: number, words: Uint32Array, base: number, stride: number): void {
  for (let i = 0; i < values.length; i++) {
    const p = i * b;
    const w = base + stride * (p >>> 5);
    const shift = p & 31;
    const v = values[i]!;
    words[w] = (words[w]! | (v << shift)) >>> 0;
    if (shift + b > 32) words[w + stride] = (words[w + stride]! | (v >>> (32 - shift))) >>> 0;
  }
}

/** Read `count` b-bit values of the bit stream packStream writes. */
function unpackStream(words: Uint32Array, b: number, base: number, stride: number, count: number, out: Uint32Array): void {
  const mask = 2 ** b - 1;
  for (let i = 0; i < count; i++) {
    const p = i * b;
    const w = base + stride * (p >>> 5);
    const shift = p & 31;
    let v = words[w]! >>> shift;
    if (shift + b > 32) v |= words[w + stride]! << (32 - shift);
    out[i] = v & mask;
  }
}

/** g_idx of an LmIntB in input column order: column columns[j] is in group j / groupSize. */
export function groupIndex(t: LmIntB): Int32Array {
  const [, k] = t.shape;
  const g = new Int32Array(k);
  for (let j = 0; j < k; j++) g[t.columns ? t.columns[j]! : j] = Math.floor(j / t.groupSize);
  return g;
}

/**
 * Pack an LmIntB as AutoGPTQ v1 tensors. `name` is for messages. Scales (and bias) are written F16
 * when every value is a half value, as AutoGPTQ stores them, else F32.
 */
export function packAutoGptq(t: LmIntB, name: string): PackedTensor[] {
  const b = t.bits;
  const [n, k] = t.shape;
  if (!AUTOGPTQ_BITS.includes(b)) fail('unsupported', name, `${b}-bit codes; AutoGPTQ's format holds 2, 3, 4 or 8 bits`);
  if (k % 32 !== 0 || n % 32 !== 0)
    fail('unsupported', name, `shape [${n}, ${k}]: AutoGPTQ's format needs in_features and out_features that are multiples of 32`);
  const groups = Math.ceil(k / t.groupSize);
  const maxq = 2 ** b - 1;
  const gIdx = groupIndex(t);

  // qweight: per output column n, the codes of input columns 0..K-1 in input order.
  const qweight = new Uint32Array((k / 32) * b * n);
  const column = new Uint32Array(k);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < k; j++) {
      const code = t.codes[r * k + j]!;
      if (code > maxq) fail('codes', name, `code ${code} at row ${r}, stored column ${j} does not fit ${b} bits`);
      column[t.columns ? t.columns[j]! : j] = code;
    }
    packStream(column, b, qweight, r, n);
  }
  // qzeros: per group, z - 1 of every output column.
  const perRow = (n / 32) * b;
  const qzeros = new Uint32Array(groups * perRow);
  const zrow = new Uint32Array(n);
  for (let g = 0; g < groups; g++) {
    for (let r = 0; r < n; r++) {
      const z = t.zeros[r * groups + g]!;
      if (z < 1 || z > maxq)
        fail('codes', name, `zero point ${z} at row ${r}, group ${g}: AutoGPTQ's v1 format stores z - 1 in ${b} bits, so z must be in [1, ${maxq}]`);
      zrow[r] = z - 1;
    }
    packStream(zrow, b, qzeros, g * perRow, 1);
  }
  const scales = new Float32Array(groups * n);
  for (let g = 0; g < groups; g++) for (let r = 0; r < n; r++) scales[g * n + r] = t.scales[r * groups + g]!;
  const s = halfOrFloat(scales);
  const out: PackedTensor[] = [
    { suffix: 'qweight', dtype: 'I32', shape: [(k / 32) * b, n], bytes: int32Bytes(qweight) },
    { suffix: 'qzeros', dtype: 'I32', shape: [groups, perRow], bytes: int32Bytes(qzeros) },
    { suffix: 'scales', dtype: s.dtype, shape: [groups, n], bytes: s.bytes },
    { suffix: 'g_idx', dtype: 'I32', shape: [k], bytes: int32Bytes(new Uint32Array(gIdx.buffer)) },
  ];
  if (t.bias) out.push({ suffix: 'bias', ...halfOrFloat(t.bias), shape: [n] });
  return out;
}

/** What the layer's config says (quantize_config.json or config.json's quantization_config). */
export interface AutoGptqLayout {
  bits: number;
  /** -1: one group per row. */
  groupSize: number;
  /** desc_act: g_idx must then be present. */
  descAct: boolean;
}

/**
 * Unpack one AutoGPTQ v1 layer of logical shape [n, k] into an LmIntB, checking every tensor against
 * the layout: shapes, dtypes, a g_idx that is a valid group map (every group holds G columns, the
 * last K - (groups - 1) G), finite scales and bias, zero points that fit a byte.
 */
export function unpackAutoGptq(src: LayerSource, n: number, k: number, layout: AutoGptqLayout, source: string): { tensor: LmIntB; used: string[] } {
  const b = layout.bits;
  if (!AUTOGPTQ_BITS.includes(b)) fail('unsupported', src.where('qweight'), `${b}-bit codes; AutoGPTQ's format holds 2, 3, 4 or 8 bits`);
  const G = layout.groupSize === -1 ? k : layout.groupSize;
  if (!(Number.isSafeInteger(G) && G > 0)) fail('schema', src.where('qweight'), `group size ${layout.groupSize}; expected -1 or a positive integer`);
  if (k % 32 !== 0 || n % 32 !== 0)
    fail('shape', src.where('qweight'), `the layer is [${n}, ${k}]; AutoGPTQ's format needs in_features and out_features that are multiples of 32`);
  const groups = Math.ceil(k / G);
  const gsText = layout.groupSize === -1 ? 'group_size -1' : `group_size ${G}`;
  const qweightT = expectTensor(src, 'qweight', ['I32'], [(k / 32) * b, n], `${b} bits, ${k} inputs, ${n} outputs`);
  const qzerosT = expectTensor(src, 'qzeros', ['I32'], [groups, (n / 32) * b], `${groups} groups of ${gsText}, ${b} bits, ${n} outputs`);
  const scalesT = expectTensor(src, 'scales', FLOATS, [groups, n], `${groups} groups of ${gsText}, ${n} outputs`);
  const used = ['qweight', 'qzeros', 'scales'];

  // g_idx: absent means i / G, which act-order checkpoints never are.
  const gIdx = new Int32Array(k);
  const gT = src.get('g_idx');
  if (gT) {
    expectTensor(src, 'g_idx', ['I32', 'I64'], [k], `one group index per input column`);
    const raw = stToTyped(gT);
    for (let i = 0; i < k; i++) {
      const v = Number(raw[i]!);
      if (!(Number.isInteger(v) && v >= 0 && v < groups))
        fail('weights', src.where('g_idx'), `entry ${i} is ${v}; a group index must be in [0, ${groups}) for ${gsText}`);
      gIdx[i] = v;
    }
    const count = new Int32Array(groups);
    for (const g of gIdx) count[g]!++;
    for (let g = 0; g < groups; g++) {
      const want = Math.min(G, k - g * G);
      if (count[g] !== want)
        fail('weights', src.where('g_idx'), `group ${g} has ${count[g]} columns, expected ${want}: not a group map of ${k} columns in groups of ${G}`);
    }
    used.push('g_idx');
  } else {
    if (layout.descAct) fail('weights', src.where('g_idx'), 'is missing; desc_act (act-order) checkpoints need it to say which group each input column is in');
    for (let i = 0; i < k; i++) gIdx[i] = Math.floor(i / G);
  }
  const columns = Int32Array.from({ length: k }, (_, i) => i).sort((a, c) => gIdx[a]! - gIdx[c]! || a - c);
  const identity = columns.every((c, j) => c === j);

  const qweight = stToTyped(qweightT) as Int32Array;
  const words = new Uint32Array(qweight.buffer, qweight.byteOffset, qweight.length);
  const codes = new Uint8Array(n * k);
  const column = new Uint32Array(k);
  for (let r = 0; r < n; r++) {
    unpackStream(words, b, r, n, k, column);
    for (let j = 0; j < k; j++) codes[r * k + j] = column[columns[j]!]!;
  }
  const qzeros = stToTyped(qzerosT) as Int32Array;
  const zwords = new Uint32Array(qzeros.buffer, qzeros.byteOffset, qzeros.length);
  const zeros = new Uint8Array(n * groups);
  const zrow = new Uint32Array(n);
  const perRow = (n / 32) * b;
  const maxq = 2 ** b - 1;
  for (let g = 0; g < groups; g++) {
    unpackStream(zwords, b, g * perRow, 1, n, zrow);
    for (let r = 0; r < n; r++) {
      const z = zrow[r]! + 1;
      if (z > maxq)
        fail(
          'codes',
          src.where('qzeros'),
          `the zero point of group ${g}, output ${r} is ${z} (stored ${z - 1}, plus one), which does not fit ${b} bits: AutoGPTQ writes a zero point of 0 this way (z - 1 = -1), corrupting the word`,
        );
      zeros[r * groups + g] = z;
    }
  }
  const sv = finiteFloats(scalesT, src.where('scales'));
  const scales = new Float32Array(n * groups);
  for (let g = 0; g < groups; g++) for (let r = 0; r < n; r++) scales[r * groups + g] = sv[g * n + r]!;

  const tensor: LmIntB = { kind: 'intb', bits: b, shape: [n, k], codes, scales, zeros, groupSize: G, ...(identity ? {} : { columns }), source };
  const biasT = src.get('bias');
  if (biasT) {
    expectTensor(src, 'bias', FLOATS, [n], 'one per output');
    tensor.bias = finiteFloats(biasT, src.where('bias'));
    used.push('bias');
  }
  return { tensor, used };
}
