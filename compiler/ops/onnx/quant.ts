// ONNX linear quantisation with zero points: QuantizeLinear, DequantizeLinear (per tensor, per
// axis or blocked), MatMulInteger, ConvInteger, QLinearMatMul, QLinearConv, on int8/uint8 (docs/numerics.md,
// "Quantised ops"):
//   quantize    q = saturate(rint(x / scale) + zp)          rint ties to even; NaN -> zp
//   dequantize  y = (float)(q - zp) * scale
//   integer dot acc = sum (a - a_zp) * (b - b_zp)            exact; wraps modulo 2^32 (ONNX allows)
//   requantize  q = saturate(rint((float)acc * ((sa * sb) / sy)) + y_zp)
// These tensors carry no tritc `quant` record: that one means code * scale without a zero point.

import { elementCount, shapeStr, type DType, type Tensor, type TypedData } from '../../ir.ts';
import { div, fround, mul, rintf } from '../../numerics/f32.ts';
import type { EmitNodeContext } from '../../emit/context.ts';
import { at, type InferContext, type OpDef } from '../op.ts';
import { broadcastStrides } from '../broadcast.ts';
import { checkDtype, DT_CODE, inTensor, intAt, normAxis } from './common.ts';
import { CONV_ATTRS, convGeometry, convLoop, geoValues, inferConv, type Window } from './conv.ts';
import { constantBytes, matmulGeometry, type MatMulGeometry } from './matmul.ts';
import { unravel } from './shape.ts';

const Q8: readonly DType[] = ['int8', 'uint8'];
const RANGE: Record<string, [number, number]> = { int8: [-128, 127], uint8: [0, 255] };
const ONNX_Q: Record<number, DType> = { 2: 'uint8', 3: 'int8' };

/** rint(v) + zp saturated to the dtype (tn_qsat). */
function qsat(v: number, zp: number, dtype: DType): number {
  const [lo, hi] = RANGE[dtype]!;
  let r = rintf(v);
  if (r !== r) return zp;
  r = fround(r + zp);
  if (r < lo) return lo;
  if (r > hi) return hi;
  return r;
}

/**
 * outer x dim x inner view of x for its parameters (dim = 1 for per tensor), and the number of
 * parameter rows along the axis: dim for per axis, ceil(dim / block) for blocked quantisation (the
 * parameter of element (o, c, i) is then at ((o * pdim + c / block) * inner + i)).
 */
function axisParams(x: Tensor, count: number, axis: number, block = 0): { outer: number; dim: number; inner: number } {
  if (count === 1 && block <= 0) return { outer: 1, dim: 1, inner: elementCount(x.shape) };
  return { outer: elementCount(x.shape.slice(0, axis)), dim: x.shape[axis]!, inner: elementCount(x.shape.slice(axis + 1)) };
}

/** Index of the parameter of element (o, c, i) (see axisParams). */
function paramAt(o: number, c: number, i: number, dim: number, inner: number, block: number): number {
  if (block <= 0) return c;
  return (o * Math.ceil(dim / block) + Math.floor(c / block)) * inner + i;
}

const blockOf = (ctx: { node: { attrs: Record<string, unknown> } }): number => Math.max(0, ctx.node.attrs.block_size as number);

/**
 * Check scale (and zero point) inputs: one value, 1-D of x's size on `axis`, or (block_size > 0) of
 * x's rank and shape but for ceil(size / block_size) on `axis`. Returns the axis or undefined.
 */
