// The compile pipeline end to end: passes -> memory plan -> C -> a directory a user can build.
//
//   loadModel (readers/)  ->  runPasses (passes/pipeline.ts)  ->  planMemory  ->  emitC  ->  checkFit  ->  files

import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fail } from './diagnostics.ts';
import { DTYPE_INFO } from './dtypes.ts';
import { buildZig, cmakeLists, makefile } from './emit/build_files.ts';
import { emitC, type EmittedModel } from './emit/c.ts';
import { elementCount, type Graph } from './ir.ts';
import { getOp } from './ops/index.ts';
import { runPasses, type PassOptions } from './passes/pipeline.ts';
import { liveBytesPerStep } from './plan/liveness.ts';
import { arenaRegion, buildMemoryMap, type MapItem, type MemoryMap } from './plan/memory_map.ts';
import { planMemory, type MemoryPlan } from './plan/planner.ts';
import { RUNTIME_DIR, type TargetDesc } from './targets.ts';
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
  /** The linker section of the static arena (`--arena-section`): a name, null for none (plain .bss);
   * default: the section of the memory region the map puts the arena in (cortex-m4's CCM: .ccmram). */
  arenaSection?: string | null;
  /** Section names by region name that replace target.json's (a build system's own names, e.g.
   * Zephyr's .ccm_noinit for core-coupled RAM). */
  regionSections?: Readonly<Record<string, string>>;
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
  /** The region whose linker section model.c put the arena in (the memory map keeps it there). */
  arenaRegion?: string;
  /** The linker section of the static arena in model.c, if any. */
  arenaSection?: string;
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
  const placed = arenaPlacement(graph, plan, opts);
  const emitted = emitC(graph, plan, opts.target, {
    prefix: opts.prefix,
    blobThreshold: opts.blobThreshold ?? DEFAULT_BLOB_THRESHOLD,
    arenaSection: placed.section ? { name: placed.section, where: placed.where } : undefined,
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
  const compiled: Compiled = {
    graph,
    plan,
    emitted,
    target: opts.target,
    files: new Map(),
    weightsBytes,
    ioBytes,
    layers,
    arenaRegion: placed.region,
    arenaSection: placed.section,
  };
  if (!opts.skipFitCheck) compiled.memoryMap = checkFit(compiled);
  compiled.files = outputFiles(compiled);
  return compiled;
}

/**
 * Where model.c puts its static arena: in the linker section of the memory region the map chooses for
 * it (the M4's core-coupled RAM: .ccmram), or in the section the user names (`--arena-section`), or in
 * plain .bss. Decided before the C is written, from the arena and the inputs/outputs (the other RAM
 * items that compete for a region; the stack goes to the main RAM first).
 */
function arenaPlacement(graph: Graph, plan: MemoryPlan, opts: CompileOptions): { section?: string; where: string; region?: string } {
  if (opts.arenaSection === null) return { where: '' };
  if (opts.arenaSection !== undefined) return { section: opts.arenaSection, where: `the section ${opts.arenaSection} (tritc compile --arena-section)` };
  const ioBytes = [...graph.inputs, ...graph.outputs].reduce((a, n) => {
    const t = graph.tensors.get(n)!;
    return a + elementCount(t.shape) * DTYPE_INFO[t.dtype].bytes;
  }, 0);
  const region = arenaRegion(opts.target, plan.arenaBytes, ioBytes);
  const section = region ? (opts.regionSections?.[region.name] ?? region.section) : undefined;
  if (!region || !section) return { where: '' };
  return { section, where: `${opts.target.name}'s ${region.name}${region.note ? ` (${region.note})` : ''}`, region: region.name };
}

/** What the model puts in the target's memory; the stack only when it has been estimated. */
export function memoryItems(c: Compiled, stackBytes?: number): MapItem[] {
  return [
    { kind: 'weights', label: 'weights', bytes: c.weightsBytes },
    { kind: 'arena', label: 'arena', bytes: c.plan.arenaBytes, region: c.arenaRegion },
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
  const build = { prefix: c.emitted.prefix, target: c.target, sources };
  files.set('Makefile', makefile(build));
  files.set('CMakeLists.txt', cmakeLists(build));
  files.set('build.zig', buildZig(build));
  files.set('tritc.json', JSON.stringify(manifest(c), null, 2) + '\n');
  return files;
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
