// ONNX / QONNX model -> tritc IR Graph.
//
//   1. decode the protobuf into checked records (decode.ts);
//   2. check the whole model up front and report every problem at once: opsets, every unsupported
//      op with its node names, every unsupported dtype by tensor name, missing inputs, cycles;
//   3. order the nodes (ONNX requires topological order; any order is accepted);
//   4. convert node by node through the table in ops.ts: each ONNX node becomes zero or more IR
//      nodes (shape inference runs as each IR node is added, so later nodes see every shape), or a
//      constant when its inputs are constants (compile-time folding, fold.ts);
//   5. graph outputs, checked against their declared types and shapes.
//
// Values are tracked per ONNX name as one of:
//   const   a compile-time constant (registered in the IR graph only when an IR node reads it);
//   tensor  an IR tensor holding exactly the ONNX value;
//   quant   an IR int8 tensor of codes with a constant scale (QONNX Quant on activations): the ONNX
//           value is code * scale; consumers that take codes (low-bit linear layers, Relu) read the
//           codes, others get a DequantizeInt8 (made once, on first use);
//   view    a tensor seen through a reshape and scalar elementwise ops (e.g. MNIST's 2*x - 1), kept
//           pending so that a following Quant can fuse them; otherwise made real on first use.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { DiagnosticBag, TritcError, fail, type DiagnosticCode } from '../../diagnostics.ts';
import { shapeStr, type AttrValue, type DType, type Graph, type Node, type Tensor } from '../../ir.ts';
import { foldNode, readsOnlyConstants } from '../../passes/fold_constants.ts';
import { inferNode, setOutputs } from '../../passes/infer.ts';
import { OPS } from '../../ops/index.ts';
import { withDefaults } from '../../ops/op.ts';
import type { PreOp } from '../../ops/quantize_static.ts';
import { decodeModel, clampToNumber, type OnnxAttribute, type OnnxModel, type OnnxNode } from './decode.ts';
import type { Const } from './fold.ts';
import { onnxOpKey, lookupMapping } from './mappings.ts';
import { irDtype, onnxTypeText, SUPPORTED_TYPES_TEXT, tensorValues } from './tensor.ts';
import { OP_REMOVED, OP_VERSIONS, opVersion, refusals } from './versions.ts';
import { inlineFunctions } from './functions.ts';

export interface OnnxImportOptions {
  /** Detect ternary/binary weights and quantised activations (default true); off gives the float32 network. */
  lowBit?: boolean;
  /**
   * Graph inputs to take as constants with these values: shape-determining inputs (a Reshape's
   * shape, Slice's starts...) must be known at compile time.
   */
  freeze?: ReadonlyMap<string, Const>;
  /** Shapes for graph inputs (--input-shape) and a value for every symbolic leading dimension (--batch). */
  shapes?: { inputs: ReadonlyMap<string, readonly number[]>; batch?: number };
}

const MIN_OPSET = 1;
const MAX_OPSET = 25;

export type Value =
  | { kind: 'const'; c: Const; ir?: string }
  | { kind: 'tensor'; ir: string }
  | { kind: 'quant'; ir: string; float?: string }
  /** QuantizeLinear's integer output q, kept as codes q - zp (read only by matching DequantizeLinear nodes). */
  | { kind: 'qdq'; ir: string; scale: number; zp: number; dtype: DType }
  | { kind: 'view'; base: string; shape: number[]; pre: { op: PreOp; c: number; node?: string }[]; real?: string };

/** Read an .onnx file. `label` names it in messages (default: the path as given). */
export function readOnnx(path: string, opts: OnnxImportOptions = {}, label = path): Graph {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    fail('io', label, `cannot read: ${(e as Error).message}`);
  }
  return importOnnx(bytes, label, opts);
}

/** Does this file look like an ONNX model (by extension, or a ModelProto's first field)? */
export function looksLikeOnnx(path: string, head: Uint8Array): boolean {
  if (/\.onnx$/i.test(path)) return true;
  // A serialized ModelProto starts with field 1 (ir_version, varint: tag 0x08) in every writer we
  // know of; JSON starts with '{' or whitespace.
  return head.length > 1 && head[0] === 0x08 && head[1]! < 0x80;
}

export function importOnnx(bytes: Uint8Array, label: string, opts: OnnxImportOptions = {}): Graph {
  const model = inlineFunctions(decodeModel(bytes, label), label);
  const imp = new Importer(model, label, opts);
  const g = imp.run();
  g.sourceHash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  return g;
}

