import { fail } from '../diagnostics.ts';
import { parseByteCount } from '../util/format.ts';
import type { ProgressAt } from '../util/progress.ts';

// What a command declares, and how it talks to the terminal (injectable, so tests can capture it).

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** A transient status line (only on a terminal), with a bar when the work's size is known. */
  progress(text: string, at?: ProgressAt): void;
  endProgress(): void;
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  valueName?: string;
  help: string;
  /** May be given several times (the value is then a list). */
  multiple?: boolean;
}

export interface ParsedArgs {
  positionals: string[];
  values: Record<string, string | boolean | string[] | undefined>;
  json: boolean;
  verbose: boolean;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  description: string;
  positionals: { min: number; max: number };
  options: Record<string, OptionSpec>;
  run(args: ParsedArgs, io: Io): Promise<number>;
}

export function stringOpt(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function intOpt(args: ParsedArgs, name: string, def: number, min = 0): number {
  const v = stringOpt(args, name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) fail('usage', `--${name}`, `expects an integer >= ${min}, got "${v}"`);
  return n;
}

/** A byte count: 4096, 16K / 16KiB (x 1024), 1M / 1MiB (x 2^20); undefined if the option is absent. */
export function bytesOpt(args: ParsedArgs, name: string): number | undefined {
  const v = stringOpt(args, name);
  if (v === undefined) return undefined;
  const n = parseByteCount(v);
  if (n === undefined) fail('usage', `--${name}`, `expects a byte count such as 4096, 16K or 1MiB, got "${v}"`);
  return n;
}

/** The `--max-scratch` option of the commands that compile. */
export const MAX_SCRATCH_OPTION: OptionSpec = {
  type: 'string',
  valueName: 'bytes',
  help: 'RAM the kernels may take for scratch such as LUT tables (e.g. 0, 4K): less scratch, slower kernels; default: up to a quarter of the target RAM',
};

/** The options of every command that reads a language model (GGUF, llama2.c, Hugging Face). */
export const LM_OPTIONS: Record<string, OptionSpec> = {
  context: { type: 'string', valueName: 'N', help: "language models: positions the KV cache holds (default: the model's context length)" },
  chunk: { type: 'string', valueName: 'N', help: 'language models: tokens per call of the graph; a prompt runs in chunks of N (default 16)' },
  'kv-cache': {
    type: 'string',
    valueName: 'type',
    help: 'language models: the KV cache element type, f32, f16 or int8 (a scale per position and head; default f32)',
  },
  activations: {
    type: 'string',
    valueName: 'kind',
    help: "language models: what the ternary and int8 layers take, float or int8 (per-token absmax, BitNet's); default: the model's (GGUF: float)",
  },
  weights: { type: 'string', valueName: 'kind', help: 'language models: quantize float projections on import to int8 (absmax per row), the int8 baseline' },
  ternarize: { type: 'string', valueName: 'method', help: 'language models: ternarize float projections on import: absmean, absmean:per-row, absmean:shard:N' },
  tokenizer: { type: 'string', valueName: 'file', help: 'llama2.c checkpoints: the tokenizer.bin for text prompts and output' },
  deltas: { type: 'boolean', help: 'language models: accept run-time ComPEFT deltas (<prefix>_load_delta; tritc delta make)' },
  delta: {
    type: 'string',
    valueName: 'file',
    help: 'language models (run, generate): apply this .tdelta blob, in the interpreter and on the target (implies --deltas)',
  },
  'upcycle-moe': {
    type: 'string',
    valueName: 'E:k[:p]',
    help: 'language models: up-cycle each FFN into a MoTE layer: the FFN as shared expert plus E ternary experts (perturbation p, default 0.1), top-k routed',
  },
};

/** The options of every command that reads a graph model: fixing an ONNX model's symbolic dimensions. */
export const SHAPE_OPTIONS: Record<string, OptionSpec> = {
  'input-shape': {
    type: 'string',
    valueName: 'name=d,d,...',
    multiple: true,
    help: 'ONNX: the shape of graph input <name>, fixing its symbolic dimensions (repeatable), e.g. --input-shape x=1,64',
  },
  batch: { type: 'string', valueName: 'N', help: 'ONNX: fix every symbolic leading (batch) dimension of the graph inputs to N' },
};

/** --input-shape and --batch. */
function shapeOptions(args: ParsedArgs): { inputs: Map<string, number[]>; batch?: number } | undefined {
  const raw = args.values['input-shape'];
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : [];
  const inputs = new Map<string, number[]>();
  for (const item of list) {
    const m = /^(.+)=(\d+(?:,\d+)*)$/.exec(item.trim());
    if (!m) fail('usage', '--input-shape', `expects name=d,d,... with positive dimensions (e.g. x=1,3,224,224), got "${item}"`);
    const dims = m[2]!.split(',').map(Number);
    if (dims.some((d) => d < 1)) fail('usage', '--input-shape', `dimensions must be positive, got "${item}"`);
    if (inputs.has(m[1]!)) fail('usage', '--input-shape', `gives input "${m[1]}" twice`);
    inputs.set(m[1]!, dims);
  }
  const batch = stringOpt(args, 'batch') === undefined ? undefined : intOpt(args, 'batch', 1, 1);
  return inputs.size || batch !== undefined ? { inputs, batch } : undefined;
}

/** --kv-cache's names and the element types they stand for. */
const KV_CACHE_TYPES = { f32: 'float32', f16: 'float16', int8: 'int8' } as const;

/** LoadOptions from the LM options (the ONNX low-bit switch and input shapes included). */
export function loadOptions(args: ParsedArgs): {
  shapes?: { inputs: Map<string, number[]>; batch?: number };
  lowBit: boolean;
  lm: { context?: number; chunk?: number; kvCache?: 'float32' | 'float16' | 'int8'; activations?: 'float' | 'int8-per-token'; deltas?: boolean };
  ternarize?: string;
  weights?: 'int8';
  tokenizer?: string;
  upcycleMoe?: string;
} {
  const kv = stringOpt(args, 'kv-cache');
  if (kv !== undefined && !Object.hasOwn(KV_CACHE_TYPES, kv)) fail('usage', '--kv-cache', `expects f32, f16 or int8, got "${kv}"`);
  const act = stringOpt(args, 'activations');
  if (act !== undefined && act !== 'float' && act !== 'int8') fail('usage', '--activations', `expects float or int8, got "${act}"`);
  const num = (name: string) => (stringOpt(args, name) === undefined ? undefined : intOpt(args, name, 0, 1));
  return {
    shapes: shapeOptions(args),
    lowBit: args.values['no-lowbit'] !== true,
    lm: {
      context: num('context'),
      chunk: num('chunk'),
      kvCache: kv === undefined ? undefined : KV_CACHE_TYPES[kv as keyof typeof KV_CACHE_TYPES],
      activations: act === 'int8' ? 'int8-per-token' : act === 'float' ? 'float' : undefined,
      ...(args.values.deltas === true || stringOpt(args, 'delta') !== undefined ? { deltas: true } : {}),
    },
    ternarize: stringOpt(args, 'ternarize'),
    weights: ((w) => {
      if (w !== undefined && w !== 'int8') fail('usage', '--weights', `expects int8, got "${w}"`);
      return w;
    })(stringOpt(args, 'weights')),
    tokenizer: stringOpt(args, 'tokenizer'),
    upcycleMoe: stringOpt(args, 'upcycle-moe'),
  };
}
