// Random models built from the ONNX ops (compiler/ops/onnx/*), for the differential tests: a pool of
// tensors grows one node at a time, each node picking inputs from the pool that fit it (dtype and
// broadcastable shapes). Graph inputs are float32 [-1, 1), and sometimes int8/uint8/int32/int64/bool;
// constants are random of any dtype. Every node's output joins the pool; a few become graph outputs.

import type { ModelSpec, NodeSpec, TensorSpec } from '../../compiler/readers/native/write.ts';
import { rng } from '../../compiler/harness/inputs.ts';
import type { AttrValue, DType } from '../../compiler/ir.ts';
import { elementCount } from '../../compiler/ir.ts';
import { broadcastShapes } from '../../compiler/ops/broadcast.ts';
import { windowGeometry } from '../../compiler/ops/onnx/conv.ts';
import { transposeGeometry } from '../../compiler/ops/onnx/conv_transpose.ts';
import { COORDINATE_MODES, NEAREST_MODES, resizeTaps, type ResizeMode } from '../../compiler/ops/onnx/resize.ts';
import { RNN_ACTIVATIONS } from '../../compiler/ops/onnx/rnn.ts';

interface PoolTensor {
  name: string;
  dtype: DType;
  shape: number[];
}

interface Gen {
  r: () => number;
  int(lo: number, hi: number): number;
  pick<T>(xs: readonly T[]): T;
  fresh(stem: string): string;
  pool: PoolTensor[];
  tensors: Record<string, TensorSpec>;
  nodes: NodeSpec[];
  /** Add a node; its outputs (with the given dtype/shape) join the pool. */
  node(op: string, inputs: string[], outs: { dtype: DType; shape: number[] }[], attrs?: Record<string, AttrValue>): string[];
  /** A constant of `dtype` and `shape` with random values (floats in [lo, hi)). */
  constant(dtype: DType, shape: number[], lo?: number, hi?: number): string;
  /** A pool tensor satisfying `pred`, or undefined. */
  find(pred: (t: PoolTensor) => boolean): PoolTensor | undefined;
}

const INT_DTYPES: readonly DType[] = ['int8', 'uint8', 'int32', 'int64'];
const ONNX_CODE: Partial<Record<DType, number>> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9 };

function makeGen(seed: number): Gen {
  const r = rng(seed * 104729 + 7);
  let id = 0;
  const g: Gen = {
    r,
    int: (lo, hi) => lo + Math.floor(r() * (hi - lo + 1)),
    pick: (xs) => xs[Math.floor(r() * xs.length)]!,
    fresh: (stem) => `${stem}${id++}`,
    pool: [],
    tensors: {},
    nodes: [],
    node(op, inputs, outs, attrs) {
      const names = outs.map(() => g.fresh(op.toLowerCase()));
      g.nodes.push({ name: g.fresh(`n_${op.toLowerCase()}_`), op, inputs, outputs: names, ...(attrs ? { attrs } : {}) });
      outs.forEach((o, i) => g.pool.push({ name: names[i]!, dtype: o.dtype, shape: o.shape }));
      return names;
    },
    constant(dtype, shape, lo = -1, hi = 1) {
      const name = g.fresh('c');
      const n = elementCount(shape);
      let data;
      switch (dtype) {
        case 'float32':
          data = new Float32Array(n).map(() => lo + (hi - lo) * r());
          break;
        case 'int64':
          data = new BigInt64Array(n).map(() => BigInt(g.int(Math.ceil(lo), Math.floor(hi))));
          break;
        case 'bool':
          data = new Uint8Array(n).map(() => (r() < 0.5 ? 1 : 0));
          break;
        default: {
          const Arr = { int8: Int8Array, uint8: Uint8Array, int32: Int32Array }[dtype as 'int8'];
          data = new Arr(n).map(() => g.int(Math.ceil(lo), Math.floor(hi)));
        }
      }
      g.tensors[name] = { dtype, shape, data };
      return name;
    },
    find(pred) {
      const ok = g.pool.filter(pred);
      return ok.length ? g.pick(ok) : undefined;
    },
  };
  return g;
}

/** A shape that broadcasts against `shape`: a suffix of it with some dims set to 1. */
function broadcastPartner(g: Gen, shape: readonly number[]): number[] {
  const keep = g.int(0, shape.length);
  return shape.slice(shape.length - keep).map((d) => (g.r() < 0.3 ? 1 : d));
}

const randomShape = (g: Gen, maxRank = 4): number[] => Array.from({ length: g.int(0, maxRank) }, () => g.int(1, 5));

// ---- One maker per op family: returns false when it found nothing to apply to -------------------

type Maker = (g: Gen) => boolean;

const arith: Maker = (g) => {
  const a = g.find((t) => t.dtype !== 'bool');
  if (!a) return false;
  const op = g.pick(['Add', 'Sub', 'Mul', 'Div'] as const);
  // A partner from the pool of the same dtype that broadcasts, or a constant.
  const partner = g.r() < 0.5 ? g.find((t) => t.dtype === a.dtype && t !== a && broadcastShapes(t.shape, a.shape) !== undefined) : undefined;
  const range: [number, number] = a.dtype === 'uint8' ? [0, 255] : a.dtype === 'int8' ? [-128, 127] : a.dtype === 'float32' ? [-2, 2] : [-3000, 3000];
  const b = partner?.name ?? g.constant(a.dtype, broadcastPartner(g, a.shape), ...range);
  const bShape = partner?.shape ?? g.tensors[b]!.shape;
  const [x, y] = g.r() < 0.5 ? [a.name, b] : [b, a.name];
  g.node(op, [x, y], [{ dtype: a.dtype, shape: broadcastShapes(a.shape, bShape)! }]);
  return true;
};

const pow: Maker = (g) => {
  const x = g.find((t) => t.dtype === 'float32' || t.dtype === 'int32' || t.dtype === 'int64');
  if (!x) return false;
  const shape = broadcastPartner(g, x.shape);
  let e: string;
  if (x.dtype === 'float32') {
    const kind = g.pick(['float', 'float', 'special', 'int32', 'int64', 'int8', 'uint8'] as const);
    if (kind === 'float') e = g.constant('float32', shape, -3, 3);
    else if (kind === 'special') {
      e = g.fresh('c');
      g.tensors[e] = { dtype: 'float32', shape: [], data: Float32Array.of(g.pick([2, 0.5, -1, 1, 3, -2, 0, 1.5])) };
    } else e = g.constant(kind, shape, kind === 'uint8' ? 0 : -4, 4);
  } else e = g.constant(g.pick(['int32', 'int64', 'float32', 'int8'] as const), shape, -2, 6);
  const eShape = g.tensors[e]!.shape;
  g.node('Pow', [x.name, e], [{ dtype: x.dtype, shape: broadcastShapes(x.shape, eShape)! }]);
  return true;
};

