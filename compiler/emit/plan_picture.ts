// The memory plan as a picture for the generated C: one row per arena buffer, one column per step.
//
//   offset   size  tensor        steps 0..4
//        0     64  xq            ##...
//       64     16  xq.scale      ##...

import type { MemoryPlan } from '../plan/planner.ts';

export function drawPlan(plan: MemoryPlan, steps: readonly string[]): string {
  const lines = [
    `/* Arena: ${plan.arenaBytes} bytes (lower bound ${plan.lowerBound}: the most bytes live at one step,`,
    ` * at step ${plan.peakStep} "${steps[plan.peakStep] ?? ''}"). Plan: ${plan.algorithm}; ${plan.candidates.map((c) => `${c.algorithm} ${c.arenaBytes}`).join(', ')}.`,
  ];
  if (plan.placements.length === 0) {
    lines.push(' * No intermediate tensors: the model runs directly from inputs to outputs.', ' */');
    return lines.join('\n');
  }
  const width = Math.max(...plan.placements.map((p) => p.name.length), 6);
  lines.push(` * ${'offset'.padStart(8)} ${'bytes'.padStart(8)}  ${'tensor'.padEnd(width)}  steps 0..${steps.length - 1} (# = live)`);
  const sorted = [...plan.placements].sort((a, b) => a.offset - b.offset || a.first - b.first);
  for (const p of sorted) {
    let bar = '';
    for (let s = 0; s < steps.length; s++) bar += s >= p.first && s <= p.last ? '#' : '.';
    lines.push(` * ${String(p.offset).padStart(8)} ${String(p.bytes).padStart(8)}  ${p.name.replace(/\*\//g, '*\\/').padEnd(width)}  ${bar}`);
  }
  lines.push(' */');
  return lines.join('\n');
}
