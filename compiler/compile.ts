// The compile pipeline end to end: passes -> memory plan -> C -> a directory a user can build.
//
//   loadModel (readers/)  ->  runPasses (passes/pipeline.ts)  ->  planMemory  ->  emitC  ->  checkFit  ->  files

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fail } from './diagnostics.ts';
import { DTYPE_INFO } from './dtypes.ts';
import { emitC, type EmittedModel } from './emit/c.ts';
import type { Graph } from './ir.ts';
import { getOp } from './ops/index.ts';
import { runPasses, type PassOptions } from './passes/pipeline.ts';
import { liveBytesPerStep } from './plan/liveness.ts';
import { buildMemoryMap, type MapItem, type MemoryMap } from './plan/memory_map.ts';
import { planMemory, type MemoryPlan } from './plan/planner.ts';
import { RUNTIME_DIR, type TargetDesc } from './targets.ts';
import { formatBytes, formatBytesPair } from './util/format.ts';
import { TRITC_VERSION } from './version.ts';

export interface CompileOptions extends Omit<PassOptions, 'target' | 'kernels'> {
  target: TargetDesc;
  prefix?: string;
  /** Skip the target memory check (tests that compile huge models for the host). */
  skipFitCheck?: boolean;
  /** Kernel / weight format overrides: an id or format for all low-bit layers, or node=kernel pairs
   * (`--kernel`, docs/kernels.md). */
  kernel?: string;
  /** The most RAM kernel scratch (LUT tables) may take (`--max-scratch`); default: a quarter of the
   * target's RAM, and never more than the arena, inputs, outputs and stack leave. */
  maxScratch?: number;
  /** Testing knobs of the kernel choice (compiler/kernels/choose.ts): a smaller flush, smaller LUT windows. */
  forceFlush?: number;
  maxLutWindow?: number;
}

export interface LayerInfo {
  step: number;
  node: string;
  op: string;
  kernel: string;
  macs: number;
  weightBytes: number;
  /** Bytes of arena buffers live during this step. */
  liveBytes: number;
  outputs: { name: string; dtype: string; shape: number[] }[];
  annotations: Record<string, string | number>;
  /** Low-bit layers: what the choose-kernels pass decided (node.choice), for tools. */
  choice?: { kernel: string; format: string; reason: string; accumulator: string; codeBytes: number; scratchBytes: number; window: number };
}

export interface Compiled {
  graph: Graph;
  plan: MemoryPlan;
  emitted: EmittedModel;
  target: TargetDesc;
  /** Relative path -> contents of every file of the output directory. */
  files: Map<string, string>;
  weightsBytes: number;
  ioBytes: number;
  layers: LayerInfo[];
  /** Placement in the target's memory regions (targets that declare memory, after checkFit). */
  memoryMap?: MemoryMap;
}

/**
 * Everything `compileGraph` does to a graph before it plans memory: the pass pipeline, kernel choice
 * included (a LUT kernel's tables are scratch that the plan places in the arena). After this,
 * `problemFromGraph(graph, opts.target)` is the problem `planMemory` solves; the planner benchmark
 * plans ONNX models through it.
 */
export function lowerForPlanning(graph: Graph, opts: CompileOptions): void {
  runPasses(graph, {
    target: opts.target,
    lowBit: opts.lowBit,
    verify: opts.verify,
    dumpAfter: opts.dumpAfter,
    log: opts.log,
    kernels: { spec: opts.kernel, maxScratch: opts.maxScratch, forceFlush: opts.forceFlush, maxLutWindow: opts.maxLutWindow },
  });
}

export function compileGraph(graph: Graph, opts: CompileOptions): Compiled {
  lowerForPlanning(graph, opts);
  const plan = planMemory(graph, opts.target);
  const emitted = emitC(graph, plan, opts.target, { prefix: opts.prefix });
  const weightsBytes = [...emitted.constantBytes.values()].reduce((a, b) => a + b, 0);
  const ioBytes = [...emitted.io.inputs, ...emitted.io.outputs].reduce((a, d) => a + d.count * DTYPE_INFO[d.dtype].bytes, 0);
  const livePerStep = liveBytesPerStep(plan.placements, graph.nodes.length);
  const layers = graph.nodes.map((node, step): LayerInfo => {
    const cost = getOp(node.op).cost(graph, node);
    const live = livePerStep[step]!;
    return {
      step,
      node: node.name,
      op: node.op,
      kernel: String(node.annotations.kernel ?? ''),
      macs: cost.macs,
      weightBytes: cost.weightBytes,
      liveBytes: live,
      outputs: node.outputs.map((o) => {
        const t = graph.tensors.get(o)!;
        return { name: o, dtype: t.dtype, shape: t.shape };
      }),
      annotations: { ...node.annotations },
      ...(node.choice
        ? {
            choice: {
              kernel: node.choice.kernel.id,
              format: node.choice.format.id,
              reason: node.choice.reason,
              accumulator: node.choice.accumulator.bits === 32 ? 'int32' : `int64 (int32 partial sums of ${node.choice.flush})`,
              codeBytes: node.choice.codeBytes,
              scratchBytes: node.choice.scratchBytes,
              window: node.choice.window,
            },
          }
        : {}),
    };
  });
  const compiled: Compiled = { graph, plan, emitted, target: opts.target, files: new Map(), weightsBytes, ioBytes, layers };
  if (!opts.skipFitCheck) compiled.memoryMap = checkFit(compiled);
  compiled.files = outputFiles(compiled);
  return compiled;
}

