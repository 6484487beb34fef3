// The command line as a user meets it: help, --json, clear one-line errors with exit codes, and no
// half-written output directories.

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../compiler/cli/main.ts';
import type { Io } from '../compiler/cli/command.ts';
import { readNpy, writeNpy } from '../compiler/io/npy.ts';
import { readNpz, writeNpz } from '../compiler/io/npz.ts';
import { writeModel } from '../compiler/readers/native/write.ts';
import { exec } from '../compiler/toolchain/build.ts';
import { workDir } from './support/differential.ts';

const EXAMPLE = join(import.meta.dirname, '../examples/digits-mlp');
const BIN = join(import.meta.dirname, '../bin/tritc.js');
const root = workDir('cli');

async function tritc(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (s) => (out += `${s}\n`), err: (s) => (err += `${s}\n`), progress: () => {}, endProgress: () => {} };
  const code = await main(argv, io);
  return { code, out, err };
}

describe('tritc command line', () => {
  it('--help lists every command, and every command has --help', async () => {
    const top = await tritc('--help');
    expect(top.code).toBe(0);
    for (const c of ['compile', 'run', 'inspect', 'targets']) {
      expect(top.out).toContain(c);
      const h = await tritc(c, '--help');
      expect(h.code).toBe(0);
      expect(h.out).toMatch(new RegExp(`^Usage: tritc ${c}`));
      expect(h.out).toContain('--json');
    }
  });

  it('compile writes a complete directory and --json describes it', async () => {
    const out = join(root, 'compiled');
    const r = await tritc('compile', EXAMPLE, '--target', 'cortex-m4', '-o', out, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ ok: true, model: 'digits-mlp', target: 'cortex-m4', prefix: 'digits_mlp' });
    expect(readdirSync(out).sort()).toEqual(j.files.sort());
    // cortex-m4: the LUT kernels with Thumb-2 inner loops (docs/kernels.md), and their portable driver.
    expect(j.files).toEqual(
      expect.arrayContaining(['model.h', 'model.c', 'tn_runtime.h', 'tn_lut.c', 'tn_lut_armv7m.c', 'Makefile', 'CMakeLists.txt', 'tritc.json']),
    );
    // Only the runtime files the model uses.
    expect(j.files).not.toContain('tn_dequantize.c');
    expect(JSON.parse(readFileSync(join(out, 'tritc.json'), 'utf8')).arenaBytes).toBe(j.arenaBytes);
  });

  it('compiling for a CPU variant carries its feature defines into the Makefile and CMakeLists.txt', async () => {
    const out = join(root, 'rvv');
    expect((await tritc('compile', EXAMPLE, '--target', 'riscv64-rvv', '-o', out)).code).toBe(0);
    expect(readFileSync(join(out, 'Makefile'), 'utf8')).toMatch(/^TARGET_DEFINES = -DTN_RVV$/m);
    expect(readFileSync(join(out, 'CMakeLists.txt'), 'utf8')).toMatch(/target_compile_definitions\(\$\{_tritc_lib\} PRIVATE TN_RVV\)/);
    expect(readdirSync(out)).toContain('tn_t2b_rvv.c');
  });

  it('a bad model is one error line per problem, exit 1, and the old output directory survives', async () => {
    const out = join(root, 'keep-me');
    expect((await tritc('compile', EXAMPLE, '-o', out)).code).toBe(0);
    const before = readFileSync(join(out, 'model.c'), 'utf8');
    const bad = join(root, 'bad');
    mkdirSync(bad, { recursive: true });
    const doc = JSON.parse(readFileSync(join(EXAMPLE, 'model.json'), 'utf8'));
    doc.nodes[4].inputs[1] = 'fc2.weight';
    doc.weights = join(EXAMPLE, 'model.safetensors');
    writeFileSync(join(bad, 'model.json'), JSON.stringify(doc));
    const r = await tritc('compile', bad, '-o', out);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toEqual([`error: ${join(bad, 'model.json')}: nodes[4].inputs[1]: tensor "fc2.weight" is not defined`]);
    expect(readFileSync(join(out, 'model.c'), 'utf8')).toBe(before);
    expect(readdirSync(root).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('a model that does not fit leaves no output directory', async () => {
    const out = join(root, 'never');
    const big = join(root, 'big');
    mkdirSync(big, { recursive: true });
    const doc = JSON.parse(readFileSync(join(EXAMPLE, 'model.json'), 'utf8'));
    doc.tensors.x.shape = [4000, 64];
    doc.weights = join(EXAMPLE, 'model.safetensors');
    writeFileSync(join(big, 'model.json'), JSON.stringify(doc));
    const r = await tritc('compile', big, '--target', 'cortex-m3', '-o', out);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: .*does not fit cortex-m3: needs [\d.]+ MiB RAM, target cortex-m3 has 64\.0 KiB: arena/);
    expect(existsSync(out)).toBe(false);
  });

  it('usage errors exit 2 with a pointer to --help', async () => {
    expect(await tritc('compile', EXAMPLE)).toMatchObject({ code: 2, err: expect.stringMatching(/needs -o <dir>/) });
    expect(await tritc('frobnicate')).toMatchObject({ code: 2, err: expect.stringMatching(/unknown command "frobnicate"/) });
    expect(await tritc('run', EXAMPLE, '--bogus')).toMatchObject({ code: 2, err: expect.stringMatching(/Unknown option '--bogus'.*tritc run --help/) });
    expect(await tritc('run', EXAMPLE, '--target', 'z80')).toMatchObject({
      code: 2,
      err: expect.stringMatching(/unknown target "z80"; known targets: host, /),
    });
  });

  it('errors come out as JSON with --json', async () => {
    const r = await tritc('inspect', join(root, 'nope'), '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, errors: [{ code: 'io', text: expect.stringMatching(/nope: no such file or directory/) }] });
  });

  it('inspect shows kernels, params, bits and MACs per layer', async () => {
    const r = await tritc('inspect', EXAMPLE, '--target', 'cortex-m4', '--json');
    const j = JSON.parse(r.out);
    const fc1 = j.layers.find((l: { node: string }) => l.node === 'fc1');
    expect(fc1).toMatchObject({
      op: 'TernaryLinear',
      macs: 64 * 64,
      params: 64 * 64,
      annotations: { accumulator: 'int32', packing: '3.2-bit, 5 trits per 16-bit LUT offset, a 16-bit header per window' },
    });
    expect(fc1.kernel).toMatch(/t5w\.lut_armv7m/);
    expect(fc1.annotations.why).toMatch(/instr\/weight on cortex-m4/);
    // 13 16-bit LUT offsets and a window header per row of 64 weights, plus a float scale and bias per row.
    expect(fc1.bitsPerParam).toBeCloseTo((64 * 14 * 16 + 64 * 32 * 2) / 4096, 5);
    const text = await tritc('inspect', EXAMPLE);
    expect(text.out).toMatch(/fc2\s+BinaryLinear\s+tn_binary_linear_t2b_avx2 \(t2b\.avx2,/);
    expect(text.out).toMatch(/memory: fits/);
  });

  it('--max-scratch caps the RAM of kernel tables: no tables at 0, a clear error for a bad size', async () => {
    const lut = JSON.parse((await tritc('inspect', EXAMPLE, '--target', 'cortex-m4', '--json')).out);
    const none = JSON.parse((await tritc('inspect', EXAMPLE, '--target', 'cortex-m4', '--max-scratch', '0', '--json')).out);
    const fc1 = (j: { layers: { node: string; kernel: string; annotations: Record<string, unknown> }[] }) => j.layers.find((l) => l.node === 'fc1')!;
    expect(fc1(lut).annotations.scratch).toBeGreaterThan(0);
    expect(fc1(none).kernel).not.toMatch(/lut/);
    expect(fc1(none).annotations.scratch).toBeUndefined();
    const bad = await tritc('inspect', EXAMPLE, '--target', 'cortex-m4', '--max-scratch', '12x');
    expect(bad.code).toBe(2);
    expect(bad.err.trim()).toBe('error: --max-scratch: expects a byte count such as 4096, 16K or 1MiB, got "12x"');
  });

  it('targets reports the zig in use and every target', async () => {
    const r = await tritc('targets', '--json');
    const j = JSON.parse(r.out);
    expect(j.zig.source).toMatch(/\$ZIG|npm package|PATH/);
    expect(j.targets.map((t: { name: string }) => t.name)).toEqual([
      'host',
      'rpi-aarch64',
      'rpi-armv7',
      'riscv64-linux',
      'cortex-m4',
      'cortex-m3',
      'rv32imc',
      'rpi5-aarch64',
      'riscv64-rvv',
      'rv32imc-zbb',
    ]);
    expect(j.targets.every((t: { ready: boolean }) => t.ready)).toBe(true);
  });

  it('run takes .npy inputs of shape S or [N, ...S] and writes outputs the same way', async () => {
    const x1 = join(root, 'x1.npy');
    const xN = join(root, 'xN.npy');
    writeFileSync(x1, writeNpy({ dtype: 'float32', shape: [1, 64], data: new Float32Array(64).map((_, i) => (i % 9) / 8) }));
    writeFileSync(xN, writeNpy({ dtype: 'float32', shape: [5, 1, 64], data: new Float32Array(5 * 64).map((_, i) => ((i * 7) % 17) / 16) }));
    const one = await tritc('run', EXAMPLE, '--inputs', x1, '--outputs', `${join(root, 'p1.npy')},${join(root, 'c1.npy')}`, '--json');
    expect(one.code).toBe(0);
    expect(JSON.parse(one.out).targets[0]).toMatchObject({ target: 'host', ok: true, runs: 1, identical: 1 });
    expect(readNpy(readFileSync(join(root, 'p1.npy')), 'p1').shape).toEqual([1, 10]);
    expect(readNpy(readFileSync(join(root, 'c1.npy')), 'c1')).toMatchObject({ dtype: 'int32', shape: [1] });
    const many = await tritc('run', EXAMPLE, '--inputs', xN, '--outputs', join(root, 'out.npz'));
    expect(many.code).toBe(0);
    expect(many.out).toMatch(/host\s+yes \(5\/5\)/);
    const npz = readNpz(readFileSync(join(root, 'out.npz')), 'out.npz');
    expect(npz.get('probs')!.shape).toEqual([5, 1, 10]);
    expect(npz.get('class')!.shape).toEqual([5, 1]);
  });

  it('run rejects inputs of the wrong shape with both shapes in the message', async () => {
    const bad = join(root, 'bad.npy');
    writeFileSync(bad, writeNpy({ dtype: 'float32', shape: [63], data: new Float32Array(63) }));
    const r = await tritc('run', EXAMPLE, '--inputs', bad);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.npy: input "x" has shape \[1, 64\]; the file holds \[63\], expected \[1, 64\] or \[N, 1, 64\]/);
  });

  it('the installed bin prints one line and no stack trace for user errors (stack only with --verbose)', async () => {
    const r = await exec(process.execPath, [BIN, 'inspect', join(root, 'missing-model')]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const v = await exec(process.execPath, [BIN, 'inspect', join(root, 'missing-model'), '--verbose']);
    expect(v.stderr).toMatch(/\n\s+at /);
    const ok = await exec(process.execPath, [BIN, '--version']);
    expect(ok.stdout).toMatch(/^tritc \d+\.\d+\.\d+/);
  });

  it('a missing Zig or QEMU is an error that says how to install it', async () => {
    const noZig = await exec(process.execPath, [BIN, 'run', EXAMPLE, '--target', 'host'], { env: { ...process.env, ZIG: '/nonexistent/zig' } });
    expect(noZig.code).toBe(1);
    expect(noZig.stderr).toMatch(/ZIG is set to "\/nonexistent\/zig", which does not exist; unset it or install it with `npm install`/);
    // A PATH without QEMU (node is started by its absolute path; zig comes from the npm package).
    const noQemu = await exec(process.execPath, [BIN, 'run', EXAMPLE, '--target', 'cortex-m4'], { env: { ...process.env, PATH: '/nonexistent' } });
    expect(noQemu.code).toBe(1);
    expect(noQemu.stderr.trim()).toBe(
      "error: qemu-system-arm (needed for target cortex-m4) was not found: install it with `sudo apt-get install -y qemu-system-arm` (Debian/Ubuntu), or run the README's setup command",
    );
  });

  it('a model with two inputs takes one .npy per input, or one .npz keyed by input name', async () => {
    const dir = join(root, 'two-inputs');
    writeModel(dir, {
      name: 'two',
      inputs: ['a', 'b'],
      outputs: ['s'],
      tensors: { a: { dtype: 'float32', shape: [3] }, b: { dtype: 'float32', shape: [2, 3] } },
      nodes: [{ name: 'add', op: 'Add', inputs: ['a', 'b'], outputs: ['s'] }],
    });
    writeFileSync(join(root, 'a.npy'), writeNpy({ dtype: 'float32', shape: [3], data: Float32Array.of(1, 2, 3) }));
    writeFileSync(join(root, 'b.npy'), writeNpy({ dtype: 'float32', shape: [2, 3], data: Float32Array.of(10, 20, 30, 40, 50, 60) }));
    const r = await tritc('run', dir, '--inputs', `${join(root, 'a.npy')},${join(root, 'b.npy')}`, '--outputs', join(root, 's.npy'));
    expect(r.code).toBe(0);
    expect(Array.from(readNpy(readFileSync(join(root, 's.npy')), 's').data as Float32Array)).toEqual([11, 22, 33, 41, 52, 63]);
    writeFileSync(
      join(root, 'ab.npz'),
      writeNpz([
        ['b', { dtype: 'float32', shape: [2, 2, 3], data: new Float32Array(12).fill(1) }],
        ['a', { dtype: 'float32', shape: [2, 3], data: new Float32Array(6).fill(2) }],
      ]),
    );
    const z = await tritc('run', dir, '--inputs', join(root, 'ab.npz'), '--json');
    expect(JSON.parse(z.out)).toMatchObject({ ok: true, runs: 2 });
    const wrong = await tritc('run', dir, '--inputs', join(root, 'a.npy'));
    expect(wrong).toMatchObject({ code: 2, err: expect.stringMatching(/--inputs: the model has 2 inputs \(a, b\), 1 file was given/) });
  });
});
