// Schedule: order the nodes so that every tensor is produced before it is read.
// Kahn's algorithm, always taking the ready node that comes first in the file, so a file that is
// already in order keeps its order. A cycle is reported with the nodes that form it.

import { fail } from '../diagnostics.ts';
import { nodeReads, type Graph, type Node } from '../ir.ts';

export function scheduleNodes(g: Graph, where: (n: Node) => string): Node[] {
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  const deps = new Map<Node, Set<Node>>();
  for (const n of g.nodes) {
    const d = new Set<Node>();
    for (const t of nodeReads(g, n)) {
      const p = producer.get(t);
      if (p) d.add(p);
    }
    deps.set(n, d);
  }
  const done = new Set<Node>();
  const order: Node[] = [];
  while (order.length < g.nodes.length) {
    const next = g.nodes.find((n) => !done.has(n) && [...deps.get(n)!].every((d) => done.has(d)));
    if (!next) {
      const cycle = rotateToFirst(
        findCycle(
          g.nodes.filter((n) => !done.has(n)),
          deps,
        ),
        g.nodes,
      );
      fail('cycle', where(cycle[0]!), `the graph has a cycle: ${[...cycle, cycle[0]!].map((n) => `"${n.name}"`).join(' -> ')}`);
    }
    done.add(next);
    order.push(next);
  }
  return order;
}

/** The same cycle, starting at the node that comes first in the file. */
function rotateToFirst(cycle: Node[], fileOrder: readonly Node[]): Node[] {
  const first = cycle.reduce((a, b) => (fileOrder.indexOf(b) < fileOrder.indexOf(a) ? b : a));
  const i = cycle.indexOf(first);
  return [...cycle.slice(i), ...cycle.slice(0, i)];
}

/** A cycle among `pending` nodes, which are known to contain one. Returned in dependency order. */
function findCycle(pending: Node[], deps: Map<Node, Set<Node>>): Node[] {
  const pend = new Set(pending);
  // Walk backwards along dependencies until a node repeats.
  let cur = pending[0]!;
  const seen: Node[] = [];
  while (!seen.includes(cur)) {
    seen.push(cur);
    cur = [...deps.get(cur)!].find((d) => pend.has(d))!;
  }
  const cycle = seen.slice(seen.indexOf(cur));
  return cycle.reverse();
}
