// npm run bench:formats: the seed papers' weight formats on a real model, the quality table.
//
// stories260K (llama2.c, ../shared/data/llama2c_stories260K) quantized by each method at each bit
// width, against the float model it came from, on sequences sampled from the float model itself
// (seeded: calibration and evaluation sets are disjoint draws):
//   bits per weight   of the seven projections, every scale, zero point and bias included (the
//                     embedding, head and norms stay as trained in every row)
//   KL                mean KL(float || quantized) of next-token distributions, nats
//   perplexity        of the evaluation sequences' next tokens (the float model's own beside it)
//   greedy            share of 32 greedy tokens after an 8-token prompt equal to the float model's
//   cortex-m4, rv32imc instructions per decoded token (QEMU -icount, deterministic)
//   host              decode tokens/s, one thread
//
//   npm run bench:formats -- [--json] [--update] [--quick] [--methods a,b] [--no-targets]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildLmGraph, type LmBuildOptions } from '../../compiler/lm/build.ts';
import { LmEvaluator, measureQuality, qualityReference, type Quality } from '../../compiler/lm/quality.ts';
import { sampleSequences } from '../../compiler/lm/calibrate.ts';
import { makeDelta } from '../../compiler/lm/delta/make.ts';
import { readLlama2c } from '../../compiler/readers/llama2c/checkpoint.ts';
import { getTarget, PROJECT_ROOT } from '../../compiler/targets.ts';
import { SHARED_DATA } from '../../examples/data.ts';
import { benchArgs, runMain, writeSection } from '../cli.ts';
import { hostRun, mcuRun } from '../lm/measure.ts';
import { LM_PROJECTIONS } from '../../compiler/lm/ternarize.ts';
import { projectionBits } from '../../compiler/quantize/bits.ts';
import { FORMAT_METHODS, makeModel, type Calibration } from './methods.ts';

const USAGE = `npm run bench:formats -- [--json] [--update] [--quick] [--methods a,b] [--no-targets]
  --json        print the results as JSON
  --update      also rewrite the formats section of BENCHMARKS.md
  --quick       fewer sequences and steps (a smoke run)
  --methods     only these rows (names as in the table's first column, comma-separated)
  --no-targets  skip the instruction counts and host speed (quality only)`;

interface Row {
  method: string;
  bits: number;
  quality: Quality;
  m4: number | null;
  rv32: number | null;
  hostDecode: number | null;
  note: string;
}

