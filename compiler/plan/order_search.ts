// Schedule search: the topological order of the steps that lowers the peak of live memory.
//
// With branches (residuals, attention heads, parallel convolutions, experts) the order decides what
// is live together. The memory after running a set S of steps depends on S only (what S produced
// that steps outside S still read), so the best order is a shortest-path problem over the sets of
// steps that can run first (the "downsets" of the graph), with cost = the highest step peak on the
// way. This runs it level by level (|S| = 0, 1, 2, ...), merging paths that reach the same set.
// Wide graphs have too many sets; past `beamWidth` sets per level only the most promising are kept
// (lowest of: the peak so far, or live bytes plus the largest step still to run; then the peak, the
// memory-time area, the live bytes) and the result is no longer proven optimal.
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
  /** The distinct orders considered (file order, greedy, search), for the planner to try. */
  candidates: { order: number[]; peak: number }[];
}

export interface OrderSearchOptions {
  inPlace?: boolean;
  /** Sets kept per level once a level has more (default 128). */
  beamWidth?: number;
  /** Transitions examined before the beam narrows to 32 sets per level, so that wide graphs
   * finish in bounded time; a count rather than a clock, so plans do not depend on the machine. */
  budget?: number;
}

interface State {
  /** Which steps have run, one bit each. */
  done: Uint32Array;
  /** Per tensor: readers that have not run yet. */
  remaining: Uint16Array;
  live: number;
  peak: number;
  /** Sum of the step peaks so far: among orders with the same peak, the one that holds less for
   * less time (finishing branches before starting others) packs better. */
  area: number;
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
  const beamWidth = opts.beamWidth ?? 128;
  const budget = opts.budget ?? 600_000;
  const words = Math.ceil(n / 32);
  let transitions = 0;

  // Tensors as small integers; sizes aligned as the planner aligns them.
  const producer = new Map<string, number>();
  p.steps.forEach((st, i) => st.writes.forEach((w) => producer.set(w, i)));
  const tid = new Map<string, number>();
  const size: number[] = [];
  const bytesOf: number[] = [];
  for (const [name, bytes] of p.tensors) {
    tid.set(name, size.length);
    size.push(alignUp(Math.max(bytes, 1)));
    bytesOf.push(bytes);
  }
  const readers = new Uint16Array(size.length);
  const deps: number[][] = [];
  const reads: number[][] = [];
  const writes: number[][] = [];
  p.steps.forEach((st, i) => {
    const r = new Set<number>();
    const d = new Set<number>();
    for (const name of st.reads) {
      const pr = producer.get(name);
      if (pr !== undefined && pr !== i) d.add(pr);
      const t = tid.get(name);
      if (t !== undefined) r.add(t);
    }
    for (const t of r) readers[t]!++;
    deps.push([...d]);
    reads.push([...r]);
    writes.push(st.writes.map((w) => tid.get(w)).filter((t): t is number => t !== undefined));
  });
  const inPlacePairs = p.steps.map((st) =>
    st.inPlace
      .map(({ input, output, atEnd }) => ({ input: tid.get(input), output: tid.get(output), atEnd: atEnd ?? false }))
      .filter((x): x is { input: number; output: number; atEnd: boolean } => x.input !== undefined && x.output !== undefined),
  );
  const has = (done: Uint32Array, i: number) => (done[i >>> 5]! & (1 << (i & 31))) !== 0;
  // What each step adds while it runs (outputs and scratch): a big step is best run when little
  // else is live, so states are also ranked by live + the largest step still to run.
  const adds = p.steps.map((st, i) => writes[i]!.reduce((a, w) => a + size[w]!, 0) + (st.scratch > 0 ? alignUp(st.scratch) : 0));
  const outlook = (s: State) => {
    let m = 0;
    for (let i = 0; i < n; i++) if (!has(s.done, i) && adds[i]! > m) m = adds[i]!;
    return Math.max(s.peak, s.live + m);
  };
  const ready = (s: State, i: number) => !has(s.done, i) && deps[i]!.every((d) => has(s.done, d));

