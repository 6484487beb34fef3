// Offset-assignment heuristics, including the peers' planners, written from their descriptions.
// Each one is an order of blocks plus a placement rule (first fit: the lowest offset that clears the
// placed conflicting blocks; best fit: the smallest gap that holds the block).
//
//   linear                  every block after the previous one: no reuse. The obviously correct reference.
//   tflm-greedy-by-size     TFLite Micro's GreedyMemoryPlanner: largest first (ties in request order),
//                           each in the first gap among the placed buffers live at the same time.
//   usmp-greedy-by-size     microTVM USMP greedy_by_size: largest first, ties by more conflicts, then name.
//   usmp-greedy-by-conflicts  USMP greedy_by_conflicts: most conflicting buffers first, ties by size.
//   tinyengine-first-fit    TinyEngine's allocator: rectangles in order of first use, lowest address that fits.
//   greedy-by-peak          blocks that sit in the highest peak first (then larger first): the buffers of
//                           the peak step are stacked from 0 and fill exactly the lower bound there.
//   best-fit-by-size        largest first, each into the smallest gap that holds it (Pisarchyk & Lee's
//                           "greedy by size" offset calculation prefers the tightest gap).
//   usmp-hill-climb         USMP hill_climb: start from greedy-by-size and keep permuting the placement
//                           order, accepting a worse order now and then (simulated annealing), keeping
//                           the best seen. Seeded, so plans are reproducible.

import { bestFitOffset, heightOf, lowestOffset, placeInOrder, type Layout } from './blocks.ts';

export interface AlgorithmResult {
  offsets: Int32Array;
  height: number;
}

export type Algorithm = (L: Layout) => AlgorithmResult;

const ids = (L: Layout): number[] => L.blocks.map((b) => b.id);

function byOrder(compare: (L: Layout) => (a: number, b: number) => number, fit = lowestOffset): Algorithm {
  return (L) => {
    const offsets = placeInOrder(L, ids(L).sort(compare(L)), fit);
    return { offsets, height: heightOf(L, offsets) };
  };
}

const size = (L: Layout, b: number) => L.blocks[b]!.size;
const nameCmp = (L: Layout, a: number, b: number) => (L.blocks[a]!.name < L.blocks[b]!.name ? -1 : L.blocks[a]!.name > L.blocks[b]!.name ? 1 : 0);

export const linear: Algorithm = (L) => {
  const offsets = new Int32Array(L.n);
  let next = 0;
  for (const B of L.blocks) {
    offsets[B.id] = next;
    next += B.size;
  }
  return { offsets, height: next };
};

export const tflmGreedyBySize = byOrder((L) => (a, b) => size(L, b) - size(L, a) || a - b);
const usmpGreedyBySize = byOrder((L) => (a, b) => size(L, b) - size(L, a) || L.conflicts[b]!.length - L.conflicts[a]!.length || nameCmp(L, a, b));
const usmpGreedyByConflicts = byOrder((L) => (a, b) => L.conflicts[b]!.length - L.conflicts[a]!.length || size(L, b) - size(L, a) || nameCmp(L, a, b));
export const tinyEngineFirstFit = byOrder((L) => (a, b) => L.blocks[a]!.first - L.blocks[b]!.first || size(L, b) - size(L, a) || a - b);
const greedyByPeak = byOrder((L) => (a, b) => L.load[b]! - L.load[a]! || size(L, b) - size(L, a) || L.blocks[a]!.first - L.blocks[b]!.first || a - b);
const bestFitBySize = byOrder((L) => (a, b) => size(L, b) - size(L, a) || a - b, bestFitOffset);
const lifetime = (L: Layout, b: number) => L.blocks[b]!.last - L.blocks[b]!.first;
const greedyByLifetime = byOrder((L) => (a, b) => lifetime(L, b) - lifetime(L, a) || size(L, b) - size(L, a) || a - b);

/** A small deterministic generator (mulberry32), so that plans do not change between runs. */
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface HillClimbOptions {
  /** Moves to try (default: about 4e6 / n^2, 300 to 20,000). */
  iterations?: number;
  seed?: number;
  /** The placement order to start from (default: largest first). */
  start?: readonly number[];
  /** Stop once this much work is spent: one unit per block placed and per conflicting block it
   * is checked against (a count rather than a clock, so plans do not depend on the machine). */
  work?: number;
  /** Half the moves take a block that ends at the top of the arena (default false). */
  focus?: boolean;
  /** Set to the work spent. */
  spent?: { work: number };
}

/**
 * USMP's hill climb: move one block earlier in the placement order, re-place (first fit) and keep
 * the move when the arena does not grow, or now and then when it does (simulated annealing). Only
 * the blocks from the moved one on are re-placed, and a move is abandoned as soon as one block ends
 * above what it may reach (the acceptance threshold is drawn first), so a move costs far less than
 * placing everything again.
 */
