// Language models on the command line: `tritc run` on a decoder (token ids in, logits of every
// position out, every target against the interpreter) and `tritc generate` (a prompt, then tokens
// sampled one by one, streamed as the target makes them, checked against the interpreter).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compileGraph, type Compiled } from '../compile.ts';
import { fail, formatDiagnostic, TritcError } from '../diagnostics.ts';
import { rng, writeOutputFile } from '../harness/inputs.ts';
import { runLmOnTarget } from '../harness/lm_run.ts';
import { logitsHash, type LmJob, type LmJobResult } from '../harness/lm_runner.ts';
import { readNpy, writeNpy } from '../io/npy.ts';
import { cloneGraph, type Graph } from '../ir.ts';
import { decodeAll, encode } from '../lm/tokenizer.ts';
import type { LmTokenizer } from '../lm/model.ts';
import { argmaxToken, sampleToken, seedRng } from '../lm/sample.ts';
import { LmSession } from '../lm/session.ts';
import { readLanguageModel, detectFormat, isLanguageModel } from '../readers/index.ts';
import { resolveTargets, type TargetDesc } from '../targets.ts';
import { requireQemu } from '../toolchain/qemu.ts';
import { requireZig } from '../toolchain/zig.ts';
import { formatBytes, formatCount, textTable } from '../util/format.ts';
import { bytesOpt, intOpt, LM_OPTIONS, loadOptions, MAX_SCRATCH_OPTION, stringOpt, type Command, type Io, type ParsedArgs } from './command.ts';
import { buildLmGraph } from '../lm/build.ts';
import type { TaskDelta } from '../lm/delta/blob.ts';
import { readDeltaFile } from './delta.ts';
import { prepareGraph } from '../passes/pipeline.ts';

/** What one target did. */
interface LmRow {
  target: string;
  ok: boolean;
  /** Positions (run) or steps (generate) bit-identical with the interpreter, of how many. */
  identical: number;
  total: number;
  flashBytes: number | null;
  ramBytes: number | null;
  arenaBytes: number | null;
  stackBytes: number | null;
  /** Bare-metal targets: instructions per token (decode steps for generate; all tokens for run). */
  instructionsPerToken: number | null;
  /** Hosted targets (qemu-user: emulated time): tokens per second. */
  tokensPerSecond: number | null;
  mismatches: string[];
  error?: string;
}

/** --delta: the blob's bytes and what it decodes to, checked against the graph's base. */
function deltaOption(args: ParsedArgs, session: LmSession): { bytes: Uint8Array; delta: TaskDelta } | undefined {
  const path = stringOpt(args, 'delta');
  if (path === undefined) return undefined;
  const delta = readDeltaFile(path);
  session.loadDelta(delta, path);
  return { bytes: new Uint8Array(readFileSync(path)), delta };
}

async function compileAndRun(
  graph: Graph,
  target: TargetDesc,
  jobs: LmJob[],
  workDir: string,
  args: ParsedArgs,
  onToken?: (id: number) => void,
  delta?: Uint8Array,
): Promise<{ compiled: Compiled; results: LmJobResult[]; row: LmRow }> {
  const compiled = compileGraph(cloneGraph(graph), { target, verify: true, kernel: stringOpt(args, 'kernel'), maxScratch: bytesOpt(args, 'max-scratch') });
  // With --delta, the program loads the blob first, from const data (flash on a microcontroller).
  const all: LmJob[] = delta ? [{ mode: 'delta', tokens: [], blob: delta, where: 'flash' }, ...jobs] : jobs;
  const run = await runLmOnTarget(compiled, all, target, join(workDir, target.name), { timeoutSeconds: intOpt(args, 'timeout', 3600, 1), onToken });
  if (delta && run.results[0]!.status !== 0)
    fail('mismatch', target.name, `${compiled.emitted.prefix}_load_delta refused the delta that the interpreter took (status ${run.results[0]!.status})`);
  if (delta) run.results.shift();
  const stack = Math.max(...run.results.map((r) => r.stackBytes));
  const row: LmRow = {
    target: target.name,
    ok: false,
    identical: 0,
    total: 0,
    flashBytes: run.footprint.flash,
    ramBytes: run.footprint.ram + stack,
    arenaBytes: compiled.plan.arenaBytes,
    stackBytes: stack,
    instructionsPerToken: null,
    tokensPerSecond: null,
    mismatches: [],
  };
  return { compiled, results: run.results, row };
}

