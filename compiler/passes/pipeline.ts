// The pass pipeline: what the compiler does to a graph between reading it and planning its memory,
// as a plain list of named passes, each Graph -> Graph in place, run in order. With `verify`, the IR
// invariants are checked after every pass; `dumpAfter` prints the IR after one (`--dump-after`).
//
//   fold-constants        nodes on constants only are computed now
//   detect-lowbit         MatMul/Gemm/Conv on int8 codes by ternary/binary weights -> low-bit layers
//   detect-bbit           MatMul/Gemm by quantiser-made weights of 2 to 8 bits -> Linear with b-bit codes
//   fold-into-lowbit      BatchNorm and per-channel affine ops after them -> their scales and bias
//   uniform-scales        per-row/per-group scales that are all equal -> one per tensor
//   eliminate-dead-nodes  what nobody reads any more
//   check-limits          every tensor within the C index types, K within the format limit
//   choose-kernels        (target) each low-bit layer's kernel and weight format

import { elementCount, nodeReads, shapeStr, type Graph } from '../ir.ts';
import { getOp } from '../ops/index.ts';
import { checkLimits } from './check_limits.ts';
import { chooseKernelsPass } from './choose_kernels.ts';
import { eliminateDeadNodes } from './dead_nodes.ts';
import { detectBBitPass } from './detect_bbit.ts';
import { detectLowBitPass } from './detect_lowbit.ts';
import { dumpGraph } from './dump.ts';
import { foldIntoLowBit } from './fold_affine.ts';
import { foldConstants } from './fold_constants.ts';
import { uniformScales } from './uniform_scales.ts';
import type { KernelOptions, Pass, PassContext } from './pass.ts';
import type { TargetDesc } from '../targets.ts';
import type { ProgressFn } from '../util/progress.ts';

const PIPELINE: readonly Pass[] = [
  foldConstants,
  detectLowBitPass,
  detectBBitPass,
  foldIntoLowBit,
  uniformScales,
  eliminateDeadNodes,
  checkLimits,
  chooseKernelsPass,
];

/** IR invariants: every read is produced earlier or is an input/constant; shapes match data. */
function verifyGraph(g: Graph, after: string): void {
  const available = new Set<string>();
  for (const [name, t] of g.tensors) {
    if (t.kind === 'input' || t.kind === 'state') available.add(name);
    if (t.kind === 'constant') {
      available.add(name);
      if (!t.data || t.data.length !== elementCount(t.shape))
        throw new Error(`internal (after ${after}): constant "${name}" has ${t.data?.length} values for ${shapeStr(t.shape)}`);
    }
  }
  for (const n of g.nodes) {
    if (g.rows && !getOp(n.op).rows) throw new Error(`internal (after ${after}): ${n.op} "${n.name}" cannot run in a token-batched graph`);
    for (const r of nodeReads(g, n)) if (!available.has(r)) throw new Error(`internal (after ${after}): node "${n.name}" reads "${r}" before it is produced`);
    for (const o of n.outputs) {
      if (!g.tensors.has(o)) throw new Error(`internal (after ${after}): output "${o}" of "${n.name}" has no tensor`);
      available.add(o);
    }
  }
  for (const o of g.outputs) if (!available.has(o)) throw new Error(`internal (after ${after}): graph output "${o}" is never produced`);
}

export interface PassOptions {
  /** Needed by the target passes (kernel choice); without it they are left out. */
  target?: TargetDesc;
  /** Low-bit detection and folding (default true; `--no-lowbit` turns it off). */
  lowBit?: boolean;
  kernels?: KernelOptions;
  verify?: boolean;
  dumpAfter?: string;
  log?: (text: string) => void;
  /** Hears each pass as it starts (a progress bar). */
  progress?: ProgressFn;
}

/** Names of the passes, for --help and for checking --dump-after. */
export const PASS_NAMES: readonly string[] = PIPELINE.map((p) => p.name);

export function runPasses(g: Graph, opts: PassOptions = {}): Graph {
  const ctx: PassContext = { target: opts.target, lowBit: opts.lowBit ?? true, kernels: opts.kernels ?? {} };
  if (opts.verify) verifyGraph(g, 'reading');
  for (const [i, pass] of PIPELINE.entries()) {
    if ((pass.needsTarget && !ctx.target) || (pass.lowBitOnly && !ctx.lowBit)) continue;
    opts.progress?.(`pass ${pass.name}`, { done: i, total: PIPELINE.length });
    pass.run(g, ctx);
    if (opts.verify) verifyGraph(g, pass.name);
    if (opts.dumpAfter === pass.name) (opts.log ?? console.error)(dumpGraph(g, `after ${pass.name}`));
  }
  return g;
}

/**
 * The target-independent passes: what `loadModel` hands on, the graph the interpreter defines the
 * outputs of. (The target passes, kernel choice, change no value.)
 */
export function prepareGraph(g: Graph, opts: { lowBit?: boolean } = {}): Graph {
  return runPasses(g, { lowBit: opts.lowBit, verify: true });
}
