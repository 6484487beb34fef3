// AutoGPTQ's v1 checkpoint format (compiler/quantize/autogptq.ts): packing compared word for word with
// AutoGPTQ's own `pack` loops (transcribed below from qlinear_cuda_old.py's algorithm, including the
// 3-bit words that straddle), unpacking back to the same LmIntB, and one clear line for each way a
// checkpoint's tensors can disagree with its config.

import { describe, expect, it } from 'vitest';
import { TritcError } from '../compiler/diagnostics.ts';
import { rng } from '../compiler/harness/inputs.ts';
import type { StTensor } from '../compiler/io/safetensors.ts';
import type { LmIntB } from '../compiler/lm/model.ts';
import { f16BitsToF32 } from '../compiler/numerics/half.ts';
import { type AutoGptqLayout, groupIndex, packAutoGptq, unpackAutoGptq } from '../compiler/quantize/autogptq.ts';
import type { LayerSource, PackedTensor } from '../compiler/quantize/layer_io.ts';
import { autogptqPackWeight, autogptqPackZeros, i32Tensor, randomIntB } from './support/autogptq_writer.ts';
import { dequantize } from './support/lm_reference.ts';
import { scaled } from './support/tier.ts';

// ---------------------------------------------------------------------------------------------------
// random layers

function sourceOf(tensors: Map<string, StTensor>): LayerSource {
  return { what: 'an AutoGPTQ layer', get: (s) => tensors.get(s), where: (s) => `ckpt: tensor "layer.${s}"` };
}

function asMap(packed: PackedTensor[]): Map<string, StTensor> {
  return new Map(packed.map((p) => [p.suffix, { name: p.suffix, dtype: p.dtype, shape: p.shape, bytes: p.bytes }]));
}

function expectSame(a: LmIntB, b: LmIntB): void {
  expect(b.bits).toBe(a.bits);
  expect(b.shape).toEqual(a.shape);
  expect(b.groupSize).toBe(a.groupSize);
  expect(Array.from(b.codes)).toEqual(Array.from(a.codes));
  expect(Array.from(b.scales)).toEqual(Array.from(a.scales));
  expect(Array.from(b.zeros)).toEqual(Array.from(a.zeros));
  expect(b.columns && Array.from(b.columns)).toEqual(a.columns && Array.from(a.columns));
  expect(b.bias && Array.from(b.bias)).toEqual(a.bias && Array.from(a.bias));
}

// ---------------------------------------------------------------------------------------------------

