// The progress line on a terminal (stderr, only when it is a TTY): a bar with the count and the time
// left when the work has a known size, else the text alone. One line, cut to the terminal's width
// (a longer line would wrap, and the carriage return would only take back its last row), redrawn at
// most every 50 ms for rapid counts, and cleared when the work ends or a result is printed.

import type { ProgressAt } from '../util/progress.ts';

const BAR = 24;
const REDRAW_MS = 50;

function duration(s: number): string {
  if (s < 60) return `${Math.ceil(s)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s - 60 * m)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** The line for `text` at `at` (exported for tests; `elapsed` in seconds since the count began). */
export function progressLine(text: string, at: ProgressAt | undefined, elapsed: number, columns: number): string {
  let line = text;
  if (at && at.total > 0) {
    const f = Math.min(1, Math.max(0, at.done / at.total));
    const filled = Math.round(f * BAR);
    const left = at.done > 0 && elapsed >= 2 && at.done < at.total ? `, ${duration((elapsed / at.done) * (at.total - at.done))} left` : '';
    line = `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${at.done}/${at.total}${left}  ${text}`;
  }
  const width = Math.max(10, columns - 1);
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

export function terminalProgress(stream: NodeJS.WriteStream): { progress(text: string, at?: ProgressAt): void; endProgress(): void } {
  if (!stream.isTTY) return { progress: () => {}, endProgress: () => {} };
  let shown = false;
  let lastDraw = 0;
  let start = 0;
  let lastTotal = -1;
  return {
    progress(text, at) {
      const now = performance.now();
      if (at && (at.total !== lastTotal || at.done === 0)) {
        start = now;
        lastTotal = at.total;
      }
      if (at && shown && now - lastDraw < REDRAW_MS && at.done > 0 && at.done < at.total) return;
      lastDraw = now;
      stream.write(`\r\x1b[2K${progressLine(text, at, (now - start) / 1000, stream.columns || 80)}`);
      shown = true;
    },
    endProgress() {
      if (shown) stream.write('\r\x1b[2K');
      shown = false;
      lastTotal = -1;
    },
  };
}
