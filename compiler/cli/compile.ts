// tritc compile <model> --target <t> -o <dir>

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWasm } from '../bindings/wasm.ts';
import { generateTypeScriptBindings } from '../bindings/typescript.ts';
import { checkFit, compileGraph, writeFilesAtomically, type FileContent } from '../compile.ts';
import { describeMap } from '../plan/memory_map.ts';
import { arrangeLayout, LAYOUTS, type Layout } from '../emit/layouts.ts';
import { reportHtml } from '../report/html.ts';
import { buildReport } from '../report/report.ts';
import { estimateStack, type StackEstimate } from '../toolchain/stack_usage.ts';
import { locateZig } from '../toolchain/zig.ts';
import { fail } from '../diagnostics.ts';
import { loadModel } from '../readers/index.ts';
import { PASS_NAMES } from '../passes/pipeline.ts';
import { getTarget } from '../targets.ts';
import { formatBytes } from '../util/format.ts';
import { bytesOpt, MAX_SCRATCH_OPTION, stringOpt, type Command, LM_OPTIONS, loadOptions, SHAPE_OPTIONS } from './command.ts';

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
    const dumpAfter = stringOpt(args, 'dump-after');
    if (dumpAfter !== undefined && !PASS_NAMES.includes(dumpAfter))
      fail('usage', '--dump-after', `"${dumpAfter}" is not a pass; the passes are ${PASS_NAMES.join(', ')}`);
    const out = stringOpt(args, 'output');
    if (!out) fail('usage', '', 'tritc compile needs -o <dir> (tritc compile --help)');
    const prefix = stringOpt(args, 'prefix');
    if (prefix !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix)) fail('usage', '--prefix', `"${prefix}" is not a C identifier`);
    const target = getTarget(stringOpt(args, 'target') ?? 'host');
    const layout = (stringOpt(args, 'layout') ?? 'folder') as Layout;
    if (!LAYOUTS.includes(layout)) fail('usage', '--layout', `"${layout}" is not a layout; the layouts are ${LAYOUTS.join(', ')}`);
    const arenaSectionOpt = stringOpt(args, 'arena-section');
    if (arenaSectionOpt !== undefined && arenaSectionOpt !== 'none' && !/^[.A-Za-z_][.A-Za-z0-9_$]*$/.test(arenaSectionOpt))
      fail('usage', '--arena-section', `"${arenaSectionOpt}" is not a linker section name (letters, digits, '.', '_', '$'), nor none`);
    const load = loadOptions(args);
    if (stringOpt(args, 'delta') !== undefined)
      fail(
        'usage',
        '--delta',
        'a delta is applied at run time: compile with --deltas, then load the blob with <prefix>_load_delta (tritc run and generate take --delta)',
      );
    const lowBit = load.lowBit;
    const graph = loadModel(args.positionals[0]!, load);
    const c = compileGraph(graph, {
      target,
      lowBit,
      prefix,
      verify: true,
      dumpAfter,
      log: io.err,
      kernel: stringOpt(args, 'kernel'),
      maxScratch: bytesOpt(args, 'max-scratch'),
      // A library for Arduino or PlatformIO cannot know the board's linker script: the arena stays in
      // .bss unless --arena-section names a section; Zephyr's scripts place CCM as .ccm_noinit.
      arenaSection: arenaSectionOpt === 'none' ? null : (arenaSectionOpt ?? (layout === 'arduino' || layout === 'platformio' ? null : undefined)),
      regionSections: layout === 'zephyr' ? { ccm: '.ccm_noinit' } : undefined,
    });
    // The stack needs the C compiled for the target; with it, check the fit again, RAM complete.
    let stack: StackEstimate | undefined;
    if (locateZig()) {
      io.progress(`estimating the stack on ${target.name}...`);
      stack = await estimateStack(c.files, c.emitted.prefix, target, graph.lm ? `${c.emitted.prefix}_forward` : undefined);
      io.endProgress();
      c.memoryMap = checkFit(c, stack.bytes);
    }
    const files = new Map<string, FileContent>(c.files);
    if (args.values.report === true) {
      const report = buildReport(c, stack);
      files.set('report.html', reportHtml(report));
      files.set('report.json', JSON.stringify(report, null, 2) + '\n');
    }
    const bindings = stringOpt(args, 'bindings');
    if (bindings !== undefined) {
      if (bindings !== 'ts') fail('usage', '--bindings', `"${bindings}" is not a bindings language; the one there is: ts`);
      const tmp = mkdtempSync(join(tmpdir(), 'tritc-wasm-'));
      try {
        files.set('model.wasm', await buildWasm(c, tmp));
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
      files.set('model.ts', generateTypeScriptBindings(c).source);
    }
    const written = arrangeLayout(layout, c, files);
    writeFilesAtomically(written, out);
    const summary = {
      ok: true,
      model: graph.name,
      target: target.name,
      output: out,
      files: [...written.keys()],
      prefix: c.emitted.prefix,
      layers: graph.nodes.length,
      weightsBytes: c.weightsBytes,
      arenaBytes: c.plan.arenaBytes,
      arenaLowerBound: c.plan.lowerBound,
      arenaOptimal: c.plan.optimal,
      tflmArenaBytes: c.plan.tflmBytes,
      ioBytes: c.ioBytes,
      stackBytes: stack?.bytes ?? null,
      memoryMap: c.memoryMap ? describeMap(c.memoryMap) : null,
    };
    if (args.json) io.out(JSON.stringify(summary, null, 2));
    else
      io.out(
        [
          `compiled ${graph.name} for ${target.name} into ${out}/`,
          `  files:   ${summary.files.join(', ')}`,
          `  layers:  ${summary.layers}; entry point ${c.emitted.prefix}_run() in model.h`,
          `  weights: ${formatBytes(c.weightsBytes)} (const)`,
          `  arena:   ${formatBytes(c.plan.arenaBytes)} (lower bound ${formatBytes(c.plan.lowerBound)}${c.plan.optimal ? (c.plan.arenaBytes === c.plan.lowerBound ? ', reached' : ', optimal for this schedule') : ''}; ${c.plan.algorithm}; TFLite Micro's greedy planner: ${formatBytes(c.plan.tflmBytes)})${c.plan.schedule.changed ? `, schedule reordered (peak ${formatBytes(c.plan.schedule.originalPeak)} in file order)` : ''}`,
          `  RAM:     arena ${formatBytes(c.plan.arenaBytes)} + inputs/outputs ${formatBytes(c.ioBytes)} + stack ${stack ? `~${formatBytes(stack.bytes)} (static estimate)` : 'not estimated (zig not found)'}`,
          ...(c.memoryMap ? describeMap(c.memoryMap).map((l) => `  memory:  ${l}`) : []),
          ...(args.values.report === true ? [`  report:  ${out}/report.html`] : []),
        ].join('\n'),
      );
    return 0;
  },
};
