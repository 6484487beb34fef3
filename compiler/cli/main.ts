// `tritc`: the command-line entry point. Each command lives in its own file under cli/ and declares
// its options once; help text, parsing and errors come from that declaration.

import { parseArgs } from 'node:util';
import { fail, formatDiagnostic, TritcError } from '../diagnostics.ts';
import { TRITC_VERSION } from '../version.ts';
import { compileCommand } from './compile.ts';
import { generateCommand } from './lm.ts';
import { inspectCommand } from './inspect.ts';
import { quantizeCommand } from './quantize.ts';
import { runCommand } from './run.ts';
import { targetsCommand } from './targets.ts';
import { terminalProgress } from './progress.ts';
import { testCommand } from './test.ts';
import type { Command, Io } from './command.ts';

export const COMMANDS: readonly Command[] = [compileCommand, runCommand, testCommand, generateCommand, inspectCommand, quantizeCommand, targetsCommand];

const GLOBAL_HELP = `tritc ${TRITC_VERSION}: compile ternary and low-bit neural networks to dependency-free C.

Usage: tritc <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(9)} ${c.summary}`).join('\n')}

Every command takes --help and --json. --verbose shows stack traces of internal errors.
Docs: README.md, docs/format.md (the model format), docs/numerics.md (what each op computes).`;

export function commandHelp(c: Command): string {
  const opts = Object.entries(c.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` <${o.valueName ?? 'value'}>` : ''}`;
    return `  ${flag.padEnd(30)} ${o.help}`;
  });
  return `Usage: ${c.usage}\n\n${c.description}\n\nOptions:\n${[...opts, `  ${'    --json'.padEnd(30)} print the result as JSON`, `  ${'    --verbose'.padEnd(30)} stack traces for internal errors`, `  ${'-h, --help'.padEnd(30)} this help`].join('\n')}`;
}

const bar = terminalProgress(process.stderr);
const defaultIo: Io = {
  // A result line takes the progress line's place; the next progress() draws it again below.
  out: (s) => {
    bar.endProgress();
    process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
  },
  err: (s) => {
    bar.endProgress();
    process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);
  },
  progress: bar.progress,
  endProgress: bar.endProgress,
};

/** Runs the command line; returns the process exit code. */
export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const verbose = argv.includes('--verbose');
  const json = argv.includes('--json');
  try {
    const [name, ...rest] = argv;
    if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
      const topic = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
      io.out(topic ? commandHelp(topic) : GLOBAL_HELP);
      return name === undefined ? 2 : 0;
    }
    if (name === '--version' || name === '-V') {
      io.out(json ? JSON.stringify({ tritc: TRITC_VERSION }) : `tritc ${TRITC_VERSION}`);
      return 0;
    }
    const cmd = COMMANDS.find((c) => c.name === name);
    if (!cmd) fail('usage', '', `unknown command "${name}"; commands: ${COMMANDS.map((c) => c.name).join(', ')} (tritc --help)`);
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(commandHelp(cmd));
      return 0;
    }
    const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
      json: { type: 'boolean' },
      verbose: { type: 'boolean' },
    };
    for (const [k, o] of Object.entries(cmd.options))
      options[k] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
    } catch (e) {
      fail('usage', '', `${(e as Error).message.replace(/\. To specify a positional.*$/s, '')} (tritc ${cmd.name} --help)`);
    }
    if (parsed.positionals.length < cmd.positionals.min || parsed.positionals.length > cmd.positionals.max)
      fail('usage', '', `usage: ${cmd.usage} (tritc ${cmd.name} --help)`);
    return await cmd.run(
      { positionals: parsed.positionals, values: parsed.values as Record<string, string | boolean | string[] | undefined>, json, verbose },
      io,
    );
  } catch (e) {
    io.endProgress();
    if (e instanceof TritcError) {
      if (json) io.out(JSON.stringify({ ok: false, errors: e.diagnostics.map((d) => ({ ...d, text: formatDiagnostic(d) })) }, null, 2));
      else for (const d of e.diagnostics) io.err(`error: ${formatDiagnostic(d)}`);
      if (verbose) io.err(e.stack ?? '');
      return e.code === 'usage' ? 2 : 1;
    }
    const err = e as Error;
    io.err(`internal error: ${err.message}${verbose ? `\n${err.stack}` : ' (run with --verbose for the stack trace; please report it)'}`);
    return 70;
  }
}
