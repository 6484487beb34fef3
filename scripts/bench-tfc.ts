// Benchmarks of the FINN/Brevitas TFC networks (issue #4): accuracy on the 10,000 MNIST test images,
// flash, RAM and instructions per inference on cortex-m4, cortex-m3 and rv32imc, for the low-bit
// build and the float32 baseline (the same .onnx file with ternary/binary detection off).
// Rewrites the section between <!-- bench:tfc:start --> and <!-- bench:tfc:end --> of BENCHMARKS.md.
//   npx tsx scripts/bench-tfc.ts [--count 10000] [--sample 100]

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMain } from '../bench/cli.ts';
import { benchmarkTfc, comparisonLine, reportMarkdown, type TfcReport } from '../examples/tfc.ts';

await runMain(async () => {
  const argv = process.argv.slice(2);
  const opt = (name: string, def: number) => {
    if (!argv.includes(`--${name}`)) return def;
    const v = Number(argv[argv.indexOf(`--${name}`) + 1]);
    if (!Number.isInteger(v) || v < 1 || v > 10_000) throw new Error(`--${name} expects an integer from 1 to 10000`);
    return v;
  };
  const count = opt('count', 10_000);
  const sample = opt('sample', 100);
  const reports: TfcReport[] = [];
  if (argv.includes('--from-json')) reports.push(...(JSON.parse(readFileSync(argv[argv.indexOf('--from-json') + 1]!, 'utf8')) as TfcReport[]));
  else for (const model of ['TFC_2W2A', 'TFC_1W1A'] as const) reports.push(await benchmarkTfc(model, count, sample, (s) => process.stderr.write(`${s}\n`)));
  if (argv.includes('--save-json')) writeFileSync(argv[argv.indexOf('--save-json') + 1]!, JSON.stringify(reports, null, 2));

  const section = [
    '<!-- bench:tfc:start -->',
    '## TFC networks from QONNX (FINN/Brevitas, MNIST)',
    '',
    `Command: \`npx tsx scripts/bench-tfc.ts --count ${count} --sample ${sample}\` (${new Date().toISOString().slice(0, 10)}). The models are`,
    '`../shared/data/qonnx/models/TFC_2W2A.onnx` (ternary weights and activations) and `TFC_1W1A.onnx`',
    '(binary), read in place. "low-bit" is the default import (ternary/binary detection on); "float32" is',
    'the same file with `--no-lowbit` (weights stay float32, MatMul and BatchNormalization run in float;',
    'the QONNX activation quantisers still run, so it computes the same network). Accuracy is the',
    `interpreter's on the first ${count.toLocaleString('en-US')} test images; cortex-m4 runs all of them in one firmware`,
    `(inputs by semihosting) and cortex-m3 and rv32imc the first ${sample}; "bit-identical" means every output`,
    "of the generated C equals the interpreter's bit for bit. Flash: the model's code, weights and the",
    'runtime and library routines it calls; RAM: static data (the arena) + the stack measured by',
    'painting. Instructions per inference: median over the images run, SysTick under `-icount shift=0`',
    '(±40) on cortex-m3/m4, `minstret` on rv32imc. The kernels are the ones the compiler chooses per',
    'target and layer (`npx tritc inspect <model> --target <t>` names each and why).',
    '',
    ...reports.flatMap((r) => [`Published top-1 of ${r.model}: ${r.published.toFixed(2)} %.`, '', reportMarkdown(r), '', comparisonLine(r), '']),
    'The comparison lines give the ratios per target: the low-bit build takes several times less flash',
    'and runs fewer instructions than float32 (by most where there is no FPU), and takes more RAM, for',
    "the LUT tables in the arena; `--max-scratch` trades that back (the examples' READMEs).",
    '',
    '<!-- bench:tfc:end -->',
  ].join('\n');

  const path = join(import.meta.dirname, '..', 'BENCHMARKS.md');
  const old = existsSync(path)
    ? readFileSync(path, 'utf8')
    : '# Benchmarks\n\nEvery figure here comes from a command given with it; instruction counts are medians over repeats.\n';
  const re = /<!-- bench:tfc:start -->[\s\S]*<!-- bench:tfc:end -->/;
  writeFileSync(path, re.test(old) ? old.replace(re, section) : `${old.trimEnd()}\n\n${section}\n`);
  process.stdout.write(`${section}\n`);

  // The size-and-speed table of each example's README.
  for (const r of reports) {
    const readme = join(import.meta.dirname, '..', 'examples', r.model.toLowerCase().replace('_', '-'), 'README.md');
    const rows = r.variants.flatMap((v) =>
      v.error
        ? [`| ${v.variant} | — | not available: ${v.error.split('\n')[0]!.replace(/\|/g, '\\|')} | | |`]
        : v.targets.map(
            (t) =>
              `| ${v.variant} | ${t.target} | ${t.flashBytes.toLocaleString('en-US')} B | ${t.ramBytes.toLocaleString('en-US')} B (${t.arenaBytes.toLocaleString('en-US')} + ${t.stackBytes.toLocaleString('en-US')}) | ${t.instructionsPerInference === null ? '—' : `${t.instructionsPerInference.toLocaleString('en-US')}${t.instructionsResolution! > 1 ? ` ±${t.instructionsResolution}` : ''}`} |`,
          ),
    );
    const block = [
      '<!-- bench:tfc:table:start (scripts/bench-tfc.ts writes this table) -->',
      `Accuracy of the float32 build (interpreter, ${r.images.toLocaleString('en-US')} images): ${r.variants.find((v) => v.variant === 'float32')?.accuracy?.toFixed(2) ?? '—'} %.`,
      '',
      '| build | target | flash | RAM (arena + stack) | instructions/inference |',
      '|---|---|---|---|---|',
      ...rows,
      '',
      comparisonLine(r),
      '<!-- bench:tfc:table:end -->',
    ].join('\n');
    const text = readFileSync(readme, 'utf8');
    const re = /<!-- bench:tfc:table:start[\s\S]*<!-- bench:tfc:table:end -->/;
    if (!re.test(text)) throw new Error(`${readme} has no bench:tfc:table markers`);
    writeFileSync(readme, text.replace(re, block));
  }
});
