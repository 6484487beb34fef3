// The memory planner: choose the schedule, in-place sharing and offsets that give the smallest arena.
//
//   1. schedule   the file order, and the orders that search (order_search.ts) finds: the beam
//                 search's lowest peak, a greedy order and depth-first orders (one branch at a time);
//   2. in place   with and without the in-place sharing ops allow (liveness.ts);
//   3. offsets    for each of those configurations, the greedy heuristics of algorithms.ts, cheapest
//                 first, stopping as soon as one meets the lower bound (the most bytes live at one step);
//   4. improve    first the configuration of the lowest peak, when that is under the best arena (the
//                 greedy heuristics can pack a good order badly); then, if the best configuration
//                 misses its bound, refine its order by the arena it packs to (order_refine.ts: a
//                 descent, then a seeded walk, which may pick an order of higher peak when it packs
//                 smaller); each candidate that can still win gets USMP's hill climb (restarted from
//                 several placement orders and seeds, within a work count), then branch and bound
//                 (exact.ts), which proves the plan optimal or improves it within a node limit; the
//                 plan records the gap it could not close.
// Ties keep the file order and prefer in-place sharing. Every candidate's arena is kept for reports.

import type { Graph } from '../ir.ts';
import type { TargetDesc } from '../targets.ts';
import { GREEDY, HEURISTICS, hillClimb, hillClimbRestarts, linear, tflmGreedyBySize, type AlgorithmResult } from './algorithms.ts';
import { makeLayout, offsetsByName, type Layout } from './blocks.ts';
import { branchAndBound, EXACT_MAX_BLOCKS, type ExactResult } from './exact.ts';
import { buffersFor, handoverOverlap, inPlaceShift, liveBytesPerStep, type Buffer, type InPlacePolicy } from './liveness.ts';
import { refineOrder } from './order_refine.ts';
import { searchOrder } from './order_search.ts';
import { problemFromGraph, type PlanProblem } from './problem.ts';

export interface Placement {
  name: string;
  offset: number;
  size: number;
  bytes: number;
  first: number;
  last: number;
  kind: 'tensor' | 'scratch' | 'state';
  /** This buffer overwrites that one in place at step `first`: same offset, or (`inPlaceAtEnd`)
   * that one sits at the end of this one's bytes. */
  inPlaceOf?: string;
  inPlaceAtEnd?: boolean;
}

export interface MemoryPlan {
  algorithm: string;
  arenaBytes: number;
  /** The most bytes live at one step under the chosen schedule: no plan of it can be smaller. */
  lowerBound: number;
  /** The step where live memory peaks, and what is live there. */
  peakStep: number;
  peakTensors: string[];
  placements: Placement[];
  /** Every algorithm's arena on the chosen schedule, and its time. */
  candidates: { algorithm: string; arenaBytes: number; ms: number }[];
  /** Run order as indices into the original steps; `changed` when it differs from the file order. */
  schedule: { order: number[]; changed: boolean; originalPeak: number; peak: number; searchExact: boolean };
  /** The in-place policy the plan uses (false: none), how many outputs overwrite their input, and
   * the outputs the policy would write in place that the plan does not (`buffersFor`'s `skip`). */
  inPlace: { used: false | InPlacePolicy; pairs: number; skipped: string[] };
  /** True when the arena is proven minimal for the schedule (it meets the bound, or search proved it). */
  optimal: boolean;
  /** The best proven lower bound on the arena for this schedule (>= lowerBound). */
  provenBound: number;
  /** TFLite Micro's greedy-by-size on the file order without in-place sharing: the comparison. */
  tflmBytes: number;
}

export interface PlanOptions {
  /** Search for a better schedule (default true). */
  schedule?: boolean;
  /** Allow in-place sharing (default true). */
  inPlace?: boolean;
  /** Node limit of the exact search per plan (default 50,000; see exact.ts). */
  exactNodeLimit?: number;
  /** Run every heuristic even after one meets the bound (benchmarks). */
  allAlgorithms?: boolean;
}

/** Evaluations of the order refinement's descent (order_refine.ts); the walk gets the rest. */
const REFINE_DESCENT = 200;

/** Work of the hill climbs (all restarts together; see HillClimbOptions) on a configuration short of its bound. */
const HILL_CLIMB_WORK = 10_000_000;

interface Config {
  order: number[];
  inPlace: false | InPlacePolicy;
  buffers: Buffer[];
  layout: Layout;
  best: AlgorithmResult & { algorithm: string };
  candidates: { algorithm: string; arenaBytes: number; ms: number }[];
  /** In-place links not taken (outputs), see peakOnlySkips. */
  skip?: Set<string>;
  /** Branch and bound's result, once the configuration was improved. */
  exact?: ExactResult;
}