function checkAxisParams(ctx: InferContext, x: Tensor, scale: Tensor, zp: Tensor | undefined, names: readonly string[]): number | undefined {
  const block = ctx.node.attrs.block_size as number;
  if (block < 0) {
    ctx.error(`block_size ${block} must not be negative`);
    return undefined;
  }
  const n = elementCount(scale.shape);
  if (zp && (elementCount(zp.shape) !== n || (block > 0 && zp.shape.join() !== scale.shape.join()))) {
    ctx.error(`${names[2]} "${zp.name}" ${shapeStr(zp.shape)} must have the shape of ${names[1]} "${scale.name}" ${shapeStr(scale.shape)}`);
    return undefined;
  }
  if (n === 1 && block === 0) return 0; // per tensor: the axis does not matter
  const axis = normAxis(ctx.node.attrs.axis as number, Math.max(1, x.shape.length));
  if (axis === undefined) {
    ctx.error(`axis ${ctx.node.attrs.axis} is out of range for rank ${x.shape.length}`);
    return undefined;
  }
  if (block > 0) {
    const want = x.shape.map((d, k) => (k === axis ? Math.ceil(d / block) : d));
    if (scale.shape.join() !== want.join()) {
      ctx.error(
        `${names[1]} "${scale.name}" ${shapeStr(scale.shape)} must be ${shapeStr(want)} for block_size ${block} on axis ${axis} of "${x.name}" ${shapeStr(x.shape)}`,
      );
      return undefined;
    }
    return axis;
  }
  if (scale.shape.length !== 1 || n !== x.shape[axis]) {
    ctx.error(
      `${names[1]} "${scale.name}" ${shapeStr(scale.shape)} must be one value, 1-D of length ${x.shape[axis]} (axis ${axis} of "${x.name}" ${shapeStr(x.shape)}) or blocked (block_size)`,
    );
    return undefined;
  }
  return axis;
}

const optIn = (ctx: EmitNodeContext, i: number) => (ctx.hasInput(i) ? ctx.in(i) : 'NULL');
const read = (ctx: { read(n: string): TypedData }, name: string | undefined): TypedData | undefined => (name ? ctx.read(name) : undefined);

// ---- QuantizeLinear, DequantizeLinear ---------------------------------------------------------------

export const QuantizeLinear: OpDef = {
  op: 'QuantizeLinear',
  summary: 'float32 -> int8/uint8: saturate(rint(x / scale) + zero_point), per tensor or per axis',
  inputs: { names: ['x', 'y_scale', 'y_zero_point'], min: 2 },
  outputs: { names: ['y'], min: 1 },
  attrs: {
    axis: { kind: 'int', default: 1, doc: 'the axis of per-axis scales' },
    block_size: {
      kind: 'int',
      default: 0,
      doc: 'blocked quantisation: > 0 gives each block of block_size elements along axis its own scale and zero point (0: per tensor or per axis)',
    },
    output_dtype: { kind: 'int', default: 0, doc: 'ONNX dtype of y when there is no zero point: 2 uint8 (default), 3 int8' },
    saturate: { kind: 'int', default: 1, doc: 'float8 only in ONNX; accepted and ignored' },
    precision: { kind: 'int', default: 0, doc: 'ONNX: precision of the division; tritc divides in float32' },
  },
  infer(ctx) {
    const [x, s, z] = ctx.inputs;
    const names = ['x', 'y_scale', 'y_zero_point'];
    if (!x || !s || !checkDtype(ctx, 0, ['float32'], names) || !checkDtype(ctx, 1, ['float32'], names) || !checkDtype(ctx, 2, Q8, names)) return [];
    const code = ctx.node.attrs.output_dtype as number;
    const dtype = z?.dtype ?? (code === 0 ? 'uint8' : ONNX_Q[code]);
    if (!dtype || (z && code !== 0 && ONNX_Q[code] !== z.dtype)) {
      ctx.error(`output_dtype ${code} must be 2 (uint8) or 3 (int8), and match the zero point's dtype`, 'unsupported');
      return [];
    }
    if (checkAxisParams(ctx, x, s, z, names) === undefined) return [];
    return [{ dtype, shape: [...x.shape], range: RANGE[dtype] }];
  },
  interpret(ctx) {
    const x = inTensor(ctx, 0);
    const yT = ctx.graph.tensors.get(ctx.node.outputs[0]!)!;
    const sv = ctx.readNum(ctx.node.inputs[1]!);
    const zv = read(ctx, ctx.node.inputs[2]);
    const block = blockOf(ctx);
    const { outer, dim, inner } = axisParams(x, sv.length, normAxis(ctx.node.attrs.axis as number, Math.max(1, x.shape.length)) ?? 0, block);
    const xv = ctx.readNum(x.name);
    const y = yT.dtype === 'int8' ? new Int8Array(xv.length) : new Uint8Array(xv.length);
    for (let o = 0; o < outer; o++)
      for (let c = 0; c < dim; c++)
        for (let i = 0; i < inner; i++) {
          const k = (o * dim + c) * inner + i;
          const p = paramAt(o, c, i, dim, inner, block);
          y[k] = qsat(div(at(xv, k, x.name), at(sv, p, 'y_scale')), zv ? intAt(zv, p, 'y_zero_point') : 0, yT.dtype);
        }
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const block = blockOf(ctx);
    const { outer, dim, inner } = axisParams(
      x,
      elementCount(ctx.input(1).shape),
      normAxis(ctx.node.attrs.axis as number, Math.max(1, x.shape.length)) ?? 0,
      block,
    );
    const args = `${ctx.in(0)}, ${ctx.in(1)}, ${optIn(ctx, 2)}, ${ctx.out(0)}, ${DT_CODE[ctx.output(0).dtype]}, /* outer */ ${outer}, /* dim */ ${dim}, /* inner */ ${inner}`;
    const kernel = block > 0 ? 'tn_quantize_blocked' : 'tn_quantize_linear';
    return {
      kernel,
      runtime: ['ref/tn_qlinear.c', 'ref/tn_math.c'],
      body: [block > 0 ? `${kernel}(${args}, /* block */ ${block});` : `${kernel}(${args});`],
    };
  },
  cost: () => ({ macs: 0, weightBytes: 0 }),
};