/** What the model puts in the target's memory; the stack only when it has been estimated. */
export function memoryItems(c: Compiled, stackBytes?: number): MapItem[] {
  return [
    { kind: 'weights', label: 'weights', bytes: c.weightsBytes },
    { kind: 'arena', label: 'arena', bytes: c.plan.arenaBytes },
    { kind: 'io', label: 'inputs/outputs', bytes: c.ioBytes },
    ...(stackBytes === undefined ? [] : [{ kind: 'stack' as const, label: 'stack', bytes: stackBytes, estimate: true }]),
  ];
}

/**
 * The memory map against the target's flash and RAM regions; a model that does not fit is an error
 * that shows the breakdown: what needs the RAM, and what is live at the arena's peak. Code size is
 * only known after building (`tritc run` measures it); the stack comes from `estimateStack` when
 * the caller has it.
 */
export function checkFit(c: Compiled, stackBytes?: number): MemoryMap | undefined {
  if (!c.target.memory) return undefined;
  const map = buildMemoryMap(c.target, memoryItems(c, stackBytes));
  if (map.unplaced.length === 0) return map;
  const problems: string[] = [];
  const extra = (c.target.memory.regions ?? []).filter((r) => r.kind === 'ram');
  const [ramNeeds, ramTotal] = formatBytesPair(map.ramBytes, c.target.memory.ram);
  const ramHas = `${ramTotal}${extra.map((r) => ` (+ ${r.name} ${formatBytes(r.bytes)} for ${r.holds.join(', ')})`).join('')}`;
  if (map.unplaced.some((i) => i.kind !== 'weights')) {
    const byName = new Map(c.plan.placements.map((p) => [p.name, p]));
    const peak = c.plan.peakTensors
      .map((n) => ({ n, b: byName.get(n)!.size }))
      .sort((a, b) => b.b - a.b)
      .map(({ n, b }) => `${n} ${formatBytes(b)}`);
    const peakNode = c.graph.nodes[c.plan.peakStep]?.name ?? '';
    const parts = [
      `arena ${formatBytes(c.plan.arenaBytes)} (peak at layer "${peakNode}": ${peak.slice(0, 4).join(' + ')}${peak.length > 4 ? ' + ...' : ''})`,
      `inputs/outputs ${formatBytes(c.ioBytes)}`,
      ...(stackBytes === undefined ? [] : [`stack ~${formatBytes(stackBytes)}`]),
    ];
    problems.push(`needs ${ramNeeds} RAM, target ${c.target.name} has ${ramHas}: ${parts.join(' + ')}`);
  }
  if (map.unplaced.some((i) => i.kind === 'weights')) {
    const biggest = [...c.emitted.constantBytes.entries()].sort((a, b) => b[1] - a[1]).map(([n, b]) => `${n} ${formatBytes(b)}`);
    const [flashNeeds, flashHas] = formatBytesPair(c.weightsBytes, c.target.memory.flash);
    problems.push(`needs ${flashNeeds} flash for weights alone, target ${c.target.name} has ${flashHas}: ${biggest.slice(0, 4).join(' + ')}${biggest.length > 4 ? ' + ...' : ''}`);
  }
  fail('fit', `${c.graph.source}`, `model "${c.graph.name}" does not fit ${c.target.name}: ${problems.join('; ')}`);
}

function runtimeFileName(rel: string): string {
  return basename(rel);
}

function outputFiles(c: Compiled): Map<string, string> {
  const files = new Map<string, string>();
  files.set('model.h', c.emitted.header);
  files.set('model.c', c.emitted.source);
  files.set('tn_runtime.h', readFileSync(join(RUNTIME_DIR, 'tn_runtime.h'), 'utf8'));
  for (const rel of c.emitted.runtime) files.set(runtimeFileName(rel), readFileSync(join(RUNTIME_DIR, rel), 'utf8'));
  const sources = ['model.c', ...c.emitted.runtime.map(runtimeFileName)];
  files.set('Makefile', makefile(c, sources));
  files.set('CMakeLists.txt', cmakeLists(c, sources));
  files.set('tritc.json', JSON.stringify(manifest(c), null, 2) + '\n');
  return files;
}

