// The C emitter: Graph + memory plan -> model.h, model.c and the list of runtime files they need.
//
// model.c reads like hand-written C: weights first (static const, so they go to flash), then the
// memory plan as a picture, then one static function per node with the node's op, shapes, arena
// offsets and kernel in a comment, then the run function that calls them in schedule order.

import { elementCount, nodeReads, shapeStr, tensorBytes, type DType, type Graph, type Tensor } from '../ir.ts';
import { DTYPE_INFO } from '../dtypes.ts';
import { getOp } from '../ops/index.ts';
import { scratchName } from '../plan/liveness.ts';
import type { MemoryPlan } from '../plan/planner.ts';
import type { TargetDesc } from '../targets.ts';
import { sourceName } from '../util/format.ts';
import type { ProgressFn } from '../util/progress.ts';
import { TRITC_VERSION } from '../version.ts';
import { arrayBody, decimalComment, hexByte, hexFloat, hexWord } from './cliterals.ts';
import { cIdent, modelPrefix, NameTable } from './cnames.ts';
import type { ConstLayout, EmitNodeContext, PackParams } from './context.ts';
import { packB1, packC4, packT2, packT2B, packT5, packTBP, packTW, packUB, ubRowBytes } from './pack.ts';
import { lmDeltaApi } from './lm_delta.ts';
import { lmDriver } from './lm_driver.ts';
import { drawPlan } from './plan_picture.ts';

export interface EmitOptions {
  /** Prefix of exported symbols (default: from the model name). */
  prefix?: string;
  /** Constants larger than this many bytes go to weights.bin, linked by weights.S (.incbin), instead of
   * C literals (default: never). */
  blobThreshold?: number;
  /** After every layer, call tn_dump_layer(step, output, data, bytes) on each output it wrote, for the
   * per-layer comparison of `tritc test --bisect` (the program that links model.c defines it). */
  dumpLayers?: boolean;
  /** Hears each layer as its C is written (packing a large model's weights takes a while). */
  progress?: ProgressFn;
  /** Put the static arena in this linker section (e.g. ".ccmram", the core-coupled RAM the memory map
   * chose): `name`, and `where`, what the section stands for, for the comment. */
  arenaSection?: { name: string; where: string };
}

/** What model.c built with `dumpLayers` calls, for each output of each layer, right after the layer. */
export const DUMP_LAYER_PROTOTYPE = 'void tn_dump_layer(uint32_t step, uint32_t output, const void *data, uint32_t bytes);';

/** The binary weights file and the assembler file that links it (weights past the blob threshold). */
interface WeightsBlob {
  symbol: string;
  /** weights.bin, in pieces (the tensors and their alignment padding): written one after another,
   * never joined in memory (a billion-parameter model's blob is hundreds of MiB). */
  parts: Uint8Array[];
  bytes: number;
  asm: string;
}

export interface EmittedModel {
  prefix: string;
  header: string;
  source: string;
  /** runtime-c files (relative paths like ref/tn_math.c) the model calls. */
  runtime: string[];
  /** Constant bytes by tensor, as emitted (after packing). */
  constantBytes: Map<string, number>;
  /** Per node: kernel and annotations, for reports. */
  layers: { node: string; op: string; kernel: string; annotations: Record<string, string | number> }[];
  io: { inputs: IoDesc[]; outputs: IoDesc[] };
  /** Set when some constants went to weights.bin. */
  blob?: WeightsBlob;
}

export interface IoDesc {
  name: string;
  cname: string;
  dtype: DType;
  shape: number[];
  count: number;
  ctype: string;
  macro: string;
}

function ctypeOf(dtype: DType): string {
  return DTYPE_INFO[dtype].ctype;
}

function describeTensor(t: Tensor): string {
  const q = t.quant ? `, scale ${t.quant.granularity}${t.quant.groupSize ? ` ${t.quant.groupSize}` : ''} in "${t.quant.scale}"` : '';
  return `${t.dtype} ${shapeStr(t.shape)}${q}`;
}

