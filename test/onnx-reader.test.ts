// The ONNX reader: protobuf decoding, TensorProto values, and one test per class of error, each
// asserting the message a user sees.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TritcError } from '../compiler/diagnostics.ts';
import { decodeTensorProto } from '../compiler/readers/onnx/decode.ts';
import { importOnnx } from '../compiler/readers/onnx/import.ts';
import { prepareGraph } from '../compiler/passes/pipeline.ts';
import { tensorValues } from '../compiler/readers/onnx/tensor.ts';
import { encodeOnnxModel, encodeTensorProto, type ModelSpecOnnx } from '../compiler/readers/onnx/write.ts';
import { interpret } from '../compiler/interpret.ts';
import { SHARED_DATA } from '../examples/data.ts';
import { ModelProtoType } from '../compiler/readers/onnx/schema.ts';

const NODE_TESTS = join(SHARED_DATA, 'onnx_backend_tests', 'node');
const TFC = (name: string) => join(SHARED_DATA, 'qonnx', 'models', `${name}.onnx`);

function errorOf(fn: () => unknown): TritcError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TritcError) return e;
    throw new Error(`expected a TritcError, got ${e instanceof Error ? e.stack : String(e)}`);
  }
  throw new Error('expected an error, got none');
}

/** A two-node model: y = Relu(x + b), with b an initializer. */
function tiny(edit: (m: ModelSpecOnnx) => void = () => {}): Uint8Array {
  const m: ModelSpecOnnx = {
    opset: 17,
    inputs: [{ name: 'x', dtype: 'float32', shape: [2, 3] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [2, 3] }],
    initializers: [{ name: 'b', dtype: 'float32', shape: [3], data: [1, -2, 3] }],
    nodes: [
      { op: 'Add', name: 'add', inputs: ['x', 'b'], outputs: ['s'] },
      { op: 'Relu', name: 'relu', inputs: ['s'], outputs: ['y'] },
    ],
  };
  edit(m);
  return encodeOnnxModel(m);
}

describe('ONNX protobuf decoding', () => {
  it('reads a model written by the encoder and runs it', () => {
    const g = importOnnx(tiny(), 'tiny.onnx');
    expect(g.inputs).toEqual(['x']);
    expect(g.outputs).toEqual(['y']);
    expect(g.nodes.map((n) => n.op)).toEqual(['Add', 'Relu']);
    const y = interpret(g, new Map([['x', new Float32Array([0, 0, 0, -5, 5, -5])]])).get('y');
    expect(Array.from(y as Float32Array)).toEqual([1, 0, 3, 0, 3, 0]);
  });

  it('reads TensorProto files of the backend tests (raw_data) and the typed fields', () => {
    const t = decodeTensorProto(new Uint8Array(readFileSync(join(NODE_TESTS, 'test_add', 'test_data_set_0', 'input_0.pb'))), 'input_0.pb');
    const v = tensorValues(t, 'input_0.pb');
    expect(v.dtype).toBe('float32');
    expect(v.shape).toEqual([3, 4, 5]);
    const typed = tensorValues(decodeTensorProto(encodeTensorProto({ dtype: 'int64', shape: [2], data: [7, -9], typed: true }), 't'), 't');
    expect(Array.from(typed.data as BigInt64Array)).toEqual([7n, -9n]);
    const i8 = tensorValues(decodeTensorProto(encodeTensorProto({ dtype: 'int8', shape: [3], data: [-128, 0, 127], typed: true }), 't'), 't');
    expect(Array.from(i8.data as Int8Array)).toEqual([-128, 0, 127]);
  });

  it('reads both QONNX TFC models (opset 9, onnx.brevitas custom ops)', () => {
    for (const name of ['TFC_2W2A', 'TFC_1W1A']) {
      const g = prepareGraph(importOnnx(new Uint8Array(readFileSync(TFC(name))), `${name}.onnx`));
      expect(g.name).toBe(name);
      expect(g.tensors.get(g.inputs[0]!)!.shape).toEqual([1, 1, 28, 28]);
      expect(g.nodes.filter((n) => n.op === (name === 'TFC_2W2A' ? 'TernaryLinear' : 'BinaryLinear'))).toHaveLength(4);
    }
  });
});