/** The -D flags of the target (its CPU variant's features the runtime takes at compile time, e.g.
 * rv32imc-zbb's TN_RV32_ZBB), as NAME or NAME=VALUE. */
function targetDefines(c: Compiled): string[] {
  return c.target.cflags.filter((f) => f.startsWith('-D')).map((f) => f.slice(2));
}

function makefile(c: Compiled, sources: string[]): string {
  const defines = targetDefines(c);
  return `# ${c.emitted.prefix}: generated by tritc ${TRITC_VERSION}. Builds lib${c.emitted.prefix}.a with any C99 compiler:
#   make                               (host cc)
#   make CC=arm-none-eabi-gcc CFLAGS_TARGET="-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
#   make CC="zig cc -target thumb-freestanding-eabihf -mcpu=cortex_m4"
# -ffp-contract=off keeps the results bit-exact with tritc's interpreter: do not remove it,
# and never add -ffast-math.
CC ?= cc
AR ?= ar
CFLAGS ?= -std=c99 -O2 -Wall -Wextra
CFLAGS_TARGET ?=
NUMERICS = -ffp-contract=off -fno-strict-aliasing
${defines.length ? `# The CPU features of target ${c.target.name} (the kernels use them; the CPU must have them):\nTARGET_DEFINES = ${defines.map((d) => `-D${d}`).join(' ')}` : 'TARGET_DEFINES ='}
SRCS = ${sources.join(' ')}
OBJS = $(SRCS:.c=.o)

lib${c.emitted.prefix}.a: $(OBJS)
\t$(AR) rcs $@ $(OBJS)

%.o: %.c model.h tn_runtime.h
\t$(CC) $(CFLAGS) $(CFLAGS_TARGET) $(TARGET_DEFINES) $(NUMERICS) -c $< -o $@

clean:
\trm -f $(OBJS) lib${c.emitted.prefix}.a

.PHONY: clean
`;
}

function cmakeLists(c: Compiled, sources: string[]): string {
  const defines = targetDefines(c);
  return `# ${c.emitted.prefix}: generated by tritc ${TRITC_VERSION}. Use from your project with
#   add_subdirectory(path/to/this/dir)
#   target_link_libraries(your_app PRIVATE ${c.emitted.prefix})
cmake_minimum_required(VERSION 3.10)
project(${c.emitted.prefix} C)
add_library(${c.emitted.prefix} STATIC ${sources.join(' ')})
set_target_properties(${c.emitted.prefix} PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
target_include_directories(${c.emitted.prefix} PUBLIC \${CMAKE_CURRENT_SOURCE_DIR})
# Bit-exact with tritc's interpreter only without fused multiply-add; never add -ffast-math.
target_compile_options(${c.emitted.prefix} PRIVATE -ffp-contract=off -fno-strict-aliasing)
${defines.length ? `# The CPU features of target ${c.target.name} (the kernels use them; the CPU must have them).\ntarget_compile_definitions(${c.emitted.prefix} PRIVATE ${defines.join(' ')})\n` : ''}`;
}

export function manifest(c: Compiled) {
  return {
    tritc: TRITC_VERSION,
    model: c.graph.name,
    source: c.graph.source,
    sourceHash: c.graph.sourceHash,
    target: c.target.name,
    prefix: c.emitted.prefix,
    arenaBytes: c.plan.arenaBytes,
    arenaLowerBound: c.plan.lowerBound,
    planAlgorithm: c.plan.algorithm,
    weightsBytes: c.weightsBytes,
    ioBytes: c.ioBytes,
    inputs: c.emitted.io.inputs.map(({ name, cname, dtype, shape }) => ({ name, cname, dtype, shape })),
    outputs: c.emitted.io.outputs.map(({ name, cname, dtype, shape }) => ({ name, cname, dtype, shape })),
    plan: c.plan.placements,
    layers: c.layers,
  };
}

/**
 * Write the files into `outDir` all at once: they go to a temporary sibling directory first, which
 * then replaces `outDir`, so a failure never leaves a half-written directory behind.
 */
export function writeFilesAtomically(files: ReadonlyMap<string, string | Uint8Array>, outDir: string): void {
  const target = resolve(outDir);
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.${basename(target)}.tmp-${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(tmp);
    for (const [rel, text] of files) {
      mkdirSync(dirname(join(tmp, rel)), { recursive: true });
      writeFileSync(join(tmp, rel), text);
    }
    if (existsSync(target)) {
      const old = `${tmp}.old`;
      renameSync(target, old);
      renameSync(tmp, target);
      rmSync(old, { recursive: true, force: true });
    } else renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    fail('io', outDir, `cannot write the output directory: ${(e as Error).message}`);
  }
}
