// Kernel choice: for every TernaryLinear / BinaryLinear node, the kernel (and so the weight format)
// for this target and layer shape, with the reason, shown by `tritc inspect` and in the layer comment.
//
//   1. candidates: the registry's kernels for the op whose required features the target has and
//      that support the layer (scale groups, scratch memory for LUT tables);
//   2. each gets an estimate from a small cost model per target class (instructions per weight,
//      measured with `npm run bench`, see BENCHMARKS.md); the cheapest wins;
//   3. flash: if the model's weights would not fit the target's flash, layers switch to the 1.6-bit
//      format t5 (binary layers: the 1-bit b1), largest first;
//   4. overrides: `--kernel` (all layers or node=kernel pairs) and the node attribute `kernel` name a
//      kernel id (t5w.lut_armv7m) or a format (t5: its best variant for the target).

import { fail } from '../diagnostics.ts';
import type { Graph, Node, Tensor } from '../ir.ts';
import { rowsOf } from '../ir.ts';
import { accumulatorPlan, int8MaxAbs, lowBitGeometry, scaleCount, type AccumulatorPlan } from '../lowbit.ts';
import type { TargetDesc } from '../targets.ts';
import { formatBytes, formatBytesPair } from '../util/format.ts';
import { FORMATS, maxWideWindow, type FormatDesc } from './formats.ts';
import { KERNELS, type KernelDesc, type LayerShape } from './registry.ts';

export interface KernelChoice {
  kernel: KernelDesc;
  format: FormatDesc;
  /** LUT kernels: tables per window (the 16-bit offsets of t5w/t6w depend on it); 0 otherwise. */
  window: number;
  /** Static scratch the kernel needs (LUT tables and per-row sums), bytes. */
  scratchBytes: number;
  /** Bytes of the packed codes. */
  codeBytes: number;
  /** Estimated instructions per weight on this target (the cost model), if it has one. */
  estimate: number | undefined;
  reason: string;
  /** The flush bound the kernel is called with (the compiler's, or a smaller one forced by tests). */
  flush: number;
  /** The accumulator the proven bound needs (int32, or int64 with int32 partial sums). */
  accumulator: AccumulatorPlan;
}

/** Target classes of the cost model. */
type TargetClass = 'x86' | 'neon' | 'thumb2' | 'rv32' | 'rv64';

function targetClass(t: TargetDesc): TargetClass {
  const f = t.features;
  if (f.includes('x86_64')) return 'x86';
  if (f.includes('neon')) return 'neon';
  if (f.includes('thumb2')) return 'thumb2';
  if (f.includes('rv64')) return 'rv64';
  return 'rv32';
}

/**
 * LUT costs in instructions: per lookup (16-bit offsets / byte indices with 4 rows), per row and
 * scale group (call, sums, float epilogue), per row and further window of a scale group, per table built (per format: t5w and t6w build half
 * tables). Measured on the emulated targets (npm run bench -- --shapes 256x256,512x256,256x512:
 * the differences give the per-row and per-table costs); hosted classes use the same numbers as a
 * rough guide. The per-row costs are those of a scale group in one window (its rows set the sums:
 * no zeroing, no load), remeasured so: thumb2 asm 25 -> 22.5, C 30 -> 24.5; rv32 asm 75 -> 69, b1
 * 68 -> 64, C 97 -> 91.
 */
