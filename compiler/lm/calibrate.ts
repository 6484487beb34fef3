// Calibration for the post-training quantizers (`tritc quantize`, bench:formats): token sequences
// sampled from the model itself, and what goes into each projection when the model reads them.
//
// Sequences come from the model's own distribution (seeded, temperature 1, no truncation), so a
// model without a corpus can still be calibrated and evaluated, and the same seed gives the same
// sequences on every machine. Inputs are captured in the interpreter from the graph's Linear nodes
// (float activations), one row per token, keyed by the model tensor the projection reads.

import { buildLmGraph } from './build.ts';
import type { LmModel } from './model.ts';
import { sampleToken, seedRng } from './sample.ts';
import { LmSession } from './session.ts';

export interface SampleSequencesOptions {
  count: number;
  /** Tokens per sequence, the first included. */
  length: number;
  seed: number;
  /** The first token of every sequence (default: the tokenizer's BOS, else 1). */
  first?: number;
}

/** `count` sequences of `length` tokens sampled from the model's own next-token distribution. */
export function sampleSequences(model: LmModel, opts: SampleSequencesOptions): number[][] {
  const length = Math.min(opts.length, model.config.contextLength);
  const session = new LmSession(buildLmGraph(model, { context: length, chunk: 16 }));
  const rng = seedRng(opts.seed);
  const first = opts.first ?? model.tokenizer?.bos ?? 1;
  const out: number[][] = [];
  for (let s = 0; s < opts.count; s++) {
    session.reset();
    const seq = [first];
    let logits = session.prefill(seq);
    while (seq.length < length) {
      const t = sampleToken(logits, { temperature: 1, topK: 0, topP: 0 }, rng);
      seq.push(t);
      if (seq.length < length) logits = session.decode(t);
    }
    out.push(seq);
  }
  return out;
}

/**
 * Run `sequences` through the float model and hand every projection's input rows to `onRows`:
 * `weight` is the model tensor name (blk.3.ffn_down, output), `x` holds `rows` rows of `k` values.
 * Projections that share an input (q, k, v) each get it.
 */
export function captureProjectionInputs(
  model: LmModel,
  sequences: readonly number[][],
  onRows: (weight: string, x: Float32Array, rows: number, k: number) => void,
): void {
  const length = Math.max(1, ...sequences.map((s) => s.length));
  const graph = buildLmGraph(model, { context: length, chunk: 16, activations: 'float' });
  const session = new LmSession(graph, (node, inputs, rows) => {
    if (node.op !== 'Linear') return;
    const x = inputs[0] as Float32Array;
    const xT = graph.tensors.get(node.inputs[0]!)!;
    const k = xT.shape[1]!;
    // Rows this call ran: 'all' from row 0; the head ('out' after a 'last' norm) its first nOut.
    const n = !rows ? xT.shape[0]! : node.attrs.rows === 'out' ? rows.nOut : rows.n;
    if (n > 0) onRows(node.inputs[1]!, x.subarray(0, n * k), n, k);
  });
  for (const seq of sequences) {
    session.reset();
    session.forward(seq);
  }
}