function speed(row: LmRow, target: TargetDesc, counters: number[], ns: number[], tokens: number): void {
  if (target.counter) row.instructionsPerToken = Math.round((counters.reduce((a, b) => a + b, 0) * target.counter.instructionsPerUnit) / tokens);
  else if (ns.some((v) => v > 0)) row.tokensPerSecond = tokens / (ns.reduce((a, b) => a + b, 0) / 1e9);
}

function rowTable(rows: LmRow[], what: string): string {
  const table: (string | number)[][] = [['target', `bit-identical ${what}`, 'flash', 'RAM (arena + stack + other)', 'speed']];
  for (const r of rows) {
    if (r.error) {
      table.push([r.target, 'error', '—', '—', '—']);
      continue;
    }
    table.push([
      r.target,
      `${r.ok ? 'yes' : 'NO'} (${r.identical}/${r.total})`,
      formatBytes(r.flashBytes!),
      `${formatBytes(r.ramBytes!)} (${formatBytes(r.arenaBytes!)} + ${formatBytes(r.stackBytes!)}${r.ramBytes! > r.arenaBytes! + r.stackBytes! ? ` + ${formatBytes(r.ramBytes! - r.arenaBytes! - r.stackBytes!)}` : ''})`,
      r.instructionsPerToken !== null
        ? `${formatCount(r.instructionsPerToken)} instructions/token`
        : r.tokensPerSecond !== null
          ? `${r.tokensPerSecond.toFixed(1)} tokens/s`
          : '—',
    ]);
  }
  return textTable(table);
}

/** Token ids from a .npy file: [T] or [N, T] of integers. */
function readTokenRuns(path: string, vocab: number): number[][] {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    fail('io', path, `cannot read: ${(e as Error).message}`);
  }
  const a = readNpy(bytes, path);
  if (!['int32', 'int64', 'int16', 'int8', 'uint8', 'uint16', 'uint32'].includes(a.dtype)) fail('npy', path, `token ids must be integers, found ${a.dtype}`);
  if (a.shape.length !== 1 && a.shape.length !== 2) fail('npy', path, `token ids must have shape [T] or [N, T], found [${a.shape.join(', ')}]`);
  const values = Array.from(a.data as ArrayLike<number | bigint>, Number);
  values.forEach((v, i) => {
    if (!(Number.isInteger(v) && v >= 0 && v < vocab)) fail('npy', path, `token ${i} is ${v}, outside the vocabulary [0, ${vocab})`);
  });
  const t = a.shape[a.shape.length - 1]!;
  if (t === 0) fail('npy', path, 'holds no tokens');
  const n = a.shape.length === 2 ? a.shape[0]! : 1;
  return Array.from({ length: n }, (_, i) => values.slice(i * t, (i + 1) * t));
}

