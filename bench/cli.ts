// What every benchmark script shares: strict option parsing with --help, one-line errors (a stack
// only with --verbose), and rewriting its own section of BENCHMARKS.md between markers (--update).

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parse argv strictly; --help prints `usage` and exits 0; an unknown option is an error. */
export function benchArgs<O extends Options>(usage: string, options: O) {
  let parsed;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      options: { ...options, help: { type: 'boolean', short: 'h' }, verbose: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message} (--help lists the options)\n`);
    process.exit(2);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) {
    process.stdout.write(`${usage.trim()}\n`);
    process.exit(0);
  }
  return values as { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : string } & { verbose?: boolean };
}

/** Run a script's main: a failure is one line on stderr and exit status 1 (the stack with --verbose). */
export async function runMain(main: () => Promise<void> | void): Promise<void> {
  try {
    await main();
  } catch (e) {
    const err = e as Error;
    process.stderr.write(`error: ${err.message}\n${process.argv.includes('--verbose') ? `${err.stack}\n` : ''}`);
    process.exitCode = 1;
  }
}

/** The body of a section `writeSection` wrote, if the file has it. */
export function readSection(file: string, name: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  const i = text.indexOf(`<!-- bench:${name}:start -->`);
  const j = text.indexOf(`<!-- bench:${name}:end -->`);
  return i >= 0 && j > i ? text.slice(i + `<!-- bench:${name}:start -->`.length, j).trim() : undefined;
}

/** Replace the text between `<!-- bench:<name>:start -->` and `...:end -->` in `file` (appended if absent). */
export function writeSection(file: string, name: string, body: string): void {
  const begin = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# tritc benchmarks\n';
  const block = `${begin}\n${body}\n${end}`;
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  writeFileSync(file, i >= 0 && j > i ? text.slice(0, i) + block + text.slice(j + end.length) : `${text.trimEnd()}\n\n${block}\n`);
}
