// The compile pipeline end to end: passes -> memory plan -> C -> a directory a user can build.
//
//   readModel (format/read.ts)  ->  runPasses  ->  planMemory  ->  emitC  ->  checkFit  ->  files

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fail } from './diagnostics.ts';
import { DTYPE_INFO } from './dtypes.ts';
import { emitC, type EmittedModel } from './emit/c.ts';
import type { Graph } from './ir.ts';
import { getOp } from './ops/index.ts';
import { runPasses, type PassOptions } from './passes/pipeline.ts';
import { planMemory, type MemoryPlan } from './plan/planner.ts';
import { RUNTIME_DIR, type TargetDesc } from './targets.ts';
import { formatBytes } from './util/format.ts';
import { TRITC_VERSION } from './version.ts';

export interface CompileOptions extends PassOptions {
  target: TargetDesc;
  prefix?: string;
  /** Skip the target memory check (tests that compile huge models for the host). */
  skipFitCheck?: boolean;
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
}

export function compileGraph(graph: Graph, opts: CompileOptions): Compiled {
  runPasses(graph, opts);
  const plan = planMemory(graph);
  const emitted = emitC(graph, plan, opts.target, { prefix: opts.prefix });
  const weightsBytes = [...emitted.constantBytes.values()].reduce((a, b) => a + b, 0);
  const ioBytes = [...emitted.io.inputs, ...emitted.io.outputs].reduce((a, d) => a + d.count * DTYPE_INFO[d.dtype].bytes, 0);
  const layers = graph.nodes.map((node, step): LayerInfo => {
    const cost = getOp(node.op).cost(graph, node);
    const live = plan.placements.filter((p) => p.first <= step && step <= p.last).reduce((a, p) => a + p.size, 0);
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
    };
  });
  const compiled: Compiled = { graph, plan, emitted, target: opts.target, files: new Map(), weightsBytes, ioBytes, layers };
  if (!opts.skipFitCheck) checkFit(compiled);
  compiled.files = outputFiles(compiled);
  return compiled;
}

/** Compile-time memory check against the target's declared flash and RAM (code size and stack are
 * only known after building; `tritc run` measures and reports them). */
export function checkFit(c: Compiled): void {
  const mem = c.target.memory;
  if (!mem) return;
  const problems: string[] = [];
  const ram = c.plan.arenaBytes + c.ioBytes;
  if (ram > mem.ram) {
    const peak = c.plan.peakTensors
      .map((n) => ({ n, b: c.plan.placements.find((p) => p.name === n)!.size }))
      .sort((a, b) => b.b - a.b)
      .map(({ n, b }) => `${n} ${formatBytes(b)}`);
    const peakNode = c.graph.nodes[c.plan.peakStep]?.name ?? '';
    problems.push(
      `needs ${formatBytes(ram)} RAM, target ${c.target.name} has ${formatBytes(mem.ram)}: arena ${formatBytes(c.plan.arenaBytes)} (peak at step ${c.plan.peakStep} "${peakNode}": ${peak.slice(0, 4).join(' + ')}${peak.length > 4 ? ' + ...' : ''}) + inputs/outputs ${formatBytes(c.ioBytes)}`,
    );
  }
  if (c.weightsBytes > mem.flash) {
    const biggest = [...c.emitted.constantBytes.entries()].sort((a, b) => b[1] - a[1]).map(([n, b]) => `${n} ${formatBytes(b)}`);
    problems.push(`needs ${formatBytes(c.weightsBytes)} flash for weights alone, target ${c.target.name} has ${formatBytes(mem.flash)}: ${biggest.slice(0, 4).join(' + ')}${biggest.length > 4 ? ' + ...' : ''}`);
  }
  if (problems.length) fail('fit', `${c.graph.source}`, `model "${c.graph.name}" does not fit ${c.target.name}: ${problems.join('; ')}`);
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

function makefile(c: Compiled, sources: string[]): string {
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
SRCS = ${sources.join(' ')}
OBJS = $(SRCS:.c=.o)

lib${c.emitted.prefix}.a: $(OBJS)
\t$(AR) rcs $@ $(OBJS)

%.o: %.c model.h tn_runtime.h
\t$(CC) $(CFLAGS) $(CFLAGS_TARGET) $(NUMERICS) -c $< -o $@

clean:
\trm -f $(OBJS) lib${c.emitted.prefix}.a

.PHONY: clean
`;
}

function cmakeLists(c: Compiled, sources: string[]): string {
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
`;
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
