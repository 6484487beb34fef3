// Which rows an op of a token-batched graph runs (Graph.rows, docs/lm.md): the first n of axis 0, or
// for a 'tail' op (the final norm and the head) the last nOut of them, written to its first nOut
// output rows. Outside token-batched graphs every row runs.

import type { Node } from '../../ir.ts';
import type { AttrSpec, RowRange } from '../op.ts';

export const ROWS_ATTR: AttrSpec = {
  kind: 'string',
  default: 'all',
  oneOf: ['all', 'tail'],
  doc: "token-batched graphs: 'all' runs the call's n rows; 'tail' reads the last nOut and writes the first nOut output rows",
};

/** Input row where the op starts, rows it runs, for a tensor of `total` rows. */
export function rowSpan(node: Node, rows: RowRange | undefined, total: number): { from: number; count: number } {
  if (!rows) return { from: 0, count: total };
  if (node.attrs.rows === 'tail') return { from: rows.n - rows.nOut, count: rows.nOut };
  return { from: 0, count: rows.n };
}
