// inspect(): a model read, checked and planned for a target, without building it: one entry per layer
// in schedule order (op, kernel and why, output, parameters, bits, MACs, weights, live arena bytes),
// the totals and whether it fits. `tritc inspect` is this and a printout.

import { bytesOpt, loadOptions, stringOpt, type ParsedArgs } from '../cli/command.ts';
import { checkFit, compileGraph, type Compiled } from '../compile.ts';
import { fail, TritcError, formatDiagnostic } from '../diagnostics.ts';
import { elementCount, tensorBytes, type Graph, type Tensor } from '../ir.ts';
import { planesOf, weightBytes } from '../ops/lm/weights.ts';
import { fairy2iBytes } from '../ops/lm/widely_linear.ts';
import { loadModel } from '../readers/index.ts';
import { getTarget } from '../targets.ts';
import { namingOptions, toArgs } from './args.ts';
import type { ModelOptions } from './types.ts';

export type InspectLayer = Compiled['layers'][number] & {
  /** Elements of the layer's weight matrix (low-bit layers; in a language model every projection). */
  params: number;
  /** Weight bytes x 8 / params, scales and biases included; null without parameters. */
  bitsPerParam: number | null;
};

/** A language model's shape, semantics, KV cache and weights by kind. */
export interface LanguageModelSummary {
  [key: string]: unknown;
  vocab: number;
  context: number;
  kvCacheBytesPerToken: number;
  kvCacheBytes: number;
  weights: Record<string, { params: number; bytes: number; tensors: number; bitsPerWeight: number }>;
  /** A mixture of experts (MoTE): flash per routed expert and the parameters a token reads. */
  moe?: MoeSummary;
}

interface MoeSummary {
  experts: number;
  topK: number;
  paramsPerExpertLayer: number;
  /** Bytes of each routed expert's weights over all layers. */
  flashPerExpert: number[];
  activeParamsPerToken: number;
  params: number;
}

export interface InspectResult {
  model: string;
  source: string;
  target: string;
  /** "fits", or why the model does not fit the target's memory. */
  fit: string;
  weightsBytes: number;
  arenaBytes: number;
  arenaLowerBound: number;
  ioBytes: number;
  /** Distinct weight parameters (a tied head counts once) and multiply-accumulates per inference. */
  params: number;
  macs: number;
  languageModel?: LanguageModelSummary;
  layers: InspectLayer[];
}

export interface InspectOptions extends ModelOptions {
  target?: string;
  kernel?: string;
  maxScratch?: number | string;
}

const INSPECT_FLAGS = [
  'target',
  'kernel',
  'max-scratch',
  'input-shape',
  'batch',
  'no-lowbit',
  'context',
  'chunk',
  'kv-cache',
  'activations',
  'weights',
  'ternarize',
  'tokenizer',
  'deltas',
] as const;

