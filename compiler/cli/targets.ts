// tritc targets: the targets, their toolchain and emulator, and whether this machine can run them.

import { cpuVariants, loadTargets } from '../targets.ts';
import { locateQemu, qemuHint } from '../toolchain/qemu.ts';
import { locateZig, ZIG_INSTALL_HINT } from '../toolchain/zig.ts';
import { formatBytes, textTable } from '../util/format.ts';
import { fail } from '../diagnostics.ts';
import type { Command } from './command.ts';

export const targetsCommand: Command = {
  name: 'targets',
  summary: 'list the targets and check that Zig and QEMU are installed',
  usage: 'tritc targets',
  description: `Lists every target (targets/<name>/target.json): what it stands for, the Zig target and cpu, its
memory, the emulator it runs under and how instructions are counted, and whether this machine has
the tools to build and run it. Also says which Zig is used ($ZIG, the npm package, or PATH).
The CPU variants follow (rpi5-aarch64, rv32imc-zbb): a target built for a CPU with more features,
with the base target's startup, memory and runner; \`--target all\` means the base targets only.`,
  positionals: { min: 0, max: 0 },
  options: {
    zig: { type: 'boolean', help: 'print only the path of the zig tritc uses (for a generated Makefile: make ZIG="$(npx tritc targets --zig)")' },
  },
  async run(args, io) {
    const zig = locateZig();
    if (args.values.zig === true) {
      if (!zig) fail('toolchain', 'zig', `not found: ${ZIG_INSTALL_HINT}`);
      io.out(zig.path);
      return 0;
    }
    const variantOf = new Map(cpuVariants().map((v) => [v.target.name, v.base]));
    const targets = [...loadTargets().values(), ...cpuVariants().map((v) => v.target)].map((t) => {
      const qemu = t.qemu ? locateQemu(t) : null;
      const runnable = !!zig && (!t.qemu || !!qemu);
      return {
        name: t.name,
        description: t.description,
        variantOf: variantOf.get(t.name) ?? null,
        kind: t.kind,
        zigTarget: t.zigTarget,
        cpu: t.cpu,
        memory: t.memory,
        floatAbi: t.floatAbi,
        runsUnder: t.qemu ? [t.qemu.command, ...t.qemu.args].join(' ') : 'natively',
        emulator: t.qemu ? (qemu ?? null) : null,
        counter: t.counter,
        ready: runnable,
        missing: !zig ? ZIG_INSTALL_HINT : t.qemu && !qemu ? `${t.qemu.command}: ${qemuHint(t.qemu.command)}` : null,
      };
    });
    if (args.json) {
      io.out(JSON.stringify({ zig: zig ?? null, targets }, null, 2));
      return 0;
    }
    io.out(zig ? `zig: ${zig.path} (from ${zig.source})` : `zig: not found: ${ZIG_INSTALL_HINT}`);
    const rows: string[][] = [['target', 'stands for', 'zig target / cpu', 'flash / RAM', 'runs under', 'counts', 'ready']];
    for (const t of targets) {
      rows.push([
        t.name,
        t.description.replace(/ \(.*\)$/, ''),
        `${t.zigTarget}${t.cpu ? ` / ${t.cpu}` : ''}`,
        t.memory ? `${formatBytes(t.memory.flash)} / ${formatBytes(t.memory.ram)}` : '—',
        runsUnderShort(t.runsUnder),
        t.counter ? `${t.counter.unit}${t.counter.resolutionInstructions > 1 ? ` (±${t.counter.resolutionInstructions})` : ''}` : '—',
        t.ready ? 'yes' : 'NO',
      ]);
    }
    io.out(textTable(rows));
    for (const t of targets) if (t.missing) io.out(`${t.name}: missing ${t.missing}`);
    return targets.every((t) => t.ready) ? 0 : 1;
  },
};

/** "qemu-system-arm -M mps2-an386 -nographic ..." -> "qemu-system-arm -M mps2-an386". */
function runsUnderShort(cmd: string): string {
  const words = cmd.split(' ');
  const m = words.indexOf('-M');
  return m >= 0 ? `${words[0]} -M ${words[m + 1]}` : words[0]!;
}
