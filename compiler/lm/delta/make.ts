// Compress a fine-tuned checkpoint against its base into a ComPEFT delta (arXiv 2311.13171; seed-
// methods section 3.2, the official code's compression):
//
//   tau   = tuned - base over every per-layer projection (dequantized base: what its codes stand for)
//   v     = all of tau as ONE vector;  sigma = std(v) (unbiased, torch.std's default)
//   mask  = |v| >= the k-th largest |v|, k = round(density * numel(v))   (ties kept, zeros dropped)
//   alpha = alphaFactor * sigma  (the code's replace_factor; 1 by default), rounded once to float32
//   delta = alpha * sign(v) * mask, one alpha for every tensor, written per tensor (blob.ts)
//
// Only the projections are compressed (the paper's code leaves out the classifier heads; here the
// embedding, head and norms stay the base's); tensors outside them that differ are reported.

import { fail } from '../../diagnostics.ts';
import { f16BitsToF32, bf16BitsToF32 } from '../../numerics/half.ts';
import type { LmModel, LmTensor } from '../model.ts';
import { baseHash, deltaSlots } from './base.ts';
import { DELTA_MAX_COLS, encodeDelta, type DeltaTensor, type TaskDelta } from './blob.ts';

export interface DeltaMakeOptions {
  /** Fraction of the task vector's entries kept (the paper's density d, here in (0, 1]). */
  density: number;
  /** alpha = alphaFactor * std (replace_factor in the paper's code). */
  alphaFactor?: number;
}

export interface DeltaMakeStats {
  /** Entries of the task vector (all projections). */
  parameters: number;
  /** Nonzeros kept. */
  kept: number;
  sigma: number;
  alpha: number;
  /** The k-th largest |tau|. */
  threshold: number;
  /** The task vector as float32 (4 bytes per parameter). */
  floatBytes: number;
  blobBytes: number;
  /** floatBytes / blobBytes. */
  ratio: number;
  /** Blob bits per parameter, and the entropy bound H(d) + d the paper's coding approaches. */
  bitsPerParameter: number;
  entropyBitsPerParameter: number;
  /** Tensors outside the projections that differ between base and tuned (not in the delta). */
  otherChanged: string[];
}

