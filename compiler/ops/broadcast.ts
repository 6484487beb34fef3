// NumPy broadcasting, shared by Add and the ONNX elementwise ops.

/** NumPy broadcast of two shapes, or undefined if they are incompatible. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** NumPy broadcast of any number of shapes. */
export function broadcastAll(shapes: readonly (readonly number[])[]): number[] | undefined {
  let out: number[] | undefined = [];
  for (const s of shapes) {
    out = broadcastShapes(out, s);
    if (!out) return undefined;
  }
  return out;
}

/** Element strides of `shape` seen through the broadcast `out` shape (0 along broadcast axes). */
export function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const strides = new Array<number>(out.length).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const oi = out.length - shape.length + i;
    strides[oi] = shape[i] === 1 ? 0 : s;
    s *= shape[i]!;
  }
  return strides;
}

/** For every element of `out` (row-major), the flat index into each input: the reference mapping. */
export function broadcastIndexMaps(out: readonly number[], shapes: readonly (readonly number[])[]): Int32Array[] {
  const total = out.reduce((a, b) => a * b, 1);
  const strides = shapes.map((s) => broadcastStrides(s, out));
  const maps = shapes.map(() => new Int32Array(total));
  const idx = new Array<number>(out.length).fill(0);
  for (let i = 0; i < total; i++) {
    strides.forEach((st, k) => {
      let off = 0;
      for (let d = 0; d < out.length; d++) off += idx[d]! * st[d]!;
      maps[k]![i] = off;
    });
    for (let d = out.length - 1; d >= 0; d--) {
      if (++idx[d]! < out[d]!) break;
      idx[d] = 0;
    }
  }
  return maps;
}
