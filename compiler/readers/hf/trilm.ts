// Recovering ternary codes and scales from TriLM's "Unpacked" checkpoints (SpectraSuite on the HF hub).
//
// TriLM (seed-methods 6.1) trains each projection as gamma_s * T_s per model-parallel shard s, with
// gamma_s = eps + mean|W_s| and T_s in {-1, 0, +1}; the released checkpoints store the products as plain
// F16 Llama weights. So a projection is ternary exactly when every value is 0 or +-gamma for at most MP
// distinct gamma, one per contiguous block of output rows (N, column-parallel layers) or of input
// columns (K, row-parallel layers). Which axis a layer splits is not documented; it is read off the data:
//
//   1. Collect the distinct nonzero magnitudes d (compared exactly, on the stored bits with the sign
//      masked off, so -0 is 0 and nothing is rounded).
//   2. d <= 1: one scale for the tensor. Otherwise try MP = pretraining_model_parallel (or, absent, the
//      smallest MP in d..8 that works): split N, or K, into MP equal contiguous blocks and require a
//      single magnitude per block. A block of zeros fits any scale.
//   3. Shards along N give a scale per row ('per_row'); along K, a scale per group of K/MP columns
//      ('per_group'), because sum_s gamma_s * sum_{k in s} t x cannot take gamma out of the whole dot
//      product. Equal scales collapse to 'per_tensor'.
//
// Anything else is not ternary: the caller keeps it as a float weight and says so in the model's notes.

import { stToTyped } from '../../io/safetensors.ts';
import type { LmTernary } from '../../lm/model.ts';
import { f32FromBits } from '../../numerics/f32.ts';
import type { HfTensor } from './checkpoint.ts';
import { bf16BitsToF32, f16BitsToF32 } from '../../numerics/half.ts';
import type { HfFloatDType } from './tensors.ts';

/** The largest MP tried when the config does not say (TriLM 3.9B uses 6). */
const MAX_MODEL_PARALLEL = 8;
/** Up to this many distinct magnitudes a float weight still "looks ternary" and earns its own note. */
const LOOKS_TERNARY = 16;

export type TernaryRecovery = { ternary: true; tensor: LmTernary } | { ternary: false; reason: string; looksTernary: boolean };

interface Keys {
  /** Magnitude bits (sign masked off) per element; 0 for +-0. */
  mag: Uint32Array | Uint16Array;
  signMask: number;
  bits: Uint32Array | Uint16Array;
  /** Magnitude bits at and above which the value is Inf or NaN. */
  nonFinite: number;
  value: (mag: number) => number;
}

function keysOf(t: HfTensor, dtype: HfFloatDType): Keys {
  const data = stToTyped(t.st);
  if (dtype === 'F32') {
    const f = data as Float32Array;
    const bits = new Uint32Array(f.buffer, f.byteOffset, f.length);
    const mag = new Uint32Array(bits.length);
    for (let i = 0; i < bits.length; i++) mag[i] = bits[i]! & 0x7fffffff;
    return { mag, bits, signMask: 0x80000000, nonFinite: 0x7f800000, value: f32FromBits };
  }
  const bits = data as Uint16Array;
  const mag = new Uint16Array(bits.length);
  for (let i = 0; i < bits.length; i++) mag[i] = bits[i]! & 0x7fff;
  return dtype === 'F16'
    ? { mag, bits, signMask: 0x8000, nonFinite: 0x7c00, value: f16BitsToF32 }
    : { mag, bits, signMask: 0x8000, nonFinite: 0x7f80, value: bf16BitsToF32 };
}

/** Distinct nonzero magnitudes, or null when there are more than `cap` (or a non-finite value). */
function distinctMagnitudes(k: Keys, cap: number): number[] | null {
  // A linear scan of at most `cap` keys beats a Set here: a ternary tensor has one to a few magnitudes.
  const seen: number[] = [];
  outer: for (let i = 0; i < k.mag.length; i++) {
    const m = k.mag[i]!;
    if (m === 0) continue;
    for (let j = 0; j < seen.length; j++) if (seen[j] === m) continue outer;
    if (m >= k.nonFinite || seen.length === cap) return null;
    seen.push(m);
  }
  return seen;
}

