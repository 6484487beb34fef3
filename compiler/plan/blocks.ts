// The offset-assignment problem every algorithm solves: blocks to stack in one arena.
//
// A block is one buffer, or a chain of buffers that share one offset because each overwrites the
// previous in place. Two blocks conflict when some of their buffers are live at the same step; then
// the later-placed one must sit wholly above or below the other, where "wholly" uses the height of
// the buffers that actually meet: `see[a*n + b]` is the height of a that b must clear (0: no
// conflict). For plain buffers that is simply a's size.
//
// Everything here is integer arithmetic on multiples of the alignment.

import { liveBytesPerStep, lowerBound, type Buffer } from './liveness.ts';

export interface Block {
  id: number;
  /** The first buffer's name (chains are named after their head). */
  name: string;
  members: Buffer[];
  /** Largest member: the block's height at its tallest. */
  size: number;
  first: number;
  last: number;
}

export interface Layout {
  blocks: Block[];
  n: number;
  see: Int32Array;
  /** Conflicting blocks of each block. */
  conflicts: number[][];
  steps: number;
  /** The most bytes live at one step (no arena can be smaller), where, and what is live there. */
  lowerBound: number;
  peakStep: number;
  peakBuffers: string[];
  /** Per block: the largest live total over the steps it spans (how much of a peak it sits in). */
  load: Int32Array;
}

export function makeLayout(buffers: readonly Buffer[], steps: number): Layout {
  const byName = new Map(buffers.map((b) => [b.name, b]));
  // Follow in-place links to the head of each chain.
  const head = (b: Buffer): Buffer => {
    let cur = b;
    for (let guard = 0; cur.inPlaceOf && byName.has(cur.inPlaceOf); guard++) {
      if (guard > buffers.length) throw new Error(`internal: in-place cycle at "${b.name}"`);
      cur = byName.get(cur.inPlaceOf)!;
    }
    return cur;
  };
  const index = new Map<string, Block>();
  const blocks: Block[] = [];
  for (const b of buffers) {
    const h = head(b);
    let block = index.get(h.name);
    if (!block) {
      block = { id: blocks.length, name: h.name, members: [], size: 0, first: b.first, last: b.last };
      index.set(h.name, block);
      blocks.push(block);
    }
    block.members.push(b);
    block.size = Math.max(block.size, b.size);
    block.first = Math.min(block.first, b.first);
    block.last = Math.max(block.last, b.last);
  }
  const n = blocks.length;
  const see = new Int32Array(n * n);
  const conflicts: number[][] = blocks.map(() => []);
  for (let a = 0; a < n; a++) {
    const A = blocks[a]!;
    for (let b = a + 1; b < n; b++) {
      const B = blocks[b]!;
      if (A.first > B.last || B.first > A.last) continue;
      let ha = 0;
      let hb = 0;
      for (const x of A.members)
        for (const y of B.members) {
          if (x.first > y.last || y.first > x.last) continue;
          ha = Math.max(ha, x.size);
          hb = Math.max(hb, y.size);
        }
      if (ha === 0) continue;
      see[a * n + b] = ha;
      see[b * n + a] = hb;
      conflicts[a]!.push(b);
      conflicts[b]!.push(a);
    }
  }
  const lb = lowerBound(buffers, steps);
  const perStep = liveBytesPerStep(buffers, steps);
  const load = new Int32Array(n);
  for (const B of blocks) for (let s = B.first; s <= B.last; s++) load[B.id] = Math.max(load[B.id]!, perStep[s]!);
  return { blocks, n, see, conflicts, steps, lowerBound: lb.bytes, peakStep: lb.step, peakBuffers: lb.live, load };
}

/**
 * The lowest offset for block b that clears every placed conflicting block (`offsets[a] >= 0`).
 * Offset o is forbidden by a placed at oa when o is in the open interval (oa - see[b,a], oa + see[a,b]).
 */
export function lowestOffset(L: Layout, b: number, offsets: Int32Array): number {
  const iv: [number, number][] = [];
  for (const a of L.conflicts[b]!) {
    const oa = offsets[a]!;
    if (oa < 0) continue;
    iv.push([oa - L.see[b * L.n + a]!, oa + L.see[a * L.n + b]!]);
  }
  iv.sort((x, y) => x[0] - y[0]);
  let o = 0;
  for (const [lo, hi] of iv) {
    if (o <= lo) break;
    if (o < hi) o = hi;
  }
  return o;
}

/**
 * The offset for block b in the smallest gap it fits in (best fit), or on top if no gap fits.
 * Gaps are the allowed ranges between forbidden intervals; their width is the room left over.
 */
export function bestFitOffset(L: Layout, b: number, offsets: Int32Array): number {
  const iv: [number, number][] = [];
  for (const a of L.conflicts[b]!) {
    const oa = offsets[a]!;
    if (oa >= 0) iv.push([oa - L.see[b * L.n + a]!, oa + L.see[a * L.n + b]!]);
  }
  iv.sort((x, y) => x[0] - y[0]);
  let start = 0; // lowest allowed offset of the current gap
  let best = -1;
  let bestRoom = Infinity;
  for (const [lo, hi] of iv) {
    if (lo >= start) {
      // [start, lo] is allowed; its room is how far the gap reaches.
      const room = lo - start;
      if (room < bestRoom) {
        best = start;
        bestRoom = room;
      }
    }
    start = Math.max(start, hi);
  }
  return best >= 0 ? best : start;
}

export function heightOf(L: Layout, offsets: Int32Array): number {
  let h = 0;
  for (let b = 0; b < L.n; b++) h = Math.max(h, offsets[b]! + L.blocks[b]!.size);
  return h;
}

export type Fit = (L: Layout, b: number, offsets: Int32Array) => number;

/** Place blocks in `order`, each where `fit` says. */
export function placeInOrder(L: Layout, order: readonly number[], fit: Fit = lowestOffset): Int32Array {
  const offsets = new Int32Array(L.n).fill(-1);
  for (const b of order) offsets[b] = fit(L, b, offsets);
  return offsets;
}

/** Offsets per buffer name (every member of a block at the block's offset). */
export function offsetsByName(L: Layout, offsets: Int32Array): Map<string, number> {
  const m = new Map<string, number>();
  for (const B of L.blocks) for (const b of B.members) m.set(b.name, offsets[B.id]!);
  return m;
}
