// The README's quick start, run as written (each line in a shell, from the checkout, into a fresh
// out/), checking what each prints; and its sample table is what that command prints today.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

function sh(line: string): string {
  return execFileSync('bash', ['-c', `${line} 2>&1`], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
}

/** The lines of the quick start block (comments dropped). */
function quickStart(): string[] {
  const m = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(README);
  if (!m) throw new Error('README.md has no quick start block');
  return m[1]!
    .split('\n')
    .map((l) => l.replace(/\s+#\s.*$/, '').trim())
    .filter(Boolean);
}

/** What each line must print (the first words of the line pick the check). */
const CHECKS: [RegExp, RegExp][] = [
  [/^npx tritc inspect examples\/digits-mlp$/, /fc1\s+TernaryLinear[\s\S]*memory: fits/],
  [/--target cortex-m4$/, /cortex-m4\s+yes \(3\/3\)/],
  [/--save-inputs/, /host\s+yes \(5\/5\)/],
  [/--target all --inputs/, /rv32imc\s+yes \(5\/5\)/],
  [/--kernel t5/, /fc1: --kernel t5: est\./],
  [/--max-scratch 0/, /memory: fits/],
  [/compile examples\/digits-mlp -o out\/digits$/, /compiled digits-mlp for host into out\/digits\//],
  [/^make -C out\/digits$/, /^/],
  [/--report/, /report:\s+out\/digits-m4\/report\.html/],
  [/^make -C out\/digits-m4/, /^/],
  [/^cmake -S examples\/cmake/, /^class \d, probability \d\.\d{6}$/m],
  [/--layout arduino/, /compiled digits-mlp for cortex-m4 into out\/digits_mlp\//],
  [/tritc generate/, /identical to the interpreter: 16 tokens/],
];

describe('the README', () => {
  it(
    'quick start runs as written and prints what it says',
    () => {
      rmSync(join(ROOT, 'out'), { recursive: true, force: true });
      const lines = quickStart();
      expect(lines.length).toBe(CHECKS.length);
      lines.forEach((line, i) => {
        const [pick, want] = CHECKS[i]!;
        expect(line, 'the quick start changed: update CHECKS').toMatch(pick);
        expect(sh(line), line).toMatch(want);
      });
      expect(existsSync(join(ROOT, 'out', 'digits', 'libdigits_mlp.a'))).toBe(true);
      expect(existsSync(join(ROOT, 'out', 'digits-m4', 'libdigits_mlp.a'))).toBe(true);
      expect(existsSync(join(ROOT, 'out', 'x.npy'))).toBe(true);
      expect(existsSync(join(ROOT, 'out', 'digits_mlp', 'library.properties'))).toBe(true);
    },
    15 * 60_000,
  ); // every target under QEMU, a CMake configure and build: minutes on two shared cores

  it('the sample table is what the command prints', () => {
    const m = /```\n\$ (npx tritc run examples\/digits-mlp --target all -n 5)\n([\s\S]*?)```/.exec(README);
    expect(m).not.toBeNull();
    expect(sampleCells(sh(`${m![1]} 2>/dev/null`))).toEqual(sampleCells(m![2]!));
  });
});

/**
 * The sample table's cells. The host's flash and RAM are left out: the host build is for the machine's
 * own CPU (zig's `native`), so its code size moves with the CPU the test runs on (an AVX-512 Xeon
 * and a Zen 3 EPYC differ by 4 KiB); every other target is a fixed CPU and compared whole.
 */
function sampleCells(table: string): string[][] {
  return table
    .trim()
    .split('\n')
    .map((line) => {
      const cells = line.trim().split(/ {2,}/);
      return cells[0] === 'host' ? [cells[0], cells[1]!, ...cells.slice(4)] : cells;
    });
}