function runHeuristics(order: number[], inPlace: false | InPlacePolicy, p: PlanProblem, all: boolean, skip?: Set<string>): Config {
  const buffers = buffersFor(p, order, { inPlace, skip });
  const layout = makeLayout(buffers, order.length);
  const candidates: Config['candidates'] = [];
  let best: Config['best'] | undefined;
  for (const h of all ? HEURISTICS : GREEDY) {
    const t0 = performance.now();
    const r = h.run(layout);
    candidates.push({ algorithm: h.name, arenaBytes: r.height, ms: performance.now() - t0 });
    if (!best || r.height < best.height) best = { ...r, algorithm: h.name };
    if (!all && best.height <= layout.lowerBound) break;
  }
  const lin = linear(layout);
  candidates.push({ algorithm: 'linear', arenaBytes: lin.height, ms: 0 });
  if (!best) best = { ...lin, algorithm: 'linear' }; // no heuristics: cannot happen, keeps types honest
  return { order, inPlace, buffers, layout, best, candidates, ...(skip ? { skip } : {}) };
}

/**
 * The in-place links a configuration can do without: those whose shared bytes, counted twice, keep
 * their step at or under the configuration's lower bound. A link pins its output where its input
 * was, so a small long-lived output (a quantised tensor read much later) stays where a large
 * short-lived buffer sat; away from the peak, packing it freely costs nothing and often packs
 * better. Longest-lived outputs are dropped first.
 */
function peakOnlySkips(c: Config): Set<string> {
  const live = liveBytesPerStep(c.buffers, c.order.length);
  const byName = new Map(c.buffers.map((b) => [b.name, b]));
  const skip = new Set<string>();
  const linked = c.buffers.filter((b) => b.inPlaceOf).sort((a, b) => b.last - b.first - (a.last - a.first) || (a.name < b.name ? -1 : 1));
  for (const b of linked) {
    const extra = handoverOverlap(byName.get(b.inPlaceOf!)!, b);
    if (live[b.first]! + extra > c.layout.lowerBound) continue;
    live[b.first]! += extra;
    skip.add(b.name);
  }
  return skip;
}