/** How a constant of each dtype is emitted unless a kernel asks for another layout. */
const DEFAULT_LAYOUT: Record<DType, ConstLayout> = {
  float32: 'f32',
  int8: 'i8',
  uint8: 'u8',
  bool: 'u8',
  int32: 'i32',
  int64: 'i64',
  ternary: 'i8',
  binary: 'i8',
  float16: 'u16',
};

/** Keep comment text from closing the comment. */
const safe = (s: string): string => s.replace(/\*\//g, '*\\/').replace(/[\r\n]+/g, ' ');

export function emitC(g: Graph, plan: MemoryPlan, target: TargetDesc, opts: EmitOptions = {}): EmittedModel {
  const prefix = opts.prefix ?? modelPrefix(g.name);
  const PREFIX = prefix.toUpperCase();
  const globals = new NameTable([`${prefix}_run`, `${prefix}_run_arena`, `${prefix}_arena`, `${prefix}_weights`, 'arena', 'arena_mem', 'n_rows', 'n_out']);
  const deltas = g.lm?.deltas ? lmDeltaApi(g.lm.deltas, prefix, globals) : undefined;
  const blobParts: Uint8Array[] = [];
  let blobSize = 0;
  const blob =
    opts.blobThreshold !== undefined && Number.isFinite(opts.blobThreshold)
      ? {
          threshold: opts.blobThreshold,
          symbol: `${prefix}_weights`,
          /** Append bytes at a 16-byte aligned offset; returns the offset. */
          add(bytes: Uint8Array): number {
            const pad = (16 - (blobSize % 16)) % 16;
            if (pad) blobParts.push(new Uint8Array(pad));
            const offset = blobSize + pad;
            blobParts.push(bytes); // packed arrays are fresh; constants' own data is never changed
            blobSize = offset + bytes.length;
            return offset;
          },
        }
      : undefined;
  const placement = new Map(plan.placements.map((p) => [p.name, p]));
  const runtime = new Set<string>();
  const constDefs: string[] = [];
  const constNames = new Map<string, string>(); // `${tensor}\0${layout}` -> C name
  const constantBytes = new Map<string, number>();
  const tables: string[] = [];

  // Graph inputs and outputs become parameters of the run function. An output that is also an
  // input, or is listed twice, gets a parameter of its own, filled by a copy at the end.
  // One table for file-scope names and run() parameters, so that no parameter shadows a constant.
  const ioNames = globals;
  const ioDesc = (name: string, cname: string): IoDesc => {
    const t = g.tensors.get(name)!;
    return {
      name,
      cname,
      dtype: t.dtype,
      shape: t.shape,
      count: elementCount(t.shape),
      ctype: ctypeOf(t.dtype),
      macro: `${PREFIX}_${cname.toUpperCase()}_COUNT`,
    };
  };
  const inputs = g.inputs.map((name) => ioDesc(name, ioNames.get(name, '', 'io')));
  const outputs: IoDesc[] = [];
  const dupOutputs: IoDesc[] = [];
  g.outputs.forEach((o, i) => {
    if (outputs.some((d) => d.name === o)) dupOutputs.push(ioDesc(o, ioNames.get(`${o}_${i}`, '', 'io')));
    else outputs.push(ioDesc(o, ioNames.get(g.inputs.includes(o) ? `${o}_out` : o, '', 'io')));
  });
  const allOutputs = [...outputs, ...dupOutputs];

  function constant(name: string, layout: ConstLayout, rowLength?: number, pack: PackParams = {}): string {
    const params =
      layout === 't5'
        ? `g${pack.group}`
        : layout === 't5w' || layout === 't6w'
          ? `g${pack.group}w${pack.window}`
          : layout === 't2b'
            ? `n${pack.rows}`
            : layout === 'ub'
              ? `b${pack.bits}`
              : '';
    const key = `${name}\u0000${layout}\u0000${params}`;
    const have = constNames.get(key);
    if (have) return have;
    const t = g.tensors.get(name)!;
    if (t.kind !== 'constant' || !t.data) throw new Error(`internal: "${name}" is not a constant`);
    const id = layout === defaultLayout(t) ? globals.get(name) : globals.get(`${name}_${layout}`);
    // What to store: the C element type, the values, one line saying how they are laid out, and
    // how to print them as a C literal.
    let ctype: string;
    let data: Uint8Array | Uint16Array | Uint32Array | Float32Array | Int8Array | Int32Array | BigInt64Array;
    let desc: string;
    let perLine = 16;
    let lit: (x: number | bigint) => string = String;
    switch (layout) {
      case 't2':
      case 'b1': {
        data = layout === 't2' ? packT2(t.data as Int8Array, rowLength!) : packB1(t.data as Int8Array, rowLength!);
        const rowBytes = Math.ceil(rowLength! / (layout === 't2' ? 4 : 8));
        desc =
          layout === 't2'
            ? `2-bit codes, 4 per byte, low bits first (00 -> 0, 01 -> +1, 10 -> -1); rows of ${rowBytes} bytes`
            : `1-bit codes, 8 per byte, low bit first (1 -> +1, 0 -> -1); rows of ${rowBytes} bytes`;
        ctype = 'uint8_t';
        lit = (x) => hexByte(Number(x));
        break;
      }
      case 'c4': {
        data = packC4(t.data as Uint8Array, rowLength!);
        desc = `c4: Fairy2i codes i^e, 2 bits each, 4 per byte, low bits first (00 -> +1, 01 -> +i, 10 -> -1, 11 -> -i); rows of ${Math.ceil(rowLength! / 4)} bytes`;
        ctype = 'uint8_t';
        lit = (x) => hexByte(Number(x));
        break;
      }
      case 't2b':
      case 't5': {
        data = layout === 't2b' ? packT2B(t.data as Int8Array, rowLength!, pack.rows!) : packT5(t.data as Int8Array, rowLength!, pack.group!);
        desc =
          layout === 't2b'
            ? `t2b: 2-bit offset codes (-1, 0, +1 -> 0, 1, 2), blocks of 128 codes in 32 bytes, byte m holds codes m, m+32, m+64, m+96; rows interleaved by 4 per block`
            : `t5: 5 trits per byte, the byte is their LUT index (tn_runtime.h), packed per group of ${pack.group} codes`;
        ctype = 'uint8_t';
        lit = (x) => hexByte(Number(x));
        break;
      }
      case 'ub': {
        data = packUB(t.data as Uint8Array, rowLength!, pack.bits!);
        desc = `${pack.bits}-bit unsigned codes, a little-endian bit stream per row (code k at bit ${pack.bits} k); rows of ${ubRowBytes(rowLength!, pack.bits!)} bytes, one pad byte at the end`;
        ctype = 'uint8_t';
        lit = (x) => hexByte(Number(x));
        break;
      }
      case 'tbp': {
        data = packTBP(t.data as Int8Array, rowLength!);
        const nz = (t.data as Int8Array).reduce((a, v) => a + (v !== 0 ? 1 : 0), 0);
        desc = `tbp: per 32 codes a nonzero mask then a sign mask (bit j: code 32 i + j; sign set: -1); rows of ${Math.ceil(rowLength! / 32)} word pairs; ${nz} of ${t.data!.length} codes nonzero`;
        ctype = 'uint32_t';
        perLine = 8;
        lit = (x) => hexWord(Number(x));
        break;
      }
      case 't5w':
      case 't6w': {
        const q = layout === 't5w' ? 5 : 6;
        data = packTW(t.data as Int8Array, rowLength!, pack.group!, q, pack.window!);
        desc = `${layout}: ${q} trits per entry, the byte offset of their sum in a window of ${pack.window} LUT tables (tn_runtime.h), packed per group of ${pack.group} codes`;
        ctype = 'uint16_t';
        perLine = 12;
        break;
      }
      case 'f32': {
        const v = t.data as Float32Array;
        data = v;
        desc = `${Array.from(v.slice(0, 4), decimalComment).join(', ')}${v.length > 4 ? ', ...' : ''}`;
        ctype = 'float';
        perLine = 6;
        lit = (x) => hexFloat(Number(x));
        break;
      }
      case 'i8':
      case 'u8':
      case 'u16':
      case 'i32':
      case 'i64': {
        ctype = { i8: 'int8_t', u8: 'uint8_t', u16: 'uint16_t', i32: 'int32_t', i64: 'int64_t' }[layout];
        data = t.data as typeof data;
        desc = t.dtype === 'float16' ? 'IEEE half bits' : '';
        // INT32_MIN and INT64_MIN have no literal of their own in C: write them as (MIN + 1) - 1.
        lit = (x: number | bigint): string => {
          if (layout === 'i32') return x === -2147483648 ? '(-2147483647 - 1)' : String(x);
          if (layout === 'i64') return x === -9223372036854775808n ? '(-9223372036854775807LL - 1)' : `${x}LL`;
          return String(x);
        };
        break;
      }
    }
    const bytes = data.byteLength;
    const head = `/* ${safe(name)}: ${t.dtype} ${shapeStr(t.shape)}${desc ? `${layout === 'f32' ? ':' : ','} ${desc}` : ''}`;
    let def: string;
    if (blob && bytes > blob.threshold) {
      // Large weights go to weights.bin, linked by the build (weights.S: .incbin), never a C literal.
      const offset = blob.add(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      def = `${head}; weights.bin [${offset}, +${bytes}) */\n#define ${id} ((const ${ctype} *)(const void *)(${blob.symbol} + ${offset}))`;
    } else def = `${head} */\nstatic const ${ctype} ${id}[${data.length}] = {\n${arrayBody(data as ArrayLike<number | bigint>, perLine, lit)}\n};`;
    constDefs.push(def);
    constNames.set(key, id);
    constantBytes.set(name, (constantBytes.get(name) ?? 0) + bytes);
    return id;
  }

  const defaultLayout = (t: Tensor): ConstLayout => DEFAULT_LAYOUT[t.dtype];

  const nodeFns: string[] = [];
  const calls: string[] = [];
  // The run function names every arena buffer once, llama2.c style: `int8_t *xq = (int8_t *)(void *)(arena + 3536);`
  // (through void *: the arena is untyped storage that each buffer uses as its own type, not bytes
  // reinterpreted; it is aligned for every type, and each offset for its buffer's type).
  const buffers: string[] = [];
  const bufferNames = new Map<string, string>();
  const bufferName = (tensor: string, ctype: string, what: string, offset: number, bytes: number): string => {
    const have = bufferNames.get(tensor);
    if (have) return have;
    const id = globals.get(tensor.endsWith(':scratch') ? `${tensor.slice(0, -':scratch'.length)}_scratch` : tensor, '', 'buffer');
    bufferNames.set(tensor, id);
    const init = ctype === 'uint8_t' ? `arena + ${offset}` : `(${ctype} *)(void *)(arena + ${offset})`;
    buffers.push(`  ${`${ctype} *${id} = ${init};`.padEnd(52)} /* ${safe(what)}, bytes [${offset}, ${offset + bytes}) */`);
    return id;
  };
  const layers: EmittedModel['layers'] = [];
  const nodeNames = globals;

  g.nodes.forEach((node, step) => {
    opts.progress?.(`writing C: ${node.name}`, { done: step, total: g.nodes.length });
    const def = getOp(node.op);
    // Parameters: every non-constant tensor the node reads or writes, named after the op's spec.
    // `scratch` marks the kernel's working memory, which is no tensor (a uint8_t pointer into the arena).
    const params: { tensor: string; name: string; write: boolean; scratch?: boolean }[] = [];
    const paramOf = new Map<string, string>();
    const addParam = (tensor: string, name: string, write: boolean) => {
      if (paramOf.has(tensor)) return;
      const t = g.tensors.get(tensor)!;
      if (t.kind === 'constant') return;
      let pname = name;
      for (let i = 2; params.some((p) => p.name === pname); i++) pname = `${name}${i}`;
      params.push({ tensor, name: pname, write });
      paramOf.set(tensor, pname);
    };
    node.inputs.forEach((tn, i) => {
      if (tn === '') return;
      const spec = def.inputs.names[i] ?? `I${i}`;
      addParam(tn, spec, false);
      const q = g.tensors.get(tn)!.quant;
      if (q) addParam(q.scale, `${spec}_scale`, false);
    });
    // State the op updates in place (a KV cache) is written through its pointer.
    for (const i of def.mutates ?? []) {
      const p = params.find((q) => q.tensor === node.inputs[i]);
      if (p) p.write = true;
    }
    node.outputs.forEach((tn, j) => addParam(tn, def.outputs.names[j] ?? `O${j}`, true));
    for (const r of nodeReads(g, node)) addParam(r, cParamFallback(r), false);

    const ref = (tensor: string): string => {
      const p = paramOf.get(tensor);
      if (p) return p;
      const t = g.tensors.get(tensor)!;
      return constant(tensor, defaultLayout(t));
    };
    const annotations: Record<string, string | number> = {};
    const localTables: string[] = [];
    const ctx: EmitNodeContext = {
      graph: g,
      node,
      target,
      input: (i) => g.tensors.get(node.inputs[i]!)!,
      output: (j) => g.tensors.get(node.outputs[j]!)!,
      hasInput: (i) => node.inputs[i] !== undefined && node.inputs[i] !== '',
      in: (i) => ref(node.inputs[i]!),
      inScale: (i) => ref(g.tensors.get(node.inputs[i]!)!.quant!.scale),
      out: (j) => ref(node.outputs[j]!),
      scratch() {
        const sp = placement.get(scratchName(node.name));
        if (!sp) throw new Error(`internal: node "${node.name}" uses scratch but the plan has none for it`);
        if (!params.some((p) => p.scratch)) params.push({ tensor: sp.name, name: 'scratch', write: true, scratch: true });
        return 'scratch';
      },
      constant,
      intTable(stem, values) {
        const id = globals.get(`${node.name}_${stem}`);
        localTables.push(`static const int32_t ${id}[${Math.max(1, values.length)}] = { ${values.length ? values.join(', ') : '0'} };`);
        return id;
      },
      annotate(k, v) {
        annotations[k] = v;
      },
      rows: (all) => (g.rows ? 'n_rows' : String(all)),
      outRows: (all) => (g.rows ? 'n_out' : String(all)),
      deltaSlots() {
        if (!deltas) throw new Error(`internal: node "${node.name}" has a delta slot but the graph has no run-time deltas`);
        return deltas.slotsName;
      },
    };
    const emitted = def.emit(ctx);
    for (const f of emitted.runtime) runtime.add(f);
    tables.push(...localTables);
    node.annotations = { ...node.annotations, kernel: emitted.kernel, ...annotations };
    layers.push({ node: node.name, op: node.op, kernel: emitted.kernel, annotations });

    // Only the tensors the body mentions become parameters (Relu on int8 reads the scale tensor
    // in the IR, so that it stays live, but its kernel does not need it).
    const usedParams = params.filter((p) => new RegExp(`\\b${p.name}\\b`).test(emitted.body.join('\n')));
    params.length = 0;
    params.push(...usedParams);
    const fname = nodeNames.get(node.name, 'node_', 'node');
    const ctypeOfParam = (p: (typeof params)[number]) => (p.scratch ? 'uint8_t' : ctypeOf(g.tensors.get(p.tensor)!.dtype));
    const bodyText = emitted.body.join('\n');
    const rowParams = ['n_rows', 'n_out'].filter((r) => new RegExp(`\\b${r}\\b`).test(bodyText));
    const sig = [...params.map((p) => `${p.write ? '' : 'const '}${ctypeOfParam(p)} *${p.name}`), ...rowParams.map((r) => `int32_t ${r}`)].join(', ') || 'void';
    const where = (tensor: string): string => {
      const pl = placement.get(tensor);
      if (pl)
        return `arena[${pl.offset}, +${pl.bytes})${pl.inPlaceOf ? ` in place of ${safe(pl.inPlaceOf)}${pl.inPlaceAtEnd ? ' (which ends where this ends)' : ''}` : ''}`;
      if (g.inputs.includes(tensor)) return 'graph input';
      if (g.outputs.includes(tensor)) return 'graph output';
      return 'flash';
    };
    const comment = [
      `/* ${node.op} "${safe(node.name)}"  (step ${step})`,
      ...params.map(
        (p) =>
          ` *   ${p.name.padEnd(8)} ${safe(p.tensor).padEnd(14)} ${(p.scratch ? 'kernel scratch, uint8' : describeTensor(g.tensors.get(p.tensor)!)).padEnd(40)} ${where(p.tensor)}`,
      ),
      ...node.inputs
        .filter((tn) => tn !== '' && g.tensors.get(tn)!.kind === 'constant')
        .map((tn) => ` *   ${'(const)'.padEnd(8)} ${safe(tn).padEnd(14)} ${describeTensor(g.tensors.get(tn)!)}`),
      ` *   kernel: ${emitted.kernel}`,
      ' */',
    ];
    nodeFns.push([...comment, `static void ${fname}(${sig}) {`, ...emitted.body.map((l) => `  ${l}`), '}'].join('\n'));

    const args = params.map((p) => {
      const ct = ctypeOfParam(p);
      const pl = placement.get(p.tensor);
      if (pl) return bufferName(p.tensor, ct, p.scratch ? `kernel scratch of "${node.name}"` : describeTensor(g.tensors.get(p.tensor)!), pl.offset, pl.bytes);
      const io = inputs.find((d) => d.name === p.tensor) ?? outputs.find((d) => d.name === p.tensor);
      if (!io) throw new Error(`internal: tensor "${p.tensor}" has no storage`);
      return io.cname;
    });
    calls.push(`  ${fname}(${[...args, ...rowParams].join(', ')}); /* ${safe(node.op)} "${safe(node.name)}" */`);
    if (opts.dumpLayers)
      node.outputs.forEach((tn, j) => {
        const i = params.findIndex((p) => p.tensor === tn);
        if (i >= 0) calls.push(`  tn_dump_layer(${step}u, ${j}u, ${args[i]}, ${tensorBytes(g.tensors.get(tn)!)}u);`);
      });
  });

  // Outputs that no node writes directly: graph inputs, constants, or repeats of another output.
  const copies: string[] = [];
  for (const o of allOutputs) {
    const t = g.tensors.get(o.name)!;
    const producedToCaller = g.nodes.some((n) => n.outputs.includes(o.name)) && !dupOutputs.includes(o);
    if (producedToCaller) continue;
    runtime.add('ref/tn_elementwise.c');
    const src = dupOutputs.includes(o)
      ? outputs.find((d) => d.name === o.name)!.cname
      : t.kind === 'constant'
        ? constant(o.name, defaultLayout(t))
        : inputs.find((d) => d.name === o.name)!.cname;
    copies.push(`  tn_copy_bytes(${o.cname}, ${src}, ${elementCount(t.shape) * DTYPE_INFO[t.dtype].bytes}); /* output "${safe(o.name)}" */`);
  }

  const arenaBytes = plan.arenaBytes;
  // A token-batched graph's run takes the rows to run and the output rows wanted (Graph.rows).
  const rowArgs = g.rows ? ['n_rows', 'n_out'] : [];
  const runParams = [
    ...inputs.map((d) => `const ${d.ctype} *${d.cname}`),
    ...allOutputs.map((d) => `${d.ctype} *${d.cname}`),
    ...rowArgs.map((r) => `int32_t ${r}`),
  ];
  const runArgs = [...inputs.map((d) => d.cname), ...allOutputs.map((d) => d.cname), ...rowArgs];

  const driver = g.lm ? lmDriver(g, plan, prefix, `${prefix}_run`, `${prefix}_arena`) : undefined;
  if (deltas) runtime.add('ref/tn_delta.c');
  const headerLines = [
    `/*`,
    ` * ${prefix}: generated by tritc ${TRITC_VERSION} from ${safe(sourceName(g.source))} (sha256 ${g.sourceHash}).`,
    ` * Do not edit; regenerate with tritc compile.`,
    ` *`,
    ` * Inputs:`,
    ...inputs.map((d) => ` *   ${d.cname.padEnd(12)} ${d.dtype} ${shapeStr(d.shape)}  (${d.count} values: ${d.macro})`),
    ` * Outputs:`,
    ...allOutputs.map((d) => ` *   ${d.cname.padEnd(12)} ${d.dtype} ${shapeStr(d.shape)}  (${d.count} values: ${d.macro})`),
    ` *`,
    ` * Usage:`,
    ` *   ${prefix}_run(${runArgs.join(', ')});`,
    ` * runs the model once: it reads the inputs and writes every output. Buffers are row-major.`,
    ` * Activations live in one arena of ${PREFIX}_ARENA_BYTES bytes, planned at compile time:`,
    ` *   ${prefix}_run() uses a static arena inside model.c (not reentrant; define`,
    ` *     ${PREFIX}_NO_STATIC_ARENA when compiling model.c to leave it out);`,
    ` *   ${prefix}_run_arena() uses the arena you pass (${PREFIX}_ARENA_BYTES bytes, aligned to ${PREFIX}_ARENA_ALIGN).`,
    ` * Both return 0. No malloc, no libc, no libm; weights are const (flash on a microcontroller).`,
    ` */`,
    `#ifndef ${PREFIX}_MODEL_H`,
    `#define ${PREFIX}_MODEL_H`,
    ``,
    `#include <stdint.h>`,
    ``,
    `#define ${PREFIX}_ARENA_BYTES ${arenaBytes}`,
    `#define ${PREFIX}_ARENA_ALIGN 16`,
    `#define ${PREFIX}_NUM_INPUTS ${inputs.length}`,
    `#define ${PREFIX}_NUM_OUTPUTS ${allOutputs.length}`,
    ...[...inputs, ...allOutputs].map((d) => `#define ${d.macro} ${d.count} /* ${d.dtype} ${shapeStr(d.shape)} */`),
    ``,
    `#ifdef __cplusplus`,
    `extern "C" {`,
    `#endif`,
    ``,
    `int ${prefix}_run(${runParams.join(', ')});`,
    `int ${prefix}_run_arena(${[...runParams, 'void *arena'].join(', ')});`,
    ``,
    ...(driver ? [...driver.header, ''] : []),
    ...(deltas ? [...deltas.header, ''] : []),
    `#ifdef __cplusplus`,
    `}`,
    `#endif`,
    ``,
    `#endif /* ${PREFIX}_MODEL_H */`,
    ``,
  ];

  const flashBytes = [...constantBytes.values()].reduce((a, b) => a + b, 0);
  const sourceLines = [
    `/*`,
    ` * ${prefix}: generated by tritc ${TRITC_VERSION} from ${safe(sourceName(g.source))} (sha256 ${g.sourceHash}).`,
    ` * Target: ${target.name} (${safe(target.description)}).`,
    ` * Build: cc -std=c99 -O2 -ffp-contract=off -fno-strict-aliasing -c model.c tn_*.c`,
    ` *   -ffp-contract=off is required: the outputs are bit-exact with tritc's interpreter only if no`,
    ` *   multiply-add is fused. Never use -ffast-math.`,
    ` * Layers: ${g.nodes.length}; weights: ${flashBytes} bytes (const); arena: ${arenaBytes} bytes`,
    ` *   (lower bound ${plan.lowerBound}, plan: ${plan.algorithm}).`,
    ` */`,
    `#include "model.h"`,
    `#include "tn_runtime.h"`,
    // Language models, ONNX layers compiled to Linear (b-bit weights), and LM ops in other graphs.
    ...(g.rows || g.nodes.some((n) => n.op === 'Linear' || n.op === 'Int8Linear' || n.op === 'ActQuant') ? ['#include "tn_lm.h"'] : []),
    ...(deltas ? ['#include "tn_delta.h"'] : []),
    // Int8Linear on a Cortex-M with the DSP extension runs the SMLAD kernel of tn_dense.h.
    ...(target.features.includes('dsp') && g.nodes.some((n) => n.op === 'Int8Linear') ? ['#include "tn_dense.h"'] : []),
    ...(opts.dumpLayers ? ['', "/* Built to dump every layer's outputs (tritc test --bisect): the test program defines this. */", DUMP_LAYER_PROTOTYPE] : []),
    ``,
    `/* ---- Weights (const: flash on a microcontroller) ---------------------------------------- */`,
    ``,
    ...(blobSize
      ? [
          `/* The large weights are in weights.bin (${blobSize} bytes), linked by weights.S; offsets are 16-byte aligned. */`,
          `extern const uint8_t ${prefix}_weights[];`,
          '',
        ]
      : []),
    ...constDefs.flatMap((d) => [d, '']),
    ...(tables.length ? ['/* ---- Shapes and strides for kernels ---------------------------------------------------- */', '', ...tables, ''] : []),
    ...(deltas ? [...deltas.source, ''] : []),
    `/* ---- Memory plan ------------------------------------------------------------------------ */`,
    ``,
    drawPlan(
      plan,
      g.nodes.map((n) => n.name),
    ),
    ``,
    `/* ---- Layers ----------------------------------------------------------------------------- */`,
    ``,
    ...nodeFns.flatMap((f) => [f, '']),
    `/* ---- Entry points ----------------------------------------------------------------------- */`,
    ``,
    `int ${prefix}_run_arena(${[...runParams, 'void *arena_mem'].join(', ')}) {`,
    `  uint8_t *arena = (uint8_t *)arena_mem;`,
    ...(buffers.length === 0
      ? ['  (void)arena;']
      : ['  /* The arena buffers, at the offsets of the memory plan above (buffers whose lifetimes do not overlap share bytes). */', ...buffers, '']),
    // Inputs no node reads (their consumers were dead, or the model ignores them) are still parameters.
    ...inputs
      .filter((d) => !g.nodes.some((n) => nodeReads(g, n).includes(d.name)) && !allOutputs.some((o) => o.name === d.name))
      .map((d) => `  (void)${d.cname}; /* input "${safe(d.name)}" is not used */`),
    ...calls,
    ...copies,
    `  return 0;`,
    `}`,
    ``,
    `#ifndef ${PREFIX}_NO_STATIC_ARENA`,
    `/* uint64_t elements give 8-byte alignment in plain C99; compilers that know the attribute get 16. */`,
    ...(opts.arenaSection
      ? [
          `/* The arena goes to ${safe(opts.arenaSection.where)} through the linker section ${PREFIX}_ARENA_SECTION,`,
          ` * which your linker script must place there (NOLOAD: nothing reads an arena byte before writing it).`,
          ` * Another section: tritc compile --arena-section <name>, or -D${PREFIX}_ARENA_SECTION='"<name>"'. */`,
          `#ifndef ${PREFIX}_ARENA_SECTION`,
          `#define ${PREFIX}_ARENA_SECTION "${opts.arenaSection.name}"`,
          `#endif`,
          `static uint64_t ${prefix}_arena[${Math.max(1, Math.ceil(arenaBytes / 8))}] TN_ALIGNED(16) TN_SECTION(${PREFIX}_ARENA_SECTION);`,
        ]
      : [`static uint64_t ${prefix}_arena[${Math.max(1, Math.ceil(arenaBytes / 8))}] TN_ALIGNED(16);`]),
    ``,
    `int ${prefix}_run(${runParams.join(', ')}) {`,
    `  return ${prefix}_run_arena(${[...runArgs, `${prefix}_arena`].join(', ')});`,
    `}`,
    ...(driver ? ['', ...driver.source] : []),
    `#endif`,
    ``,
  ];

  let weightsBlob: WeightsBlob | undefined;
  if (blobSize) weightsBlob = { symbol: `${prefix}_weights`, parts: blobParts, bytes: blobSize, asm: weightsAsm(`${prefix}_weights`, blobSize) };
  return {
    blob: weightsBlob,
    prefix,
    header: headerLines.join('\n'),
    source: sourceLines.join('\n'),
    runtime: [...runtime].sort(),
    constantBytes,
    layers,
    io: { inputs, outputs: allOutputs },
  };
}

/** Parameter name for a tensor a node reads without naming it as an input (none today). */
function cParamFallback(tensor: string): string {
  return cIdent(tensor);
}

/** weights.S: the weights file as a read-only, 16-byte aligned symbol (flash on a microcontroller). */
function weightsAsm(symbol: string, bytes: number): string {
  return `/* weights.S: generated by tritc ${TRITC_VERSION}. Links weights.bin (${bytes} bytes) as ${symbol}[],
 * read-only data (flash on a microcontroller). Assemble with the C compiler (cc -c weights.S), from the
 * directory that holds weights.bin or with -I pointing at it. */
  .section .rodata.${symbol},"a"
  .balign 16
  .global ${symbol}
  .type ${symbol}, %object
${symbol}:
  .incbin "weights.bin"
  .size ${symbol}, ${bytes}
`;
}