export const DequantizeLinear: OpDef = {
  op: 'DequantizeLinear',
  summary: 'int8/uint8/int32 -> float32: (x - zero_point) * scale, per tensor or per axis',
  inputs: { names: ['x', 'x_scale', 'x_zero_point'], min: 2 },
  outputs: { names: ['y'], min: 1 },
  attrs: {
    axis: { kind: 'int', default: 1, doc: 'the axis of per-axis scales' },
    block_size: {
      kind: 'int',
      default: 0,
      doc: 'blocked quantisation: > 0 gives each block of block_size elements along axis its own scale and zero point (0: per tensor or per axis)',
    },
    output_dtype: { kind: 'int', default: 0, doc: 'must be 0 or 1 (float32)' },
  },
  infer(ctx) {
    const [x, s, z] = ctx.inputs;
    const names = ['x', 'x_scale', 'x_zero_point'];
    if (!x || !s || !checkDtype(ctx, 0, ['int8', 'uint8', 'int32'], names) || !checkDtype(ctx, 1, ['float32'], names)) return [];
    if (z && z.dtype !== x.dtype) {
      ctx.error(`x_zero_point "${z.name}" is ${z.dtype}, but x "${x.name}" is ${x.dtype}`, 'dtype');
      return [];
    }
    if (![0, 1].includes(ctx.node.attrs.output_dtype as number)) {
      ctx.error(`output_dtype ${ctx.node.attrs.output_dtype}: only float32 (1) is supported`, 'unsupported');
      return [];
    }
    if (checkAxisParams(ctx, x, s, z, names) === undefined) return [];
    return [{ dtype: 'float32', shape: [...x.shape] }];
  },
  interpret(ctx) {
    const x = inTensor(ctx, 0);
    const sv = ctx.readNum(ctx.node.inputs[1]!);
    const zv = read(ctx, ctx.node.inputs[2]);
    const block = blockOf(ctx);
    const { outer, dim, inner } = axisParams(x, sv.length, normAxis(ctx.node.attrs.axis as number, Math.max(1, x.shape.length)) ?? 0, block);
    const xv = ctx.readNum(x.name);
    const y = new Float32Array(xv.length);
    for (let o = 0; o < outer; o++)
      for (let c = 0; c < dim; c++)
        for (let i = 0; i < inner; i++) {
          const k = (o * dim + c) * inner + i;
          const p = paramAt(o, c, i, dim, inner, block);
          // x - zp is exact in binary64 (|.| < 2^33), so fround is C's one rounding of (float)(int64)
          y[k] = mul(fround(at(xv, k, x.name) - (zv ? intAt(zv, p, 'x_zero_point') : 0)), at(sv, p, 'x_scale'));
        }
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const block = blockOf(ctx);
    const { outer, dim, inner } = axisParams(
      x,
      elementCount(ctx.input(1).shape),
      normAxis(ctx.node.attrs.axis as number, Math.max(1, x.shape.length)) ?? 0,
      block,
    );
    const args = `${ctx.in(0)}, ${DT_CODE[x.dtype]}, ${ctx.in(1)}, ${optIn(ctx, 2)}, ${ctx.out(0)}, /* outer */ ${outer}, /* dim */ ${dim}, /* inner */ ${inner}`;
    const kernel = block > 0 ? 'tn_dequantize_blocked' : 'tn_dequantize_linear';
    return {
      kernel,
      runtime: ['ref/tn_qlinear.c', 'ref/tn_math.c'],
      body: [block > 0 ? `${kernel}(${args}, /* block */ ${block});` : `${kernel}(${args});`],
    };
  },
  cost: () => ({ macs: 0, weightBytes: 0 }),
};

