// Local search on the schedule, judged by the arena the placement reaches rather than by the peak
// of live bytes. The order search (order_search.ts) minimises the peak, but among orders some pack
// much worse than others, and the lowest peak is not always the smallest arena: a step run long
// before its result is needed (a gather, a reduce) leaves a small buffer alive across everything in
// between, small long-lived buffers fragment the arena, and a peak where a few large buffers must
// tile the arena exactly may admit no plan at that height while a slightly higher peak does.
//
//   1. descent    run a step just before the first step that reads its output (sink), or just
//                 after the last step it depends on (hoist); keep a move when the arena shrinks;
//   2. walk       move a random step to a random place between its last dependency and its first
//                 reader, and keep the move when the arena does not grow (plateaus are how the walk
//                 gets from one good order to a better one, several moves away); the best order seen
//                 is the result.
// Deterministic (a seeded generator) and bounded by a number of evaluations, not a clock.

import { random } from './algorithms.ts';
import type { PlanProblem } from './problem.ts';

export interface RefineOptions {
  /** Arena evaluations in all (default 200). */
  evaluations?: number;
  /** Of those, the most the descent may use before the walk starts (default: all of them). */
  descent?: number;
  /** Stop once the arena is at most this (a bound no order can beat; default 0). */
  target?: number;
  seed?: number;
}

export function refineOrder(
  p: PlanProblem,
  start: readonly number[],
  arenaOf: (order: number[]) => number,
  opts: RefineOptions | number = {},
): { order: number[]; arena: number } {
  const o = typeof opts === 'number' ? { evaluations: opts } : opts;
  const evaluations = o.evaluations ?? 200;
  const target = o.target ?? 0;
  const producer = new Map<string, number>();
  p.steps.forEach((s, i) => s.writes.forEach((w) => producer.set(w, i)));
  const deps = p.steps.map((s, i) => [...new Set(s.reads.map((r) => producer.get(r)).filter((d): d is number => d !== undefined && d !== i))]);
  const consumers = p.steps.map(() => [] as number[]);
  deps.forEach((ds, i) => ds.forEach((d) => consumers[d]!.push(i)));

  let order = [...start];
  let arena = arenaOf(order);
  let left = evaluations - 1;
  const moved = (from: number, to: number) => {
    const next = [...order];
    const [s] = next.splice(from, 1);
    next.splice(to, 0, s!);
    return next;
  };
  /** Where step order[k] may go: positions (after removing it) between its last dependency and first reader. */
  const window = (k: number): [number, number] => {
    const s = order[k]!;
    const pos = new Map(order.map((x, i) => [x, i]));
    const firstUse = Math.min(...consumers[s]!.map((c) => pos.get(c)!), order.length);
    const lastDep = Math.max(-1, ...deps[s]!.map((d) => pos.get(d)!));
    return [lastDep + 1, firstUse - 1];
  };

  // 1. Descent by sink and hoist moves.
  let descentLeft = Math.min(left, o.descent ?? left);
  for (let improved = true; improved && descentLeft > 0 && arena > target;) {
    improved = false;
    for (let k = 0; k < order.length && descentLeft > 0; k++) {
      const [lo, hi] = window(k);
      const targets = [hi, lo].filter((t) => t !== k && t >= 0 && t < order.length);
      for (const t of targets) {
        left--;
        descentLeft--;
        const next = moved(k, t);
        const a = arenaOf(next);
        if (a < arena) {
          order = next;
          arena = a;
          improved = true;
          break;
        }
      }
    }
  }

  // 2. Random walk over the same windows, accepting moves that do not grow the arena.
  const rnd = random(o.seed ?? 1);
  let best = { order, arena };
  for (let tries = 0; left > 0 && best.arena > target && tries < 20 * evaluations; tries++) {
    const k = Math.floor(rnd() * order.length);
    const [lo, hi] = window(k);
    if (hi - lo < 1) continue; // nowhere else to go
    let t = lo + Math.floor(rnd() * (hi - lo));
    if (t >= k) t++; // any place in [lo, hi] but k itself
    left--;
    const next = moved(k, t);
    const a = arenaOf(next);
    if (a <= arena) {
      order = next;
      arena = a;
      if (a < best.arena) best = { order, arena };
    }
  }
  return best;
}