  /** Running step i from state s: the step's peak and the live bytes after it. */
  const advance = (s: State, i: number): { stepPeak: number; live: number } => {
    const scratch = p.steps[i]!.scratch;
    let stepPeak = s.live + (scratch > 0 ? alignUp(scratch) : 0);
    let live = s.live;
    for (const w of writes[i]!) {
      stepPeak += size[w]!;
      if (readers[w]! > 0) live += size[w]!;
    }
    for (const t of reads[i]!) if (s.remaining[t] === 1) live -= size[t]!;
    if (inPlace && inPlacePairs[i]!.length) {
      const claimed: number[] = [];
      const aliased: number[] = [];
      for (const { input, output, atEnd } of inPlacePairs[i]!) {
        if (s.remaining[input] !== 1 || claimed.includes(input) || aliased.includes(output) || (atEnd && bytesOf[output]! < bytesOf[input]!)) continue;
        claimed.push(input);
        aliased.push(output);
        stepPeak -= handoverOverlap({ bytes: bytesOf[input]!, size: size[input]! }, { bytes: bytesOf[output]!, size: size[output]!, inPlaceAtEnd: atEnd });
      }
    }
    return { stepPeak, live };
  };
  const child = (s: State, i: number, live: number, peak: number, area: number): State => {
    const done = Uint32Array.from(s.done);
    done[i >>> 5]! |= 1 << (i & 31);
    const remaining = Uint16Array.from(s.remaining);
    for (const t of reads[i]!) remaining[t]!--;
    return { done, remaining, live, peak, area, parent: s, step: i };
  };
  const root: State = { done: new Uint32Array(words), remaining: Uint16Array.from(readers), live: 0, peak: 0, area: 0, parent: null, step: -1 };

  // A greedy order first: run the ready step that keeps the peak and then the live bytes lowest,
  // preferring one that reads what the previous step wrote (finish a branch before starting the
  // next). Its peak bounds the search.
  const greedy: number[] = [];
  for (let s = root, k = 0; k < n; k++) {
    let best: { i: number; peak: number; live: number; follows: boolean; outlook: number; next: State } | undefined;
    for (let i = 0; i < n; i++) {
      if (!ready(s, i)) continue;
      const a = advance(s, i);
      const next = child(s, i, a.live, Math.max(s.peak, a.stepPeak), 0);
      const cand = { i, peak: next.peak, live: a.live, follows: s.step >= 0 && deps[i]!.includes(s.step), outlook: outlook(next), next };
      const better =
        !best ||
        cand.outlook < best.outlook ||
        (cand.outlook === best.outlook &&
          (cand.peak < best.peak || (cand.peak === best.peak && (cand.live < best.live || (cand.live === best.live && cand.follows && !best.follows)))));
      if (better) best = cand;
    }
    greedy.push(best!.i);
    s = best!.next;
  }
  const greedyPeak = peakOfOrder(p, greedy, inPlace);
  const upper = Math.min(originalPeak, greedyPeak);

  let level = new Map<string, State>([['', root]]);
  let exact = true;
  let states = 1;
  for (let k = 0; k < n; k++) {
    const next = new Map<string, State>();
    for (const s of level.values()) {
      for (let i = 0; i < n; i++) {
        if (!ready(s, i)) continue;
        transitions++;
        const { stepPeak, live } = advance(s, i);
        const peak = Math.max(s.peak, stepPeak);
        if (peak > upper) continue; // the file order or the greedy order already does at least this well
        s.done[i >>> 5]! |= 1 << (i & 31);
        const key = s.done.join(',');
        s.done[i >>> 5]! &= ~(1 << (i & 31));
        const area = s.area + stepPeak;
        const have = next.get(key);
        if (!have || peak < have.peak || (peak === have.peak && area < have.area)) next.set(key, child(s, i, live, peak, area));
      }
    }
    states += next.size;
    let kept = [...next.entries()];
    const width = transitions > budget ? Math.min(beamWidth, 32) : beamWidth;
    if (kept.length > width) {
      exact = false;
      const key = new Map(kept.map(([k, s]) => [k, outlook(s)]));
      kept = kept.sort((a, b) => key.get(a[0])! - key.get(b[0])! || a[1].peak - b[1].peak || a[1].area - b[1].area || a[1].live - b[1].live).slice(0, width);
    }
    if (kept.length === 0) break; // the beam lost every path at or under the bound
    level = new Map(kept);
  }
  const candidates = [
    { order: identity, peak: originalPeak },
    { order: greedy, peak: greedyPeak },
  ];
  const ends = [...level.values()].filter((s) => s.parent !== null && identity.every((i) => has(s.done, i)));
  if (ends.length) {
    const end = ends.reduce((a, b) => (b.peak < a.peak || (b.peak === a.peak && b.area < a.area) ? b : a));
    const order: number[] = [];
    for (let s: State | null = end; s && s.step >= 0; s = s.parent) order.push(s.step);
    candidates.push({ order: order.reverse(), peak: end.peak });
  } else if (n > 0) exact = false;
  // Last, so that on ties the search's own orders are kept.
  const dfs = depthFirstOrders(
    deps,
    writes.map((ws) => ws.reduce((a, w) => a + size[w]!, 0)),
    adds,
  );
  candidates.push(...dfs.map((order) => ({ order, peak: peakOfOrder(p, order, inPlace) })));
  // The lowest peak; the file order on ties, so that a file already in a good order keeps it.
  const best = candidates.reduce((a, b) => (b.peak < a.peak ? b : a));
  const distinct = candidates.filter((c, i) => candidates.findIndex((d) => d.order.every((x, j) => x === c.order[j])) === i);
  return { order: best.order, peak: best.peak, originalPeak, exact, states, candidates: distinct };
}

