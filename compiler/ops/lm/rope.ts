// Rope: rotary position embedding of the query or key heads of each row, at position pos + row.
//
//   X    float32 [T, H * headDim]
//   pos  int32 [1]: the position of row 0
//   cos, sin  float32 [P, ropeDim / 2] constants: cos/sin(p * theta^(-2i / ropeDim)), computed at
//        compile time in double and rounded once (compiler/lm/build.ts)
//   Y    float32 [T, H * headDim]
// For each head and pair i < ropeDim / 2, the pair (a, b) is (2i, 2i + 1) for style 'adjacent'
// (llama.cpp NORM, llama2.c) or (i, i + ropeDim / 2) for 'half' (NEOX, Hugging Face rotate_half):
//   y_a = fl(fl(x_a * c) - fl(x_b * s)),  y_b = fl(fl(x_a * s) + fl(x_b * c)).
// Dimensions from ropeDim on pass through.

import { shapeStr } from '../../ir.ts';
import { add, mul, sub } from '../../numerics/f32.ts';
import { at, type OpDef } from '../op.ts';
import { rowSpan } from './rows.ts';

export const Rope: OpDef = {
  op: 'Rope',
  summary: 'rotary position embedding (adjacent or half-split pairs) from compile-time tables',
  inputs: { names: ['X', 'pos', 'cos', 'sin'], min: 4 },
  outputs: { names: ['Y'], min: 1 },
  attrs: {
    heads: { kind: 'int', doc: 'heads in a row' },
    head_dim: { kind: 'int', doc: 'dimensions per head' },
    rope_dim: { kind: 'int', doc: 'rotated dimensions per head (even, <= head_dim)' },
    style: { kind: 'string', default: 'adjacent', oneOf: ['adjacent', 'half'], doc: "pairs (2i, 2i+1) ('adjacent') or (i, i + rope_dim/2) ('half')" },
  },
  rows: true,
  infer(ctx) {
    const [x, pos, cos, sin] = ctx.inputs;
    if (!x || !pos || !cos || !sin) return [];
    const h = Number(ctx.node.attrs.heads);
    const hd = Number(ctx.node.attrs.head_dim);
    const rd = Number(ctx.node.attrs.rope_dim);
    if (x.dtype !== 'float32' || x.shape.length !== 2 || x.shape[1] !== h * hd)
      ctx.error(`input 0 "${x.name}" must be float32 [T, ${h} * ${hd}], found ${x.dtype} ${shapeStr(x.shape)}`);
    else if (pos.dtype !== 'int32' || pos.shape.length !== 1 || pos.shape[0] !== 1)
      ctx.error(`input 1 "${pos.name}" must be int32 [1], found ${pos.dtype} ${shapeStr(pos.shape)}`);
    else if (rd < 2 || rd % 2 !== 0 || rd > hd) ctx.error(`rope_dim ${rd} must be even and at most head_dim ${hd}`);
    else if ([cos, sin].some((t) => t.kind !== 'constant' || t.dtype !== 'float32' || t.shape.length !== 2 || t.shape[1] !== rd / 2))
      ctx.error(`inputs 2 and 3 must be float32 constants [P, ${rd / 2}], found ${shapeStr(cos.shape)} and ${shapeStr(sin.shape)}`);
    else return [{ dtype: 'float32', shape: [...x.shape] }];
    return [];
  },
  interpret(ctx) {
    const { node, graph } = ctx;
    const xT = graph.tensors.get(node.inputs[0]!)!;
    const x = ctx.readNum(xT.name);
    const p0 = at(ctx.readNum(node.inputs[1]!), 0, node.inputs[1]!);
    const cos = ctx.readNum(node.inputs[2]!);
    const sin = ctx.readNum(node.inputs[3]!);
    const [total, width] = xT.shape as [number, number];
    const h = Number(node.attrs.heads);
    const hd = Number(node.attrs.head_dim);
    const half = Number(node.attrs.rope_dim) / 2;
    const positions = graph.tensors.get(node.inputs[2]!)!.shape[0]!;
    const y = Float32Array.from(x);
    const { count } = rowSpan(node, ctx.rows, total);
    for (let r = 0; r < count; r++) {
      const p = p0 + r;
      if (!(p >= 0 && p < positions)) throw new Error(`internal: Rope "${node.name}": position ${p} outside the table of ${positions}`);
      for (let head = 0; head < h; head++) {
        const base = r * width + head * hd;
        for (let i = 0; i < half; i++) {
          const [ia, ib] = node.attrs.style === 'half' ? [i, i + half] : [2 * i, 2 * i + 1];
          const c = at(cos, p * half + i, node.inputs[2]!);
          const s = at(sin, p * half + i, node.inputs[3]!);
          const a = at(x, base + ia, xT.name);
          const b = at(x, base + ib, xT.name);
          y[base + ia] = sub(mul(a, c), mul(b, s));
          y[base + ib] = add(mul(a, s), mul(b, c));
        }
      }
    }
    // Rows past the call's n keep their input values (nobody reads them).
    ctx.write(node.outputs[0]!, y);
  },
  // Each pair is read before it is written, and nothing else of the row is read.
  inPlace: [{ input: 0, output: 0 }],
  emit(ctx) {
    const x = ctx.input(0);
    const { heads, head_dim, rope_dim, style } = ctx.node.attrs;
    return {
      kernel: `tn_rope_${style}_f32`,
      runtime: ['ref/tn_lm.c', 'ref/tn_math.c'],
      body: [
        `tn_rope_${style}_f32(${ctx.in(0)}, ${ctx.rows(x.shape[0]!)}, ${ctx.in(1)}, ${ctx.in(2)}, ${ctx.in(3)}, /* heads */ ${heads}, /* head_dim */ ${head_dim}, /* rope_dim */ ${rope_dim}, ${ctx.out(0)});`,
      ],
    };
  },
  cost(graph, node) {
    const x = graph.tensors.get(node.inputs[0]!)!;
    const t = graph.tensors.get(node.inputs[2]!)!;
    return { macs: x.shape[0]! * Number(node.attrs.heads) * Number(node.attrs.rope_dim) * 2, weightBytes: t.shape[0]! * t.shape[1]! * 8 };
  },
};
