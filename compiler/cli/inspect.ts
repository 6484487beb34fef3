// tritc inspect <model>: the layer table (op, kernel, shapes, params, bits, MACs, memory); api/inspect.ts
// does the work, this is its printout.

import { inspectModel, type LanguageModelSummary } from '../api/inspect.ts';
import { shapeStr } from '../ir.ts';
import { getTarget } from '../targets.ts';
import { formatBytes, formatCount, textTable } from '../util/format.ts';
import { MAX_SCRATCH_OPTION, type Command, LM_OPTIONS, SHAPE_OPTIONS } from './command.ts';

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'show the layer table: ops, kernels, shapes, params, bits, MACs, memory',
  usage: 'tritc inspect <model> [--target <target>] [--kernel <spec>] [--max-scratch <bytes>]',
  description: `Reads and checks <model>, plans it for the target (default host) and prints one row per layer
in schedule order: op, the kernel and packing the compiler chose (and why, below the table), output
shape, parameters (weight
elements), bits per parameter (scales and biases included), multiply-accumulates, weight bytes and
the arena bytes live during the layer. Then the totals and whether the model fits the target.`,
  positionals: { min: 1, max: 1 },
  options: {
    ...SHAPE_OPTIONS,
    ...LM_OPTIONS,
    'no-lowbit': { type: 'boolean', help: 'ONNX: keep weights float32 (no ternary/binary detection, no folding into low-bit layers)' },
    target: { type: 'string', short: 't', valueName: 'target', help: 'target whose kernels and memory to use (default host)' },
    kernel: {
      type: 'string',
      valueName: 'spec',
      help: 'kernel or weight format for the low-bit layers: an id or format for all (t5, t5w.lut), or node=kernel pairs (docs/kernels.md)',
    },
    'max-scratch': MAX_SCRATCH_OPTION,
  },
  async run(args, io) {
    const r = inspectModel(args.positionals[0]!, args);
    if (args.json) {
      io.out(JSON.stringify(r, null, 2));
      return 0;
    }
    const target = getTarget(r.target);
    io.out(`${r.model} (${r.source}) for ${r.target}`);
    if (r.languageModel) io.out(lmText(r.languageModel, r.weightsBytes));
    const rows: (string | number)[][] = [['step', 'node', 'op', 'kernel', 'output', 'params', 'bits', 'MACs', 'weights', 'live']];
    for (const l of r.layers) {
      const o = l.outputs[0]!;
      const ann = Object.entries(l.annotations)
        .filter(([k]) => k !== 'kernel' && k !== 'why')
        .map(([k, v]) => (k === 'scratch' ? `scratch: ${formatBytes(Number(v))}` : `${k}: ${v}`));
      rows.push([
        l.step,
        l.node,
        l.op,
        `${l.kernel}${ann.length ? ` [${ann.join('; ')}]` : ''}`,
        `${o.dtype} ${shapeStr(o.shape)}`,
        l.params ? formatCount(l.params) : '—',
        l.bitsPerParam === null ? '—' : l.bitsPerParam.toFixed(2),
        l.macs ? formatCount(l.macs) : '—',
        l.weightBytes ? formatBytes(l.weightBytes) : '—',
        formatBytes(l.liveBytes),
      ]);
    }
    io.out(textTable(rows));
    const why = r.layers.filter((l) => l.annotations.why !== undefined);
    if (why.length) io.out(['kernel choices:', ...why.map((l) => `  ${l.node}: ${l.annotations.why}`)].join('\n'));
    io.out(
      `totals: ${formatCount(r.params)} ${r.languageModel ? 'weight' : 'low-bit'} parameters, ${formatCount(r.macs)} MACs, weights ${formatBytes(r.weightsBytes)} (const), arena ${formatBytes(r.arenaBytes)} (lower bound ${formatBytes(r.arenaLowerBound)}), inputs/outputs ${formatBytes(r.ioBytes)}`,
    );
    io.out(`memory: ${r.fit}${target.memory ? ` (${target.name}: ${formatBytes(target.memory.flash)} flash, ${formatBytes(target.memory.ram)} RAM)` : ''}`);
    return 0;
  },
};

/** The language model's lines above the table. */
function lmText(s: LanguageModelSummary, weightsBytes: number): string {
  return [
    `language model: ${s.architecture} (${s.format}), ${s.layers} layers, dim ${s.dim}, ${s.heads} heads / ${s.kvHeads} KV heads, FFN ${s.ffn}, vocabulary ${s.vocab}, RoPE ${s.rope}, tied head: ${s.tiedOutput}`,
    `  activations into the ternary and int8 layers: ${s.activations}; KV cache: ${s.kvCache}, ${s.context} positions: ${formatBytes(s.kvCacheBytesPerToken)} per token, ${formatBytes(s.kvCacheBytes)} in all (in the arena); ${s.chunk} tokens per call`,
    ...Object.entries(s.weights).map(
      ([k, e]) =>
        `  ${k.padEnd(10)} weights: ${formatCount(e.params)} parameters in ${e.tensors} tensors, ${formatBytes(e.bytes)}, ${e.bitsPerWeight.toFixed(3)} bits per weight (scales, zero points and biases included)`,
    ),
    `  weights in all: ${formatBytes(weightsBytes)} as emitted (packed for the chosen kernels)`,
    ...(s.moe
      ? [
          `  mixture of experts: ${s.moe.experts} routed experts per layer, top-${s.moe.topK} per token; ${formatCount(s.moe.paramsPerExpertLayer)} parameters per expert and layer`,
          `  flash per expert (all layers): ${s.moe.flashPerExpert.map((b, e) => `#${e} ${formatBytes(b)}`).join(', ')}`,
          `  active parameters per token: ${formatCount(s.moe.activeParamsPerToken)} of ${formatCount(s.moe.params)} (routed experts: ${s.moe.topK} of ${s.moe.experts} per layer; the shared expert, attention, embedding and head always)`,
        ]
      : []),
  ].join('\n');
}
