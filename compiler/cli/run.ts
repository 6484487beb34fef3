// tritc run <model> --target <t|all>: compile, cross-compile, run under QEMU, compare with the
// interpreter bit for bit, and report sizes and instruction counts per target.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compileGraph } from '../compile.ts';
import { TritcError, formatDiagnostic } from '../diagnostics.ts';
import { loadModel } from '../readers/index.ts';
import { runLanguageModel } from './lm.ts';
import { describeMismatch, firstMismatch } from '../harness/compare.ts';
import { loadInputRuns, randomRuns, saveInputRuns, saveOutputRuns } from '../harness/inputs.ts';
import { runOnTarget } from '../harness/run_target.ts';
import { interpret } from '../interpret.ts';
import { cloneGraph, type Graph, type TypedData } from '../ir.ts';
import { resolveTargets, type TargetDesc } from '../targets.ts';
import { requireQemu } from '../toolchain/qemu.ts';
import { requireZig } from '../toolchain/zig.ts';
import { formatBytes, formatCount, textTable } from '../util/format.ts';
import { bytesOpt, intOpt, MAX_SCRATCH_OPTION, stringOpt, type Command, LM_OPTIONS, loadOptions, SHAPE_OPTIONS } from './command.ts';

interface TargetRow {
  target: string;
  ok: boolean;
  runs: number;
  identical: number;
  flashBytes: number | null;
  ramBytes: number | null;
  arenaBytes: number | null;
  stackBytes: number | null;
  instructionsPerInference: number | null;
  /** ± this many instructions (the counter's resolution). */
  instructionsResolution: number | null;
  mismatches: string[];
  error?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function runOne(
  target: TargetDesc,
  graph: Graph,
  runs: Map<string, TypedData>[],
  expected: Map<string, TypedData>[],
  workDir: string,
  opts: { timeoutSeconds: number; kernel?: string; maxScratch?: number; lowBit: boolean },
): Promise<{ row: TargetRow; outputs?: Map<string, TypedData>[] }> {
  const { timeoutSeconds, kernel, maxScratch, lowBit } = opts;
  const row: TargetRow = {
    target: target.name,
    ok: false,
    runs: runs.length,
    identical: 0,
    flashBytes: null,
    ramBytes: null,
    arenaBytes: null,
    stackBytes: null,
    instructionsPerInference: null,
    instructionsResolution: null,
    mismatches: [],
  };
  try {
    const compiled = compileGraph(cloneGraph(graph), { target, verify: true, kernel, maxScratch, lowBit });
    const res = await runOnTarget([{ compiled, runs, dir: 'model' }], target, join(workDir, target.name), { timeoutSeconds });
    const records = res.records[0]!;
    const outs: Map<string, TypedData>[] = [];
    records.forEach((rec, r) => {
      let same = true;
      const named = new Map<string, TypedData>();
      for (const d of compiled.emitted.io.outputs) {
        const got = rec.outputs.get(d.cname)!;
        named.set(d.name, got);
        const m = firstMismatch(got, expected[r]!.get(d.name)!);
        if (m) {
          same = false;
          if (row.mismatches.length < 5) row.mismatches.push(describeMismatch(d.name, r, m));
        }
      }
      outs.push(named);
      if (same) row.identical++;
    });
    const stack = Math.max(...records.map((r) => r.stackBytes));
    const fp = res.footprints[0]!;
    row.flashBytes = fp.flash;
    row.arenaBytes = compiled.plan.arenaBytes;
    row.stackBytes = stack;
    row.ramBytes = fp.ram + stack;
    if (target.counter) {
      row.instructionsPerInference = Math.round(median(records.map((r) => r.counter)) * target.counter.instructionsPerUnit);
      row.instructionsResolution = target.counter.resolutionInstructions;
    }
    row.ok = row.identical === runs.length;
    return { row, outputs: outs };
  } catch (e) {
    if (!(e instanceof TritcError)) throw e;
    row.error = e.diagnostics.map(formatDiagnostic).join('; ');
    return { row };
  }
}

export const runCommand: Command = {
  name: 'run',
  summary: 'compile, run under QEMU and check bit-exactness against the interpreter',
  usage: 'tritc run <model> --target <target|all> [--inputs x.npy[,y.npy] | --inputs in.npz] [--outputs y.npy | out.npz]',
  description: `Compiles <model> for each target, cross-compiles the C with Zig, runs it (natively, under
qemu-user, or on an emulated microcontroller), runs the same inputs through the reference
interpreter and compares every output bit for bit. Prints one row per target: whether the outputs
are bit-identical, flash bytes (the model's code + weights, and library routines it calls), RAM
bytes (arena + stack measured by painting + other static data, e.g. relocated constants on Linux)
and, where the
target can count them (cortex-m3/m4: SysTick under -icount, +-40; rv32imc: minstret, exact),
instructions per inference (median over the runs).

Inputs are NumPy files: for a model input of shape S a file holds S (one run) or [N, ...S]
(N runs). Several inputs: one file each, comma-separated, or one .npz keyed by input name.
Without --inputs, --count runs of seeded random inputs are used. --outputs writes the
outputs of the first target the same way. Exit status 0 only if every target ran and matched.`,
  positionals: { min: 1, max: 1 },
  options: {
    ...SHAPE_OPTIONS,
    ...LM_OPTIONS,
    'no-lowbit': { type: 'boolean', help: 'ONNX: keep weights float32 (no ternary/binary detection, no folding into low-bit layers)' },
    target: { type: 'string', short: 't', valueName: 'target', help: 'a target, a comma-separated list, or all (default host)' },
    kernel: {
      type: 'string',
      valueName: 'spec',
      help: 'kernel or weight format for the low-bit layers: an id or format for all (t5, t5w.lut), or node=kernel pairs (docs/kernels.md)',
    },
    'max-scratch': MAX_SCRATCH_OPTION,
    inputs: { type: 'string', short: 'i', valueName: 'files', help: '.npy file(s), comma-separated in input order, or one .npz' },
    outputs: { type: 'string', short: 'o', valueName: 'files', help: 'write the outputs: .npy file(s), one per output, or one .npz' },
    'save-inputs': { type: 'string', valueName: 'files', help: 'write the inputs used (e.g. the random ones): .npy file(s), one per input, or one .npz' },
    count: { type: 'string', short: 'n', valueName: 'N', help: 'number of random input sets without --inputs (default 3)' },
    seed: { type: 'string', valueName: 'S', help: 'seed of the random inputs (default 1)' },
    keep: { type: 'string', valueName: 'dir', help: 'keep the build directories (runner.c, ELF files, inputs.bin) in <dir>' },
    timeout: { type: 'string', valueName: 'seconds', help: 'kill a run after this long (default 600)' },
  },
  async run(args, io) {
    const modelArg = args.positionals[0]!;
    const targets = resolveTargets(stringOpt(args, 'target') ?? 'host');
    const load = loadOptions(args);
    const lowBit = load.lowBit;
    const graph = loadModel(modelArg, load);
    if (graph.lm) return runLanguageModel(graph, targets, args, io);
    // Fail early, with the install hint, rather than after the first build.
    requireZig();
    for (const t of targets) requireQemu(t);
    const inputsSpec = stringOpt(args, 'inputs');
    const { runs, batched } = inputsSpec
      ? loadInputRuns(graph, inputsSpec, (m) => io.err(`warning: ${m}`))
      : { runs: randomRuns(graph, intOpt(args, 'count', 3, 1), intOpt(args, 'seed', 1)), batched: true };
    io.progress(`interpreting ${runs.length} run${runs.length === 1 ? '' : 's'}...`);
    const expected = runs.map((r) => interpret(graph, r));
    const keep = stringOpt(args, 'keep');
    const workDir = keep ? resolve(keep) : mkdtempSync(join(tmpdir(), 'tritc-run-'));
    const timeoutSeconds = intOpt(args, 'timeout', 600, 1);
    const rows: TargetRow[] = [];
    let firstOutputs: Map<string, TypedData>[] | undefined;
    try {
      for (const [i, t] of targets.entries()) {
        io.progress(`[${i + 1}/${targets.length}] ${t.name}: building and running ${runs.length} run${runs.length === 1 ? '' : 's'}...`);
        const { row, outputs } = await runOne(t, graph, runs, expected, workDir, {
          timeoutSeconds,
          kernel: stringOpt(args, 'kernel'),
          maxScratch: bytesOpt(args, 'max-scratch'),
          lowBit,
        });
        rows.push(row);
        firstOutputs ??= outputs;
      }
    } finally {
      io.endProgress();
      if (!keep) rmSync(workDir, { recursive: true, force: true });
    }
    const saveInputs = stringOpt(args, 'save-inputs');
    if (saveInputs) saveInputRuns(graph, runs, saveInputs, batched);
    const outSpec = stringOpt(args, 'outputs');
    if (outSpec && firstOutputs) saveOutputRuns(graph, firstOutputs, outSpec, batched);
    const allOk = rows.every((r) => r.ok);
    if (args.json) {
      io.out(
        JSON.stringify(
          { ok: allOk, model: graph.name, runs: runs.length, inputs: inputsSpec ?? `random (seed ${intOpt(args, 'seed', 1)})`, targets: rows },
          null,
          2,
        ),
      );
    } else {
      io.out(
        `${graph.name}: ${runs.length} run${runs.length === 1 ? '' : 's'} of ${inputsSpec ? inputsSpec : `seeded random inputs (seed ${intOpt(args, 'seed', 1)})`}`,
      );
      const table: (string | number)[][] = [['target', 'bit-identical', 'flash', 'RAM (arena + stack + other)', 'instructions/inference']];
      for (const r of rows) {
        if (r.error) {
          table.push([r.target, 'error', '—', '—', '—']);
          continue;
        }
        table.push([
          r.target,
          r.ok ? `yes (${r.identical}/${r.runs})` : `NO (${r.identical}/${r.runs})`,
          formatBytes(r.flashBytes!),
          `${formatBytes(r.ramBytes!)} (${formatBytes(r.arenaBytes!)} + ${formatBytes(r.stackBytes!)}${r.ramBytes! > r.arenaBytes! + r.stackBytes! ? ` + ${formatBytes(r.ramBytes! - r.arenaBytes! - r.stackBytes!)}` : ''})`,
          r.instructionsPerInference === null
            ? '—'
            : `${formatCount(r.instructionsPerInference)}${r.instructionsResolution! > 1 ? ` ±${r.instructionsResolution}` : ''}`,
        ]);
      }
      io.out(textTable(table));
      for (const r of rows) {
        if (r.error) io.out(`${r.target}: ${r.error}`);
        for (const m of r.mismatches) io.out(`${r.target}: ${m}`);
      }
      if (outSpec && firstOutputs) io.out(`outputs of ${rows[0]!.target} written to ${outSpec}`);
    }
    return allOk ? 0 : 1;
  },
};
