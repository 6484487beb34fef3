// ONNX ReduceSum, ReduceMax, ReduceMin, variadic Sum, Max and Min, the comparisons (Less, Greater,
// Equal, LessOrEqual, GreaterOrEqual) and Exp: hand-checked values in the interpreter (broadcasting,
// axes as attribute or input by opset, keepdims, noop_with_empty_axes, NaN and signed zeros, integer
// wrap-around), folding on constants, and the generated C bit for bit against the interpreter on the
// host, every model below in one program.

import { describe, expect, it } from 'vitest';
import { compileGraph } from '../compiler/compile.ts';
import { describeMismatch, firstMismatch } from '../compiler/harness/compare.ts';
import { runOnTarget } from '../compiler/harness/run_target.ts';
import type { HarnessModel } from '../compiler/harness/runner.ts';
import { interpret } from '../compiler/interpret.ts';
import { cloneGraph, type DType, type Graph, type TypedData } from '../compiler/ir.ts';
import { expf, f32Bits, fround } from '../compiler/numerics/f32.ts';
import { importOnnx } from '../compiler/readers/onnx/import.ts';
import { prepareGraph } from '../compiler/passes/pipeline.ts';
import { encodeOnnxModel, type AttrSpecValue, type TensorSpec } from '../compiler/readers/onnx/write.ts';
import { getTarget } from '../compiler/targets.ts';
import { workDir } from './support/differential.ts';

type Data = number[] | bigint[];
interface In {
  dtype: DType;
  shape: number[];
  data: Data;
  /** An initializer (a constant) instead of a graph input. */
  constant?: boolean;
}

const typed = (dtype: DType, data: Data): TypedData =>
  dtype === 'float32'
    ? Float32Array.from(data as number[])
    : dtype === 'int8'
      ? Int8Array.from(data as number[])
      : dtype === 'int32'
        ? Int32Array.from(data as number[])
        : dtype === 'int64'
          ? BigInt64Array.from(data as bigint[])
          : Uint8Array.from(data as number[]);

/** Every model the tests import, with its inputs: compiled together for the host check at the end. */
const imported: { name: string; graph: Graph; inputs: Map<string, TypedData> }[] = [];

/**
 * One ONNX node `op` on inputs a, b, c, ... (graph inputs, or initializers when `constant`), output y
 * of dtype `out` (input 0's by default), imported at `opset`; `extra` are initializers appended to the
 * node's inputs (axes). Returns y's values and shape and the IR ops the importer made.
 */
function run(
  op: string,
  inputs: In[],
  attrs: Record<string, AttrSpecValue> = {},
  opts: { opset?: number; out?: DType; extra?: (TensorSpec & { name: string })[]; name?: string } = {},
) {
  const names = inputs.map((_, i) => String.fromCharCode(97 + i));
  const extra = opts.extra ?? [];
  const bytes = encodeOnnxModel({
    opset: opts.opset ?? 18,
    inputs: inputs.flatMap((t, i) => (t.constant ? [] : [{ name: names[i]!, dtype: t.dtype, shape: t.shape }])),
    outputs: [{ name: 'y', dtype: opts.out ?? inputs[0]!.dtype, shape: ['n'] }],
    initializers: [
      ...inputs.flatMap((t, i) => (t.constant ? [{ name: names[i]!, dtype: t.dtype, shape: t.shape, data: typed(t.dtype, t.data) }] : [])),
      ...extra,
    ],
    nodes: [{ op, inputs: [...names, ...extra.map((e) => e.name)], outputs: ['y'], attrs }],
  });
  const graph = prepareGraph(importOnnx(bytes, `${op}.onnx`));
  const feeds = new Map<string, TypedData>(inputs.flatMap((t, i) => (t.constant ? [] : [[names[i]!, typed(t.dtype, t.data)] as [string, TypedData]])));
  const out = interpret(graph, feeds).get(graph.outputs[0]!)!;
  if (graph.nodes.length) imported.push({ name: opts.name ?? `${op} #${imported.length}`, graph, inputs: feeds });
  return { y: Array.from(out as ArrayLike<number | bigint>), ops: graph.nodes.map((n) => n.op), shape: graph.tensors.get(graph.outputs[0]!)!.shape };
}