// ---- MatMulInteger, QLinearMatMul -------------------------------------------------------------------

/** Zero point / scale of a matmul operand: one value, or 1-D per row of A (M) / per column of B (N). */
function checkMatParam(ctx: InferContext, t: Tensor | undefined, what: string, perLen: number, per: string): boolean {
  if (!t) return true;
  const n = elementCount(t.shape);
  if (n === 1 || (t.shape.length === 1 && n === perLen)) return true;
  ctx.error(`${what} "${t.name}" ${shapeStr(t.shape)} must be one value or 1-D [${perLen}] (${per}); other shapes are not supported`, 'unsupported');
  return false;
}

function inferMatInt(ctx: InferContext, ai: number, bi: number): MatMulGeometry | undefined {
  const a = ctx.inputs[ai]!;
  const b = ctx.inputs[bi]!;
  const geo = matmulGeometry(a.shape, b.shape);
  if (typeof geo === 'string') {
    ctx.error(`cannot multiply "${a.name}" ${shapeStr(a.shape)} by "${b.name}" ${shapeStr(b.shape)}: ${geo}`);
    return undefined;
  }
  return geo;
}

/** Reference integer matmul: calls done(outIndex, m, n, acc) for every output element. */
function matIntLoop(
  a: Tensor,
  av: TypedData,
  b: Tensor,
  bv: TypedData,
  azp: (m: number) => number,
  bzp: (n: number) => number,
  done: (i: number, m: number, n: number, acc: number) => void,
): void {
  const geo = matmulGeometry(a.shape, b.shape) as MatMulGeometry;
  const { m, k, n, batch } = geo;
  const sa = broadcastStrides(geo.aBatch, batch);
  const sb = broadcastStrides(geo.bBatch, batch);
  for (let bi = 0; bi < elementCount(batch); bi++) {
    const idx = unravel(bi, batch);
    const ma = idx.reduce((acc, v, d) => acc + v * sa[d]!, 0);
    const mb = idx.reduce((acc, v, d) => acc + v * sb[d]!, 0);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let kk = 0; kk < k; kk++)
          acc = (acc + (intAt(av, (ma * m + i) * k + kk, a.name) - azp(i)) * (intAt(bv, (mb * k + kk) * n + j, b.name) - bzp(j))) | 0;
        done((bi * m + i) * n + j, i, j, acc);
      }
  }
}

function matTables(ctx: EmitNodeContext, geo: MatMulGeometry): string {
  return `/* batch rank */ ${geo.batch.length}, ${ctx.intTable('batch_shape', geo.batch)}, ${ctx.intTable('a_batch_strides', broadcastStrides(geo.aBatch, geo.batch))}, ${ctx.intTable('b_batch_strides', broadcastStrides(geo.bBatch, geo.batch))}, /* M */ ${geo.m}, /* K */ ${geo.k}, /* N */ ${geo.n}`;
}

const perIndex = (v: TypedData | undefined, what: string) => (i: number) => (v ? intAt(v, v.length > 1 ? i : 0, what) : 0);
const perScale = (v: ArrayLike<number>, what: string) => (i: number) => at(v, v.length > 1 ? i : 0, what);

