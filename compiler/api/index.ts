// The tritc package: `import { compile, run, interpret, inspect } from 'tritc'` (docs/api.md). Each does
// what its command does (tritc compile, run, inspect; interpret is the reference interpreter alone),
// with the same checks, and returns what the command's --json prints, typed. A problem with the
// caller's input is a TritcError whose `diagnostics` say where and what (a bug in tritc is any other
// Error).

export { compile, type CompileOptions, type CompileResult } from './compile.ts';
export { run, type RunOptions, type RunResult, type GraphRunResult, type TargetResult } from './run.ts';
export type { LmRunResult, LmTargetResult } from './run_lm.ts';
export { interpret, type InterpretOptions, type InterpretResult } from './interpret.ts';
export { inspect, type InspectOptions, type InspectResult, type InspectLayer, type LanguageModelSummary } from './inspect.ts';
export type { InputsOption, ModelOptions, TensorData } from './types.ts';
export type { ProgressAt, ProgressFn } from '../util/progress.ts';
export { TritcError, type Diagnostic, type DiagnosticCode } from '../diagnostics.ts';
export { TRITC_VERSION as version } from '../version.ts';
