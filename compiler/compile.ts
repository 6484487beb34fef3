// The compile pipeline end to end: passes -> memory plan -> C -> a directory a user can build.
//
//   loadModel (readers/)  ->  runPasses (passes/pipeline.ts)  ->  planMemory  ->  emitC  ->  checkFit  ->  files

import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
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
import { zigTargetArgs } from './toolchain/build.ts';
import { formatBytes, formatBytesPair } from './util/format.ts';
import type { ProgressFn } from './util/progress.ts';
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
  /** Constants larger than this many bytes go to weights.bin + weights.S (.incbin) instead of C
   * literals (default: 64 KiB; Infinity keeps every weight in model.c). */
  blobThreshold?: number;
  /** Testing knobs of the kernel choice (compiler/kernels/choose.ts): a smaller flush, smaller LUT windows. */
  forceFlush?: number;
  maxLutWindow?: number;
  /** model.c calls tn_dump_layer after every layer (`tritc test --bisect`; compiler/emit/c.ts). */
  dumpLayers?: boolean;
  /** Hears each stage (the passes, the plan, the C layer by layer), for a progress bar. */
  progress?: ProgressFn;
}

/** Weights above this size go to weights.bin by default: C literals of megabytes slow compilers down
 * and some choke on them (onnx2c's users hit 230 MB model.c files). */
const DEFAULT_BLOB_THRESHOLD = 64 * 1024;

/** A file's contents: text, bytes, or bytes in pieces written one after another. */
export type FileContent = string | Uint8Array | Uint8Array[];

interface LayerInfo {
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
  /** Relative path -> contents of every file of the output directory (weights.bin is binary). */
  files: Map<string, FileContent>;
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
    progress: opts.progress,
    kernels: { spec: opts.kernel, maxScratch: opts.maxScratch, forceFlush: opts.forceFlush, maxLutWindow: opts.maxLutWindow },
  });
}

export function compileGraph(graph: Graph, opts: CompileOptions): Compiled {
  lowerForPlanning(graph, opts);
  opts.progress?.('planning memory');
  const plan = planMemory(graph, opts.target);
  const emitted = emitC(graph, plan, opts.target, {
    prefix: opts.prefix,
    blobThreshold: opts.blobThreshold ?? DEFAULT_BLOB_THRESHOLD,
    dumpLayers: opts.dumpLayers,
    progress: opts.progress,
  });
  opts.progress?.('collecting the output files');
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
    problems.push(
      `needs ${flashNeeds} flash for weights alone, target ${c.target.name} has ${flashHas}: ${biggest.slice(0, 4).join(' + ')}${biggest.length > 4 ? ' + ...' : ''}`,
    );
  }
  fail('fit', `${c.graph.source}`, `model "${c.graph.name}" does not fit ${c.target.name}: ${problems.join('; ')}`);
}

function runtimeFileName(rel: string): string {
  return basename(rel);
}

