// Liveness over the schedule: for every tensor that lives in the arena, the first step that writes it
// and the last step that reads it. Graph inputs and outputs live in the caller's buffers and
// constants in flash, so they are not arena buffers.

import { nodeReads, tensorBytes, type Graph } from '../ir.ts';

export interface Buffer {
  name: string;
  /** Bytes, rounded up to the plan's alignment. */
  size: number;
  /** Bytes the tensor itself needs. */
  bytes: number;
  first: number;
  last: number;
}

export const ARENA_ALIGN = 16;

export const alignUp = (n: number, a: number = ARENA_ALIGN): number => Math.ceil(n / a) * a;

export function arenaTensors(g: Graph): string[] {
  const names: string[] = [];
  for (const node of g.nodes) {
    for (const o of node.outputs) if (!g.outputs.includes(o) && !names.includes(o)) names.push(o);
  }
  return names;
}

export function computeLiveness(g: Graph): Buffer[] {
  const buffers = new Map<string, Buffer>();
  const inArena = new Set(arenaTensors(g));
  g.nodes.forEach((node, step) => {
    for (const o of node.outputs) {
      if (!inArena.has(o) || buffers.has(o)) continue;
      const bytes = tensorBytes(g.tensors.get(o)!);
      buffers.set(o, { name: o, bytes, size: alignUp(Math.max(bytes, 1)), first: step, last: step });
    }
    for (const r of nodeReads(g, node)) {
      const b = buffers.get(r);
      if (b) b.last = Math.max(b.last, step);
    }
  });
  return [...buffers.values()];
}

export const overlapsInTime = (a: Buffer, b: Buffer): boolean => a.first <= b.last && b.first <= a.last;

/** The largest total size of buffers live at one step: no plan can use less arena. */
export function lowerBound(buffers: readonly Buffer[], steps: number): { bytes: number; step: number; live: string[] } {
  let best = { bytes: 0, step: 0, live: [] as string[] };
  for (let s = 0; s < steps; s++) {
    const live = buffers.filter((b) => b.first <= s && s <= b.last);
    const bytes = live.reduce((acc, b) => acc + b.size, 0);
    if (bytes > best.bytes) best = { bytes, step: s, live: live.map((b) => b.name) };
  }
  return best;
}
