// Which projections a ComPEFT delta may change (its slots), and the identity of the base a delta is
// made against: a hash of the base's weights that the compiled model and every blob carry, so that a
// delta for another base is refused (docs/formats.md, "ComPEFT task vectors").

import { createHash } from 'node:crypto';
import { blk, type LmConfig, type LmModel, type LmTensor } from '../model.ts';

/** The per-layer projections, in slot order within a layer. */
const DELTA_PROJECTIONS = ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down'] as const;

export interface DeltaSlot {
  /** The canonical tensor name (blk.<i>.<projection>). */
  name: string;
  rows: number;
  cols: number;
}

/** Slot s = layer * 7 + projection index: the same for every model of this config. */
export function deltaSlots(c: LmConfig): DeltaSlot[] {
  const q = c.nHeads * c.headDim;
  const kv = c.nKvHeads * c.headDim;
  const shapes: Record<(typeof DELTA_PROJECTIONS)[number], [number, number]> = {
    attn_q: [q, c.dim],
    attn_k: [kv, c.dim],
    attn_v: [kv, c.dim],
    attn_output: [c.dim, q],
    ffn_gate: [c.hiddenDim, c.dim],
    ffn_up: [c.hiddenDim, c.dim],
    ffn_down: [c.dim, c.hiddenDim],
  };
  const slots: DeltaSlot[] = [];
  for (let l = 0; l < c.nLayers; l++)
    for (const p of DELTA_PROJECTIONS) {
      const [rows, cols] = shapes[p];
      slots.push({ name: blk(l, p), rows, cols });
    }
  return slots;
}

/**
 * The base's identity: the first 8 bytes (little-endian u64) of SHA-256 over the config and every
 * tensor (name, kind, shape and the bytes of each of its arrays), in name order. The same weights
 * read from another file format give the same hash.
 */
export function baseHash(model: LmModel): bigint {
  const h = createHash('sha256');
  h.update(JSON.stringify(model.config));
  for (const name of [...model.tensors.keys()].sort()) {
    const t = model.tensors.get(name)!;
    h.update(`\0${name}\0${t.kind}${t.kind === 'ternary' ? `:${t.granularity}` : ''}\0${t.shape.join(',')}\0`);
    for (const a of tensorArrays(t)) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  return h.digest().readBigUInt64LE(0);
}

function tensorArrays(t: LmTensor): ArrayBufferView[] {
  switch (t.kind) {
    case 'float32':
      return [t.data];
    case 'float16':
    case 'bfloat16':
      return [t.bits];
    case 'int8':
      return [t.codes, t.scales, Int32Array.of(t.groupSize)];
    case 'ternary':
      return [t.codes, t.scales, Int32Array.of(t.planes ?? 1, t.groupSize ?? 0), ...(t.bias ? [t.bias] : [])];
    case 'intb':
      return [t.codes, t.scales, t.zeros, Int32Array.of(t.bits, t.groupSize), ...(t.columns ? [t.columns] : []), ...(t.bias ? [t.bias] : [])];
    case 'fairy2i':
      return [t.codes, t.scales, Int32Array.of(t.stages)];
  }
}
