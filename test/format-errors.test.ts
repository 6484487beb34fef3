// One test per class of malformed model, each asserting the message a user sees.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../compiler/compile.ts';
import { TritcError } from '../compiler/diagnostics.ts';
import { MAX_K } from '../compiler/limits.ts';
import { readModel } from '../compiler/readers/native/read.ts';
import { serializeModel, writeModel, type ModelSpec } from '../compiler/readers/native/write.ts';
import { getTarget } from '../compiler/targets.ts';
import { workDir } from './support/differential.ts';

const root = workDir('format-errors');
let n = 0;

function baseSpec(): ModelSpec {
  return {
    name: 'tiny',
    inputs: ['x'],
    outputs: ['y'],
    tensors: {
      x: { dtype: 'float32', shape: [1, 8] },
      'fc1.w': {
        dtype: 'ternary',
        shape: [4, 8],
        encoding: 'packed2',
        quant: { scale: 'fc1.s', granularity: 'per_row' },
        data: new Int8Array(32).map((_, i) => (i % 3) - 1),
      },
      'fc1.s': { dtype: 'float32', shape: [4], data: new Float32Array([1, 2, 3, 4]) },
      'fc2.w': { dtype: 'binary', shape: [2, 4], quant: { scale: 'fc2.s', granularity: 'per_tensor' }, data: new Int8Array([1, -1, 1, -1, 1, 1, -1, -1]) },
      'fc2.s': { dtype: 'float32', shape: [1], data: new Float32Array([0.5]) },
    },
    nodes: [
      { name: 'q1', op: 'QuantizeInt8', inputs: ['x'], outputs: ['xq'] },
      { name: 'fc1', op: 'TernaryLinear', inputs: ['xq', 'fc1.w'], outputs: ['h'] },
      { name: 'q2', op: 'QuantizeInt8', inputs: ['h'], outputs: ['hq'] },
      { name: 'fc2', op: 'BinaryLinear', inputs: ['hq', 'fc2.w'], outputs: ['y'] },
    ],
  };
}

/** Write a model, let `edit` change the JSON document and/or the weights, and return the directory. */
function fixture(edit: (doc: any, files: { weights: Uint8Array | undefined }) => void, spec = baseSpec()): string {
  const dir = join(root, `m${n++}`);
  mkdirSync(dir, { recursive: true });
  const { json, weights } = serializeModel(spec);
  const doc = JSON.parse(json);
  const files = { weights };
  edit(doc, files);
  writeFileSync(join(dir, 'model.json'), typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2));
  if (files.weights) writeFileSync(join(dir, 'model.safetensors'), files.weights);
  return dir;
}

function errorOf(fn: () => unknown): TritcError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TritcError) return e;
    throw new Error(`expected a TritcError, got ${String(e)}`);
  }
  throw new Error('expected an error, got none');
}

const read = (dir: string) => () => readModel(join(dir, 'model.json'));

