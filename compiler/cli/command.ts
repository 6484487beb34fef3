import { fail } from '../diagnostics.ts';

// What a command declares, and how it talks to the terminal (injectable, so tests can capture it).

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** A transient status line (only on a terminal). */
  progress(text: string): void;
  endProgress(): void;
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  valueName?: string;
  help: string;
}

export interface ParsedArgs {
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
  json: boolean;
  verbose: boolean;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  description: string;
  positionals: { min: number; max: number };
  options: Record<string, OptionSpec>;
  run(args: ParsedArgs, io: Io): Promise<number>;
}

export function stringOpt(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function intOpt(args: ParsedArgs, name: string, def: number, min = 0): number {
  const v = stringOpt(args, name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) fail('usage', `--${name}`, `expects an integer >= ${min}, got "${v}"`);
  return n;
}