/**
 * Orders that finish one branch before starting the next: a depth-first walk back from the steps
 * nothing reads, emitting each step once its dependencies are emitted (post-order), so every step
 * runs as late as its first reader allows. The level-by-level search ranks sets by what is live
 * now and can keep a wide graph breadth first (every expert's gather before the first expert),
 * while these orders keep one branch's tensors live at a time. Three orders of the dependencies:
 * as the step reads them, the reverse, and Liu's rule for trees (the dependency whose subtree
 * peaks highest above what it leaves behind first; J. W. H. Liu, "An application of generalized
 * tree pebbling to sparse matrix factorization", 1987). `out[i]`: bytes step i leaves for its
 * readers; `adds[i]`: bytes it needs while it runs (outputs and scratch). Shared dependencies make
 * the graph no tree, so the rule is a heuristic here; the planner judges the orders by their peak.
 */
export function depthFirstOrders(deps: readonly (readonly number[])[], out?: readonly number[], adds?: readonly number[]): number[][] {
  const n = deps.length;
  const readers = new Uint16Array(n);
  for (const ds of deps) for (const d of ds) readers[d]!++;
  const sinks = deps.map((_, i) => i).filter((i) => !readers[i]);
  const orders: (readonly (readonly number[])[])[] = [deps, deps.map((ds) => [...ds].reverse())];
  if (out && adds) {
    // need[i]: the peak of running i's subtree alone, its dependencies in Liu's order (steps are
    // topological, so dependencies come first). A dependency with other readers is no part of the
    // subtree (it is live for them anyway): it counts nothing and runs first.
    const own = (d: number) => readers[d] === 1;
    const key = (d: number) => (own(d) ? need[d]! - out[d]! : Infinity);
    const need: number[] = [];
    const liu = deps.map((ds, i) => {
      const sorted = [...ds].sort((a, b) => (key(a) === key(b) ? 0 : key(b) > key(a) ? 1 : -1));
      let held = 0;
      let peak = 0;
      for (const d of sorted.filter(own)) {
        peak = Math.max(peak, held + need[d]!);
        held += out[d]!;
      }
      need.push(Math.max(peak, held + adds[i]!));
      return sorted;
    });
    orders.push(liu);
  }
  return orders.map((depsInOrder) => {
    const seen = new Uint8Array(n);
    const order: number[] = [];
    for (const sink of sinks) {
      // An explicit stack (step, next dependency to visit): deep chains would overflow recursion.
      const stack: [number, number][] = [[sink, 0]];
      seen[sink] = 1;
      while (stack.length) {
        const top = stack[stack.length - 1]!;
        const ds = depsInOrder[top[0]]!;
        if (top[1] < ds.length) {
          const d = ds[top[1]]!;
          top[1]++;
          if (!seen[d]) {
            seen[d] = 1;
            stack.push([d, 0]);
          }
        } else {
          order.push(top[0]);
          stack.pop();
        }
      }
    }
    return order;
  });
}