interface LutCost {
  wide: number;
  byte: number;
  row: number;
  /** Per row and window after a scale group's first (the lookup routine's header, a call). */
  window: number;
  build: Record<'t5' | 't5w' | 't6w' | 'b1', number>;
  /** b1's byte lookups, per row and per further window, where they differ from t5's (rv32: b1 has
   * its own assembly, 4 rows per pass, t5.lut_rv32 the portable lookups; in C the b1 lookups cost
   * more than t5's). Measured at 256x256, 512x256 and 256x512 as above. */
  b1?: { byte: number; row: number; window: number };
}
const LUT_COST: Record<'asm' | 'c', Record<TargetClass, LutCost>> = {
  asm: {
    thumb2: { wide: 3.0, byte: 3.4, row: 22.5, window: 10, build: { t5: 245, t5w: 141, t6w: 293, b1: 273 } },
    x86: { wide: 3.0, byte: 3.4, row: 22.5, window: 10, build: { t5: 245, t5w: 141, t6w: 293, b1: 273 } },
    neon: { wide: 3.0, byte: 3.4, row: 22.5, window: 10, build: { t5: 245, t5w: 141, t6w: 293, b1: 273 } },
    rv32: { wide: 4.0, byte: 5.3, row: 69, window: 17, build: { t5: 425, t5w: 202, t6w: 460, b1: 325 }, b1: { byte: 5.0, row: 64, window: 8 } },
    rv64: { wide: 4.25, byte: 5.3, row: 40, window: 17, build: { t5: 290, t5w: 170, t6w: 430, b1: 290 } },
  },
  c: {
    thumb2: { wide: 3.4, byte: 4.0, row: 24.5, window: 20, build: { t5: 345, t5w: 190, t6w: 420, b1: 280 } },
    x86: { wide: 3.4, byte: 4.0, row: 24.5, window: 20, build: { t5: 345, t5w: 190, t6w: 420, b1: 280 } },
    neon: { wide: 3.4, byte: 4.0, row: 24.5, window: 20, build: { t5: 345, t5w: 190, t6w: 420, b1: 280 } },
    rv32: { wide: 4.6, byte: 5.3, row: 91, window: 35, build: { t5: 390, t5w: 272, t6w: 985, b1: 1070 }, b1: { byte: 6.7, row: 68, window: 35 } },
    rv64: { wide: 4.3, byte: 5.3, row: 30, window: 20, build: { t5: 330, t5w: 190, t6w: 480, b1: 290 } },
  },
};

/** Instructions per weight of the non-LUT kernels, per target class (npm run bench: the SIMD ones
 * at 1024 x 1024 and up; small layers cost more per weight, but so do the alternatives). */
const FLAT_COST: Record<string, Partial<Record<TargetClass, number>>> = {
  't2.ref': { thumb2: 9, rv32: 11, rv64: 10, x86: 6, neon: 6 },
  'b1.ref': { thumb2: 8, rv32: 10, rv64: 9, x86: 5, neon: 5 },
  't2b.ref': { thumb2: 40, rv32: 45, rv64: 40, x86: 30, neon: 30 },
  't5.ref': { thumb2: 60, rv32: 70, rv64: 60, x86: 50, neon: 50 },
  't5w.ref': { thumb2: 60, rv32: 70, rv64: 60, x86: 50, neon: 50 },
  't6w.ref': { thumb2: 60, rv32: 70, rv64: 60, x86: 50, neon: 50 },
  't2b.avx2': { x86: 0.13 }, // ~62 instructions per 4 rows x 128 codes
  'tbp.ref': { thumb2: 30, rv32: 35, rv64: 30, x86: 25, neon: 25 },
  't2b.neon': { neon: 0.35 },
  't2b.rvv': { rv64: 0.2 }, // 55 instructions per 4 rows x 128 codes, plus ~120 per row (measured: 0.573 at 256 x 256, 0.229 at 1024 x 1024)
};

/** tbp.sparse: instructions per nonzero code, per word pair, extra per word pair with a nonzero code
 * (entering the bit loops), and per row and scale group. rv32: fitted to `npm run bench -- --targets
 * rv32imc,rv32imc-zbb --shapes 256x256,64x2048,16x8192 --density D` for D = 0.01, 0.05, 0.15 (within
 * 4 % of all nine counts on each); without Zbb the lowest set bit takes a multiply and a table
 * lookup, with Zbb one CTZ. thumb2: 256 x 256 layers of 1 %, 5 % and 10 % nonzero codes; hosts:
 * rough guides. */
const SPARSE_COST: Record<TargetClass, { nonzero: number; word: number; occupied: number; row: number }> = {
  thumb2: { nonzero: 7.2, word: 13, occupied: 8, row: 60 },
  rv32: { nonzero: 12.3, word: 7.5, occupied: 8.7, row: 283 },
  rv64: { nonzero: 11, word: 15, occupied: 9, row: 40 },
  x86: { nonzero: 5, word: 8, occupied: 4, row: 30 },
  neon: { nonzero: 6, word: 9, occupied: 5, row: 30 },
};
const SPARSE_COST_RV32_ZBB = { nonzero: 7.2, word: 7.9, occupied: 8.7, row: 265 };

