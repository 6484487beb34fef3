// compile(): a model to a directory a user can build (model.h, model.c, the runtime files, a
// Makefile, CMakeLists.txt, tritc.json; with report, report.html/json; with bindings, model.wasm and
// model.ts; with a layout, an Arduino library, a PlatformIO library or a Zephyr module).
// `tritc compile` is this and a printout.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWasm } from '../bindings/wasm.ts';
import { generateTypeScriptBindings } from '../bindings/typescript.ts';
import { bytesOpt, loadOptions, stringOpt, type ParsedArgs } from '../cli/command.ts';
import { checkFit, compileGraph, writeFilesAtomically, type FileContent } from '../compile.ts';
import { fail } from '../diagnostics.ts';
import { PASS_NAMES } from '../passes/pipeline.ts';
import { arrangeLayout, LAYOUTS, type Layout } from '../emit/layouts.ts';
import { describeMap } from '../plan/memory_map.ts';
import { loadModel } from '../readers/index.ts';
import { reportHtml } from '../report/html.ts';
import { buildReport } from '../report/report.ts';
import { getTarget } from '../targets.ts';
import { estimateStack, type StackEstimate } from '../toolchain/stack_usage.ts';
import { locateZig } from '../toolchain/zig.ts';
import type { ProgressFn } from '../util/progress.ts';
import { namingOptions, toArgs } from './args.ts';
import type { ModelOptions } from './types.ts';

export interface CompileOptions extends ModelOptions {
  /** The directory to write (required); written completely or not at all. */
  output: string;
  /** A target name (`tritc targets`); default host. */
  target?: string;
  /** Prefix of the exported C symbols (default: from the model name). */
  prefix?: string;
  /** How `output` is laid out: a plain folder (default), or a library for that build system (docs/integration.md). */
  layout?: Layout;
  /** Linker section of the static arena (default: the chosen memory region's, e.g. .ccmram); 'none': plain .bss. */
  arenaSection?: string;
  /** Kernel or weight format for the low-bit layers: an id or format for all, or node=kernel pairs (docs/kernels.md). */
  kernel?: string;
  /** RAM the kernels may take for scratch: bytes, or "4K", "1MiB". */
  maxScratch?: number | string;
  /** Also write report.html and report.json. */
  report?: boolean;
  /** Also write model.wasm and typed TypeScript bindings (model.ts). */
  bindings?: 'ts';
  /** Print the IR after this pass (to `log`). */
  dumpAfter?: string;
  /** Hears each stage, for a progress bar. */
  progress?: ProgressFn;
  /** Where --dump-after's IR goes (default stderr). */
  log?: (text: string) => void;
}

export interface CompileResult {
  ok: true;
  model: string;
  target: string;
  output: string;
  /** The files written, relative to `output`. */
  files: string[];
  /** Prefix of the C symbols: `<prefix>_run()` in model.h. */
  prefix: string;
  layers: number;
  weightsBytes: number;
  arenaBytes: number;
  arenaLowerBound: number;
  arenaOptimal: boolean;
  /** What TFLite Micro's greedy planner would need for the same tensors. */
  tflmArenaBytes: number;
  ioBytes: number;
  /** The static stack estimate (null when zig is not installed). */
  stackBytes: number | null;
  /** Placement in the target's memory regions, one line each (null for targets without memory sizes). */
  memoryMap: string[] | null;
  /** The memory plan's algorithm and whether it reordered the schedule, for the printout. */
  plan: { algorithm: string; scheduleChanged: boolean; originalPeak: number };
}

const COMPILE_FLAGS = [
  'target',
  'output',
  'prefix',
  'layout',
  'arena-section',
  'kernel',
  'max-scratch',
  'report',
  'bindings',
  'dump-after',
  'input-shape',
  'batch',
  'no-lowbit',
  'context',
  'chunk',
  'kv-cache',
  'activations',
  'weights',
  'ternarize',
  'tokenizer',
] as const;

/** What `tritc compile` does, from its parsed arguments. */
export async function compileModel(
  path: string,
  args: ParsedArgs,
  hooks: { progress?: ProgressFn; log?: (text: string) => void } = {},
): Promise<CompileResult> {
  const dumpAfter = stringOpt(args, 'dump-after');
  if (dumpAfter !== undefined && !PASS_NAMES.includes(dumpAfter))
    fail('usage', '--dump-after', `"${dumpAfter}" is not a pass; the passes are ${PASS_NAMES.join(', ')}`);
  const out = stringOpt(args, 'output');
  if (!out) fail('usage', '--output', 'is required: the directory to write (tritc compile -o <dir>)');
  const prefix = stringOpt(args, 'prefix');
  if (prefix !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix)) fail('usage', '--prefix', `"${prefix}" is not a C identifier`);
  const target = getTarget(stringOpt(args, 'target') ?? 'host');
  const layout = (stringOpt(args, 'layout') ?? 'folder') as Layout;
  if (!LAYOUTS.includes(layout)) fail('usage', '--layout', `"${layout}" is not a layout; the layouts are ${LAYOUTS.join(', ')}`);
  const arenaSectionOpt = stringOpt(args, 'arena-section');
  if (arenaSectionOpt !== undefined && arenaSectionOpt !== 'none' && !/^[.A-Za-z_][.A-Za-z0-9_$]*$/.test(arenaSectionOpt))
    fail('usage', '--arena-section', `"${arenaSectionOpt}" is not a linker section name (letters, digits, '.', '_', '$'), nor none`);
  const load = loadOptions(args);
  const bindings = stringOpt(args, 'bindings');
  if (bindings !== undefined && bindings !== 'ts') fail('usage', '--bindings', `"${bindings}" is not a bindings language; the one there is: ts`);
  hooks.progress?.(`reading ${path}`);
  const graph = loadModel(path, load);
  const c = compileGraph(graph, {
    target,
    lowBit: load.lowBit,
    prefix,
    verify: true,
    dumpAfter,
    log: hooks.log,
    progress: hooks.progress,
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
    hooks.progress?.(`estimating the stack on ${target.name}`);
    stack = await estimateStack(c.files, c.emitted.prefix, target, graph.lm ? `${c.emitted.prefix}_forward` : undefined);
    c.memoryMap = checkFit(c, stack.bytes);
  }
  const files = new Map<string, FileContent>(c.files);
  if (args.values.report === true) {
    hooks.progress?.('writing the report');
    const report = buildReport(c, stack);
    files.set('report.html', reportHtml(report));
    files.set('report.json', JSON.stringify(report, null, 2) + '\n');
  }
  if (bindings === 'ts') {
    hooks.progress?.('building model.wasm');
    const tmp = mkdtempSync(join(tmpdir(), 'tritc-wasm-'));
    try {
      files.set('model.wasm', await buildWasm(c, tmp));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    files.set('model.ts', generateTypeScriptBindings(c).source);
  }
  const written = arrangeLayout(layout, c, files);
  writeFilesAtomically(written, out, hooks.progress);
  return {
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
    plan: { algorithm: c.plan.algorithm, scheduleChanged: c.plan.schedule.changed, originalPeak: c.plan.schedule.originalPeak },
  };
}

/** Compile `model` (a model.json or its folder, an .onnx, GGUF, llama2.c or Hugging Face model) into `options.output`. */
export function compile(model: string, options: CompileOptions): Promise<CompileResult> {
  const { progress, log, ...rest } = options;
  return namingOptions(() => compileModel(model, toArgs(rest, COMPILE_FLAGS), { progress, log }));
}
