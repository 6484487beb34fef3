// The memory plan as a picture for the generated C: one row per arena buffer, one column per step.
//
//   offset   size  tensor              steps 0..4
//        0     64  xq                  ##...
//        0     64  a1 (over xq)        .##..     an in-place output, at the offset of what it overwrites
//       64     16  xq.scale            ##...

import type { MemoryPlan } from '../plan/planner.ts';

export function drawPlan(plan: MemoryPlan, steps: readonly string[]): string {
  const lines = [
    `/* Arena: ${plan.arenaBytes} bytes (lower bound ${plan.lowerBound}: the most bytes live at one step,`,
    ` * at step ${plan.peakStep} "${steps[plan.peakStep] ?? ''}"). Plan: ${plan.algorithm}${plan.optimal ? ' (optimal for this schedule)' : `, at most ${plan.arenaBytes - plan.provenBound} bytes above the optimum`}; ${plan.candidates.map((c) => `${c.algorithm} ${c.arenaBytes}`).join(', ')}.`,
    ...(plan.schedule.changed
      ? [` * Schedule: reordered to lower the peak of live bytes from ${plan.schedule.originalPeak} (file order) to ${plan.schedule.peak}.`]
      : []),
    ` * TFLite Micro's greedy planner (file order, no in-place sharing) would need ${plan.tflmBytes} bytes.`,
  ];
  if (plan.placements.length === 0) {
    lines.push(' * No intermediate tensors: the model runs directly from inputs to outputs.', ' */');
    return lines.join('\n');
  }
  const label = (p: MemoryPlan['placements'][number]) => (p.inPlaceOf ? `${p.name} (over ${p.inPlaceOf}${p.inPlaceAtEnd ? ', its end' : ''})` : p.name);
  const width = Math.max(...plan.placements.map((p) => label(p).length), 6);
  lines.push(` * ${'offset'.padStart(8)} ${'bytes'.padStart(8)}  ${'tensor'.padEnd(width)}  steps 0..${steps.length - 1} (# = live)`);
  const sorted = [...plan.placements].sort((a, b) => a.offset - b.offset || a.first - b.first);
  for (const p of sorted) {
    let bar = '';
    for (let s = 0; s < steps.length; s++) bar += s >= p.first && s <= p.last ? '#' : '.';
    lines.push(` * ${String(p.offset).padStart(8)} ${String(p.bytes).padStart(8)}  ${label(p).replace(/\*\//g, '*\\/').padEnd(width)}  ${bar}`);
  }
  lines.push(' */');
  return lines.join('\n');
}
