// Attention: causal multi-head attention with grouped KV heads over a KV cache that lives in the
// model's state (the planner keeps it for the model's whole life).
//
//   Q  float32 [T, H * hd]     K, V  float32 [T, KVH * hd]     pos  int32 [1] (position of row 0)
//   Kc, Vc  state [P, KVH * hd], float32, float16 or int8: the cache, updated in place
//   Ks, Vs  state float32 [P, KVH], with an int8 cache only: a scale per position and KV head
//   Y  float32 [T, H * hd]
// A call first stores K and V of its n rows at positions pos .. pos + n - 1 (float16: rounded to
// nearest even; int8: each head's head_dim values quantized as QuantizeInt8 quantizes a row,
// absmax / 127, and read back as fl(code * scale)), then for each row r (position m = pos + r) and
// head h, with KV head
// g = h / (H / KVH) (docs/numerics.md, "Attention"):
//   s_j = fl(lane sum over d of fl(Q[r,h,d] * Kc[j,g,d]) * scale)   for j = 0 .. m
//   e_j = expf(fl(s_j - max_j s_j)),  sum = e_0 + e_1 + ... in order,  w_j = fl(e_j / sum)
//   Y[r,h,d] = w_0 * Vc[0,g,d] + w_1 * Vc[1,g,d] + ... (each product rounded, added in order)
// The scores of one row and head are kernel scratch (P floats).

import { shapeStr, type Tensor } from '../../ir.ts';
import { add, div, expf, fround, mul, sub } from '../../numerics/f32.ts';
import { laneSum } from '../../numerics/dot.ts';
import { f16BitsToF32, f32ToF16Bits } from '../../numerics/half.ts';
import { hexFloat } from '../../emit/cliterals.ts';
import { vectorIsa } from '../../targets.ts';
import { at, type OpDef } from '../op.ts';
import { quantizeRow } from '../quantize_int8.ts';
import { rowSpan } from './rows.ts';