/** `tritc run` on a language model. */
export async function runLanguageModel(graph: Graph, targets: TargetDesc[], args: ParsedArgs, io: Io): Promise<number> {
  const lm = graph.lm!;
  requireZig();
  for (const t of targets) requireQemu(t);
  const inputs = stringOpt(args, 'inputs');
  const runs = inputs
    ? readTokenRuns(inputs, lm.vocab)
    : (() => {
        const next = rng(intOpt(args, 'seed', 1));
        const length = Math.min(lm.context, 2 * graph.rows!.max + 1);
        return Array.from({ length: intOpt(args, 'count', 3, 1) }, () => Array.from({ length }, () => Math.floor(next() * lm.vocab)));
      })();
  for (const r of runs)
    if (r.length > lm.context)
      fail('usage', inputs ?? '', `${r.length} tokens exceed the context of ${lm.context} positions (compile with --context ${r.length} or more)`);
  io.progress(`interpreting ${runs.length} run${runs.length === 1 ? '' : 's'}...`);
  const session = new LmSession(graph);
  const delta = deltaOption(args, session);
  const expected = runs.map((r) => {
    session.reset();
    return session.forward(r);
  });
  const keep = stringOpt(args, 'keep');
  const workDir = keep ? resolve(keep) : mkdtempSync(join(tmpdir(), 'tritc-lm-'));
  const rows: LmRow[] = [];
  let firstLogits: Float32Array[][] | undefined;
  try {
    for (const [i, t] of targets.entries()) {
      io.progress(`[${i + 1}/${targets.length}] ${t.name}: building and running ${runs.length} run${runs.length === 1 ? '' : 's'}...`);
      try {
        const { results, row } = await compileAndRun(
          graph,
          t,
          runs.map((tokens) => ({ mode: 'forward', tokens })),
          workDir,
          args,
          undefined,
          delta?.bytes,
        );
        results.forEach((res, r) => {
          expected[r]!.forEach((want, p) => {
            row.total++;
            const got = res.logits[p]!;
            const j = want.findIndex((v, k) => !Object.is(v, got[k]));
            if (j < 0) row.identical++;
            else if (row.mismatches.length < 5) row.mismatches.push(`run ${r}, position ${p}: logit ${j} is ${got[j]}, the interpreter gives ${want[j]}`);
          });
        });
        row.ok = row.identical === row.total;
        speed(
          row,
          t,
          results.map((r) => r.counters[0]!),
          results.map((r) => r.nanoseconds[0]!),
          runs.reduce((a, r) => a + r.length, 0),
        );
        firstLogits ??= results.map((r) => r.logits);
        rows.push(row);
      } catch (e) {
        if (!(e instanceof TritcError)) throw e;
        rows.push({
          target: t.name,
          ok: false,
          identical: 0,
          total: 0,
          flashBytes: null,
          ramBytes: null,
          arenaBytes: null,
          stackBytes: null,
          instructionsPerToken: null,
          tokensPerSecond: null,
          mismatches: [],
          error: e.diagnostics.map(formatDiagnostic).join('; '),
        });
      }
    }
  } finally {
    io.endProgress();
    if (!keep) rmSync(workDir, { recursive: true, force: true });
  }
  const outputs = stringOpt(args, 'outputs');
  if (outputs && firstLogits) {
    const t = runs[0]!.length;
    const data = new Float32Array(runs.length * t * lm.vocab);
    firstLogits.forEach((run, r) => run.forEach((l, p) => data.set(l, (r * t + p) * lm.vocab)));
    writeOutputFile(
      outputs,
      writeNpy({ dtype: 'float32', shape: inputs && runs.length === 1 && !isBatched(inputs) ? [t, lm.vocab] : [runs.length, t, lm.vocab], data }),
    );
  }
  const ok = rows.every((r) => r.ok);
  if (args.json)
    io.out(
      JSON.stringify(
        {
          ok,
          model: graph.name,
          runs: runs.length,
          tokens: runs.map((r) => r.length),
          inputs: inputs ?? `random (seed ${intOpt(args, 'seed', 1)})`,
          targets: rows,
        },
        null,
        2,
      ),
    );
  else {
    io.out(
      `${graph.name}: ${runs.length} run${runs.length === 1 ? '' : 's'} of ${runs[0]!.length} tokens (${inputs ?? `seeded random tokens, seed ${intOpt(args, 'seed', 1)}`}), from an empty cache`,
    );
    io.out(rowTable(rows, 'positions'));
    for (const r of rows) {
      if (r.error) io.out(`${r.target}: ${r.error}`);
      for (const m of r.mismatches) io.out(`${r.target}: ${m}`);
    }
    if (outputs && firstLogits) io.out(`logits of ${rows[0]!.target} written to ${outputs}`);
  }
  return ok ? 0 : 1;
}

function isBatched(path: string): boolean {
  return readNpy(new Uint8Array(readFileSync(path)), path).shape.length === 2;
}

/** The prompt's token ids, from --prompt-ids or --prompt (through the model's tokenizer). */
function promptIds(args: ParsedArgs, tokenizer: LmTokenizer | undefined, vocab: number): number[] {
  const ids = stringOpt(args, 'prompt-ids');
  const text = stringOpt(args, 'prompt');
  if ((ids === undefined) === (text === undefined)) fail('usage', '', 'tritc generate needs --prompt "text" or --prompt-ids 1,2,3 (one of them)');
  if (ids !== undefined) {
    const list = ids.split(',').map((s) => s.trim());
    return list.map((s, i) => {
      const v = Number(s);
      if (s === '' || !Number.isInteger(v) || v < 0 || v >= vocab) fail('usage', '--prompt-ids', `id ${i} is "${s}"; ids are integers in [0, ${vocab})`);
      return v;
    });
  }
  if (!tokenizer) fail('usage', '--prompt', 'this model has no tokenizer: give --prompt-ids (or, for a llama2.c checkpoint, --tokenizer tokenizer.bin)');
  const t = encode(tokenizer, text!, { bos: tokenizer.addBos });
  if (t.length === 0) fail('usage', '--prompt', 'the prompt encodes to no tokens');
  return t;
}