export interface ChooseOptions {
  /** `--kernel`: a kernel id or format for every layer, or node=kernel pairs, comma-separated. */
  spec?: string;
  /** Bytes of RAM the kernels' scratch may take. */
  scratchBudget?: number;
  /** Bytes of flash the low-bit weights may take (undefined: no limit). */
  flashBudget?: number;
  /** Testing: sum groups in int64 chunks of at most this many codes although int32 would do (any
   * flush below the proven bound is exact), and cap LUT windows, to reach every path of a kernel
   * with small layers. */
  forceFlush?: number;
  maxLutWindow?: number;
}

function layerShape(g: Graph, node: Node): LayerShape {
  return weightShape(node.op as LayerShape['op'], g.tensors.get(node.inputs[0]!)!, g.tensors.get(node.inputs[1]!)!);
}

/** The shape of int8 codes `x` times low-bit weight `w` as the kernels see it. */
function weightShape(op: LayerShape['op'], x: Tensor, w: Tensor, rows = rowsOf(x.shape)): LayerShape {
  const geo = lowBitGeometry(w);
  const acc = accumulatorPlan(geo.group, int8MaxAbs(x));
  return {
    op,
    planes: geo.planes,
    n: geo.n,
    k: geo.k,
    group: geo.group,
    groups: geo.groups,
    rows,
    maxAbsX: int8MaxAbs(x),
    flush: acc.flush,
    density: density(w.data),
  };
}

/** Fraction of nonzero codes (weights without data, e.g. graph inputs, count as dense). */
function density(codes: ArrayLike<number | bigint> | undefined): number {
  if (!codes || codes.length === 0) return 1;
  let nz = 0;
  for (let i = 0; i < codes.length; i++) if (Number(codes[i]) !== 0) nz++;
  return nz / codes.length;
}

/**
 * LUT window and scratch bytes for a LUT kernel, or why it does not fit. Scratch holds, for each of
 * up to 4 tokens processed together (prefill: each code index is loaded once for all of them), a
 * window of tables, N uint32 sums and, when flush > 0, N int64 sums (tn_lut_scratch in tn_lut.c;
 * the C driver takes as many tokens as the scratch holds). A full window with several tokens is
 * preferred, then a full window for one token, then the largest window that fits.
 */
export function lutPlan(f: FormatDesc, l: LayerShape, budget: number, maxWindow = Infinity): { window: number; scratchBytes: number } | string {
  const lut = f.lut!;
  const unitsPerGroup = Math.ceil(l.group / lut.g);
  let full = Math.min(unitsPerGroup, maxWindow);
  if (lut.wide) full = Math.min(full, maxWideWindow(lut.entries));
  if (l.flush > 0) full = Math.min(full, Math.floor(l.flush / lut.g));
  const tableBytes = 2 * lut.entries;
  const perToken = (window: number) => window * tableBytes + 4 * (l.n + (l.n & 1)) + (l.flush > 0 ? 8 * l.n : 0);
  if (full < 1) return `flush bound ${l.flush} is below ${lut.g} codes`;
  for (let tokens = Math.min(4, l.rows); tokens >= 1; tokens--)
    if (tokens * perToken(full) <= budget) return { window: full, scratchBytes: tokens * perToken(full) };
  const window = Math.min(full, Math.floor((budget - perToken(0)) / tableBytes));
  if (window < 1) {
    const [needs, left] = formatBytesPair(perToken(1), Math.max(0, budget));
    return `needs at least ${needs} of scratch RAM, ${left} are left`;
  }
  return { window, scratchBytes: perToken(window) };
}

