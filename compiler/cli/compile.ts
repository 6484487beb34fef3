// tritc compile <model> --target <t> -o <dir> (api/compile.ts does the work; this is its printout).

import { compileModel } from '../api/compile.ts';
import { LAYOUTS } from '../emit/layouts.ts';
import { fail } from '../diagnostics.ts';
import { PASS_NAMES } from '../passes/pipeline.ts';
import { formatBytes } from '../util/format.ts';
import { stringOpt, type Command, LM_OPTIONS, MAX_SCRATCH_OPTION, SHAPE_OPTIONS } from './command.ts';

export const compileCommand: Command = {
  name: 'compile',
  summary: 'compile a model to C (model.h, model.c, runtime files, Makefile)',
  usage:
    'tritc compile <model> --target <target> -o <dir> [--layout folder|arduino|platformio|zephyr] [--prefix <name>] [--arena-section <name>] [--kernel <spec>] [--max-scratch <bytes>] [--no-lowbit] [--report] [--bindings ts]',
  description: `Reads <model> (a model.json, a directory holding one, or an ONNX/QONNX .onnx file), checks it, plans its memory and
writes standalone C99 into <dir>: model.h, model.c, the runtime-c files it calls, a Makefile and
a CMakeLists.txt, and tritc.json (the plan and layer table, for tools). The directory is written
completely or not at all. A model that does not fit the target's memory (weights, arena,
inputs/outputs and the stack, over the target's memory regions) is an error that shows the
breakdown. The stack is a static estimate: the C is compiled with zig cc for the target and the
deepest call chain's frames are added up (skipped, with a note, when zig is not installed).
With --report, <dir> also gets report.html (the arena over time, the layers, flash and RAM
against the target's limits; one self-contained page) and report.json (the same data).
With --bindings ts it also writes model.wasm (the same C built for wasm32) and model.ts: typed
TypeScript bindings (an inputs and an outputs interface, a spec, and a class that loads and runs the
module) to run the model bit-exactly from Node or a browser.
With --layout arduino, <dir> is an Arduino library (library.properties, src/, an example sketch);
platformio adds library.json; zephyr makes a Zephyr module (zephyr/module.yml, CMakeLists.txt,
Kconfig). tritc's CMake module and Make fragment run this command in your build (docs/integration.md).`,
  positionals: { min: 1, max: 1 },
  options: {
    ...SHAPE_OPTIONS,
    ...LM_OPTIONS,
    'no-lowbit': { type: 'boolean', help: 'ONNX: keep weights float32 (no ternary/binary detection, no folding into low-bit layers)' },
    target: { type: 'string', short: 't', valueName: 'target', help: 'the target to compile for (tritc targets lists them); default host' },
    kernel: {
      type: 'string',
      valueName: 'spec',
      help: 'kernel or weight format for the low-bit layers: an id or format for all (t5, t5w.lut), or node=kernel pairs (docs/kernels.md)',
    },
    'max-scratch': MAX_SCRATCH_OPTION,
    output: { type: 'string', short: 'o', valueName: 'dir', help: 'output directory (required)' },
    prefix: { type: 'string', valueName: 'name', help: 'prefix of the exported C symbols (default: from the model name)' },
    'arena-section': {
      type: 'string',
      valueName: 'name',
      help: "linker section of the static arena, for your linker script (default: the chosen memory region's, e.g. .ccmram for cortex-m4's CCM; none: plain .bss)",
    },
    report: { type: 'boolean', help: 'also write report.html and report.json (the memory plan, layers, totals)' },
    'dump-after': { type: 'string', valueName: 'pass', help: `print the IR after this pass (${PASS_NAMES.join(', ')})` },
    layout: {
      type: 'string',
      valueName: 'kind',
      help: `how <dir> is laid out: ${LAYOUTS.join(', ')} (a library for that build system; default folder; docs/integration.md)`,
    },
    bindings: { type: 'string', valueName: 'ts', help: 'also write model.wasm and typed TypeScript bindings model.ts (needs Zig)' },
  },
  async run(args, io) {
    if (!stringOpt(args, 'output')) fail('usage', '', 'tritc compile needs -o <dir> (tritc compile --help)');
    let r;
    try {
      r = await compileModel(args.positionals[0]!, args, { progress: io.progress, log: io.err });
    } finally {
      io.endProgress();
    }
    if (args.json) {
      const { plan: _plan, ...summary } = r;
      io.out(JSON.stringify(summary, null, 2));
      return 0;
    }
    const out = r.output;
    io.out(
      [
        `compiled ${r.model} for ${r.target} into ${out}/`,
        `  files:   ${r.files.join(', ')}`,
        `  layers:  ${r.layers}; entry point ${r.prefix}_run() in model.h`,
        `  weights: ${formatBytes(r.weightsBytes)} (const)`,
        `  arena:   ${formatBytes(r.arenaBytes)} (lower bound ${formatBytes(r.arenaLowerBound)}${r.arenaOptimal ? (r.arenaBytes === r.arenaLowerBound ? ', reached' : ', optimal for this schedule') : ''}; ${r.plan.algorithm}; TFLite Micro's greedy planner: ${formatBytes(r.tflmArenaBytes)})${r.plan.scheduleChanged ? `, schedule reordered (peak ${formatBytes(r.plan.originalPeak)} in file order)` : ''}`,
        `  RAM:     arena ${formatBytes(r.arenaBytes)} + inputs/outputs ${formatBytes(r.ioBytes)} + stack ${r.stackBytes !== null ? `~${formatBytes(r.stackBytes)} (static estimate)` : 'not estimated (zig not found)'}`,
        ...(r.memoryMap ?? []).map((l) => `  memory:  ${l}`),
        ...(args.values.report === true ? [`  report:  ${out}/report.html`] : []),
      ].join('\n'),
    );
    return 0;
  },
};
