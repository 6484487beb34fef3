// Language models on the command line: the printout of `tritc run` on a decoder (api/run_lm.ts does
// the work: token ids in, logits of every position out, every target against the interpreter) and
// `tritc generate` (a prompt, then tokens sampled one by one, streamed as the target makes them,
// checked against the interpreter).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compileAndRunLm, lmSpeed, type LmRunResult, type LmTargetResult } from '../api/run_lm.ts';
import { fail } from '../diagnostics.ts';
import { logitsHash, type LmJob } from '../harness/lm_runner.ts';
import { decodeAll, encode } from '../lm/tokenizer.ts';
import type { LmTokenizer } from '../lm/model.ts';
import { argmaxToken, sampleToken, seedRng } from '../lm/sample.ts';
import { LmSession } from '../lm/session.ts';
import { readLanguageModel, detectFormat, isLanguageModel } from '../readers/index.ts';
import { resolveTargets } from '../targets.ts';
import { requireQemu } from '../toolchain/qemu.ts';
import { requireZig } from '../toolchain/zig.ts';
import { formatBytes, formatCount, textTable } from '../util/format.ts';
import { intOpt, LM_OPTIONS, loadOptions, MAX_SCRATCH_OPTION, stringOpt, type Command, type Io, type ParsedArgs } from './command.ts';
import { buildLmGraph } from '../lm/build.ts';
import { prepareGraph } from '../passes/pipeline.ts';

function rowTable(rows: LmTargetResult[], what: string): string {
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

/** The printout of `tritc run` on a language model. */
export function printLmRun(r: LmRunResult, args: ParsedArgs, io: Io): void {
  const inputs = stringOpt(args, 'inputs');
  if (args.json) {
    const { kind: _kind, logits: _logits, ...json } = r;
    io.out(JSON.stringify(json, null, 2));
    return;
  }
  io.out(
    `${r.model}: ${r.runs} run${r.runs === 1 ? '' : 's'} of ${r.tokens[0]} tokens (${inputs ?? `seeded random tokens, seed ${intOpt(args, 'seed', 1)}`}), from an empty cache`,
  );
  io.out(rowTable(r.targets, 'positions'));
  for (const t of r.targets) {
    if (t.error) io.out(`${t.target}: ${t.error}`);
    for (const m of t.mismatches) io.out(`${t.target}: ${m}`);
  }
  const outputs = stringOpt(args, 'outputs');
  if (outputs && r.logits) io.out(`logits of ${r.targets[0]!.target} written to ${outputs}`);
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
      result = await compileAndRunLm(graph, t, [job], workDir, args, (id) => {
        io.endProgress();
        streamed.push(id);
        if (!args.json) io.out(`${id}${model.tokenizer ? `\t${JSON.stringify(text([id]))}` : ''}`);
      });
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
      const session = new LmSession(graph);
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
    lmSpeed(row, t, res.counters.slice(1), res.nanoseconds.slice(1), Math.max(1, steps - 1));
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
