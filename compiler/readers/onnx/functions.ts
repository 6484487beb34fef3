// Model-local ONNX functions (ModelProto.functions: newer PyTorch exports wrap modules in them) are
// inlined before anything else looks at the graph: each call node becomes the function's body, with
//   - formal inputs and outputs renamed to the call's actual ones (an omitted optional input stays
//     omitted, "");
//   - every other value of the body renamed to `<call>/<name>`, made unique against every name of the
//     graph and of other inlined calls;
//   - attributes that refer to the call's (ref_attr_name) replaced by the call's attribute of that
//     name, else the function's default, else left out;
//   - nodes named `<call>/<node>`, and given the function's default-domain opset when it imports one
//     other than the model's;
//   - calls inside bodies inlined the same way (a function that calls itself is an error).

import { fail } from '../../diagnostics.ts';
import type { OnnxAttribute, OnnxFunction, OnnxModel, OnnxNode } from './decode.ts';

const MAX_DEPTH = 32;

const key = (domain: string, name: string, overload = '') => `${domain}\u0000${name}\u0000${overload}`;

/** The model with every call of a model-local function replaced by the function's body. */
export function inlineFunctions(model: OnnxModel, label: string): OnnxModel {
  if (!model.functions.length) return model;
  const fns = new Map<string, OnnxFunction>();
  for (const f of model.functions) fns.set(key(f.domain, f.name, f.overload), f);
  const g = model.graph;
  const taken = new Set<string>();
  for (const n of g.nodes) {
    n.inputs.forEach((i) => taken.add(i));
    n.outputs.forEach((o) => taken.add(o));
    if (n.name) taken.add(`node:${n.name}`);
  }
  for (const v of [...g.inputs, ...g.outputs, ...g.valueInfo]) taken.add(v.name);
  for (const t of g.initializers) taken.add(t.name);
  const unique = (base: string, space = ''): string => {
    let name = base;
    for (let i = 1; taken.has(space + name); i++) name = `${base}.${i}`;
    taken.add(space + name);
    return name;
  };

  const expand = (nodes: OnnxNode[], depth: number, stack: string[]): OnnxNode[] =>
    nodes.flatMap((call) => {
      const f = fns.get(key(call.domain, call.opType, call.overload ?? ''));
      if (!f) return [call];
      const callName = call.name || `${call.opType}_${call.index}`;
      const what = `${label}: node "${callName}" (${call.domain ? `${call.domain}.` : ''}${call.opType})`;
      if (depth >= MAX_DEPTH || stack.includes(f.name))
        fail('onnx', what, `calls function "${f.name}" recursively (${[...stack, f.name].join(' -> ')}); ONNX functions may not recurse`);
      if (call.inputs.length > f.inputs.length || call.outputs.length > f.outputs.length)
        fail(
          'onnx',
          what,
          `calls function "${f.name}" with ${call.inputs.length} inputs and ${call.outputs.length} outputs; it takes ${f.inputs.length} and ${f.outputs.length}`,
        );
      const rename = new Map<string, string>();
      f.inputs.forEach((formal, i) => rename.set(formal, call.inputs[i] ?? ''));
      // An output the call leaves out still names a value inside the body.
      f.outputs.forEach((formal, j) => rename.set(formal, call.outputs[j] || unique(`${callName}/${formal}`)));
      const local = (name: string): string => {
        if (name === '') return '';
        let r = rename.get(name);
        if (r === undefined) {
          r = unique(`${callName}/${name}`);
          rename.set(name, r);
        }
        return r;
      };
      const attr = (a: OnnxAttribute): OnnxAttribute | undefined => {
        if (a.kind !== 'ref') return a;
        return call.attributes.get(a.ref) ?? f.defaults.get(a.ref);
      };
      const body = f.nodes.map((n): OnnxNode => {
        const attributes = new Map<string, OnnxAttribute>();
        for (const [k, a] of n.attributes) {
          const v = attr(a);
          if (v) attributes.set(k, v);
        }
        const opset = n.domain === '' ? f.opsets.get('') : undefined;
        const name = unique(`${callName}/${n.name || `${n.opType}_${n.index}`}`, 'node:');
        return {
          index: call.index,
          name,
          opType: n.opType,
          domain: n.domain,
          inputs: n.inputs.map(local),
          outputs: n.outputs.map(local),
          attributes,
          ...(n.overload ? { overload: n.overload } : {}),
          ...(opset !== undefined && opset !== model.opsets.get('') ? { opset } : call.opset !== undefined ? { opset: call.opset } : {}),
        };
      });
      return expand(body, depth + 1, [...stack, f.name]);
    });

  return { ...model, graph: { ...g, nodes: expand(g.nodes, 0, []) }, functions: [] };
}
