// Exact offset assignment by branch and bound, for plans of up to ~40 blocks.
//
// Why searching placement orders is enough: take any optimal plan and place its blocks, lowest
// offset first, each at the lowest offset that clears the blocks already placed. No block ends
// higher than in the optimal plan (every block below it only moved down), so first fit over the
// right order is optimal, and the search is over orders. The search:
//   - starts from the best heuristic plan (the incumbent) and stops at once if that meets the lower
//     bound (the most bytes live at one step);
//   - bounds a partial plan by the current height, by each unplaced block's first-fit offset plus
//     its height (placing more blocks only pushes a block's lowest offset up), and step by step by
//     the gaps the placed buffers leave: a buffer larger than every gap below the top of a step
//     must go above it, and so must the bytes the usable gaps cannot hold;
//   - never explores both orders of two consecutive blocks that do not conflict (they place the
//     same either way), only the one with the smaller id first;
//   - tries the block that would end lowest first, so good plans come early;
//   - stops after a number of nodes (or a time limit, as a safety net) and reports what it proved:
//     optimal, or a gap to the best lower bound.
// The argument needs blocks that stack (one wholly above the other); a block whose input sits at
// the end of a larger output has a shape another block could nest in, and then a finished search
// is the best first-fit order, not a proven optimum (Layout.stackable says which).

import { heightOf, lowestOffset, type Layout } from './blocks.ts';

export interface ExactResult {
  offsets: Int32Array;
  height: number;
  /** True when the search proved `height` optimal. */
  optimal: boolean;
  /** The best proven lower bound on the height (== height when optimal). */
  bound: number;
  nodes: number;
  timedOut: boolean;
}

export interface ExactOptions {
  /** Search nodes before giving up (default 50,000): a count, so plans do not depend on the machine. */
  nodeLimit?: number;
  /** A wall-clock limit for tests that raise the node limit (default: none, so that a plan never
   * depends on how fast or busy the machine is). */
  timeLimitMs?: number;
  /** Above this many blocks the search is not attempted (the result is the incumbent). */
  maxBlocks?: number;
  /** Only plans lower than this are of use (another plan already reaches it): branches that cannot
   * get under it are cut. A search that finds none returns the incumbent, not proven optimal. */
  below?: number;
}

export const EXACT_MAX_BLOCKS = 40;

