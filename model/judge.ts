// Judges: anything that answers "what does this kernel, or this implementation, do with this
// program and these inputs". The spec's two evaluators, the engines, the live kernel and other
// implementations (libpcap, DPDK, golang.org/x/net/bpf, gVisor) are judges of one kind. Types only:
// the spec judges and the compiled backends are in fuzz/judges.ts, the live kernel's and the outside
// implementations' in oracle/, and a campaign takes a list of them (DESIGN.md "Judges"; the
// synchronous campaign fuzz/campaign.ts, the batched one fuzz/batched.ts).
//
// A judge is batched and asynchronous: it gets cases (a program and many inputs each) and answers,
// per case, a verdict and, per input, a result that may be exact, partly known or not comparable.
// A synchronous judge also offers judgeSync, which campaigns call directly on their hot path.
import type { Program } from './cbpf/insn.js';
import type { Env, SkBuff } from './skb.js';
import type { Rejection } from './verdict.js';

/** An input of a socket filter: the skb and the machine state (CPU, prandom seed) one run sees. */
export interface SkbInput {
  readonly skb: SkBuff;
  readonly env: Env;
}

/** One case put to a judge: a program and the inputs it runs on. */
export interface JudgeCase<In = SkbInput> {
  readonly prog: Program;
  readonly inputs: readonly In[];
  /**
   * What the spec expects per input, when known. A judge may use it only to choose how to read its
   * answer (the live kernel picks confirmation copies with it); it must never report it as a result.
   */
  readonly expect?: readonly number[];
}

/** Whether the judge loaded the program, and if not, why (in its own terms). */
export type JudgeVerdict =
  | { readonly accepted: true }
  | {
      readonly accepted: false;
      /** Linux-style negative errno where the judge has one (the kernel, the spec), else 0 */
      readonly errno: number;
      /** the spec-shaped rejection (stage, rule, pc, kernel line) when the judge is the spec */
      readonly rejection?: Rejection;
      /** the judge's own words: an error string, a return code, a rejected-by note */
      readonly message: string;
    };

/** A judge's result for one input. */
export type JudgeResult =
  /** every bit of the u32 result is known; `fault` when the run ended in a model fault (result 0) */
  | { readonly known: 'exact'; readonly value: number; readonly fault?: { readonly kind: string; readonly pc: number; readonly detail: string } }
  /** some bits are known (the live kernel shows min(len, result) and what copies could read) */
  | {
      readonly known: 'partial';
      /** the result is at least this */
      readonly atLeast: number;
      /** the known bits and their values */
      readonly mask: number;
      readonly bits: number;
      readonly reason: string;
    }
  /** nothing comparable (SKF_AD_RANDOM, a send error, an input the judge cannot take) */
  | { readonly known: 'none'; readonly reason: string };

/** A judge's answer for one case: the verdict, and per input a result (empty when not accepted). */
export interface JudgeAnswer {
  readonly verdict: JudgeVerdict;
  readonly results: readonly JudgeResult[];
  /**
   * What this answer cost or settled, in the judge's own terms, summed by the campaign into its
   * summary (the live kernel: `attaches`, `confirmed` pairs). Optional.
   */
  readonly counters?: Readonly<Record<string, number>>;
}

export interface Judge<In = SkbInput> {
  /** the name `--judges` knows it by (kernel, classic, libpcap, dpdk, dpdk-jit, xnet, live, ...) */
  readonly name: string;
  /**
   * Whether the judge claims to support this program; null when it does, else why not (an opcode or
   * extension it does not implement). Unsupported cases are counted, never compared.
   */
  supports(prog: Program): string | null;
  /**
   * The input this judge really runs for `input`, when it can build only some inputs (the live kernel
   * sends the packet's bytes as an AF_UNIX datagram, on its own CPU): campaigns give the judge, and
   * the spec judge it is compared with, this input instead. Absent: every input as given.
   */
  inputFor?(input: In): In;
  /** Judge a batch of cases; the answers are in the cases' order. */
  judge(cases: readonly JudgeCase<In>[]): Promise<readonly JudgeAnswer[]>;
  /**
   * true when judge() may be called again before the last call has answered (each call's answers its
   * own): a campaign then asks the next batch at once. Absent: one call at a time.
   */
  readonly overlapping?: boolean;
  /** Present on synchronous judges: the same answers without a promise. */
  judgeSync?(cases: readonly JudgeCase<In>[]): readonly JudgeAnswer[];
  /** Release processes and buffers. */
  close(): Promise<void>;
}

/** Whether two results can both be true of one run (exact vs partial: the known bits and the bound). */
export function consistentResults(a: JudgeResult, b: JudgeResult): boolean {
  if (a.known === 'none' || b.known === 'none') return true;
  if (a.known === 'exact' && b.known === 'exact') return a.value === b.value;
  if (a.known === 'partial' && b.known === 'partial') return (a.mask & b.mask & (a.bits ^ b.bits)) === 0;
  const [e, p] = a.known === 'exact' ? [a, b as Extract<JudgeResult, { known: 'partial' }>] : [b as Extract<JudgeResult, { known: 'exact' }>, a];
  return e.value >>> 0 >= p.atLeast >>> 0 && ((e.value & p.mask) >>> 0) === p.bits >>> 0;
}
