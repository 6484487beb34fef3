// What every weight quantizer of compiler/quantize/ takes: a float matrix [rows = out_features,
// cols = in_features], row-major, and (for the grouped ones) groups of consecutive columns of a row.

/** Throw (a compiler bug, not a user error) unless `w` holds rows x cols values. */
export function checkMatrix(what: string, w: ArrayLike<number>, rows: number, cols: number): void {
  if (!(Number.isSafeInteger(rows) && rows > 0 && Number.isSafeInteger(cols) && cols > 0)) throw new Error(`internal: ${what}: bad shape [${rows}, ${cols}]`);
  if (w.length !== rows * cols) throw new Error(`internal: ${what}: ${w.length} values for [${rows}, ${cols}]`);
}

/**
 * Groups of `groupSize` consecutive columns of a row (the last one shorter when groupSize does not
 * divide cols); undefined or >= cols: one group, the whole row. Returns the effective size and count.
 */
export function columnGroups(what: string, cols: number, groupSize: number | undefined): { size: number; count: number } {
  if (groupSize === undefined) return { size: cols, count: 1 };
  if (!(Number.isSafeInteger(groupSize) && groupSize > 0)) throw new Error(`internal: ${what}: group size ${groupSize}`);
  return { size: groupSize, count: Math.ceil(cols / groupSize) };
}