export const MatMulInteger: OpDef = {
  op: 'MatMulInteger',
  summary: 'int8/uint8 matrix product with zero points, exact int32 (wrapping) output',
  inputs: { names: ['A', 'B', 'a_zero_point', 'b_zero_point'], min: 2 },
  outputs: { names: ['Y'], min: 1 },
  attrs: {},
  infer(ctx) {
    const [a, b, az, bz] = ctx.inputs;
    const names = ['A', 'B', 'a_zero_point', 'b_zero_point'];
    if (!a || !b || ![0, 1, 2, 3].every((i) => checkDtype(ctx, i, Q8, names))) return [];
    if ((az && az.dtype !== a.dtype) || (bz && bz.dtype !== b.dtype)) {
      ctx.error('zero points must have the dtype of their operand', 'dtype');
      return [];
    }
    const geo = inferMatInt(ctx, 0, 1);
    if (!geo || !checkMatParam(ctx, az, 'a_zero_point', geo.m, 'per row of A') || !checkMatParam(ctx, bz, 'b_zero_point', geo.n, 'per column of B')) return [];
    return [{ dtype: 'int32', shape: geo.out }];
  },
  interpret(ctx) {
    const a = inTensor(ctx, 0);
    const b = inTensor(ctx, 1);
    const geo = matmulGeometry(a.shape, b.shape) as MatMulGeometry;
    const y = new Int32Array(elementCount(geo.out));
    matIntLoop(
      a,
      ctx.read(a.name),
      b,
      ctx.read(b.name),
      perIndex(read(ctx, ctx.node.inputs[2]), 'a_zero_point'),
      perIndex(read(ctx, ctx.node.inputs[3]), 'b_zero_point'),
      (i, _m, _n, acc) => (y[i] = acc),
    );
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const a = ctx.input(0);
    const b = ctx.input(1);
    const geo = matmulGeometry(a.shape, b.shape) as MatMulGeometry;
    const zpCount = (i: number) => (ctx.hasInput(i) ? elementCount(ctx.input(i).shape) : 0);
    return {
      kernel: 'tn_matmul_integer',
      runtime: ['ref/tn_qlinear.c', 'ref/tn_math.c'],
      body: [
        `tn_matmul_integer(${ctx.in(0)}, ${DT_CODE[a.dtype]}, ${ctx.in(1)}, ${DT_CODE[b.dtype]}, ${optIn(ctx, 2)}, ${zpCount(2)}, ${optIn(ctx, 3)}, ${zpCount(3)}, ${ctx.out(0)},`,
        `                  ${matTables(ctx, geo)});`,
      ],
    };
  },
  cost(g, node) {
    const geo = matmulGeometry(g.tensors.get(node.inputs[0]!)!.shape, g.tensors.get(node.inputs[1]!)!.shape) as MatMulGeometry;
    return { macs: elementCount(geo.batch) * geo.m * geo.n * geo.k, weightBytes: constantBytes(g, node) };
  },
};

