// The compiler's kernel choice (compiler/kernels/choose.ts): per target and layer shape, with a
// reason; the flash fallback to the 1.6-bit format; LUT windows within 16-bit offsets, the flush
// bound and the scratch RAM; overrides by --kernel and by the node attribute, and their errors.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../compiler/compile.ts';
import { TritcError } from '../compiler/diagnostics.ts';
import { readModel } from '../compiler/readers/native/read.ts';
import { writeModel, type ModelSpec } from '../compiler/readers/native/write.ts';
import { FORMATS } from '../compiler/kernels/formats.ts';
import { lutPlan } from '../compiler/kernels/choose.ts';
import type { LayerShape } from '../compiler/kernels/registry.ts';
import { getTarget, type TargetDesc } from '../compiler/targets.ts';
import { workDir } from './support/differential.ts';

const dir = workDir('choice');
let seq = 0;

function layer(n: number, k: number, opts: { binary?: boolean; group?: number; kernel?: string; rows?: number; everyNth?: number } = {}): ModelSpec {
  const ternary = !opts.binary;
  const groups = opts.group ? Math.ceil(k / opts.group) : 1;
  return {
    name: `layer${seq++}`,
    inputs: ['x'],
    outputs: ['y'],
    tensors: {
      x: { dtype: 'float32', shape: [opts.rows ?? 1, k] },
      w: {
        dtype: ternary ? 'ternary' : 'binary',
        shape: [n, k],
        encoding: 'int8',
        quant: { scale: 'w.scale', granularity: opts.group ? 'per_group' : 'per_row', ...(opts.group ? { group_size: opts.group } : {}) },
        data: new Int8Array(n * k).map((_, i) => (ternary ? (opts.everyNth ? (i % opts.everyNth === 0 ? (i % 2 ? 1 : -1) : 0) : (i % 3) - 1) : i % 2 ? 1 : -1)),
      },
      // Distinct scales: equal ones would become one per tensor (the uniform-scales pass).
      'w.scale': { dtype: 'float32', shape: [n * groups], data: Float32Array.from({ length: n * groups }, (_, i) => 0.5 + i / 1024) },
    },
    nodes: [
      { name: 'q', op: 'QuantizeInt8', inputs: ['x'], outputs: ['xq'] },
      {
        name: 'fc',
        op: ternary ? 'TernaryLinear' : 'BinaryLinear',
        inputs: ['xq', 'w'],
        outputs: ['y'],
        ...(opts.kernel ? { attrs: { kernel: opts.kernel } } : {}),
      },
    ],
  };
}

function choose(spec: ModelSpec, target: string | TargetDesc, kernel?: string, maxScratch?: number) {
  const g = readModel(writeModel(join(dir, spec.name), spec));
  const c = compileGraph(g, { target: typeof target === 'string' ? getTarget(target) : target, kernel, skipFitCheck: true, maxScratch });
  return c.layers.find((l) => l.node === 'fc')!;
}