describe('AutoGPTQ v1 packing', () => {
  const cases: { bits: number; n: number; k: number; groupSize: number; actOrder: boolean; bias: boolean }[] = [];
  for (const bits of [2, 3, 4, 8])
    for (const [k, groupSize] of [
      [96, 32], // 3 groups
      [160, 64], // 3 groups, the last of 32
      [64, -1], // one group per row
    ] as const)
      for (const actOrder of [false, true]) cases.push({ bits, n: 64, k, groupSize, actOrder, bias: actOrder });

  for (const [i, c] of cases.entries()) {
    it(`int${c.bits} K=${c.k} group ${c.groupSize}${c.actOrder ? ' act-order' : ''}: words as AutoGPTQ packs them, and back`, () => {
      const t = randomIntB(c.n, c.k, c.bits, c.groupSize, c.actOrder, c.bias, 1000 + i);
      const packed = packAutoGptq(t, 'blk.0.attn_q');
      const m = asMap(packed);
      const groups = Math.ceil(c.k / t.groupSize);
      expect(m.get('qweight')!.shape).toEqual([(c.k / 32) * c.bits, c.n]);
      expect(m.get('qzeros')!.shape).toEqual([groups, (c.n / 32) * c.bits]);
      expect(m.get('scales')).toMatchObject({ dtype: 'F16', shape: [groups, c.n] });
      expect(m.get('g_idx')!.shape).toEqual([c.k]);
      // AutoGPTQ's own loops over intweight[k][n] (input order) and zeros - 1.
      const gIdx = groupIndex(t);
      const inv = new Int32Array(c.k);
      for (let j = 0; j < c.k; j++) inv[t.columns ? t.columns[j]! : j] = j;
      const iw = Array.from({ length: c.k }, (_, kk) => Array.from({ length: c.n }, (_, n) => t.codes[n * c.k + inv[kk]!]!));
      expect(m.get('qweight')!.bytes).toEqual(i32Tensor('q', autogptqPackWeight(iw, c.bits)).bytes);
      const zm1 = Array.from({ length: groups }, (_, g) => Array.from({ length: c.n }, (_, n) => t.zeros[n * groups + g]! - 1));
      expect(m.get('qzeros')!.bytes).toEqual(i32Tensor('z', autogptqPackZeros(zm1, c.bits)).bytes);
      expect(Array.from(new Int32Array(m.get('g_idx')!.bytes.slice().buffer))).toEqual(Array.from(gIdx));
      const layout: AutoGptqLayout = { bits: c.bits, groupSize: c.groupSize, descAct: c.actOrder };
      const back = unpackAutoGptq(sourceOf(m), c.n, c.k, layout, 'test');
      expectSame(t, back.tensor);
      expect(back.used.sort()).toEqual(['g_idx', 'qweight', 'qzeros', 'scales', ...(c.bias ? ['bias'] : [])].sort());
      // The same numbers as AutoGPTQ's forward: scales[g_idx[k], n] * (q[k, n] - (z + 1)).
      const d = dequantize(back.tensor);
      const sv = Array.from(new Uint16Array(m.get('scales')!.bytes.slice().buffer), f16BitsToF32);
      for (let n = 0; n < c.n; n += 7)
        for (let kk = 0; kk < c.k; kk += 5) {
          const g = gIdx[kk]!;
          expect(d[n * c.k + kk]).toBe(sv[g * c.n + n]! * (iw[kk]![n]! - (zm1[g]![n]! + 1)));
        }
    });
  }

  it('scales that are not half values are written F32 and read back exactly; zero point 0 is refused', () => {
    const t = randomIntB(32, 32, 4, 16, false, false, 5);
    t.scales[3] = Math.fround(0.1);
    const m = asMap(packAutoGptq(t, 'w'));
    expect(m.get('scales')!.dtype).toBe('F32');
    expectSame(t, unpackAutoGptq(sourceOf(m), 32, 32, { bits: 4, groupSize: 16, descAct: false }, 'test').tensor);
    t.zeros[0] = 0;
    expect(() => packAutoGptq(t, 'blk.1.ffn_up')).toThrow(/blk\.1\.ffn_up: zero point 0 .* z must be in \[1, 15\]/);
  });

  it(`random layers round-trip (${scaled(20)} cases)`, () => {
    const next = rng(77);
    for (let i = 0; i < scaled(20); i++) {
      const bits = [2, 3, 4, 8][Math.floor(next() * 4)]!;
      const k = 32 * (1 + Math.floor(next() * 5));
      const g = [-1, 8, 16, 24, 32, 40][Math.floor(next() * 6)]!;
      const t = randomIntB(32 * (1 + Math.floor(next() * 2)), k, bits, g, next() < 0.5, next() < 0.5, 2000 + i);
      const layout = { bits, groupSize: g, descAct: true };
      expectSame(t, unpackAutoGptq(sourceOf(asMap(packAutoGptq(t, 'w'))), t.shape[0], k, layout, 'test').tensor);
    }
  });
});

