// MatMul (NumPy semantics: 1-D operands promoted, batch axes broadcast) and Gemm
// (Y = alpha * A' B' + beta * C), float32. Each dot product: acc = 0; acc = acc + a_k * b_k for
// k = 0..K-1 in order (docs/numerics.md, "MatMul and Gemm").

import { elementCount, shapeStr, type Tensor } from '../../ir.ts';
import { add, mul } from '../../numerics/f32.ts';
import { hexFloat } from '../../emit/cliterals.ts';
import { at, type NodeCost, type OpDef } from '../op.ts';
import { broadcastShapes, broadcastStrides } from '../broadcast.ts';
import { attrF32, checkDtype, constantBytes, inTensor } from './common.ts';
import { unravel } from './shape.ts';

export { constantBytes };

export interface MatMulGeometry {
  m: number;
  k: number;
  n: number;
  /** Broadcast batch shape, and each operand's batch shape (after 1-D promotion). */
  batch: number[];
  aBatch: number[];
  bBatch: number[];
  out: number[];
}

/** NumPy matmul geometry, or a message saying why the shapes do not multiply. */
export function matmulGeometry(a: readonly number[], b: readonly number[]): MatMulGeometry | string {
  if (a.length === 0 || b.length === 0) return 'MatMul operands must have rank 1 or more';
  const a2 = a.length === 1 ? [1, a[0]!] : [...a];
  const b2 = b.length === 1 ? [b[0]!, 1] : [...b];
  const m = a2[a2.length - 2]!;
  const k = a2[a2.length - 1]!;
  const kb = b2[b2.length - 2]!;
  const n = b2[b2.length - 1]!;
  if (k !== kb) return `inner dimensions differ: ${shapeStr(a)} has K = ${k}, ${shapeStr(b)} has K = ${kb}`;
  const aBatch = a2.slice(0, -2);
  const bBatch = b2.slice(0, -2);
  const batch = broadcastShapes(aBatch, bBatch);
  if (!batch) return `batch shapes ${shapeStr(aBatch)} and ${shapeStr(bBatch)} do not broadcast`;
  const out = [...batch, ...(a.length === 1 ? [] : [m]), ...(b.length === 1 ? [] : [n])];
  return { m, k, n, batch, aBatch, bBatch, out };
}

export const MatMul: OpDef = {
  op: 'MatMul',
  summary: 'float32 matrix product with NumPy semantics (1-D promotion, broadcast batch axes)',
  inputs: { names: ['A', 'B'], min: 2 },
  outputs: { names: ['Y'], min: 1 },
  attrs: {},
  infer(ctx) {
    const [a, b] = ctx.inputs;
    if (!a || !b || !checkDtype(ctx, 0, ['float32'], ['A', 'B']) || !checkDtype(ctx, 1, ['float32'], ['A', 'B'])) return [];
    const geo = matmulGeometry(a.shape, b.shape);
    if (typeof geo === 'string') {
      ctx.error(`cannot multiply "${a.name}" ${shapeStr(a.shape)} by "${b.name}" ${shapeStr(b.shape)}: ${geo}`);
      return [];
    }
    return [{ dtype: 'float32', shape: geo.out }];
  },
  interpret(ctx) {
    const a = inTensor(ctx, 0);
    const b = inTensor(ctx, 1);
    const geo = matmulGeometry(a.shape, b.shape) as MatMulGeometry;
    const { m, k, n, batch } = geo;
    const av = ctx.readNum(a.name);
    const bv = ctx.readNum(b.name);
    const sa = broadcastStrides(geo.aBatch, batch);
    const sb = broadcastStrides(geo.bBatch, batch);
    const y = new Float32Array(elementCount(batch) * m * n);
    for (let bi = 0; bi < elementCount(batch); bi++) {
      const idx = unravel(bi, batch);
      const ma = idx.reduce((acc, v, d) => acc + v * sa[d]!, 0); // matrix index into A
      const mb = idx.reduce((acc, v, d) => acc + v * sb[d]!, 0);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let kk = 0; kk < k; kk++) acc = add(acc, mul(at(av, (ma * m + i) * k + kk, a.name), at(bv, (mb * k + kk) * n + j, b.name)));
          y[(bi * m + i) * n + j] = acc;
        }
      }
    }
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const geo = matmulGeometry(ctx.input(0).shape, ctx.input(1).shape) as MatMulGeometry;
    const shape = ctx.intTable('batch_shape', geo.batch);
    const sa = ctx.intTable('a_batch_strides', broadcastStrides(geo.aBatch, geo.batch));
    const sb = ctx.intTable('b_batch_strides', broadcastStrides(geo.bBatch, geo.batch));
    return {
      kernel: 'tn_matmul_f32',
      runtime: ['ref/tn_matmul.c'],
      body: [
        `tn_matmul_f32(${ctx.in(0)}, ${ctx.in(1)}, ${ctx.out(0)}, /* batch rank */ ${geo.batch.length}, ${shape}, ${sa}, ${sb}, /* M */ ${geo.m}, /* K */ ${geo.k}, /* N */ ${geo.n});`,
      ],
    };
  },
  cost(g, node): NodeCost {
    const geo = matmulGeometry(g.tensors.get(node.inputs[0]!)!.shape, g.tensors.get(node.inputs[1]!)!.shape) as MatMulGeometry;
    return { macs: elementCount(geo.batch) * geo.m * geo.n * geo.k, weightBytes: constantBytes(g, node) };
  },
};

