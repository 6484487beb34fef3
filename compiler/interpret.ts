// The reference interpreter: the semantic oracle every generated program is checked against.
// It runs each node's `interpret` (compiler/ops/*) in schedule order, checking that every value
// has the dtype and length its tensor says.

import { fail } from './diagnostics.ts';
import { DTYPE_INFO } from './dtypes.ts';
import { elementCount, nodeReads, shapeStr, type DType, type Graph, type Node, type TypedData } from './ir.ts';
import { getOp } from './ops/index.ts';
import type { RowRange } from './ops/op.ts';

function matchesDType(data: TypedData, dtype: DType): boolean {
  return DTYPE_INFO[dtype].is(data);
}

export interface InterpretOptions {
  /** Token-batched graphs (Graph.rows): the rows this call runs (default: all, outputs for all). */
  rows?: RowRange;
  /**
   * The values of the graph's state tensors (kind 'state'), updated in place by the call; missing
   * entries are created zero, as the model's reset leaves them. Keep the map between calls.
   */
  state?: Map<string, TypedData>;
  /** Hears every value a node writes, in schedule order (per-layer comparison: harness/layers.ts). */
  onWrite?: (tensor: string, data: TypedData) => void;
  /**
   * Called before each node runs, with its input values (calibration: the quantizers read what goes
   * into each projection). Must not modify them.
   */
  observe?(node: Node, inputs: readonly (TypedData | undefined)[], rows: RowRange | undefined): void;
}

/** A fresh, zeroed state for `g` (what the generated reset() leaves). */
export function initialState(g: Graph): Map<string, TypedData> {
  const state = new Map<string, TypedData>();
  for (const t of g.tensors.values()) if (t.kind === 'state') state.set(t.name, DTYPE_INFO[t.dtype].alloc(elementCount(t.shape)));
  return state;
}

/** Run the graph on one set of inputs (keyed by input name); returns every graph output. */
export function interpret(g: Graph, inputs: ReadonlyMap<string, TypedData>, opts: InterpretOptions = {}): Map<string, TypedData> {
  const values = new Map<string, TypedData>();
  for (const t of g.tensors.values()) if (t.kind === 'constant') values.set(t.name, t.data!);
  const state = opts.state ?? new Map<string, TypedData>();
  for (const t of g.tensors.values()) {
    if (t.kind !== 'state') continue;
    if (!state.has(t.name)) state.set(t.name, DTYPE_INFO[t.dtype].alloc(elementCount(t.shape)));
    const v = state.get(t.name)!;
    if (!matchesDType(v, t.dtype) || v.length !== elementCount(t.shape))
      throw new Error(`internal: state "${t.name}" holds ${v.constructor.name}(${v.length}), expected ${t.dtype} ${shapeStr(t.shape)}`);
    values.set(t.name, v);
  }
  let rows = opts.rows;
  if (g.rows) {
    rows ??= { n: g.rows.max, nOut: g.rows.max };
    if (!(Number.isInteger(rows.n) && rows.n >= 1 && rows.n <= g.rows.max && Number.isInteger(rows.nOut) && rows.nOut >= 0 && rows.nOut <= rows.n))
      fail('usage', '', `a call runs 1 to ${g.rows.max} rows with 0 to n outputs, got n = ${rows.n}, nOut = ${rows.nOut}`);
  } else if (rows) throw new Error('internal: rows given for a graph that is not token-batched');
  for (const name of g.inputs) {
    const t = g.tensors.get(name)!;
    const v = inputs.get(name);
    if (!v) fail('usage', '', `no value given for graph input "${name}"`);
    if (!matchesDType(v, t.dtype) || v.length !== elementCount(t.shape))
      fail(
        'usage',
        '',
        `graph input "${name}" expects ${t.dtype} ${shapeStr(t.shape)} (${elementCount(t.shape)} values), got ${v.constructor.name} of ${v.length}`,
      );
    values.set(name, v);
  }
  for (const node of g.nodes) {
    const reads = new Set(nodeReads(g, node));
    const def = getOp(node.op);
    if (g.rows && !def.rows) throw new Error(`internal: ${node.op} "${node.name}" cannot run in a token-batched graph`);
    const mutable = new Set((def.mutates ?? []).map((i) => node.inputs[i]!));
    opts.observe?.(
      node,
      node.inputs.map((name) => values.get(name)),
      rows,
    );
    def.interpret({
      graph: g,
      node,
      rows,
      read(name) {
        const v = values.get(name);
        if (!reads.has(name) || !v)
          throw new Error(`internal: ${node.op} "${node.name}" read "${name}", which is ${reads.has(name) ? 'not computed yet' : 'not one of its inputs'}`);
        return v;
      },
      readNum(name) {
        const v = this.read(name);
        if (v instanceof BigInt64Array) throw new Error(`internal: ${node.op} "${node.name}" read int64 "${name}" as numbers`);
        return v;
      },
      state(name) {
        if (!mutable.has(name) || g.tensors.get(name)?.kind !== 'state')
          throw new Error(`internal: ${node.op} "${node.name}" updated "${name}", which is not a state tensor it declares in mutates`);
        return values.get(name)!;
      },
      write(name, data) {
        const t = g.tensors.get(name);
        if (!t || !node.outputs.includes(name)) throw new Error(`internal: ${node.op} "${node.name}" wrote "${name}", which is not one of its outputs`);
        if (!matchesDType(data, t.dtype) || data.length !== elementCount(t.shape))
          throw new Error(`internal: ${node.op} "${node.name}" wrote ${data.constructor.name}(${data.length}) to ${t.dtype} ${shapeStr(t.shape)} "${name}"`);
        values.set(name, data);
        opts.onWrite?.(name, data);
      },
    });
  }
  const out = new Map<string, TypedData>();
  for (const name of g.outputs) out.set(name, values.get(name)!);
  return out;
}
