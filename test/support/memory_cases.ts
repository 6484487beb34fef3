// Hand-written models for the memory planner's riskier decisions: every in-place case the ops
// declare (Relu float and int8, Softmax along either axis, QuantizeInt8 per tensor and per row, Add
// into either operand, with and without broadcasting, DequantizeInt8 over the end of its output) and kernel scratch (the synthetic
// TestScratchReverse op of scratch_op.ts; call registerTestOps() first). The differential tests run
// them on the host and every QEMU target; test/planner.test.ts checks that the planner really
// shares where these comments say it does.

import type { ModelSpec } from '../../compiler/format/write.ts';

const f32 = (shape: number[], fill: (i: number) => number) => ({ dtype: 'float32' as const, shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => fill(i)) });

export interface MemoryCase {
  spec: ModelSpec;
  /** [output, input] pairs the planner is expected to share in place. */
  inPlace: [string, string][];
}

export function memoryCases(): MemoryCase[] {
  return [
    {
      // relu -> softmax (last axis) -> softmax (axis 0) -> quantize per row -> relu int8 -> dequantize.
      spec: {
        name: 'inplace-chain',
        inputs: ['x'],
        outputs: ['d'],
        tensors: { x: { dtype: 'float32', shape: [3, 5] } },
        nodes: [
          { name: 'relu', op: 'Relu', inputs: ['x'], outputs: ['r'] },
          { name: 'sm1', op: 'Softmax', inputs: ['r'], outputs: ['s1'] },
          { name: 'sm0', op: 'Softmax', inputs: ['s1'], outputs: ['s0'], attrs: { axis: 0 } },
          { name: 'q', op: 'QuantizeInt8', inputs: ['s0'], outputs: ['q', 'qs'], attrs: { granularity: 'per_row' } },
          { name: 'r8', op: 'Relu', inputs: ['q'], outputs: ['r8'] },
          { name: 'dq', op: 'DequantizeInt8', inputs: ['r8'], outputs: ['d'] },
        ],
      },
      inPlace: [['s1', 'r'], ['s0', 's1'], ['q', 's0'], ['r8', 'q']],
    },
    {
      // Add into its first operand, into its second, into both (a + a), and a broadcast operand that
      // must not be overwritten (the output goes over the full-size one).
      spec: {
        name: 'inplace-add',
        inputs: ['x', 'v'],
        outputs: ['y'],
        tensors: { x: { dtype: 'float32', shape: [3, 4] }, v: { dtype: 'float32', shape: [4] }, c: f32([4], (i) => i - 1.5), c2: f32([1, 4], (i) => 0.25 * i) },
        nodes: [
          { name: 'a', op: 'Relu', inputs: ['x'], outputs: ['a'] },
          { name: 'vr', op: 'Relu', inputs: ['v'], outputs: ['vr'] },
          { name: 'h1', op: 'Add', inputs: ['a', 'c'], outputs: ['h1'] },
          { name: 'h2', op: 'Add', inputs: ['c2', 'h1'], outputs: ['h2'] },
          { name: 'h3', op: 'Add', inputs: ['h2', 'h2'], outputs: ['h3'] },
          { name: 'h4', op: 'Add', inputs: ['vr', 'h3'], outputs: ['h4'] },
          { name: 'y', op: 'Add', inputs: ['h4', 'x'], outputs: ['y'] },
        ],
      },
      inPlace: [['h1', 'a'], ['h2', 'h1'], ['h3', 'h2'], ['h4', 'h3']],
    },
    {
      // Quantize one row of 37 floats in place (per tensor), then a ternary layer reads the codes.
      spec: {
        name: 'inplace-quantize',
        inputs: ['x'],
        outputs: ['y'],
        tensors: {
          x: { dtype: 'float32', shape: [1, 37] },
          w: { dtype: 'ternary', shape: [5, 37], quant: { scale: 'ws', granularity: 'per_row' }, data: Int8Array.from({ length: 185 }, (_, i) => ((i * 7) % 3) - 1) },
          ws: f32([5], (i) => 0.1 + 0.05 * i),
        },
        nodes: [
          { name: 'r', op: 'Relu', inputs: ['x'], outputs: ['r'] },
          { name: 'q', op: 'QuantizeInt8', inputs: ['r'], outputs: ['q'] },
          { name: 'fc', op: 'TernaryLinear', inputs: ['q', 'w'], outputs: ['y'] },
        ],
      },
      inPlace: [['q', 'r']],
    },
    {
      // Dequantize grows int8 to float32: its input sits at the end of its output.
      spec: {
        name: 'inplace-dequantize',
        inputs: ['x'],
        outputs: ['y'],
        tensors: { x: { dtype: 'float32', shape: [2, 9] } },
        nodes: [
          { name: 'q', op: 'QuantizeInt8', inputs: ['x'], outputs: ['q'], attrs: { granularity: 'per_row' } },
          { name: 'dq', op: 'DequantizeInt8', inputs: ['q'], outputs: ['d'] },
          { name: 'sm', op: 'Softmax', inputs: ['d'], outputs: ['s'] },
          { name: 'y', op: 'Add', inputs: ['s', 'x'], outputs: ['y'] },
        ],
      },
      inPlace: [['d', 'q'], ['s', 'd']],
    },
    {
      // Kernel scratch while another arena tensor (a) stays live across the step.
      spec: {
        name: 'scratch',
        inputs: ['x'],
        outputs: ['y'],
        tensors: { x: { dtype: 'float32', shape: [2, 6] } },
        nodes: [
          { name: 'a', op: 'Relu', inputs: ['x'], outputs: ['a'] },
          { name: 'rev', op: 'TestScratchReverse', inputs: ['a'], outputs: ['r'] },
          { name: 'rev2', op: 'TestScratchReverse', inputs: ['r'], outputs: ['r2'] },
          { name: 'sum', op: 'Add', inputs: ['a', 'r2'], outputs: ['s'] },
          { name: 'y', op: 'Add', inputs: ['s', 'r'], outputs: ['y'] },
        ],
      },
      inPlace: [],
    },
  ];
}
