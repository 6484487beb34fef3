// `tritc compile --report`: report.json has the plan, and report.html, rendered in headless
// Chromium as a user would open it, draws one rectangle per planned buffer where the plan says,
// with no two buffers that are live together drawn on top of each other.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../compiler/cli/main.ts';
import type { Io } from '../compiler/cli/command.ts';
import { writeModel } from '../compiler/readers/native/write.ts';
import type { Report } from '../compiler/report/report.ts';
import { Browser } from './support/chromium.ts';
import { workDir } from './support/differential.ts';
import { memoryCases } from './support/memory_cases.ts';
import { registerTestOps } from './support/scratch_op.ts';

registerTestOps();
const root = workDir('report');

function capture(): Io & { text: () => string } {
  const lines: string[] = [];
  return { out: (s) => lines.push(s), err: (s) => lines.push(s), progress: () => {}, endProgress: () => {}, text: () => lines.join('\n') };
}

async function compileWithReport(model: string, target: string, out: string): Promise<Report> {
  const io = capture();
  const code = await main(['compile', model, '--target', target, '-o', out, '--report'], io);
  expect(code, io.text()).toBe(0);
  expect(io.text()).toMatch(/report: .*report\.html/);
  return JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
}

interface DrawnRect {
  name: string;
  kind: string;
  offset: number;
  size: number;
  first: number;
  last: number;
  inplace: boolean;
  box: { x: number; y: number; w: number; h: number };
}

const DRAWN = `[...document.querySelectorAll('svg#arena rect.buf')].map((r) => {
  const b = r.getBoundingClientRect();
  return { name: r.dataset.name, kind: r.dataset.kind, offset: +r.dataset.offset, size: +r.dataset.size, first: +r.dataset.first, last: +r.dataset.last,
           inplace: r.classList.contains('inplace'), box: { x: b.x, y: b.y, w: b.width, h: b.height } };
})`;

describe('memory report', () => {
  it('report.json holds the plan, the layers and the totals against the target', async () => {
    const r = await compileWithReport(join(import.meta.dirname, '../examples/digits-mlp'), 'cortex-m4', join(root, 'digits'));
    expect(r.model).toBe('digits-mlp');
    expect(r.layers.map((l) => l.node)).toEqual(r.steps);
    expect(r.plan.arenaBytes).toBeGreaterThanOrEqual(r.plan.lowerBound);
    expect(r.plan.tflmBytes).toBeGreaterThanOrEqual(r.plan.arenaBytes);
    expect(r.totals.stackBytes).toBeGreaterThan(0);
    expect(r.totals.ramBytes).toBe(r.totals.arenaBytes + r.totals.ioBytes + r.totals.stackBytes!);
    expect(r.memoryMap!.regions.map((g) => g.name)).toEqual(['flash', 'ram', 'ccm']);
    expect(r.memoryMap!.unplaced).toEqual([]);
    expect(Math.max(...r.layers.map((l) => l.liveBytes))).toBe(r.plan.lowerBound);
    const html = readFileSync(join(root, 'digits', 'report.html'), 'utf8');
    // Self-contained: nothing to fetch (the only URL is the SVG namespace).
    expect(html.replace('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:|<script|<link|src=/);
  });

  it('renders in headless Chromium: one rectangle per buffer, at its steps and offset, none over another live one', async () => {
    const scratch = memoryCases().find((c) => c.spec.name === 'scratch')!.spec;
    const models = [
      { model: join(import.meta.dirname, '../examples/digits-mlp'), out: join(root, 'digits') },
      { model: writeModel(join(root, 'models', 'scratch'), scratch), out: join(root, 'scratch') },
    ];
    const browser = Browser.launch();
    try {
      for (const m of models) {
        const r = await compileWithReport(m.model, 'host', m.out);
        const page = await browser.open(`file://${join(m.out, 'report.html')}`);
        const drawn = await page.evaluate<DrawnRect[]>(DRAWN);
        expect(drawn.map((d) => d.name).sort()).toEqual(r.buffers.map((b) => b.name).sort());
        for (const d of drawn) {
          const b = r.buffers.find((x) => x.name === d.name)!;
          expect({ offset: d.offset, size: d.size, first: d.first, last: d.last, kind: d.kind, inplace: d.inplace }).toEqual({
            offset: b.offset,
            size: b.size,
            first: b.first,
            last: b.last,
            kind: b.kind,
            inplace: !!b.inPlaceOf,
          });
          expect(d.box.w).toBeGreaterThan(5);
          expect(d.box.h).toBeGreaterThan(0);
        }
        // Geometry: rectangles of buffers live at the same step never overlap on the page, except an
        // in-place output over the buffer it overwrites.
        for (const a of drawn)
          for (const b of drawn) {
            if (a === b || a.last < b.first || b.last < a.first) continue;
            const handover = (x: DrawnRect, y: DrawnRect) => r.buffers.find((q) => q.name === y.name)!.inPlaceOf === x.name;
            if (handover(a, b) || handover(b, a)) continue;
            const ox = Math.min(a.box.x + a.box.w, b.box.x + b.box.w) - Math.max(a.box.x, b.box.x);
            const oy = Math.min(a.box.y + a.box.h, b.box.y + b.box.h) - Math.max(a.box.y, b.box.y);
            expect(ox > 0.5 && oy > 0.5, `${a.name} and ${b.name} are drawn on top of each other`).toBe(false);
          }
        // The page shows the totals and one table row per layer.
        expect(await page.evaluate<string>(`document.getElementById('arena-bytes').textContent`)).toMatch(/^\d+(\.\d)? (B|KiB)$/);
        expect(await page.evaluate<number>(`document.querySelectorAll('#layers tr').length`)).toBe(r.layers.length + 1);
        if (m.out.endsWith('scratch')) expect(drawn.filter((d) => d.kind === 'scratch').map((d) => d.name)).toEqual(['rev:scratch', 'rev2:scratch']);
        const png = await page.screenshot();
        expect(png.subarray(1, 4).toString()).toBe('PNG');
        expect(png.readUInt32BE(16)).toBeGreaterThanOrEqual(1000); // width of the page as rendered
      }
    } finally {
      await browser.close();
    }
  });
});
