// Every example model as a graph (the models the README shows): digits-mlp (native), the FINN TFC
// networks (QONNX), and stories260K ternarized (a decoder), for tests that build each one's C.

import { join } from 'node:path';
import type { Graph } from '../../compiler/ir.ts';
import { buildLmGraph } from '../../compiler/lm/build.ts';
import { ternarizeModel } from '../../compiler/lm/ternarize.ts';
import { readLlama2c } from '../../compiler/readers/llama2c/checkpoint.ts';
import { readModel } from '../../compiler/readers/native/read.ts';
import { SHARED_DATA } from '../../examples/data.ts';
import { loadTfc } from '../../examples/tfc.ts';

export interface ExampleGraph {
  name: string;
  graph: Graph;
}

export function exampleGraphs(): ExampleGraph[] {
  const stories = ternarizeModel(readLlama2c(join(SHARED_DATA, 'llama2c_stories260K', 'stories260K.bin')), { kind: 'per_tensor' });
  return [
    { name: 'digits-mlp', graph: readModel(join(import.meta.dirname, '../../examples/digits-mlp')) },
    { name: 'tfc-1w1a', graph: loadTfc('TFC_1W1A') },
    { name: 'tfc-2w2a', graph: loadTfc('TFC_2W2A') },
    { name: 'stories260k-m4', graph: buildLmGraph(stories, { context: 32, chunk: 4, kvCache: 'float16', activations: 'int8-per-token' }) },
  ];
}
