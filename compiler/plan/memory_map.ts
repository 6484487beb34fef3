// Where a compiled model goes in the target's memory: weights in flash, the arena, the input and
// output buffers and the stack in RAM, using the extra regions a target declares (target.json
// "memory.regions", e.g. the 64 KiB core-coupled RAM of an STM32F4). The arena, the largest RAM
// item, takes the smallest region that holds it, leaving the main RAM to the application; inputs,
// outputs and stack go to the main RAM first. A model fits when every item has a place.

import type { TargetDesc } from '../targets.ts';
import { formatBytes } from '../util/format.ts';

type ItemKind = 'weights' | 'arena' | 'io' | 'stack';

export interface MemoryRegion {
  name: string;
  kind: 'flash' | 'ram';
  bytes: number;
  /** What the region may hold. */
  holds: ItemKind[];
  note?: string;
  /** The linker section that puts a static object in this region (e.g. ".ccmram"): the generated
   * model.c places its arena there when the map puts the arena in this region. */
  section?: string;
}

export interface MapItem {
  kind: ItemKind;
  label: string;
  bytes: number;
  /** Estimated rather than exact (the stack). */
  estimate?: boolean;
  /** Only this region may hold it (the arena, once model.c has put it in a region's section). */
  region?: string;
}

export interface MemoryMap {
  regions: (MemoryRegion & { used: number; items: MapItem[] })[];
  /** Items that found no region. */
  unplaced: MapItem[];
  flashBytes: number;
  ramBytes: number;
}

/** The target's regions: its main flash and RAM, then the extra regions it declares. */
function targetRegions(t: TargetDesc): MemoryRegion[] {
  if (!t.memory) return [];
  return [
    { name: 'flash', kind: 'flash', bytes: t.memory.flash, holds: ['weights'] },
    { name: 'ram', kind: 'ram', bytes: t.memory.ram, holds: ['arena', 'io', 'stack'] },
    ...(t.memory.regions ?? []),
  ];
}

export function buildMemoryMap(t: TargetDesc, items: readonly MapItem[]): MemoryMap {
  const regions = targetRegions(t).map((r) => ({ ...r, used: 0, items: [] as MapItem[] }));
  const unplaced: MapItem[] = [];
  // Largest first, so the arena chooses its region before the small items fill them.
  for (const item of [...items].sort((a, b) => b.bytes - a.bytes)) {
    const fits = regions.filter((r) => r.holds.includes(item.kind) && r.used + item.bytes <= r.bytes && (item.region === undefined || r.name === item.region));
    const pick = item.kind === 'arena' ? fits.sort((a, b) => a.bytes - a.used - (b.bytes - b.used))[0] : fits[0];
    if (!pick) {
      unplaced.push(item);
      continue;
    }
    pick.used += item.bytes;
    pick.items.push(item);
  }
  const sum = (kind: 'flash' | 'ram') => items.filter((i) => (i.kind === 'weights') === (kind === 'flash')).reduce((a, i) => a + i.bytes, 0);
  return { regions, unplaced, flashBytes: sum('flash'), ramBytes: sum('ram') };
}

/** The region the map puts the arena in, given the other RAM items it competes with (inputs/outputs;
 * the stack, known later, goes to the main RAM first and so never takes the arena's region). */
export function arenaRegion(t: TargetDesc, arenaBytes: number, ioBytes: number): MemoryRegion | undefined {
  const map = buildMemoryMap(t, [
    { kind: 'arena', label: 'arena', bytes: arenaBytes },
    { kind: 'io', label: 'inputs/outputs', bytes: ioBytes },
  ]);
  return map.regions.find((r) => r.items.some((i) => i.kind === 'arena'));
}

/** One line per region: "ram 128 KiB: arena 592 B + stack ~288 B (0.7 %)". */
export function describeMap(m: MemoryMap): string[] {
  return m.regions.map((r) => {
    const what = r.items.map((i) => `${i.label} ${i.estimate ? '~' : ''}${formatBytes(i.bytes)}`).join(' + ') || 'unused';
    return `${r.name} ${formatBytes(r.bytes)}: ${what} (${((100 * r.used) / r.bytes).toFixed(1)} % used)`;
  });
}
