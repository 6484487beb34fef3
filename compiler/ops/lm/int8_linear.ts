// Int8Linear: int8 activation codes times int8 weight codes, the integer form of an int8 projection
// (an int8 or Q8_0 head, int8 projections) when the model runs with int8 activations.
//
//   X  int8 [T, K] codes in [-127, 127] (QuantizeInt8), a scale per row or per tensor
//   W  int8 [N, K] constant, float32 scales per tensor, row or group of G consecutive k
//   B  float32 [N], optional
//   Y  float32 [T, N]
//
// The semantics are TernaryLinear's with int8 weights (docs/numerics.md, "Int8Linear"):
//   acc[g] = sum over k in group g of W[n,k] * X[t,k], exact in int32: the op checks
//            G * 128 * max|X| < 2^31 (G <= 131072 for codes from QuantizeInt8)
//   s = (float)acc[0] * ws[n,0], then s = s + (float)acc[g] * ws[n,g] in order of g (each rounded)
//   y = s * sx[t], then y = y + B[n]; a run-time delta in `delta_slot` adds its int8 term last
// The kernels (runtime-c/tn_lm.h): VPDPBUSD or VPMADDUBSW on x86, SDOT or SMULL on NEON, SMLAD on
// Cortex-M cores with the DSP extension (one scale per row), the reference's loop elsewhere; all give
// the reference's bits, since only the integer sums are reordered.

import { INT32_MAX, int8MaxAbs, lowBitGeometry } from '../../lowbit.ts';
import type { Tensor } from '../../ir.ts';
import { vectorIsa, type TargetDesc } from '../../targets.ts';
import { interpretLowBitLinear, inferLowBitLinear } from '../lowbit_linear.ts';
import type { OpDef } from '../op.ts';
import { LEADING_ROWS_ATTR, leadingRowsC } from './rows.ts';
import { groupSize, groupsPerRow, weightBytes } from './weights.ts';

/** Whether `group` columns of int8 weights times activations up to `maxAbsX` sum exactly in int32. */
export function int8SumsFit(group: number, maxAbsX: number): boolean {
  return group * 128 * maxAbsX <= INT32_MAX;
}

/** The Int8Linear kernel of a target's vector ISA, and its runtime files. */
function int8LinearKernel(isa: string): { fn: string; runtime: string[] } {
  const ref = 'ref/tn_int8_linear.c';
  if (isa === 'avx2') return { fn: 'tn_int8_linear_avx2', runtime: [ref, 'opt/x86/tn_int8_linear_avx2.c'] };
  if (isa === 'neon') return { fn: 'tn_int8_linear_neon', runtime: [ref, 'opt/arm/tn_int8_linear_neon.c'] };
  return { fn: 'tn_int8_linear', runtime: [ref] };
}

/**
 * Whether the Cortex-M DSP kernel runs this layer (runtime-c/opt/armv7m/tn_dense_i8_m4.c: SMLAD on
 * sign-extended pairs, 4 rows per pass): a target with the DSP extension, one scale per weight row
 * and per activation row, the case whose formula it computes, ((float)acc * ws[n]) * sx[t] + b[n].
 */
function usesM4(target: TargetDesc | undefined, x: Tensor, w: Tensor): boolean {
  return !!target?.features.includes('dsp') && groupsPerRow(w) === 1 && x.quant?.granularity === 'per_row';
}

