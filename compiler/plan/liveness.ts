// Liveness over a schedule: for every arena buffer, the first step that writes it and the last step
// that reads it. Graph inputs and outputs live in the caller's buffers and constants in flash, so
// they are not arena buffers. Two kinds of buffer join the tensors:
//   - kernel scratch, live during its node's step only;
//   - in-place outputs: an output that overwrites an input (the op allows it and this step is the
//     input's last reader) records `inPlaceOf`; the input sits at the output's start, or at its end
//     (`inPlaceAtEnd`, for outputs larger than the input), and at that step the bytes they share
//     count once in the lower bound.

import type { Graph } from '../ir.ts';
import { problemFromGraph, type PlanProblem } from './problem.ts';

export interface Buffer {
  name: string;
  /** Bytes, rounded up to the plan's alignment. */
  size: number;
  /** Bytes the tensor itself needs. */
  bytes: number;
  first: number;
  last: number;
  /** state: a persistent buffer (the whole run, never written in place). */
  kind?: 'tensor' | 'scratch' | 'state';
  /** The buffer this one overwrites in place, handed over at step `first`. */
  inPlaceOf?: string;
  /** That buffer sits at the end of this one's bytes, not at its start. */
  inPlaceAtEnd?: boolean;
}

/** Where an overwritten buffer starts, relative to the output written over it. */
export function inPlaceShift(src: { bytes: number }, dst: { bytes: number; inPlaceAtEnd?: boolean }): number {
  return dst.inPlaceAtEnd ? alignUp(Math.max(0, dst.bytes - src.bytes)) : 0;
}

/** Bytes an in-place pair shares at the step where one is written over the other. */
export function handoverOverlap(src: { bytes: number; size: number }, dst: { bytes: number; size: number; inPlaceAtEnd?: boolean }): number {
  const rel = inPlaceShift(src, dst);
  return Math.max(0, Math.min(rel + src.size, dst.size) - rel);
}

const ARENA_ALIGN = 16;

export const alignUp = (n: number, a: number = ARENA_ALIGN): number => Math.ceil(n / a) * a;

export const scratchName = (step: string): string => `${step}:scratch`;

/** Buffers of `p` run in `order` (step indices; default: the problem's own order). */
export function buffersFor(
  p: PlanProblem,
  order: readonly number[] = p.steps.map((_, i) => i),
  opts: { inPlace?: boolean | InPlacePolicy; skip?: ReadonlySet<string> } = {},
): Buffer[] {
  const buffers = new Map<string, Buffer>();
  const out: Buffer[] = [];
  const add = (b: Buffer) => {
    buffers.set(b.name, b);
    out.push(b);
  };
  for (const name of p.persistent ?? []) {
    const bytes = p.tensors.get(name)!;
    add({ name, bytes, size: alignUp(Math.max(bytes, 1)), first: 0, last: Math.max(0, order.length - 1), kind: 'state' });
  }
  order.forEach((si, pos) => {
    const step = p.steps[si]!;
    for (const r of step.reads) {
      const b = buffers.get(r);
      if (b && b.kind !== 'state') b.last = pos;
    }
    for (const w of step.writes) {
      const bytes = p.tensors.get(w);
      if (bytes === undefined || buffers.has(w)) continue;
      add({ name: w, bytes, size: alignUp(Math.max(bytes, 1)), first: pos, last: pos, kind: 'tensor' });
    }
    if (step.scratch > 0) add({ name: scratchName(step.name), bytes: step.scratch, size: alignUp(step.scratch), first: pos, last: pos, kind: 'scratch' });
  });
  if (opts.inPlace) applyInPlace(p, order, buffers, opts.inPlace === true ? 'first' : opts.inPlace, opts.skip);
  return out;
}

/**
 * How in-place links are taken. A chain of buffers written over each other shares one block of
 * memory; an output over the end of its input sits below it, so a chain with several such links
 * would walk down through memory and its block would grow taller than anything live in it.
 *   'first'  links are taken in schedule order; one that would make its chain taller than both the
 *            chain was and the new pair is, is not taken (the output starts a new block);
 *   'cut'    such a link is taken, and the link that made its input part of the chain is dropped
 *            instead (the input starts a new block). The planner tries both.
 */
export type InPlacePolicy = 'first' | 'cut';

/** Mark in-place outputs: the input must be an arena buffer whose last reader is this step.
 * Outputs in `skip` are not written in place. */
function applyInPlace(p: PlanProblem, order: readonly number[], buffers: Map<string, Buffer>, policy: InPlacePolicy, skip?: ReadonlySet<string>): void {
  const delta = new Map<string, number>(); // offset within the chain's block
  const chain = new Map<string, { lo: number; hi: number }>(); // extent of the chain, shared object
  const startChain = (b: Buffer) => {
    const c = { lo: 0, hi: b.size };
    chain.set(b.name, c);
    delta.set(b.name, 0);
    return c;
  };
  order.forEach((si, pos) => {
    const claimed = new Set<string>();
    for (const { input, output, atEnd } of p.steps[si]!.inPlace) {
      const src = buffers.get(input);
      const dst = buffers.get(output);
      if (!src || !dst || src.kind !== 'tensor' || src.last !== pos || dst.first !== pos || skip?.has(output)) continue;
      if (claimed.has(input) || dst.inPlaceOf || (atEnd && dst.bytes < src.bytes)) continue;
      const shift = atEnd ? alignUp(dst.bytes - src.bytes) : 0;
      const pairHeight = Math.max(dst.size, shift + src.size);
      let c = chain.get(src.name) ?? startChain(src);
      let d = delta.get(src.name)! - shift;
      if (Math.max(c.hi, d + dst.size) - Math.min(c.lo, d) > Math.max(c.hi - c.lo, pairHeight)) {
        if (policy === 'first' || !src.inPlaceOf) continue;
        src.inPlaceOf = undefined; // src is the tail of its chain: cut it off and start anew
        src.inPlaceAtEnd = undefined;
        c = startChain(src);
        d = -shift;
      }
      c.lo = Math.min(c.lo, d);
      c.hi = Math.max(c.hi, d + dst.size);
      chain.set(dst.name, c);
      delta.set(dst.name, d);
      claimed.add(input);
      dst.inPlaceOf = input;
      if (atEnd) dst.inPlaceAtEnd = true;
    }
  });
}

/** Liveness of a graph in its node order, without in-place sharing. */
export function computeLiveness(g: Graph): Buffer[] {
  return buffersFor(problemFromGraph(g));
}

/** Bytes live at every step. The bytes an in-place pair shares at its handover step count once. */
export function liveBytesPerStep(buffers: readonly Buffer[], steps: number): number[] {
  const byName = new Map(buffers.map((b) => [b.name, b]));
  const live = new Array<number>(steps).fill(0);
  for (const b of buffers) {
    for (let s = b.first; s <= b.last; s++) live[s]! += b.size;
    const src = b.inPlaceOf ? byName.get(b.inPlaceOf) : undefined;
    if (src && src.first <= b.first && b.first <= src.last) live[b.first]! -= handoverOverlap(src, b);
  }
  return live;
}

/** The largest total size of buffers live at one step: no plan can use less arena. */
export function lowerBound(buffers: readonly Buffer[], steps: number): { bytes: number; step: number; live: string[] } {
  const perStep = liveBytesPerStep(buffers, steps);
  let step = 0;
  for (let s = 1; s < steps; s++) if (perStep[s]! > perStep[step]!) step = s;
  const bytes = perStep[step] ?? 0;
  return { bytes, step, live: bytes ? buffers.filter((b) => b.first <= step && step <= b.last).map((b) => b.name) : [] };
}
