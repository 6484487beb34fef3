// tritc test [tritc-test.json]: the regression tests a user keeps (docs/testing.md). --update writes
// the golden outputs from the interpreter; without it every model is built and run on every target
// the manifest lists and compared bit for bit with them, and held to its budgets. --shard k/n runs a
// stable share of the cases (a CI matrix of n jobs), --merge joins the jobs' JUnit files.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fail, formatDiagnostic, TritcError } from '../diagnostics.ts';
import { writeOutputFile } from '../harness/inputs.ts';
import { interpret } from '../interpret.ts';
import { LmSession } from '../lm/session.ts';
import { loadModel } from '../readers/index.ts';
import { allCases, parseShard, selectCases, selectShard, type TestCase } from '../regression/cases.ts';
import { inputRuns, tokenRuns, writeGolden, writeGoldenLogits } from '../regression/golden.ts';
import { junitReport, mergeJunit } from '../regression/junit.ts';
import { DEFAULT_MANIFEST, readManifest, type ModelEntry } from '../regression/manifest.ts';
import { emptyResult, loadCaseData, runCase, type CaseResult, type CompileChoices, type LoadedModel } from '../regression/run_case.ts';
import { formatBytes, formatCount, textTable } from '../util/format.ts';
import { bytesOpt, loadOptions, stringOpt, type Command, type Io, type ParsedArgs } from './command.ts';
import type { Graph } from '../ir.ts';

/** A model's manifest options read as `tritc run` reads its command line; a bad value names the field. */
function modelOptions(m: ModelEntry): { load: ReturnType<typeof loadOptions>; compile: CompileChoices } {
  const args: ParsedArgs = { positionals: [], values: m.options, json: false, verbose: false };
  try {
    const load = loadOptions(args);
    return { load, compile: { kernel: stringOpt(args, 'kernel'), maxScratch: bytesOpt(args, 'max-scratch'), lowBit: load.lowBit } };
  } catch (e) {
    if (!(e instanceof TritcError)) throw e;
    fail('schema', `${m.where}.options`, e.diagnostics.map((d) => `${d.where.replace(/^--/, '')}: ${d.message}`).join('; '));
  }
}

function loadGraph(m: ModelEntry): { graph: Graph; compile: CompileChoices } {
  const { load, compile } = modelOptions(m);
  return { graph: loadModel(m.model, load), compile };
}

/** What a case measured, in a few words (the table's columns, and the JUnit report's system-out). */
function measuredText(r: CaseResult): string {
  if (r.flashBytes === null) return '';
  return [
    `flash ${formatBytes(r.flashBytes)}`,
    `RAM ${formatBytes(r.ramBytes!)} (arena ${formatBytes(r.arenaBytes!)} + stack ${formatBytes(r.stackBytes!)})`,
    ...(r.instructions !== null ? [`${formatCount(r.instructions)} instructions/${r.instructionsPer}`] : []),
    ...(r.accuracy !== null ? [`accuracy ${(r.accuracy * 100).toFixed(2)} %`] : []),
  ].join(', ');
}

function resultWord(r: CaseResult): string {
  if (r.status === 'pass') return 'pass';
  if (r.status === 'error') return 'ERROR';
  if (r.mismatch) return `DIFFERS (${r.identical}/${r.compared})`;
  return 'OVER BUDGET';
}

async function update(manifestPath: string, models: readonly ModelEntry[], args: ParsedArgs, io: Io): Promise<number> {
  const written: { model: string; runs: number; files: string[] }[] = [];
  try {
    for (const [i, m] of models.entries()) {
      io.progress(`[${i + 1}/${models.length}] ${m.name}: interpreting`);
      const { graph } = loadGraph(m);
      if (graph.lm) {
        const runs = tokenRuns(m, graph);
        const session = new LmSession(graph);
        const logits = runs.map((r) => {
          session.reset();
          return session.forward(r);
        });
        written.push({ model: m.name, runs: runs.length, files: [writeGoldenLogits(m, graph, logits)] });
      } else {
        const runs = inputRuns(m, graph, (message) => io.err(`warning: ${message}`));
        written.push({
          model: m.name,
          runs: runs.length,
          files: writeGolden(
            m,
            graph,
            runs.map((r) => interpret(graph, r)),
          ),
        });
      }
    }
  } finally {
    io.endProgress();
  }
  if (args.json) io.out(JSON.stringify({ ok: true, manifest: manifestPath, updated: written }, null, 2));
  else {
    io.out(`${manifestPath}: golden outputs written from the interpreter`);
    for (const w of written)
      io.out(
        `  ${w.model}: ${w.runs} run${w.runs === 1 ? '' : 's'} -> ${w.files.length > 3 ? `${w.files.length} files (${w.files[0]}, ...)` : w.files.join(', ')}`,
      );
  }
  return 0;
}