export const QLinearMatMul: OpDef = {
  op: 'QLinearMatMul',
  summary: 'quantised matrix product: int8/uint8 in and out, exact int32 sums, requantised with rint',
  inputs: { names: ['a', 'a_scale', 'a_zero_point', 'b', 'b_scale', 'b_zero_point', 'y_scale', 'y_zero_point'], min: 8 },
  outputs: { names: ['y'], min: 1 },
  attrs: {},
  infer(ctx) {
    const [a, as, az, b, bs, bz, ys, yz] = ctx.inputs;
    const names = QLinearMatMul.inputs.names;
    if (!a || !as || !az || !b || !bs || !bz || !ys || !yz) return [];
    if (![0, 2, 3, 5, 7].every((i) => checkDtype(ctx, i, Q8, names)) || ![1, 4, 6].every((i) => checkDtype(ctx, i, ['float32'], names))) return [];
    if (az.dtype !== a.dtype || bz.dtype !== b.dtype) {
      ctx.error('zero points must have the dtype of their operand', 'dtype');
      return [];
    }
    const geo = inferMatInt(ctx, 0, 3);
    if (!geo) return [];
    if (![checkMatParam(ctx, as, 'a_scale', geo.m, 'per row of a'), checkMatParam(ctx, bs, 'b_scale', geo.n, 'per column of b')].every(Boolean)) return [];
    if (
      elementCount(az.shape) !== elementCount(as.shape) ||
      elementCount(bz.shape) !== elementCount(bs.shape) ||
      elementCount(ys.shape) !== 1 ||
      elementCount(yz.shape) !== 1
    ) {
      ctx.error("zero points must have their scales' shapes, and y_scale and y_zero_point one value each");
      return [];
    }
    return [{ dtype: yz.dtype, shape: geo.out, range: RANGE[yz.dtype] }];
  },
  interpret(ctx) {
    const a = inTensor(ctx, 0);
    const b = inTensor(ctx, 3);
    const [as, bs, ys] = [1, 4, 6].map((i) => ctx.readNum(ctx.node.inputs[i]!));
    const yz = inTensor(ctx, 7);
    const yzero = intAt(ctx.read(yz.name), 0, 'y_zero_point');
    const geo = matmulGeometry(a.shape, b.shape) as MatMulGeometry;
    const y = yz.dtype === 'int8' ? new Int8Array(elementCount(geo.out)) : new Uint8Array(elementCount(geo.out));
    const sa = perScale(as!, 'a_scale');
    const sb = perScale(bs!, 'b_scale');
    matIntLoop(
      a,
      ctx.read(a.name),
      b,
      ctx.read(b.name),
      perIndex(ctx.read(ctx.node.inputs[2]!), 'a_zero_point'),
      perIndex(ctx.read(ctx.node.inputs[5]!), 'b_zero_point'),
      (i, m, n, acc) => {
        const mult = div(mul(sa(m), sb(n)), at(ys!, 0, 'y_scale'));
        y[i] = qsat(mul(fround(acc), mult), yzero, yz.dtype);
      },
    );
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const a = ctx.input(0);
    const b = ctx.input(3);
    const geo = matmulGeometry(a.shape, b.shape) as MatMulGeometry;
    const n = (i: number) => elementCount(ctx.input(i).shape);
    return {
      kernel: 'tn_qlinear_matmul',
      runtime: ['ref/tn_qlinear.c', 'ref/tn_math.c'],
      body: [
        `tn_qlinear_matmul(${ctx.in(0)}, ${ctx.in(1)}, ${n(1)}, ${ctx.in(2)}, ${DT_CODE[a.dtype]}, ${ctx.in(3)}, ${ctx.in(4)}, ${n(4)}, ${ctx.in(5)}, ${DT_CODE[b.dtype]},`,
        `                  ${ctx.in(6)}, ${ctx.in(7)}, ${ctx.out(0)}, ${DT_CODE[ctx.output(0).dtype]}, ${matTables(ctx, geo)});`,
      ],
    };
  },
  cost(g, node) {
    const geo = matmulGeometry(g.tensors.get(node.inputs[0]!)!.shape, g.tensors.get(node.inputs[3]!)!.shape) as MatMulGeometry;
    return { macs: elementCount(geo.batch) * geo.m * geo.n * geo.k, weightBytes: constantBytes(g, node) };
  },
};

// ---- ConvInteger, QLinearConv -----------------------------------------------------------------------

const qconvWindow = (x: Tensor, w: Tensor, attrs: Record<string, unknown>): Window => convGeometry(x, w, attrs) as Window;

function checkPerChannel(ctx: InferContext, t: Tensor | undefined, what: string, m: number): boolean {
  if (!t) return true;
  const n = elementCount(t.shape);
  if (n === 1 || (t.shape.length === 1 && n === m)) return true;
  ctx.error(`${what} "${t.name}" ${shapeStr(t.shape)} must be one value or 1-D [${m}] (per output channel)`);
  return false;
}

