// ONNX shape ops, for every dtype: Flatten, Reshape, Squeeze, Unsqueeze (copies with a new shape),
// Transpose, Slice, Concat, Split, Gather. They move values without arithmetic, so the generated C
// equals the interpreter trivially; the interesting part is the shape inference and its errors.
// Inputs that ONNX gives as shape tensors are attributes here (docs/onnx-ops.md): Reshape's `shape`,
// Slice's `starts`/`ends`/`axes`/`steps`, Split's `split`, Squeeze/Unsqueeze's `axes`.

import { elementCount, shapeStr, type Tensor } from '../../ir.ts';
import type { EmitNodeContext } from '../../emit/context.ts';
import type { EmittedNode, InferContext, OpDef } from '../op.ts';
import { alloc, ANY, checkDtype, copyElem, count, elemAt, elemBytes, inTensor, normAxis, constantCost, ints } from './common.ts';

const noCost = constantCost;

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** The multi-index of flat index i in `shape`. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return idx;
}

const VARIADIC = 64;
const variadicNames = (stem: string) => Array.from({ length: VARIADIC }, (_, i) => `${stem}${i}`);

// ---- copies with a new shape: Flatten, Reshape, Squeeze, Unsqueeze ------------------------------------

function reshapeLike(op: string, summary: string, attrs: OpDef['attrs'], outShape: (ctx: InferContext, x: Tensor) => number[] | undefined): OpDef {
  return {
    op,
    summary,
    inputs: { names: ['data'], min: 1 },
    outputs: { names: ['reshaped'], min: 1 },
    attrs,
    infer(ctx) {
      const x = ctx.inputs[0];
      if (!x || !checkDtype(ctx, 0, ANY, ['data'])) return [];
      const shape = outShape(ctx, x);
      if (!shape) return [];
      // An int8 tensor with one scale keeps it; per-row scales would no longer match the rows.
      const quant = x.quant?.granularity === 'per_tensor' ? { ...x.quant } : undefined;
      return [{ dtype: x.dtype, shape, quant, range: x.range }];
    },
    interpret(ctx) {
      ctx.write(ctx.node.outputs[0]!, ctx.read(ctx.node.inputs[0]!).slice());
    },
    emit(ctx) {
      const x = ctx.input(0);
      return {
        kernel: 'tn_copy_bytes',
        runtime: ['ref/tn_elementwise.c'],
        body: [`tn_copy_bytes(${ctx.out(0)}, ${ctx.in(0)}, ${count(x) * elemBytes(x.dtype)}); /* same values, shape ${shapeStr(ctx.output(0).shape)} */`],
      };
    },
    cost: noCost,
  };
}

export const Flatten = reshapeLike(
  'Flatten',
  'reshape to 2-D [prod(shape[:axis]), prod(shape[axis:])]',
  { axis: { kind: 'int', default: 1, doc: 'the first axis of the second dimension, in [-rank, rank]' } },
  (ctx, x) => {
    const r = x.shape.length;
    const a0 = ctx.node.attrs.axis as number;
    const a = a0 < 0 ? a0 + r : a0;
    if (a < 0 || a > r) {
      ctx.error(`axis ${a0} is out of range for rank ${r} (Flatten allows -${r}..${r})`);
      return undefined;
    }
    return [elementCount(x.shape.slice(0, a)), elementCount(x.shape.slice(a))];
  },
);

export const Reshape = reshapeLike(
  'Reshape',
  'the same values in a new shape',
  { shape: { kind: 'ints', doc: 'the new shape: positive dimensions (the importer resolves ONNX 0 and -1)' } },
  (ctx, x) => {
    const shape = ints(ctx.node.attrs.shape);
    if (shape.some((d) => d < 1)) {
      ctx.error(`shape ${shapeStr(shape)} must have positive dimensions (0 and -1 are resolved by the importer)`);
      return undefined;
    }
    if (elementCount(shape) !== count(x)) {
      ctx.error(`cannot reshape "${x.name}" ${shapeStr(x.shape)} (${count(x)} elements) to ${shapeStr(shape)} (${elementCount(shape)} elements)`);
      return undefined;
    }
    return [...shape];
  },
);