export function makeDelta(base: LmModel, tuned: LmModel, opts: DeltaMakeOptions): { delta: TaskDelta; blob: Uint8Array; stats: DeltaMakeStats } {
  const { density } = opts;
  const alphaFactor = opts.alphaFactor ?? 1;
  if (!(density > 0 && density <= 1)) fail('usage', '--density', `must be in (0, 1], got ${density}`);
  if (!Number.isFinite(alphaFactor)) fail('usage', '--alpha-factor', `must be a finite number, got ${alphaFactor}`);
  // A mixture of experts: the slots are its attention and shared-expert projections; the router and
  // the routed experts are not (their changes are listed in otherChanged, as the norms' are).
  const slots = deltaSlots(base.config);
  const tunedSlots = deltaSlots(tuned.config);
  if (JSON.stringify(tunedSlots) !== JSON.stringify(slots))
    fail(
      'shape',
      tuned.source,
      `has other projections than the base ${base.source} (${tunedSlots.length} vs ${slots.length}, or other shapes); a delta needs the same architecture`,
    );
  const wide = slots.find((s) => s.cols > DELTA_MAX_COLS);
  if (wide) fail('limit', base.source, `${wide.name} has ${wide.cols} columns; a delta blob indexes at most ${DELTA_MAX_COLS}`);

  const taus = slots.map((s) => {
    const b = values(base, s.name);
    const t = values(tuned, s.name);
    return b.map((v, i) => t[i]! - v);
  });
  const n = taus.reduce((a, t) => a + t.length, 0);
  let mean = 0;
  for (const t of taus) for (const v of t) mean += v;
  mean /= n;
  let ss = 0;
  for (const t of taus) for (const v of t) ss += (v - mean) ** 2;
  const sigma = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  const k = Math.round(density * n);
  const mags = new Float64Array(n);
  let at = 0;
  for (const t of taus) for (const v of t) mags[at++] = Math.abs(v);
  mags.sort();
  const threshold = k > 0 ? mags[n - k]! : Infinity;
  const alpha = Math.fround(alphaFactor * sigma);

  const tensors: DeltaTensor[] = [];
  let kept = 0;
  slots.forEach((s, slot) => {
    const tau = taus[slot]!;
    const rowPtr = new Uint32Array(s.rows + 1);
    const entries: number[] = [];
    for (let r = 0; r < s.rows; r++) {
      for (let c = 0; c < s.cols; c++) {
        const v = tau[r * s.cols + c]!;
        if (v !== 0 && Math.abs(v) >= threshold) entries.push(c | (v < 0 ? 0x8000 : 0));
      }
      rowPtr[r + 1] = entries.length;
    }
    if (entries.length === 0) return;
    kept += entries.length;
    tensors.push({ slot, rows: s.rows, cols: s.cols, alpha, rowPtr, entries: Uint16Array.from(entries) });
  });
  const delta: TaskDelta = { baseHash: baseHash(base), tensors };
  const blob = encodeDelta(delta);
  const inSlots = new Set(slots.map((s) => s.name));
  const otherChanged = [...base.tensors.keys()].filter(
    (name) => !inSlots.has(name) && tuned.tensors.has(name) && differs(values(base, name), values(tuned, name)),
  );
  const d = kept / n;
  const h = d > 0 && d < 1 ? -d * Math.log2(d) - (1 - d) * Math.log2(1 - d) : 0;
  return {
    delta,
    blob,
    stats: {
      parameters: n,
      kept,
      sigma,
      alpha,
      threshold,
      floatBytes: 4 * n,
      blobBytes: blob.length,
      ratio: (4 * n) / blob.length,
      bitsPerParameter: (8 * blob.length) / n,
      entropyBitsPerParameter: h + d,
      otherChanged,
    },
  };
}

function differs(a: Float64Array, b: Float64Array): boolean {
  return a.length !== b.length || a.some((v, i) => v !== b[i]);
}

function values(m: LmModel, name: string): Float64Array {
  const t = m.tensors.get(name);
  if (!t) fail('weights', m.source, `has no tensor "${name}"`);
  return dequantize(t, `${m.source}: ${name}`);
}

/** The value each element stands for, as the Linear op computes with it. */
function dequantize(t: LmTensor, where: string): Float64Array {
  switch (t.kind) {
    case 'float32':
      return Float64Array.from(t.data);
    case 'float16':
      return Float64Array.from(t.bits, f16BitsToF32);
    case 'bfloat16':
      return Float64Array.from(t.bits, bf16BitsToF32);
    case 'int8':
    case 'ternary':
    case 'intb': {
      const [rows, cols] = t.shape;
      // act-order (GPTQ g_idx): stored column c is the model's column columns[c].
      const col = t.kind === 'intb' && t.columns ? t.columns : undefined;
      const planes = t.kind === 'ternary' ? (t.planes ?? 1) : 1;
      const gs = t.kind === 'ternary' ? (t.granularity === 'per_group' ? t.groupSize! : cols) : t.groupSize;
      const groups = t.kind === 'ternary' && t.granularity === 'per_tensor' ? 0 : Math.ceil(cols / gs);
      const perPlane = groups === 0 ? 1 : rows * groups;
      const out = new Float64Array(rows * cols);
      for (let p = 0; p < planes; p++)
        for (let r = 0; r < rows; r++)
          for (let c = 0; c < cols; c++) {
            const g = p * perPlane + r * groups + Math.floor(c / gs);
            const code = t.codes[(p * rows + r) * cols + c]!;
            out[r * cols + (col ? col[c]! : c)] += (t.kind === 'intb' ? code - t.zeros[g]! : code) * t.scales[g]!;
          }
      return out;
    }
    case 'fairy2i':
      return fail('unsupported', where, 'Fairy2i weights (complex codes) cannot take a ComPEFT delta; deltas apply to real projections');
  }
}
