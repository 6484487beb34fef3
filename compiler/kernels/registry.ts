// The kernel registry: every C kernel a low-bit linear layer can be compiled to, the format it reads,
// the target features it needs and what it costs. compiler/kernels/choose.ts picks one per layer and
// target; `--kernel` and the node attribute `kernel` override the choice (docs/kernels.md).
//
// Kernel ids are <format>.<variant>. Variants:
//   ref          runtime-c/ref: one code at a time, obviously correct (every format has one)
//   lut          runtime-c/opt/generic/tn_lut.c: tables over groups of activations, portable C
//   lut_armv7m   runtime-c/opt/armv7m: the same with Thumb-2 assembly inner loops (M3/M4/M7/M33)
//   lut_rv32     runtime-c/opt/rv32: the same with RV32I assembly inner loops
//   avx2         runtime-c/opt/x86: AVX2, checked at run time (portable fallback without AVX2)
//   neon         runtime-c/opt/arm: NEON (AArch64 and ARMv7-A), SDOT when built with dotprod
//   sparse       runtime-c/opt/generic/tn_bitplane.c: visits the nonzero codes of bit-planes only

import type { FormatId } from './formats.ts';

/** What a kernel is asked to run: one layer's geometry and accumulator bound. */
export interface LayerShape {
  op: 'TernaryLinear' | 'BinaryLinear';
  planes: number;
  n: number;
  k: number;
  /** Codes per scale group (k unless per group) and the number of groups. */
  group: number;
  groups: number;
  /** Activation rows (tokens). */
  rows: number;
  maxAbsX: number;
  /** The compiler's flush bound (0: int32 sums). */
  flush: number;
  /** Fraction of the codes that are not 0 (the compiler knows the weights; 1 for binary). */
  density: number;
}

export interface KernelDesc {
  id: string;
  format: FormatId;
  variant: string;
  /** The ops it runs: binary codes are a subset of ternary, so the t2b and the t5w/t6w LUT kernels take both. */
  ops: LayerShape['op'][];
  cFunction: string;
  /** For kernels that take both ops: the entry point named for binary layers (same code); absent: cFunction runs them. */
  cFunctionBinary?: string;
  /** runtime-c files, relative to runtime-c/. */
  runtime: string[];
  /** Target features it needs (all of them). */
  requires: string[];
  doc: string;
  /** Why it cannot run this layer; undefined if it can. */
  unsupported?(l: LayerShape): string | undefined;
  /** Scratch bytes it needs besides LUT tables (LUT kernels: compiler/kernels/choose.ts lutPlan). */
  scratch?(l: LayerShape): number;
}

/** t2b kernels: prefix sums of x per 128-block for up to 4 tokens (tn_t2b_prep). */
const t2bScratch = (l: LayerShape) => 4 * Math.min(4, l.rows) * (Math.ceil(l.k / 128) + 1);

const REF_T = ['ref/tn_lowbit_codes.c'];
const LUT = ['opt/generic/tn_lut.c', 'ref/tn_lowbit_codes.c'];
const LUT_ARMV7M = ['opt/armv7m/tn_lut_armv7m.c', ...LUT];
const LUT_RV32 = ['opt/rv32/tn_lut_rv32.c', ...LUT];
const ROWS = ['opt/generic/tn_lowbit_rows.c', 'ref/tn_lowbit_codes.c'];

const b1Groups = (l: LayerShape) =>
  l.groups > 1 && l.group % 8 !== 0
    ? `per-group scales with a group of ${l.group} codes (the b1 LUT reads whole bytes: the group must be a multiple of 8)`
    : undefined;