async function merge(args: ParsedArgs, io: Io): Promise<number> {
  const out = stringOpt(args, 'output');
  if (!out) fail('usage', '--merge', 'needs -o <file> for the merged report (tritc test --merge a.xml b.xml -o all.xml)');
  if (args.positionals.length === 0) fail('usage', '--merge', 'needs the JUnit files to merge');
  const m = mergeJunit(args.positionals);
  writeOutputFile(out, new TextEncoder().encode(m.xml));
  const ok = m.failures === 0 && m.errors === 0;
  if (args.json) io.out(JSON.stringify({ ok, output: out, files: args.positionals, tests: m.tests, failures: m.failures, errors: m.errors }, null, 2));
  else
    io.out(
      `merged ${args.positionals.length} file${args.positionals.length === 1 ? '' : 's'} into ${out}: ${m.tests} cases, ${m.failures} failed, ${m.errors} errors`,
    );
  return ok ? 0 : 1;
}

export const testCommand: Command = {
  name: 'test',
  summary: 'run the regression tests of a manifest (tritc-test.json) on every target, against golden outputs',
  usage: 'tritc test [tritc-test.json] [--update] [--shard k/n] [--junit report.xml] [--bisect] | tritc test --merge a.xml b.xml ... -o all.xml',
  description: `Reads the manifest (default ./tritc-test.json; docs/testing.md): models, the targets each runs on,
inputs (.npy, .npz, ONNX TensorProto .pb files or test data set folders, or seeded random),
golden outputs, compile options and budgets. --update writes the golden outputs from the
interpreter. Without it, every model is compiled for every listed target, built, run (natively,
under qemu-user, or on an emulated microcontroller) and its outputs compared bit for bit with the
goldens; the first differing element is named. Budgets (flash, RAM, instructions per inference or
per token, accuracy on a labelled set) fail the case they are exceeded in, naming the budget.
--bisect rebuilds a differing case with every layer's outputs dumped and names the first layer
that differs from the interpreter. --shard k/n runs the cases whose id hashes to share k of n,
so n CI jobs run every case once; --merge joins their JUnit files (exit 1 if any case failed).
Exit status 0 only if every case passed.`,
  positionals: { min: 0, max: Infinity },
  options: {
    update: { type: 'boolean', help: 'write the golden outputs from the interpreter (every model; no targets run)' },
    junit: { type: 'string', valueName: 'file', help: 'write a JUnit XML report' },
    shard: { type: 'string', valueName: 'k/n', help: 'run share k of n of the cases (stable: by a hash of the case id)' },
    bisect: { type: 'boolean', help: 'on a difference, dump every layer and name the first that differs from the interpreter' },
    merge: { type: 'boolean', help: 'join the JUnit files given as arguments into -o <file>' },
    output: { type: 'string', short: 'o', valueName: 'file', help: 'with --merge: the merged report' },
    only: { type: 'string', valueName: 'ids', help: 'run only these cases: ids or patterns, comma-separated (digits@*, *@cortex-m4)' },
    keep: { type: 'string', valueName: 'dir', help: 'keep the build directories in <dir>' },
  },
  async run(args, io) {
    if (args.values.merge === true) return merge(args, io);
    if (args.positionals.length > 1) fail('usage', '', `tritc test takes one manifest, got ${args.positionals.length} (to join JUnit files: --merge)`);
    if (stringOpt(args, 'output') !== undefined) fail('usage', '-o', 'is for --merge; the report of a run goes to --junit <file>');
    const manifestPath = args.positionals[0] ?? DEFAULT_MANIFEST;
    const shardText = stringOpt(args, 'shard');
    const shard = shardText === undefined ? undefined : parseShard(shardText);
    const manifest = readManifest(manifestPath);
    if (args.values.update === true) {
      if (shard) fail('usage', '--update', "writes every model's goldens; run it without --shard");
      return update(manifestPath, manifest.models, args, io);
    }
    const cases = allCases(manifest);
    const only = stringOpt(args, 'only');
    const selected = selectShard(only === undefined ? cases : selectCases(cases, only), shard);
    const keep = stringOpt(args, 'keep');
    const workDir = keep ? resolve(keep) : mkdtempSync(join(tmpdir(), 'tritc-test-'));
    const results: CaseResult[] = [];
    const loaded = new Map<ModelEntry, LoadedModel | TritcError>();
    const load = (c: TestCase): LoadedModel | TritcError => {
      let l = loaded.get(c.model);
      if (!l) {
        try {
          const { graph, compile } = loadGraph(c.model);
          l = loadCaseData(c.model, graph, compile, (message) => io.err(`warning: ${message}`));
        } catch (e) {
          if (!(e instanceof TritcError)) throw e;
          l = e;
        }
        loaded.set(c.model, l);
      }
      return l;
    };
    try {
      for (const [i, c] of selected.entries()) {
        const step = (text: string) => io.progress(`${c.id}: ${text}`, { done: i, total: selected.length });
        step('loading the model, inputs and goldens');
        const l = load(c);
        if (l instanceof TritcError) {
          const r = emptyResult(c);
          r.problems.push(...l.diagnostics.map(formatDiagnostic));
          results.push(r);
          continue;
        }
        results.push(await runCase(c, l, { workDir, timeoutSeconds: manifest.timeoutSeconds, bisect: args.values.bisect === true, onPhase: step }));
      }
    } finally {
      io.endProgress();
      if (!keep) rmSync(workDir, { recursive: true, force: true });
    }
    const ok = results.every((r) => r.status === 'pass');
    const junit = stringOpt(args, 'junit');
    if (junit)
      writeOutputFile(junit, new TextEncoder().encode(junitReport(manifestPath, results, { shard: shardText, timestamp: new Date(), measured: measuredText })));
    const scope = shard
      ? `shard ${shard.index}/${shard.count}: ${selected.length} of ${cases.length} cases`
      : `${cases.length} case${cases.length === 1 ? '' : 's'}`;
    if (args.json) {
      io.out(
        JSON.stringify({ ok, manifest: manifestPath, shard: shard ? `${shard.index}/${shard.count}` : null, total: cases.length, cases: results }, null, 2),
      );
      return ok ? 0 : 1;
    }
    io.out(`${manifestPath}: ${scope}`);
    if (results.length) {
      const table: (string | number)[][] = [['case', 'result', 'flash', 'RAM', 'instructions', 'accuracy', 'time']];
      for (const r of results)
        table.push([
          r.id,
          resultWord(r),
          r.flashBytes === null ? '—' : formatBytes(r.flashBytes),
          r.ramBytes === null ? '—' : formatBytes(r.ramBytes),
          r.instructions === null ? '—' : `${formatCount(r.instructions)}${r.instructionsPer === 'token' ? '/token' : ''}`,
          r.accuracy === null ? '—' : `${(r.accuracy * 100).toFixed(2)} %`,
          `${r.seconds.toFixed(1)} s`,
        ]);
      io.out(textTable(table));
    }
    for (const r of results) {
      for (const p of r.problems) io.out(`${r.id}: ${p}`);
      if (r.bisect) io.out(`${r.id}: bisect: ${r.bisect}`);
    }
    const passed = results.filter((r) => r.status === 'pass').length;
    io.out(`${passed} of ${results.length} passed${junit ? `; JUnit report: ${junit}` : ''}`);
    return ok ? 0 : 1;
  },
};
