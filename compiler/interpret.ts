// The reference interpreter: the semantic oracle every generated program is checked against.
// It runs each node's `interpret` (compiler/ops/*) in schedule order, checking that every value
// has the dtype and length its tensor says.

import { fail } from './diagnostics.ts';
import { DTYPE_INFO } from './dtypes.ts';
import { elementCount, nodeReads, shapeStr, type DType, type Graph, type TypedData } from './ir.ts';
import { getOp } from './ops/index.ts';

function matchesDType(data: TypedData, dtype: DType): boolean {
  return DTYPE_INFO[dtype].is(data);
}

/** Run the graph on one set of inputs (keyed by input name); returns every graph output. */
export function interpret(g: Graph, inputs: ReadonlyMap<string, TypedData>): Map<string, TypedData> {
  const values = new Map<string, TypedData>();
  for (const t of g.tensors.values()) if (t.kind === 'constant') values.set(t.name, t.data!);
  for (const name of g.inputs) {
    const t = g.tensors.get(name)!;
    const v = inputs.get(name);
    if (!v) fail('usage', '', `no value given for graph input "${name}"`);
    if (!matchesDType(v, t.dtype) || v.length !== elementCount(t.shape))
      fail('usage', '', `graph input "${name}" expects ${t.dtype} ${shapeStr(t.shape)} (${elementCount(t.shape)} values), got ${v.constructor.name} of ${v.length}`);
    values.set(name, v);
  }
  for (const node of g.nodes) {
    const reads = new Set(nodeReads(g, node));
    getOp(node.op).interpret({
      graph: g,
      node,
      read(name) {
        const v = values.get(name);
        if (!reads.has(name) || !v) throw new Error(`internal: ${node.op} "${node.name}" read "${name}", which is ${reads.has(name) ? 'not computed yet' : 'not one of its inputs'}`);
        return v;
      },
      readNum(name) {
        const v = this.read(name);
        if (v instanceof BigInt64Array) throw new Error(`internal: ${node.op} "${node.name}" read int64 "${name}" as numbers`);
        return v;
      },
      write(name, data) {
        const t = g.tensors.get(name);
        if (!t || !node.outputs.includes(name)) throw new Error(`internal: ${node.op} "${node.name}" wrote "${name}", which is not one of its outputs`);
        if (!matchesDType(data, t.dtype) || data.length !== elementCount(t.shape))
          throw new Error(`internal: ${node.op} "${node.name}" wrote ${data.constructor.name}(${data.length}) to ${t.dtype} ${shapeStr(t.shape)} "${name}"`);
        values.set(name, data);
      },
    });
  }
  const out = new Map<string, TypedData>();
  for (const name of g.outputs) out.set(name, values.get(name)!);
  return out;
}
