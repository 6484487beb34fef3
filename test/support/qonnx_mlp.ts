// A QONNX MLP as Brevitas exports one: each layer is Quant(weight) -> MatMul -> Add(bias) -> Relu ->
// Quant(activation), the last layer without Relu and activation Quant. Weights are random floats
// quantised by the model's own Quant nodes (b bits, signed or not, narrow or not, scale per tensor or
// per output channel); activations optionally by a Quant of 8 bits (signed, or unsigned after Relu).

import { rng } from '../../compiler/harness/inputs.ts';
import { encodeOnnxModel, type NodeSpec, type TensorSpec } from '../../compiler/readers/onnx/write.ts';

export interface QonnxMlpOptions {
  /** Layer widths, input first: [490, 256, 256, 12] is a keyword-spotting MLP. */
  dims: number[];
  /** Weight bits per layer (2 to 8). */
  bits: number[];
  signed?: boolean;
  narrow?: boolean;
  perChannel?: boolean;
  /** A weight zero point (QONNX zeropt; 0 by default). */
  zeroPoint?: number;
  /** Quantise the input and the hidden activations to 8-bit codes: signed, or unsigned after Relu. */
  activations?: 'none' | 'int8' | 'uint8';
  seed?: number;
}

export function qonnxMlp(o: QonnxMlpOptions): Uint8Array {
  const r = rng(o.seed ?? 1);
  const signed = o.signed ?? true;
  const inits: (TensorSpec & { name: string })[] = [];
  const nodes: NodeSpec[] = [];
  const scalar = (name: string, v: number) => inits.push({ name, dtype: 'float32', shape: [], data: [v] });
  const actQuant = (x: string, out: string, unsigned: boolean) => {
    scalar(`${out}.s`, 2 ** -5);
    scalar(`${out}.z`, 0);
    scalar(`${out}.b`, 8);
    nodes.push({
      op: 'Quant',
      domain: 'qonnx.custom_op.general',
      inputs: [x, `${out}.s`, `${out}.z`, `${out}.b`],
      outputs: [out],
      attrs: { signed: unsigned ? 0 : 1, narrow: 0, rounding_mode: 'ROUND' },
    });
  };
  let cur = 'x';
  if (o.activations && o.activations !== 'none') {
    actQuant(cur, 'x.q', false);
    cur = 'x.q';
  }
  const layers = o.dims.length - 1;
  for (let l = 0; l < layers; l++) {
    const [k, n] = [o.dims[l]!, o.dims[l + 1]!];
    const w = new Float32Array(k * n).map(() => (r() * 2 - 1) * 0.2);
    inits.push({ name: `w${l}`, dtype: 'float32', shape: [k, n], data: w });
    const levels = 2 ** (o.bits[l]! - 1);
    const scales = Array.from({ length: o.perChannel ? n : 1 }, () => Math.fround((0.2 / levels) * (0.5 + r())));
    inits.push({ name: `w${l}.s`, dtype: 'float32', shape: o.perChannel ? [1, n] : [], data: scales });
    scalar(`w${l}.z`, o.zeroPoint ?? 0);
    scalar(`w${l}.b`, o.bits[l]!);
    nodes.push({
      op: 'Quant',
      domain: 'qonnx.custom_op.general',
      inputs: [`w${l}`, `w${l}.s`, `w${l}.z`, `w${l}.b`],
      outputs: [`w${l}.q`],
      attrs: { signed: signed ? 1 : 0, narrow: o.narrow ? 1 : 0, rounding_mode: 'ROUND' },
    });
    inits.push({ name: `b${l}`, dtype: 'float32', shape: [n], data: new Float32Array(n).map(() => (r() * 2 - 1) * 0.1) });
    nodes.push({ op: 'MatMul', name: `fc${l}`, inputs: [cur, `w${l}.q`], outputs: [`mm${l}`] });
    const last = l === layers - 1;
    nodes.push({ op: 'Add', inputs: [`mm${l}`, `b${l}`], outputs: [last ? 'y' : `a${l}`] });
    if (last) break;
    nodes.push({ op: 'Relu', inputs: [`a${l}`], outputs: [`r${l}`] });
    cur = `r${l}`;
    if (o.activations && o.activations !== 'none') {
      actQuant(cur, `r${l}.q`, o.activations === 'uint8');
      cur = `r${l}.q`;
    }
  }
  return encodeOnnxModel({
    opset: 13,
    opsets: { 'qonnx.custom_op.general': 1 },
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, o.dims[0]!] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, o.dims[o.dims.length - 1]!] }],
    initializers: inits,
    nodes,
  });
}