const unary: Maker = (g) => {
  const x = g.find((t) => t.dtype === 'float32');
  if (!x) return false;
  const op = g.pick(['Sqrt', 'Log', 'Exp', 'Erf', 'Sigmoid', 'Tanh', 'Gelu', 'Gelu'] as const);
  g.node(op, [x.name], [{ dtype: 'float32', shape: [...x.shape] }], op === 'Gelu' ? { approximate: g.pick(['none', 'tanh']) } : undefined);
  return true;
};

const relu: Maker = (g) => {
  const x = g.find((t) => t.dtype === 'float32' || t.dtype === 'int32' || t.dtype === 'int64');
  if (!x) return false;
  g.node('Relu', [x.name], [{ dtype: x.dtype, shape: [...x.shape] }]);
  return true;
};

const clip: Maker = (g) => {
  const x = g.find((t) => t.dtype !== 'bool');
  if (!x) return false;
  const [lo, hi] = x.dtype === 'float32' ? [-0.8, 0.8] : x.dtype === 'uint8' ? [0, 255] : [-100, 100];
  const bound = (): string => (g.r() < 0.3 ? '' : g.constant(x.dtype, g.r() < 0.5 ? [] : [1], lo, hi));
  const ins = [x.name, bound(), bound()];
  while (ins.length > 1 && ins[ins.length - 1] === '') ins.pop();
  g.node('Clip', ins, [{ dtype: x.dtype, shape: [...x.shape] }]);
  return true;
};

const cast: Maker = (g) => {
  const x = g.pick(g.pool);
  const to = g.pick(['float32', 'int8', 'uint8', 'int32', 'int64', 'bool'] as const);
  g.node('Cast', [x.name], [{ dtype: to, shape: [...x.shape] }], { to: ONNX_CODE[to]! });
  return true;
};

const where: Maker = (g) => {
  const x = g.pick(g.pool);
  let c = g.find((t) => t.dtype === 'bool' && broadcastShapes(t.shape, x.shape) !== undefined)?.name;
  if (!c) c = g.constant('bool', broadcastPartner(g, x.shape));
  const y =
    g.find((t) => t.dtype === x.dtype && t !== x && broadcastShapes(t.shape, x.shape) !== undefined)?.name ??
    g.constant(x.dtype, broadcastPartner(g, x.shape), -50, 50);
  const shapes = [g.pool.find((t) => t.name === c)?.shape ?? g.tensors[c]!.shape, x.shape, g.pool.find((t) => t.name === y)?.shape ?? g.tensors[y]!.shape];
  const out = broadcastShapes(broadcastShapes(shapes[0]!, shapes[1]!)!, shapes[2]!);
  if (!out) return false;
  g.node('Where', [c, x.name, y], [{ dtype: x.dtype, shape: out }]);
  return true;
};

/** A partner for a binary op on `a`: a pool tensor of its dtype that broadcasts, or a constant (float32: sometimes of ±0 and ±1; constants are finite, NaN and infinities come from Log, Div and Pow upstream). */
function binaryPartner(g: Gen, a: PoolTensor): { name: string; shape: number[] } {
  const partner = g.r() < 0.5 ? g.find((t) => t.dtype === a.dtype && t !== a && broadcastShapes(t.shape, a.shape) !== undefined) : undefined;
  if (partner) return { name: partner.name, shape: partner.shape };
  const shape = broadcastPartner(g, a.shape);
  if (a.dtype === 'float32' && g.r() < 0.4) {
    const name = g.fresh('c');
    g.tensors[name] = { dtype: 'float32', shape, data: Float32Array.from({ length: elementCount(shape) }, () => g.pick([0, -0, -0, 1, -1, 0.5])) };
    return { name, shape };
  }
  const range: [number, number] =
    a.dtype === 'uint8' ? [0, 255] : a.dtype === 'int8' ? [-128, 127] : a.dtype === 'float32' ? [-2, 2] : a.dtype === 'bool' ? [0, 1] : [-3000, 3000];
  return { name: g.constant(a.dtype, shape, ...range), shape };
}

/** Max, Min (signed zeros from the special constants, NaN and infinities from Log/Div/Pow upstream). */
const minMax: Maker = (g) => {
  const a = g.find((t) => t.dtype !== 'bool');
  if (!a) return false;
  const b = binaryPartner(g, a);
  const [x, y] = g.r() < 0.5 ? [a.name, b.name] : [b.name, a.name];
  g.node(g.pick(['Max', 'Min'] as const), [x, y], [{ dtype: a.dtype, shape: broadcastShapes(a.shape, b.shape)! }]);
  return true;
};

/** Less, Greater, Equal (also on bool), LessOrEqual, GreaterOrEqual: bool results Where can use. */
const compare: Maker = (g) => {
  const op = g.pick(['Less', 'Greater', 'Equal', 'LessOrEqual', 'GreaterOrEqual'] as const);
  const a = g.find((t) => op === 'Equal' || t.dtype !== 'bool');
  if (!a) return false;
  const b = binaryPartner(g, a);
  const [x, y] = g.r() < 0.5 ? [a.name, b.name] : [b.name, a.name];
  g.node(op, [x, y], [{ dtype: 'bool', shape: broadcastShapes(a.shape, b.shape)! }]);
  return true;
};

const ELEMENTWISE_MAKERS: readonly Maker[] = [arith, arith, arith, pow, unary, unary, relu, clip, cast, where, minMax, compare];

// ---- shape ops --------------------------------------------------------------------------------------

/** A random shape with `n` elements. */
function factorShape(g: Gen, n: number): number[] {
  const out: number[] = [];
  let rest = n;
  const rank = g.int(1, 4);
  for (let i = 0; i < rank - 1 && rest > 1; i++) {
    const divs = Array.from({ length: rest }, (_, k) => k + 1).filter((d) => rest % d === 0);
    const d = g.pick(divs);
    out.push(d);
    rest /= d;
  }
  out.push(rest);
  return g.r() < 0.5 ? out : out.reverse();
}

const reshape: Maker = (g) => {
  const x = g.pick(g.pool);
  const op = g.pick(['Reshape', 'Flatten', 'Unsqueeze', 'Squeeze'] as const);
  const r = x.shape.length;
  if (op === 'Reshape') {
    const shape = factorShape(g, elementCount(x.shape));
    g.node('Reshape', [x.name], [{ dtype: x.dtype, shape }], { shape });
  } else if (op === 'Flatten') {
    const axis = g.int(-r, r);
    const a = axis < 0 ? axis + r : axis;
    g.node('Flatten', [x.name], [{ dtype: x.dtype, shape: [elementCount(x.shape.slice(0, a)), elementCount(x.shape.slice(a))] }], { axis });
  } else if (op === 'Unsqueeze') {
    if (r >= 6) return false;
    const k = g.int(1, 2);
    const outRank = r + k;
    const axes = Array.from({ length: outRank }, (_, i) => i)
      .sort(() => g.r() - 0.5)
      .slice(0, k);
    const shape: number[] = [];
    let j = 0;
    for (let i = 0; i < r + axes.length; i++) shape.push(axes.includes(i) ? 1 : x.shape[j++]!);
    g.node('Unsqueeze', [x.name], [{ dtype: x.dtype, shape }], { axes: axes.map((a) => (g.r() < 0.3 ? a - shape.length : a)) });
  } else {
    const ones = x.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
    if (!ones.length) return false;
    const axes = g.r() < 0.3 ? [] : ones.filter(() => g.r() < 0.6);
    const drop = axes.length ? axes : ones;
    g.node('Squeeze', [x.name], [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !drop.includes(i)) }], { axes: axes.map((a) => (g.r() < 0.3 ? a - r : a)) });
  }
  return true;
};

