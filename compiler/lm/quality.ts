// How close a quantized language model stays to the model it came from, on the same token
// sequences (bench:formats, `tritc quantize`): the mean KL divergence of next-token distributions,
// perplexity of the sequences, and agreement of greedy continuations. Logits come from the
// interpreter (float32, bit-exact with the compiled C); the statistics are computed in float64.

import { buildLmGraph, type LmBuildOptions } from './build.ts';
import type { TaskDelta } from './delta/blob.ts';
import type { LmModel } from './model.ts';
import { argmaxToken } from './sample.ts';
import { LmSession } from './session.ts';

/** log softmax of float32 logits, in float64. */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  const lse = max + Math.log(sum);
  return Float64Array.from({ length: logits.length }, (_, i) => logits[i]! - lse);
}

/** KL(P || Q) in nats from log-probabilities: sum p (log p - log q). */
export function klDivergence(logP: Float64Array, logQ: Float64Array): number {
  let kl = 0;
  for (let i = 0; i < logP.length; i++) {
    const p = Math.exp(logP[i]!);
    if (p > 0) kl += p * (logP[i]! - logQ[i]!);
  }
  return Math.max(0, kl);
}

/** A model compiled for the interpreter, with what the evaluation needs. */
export class LmEvaluator {
  private readonly session: LmSession;

  /** `delta`: a run-time delta (ComPEFT) loaded for every evaluation; the model is then built with deltas. */
  constructor(model: LmModel, opts: LmBuildOptions = {}, contextTokens = 256, delta?: TaskDelta) {
    const context = Math.min(contextTokens, model.config.contextLength);
    this.session = new LmSession(buildLmGraph(model, { chunk: 16, ...opts, ...(delta ? { deltas: true } : {}), context }));
    if (delta) this.session.loadDelta(delta, 'the evaluated delta');
  }

  /** Log-probabilities of the next token at every position of `seq`. */
  logProbs(seq: readonly number[]): Float64Array[] {
    this.session.reset();
    return this.session.forward(seq).map(logSoftmax);
  }

  /** `steps` greedy tokens after `prompt`. */
  greedy(prompt: readonly number[], steps: number): number[] {
    this.session.reset();
    let logits = this.session.prefill(prompt);
    const out: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t = argmaxToken(logits);
      out.push(t);
      if (i + 1 < steps) logits = this.session.decode(t);
    }
    return out;
  }
}

export interface QualityOptions {
  /** Tokens of each sequence given as the prompt of the greedy continuations. */
  promptTokens: number;
  /** Greedy tokens generated after each prompt. */
  greedySteps: number;
}

/** The reference model's side of the comparison, computed once and shared by every candidate. */
export interface QualityReference {
  sequences: number[][];
  logProbs: Float64Array[][];
  continuations: number[][];
  /** The reference model's own perplexity of the sequences. */
  perplexity: number;
  opts: QualityOptions;
}

export interface Quality {
  /** Mean KL(reference || candidate) over every position of every sequence, nats. */
  klMean: number;
  /** Perplexity of the sequences' next tokens under the candidate. */
  perplexity: number;
  /** Share of greedy continuation tokens equal to the reference's, position by position. */
  greedyAgreement: number;
  /** Mean number of greedy tokens before the first difference. */
  greedyPrefix: number;
}

function perplexityOf(logProbs: Float64Array[][], sequences: number[][]): number {
  let nll = 0;
  let n = 0;
  sequences.forEach((seq, s) => {
    for (let t = 0; t + 1 < seq.length; t++) {
      nll -= logProbs[s]![t]![seq[t + 1]!]!;
      n++;
    }
  });
  return Math.exp(nll / Math.max(1, n));
}

export function qualityReference(reference: LmEvaluator, sequences: number[][], opts: QualityOptions): QualityReference {
  const logProbs = sequences.map((s) => reference.logProbs(s));
  const continuations = sequences.map((s) => reference.greedy(s.slice(0, opts.promptTokens), opts.greedySteps));
  return { sequences, logProbs, continuations, perplexity: perplexityOf(logProbs, sequences), opts };
}

export function measureQuality(ref: QualityReference, candidate: LmEvaluator): Quality {
  let kl = 0;
  let positions = 0;
  const logProbs = ref.sequences.map((seq, s) => {
    const lq = candidate.logProbs(seq);
    lq.forEach((q, t) => {
      kl += klDivergence(ref.logProbs[s]![t]!, q);
      positions++;
    });
    return lq;
  });
  let same = 0;
  let total = 0;
  let prefix = 0;
  ref.sequences.forEach((seq, s) => {
    const got = candidate.greedy(seq.slice(0, ref.opts.promptTokens), ref.opts.greedySteps);
    const want = ref.continuations[s]!;
    const first = want.findIndex((t, i) => got[i] !== t);
    prefix += first < 0 ? want.length : first;
    want.forEach((t, i) => {
      same += got[i] === t ? 1 : 0;
      total++;
    });
  });
  return {
    klMean: kl / Math.max(1, positions),
    perplexity: perplexityOf(logProbs, ref.sequences),
    greedyAgreement: same / Math.max(1, total),
    greedyPrefix: prefix / Math.max(1, ref.sequences.length),
  };
}