class Importer {
  readonly g: Graph;
  readonly values = new Map<string, Value>();
  readonly bag = new DiagnosticBag();
  /** Every name of the ONNX graph, so that made-up IR names never collide with one. */
  readonly reserved = new Set<string>();
  readonly nodeNames = new Set<string>();
  /** How many nodes read each ONNX value (graph outputs count as readers). */
  readonly readers = new Map<string, number>();
  readonly lowBit: boolean;
  readonly opset: number;
  readonly freeze: ReadonlyMap<string, Const>;
  readonly shapesOpt: OnnxImportOptions['shapes'];

  constructor(
    readonly model: OnnxModel,
    readonly label: string,
    opts: OnnxImportOptions,
  ) {
    this.lowBit = opts.lowBit ?? true;
    this.freeze = opts.freeze ?? new Map();
    this.shapesOpt = opts.shapes;
    // The file name (exporters give graphs generic names such as "torch-jit-export").
    const name = basename(label).replace(/\.onnx$/i, '') || model.graph.name || 'model';
    this.g = { name, source: label, inputs: [], outputs: [], tensors: new Map(), nodes: [], sourceHash: '' };
    this.opset = model.opsets.get('') ?? 0;
  }

  err(where: string, message: string, code: DiagnosticCode = 'onnx'): void {
    this.bag.error(code, `${this.label}: ${where}`, message);
  }

  nodeWhere(n: OnnxNode): string {
    return `node "${n.name || `#${n.index}`}" (${n.domain ? `${n.domain}.` : ''}${n.opType})`;
  }

  run(): Graph {
    const { graph } = this.model;
    this.checkModel();
    this.bag.throwIfAny();
    for (const n of graph.nodes) for (const o of n.outputs) if (o) this.reserved.add(o);
    for (const v of [...graph.inputs, ...graph.outputs, ...graph.valueInfo]) this.reserved.add(v.name);
    for (const t of graph.initializers) this.reserved.add(t.name);
    for (const n of graph.nodes) for (const i of n.inputs) if (i) this.readers.set(i, (this.readers.get(i) ?? 0) + 1);
    for (const o of graph.outputs) this.readers.set(o.name, (this.readers.get(o.name) ?? 0) + 1);

    // Constants, then graph inputs (an input with an initializer of the same name is a constant).
    for (const t of graph.initializers) {
      if (!t.name) {
        this.err('initializer', 'an initializer has no name');
        continue;
      }
      try {
        const v = tensorValues(t, `${this.label}: initializer "${t.name}"`);
        this.checkFinite(v, `initializer "${t.name}"`);
        this.values.set(t.name, { kind: 'const', c: v });
      } catch (e) {
        this.collect(e);
      }
    }
    for (const inp of graph.inputs) {
      if (this.values.has(inp.name)) continue;
      const frozen = this.freeze.get(inp.name);
      if (frozen) {
        this.values.set(inp.name, { kind: 'const', c: frozen });
        continue;
      }
      const where = `graph input "${inp.name}"`;
      const dtype = inp.elemType === undefined ? undefined : irDtype(inp.elemType);
      if (!dtype) continue; // reported by checkModel
      const shape = this.inputShape(inp.name, inp.shape, where);
      if (!shape) continue;
      this.g.inputs.push(inp.name);
      this.g.tensors.set(inp.name, { name: inp.name, dtype, shape, kind: 'input', range: dtype === 'float32' ? undefined : rangeOf(dtype) });
      this.values.set(inp.name, { kind: 'tensor', ir: inp.name });
    }
    for (const name of this.shapesOpt?.inputs.keys() ?? [])
      if (!graph.inputs.some((v) => v.name === name))
        this.err(
          '--input-shape',
          `names "${name}", which is not a graph input; the inputs are ${graph.inputs.map((v) => `"${v.name}"`).join(', ') || 'none'}`,
          'usage',
        );
    this.bag.throwIfAny();

    const order = this.schedule();
    this.bag.throwIfAny();
    const failed = new Set<string>();
    for (const n of order) {
      if (n.inputs.some((i) => i && failed.has(i))) {
        n.outputs.forEach((o) => failed.add(o));
        continue;
      }
      try {
        this.convertNode(n);
      } catch (e) {
        this.collect(e);
        n.outputs.forEach((o) => failed.add(o));
      }
    }
    this.bag.throwIfAny();

    for (const o of graph.outputs) {
      const where = `graph output "${o.name}"`;
      const v = this.values.get(o.name);
      if (!v) {
        if (!failed.has(o.name)) this.err(where, 'is not produced by any node, nor an initializer or graph input', 'undefined-tensor');
        continue;
      }
      try {
        const ir = this.materialize(o.name, v, true);
        const t = this.g.tensors.get(ir)!;
        if (o.elemType !== undefined && irDtype(o.elemType) && irDtype(o.elemType) !== t.dtype)
          this.err(where, `is declared ${onnxTypeText(o.elemType)} but computes ${t.dtype}`, 'dtype');
        if (o.shape && o.shape.every((d) => typeof d === 'number') && shapeStr(o.shape as number[]) !== shapeStr(t.shape))
          this.err(where, `is declared with shape ${shapeStr(o.shape as number[])} but computes ${shapeStr(t.shape)}`, 'shape');
        this.g.outputs.push(ir);
      } catch (e) {
        this.collect(e);
      }
    }
    if (graph.outputs.length === 0) this.err('graph', 'has no outputs');
    this.bag.throwIfAny();
    return this.g;
  }

