// Every size the generated C indexes fits its index type, whichever reader made the graph: one test
// per limit (rank, empty dimensions, elements, bytes, inputs, K of low-bit layers), through the ONNX
// reader and the native reader, each a clear error naming the tensor.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../compiler/compile.ts';
import { TritcError } from '../compiler/diagnostics.ts';
import { prepareGraph } from '../compiler/passes/pipeline.ts';
import { readModel } from '../compiler/readers/native/read.ts';
import { writeModel } from '../compiler/readers/native/write.ts';
import { importOnnx } from '../compiler/readers/onnx/import.ts';
import { encodeOnnxModel, type ModelSpecOnnx } from '../compiler/readers/onnx/write.ts';
import { getTarget } from '../compiler/targets.ts';

function errorOf(fn: () => unknown): TritcError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TritcError) return e;
    throw e;
  }
  throw new Error('expected an error, got none');
}

/** y = x @ b with x [m, k] a graph input and b [k, n] a constant. */
function matmul(m: number, k: number, n: number): Uint8Array {
  const spec: ModelSpecOnnx = {
    opset: 17,
    inputs: [{ name: 'x', dtype: 'float32', shape: [m, k] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [m, n] }],
    initializers: [{ name: 'b', dtype: 'float32', shape: [k, n], data: new Float32Array(k * n).fill(0.5) }],
    nodes: [{ op: 'MatMul', name: 'mm', inputs: ['x', 'b'], outputs: ['y'] }],
  };
  return encodeOnnxModel(spec);
}

const compileOnnx = (bytes: Uint8Array, name: string) => compileGraph(prepareGraph(importOnnx(bytes, name)), { target: getTarget('host'), skipFitCheck: true });

describe('limits of the generated C, for every reader', () => {
  it('an ONNX MatMul [65536, 1] x [1, 65536] (2^32 outputs) is an error naming the tensor, not an int32_t overflow', () => {
    const e = errorOf(() => compileOnnx(matmul(65536, 1, 65536), 'big.onnx'));
    expect(e.code).toBe('limit');
    expect(e.message).toBe(
      'big.onnx: node "mm" (MatMul): output "y" [65536, 65536] has 4294967296 elements, above the limit of 2^31 - 1 that the generated C indexes with int32_t',
    );
  });

  it('a tensor of fewer than 2^31 elements but more than 2^31 - 1 bytes is an error', () => {
    const e = errorOf(() => compileOnnx(matmul(32768, 1, 16385), 'bytes.onnx'));
    expect(e.code).toBe('limit');
    expect(e.message).toMatch(/output "y" \[32768, 16385\] float32 takes 2147614720 bytes, above the limit of 2\^31 - 1 bytes/);
  });

  it('a graph input beyond the limit is an error of the check-limits pass', () => {
    const spec: ModelSpecOnnx = {
      opset: 17,
      inputs: [{ name: 'x', dtype: 'float32', shape: [65536, 32768] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [65536, 32768] }],
      nodes: [{ op: 'Relu', name: 'r', inputs: ['x'], outputs: ['y'] }],
    };
    // The Relu's output fails first, in inference; with a smaller output only the input would.
    const e = errorOf(() => compileOnnx(encodeOnnxModel(spec), 'input.onnx'));
    expect(e.code).toBe('limit');
    expect(e.message).toMatch(/"y" \[65536, 32768\] has 2147483648 elements/);
    const spec2: ModelSpecOnnx = {
      opset: 17,
      inputs: [{ name: 'x', dtype: 'float32', shape: [65536, 32768] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 1] }],
      initializers: [
        { name: 'starts', dtype: 'int64', shape: [2], data: [0, 0] },
        { name: 'ends', dtype: 'int64', shape: [2], data: [1, 1] },
      ],
      nodes: [{ op: 'Slice', name: 's', inputs: ['x', 'starts', 'ends'], outputs: ['y'] }],
    };
    const e2 = errorOf(() => compileOnnx(encodeOnnxModel(spec2), 'input2.onnx'));
    expect(e2.code).toBe('limit');
    expect(e2.message).toBe(
      'input2.onnx: input "x": input "x" [65536, 32768] has 2147483648 elements, above the limit of 2^31 - 1 that the generated C indexes with int32_t',
    );
  });

  it('rank above 8 and empty dimensions are errors in inference', () => {
    const shape = [1, 1, 1, 1, 1, 1, 1, 1, 2];
    const spec: ModelSpecOnnx = {
      opset: 17,
      inputs: [{ name: 'x', dtype: 'float32', shape: [2] }],
      outputs: [{ name: 'y', dtype: 'float32', shape }],
      initializers: [{ name: 'shape', dtype: 'int64', shape: [9], data: shape }],
      nodes: [{ op: 'Reshape', name: 'r', inputs: ['x', 'shape'], outputs: ['y'] }],
    };
    const e = errorOf(() => importOnnx(encodeOnnxModel(spec), 'rank.onnx'));
    expect(e.code).toBe('limit');
    expect(e.message).toMatch(/output "y" has rank 9, above the limit of 8/);
  });

  it('the native reader applies the same limits (K of a low-bit layer above 2^24)', () => {
    const root = mkdtempSync(join(tmpdir(), 'tritc-limits-'));
    const k = 2 ** 24 + 1;
    const dir = writeModel(join(root, 'm'), {
      name: 'bigk',
      inputs: ['x'],
      outputs: ['y'],
      tensors: {
        x: { dtype: 'float32', shape: [1, k] },
        w: { dtype: 'ternary', shape: [1, k], data: new Int8Array(k).fill(1), quant: { scale: 's', granularity: 'per_tensor' } },
        s: { dtype: 'float32', shape: [1], data: new Float32Array([1]) },
      },
      nodes: [
        { name: 'q', op: 'QuantizeInt8', inputs: ['x'], outputs: ['xq'], attrs: {} },
        { name: 'fc', op: 'TernaryLinear', inputs: ['xq', 'w'], outputs: ['y'], attrs: {} },
      ],
    });
    const e = errorOf(() => compileGraph(readModel(dir), { target: getTarget('host'), skipFitCheck: true }));
    expect(e.code).toBe('limit');
    expect(e.message).toMatch(/node "fc": K = 16777217 .* above the format limit of 16777216/);
  });
});
