// The offset-assignment problem every algorithm solves: blocks to stack in one arena.
//
// A block is one buffer, or a chain of buffers that share memory because each overwrites the
// previous in place; each member sits at a fixed `delta` from the block's offset (0, unless an
// input sits at the end of a larger output). Two blocks conflict when some of their members are
// live at the same step. Then the difference of their offsets must avoid one open interval:
// block b may not be placed at o with o - offset(a) in (lo[a*n+b], hi[a*n+b]), the interval where
// some pair of members that meet in time would overlap. For plain buffers that is (-size b, size a).
//
// Everything here is integer arithmetic on multiples of the alignment.

import { inPlaceShift, liveBytesPerStep, lowerBound, type Buffer } from './liveness.ts';

interface Block {
  id: number;
  /** The first buffer's name (chains are named after their head). */
  name: string;
  members: Buffer[];
  /** Height: the top of its highest member above the block's offset. */
  size: number;
  first: number;
  last: number;
}

export interface Layout {
  blocks: Block[];
  n: number;
  /** Each member's offset within its block. */
  delta: Map<string, number>;
  lo: Int32Array;
  hi: Int32Array;
  conflict: Uint8Array;
  /** Conflicting blocks of each block. */
  conflicts: number[][];
  /** True when no block can nest inside another's shape (lo <= 0 <= hi for every pair): then the
   * best first-fit order is an optimal plan (exact.ts). */
  stackable: boolean;
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
  const index = new Map<string, Block>(); // buffer name -> its block
  const delta = new Map<string, number>();
  const blocks: Block[] = [];
  // Sources come before the buffers written over them, so one pass assigns every chain.
  for (const b of buffers) {
    const src = b.inPlaceOf ? byName.get(b.inPlaceOf) : undefined;
    let block = src ? index.get(src.name) : undefined;
    if (!block) {
      block = { id: blocks.length, name: b.name, members: [], size: 0, first: b.first, last: b.last };
      blocks.push(block);
      delta.set(b.name, 0);
    } else delta.set(b.name, delta.get(src!.name)! - inPlaceShift(src!, b));
    index.set(b.name, block);
    block.members.push(b);
    block.first = Math.min(block.first, b.first);
    block.last = Math.max(block.last, b.last);
  }
  for (const B of blocks) {
    const base = Math.min(...B.members.map((m) => delta.get(m.name)!));
    for (const m of B.members) delta.set(m.name, delta.get(m.name)! - base);
    B.size = Math.max(...B.members.map((m) => delta.get(m.name)! + m.size));
  }
  const n = blocks.length;
  const lo = new Int32Array(n * n);
  const hi = new Int32Array(n * n);
  const conflict = new Uint8Array(n * n);
  const conflicts: number[][] = blocks.map(() => []);
  let stackable = true;
  for (let a = 0; a < n; a++) {
    const A = blocks[a]!;
    for (let b = a + 1; b < n; b++) {
      const B = blocks[b]!;
      if (A.first > B.last || B.first > A.last) continue;
      let l = Infinity;
      let h = -Infinity;
      for (const x of A.members)
        for (const y of B.members) {
          if (x.first > y.last || y.first > x.last) continue;
          const dx = delta.get(x.name)!;
          const dy = delta.get(y.name)!;
          l = Math.min(l, dx - dy - y.size);
          h = Math.max(h, dx + x.size - dy);
        }
      if (l === Infinity) continue;
      lo[a * n + b] = l;
      hi[a * n + b] = h;
      lo[b * n + a] = -h;
      hi[b * n + a] = -l;
      conflict[a * n + b] = conflict[b * n + a] = 1;
      conflicts[a]!.push(b);
      conflicts[b]!.push(a);
      if (l > 0 || h < 0) stackable = false;
    }
  }
  const lb = lowerBound(buffers, steps);
  const perStep = liveBytesPerStep(buffers, steps);
  const load = new Int32Array(n);
  for (const B of blocks) for (let s = B.first; s <= B.last; s++) load[B.id] = Math.max(load[B.id]!, perStep[s]!);
  return { blocks, n, delta, lo, hi, conflict, conflicts, stackable, steps, lowerBound: lb.bytes, peakStep: lb.step, peakBuffers: lb.live, load };
}

/** Forbidden intervals (open) for block b's offset, from the placed blocks that conflict with it. */
function forbidden(L: Layout, b: number, offsets: Int32Array): [number, number][] {
  const iv: [number, number][] = [];
  for (const a of L.conflicts[b]!) {
    const oa = offsets[a]!;
    if (oa >= 0) iv.push([oa + L.lo[a * L.n + b]!, oa + L.hi[a * L.n + b]!]);
  }
  return iv.sort((x, y) => x[0] - y[0]);
}

/** The lowest offset for block b that clears every placed conflicting block (`offsets[a] >= 0`). */
export function lowestOffset(L: Layout, b: number, offsets: Int32Array): number {
  let o = 0;
  for (const [l, h] of forbidden(L, b, offsets)) {
    if (o <= l) break;
    if (o < h) o = h;
  }
  return o;
}

/**
 * The offset for block b in the smallest gap it fits in (best fit), or on top if no gap fits.
 * Gaps are the allowed ranges between forbidden intervals; their width is the room left over.
 */
export function bestFitOffset(L: Layout, b: number, offsets: Int32Array): number {
  const iv = forbidden(L, b, offsets);
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

/** Offsets per buffer name (each member at its block's offset plus its delta). */
export function offsetsByName(L: Layout, offsets: Int32Array): Map<string, number> {
  const m = new Map<string, number>();
  for (const B of L.blocks) for (const b of B.members) m.set(b.name, offsets[B.id]! + L.delta.get(b.name)!);
  return m;
}
