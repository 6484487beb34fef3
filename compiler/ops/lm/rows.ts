// Which rows an op of a token-batched graph runs (Graph.rows, docs/lm.md):
//   'all'   the call's first n rows;
//   'last'  reads the last nOut of them and writes its first nOut output rows (the final norm: from
//           here on only the rows whose logits are wanted go on);
//   'out'   the first nOut rows (the head, after a 'last' op).
// Outside token-batched graphs every row runs.

import type { Node } from '../../ir.ts';
import type { AttrSpec, RowRange } from '../op.ts';

export const ROWS_ATTR: AttrSpec = {
  kind: 'string',
  default: 'all',
  oneOf: ['all', 'last', 'out'],
  doc: "token-batched graphs: 'all' runs the call's n rows; 'last' reads the last nOut of them into the first nOut output rows; 'out' runs the first nOut",
};

/** Input row where the op starts, rows it runs, for a tensor of `total` rows. */
export function rowSpan(node: Node, rows: RowRange | undefined, total: number): { from: number; count: number } {
  if (!rows) return { from: 0, count: total };
  if (node.attrs.rows === 'last') return { from: rows.n - rows.nOut, count: rows.nOut };
  if (node.attrs.rows === 'out') return { from: 0, count: rows.nOut };
  return { from: 0, count: rows.n };
}

/** C expressions for an op's input rows and row count (emit): `x` offset for 'last', the count. */
export function rowArgs(node: Node, batched: boolean, x: string, width: number, all: string, out: string): { x: string; rows: string } {
  const mode = node.attrs.rows;
  if (mode === 'last') return { x: batched ? `${x} + (n_rows - n_out) * ${width}` : x, rows: out };
  if (mode === 'out') return { x, rows: out };
  return { x, rows: all };
}

/** Token-batched graphs, for ops that run the first rows only ('all' or 'out'): rows this call runs. */
export function leadingRows(node: Node, rows: RowRange | undefined, total: number): number {
  if (!rows) return total;
  return node.attrs.rows === 'out' ? rows.nOut : rows.n;
}

/** The same in C: `n_rows`, `n_out`, or the literal. */
export function leadingRowsC(node: Node, all: string, out: string): string {
  return node.attrs.rows === 'out' ? out : all;
}

/** The rows attribute of ops that run leading rows only (no 'last': their inputs start at row 0). */
export const LEADING_ROWS_ATTR: AttrSpec = {
  kind: 'string',
  default: 'all',
  oneOf: ['all', 'out'],
  doc: "token-batched graphs: 'all' runs the call's n rows, 'out' the first n_out (after a 'last' op)",
};