export const ConvInteger: OpDef = {
  op: 'ConvInteger',
  summary: 'int8/uint8 convolution with zero points, exact int32 (wrapping) output',
  inputs: { names: ['x', 'w', 'x_zero_point', 'w_zero_point'], min: 2 },
  outputs: { names: ['y'], min: 1 },
  attrs: CONV_ATTRS,
  infer(ctx) {
    const [x, w, xz, wz] = ctx.inputs;
    const names = ConvInteger.inputs.names;
    if (!x || !w || ![0, 1, 2, 3].every((i) => checkDtype(ctx, i, Q8, names))) return [];
    if ((xz && xz.dtype !== x.dtype) || (wz && wz.dtype !== w.dtype)) {
      ctx.error('zero points must have the dtype of their operand', 'dtype');
      return [];
    }
    if (xz && elementCount(xz.shape) !== 1) {
      ctx.error(`x_zero_point "${xz.name}" ${shapeStr(xz.shape)} must be one value`);
      return [];
    }
    const r = inferConv(ctx, x, w, undefined);
    if (!r || !checkPerChannel(ctx, wz, 'w_zero_point', w.shape[0]!)) return [];
    return [{ dtype: 'int32', shape: r.shape }];
  },
  interpret(ctx) {
    const x = inTensor(ctx, 0);
    const w = inTensor(ctx, 1);
    const win = qconvWindow(x, w, ctx.node.attrs);
    const xv = ctx.read(x.name);
    const wv = ctx.read(w.name);
    const xz = perIndex(read(ctx, ctx.node.inputs[2]), 'x_zero_point')(0);
    const wz = perIndex(read(ctx, ctx.node.inputs[3]), 'w_zero_point');
    const y = new Int32Array(x.shape[0]! * w.shape[0]! * elementCount(win.out));
    convLoop(x, w, ctx.node.attrs.group as number, win, (outIndex, _n, m) => {
      let acc = 0;
      return {
        term: (xi, wi) => (acc = (acc + (intAt(xv, xi, x.name) - xz) * (intAt(wv, wi, w.name) - wz(m))) | 0),
        done: () => (y[outIndex] = acc),
      };
    });
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const w = ctx.input(1);
    const win = qconvWindow(x, w, ctx.node.attrs);
    const zpCount = ctx.hasInput(3) ? elementCount(ctx.input(3).shape) : 0;
    return {
      kernel: 'tn_qconv',
      runtime: ['ref/tn_qlinear.c', 'ref/tn_math.c'],
      body: [
        `tn_qconv(${ctx.in(0)}, ${DT_CODE[x.dtype]}, ${optIn(ctx, 2)}, NULL, ${ctx.in(1)}, ${DT_CODE[w.dtype]}, ${optIn(ctx, 3)}, ${zpCount}, NULL, 0, NULL, NULL, NULL, ${ctx.out(0)}, TN_DT_I32,`,
        `         /* N */ ${x.shape[0]}, /* C */ ${x.shape[1]}, /* M */ ${w.shape[0]}, /* group */ ${ctx.node.attrs.group}, ${ctx.intTable('geo', geoValues(x.shape.slice(2), win))});`,
      ],
    };
  },
  cost(g, node) {
    const y = g.tensors.get(node.outputs[0]!)!;
    const w = g.tensors.get(node.inputs[1]!)!;
    return { macs: elementCount(y.shape) * elementCount(w.shape.slice(1)), weightBytes: constantBytes(g, node) };
  },
};