/** Per block of an MP-way split along `axis`, its single magnitude (0: all zero), or null if some block has two. */
function blockMagnitudes(k: Keys, n: number, kk: number, mp: number, axis: 'N' | 'K'): number[] | null {
  const len = axis === 'N' ? n : kk;
  if (len % mp !== 0) return null;
  const block = len / mp;
  const colBlock = new Int32Array(kk);
  for (let c = 0; c < kk; c++) colBlock[c] = axis === 'K' ? Math.floor(c / block) : 0;
  const found = new Array<number>(mp).fill(0);
  for (let r = 0; r < n; r++) {
    const rowBlock = axis === 'N' ? Math.floor(r / block) : 0;
    for (let c = 0; c < kk; c++) {
      const m = k.mag[r * kk + c]!;
      if (m === 0) continue;
      const b = rowBlock + colBlock[c]!; // one of the two is always 0
      if (found[b] === 0) found[b] = m;
      else if (found[b] !== m) return null;
    }
  }
  return found;
}

function codesOf(k: Keys): Int8Array {
  const codes = new Int8Array(k.mag.length);
  for (let i = 0; i < codes.length; i++) if (k.mag[i] !== 0) codes[i] = (k.bits[i]! & k.signMask) !== 0 ? -1 : 1;
  return codes;
}

function build(k: Keys, shape: [number, number], mp: number, axis: 'N' | 'K', blocks: number[], dtype: HfFloatDType): LmTernary {
  const [n, kk] = shape;
  const any = blocks.find((m) => m !== 0) ?? 0;
  const gammas = blocks.map((m) => k.value(m === 0 ? any : m)); // an all-zero block takes any scale
  const codes = codesOf(k);
  const where = `HF ${dtype} unpacked ternary`;
  if (gammas.every((g) => g === gammas[0])) {
    const how = mp === 1 ? 'one scale' : `${mp} shards along ${axis} with equal scales`;
    return { kind: 'ternary', shape, codes, scales: Float32Array.of(gammas[0]!), granularity: 'per_tensor', source: `${where}, ${how}` };
  }
  const source = `${where}, ${mp} shards along ${axis}`;
  if (axis === 'N') {
    const scales = new Float32Array(n);
    for (let r = 0; r < n; r++) scales[r] = gammas[Math.floor(r / (n / mp))]!;
    return { kind: 'ternary', shape, codes, scales, granularity: 'per_row', source };
  }
  const scales = new Float32Array(n * mp);
  for (let r = 0; r < n; r++) for (let g = 0; g < mp; g++) scales[r * mp + g] = gammas[g]!;
  return { kind: 'ternary', shape, codes, scales, granularity: 'per_group', groupSize: kk / mp, source };
}

/**
 * Try to read an unpacked linear weight as TriLM ternary. `modelParallel` is the MP the checkpoint
 * says it was trained with (undefined: find it, 1..8); `firstAxis` is the split to try first.
 */
export function recoverTernary(t: HfTensor, dtype: HfFloatDType, modelParallel: number | undefined, firstAxis: 'N' | 'K'): TernaryRecovery {
  if (t.st.shape.length !== 2) return { ternary: false, reason: `it is not a matrix (shape [${t.st.shape.join(', ')}])`, looksTernary: false };
  const shape: [number, number] = [t.st.shape[0]!, t.st.shape[1]!];
  const k = keysOf(t, dtype);
  const limit = modelParallel ?? MAX_MODEL_PARALLEL;
  const mags = distinctMagnitudes(k, LOOKS_TERNARY);
  if (mags === null) return { ternary: false, reason: 'it is a float matrix', looksTernary: false };
  const d = mags.length;
  const mpText = modelParallel === undefined ? `the ${MAX_MODEL_PARALLEL} model-parallel shards tried at most` : `MP = ${modelParallel} model-parallel shards`;
  if (d > limit) {
    return { ternary: false, reason: `${d} distinct nonzero magnitudes, more than ${mpText}`, looksTernary: true };
  }
  if (d <= 1) return { ternary: true, tensor: build(k, shape, 1, firstAxis, [mags[0] ?? 0], dtype) };
  const axes: ('N' | 'K')[] = firstAxis === 'N' ? ['N', 'K'] : ['K', 'N'];
  const tries = modelParallel !== undefined ? [modelParallel] : Array.from({ length: MAX_MODEL_PARALLEL - d + 1 }, (_, i) => d + i);
  for (const mp of tries) {
    for (const axis of axes) {
      const blocks = blockMagnitudes(k, shape[0], shape[1], mp, axis);
      if (blocks) return { ternary: true, tensor: build(k, shape, mp, axis, blocks, dtype) };
    }
  }
  return {
    ternary: false,
    reason: `its ${d} distinct nonzero magnitudes do not fall one per contiguous block of rows or columns for ${mpText}`,
    looksTernary: true,
  };
}