const transpose: Maker = (g) => {
  const x = g.find((t) => t.shape.length >= 2);
  if (!x) return false;
  const perm = x.shape.map((_, i) => i).sort(() => g.r() - 0.5);
  const useDefault = g.r() < 0.2;
  const p = useDefault ? x.shape.map((_, i) => x.shape.length - 1 - i) : perm;
  g.node('Transpose', [x.name], [{ dtype: x.dtype, shape: p.map((i) => x.shape[i]!) }], useDefault ? {} : { perm });
  return true;
};

const slice: Maker = (g) => {
  const x = g.find((t) => t.shape.length >= 1 && t.shape.some((d) => d >= 2));
  if (!x) return false;
  const axes = x.shape.map((_, i) => i).filter(() => g.r() < 0.6);
  if (!axes.length) axes.push(x.shape.findIndex((d) => d >= 2));
  const starts: number[] = [];
  const ends: number[] = [];
  const steps: number[] = [];
  const shape = [...x.shape];
  for (const a of axes) {
    const dim = x.shape[a]!;
    const step = g.pick([1, 1, 2, -1, -2, 3]);
    let s: number;
    let e: number;
    if (step > 0) {
      s = g.int(0, dim - 1);
      e = g.int(s + 1, dim + 2); // past the end is clamped
    } else {
      s = g.int(0, dim - 1);
      e = g.int(-1, s - 1); // -1 here means "before 0" only after normalisation, see below
    }
    const n = step > 0 ? Math.ceil((Math.min(e, dim) - s) / step) : Math.ceil((s - e) / -step);
    // Write ends the ONNX way: a negative step's end of -1 must be given as -dim - 1 (or less).
    starts.push(g.r() < 0.3 ? s - dim : s);
    ends.push(step < 0 && e === -1 ? -dim - 1 - g.int(0, 3) : step > 0 && e >= dim ? e : g.r() < 0.3 ? e - dim : e);
    steps.push(step);
    shape[a] = n;
  }
  const attrs = { starts, ends, axes: axes.map((a) => (g.r() < 0.3 ? a - x.shape.length : a)), steps };
  g.node('Slice', [x.name], [{ dtype: x.dtype, shape }], attrs);
  return true;
};

const concat: Maker = (g) => {
  const x = g.find((t) => t.shape.length >= 1);
  if (!x) return false;
  const r = x.shape.length;
  const axis = g.int(0, r - 1);
  const ins = [x.name];
  let total = x.shape[axis]!;
  for (let k = g.int(1, 3); k > 0; k--) {
    const other =
      g.r() < 0.5 ? g.find((t) => t.dtype === x.dtype && t.shape.length === r && t.shape.every((d, i) => i === axis || d === x.shape[i])) : undefined;
    if (other) {
      ins.push(other.name);
      total += other.shape[axis]!;
    } else {
      const shape = x.shape.map((d, i) => (i === axis ? g.int(1, 3) : d));
      ins.push(g.constant(x.dtype, shape, -20, 20));
      total += shape[axis]!;
    }
  }
  g.node('Concat', ins, [{ dtype: x.dtype, shape: x.shape.map((d, i) => (i === axis ? total : d)) }], { axis: g.r() < 0.3 ? axis - r : axis });
  return true;
};

const split: Maker = (g) => {
  const x = g.find((t) => t.shape.some((d) => d >= 2));
  if (!x) return false;
  const axis = x.shape.findIndex((d) => d >= 2);
  const dim = x.shape[axis]!;
  let sizes: number[];
  let attrs: Record<string, AttrValue>;
  if (g.r() < 0.5) {
    const n = g.int(2, Math.min(dim, 4));
    const part = Math.ceil(dim / n);
    sizes = Array.from({ length: n }, (_, i) => Math.min(part, dim - i * part)).filter((v) => v > 0);
    attrs = { axis };
  } else {
    sizes = [];
    let rest = dim;
    while (rest > 0) {
      const s = g.int(1, rest);
      sizes.push(s);
      rest -= s;
    }
    attrs = { axis: g.r() < 0.3 ? axis - x.shape.length : axis, split: sizes };
  }
  g.node(
    'Split',
    [x.name],
    sizes.map((s) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === axis ? s : d)) })),
    attrs,
  );
  return true;
};

const gather: Maker = (g) => {
  const x = g.find((t) => t.shape.length >= 1);
  if (!x) return false;
  const axis = g.int(0, x.shape.length - 1);
  const dim = x.shape[axis]!;
  const ishape = Array.from({ length: g.int(0, 2) }, () => g.int(1, 3));
  const ind = g.constant(g.pick(['int32', 'int64'] as const), ishape, -dim, dim - 1);
  g.node('Gather', [x.name, ind], [{ dtype: x.dtype, shape: [...x.shape.slice(0, axis), ...ishape, ...x.shape.slice(axis + 1)] }], { axis });
  return true;
};

const SHAPE_MAKERS: readonly Maker[] = [reshape, reshape, transpose, slice, slice, concat, split, gather];

// ---- MatMul and Gemm --------------------------------------------------------------------------------

const matmul: Maker = (g) => {
  const a = g.find((t) => t.dtype === 'float32' && t.shape.length >= 1 && t.shape.length <= 4);
  if (!a) return false;
  if (a.shape.length <= 2 && g.r() < 0.3) {
    // a on the right: [M, K] (or [K]) @ a, where a is [K] or [K, N]
    const k = a.shape[0]!;
    const left = g.r() < 0.5 ? [k] : [g.int(1, 4), k];
    const c = g.constant('float32', left);
    const out = [...(left.length === 2 ? [left[0]!] : []), ...(a.shape.length === 2 ? [a.shape[1]!] : [])];
    g.node('MatMul', [c, a.name], [{ dtype: 'float32', shape: out }]);
    return true;
  }
  const k = a.shape[a.shape.length - 1]!;
  const n = g.int(1, 6);
  // B: 1-D [K], 2-D [K, N], or with batch axes that broadcast against a's.
  const form = g.pick(['1d', '2d', '2d', 'batch'] as const);
  const aBatch = a.shape.slice(0, -2);
  const bShape = form === '1d' ? [k] : form === '2d' ? [k, n] : [...broadcastPartner(g, aBatch.length ? aBatch : [g.int(1, 3)]), k, n];
  const b = g.constant('float32', bShape);
  const a2 = a.shape.length === 1 ? [1, k] : a.shape;
  const b2 = bShape.length === 1 ? [k, 1] : bShape;
  const batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2))!;
  const out = [...batch, ...(a.shape.length === 1 ? [] : [a2[a2.length - 2]!]), ...(bShape.length === 1 ? [] : [n])];
  g.node('MatMul', [a.name, b], [{ dtype: 'float32', shape: out }]);
  return true;
};

