// Human-readable numbers for messages and tables.

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}

/**
 * Two byte counts for a comparison ("needs X, has Y"): rounded as formatBytes, unless that makes them
 * look equal, then exact, so the message never rounds away its evidence.
 */
export function formatBytesPair(a: number, b: number): [string, string] {
  const fa = formatBytes(a);
  const fb = formatBytes(b);
  if (fa !== fb || a === b) return [fa, fb];
  return [`${formatCount(a)} bytes`, `${formatCount(b)} bytes`];
}

/** A byte count as people write it: 4096, 16K / 16KiB (x 1024), 1M / 1MiB (x 2^20); undefined if it is not one. */
export function parseByteCount(text: string): number | undefined {
  const m = /^(\d+)\s*(|b|k|kb|kib|m|mb|mib)$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = m[2]!.toLowerCase();
  return Number(m[1]) * (unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 2 ** 20 : 1);
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** A plain text table: the first row is the header; numbers are right-aligned. */
export function textTable(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = cells[0]!.map((_, i) => rows.slice(1).every((r) => typeof r[i] === 'number' || /^[-\d.,]+( [KMG]?i?B)?$|^—$/.test(String(r[i]))));
  const line = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