const f32 = (shape: number[], data: number[], constant = false): In => ({ dtype: 'float32', shape, data, constant });
const axes = (v: number[]) => [{ name: 'axes', dtype: 'int64' as const, shape: [v.length], data: v }];
const bits = (v: (number | bigint)[]) => v.map((x) => f32Bits(Number(x)));

describe('ReduceSum, ReduceMax, ReduceMin', () => {
  const x = f32([2, 3], [1, -5, 3, 4, 2, -6]);

  it('axes as an attribute (before opset 13 / 18) and as an input (from then on) give the same result', () => {
    expect(run('ReduceSum', [x], { axes: [1] }, { opset: 11 }).y).toEqual([-1, 0]);
    expect(run('ReduceSum', [x], {}, { opset: 13, extra: axes([1]) }).y).toEqual([-1, 0]);
    expect(run('ReduceMax', [x], { axes: [0] }, { opset: 13 }).y).toEqual([4, 2, 3]);
    expect(run('ReduceMax', [x], {}, { opset: 18, extra: axes([0]) }).y).toEqual([4, 2, 3]);
    expect(run('ReduceMin', [x], { axes: [-1] }, { opset: 13 }).y).toEqual([-5, -6]);
    expect(run('ReduceMin', [x], {}, { opset: 18, extra: axes([-1]) }).y).toEqual([-5, -6]);
  });

  it('keepdims, all axes by default, noop_with_empty_axes', () => {
    expect(run('ReduceSum', [x], { keepdims: 1 }, { opset: 13, extra: axes([1]) }).shape).toEqual([2, 1]);
    expect(run('ReduceSum', [x], { keepdims: 0 }, { opset: 13, extra: axes([1]) }).shape).toEqual([2]);
    const all = run('ReduceMax', [x], { keepdims: 0 });
    expect([all.y, all.shape]).toEqual([[4], []]);
    expect(run('ReduceMin', [x]).shape).toEqual([1, 1]);
    expect(run('ReduceSum', [x], { noop_with_empty_axes: 1 }, { opset: 13 }).y).toEqual([1, -5, 3, 4, 2, -6]);
    expect(run('ReduceMax', [x], { noop_with_empty_axes: 1 }).y).toEqual([1, -5, 3, 4, 2, -6]);
  });

  it('several axes of a 3-D tensor, in index order', () => {
    const t = f32([2, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(run('ReduceSum', [t], { keepdims: 0 }, { opset: 13, extra: axes([0, 2]) }).y).toEqual([1 + 2 + 3 + 7 + 8 + 9, 4 + 5 + 6 + 10 + 11 + 12]);
    expect(run('ReduceMax', [t], { keepdims: 0, axes: [2, 0] }, { opset: 13 }).y).toEqual([9, 12]);
    // float32 sums round after every addition, in index order: 2^24 + 1 + 1 stays 2^24.
    expect(run('ReduceSum', [f32([3], [2 ** 24, 1, 1])], {}, { opset: 13 }).y).toEqual([2 ** 24]);
    expect(run('ReduceSum', [f32([3], [1, 1, 2 ** 24])], {}, { opset: 13 }).y).toEqual([2 ** 24 + 2]);
  });

  it('NaN propagates through ReduceMax/ReduceMin; -0 < +0; ReduceSum of -0 is +0', () => {
    const v = run('ReduceMax', [f32([2, 3], [1, NaN, 3, -0, 0, -0])], { keepdims: 0, axes: [1] }, { opset: 13 }).y;
    expect(Number.isNaN(v[0])).toBe(true);
    expect(bits(v.slice(1))).toEqual(bits([0]));
    expect(bits(run('ReduceMin', [f32([2, 2], [0, -0, -0, 0])], { keepdims: 0, axes: [1] }, { opset: 13 }).y)).toEqual(bits([-0, -0]));
    expect(bits(run('ReduceMax', [f32([2, 2], [0, -0, -0, -0])], { keepdims: 0, axes: [1] }, { opset: 13 }).y)).toEqual(bits([0, -0]));
    expect(Number.isNaN(run('ReduceMin', [f32([3], [NaN, -1, 5])], {}, { opset: 13 }).y[0])).toBe(true);
    expect(bits(run('ReduceSum', [f32([2], [-0, -0])], {}, { opset: 13 }).y)).toEqual(bits([0]));
    expect(run('ReduceMax', [f32([2], [-Infinity, -3.5e38])], {}, { opset: 13 }).y).toEqual([fround(-3.5e38)]);
  });

  it('integers: ReduceSum wraps around, ReduceMax/ReduceMin are exact', () => {
    expect(run('ReduceSum', [{ dtype: 'int8', shape: [3], data: [100, 100, -1] }], {}, { opset: 13 }).y).toEqual([-57]);
    expect(run('ReduceSum', [{ dtype: 'uint8', shape: [2], data: [200, 100] }], {}, { opset: 13 }).y).toEqual([44]);
    expect(run('ReduceSum', [{ dtype: 'int32', shape: [2], data: [2 ** 31 - 1, 2] }], {}, { opset: 13 }).y).toEqual([-(2 ** 31) + 1]);
    expect(run('ReduceSum', [{ dtype: 'int64', shape: [2], data: [2n ** 63n - 1n, 1n] }], {}, { opset: 13 }).y).toEqual([-(2n ** 63n)]);
    expect(run('ReduceMax', [{ dtype: 'int64', shape: [3], data: [-(2n ** 63n), 5n, -7n] }]).y).toEqual([5n]);
    expect(run('ReduceMin', [{ dtype: 'int8', shape: [2, 2], data: [-128, 127, 3, 4] }], { keepdims: 0 }, { extra: axes([1]) }).y).toEqual([-128, 3]);
    expect(run('ReduceMax', [{ dtype: 'uint8', shape: [3], data: [0, 255, 7] }]).y).toEqual([255]);
  });

  it('folds on constants; rejects out-of-range and repeated axes', () => {
    const c = run('ReduceSum', [f32([2, 2], [1, 2, 3, 4], true)], {}, { opset: 13 });
    expect([c.y, c.ops]).toEqual([[10], []]);
    expect(() => run('ReduceMax', [x], { axes: [2] }, { opset: 13 })).toThrow(/axis 2 is out of range for rank 2/);
    expect(() => run('ReduceSum', [x], {}, { opset: 13, extra: axes([1, -1]) })).toThrow(/axis -1 is given twice/);
    expect(() => run('ReduceSum', [{ dtype: 'bool', shape: [2], data: [1, 0] }], {}, { opset: 13 })).toThrow(
      /must be float32, int8, uint8, int32 or int64, found bool/,
    );
  });
});

describe('Sum, Max, Min (variadic, broadcasting)', () => {
  it('chain of two-input IR ops in input order, with broadcasting', () => {
    const r = run('Sum', [f32([2, 1], [1, 2]), f32([3], [10, 20, 30]), f32([1], [100])]);
    expect(r.ops).toEqual(['Add', 'Add']);
    expect(r.y).toEqual([111, 121, 131, 112, 122, 132]);
    expect(run('Max', [f32([2, 1], [1, 25]), f32([3], [10, 20, 30])]).y).toEqual([10, 20, 30, 25, 25, 30]);
    expect(run('Min', [f32([3], [5, -1, 2]), f32([], [1]), f32([3], [0, 0, 9])]).y).toEqual([0, -1, 1]);
  });

  it('one input is the value itself; all-constant inputs fold', () => {
    const one = run('Max', [f32([2], [3, -4])]);
    expect([one.y, one.ops]).toEqual([[3, -4], []]);
    const c = run('Sum', [f32([2], [1, 2], true), f32([2], [3, 4], true)]);
    expect([c.y, c.ops]).toEqual([[4, 6], []]);
  });

  it('float32: NaN propagates; max(-0, +0) = +0 and min(-0, +0) = -0 in either order', () => {
    const a = f32([4], [NaN, 1, -0, 0]);
    const b = f32([4], [2, NaN, 0, -0]);
    const mx = run('Max', [a, b]).y;
    const mn = run('Min', [a, b]).y;
    expect(mx.slice(0, 2).every((v) => Number.isNaN(v))).toBe(true);
    expect(mn.slice(0, 2).every((v) => Number.isNaN(v))).toBe(true);
    expect(bits(mx.slice(2))).toEqual(bits([0, 0]));
    expect(bits(mn.slice(2))).toEqual(bits([-0, -0]));
    expect(bits(run('Max', [f32([1], [-0]), f32([1], [-0])]).y)).toEqual(bits([-0]));
    expect(bits(run('Min', [f32([1], [0]), f32([1], [0])]).y)).toEqual(bits([0]));
    // Relu's expanded form: Max(x, 0) gives +0 for -0, as Relu does.
    expect(bits(run('Max', [f32([3], [-0, -2, 3]), f32([], [0], true)]).y)).toEqual(bits([0, 0, 3]));
  });

  it('integers: Sum wraps, Max/Min exact; opset 7 and 8 forms import the same', () => {
    expect(
      run(
        'Sum',
        [
          { dtype: 'int32', shape: [2], data: [2 ** 31 - 1, 5] },
          { dtype: 'int32', shape: [2], data: [1, 6] },
        ],
        {},
        { opset: 13 },
      ).y,
    ).toEqual([-(2 ** 31), 11]);
    expect(
      run(
        'Max',
        [
          { dtype: 'int64', shape: [2], data: [-5n, 2n ** 62n] },
          { dtype: 'int64', shape: [1], data: [0n] },
        ],
        {},
        { opset: 13 },
      ).y,
    ).toEqual([0n, 2n ** 62n]);
    expect(
      run(
        'Min',
        [
          { dtype: 'uint8', shape: [3], data: [0, 200, 9] },
          { dtype: 'uint8', shape: [3], data: [1, 100, 9] },
        ],
        {},
        { opset: 13 },
      ).y,
    ).toEqual([0, 100, 9]);
    expect(
      run(
        'Max',
        [
          { dtype: 'int8', shape: [2], data: [-128, 5] },
          { dtype: 'int8', shape: [2], data: [-127, -5] },
        ],
        {},
        { opset: 13 },
      ).y,
    ).toEqual([-127, 5]);
    expect(run('Sum', [f32([2], [1, 2]), f32([2], [3, 4])], {}, { opset: 7 }).y).toEqual([4, 6]);
    expect(run('Min', [f32([2], [1, 2]), f32([2], [3, 0])], {}, { opset: 8 }).y).toEqual([1, 0]);
  });

  it('reports mixed dtypes and shapes that do not broadcast', () => {
    expect(() => run('Max', [f32([2], [1, 2]), { dtype: 'int32', shape: [2], data: [1, 2] }])).toThrow(/they must have the same dtype/);
    expect(() => run('Sum', [f32([2], [1, 2]), f32([3], [1, 2, 3])])).toThrow(/do not broadcast/);
  });
});

describe('Less, Greater, Equal, LessOrEqual, GreaterOrEqual', () => {
  const a = f32([5], [1, 2, NaN, -0, 3]);
  const b = f32([5], [2, 2, NaN, 0, 1]);
  const cmp = (op: string, x: In, y: In, opset = 16) => run(op, [x, y], {}, { out: 'bool', opset }).y;

  it('IEEE comparisons: false with NaN, -0 == +0', () => {
    expect(cmp('Less', a, b)).toEqual([1, 0, 0, 0, 0]);
    expect(cmp('Greater', a, b)).toEqual([0, 0, 0, 0, 1]);
    expect(cmp('Equal', a, b)).toEqual([0, 1, 0, 1, 0]);
    expect(cmp('LessOrEqual', a, b)).toEqual([1, 1, 0, 1, 0]);
    expect(cmp('GreaterOrEqual', a, b)).toEqual([0, 1, 0, 1, 1]);
  });

  it('broadcasting, integers, Equal on bool, folding', () => {
    expect(cmp('Less', f32([2, 1], [1, 5]), f32([3], [0, 2, 9]))).toEqual([0, 1, 1, 0, 0, 1]);
    expect(cmp('Greater', { dtype: 'int64', shape: [2], data: [2n ** 62n, -1n] }, { dtype: 'int64', shape: [], data: [0n] })).toEqual([1, 0]);
    expect(cmp('Equal', { dtype: 'uint8', shape: [2], data: [255, 0] }, { dtype: 'uint8', shape: [2], data: [255, 1] })).toEqual([1, 0]);
    expect(cmp('Equal', { dtype: 'bool', shape: [3], data: [1, 0, 1] }, { dtype: 'bool', shape: [3], data: [1, 0, 0] })).toEqual([1, 1, 0]);
    expect(cmp('LessOrEqual', { dtype: 'int8', shape: [2], data: [-128, 127] }, { dtype: 'int8', shape: [2], data: [-128, 126] })).toEqual([1, 0]);
    expect(cmp('Less', { dtype: 'int32', shape: [2], data: [-5, 5] }, { dtype: 'int32', shape: [1], data: [0] }, 9)).toEqual([1, 0]);
    const c = run('Less', [f32([2], [1, 3], true), f32([2], [2, 2], true)], {}, { out: 'bool' });
    expect([c.y, c.ops]).toEqual([[1, 0], []]);
    expect(() => cmp('Less', { dtype: 'bool', shape: [1], data: [1] }, { dtype: 'bool', shape: [1], data: [0] })).toThrow(
      /must be float32, int8, uint8, int32 or int64, found bool/,
    );
  });

  it("against a constant bound, as in Clip's expanded form (Less, then Where)", () => {
    expect(cmp('Less', f32([4], [-3, 0.5, 7, NaN]), f32([], [-1], true))).toEqual([1, 0, 0, 0]);
  });
});

describe('Exp', () => {
  it('is the expf Softmax uses: bit for bit with f32.ts, overflow to +inf and underflow to 0', () => {
    const xs = [0, 1, -1, 88.7, 89, -104, -0, 0.5, NaN, -Infinity, Infinity];
    const y = run('Exp', [f32([xs.length], xs)], {}, { opset: 13 }).y;
    expect(bits(y.filter((_, i) => i !== 8))).toEqual(bits(xs.filter((_, i) => i !== 8).map(expf)));
    expect(Number.isNaN(y[8])).toBe(true);
    expect([y[0], y[3] !== Infinity, y[4], y[5], y[9], y[10]]).toEqual([1, true, Infinity, 0, 0, Infinity]);
  });
});

describe('the generated C', () => {
  it('matches the interpreter bit for bit on the host, every model above in one program', async () => {
    expect(imported.length).toBeGreaterThan(40);
    const t = getTarget('host');
    const models: HarnessModel[] = imported.map((m, i) => ({
      compiled: compileGraph(cloneGraph(m.graph), { target: t, prefix: `m${i}`, verify: true, skipFitCheck: true }),
      runs: [m.inputs],
      dir: `m${i}`,
    }));
    const run = await runOnTarget(models, t, workDir('onnx-reduce-compare'), { title: 'ReduceSum/Max/Min, Sum/Max/Min, comparisons, Exp' });
    const failures: string[] = [];
    run.records.forEach((recs, i) => {
      const want = interpret(imported[i]!.graph, imported[i]!.inputs);
      for (const d of models[i]!.compiled.emitted.io.outputs) {
        const m = firstMismatch(recs[0]!.outputs.get(d.cname)!, want.get(d.name)!);
        if (m) failures.push(`${imported[i]!.name}: ${describeMismatch(d.name, 0, m)}`);
      }
    });
    expect(failures).toEqual([]);
  }, 300_000);
});