/** Estimated instructions per weight of `k` for layer `l` on target class `c` (lower is better). */
function estimate(k: KernelDesc, f: FormatDesc, l: LayerShape, c: TargetClass, window: number, features: readonly string[]): number {
  const weights = l.planes * l.n * l.k * l.rows;
  if (f.lut && k.variant.startsWith('lut')) {
    const cost = LUT_COST[k.variant === 'lut' ? 'c' : 'asm'][c];
    const unitsGroup = Math.ceil(l.group / f.lut.g);
    const unitsRow = l.groups * unitsGroup;
    const own = f.id === 'b1' ? cost.b1 : undefined;
    const perLookup = f.lut.wide ? cost.wide : (own?.byte ?? cost.byte);
    const lookups = perLookup * unitsRow * l.n;
    const moreWindows = window > 0 ? Math.ceil(unitsGroup / window) - 1 : 0; // per scale group
    const rowCost = ((own?.row ?? cost.row) + (own?.window ?? cost.window) * moreWindows) * l.n * l.groups;
    const build = cost.build[f.id as keyof LutCost['build']] * unitsRow;
    return ((lookups + rowCost + build) * l.planes * l.rows) / weights;
  }
  if (k.id === 'tbp.sparse') {
    const cost = c === 'rv32' && features.includes('zbb') ? SPARSE_COST_RV32_ZBB : SPARSE_COST[c];
    const wordsRow = l.groups * (Math.ceil(l.group / 32) + (l.group % 32 ? 1 : 0)); // a group may start inside a word
    const occupied = 1 - (1 - l.density) ** 32; // fraction of words with a nonzero code (random positions)
    return (l.density * l.k * cost.nonzero + wordsRow * (cost.word + occupied * cost.occupied) + l.groups * cost.row) / l.k;
  }
  return FLAT_COST[k.id]?.[c] ?? 100;
}

function candidatesFor(l: LayerShape, target: TargetDesc): KernelDesc[] {
  return KERNELS.filter((k) => k.ops.includes(l.op) && k.requires.every((r) => target.features.includes(r)));
}

/** Evaluate one kernel for a layer: its plan and estimate, or why it cannot run it. */
function evaluate(k: KernelDesc, l: LayerShape, target: TargetDesc, budget: number, maxWindow?: number): Omit<KernelChoice, 'reason'> | string {
  if (!k.requires.every((r) => target.features.includes(r)))
    return `needs ${k.requires.join(', ')}, which ${target.name} does not have (features: ${target.features.join(', ') || 'none'})`;
  const why = k.unsupported?.(l);
  if (why) return why;
  const f = FORMATS[k.format];
  let window = 0;
  let scratchBytes = 0;
  if (f.lut && k.variant.startsWith('lut')) {
    const plan = lutPlan(f, l, budget, maxWindow);
    if (typeof plan === 'string') return plan;
    ({ window, scratchBytes } = plan);
  } else if (f.lut?.wide) {
    // A reference decoder of t5w/t6w needs no tables, but the offsets still name a window.
    window = Math.min(Math.ceil(l.group / f.lut.g), maxWideWindow(f.lut.entries));
  } else if (k.scratch) {
    scratchBytes = k.scratch(l);
    if (scratchBytes > budget) {
      const [needs, left] = formatBytesPair(scratchBytes, Math.max(0, budget));
      return `needs ${needs} of scratch RAM, ${left} are left`;
    }
  }
  const geo = { planes: l.planes, n: l.n, k: l.k, group: l.group, groups: l.groups };
  return {
    kernel: k,
    format: f,
    window,
    scratchBytes,
    codeBytes: f.codeBytes(geo, window || undefined),
    estimate: estimate(k, f, l, targetClass(target), window, target.features),
    flush: l.flush,
    accumulator: accumulatorPlan(l.group, l.maxAbsX),
  };
}

function fmtEstimate(e: number | undefined): string {
  return e === undefined ? '?' : e >= 10 ? e.toFixed(0) : e.toFixed(2);
}

