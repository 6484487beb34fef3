// Offset assignment for the arena: every buffer gets an offset so that buffers live at the same step
// never overlap. Several algorithms run and the smallest plan wins; the lower bound (liveness.ts)
// says how far from optimal it can be.
//
//   linear            every buffer after the previous one: no reuse. The obviously correct reference.
//   greedy-by-size    TFLite Micro's planner: largest first, each at the lowest offset that fits
//                     among the already placed buffers that are live at the same time.
//   greedy-by-start   the same placement rule, buffers taken in order of first use (first-fit by
//                     lifetime, as TinyEngine does).
//
// Greedy is not optimal in general (the problem is NP-hard); issue #3 adds an exact search.

import { computeLiveness, lowerBound, overlapsInTime, type Buffer } from './liveness.ts';
import type { Graph } from '../ir.ts';

export interface Placement {
  name: string;
  offset: number;
  size: number;
  bytes: number;
  first: number;
  last: number;
}

export interface MemoryPlan {
  algorithm: string;
  arenaBytes: number;
  lowerBound: number;
  /** The step where live memory peaks, and what is live there. */
  peakStep: number;
  peakTensors: string[];
  placements: Placement[];
  /** Every algorithm's arena size, for reports. */
  candidates: { algorithm: string; arenaBytes: number }[];
}

export type Algorithm = (buffers: readonly Buffer[]) => Map<string, number>;

export const linearPlan: Algorithm = (buffers) => {
  const offsets = new Map<string, number>();
  let next = 0;
  for (const b of buffers) {
    offsets.set(b.name, next);
    next += b.size;
  }
  return offsets;
};

/** Place buffers in the given order, each at the lowest offset free of conflicting placed ones. */
export function placeInOrder(order: readonly Buffer[]): Map<string, number> {
  const placed: { b: Buffer; offset: number }[] = [];
  const offsets = new Map<string, number>();
  for (const b of order) {
    const conflicts = placed.filter((p) => overlapsInTime(p.b, b)).sort((x, y) => x.offset - y.offset);
    let offset = 0;
    for (const c of conflicts) {
      if (offset + b.size <= c.offset) break; // fits in the gap before c
      offset = Math.max(offset, c.offset + c.b.size);
    }
    placed.push({ b, offset });
    offsets.set(b.name, offset);
  }
  return offsets;
}

export const greedyBySize: Algorithm = (buffers) =>
  placeInOrder([...buffers].sort((a, b) => b.size - a.size || a.first - b.first || a.name.localeCompare(b.name)));

export const greedyByStart: Algorithm = (buffers) =>
  placeInOrder([...buffers].sort((a, b) => a.first - b.first || b.size - a.size || a.name.localeCompare(b.name)));

export const ALGORITHMS: Record<string, Algorithm> = {
  'greedy-by-size': greedyBySize,
  'greedy-by-start': greedyByStart,
  linear: linearPlan,
};

export function arenaSize(buffers: readonly Buffer[], offsets: ReadonlyMap<string, number>): number {
  return buffers.reduce((m, b) => Math.max(m, offsets.get(b.name)! + b.size), 0);
}

export function planMemory(g: Graph): MemoryPlan {
  const buffers = computeLiveness(g);
  const lb = lowerBound(buffers, g.nodes.length);
  const candidates = Object.entries(ALGORITHMS).map(([algorithm, run]) => {
    const offsets = run(buffers);
    return { algorithm, offsets, arenaBytes: arenaSize(buffers, offsets) };
  });
  const best = candidates.reduce((a, b) => (b.arenaBytes < a.arenaBytes ? b : a));
  return {
    algorithm: best.algorithm,
    arenaBytes: best.arenaBytes,
    lowerBound: lb.bytes,
    peakStep: lb.step,
    peakTensors: lb.live,
    placements: buffers.map((b) => ({ name: b.name, offset: best.offsets.get(b.name)!, size: b.size, bytes: b.bytes, first: b.first, last: b.last })),
    candidates: candidates.map(({ algorithm, arenaBytes }) => ({ algorithm, arenaBytes })),
  };
}

/** Pairs of placements that are live at the same time and overlap in memory (testing only, O(n^2)). */
export function findOverlaps(placements: readonly Placement[]): [string, string][] {
  const bad: [string, string][] = [];
  for (let i = 0; i < placements.length; i++) {
    for (let j = i + 1; j < placements.length; j++) {
      const a = placements[i]!;
      const b = placements[j]!;
      const time = a.first <= b.last && b.first <= a.last;
      const space = a.offset < b.offset + b.size && b.offset < a.offset + a.size;
      if (time && space) bad.push([a.name, b.name]);
    }
  }
  return bad;
}