describe('ONNX reader errors', () => {
  it('an empty file', () => {
    expect(errorOf(() => importOnnx(new Uint8Array(0), 'm.onnx')).message).toBe('m.onnx: is empty, not an ONNX model');
  });

  it('a truncated file', () => {
    const bytes = new Uint8Array(readFileSync(TFC('TFC_2W2A')));
    const e = errorOf(() => importOnnx(bytes.subarray(0, 100_000), 'TFC_2W2A.onnx'));
    expect(e.code).toBe('onnx');
    expect(e.message).toMatch(/^TFC_2W2A\.onnx: is not a valid ONNX model \(the protobuf does not decode: .*\); is it truncated or not an ONNX file\?$/);
  });

  it('garbage bytes', () => {
    const e = errorOf(() => importOnnx(new TextEncoder().encode('this is not a protobuf at all, just text\n'), 'junk.onnx'));
    expect(e.code).toBe('onnx');
    expect(e.message).toMatch(/^junk\.onnx: /);
  });

  it('a graph with a cycle', () => {
    const e = errorOf(() =>
      importOnnx(
        tiny((m) => {
          m.nodes = [
            { op: 'Add', name: 'a', inputs: ['x', 'r'], outputs: ['s'] },
            { op: 'Relu', name: 'r1', inputs: ['s'], outputs: ['r'] },
            { op: 'Relu', name: 'r2', inputs: ['s'], outputs: ['y'] },
          ];
        }),
        'cycle.onnx',
      ),
    );
    expect(e.code).toBe('cycle');
    expect(e.message).toBe('cycle.onnx: graph: has a cycle: "a" -> "r1" -> "a"');
  });

  it('a missing initializer', () => {
    const e = errorOf(() =>
      importOnnx(
        tiny((m) => (m.initializers = [])),
        'noinit.onnx',
      ),
    );
    expect(e.message).toBe(
      'noinit.onnx: node "add" (Add): input 1 "b" is not produced by any node, nor an initializer or graph input (a missing initializer?)',
    );
  });

  it('a shape mismatch between operands', () => {
    const e = errorOf(() =>
      importOnnx(
        tiny((m) => (m.initializers = [{ name: 'b', dtype: 'float32', shape: [4], data: [1, 2, 3, 4] }])),
        'shape.onnx',
      ),
    );
    expect(e.code).toBe('shape');
    expect(e.message).toBe('shape.onnx: node "add" (Add): shapes [2, 3] of "x" and [4] of "b" do not broadcast');
  });

  it('a declared output shape that disagrees with the graph', () => {
    const e = errorOf(() =>
      importOnnx(
        tiny((m) => (m.outputs = [{ name: 'y', dtype: 'float32', shape: [3, 2] }])),
        'out.onnx',
      ),
    );
    expect(e.message).toBe('out.onnx: graph output "y": is declared with shape [3, 2] but computes [2, 3]');
  });

  it('lists every unsupported op with its nodes, at once', () => {
    const e = errorOf(() =>
      importOnnx(
        tiny((m) => {
          m.nodes = [
            { op: 'Loop', name: 'l1', inputs: ['x'], outputs: ['a'] },
            { op: 'NonMaxSuppression', name: 'n1', inputs: ['a'], outputs: ['b'] },
            { op: 'Loop', name: 'l2', inputs: ['b'], outputs: ['c'] },
            { op: 'Foo', domain: 'com.example', name: 'f', inputs: ['c'], outputs: ['y'] },
          ];
        }),
        'ops.onnx',
      ),
    );
    expect(e.code).toBe('unsupported');
    expect(e.diagnostics.map((d) => `${d.where}: ${d.message}`)).toEqual([
      'ops.onnx: graph: unsupported op Loop: nodes "l1", "l2"',
      'ops.onnx: graph: unsupported op NonMaxSuppression: node "n1"',
      'ops.onnx: graph: unsupported op com.example.Foo: node "f"',
    ]);
  });

  it('lists every unsupported dtype by tensor name, at once', () => {
    const e = errorOf(() =>
      importOnnx(
        tiny((m) => {
          m.inputs[0]!.dtype = 10; // FLOAT16
          m.initializers = [{ name: 'b', dtype: 11, shape: [3], data: new Uint8Array(24) }]; // DOUBLE
          m.valueInfo = [{ name: 's', dtype: 16, shape: [2, 3] }]; // BFLOAT16
        }),
        'types.onnx',
      ),
    );
    expect(e.code).toBe('dtype');
    expect(e.diagnostics.map((d) => `${d.where}: ${d.message}`)).toEqual([
      'types.onnx: initializer "b": has dtype double, which tritc does not support (supported: float32, int8, uint8, int32, int64, bool)',
      'types.onnx: graph input "x": has dtype float16, which tritc does not support (supported: float32, int8, uint8, int32, int64, bool)',
      'types.onnx: tensor "s": has dtype bfloat16, which tritc does not support (supported: float32, int8, uint8, int32, int64, bool)',
    ]);
  });

  it('external data', () => {
    const bytes = tiny();
    const m = ModelProtoType.toObject(ModelProtoType.decode(bytes)) as { graph: { initializer: Record<string, unknown>[] } };
    const init = m.graph.initializer[0]!;
    delete init.raw_data;
    init.data_location = 1;
    init.external_data = [{ key: 'location', value: 'weights.bin' }];
    const ext = ModelProtoType.encode(ModelProtoType.fromObject(m)).finish();
    const e = errorOf(() => importOnnx(ext, 'ext.onnx'));
    expect(e.message).toBe(
      'ext.onnx: initializer "b": keeps its data in an external file ("weights.bin"); tritc reads only self-contained .onnx files (save the model without external data, e.g. onnx.save(model, path, save_as_external_data=False))',
    );
  });

  it('an opset outside 1..25, and an old op version whose semantics differ', () => {
    expect(
      errorOf(() =>
        importOnnx(
          tiny((m) => (m.opset = 26)),
          'new.onnx',
        ),
      ).message,
    ).toMatch(/^new\.onnx: opset_import: imports ONNX opset 26; tritc supports opsets 1 to 25/);
    // Opset 6 imports; its Add has no NumPy broadcasting (Add-6 broadcasts only with broadcast = 1).
    expect(
      errorOf(() =>
        importOnnx(
          tiny((m) => (m.opset = 6)),
          'old.onnx',
        ),
      ).message,
    ).toBe('old.onnx: node "add" (Add): Add-6 without broadcast = 1 needs inputs of the same shape, found [2, 3] and [3]');
  });

  it('symbolic input dimensions', () => {
    const e = errorOf(() =>
      importOnnx(
        tiny((m) => (m.inputs[0]!.shape = ['N', 3])),
        'sym.onnx',
      ),
    );
    expect(e.message).toBe(
      'sym.onnx: graph input "x": dimension 0 is the symbol "N"; tritc needs static, positive dimensions: give them with --input-shape x=1,3 or --batch 1 (or export the model with a fixed shape)',
    );
  });

  it('a shape input that is not constant', () => {
    const e = errorOf(() =>
      importOnnx(
        tiny((m) => {
          m.inputs.push({ name: 'shape', dtype: 'int64', shape: [2] });
          m.nodes = [{ op: 'Reshape', name: 'r', inputs: ['x', 'shape'], outputs: ['y'] }];
        }),
        'dyn.onnx',
      ),
    );
    expect(e.message).toBe(
      'dyn.onnx: node "r" (Reshape): input 1 "shape" (shape) must be a constant (an initializer or computed from constants only), because tritc plans memory at compile time',
    );
  });
});

describe('folding into low-bit layers', () => {
  it('leaves a division by zero after a ternary layer unfolded', () => {
    const m: ModelSpecOnnx = {
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 4] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2] }],
      initializers: [
        { name: 's', dtype: 'float32', shape: [], data: [0.5] },
        { name: 'z', dtype: 'int8', shape: [], data: [0] },
        { name: 'w', dtype: 'float32', shape: [4, 2], data: [1, 0, -1, 1, 0, 0, 1, -1] },
        { name: 'd', dtype: 'float32', shape: [2], data: [2, 0] },
      ],
      nodes: [
        { op: 'QuantizeLinear', inputs: ['x', 's', 'z'], outputs: ['q'] },
        { op: 'DequantizeLinear', inputs: ['q', 's', 'z'], outputs: ['dq'] },
        { op: 'MatMul', inputs: ['dq', 'w'], outputs: ['m'] },
        { op: 'Div', inputs: ['m', 'd'], outputs: ['y'] },
      ],
    };
    const g = prepareGraph(importOnnx(encodeOnnxModel(m), 'div0.onnx'));
    expect(g.nodes.map((n) => n.op)).toEqual(['QuantizeStatic', 'TernaryLinear', 'Div']);
  });
});
