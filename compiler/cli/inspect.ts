// tritc inspect <model>: the layer table (op, kernel, shapes, params, bits, MACs, memory).

import { checkFit, compileGraph } from '../compile.ts';
import { TritcError, formatDiagnostic } from '../diagnostics.ts';
import { loadModel } from '../readers/index.ts';
import { elementCount, shapeStr, tensorBytes, type Graph } from '../ir.ts';
import { getTarget } from '../targets.ts';
import { formatBytes, formatCount, textTable } from '../util/format.ts';
import { bytesOpt, MAX_SCRATCH_OPTION, stringOpt, type Command, LM_OPTIONS, loadOptions, SHAPE_OPTIONS } from './command.ts';
import { planesOf, weightBytes } from '../ops/lm/weights.ts';
import { fairy2iBytes } from '../ops/lm/widely_linear.ts';

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
    const target = getTarget(stringOpt(args, 'target') ?? 'host');
    const load = loadOptions(args);
    const lowBit = load.lowBit;
    const graph = loadModel(args.positionals[0]!, load);
    const c = compileGraph(graph, {
      target,
      lowBit,
      verify: true,
      skipFitCheck: true,
      kernel: stringOpt(args, 'kernel'),
      maxScratch: bytesOpt(args, 'max-scratch'),
    });
    let fit = 'fits';
    try {
      checkFit(c);
    } catch (e) {
      if (!(e instanceof TritcError)) throw e;
      fit = e.diagnostics.map(formatDiagnostic).join('; ');
    }
    // Parameters: the elements of a layer's weight matrix (low-bit layers; in a language model every
    // projection, the embedding and the head, whatever their kind).
    const weightOf = (node: (typeof graph.nodes)[number]) => {
      if (['TernaryLinear', 'BinaryLinear', 'TernaryConv', 'BinaryConv'].includes(node.op)) return graph.tensors.get(node.inputs[1]!);
      if (graph.lm && (node.op === 'Linear' || node.op === 'Embed' || node.op === 'WidelyLinear')) return graph.tensors.get(node.inputs[1]!);
      return undefined;
    };
    // Fairy2i codes [stages, U | W, N/2, K/2] stand for a real [N, K] matrix.
    const paramsOf = (node: (typeof graph.nodes)[number], w: NonNullable<ReturnType<typeof weightOf>>) =>
      node.op === 'WidelyLinear' ? (elementCount(w.shape) / w.shape[0]!) * 2 : elementCount(w.shape);
    const layers = c.layers.map((l) => {
      const node = graph.nodes[l.step]!;
      const w = weightOf(node);
      const params = w ? paramsOf(node, w) : 0;
      return { ...l, params, bitsPerParam: params ? (l.weightBytes * 8) / params : null };
    });
    const lm = graph.lm ? lmSummary(graph, c.weightsBytes) : undefined;
    // Distinct weights (a tied head reads the embedding again).
    const counted = new Set<string>();
    const totalParams = graph.nodes.reduce((a, n) => {
      const w = weightOf(n);
      if (!w || counted.has(w.name)) return a;
      counted.add(w.name);
      return a + paramsOf(n, w);
    }, 0);
    const totalMacs = layers.reduce((a, l) => a + l.macs, 0);
    if (args.json) {
      io.out(
        JSON.stringify(
          {
            model: graph.name,
            source: graph.source,
            target: target.name,
            fit,
            weightsBytes: c.weightsBytes,
            arenaBytes: c.plan.arenaBytes,
            arenaLowerBound: c.plan.lowerBound,
            ioBytes: c.ioBytes,
            params: totalParams,
            macs: totalMacs,
            ...(lm ? { languageModel: lm.json } : {}),
            layers,
          },
          null,
          2,
        ),
      );
      return 0;
    }
    io.out(`${graph.name} (${graph.source}) for ${target.name}`);
    if (lm) io.out(lm.text);
    const rows: (string | number)[][] = [['step', 'node', 'op', 'kernel', 'output', 'params', 'bits', 'MACs', 'weights', 'live']];
    for (const l of layers) {
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
    const why = layers.filter((l) => l.annotations.why !== undefined);
    if (why.length) io.out(['kernel choices:', ...why.map((l) => `  ${l.node}: ${l.annotations.why}`)].join('\n'));
    io.out(
      `totals: ${formatCount(totalParams)} ${graph.lm ? 'weight' : 'low-bit'} parameters, ${formatCount(totalMacs)} MACs, weights ${formatBytes(c.weightsBytes)} (const), arena ${formatBytes(c.plan.arenaBytes)} (lower bound ${formatBytes(c.plan.lowerBound)}), inputs/outputs ${formatBytes(c.ioBytes)}`,
    );
    io.out(`memory: ${fit}${target.memory ? ` (${target.name}: ${formatBytes(target.memory.flash)} flash, ${formatBytes(target.memory.ram)} RAM)` : ''}`);
    return 0;
  },
};

