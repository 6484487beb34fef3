// The op registry: every op the reader accepts, the interpreter runs and the emitter compiles.

import { Add } from './add.ts';
import { ArgMax, ArgMin } from './argmax.ts';
import { DequantizeInt8 } from './dequantize_int8.ts';
import { BinaryConv, TernaryConv } from './lowbit_conv.ts';
import { BinaryLinear, TernaryLinear } from './lowbit_linear.ts';
import type { OpDef } from './op.ts';
import { QuantizeInt8 } from './quantize_int8.ts';
import { QuantizeStatic } from './quantize_static.ts';
import { Relu } from './relu.ts';
import { TruncStatic } from './trunc_static.ts';
import { Softmax } from './softmax.ts';
import { ActQuant } from './lm/act_quant.ts';
import { Attention } from './lm/attention.ts';
import { DeltaAdd } from './lm/delta_add.ts';
import { Embed } from './lm/embed.ts';
import { GatedAct } from './lm/gated_act.ts';
import { Int8Linear } from './lm/int8_linear.ts';
import { Linear } from './lm/linear.ts';
import { ExpertLinear, MoeCombine, Router } from './lm/moe.ts';
import { PermuteColumns } from './lm/permute_columns.ts';
import { Residual } from './lm/residual.ts';
import { RmsNorm } from './lm/rms_norm.ts';
import { Rope } from './lm/rope.ts';
import { WidelyLinear } from './lm/widely_linear.ts';
import { Cast, Clip, Div, Equal, Greater, GreaterOrEqual, Less, LessOrEqual, Max, Min, Mul, Pow, Sub, Where } from './onnx/elementwise.ts';
import { Erf, Exp, Gelu, Log, Sigmoid, Sqrt, Tanh } from './onnx/unary.ts';
import { Abs, Ceil, Elu, Floor, HardSigmoid, HardSwish, LeakyRelu, Mish, PRelu, Round, Selu, Softplus, Softsign } from './onnx/activation.ts';
import { Gemm, MatMul } from './onnx/matmul.ts';
import { AveragePool, Conv, GlobalAveragePool, MaxPool } from './onnx/conv.ts';
import { ConvInteger, DequantizeLinear, MatMulInteger, QLinearConv, QLinearMatMul, QuantizeLinear } from './onnx/quant.ts';
import { BatchNormalization, LayerNormalization, LogSoftmax, ReduceMax, ReduceMean, ReduceMin, ReduceProd, ReduceSum } from './onnx/norm.ts';
import { Expand, Pad, Tile } from './onnx/pad.ts';
import { CumSum, ScatterND, TopK } from './onnx/index_ops.ts';
import { LRN } from './onnx/lrn.ts';
import { ConvTranspose } from './onnx/conv_transpose.ts';
import { Interpolate } from './onnx/resize.ts';
import { GRU, LSTM } from './onnx/rnn.ts';
import { Concat, Flatten, Gather, Reshape, Slice, Split, Squeeze, Transpose, Unsqueeze } from './onnx/shape.ts';

const registry = new Map<string, OpDef>(
  [
    // native ops (docs/format.md)
    QuantizeInt8,
    DequantizeInt8,
    TernaryLinear,
    BinaryLinear,
    Relu,
    Add,
    Softmax,
    ArgMax,
    // ONNX ops (docs/onnx-ops.md)
    Sub,
    Mul,
    Div,
    Pow,
    Max,
    Min,
    Clip,
    Where,
    Cast,
    Sqrt,
    Log,
    Exp,
    Erf,
    Sigmoid,
    Tanh,
    Gelu,
    Elu,
    LeakyRelu,
    Selu,
    HardSigmoid,
    HardSwish,
    Softplus,
    Softsign,
    Mish,
    Floor,
    Ceil,
    Round,
    Abs,
    PRelu,
    Less,
    Greater,
    Equal,
    LessOrEqual,
    GreaterOrEqual,
    Flatten,
    Reshape,
    Squeeze,
    Unsqueeze,
    Transpose,
    Slice,
    Concat,
    Split,
    Gather,
    Expand,
    Tile,
    Pad,
    CumSum,
    TopK,
    ScatterND,
    LRN,
    ConvTranspose,
    LSTM,
    GRU,
    MatMul,
    Gemm,
    ReduceMean,
    ReduceSum,
    ReduceMax,
    ReduceMin,
    ReduceProd,
    ArgMin,
    LayerNormalization,
    BatchNormalization,
    LogSoftmax,
    Conv,
    MaxPool,
    AveragePool,
    GlobalAveragePool,
    QuantizeLinear,
    DequantizeLinear,
    MatMulInteger,
    ConvInteger,
    QLinearMatMul,
    QLinearConv,
    // ops the ONNX importer adds (docs/onnx-ops.md)
    QuantizeStatic,
    TruncStatic,
    TernaryConv,
    BinaryConv,
    Interpolate,
    // language-model ops (docs/lm.md)
    Embed,
    RmsNorm,
    Linear,
    Int8Linear,
    WidelyLinear,
    Router,
    ExpertLinear,
    MoeCombine,
    PermuteColumns,
    DeltaAdd,
    ActQuant,
    Rope,
    Attention,
    GatedAct,
    Residual,
  ].map((d) => [d.op, d]),
);

export const OPS: ReadonlyMap<string, OpDef> = registry;

/** Add an op at run time (tests register synthetic ops to drive compiler hooks end to end). */
export function registerOp(def: OpDef): void {
  if (registry.has(def.op) && registry.get(def.op) !== def) throw new Error(`internal: op ${def.op} is already registered`);
  registry.set(def.op, def);
}

export function getOp(op: string): OpDef {
  const d = OPS.get(op);
  if (!d) throw new Error(`internal: unknown op ${op}`);
  return d;
}
