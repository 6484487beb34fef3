// The pass pipeline: a plain list of named passes, each Graph -> Graph in place, run in order.
// With `verify`, the IR invariants are checked after every pass; `dumpAfter` prints the IR after one.

import { fail } from '../diagnostics.ts';
import { elementCount, nodeReads, shapeStr, type Graph } from '../ir.ts';
import { MAX_K } from '../limits.ts';
import { lowBitGeometry } from '../ops/lowbit_linear.ts';
import { dumpGraph } from './dump.ts';

export interface Pass {
  name: string;
  /** One line for --help and docs. */
  doc: string;
  run(g: Graph): void;
}

/** Remove nodes none of whose outputs are read or are graph outputs (repeats until stable). */
export const eliminateDeadNodes: Pass = {
  name: 'eliminate-dead-nodes',
  doc: 'drop nodes whose results nobody reads',
  run(g) {
    for (;;) {
      const read = new Set<string>(g.outputs);
      for (const n of g.nodes) for (const r of nodeReads(g, n)) read.add(r);
      const keep = g.nodes.filter((n) => n.outputs.some((o) => read.has(o)));
      if (keep.length === g.nodes.length) break;
      for (const n of g.nodes) if (!keep.includes(n)) for (const o of n.outputs) g.tensors.delete(o);
      g.nodes = keep;
    }
    // Constants nobody reads any more are not emitted either.
    const used = new Set<string>(g.outputs);
    for (const n of g.nodes) for (const r of nodeReads(g, n)) used.add(r);
    for (const [name, t] of g.tensors) if (t.kind === 'constant' && !used.has(name)) g.tensors.delete(name);
  },
};

/** Reject layers beyond the format's limits, where accumulators could no longer be bounded. */
export const checkLimits: Pass = {
  name: 'check-limits',
  doc: 'K of low-bit layers within the format limit',
  run(g) {
    for (const n of g.nodes) {
      if (n.op !== 'TernaryLinear' && n.op !== 'BinaryLinear') continue;
      const w = g.tensors.get(n.inputs[1]!)!;
      const { k } = lowBitGeometry(w);
      if (k > MAX_K) fail('limit', `${g.source}: node "${n.name}"`, `K = ${k} (weight "${w.name}" ${shapeStr(w.shape)}) is above the format limit of ${MAX_K} (2^24)`);
    }
  },
};

export const PIPELINE: readonly Pass[] = [eliminateDeadNodes, checkLimits];

/** IR invariants: every read is produced earlier or is an input/constant; shapes match data. */
export function verifyGraph(g: Graph, after: string): void {
  const available = new Set<string>();
  for (const [name, t] of g.tensors) {
    if (t.kind === 'input') available.add(name);
    if (t.kind === 'constant') {
      available.add(name);
      if (!t.data || t.data.length !== elementCount(t.shape)) throw new Error(`internal (after ${after}): constant "${name}" has ${t.data?.length} values for ${shapeStr(t.shape)}`);
    }
  }
  for (const n of g.nodes) {
    for (const r of nodeReads(g, n)) if (!available.has(r)) throw new Error(`internal (after ${after}): node "${n.name}" reads "${r}" before it is produced`);
    for (const o of n.outputs) {
      if (!g.tensors.has(o)) throw new Error(`internal (after ${after}): output "${o}" of "${n.name}" has no tensor`);
      available.add(o);
    }
  }
  for (const o of g.outputs) if (!available.has(o)) throw new Error(`internal (after ${after}): graph output "${o}" is never produced`);
}

export interface PassOptions {
  verify?: boolean;
  dumpAfter?: string;
  log?: (text: string) => void;
}

export function runPasses(g: Graph, opts: PassOptions = {}): Graph {
  if (opts.verify) verifyGraph(g, 'reading');
  for (const pass of PIPELINE) {
    pass.run(g);
    if (opts.verify) verifyGraph(g, pass.name);
    if (opts.dumpAfter === pass.name) (opts.log ?? console.error)(dumpGraph(g, `after ${pass.name}`));
  }
  return g;
}
