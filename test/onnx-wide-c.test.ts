// The ops added for older and wider ONNX (issue 16) in generated C, bit for bit against the
// interpreter: random graphs of those ops alone on the host and under QEMU (cortex-m4: hard float,
// Thumb-2), and a float model whose weights are far past the blob threshold, compiled, built and run.
// Missing Zig or QEMU is a failure with an install hint, never a skip.

import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../compiler/cli/main.ts';
import type { Io } from '../compiler/cli/command.ts';
import { encodeOnnxModel } from '../compiler/readers/onnx/write.ts';
import { getTarget } from '../compiler/targets.ts';
import { differential, workDir } from './support/differential.ts';
import { randomOnnxModel, WIDE_MAKERS } from '../bench/gen/random_onnx_graph.ts';
import { scaled } from './support/tier.ts';

describe('the new ONNX ops in C, bit for bit', () => {
  it(`agree with the interpreter on ${scaled(40)} random graphs of the new ops on the host`, async () => {
    // Random mixtures, and a graph of each maker alone so that every op is drawn whatever the seeds.
    const specs = [
      ...Array.from({ length: scaled(40) }, (_, i) => randomOnnxModel(70_000 + i, { makers: WIDE_MAKERS, steps: 4 })),
      ...WIDE_MAKERS.map((m, i) => {
        // The first seed whose inputs suit the maker (some need a tensor of a few elements).
        for (let seed = 72_000 + 100 * i; ; seed++) {
          const spec = randomOnnxModel(seed, { makers: [m], steps: 3 });
          if (spec.nodes.length) return spec;
        }
      }),
    ];
    const ops = new Set(specs.flatMap((s) => s.nodes.map((n) => n.op)));
    for (const op of ['LSTM', 'GRU', 'ConvTranspose', 'Interpolate', 'Pad', 'TopK', 'ScatterND', 'CumSum', 'LRN', 'Mish']) expect(ops, op).toContain(op);
    const res = await differential(specs, getTarget('host'), workDir('wide-host'), 2);
    expect(res.failures).toEqual([]);
  });

  it(`agree with the interpreter on ${scaled(15)} random graphs of the new ops on cortex-m4 (QEMU)`, async () => {
    const specs = Array.from({ length: scaled(15) }, (_, i) => randomOnnxModel(71_000 + i, { makers: WIDE_MAKERS, steps: 4 }));
    const res = await differential(specs, getTarget('cortex-m4'), workDir('wide-m4'), 2);
    expect(res.failures).toEqual([]);
  });
});

describe('large float weights', () => {
  it('go to weights.bin (never a C literal); the model compiles, builds and runs bit-exact', async () => {
    // A classifier head of 2.5 M float32 weights (10 MiB), 160 times the 64 KiB blob threshold.
    const dir = workDir('wide-big');
    const [k, n] = [2560, 1000];
    let seed = 7;
    const w = new Float32Array(k * n).map(() => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.02);
    const path = join(dir, 'head.onnx');
    writeFileSync(
      path,
      encodeOnnxModel({
        opset: 13,
        inputs: [{ name: 'x', dtype: 'float32', shape: ['N', k] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: ['N', n] }],
        initializers: [
          { name: 'w', dtype: 'float32', shape: [n, k], data: w },
          { name: 'b', dtype: 'float32', shape: [n], data: new Float32Array(n).fill(0.5) },
        ],
        nodes: [{ op: 'Gemm', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { transB: 1 } }],
      }),
    );
    let out = '';
    const io: Io = { out: (s) => (out += `${s}\n`), err: (s) => (out += `${s}\n`), progress: () => {}, endProgress: () => {} };
    const t0 = Date.now();
    expect(await main(['compile', path, '--batch', '1', '-o', join(dir, 'out')], io), out).toBe(0);
    const seconds = (Date.now() - t0) / 1000;
    expect(statSync(join(dir, 'out', 'weights.bin')).size).toBeGreaterThanOrEqual(k * n * 4);
    const c = readFileSync(join(dir, 'out', 'model.c'), 'utf8');
    expect(c.length).toBeLessThan(64 * 1024); // the bias (4 KB) may be a literal, the weights not
    expect(c).toMatch(/#define \w+ \(\(const float \*\)(\(const void \*\))?\(head_weights \+ \d+\)\)/);
    expect(seconds).toBeLessThan(60);
    const run = await main(['run', path, '--batch', '1', '-n', '2'], io);
    expect(run, out).toBe(0);
    expect(out).toMatch(/host\s+yes \(2\/2\)/);
  });
});