export const QLinearConv: OpDef = {
  op: 'QLinearConv',
  summary: 'quantised convolution: int8/uint8 in and out, exact int32 sums plus an int32 bias, requantised with rint',
  inputs: { names: ['x', 'x_scale', 'x_zero_point', 'w', 'w_scale', 'w_zero_point', 'y_scale', 'y_zero_point', 'B'], min: 8 },
  outputs: { names: ['y'], min: 1 },
  attrs: CONV_ATTRS,
  infer(ctx) {
    const [x, xs, xz, w, ws, wz, ys, yz, b] = ctx.inputs;
    const names = QLinearConv.inputs.names;
    if (!x || !xs || !xz || !w || !ws || !wz || !ys || !yz) return [];
    if (
      ![0, 2, 3, 5, 7].every((i) => checkDtype(ctx, i, Q8, names)) ||
      ![1, 4, 6].every((i) => checkDtype(ctx, i, ['float32'], names)) ||
      !checkDtype(ctx, 8, ['int32'], names)
    )
      return [];
    if (xz.dtype !== x.dtype || wz.dtype !== w.dtype) {
      ctx.error('zero points must have the dtype of their operand', 'dtype');
      return [];
    }
    if ([xs, xz, ys, yz].some((t) => elementCount(t.shape) !== 1)) {
      ctx.error('x_scale, x_zero_point, y_scale and y_zero_point must be one value each');
      return [];
    }
    const r = inferConv(ctx, x, w, b);
    if (!r || !checkPerChannel(ctx, ws, 'w_scale', w.shape[0]!) || !checkPerChannel(ctx, wz, 'w_zero_point', w.shape[0]!)) return [];
    if (elementCount(wz.shape) !== 1 && elementCount(wz.shape) !== elementCount(ws.shape)) {
      ctx.error(`w_zero_point "${wz.name}" must be one value or have w_scale's shape`);
      return [];
    }
    return [{ dtype: yz.dtype, shape: r.shape, range: RANGE[yz.dtype] }];
  },
  interpret(ctx) {
    const x = inTensor(ctx, 0);
    const w = inTensor(ctx, 3);
    const yz = inTensor(ctx, 7);
    const win = qconvWindow(x, w, ctx.node.attrs);
    const xv = ctx.read(x.name);
    const wv = ctx.read(w.name);
    const [xs, ws, ys] = [1, 4, 6].map((i) => ctx.readNum(ctx.node.inputs[i]!));
    const xzero = intAt(ctx.read(ctx.node.inputs[2]!), 0, 'x_zero_point');
    const wz = perIndex(ctx.read(ctx.node.inputs[5]!), 'w_zero_point');
    const yzero = intAt(ctx.read(yz.name), 0, 'y_zero_point');
    const bv = read(ctx, ctx.node.inputs[8]);
    const y =
      yz.dtype === 'int8'
        ? new Int8Array(x.shape[0]! * w.shape[0]! * elementCount(win.out))
        : new Uint8Array(x.shape[0]! * w.shape[0]! * elementCount(win.out));
    convLoop(x, w, ctx.node.attrs.group as number, win, (outIndex, _n, m) => {
      let acc = 0;
      return {
        term: (xi, wi) => (acc = (acc + (intAt(xv, xi, x.name) - xzero) * (intAt(wv, wi, w.name) - wz(m))) | 0),
        done: () => {
          const mult = div(mul(at(xs!, 0, 'x_scale'), perScale(ws!, 'w_scale')(m)), at(ys!, 0, 'y_scale'));
          if (bv) acc = (acc + intAt(bv, m, 'B')) | 0;
          y[outIndex] = qsat(mul(fround(acc), mult), yzero, yz.dtype);
        },
      };
    });
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const w = ctx.input(3);
    const win = qconvWindow(x, w, ctx.node.attrs);
    return {
      kernel: 'tn_qconv',
      runtime: ['ref/tn_qlinear.c', 'ref/tn_math.c'],
      body: [
        `tn_qconv(${ctx.in(0)}, ${DT_CODE[x.dtype]}, ${ctx.in(2)}, ${ctx.in(1)}, ${ctx.in(3)}, ${DT_CODE[w.dtype]}, ${ctx.in(5)}, ${elementCount(ctx.input(5).shape)}, ${ctx.in(4)}, ${elementCount(ctx.input(4).shape)},`,
        `         ${optIn(ctx, 8)}, ${ctx.in(6)}, ${ctx.in(7)}, ${ctx.out(0)}, ${DT_CODE[ctx.output(0).dtype]}, /* N */ ${x.shape[0]}, /* C */ ${x.shape[1]}, /* M */ ${w.shape[0]}, /* group */ ${ctx.node.attrs.group},`,
        `         ${ctx.intTable('geo', geoValues(x.shape.slice(2), win))});`,
      ],
    };
  },
  cost(g, node) {
    const y = g.tensors.get(node.outputs[0]!)!;
    const w = g.tensors.get(node.inputs[3]!)!;
    return { macs: elementCount(y.shape) * elementCount(w.shape.slice(1)), weightBytes: constantBytes(g, node) };
  },
};
