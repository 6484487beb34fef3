// Hand-written models for the memory planner's riskier decisions: every in-place case the ops
// declare (Relu float and int8, Softmax along either axis, QuantizeInt8 per tensor and per row, Add
// into either operand, with and without broadcasting, DequantizeInt8 over the end of its output,
// depthwise Conv through a plane of scratch) and kernel scratch (the synthetic
// TestScratchReverse op of scratch_op.ts; call registerTestOps() first). The differential tests run
// them on the host and every QEMU target; test/planner.test.ts checks that the planner really
// shares where these comments say it does.

import type { ModelSpec } from '../../compiler/readers/native/write.ts';

const f32 = (shape: number[], fill: (i: number) => number) => ({
  dtype: 'float32' as const,
  shape,
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => fill(i)),
});

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
      inPlace: [
        ['s1', 'r'],
        ['s0', 's1'],
        ['q', 's0'],
        ['r8', 'q'],
      ],
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
      inPlace: [
        ['h1', 'a'],
        ['h2', 'h1'],
        ['h3', 'h2'],
        ['h4', 'h3'],
      ],
    },
    {
      // Quantize one row of 37 floats in place (per tensor), then a ternary layer reads the codes.
      spec: {
        name: 'inplace-quantize',
        inputs: ['x'],
        outputs: ['y'],
        tensors: {
          x: { dtype: 'float32', shape: [1, 37] },
          w: {
            dtype: 'ternary',
            shape: [5, 37],
            quant: { scale: 'ws', granularity: 'per_row' },
            data: Int8Array.from({ length: 185 }, (_, i) => ((i * 7) % 3) - 1),
          },
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
      inPlace: [
        ['d', 'q'],
        ['s', 'd'],
      ],
    },
    {
      // Depthwise Conv in place, over 2 batches of 3 channels (planes of the second batch read
      // channel p mod C's weights): 3x3 stride 2 with padding (9x9 -> 5x5) and 2x2 stride 1 without
      // (5x5 -> 4x4) stream, with no scratch; 3x3 stride 1 with padding and a bias (5x5 -> 5x5) goes
      // one plane at a time through a plane of scratch. A full Conv (group 1) reads every plane and
      // does not share.
      spec: {
        name: 'inplace-depthwise',
        inputs: ['x'],
        outputs: ['y'],
        tensors: {
          x: { dtype: 'float32', shape: [2, 3, 9, 9] },
          w1: f32([3, 1, 3, 3], (i) => ((i * 7) % 11) / 8 - 0.6),
          w2: f32([3, 1, 3, 3], (i) => ((i * 5) % 9) / 6 - 0.7),
          b2: f32([3], (i) => 0.25 - 0.5 * i),
          w3: f32([3, 1, 2, 2], (i) => 0.3 * i - 1.1),
          wf: f32([3, 3, 1, 1], (i) => (i % 4) - 1.5),
        },
        nodes: [
          { name: 'r', op: 'Relu', inputs: ['x'], outputs: ['r'] },
          { name: 'dw1', op: 'Conv', inputs: ['r', 'w1'], outputs: ['d1'], attrs: { group: 3, strides: [2, 2], pads: [1, 1, 1, 1] } },
          { name: 'dw2', op: 'Conv', inputs: ['d1', 'w2', 'b2'], outputs: ['d2'], attrs: { group: 3, pads: [1, 1, 1, 1] } },
          { name: 'dw3', op: 'Conv', inputs: ['d2', 'w3'], outputs: ['d3'], attrs: { group: 3 } },
          { name: 'full', op: 'Conv', inputs: ['d3', 'wf'], outputs: ['y'] },
        ],
      },
      inPlace: [
        ['d1', 'r'],
        ['d2', 'd1'],
        ['d3', 'd2'],
      ],
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
