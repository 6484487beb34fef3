// report.html: the memory report as one self-contained page (inline CSS and SVG, no script, no
// network). The picture is the arena over time: x = schedule step, y = offset, one rectangle per
// buffer; then the totals against the target's limits, the memory map, the layers and the planner.

import { formatBytes, formatCount } from '../util/format.ts';
import type { Report } from './report.ts';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const COLORS: Record<string, string> = { float32: '#7aa6d8', int8: '#86c28b', int32: '#b89ad6', scratch: '#f0a860', other: '#c8c8c8' };

function colorOf(b: Report['buffers'][number]): string {
  if (b.kind === 'scratch') return COLORS.scratch!;
  return COLORS[b.dtype ?? 'other'] ?? COLORS.other!;
}

/** Round tick spacing: 1, 2 or 5 times a power of two's friendlier cousin, a power of ten of bytes. */
function tickStep(max: number, ticks: number): number {
  const raw = Math.max(1, max / ticks);
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
}

function arenaSvg(r: Report): string {
  const steps = Math.max(1, r.steps.length);
  const arena = Math.max(r.plan.arenaBytes, 16);
  const stepW = Math.min(64, Math.max(14, Math.floor(960 / steps)));
  const left = 78;
  const top = 22;
  const plotH = 380;
  // Node names under the steps when there is room for them, slanted.
  const names = steps <= 40;
  const nameLen = names ? Math.min(18, Math.max(...r.steps.map((s) => s.length), 1)) : 0;
  const bottom = 44 + (names ? Math.ceil(nameLen * 5.2) : 0);
  const width = left + steps * stepW + 24;
  const height = top + plotH + bottom;
  const x = (s: number) => left + s * stepW;
  const y = (o: number) => top + plotH - (o / arena) * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" id="arena" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="arena over time: ${r.buffers.length} buffers in ${formatBytes(r.plan.arenaBytes)}">`,
  );
  out.push(
    `<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="${COLORS.scratch}"/><line x1="0" y1="0" x2="0" y2="6" stroke="#c77a2c" stroke-width="2"/></pattern></defs>`,
  );
  // The peak step, shaded.
  out.push(
    `<rect class="peak" x="${x(r.plan.peakStep)}" y="${top}" width="${stepW}" height="${plotH}" fill="#fff3c4"><title>peak: step ${r.plan.peakStep} "${esc(r.steps[r.plan.peakStep] ?? '')}", ${formatBytes(r.plan.lowerBound)} live</title></rect>`,
  );
  out.push(`<text class="axis peak-label" x="${x(r.plan.peakStep) + stepW / 2}" y="${top - 6}" text-anchor="middle">peak</text>`);
  // Offset axis.
  const t = tickStep(arena, 6);
  for (let o = 0; o <= arena; o += t) {
    out.push(`<line x1="${left}" x2="${x(steps)}" y1="${y(o)}" y2="${y(o)}" stroke="#e4e4e4"/>`);
    out.push(`<text class="axis" x="${left - 6}" y="${y(o) + 4}" text-anchor="end">${esc(formatBytes(o))}</text>`);
  }
  out.push(`<text class="axis" transform="translate(14 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">offset in the arena</text>`);
  // Step axis: every step when there is room, else every k-th.
  const every = Math.max(1, Math.ceil(28 / stepW));
  for (let s = 0; s < steps; s += every)
    out.push(`<text class="axis" x="${x(s) + stepW / 2}" y="${top + plotH + 16}" text-anchor="middle">${s}<title>${esc(r.steps[s] ?? '')}</title></text>`);
  if (names) {
    for (let s = 0; s < steps; s++) {
      const n = r.steps[s] ?? '';
      const shown = n.length > nameLen ? `${n.slice(0, nameLen - 1)}…` : n;
      out.push(
        `<text class="axis step-name" transform="translate(${x(s) + stepW / 2 + 3} ${top + plotH + 28}) rotate(-35)" text-anchor="end">${esc(shown)}<title>${esc(n)}</title></text>`,
      );
    }
  }
  out.push(`<text class="axis" x="${left + (steps * stepW) / 2}" y="${height - 8}" text-anchor="middle">schedule step</text>`);
  // The buffers. A buffer overwritten in place shares its last step with its successor, which is
  // drawn over it there; its label goes on the steps it has to itself.
  const overwritten = new Set(r.buffers.map((b) => b.inPlaceOf).filter((n): n is string => !!n));
  for (const b of r.buffers) {
    const bx = x(b.first) + 1;
    const bw = (b.last - b.first + 1) * stepW - 2;
    const by = y(b.offset + b.size);
    const bh = Math.max(1, y(b.offset) - by - 1);
    const what = b.kind === 'scratch' ? 'kernel scratch' : `${b.dtype} [${(b.shape ?? []).join(', ')}]`;
    const tip = `${b.name}: ${what}, ${formatCount(b.bytes)} bytes at offset ${formatCount(b.offset)}, steps ${b.first}..${b.last}${b.inPlaceOf ? `, written over ${b.inPlaceOf}` : ''}`;
    out.push(
      `<rect class="buf${b.inPlaceOf ? ' inplace' : ''}" data-name="${esc(b.name)}" data-kind="${b.kind}" data-offset="${b.offset}" data-size="${b.size}" data-first="${b.first}" data-last="${b.last}" x="${bx}" y="${by.toFixed(2)}" width="${bw}" height="${bh.toFixed(2)}" fill="${b.kind === 'scratch' ? 'url(#hatch)' : colorOf(b)}" stroke="#40576e" stroke-width="0.6"${b.inPlaceOf ? ' stroke-dasharray="3 2"' : ''}><title>${esc(tip)}</title></rect>`,
    );
    const own = overwritten.has(b.name) && b.last > b.first ? bw - stepW : bw;
    if (bh >= 11 && own >= b.name.length * 6.2 + 6)
      out.push(`<text class="label" x="${bx + own / 2}" y="${by + bh / 2 + 4}" text-anchor="middle">${esc(b.name)}</text>`);
  }
  // Lower bound and the arena's top.
  out.push(
    `<line class="bound" x1="${left}" x2="${x(steps)}" y1="${y(r.plan.lowerBound)}" y2="${y(r.plan.lowerBound)}" stroke="#c0392b" stroke-dasharray="6 4" stroke-width="1.4"><title>lower bound: ${formatBytes(r.plan.lowerBound)} live at step ${r.plan.peakStep}</title></line>`,
  );
  out.push(`<line x1="${left}" x2="${x(steps)}" y1="${y(arena)}" y2="${y(arena)}" stroke="#222" stroke-width="1"/>`);
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#222" stroke-width="1"/>`);
  out.push(`<line x1="${left}" x2="${x(steps)}" y1="${top + plotH}" y2="${top + plotH}" stroke="#222" stroke-width="1"/>`);
  out.push('</svg>');
  return out.join('\n');
}

