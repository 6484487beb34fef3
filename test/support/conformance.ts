// The ONNX backend node tests (../shared/data/onnx_backend_tests/node): load each test's model and
// data, classify it (supported, or out of scope and why), run the interpreter, compare with the
// expected outputs at the upstream tolerance, and write the table docs/onnx-support.md.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TritcError } from '../../compiler/diagnostics.ts';
import { interpret } from '../../compiler/interpret.ts';
import type { DType, Graph, TypedData } from '../../compiler/ir.ts';
import { decodeModel, decodeTensorProto } from '../../compiler/readers/onnx/decode.ts';
import type { Const } from '../../compiler/readers/onnx/fold.ts';
import { importOnnx } from '../../compiler/readers/onnx/import.ts';
import { prepareGraph } from '../../compiler/passes/pipeline.ts';
import { tensorValues } from '../../compiler/readers/onnx/tensor.ts';
import { SHARED_DATA } from '../../examples/data.ts';

const NODE_TESTS = join(SHARED_DATA, 'onnx_backend_tests', 'node');
const RTOL = 1e-3;
const ATOL = 1e-7;

type Status = 'pass' | 'fail' | 'dtype' | 'unsupported' | 'error';

export interface CaseResult {
  name: string;
  ops: string;
  opset: string;
  status: Status;
  reason: string;
  graph?: Graph;
  inputs?: Map<string, TypedData>;
  /** The interpreter's outputs (status pass). */
  outputs?: Map<string, TypedData>;
}

interface ManifestRow {
  opsets: string;
  ops: string;
}