export function branchAndBound(L: Layout, incumbent: { offsets: Int32Array; height: number }, opts: ExactOptions = {}): ExactResult {
  let best = Math.min(incumbent.height, opts.below ?? Infinity);
  let bestOffsets = Int32Array.from(incumbent.offsets);
  let found = best === incumbent.height; // an incumbent under `below`, or a plan the search found
  const staticBound = L.lowerBound;
  if (incumbent.height <= staticBound)
    return { offsets: bestOffsets, height: incumbent.height, optimal: true, bound: incumbent.height, nodes: 0, timedOut: false };
  if (best <= staticBound) return { offsets: bestOffsets, height: incumbent.height, optimal: false, bound: staticBound, nodes: 0, timedOut: false };
  if (L.n > (opts.maxBlocks ?? EXACT_MAX_BLOCKS))
    return { offsets: bestOffsets, height: incumbent.height, optimal: false, bound: staticBound, nodes: 0, timedOut: false };
  // The root's bound is a bound on every plan only when first-fit orders cover every plan.
  const rootBoundIsProof = L.stackable;

  const n = L.n;
  const sizes = L.blocks.map((b) => b.size);
  const offsets = new Int32Array(n).fill(-1);
  const deadline = performance.now() + (opts.timeLimitMs ?? Infinity);
  const nodeLimit = opts.nodeLimit ?? 50_000;
  let nodes = 0;
  let timedOut = false;
  let rootBound = staticBound;

  const conflicts = (a: number, b: number) => L.conflict[a * n + b] === 1;
  // Per step, the blocks live there and their members' spans [d, d + size) within the block. The
  // members of an in-place chain overlap where one is written over another, so a block's need at a
  // step is the union of its spans, not their sum.
  const atStep: { b: number; spans: [number, number][]; union: number; largest: number }[][] = Array.from({ length: L.steps }, () => []);
  for (const B of L.blocks) {
    for (let s = B.first; s <= B.last; s++) {
      const spans = B.members
        .filter((m) => m.first <= s && s <= m.last)
        .map((m): [number, number] => [L.delta.get(m.name)!, L.delta.get(m.name)! + m.size])
        .sort((x, y) => x[0] - y[0]);
      if (!spans.length) continue;
      let union = 0;
      let reach = -Infinity;
      for (const [lo, hi] of spans) {
        union += Math.max(0, hi - Math.max(lo, reach));
        reach = Math.max(reach, hi);
      }
      atStep[s]!.push({ b: B.id, spans, union, largest: Math.max(...spans.map(([lo, hi]) => hi - lo)) });
    }
  }

  /** The gap bound over all steps (see the header); only valid when blocks stack. */
  function gapBound(): number {
    let bound = 0;
    const iv: [number, number][] = [];
    const waiting: (typeof atStep)[number] = [];
    for (const members of atStep) {
      iv.length = 0;
      waiting.length = 0;
      for (const m of members) {
        const o = offsets[m.b]!;
        if (o >= 0) for (const [lo, hi] of m.spans) iv.push([o + lo, o + hi]);
        else waiting.push(m);
      }
      if (!waiting.length) continue;
      iv.sort((x, y) => x[0] - y[0]);
      const gaps: number[] = [];
      let top = 0;
      for (const [lo, hi] of iv) {
        if (lo > top) gaps.push(lo - top);
        top = Math.max(top, hi);
      }
      // A gap narrower than every member span holds nothing; a block whose largest span fits no
      // gap puts at least that span above the top.
      const smallest = Math.min(...waiting.flatMap((w) => w.spans.map(([lo, hi]) => hi - lo)));
      const largestGap = gaps.length ? Math.max(...gaps) : 0;
      let tooBig = 0;
      let total = 0;
      for (const w of waiting) {
        total += w.union;
        if (w.largest > largestGap) tooBig += w.largest;
      }
      const usable = gaps.reduce((a, g) => a + (g >= smallest ? g : 0), 0);
      bound = Math.max(bound, top + Math.max(tooBig, total - usable));
    }
    return bound;
  }

  function dfs(placed: number, height: number, last: number): void {
    if (timedOut) return;
    if (++nodes > nodeLimit || (nodes % 1024 === 0 && performance.now() > deadline)) {
      timedOut = true;
      return;
    }
    if (placed === n) {
      if (height < best) {
        best = height;
        bestOffsets = Int32Array.from(offsets);
        found = true;
      }
      return;
    }
    // First-fit offsets of every unplaced block, and the bound they give.
    const cand: { b: number; at: number; top: number }[] = [];
    let bound = Math.max(height, staticBound);
    for (let b = 0; b < n; b++) {
      if (offsets[b]! >= 0) continue;
      const at = lowestOffset(L, b, offsets);
      const top = at + sizes[b]!;
      bound = Math.max(bound, top);
      cand.push({ b, at, top });
    }
    if (bound < best && L.stackable) bound = Math.max(bound, gapBound());
    if (placed === 0) rootBound = bound;
    if (bound >= best) return;
    cand.sort((x, y) => x.top - y.top || sizes[y.b]! - sizes[x.b]! || x.b - y.b);
    for (const { b, at, top } of cand) {
      if (last >= 0 && b < last && !conflicts(last, b)) continue; // explored as (b, last)
      offsets[b] = at;
      dfs(placed + 1, Math.max(height, top), b);
      offsets[b] = -1;
      if (best <= bound || timedOut) return; // nothing below this node's bound exists
    }
  }

  dfs(0, 0, -1);
  const height = heightOf(L, bestOffsets);
  // A completed search finds the best first-fit order, which is optimal when blocks cannot nest;
  // one cut at `below` that found nothing proves only that nothing lies under `below`.
  const optimal = found && !timedOut && (L.stackable || height <= staticBound);
  return { offsets: bestOffsets, height, optimal, bound: optimal ? height : rootBoundIsProof ? Math.min(height, rootBound) : staticBound, nodes, timedOut };
}