/** The best kernel among `pool` for the layer, with a reason naming the runners-up. */
function best(pool: KernelDesc[], l: LayerShape, target: TargetDesc, budget: number, what: string, maxWindow?: number): KernelChoice | string {
  const ok: Omit<KernelChoice, 'reason'>[] = [];
  const no: string[] = [];
  for (const k of pool) {
    const e = evaluate(k, l, target, budget, maxWindow);
    if (typeof e === 'string') no.push(`${k.id}: ${e}`);
    else ok.push(e);
  }
  if (!ok.length) return no.join('; ') || `no kernel for ${l.op} on ${target.name}`;
  ok.sort((a, b) => a.estimate! - b.estimate!);
  const [win, ...rest] = ok;
  const others = rest.slice(0, 3).map((o) => `${o.kernel.id} ${fmtEstimate(o.estimate)}`);
  const reason = `${what}: est. ${fmtEstimate(win!.estimate)} instr/weight on ${target.name}${others.length ? ` (next: ${others.join(', ')})` : ''}${no.length ? `; ${no.length} not possible` : ''}`;
  return { ...win!, reason };
}

interface Override {
  node?: string;
  value: string;
  source: string;
}

function parseSpec(spec: string | undefined): Override[] {
  if (!spec) return [];
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const eq = s.indexOf('=');
      return eq < 0 ? { value: s, source: '--kernel' } : { node: s.slice(0, eq), value: s.slice(eq + 1), source: '--kernel' };
    });
}

function forced(value: string, l: LayerShape, target: TargetDesc, budget: number, where: string, source: string, maxWindow?: number): KernelChoice {
  const isFormat = Object.hasOwn(FORMATS, value);
  const pool = isFormat ? candidatesFor(l, target).filter((k) => k.format === value) : KERNELS.filter((k) => k.id === value && k.ops.includes(l.op));
  const known = [...new Set(candidatesFor(l, target).flatMap((k) => [k.format, k.id]))].join(', ');
  if (!pool.length) {
    if (isFormat || KERNELS.some((k) => k.id === value))
      fail('unsupported', where, `${source} ${value}: no ${l.op} kernel for ${target.name} (kernels and formats for this layer: ${known})`);
    fail('usage', where, `${source} "${value}" is neither a kernel nor a format; for this layer on ${target.name}: ${known}`);
  }
  const r = best(pool, l, target, budget, `${source} ${value}`, maxWindow);
  if (typeof r === 'string') fail('unsupported', where, `${source} ${value} cannot run this layer on ${target.name}: ${r}`);
  return r;
}

/** Bytes of RAM the kernels' scratch may take unless the caller says otherwise. */
const SCRATCH_BUDGET = 16 * 2 ** 20;

/** chooseRowKernel's answers per weight, by target and activation range (the memory plan and the emitter both ask, once per routed slot). */
const rowChoices = new WeakMap<Tensor, Map<string, KernelChoice>>();

/**
 * The fastest kernel for one row of int8 codes `x` times the ternary weight `w` on `target` (a routed
 * expert of ExpertLinear, which runs its rows one at a time, each on the expert it routes to).
 */
export function chooseRowKernel(x: Tensor, w: Tensor, target: TargetDesc): KernelChoice {
  const key = `${target.name}|${int8MaxAbs(x)}`;
  let byKey = rowChoices.get(w);
  const known = byKey?.get(key);
  if (known) return known;
  const l = weightShape('TernaryLinear', x, w, 1);
  const r = best(candidatesFor(l, target), l, target, SCRATCH_BUDGET, 'fastest for one row');
  if (typeof r === 'string') fail('unsupported', w.name, `no kernel can run this expert on ${target.name}: ${r}`);
  if (!byKey) rowChoices.set(w, (byKey = new Map()));
  byKey.set(key, r);
  return r;
}