function bar(parts: { label: string; bytes: number; color: string }[], limit: number | null): string {
  const total = parts.reduce((a, p) => a + p.bytes, 0);
  const scale = Math.max(limit ?? total, total, 1);
  const segs = parts
    .map(
      (p) =>
        `<span class="seg" style="width:${((100 * p.bytes) / scale).toFixed(2)}%;background:${p.color}" title="${esc(`${p.label} ${formatBytes(p.bytes)}`)}"></span>`,
    )
    .join('');
  return `<div class="bar${limit !== null && total > limit ? ' over' : ''}">${segs}</div>`;
}

const pct = (a: number, b: number) => (b > 0 ? `${((100 * a) / b).toFixed(a / b < 0.01 ? 2 : 1)} %` : '');

export function reportHtml(r: Report): string {
  const T = r.totals;
  const P = r.plan;
  const stackText = T.stackBytes === null ? 'not estimated (zig not found)' : `~${formatBytes(T.stackBytes)}`;
  const saved = P.tflmBytes > 0 ? 1 - P.arenaBytes / P.tflmBytes : 0;
  const ramParts = [
    { label: 'arena', bytes: T.arenaBytes, color: '#7aa6d8' },
    { label: 'inputs/outputs', bytes: T.ioBytes, color: '#86c28b' },
    { label: 'stack', bytes: T.stackBytes ?? 0, color: '#f0a860' },
  ];
  const mapRows = (r.memoryMap?.regions ?? [])
    .map(
      (g) =>
        `<tr><td>${esc(g.name)}</td><td>${g.kind}</td><td class="n">${formatBytes(g.bytes)}</td><td>${esc(g.items.map((i) => `${i.label} ${i.estimate ? '~' : ''}${formatBytes(i.bytes)}`).join(' + ') || '—')}</td><td class="n">${pct(g.used, g.bytes)}</td><td>${esc(g.note ?? '')}</td></tr>`,
    )
    .join('\n');
  const unplaced = r.memoryMap?.unplaced.length
    ? `<p class="bad">Does not fit: ${esc(r.memoryMap.unplaced.map((i) => `${i.label} ${formatBytes(i.bytes)}`).join(', '))} found no region.</p>`
    : '';
  const maxLive = Math.max(1, ...r.layers.map((l) => l.liveBytes));
  const layerRows = r.layers
    .map(
      (l) =>
        `<tr${l.step === P.peakStep ? ' class="peak"' : ''}><td class="n">${l.step}</td><td>${esc(l.node)}</td><td>${esc(l.op)}</td><td><code>${esc(l.kernel)}</code></td><td>${esc(l.outputs)}</td><td class="n">${l.macs ? formatCount(l.macs) : '—'}</td><td class="n">${l.weightBytes ? formatBytes(l.weightBytes) : '—'}</td><td class="n live"><span class="minibar" style="width:${((60 * l.liveBytes) / maxLive).toFixed(1)}px"></span>${formatBytes(l.liveBytes)}</td></tr>`,
    )
    .join('\n');
  const candRows = P.candidates
    .map(
      (c) =>
        `<tr${c.algorithm === P.algorithm ? ' class="chosen"' : ''}><td>${esc(c.algorithm)}</td><td class="n">${formatBytes(c.arenaBytes)}</td><td class="n">${(c.arenaBytes / Math.max(1, P.lowerBound)).toFixed(3)}</td></tr>`,
    )
    .join('\n');
  const chain = T.stackChain.map((f) => `${esc(f.fn)} ${f.frame} B`).join(' → ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(r.model)} on ${esc(r.target.name)}: tritc memory report</title>
<style>
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2733; margin: 24px 32px; max-width: 1200px; }
  h1 { font-size: 22px; margin: 0 0 2px; } h1 .on { color: #5b6b7c; font-weight: normal; }
  h2 { font-size: 16px; margin: 28px 0 8px; border-bottom: 1px solid #dde3ea; padding-bottom: 4px; }
  .sub { color: #5b6b7c; margin: 0 0 16px; }
  .cards { display: flex; gap: 14px; flex-wrap: wrap; }
  .card { border: 1px solid #dde3ea; border-radius: 8px; padding: 10px 14px; min-width: 260px; flex: 1; }
  .card .big { font-size: 20px; font-weight: 600; }
  .card .k { color: #5b6b7c; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
  .bar { display: flex; height: 10px; background: #eef1f4; border-radius: 5px; overflow: hidden; margin: 6px 0 4px; }
  .bar.over { outline: 2px solid #c0392b; }
  .seg { display: block; height: 100%; }
  .good { color: #1e7d32; } .bad { color: #c0392b; font-weight: 600; }
  table { border-collapse: collapse; font-size: 13px; }
  th, td { padding: 3px 10px 3px 0; text-align: left; border-bottom: 1px solid #eef1f4; vertical-align: top; }
  th { color: #5b6b7c; font-weight: 600; }
  td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  tr.peak td { background: #fff3c4; } tr.chosen td { font-weight: 600; }
  .minibar { display: inline-block; height: 8px; background: #7aa6d8; margin-right: 6px; vertical-align: middle; }
  svg text.axis { font-size: 11px; fill: #5b6b7c; } svg text.label { font-size: 10.5px; fill: #10202f; pointer-events: none; }
  .legend span { display: inline-block; margin-right: 16px; font-size: 12px; color: #5b6b7c; }
  .legend i { display: inline-block; width: 12px; height: 12px; vertical-align: -2px; margin-right: 5px; border: 1px solid #40576e; }
  .chart { overflow-x: auto; }
  code { font-size: 12px; }
</style>
</head>
<body>
<h1>${esc(r.model)} <span class="on">on ${esc(r.target.name)}</span></h1>
<p class="sub">${esc(r.target.description)} · from ${esc(r.source)} · tritc ${esc(r.tritc)}</p>
<div class="cards">
  <div class="card"><div class="k">Flash (weights)</div><div class="big">${formatBytes(T.weightsBytes)}${r.target.flash ? ` <small>of ${formatBytes(r.target.flash)}</small>` : ''}</div>
    ${bar([{ label: 'weights', bytes: T.weightsBytes, color: '#b89ad6' }], r.target.flash)}<div>${r.target.flash ? pct(T.weightsBytes, r.target.flash) + ' of flash; ' : ''}code size is measured by <code>tritc run</code></div></div>
  <div class="card"><div class="k">RAM</div><div class="big" id="ram-total">${formatBytes(T.ramBytes)}${r.target.ram ? ` <small>of ${formatBytes(r.target.ram)}</small>` : ''}</div>
    ${bar(ramParts, r.target.ram)}<div>arena ${formatBytes(T.arenaBytes)} + inputs/outputs ${formatBytes(T.ioBytes)} + stack ${stackText}</div></div>
  <div class="card"><div class="k">Arena</div><div class="big" id="arena-bytes">${formatBytes(P.arenaBytes)}</div>
    <div>lower bound ${formatBytes(P.lowerBound)}: ${P.arenaBytes === P.lowerBound ? '<span class="good">reached</span>' : P.optimal ? '<span class="good">optimal</span> for this schedule (the bound cannot be reached)' : `at most ${formatBytes(P.arenaBytes - P.provenBound)} above the optimum`}</div>
    <div>TFLite Micro's greedy planner: ${formatBytes(P.tflmBytes)}${saved > 0 ? ` <span class="good">(${(100 * saved).toFixed(1)} % less here)</span>` : ''}</div></div>
</div>

<h2>Arena over time</h2>
<p class="sub">Each rectangle is a buffer: from the step that writes it to the last step that reads it, at its offset. The dashed red line is the lower bound (the most bytes live at one step); the shaded column is where it is reached. ${P.inPlacePairs ? `${P.inPlacePairs} output${P.inPlacePairs > 1 ? 's are' : ' is'} written over ${P.inPlacePairs > 1 ? 'their inputs' : 'its input'} in place (dashed outline). ` : ''}${P.scheduleChanged ? `The schedule was reordered: the file order peaks at ${formatBytes(P.originalPeak)}, this one at ${formatBytes(P.lowerBound)}. ` : ''}Hover for details.</p>
<div class="chart">
${arenaSvg(r)}
</div>
<p class="legend"><span><i style="background:${COLORS.float32}"></i>float32</span><span><i style="background:${COLORS.int8}"></i>int8</span><span><i style="background:${COLORS.int32}"></i>int32</span><span><i style="background:${COLORS.scratch}"></i>kernel scratch</span><span><i style="background:#fff;border-style:dashed"></i>in place</span></p>

<h2>Memory map</h2>
${r.memoryMap ? `<table><tr><th>region</th><th>kind</th><th>size</th><th>holds</th><th>used</th><th></th></tr>\n${mapRows}\n</table>${unplaced}` : `<p class="sub">${esc(r.target.name)} declares no memory limits.</p>`}
${T.stackBytes === null ? '' : `<p class="sub">Stack: static estimate for zig cc -O2 builds, deepest call chain: ${chain}.</p>`}

<h2>Layers</h2>
<table id="layers"><tr><th class="n">step</th><th>node</th><th>op</th><th>kernel</th><th>output</th><th class="n">MACs</th><th class="n">weights</th><th class="n">live arena</th></tr>
${layerRows}
</table>

<h2>Planner</h2>
<p class="sub">The algorithms run on this schedule, cheapest first, until one meets the lower bound; the smallest wins (${esc(P.algorithm)}). Ratio = arena / lower bound.</p>
<table><tr><th>algorithm</th><th class="n">arena</th><th class="n">ratio</th></tr>
${candRows}
</table>
</body>
</html>
`;
}
