// Shape and dtype inference, one node at a time, with every limit the emitted C relies on. Every
// reader goes through `inferNode`: the native reader with `inferShapes` over its whole graph, the ONNX
// reader as it adds each node, the language-model builder as it builds its graph. So a tensor no C
// index type can address is the same clear error whichever file it came from.

import { DiagnosticBag, type Diagnostic, type DiagnosticCode } from '../diagnostics.ts';
import { dtypeBytes, elementCount, shapeStr, type Graph, type Node, type Tensor } from '../ir.ts';
import { MAX_ELEMENTS, MAX_RANK, MAX_TENSOR_BYTES } from '../limits.ts';
import { getOp } from '../ops/index.ts';
import type { OutputSpec } from '../ops/op.ts';

/** Problems with one output's shape and size, against the limits of the emitted C. */
export function outputLimitProblem(name: string, spec: Pick<OutputSpec, 'dtype' | 'shape'>): { code: DiagnosticCode; message: string } | undefined {
  const { shape } = spec;
  if (shape.length > MAX_RANK) return { code: 'limit', message: `output "${name}" has rank ${shape.length}, above the limit of ${MAX_RANK}` };
  if (shape.some((d) => !Number.isInteger(d) || d < 1))
    return { code: 'unsupported', message: `output "${name}" has the empty shape ${shapeStr(shape)}; tritc does not support empty tensors` };
  const n = elementCount(shape);
  if (n > MAX_ELEMENTS)
    return {
      code: 'limit',
      message: `output "${name}" ${shapeStr(shape)} has ${n} elements, above the limit of 2^31 - 1 that the generated C indexes with int32_t`,
    };
  const bytes = n * dtypeBytes(spec.dtype);
  if (bytes > MAX_TENSOR_BYTES)
    return {
      code: 'limit',
      message: `output "${name}" ${shapeStr(shape)} ${spec.dtype} takes ${bytes} bytes, above the limit of 2^31 - 1 bytes that the generated C's byte counts (int32_t) hold`,
    };
  return undefined;
}

/**
 * Run `node`'s shape inference against the tensors of `g` and check its outputs against the limits.
 * Returns the output specs, or the problems (each with `where`) when there are any.
 */
export function inferNode(g: Graph, node: Node, where: string): { specs: OutputSpec[]; problems: Diagnostic[] } {
  const def = getOp(node.op);
  const problems: Diagnostic[] = [];
  const inputs: (Tensor | undefined)[] = node.inputs.map((t) => (t === '' ? undefined : g.tensors.get(t)));
  const specs = def.infer({ graph: g, node, inputs, error: (message, code) => problems.push({ code: code ?? 'shape', where, message }) });
  if (problems.length) return { specs: [], problems };
  specs.forEach((spec, j) => {
    const name = node.outputs[j];
    if (name === undefined || name === '') return;
    const p = outputLimitProblem(name, spec);
    if (p) problems.push({ ...p, where });
  });
  return { specs: problems.length ? [] : specs, problems };
}

/** Create the output tensors of `node` from inference results. */
export function setOutputs(g: Graph, node: Node, specs: readonly OutputSpec[]): void {
  specs.forEach((spec, j) => {
    const name = node.outputs[j];
    if (name === undefined || name === '') return;
    g.tensors.set(name, { name, dtype: spec.dtype, shape: spec.shape, kind: 'activation', quant: spec.quant, range: spec.range });
  });
}

/** Infer every node of `g` in order, creating its outputs; every problem is reported together. */
export function inferShapes(g: Graph, where: (n: Node) => string): void {
  const bag = new DiagnosticBag();
  for (const node of g.nodes) {
    const missing = node.inputs.some((t) => t !== '' && !g.tensors.has(t));
    if (missing) continue; // an earlier node failed; its error is already reported
    const { specs, problems } = inferNode(g, node, where(node));
    bag.items.push(...problems);
    if (!problems.length) setOutputs(g, node, specs);
  }
  bag.throwIfAny();
}
