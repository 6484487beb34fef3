// tritc run <model> --target <t|all>: compile, cross-compile, run under QEMU, compare with the
// interpreter bit for bit, and report sizes and instruction counts per target (api/run.ts does the
// work; this is its printout).

import { runModel, type GraphRunResult } from '../api/run.ts';
import { formatBytes, formatCount, textTable } from '../util/format.ts';
import { intOpt, stringOpt, type Command, type Io, type ParsedArgs, LM_OPTIONS, MAX_SCRATCH_OPTION, SHAPE_OPTIONS } from './command.ts';
import { printLmRun } from './lm.ts';

function printRun(r: GraphRunResult, args: ParsedArgs, io: Io): void {
  const inputsSpec = stringOpt(args, 'inputs');
  const outSpec = stringOpt(args, 'outputs');
  if (args.json) {
    io.out(JSON.stringify({ ok: r.ok, model: r.model, runs: r.runs, inputs: r.inputs, targets: r.targets }, null, 2));
    return;
  }
  io.out(`${r.model}: ${r.runs} run${r.runs === 1 ? '' : 's'} of ${inputsSpec ? inputsSpec : `seeded random inputs (seed ${intOpt(args, 'seed', 1)})`}`);
  const table: (string | number)[][] = [['target', 'bit-identical', 'flash', 'RAM (arena + stack + other)', 'instructions/inference']];
  for (const t of r.targets) {
    if (t.error) {
      table.push([t.target, 'error', '—', '—', '—']);
      continue;
    }
    table.push([
      t.target,
      t.ok ? `yes (${t.identical}/${t.runs})` : `NO (${t.identical}/${t.runs})`,
      formatBytes(t.flashBytes!),
      `${formatBytes(t.ramBytes!)} (${formatBytes(t.arenaBytes!)} + ${formatBytes(t.stackBytes!)}${t.ramBytes! > t.arenaBytes! + t.stackBytes! ? ` + ${formatBytes(t.ramBytes! - t.arenaBytes! - t.stackBytes!)}` : ''})`,
      t.instructionsPerInference === null
        ? '—'
        : `${formatCount(t.instructionsPerInference)}${t.instructionsResolution! > 1 ? ` ±${t.instructionsResolution}` : ''}`,
    ]);
  }
  io.out(textTable(table));
  for (const t of r.targets) {
    if (t.error) io.out(`${t.target}: ${t.error}`);
    for (const m of t.mismatches) io.out(`${t.target}: ${m}`);
  }
  if (outSpec && r.outputs) io.out(`outputs of ${r.targets[0]!.target} written to ${outSpec}`);
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

Inputs are NumPy files or ONNX TensorProto (.pb) files: for a model input of shape S a file
holds S (one run) or [N, ...S] (N runs). Several inputs: one file each, comma-separated, or one
.npz keyed by input name. ONNX test data set folders (input_0.pb, ...) are one run each. Without --inputs, --count runs of seeded random inputs are used. --outputs writes the
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
    inputs: {
      type: 'string',
      short: 'i',
      valueName: 'files',
      help: '.npy or .pb file(s), comma-separated in input order, one .npz, or ONNX test data set folders',
    },
    outputs: { type: 'string', short: 'o', valueName: 'files', help: 'write the outputs: .npy file(s), one per output, or one .npz' },
    'save-inputs': { type: 'string', valueName: 'files', help: 'write the inputs used (e.g. the random ones): .npy file(s), one per input, or one .npz' },
    count: { type: 'string', short: 'n', valueName: 'N', help: 'number of random input sets without --inputs (default 3)' },
    seed: { type: 'string', valueName: 'S', help: 'seed of the random inputs (default 1)' },
    keep: { type: 'string', valueName: 'dir', help: 'keep the build directories (runner.c, ELF files, inputs.bin) in <dir>' },
    timeout: { type: 'string', valueName: 'seconds', help: 'kill a run after this long (default 600)' },
  },
  async run(args, io) {
    let r;
    try {
      r = await runModel(args.positionals[0]!, args, { progress: io.progress, warn: (m) => io.err(`warning: ${m}`) });
    } finally {
      io.endProgress();
    }
    if (r.kind === 'lm') printLmRun(r, args, io);
    else printRun(r, args, io);
    return r.ok ? 0 : 1;
  },
};