export const Squeeze = reshapeLike(
  'Squeeze',
  'remove axes of size 1',
  { axes: { kind: 'ints', default: [], doc: 'the axes to remove (all axes of size 1 when empty)' } },
  (ctx, x) => {
    const r = x.shape.length;
    const given = ints(ctx.node.attrs.axes);
    const axes = new Set<number>();
    for (const a0 of given) {
      const a = normAxis(a0, r);
      if (a === undefined) {
        ctx.error(`axis ${a0} is out of range for rank ${r}`);
        return undefined;
      }
      if (x.shape[a] !== 1) {
        ctx.error(`cannot squeeze axis ${a0} of "${x.name}" ${shapeStr(x.shape)}: its size is ${x.shape[a]}, not 1`);
        return undefined;
      }
      axes.add(a);
    }
    return x.shape.filter((d, i) => (given.length ? !axes.has(i) : d !== 1));
  },
);

export const Unsqueeze = reshapeLike(
  'Unsqueeze',
  'insert axes of size 1',
  { axes: { kind: 'ints', doc: 'positions of the new axes in the output' } },
  (ctx, x) => {
    const given = ints(ctx.node.attrs.axes);
    const r = x.shape.length + given.length;
    const axes = new Set<number>();
    for (const a0 of given) {
      const a = normAxis(a0, r);
      if (a === undefined || axes.has(a)) {
        ctx.error(a === undefined ? `axis ${a0} is out of range for output rank ${r}` : `axis ${a0} is given twice`);
        return undefined;
      }
      axes.add(a);
    }
    const out: number[] = [];
    let k = 0;
    for (let i = 0; i < r; i++) out.push(axes.has(i) ? 1 : x.shape[k++]!);
    return out;
  },
);

// ---- Transpose and Slice: strided copies ------------------------------------------------------------

/** Emit a strided copy of input 0 into output 0. */
function emitStrided(ctx: EmitNodeContext, strides: readonly number[], offset: number): EmittedNode {
  const x = ctx.input(0);
  const out = ctx.output(0).shape;
  const shape = ctx.intTable('shape', out);
  const st = ctx.intTable('strides', strides);
  return {
    kernel: 'tn_strided_copy',
    runtime: ['ref/tn_shape.c'],
    body: [
      `tn_strided_copy(${ctx.in(0)}, ${ctx.out(0)}, /* element bytes */ ${elemBytes(x.dtype)}, /* rank */ ${out.length}, ${shape}, ${st}, /* offset */ ${offset});`,
    ],
  };
}

function transposePerm(node: { attrs: Record<string, unknown> }, rank: number): number[] {
  const p = ints(node.attrs.perm);
  return p.length ? p : Array.from({ length: rank }, (_, i) => rank - 1 - i);
}

export const Transpose: OpDef = {
  op: 'Transpose',
  summary: 'permute the axes (default: reverse them)',
  inputs: { names: ['data'], min: 1 },
  outputs: { names: ['transposed'], min: 1 },
  attrs: { perm: { kind: 'ints', default: [], doc: 'output axis i is input axis perm[i]; empty reverses the axes' } },
  infer(ctx) {
    const x = ctx.inputs[0];
    if (!x || !checkDtype(ctx, 0, ANY, ['data'])) return [];
    const perm = transposePerm(ctx.node, x.shape.length);
    const sorted = [...perm].sort((a, b) => a - b);
    if (perm.length !== x.shape.length || sorted.some((v, i) => v !== i)) {
      ctx.error(`perm ${shapeStr(perm)} is not a permutation of the ${x.shape.length} axes of "${x.name}" ${shapeStr(x.shape)}`);
      return [];
    }
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]!) }];
  },
  interpret(ctx) {
    const x = inTensor(ctx, 0);
    const perm = transposePerm(ctx.node, x.shape.length);
    const out = perm.map((p) => x.shape[p]!);
    const xs = stridesOf(x.shape);
    const xv = ctx.read(x.name);
    const y = alloc(x.dtype, xv.length);
    for (let i = 0; i < y.length; i++) {
      const idx = unravel(i, out); // output index; input index has idx[k] on axis perm[k]
      let src = 0;
      for (let k = 0; k < perm.length; k++) src += idx[k]! * xs[perm[k]!]!;
      copyElem(xv, src, y, i, x.name);
    }
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const xs = stridesOf(x.shape);
    return emitStrided(
      ctx,
      transposePerm(ctx.node, x.shape.length).map((p) => xs[p]!),
      0,
    );
  },
  cost: noCost,
};