  /**
   * The static shape of a graph input: its declared dimensions, with --input-shape's values and
   * --batch for a symbolic leading dimension; undefined (reported) when a dimension stays unknown.
   */
  inputShape(name: string, declared: (number | string | undefined)[] | undefined, where: string): number[] | undefined {
    const given = this.shapesOpt?.inputs.get(name);
    if (given) {
      if (declared && declared.length !== given.length) {
        this.err(where, `--input-shape gives ${given.length} dimensions (${given.join(',')}); the model declares ${declared.length}`, 'shape');
        return undefined;
      }
      const clash = (declared ?? []).findIndex((d, i) => typeof d === 'number' && d > 0 && d !== given[i]);
      if (clash >= 0) {
        this.err(where, `dimension ${clash} is ${declared![clash]} in the model; --input-shape gives ${given[clash]}`, 'shape');
        return undefined;
      }
      return [...given];
    }
    if (!declared) {
      this.err(where, `has no shape; give it with --input-shape ${name}=d,d,... (tritc needs the static shape of every graph input)`, 'shape');
      return undefined;
    }
    const shape: number[] = [];
    let ok = true;
    declared.forEach((d, i) => {
      if (typeof d === 'number' && d >= 1) shape.push(d);
      else if (i === 0 && typeof d !== 'number' && this.shapesOpt?.batch !== undefined) shape.push(this.shapesOpt.batch);
      else {
        this.err(
          where,
          `dimension ${i} is ${typeof d === 'string' ? `the symbol "${d}"` : d === undefined ? 'unknown' : d}; tritc needs static, positive dimensions: give them with --input-shape ${name}=${declared.map((x) => (typeof x === 'number' && x >= 1 ? x : 1)).join(',')}${i === 0 ? ' or --batch 1' : ''} (or export the model with a fixed shape)`,
          'unsupported',
        );
        ok = false;
      }
    });
    return ok ? shape : undefined;
  }

  collect(e: unknown): void {
    if (e instanceof TritcError) for (const d of e.diagnostics) this.bag.items.push(d);
    else throw e;
  }

  checkFinite(c: Const, what: string): void {
    if (c.dtype !== 'float32') return;
    const d = c.data as Float32Array;
    for (let i = 0; i < d.length; i++) {
      if (!Number.isFinite(d[i]!)) fail('weights', `${this.label}: ${what}`, `value ${d[i]} at index ${i} is not finite; tritc's constants must be finite`);
    }
  }

