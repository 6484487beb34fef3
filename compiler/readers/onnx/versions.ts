// The versions of every ONNX op the importer maps, opsets 1 to 25, from
// ../shared/data/onnx_schema/Changelog.md: for each op the opsets that introduced a new version
// (`since`), and a table of the version ranges whose semantics differ from the latest version.
//
// A node's op version is the largest `since` not above the model's opset for its domain (an op that
// does not exist yet at that opset is an error). Each row of RULES says what differs in a range of
// versions and how the importer deals with it:
//   normalised  the mapping (mappings.ts) rewrites it into the latest semantics, keyed on ctx.version;
//   ignored     an attribute without effect on the values (consumed_inputs: a legacy optimisation hint);
//   refused     `refuse` names the attribute or behaviour tritc cannot express, checked for every node
//               before conversion starts (all such nodes are reported together).

import type { OnnxNode } from './decode.ts';

/** Versions (opsets that changed the op) of the default-domain ops tritc maps. */
export const OP_VERSIONS: Readonly<Record<string, readonly number[]>> = {
  Abs: [1, 6, 13],
  Add: [1, 6, 7, 13, 14],
  ArgMax: [1, 11, 12, 13],
  ArgMin: [1, 11, 12, 13],
  AveragePool: [1, 7, 10, 11, 19, 22],
  BatchNormalization: [1, 6, 7, 9, 14, 15],
  Cast: [1, 6, 9, 13, 19, 21, 23, 24, 25],
  CastLike: [15, 19, 21, 23, 24, 25],
  Ceil: [1, 6, 13],
  Clip: [1, 6, 11, 12, 13],
  Concat: [1, 4, 11, 13],
  Constant: [1, 9, 11, 12, 13, 19, 21, 23, 24, 25],
  ConstantOfShape: [9, 20, 21, 23, 24, 25],
  Conv: [1, 11, 22],
  ConvInteger: [10],
  ConvTranspose: [1, 11, 22],
  CumSum: [11, 14],
  DequantizeLinear: [10, 13, 19, 21, 23, 24, 25],
  Div: [1, 6, 7, 13, 14],
  Dropout: [1, 6, 7, 10, 12, 13, 22],
  Elu: [1, 6, 22],
  Equal: [1, 7, 11, 13, 19],
  Erf: [9, 13],
  Exp: [1, 6, 13],
  Expand: [8, 13],
  Flatten: [1, 9, 11, 13, 21, 23, 24, 25],
  Floor: [1, 6, 13],
  GRU: [1, 3, 7, 14, 22],
  Gather: [1, 11, 13],
  Gelu: [20],
  Gemm: [1, 6, 7, 9, 11, 13],
  GlobalAveragePool: [1, 22],
  Greater: [1, 7, 9, 13],
  GreaterOrEqual: [12, 16],
  HardSigmoid: [1, 6, 22],
  HardSwish: [14, 22],
  Identity: [1, 13, 14, 16, 19, 21, 23, 24, 25],
  LRN: [1, 13],
  LSTM: [1, 7, 14, 22],
  LayerNormalization: [17],
  LeakyRelu: [1, 6, 16],
  Less: [1, 7, 9, 13],
  LessOrEqual: [12, 16],
  Log: [1, 6, 13],
  LogSoftmax: [1, 11, 13],
  MatMul: [1, 9, 13],
  MatMulInteger: [10],
  Max: [1, 6, 8, 12, 13],
  MaxPool: [1, 8, 10, 11, 12, 22],
  Min: [1, 6, 8, 12, 13],
  Mish: [18, 22],
  Mul: [1, 6, 7, 13, 14],
  Neg: [1, 6, 13],
  PRelu: [1, 6, 7, 9, 16],
  Pad: [1, 2, 11, 13, 18, 19, 21, 23, 24, 25],
  Pow: [1, 7, 12, 13, 15],
  QLinearConv: [10],
  QLinearMatMul: [10, 21],
  QuantizeLinear: [10, 13, 19, 21, 23, 24, 25],
  Range: [11],
  Reciprocal: [1, 6, 13],
  ReduceMax: [1, 11, 12, 13, 18, 20],
  ReduceMean: [1, 11, 13, 18],
  ReduceMin: [1, 11, 12, 13, 18, 20],
  ReduceProd: [1, 11, 13, 18],
  ReduceSum: [1, 11, 13],
  Relu: [1, 6, 13, 14],
  Reshape: [1, 5, 13, 14, 19, 21, 23, 24, 25],
  Resize: [10, 11, 13, 18, 19],
  Round: [11, 22],
  ScatterND: [11, 13, 16, 18],
  Selu: [1, 6, 22],
  Shape: [1, 13, 15, 19, 21, 23, 24, 25],
  Sigmoid: [1, 6, 13],
  Size: [1, 13, 19, 21, 23, 24, 25],
  Slice: [1, 10, 11, 13],
  Softmax: [1, 11, 13],
  Softplus: [1, 22],
  Softsign: [1, 22],
  Split: [1, 2, 11, 13, 18],
  Sqrt: [1, 6, 13],
  Squeeze: [1, 11, 13, 21, 23, 24, 25],
  Sub: [1, 6, 7, 13, 14],
  Sum: [1, 6, 8, 13],
  Tanh: [1, 6, 13],
  Tile: [1, 6, 13],
  TopK: [1, 10, 11, 24],
  Transpose: [1, 13, 21, 23, 24, 25],
  Unsqueeze: [1, 11, 13, 21, 23, 24, 25],
  Upsample: [7, 9],
  Where: [9, 16],
};

