// JUnit XML for CI (GitHub Actions and GitLab read it): `tritc test --junit file` writes one suite
// named after the manifest with a testcase per case; `tritc test --merge a.xml b.xml -o all.xml`
// joins the files of several shards into one, suite by suite, refusing a case that two files hold.
//
//   <testsuites name="tritc test" tests=".." failures=".." errors=".." skipped="0" time="..">
//     <testsuite name="tritc-test.json" ... timestamp=".."><properties><property name="shard" value="1/4"/></properties>
//       <testcase classname="digits" name="digits@cortex-m4" time="3.2">
//         <failure type="mismatch" message="first line">every problem, one per line</failure>
//         <system-out>what was measured</system-out>
//       </testcase>

import { readFileSync } from 'node:fs';
import { fail } from '../diagnostics.ts';
import { escapeXml, parseXml, type XmlElement } from '../util/xml.ts';
import type { CaseResult } from './run_case.ts';

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

const attrs = (a: Record<string, string | number>) =>
  Object.entries(a)
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join('');

function testcase(r: CaseResult, measured: string): string {
  const head = `    <testcase${attrs({ classname: r.model, name: r.id, time: r.seconds.toFixed(3) })}>`;
  const body: string[] = [];
  if (r.status !== 'pass') {
    const tag = r.status === 'error' ? 'error' : 'failure';
    const type = r.status === 'error' ? 'error' : r.mismatch ? 'mismatch' : 'budget';
    const text = [...r.problems, ...(r.bisect ? [`bisect: ${r.bisect}`] : [])].join('\n');
    body.push(`      <${tag}${attrs({ type, message: r.problems[0] ?? r.status })}>${escapeXml(text)}</${tag}>`);
  }
  if (measured) body.push(`      <system-out>${escapeXml(measured)}</system-out>`);
  return [head, ...body, '    </testcase>'].join('\n');
}

/** The JUnit report of a run: one suite for the manifest. `measured` says what each case measured. */
export function junitReport(
  suite: string,
  results: readonly CaseResult[],
  opts: { shard?: string; timestamp: Date; measured: (r: CaseResult) => string },
): string {
  const count = (s: CaseResult['status']) => results.filter((r) => r.status === s).length;
  const time = results.reduce((a, r) => a + r.seconds, 0).toFixed(3);
  const totals = { tests: results.length, failures: count('fail'), errors: count('error'), skipped: 0, time };
  return [
    DECLARATION,
    `<testsuites${attrs({ name: 'tritc test', ...totals })}>`,
    `  <testsuite${attrs({ name: suite, ...totals, timestamp: opts.timestamp.toISOString().replace(/\.\d+Z$/, '') })}>`,
    ...(opts.shard ? [`    <properties><property${attrs({ name: 'shard', value: opts.shard })}/></properties>`] : []),
    ...results.map((r) => testcase(r, opts.measured(r))),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

const elements = (e: XmlElement, name: string) => e.children.filter((c): c is XmlElement => typeof c !== 'string' && c.name === name);

interface MergedSuite {
  name: string;
  timestamp?: string;
  cases: { key: string; file: string; text: string; outcome: 'pass' | 'failure' | 'error' | 'skipped'; time: number }[];
}

/** Join JUnit files (shards of one run, or any JUnit reports): suites of the same name become one;
 * a testcase (classname and name) in two files is an error naming both. */
export function mergeJunit(files: readonly string[]): { xml: string; tests: number; failures: number; errors: number } {
  const suites = new Map<string, MergedSuite>();
  const seen = new Map<string, string>();
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      fail('io', file, `cannot read: ${(e as Error).message}`);
    }
    const root = parseXml(text, file);
    const list =
      root.name === 'testsuites'
        ? elements(root, 'testsuite')
        : root.name === 'testsuite'
          ? [root]
          : fail('schema', file, `has <${root.name}> at its root; a JUnit report has <testsuites> or <testsuite>`);
    for (const s of list) {
      const name = s.attrs.name ?? '';
      const merged = suites.get(name) ?? { name, cases: [] };
      if (s.attrs.timestamp && (!merged.timestamp || s.attrs.timestamp < merged.timestamp)) merged.timestamp = s.attrs.timestamp;
      suites.set(name, merged);
      for (const c of elements(s, 'testcase')) {
        const key = `${name}\u0000${c.attrs.classname ?? ''}\u0000${c.attrs.name ?? ''}`;
        const other = seen.get(key);
        if (other) fail('schema', file, `testcase "${c.attrs.name}" of suite "${name}" is also in ${other}: were two shards given the same k?`);
        seen.set(key, file);
        const outcome = elements(c, 'error').length ? 'error' : elements(c, 'failure').length ? 'failure' : elements(c, 'skipped').length ? 'skipped' : 'pass';
        merged.cases.push({ key, file, text: text.slice(c.start, c.end), outcome, time: Number(c.attrs.time ?? 0) || 0 });
      }
    }
  }
  const tally = (cs: MergedSuite['cases']) => ({
    tests: cs.length,
    failures: cs.filter((c) => c.outcome === 'failure').length,
    errors: cs.filter((c) => c.outcome === 'error').length,
    skipped: cs.filter((c) => c.outcome === 'skipped').length,
    time: cs.reduce((a, c) => a + c.time, 0).toFixed(3),
  });
  const all = [...suites.values()].flatMap((s) => s.cases);
  const totals = tally(all);
  const xml = [
    DECLARATION,
    `<testsuites${attrs({ name: 'tritc test', ...totals })}>`,
    ...[...suites.values()].flatMap((s) => [
      `  <testsuite${attrs({ name: s.name, ...tally(s.cases), ...(s.timestamp ? { timestamp: s.timestamp } : {}) })}>`,
      ...[...s.cases].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((c) => `    ${c.text}`),
      '  </testsuite>',
    ]),
    '</testsuites>',
    '',
  ].join('\n');
  return { xml, tests: totals.tests, failures: totals.failures, errors: totals.errors };
}