describe('kernel choice', () => {
  it('picks the ISA variant of each target, with a reason', () => {
    const want: Record<string, RegExp> = {
      host: /\(t2b\.avx2,/,
      'rpi-aarch64': /\(t2b\.neon,/,
      'rpi-armv7': /\(t2b\.neon,/,
      'riscv64-linux': /\(t[56]w\.lut,/,
      'cortex-m4': /\(t[56]w\.lut_armv7m,/,
      'cortex-m3': /\(t[56]w\.lut_armv7m,/,
      rv32imc: /\(t[56]w\.lut_rv32,/,
    };
    for (const [t, re] of Object.entries(want)) {
      const l = choose(layer(256, 256), t);
      expect(l.kernel, t).toMatch(re);
      expect(String(l.annotations.why), t).toMatch(/est\. [\d.]+ instr\/weight/);
    }
    expect(choose(layer(64, 64, { binary: true }), 'cortex-m4').kernel).toMatch(/\(b1\.lut_armv7m,/);
    expect(choose(layer(256, 256, { binary: true }), 'rv32imc').kernel).toMatch(/\(b1\.lut_rv32,/);
  });

  it('takes larger LUT groups when the table build is shared by more rows', () => {
    expect(choose(layer(64, 1024), 'cortex-m4').kernel).toMatch(/t5w/);
    expect(choose(layer(2048, 1024), 'cortex-m4').kernel).toMatch(/t6w/);
  });

  it('falls back to the 1.6-bit format when the weights do not fit the flash', () => {
    const m4 = getTarget('cortex-m4');
    const small: TargetDesc = { ...m4, memory: { flash: 64 * 1024 + 120 * 1024, ram: m4.memory!.ram } };
    const l = choose(layer(512, 1024), small); // t5w: 320 KiB, t5: 103 KiB
    expect(l.kernel).toMatch(/\(t5\.lut_armv7m,/);
    expect(String(l.annotations.why)).toMatch(/1\.6-bit t5 for flash/);
    expect(l.weightBytes).toBeLessThan((512 * 1024 * 1.65) / 8 + 512 * 4 + 1);
  });

  it('falls back to the 1-bit format for binary layers when the weights do not fit the flash', () => {
    const host = getTarget('host');
    const small: TargetDesc = { ...host, memory: { flash: 64 * 1024 + 120 * 1024, ram: 1 << 20 } };
    const l = choose(layer(512, 1024, { binary: true }), small); // t2b: 128 KiB, b1: 64 KiB
    expect(l.kernel).toMatch(/\(b1\.lut,/);
    expect(String(l.annotations.why)).toMatch(/1-bit b1 for flash/);
  });

  it('takes the 1-bit b1 assembly LUT for binary layers on rv32imc, the ternary tables only when its tables do not fit', () => {
    // b1.lut_rv32 costs less than t5w/t6w.lut_rv32 per lookup (5 instructions per 8 codes against 4
    // per 5 or 6) and per table (325 per 8 activations against 202 per 5, 460 per 6), at 1 bit per weight.
    for (const [n, k] of [
      [64, 64],
      [256, 256],
      [512, 1024],
    ] as const) {
      const l = choose(layer(n, k, { binary: true }), 'rv32imc');
      expect(l.kernel, `${n}x${k}`).toMatch(/\(b1\.lut_rv32,/);
      expect(String(l.annotations.why)).toMatch(/^fastest: .*next: .*t[56]w\.lut_rv32/);
    }
    // A t5w table takes 252 bytes, a b1 table 512: with 256 sums and 400 bytes of scratch only t5w fits.
    const tight = choose(layer(256, 256, { binary: true }), 'rv32imc', undefined, 4 * 256 + 400);
    expect(tight.kernel).toMatch(/\(t5w\.lut_rv32,/);
    expect(String(tight.annotations.why)).toMatch(/not possible/);
  });

  it('picks the bit-plane kernel for sparse ternary layers only, on the microcontrollers', () => {
    for (const target of ['cortex-m4', 'cortex-m3', 'rv32imc']) {
      const sparse = choose(layer(64, 512, { everyNth: 40 }), target); // 2.5 % nonzero
      expect(sparse.kernel, target).toMatch(/\(tbp\.sparse,/);
      expect(String(sparse.annotations.why)).toMatch(/fastest: est\./);
      expect(choose(layer(64, 512), target).kernel, target).not.toMatch(/tbp/); // 2/3 nonzero
    }
    expect(choose(layer(64, 512), 'cortex-m4', 'tbp').kernel).toMatch(/\(tbp\.sparse,/);
  });

  it('counts Zbb: on rv32imc-zbb the bit-plane kernel wins at a density where rv32imc keeps the LUT', () => {
    const spec = layer(64, 2048, { everyNth: 12 }); // 8.3 % nonzero
    expect(choose(spec, 'rv32imc').kernel).toMatch(/\(t[56]w\.lut_rv32,/);
    expect(choose(spec, 'rv32imc-zbb').kernel).toMatch(/\(tbp\.sparse,/);
  });

  it('skips the b1 LUT when per-group scales do not start on whole bytes', () => {
    // The b1 LUTs cannot run it; the ternary LUT kernels (binary codes are ternary codes) can.
    expect(choose(layer(16, 64, { binary: true, group: 12 }), 'cortex-m4').kernel).toMatch(/\(t[56]w\.lut,/);
    expect(choose(layer(16, 64, { binary: true, group: 16 }), 'cortex-m4').kernel).toMatch(/\(b1\.lut_armv7m,/);
  });

  it('sizes LUT windows to 16-bit offsets, the unrolled lookups, the flush bound and the scratch RAM', () => {
    const l: LayerShape = { op: 'TernaryLinear', planes: 1, n: 100, k: 4000, group: 4000, groups: 1, rows: 1, maxAbsX: 127, flush: 0, density: 2 / 3 };
    expect(lutPlan(FORMATS.t5w, l, 1 << 30)).toMatchObject({ window: 96 }); // 260 fit 16-bit offsets; the lookups unroll 96
    expect(lutPlan(FORMATS.t6w, l, 1 << 30)).toMatchObject({ window: 86 }); // 86 half tables of 756 bytes in 65536
    expect(lutPlan(FORMATS.t5, l, 1 << 30)).toMatchObject({ window: 800 });
    expect(lutPlan(FORMATS.t5, { ...l, flush: 23 }, 1 << 30)).toMatchObject({ window: 4 });
    expect(lutPlan(FORMATS.t5, l, 10 * 504 + 4 * 100)).toMatchObject({ window: 10, scratchBytes: 10 * 504 + 4 * 100 });
    expect(lutPlan(FORMATS.t6w, l, 1000)).toMatch(/needs at least/);
    // Prefill: a full window for as many tokens (up to 4) as fit, each with its tables and sums.
    const per = 96 * 252 + 400;
    expect(lutPlan(FORMATS.t5w, { ...l, rows: 7 }, 1 << 30)).toMatchObject({ window: 96, scratchBytes: 4 * per });
    expect(lutPlan(FORMATS.t5w, { ...l, rows: 7 }, 3 * per)).toMatchObject({ window: 96, scratchBytes: 3 * per });
    expect(lutPlan(FORMATS.t5w, { ...l, rows: 7, flush: 50 }, 1 << 30)).toMatchObject({ window: 10, scratchBytes: 4 * (10 * 252 + 400 + 800) });
  });

  it('obeys --kernel (all layers, or per node) and the node attribute, --kernel first', () => {
    expect(choose(layer(32, 32), 'cortex-m4', 't2').kernel).toMatch(/\(t2\.ref,/);
    expect(choose(layer(32, 32), 'cortex-m4', 't5').kernel).toMatch(/\(t5\.lut_armv7m,/);
    expect(choose(layer(32, 32), 'cortex-m4', 'fc=t6w.lut').kernel).toMatch(/\(t6w\.lut,/);
    expect(choose(layer(32, 32, { kernel: 't5w.ref' }), 'host').kernel).toMatch(/\(t5w\.ref,/);
    expect(choose(layer(32, 32, { kernel: 't5w.ref' }), 'host', 't2b').kernel).toMatch(/\(t2b\.avx2,/);
  });

  it('explains what cannot be done', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(TritcError);
        return (e as TritcError).message;
      }
      throw new Error('no error');
    };
    expect(err(() => choose(layer(32, 32), 'cortex-m4', 't2b.avx2'))).toMatch(/needs x86_64, which cortex-m4 does not have/);
    expect(err(() => choose(layer(32, 32), 'cortex-m4', 'nonsense'))).toMatch(/neither a kernel nor a format; for this layer on cortex-m4: .*t5w\.lut_armv7m/);
    expect(err(() => choose(layer(32, 32), 'host', 'b1'))).toMatch(/no TernaryLinear kernel for host/);
    expect(err(() => choose(layer(32, 32), 'host', 'fc2=t5'))).toMatch(/no node named "fc2"/);
  });
});