export const Attention: OpDef = {
  op: 'Attention',
  summary: 'causal grouped-query attention over a KV cache in the model state (float32, float16, or int8 with a scale per position and head)',
  inputs: { names: ['Q', 'K', 'V', 'pos', 'Kc', 'Vc', 'Ks', 'Vs'], min: 6 },
  outputs: { names: ['Y'], min: 1 },
  attrs: {
    heads: { kind: 'int', doc: 'query heads' },
    kv_heads: { kind: 'int', doc: 'key/value heads (divides heads)' },
    head_dim: { kind: 'int', doc: 'dimensions per head' },
    scale: { kind: 'float', doc: 'score scale, rounded to float32 (1 / sqrt(head_dim))' },
  },
  rows: true,
  mutates: [4, 5, 6, 7],
  infer(ctx) {
    const [q, k, v, pos, kc, vc] = ctx.inputs;
    if (!q || !k || !v || !pos || !kc || !vc) return [];
    const h = Number(ctx.node.attrs.heads);
    const kvh = Number(ctx.node.attrs.kv_heads);
    const hd = Number(ctx.node.attrs.head_dim);
    const rows = q.shape[0];
    const is = (t: Tensor, w: number) => t.dtype === 'float32' && t.shape.length === 2 && t.shape[0] === rows && t.shape[1] === w;
    if (!(h >= 1 && kvh >= 1 && h % kvh === 0 && hd >= 1)) ctx.error(`heads ${h} must be a multiple of kv_heads ${kvh}, head_dim ${hd} positive`);
    else if (!is(q, h * hd) || !is(k, kvh * hd) || !is(v, kvh * hd))
      ctx.error(
        `Q, K, V must be float32 [T, ${h}*${hd}], [T, ${kvh}*${hd}], [T, ${kvh}*${hd}], found ${shapeStr(q.shape)}, ${shapeStr(k.shape)}, ${shapeStr(v.shape)}`,
      );
    else if (pos.dtype !== 'int32' || pos.shape.length !== 1 || pos.shape[0] !== 1) ctx.error(`input 3 "${pos.name}" must be int32 [1]`);
    else if (
      [kc, vc].some(
        (c) => c.kind !== 'state' || (c.dtype !== 'float32' && c.dtype !== 'float16' && c.dtype !== 'int8') || c.shape.length !== 2 || c.shape[1] !== kvh * hd,
      )
    )
      ctx.error(`inputs 4 and 5 must be state tensors float32, float16 or int8 [P, ${kvh}*${hd}], found ${kc.kind} ${kc.dtype} ${shapeStr(kc.shape)}`);
    else if (kc.dtype !== vc.dtype || kc.shape[0] !== vc.shape[0]) ctx.error('the K and V caches must have the same dtype and length');
    else if ((kc.dtype === 'int8') !== (ctx.inputs.length === 8))
      ctx.error(kc.dtype === 'int8' ? 'an int8 cache needs its scales: inputs 6 and 7 (Ks, Vs)' : 'inputs 6 and 7 (scales) belong to an int8 cache only');
    else if (
      kc.dtype === 'int8' &&
      ctx.inputs
        .slice(6)
        .some((s) => !s || s.kind !== 'state' || s.dtype !== 'float32' || s.shape.length !== 2 || s.shape[0] !== kc.shape[0] || s.shape[1] !== kvh)
    )
      ctx.error(`inputs 6 and 7 must be state tensors float32 [${kc.shape[0]}, ${kvh}]: a scale per position and KV head`);
    else return [{ dtype: 'float32', shape: [...q.shape] }];
    return [];
  },
  interpret(ctx) {
    const { node, graph } = ctx;
    const [qN, kN, vN, posN, kcN, vcN] = node.inputs as [string, string, string, string, string, string];
    const qT = graph.tensors.get(qN)!;
    const kcT = graph.tensors.get(kcN)!;
    const q = ctx.readNum(qN);
    const k = ctx.readNum(kN);
    const v = ctx.readNum(vN);
    const p0 = at(ctx.readNum(posN), 0, posN);
    const kc = ctx.state(kcN) as Float32Array | Uint16Array | Int8Array;
    const vc = ctx.state(vcN) as Float32Array | Uint16Array | Int8Array;
    const half = kcT.dtype === 'float16';
    const int8 = kcT.dtype === 'int8';
    const ks = int8 ? (ctx.state(node.inputs[6]!) as Float32Array) : undefined;
    const vs = int8 ? (ctx.state(node.inputs[7]!) as Float32Array) : undefined;
    const h = Number(node.attrs.heads);
    const kvh = Number(node.attrs.kv_heads);
    const hd = Number(node.attrs.head_dim);
    const scale = fround(Number(node.attrs.scale));
    const positions = kcT.shape[0]!;
    const kvw = kvh * hd;
    const total = qT.shape[0]!;
    const { count } = rowSpan(node, ctx.rows, total);
    if (p0 < 0 || p0 + count > positions)
      throw new Error(`internal: Attention "${node.name}": positions ${p0}..${p0 + count - 1} outside the cache of ${positions}`);
    type Cache = Float32Array | Uint16Array | Int8Array;
    const store = (c: Cache, i: number, x: number) => (c[i] = half ? f32ToF16Bits(x) : x);
    // int8: element i of the cache is read back as its code times its position's and head's scale.
    const load = (c: Cache, i: number) => {
      if (half) return f16BitsToF32(at(c, i, kcN));
      if (int8) return mul(at(c, i, kcN), at(c === kc ? ks! : vs!, Math.floor(i / hd), kcN));
      return at(c, i, kcN);
    };
    for (let r = 0; r < count; r++) {
      if (int8) {
        // Each KV head's head_dim values as one QuantizeInt8 row, codes and scale into the cache.
        for (let g = 0; g < kvh; g++) {
          quantizeRow(k, r * kvw + g * hd, hd, kc as Int8Array, ks!, (p0 + r) * kvh + g, (p0 + r) * kvw + g * hd);
          quantizeRow(v, r * kvw + g * hd, hd, vc as Int8Array, vs!, (p0 + r) * kvh + g, (p0 + r) * kvw + g * hd);
        }
        continue;
      }
      for (let i = 0; i < kvw; i++) {
        store(kc, (p0 + r) * kvw + i, at(k, r * kvw + i, kN));
        store(vc, (p0 + r) * kvw + i, at(v, r * kvw + i, vN));
      }
    }
    const y = new Float32Array(total * h * hd);
    const s = new Float64Array(positions);
    for (let r = 0; r < count; r++) {
      const m = p0 + r;
      for (let head = 0; head < h; head++) {
        const g = Math.floor(head / (h / kvh));
        const qb = r * h * hd + head * hd;
        let mx = -Infinity;
        for (let j = 0; j <= m; j++) {
          s[j] = mul(
            laneSum(0, hd, (d) => mul(at(q, qb + d, qN), load(kc, j * kvw + g * hd + d))),
            scale,
          );
          if (j === 0 || s[j]! > mx) mx = s[j]!;
        }
        let sum = 0;
        for (let j = 0; j <= m; j++) {
          s[j] = expf(sub(s[j]!, mx));
          sum = j === 0 ? s[j]! : add(sum, s[j]!);
        }
        for (let j = 0; j <= m; j++) s[j] = div(s[j]!, sum);
        for (let d = 0; d < hd; d++) {
          let acc = 0;
          for (let j = 0; j <= m; j++) {
            const t = mul(s[j]!, load(vc, j * kvw + g * hd + d));
            acc = j === 0 ? t : add(acc, t);
          }
          y[qb + d] = acc;
        }
      }
    }
    ctx.write(node.outputs[0]!, y);
  },
  scratch(graph, node) {
    return graph.tensors.get(node.inputs[4]!)!.shape[0]! * 4;
  },
  emit(ctx) {
    const q = ctx.input(0);
    const kc = ctx.input(4);
    const { heads, kv_heads, head_dim } = ctx.node.attrs;
    const int8 = kc.dtype === 'int8';
    // The vector kernels give the reference's bits (test/lm-attention.test.ts); the x86 one checks
    // CPUID. An int8 cache runs the reference everywhere.
    const isa = int8 ? undefined : vectorIsa(ctx.target);
    const fn = `${int8 ? 'tn_attention_i8cache' : kc.dtype === 'float16' ? 'tn_attention_f16cache' : 'tn_attention_f32'}${isa ? `_${isa}` : ''}`;
    const scales = int8 ? ` ${ctx.in(6)}, ${ctx.in(7)},` : '';
    return {
      kernel: fn,
      runtime: [
        'ref/tn_lm.c',
        'ref/tn_math.c',
        ...(int8 ? ['ref/tn_attention_i8.c', 'ref/tn_quantize.c'] : []),
        ...(isa === 'avx2' ? ['opt/x86/tn_attention_avx2.c'] : isa === 'neon' ? ['opt/arm/tn_attention_neon.c'] : []),
      ],
      body: [
        `/* scratch: ${kc.shape[0]} float scores of one row and head */`,
        `${fn}(${ctx.in(0)}, ${ctx.in(1)}, ${ctx.in(2)}, ${ctx.rows(q.shape[0]!)}, ${ctx.in(3)}, ${ctx.in(4)}, ${ctx.in(5)},${scales} /* positions */ ${kc.shape[0]},`,
        `  /* heads */ ${heads}, /* kv_heads */ ${kv_heads}, /* head_dim */ ${head_dim}, /* scale */ ${hexFloat(fround(Number(ctx.node.attrs.scale)))}, (float *)(void *)${ctx.scratch()}, ${ctx.out(0)});`,
      ],
    };
  },
  cost(graph, node) {
    const q = graph.tensors.get(node.inputs[0]!)!;
    const kc = graph.tensors.get(node.inputs[4]!)!;
    return { macs: q.shape[0]! * q.shape[1]! * kc.shape[0]! * 2, weightBytes: 0 };
  },
};