export function planProblem(p: PlanProblem, opts: PlanOptions = {}): MemoryPlan {
  const identity = p.steps.map((_, i) => i);
  const allowInPlace = opts.inPlace ?? true;
  const search = opts.schedule === false ? undefined : searchOrder(p, { inPlace: allowInPlace });
  // Every distinct order the search considered: the lowest peak does not always pack best.
  const orders = search ? search.candidates.map((c) => c.order) : [identity];
  orders[0] = identity;
  // In-place policies (liveness.ts): 'cut' differs from 'first' only where outputs go over the end.
  const policies: (false | InPlacePolicy)[] = !allowInPlace
    ? [false]
    : p.steps.some((s) => s.inPlace.some((x) => x.atEnd))
      ? ['first', 'cut', false]
      : ['first', false];
  const configs: Config[] = [];
  for (const order of orders) for (const ip of policies) configs.push(runHeuristics(order, ip, p, opts.allAlgorithms ?? false));
  let chosen = configs.reduce((a, b) => (b.best.height < a.best.height ? b : a));

  const all = opts.allAlgorithms ?? false;
  /** Hill climb (USMP), then branch and bound (exact.ts), on a configuration short of its bound. */
  const improve = (f: Config, below?: number): void => {
    if (f.best.height > f.layout.lowerBound && !all) {
      const t = performance.now();
      // Restarts where branch and bound cannot follow (exact.ts); one climb where it can.
      const hc = f.layout.n > EXACT_MAX_BLOCKS ? hillClimbRestarts(f.layout, HILL_CLIMB_WORK) : hillClimb(f.layout);
      f.candidates.push({ algorithm: 'usmp-hill-climb', arenaBytes: hc.height, ms: performance.now() - t });
      if (hc.height < f.best.height) f.best = { ...hc, algorithm: 'usmp-hill-climb' };
    }
    const t0 = performance.now();
    const e = branchAndBound(f.layout, f.best, { nodeLimit: opts.exactNodeLimit, below });
    f.candidates.push({ algorithm: 'branch-and-bound', arenaBytes: e.height, ms: performance.now() - t0 });
    if (e.height < f.best.height) f.best = { offsets: e.offsets, height: e.height, algorithm: 'branch-and-bound' };
    f.exact = e;
  };
  // The smallest arena; on a tie, the one nearer its bound.
  const gap = (c: Config) => c.best.height - c.layout.lowerBound;
  const better = (f: Config, than: Config) => f.best.height < than.best.height || (f.best.height === than.best.height && gap(f) < gap(than));
  /** A configuration whose bound is above the best arena so far cannot win: not worth improving. */
  const hopeless = (f: Config) => f.layout.lowerBound > chosen.best.height || (f.layout.lowerBound === chosen.best.height && gap(chosen) === 0);

  // The configuration of the lowest peak, when that is under the best arena, is improved first: the
  // greedy heuristics may pack it badly (a depth-first order of a wide graph) where the hill climbs
  // do not, and once it meets its bound no other configuration can do better.
  const lowest = configs.reduce((a, b) =>
    b.layout.lowerBound < a.layout.lowerBound || (b.layout.lowerBound === a.layout.lowerBound && b.best.height < a.best.height) ? b : a,
  );
  if (lowest.layout.lowerBound < chosen.best.height) {
    // Branch and bound only looks for plans under the chosen one's.
    improve(lowest, lowest === chosen ? undefined : chosen.best.height);
    if (better(lowest, chosen)) chosen = lowest;
  }

  // Short of its bound: refine the order by the arena it packs to (order_refine.ts); then improve
  // the candidates that can still win.
  const finalists = [chosen];
  if (chosen.best.height > chosen.layout.lowerBound && opts.schedule !== false) {
    const start = chosen;
    const policy = start.inPlace;
    // Evaluations (each builds a layout and packs it): about 2e6 / steps^2 so that large graphs
    // stay fast, at most 4 steps^2 (small graphs have few orders) and 3,000; at least the descent's
    // and 100 more for the walk.
    const n2 = p.steps.length * p.steps.length;
    const evaluations = Math.max(REFINE_DESCENT + 100, Math.min(3000, 4 * n2, Math.floor(2e6 / n2)));
    // When the order search was exact its peak is a bound on every order's arena.
    const target = search?.exact ? search.peak : 0;
    const refined = refineOrder(p, start.order, (order) => runHeuristics(order, policy, p, false).best.height, {
      evaluations,
      descent: REFINE_DESCENT,
      target,
    });
    if (refined.arena < start.best.height) finalists.push(runHeuristics(refined.order, policy, p, all));
  }
  // Short of the bound with in-place links: the same orders with the links the bound does not need.
  for (const f of [...finalists]) {
    if (!f.inPlace || f.best.height <= f.layout.lowerBound) continue;
    const skip = peakOnlySkips(f);
    if (skip.size) finalists.push(runHeuristics(f.order, f.inPlace, p, all, skip));
  }
  for (const f of finalists) {
    if (f.exact || (f !== chosen && hopeless(f))) continue;
    improve(f, f === chosen ? undefined : chosen.best.height);
    if (better(f, chosen)) chosen = f;
  }
  if (!chosen.exact) improve(chosen); // proves what it can (at once when the plan meets its bound)
  const exact = chosen.exact!;

  const L = chosen.layout;
  const offsets = offsetsByName(L, chosen.best.offsets);
  const plainIdentity = configs.find((c) => c.order === identity && !c.inPlace)!;
  return {
    algorithm: chosen.best.algorithm,
    arenaBytes: chosen.best.height,
    lowerBound: L.lowerBound,
    peakStep: L.peakStep,
    peakTensors: L.peakBuffers,
    placements: chosen.buffers.map((b) => ({
      name: b.name,
      offset: offsets.get(b.name)!,
      size: b.size,
      bytes: b.bytes,
      first: b.first,
      last: b.last,
      kind: b.kind ?? 'tensor',
      ...(b.inPlaceOf ? { inPlaceOf: b.inPlaceOf } : {}),
      ...(b.inPlaceAtEnd ? { inPlaceAtEnd: true } : {}),
    })),
    candidates: chosen.candidates,
    schedule: {
      order: chosen.order,
      changed: chosen.order.some((s, i) => s !== i),
      originalPeak: search?.originalPeak ?? L.lowerBound,
      peak: L.lowerBound,
      searchExact: search?.exact ?? false,
    },
    inPlace: { used: chosen.inPlace, pairs: chosen.buffers.filter((b) => b.inPlaceOf).length, skipped: [...(chosen.skip ?? [])] },
    optimal: chosen.best.height <= L.lowerBound || exact.optimal,
    provenBound: chosen.best.height <= L.lowerBound ? L.lowerBound : Math.max(L.lowerBound, exact.bound),
    tflmBytes: tflmGreedyBySize(plainIdentity.layout).height,
  };
}

/**
 * Plan a graph's arena. When the chosen schedule differs from the file order, `g.nodes` is reordered
 * to it (the emitter runs nodes in `g.nodes` order), so call this after the passes and before emitC.
 */
export function planMemory(g: Graph, target?: TargetDesc, opts: PlanOptions = {}): MemoryPlan {
  const plan = planProblem(problemFromGraph(g, target), opts);
  if (plan.schedule.changed) g.nodes = plan.schedule.order.map((i) => g.nodes[i]!);
  return plan;
}

/** Pairs of placements that are live at the same time and overlap in memory (testing only, O(n^2)).
 * An in-place output may overlap the buffer it overwrites, where it says, at its first step. */
export function findOverlaps(
  placements: readonly Pick<Placement, 'name' | 'offset' | 'size' | 'bytes' | 'first' | 'last' | 'inPlaceOf' | 'inPlaceAtEnd'>[],
): [string, string][] {
  const bad: [string, string][] = [];
  for (let i = 0; i < placements.length; i++) {
    for (let j = i + 1; j < placements.length; j++) {
      const a = placements[i]!;
      const b = placements[j]!;
      const time = a.first <= b.last && b.first <= a.last;
      const space = a.offset < b.offset + b.size && b.offset < a.offset + a.size;
      if (!time || !space) continue;
      const handover = (x: typeof a, y: typeof a) => y.inPlaceOf === x.name && x.offset === y.offset + inPlaceShift(x, y) && x.last === y.first;
      if (handover(a, b) || handover(b, a)) continue;
      bad.push([a.name, b.name]);
    }
  }
  return bad;
}