export function hillClimb(L: Layout, opts: HillClimbOptions = {}): AlgorithmResult {
  const order = opts.start ? [...opts.start] : ids(L).sort((a, b) => size(L, b) - size(L, a) || a - b);
  let offsets = placeInOrder(L, order);
  let cur = heightOf(L, offsets);
  let best = { order: [...order], height: cur };
  if (L.n < 2) return { offsets, height: cur };
  const rnd = random(opts.seed ?? 1);
  const iterations = opts.iterations ?? Math.max(300, Math.min(20_000, Math.floor(4e6 / (L.n * L.n))));
  let temperature = Math.max(16, cur * 0.02);
  const trial = new Int32Array(L.n);
  const work = opts.work ?? Infinity;
  const focus = opts.focus ?? false;
  let spent = 0;
  for (let it = 0; it < iterations && spent < work && best.height > L.lowerBound; it++) {
    // Move one block earlier in the order: a block placed earlier gets a lower offset.
    // Every other move takes a block that ends at the top: only those make the arena what it is.
    let i = 1 + Math.floor(rnd() * (L.n - 1));
    if (focus && rnd() < 0.5) {
      const top: number[] = [];
      for (let k = 1; k < L.n; k++) if (offsets[order[k]!]! + L.blocks[order[k]!]!.size === cur) top.push(k);
      if (top.length) i = top[Math.floor(rnd() * top.length)]!;
    }
    const j = Math.floor(rnd() * i);
    // Accepted when h <= cur, or with probability exp((cur - h) / T): draw that limit first.
    const limit = cur - temperature * Math.log(Math.max(rnd(), 1e-12));
    const [moved] = order.splice(i, 1);
    order.splice(j, 0, moved!);
    trial.set(offsets);
    for (let k = j; k < L.n; k++) trial[order[k]!] = -1;
    let h = 0;
    for (let k = 0; k < j; k++) h = Math.max(h, trial[order[k]!]! + L.blocks[order[k]!]!.size);
    for (let k = j; k < L.n && h <= limit; k++) {
      const b = order[k]!;
      trial[b] = lowestOffset(L, b, trial);
      spent += 1 + L.conflicts[b]!.length;
      h = Math.max(h, trial[b]! + L.blocks[b]!.size);
    }
    if (h <= limit) {
      cur = h;
      offsets = Int32Array.from(trial);
      if (h < best.height) best = { order: [...order], height: h };
    } else {
      order.splice(j, 1);
      order.splice(i, 0, moved!);
    }
    temperature *= 0.999;
  }
  if (opts.spent) opts.spent.work = spent;
  const out = placeInOrder(L, best.order);
  return { offsets: out, height: heightOf(L, out) };
}

/**
 * Short hill climbs, one after another, from several starting orders (largest first, the peak's
 * blocks first, most conflicts first), seeds, and with and without focus on the top blocks, until one
 * meets the lower bound or `work` (see HillClimbOptions) is spent. The climb cools as it goes, so
 * where it ends depends on the seed far more than on its length: many short climbs beat a long one.
 */
export function hillClimbRestarts(L: Layout, work: number): AlgorithmResult {
  const starts = [
    ids(L).sort((a, b) => size(L, b) - size(L, a) || a - b),
    ids(L).sort((a, b) => L.load[b]! - L.load[a]! || size(L, b) - size(L, a) || a - b),
    ids(L).sort((a, b) => L.conflicts[b]!.length - L.conflicts[a]!.length || size(L, b) - size(L, a) || a - b),
    ids(L).sort((a, b) => lifetime(L, b) - lifetime(L, a) || size(L, b) - size(L, a) || a - b),
  ];
  if (L.n < 2) return hillClimb(L);
  let best: AlgorithmResult | undefined;
  let left = work;
  for (let run = 0; left > 0 && (!best || best.height > L.lowerBound); run++) {
    const spent = { work: 0 };
    const r = hillClimb(L, { start: starts[run % starts.length], seed: 1 + run, work: left, focus: run % 2 === 1, spent });
    left -= Math.max(1, spent.work);
    if (!best || r.height < best.height) best = r;
  }
  return best!;
}

/** The one-pass heuristics, cheapest first: the planner runs them on every configuration. */
export const GREEDY: readonly { name: string; run: Algorithm }[] = [
  { name: 'tflm-greedy-by-size', run: tflmGreedyBySize },
  { name: 'usmp-greedy-by-size', run: usmpGreedyBySize },
  { name: 'usmp-greedy-by-conflicts', run: usmpGreedyByConflicts },
  { name: 'tinyengine-first-fit', run: tinyEngineFirstFit },
  { name: 'greedy-by-peak', run: greedyByPeak },
  { name: 'best-fit-by-size', run: bestFitBySize },
  { name: 'greedy-by-lifetime', run: greedyByLifetime },
];

/** Every heuristic: the greedy ones, then the local search the planner runs on the best configuration. */
export const HEURISTICS: readonly { name: string; run: Algorithm }[] = [...GREEDY, { name: 'usmp-hill-climb', run: (L) => hillClimb(L) }];