async function main(): Promise<void> {
  const args = benchArgs(USAGE, {
    json: { type: 'boolean' },
    update: { type: 'boolean' },
    quick: { type: 'boolean' },
    methods: { type: 'string' },
    'no-targets': { type: 'boolean' },
  });
  const quick = args.quick === true;
  const only = args.methods ? new Set(args.methods.split(',').map((s) => s.trim())) : undefined;
  for (const m of only ?? [])
    if (!FORMAT_METHODS.some((x) => x.name === m)) throw new Error(`--methods: unknown method "${m}" (${FORMAT_METHODS.map((x) => x.name).join(', ')})`);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const base = readLlama2c(join(SHARED_DATA, 'llama2c_stories260K', 'stories260K.bin'));
  const seqLen = quick ? 32 : 64;
  const count = quick ? 4 : 16;
  log(`sampling ${count} calibration and ${count} evaluation sequences of ${seqLen} tokens from the float model...`);
  const calibration: Calibration = { count, length: seqLen, seed: 1 };
  const evaluation = sampleSequences(base, { count, length: seqLen, seed: 2 });
  const qopts = { promptTokens: 8, greedySteps: quick ? 16 : 32 };
  const ref = qualityReference(new LmEvaluator(base, { activations: 'float' }, seqLen + qopts.greedySteps), evaluation, qopts);
  const work = mkdtempSync(join(tmpdir(), 'tritc-bench-formats-'));
  const rows: Row[] = [];
  try {
    for (const method of FORMAT_METHODS) {
      if (only && !only.has(method.name)) continue;
      log(`${method.name}: quantizing...`);
      const started = Date.now();
      const model = makeModel(method, base, calibration);
      // ComPEFT rows: the model is the base; the delta is the float model's task vector over it.
      const made = method.deltaDensity !== undefined ? makeDelta(model, base, { density: method.deltaDensity }) : undefined;
      const seconds = (Date.now() - started) / 1000;
      const opts: LmBuildOptions = { activations: method.activations ?? 'float' };
      log(`${method.name}: evaluating...`);
      const quality = measureQuality(ref, new LmEvaluator(model, opts, seqLen + qopts.greedySteps, made?.delta));
      const row: Row = {
        method: method.name,
        bits: projectionBits(buildLmGraph(model, { context: 8, chunk: 1, ...opts })) + (made ? made.stats.bitsPerParameter : 0),
        quality,
        m4: null,
        rv32: null,
        hostDecode: null,
        note: `${method.note}${seconds >= 1 ? ` (quantized in ${seconds.toFixed(1)} s)` : ''}`,
      };
      if (!args['no-targets']) {
        for (const [t, key] of [
          ['cortex-m4', 'm4'],
          ['rv32imc', 'rv32'],
        ] as const) {
          log(`${method.name}: ${t}...`);
          try {
            row[key] = (await mcuRun(getTarget(t), model, opts, quick ? 4 : 16, join(work, `${t}-${rows.length}`), made?.blob)).instructionsPerToken;
          } catch (e) {
            // The linker's own words when a region overflows (the first line only names the step).
            const lines = (e as Error).message.split('\n');
            row.note += `; ${t}: ${(lines.find((l) => /overflow|will not fit|does not fit/i.test(l)) ?? lines[0]!).trim().slice(0, 120)}`;
          }
        }
        // The host harness has no delta loader: a delta row's host speed is not measured.
        if (made) row.note += '; host: not measured with a delta';
        else {
          log(`${method.name}: host...`);
          row.hostDecode = (await hostRun(method.name, model, { ...opts, context: 512, chunk: 16 }, work, true)).decode;
        }
      }
      rows.push(row);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const argv = process.argv.slice(2);
  const command = `npm run bench:formats${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  if (args.json) process.stdout.write(`${JSON.stringify({ command, referencePerplexity: ref.perplexity, rows }, null, 2)}\n`);
  const md = markdown(rows, ref.perplexity, command, count, seqLen, qopts.greedySteps);
  if (!args.json) process.stdout.write(`${md}\n`);
  if (args.update) {
    writeSection(join(PROJECT_ROOT, 'BENCHMARKS.md'), 'formats', md);
    log('wrote the formats section of BENCHMARKS.md');
  }
}

function markdown(rows: Row[], floatPpl: number, command: string, count: number, seqLen: number, steps: number): string {
  const n = (v: number | null, d = 0) => (v === null ? 'n/a' : v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
  return [
    '## Weight formats on stories260K (the quality table)',
    '',
    `\`${command}\` (${count} evaluation sequences of ${seqLen} tokens sampled from the float model, seed 2; calibration: ${count} more, seed 1).`,
    `Bits per weight count the seven projections (${LM_PROJECTIONS.join(', ')}) with every scale, zero point and bias (MoTE: every routed expert's too; ComPEFT: plus the delta blob's bits per parameter); the embedding, head and norms stay float32 in every row.`,
    `KL: mean KL(float || quantized) of next-token distributions in nats. Perplexity of the evaluation sequences (the float model: ${floatPpl.toFixed(3)}).`,
    `Greedy: share of ${steps} greedy tokens after an 8-token prompt equal to the float model's, position by position (in brackets: mean tokens before the first difference).`,
    'Instructions per decoded token under QEMU -icount (context 128, 4 prompt tokens); host: decode tokens/s, one thread (this VM; compare rows, not runs).',
    '',
    '| method | bits/weight | KL | perplexity | greedy | cortex-m4 instr/token | rv32imc instr/token | host tok/s | notes |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.method} | ${r.bits.toFixed(3)} | ${r.quality.klMean.toFixed(4)} | ${r.quality.perplexity.toFixed(3)} | ${(r.quality.greedyAgreement * 100).toFixed(1)} % (${r.quality.greedyPrefix.toFixed(1)}) | ${n(r.m4)} | ${n(r.rv32)} | ${n(r.hostDecode)} | ${r.note} |`,
    ),
    '',
  ].join('\n');
}

await runMain(main);
