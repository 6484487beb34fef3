// eliminate-dead-nodes: drop nodes none of whose outputs are read or are graph outputs (repeated until
// stable), and constants nobody reads any more.

import { nodeReads } from '../ir.ts';
import type { Pass } from './pass.ts';

export const eliminateDeadNodes: Pass = {
  name: 'eliminate-dead-nodes',
  doc: 'drop nodes whose results nobody reads, and unread constants',
  run(g) {
    for (;;) {
      const read = new Set<string>(g.outputs);
      for (const n of g.nodes) for (const r of nodeReads(g, n)) read.add(r);
      const keep = g.nodes.filter((n) => n.outputs.some((o) => read.has(o)));
      if (keep.length === g.nodes.length) break;
      for (const n of g.nodes) if (!keep.includes(n)) for (const o of n.outputs) g.tensors.delete(o);
      g.nodes = keep;
    }
    const used = new Set<string>(g.outputs);
    for (const n of g.nodes) for (const r of nodeReads(g, n)) used.add(r);
    for (const [name, t] of g.tensors) if (t.kind === 'constant' && !used.has(name)) g.tensors.delete(name);
  },
};