function outputFiles(c: Compiled): Map<string, FileContent> {
  const files = new Map<string, FileContent>();
  files.set('model.h', c.emitted.header);
  files.set('model.c', c.emitted.source);
  // The runtime (runtime-c/README.md): the public header tn_runtime.h, and every other header that
  // model.c, model.h or a copied .c file includes, followed through their `#include "..."` lines
  // (resolved in runtime-c/, the include directory every build uses), so that the list stays right
  // when the files change; then the .c files.
  const sourceTexts = c.emitted.runtime.map((rel) => ({ name: runtimeFileName(rel), text: readFileSync(join(RUNTIME_DIR, rel), 'utf8') }));
  const headers = new Map<string, string>();
  const quotedIncludes = (text: string) => [...text.matchAll(/^[ \t]*#[ \t]*include[ \t]*"([^"]+)"/gm)].map((m) => m[1]!);
  const addHeader = (name: string, from: string): void => {
    if (headers.has(name) || files.has(name)) return; // files: the generated model.h
    const path = join(RUNTIME_DIR, name);
    if (!existsSync(path)) throw new Error(`internal error: ${from} includes "${name}", which is not in ${RUNTIME_DIR}`);
    const text = readFileSync(path, 'utf8');
    headers.set(name, text);
    for (const inc of quotedIncludes(text)) addHeader(inc, name);
  };
  addHeader('tn_runtime.h', 'model.c');
  for (const { name, text } of [{ name: 'model.h', text: c.emitted.header }, { name: 'model.c', text: c.emitted.source }, ...sourceTexts])
    for (const inc of quotedIncludes(text)) addHeader(inc, name);
  for (const [name, text] of headers) files.set(name, text);
  for (const { name, text } of sourceTexts) files.set(name, text);
  const sources = ['model.c', ...c.emitted.runtime.map(runtimeFileName)];
  if (c.emitted.blob) {
    files.set('weights.bin', c.emitted.blob.parts);
    files.set('weights.S', c.emitted.blob.asm);
    sources.push('weights.S');
  }
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

/** The compiler the generated build files use by default: the host's cc for host output, else zig cc
 * with the target's flags (the toolchain tritc itself builds and tests with). */
function buildToolchain(c: Compiled): { host: boolean; flags: string } {
  const host = c.target.name === 'host';
  const flags = [...zigTargetArgs(c.target), ...c.target.cflags.filter((f) => !f.startsWith('-D'))].join(' ');
  return { host, flags };
}

function makefile(c: Compiled, sources: string[]): string {
  const defines = targetDefines(c);
  const { host, flags } = buildToolchain(c);
  const p = c.emitted.prefix;
  const blob = sources.includes('weights.S');
  const intro = host
    ? `# ${p}: generated by tritc ${TRITC_VERSION} for the host. Builds lib${p}.a with the host C compiler:
#   make                               (cc, or CC=... for another)`
    : `# ${p}: generated by tritc ${TRITC_VERSION} for ${c.target.name} (${c.target.description}).
# The code is for that CPU (its kernels check it), so build it with a compiler for it. make uses
# zig cc with the target's flags by default (ZIG=path/to/zig if zig is not on PATH); others work too:
#   make
#   make CC=arm-none-eabi-gcc CFLAGS_TARGET="-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"`;
  return `${intro}
# Release flags (-O2) by default. -ffp-contract=off keeps the results bit-exact with tritc's
# interpreter: do not remove it, and never add -ffast-math.
${
  host
    ? 'CC ?= cc'
    : `ZIG ?= zig
ifeq ($(origin CC),default)
CC = $(ZIG) cc
endif`
}
AR ?= ar
CFLAGS ?= -std=c99 -O2 -Wall -Wextra
CFLAGS_TARGET ?= ${host ? '' : flags}
NUMERICS = -ffp-contract=off -fno-strict-aliasing
${defines.length ? `# The CPU features of target ${c.target.name} (the kernels use them; the CPU must have them):\nTARGET_DEFINES = ${defines.map((d) => `-D${d}`).join(' ')}` : 'TARGET_DEFINES ='}
SRCS = ${sources.join(' ')}
OBJS = $(patsubst %.S,%.o,$(SRCS:.c=.o))

lib${p}.a: $(OBJS)
\t$(AR) rcs $@ $(OBJS)

%.o: %.c model.h $(wildcard tn_*.h)
\t$(CC) $(CFLAGS) $(CFLAGS_TARGET) $(TARGET_DEFINES) $(NUMERICS) -c $< -o $@
${
  blob
    ? `
# The large weights: weights.bin, linked as read-only data by weights.S (.incbin, found from here).
weights.o: weights.S weights.bin
\t$(CC) $(CFLAGS_TARGET) -c weights.S -o $@
`
    : ''
}
clean:
\trm -f $(OBJS) lib${p}.a

.PHONY: clean
`;
}

function cmakeLists(c: Compiled, sources: string[]): string {
  const defines = targetDefines(c);
  const p = c.emitted.prefix;
  const blob = sources.includes('weights.S');
  return `# ${p}: generated by tritc ${TRITC_VERSION} for ${c.target.name}. Use from your project with
#   add_subdirectory(path/to/this/dir)
#   target_link_libraries(your_app PRIVATE ${p})
# The code is for ${c.target.name}: configure your project with a compiler (toolchain file) for it.
cmake_minimum_required(VERSION 3.10)
project(${p} C${blob ? ' ASM' : ''})
add_library(${p} STATIC ${sources.join(' ')})
set_target_properties(${p} PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
target_include_directories(${p} PUBLIC \${CMAKE_CURRENT_SOURCE_DIR})
# Bit-exact with tritc's interpreter only without fused multiply-add; never add -ffast-math.
target_compile_options(${p} PRIVATE $<$<COMPILE_LANGUAGE:C>:-ffp-contract=off -fno-strict-aliasing>)
${defines.length ? `# The CPU features of target ${c.target.name} (the kernels use them; the CPU must have them).\ntarget_compile_definitions(${p} PRIVATE ${defines.join(' ')})\n` : ''}${
    blob
      ? `# weights.S links weights.bin (.incbin): the assembler looks for it here; rebuild when it changes.
set_source_files_properties(weights.S PROPERTIES COMPILE_OPTIONS "-Wa,-I\${CMAKE_CURRENT_SOURCE_DIR}" OBJECT_DEPENDS \${CMAKE_CURRENT_SOURCE_DIR}/weights.bin)
`
      : ''
  }`;
}

function manifest(c: Compiled) {
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
export function writeFilesAtomically(files: ReadonlyMap<string, FileContent>, outDir: string, progress?: ProgressFn): void {
  const target = resolve(outDir);
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.${basename(target)}.tmp-${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(tmp);
    for (const [rel, text] of files) {
      mkdirSync(dirname(join(tmp, rel)), { recursive: true });
      writeContent(join(tmp, rel), text, progress && ((done, total) => progress(`writing ${rel}`, { done, total })));
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

/** Write a file's contents (pieces one after another, never joined in memory). */
export function writeContent(path: string, content: FileContent, progress?: (done: number, total: number) => void): void {
  if (!Array.isArray(content)) {
    writeFileSync(path, content);
    return;
  }
  const fd = openSync(path, 'w');
  try {
    content.forEach((part, i) => {
      writeSync(fd, part);
      progress?.(i + 1, content.length);
    });
  } finally {
    closeSync(fd);
  }
}