const gemm: Maker = (g) => {
  const a = g.find((t) => t.dtype === 'float32' && t.shape.length === 2);
  if (!a) return false;
  const transA = g.r() < 0.3 ? 1 : 0;
  const [m, k] = transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const n = g.int(1, 6);
  const transB = g.r() < 0.4 ? 1 : 0;
  const b = g.constant('float32', transB ? [n, k] : [k, n]);
  const ins = [a.name, b];
  if (g.r() < 0.7) ins.push(g.constant('float32', g.pick([[n], [1, n], [m, n], [], [m, 1]])));
  const attrs: Record<string, AttrValue> = { transA, transB };
  if (g.r() < 0.5) attrs.alpha = g.pick([1, 0.5, -2, 0.1]);
  if (g.r() < 0.5) attrs.beta = g.pick([1, 0, 3, 0.3]);
  g.node('Gemm', ins, [{ dtype: 'float32', shape: [m, n] }], attrs);
  return true;
};

const MATMUL_MAKERS: readonly Maker[] = [matmul, gemm];

// ---- reductions and normalisations ------------------------------------------------------------------

const reduceMean: Maker = (g) => {
  const x = g.find((t) => t.dtype === 'float32');
  if (!x) return false;
  const r = x.shape.length;
  const axes = x.shape.map((_, i) => i).filter(() => g.r() < 0.5);
  const keepdims = g.r() < 0.5 ? 1 : 0;
  const noop = axes.length === 0 && g.r() < 0.3 ? 1 : 0;
  const red = axes.length ? axes : noop ? [] : x.shape.map((_, i) => i);
  const shape = keepdims ? x.shape.map((d, i) => (red.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !red.includes(i));
  g.node('ReduceMean', [x.name], [{ dtype: 'float32', shape }], { axes: axes.map((a) => (g.r() < 0.3 ? a - r : a)), keepdims, noop_with_empty_axes: noop });
  return true;
};

const layerNorm: Maker = (g) => {
  const x = g.find((t) => t.dtype === 'float32' && t.shape.length >= 1);
  if (!x) return false;
  const r = x.shape.length;
  const axis = g.int(0, r - 1);
  const norm = x.shape.slice(axis);
  const ins = [x.name, g.constant('float32', g.r() < 0.7 ? norm : broadcastPartner(g, norm), 0.5, 1.5)];
  if (g.r() < 0.7) ins.push(g.constant('float32', g.r() < 0.7 ? norm : broadcastPartner(g, norm)));
  const stat = x.shape.map((d, i) => (i < axis ? d : 1));
  const outs = [
    { dtype: 'float32' as const, shape: [...x.shape] },
    ...(g.r() < 0.3
      ? [
          { dtype: 'float32' as const, shape: stat },
          { dtype: 'float32' as const, shape: stat },
        ]
      : []),
  ];
  g.node('LayerNormalization', ins, outs, { axis: g.r() < 0.5 ? axis - r : axis, ...(g.r() < 0.5 ? { epsilon: g.pick([1e-5, 1e-3, 0.1]) } : {}) });
  return true;
};

const batchNorm: Maker = (g) => {
  const x = g.find((t) => t.dtype === 'float32' && t.shape.length >= 2);
  if (!x) return false;
  const c = x.shape[1]!;
  const ins = [x.name, g.constant('float32', [c]), g.constant('float32', [c]), g.constant('float32', [c]), g.constant('float32', [c], 0, 2)];
  g.node('BatchNormalization', ins, [{ dtype: 'float32', shape: [...x.shape] }], g.r() < 0.5 ? { epsilon: g.pick([1e-5, 0.01]) } : {});
  return true;
};

const softmaxes: Maker = (g) => {
  const x = g.find((t) => t.dtype === 'float32' && t.shape.length >= 1);
  if (!x) return false;
  const op = g.pick(['LogSoftmax', 'Softmax', 'ArgMax'] as const);
  const axis = g.int(-x.shape.length, x.shape.length - 1);
  if (op === 'ArgMax') {
    const a = axis < 0 ? axis + x.shape.length : axis;
    const keepdims = g.r() < 0.5;
    const i64 = g.r() < 0.5;
    g.node(
      'ArgMax',
      [x.name],
      [{ dtype: i64 ? 'int64' : 'int32', shape: keepdims ? x.shape.map((d, i) => (i === a ? 1 : d)) : x.shape.filter((_, i) => i !== a) }],
      {
        axis,
        keepdims,
        select_last_index: g.r() < 0.5,
        output_dtype: i64 ? 'int64' : 'int32',
      },
    );
  } else g.node(op, [x.name], [{ dtype: 'float32', shape: [...x.shape] }], { axis });
  return true;
};

/** ReduceSum, ReduceMax, ReduceMin on any numeric dtype. */
const reduceOther: Maker = (g) => {
  const x = g.find((t) => t.dtype !== 'bool');
  if (!x) return false;
  const r = x.shape.length;
  const axes = x.shape.map((_, i) => i).filter(() => g.r() < 0.5);
  const keepdims = g.r() < 0.5 ? 1 : 0;
  const noop = axes.length === 0 && g.r() < 0.3 ? 1 : 0;
  const red = axes.length ? axes : noop ? [] : x.shape.map((_, i) => i);
  const shape = keepdims ? x.shape.map((d, i) => (red.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !red.includes(i));
  const op = g.pick(['ReduceSum', 'ReduceMax', 'ReduceMin'] as const);
  g.node(op, [x.name], [{ dtype: x.dtype, shape }], { axes: axes.map((a) => (g.r() < 0.3 ? a - r : a)), keepdims, noop_with_empty_axes: noop });
  return true;
};

const NORM_MAKERS: readonly Maker[] = [reduceMean, reduceOther, layerNorm, batchNorm, softmaxes];

// ---- Conv and pools ---------------------------------------------------------------------------------

/** A float tensor shaped [N, C, spatial...] (1 or 2 spatial axes), reshaping one from the pool if needed. */
function spatialInput(g: Gen, dtypes: readonly DType[] = ['float32']): PoolTensor | undefined {
  const have = g.find((t) => dtypes.includes(t.dtype) && t.shape.length >= 3 && t.shape.length <= 4);
  if (have && g.r() < 0.7) return have;
  const src =
    g.find((t) => dtypes.includes(t.dtype) && elementCount(t.shape) >= 2) ??
    (dtypes.includes('float32') ? undefined : quantizeSome(g, (t) => elementCount(t.shape) >= 2));
  if (!src) return have;
  const n = elementCount(src.shape);
  const divs = Array.from({ length: n }, (_, k) => k + 1).filter((d) => n % d === 0 && d <= 4);
  const c = g.pick(divs);
  const rest = n / c;
  const sp =
    g.r() < 0.5
      ? [rest]
      : (() => {
          const hs = Array.from({ length: rest }, (_, k) => k + 1).filter((d) => rest % d === 0);
          const h = g.pick(hs);
          return [h, rest / h];
        })();
  const shape = [1, c, ...sp];
  const [name] = g.node('Reshape', [src.name], [{ dtype: src.dtype, shape }], { shape });
  return g.pool.find((t) => t.name === name);
}

function windowAttrs(g: Gen, spatial: readonly number[], kernel: readonly number[]): Record<string, AttrValue> {
  const attrs: Record<string, AttrValue> = {};
  const mode = g.pick(['NOTSET', 'NOTSET', 'NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'] as const);
  if (mode !== 'NOTSET') attrs.auto_pad = mode;
  else if (g.r() < 0.6) attrs.pads = [...spatial.map(() => g.int(0, 2)), ...spatial.map(() => g.int(0, 2))];
  if (g.r() < 0.5) attrs.strides = spatial.map(() => g.int(1, 3));
  if (g.r() < 0.3) attrs.dilations = spatial.map(() => g.int(1, 2));
  if (g.r() < 0.5) attrs.kernel_shape = [...kernel];
  return attrs;
}

const conv: Maker = (g) => {
  const x = spatialInput(g);
  if (!x) return false;
  const c = x.shape[1]!;
  const spatial = x.shape.slice(2);
  const groups = Array.from({ length: c }, (_, k) => k + 1).filter((d) => c % d === 0);
  const group = g.r() < 0.3 ? c : g.pick(groups); // depthwise often
  const m = group * g.int(1, 3);
  const kernel = spatial.map((d) => g.int(1, Math.min(3, d + 2)));
  const attrs = { ...windowAttrs(g, spatial, kernel), group };
  const win = windowGeometry(spatial, kernel, attrs, false);
  if (typeof win === 'string') return false;
  const ins = [x.name, g.constant('float32', [m, c / group, ...kernel])];
  if (g.r() < 0.6) ins.push(g.constant('float32', [m]));
  g.node('Conv', ins, [{ dtype: 'float32', shape: [x.shape[0]!, m, ...win.out] }], attrs);
  return true;
};

const pool: Maker = (g) => {
  const op = g.pick(['MaxPool', 'AveragePool', 'GlobalAveragePool'] as const);
  const x = spatialInput(g, op === 'MaxPool' ? ['float32', 'int8', 'uint8'] : ['float32']);
  if (!x) return false;
  const spatial = x.shape.slice(2);
  if (op === 'GlobalAveragePool') {
    g.node(op, [x.name], [{ dtype: 'float32', shape: x.shape.map((d, i) => (i < 2 ? d : 1)) }]);
    return true;
  }
  const kernel = spatial.map((d) => g.int(1, Math.min(3, d + 1)));
  const attrs: Record<string, AttrValue> = { ...windowAttrs(g, spatial, kernel), kernel_shape: kernel };
  if (g.r() < 0.4) attrs.ceil_mode = 1;
  if (op === 'AveragePool' && g.r() < 0.5) attrs.count_include_pad = 1;
  const win = windowGeometry(spatial, kernel, attrs, attrs.ceil_mode === 1);
  if (typeof win === 'string') return false;
  g.node(op, [x.name], [{ dtype: x.dtype, shape: [x.shape[0]!, x.shape[1]!, ...win.out] }], attrs);
  return true;
};

const CONV_MAKERS: readonly Maker[] = [conv, conv, pool];

// ---- quantised ops ----------------------------------------------------------------------------------

const Q8 = ['int8', 'uint8'] as const;
const qrange = (d: DType): [number, number] => (d === 'int8' ? [-128, 127] : [0, 255]);

/** A scale (and zero point) per tensor or per axis of `x`. */
function qparams(g: Gen, x: PoolTensor, dtype: DType | undefined): { scale: string; zp: string; axis: number } {
  const perAxis = x.shape.length >= 1 && g.r() < 0.5;
  const axis = perAxis ? g.int(0, x.shape.length - 1) : 1;
  const shape = perAxis ? [x.shape[axis]!] : g.pick([[], [1]]);
  const scale = g.constant('float32', shape, 0.005, 0.1);
  const zp = dtype ? g.constant(dtype, shape, ...((dtype === 'int8' ? [-20, 20] : [100, 150]) as [number, number])) : '';
  return { scale, zp, axis };
}

const quantize: Maker = (g) => quantizeSome(g) !== undefined;

/** Quantise a float tensor of the pool (QuantizeLinear, sometimes followed by DequantizeLinear); returns the int8/uint8 tensor. */
function quantizeSome(g: Gen, pred: (t: PoolTensor) => boolean = () => true): PoolTensor | undefined {
  const x = g.find((t) => t.dtype === 'float32' && pred(t));
  if (!x) return undefined;
  const useZp = g.r() < 0.7;
  const dtype = g.pick(Q8);
  const { scale, zp, axis } = qparams(g, x, useZp ? dtype : undefined);
  const attrs: Record<string, AttrValue> = { axis };
  if (!useZp && dtype === 'int8') attrs.output_dtype = 3;
  const [q] = g.node(
    'QuantizeLinear',
    zp ? [x.name, scale, zp] : [x.name, scale],
    [{ dtype: useZp || dtype === 'int8' ? dtype : 'uint8', shape: [...x.shape] }],
    attrs,
  );
  if (g.r() < 0.5) {
    const qt = g.pool.find((t) => t.name === q)!;
    const p = qparams(g, qt, qt.dtype);
    g.node('DequantizeLinear', g.r() < 0.8 ? [q!, p.scale, p.zp] : [q!, p.scale], [{ dtype: 'float32', shape: [...x.shape] }], { axis: p.axis });
  }
  return g.pool.find((t) => t.name === q);
}

/** An int8/uint8 tensor from the pool, or a float one quantised for the purpose. */
function q8Tensor(g: Gen, pred: (t: PoolTensor) => boolean): PoolTensor | undefined {
  return (g.r() < 0.5 ? g.find((t) => (t.dtype === 'int8' || t.dtype === 'uint8') && pred(t)) : undefined) ?? quantizeSome(g, pred);
}

const dequantizeInt32: Maker = (g) => {
  const x = g.find((t) => t.dtype === 'int32' || t.dtype === 'int8' || t.dtype === 'uint8');
  if (!x) return false;
  const p = qparams(g, x, g.r() < 0.5 ? x.dtype : undefined);
  g.node('DequantizeLinear', p.zp ? [x.name, p.scale, p.zp] : [x.name, p.scale], [{ dtype: 'float32', shape: [...x.shape] }], { axis: p.axis });
  return true;
};

const qmatmul: Maker = (g) => {
  const a = q8Tensor(g, (t) => t.shape.length >= 1 && t.shape.length <= 3);
  if (!a) return false;
  const k = a.shape[a.shape.length - 1]!;
  const m = a.shape.length >= 2 ? a.shape[a.shape.length - 2]! : 1;
  const n = g.int(1, 5);
  const bType = g.pick(Q8);
  const bShape = g.r() < 0.3 ? [k] : [k, n];
  const b = g.constant(bType, bShape, ...qrange(bType));
  const nOut = bShape.length === 1 ? 1 : n;
  const out = [...a.shape.slice(0, -1), ...(bShape.length === 1 ? [] : [n])];
  const zpShape = (per: number) => (g.r() < 0.5 || a.shape.length === 1 ? [] : [per]);
  if (g.r() < 0.5) {
    const ins = [a.name, b];
    if (g.r() < 0.8) ins.push(g.constant(a.dtype, zpShape(m), ...qrange(a.dtype)));
    if (ins.length === 3 && g.r() < 0.8) ins.push(g.constant(bType, bShape.length === 1 ? [] : zpShape(nOut), ...qrange(bType)));
    g.node('MatMulInteger', ins, [{ dtype: 'int32', shape: out }]);
  } else {
    const aShape = zpShape(m);
    const bpShape = bShape.length === 1 ? [] : zpShape(nOut);
    const yType = g.pick(Q8);
    const ins = [
      a.name,
      g.constant('float32', aShape, 0.01, 0.05),
      g.constant(a.dtype, aShape, ...qrange(a.dtype)),
      b,
      g.constant('float32', bpShape, 0.01, 0.05),
      g.constant(bType, bpShape, ...qrange(bType)),
      g.constant('float32', [], 0.05, 0.5),
      g.constant(yType, [], ...qrange(yType)),
    ];
    g.node('QLinearMatMul', ins, [{ dtype: yType, shape: out }]);
  }
  return true;
};

const qconv: Maker = (g) => {
  const x = spatialInput(g, Q8);
  if (!x) return false;
  const c = x.shape[1]!;
  const spatial = x.shape.slice(2);
  const group = g.r() < 0.3 ? c : 1;
  const m = group * g.int(1, 2);
  const kernel = spatial.map((d) => g.int(1, Math.min(3, d + 1)));
  const attrs = { ...windowAttrs(g, spatial, kernel), group };
  const win = windowGeometry(spatial, kernel, attrs, false);
  if (typeof win === 'string') return false;
  const wType = g.pick(Q8);
  const w = g.constant(wType, [m, c / group, ...kernel], ...qrange(wType));
  const out = [x.shape[0]!, m, ...win.out];
  const perM = () => (g.r() < 0.5 ? [] : [m]);
  if (g.r() < 0.5) {
    const ins = [x.name, w];
    if (g.r() < 0.8) ins.push(g.constant(x.dtype, [], ...qrange(x.dtype)));
    if (ins.length === 3 && g.r() < 0.8) ins.push(g.constant(wType, perM(), ...qrange(wType)));
    g.node('ConvInteger', ins, [{ dtype: 'int32', shape: out }], attrs);
  } else {
    const yType = g.pick(Q8);
    const ws = perM();
    const ins = [
      x.name,
      g.constant('float32', [], 0.01, 0.05),
      g.constant(x.dtype, [], ...qrange(x.dtype)),
      w,
      g.constant('float32', ws, 0.01, 0.05),
      g.constant(wType, g.r() < 0.5 ? [] : ws, ...qrange(wType)),
      g.constant('float32', [], 0.05, 0.5),
      g.constant(yType, [], ...qrange(yType)),
    ];
    if (g.r() < 0.6) ins.push(g.constant('int32', [m], -5000, 5000));
    g.node('QLinearConv', ins, [{ dtype: yType, shape: out }], attrs);
  }
  return true;
};

const QUANT_MAKERS: readonly Maker[] = [quantize, dequantizeInt32, qmatmul, qmatmul, qconv, qconv, qconv];

// ---- the ops PyTorch's exporter adds (activations, Pad/Tile/Expand, indices, ConvTranspose, Resize,
// LSTM/GRU, LRN) ------------------------------------------------------------------------------------

const activation: Maker = (g) => {
  const x = g.find((t) => t.dtype === 'float32');
  if (!x) return false;
  const op = g.pick(['Elu', 'LeakyRelu', 'Selu', 'HardSigmoid', 'HardSwish', 'Softplus', 'Softsign', 'Mish', 'Floor', 'Ceil', 'Round'] as const);
  const attrs: Record<string, AttrValue> = {};
  if (['Elu', 'LeakyRelu', 'Selu', 'HardSigmoid'].includes(op) && g.r() < 0.7) attrs.alpha = g.pick([0.1, 0.5, 1.5, -0.3]);
  if (op === 'Selu' && g.r() < 0.5) attrs.gamma = g.pick([0.9, 1.2]);
  if (op === 'HardSigmoid' && g.r() < 0.5) attrs.beta = g.pick([0.2, 0.6]);
  // Scale the input so that rounding sees integers and halves, and exp sees its range.
  const [y] =
    op === 'Floor' || op === 'Ceil' || op === 'Round'
      ? g.node('Mul', [x.name, g.constant('float32', [], 2, 6)], [{ dtype: 'float32', shape: x.shape }])
      : [x.name];
  g.node(op, [y!], [{ dtype: 'float32', shape: [...x.shape] }], attrs);
  return true;
};

const absPrelu: Maker = (g) => {
  if (g.r() < 0.5) {
    const x = g.find((t) => t.dtype !== 'bool');
    if (!x) return false;
    g.node('Abs', [x.name], [{ dtype: x.dtype, shape: [...x.shape] }]);
    return true;
  }
  const x = g.find((t) => t.dtype === 'float32');
  if (!x) return false;
  g.node('PRelu', [x.name, g.constant('float32', broadcastPartner(g, x.shape), -1, 1)], [{ dtype: 'float32', shape: [...x.shape] }]);
  return true;
};

const expandTilePad: Maker = (g) => {
  const x = g.find((t) => t.dtype !== 'bool' && elementCount(t.shape) <= 64);
  if (!x) return false;
  const op = g.pick(['Expand', 'Tile', 'Pad', 'Pad'] as const);
  if (op === 'Expand') {
    const lead = Array.from({ length: g.int(0, 2) }, () => g.int(1, 3));
    const shape = [...lead, ...x.shape.map((d) => (d === 1 ? g.int(1, 3) : g.r() < 0.3 ? 1 : d))];
    g.node('Expand', [x.name], [{ dtype: x.dtype, shape: broadcastShapes(x.shape, shape)! }], { shape });
  } else if (op === 'Tile') {
    const repeats = x.shape.map(() => g.int(1, 3));
    g.node('Tile', [x.name], [{ dtype: x.dtype, shape: x.shape.map((d, a) => d * repeats[a]!) }], { repeats });
  } else {
    const mode = g.pick(['constant', 'reflect', 'edge', 'wrap'] as const);
    const pad = (d: number) => g.int(-Math.min(1, Math.floor((d - 1) / 2)), 3);
    const pads = [...x.shape.map(pad), ...x.shape.map(pad)];
    const r = x.shape.length;
    const shape = x.shape.map((d, a) => d + pads[a]! + pads[a + r]!);
    const ins = [x.name];
    if (mode === 'constant' && g.r() < 0.6) ins.push(g.constant(x.dtype, g.r() < 0.5 ? [] : [1], -5, 5));
    g.node('Pad', ins, [{ dtype: x.dtype, shape }], { pads, mode });
  }
  return true;
};

const indexOps: Maker = (g) => {
  const x = g.find((t) => t.dtype !== 'bool' && t.shape.length >= 1);
  if (!x) return false;
  const r = x.shape.length;
  const axis = g.int(-r, r - 1);
  const a = axis < 0 ? axis + r : axis;
  const op = g.pick(['CumSum', 'TopK', 'ScatterND', 'ArgMin', 'ReduceProd'] as const);
  if (op === 'CumSum') g.node(op, [x.name], [{ dtype: x.dtype, shape: [...x.shape] }], { axis, exclusive: g.int(0, 1), reverse: g.int(0, 1) });
  else if (op === 'TopK') {
    const k = g.int(1, x.shape[a]!);
    const shape = x.shape.map((d, i) => (i === a ? k : d));
    g.node(
      op,
      [x.name],
      [
        { dtype: x.dtype, shape },
        { dtype: 'int64', shape },
      ],
      { k, axis, largest: g.int(0, 1) },
    );
  } else if (op === 'ArgMin') {
    const keepdims = g.r() < 0.5;
    g.node(op, [x.name], [{ dtype: 'int64', shape: keepdims ? x.shape.map((d, i) => (i === a ? 1 : d)) : x.shape.filter((_, i) => i !== a) }], {
      axis,
      keepdims,
      select_last_index: g.r() < 0.5,
      output_dtype: 'int64',
    });
  } else if (op === 'ReduceProd') {
    const keepdims = g.r() < 0.5 ? 1 : 0;
    g.node(op, [x.name], [{ dtype: x.dtype, shape: keepdims ? x.shape.map((d, i) => (i === a ? 1 : d)) : x.shape.filter((_, i) => i !== a) }], {
      axes: [axis],
      keepdims,
    });
  } else {
    const q = g.int(1, r);
    const n = g.int(1, 4);
    const idx: number[] = [];
    for (let t = 0; t < n * q; t++) {
      const d = x.shape[t % q]!;
      idx.push(g.r() < 0.2 ? g.int(-d, -1) : g.int(0, d - 1));
    }
    const name = g.fresh('c');
    g.tensors[name] = { dtype: 'int64', shape: [n, q], data: BigInt64Array.from(idx, BigInt) };
    const range: [number, number] = x.dtype === 'uint8' ? [0, 255] : x.dtype === 'float32' ? [-2, 2] : [-100, 100];
    const updates = g.constant(x.dtype, [n, ...x.shape.slice(q)], ...range);
    g.node(op, [x.name, name, updates], [{ dtype: x.dtype, shape: [...x.shape] }], { reduction: g.pick(['none', 'add', 'mul', 'max', 'min']) });
  }
  return true;
};

const lrn: Maker = (g) => {
  const x = spatialInput(g);
  if (!x) return false;
  g.node('LRN', [x.name], [{ dtype: 'float32', shape: [...x.shape] }], {
    size: g.int(1, 5),
    alpha: g.pick([1e-4, 0.01, 0.5]),
    beta: g.pick([0.75, 0.5, 1.3]),
    bias: g.pick([1, 2, 0.5]),
  });
  return true;
};

const convTranspose: Maker = (g) => {
  const x = spatialInput(g);
  if (!x) return false;
  const c = x.shape[1]!;
  const spatial = x.shape.slice(2);
  const group = g.pick(Array.from({ length: c }, (_, k) => k + 1).filter((d) => c % d === 0));
  const mg = g.int(1, 2);
  const kernel = spatial.map(() => g.int(1, 3));
  const attrs: Record<string, AttrValue> = { group };
  if (g.r() < 0.6) attrs.strides = spatial.map(() => g.int(1, 2));
  if (g.r() < 0.3) attrs.dilations = spatial.map(() => g.int(1, 2));
  const strides = (attrs.strides as number[] | undefined) ?? spatial.map(() => 1);
  if (g.r() < 0.4) attrs.output_padding = strides.map((s) => g.int(0, s - 1));
  if (g.r() < 0.4) attrs.pads = [...spatial.map(() => g.int(0, 1)), ...spatial.map(() => g.int(0, 1))];
  else if (g.r() < 0.3) attrs.auto_pad = g.pick(['SAME_UPPER', 'SAME_LOWER']);
  const w = g.constant('float32', [c, mg, ...kernel]);
  const win = transposeGeometry(
    { name: x.name, dtype: 'float32', shape: x.shape, kind: 'activation' },
    { name: w, dtype: 'float32', shape: [c, mg, ...kernel], kind: 'constant' },
    attrs,
  );
  if (typeof win === 'string') return false;
  const ins = [x.name, w];
  if (g.r() < 0.6) ins.push(g.constant('float32', [mg * group]));
  g.node('ConvTranspose', ins, [{ dtype: 'float32', shape: [x.shape[0]!, mg * group, ...win.out] }], attrs);
  return true;
};

const interpolate: Maker = (g) => {
  const x = g.find((t) => t.shape.length >= 1 && t.shape.length <= 4 && elementCount(t.shape) <= 64 && (t.dtype === 'float32' || t.dtype !== 'bool'));
  if (!x) return false;
  const mode: ResizeMode = x.dtype === 'float32' ? g.pick(['nearest', 'linear', 'cubic'] as const) : 'nearest';
  const scales = x.shape.map((_, a) => (a >= x.shape.length - 2 ? g.pick([0.5, 0.75, 1, 1.5, 2, 3]) : 1));
  const out = x.shape.map((d, a) => Math.max(1, Math.floor(d * scales[a]!)));
  const coordinate = g.pick(COORDINATE_MODES);
  const taps = resizeTaps(x.shape, {
    mode,
    coordinate,
    nearest: g.pick(NEAREST_MODES),
    cubicA: g.pick([-0.75, -0.5]),
    excludeOutside: g.r() < 0.3,
    antialias: mode !== 'nearest' && g.r() < 0.3,
    scales: out.map((d, a) => (g.r() < 0.5 ? scales[a]! : d / x.shape[a]!)),
    out,
    roi: coordinate === 'tf_crop_and_resize' ? [...x.shape.map(() => g.pick([0, 0.2])), ...x.shape.map(() => g.pick([1, 0.8, 1.2]))] : undefined,
  });
  if (!taps.index.length) return false;
  const table = (dtype: 'int32' | 'float32', v: number[]) => {
    const name = g.fresh('c');
    g.tensors[name] = { dtype, shape: [v.length], data: dtype === 'int32' ? Int32Array.from(v) : Float32Array.from(v) };
    return name;
  };
  g.node('Interpolate', [x.name, table('int32', taps.offsets), table('int32', taps.index), table('float32', taps.weight)], [{ dtype: x.dtype, shape: out }], {
    sizes: out,
    extrapolation_value: g.pick([0, -1.5]),
  });
  return true;
};

const recurrent: Maker = (g) => {
  const src = g.find((t) => t.dtype === 'float32' && elementCount(t.shape) >= 2 && elementCount(t.shape) <= 48);
  if (!src) return false;
  const n = elementCount(src.shape);
  const layout = g.int(0, 1);
  const seq = g.pick([1, 2, 3, 4].filter((d) => n % d === 0));
  const batch = g.pick([1, 2].filter((d) => (n / seq) % d === 0));
  const input = n / seq / batch;
  const xShape = layout ? [batch, seq, input] : [seq, batch, input];
  const [x] = g.node('Reshape', [src.name], [{ dtype: 'float32', shape: xShape }], { shape: xShape });
  const kind = g.pick(['LSTM', 'GRU'] as const);
  const lstm = kind === 'LSTM';
  const G = lstm ? 4 : 3;
  const H = g.int(1, 4);
  const direction = g.pick(['forward', 'reverse', 'bidirectional'] as const);
  const dirs = direction === 'bidirectional' ? 2 : 1;
  const names = Object.keys(RNN_ACTIVATIONS);
  const acts = Array.from({ length: (lstm ? 3 : 2) * dirs }, (_, k) => (g.r() < 0.6 ? (k % (lstm ? 3 : 2) === 0 ? 'Sigmoid' : 'Tanh') : g.pick(names)));
  const params = acts.flatMap((a) => (g.r() < 0.5 ? RNN_ACTIVATIONS[a]! : [g.pick([0.5, 1.2]), g.pick([0.1, 0.5])]));
  const opt = (p: number, make: () => string) => (g.r() < p ? make() : '');
  const state = layout ? [batch, dirs, H] : [dirs, batch, H];
  const seqLens = () => {
    const name = g.fresh('c');
    g.tensors[name] = { dtype: 'int32', shape: [batch], data: Int32Array.from({ length: batch }, () => g.int(1, seq)) };
    return name;
  };
  const ins = [
    x!,
    g.constant('float32', [dirs, G * H, input]),
    g.constant('float32', [dirs, G * H, H]),
    opt(0.7, () => g.constant('float32', [dirs, 2 * G * H])),
    opt(0.4, seqLens),
    opt(0.5, () => g.constant('float32', state)),
    ...(lstm ? [opt(0.4, () => g.constant('float32', state)), opt(0.4, () => g.constant('float32', [dirs, 3 * H]))] : []),
  ];
  const p = g.fresh('c');
  g.tensors[p] = { dtype: 'float32', shape: [acts.length, 2], data: Float32Array.from(params) };
  const y = layout ? [batch, seq, dirs, H] : [seq, dirs, batch, H];
  const outs = [
    { dtype: 'float32' as const, shape: y },
    { dtype: 'float32' as const, shape: state },
    ...(lstm ? [{ dtype: 'float32' as const, shape: state }] : []),
  ];
  g.node(kind, [...ins, p], outs, {
    hidden_size: H,
    direction,
    activations: acts.join(','),
    clip: g.r() < 0.3 ? g.pick([0.5, 2]) : 0,
    layout,
    ...(lstm ? { input_forget: g.r() < 0.3 ? 1 : 0 } : { linear_before_reset: g.int(0, 1) }),
  });
  return true;
};

/** The makers of the ops added for PyTorch exports (test/onnx-wide.test.ts runs them alone). */
export const WIDE_MAKERS: readonly Maker[] = [
  activation,
  activation,
  absPrelu,
  expandTilePad,
  expandTilePad,
  indexOps,
  indexOps,
  lrn,
  convTranspose,
  interpolate,
  recurrent,
];

const ALL_MAKERS: readonly Maker[] = [
  ...WIDE_MAKERS,
  ...ELEMENTWISE_MAKERS,
  ...SHAPE_MAKERS,
  ...MATMUL_MAKERS,
  ...MATMUL_MAKERS,
  ...NORM_MAKERS,
  ...CONV_MAKERS,
  ...CONV_MAKERS,
  ...QUANT_MAKERS,
];

export interface OnnxGraphOptions {
  makers?: readonly Maker[];
  steps?: number;
}

/** A random model of ONNX ops; `seed` fixes everything. */
export function randomOnnxModel(seed: number, opts: OnnxGraphOptions = {}): ModelSpec {
  const g = makeGen(seed);
  const inputs: string[] = [];
  const nIn = g.int(1, 2);
  for (let i = 0; i < nIn; i++) {
    const name = `x${i}`;
    g.tensors[name] = { dtype: 'float32', shape: randomShape(g) };
    g.pool.push({ name, dtype: 'float32', shape: g.tensors[name]!.shape });
    inputs.push(name);
  }
  if (g.r() < 0.4) {
    const dtype = g.pick([...INT_DTYPES, 'bool'] as const);
    const shape = g.r() < 0.5 ? [...g.pool[0]!.shape] : randomShape(g);
    g.tensors.xi = { dtype, shape };
    g.pool.push({ name: 'xi', dtype, shape });
    inputs.push('xi');
  }
  const makers = opts.makers ?? ALL_MAKERS;
  const steps = opts.steps ?? g.int(2, 8);
  for (let s = 0, tries = 0; s < steps && tries < steps * 5; tries++) if (g.pick(makers)(g)) s++;
  // Outputs: the last node's result and a few others (only tensors that nodes produce).
  const produced = g.nodes.flatMap((n) => n.outputs);
  const outputs = new Set<string>([produced[produced.length - 1]!]);
  for (const t of produced) if (g.r() < 0.25) outputs.add(t);
  return { name: `onnx-random-${seed}`, inputs, outputs: [...outputs], tensors: g.tensors, nodes: g.nodes };
}