/** Per axis of the input: first index, step and count of the slice (ONNX clamping rules). */
function sliceGeometry(shape: readonly number[], attrs: Record<string, unknown>): { start: number[]; step: number[]; size: number[] } | string {
  const r = shape.length;
  const starts = ints(attrs.starts);
  const ends = ints(attrs.ends);
  const axes0 = ints(attrs.axes);
  const axes = axes0.length ? axes0 : starts.map((_, i) => i);
  const steps0 = ints(attrs.steps);
  const steps = steps0.length ? steps0 : starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length)
    return `starts, ends, axes and steps must have the same length, found ${starts.length}, ${ends.length}, ${axes.length}, ${steps.length}`;
  const start = shape.map(() => 0);
  const step = shape.map(() => 1);
  const size = [...shape];
  const seen = new Set<number>();
  for (let i = 0; i < starts.length; i++) {
    const a = normAxis(axes[i]!, r);
    if (a === undefined) return `axis ${axes[i]} is out of range for rank ${r}`;
    if (seen.has(a)) return `axis ${axes[i]} is given twice`;
    seen.add(a);
    const dim = shape[a]!;
    const st = steps[i]!;
    if (st === 0) return `step 0 on axis ${axes[i]}`;
    let s = starts[i]!;
    let e = ends[i]!;
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    if (st > 0) {
      s = Math.min(Math.max(s, 0), dim);
      e = Math.min(Math.max(e, 0), dim);
    } else {
      s = Math.min(Math.max(s, 0), dim - 1);
      e = Math.min(Math.max(e, -1), dim - 1);
    }
    const n = st > 0 ? Math.ceil((e - s) / st) : Math.ceil((s - e) / -st);
    if (n <= 0) return `the slice of axis ${axes[i]} (start ${starts[i]}, end ${ends[i]}, step ${st}) is empty; tritc has no zero-size tensors`;
    start[a] = s;
    step[a] = st;
    size[a] = n;
  }
  return { start, step, size };
}

