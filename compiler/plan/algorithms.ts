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
export const usmpGreedyBySize = byOrder((L) => (a, b) => size(L, b) - size(L, a) || L.conflicts[b]!.length - L.conflicts[a]!.length || nameCmp(L, a, b));
export const usmpGreedyByConflicts = byOrder((L) => (a, b) => L.conflicts[b]!.length - L.conflicts[a]!.length || size(L, b) - size(L, a) || nameCmp(L, a, b));
export const tinyEngineFirstFit = byOrder((L) => (a, b) => L.blocks[a]!.first - L.blocks[b]!.first || size(L, b) - size(L, a) || a - b);
export const greedyByPeak = byOrder((L) => (a, b) => L.load[b]! - L.load[a]! || size(L, b) - size(L, a) || L.blocks[a]!.first - L.blocks[b]!.first || a - b);
export const bestFitBySize = byOrder((L) => (a, b) => size(L, b) - size(L, a) || a - b, bestFitOffset);

/** A small deterministic generator (mulberry32), so that plans do not change between runs. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function hillClimb(L: Layout, opts: { iterations?: number; seed?: number } = {}): AlgorithmResult {
  const order = ids(L).sort((a, b) => size(L, b) - size(L, a) || a - b);
  let cur = heightOf(L, placeInOrder(L, order));
  let best = { order: [...order], height: cur };
  if (L.n < 2) return { offsets: placeInOrder(L, order), height: cur };
  const rnd = random(opts.seed ?? 1);
  // Each iteration re-places every block (about n^2 work): bound the total, not the count.
  const iterations = opts.iterations ?? Math.max(300, Math.min(20_000, Math.floor(4e6 / (L.n * L.n))));
  let temperature = Math.max(16, cur * 0.02);
  for (let it = 0; it < iterations && best.height > L.lowerBound; it++) {
    // Move one block earlier in the order: a block placed earlier gets a lower offset.
    const i = 1 + Math.floor(rnd() * (L.n - 1));
    const j = Math.floor(rnd() * i);
    const [moved] = order.splice(i, 1);
    order.splice(j, 0, moved!);
    const h = heightOf(L, placeInOrder(L, order));
    if (h <= cur || rnd() < Math.exp((cur - h) / temperature)) {
      cur = h;
      if (h < best.height) best = { order: [...order], height: h };
    } else {
      order.splice(j, 1);
      order.splice(i, 0, moved!);
    }
    temperature *= 0.999;
  }
  const offsets = placeInOrder(L, best.order);
  return { offsets, height: heightOf(L, offsets) };
}

/** The one-pass heuristics, cheapest first: the planner runs them on every configuration. */
export const GREEDY: readonly { name: string; run: Algorithm }[] = [
  { name: 'tflm-greedy-by-size', run: tflmGreedyBySize },
  { name: 'usmp-greedy-by-size', run: usmpGreedyBySize },
  { name: 'usmp-greedy-by-conflicts', run: usmpGreedyByConflicts },
  { name: 'tinyengine-first-fit', run: tinyEngineFirstFit },
  { name: 'greedy-by-peak', run: greedyByPeak },
  { name: 'best-fit-by-size', run: bestFitBySize },
];

/** Every heuristic: the greedy ones, then the local search the planner runs on the best configuration. */
export const HEURISTICS: readonly { name: string; run: Algorithm }[] = [...GREEDY, { name: 'usmp-hill-climb', run: (L) => hillClimb(L) }];