/** What `tritc inspect` does, from its parsed arguments. */
export function inspectModel(path: string, args: ParsedArgs): InspectResult {
  const target = getTarget(stringOpt(args, 'target') ?? 'host');
  const load = loadOptions(args);
  if (stringOpt(args, 'delta') !== undefined)
    fail(
      'usage',
      '--delta',
      'a delta is applied at run time: compile with --deltas, then load the blob with <prefix>_load_delta (tritc run and generate take --delta)',
    );
  const graph = loadModel(path, load);
  const c = compileGraph(graph, {
    target,
    lowBit: load.lowBit,
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
  // Parameters: the elements of a layer's weight matrices (low-bit layers and Linear, an ONNX model's
  // b-bit layers; in a language model every projection, the embedding, the head, the routers and
  // every routed expert, whatever their kind).
  const weightsOf = (node: (typeof graph.nodes)[number]) => {
    if (['TernaryLinear', 'BinaryLinear', 'TernaryConv', 'BinaryConv', 'Linear', 'Int8Linear'].includes(node.op)) return [graph.tensors.get(node.inputs[1]!)!];
    if (graph.lm && ['Embed', 'Router', 'WidelyLinear'].includes(node.op)) return [graph.tensors.get(node.inputs[1]!)!];
    if (graph.lm && node.op === 'ExpertLinear') return node.inputs.slice(2).map((w) => graph.tensors.get(w)!);
    return [];
  };
  const layers = c.layers.map((l) => {
    const params = weightsOf(graph.nodes[l.step]!).reduce((a, w) => a + paramsOf(w), 0);
    return { ...l, params, bitsPerParam: params ? (l.weightBytes * 8) / params : null };
  });
  // Distinct weights (a tied head reads the embedding again; the routed slots read the same experts).
  const counted = new Set<string>();
  const totalParams = graph.nodes.reduce((a, n) => {
    for (const w of weightsOf(n)) {
      if (counted.has(w.name)) continue;
      counted.add(w.name);
      a += paramsOf(w);
    }
    return a;
  }, 0);
  return {
    model: graph.name,
    source: graph.source,
    target: target.name,
    fit,
    weightsBytes: c.weightsBytes,
    arenaBytes: c.plan.arenaBytes,
    arenaLowerBound: c.plan.lowerBound,
    ioBytes: c.ioBytes,
    params: totalParams,
    macs: layers.reduce((a, l) => a + l.macs, 0),
    ...(graph.lm ? { languageModel: lmSummary(graph) } : {}),
    layers,
  };
}

/** Read, check and plan `model` for a target: its layers, kernels, memory and whether it fits. */
export function inspect(model: string, options: InspectOptions = {}): Promise<InspectResult> {
  return namingOptions(() => inspectModel(model, toArgs({ ...options }, INSPECT_FLAGS)));
}

/** Fairy2i codes [stages, U | W, N/2, K/2] (WidelyLinear's weight): the only 4-D uint8 constant. */
function isFairy2iCodes(t: Tensor): boolean {
  return t.kind === 'constant' && t.dtype === 'uint8' && t.shape.length === 4;
}

/** The real parameters a weight stands for: Fairy2i codes of S stages stand for N x K. */
function paramsOf(w: Tensor): number {
  return isFairy2iCodes(w) ? (elementCount(w.shape) / w.shape[0]!) * 2 : elementCount(w.shape);
}

/** What `inspect` says about a language model: its shape, semantics, cache and weights by kind. */
function lmSummary(g: Graph): LanguageModelSummary {
  const lm = g.lm!;
  const caches = [...g.tensors.values()].filter((t) => t.kind === 'state');
  const cacheBytes = caches.reduce((a, t) => a + tensorBytes(t), 0);
  const kinds = new Map<string, { params: number; bytes: number; tensors: number }>();
  for (const t of g.tensors.values()) {
    if (isFairy2iCodes(t)) {
      const e = kinds.get(`fairy2i x${t.shape[0]}`) ?? { params: 0, bytes: 0, tensors: 0 };
      e.params += paramsOf(t);
      e.tensors++;
      e.bytes += fairy2iBytes(t);
      kinds.set(`fairy2i x${t.shape[0]}`, e);
      continue;
    }
    // Weight matrices: 2-D constants, or ternary trit-planes [P, N, K]; not the RoPE tables.
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
  return {
    ...lm.summary,
    vocab: lm.vocab,
    context: lm.context,
    kvCacheBytesPerToken: cacheBytes / lm.context,
    kvCacheBytes: cacheBytes,
    weights: Object.fromEntries([...kinds].map(([k, e]) => [k, { ...e, bitsPerWeight: (e.bytes * 8) / e.params }])),
    ...(lm.moe ? { moe: moeSummary(g, lm.moe) } : {}),
  };
}

/**
 * A mixture of experts: flash per routed expert (its gate, up and down weights summed over the layers),
 * and the parameters a token reads: every weight matrix but the routed experts, plus top-k of them per
 * layer (the embedding counted whole, as the other totals count it).
 */
function moeSummary(g: Graph, moe: { topK: number; experts: string[][][] }): MoeSummary {
  const experts = moe.experts[0]?.length ?? 0;
  const bytes = Array.from({ length: experts }, () => 0);
  let expertParams = 0;
  let perLayerExpert = 0;
  moe.experts.forEach((layer) =>
    layer.forEach((names, e) => {
      const ts = names.map((n) => g.tensors.get(n)!);
      bytes[e]! += ts.reduce((a, t) => a + weightBytes(t), 0);
      const p = ts.reduce((a, t) => a + elementCount(t.shape) / planesOf(t), 0);
      expertParams += p;
      perLayerExpert = Math.max(perLayerExpert, p);
    }),
  );
  const routed = new Set(moe.experts.flat(2));
  let other = 0;
  for (const t of g.tensors.values()) {
    if (t.kind !== 'constant' || t.name.startsWith('rope_') || routed.has(t.name) || !(t.shape.length === 2 || (t.shape.length === 3 && t.dtype === 'ternary')))
      continue;
    other += elementCount(t.shape) / planesOf(t);
  }
  return {
    experts,
    topK: moe.topK,
    paramsPerExpertLayer: perLayerExpert,
    flashPerExpert: bytes,
    activeParamsPerToken: other + (expertParams / experts) * moe.topK,
    params: other + expertParams,
  };
}