export const Slice: OpDef = {
  op: 'Slice',
  summary: 'a strided sub-block (starts, ends, axes, steps as in ONNX, negative steps included)',
  inputs: { names: ['data'], min: 1 },
  outputs: { names: ['output'], min: 1 },
  attrs: {
    starts: { kind: 'ints', doc: 'first index per sliced axis (negative: from the end; clamped)' },
    ends: { kind: 'ints', doc: 'end index (exclusive) per sliced axis (negative: from the end; clamped)' },
    axes: { kind: 'ints', default: [], doc: 'the sliced axes (default: 0, 1, ...)' },
    steps: { kind: 'ints', default: [], doc: 'steps (default: 1); negative steps walk backwards' },
  },
  infer(ctx) {
    const x = ctx.inputs[0];
    if (!x || !checkDtype(ctx, 0, ANY, ['data'])) return [];
    const geo = sliceGeometry(x.shape, ctx.node.attrs);
    if (typeof geo === 'string') {
      ctx.error(geo, geo.includes('zero-size') ? 'unsupported' : 'shape');
      return [];
    }
    return [{ dtype: x.dtype, shape: geo.size }];
  },
  interpret(ctx) {
    const x = inTensor(ctx, 0);
    const geo = sliceGeometry(x.shape, ctx.node.attrs) as Exclude<ReturnType<typeof sliceGeometry>, string>;
    const xs = stridesOf(x.shape);
    const xv = ctx.read(x.name);
    const y = alloc(x.dtype, elementCount(geo.size));
    for (let i = 0; i < y.length; i++) {
      const idx = unravel(i, geo.size);
      let src = 0;
      for (let d = 0; d < idx.length; d++) src += (geo.start[d]! + idx[d]! * geo.step[d]!) * xs[d]!;
      copyElem(xv, src, y, i, x.name);
    }
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const geo = sliceGeometry(x.shape, ctx.node.attrs) as Exclude<ReturnType<typeof sliceGeometry>, string>;
    const xs = stridesOf(x.shape);
    return emitStrided(
      ctx,
      xs.map((s, d) => s * geo.step[d]!),
      geo.start.reduce((acc, s, d) => acc + s * xs[d]!, 0),
    );
  },
  cost: noCost,
};

// ---- Concat and Split -------------------------------------------------------------------------------

export const Concat: OpDef = {
  op: 'Concat',
  summary: 'join tensors along an axis',
  inputs: { names: variadicNames('X'), min: 1 },
  outputs: { names: ['concat_result'], min: 1 },
  attrs: { axis: { kind: 'int', doc: 'the axis to join along (negative counts from the end)' } },
  infer(ctx) {
    const xs = ctx.inputs.filter((t): t is Tensor => !!t);
    if (xs.length !== ctx.inputs.length) {
      ctx.error('Concat inputs cannot be left out');
      return [];
    }
    if (!xs.every((_, i) => checkDtype(ctx, i, i === 0 ? ANY : [xs[0]!.dtype]))) return [];
    const r = xs[0]!.shape.length;
    const axis = normAxis(ctx.node.attrs.axis as number, r);
    if (axis === undefined) {
      ctx.error(`axis ${ctx.node.attrs.axis} is out of range for rank ${r}`);
      return [];
    }
    for (const t of xs) {
      if (t.shape.length !== r || t.shape.some((d, i) => i !== axis && d !== xs[0]!.shape[i])) {
        ctx.error(`"${t.name}" ${shapeStr(t.shape)} does not match "${xs[0]!.name}" ${shapeStr(xs[0]!.shape)} outside axis ${axis}`);
        return [];
      }
    }
    const shape = [...xs[0]!.shape];
    shape[axis] = xs.reduce((a, t) => a + t.shape[axis]!, 0);
    return [{ dtype: xs[0]!.dtype, shape }];
  },
  interpret(ctx) {
    const ts = ctx.node.inputs.map((_, i) => inTensor(ctx, i));
    const axis = normAxis(ctx.node.attrs.axis as number, ts[0]!.shape.length)!;
    const outShape = ctx.graph.tensors.get(ctx.node.outputs[0]!)!.shape;
    const y = alloc(ts[0]!.dtype, elementCount(outShape));
    const os = stridesOf(outShape);
    let base = 0; // where this input starts along the axis
    for (const t of ts) {
      const v = ctx.read(t.name);
      for (let i = 0; i < v.length; i++) {
        const idx = unravel(i, t.shape);
        idx[axis]! += base;
        copyElem(
          v,
          i,
          y,
          idx.reduce((acc, k, d) => acc + k * os[d]!, 0),
          t.name,
        );
      }
      base += t.shape[axis]!;
    }
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const y = ctx.output(0);
    const axis = normAxis(ctx.node.attrs.axis as number, y.shape.length)!;
    const outer = elementCount(y.shape.slice(0, axis));
    const inner = elementCount(y.shape.slice(axis + 1));
    const row = y.shape[axis]! * inner;
    const body: string[] = [];
    let offset = 0;
    ctx.node.inputs.forEach((_, i) => {
      const chunk = ctx.input(i).shape[axis]! * inner;
      body.push(
        `tn_concat_part(${ctx.in(i)}, ${ctx.out(0)}, /* element bytes */ ${elemBytes(y.dtype)}, /* outer */ ${outer}, /* chunk */ ${chunk}, /* row */ ${row}, /* offset */ ${offset});`,
      );
      offset += chunk;
    });
    return { kernel: 'tn_concat_part', runtime: ['ref/tn_shape.c'], body };
  },
  cost: noCost,
};