/** What `inspect` says about a language model: its shape, semantics, cache and weights by kind. */
function lmSummary(g: Graph, weightsBytes: number): { text: string; json: Record<string, unknown> } {
  const lm = g.lm!;
  const caches = [...g.tensors.values()].filter((t) => t.kind === 'state');
  const cacheBytes = caches.reduce((a, t) => a + tensorBytes(t), 0);
  const perToken = cacheBytes / lm.context;
  const kinds = new Map<string, { params: number; bytes: number; tensors: number }>();
  for (const t of g.tensors.values()) {
    // Weight matrices: 2-D constants, or ternary trit-planes [P, N, K]; not the RoPE tables.
    if (t.kind === 'constant' && t.dtype === 'uint8' && t.shape.length === 4) {
      // Fairy2i codes [stages, U | W, N/2, K/2] of a real [N, K] matrix.
      const kind = `fairy2i x${t.shape[0]}`;
      const e = kinds.get(kind) ?? { params: 0, bytes: 0, tensors: 0 };
      e.params += (elementCount(t.shape) / t.shape[0]!) * 2;
      e.tensors++;
      e.bytes += fairy2iBytes(t);
      kinds.set(kind, e);
      continue;
    }
    if (t.kind !== 'constant' || t.name.startsWith('rope_') || !(t.shape.length === 2 || (t.shape.length === 3 && t.dtype === 'ternary'))) continue;
    const planes = planesOf(t);
    const kind =
      t.dtype === 'uint8' && t.quant
        ? `int${t.quant.bits ?? 8}${t.quant.granularity === 'per_group' ? ` g${t.quant.groupSize}` : ''}`
        : t.dtype === 'ternary' && planes > 1
          ? `ternary x${planes}`
          : t.dtype;
    const e = kinds.get(kind) ?? { params: 0, bytes: 0, tensors: 0 };
    const bias = g.tensors.get(`${t.name}.bias`);
    e.params += elementCount(t.shape) / planes;
    e.tensors++;
    e.bytes += weightBytes(t) + (bias ? tensorBytes(bias) : 0);
    kinds.set(kind, e);
  }
  const s = lm.summary;
  const lines = [
    `language model: ${s.architecture} (${s.format}), ${s.layers} layers, dim ${s.dim}, ${s.heads} heads / ${s.kvHeads} KV heads, FFN ${s.ffn}, vocabulary ${lm.vocab}, RoPE ${s.rope}, tied head: ${s.tiedOutput}`,
    `  activations into the ternary layers: ${s.activations}; KV cache: ${s.kvCache}, ${lm.context} positions: ${formatBytes(perToken)} per token, ${formatBytes(cacheBytes)} in all (in the arena); ${s.chunk} tokens per call`,
    ...[...kinds].map(
      ([k, e]) =>
        `  ${k.padEnd(10)} weights: ${formatCount(e.params)} parameters in ${e.tensors} tensors, ${formatBytes(e.bytes)}, ${((e.bytes * 8) / e.params).toFixed(3)} bits per weight (scales, zero points and biases included)`,
    ),
    `  weights in all: ${formatBytes(weightsBytes)} as emitted (packed for the chosen kernels)`,
  ];
  return {
    text: lines.join('\n'),
    json: {
      ...s,
      vocab: lm.vocab,
      context: lm.context,
      kvCacheBytesPerToken: perToken,
      kvCacheBytes: cacheBytes,
      weights: Object.fromEntries([...kinds].map(([k, e]) => [k, { ...e, bitsPerWeight: (e.bytes * 8) / e.params }])),
    },
  };
}
