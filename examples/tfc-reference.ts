// An independent check of tritc's QONNX lowering for the TFC models: the network evaluated straight
// from the ONNX initializers in float64, following the QONNX specs (Quant: clamp, then round half to
// even; BipolarQuant: x >= 0 ? +1 : -1), with BatchNorm applied as written (no folding), on all
// 10,000 MNIST test images. It shares no code with the importer but the protobuf decoder.
//   npx tsx examples/tfc-reference.ts TFC_2W2A|TFC_1W1A

import { readFileSync } from 'node:fs';
import { decodeModel } from '../compiler/readers/onnx/decode.ts';
import { tensorValues } from '../compiler/readers/onnx/tensor.ts';
import { loadMnistTest, mnistInput } from './data.ts';
import { tfcPath, type TfcModel } from './tfc.ts';

const model = (process.argv[2] ?? 'TFC_2W2A') as TfcModel;
const m = decodeModel(new Uint8Array(readFileSync(tfcPath(model))), model);
const init = new Map(m.graph.initializers.map((t) => [t.name, Array.from(tensorValues(t, t.name).data as Float32Array, Number)]));
const nodes = m.graph.nodes;
const bipolar = nodes.some((n) => n.opType === 'BipolarQuant');
// Every Quant of these models has scale 1, zero point 0, 2 bits, signed, narrow: codes {-1, 0, 1}.
const halfEven = (v: number) => (Math.abs(v - Math.trunc(v)) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v));
const quant = (v: number) => (bipolar ? (v >= 0 ? 1 : -1) : halfEven(Math.max(-1, Math.min(1, v))));
const weights = nodes.filter((n) => n.opType === 'Transpose').map((t) => init.get(nodes.find((n) => n.outputs[0] === t.inputs[0])!.inputs[0]!)!.map(quant)); // [N, K] rows
const bns = nodes.filter((n) => n.opType === 'BatchNormalization').map((n) => n.inputs.slice(1).map((i) => init.get(i)!));
const { pixels, labels, count } = loadMnistTest();
let correct = 0;
for (let i = 0; i < count; i++) {
  let x = Array.from(mnistInput(pixels, i), (v) => quant(v * 2 - 1));
  weights.forEach((w, l) => {
    const k = x.length;
    const y = Array.from({ length: w.length / k }, (_, n) => x.reduce((a, xv, j) => a + xv * w[n * k + j]!, 0));
    if (l < bns.length) {
      const [g, b, mu, v] = bns[l]! as [number[], number[], number[], number[]];
      x = y.map((a, n) => quant(((a - mu[n]!) / Math.sqrt(v[n]! + 1e-5)) * g[n]! + b[n]!));
    } else x = y; // the final TensorNorm is a positive affine map: it does not change the argmax
  });
  if (x.indexOf(Math.max(...x)) === labels[i]) correct++;
}
console.log(`${model}: float64 reference, no folding: ${correct} / ${count} = ${((100 * correct) / count).toFixed(2)} %`);
