// Local search on the schedule, judged by the arena the placement reaches rather than by the peak
// of live bytes. The order search (order_search.ts) minimises the peak, but among orders with that
// peak some pack much worse: a step run long before its result is needed (a gather, a reduce)
// leaves a small buffer alive across everything in between, and small long-lived buffers fragment
// the arena. The moves: run a step just before the first step that reads its output (sink), or just
// after the last step it depends on (hoist); keep a move when the arena shrinks. Deterministic, and
// bounded by a number of evaluations.

import type { PlanProblem } from './problem.ts';

export function refineOrder(p: PlanProblem, start: readonly number[], arenaOf: (order: number[]) => number, evaluations = 200): { order: number[]; arena: number } {
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
  for (let improved = true; improved && left > 0; ) {
    improved = false;
    for (let k = 0; k < order.length && left > 0; k++) {
      const s = order[k]!;
      const pos = new Map(order.map((x, i) => [x, i]));
      const firstUse = Math.min(...consumers[s]!.map((c) => pos.get(c)!), order.length);
      const lastDep = Math.max(-1, ...deps[s]!.map((d) => pos.get(d)!));
      // Positions in the order after removing s: just before its first reader, just after its last dependency.
      const targets = [firstUse - 1, lastDep + 1].filter((t) => t !== k && t >= 0 && t < order.length);
      for (const t of targets) {
        left--;
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
  return { order, arena };
}