export const KERNELS: readonly KernelDesc[] = [
  // ---- ternary ----
  {
    id: 't2.ref',
    format: 't2',
    variant: 'ref',
    ops: ['TernaryLinear'],
    cFunction: 'tn_ternary_linear',
    runtime: ['ref/tn_ternary_linear.c', 'ref/tn_lowbit_linear.c'],
    requires: [],
    doc: 'reference: one 2-bit code at a time, add/subtract',
  },
  {
    id: 't2b.ref',
    format: 't2b',
    variant: 'ref',
    ops: ['TernaryLinear', 'BinaryLinear'],
    cFunction: 'tn_ternary_linear_t2b',
    cFunctionBinary: 'tn_binary_linear_t2b',
    runtime: REF_T,
    requires: [],
    doc: 'reference decoder of the blocked 2-bit format',
  },
  {
    id: 't2b.avx2',
    format: 't2b',
    variant: 'avx2',
    ops: ['TernaryLinear', 'BinaryLinear'],
    cFunction: 'tn_ternary_linear_t2b_avx2',
    cFunctionBinary: 'tn_binary_linear_t2b_avx2',
    runtime: ['opt/x86/tn_t2b_avx2.c', ...ROWS],
    requires: ['x86_64'],
    doc: 'AVX2 maddubs over 4 rows, one shift per 128 codes (int16 lanes widened every 1024 codes), GEMM for several tokens; VPDPBUSD where the CPU has AVX-VNNI or AVX512-VNNI, portable fallback without AVX2 (chosen at run time)',
    scratch: t2bScratch,
  },
  {
    id: 't2b.neon',
    format: 't2b',
    variant: 'neon',
    ops: ['TernaryLinear', 'BinaryLinear'],
    cFunction: 'tn_ternary_linear_t2b_neon',
    cFunctionBinary: 'tn_binary_linear_t2b_neon',
    runtime: ['opt/arm/tn_t2b_neon.c', ...ROWS],
    requires: ['neon'],
    doc: 'NEON: SDOT when compiled with dotprod (Pi 5: -mcpu=cortex-a76), else widening multiply-accumulate into int16 flushed to int32',
    scratch: t2bScratch,
  },
  {
    id: 't2b.rvv',
    format: 't2b',
    variant: 'rvv',
    ops: ['TernaryLinear', 'BinaryLinear'],
    cFunction: 'tn_ternary_linear_t2b_rvv',
    cFunctionBinary: 'tn_binary_linear_t2b_rvv',
    runtime: ['opt/riscv/tn_t2b_rvv.c', ...ROWS],
    requires: ['rvv'],
    doc: 'RISC-V vectors (RVV 1.0, VLEN >= 128): VWMACCSU into int16, one shift per 128 codes (riscv64-rvv: built with -DTN_RVV)',
    scratch: t2bScratch,
  },
  {
    id: 't5.ref',
    format: 't5',
    variant: 'ref',
    ops: ['TernaryLinear'],
    cFunction: 'tn_ternary_linear_t5',
    runtime: REF_T,
    requires: [],
    doc: 'reference decoder of 5 trits per byte',
  },
  {
    id: 't5.lut',
    format: 't5',
    variant: 'lut',
    ops: ['TernaryLinear'],
    cFunction: 'tn_ternary_linear_t5_lut',
    runtime: LUT,
    requires: [],
    doc: 'LUT over groups of 5 activations, byte indices, 4 rows per pass (portable C)',
  },
  {
    id: 't5.lut_armv7m',
    format: 't5',
    variant: 'lut_armv7m',
    ops: ['TernaryLinear'],
    cFunction: 'tn_ternary_linear_t5_lut_armv7m',
    runtime: LUT_ARMV7M,
    requires: ['thumb2'],
    doc: 'LUT over groups of 5, byte indices, Thumb-2 assembly',
  },
  {
    id: 't5w.ref',
    format: 't5w',
    variant: 'ref',
    ops: ['TernaryLinear'],
    cFunction: 'tn_ternary_linear_t5w',
    runtime: REF_T,
    requires: [],
    doc: 'reference decoder of 16-bit LUT offsets (5 trits)',
  },
  {
    id: 't5w.lut',
    format: 't5w',
    variant: 'lut',
    ops: ['TernaryLinear', 'BinaryLinear'],
    cFunction: 'tn_ternary_linear_t5w_lut',
    runtime: LUT,
    requires: [],
    doc: 'LUT over groups of 5, pre-scaled 16-bit offsets (portable C)',
  },
  {
    id: 't5w.lut_armv7m',
    format: 't5w',
    variant: 'lut_armv7m',
    ops: ['TernaryLinear'],
    cFunction: 'tn_ternary_linear_t5w_lut_armv7m',
    runtime: LUT_ARMV7M,
    requires: ['thumb2'],
    doc: 'LUT over groups of 5, 16-bit offsets, 3 instructions per lookup (Thumb-2 assembly)',
  },
  {
    id: 't5.lut_rv32',
    format: 't5',
    variant: 'lut_rv32',
    ops: ['TernaryLinear'],
    cFunction: 'tn_ternary_linear_t5_lut_rv32',
    runtime: LUT_RV32,
    requires: ['rv32'],
    doc: 'LUT over groups of 5, byte indices, RV32 assembly table build',
  },
  {
    id: 't5w.lut_rv32',
    format: 't5w',
    variant: 'lut_rv32',
    ops: ['TernaryLinear', 'BinaryLinear'],
    cFunction: 'tn_ternary_linear_t5w_lut_rv32',
    runtime: LUT_RV32,
    requires: ['rv32'],
    doc: 'LUT over groups of 5, 16-bit offsets, 4 instructions per lookup (RV32 assembly)',
  },
  {
    id: 't6w.lut_rv32',
    format: 't6w',
    variant: 'lut_rv32',
    ops: ['TernaryLinear', 'BinaryLinear'],
    cFunction: 'tn_ternary_linear_t6w_lut_rv32',
    runtime: LUT_RV32,
    requires: ['rv32'],
    doc: 'LUT over groups of 6, 16-bit offsets (RV32 assembly)',
  },
  {
    id: 't6w.ref',
    format: 't6w',
    variant: 'ref',
    ops: ['TernaryLinear'],
    cFunction: 'tn_ternary_linear_t6w',
    runtime: REF_T,
    requires: [],
    doc: 'reference decoder of 16-bit LUT offsets (6 trits)',
  },
  {
    id: 't6w.lut',
    format: 't6w',
    variant: 'lut',
    ops: ['TernaryLinear', 'BinaryLinear'],
    cFunction: 'tn_ternary_linear_t6w_lut',
    runtime: LUT,
    requires: [],
    doc: 'LUT over groups of 6, pre-scaled 16-bit offsets (portable C)',
  },
  {
    id: 't6w.lut_armv7m',
    format: 't6w',
    variant: 'lut_armv7m',
    ops: ['TernaryLinear'],
    cFunction: 'tn_ternary_linear_t6w_lut_armv7m',
    runtime: LUT_ARMV7M,
    requires: ['thumb2'],
    doc: 'LUT over groups of 6, 16-bit offsets (Thumb-2 assembly)',
  },
  {
    id: 'tbp.ref',
    format: 'tbp',
    variant: 'ref',
    ops: ['TernaryLinear'],
    cFunction: 'tn_ternary_linear_tbp',
    runtime: REF_T,
    requires: [],
    doc: 'reference decoder of bit-planes (nonzero and sign masks)',
  },
  {
    id: 'tbp.sparse',
    format: 'tbp',
    variant: 'sparse',
    ops: ['TernaryLinear'],
    cFunction: 'tn_ternary_linear_tbp_sparse',
    runtime: ['opt/generic/tn_bitplane.c', 'ref/tn_lowbit_linear.c', ...REF_T],
    requires: [],
    doc: 'bit-planes, visiting only the set bits of the nonzero mask: cost follows the nonzero codes (sparse layers)',
  },
  // ---- binary ----
  {
    id: 'b1.ref',
    format: 'b1',
    variant: 'ref',
    ops: ['BinaryLinear'],
    cFunction: 'tn_binary_linear',
    runtime: ['ref/tn_binary_linear.c', 'ref/tn_lowbit_linear.c'],
    requires: [],
    doc: 'reference: one bit at a time, x or -x',
  },
  {
    id: 'b1.lut',
    format: 'b1',
    variant: 'lut',
    ops: ['BinaryLinear'],
    cFunction: 'tn_binary_linear_b1_lut',
    runtime: LUT,
    requires: [],
    doc: 'LUT over groups of 8 activations indexed by the code byte (portable C)',
    unsupported: b1Groups,
  },
  {
    id: 'b1.lut_armv7m',
    format: 'b1',
    variant: 'lut_armv7m',
    ops: ['BinaryLinear'],
    cFunction: 'tn_binary_linear_b1_lut_armv7m',
    runtime: LUT_ARMV7M,
    requires: ['thumb2'],
    doc: 'LUT over groups of 8 indexed by the code byte (Thumb-2 assembly)',
    unsupported: b1Groups,
  },
  {
    id: 'b1.lut_rv32',
    format: 'b1',
    variant: 'lut_rv32',
    ops: ['BinaryLinear'],
    cFunction: 'tn_binary_linear_b1_lut_rv32',
    runtime: LUT_RV32,
    requires: ['rv32'],
    doc: 'LUT over groups of 8 indexed by the code byte, 4 rows per pass, 5 instructions per lookup (RV32 assembly)',
    unsupported: b1Groups,
  },
];