export const Int8Linear: OpDef = {
  op: 'Int8Linear',
  summary: 'int8 activation codes times int8 weight codes (exact int32 sums per scale group), scales per tensor/row/group, optional bias',
  inputs: { names: ['X', 'W', 'B'], min: 2 },
  outputs: { names: ['Y'], min: 1 },
  rows: true,
  attrs: {
    rows: LEADING_ROWS_ATTR,
    delta_slot: {
      kind: 'int',
      default: -1,
      doc: 'a run-time delta slot (ComPEFT task vectors, docs/formats.md): the delta loaded there adds its sparse ternary term; -1: none',
    },
  },
  infer(ctx) {
    const out = inferLowBitLinear(ctx, 'int8');
    const [x, w] = ctx.inputs;
    if (!out.length || !x || !w) return out;
    if (w.shape.length !== 2) {
      ctx.error(`input 1 "${w.name}" must be an int8 matrix [N, K], found shape [${w.shape.join(', ')}]`);
      return [];
    }
    const { group } = lowBitGeometry(w);
    const maxAbsX = int8MaxAbs(x);
    if (maxAbsX > 127) {
      ctx.error(`input 0 "${x.name}" may hold -128; Int8Linear takes codes in [-127, 127] (from QuantizeInt8, or give the tensor that range)`);
      return [];
    }
    if (!int8SumsFit(group, maxAbsX)) {
      ctx.error(
        `weight "${w.name}": a scale group of ${group} columns can sum past int32 (${group} * 128 * ${maxAbsX} > 2^31 - 1); at most 131072 columns per group`,
      );
      return [];
    }
    return out;
  },
  interpret: interpretLowBitLinear,
  // The Cortex-M DSP kernel's activations as int16 pairs (2 k int16), during this layer only.
  scratch(graph, node, target) {
    const x = graph.tensors.get(node.inputs[0]!)!;
    const w = graph.tensors.get(node.inputs[1]!)!;
    return usesM4(target, x, w) ? 4 * lowBitGeometry(w).k : 0;
  },
  emit(ctx) {
    const xT = ctx.input(0);
    const wT = ctx.input(1);
    const { n, k } = lowBitGeometry(wT);
    const rows = leadingRowsC(ctx.node, ctx.rows(xT.shape[0]!), ctx.outRows(xT.shape[0]!));
    const xPerRow = xT.quant!.granularity === 'per_row' ? 1 : 0;
    const bias = ctx.hasInput(2) ? ctx.in(2) : 'NULL';
    const slot = ctx.node.attrs.delta_slot as number;
    const bound = `/* exact int32 sums: |acc| <= ${groupSize(wT)} * 128 * ${int8MaxAbs(xT)} < 2^31 */`;
    const m4 = usesM4(ctx.target, xT, wT);
    const { fn, runtime } = m4 ? { fn: 'tn_dense_i8_m4', runtime: ['opt/armv7m/tn_dense_i8_m4.c'] } : int8LinearKernel(vectorIsa(ctx.target) || 'scalar');
    const body = m4
      ? [
          bound,
          `/* scratch: ${4 * k} bytes, the activations as int16 pairs; SMLAD over 4 rows per pass */`,
          `tn_dense_i8_m4(${ctx.in(0)}, ${ctx.inScale(0)}, /* rows */ ${rows}, ${ctx.in(1)}, ${ctx.inScale(1)}, /* n */ ${n}, /* k */ ${k}, ${bias}, ${ctx.out(0)}, (int16_t *)(void *)${ctx.scratch()}, 4);`,
        ]
      : [
          bound,
          `${fn}(${ctx.in(0)}, ${ctx.inScale(0)}, /* x per row */ ${xPerRow}, /* rows */ ${rows}, ${ctx.in(1)}, ${ctx.inScale(1)}, /* groups per row */ ${groupsPerRow(wT)}, /* group */ ${groupSize(wT)}, /* n */ ${n}, /* k */ ${k}, ${bias}, ${ctx.out(0)});`,
        ];
    if (slot >= 0)
      body.push(
        `tn_delta_apply_q8(${ctx.in(0)}, ${ctx.inScale(0)}, /* x per row */ ${xPerRow}, /* rows */ ${rows}, &${ctx.deltaSlots()}[${slot}], /* n */ ${n}, /* k */ ${k}, ${ctx.out(0)});`,
      );
    return { kernel: fn, runtime: [...runtime, ...(slot >= 0 ? ['ref/tn_delta.c'] : [])], body };
  },
  cost(graph, node) {
    const x = graph.tensors.get(node.inputs[0]!)!;
    const w = graph.tensors.get(node.inputs[1]!)!;
    const { n, k } = lowBitGeometry(w);
    const biasBytes = node.inputs[2] ? n * 4 : 0;
    return { macs: x.shape[0]! * n * k, weightBytes: weightBytes(w) + biasBytes };
  },
};
