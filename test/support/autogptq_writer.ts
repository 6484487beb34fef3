// AutoGPTQ's v1 `pack` (qlinear_cuda_old.py / qlinear_cuda.py), its loops transcribed as they run
// (uint32 words; numpy's << keeps the low 32 bits), for tests to build checkpoints with independently
// of compiler/quantize/autogptq.ts.

import { rng } from '../../compiler/harness/inputs.ts';
import type { StTensor } from '../../compiler/io/safetensors.ts';
import type { LmIntB } from '../../compiler/lm/model.ts';
import { f16BitsToF32, f32ToF16Bits } from '../../compiler/numerics/half.ts';
import type { HfTensorSpec } from './hf_writer.ts';

/** qweight [K/32*b, N] from intweight [K][N]. */
export function autogptqPackWeight(iw: number[][], bits: number): Uint32Array[] {
  const k = iw.length;
  const n = iw[0]!.length;
  const rows = (k / 32) * bits;
  const q = Array.from({ length: rows }, () => new Uint32Array(n));
  const or = (row: number, f: (c: number) => number): void => {
    for (let c = 0; c < n; c++) q[row]![c] = (q[row]![c]! | f(c)) >>> 0;
  };
  let i = 0;
  let row = 0;
  while (row < rows) {
    if (bits !== 3) {
      for (let j = i; j < i + 32 / bits; j++) or(row, (c) => iw[j]![c]! << (bits * (j - i)));
      i += 32 / bits;
      row += 1;
    } else {
      for (let j = i; j < i + 10; j++) or(row, (c) => iw[j]![c]! << (3 * (j - i)));
      i += 10;
      or(row, (c) => iw[i]![c]! << 30);
      row += 1;
      or(row, (c) => (iw[i]![c]! >> 2) & 1);
      i += 1;
      for (let j = i; j < i + 10; j++) or(row, (c) => iw[j]![c]! << (3 * (j - i) + 1));
      i += 10;
      or(row, (c) => iw[i]![c]! << 31);
      row += 1;
      or(row, (c) => (iw[i]![c]! >> 1) & 0x3);
      i += 1;
      for (let j = i; j < i + 10; j++) or(row, (c) => iw[j]![c]! << (3 * (j - i) + 2));
      i += 10;
      row += 1;
    }
  }
  return q;
}

/** qzeros [groups, N/32*b] from zeros [groups][N] (z - 1 already subtracted by the caller). */
export function autogptqPackZeros(zm1: number[][], bits: number): Uint32Array[] {
  // The same loop along N: transpose, pack as weights, transpose back.
  const groups = zm1.length;
  const n = zm1[0]!.length;
  const t = Array.from({ length: n }, (_, c) => Array.from({ length: groups }, (_, g) => zm1[g]![c]!));
  const packed = autogptqPackWeight(t, bits); // [N/32*b][groups]
  return Array.from({ length: groups }, (_, g) => Uint32Array.from(packed, (row) => row[g]!));
}

export function i32Tensor(name: string, rows: Uint32Array[]): StTensor {
  const flat = new Uint32Array(rows.length * (rows[0]?.length ?? 0));
  rows.forEach((r, i) => flat.set(r, i * r.length));
  return { name, dtype: 'I32', shape: [rows.length, rows[0]?.length ?? 0], bytes: new Uint8Array(flat.buffer) };
}

/** A random valid g_idx for K columns in groups of G: act-order shuffles which columns share a group. */
function randomGIdx(k: number, g: number, shuffle: boolean, next: () => number): Int32Array {
  const order = Array.from({ length: k }, (_, i) => i);
  if (shuffle)
    for (let i = k - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
  const gi = new Int32Array(k);
  order.forEach((c, p) => (gi[c] = Math.floor(p / g)));
  return gi;
}

/** A random LmIntB in canonical stored order (the columns a stable sort of g_idx gives). */
export function randomIntB(n: number, k: number, bits: number, groupSize: number, actOrder: boolean, bias: boolean, seed: number): LmIntB {
  const next = rng(seed);
  const G = groupSize === -1 ? k : groupSize;
  const groups = Math.ceil(k / G);
  const gIdx = randomGIdx(k, G, actOrder, next);
  const columns = Int32Array.from({ length: k }, (_, i) => i).sort((a, b) => gIdx[a]! - gIdx[b]! || a - b);
  const identity = columns.every((c, j) => c === j);
  const zmax = 2 ** bits - 1; // zero points 1 .. 2^b - 1: v1 stores z - 1, an LmIntB's fit b bits
  return {
    kind: 'intb',
    bits,
    shape: [n, k],
    codes: Uint8Array.from({ length: n * k }, () => Math.floor(next() * 2 ** bits)),
    scales: Float32Array.from({ length: n * groups }, () => f16BitsToF32(0x2000 + Math.floor(next() * 0x2000))),
    zeros: Uint8Array.from({ length: n * groups }, () => 1 + Math.floor(next() * zmax)),
    groupSize: G,
    ...(identity ? {} : { columns }),
    ...(bias ? { bias: Float32Array.from({ length: n }, () => f16BitsToF32(0x3000 + Math.floor(next() * 0x800))) } : {}),
    source: 'test',
  };
}

/**
 * The tensors AutoGPTQ saves for one layer `<prefix>.qweight/.qzeros/.scales/.g_idx(/.bias)`, made
 * with the loops above from an LmIntB (its stored order undone through `columns`). Scales and bias
 * must be half values.
 */
export function autogptqTensors(prefix: string, t: LmIntB): HfTensorSpec[] {
  const [n, k] = t.shape;
  const groups = Math.ceil(k / t.groupSize);
  const inv = new Int32Array(k);
  const gIdx = new Int32Array(k);
  for (let j = 0; j < k; j++) {
    const c = t.columns ? t.columns[j]! : j;
    inv[c] = j;
    gIdx[c] = Math.floor(j / t.groupSize);
  }
  const iw = Array.from({ length: k }, (_, kk) => Array.from({ length: n }, (_, r) => t.codes[r * k + inv[kk]!]!));
  const zm1 = Array.from({ length: groups }, (_, g) => Array.from({ length: n }, (_, r) => t.zeros[r * groups + g]! - 1));
  const half = (v: ArrayLike<number>): Uint8Array => {
    const bits = Uint16Array.from(Array.from(v), (x) => {
      const h = f32ToF16Bits(x);
      if (f16BitsToF32(h) !== x) throw new Error(`test bug: ${x} is not a half value`);
      return h;
    });
    return new Uint8Array(bits.buffer);
  };
  const scales = Float32Array.from({ length: groups * n }, (_, i) => t.scales[(i % n) * groups + Math.floor(i / n)]!);
  const out: HfTensorSpec[] = [
    { ...i32Tensor(`${prefix}.qweight`, autogptqPackWeight(iw, t.bits)) },
    { ...i32Tensor(`${prefix}.qzeros`, autogptqPackZeros(zm1, t.bits)) },
    { name: `${prefix}.scales`, dtype: 'F16', shape: [groups, n], bytes: half(scales) },
    { name: `${prefix}.g_idx`, dtype: 'I32', shape: [k], bytes: new Uint8Array(gIdx.buffer) },
  ];
  if (t.bias) out.push({ name: `${prefix}.bias`, dtype: 'F16', shape: [n], bytes: half(t.bias) });
  return out;
}
