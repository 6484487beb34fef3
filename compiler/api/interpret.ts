// interpret(): a model run through tritc's reference interpreter (the definition every target's output
// is compared with), on files, arrays or seeded random inputs; no compiler, no target.

import { intOpt, loadOptions, stringOpt } from '../cli/command.ts';
import { fail } from '../diagnostics.ts';
import { loadInputRuns, randomRuns, randomTokenRuns, readTokenRuns } from '../harness/inputs.ts';
import { interpret as interpretGraph } from '../interpret.ts';
import { LmSession } from '../lm/session.ts';
import { loadModel } from '../readers/index.ts';
import type { ProgressFn } from '../util/progress.ts';
import { namingOptions, toArgs } from './args.ts';
import { memoryRuns } from './run.ts';
import type { InputsOption, ModelOptions, TensorData } from './types.ts';

export interface InterpretOptions extends ModelOptions {
  /** Inputs: files (as tritc run --inputs) or arrays by input name; default `count` seeded random runs. */
  inputs?: InputsOption;
  /** Language models: runs of token ids (or a .npy of them as `inputs`). */
  tokens?: readonly (readonly number[])[];
  count?: number;
  seed?: number;
  progress?: ProgressFn;
  /** Hears warnings, e.g. an input file of another dtype converted exactly (default: none). */
  warn?: (message: string) => void;
}

export type InterpretResult =
  | {
      kind: 'graph';
      model: string;
      /** Per run: the inputs used and every output, by name. */
      inputs: Record<string, TensorData>[];
      outputs: Record<string, TensorData>[];
    }
  | {
      kind: 'lm';
      model: string;
      tokens: number[][];
      /** Per run, per position: the vocabulary's logits (from an empty cache). */
      logits: Float32Array[][];
    };

const INTERPRET_FLAGS = [
  'inputs',
  'count',
  'seed',
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
] as const;

/** Run `model` through the reference interpreter. */
export function interpret(model: string, options: InterpretOptions = {}): Promise<InterpretResult> {
  const { progress, warn, inputs, tokens, ...rest } = options;
  const files = typeof inputs === 'string' || Array.isArray(inputs) ? (inputs as string | readonly string[]) : undefined;
  return namingOptions(() => {
    const args = toArgs({ ...rest, inputs: files }, INTERPRET_FLAGS);
    const graph = loadModel(model, loadOptions(args));
    const seed = intOpt(args, 'seed', 1);
    const count = intOpt(args, 'count', 3, 1);
    const spec = stringOpt(args, 'inputs');
    if (graph.lm) {
      const lm = graph.lm;
      const runs = tokens ? tokens.map((r) => [...r]) : spec ? readTokenRuns(spec, lm.vocab) : randomTokenRuns(graph, count, seed);
      for (const [i, r] of runs.entries())
        if (r.length === 0 || r.length > lm.context || r.some((v) => !(Number.isInteger(v) && v >= 0 && v < lm.vocab)))
          fail('usage', tokens ? 'tokens' : 'options.inputs', `run ${i}: expected 1 to ${lm.context} token ids in [0, ${lm.vocab})`);
      const session = new LmSession(graph);
      const logits = runs.map((r, i) => {
        progress?.('interpreting', { done: i, total: runs.length });
        session.reset();
        return session.forward(r);
      });
      return { kind: 'lm' as const, model: graph.name, tokens: runs, logits };
    }
    if (tokens) fail('usage', 'tokens', 'are for language models; this model takes inputs');
    const runs =
      inputs !== undefined && files === undefined
        ? memoryRuns(graph, inputs as Readonly<Record<string, TensorData | readonly TensorData[]>>)
        : spec
          ? loadInputRuns(graph, spec, warn).runs
          : randomRuns(graph, count, seed);
    const outputs = runs.map((r, i) => {
      progress?.('interpreting', { done: i, total: runs.length });
      return Object.fromEntries(interpretGraph(graph, r));
    });
    return { kind: 'graph' as const, model: graph.name, inputs: runs.map((r) => Object.fromEntries(r)), outputs };
  });
}