export function readManifest(): Map<string, ManifestRow> {
  const rows = readFileSync(join(NODE_TESTS, '..', 'MANIFEST.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1);
  const out = new Map<string, ManifestRow>();
  for (const r of rows) {
    const [model, opsets, ops] = r.split('\t');
    out.set(model!.split('/')[1]!, { opsets: opsets!, ops: ops! });
  }
  return out;
}

export function testNames(): string[] {
  return readdirSync(NODE_TESTS)
    .filter((d) => d.startsWith('test_') && existsSync(join(NODE_TESTS, d, 'model.onnx')))
    .sort();
}

/** Why a TritcError puts a test out of scope: the first diagnostic, shortened. */
function reasonOf(e: TritcError): { status: Status; reason: string } {
  const d = e.diagnostics[0]!;
  const text = `${d.where.replace(/^[^:]*model\.onnx: /, '').replace(/^[^:]*\.pb: ?/, '')}: ${d.message}`.replace(
    /, which tritc does not support \(supported: [^)]*\)/,
    ' (unsupported)',
  );
  if (d.code === 'dtype') return { status: 'dtype', reason: text };
  // The upstream tests are valid models: any other rejection means tritc lacks something (an op, a
  // dtype in an IR op, empty tensors, a runtime shape input...). Internal errors are not caught here.
  return { status: 'unsupported', reason: text };
}

function readPb(path: string): { data: TypedData; shape: number[]; dtype: DType } {
  const t = decodeTensorProto(new Uint8Array(readFileSync(path)), path);
  const v = tensorValues(t, path);
  return { data: v.data, shape: v.shape, dtype: v.dtype };
}

/** Compare at the backend tests' tolerance: |got - want| <= atol + rtol * |want|; integers exactly. */
export function compareTolerance(got: TypedData, want: TypedData, rtol = RTOL, atol = ATOL): string | undefined {
  if (got.length !== want.length) return `${got.length} values, expected ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const g = Number(got[i]!);
    const w = Number(want[i]!);
    if (want instanceof Float32Array) {
      if (Number.isNaN(w) && Number.isNaN(g)) continue;
      if (g === w) continue;
      if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) return `element ${i}: ${g}, expected ${w}`;
    } else if (got[i] !== want[i] && g !== w) return `element ${i}: ${g}, expected ${w}`;
  }
  return undefined;
}

export function runCase(name: string, manifest: Map<string, ManifestRow>): CaseResult {
  const dir = join(NODE_TESTS, name);
  const row = manifest.get(name) ?? { opsets: '', ops: '' };
  const base: CaseResult = { name, ops: row.ops.replace(/ x\d+/g, ''), opset: row.opsets.replace('ai.onnx=', ''), status: 'error', reason: '' };
  const data = join(dir, 'test_data_set_0');
  const bytes = new Uint8Array(readFileSync(join(dir, 'model.onnx')));
  // Inputs that must be constants (a Reshape's shape, Slice's starts, ...) take the test's values,
  // as a user's model would have them as initializers: tritc plans memory at compile time. So does
  // an int64 input (ONNX's type for shape-determining inputs: axes, shape, starts, pads...) declared
  // without a static shape (ReduceMean's `axes` of unknown length): its length is part of the value.
  const freeze = new Map<string, Const>();
  const onnxInputs = decodeModel(bytes, name).graph;
  const initialized = new Set(onnxInputs.initializers.map((t) => t.name));
  const inputNames = onnxInputs.inputs.map((v) => v.name).filter((n) => !initialized.has(n));
  let g: Graph | undefined;
  for (let attempt = 0; !g; attempt++) {
    try {
      g = prepareGraph(importOnnx(bytes, `${name}/model.onnx`, { freeze }));
    } catch (e) {
      if (!(e instanceof TritcError)) return { ...base, reason: `internal error: ${(e as Error).message}` };
      const d = e.diagnostics[0]!;
      const unknownDim = /^dimension \d+ is (unknown|the symbol)/.test(d.message);
      const m = /input \d+ "([^"]*)" \([^)]*\) must be a constant/.exec(d.message) ?? (unknownDim ? /graph input "([^"]*)"$/.exec(d.where) : null);
      const i = m ? inputNames.indexOf(m[1]!) : -1;
      if (i < 0 || freeze.has(m![1]!) || attempt > 8) return { ...base, ...reasonOf(e) };
      try {
        const v = readPb(join(data, `input_${i}.pb`));
        if (unknownDim && v.dtype !== 'int64') return { ...base, ...reasonOf(e) };
        freeze.set(m![1]!, { dtype: v.dtype, shape: v.shape, data: v.data });
      } catch (e2) {
        if (!(e2 instanceof TritcError)) throw e2;
        return { ...base, ...reasonOf(unknownDim ? e : e2) };
      }
    }
  }
  const inputs = new Map<string, TypedData>();
  const expected: { data: TypedData; shape: number[]; dtype: DType }[] = [];
  try {
    g.inputs.forEach((inp) => {
      const v = readPb(join(data, `input_${inputNames.indexOf(inp)}.pb`));
      inputs.set(inp, v.data);
    });
    for (let j = 0; existsSync(join(data, `output_${j}.pb`)); j++) expected.push(readPb(join(data, `output_${j}.pb`)));
  } catch (e) {
    if (!(e instanceof TritcError)) throw e;
    return { ...base, ...reasonOf(e) };
  }
  if (expected.length !== g.outputs.length)
    return { ...base, status: 'error', reason: `${expected.length} expected outputs for ${g.outputs.length} graph outputs` };
  let outputs: Map<string, TypedData>;
  try {
    outputs = interpret(g, inputs);
  } catch (e) {
    if (e instanceof TritcError) return { ...base, ...reasonOf(e) };
    return { ...base, status: 'fail', reason: `interpreter threw: ${(e as Error).message}` };
  }
  for (let j = 0; j < expected.length; j++) {
    const o = g.outputs[j]!;
    const t = g.tensors.get(o)!;
    if (t.shape.join() !== expected[j]!.shape.join() && !(t.shape.length === 0 && expected[j]!.shape.length === 0))
      return { ...base, status: 'fail', reason: `output ${j} "${o}" has shape [${t.shape.join(', ')}], expected [${expected[j]!.shape.join(', ')}]` };
    const m = compareTolerance(outputs.get(o)!, expected[j]!.data);
    if (m) return { ...base, status: 'fail', reason: `output ${j} "${o}" ${m}` };
  }
  return { ...base, status: 'pass', reason: '', graph: g, inputs, outputs };
}

const STATUS_TEXT: Record<Status, string> = {
  pass: 'passes',
  fail: 'FAILS',
  dtype: 'out of scope: dtype',
  unsupported: 'not supported',
  error: 'error',
};

export interface C {
  host: Set<string>;
  mcu: Map<string, Set<string>>;
}

/** docs/onnx-support.md: what is supported, then the table of every backend node test. */
export function supportTable(results: CaseResult[], cResults: C): string {
  const count = (s: Status) => results.filter((r) => r.status === s).length;
  const mcuLine = [...cResults.mcu].map(([t, s]) => `${s.size} on ${t}`).join(', ');
  const lines = [
    '# ONNX support',
    '',
    '<!-- Generated by test/onnx-conformance.test.ts (npm test): do not edit by hand. -->',
    '',
    'tritc reads ONNX models of opsets 1 to 25 (`.onnx` files, by extension or by content) and QONNX',
    'models (`Quant`, `IntQuant`, `BipolarQuant`, `Trunc` v1 and v2, under the domains `onnx.brevitas`,',
    '`finn.custom_op.general`, `qonnx.custom_op.general` and `qonnx.custom_ops.general`; on activations,',
    'scales, zero points and bit widths must be constants, one value each). Supported dtypes:',
    'float32, int8, uint8, int32, int64, bool. Everything that depends only on constants (shape',
    'computations, weight preprocessing) is folded at compile time; shapes must be static (symbolic',
    'input dimensions are fixed with `--input-shape` and `--batch`). Model-local functions are inlined.',
    'The IR ops each ONNX op becomes, and how older op versions are read, are described in',
    '[onnx-ops.md](onnx-ops.md); ternary and binary detection, QONNX lowering and the options are in the',
    'README.',
    '',
    'Not supported: control flow (If, Loop, Scan), sparse and string tensors, external data files,',
    'zero dimensions (every tensor needs a non-empty shape), shape inputs computed at run time,',
    'training-mode semantics (BatchNormalization and Dropout, `is_test` = 0 before opset 7),',
    'QONNX `FloatQuant`, and ops outside the table in onnx-ops.md (each reported by name, with its',
    'nodes, before anything is converted).',
    '',
    '## ONNX backend node tests',
    '',
    `Every test in \`../shared/data/onnx_backend_tests/node\` (${results.length} tests), run by \`test/onnx-conformance.test.ts\`:`,
    'the interpreter against `output_*.pb` at rtol 1e-3, atol 1e-7 (every test that imports); the',
    'generated C against the interpreter, bit for bit, on the host (every passing test, in one program)',
    `and on microcontrollers (a sample: ${mcuLine || 'none'}). Where a test feeds a shape-determining`,
    "input at run time (a Reshape's shape, Slice's starts, ...), the harness gives the test's value as a",
    'constant, as a deployed model would have it; tritc plans memory at compile time. So it does for an',
    "int64 input declared without a static shape (ReduceMean's `axes` of unknown length).",
    '',
    `| status | tests |`,
    `|---|---|`,
    `| passes (interpreter within tolerance) | ${count('pass')} |`,
    `| ... and the generated C bit-exact on the host | ${cResults.host.size} |`,
    `| FAILS | ${count('fail')} |`,
    `| out of scope: a dtype tritc does not support | ${count('dtype')} |`,
    `| not supported: an op, attribute or feature tritc does not have (yet) | ${count('unsupported')} |`,
    `| other errors | ${count('error')} |`,
    '',
    '| test | opset | ops | status | C | reason |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const c =
      r.status !== 'pass'
        ? ''
        : [cResults.host.has(r.name) ? 'host' : '', ...[...cResults.mcu].filter(([, s]) => s.has(r.name)).map(([t]) => t)].filter(Boolean).join(', ');
    lines.push(`| ${r.name} | ${r.opset} | ${r.ops} | ${STATUS_TEXT[r.status]} | ${c} | ${r.reason.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`);
  }
  return `${lines.join('\n')}\n`;
}