  /** Opsets, unsupported ops (all of them, with node names), unsupported dtypes (by tensor name). */
  checkModel(): void {
    const { model } = this;
    const { graph } = model;
    if (!model.opsets.has(''))
      this.err('opset_import', `does not import the default ONNX domain; tritc supports opsets ${MIN_OPSET} to ${MAX_OPSET}`, 'unsupported');
    else if (this.opset < MIN_OPSET || this.opset > MAX_OPSET)
      this.err('opset_import', `imports ONNX opset ${this.opset}; tritc supports opsets ${MIN_OPSET} to ${MAX_OPSET}`, 'unsupported');
    if (graph.sparseInitializers) this.err('graph', `has ${graph.sparseInitializers} sparse initializer(s), which tritc does not support`, 'unsupported');

    const unsupported = new Map<string, string[]>();
    const refused = new Map<string, string[]>();
    for (const n of graph.nodes) {
      const m = lookupMapping(n.domain, n.opType);
      const key = onnxOpKey(n.domain, n.opType);
      let why: string | undefined;
      const opset = n.opset ?? this.opset;
      const version = n.domain === '' ? opVersion(n.opType, opset) : 1;
      if (!m) why = '';
      else {
        const missing = (m.needs ?? []).filter((op) => !OPS.has(op));
        if (missing.length) why = `needs IR op${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, not in this build`;
        else if (version === undefined)
          why =
            OP_REMOVED[n.opType] !== undefined && opset >= OP_REMOVED[n.opType]!
              ? `removed in opset ${OP_REMOVED[n.opType]}; the model imports opset ${opset}`
              : `not in opset ${opset}: ${n.opType} exists from opset ${OP_VERSIONS[n.opType]![0]}`;
        else
          for (const r of refusals(n, version)) {
            const k = `${n.opType}-${version} (${r})`;
            const list = refused.get(k) ?? [];
            list.push(`"${n.name || `#${n.index}`}"`);
            refused.set(k, list);
          }
      }
      if (why !== undefined) {
        const k = `${key}${why ? ` (${why})` : ''}`;
        const list = unsupported.get(k) ?? [];
        list.push(`"${n.name || `#${n.index}`}"`);
        unsupported.set(k, list);
      }
      for (const [aname, a] of n.attributes) {
        if (a.kind === 'graph' || a.kind === 'graphs')
          this.err(this.nodeWhere(n), `attribute "${aname}" is a subgraph; tritc does not support control flow`, 'unsupported');
      }
    }
    const nodeList = (nodes: string[]) =>
      `node${nodes.length > 1 ? 's' : ''} ${nodes.slice(0, 8).join(', ')}${nodes.length > 8 ? ` and ${nodes.length - 8} more` : ''}`;
    for (const [op, nodes] of unsupported) this.err('graph', `unsupported op ${op}: ${nodeList(nodes)}`, 'unsupported');
    for (const [what, nodes] of refused) this.err('graph', `unsupported op version ${what}: ${nodeList(nodes)}`, 'unsupported');

    const badType = (name: string, elemType: number | undefined, what: string) => {
      if (elemType === undefined || elemType === 0) return;
      if (!irDtype(elemType))
        this.err(`${what} "${name}"`, `has dtype ${onnxTypeText(elemType)}, which tritc does not support (supported: ${SUPPORTED_TYPES_TEXT})`, 'dtype');
    };
    const seen = new Set<string>();
    for (const t of graph.initializers) {
      seen.add(t.name);
      badType(t.name, t.dtype, 'initializer');
    }
    for (const v of graph.inputs) {
      if (seen.has(v.name)) continue;
      seen.add(v.name);
      if (v.otherType) this.err(`graph input "${v.name}"`, `is a ${v.otherType}, tritc supports tensors only`, 'dtype');
      else badType(v.name, v.elemType, 'graph input');
    }
    for (const v of graph.outputs) {
      if (v.otherType) this.err(`graph output "${v.name}"`, `is a ${v.otherType}, tritc supports tensors only`, 'dtype');
      else badType(v.name, v.elemType, 'graph output');
      seen.add(v.name);
    }
    for (const v of graph.valueInfo) if (!seen.has(v.name)) badType(v.name, v.elemType, 'tensor');
    for (const n of graph.nodes) {
      for (const [aname, a] of n.attributes)
        if (a.kind === 'tensor') badType(a.value.name || aname, a.value.dtype, `attribute "${aname}" of ${this.nodeWhere(n)}: tensor`);
      const to = n.attributes.get('to');
      if (n.opType === 'Cast' && to?.kind === 'int' && !irDtype(Number(to.value)))
        this.err(this.nodeWhere(n), `casts to ${onnxTypeText(Number(to.value))}, which tritc does not support (supported: ${SUPPORTED_TYPES_TEXT})`, 'dtype');
    }
  }

  /** Node order: producers first, keeping the file order where possible; cycles and missing inputs are errors. */
  schedule(): OnnxNode[] {
    const nodes = this.model.graph.nodes;
    const producer = new Map<string, OnnxNode>();
    for (const n of nodes)
      for (const o of n.outputs) {
        if (!o) continue;
        if (producer.has(o) || this.values.has(o))
          this.err(
            this.nodeWhere(n),
            `output "${o}" is already ${producer.has(o) ? `produced by ${this.nodeWhere(producer.get(o)!)}` : 'an initializer or graph input'}`,
            'duplicate',
          );
        else producer.set(o, n);
      }
    for (const n of nodes)
      n.inputs.forEach((i, j) => {
        if (i && !producer.has(i) && !this.values.has(i) && !this.model.graph.inputs.some((v) => v.name === i))
          this.err(
            this.nodeWhere(n),
            `input ${j} "${i}" is not produced by any node, nor an initializer or graph input (a missing initializer?)`,
            'undefined-tensor',
          );
      });
    const state = new Map<OnnxNode, 'visiting' | 'done'>();
    const order: OnnxNode[] = [];
    let cycleReported = false;
    const visit = (n: OnnxNode, stack: OnnxNode[]): void => {
      const s = state.get(n);
      if (s === 'done') return;
      if (s === 'visiting') {
        if (!cycleReported) {
          const cyc = stack.slice(stack.indexOf(n)).map((m) => `"${m.name || `#${m.index}`}"`);
          this.err('graph', `has a cycle: ${[...cyc, cyc[0]].join(' -> ')}`, 'cycle');
          cycleReported = true;
        }
        return;
      }
      state.set(n, 'visiting');
      stack.push(n);
      for (const i of n.inputs) {
        const p = i ? producer.get(i) : undefined;
        if (p) visit(p, stack);
      }
      stack.pop();
      state.set(n, 'done');
      order.push(n);
    };
    for (const n of nodes) visit(n, []);
    return order;
  }

  convertNode(n: OnnxNode): void {
    const m = lookupMapping(n.domain, n.opType)!;
    const ctx = new NodeContext(this, n);
    m.convert(ctx);
    n.outputs.forEach((o, j) => {
      if (o && !this.values.has(o)) {
        if (j === 0 || !m.optionalOutputs) throw new Error(`internal: ${this.nodeWhere(n)} did not define output "${o}"`);
        if (this.readers.get(o))
          fail(
            'unsupported',
            `${this.label}: ${this.nodeWhere(n)}`,
            `output ${j} "${o}" is used, but tritc does not compute this optional output of ${n.opType}`,
          );
      }
    });
  }

  /** `name` itself (an ONNX value's own name) unless the IR graph already uses it, else a fresh one. */
  claim(name: string): string {
    if (!this.g.tensors.has(name)) {
      this.reserved.add(name);
      return name;
    }
    return this.fresh(name);
  }

  /** A fresh IR name derived from `base`, never one of the ONNX graph's names. */
  fresh(base: string): string {
    if (!this.reserved.has(base) && !this.g.tensors.has(base)) {
      this.reserved.add(base);
      return base;
    }
    for (let i = 1; ; i++) {
      const c = `${base}.${i}`;
      if (!this.reserved.has(c) && !this.g.tensors.has(c)) {
        this.reserved.add(c);
        return c;
      }
    }
  }

  freshNode(base: string): string {
    let name = base;
    for (let i = 1; this.nodeNames.has(name); i++) name = `${base}.${i}`;
    this.nodeNames.add(name);
    return name;
  }

  /** Register a constant in the IR graph (once) and return its IR name. */
  constant(c: Const, hint: string, own = false): string {
    if (c.shape.some((d) => d < 1))
      fail('unsupported', `${this.label}: tensor "${hint}"`, `has an empty shape ${shapeStr(c.shape)}; tritc does not support empty tensors`);
    const name = own ? this.claim(hint) : this.fresh(hint);
    this.g.tensors.set(name, { name, dtype: c.dtype, shape: [...c.shape], kind: 'constant', data: c.data });
    return name;
  }

  /** The IR tensor holding value `v` (ONNX name `name`) exactly, emitting what it takes. */
  materialize(name: string, v: Value, forOutput = false): string {
    switch (v.kind) {
      case 'const':
        if (!v.ir) v.ir = this.constant(v.c, name, true);
        return v.ir;
      case 'tensor':
        return v.ir;
      case 'quant': {
        if (v.float) return v.float;
        const out = forOutput ? this.claim(name) : this.fresh(`${name}.float`);
        this.emit('DequantizeInt8', [v.ir], [out], {}, `${name}.dequantize`);
        v.float = out;
        return out;
      }
      case 'qdq':
        // QuantizeLinear only keeps codes when every reader is a matching DequantizeLinear.
        throw new Error(`internal: QuantizeLinear output "${name}" kept as codes is read by something other than DequantizeLinear`);
      case 'view': {
        if (v.real) return v.real;
        let cur = v.base;
        const baseShape = this.g.tensors.get(v.base)!.shape;
        v.pre.forEach((p, j) => {
          const c = this.constant({ dtype: 'float32', shape: [], data: new Float32Array([p.c]) }, `${name}.c${j}`);
          const op = { add: 'Add', sub: 'Sub', rsub: 'Sub', mul: 'Mul', div: 'Div', rdiv: 'Div' }[p.op];
          const reversed = p.op === 'rsub' || p.op === 'rdiv';
          const last = j === v.pre.length - 1 && shapeStr(v.shape) === shapeStr(baseShape);
          const out = last ? this.claim(name) : this.fresh(`${name}.${p.op}`);
          this.emit(op, reversed ? [c, cur] : [cur, c], [out], {}, p.node ?? `${name}.${p.op}`);
          cur = out;
        });
        if (shapeStr(v.shape) !== shapeStr(baseShape)) {
          const out = this.claim(name);
          this.emit('Reshape', [cur], [out], { shape: [...v.shape] }, `${name}.reshape`);
          cur = out;
        }
        v.real = cur;
        return cur;
      }
    }
  }

  /**
   * Add an IR node: fill attribute defaults, run shape inference, fold it to constants when all its
   * inputs are constants. Returns the IR node (undefined when it was folded).
   */
  emit(op: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue>, nodeName: string, where?: string): Node | undefined {
    const def = OPS.get(op);
    const at = where ?? `${this.label}: node "${nodeName}"`;
    if (!def) fail('unsupported', at, `needs the IR op ${op}, which this build of tritc does not have`);
    const full = withDefaults(def, attrs);
    // The op's signature, as the native reader checks it: required inputs present, not too many.
    if (inputs.length > def.inputs.names.length)
      fail('onnx', at, `${op} takes at most ${def.inputs.names.length} inputs (${def.inputs.names.join(', ')}), found ${inputs.length}`);
    for (let i = 0; i < def.inputs.min; i++) {
      if (!inputs[i]) fail('onnx', at, `input ${i} (${def.inputs.names[i]}) of ${op} is required`);
    }
    for (const [k, v] of Object.entries(full)) {
      if (typeof v === 'number' && !Number.isFinite(v)) fail('onnx', at, `attribute ${k} is ${v}; it must be finite`);
    }
    const node: Node = { name: this.freshNode(nodeName), op, inputs, outputs, attrs: full, annotations: {} };
    const ins = inputs.map((i) => (i === '' ? undefined : this.g.tensors.get(i)));
    ins.forEach((t, i) => {
      if (!t && inputs[i] !== '') throw new Error(`internal: ${op} input "${inputs[i]}" is not in the graph`);
    });
    const prefix = where && !where.endsWith(`(${op})`) ? `${op}: ` : '';
    const { specs, problems } = inferNode(this.g, node, at);
    if (problems.length)
      throw new TritcError(
        problems.map((p) => ({ ...p, message: p.code === 'limit' || p.message.startsWith('output "') ? p.message : `${prefix}${p.message}` })),
      );
    setOutputs(this.g, node, specs);
    // Fold now: a node on constants only is computed at compile time (shape computations must be
    // known before the nodes that use them can be read; passes/fold_constants.ts).
    if (ins.length > 0 && readsOnlyConstants(this.g, node)) {
      foldNode(this.g, node);
      return undefined;
    }
    this.g.nodes.push(node);
    return node;
  }
}

function rangeOf(dtype: DType): [number, number] | undefined {
  const r: Partial<Record<DType, [number, number]>> = {
    int8: [-128, 127],
    uint8: [0, 255],
    int32: [-(2 ** 31), 2 ** 31 - 1],
    bool: [0, 1],
    int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  };
  return r[dtype];
}

/** What a table entry (ops.ts) sees while converting one ONNX node. */
export class NodeContext {
  readonly where: string;
  readonly opset: number;
  /** The op's version at this opset (versions.ts): what the mappings key older semantics on. */
  readonly version: number;
  private readonly replaced = new Map<number, Value>();
  constructor(
    readonly imp: Importer,
    readonly node: OnnxNode,
  ) {
    this.where = `${imp.label}: ${imp.nodeWhere(node)}`;
    this.opset = node.domain === '' ? (node.opset ?? imp.opset) : (imp.model.opsets.get(node.domain) ?? 1);
    this.version = node.domain === '' ? (opVersion(node.opType, this.opset) ?? this.opset) : this.opset;
  }

  get lowBit(): boolean {
    return this.imp.lowBit;
  }
  get graph(): Graph {
    return this.imp.g;
  }

  fail(message: string, code: DiagnosticCode = 'unsupported'): never {
    fail(code, this.where, message);
  }

  // ---- inputs ----
  get inputCount(): number {
    return this.node.inputs.length;
  }
  has(i: number): boolean {
    return (this.node.inputs[i] ?? '') !== '';
  }
  inputName(i: number): string {
    return this.node.inputs[i] ?? '';
  }
  value(i: number): Value {
    const name = this.inputName(i);
    const v = this.replaced.get(i) ?? (name ? this.imp.values.get(name) : undefined);
    if (!v) this.fail(`input ${i} is missing`, 'undefined-tensor');
    return v;
  }
  isConst(i: number): boolean {
    return this.has(i) && this.value(i).kind === 'const';
  }
  /** The constant value of input i; an error naming `what` when it is not a constant. */
  constInput(i: number, what: string): Const {
    const v = this.value(i);
    if (v.kind === 'const') return v.c;
    if (v.kind === 'tensor') {
      const t = this.imp.g.tensors.get(v.ir)!;
      if (t.kind === 'constant') return { dtype: t.dtype, shape: t.shape, data: t.data! };
    }
    this.fail(
      `input ${i} "${this.inputName(i)}" (${what}) must be a constant (an initializer or computed from constants only), because tritc plans memory at compile time`,
    );
  }
  /** Dtype and shape of input i, whatever its form. */
  info(i: number): { dtype: DType; shape: number[] } {
    const v = this.value(i);
    switch (v.kind) {
      case 'const':
        return { dtype: v.c.dtype, shape: v.c.shape };
      case 'tensor': {
        const t = this.imp.g.tensors.get(v.ir)!;
        return { dtype: t.dtype, shape: t.shape };
      }
      case 'quant':
        return { dtype: 'float32', shape: this.imp.g.tensors.get(v.ir)!.shape };
      case 'qdq':
        return { dtype: v.dtype, shape: this.imp.g.tensors.get(v.ir)!.shape };
      case 'view':
        return { dtype: this.imp.g.tensors.get(v.base)!.dtype, shape: v.shape };
    }
  }
  /** The IR tensor holding input i exactly as ONNX defines it. */
  tensor(i: number): string {
    if (!this.has(i)) return '';
    return this.imp.materialize(this.replaced.has(i) ? `${this.inputName(i)}.${this.nodeName}` : this.inputName(i), this.value(i));
  }
  /** Read input i as `v` from now on (an older version's input normalised to the latest semantics). */
  replaceInput(i: number, v: Value): void {
    this.replaced.set(i, v);
  }
  /** Input i as int8 codes with a scale, if it is a quantised activation. */
  quantized(i: number): Tensor | undefined {
    const v = this.has(i) ? this.value(i) : undefined;
    return v?.kind === 'quant' ? this.imp.g.tensors.get(v.ir) : undefined;
  }
  /** The ONNX nodes that read value `name`, and whether it is a graph output. */
  consumers(name: string): { nodes: OnnxNode[]; output: boolean } {
    const g = this.imp.model.graph;
    return { nodes: g.nodes.filter((n) => n.inputs.includes(name)), output: g.outputs.some((o) => o.name === name) };
  }
  /** Number of nodes (and graph outputs) that read ONNX value `name`. */
  readers(name: string): number {
    return this.imp.readers.get(name) ?? 0;
  }

  // ---- attributes ----
  attr(name: string): OnnxAttribute | undefined {
    return this.node.attributes.get(name);
  }
  hasAttr(name: string): boolean {
    return this.node.attributes.has(name);
  }
  private attrKind<K extends OnnxAttribute['kind']>(name: string, kind: K): Extract<OnnxAttribute, { kind: K }> | undefined {
    const a = this.attr(name);
    if (!a) return undefined;
    if (a.kind !== kind) this.fail(`attribute "${name}" must be ${kind === 'int' ? 'an int' : `a ${kind}`}, found ${a.kind}`, 'onnx');
    return a as Extract<OnnxAttribute, { kind: K }>;
  }
  int(name: string, def: number): number;
  int(name: string): number | undefined;
  int(name: string, def?: number): number | undefined {
    const a = this.attrKind(name, 'int');
    return a ? clampToNumber(a.value) : def;
  }
  float(name: string, def: number): number;
  float(name: string): number | undefined;
  float(name: string, def?: number): number | undefined {
    const a = this.attr(name);
    if (a?.kind === 'int') return Number(a.value); // some writers store integral floats as ints
    const f = this.attrKind(name, 'float');
    if (f && !Number.isFinite(f.value)) this.fail(`attribute "${name}" is ${f.value}; it must be finite`, 'onnx');
    return f ? f.value : def;
  }
  string(name: string, def: string): string;
  string(name: string): string | undefined;
  string(name: string, def?: string): string | undefined {
    const a = this.attrKind(name, 'string');
    return a ? a.value : def;
  }
  ints(name: string): number[] | undefined {
    const a = this.attr(name);
    if (!a) return undefined;
    if (a.kind === 'int') return [clampToNumber(a.value)];
    return this.attrKind(name, 'ints')!.value.map(clampToNumber);
  }
  floats(name: string): number[] | undefined {
    return this.attrKind(name, 'floats')?.value;
  }
  tensorAttr(name: string): Const | undefined {
    const a = this.attrKind(name, 'tensor');
    if (!a) return undefined;
    return tensorValues(a.value, `${this.where}: attribute "${name}"`);
  }

  // ---- outputs ----
  get outputCount(): number {
    return this.node.outputs.length;
  }
  outName(j: number): string {
    return this.node.outputs[j] ?? '';
  }
  /** The IR name for output j: the ONNX name itself when it is free. */
  irOut(j: number, suffix = ''): string {
    const o = this.outName(j);
    if (o && !suffix) return this.imp.claim(o);
    return this.imp.fresh(o ? `${o}${suffix}` : `${this.nodeName}.out${j}${suffix}`);
  }
  get nodeName(): string {
    return this.node.name || `${this.node.opType}_${this.node.index}`;
  }
  define(j: number, v: Value): void {
    const o = this.outName(j);
    if (!o) return;
    if (v.kind === 'tensor') {
      const t = this.imp.g.tensors.get(v.ir)!;
      if (t.kind === 'constant') v = { kind: 'const', c: { dtype: t.dtype, shape: t.shape, data: t.data! }, ir: v.ir };
    }
    this.imp.values.set(o, v);
  }
  defineConst(j: number, c: Const): void {
    if (c.dtype === 'float32') this.imp.checkFinite(c, `value "${this.outName(j)}" computed by ${this.imp.nodeWhere(this.node)}`);
    this.define(j, { kind: 'const', c });
  }
  /** A new IR constant. */
  constant(c: Const, hint: string): string {
    return this.imp.constant(c, hint);
  }
  /** Emit an IR node named after this ONNX node; outputs are IR names. */
  emit(op: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}, suffix = ''): Node | undefined {
    return this.imp.emit(op, inputs, outputs, attrs, `${this.nodeName}${suffix}`, this.where);
  }
  /** Emit `op` with the inputs as tensors and outputs named after the ONNX outputs; define them. */
  emitSimple(op: string, attrs: Record<string, AttrValue> = {}, inputs?: string[]): void {
    const ins = inputs ?? this.node.inputs.map((_, i) => this.tensor(i));
    while (ins.length && ins[ins.length - 1] === '') ins.pop();
    const outs = this.node.outputs.map((o, j) => (o ? this.irOut(j) : ''));
    const def = OPS.get(op);
    const used = def ? outs.slice(0, def.outputs.names.length) : outs;
    while (used.length && used[used.length - 1] === '') used.pop();
    this.emit(op, ins, used, attrs);
    used.forEach((o, j) => {
      if (o) this.define(j, { kind: 'tensor', ir: o });
    });
  }
  tensorInfo(name: string): Tensor | undefined {
    return this.imp.g.tensors.get(name);
  }
  /** The IR node that produced IR tensor `name`, if any. */
  producer(name: string): Node | undefined {
    return this.imp.g.nodes.find((n) => n.outputs.includes(name));
  }
  fresh(base: string): string {
    return this.imp.fresh(base);
  }
}