describe('format errors name the file, the place and what was expected', () => {
  it('accepts the valid base model', () => {
    expect(readModel(fixture(() => {})).nodes.map((x) => x.name)).toEqual(['q1', 'fc1', 'q2', 'fc2']);
  });

  it('not JSON', () => {
    const dir = fixture(() => {});
    writeFileSync(join(dir, 'model.json'), '{"format": "tritc", ');
    const e = errorOf(read(dir));
    expect(e.code).toBe('json');
    expect(e.message).toMatch(/model\.json: not valid JSON/);
  });

  it('an undefined tensor, with the JSON path', () => {
    const e = errorOf(read(fixture((doc) => (doc.nodes[3].inputs[1] = 'fc2.weight'))));
    expect(e.code).toBe('undefined-tensor');
    expect(e.message).toMatch(/model\.json: nodes\[3\]\.inputs\[1\]: tensor "fc2\.weight" is not defined/);
  });

  it('a wrong shape in the declaration is reported with its path', () => {
    const e = errorOf(read(fixture((doc) => (doc.tensors.x.shape = [1, -8]))));
    expect(e.code).toBe('shape');
    expect(e.message).toMatch(/model\.json: tensors\.x\.shape: expected an array of positive integers, found \[1,-8\]/);
  });

  it('shapes that do not chain: K of the input vs the weight', () => {
    const e = errorOf(read(fixture((doc) => (doc.tensors.x.shape = [1, 9]))));
    expect(e.code).toBe('shape');
    expect(e.message).toMatch(/nodes\[1\] "fc1" \(TernaryLinear\): input 0 "xq" has last dimension 9, but weight "fc1\.w" \[4, 8\] expects K = 8/);
  });

  it('stored tensor shape disagrees with the declaration', () => {
    const e = errorOf(read(fixture((doc) => (doc.tensors['fc1.s'].shape = [5]))));
    expect(e.code).toBe('shape');
    expect(e.message).toMatch(/model\.safetensors: tensor "fc1\.s": expected shape \[5\] \(declared at .*tensors\["fc1\.s"\]\.shape\), found \[4\]/);
  });

  it('an unknown dtype', () => {
    const e = errorOf(read(fixture((doc) => (doc.tensors.x.dtype = 'float64'))));
    expect(e.code).toBe('dtype');
    expect(e.message).toMatch(/tensors\.x\.dtype: expected one of float32, int8, uint8, int32, int64, bool, ternary, binary, float16, found "float64"/);
  });

  it('a dtype an op does not accept', () => {
    const e = errorOf(read(fixture((doc) => (doc.nodes[1].inputs[0] = 'x'))));
    expect(e.code).toBe('dtype');
    expect(e.message).toMatch(/"fc1" \(TernaryLinear\): input 0 "x" must be int8 \(from QuantizeInt8\), found float32/);
  });

  it('a safetensors dtype that does not match the declared one', () => {
    const e = errorOf(read(fixture((doc) => (doc.tensors['fc2.s'].dtype = 'int32'))));
    expect(e.code).toBe('dtype');
    expect(e.message).toMatch(/model\.safetensors: tensor "fc2\.s": int32 needs safetensors dtype I32, found F32/);
  });

  it('ternary codes outside {-1, 0, +1} (int8 encoding)', () => {
    const spec = baseSpec();
    const codes = new Int8Array(32);
    codes[13] = 2;
    spec.tensors['fc1.w'] = { ...spec.tensors['fc1.w']!, encoding: 'int8', data: codes };
    const e = errorOf(read(fixture(() => {}, spec)));
    expect(e.code).toBe('codes');
    expect(e.message).toMatch(/model\.safetensors: tensor "fc1\.w": code 2 at \[1, 5\] is outside \{-1, 0, \+1\}/);
  });

  it('the invalid 2-bit code 0b11 in packed ternary weights', () => {
    const spec = baseSpec();
    const dir = fixture(() => {}, spec);
    // Corrupt one packed byte of fc1.w: its data starts right after the header.
    const st = new Uint8Array(readFileSync(join(dir, 'model.safetensors')));
    const headerLen = Number(new DataView(st.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(st.subarray(8, 8 + headerLen)));
    const [begin] = header['fc1.w'].data_offsets;
    st[8 + headerLen + begin + 3] = 0b0011_0000; // row 1 (2 bytes per row), codes 4..7: code 6 is 0b11
    writeFileSync(join(dir, 'model.safetensors'), st);
    const e = errorOf(read(dir));
    expect(e.code).toBe('codes');
    expect(e.message).toMatch(/tensor "fc1\.w": 2-bit code 0b11 at \[1, 6\] is not a ternary code \(00 = 0, 01 = \+1, 10 = -1\)/);
  });

  it('binary codes other than ±1', () => {
    const spec = baseSpec();
    spec.tensors['fc2.w'] = { ...spec.tensors['fc2.w']!, data: new Int8Array([1, -1, 0, -1, 1, 1, -1, -1]) };
    const e = errorOf(read(fixture(() => {}, spec)));
    expect(e.code).toBe('codes');
    expect(e.message).toMatch(/tensor "fc2\.w": code 0 at \[0, 2\] is outside \{-1, \+1\}/);
  });

  it('a missing safetensors file', () => {
    const dir = fixture(() => {});
    rmSync(join(dir, 'model.safetensors'));
    const e = errorOf(read(dir));
    expect(e.code).toBe('weights');
    expect(e.message).toMatch(/model\.json: weights: file "model\.safetensors" not found/);
  });

  it('a truncated safetensors file', () => {
    const dir = fixture((_, files) => (files.weights = files.weights!.subarray(0, files.weights!.length - 5)));
    const e = errorOf(read(dir));
    expect(e.code).toBe('weights');
    expect(e.message).toMatch(/model\.safetensors: tensor "[^"]+": file truncated/);
  });

  it('a declared constant missing from the safetensors file', () => {
    const spec = baseSpec();
    const dir = fixture((doc) => (doc.tensors['fc3.b'] = { dtype: 'float32', shape: [2] }), spec);
    const e = errorOf(read(dir));
    expect(e.code).toBe('weights');
    expect(e.message).toMatch(/model\.safetensors: tensor "fc3\.b" is missing \(declared at .*tensors\["fc3\.b"\]\)/);
  });

  it('a cycle in the graph', () => {
    const e = errorOf(
      read(
        fixture((doc) => {
          doc.nodes[0].inputs = ['y2'];
          doc.nodes.push({ name: 'loop', op: 'Relu', inputs: ['y'], outputs: ['y2'] });
          doc.nodes.push({ name: 'back', op: 'Relu', inputs: ['y'], outputs: ['y3'] });
          doc.inputs = ['x'];
        }),
      ),
    );
    expect(e.code).toBe('cycle');
    expect(e.message).toMatch(/the graph has a cycle: "q1" -> "fc1" -> "q2" -> "fc2" -> "loop" -> "q1"/);
  });

  it('an unknown op lists the supported ones', () => {
    const e = errorOf(read(fixture((doc) => (doc.nodes[2].op = 'Frobnicate'))));
    expect(e.code).toBe('unsupported');
    expect(e.message).toMatch(/nodes\[2\]\.op: unknown op "Frobnicate"; supported: QuantizeInt8, /);
  });

  it('unknown and mistyped attributes', () => {
    const e = errorOf(read(fixture((doc) => (doc.nodes[0].attrs = { granularity: 'per_col', axis: 1 }))));
    expect(e.diagnostics.map((d) => d.message)).toEqual([
      'unknown attribute "axis"; expected one of granularity, rows',
      'expected one of "per_tensor", "per_row", found "per_col"',
    ]);
  });

  it('a misspelled field is caught rather than ignored', () => {
    const e = errorOf(read(fixture((doc) => (doc.nodes[1].attr = {}))));
    expect(e.message).toMatch(/nodes\[1\]: unknown field "attr"; expected one of name, op, inputs, outputs, attrs, doc/);
  });

  it('two nodes producing one tensor', () => {
    const e = errorOf(read(fixture((doc) => (doc.nodes[2].outputs = ['h']))));
    expect(e.code).toBe('duplicate');
    expect(e.message).toMatch(/nodes\[2\]\.outputs\[0\]: tensor "h" is already produced by node "fc1"/);
  });

  it('a non-finite weight value', () => {
    const spec = baseSpec();
    spec.tensors['fc1.s']!.data = new Float32Array([1, NaN, 3, 4]);
    const e = errorOf(read(fixture(() => {}, spec)));
    expect(e.message).toMatch(/tensor "fc1\.s": value NaN at \[1\] is not finite/);
  });

  it('a scale with the wrong number of values for its granularity', () => {
    const spec = baseSpec();
    spec.tensors['fc1.w']!.quant = { scale: 'fc1.s', granularity: 'per_group', group_size: 3 };
    const e = errorOf(read(fixture(() => {}, spec)));
    expect(e.message).toMatch(/scale "fc1\.s" of weight "fc1\.w" \(per_group, group 3\) must have 12 values, found 4 \(shape \[4\]\)/);
  });

  it('every problem is reported at once', () => {
    const e = errorOf(
      read(
        fixture((doc) => {
          doc.nodes[1].inputs[1] = 'nope';
          doc.nodes[3].inputs[1] = 'nope2';
          doc.outputs = ['missing'];
        }),
      ),
    );
    expect(e.diagnostics.length).toBe(3);
  });

  it(`K above the format limit of 2^24`, () => {
    const k = MAX_K + 4;
    const spec: ModelSpec = {
      name: 'too-wide',
      inputs: ['x'],
      outputs: ['y'],
      tensors: {
        x: { dtype: 'int8', shape: [1, k], quant: { scale: 's', granularity: 'per_tensor' } },
        s: { dtype: 'float32', shape: [1], data: Float32Array.of(1) },
        w: { dtype: 'ternary', shape: [1, k], encoding: 'packed2', quant: { scale: 's', granularity: 'per_tensor' }, data: new Int8Array(k) },
      },
      nodes: [{ name: 'fc', op: 'TernaryLinear', inputs: ['x', 'w'], outputs: ['y'] }],
    };
    const g = readModel(writeModel(join(root, 'too-wide'), spec));
    const e = errorOf(() => compileGraph(g, { target: getTarget('host') }));
    expect(e.code).toBe('limit');
    expect(e.message).toMatch(/node "fc": K = 16777220 \(weight "w" \[1, 16777220\]\) is above the format limit of 16777216 \(2\^24\)/);
  });

  it('a model that does not fit the target shows the breakdown', () => {
    const k = 4096;
    const spec: ModelSpec = {
      name: 'wide',
      inputs: ['x'],
      outputs: ['y'],
      tensors: {
        x: { dtype: 'float32', shape: [4, k] },
        w: { dtype: 'ternary', shape: [k, k], quant: { scale: 's', granularity: 'per_tensor' }, data: new Int8Array(k * k) },
        s: { dtype: 'float32', shape: [1], data: Float32Array.of(1) },
      },
      nodes: [
        { name: 'q', op: 'QuantizeInt8', inputs: ['x'], outputs: ['xq'] },
        { name: 'fc1', op: 'TernaryLinear', inputs: ['xq', 'w'], outputs: ['h'] },
        { name: 'relu', op: 'Relu', inputs: ['h'], outputs: ['y'] },
      ],
    };
    const g = readModel(writeModel(join(root, 'wide'), spec));
    const e = errorOf(() => compileGraph(g, { target: getTarget('cortex-m3') }));
    expect(e.code).toBe('fit');
    expect(e.message).toMatch(
      /model "wide" does not fit cortex-m3: needs 208\.0 KiB RAM, target cortex-m3 has 64\.0 KiB: arena 80\.0 KiB \(peak at layer "fc1": h 64\.0 KiB \+ xq 16\.0 KiB.*\) \+ inputs\/outputs 128\.0 KiB; needs 4\.0 MiB flash for weights alone, target cortex-m3 has 512\.0 KiB: w 4\.0 MiB/,
    );
  });

  it('extra memory regions count: an arena that only fits beside the I/O buffers in the CCM of a cortex-m4', () => {
    // Inputs and outputs of 96 KiB take the main RAM; the 48 KiB arena goes to the 64 KiB ccm.
    const spec: ModelSpec = {
      name: 'ccm',
      inputs: ['x'],
      outputs: ['y'],
      tensors: { x: { dtype: 'float32', shape: [4, 3072] } },
      nodes: [
        { name: 'r1', op: 'Relu', inputs: ['x'], outputs: ['a'] },
        { name: 'q', op: 'QuantizeInt8', inputs: ['a'], outputs: ['aq'] },
        { name: 'dq', op: 'DequantizeInt8', inputs: ['aq'], outputs: ['y'] },
      ],
    };
    const c = compileGraph(readModel(writeModel(join(root, 'ccm'), spec)), { target: getTarget('cortex-m4') });
    expect(c.plan.arenaBytes).toBe(48 * 1024 + 16);
    const where = new Map(c.memoryMap!.regions.flatMap((r) => r.items.map((i) => [i.kind, r.name])));
    expect(where.get('arena')).toBe('ccm');
    expect(where.get('io')).toBe('ram');
    const e = errorOf(() => compileGraph(readModel(writeModel(join(root, 'ccm3'), spec)), { target: getTarget('cortex-m3') }));
    expect(e.message).toMatch(
      /does not fit cortex-m3: needs 144\.0 KiB RAM, target cortex-m3 has 64\.0 KiB: arena 48\.0 KiB \(peak at layer "q": a 48\.0 KiB \+ aq 12\.0 KiB/,
    );
  });
});
