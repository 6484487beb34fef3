// The memory report's data (report.json, and what report.html draws): the plan's buffers over the
// schedule, the per-layer table, and the flash and RAM totals against the target's limits.

import type { Compiled } from '../compile.ts';
import { memoryItems } from '../compile.ts';
import { buildMemoryMap, type MemoryMap } from '../plan/memory_map.ts';
import type { Placement } from '../plan/planner.ts';
import type { StackEstimate } from '../toolchain/stack_usage.ts';
import { sourceName } from '../util/format.ts';
import { TRITC_VERSION } from '../version.ts';

const REPORT_VERSION = 1;

export interface Report {
  reportVersion: number;
  tritc: string;
  model: string;
  source: string;
  target: { name: string; description: string; flash: number | null; ram: number | null };
  totals: {
    weightsBytes: number;
    arenaBytes: number;
    ioBytes: number;
    /** Static estimate of <prefix>_run's stack, or null when it could not be measured (no zig). */
    stackBytes: number | null;
    stackChain: { fn: string; frame: number }[];
    ramBytes: number;
  };
  memoryMap: MemoryMap | null;
  plan: {
    algorithm: string;
    arenaBytes: number;
    lowerBound: number;
    provenBound: number;
    optimal: boolean;
    tflmBytes: number;
    peakStep: number;
    peakTensors: string[];
    scheduleChanged: boolean;
    originalPeak: number;
    inPlacePairs: number;
    /** No timings: the report is the same every time the same model is compiled. */
    candidates: { algorithm: string; arenaBytes: number }[];
  };
  steps: string[];
  buffers: (Placement & { dtype: string | null; shape: number[] | null })[];
  layers: { step: number; node: string; op: string; kernel: string; macs: number; weightBytes: number; liveBytes: number; outputs: string }[];
}

export function buildReport(c: Compiled, stack?: StackEstimate): Report {
  const stackBytes = stack?.bytes ?? null;
  const map = c.target.memory ? buildMemoryMap(c.target, memoryItems(c, stack?.bytes)) : null;
  return {
    reportVersion: REPORT_VERSION,
    tritc: TRITC_VERSION,
    model: c.graph.name,
    source: sourceName(c.graph.source),
    target: { name: c.target.name, description: c.target.description, flash: c.target.memory?.flash ?? null, ram: c.target.memory?.ram ?? null },
    totals: {
      weightsBytes: c.weightsBytes,
      arenaBytes: c.plan.arenaBytes,
      ioBytes: c.ioBytes,
      stackBytes,
      stackChain: stack?.chain ?? [],
      ramBytes: c.plan.arenaBytes + c.ioBytes + (stackBytes ?? 0),
    },
    memoryMap: map,
    plan: {
      algorithm: c.plan.algorithm,
      arenaBytes: c.plan.arenaBytes,
      lowerBound: c.plan.lowerBound,
      provenBound: c.plan.provenBound,
      optimal: c.plan.optimal,
      tflmBytes: c.plan.tflmBytes,
      peakStep: c.plan.peakStep,
      peakTensors: c.plan.peakTensors,
      scheduleChanged: c.plan.schedule.changed,
      originalPeak: c.plan.schedule.originalPeak,
      inPlacePairs: c.plan.inPlace.pairs,
      candidates: c.plan.candidates.map(({ algorithm, arenaBytes }) => ({ algorithm, arenaBytes })),
    },
    steps: c.graph.nodes.map((n) => n.name),
    buffers: c.plan.placements.map((p) => {
      const t = p.kind === 'tensor' ? c.graph.tensors.get(p.name) : undefined;
      return { ...p, dtype: t?.dtype ?? null, shape: t ? [...t.shape] : null };
    }),
    layers: c.layers.map((l) => ({
      step: l.step,
      node: l.node,
      op: l.op,
      kernel: l.kernel,
      macs: l.macs,
      weightBytes: l.weightBytes,
      liveBytes: l.liveBytes,
      outputs: l.outputs.map((o) => `${o.dtype} [${o.shape.join(', ')}]`).join(', '),
    })),
  };
}