/** Split sizes: the attribute, or ONNX 18's equal parts (ceil(dim / n), the last one smaller). */
function splitSizes(dim: number, n: number, given: readonly number[]): number[] {
  if (given.length) return [...given];
  const part = Math.ceil(dim / n);
  return Array.from({ length: n }, (_, i) => Math.max(0, Math.min(part, dim - i * part)));
}

export const Split: OpDef = {
  op: 'Split',
  summary: 'cut a tensor into parts along an axis',
  inputs: { names: ['input'], min: 1 },
  outputs: { names: variadicNames('Y'), min: 1 },
  attrs: {
    axis: { kind: 'int', default: 0, doc: 'the axis to split' },
    split: { kind: 'ints', default: [], doc: 'the size of each part (default: equal parts, ceil(dim / outputs), the last smaller)' },
  },
  infer(ctx) {
    const x = ctx.inputs[0];
    if (!x || !checkDtype(ctx, 0, ANY, ['input'])) return [];
    const axis = normAxis(ctx.node.attrs.axis as number, x.shape.length);
    if (axis === undefined) {
      ctx.error(`axis ${ctx.node.attrs.axis} is out of range for rank ${x.shape.length}`);
      return [];
    }
    const n = ctx.node.outputs.length;
    const sizes = splitSizes(x.shape[axis]!, n, ints(ctx.node.attrs.split));
    if (sizes.length !== n || sizes.reduce((a, b) => a + b, 0) !== x.shape[axis]) {
      ctx.error(
        `split ${shapeStr(sizes)} must have one size per output (${n}) and add up to ${x.shape[axis]} (axis ${axis} of "${x.name}" ${shapeStr(x.shape)})`,
      );
      return [];
    }
    if (sizes.some((s) => s < 1)) {
      ctx.error(`split ${shapeStr(sizes)} has an empty part; tritc has no zero-size tensors`, 'unsupported');
      return [];
    }
    return sizes.map((s) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === axis ? s : d)) }));
  },
  interpret(ctx) {
    const x = inTensor(ctx, 0);
    const axis = normAxis(ctx.node.attrs.axis as number, x.shape.length)!;
    const sizes = splitSizes(x.shape[axis]!, ctx.node.outputs.length, ints(ctx.node.attrs.split));
    const xs = stridesOf(x.shape);
    const xv = ctx.read(x.name);
    let base = 0;
    sizes.forEach((s, j) => {
      const shape = x.shape.map((d, i) => (i === axis ? s : d));
      const y = alloc(x.dtype, elementCount(shape));
      for (let i = 0; i < y.length; i++) {
        const idx = unravel(i, shape);
        idx[axis]! += base;
        copyElem(
          xv,
          idx.reduce((acc, k, d) => acc + k * xs[d]!, 0),
          y,
          i,
          x.name,
        );
      }
      ctx.write(ctx.node.outputs[j]!, y);
      base += s;
    });
  },
  emit(ctx) {
    const x = ctx.input(0);
    const axis = normAxis(ctx.node.attrs.axis as number, x.shape.length)!;
    const sizes = splitSizes(x.shape[axis]!, ctx.node.outputs.length, ints(ctx.node.attrs.split));
    const xs = stridesOf(x.shape);
    const body: string[] = [];
    let base = 0;
    sizes.forEach((s, j) => {
      const shape = x.shape.map((d, i) => (i === axis ? s : d));
      const tab = ctx.intTable(`shape${j}`, shape);
      const st = ctx.intTable(`strides${j}`, xs);
      body.push(
        `tn_strided_copy(${ctx.in(0)}, ${ctx.out(j)}, /* element bytes */ ${elemBytes(x.dtype)}, /* rank */ ${shape.length}, ${tab}, ${st}, /* offset */ ${base * xs[axis]!});`,
      );
      base += s;
    });
    return { kernel: 'tn_strided_copy', runtime: ['ref/tn_shape.c'], body };
  },
  cost: noCost,
};