describe('AutoGPTQ v1 validation', () => {
  const t = randomIntB(64, 96, 4, 32, true, true, 9);
  const good = (): Map<string, StTensor> => asMap(packAutoGptq(t, 'w'));
  const layout: AutoGptqLayout = { bits: 4, groupSize: 32, descAct: true };
  const expectLine = (m: Map<string, StTensor>, l: AutoGptqLayout, code: string, ...frags: string[]): void => {
    try {
      unpackAutoGptq(sourceOf(m), 64, 96, l, 'test');
    } catch (e) {
      expect(e).toBeInstanceOf(TritcError);
      expect((e as TritcError).code).toBe(code);
      expect((e as TritcError).message.split('\n')).toHaveLength(1);
      for (const f of frags) expect((e as TritcError).message).toContain(f);
      return;
    }
    throw new Error('expected a TritcError');
  };

  it('a qweight whose shape disagrees with the bits', () => {
    expectLine(good(), { ...layout, bits: 3 }, 'shape', 'tensor "layer.qweight"', 'has shape [12, 64], expected [9, 64]', '3 bits');
  });
  it('scales and qzeros whose group count disagrees with group_size', () => {
    expectLine(good(), { ...layout, groupSize: 16 }, 'shape', 'tensor "layer.qzeros"', 'expected [6, 8]', 'group_size 16');
    expectLine(good(), { ...layout, groupSize: -1 }, 'shape', 'tensor "layer.qzeros"', 'expected [1, 8]', 'group_size -1');
  });
  it('missing qzeros', () => {
    const m = good();
    m.delete('qzeros');
    expectLine(m, layout, 'weights', 'tensor "layer.qzeros"', 'is missing; an AutoGPTQ layer needs it');
  });
  it('a g_idx with an index out of range, or groups of the wrong sizes', () => {
    const bad = (edit: (g: Int32Array) => void): Map<string, StTensor> => {
      const m = good();
      const g = new Int32Array(m.get('g_idx')!.bytes.slice().buffer);
      edit(g);
      m.set('g_idx', { name: 'g_idx', dtype: 'I32', shape: [96], bytes: new Uint8Array(g.buffer) });
      return m;
    };
    expectLine(
      bad((g) => (g[5] = 3)),
      layout,
      'weights',
      'tensor "layer.g_idx"',
      'entry 5 is 3; a group index must be in [0, 3)',
    );
    expectLine(
      bad((g) => {
        const i = g.indexOf(0);
        g[i] = 1;
      }),
      layout,
      'weights',
      'tensor "layer.g_idx"',
      'group 0 has 31 columns, expected 32',
    );
    const m = good();
    m.delete('g_idx');
    expectLine(m, layout, 'weights', 'tensor "layer.g_idx"', 'desc_act');
  });
  it('non-finite scales, a bias of the wrong length, a wrong dtype', () => {
    const m = good();
    const s = m.get('scales')!;
    const bytes = s.bytes.slice();
    bytes[2 * 7] = 0x00;
    bytes[2 * 7 + 1] = 0x7c; // +inf
    m.set('scales', { ...s, bytes });
    expectLine(m, layout, 'weights', 'tensor "layer.scales"', 'value Infinity at index 7 is not finite');
    const b = good();
    b.set('bias', { name: 'bias', dtype: 'F16', shape: [63], bytes: new Uint8Array(126) });
    expectLine(b, layout, 'shape', 'tensor "layer.bias"', 'expected [64]');
    const d = good();
    d.set('qweight', { ...d.get('qweight')!, dtype: 'U32' });
    expectLine(d, layout, 'dtype', 'tensor "layer.qweight"', 'is U32; expected I32');
  });
  it('a zero point of 2^b (AutoGPTQ wrote z = 0 as -1)', () => {
    for (const bits of [4, 8]) {
      const tb = randomIntB(32, 32, bits, -1, false, false, 3);
      const m = asMap(packAutoGptq(tb, 'w'));
      const z = m.get('qzeros')!;
      const bytes = z.bytes.slice();
      bytes[0] = 0xff; // the first field all ones: z - 1 = 2^b - 1
      m.set('qzeros', { ...z, bytes });
      try {
        unpackAutoGptq(sourceOf(m), 32, 32, { bits, groupSize: -1, descAct: false }, 'test');
        throw new Error('expected a TritcError');
      } catch (e) {
        expect((e as TritcError).code).toBe('codes');
        expect((e as Error).message).toContain(`tensor "layer.qzeros": the zero point of group 0, output 0 is ${2 ** bits}`);
      }
    }
  });
  it('in_features that AutoGPTQ cannot hold', () => {
    try {
      unpackAutoGptq(sourceOf(good()), 64, 100, layout, 'test');
      throw new Error('expected a TritcError');
    } catch (e) {
      expect((e as Error).message).toContain('multiples of 32');
    }
  });
});
