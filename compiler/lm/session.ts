// The language model's driver in the interpreter: what the generated C driver (reset, forward,
// prefill, decode; docs/lm.md) does, with the same chunking, so that the two can be compared call by
// call. The graph is the one compiler/lm/build.ts makes (Graph.lm and Graph.rows set).

import { fail } from '../diagnostics.ts';
import { initialState, interpret, type InterpretOptions } from '../interpret.ts';
import type { Graph, TypedData } from '../ir.ts';
import type { SparseTernaryDelta } from '../ops/lm/delta_term.ts';
import { checkDeltaFits, type TaskDelta } from './delta/blob.ts';

export class LmSession {
  private state: Map<string, TypedData>;
  private pos = 0;
  private deltas = new Map<number, SparseTernaryDelta>();
  readonly vocab: number;
  readonly context: number;
  readonly chunk: number;

  constructor(
    readonly graph: Graph,
    private readonly observe?: InterpretOptions['observe'],
  ) {
    if (!graph.lm || !graph.rows) throw new Error('internal: LmSession needs a language-model graph');
    this.vocab = graph.lm.vocab;
    this.context = graph.lm.context;
    this.chunk = graph.rows.max;
    this.state = initialState(graph);
  }

  /** Tokens in the cache. */
  get position(): number {
    return this.pos;
  }

  /**
   * Apply or swap the run-time delta (the C model's load_delta): checked against the graph's base and
   * slots first, so a delta that does not fit leaves the previous one in place. undefined removes it.
   */
  loadDelta(delta: TaskDelta | undefined, where: string): void {
    const info = this.graph.lm!.deltas;
    if (!info) fail('usage', where, 'this model was built without run-time deltas (build with deltas: tritc ... --deltas)');
    if (delta) checkDeltaFits(delta, { hash: info.baseHash, slots: info.slots }, where);
    this.deltas = new Map((delta?.tensors ?? []).map((t) => [t.slot, t]));
  }

  reset(): void {
    this.state = initialState(this.graph);
    this.pos = 0;
  }

  /** Run `tokens` from the current position; the logits of every one ([n][vocab]). */
  forward(tokens: readonly number[]): Float32Array[] {
    return this.run(tokens, 'all');
  }

  /** Run a prompt; the logits of its last token. */
  prefill(tokens: readonly number[]): Float32Array {
    return this.run(tokens, 'last')[0]!;
  }

  decode(token: number): Float32Array {
    return this.run([token], 'last')[0]!;
  }

  private run(tokens: readonly number[], want: 'all' | 'last'): Float32Array[] {
    const lm = this.graph.lm!;
    if (tokens.length === 0) fail('usage', '', 'no tokens to run');
    if (this.pos + tokens.length > this.context)
      fail('usage', '', `${this.pos} tokens in the cache and ${tokens.length} more exceed the context of ${this.context} (compile with a larger --context)`);
    tokens.forEach((t, i) => {
      if (!(Number.isInteger(t) && t >= 0 && t < this.vocab)) fail('usage', '', `token ${i} is ${t}, outside the vocabulary [0, ${this.vocab})`);
    });
    const out: Float32Array[] = [];
    for (let done = 0; done < tokens.length;) {
      const n = Math.min(this.chunk, tokens.length - done);
      const last = done + n === tokens.length;
      const nOut = want === 'all' ? n : last ? 1 : 0;
      const ids = new Int32Array(this.chunk);
      ids.set(tokens.slice(done, done + n));
      const res = interpret(
        this.graph,
        new Map<string, TypedData>([
          [lm.tokens, ids],
          [lm.pos, Int32Array.of(this.pos)],
        ]),
        { rows: { n, nOut }, state: this.state, observe: this.observe, deltas: this.deltas },
      );
      const logits = res.get(lm.logits) as Float32Array;
      for (let r = 0; r < nOut; r++) out.push(logits.slice(r * this.vocab, (r + 1) * this.vocab));
      this.pos += n;
      done += n;
    }
    return out;
  }
}