// ---- Gather -----------------------------------------------------------------------------------------

export const Gather: OpDef = {
  op: 'Gather',
  summary: 'pick slices along an axis by int32/int64 indices (negative: from the end; out of range: zeros)',
  inputs: { names: ['data', 'indices'], min: 2 },
  outputs: { names: ['output'], min: 1 },
  attrs: { axis: { kind: 'int', default: 0, doc: 'the axis to index' } },
  infer(ctx) {
    const [x, ind] = ctx.inputs;
    if (!x || !ind) return [];
    if (!checkDtype(ctx, 0, ANY, ['data', 'indices']) || !checkDtype(ctx, 1, ['int32', 'int64'], ['data', 'indices'])) return [];
    const axis = normAxis(ctx.node.attrs.axis as number, x.shape.length);
    if (axis === undefined) {
      ctx.error(`axis ${ctx.node.attrs.axis} is out of range for rank ${x.shape.length}`);
      return [];
    }
    if (ind.kind === 'constant' && ind.data) {
      const dim = x.shape[axis]!;
      for (let i = 0; i < ind.data.length; i++) {
        const v = Number(ind.data[i]!);
        if (v < -dim || v >= dim) {
          ctx.error(`index ${v} at ${i} of "${ind.name}" is out of range for axis ${axis} of size ${dim}`);
          return [];
        }
      }
    }
    return [{ dtype: x.dtype, shape: [...x.shape.slice(0, axis), ...ind.shape, ...x.shape.slice(axis + 1)], range: x.range }];
  },
  interpret(ctx) {
    const x = inTensor(ctx, 0);
    const ind = inTensor(ctx, 1);
    const axis = normAxis(ctx.node.attrs.axis as number, x.shape.length)!;
    const dim = x.shape[axis]!;
    const outer = elementCount(x.shape.slice(0, axis));
    const inner = elementCount(x.shape.slice(axis + 1));
    const xv = ctx.read(x.name);
    const iv = ctx.read(ind.name);
    const y = alloc(x.dtype, outer * iv.length * inner); // zero-filled: out-of-range indices stay 0
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < iv.length; j++) {
        let t = Number(elemAt(iv, j, ind.name));
        if (t < 0) t += dim;
        if (t < 0 || t >= dim) continue;
        for (let k = 0; k < inner; k++) copyElem(xv, (o * dim + t) * inner + k, y, (o * iv.length + j) * inner + k, x.name);
      }
    }
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const ind = ctx.input(1);
    const axis = normAxis(ctx.node.attrs.axis as number, x.shape.length)!;
    const outer = elementCount(x.shape.slice(0, axis));
    const inner = elementCount(x.shape.slice(axis + 1));
    return {
      kernel: 'tn_gather',
      runtime: ['ref/tn_shape.c'],
      body: [
        `tn_gather(${ctx.in(0)}, ${ctx.in(1)}, /* int64 indices */ ${ind.dtype === 'int64' ? 1 : 0}, ${ctx.out(0)}, /* element bytes */ ${elemBytes(x.dtype)}, /* outer */ ${outer}, /* dim */ ${x.shape[axis]}, /* inner */ ${inner}, /* indices */ ${count(ind)});`,
      ],
    };
  },
  cost: noCost,
};
