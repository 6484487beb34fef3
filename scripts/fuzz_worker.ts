// The child process of scripts/fuzz.ts: runs one fuzz case at a time as the parent asks, in its own
// scratch folder, and reports the outcome, the time and how far the peak RSS rose during the case.
// The parent owns the timeout and the memory watch; a case that hangs or blows up dies with this
// process, which the parent then replaces.

import { fuzzReader } from '../test/support/fuzz/readers.ts';
import { caseAt, runCase, type Outcome } from '../test/support/fuzz/harness.ts';

export interface WorkerRequest {
  reader: string;
  seed: number;
  index: number;
  dir: string;
}

export interface WorkerReply {
  index: number;
  outcome: Outcome;
  what: string;
  ms: number;
  /** Bytes the peak RSS rose above the RSS at the start of the case (0 if the peak did not move). */
  growth: number;
}

const peak = () => process.resourceUsage().maxRSS * 1024;

process.on('message', (req: WorkerRequest) => {
  const reader = fuzzReader(req.reader)!;
  const t0 = performance.now();
  const c = caseAt(reader, req.seed, req.index);
  const before = process.memoryUsage.rss();
  const peakBefore = peak();
  const outcome = runCase(c, req.dir);
  const peakAfter = peak();
  const reply: WorkerReply = { index: req.index, outcome, what: c.what, ms: performance.now() - t0, growth: peakAfter > peakBefore ? peakAfter - before : 0 };
  process.send!(reply);
});
process.send!({ ready: true });