/** Gemm's M, N, K and C's strides over [M, N] (0 along broadcast axes), or a message. */
function gemmGeometry(
  a: Tensor,
  b: Tensor,
  c: Tensor | undefined,
  transA: boolean,
  transB: boolean,
): { m: number; n: number; k: number; cRs: number; cCs: number } | string {
  if (a.shape.length !== 2 || b.shape.length !== 2) return `A and B must be 2-D, found "${a.name}" ${shapeStr(a.shape)} and "${b.name}" ${shapeStr(b.shape)}`;
  const [m, k] = transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const [kb, n] = transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
  if (k !== kb)
    return `inner dimensions differ: A${transA ? "'" : ''} "${a.name}" ${shapeStr(a.shape)} gives K = ${k}, B${transB ? "'" : ''} "${b.name}" ${shapeStr(b.shape)} gives K = ${kb}`;
  if (!c) return { m, n, k, cRs: 0, cCs: 0 };
  const out = broadcastShapes(c.shape, [m, n]);
  if (c.shape.length > 2 || !out || out[0] !== m || out[1] !== n) return `C "${c.name}" ${shapeStr(c.shape)} does not broadcast to [${m}, ${n}]`;
  const [cRs, cCs] = broadcastStrides(c.shape, [m, n]);
  return { m, n, k, cRs: cRs!, cCs: cCs! };
}

export const Gemm: OpDef = {
  op: 'Gemm',
  summary: "float32 Y = alpha * A' B' + beta * C, A and B optionally transposed, C broadcast",
  inputs: { names: ['A', 'B', 'C'], min: 2 },
  outputs: { names: ['Y'], min: 1 },
  attrs: {
    alpha: { kind: 'float', default: 1, doc: 'scale of A B' },
    beta: { kind: 'float', default: 1, doc: 'scale of C' },
    transA: { kind: 'int', default: 0, doc: '1: A is given as [K, M]' },
    transB: { kind: 'int', default: 0, doc: '1: B is given as [N, K]' },
  },
  infer(ctx) {
    const [a, b, c] = ctx.inputs;
    if (!a || !b || ![0, 1, 2].every((i) => checkDtype(ctx, i, ['float32'], ['A', 'B', 'C']))) return [];
    const geo = gemmGeometry(a, b, c, ctx.node.attrs.transA === 1, ctx.node.attrs.transB === 1);
    if (typeof geo === 'string') {
      ctx.error(geo);
      return [];
    }
    return [{ dtype: 'float32', shape: [geo.m, geo.n] }];
  },
  interpret(ctx) {
    const a = inTensor(ctx, 0);
    const b = inTensor(ctx, 1);
    const c = ctx.node.inputs[2] ? inTensor(ctx, 2) : undefined;
    const transA = ctx.node.attrs.transA === 1;
    const transB = ctx.node.attrs.transB === 1;
    const { m, n, k, cRs, cCs } = gemmGeometry(a, b, c, transA, transB) as Exclude<ReturnType<typeof gemmGeometry>, string>;
    const alpha = attrF32(ctx.node, 'alpha');
    const beta = attrF32(ctx.node, 'beta');
    const av = ctx.readNum(a.name);
    const bv = ctx.readNum(b.name);
    const cv = c ? ctx.readNum(c.name) : undefined;
    const y = new Float32Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let kk = 0; kk < k; kk++) {
          const ai = transA ? kk * m + i : i * k + kk;
          const bi = transB ? j * k + kk : kk * n + j;
          acc = add(acc, mul(at(av, ai, a.name), at(bv, bi, b.name)));
        }
        let t = mul(alpha, acc);
        if (cv) t = add(t, mul(beta, at(cv, i * cRs + j * cCs, c!.name)));
        y[i * n + j] = t;
      }
    }
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const c = ctx.hasInput(2) ? ctx.input(2) : undefined;
    const transA = ctx.node.attrs.transA === 1;
    const transB = ctx.node.attrs.transB === 1;
    const { m, n, k, cRs, cCs } = gemmGeometry(ctx.input(0), ctx.input(1), c, transA, transB) as Exclude<ReturnType<typeof gemmGeometry>, string>;
    const alpha = hexFloat(attrF32(ctx.node, 'alpha'));
    const beta = hexFloat(attrF32(ctx.node, 'beta'));
    return {
      kernel: 'tn_gemm_f32',
      runtime: ['ref/tn_matmul.c'],
      body: [
        `tn_gemm_f32(${ctx.in(0)}, ${ctx.in(1)}, ${c ? ctx.in(2) : 'NULL'}, ${ctx.out(0)}, /* M */ ${m}, /* N */ ${n}, /* K */ ${k}, /* transA */ ${transA ? 1 : 0}, /* transB */ ${transB ? 1 : 0},`,
        `            /* alpha */ ${alpha}, /* beta */ ${beta}, /* C strides */ ${cRs}, ${cCs});`,
      ],
    };
  },
  cost(g, node) {
    const y = g.tensors.get(node.outputs[0]!)!;
    const a = g.tensors.get(node.inputs[0]!)!;
    const k = node.attrs.transA === 1 ? a.shape[0]! : a.shape[1]!;
    return { macs: elementCount(y.shape) * k, weightBytes: constantBytes(g, node) };
  },
};
