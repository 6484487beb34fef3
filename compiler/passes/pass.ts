// What a pass is, and what it may know besides the graph.

import type { Graph } from '../ir.ts';
import type { TargetDesc } from '../targets.ts';

/** Options of the kernel choice (`tritc compile --kernel/--max-scratch`, and testing knobs). */
export interface KernelOptions {
  /** `--kernel`: a kernel id or format for every low-bit layer, or node=kernel pairs (docs/kernels.md). */
  spec?: string;
  /** The most RAM kernel scratch (LUT tables) may take (`--max-scratch`); default: a quarter of the
   * target's RAM, and never more than the arena, inputs, outputs and stack leave. */
  maxScratch?: number;
  /** Testing: a smaller int32 flush than the proven bound, smaller LUT windows. */
  forceFlush?: number;
  maxLutWindow?: number;
}

export interface PassContext {
  /** The target: passes that need one (kernel choice) do not run without it. */
  target?: TargetDesc;
  /** Detect ternary/binary weights and fold into low-bit layers (default true; `--no-lowbit` turns it off). */
  lowBit: boolean;
  kernels: KernelOptions;
}

export interface Pass {
  name: string;
  /** One line for --help and docs. */
  doc: string;
  /** Runs only when the context has a target. */
  needsTarget?: boolean;
  /** Runs only when low-bit detection is on. */
  lowBitOnly?: boolean;
  run(g: Graph, ctx: PassContext): void;
}