/** Choose the kernel of every low-bit node (stored for emit and `inspect`). */
export function chooseKernels(g: Graph, target: TargetDesc, opts: ChooseOptions = {}): void {
  const budget = opts.scratchBudget ?? SCRATCH_BUDGET;
  const overrides = parseSpec(opts.spec);
  for (const o of overrides)
    if (o.node !== undefined && !g.nodes.some((n) => n.name === o.node))
      fail(
        'usage',
        '--kernel',
        `no node named "${o.node}" (low-bit nodes: ${g.nodes
          .filter(isLowBit)
          .map((n) => n.name)
          .join(', ')})`,
      );
  const auto: Node[] = [];
  const skippedGlobal: string[] = [];
  for (const node of g.nodes) {
    if (!isLowBit(node)) continue;
    const l = layerShape(g, node);
    if (opts.forceFlush !== undefined) l.flush = l.flush === 0 ? opts.forceFlush : Math.min(l.flush, opts.forceFlush);
    const where = `${g.source}: node "${node.name}"`;
    const o = overrides.find((x) => x.node === node.name) ?? overrides.find((x) => x.node === undefined);
    const attr = typeof node.attrs.kernel === 'string' && node.attrs.kernel !== 'auto' ? node.attrs.kernel : undefined;
    let choice: KernelChoice;
    // A kernel or format given for every layer applies to the layers it can run (a binary layer has
    // no t5 kernel); the others keep the automatic choice, and say so. Named nodes must take it.
    const applies = (v: string) => candidatesFor(l, target).some((k) => k.format === v || k.id === v);
    if (o && o.node === undefined && !applies(o.value) && overrides.every((x) => x.node !== node.name)) {
      skippedGlobal.push(node.name);
      const r = best(
        candidatesFor(l, target),
        l,
        target,
        budget,
        `fastest (${o.source} ${o.value} has no ${l.op} kernel on ${target.name})`,
        opts.maxLutWindow,
      );
      if (typeof r === 'string') fail('unsupported', where, `no kernel can run this layer on ${target.name}: ${r}`);
      choice = r;
    } else if (o) choice = forced(o.value, l, target, budget, where, o.source, opts.maxLutWindow);
    else if (attr) choice = forced(attr, l, target, budget, where, 'attribute kernel =', opts.maxLutWindow);
    else {
      const r = best(candidatesFor(l, target), l, target, budget, 'fastest', opts.maxLutWindow);
      if (typeof r === 'string') fail('unsupported', where, `no kernel can run this layer on ${target.name}: ${r}`);
      choice = r;
      auto.push(node);
    }
    node.choice = choice;
  }
  // A kernel or format for every layer that runs none of them: the first layer's own error (an
  // unknown name, a kernel this target cannot run, a format with no kernel for the op).
  const global = overrides.find((x) => x.node === undefined);
  const lowBit = g.nodes.filter(isLowBit);
  if (global && lowBit.length > 0 && skippedGlobal.length === lowBit.length) {
    const first = lowBit[0]!;
    forced(global.value, layerShape(g, first), target, budget, `${g.source}: node "${first.name}"`, global.source, opts.maxLutWindow);
  }
  // Flash: switch automatically chosen layers to the 1.6-bit (binary: 1-bit) format while the weights do not fit.
  if (opts.flashBudget !== undefined) {
    const total = () => g.nodes.filter(isLowBit).reduce((a, n) => a + n.choice!.codeBytes + otherBytes(g, n), 0);
    const before = total();
    const order = auto.filter((n) => n.choice!.format.id !== 't5' && n.choice!.format.id !== 'b1').sort((a, b) => b.choice!.codeBytes - a.choice!.codeBytes);
    for (const node of order) {
      if (total() <= opts.flashBudget) break;
      const l = layerShape(g, node);
      const compact = l.op === 'BinaryLinear' ? 'b1' : 't5'; // binary layers may run on ternary formats too
      const r = best(
        candidatesFor(l, target).filter((k) => k.format === compact && k.variant !== 'ref'),
        l,
        target,
        budget,
        'flash',
      );
      if (typeof r === 'string') continue;
      r.reason = `${compact === 'b1' ? '1-bit b1' : '1.6-bit t5'} for flash: est. ${fmtEstimate(r.estimate)} instr/weight; the faster ${node.choice!.kernel.id} would make the weights ${formatBytes(before)}, more than the ${formatBytes(opts.flashBudget)} of flash left for them on ${target.name}`;
      node.choice = r;
    }
  }
}

function otherBytes(g: Graph, node: Node): number {
  const w = g.tensors.get(node.inputs[1]!)!;
  const geo = lowBitGeometry(w);
  return scaleCount(w, geo) * 4 + (node.inputs[2] ? geo.n * 4 : 0);
}

function isLowBit(node: Node): boolean {
  return node.op === 'TernaryLinear' || node.op === 'BinaryLinear';
}
