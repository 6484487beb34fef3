// GatedAct: the gated FFN's middle, act(G) * U, elementwise over each row.
//
//   G, U  float32 [T, F]     Y  float32 [T, F]
//   silu:   y = fl(fl(g / fl(1 + expf(-g))) * u)          (SwiGLU: LLaMA, TriLM, llama.cpp's bitnet)
//   relu2:  r = g > 0 ? g : +0,  y = fl(fl(r * r) * u)    (squared ReLU: BitNet b1.58 2B4T)

import { shapeStr } from '../../ir.ts';
import { add, div, expf, mul } from '../../numerics/f32.ts';
import { vectorIsa } from '../../targets.ts';
import { at, type OpDef } from '../op.ts';
import { rowSpan } from './rows.ts';

function gatedAct(act: string, g: number, u: number): number {
  if (act === 'silu') return mul(div(g, add(1, expf(-g))), u);
  const r = g > 0 ? g : 0;
  return mul(mul(r, r), u);
}

export const GatedAct: OpDef = {
  op: 'GatedAct',
  summary: 'act(G) * U elementwise: SwiGLU (silu) or squared ReLU (relu2)',
  inputs: { names: ['G', 'U'], min: 2 },
  outputs: { names: ['Y'], min: 1 },
  attrs: { act: { kind: 'string', default: 'silu', oneOf: ['silu', 'relu2'], doc: 'the activation of the gate' } },
  rows: true,
  infer(ctx) {
    const [g, u] = ctx.inputs;
    if (!g || !u) return [];
    if (g.dtype !== 'float32' || u.dtype !== 'float32' || g.shape.length !== 2 || shapeStr(g.shape) !== shapeStr(u.shape))
      ctx.error(
        `G "${g.name}" and U "${u.name}" must be float32 [T, F] of the same shape, found ${g.dtype} ${shapeStr(g.shape)} and ${u.dtype} ${shapeStr(u.shape)}`,
      );
    else return [{ dtype: 'float32', shape: [...g.shape] }];
    return [];
  },
  interpret(ctx) {
    const { node, graph } = ctx;
    const gT = graph.tensors.get(node.inputs[0]!)!;
    const g = ctx.readNum(gT.name);
    const u = ctx.readNum(node.inputs[1]!);
    const [total, f] = gT.shape as [number, number];
    const y = new Float32Array(total * f);
    const { count } = rowSpan(node, ctx.rows, total);
    const act = String(node.attrs.act);
    for (let i = 0; i < count * f; i++) y[i] = gatedAct(act, at(g, i, gT.name), at(u, i, node.inputs[1]!));
    ctx.write(node.outputs[0]!, y);
  },
  inPlace: [
    { input: 0, output: 0 },
    { input: 1, output: 0 },
  ],
  emit(ctx) {
    const [total, f] = ctx.input(0).shape as [number, number];
    // SwiGLU's exponential and division 8 (AVX2) or 4 (NEON) at a time, the reference's bits
    // (test/lm-attention.test.ts); squared ReLU's loop the compiler vectorizes itself.
    const isa = ctx.node.attrs.act === 'silu' ? vectorIsa(ctx.target) : undefined;
    const fn = `tn_gated_${ctx.node.attrs.act}_f32${isa ? `_${isa}` : ''}`;
    return {
      kernel: fn,
      runtime: ['ref/tn_lm.c', 'ref/tn_math.c', ...(isa === 'avx2' ? ['opt/x86/tn_gated_avx2.c'] : isa === 'neon' ? ['opt/arm/tn_gated_neon.c'] : [])],
      body: [`${fn}(${ctx.in(0)}, ${ctx.in(1)}, ${ctx.rows(total)}, /* width */ ${f}, ${ctx.out(0)});`],
    };
  },
  cost(graph, node) {
    const g = graph.tensors.get(node.inputs[0]!)!;
    return { macs: g.shape[0]! * g.shape[1]!, weightBytes: 0 };
  },
};
