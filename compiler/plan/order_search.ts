// Schedule search: the topological order of the steps that lowers the peak of live memory.
//
// With branches (residuals, attention heads, parallel convolutions, experts) the order decides what
// is live together. The memory after running a set S of steps depends on S only (what S produced
// that steps outside S still read), so the best order is a shortest-path problem over the sets of
// steps that can run first (the "downsets" of the graph), with cost = the highest step peak on the
// way. This runs it level by level (|S| = 0, 1, 2, ...), merging paths that reach the same set.
// Wide graphs have too many sets; past `beamWidth` sets per level only the best ones (lowest peak,
// then fewest live bytes) are kept and the result is no longer proven optimal.
//
// The step peak counts exactly what liveness.ts counts: live tensors, the step's outputs and scratch,
// with an in-place pair counted once; so the search's peak is the plan's lower bound.

import { alignUp, buffersFor, handoverOverlap, lowerBound } from './liveness.ts';
import type { PlanProblem } from './problem.ts';

export interface OrderSearchResult {
  /** Step indices in run order. */
  order: number[];
  /** The peak of live bytes of `order`. */
  peak: number;
  /** The peak of the problem's own order. */
  originalPeak: number;
  /** True when no level was cut to the beam: `peak` is the least any order can reach. */
  exact: boolean;
  states: number;
}

export interface OrderSearchOptions {
  inPlace?: boolean;
  beamWidth?: number;
  timeLimitMs?: number;
}

interface State {
  done: bigint;
  live: number;
  peak: number;
  parent: State | null;
  step: number;
}

/** The peak of live bytes of `order` (the lower bound of its plans). */
export function peakOfOrder(p: PlanProblem, order: readonly number[], inPlace: boolean): number {
  return lowerBound(buffersFor(p, order, { inPlace }), order.length).bytes;
}

export function searchOrder(p: PlanProblem, opts: OrderSearchOptions = {}): OrderSearchResult {
  const n = p.steps.length;
  const inPlace = opts.inPlace ?? true;
  const identity = p.steps.map((_, i) => i);
  const originalPeak = peakOfOrder(p, identity, inPlace);
  const beamWidth = opts.beamWidth ?? 2000;
  const deadline = performance.now() + (opts.timeLimitMs ?? 2000);

  // Tensors as small integers; sizes aligned as the planner aligns them.
  const producer = new Map<string, number>();
  p.steps.forEach((s, i) => s.writes.forEach((w) => producer.set(w, i)));
  const tid = new Map<string, number>();
  const size: number[] = [];
  const bytesOf: number[] = [];
  for (const [name, bytes] of p.tensors) {
    tid.set(name, size.length);
    size.push(alignUp(Math.max(bytes, 1)));
    bytesOf.push(bytes);
  }
  const bit = (i: number) => 1n << BigInt(i);
  const consumers = size.map(() => 0n);
  const deps: bigint[] = p.steps.map(() => 0n);
  const reads: number[][] = [];
  const writes: number[][] = [];
  p.steps.forEach((s, i) => {
    const r = new Set<number>();
    for (const name of s.reads) {
      const pr = producer.get(name);
      if (pr !== undefined && pr !== i) deps[i]! |= bit(pr);
      const t = tid.get(name);
      if (t !== undefined) {
        r.add(t);
        consumers[t]! |= bit(i);
      }
    }
    reads.push([...r]);
    writes.push(s.writes.map((w) => tid.get(w)).filter((t): t is number => t !== undefined));
  });
  const inPlacePairs = p.steps.map((s) =>
    s.inPlace
      .map(({ input, output, atEnd }) => ({ input: tid.get(input), output: tid.get(output), atEnd: atEnd ?? false }))
      .filter((x): x is { input: number; output: number; atEnd: boolean } => x.input !== undefined && x.output !== undefined),
  );

  /** Running step i after `done`: the step's peak and the live bytes after it. */
  const advance = (done: bigint, live: number, i: number): { stepPeak: number; live: number } => {
    const after = done | bit(i);
    const scratch = p.steps[i]!.scratch;
    let stepPeak = live + (scratch > 0 ? alignUp(scratch) : 0);
    let nextLive = live;
    for (const w of writes[i]!) {
      stepPeak += size[w]!;
      if (consumers[w]! !== 0n) nextLive += size[w]!;
    }
    const lastRead = new Set<number>();
    for (const t of reads[i]!) {
      if ((consumers[t]! & ~after) === 0n) {
        lastRead.add(t);
        nextLive -= size[t]!;
      }
    }
    if (inPlace) {
      const claimed = new Set<number>();
      const aliased = new Set<number>();
      for (const { input, output, atEnd } of inPlacePairs[i]!) {
        if (!lastRead.has(input) || claimed.has(input) || aliased.has(output) || (atEnd && bytesOf[output]! < bytesOf[input]!)) continue;
        claimed.add(input);
        aliased.add(output);
        stepPeak -= handoverOverlap({ bytes: bytesOf[input]!, size: size[input]! }, { bytes: bytesOf[output]!, size: size[output]!, inPlaceAtEnd: atEnd });
      }
    }
    return { stepPeak, live: nextLive };
  };

  let level = new Map<bigint, State>([[0n, { done: 0n, live: 0, peak: 0, parent: null, step: -1 }]]);
  let exact = true;
  let states = 1;
  for (let k = 0; k < n; k++) {
    const next = new Map<bigint, State>();
    for (const s of level.values()) {
      for (let i = 0; i < n; i++) {
        const b = bit(i);
        if ((s.done & b) !== 0n || (deps[i]! & ~s.done) !== 0n) continue;
        const { stepPeak, live } = advance(s.done, s.live, i);
        const peak = Math.max(s.peak, stepPeak);
        if (peak > originalPeak) continue; // the file order already does at least this well
        const done = s.done | b;
        const have = next.get(done);
        if (!have || peak < have.peak) next.set(done, { done, live, peak, parent: s, step: i });
      }
    }
    states += next.size;
    let kept = [...next.values()];
    const width = performance.now() > deadline ? Math.min(beamWidth, 16) : beamWidth;
    if (kept.length > width) {
      exact = false;
      kept = kept.sort((a, b) => a.peak - b.peak || a.live - b.live).slice(0, width);
    }
    if (kept.length === 0) return { order: identity, peak: originalPeak, originalPeak, exact: false, states };
    level = new Map(kept.map((s) => [s.done, s]));
  }
  const end = [...level.values()].reduce((a, b) => (b.peak < a.peak ? b : a));
  const order: number[] = [];
  for (let s: State | null = end; s && s.step >= 0; s = s.parent) order.push(s.step);
  order.reverse();
  // Keep the file order unless the search found a strictly lower peak.
  if (end.peak >= originalPeak) return { order: identity, peak: originalPeak, originalPeak, exact, states };
  return { order, peak: end.peak, originalPeak, exact, states };
}