export const generateCommand: Command = {
  name: 'generate',
  summary: 'generate tokens from a language model on a target, checked against the interpreter',
  usage: 'tritc generate <model> --target <target> (--prompt "text" | --prompt-ids 1,2,3) [-n 64] [--temperature T --top-k K --top-p P --seed S]',
  description: `Compiles a language model (a GGUF file, a llama2.c checkpoint or a Hugging Face folder) for the
target, runs the prompt (prefill, in chunks), then samples -n tokens one by one (decode), streaming
them as the target produces them. Sampling is the same in C and in the interpreter (docs/sampling.md):
greedy by default (--temperature 0), else temperature with top-k and top-p from a seeded PRNG. The
interpreter then runs the same steps; the tokens and every step's logits must be identical. Ends with
tokens/s (host, qemu-user: emulated time) or instructions per token (bare metal). A text prompt needs
the model's tokenizer (GGUF) or --tokenizer tokenizer.bin (llama2.c); without one, give --prompt-ids.`,
  positionals: { min: 1, max: 1 },
  options: {
    ...LM_OPTIONS,
    target: { type: 'string', short: 't', valueName: 'target', help: 'the target (tritc targets lists them); default host' },
    prompt: { type: 'string', short: 'p', valueName: 'text', help: "the prompt, encoded with the model's tokenizer" },
    'prompt-ids': { type: 'string', valueName: 'ids', help: 'the prompt as token ids, comma-separated' },
    n: { type: 'string', short: 'n', valueName: 'N', help: 'tokens to generate (default 64)' },
    temperature: { type: 'string', valueName: 'T', help: 'sampling temperature; 0 (default) is greedy' },
    'top-k': { type: 'string', valueName: 'K', help: 'keep the K most likely tokens (0: off, the default)' },
    'top-p': { type: 'string', valueName: 'P', help: 'keep the most likely tokens up to probability P (0 or 1: off, the default)' },
    seed: { type: 'string', valueName: 'S', help: 'seed of the sampler (default 1)' },
    kernel: { type: 'string', valueName: 'spec', help: 'kernel or weight format for the low-bit layers (docs/kernels.md)' },
    'max-scratch': MAX_SCRATCH_OPTION,
    'no-check': { type: 'boolean', help: 'do not run the interpreter after the target (large models: it is slow)' },
    keep: { type: 'string', valueName: 'dir', help: 'keep the build directory in <dir>' },
    timeout: { type: 'string', valueName: 'seconds', help: 'stop the target program after this long (default 3600)' },
  },
  async run(args, io) {
    const path = args.positionals[0]!;
    const format = detectFormat(path);
    if (!isLanguageModel(format)) fail('usage', path, `is a ${format} model, not a language model; tritc generate takes GGUF, llama2.c or Hugging Face models`);
    const load = loadOptions(args);
    const model = readLanguageModel(path, format, load);
    const graph = prepareGraph(buildLmGraph(model, load.lm));
    const lm = graph.lm!;
    const target = resolveTargets(stringOpt(args, 'target') ?? 'host');
    if (target.length !== 1) fail('usage', '--target', 'tritc generate runs on one target');
    const t = target[0]!;
    requireZig();
    requireQemu(t);
    const prompt = promptIds(args, model.tokenizer, lm.vocab);
    const session = new LmSession(graph);
    const delta = deltaOption(args, session);
    const steps = intOpt(args, 'n', 64, 1);
    if (prompt.length + steps - 1 > lm.context)
      fail(
        'usage',
        '-n',
        `the prompt (${prompt.length} tokens) and ${steps} new tokens need ${prompt.length + steps - 1} positions; the context holds ${lm.context} (--context)`,
      );
    const num = (name: string, def: number) => {
      const v = stringOpt(args, name);
      if (v === undefined) return def;
      const x = Number(v);
      if (!Number.isFinite(x)) fail('usage', `--${name}`, `expects a number, got "${v}"`);
      return x;
    };
    const temperature = num('temperature', 0);
    const topK = intOpt(args, 'top-k', 0);
    const topP = num('top-p', 0);
    const seedText = stringOpt(args, 'seed') ?? '1';
    if (!/^\d+$/.test(seedText) || BigInt(seedText) >= 1n << 64n) fail('usage', '--seed', `expects an integer from 0 to 2^64 - 1, got "${seedText}"`);
    const seed = BigInt(seedText);
    const job: LmJob = { mode: 'generate', tokens: prompt, steps, temperature, topK, topP, seed };
    const keep = stringOpt(args, 'keep');
    const workDir = keep ? resolve(keep) : mkdtempSync(join(tmpdir(), 'tritc-gen-'));
    const streamed: number[] = [];
    const text = (ids: number[]) => (model.tokenizer ? decodeAll(model.tokenizer, ids) : undefined);
    if (!args.json)
      io.out(
        `${graph.name} on ${t.name}: ${prompt.length} prompt tokens, ${steps} to generate (${temperature > 0 ? `temperature ${temperature}${topK ? `, top-k ${topK}` : ''}${topP > 0 && topP < 1 ? `, top-p ${topP}` : ''}, seed ${seed}` : 'greedy'})`,
      );
    let result;
    try {
      io.progress(`${t.name}: compiling and building...`);
      result = await compileAndRun(
        graph,
        t,
        [job],
        workDir,
        args,
        (id) => {
          io.endProgress();
          streamed.push(id);
          if (!args.json) io.out(`${id}${model.tokenizer ? `\t${JSON.stringify(text([id]))}` : ''}`);
        },
        delta?.bytes,
      );
    } finally {
      io.endProgress();
      if (!keep) rmSync(workDir, { recursive: true, force: true });
    }
    const { results, row } = result;
    const res = results[0]!;
    row.total = steps;
    // The interpreter, step by step: the same prefill, the same sampling, each step's logits' hash.
    let checked = false;
    if (args.values['no-check'] !== true) {
      io.progress('checking against the interpreter...');
      const r = seedRng(seed);
      let logits = session.prefill(prompt);
      const ids: number[] = [];
      for (let s = 0; s < steps; s++) {
        if (s > 0) logits = session.decode(ids[s - 1]!);
        const same = logitsHash(logits) === res.hashes[s];
        const tok = temperature > 0 ? sampleToken(logits, { temperature, topK, topP }, r) : argmaxToken(logits);
        ids.push(tok);
        if (same && tok === res.tokens[s]) row.identical++;
        else {
          row.mismatches.push(
            `step ${s}: the target ${same ? 'sampled' : 'computed different logits and sampled'} token ${res.tokens[s]}, the interpreter ${tok}`,
          );
          break;
        }
      }
      io.endProgress();
      checked = true;
    }
    row.ok = !checked || row.identical === steps;
    speed(row, t, res.counters.slice(1), res.nanoseconds.slice(1), Math.max(1, steps - 1));
    const prefillSpeed: { instructions: number } | { seconds: number } = t.counter
      ? { instructions: Math.round(res.counters[0]! * t.counter.instructionsPerUnit) }
      : { seconds: res.nanoseconds[0]! / 1e9 };
    if (args.json) {
      io.out(
        JSON.stringify(
          {
            ok: row.ok,
            matched: checked ? row.ok : null,
            model: graph.name,
            target: t.name,
            prompt,
            ids: res.tokens,
            text: text(res.tokens) ?? null,
            steps,
            temperature,
            topK,
            topP,
            seed: seed.toString(),
            prefill: prefillSpeed,
            decode: { instructionsPerToken: row.instructionsPerToken, tokensPerSecond: row.tokensPerSecond },
            flashBytes: row.flashBytes,
            ramBytes: row.ramBytes,
            mismatches: row.mismatches,
          },
          null,
          2,
        ),
      );
    } else {
      if (model.tokenizer) io.out(`text: ${JSON.stringify(text(res.tokens))}`);
      io.out(
        `${checked ? (row.ok ? `identical to the interpreter: ${steps} tokens and every step's logits` : `DIFFERS from the interpreter: ${row.mismatches.join('; ')}`) : 'not checked (--no-check)'}; ` +
          `decode: ${row.instructionsPerToken !== null ? `${formatCount(row.instructionsPerToken)} instructions/token` : row.tokensPerSecond !== null ? `${row.tokensPerSecond.toFixed(1)} tokens/s` : '—'}; ` +
          `prefill of ${prompt.length}: ${'instructions' in prefillSpeed ? `${formatCount(prefillSpeed.instructions)} instructions` : `${(prefillSpeed.seconds * 1000).toFixed(1)} ms`}; flash ${formatBytes(row.flashBytes!)}, RAM ${formatBytes(row.ramBytes!)}`,
      );
    }
    return row.ok ? 0 : 1;
  },
};
