// tritc inspect <model>: the layer table (op, kernel, shapes, params, bits, MACs, memory).

import { checkFit, compileGraph } from '../compile.ts';
import { TritcError, formatDiagnostic } from '../diagnostics.ts';
import { loadModel } from '../readers/index.ts';
import { elementCount, nodeReads, shapeStr } from '../ir.ts';
import { getTarget } from '../targets.ts';
import { formatBytes, formatCount, textTable } from '../util/format.ts';
import { bytesOpt, MAX_SCRATCH_OPTION, stringOpt, type Command, LM_OPTIONS, loadOptions } from './command.ts';

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
    ...LM_OPTIONS,
    'no-lowbit': { type: 'boolean', help: 'ONNX: keep weights float32 (no ternary/binary detection, no folding into low-bit layers)' },
    target: { type: 'string', short: 't', valueName: 'target', help: 'target whose kernels and memory to use (default host)' },
    kernel: { type: 'string', valueName: 'spec', help: 'kernel or weight format for the low-bit layers: an id or format for all (t5, t5w.lut), or node=kernel pairs (docs/kernels.md)' },
    'max-scratch': MAX_SCRATCH_OPTION,
  },
  async run(args, io) {
    const target = getTarget(stringOpt(args, 'target') ?? 'host');
    const load = loadOptions(args);
    const lowBit = load.lowBit;
    const graph = loadModel(args.positionals[0]!, load);
    const c = compileGraph(graph, { target, lowBit, verify: true, skipFitCheck: true, kernel: stringOpt(args, 'kernel'), maxScratch: bytesOpt(args, 'max-scratch') });
    let fit = 'fits';
    try {
      checkFit(c);
    } catch (e) {
      if (!(e instanceof TritcError)) throw e;
      fit = e.diagnostics.map(formatDiagnostic).join('; ');
    }
    const layers = c.layers.map((l) => {
      const node = graph.nodes[l.step]!;
      const params = nodeReads(graph, node)
        .map((t) => graph.tensors.get(t)!)
        .filter((t) => t.kind === 'constant' && (t.dtype === 'ternary' || t.dtype === 'binary' || t.dtype === 'float32' || t.dtype === 'int8'))
        .filter((t) => !node.inputs.every((i) => graph.tensors.get(i)?.quant?.scale !== t.name) || node.inputs.includes(t.name))
        .reduce((a, t) => a + (t.dtype === 'ternary' || t.dtype === 'binary' ? elementCount(t.shape) : 0), 0);
      return { ...l, params, bitsPerParam: params ? (l.weightBytes * 8) / params : null };
    });
    const totalParams = layers.reduce((a, l) => a + l.params, 0);
    const totalMacs = layers.reduce((a, l) => a + l.macs, 0);
    if (args.json) {
      io.out(JSON.stringify({ model: graph.name, source: graph.source, target: target.name, fit, weightsBytes: c.weightsBytes, arenaBytes: c.plan.arenaBytes, arenaLowerBound: c.plan.lowerBound, ioBytes: c.ioBytes, params: totalParams, macs: totalMacs, layers }, null, 2));
      return 0;
    }
    io.out(`${graph.name} (${graph.source}) for ${target.name}`);
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
      `totals: ${formatCount(totalParams)} low-bit parameters, ${formatCount(totalMacs)} MACs, weights ${formatBytes(c.weightsBytes)} (const), arena ${formatBytes(c.plan.arenaBytes)} (lower bound ${formatBytes(c.plan.lowerBound)}), inputs/outputs ${formatBytes(c.ioBytes)}`,
    );
    io.out(`memory: ${fit}${target.memory ? ` (${target.name}: ${formatBytes(target.memory.flash)} flash, ${formatBytes(target.memory.ram)} RAM)` : ''}`);
    return 0;
  },
};