/** Ops removed from the default domain, and the opset that removed them. */
export const OP_REMOVED: Readonly<Record<string, number>> = { Upsample: 10 };

/** The op version in effect at `opset` (the largest `since` <= opset); undefined if the op is newer or removed. */
export function opVersion(op: string, opset: number): number | undefined {
  const vs = OP_VERSIONS[op];
  if (!vs) return opset;
  if (OP_REMOVED[op] !== undefined && opset >= OP_REMOVED[op]!) return undefined;
  let v: number | undefined;
  for (const s of vs) if (s <= opset) v = s;
  return v;
}

interface VersionRule {
  ops: readonly string[];
  /** Op versions covered, inclusive. */
  from: number;
  to: number;
  handling: 'normalised' | 'ignored' | 'refused';
  /** What differs from the latest version (docs/onnx-ops.md, "Older opsets"). */
  differs: string;
  /** For refused rows: why this node cannot be imported, or undefined when it can. */
  refuse?(node: OnnxNode): string | undefined;
}

const intAttr = (n: OnnxNode, name: string, def: number): number => {
  const a = n.attributes.get(name);
  return a?.kind === 'int' ? Number(a.value) : def;
};
const has = (n: OnnxNode, name: string) => n.attributes.has(name);

const UNARY_V1 = [
  'Abs',
  'Ceil',
  'Elu',
  'Exp',
  'Floor',
  'HardSigmoid',
  'LeakyRelu',
  'Log',
  'Neg',
  'PRelu',
  'Reciprocal',
  'Relu',
  'Selu',
  'Sigmoid',
  'Sqrt',
  'Tanh',
];

/** What differs in older versions, op by op (the latest version of each op is what the IR implements). */
export const RULES: readonly VersionRule[] = [
  {
    ops: [...UNARY_V1, 'Add', 'Sub', 'Mul', 'Div', 'Clip', 'Max', 'Min', 'Sum', 'Reshape'],
    from: 1,
    to: 1,
    handling: 'ignored',
    differs: '`consumed_inputs`, a legacy optimisation hint (which inputs a runtime may overwrite); no effect on the values',
  },
  {
    ops: ['Add', 'Sub', 'Mul', 'Div'],
    from: 1,
    to: 6,
    handling: 'normalised',
    differs:
      'limited broadcasting: without `broadcast` = 1 the shapes must be equal; with it B is aligned with A at `axis` (suffix when absent); the importer reshapes B so that NumPy broadcasting gives the same',
  },
  { ops: ['Pow', 'Equal', 'Less', 'Greater'], from: 1, to: 1, handling: 'normalised', differs: 'the same limited broadcasting (`broadcast`, `axis`)' },
  {
    ops: ['Gemm'],
    from: 1,
    to: 6,
    handling: 'ignored',
    differs: '`broadcast` for C: C broadcasts to [M, N] as in Gemm-7 (a shape that was valid then gives the same values)',
  },
  {
    ops: ['Max', 'Min', 'Sum'],
    from: 1,
    to: 6,
    handling: 'ignored',
    differs: 'no broadcasting (the shapes must be equal, a special case of the NumPy broadcasting of later versions)',
  },
  {
    ops: ['PRelu'],
    from: 1,
    to: 6,
    handling: 'normalised',
    differs: 'a 1-D slope of C values applies per channel (axis 1); the importer reshapes it to [C, 1, ...] for NumPy broadcasting',
  },
  {
    ops: ['BatchNormalization', 'Dropout'],
    from: 1,
    to: 6,
    handling: 'refused',
    differs: '`is_test` (default 0): 0 is training mode (batch statistics, random dropout); 1 is inference, which tritc runs',
    refuse: (n) =>
      intAttr(n, 'is_test', 0) === 0
        ? `is_test = ${has(n, 'is_test') ? 0 : '0 (the default)'} is training mode (${n.opType === 'Dropout' ? 'random dropout' : "the batch's own statistics"}); tritc runs inference only: export the model in eval mode, or set is_test = 1`
        : undefined,
  },
  {
    ops: ['BatchNormalization'],
    from: 1,
    to: 7,
    handling: 'refused',
    differs: '`spatial` = 0: mean and variance per activation (scale, B, mean, var of shape [C, D1, ...]); 1 (the default) is the latest semantics',
    refuse: (n) => (intAttr(n, 'spatial', 1) !== 1 ? 'spatial = 0 (statistics per activation, not per channel) is not supported' : undefined),
  },
  { ops: ['BatchNormalization', 'Dropout'], from: 1, to: 13, handling: 'ignored', differs: 'training-only outputs: an error only if something reads them' },
  { ops: ['Clip'], from: 1, to: 6, handling: 'normalised', differs: '`min` and `max` are attributes (inputs from Clip-11)' },
  { ops: ['Reshape'], from: 1, to: 1, handling: 'normalised', differs: '`shape` is an attribute (an input from Reshape-5)' },
  { ops: ['Concat'], from: 1, to: 1, handling: 'normalised', differs: '`axis` is optional, default 1 (required from Concat-4)' },
  { ops: ['Cast'], from: 1, to: 1, handling: 'normalised', differs: '`to` is a type name string ("FLOAT", "INT64", ...) rather than a DataType code' },
  { ops: ['Slice'], from: 1, to: 1, handling: 'normalised', differs: '`starts`, `ends`, `axes` are attributes, no `steps` (inputs from Slice-10)' },
  {
    ops: ['Split'],
    from: 1,
    to: 11,
    handling: 'normalised',
    differs: '`split` is an attribute (Split-1: or a second input); an input from Split-13, `num_outputs` from Split-18',
  },
  { ops: ['Squeeze', 'Unsqueeze'], from: 1, to: 11, handling: 'normalised', differs: '`axes` is an attribute (an input from 13)' },
  {
    ops: ['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceSum'],
    from: 1,
    to: 17,
    handling: 'normalised',
    differs: "`axes` is an attribute (an input from ReduceSum-13 and the others' 18)",
  },
  {
    ops: ['Softmax', 'LogSoftmax'],
    from: 1,
    to: 11,
    handling: 'normalised',
    differs: 'the input is coerced to 2-D around `axis` (default 1) and normalised per row',
  },
  { ops: ['ArgMax', 'ArgMin'], from: 1, to: 11, handling: 'normalised', differs: 'no `select_last_index` (the first index, its default)' },
  { ops: ['Pad'], from: 1, to: 10, handling: 'normalised', differs: '`pads` (Pad-1: `paddings`) and `value` are attributes (inputs from Pad-11), no `axes`' },
  { ops: ['Tile'], from: 1, to: 5, handling: 'normalised', differs: 'inputs `tiles` and `axis` (one axis repeated) instead of `repeats`' },
  { ops: ['TopK'], from: 1, to: 10, handling: 'normalised', differs: '`k` is an attribute (TopK-1), no `largest`/`sorted` (largest, sorted)' },
  {
    ops: ['Upsample'],
    from: 7,
    to: 9,
    handling: 'normalised',
    differs: 'Resize with coordinate_transformation_mode "asymmetric", nearest_mode "floor" (Upsample-7: `scales` an attribute; Upsample-9: an input)',
  },
  {
    ops: ['Resize'],
    from: 10,
    to: 10,
    handling: 'normalised',
    differs: 'inputs X, scales only; coordinate_transformation_mode "asymmetric", nearest_mode "floor" (as Upsample)',
  },
  {
    ops: ['GRU', 'LSTM'],
    from: 1,
    to: 6,
    handling: 'ignored',
    differs: '`output_sequence`: whether Y is produced (tritc computes the outputs that are read)',
  },
  {
    ops: ['AveragePool', 'MaxPool'],
    from: 1,
    to: 9,
    handling: 'ignored',
    differs: 'fewer attributes (no `ceil_mode`, `dilations`; AveragePool-1 no `count_include_pad`), whose defaults are the older behaviour',
  },
];

/** The refused rows that apply to `node` at op version `version`: one reason per row. */
export function refusals(node: OnnxNode, version: number): string[] {
  const out: string[] = [];
  for (const r of RULES) {
    if (r.handling !== 'refused' || !r.ops.includes(node.opType) || version < r.from || version > r.to) continue;
    const why = r.refuse?.(node);
    if (why) out.push(why);
  }
  return out;
}
