// The campaign of batched judges: the fuzz generators' cases (valid and invalid programs, packets)
// go to the spec, in process, and in batches to judges that answer asynchronously (model/judge.ts):
// the live kernel (`bpfspec kdiff`), outside implementations (libpcap, DPDK, x/net/bpf). Each judge
// is compared with the spec judge it names (the kernel path or the classic evaluator); a verdict or
// result they cannot both give is a mismatch, shrunk with fast-check by asking the judge again at
// every shrink step.
//
// Cases are drawn chunk by chunk exactly as `bpfspec fuzz` draws them (fuzz/campaign.ts: chunk c is
// fast-check run from chunkSeed(seed, c)), so a finding replays from (chunk seed, path). A lane is a
// set of judges that takes one batch at a time (one oracle process pinned to one CPU, say); lane w
// takes chunks w, w + L, w + 2L, ... Within a chunk, cases go to the lane's judges `batch` at a time.
//
// The inputs of a case are the generated ones, made into what the lane's judges can take (each
// judge's inputFor in turn: the live kernel sends the bytes as an AF_UNIX datagram on its CPU); the
// spec sees the same inputs. The spec's own properties (fuzz/properties.ts, with the campaign's
// synchronous judges) are checked on every case too: their findings are reported and shrunk as
// `bpfspec fuzz` does.
//
// As in `bpfspec fuzz`, the engines answer for the spec (engine/: fuzz/judges.ts EngineClassicJudge
// and EngineKernelJudge, equal to the spec judges) unless `engine` is false: a judge's mismatch with
// the engines' answer is answered again by the spec judges (model/) before it is reported, and a
// case on which the two answers differ is an engine finding; the properties' check runs the spec
// beside the engines on one case in `specCheck` (fuzz/properties.ts Checker).
import fc from 'fast-check';
import type { Program } from '../model/cbpf/insn.js';
import type { KernelConfig } from '../model/config.js';
import { consistentResults, type Judge, type JudgeAnswer, type JudgeCase, type JudgeResult, type JudgeVerdict, type SkbInput } from '../model/judge.js';
import { ENOMEM, ENOTSUPP, errnoName } from '../model/uapi.js';
import { skAttachFilter } from '../model/attach.js';
import { blindingRequested } from '../model/migrate/convert.js';
import type { Rejection } from '../model/verdict.js';
import { campaignArbitrary, checkCase, chunkSeed, otherJudges, type CampaignCase } from './campaign.js';
import { ClassicJudge, EngineClassicJudge, EngineKernelJudge, KernelJudge, type Reference } from './judges.js';
import { Checker, type Finding } from './properties.js';
import { ClassicColumns } from '../engine/cbpf/program.js';
import { caseSize, findingSignature, insnName, SignatureSet, type CaseSize, type SignatureEntry } from './signature.js';
import { ClassicVm, compileClassic } from '../model/cbpf/eval.js';
import { fixedConfig } from '../model/variants.js';
import { firedDivergences } from './divergences.js';

/** A judge of a batched campaign and the spec judge it must equal. */
export interface BatchedJudge {
  readonly judge: Judge<SkbInput>;
  readonly against: Reference;
}

/**
 * A judge whose differences from the spec are settled by a catalogue of documented differences (the
 * outside implementations, fuzz/impl): it compares its own answer with the spec, counting each
 * catalogued difference into `explained` by entry id, and returns what no entry explains.
 */
export interface CataloguedJudge extends Judge<SkbInput> {
  catalogueCheck(
    prog: Program,
    inputs: readonly SkbInput[],
    answer: JudgeAnswer,
    stats: JudgeStats | null,
  ): { readonly kind: 'verdict' | 'result'; readonly message: string; readonly input: number | null } | { readonly explained: string } | null;
}

export const isCatalogued = (j: Judge<SkbInput>): j is CataloguedJudge => typeof (j as Partial<CataloguedJudge>).catalogueCheck === 'function';

/** Judges that take one batch at a time (e.g. the processes pinned to one CPU). */
export interface Lane {
  readonly judges: readonly BatchedJudge[];
}

export interface BatchedOptions {
  readonly seed: number;
  /** total cases, or null for a time-bounded run */
  readonly runs: number | null;
  readonly timeMs: number | null;
  readonly packetsPerProgram: number;
  readonly config: KernelConfig;
  /** cases per chunk (the fast-check run unit) */
  readonly chunkSize: number;
  /** cases per request to a lane's judges */
  readonly batch: number;
  /** synchronous judges checked in process on every case (fuzz/judges.ts BUILTIN_JUDGES names beyond the spec pair) */
  readonly syncJudges?: readonly string[];
  /** stop after this many distinct finding signatures (each lane finishes its chunk); null or absent: no limit */
  readonly maxFindings?: number | null;
  /** the engines answer for the spec, which re-answers every mismatch (default true); false: the spec answers every case */
  readonly engine?: boolean;
  /** with the engines, the properties' check runs the spec too on one case in this many (default SPEC_CHECK_DEFAULT; 1 = every case) */
  readonly specCheck?: number;
}

/** What one judge of a batched campaign answered. */
export interface JudgeStats {
  /** cases put to it */
  cases: number;
  /** cases it does not support (its supports() reason -> cases); not compared */
  unsupported: Record<string, number>;
  /** (program, input) pairs compared */
  pairs: number;
  exact: number;
  partial: number;
  /** pairs with nothing comparable (SKF_AD_RANDOM, a send error, an input it cannot take) */
  none: number;
  partialReasons: Record<string, number>;
  noneReasons: Record<string, number>;
  /**
   * verdicts that differ from the spec's for a reason the model knows it leaves out, by reason:
   * `jit-failure`, the live kernel's -ENOTSUPP where the model attaches with a working JIT but
   * refuses with -ENOTSUPP when the JIT fails (KernelConfig.jitAvailable false; the x86-64 JIT's
   * own acceptance is not modelled yet)
   */
  explained: Record<string, number>;
  /** the judge's own counters (JudgeAnswer.counters) summed */
  counters: Record<string, number>;
}

export interface BatchedStats {
  cases: number;
  programs: number;
  invalid: number;
  /** catalogue divergences (classic vs kernel path) shown by cases every judge agreed with: confirmed by them */
  confirmed: Record<string, number>;
  judges: Record<string, JudgeStats>;
}

export const newJudgeStats = (): JudgeStats => ({ cases: 0, unsupported: {}, pairs: 0, exact: 0, partial: 0, none: 0, partialReasons: {}, noneReasons: {}, explained: {}, counters: {} });
export const newBatchedStats = (): BatchedStats => ({ cases: 0, programs: 0, invalid: 0, confirmed: {}, judges: {} });

export const bump = (m: Record<string, number>, k: string, n = 1): void => {
  m[k] = (m[k] ?? 0) + n;
};
export const addAll = (into: Record<string, number>, from: Readonly<Record<string, number>>): void => {
  for (const [k, v] of Object.entries(from)) bump(into, k, v);
};

export function mergeBatchedStats(into: BatchedStats, from: BatchedStats): void {
  into.cases += from.cases;
  into.programs += from.programs;
  into.invalid += from.invalid;
  addAll(into.confirmed, from.confirmed);
  for (const [name, s] of Object.entries(from.judges)) {
    const t = (into.judges[name] ??= newJudgeStats());
    for (const k of ['cases', 'pairs', 'exact', 'partial', 'none'] as const) t[k] += s[k];
    for (const k of ['unsupported', 'partialReasons', 'noneReasons', 'explained', 'counters'] as const) addAll(t[k], s[k]);
  }
}

/** A difference between a judge and the spec judge it must equal. */
export interface Mismatch {
  readonly judge: string;
  readonly against: Reference;
  readonly kind: 'verdict' | 'result';
  readonly message: string;
  readonly prog: Program;
  /** the input (result mismatches), as the judge and the spec ran it */
  readonly input: SkbInput | null;
  /** the spec judge's verdict, and its result for the input */
  readonly spec: { readonly verdict: Rejection | null; readonly value: number | null };
  /** what the judge answered */
  readonly answer: { readonly verdict: JudgeVerdict; readonly result: JudgeResult | null; readonly counters?: Readonly<Record<string, number>> };
}

/** A finding of a batched campaign with what replays it: a judge's mismatch, or a spec property (fuzz's). */
export type BatchedFinding = { readonly chunk: number; readonly seed: number; readonly path: string; readonly shrinks: number; readonly signature: string; readonly size: CaseSize } & (
  | { readonly kind: 'judge'; readonly mismatch: Mismatch }
  | { readonly kind: 'spec'; readonly finding: Finding }
);

/**
 * The signature of a judge's mismatch (fuzz/signature.ts; the judge runs outside, so where its run
 * parts from the spec's is not known): the kind, the judge and its spec judge, the catalogue state
 * of the input, and, for a verdict, the spec's rule and the judge's answer; for a result, the
 * instruction at which the spec's classic run ends.
 */
export function mismatchSignature(m: Mismatch, config: KernelConfig): string {
  const judges = `${m.judge} vs ${m.against}`;
  if (m.kind === 'verdict' || m.input === null) {
    const r = m.spec.verdict;
    const spec = r === null ? 'spec accepts' : `spec ${r.stage}/${r.rule}${r.pc !== null ? ` at ${insnName(m.prog[r.pc])}` : ''}`;
    return `judge-verdict | ${judges} | ${spec} | judge ${m.answer.verdict.accepted ? 'accepts' : `errno ${m.answer.verdict.errno}`}`;
  }
  let catalogue = 'none';
  let exit = 'no step';
  try {
    const vm = new ClassicVm(config);
    vm.run(compileClassic(m.prog), m.input.skb, m.input.env);
    const fixed = fixedConfig(config);
    const ids = firedDivergences(vm.events, fixed).map((d) => d.id);
    if (ids.length > 0) catalogue = ids.join('+');
    exit = `exit at ${insnName(m.prog[vm.exitPc])}`;
  } catch {
    catalogue = 'unknown';
  }
  return `judge-result | ${judges} | catalogue ${catalogue} | ${exit} | ${m.answer.result?.known ?? 'no'} answer`;
}

const sameRejection = (a: Rejection | null, b: Rejection | null): boolean =>
  a === b || (a !== null && b !== null && a.errno === b.errno && a.stage === b.stage && a.rule === b.rule && a.pc === b.pc);
const specName = (r: Reference): string => (r === 'kernel' ? 'kernel path' : 'classic evaluator');
const rejectionText = (r: Rejection | null): string => (r === null ? 'accepts' : `-${errnoName(-r.errno)} (${r.stage}/${r.rule} at pc ${r.pc}, ${r.at})`);
const verdictText = (v: JudgeVerdict): string => (v.accepted ? 'accepts' : v.errno !== 0 ? `-${errnoName(-v.errno)}` : `rejects (${v.message})`);

/** A result as a mismatch message shows it. */
export const resultText = (r: JudgeResult): string =>
  r.known === 'exact' ? `${r.value}` : r.known === 'none' ? `no result (${r.reason})` : `>= ${r.atLeast}, bits 0x${r.bits.toString(16)} of mask 0x${r.mask.toString(16)} (${r.reason})`;

/** The spec's side of one case: verdicts of both spec judges and their results per input. */
interface SpecAnswer {
  readonly prog: Program;
  readonly inputs: readonly SkbInput[];
  readonly classic: { readonly verdict: Rejection | null; readonly values: readonly number[] };
  readonly kernel: { readonly verdict: Rejection | null; readonly values: readonly number[] };
}

/** One lane's spec judges (and the engines that answer for them), reused for every case. */
export class LaneSpec {
  /** what answer() asks: the engines (engine mode) or the spec judges */
  private readonly classic: ClassicJudge | EngineClassicJudge;
  private readonly kernel: KernelJudge | EngineKernelJudge;
  /** the spec judges (model/): specAnswer() */
  private readonly specClassic: ClassicJudge;
  private readonly specKernel: KernelJudge;
  /** whether answer() is the engines' */
  readonly engine: boolean;
  /** the kernel path with the JIT failing (KernelConfig.jitAvailable false) */
  readonly noJit: KernelJudge;
  readonly checker: Checker;
  /** Why the last compare() let a verdict difference pass (JudgeStats.explained), or null. */
  explained: string | null = null;

  constructor(
    readonly config: KernelConfig,
    readonly lane: Lane,
    syncJudges: readonly string[] = [],
    opts: { readonly engine?: boolean; readonly specCheck?: number } = {},
  ) {
    this.engine = opts.engine !== false;
    this.specClassic = new ClassicJudge(config);
    this.specKernel = new KernelJudge(config);
    if (this.engine) {
      const cols = new ClassicColumns();
      this.classic = new EngineClassicJudge(config, undefined, cols);
      this.kernel = new EngineKernelJudge(config, cols);
    } else {
      this.classic = this.specClassic;
      this.kernel = this.specKernel;
    }
    this.noJit = new KernelJudge({ ...config, jitAvailable: false });
    this.checker = new Checker(config, otherJudges(syncJudges, config), {
      engine: this.engine,
      ...(opts.specCheck !== undefined ? { specCheck: opts.specCheck } : {}),
    });
  }

  /** The case's inputs as the lane's judges take them (each judge's inputFor in turn). */
  inputsOf(c: CampaignCase): SkbInput[] {
    if (!('valid' in c)) return [];
    return c.valid.inputs.map((i) => {
      let x: SkbInput = i;
      for (const j of this.lane.judges) if (j.judge.inputFor) x = j.judge.inputFor(x);
      return x;
    });
  }

  /** The spec's verdicts and results (invalid cases: verdicts only), as the engines give them in engine mode. */
  answer(c: CampaignCase): SpecAnswer {
    return this.answerBy(this.classic, this.kernel, c);
  }

  /** The spec judges' (model/) verdicts and results: what a mismatch is reported against. */
  specAnswer(c: CampaignCase): SpecAnswer {
    return this.answerBy(this.specClassic, this.specKernel, c);
  }

  private answerBy(classic: ClassicJudge | EngineClassicJudge, kernel: KernelJudge | EngineKernelJudge, c: CampaignCase): SpecAnswer {
    const prog = 'valid' in c ? c.valid.prog : c.invalid.prog;
    const inputs = this.inputsOf(c);
    const cv = classic.load(prog);
    const kv = kernel.load(prog);
    return {
      prog,
      inputs,
      classic: { verdict: cv, values: cv === null ? inputs.map((i) => classic.run(i.skb, i.env)) : [] },
      kernel: { verdict: kv, values: kv === null ? inputs.map((i) => kernel.run(i.skb, i.env)) : [] },
    };
  }

  /**
   * Engine mode: where the engines' answer `s` for case `c` differs from the spec judges', the engine
   * finding (property 'judge', judge 'engine'), else null with the spec's answer. Spec mode: null, `s`.
   */
  recheck(c: CampaignCase, s: SpecAnswer): { finding: Finding | null; spec: SpecAnswer } {
    if (!this.engine) return { finding: null, spec: s };
    const t = this.specAnswer(c);
    for (const side of ['classic', 'kernel'] as const) {
      const a = s[side];
      const b = t[side];
      let message: string | null = null;
      let at = -1;
      if (!sameRejection(a.verdict, b.verdict)) message = `attach: the engines' ${specName(side)} ${rejectionText(a.verdict)}, the spec's ${rejectionText(b.verdict)}`;
      else {
        at = b.values.findIndex((v, i) => a.values[i] !== v);
        if (at >= 0) message = `input ${at}: the engines' ${specName(side)} ${a.values[at]}, the spec's ${b.values[at]}`;
      }
      if (message === null) continue;
      const input = at >= 0 ? t.inputs[at]! : null;
      const finding: Finding = {
        property: 'judge',
        judge: 'engine',
        message,
        prog: t.prog,
        skb: input?.skb ?? null,
        env: input?.env ?? null,
        attach: { classic: t.classic.verdict, kernel: t.kernel.verdict },
        classic: at >= 0 ? (t.classic.values[at] ?? null) : null,
        kernel: at >= 0 ? (t.kernel.values[at] ?? null) : null,
        predicted: null,
        fault: null,
      };
      return { finding, spec: t };
    }
    return { finding: null, spec: t };
  }

  /** The spec's properties on the case's (lane) inputs: a finding, or null with the divergences it showed. */
  check(c: CampaignCase, inputs: readonly SkbInput[]): { finding: Finding | null; divergences: Record<string, number> } {
    const before = { ...this.checker.stats.divergences };
    const finding = 'valid' in c ? this.checker.checkValid(c.valid.prog, inputs) : this.checker.checkInvalid(c.invalid);
    const divergences: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.checker.stats.divergences)) if (v !== (before[k] ?? 0)) divergences[k] = v - (before[k] ?? 0);
    return { finding, divergences };
  }

  /**
   * Count a refusal the judge and the kernel path agree on where the JIT or constant blinding decided
   * it: the x86-64 JIT's own refusals (jit-*), every -ENOTSUPP by rule, and -ENOMEM charges of a
   * blinded clone (bpf_jit_harden), with those whose unblinded program would have fitted.
   */
  private countAgreedRefusal(prog: Program, v: Rejection, stats: JudgeStats): void {
    if (v.rule.startsWith('jit-') && v.rule !== 'jit-required') bump(stats.counters, 'x86-64 JIT refusals (-ENOTSUPP) predicted by model/jit');
    if (v.errno === -ENOTSUPP) bump(stats.counters, `-ENOTSUPP (${v.rule}) predicted and confirmed`);
    if (v.errno === -ENOMEM && v.rule === 'optmem-exceeded' && blindingRequested(this.config)) {
      bump(stats.counters, '-ENOMEM charges of blinded clones predicted and confirmed');
      if ('ok' in skAttachFilter(prog, { ...this.config, bpfJitHarden: 0 })) bump(stats.counters, '-ENOMEM charges of blinded clones whose unblinded program fits (the blinding charge decided)');
    }
  }

  /** The case a judge is asked: the inputs and, where the spec judge accepts, its results as `expect`. */
  judgeCase(s: SpecAnswer, against: Reference): JudgeCase<SkbInput> {
    const ref = s[against];
    return ref.verdict === null ? { prog: s.prog, inputs: s.inputs, expect: ref.values } : { prog: s.prog, inputs: [] };
  }

  /** A judge's answer against the spec: the mismatch, or null (counting into `stats` when given). */
  compare(s: SpecAnswer, j: BatchedJudge, a: JudgeAnswer, stats: JudgeStats | null): Mismatch | null {
    const ref = s[j.against];
    this.explained = null;
    if (stats) {
      stats.cases++;
      if (a.counters) addAll(stats.counters, a.counters);
    }
    const base = { judge: j.judge.name, against: j.against, prog: s.prog };
    if (isCatalogued(j.judge)) {
      const m = j.judge.catalogueCheck(s.prog, s.inputs, a, stats);
      if (m === null) return null;
      if ('explained' in m) {
        // a catalogued difference: not a confirmation of the spec's divergences
        this.explained = m.explained;
        return null;
      }
      const i = m.input;
      return {
        ...base,
        kind: m.kind,
        message: m.message,
        input: i === null ? null : s.inputs[i]!,
        spec: { verdict: ref.verdict, value: i === null ? null : (ref.values[i] ?? null) },
        answer: { verdict: a.verdict, result: i === null ? null : (a.results[i] ?? null) },
      };
    }
    const specAccepts = ref.verdict === null;
    if (specAccepts !== a.verdict.accepted || (!a.verdict.accepted && a.verdict.errno !== 0 && ref.verdict !== null && a.verdict.errno !== ref.verdict.errno)) {
      const why = this.explainVerdict(s, j, a);
      if (why !== null) {
        this.explained = why;
        if (stats) bump(stats.explained, why);
        return null;
      }
      return {
        ...base,
        kind: 'verdict',
        message: `attach: ${specName(j.against)} ${rejectionText(ref.verdict)}, ${j.judge.name} ${verdictText(a.verdict)}`,
        input: null,
        spec: { verdict: ref.verdict, value: null },
        answer: { verdict: a.verdict, result: null, ...(a.counters ? { counters: a.counters } : {}) },
      };
    }
    if (!specAccepts) {
      if (stats && j.against === 'kernel') this.countAgreedRefusal(s.prog, ref.verdict!, stats);
      return null;
    }
    for (let i = 0; i < s.inputs.length; i++) {
      const r = a.results[i] ?? { known: 'none', reason: 'no answer' };
      const v = ref.values[i]!;
      if (stats) {
        if (r.known === 'none') {
          stats.none++;
          bump(stats.noneReasons, r.reason);
          continue;
        }
        stats.pairs++;
      }
      if (!consistentResults(r, { known: 'exact', value: v }))
        return {
          ...base,
          kind: 'result',
          message: `input ${i} (${s.inputs[i]!.skb.data.length} bytes): ${specName(j.against)} ${v}, ${j.judge.name} ${resultText(r)}`,
          input: s.inputs[i]!,
          spec: { verdict: null, value: v },
          answer: { verdict: a.verdict, result: r, ...(a.counters ? { counters: a.counters } : {}) },
        };
      if (stats) {
        if (r.known === 'exact') stats.exact++;
        else if (r.known === 'partial') {
          stats.partial++;
          bump(stats.partialReasons, r.reason.replace(/\d+-byte/, 'N-byte'));
        }
      }
    }
    return null;
  }

  // A verdict difference the model explains by what it leaves out: -ENOTSUPP from a judge compared
  // with the kernel path, where the kernel path attaches but refuses with -ENOTSUPP when the JIT fails
  // (kernel/bpf/core.c bpf_prog_select_runtime under CONFIG_BPF_JIT_ALWAYS_ON).
  // With the x86-64 JIT modelled (KernelConfig.x86Jit), its -ENOTSUPP is predicted, never explained.
  private explainVerdict(s: SpecAnswer, j: BatchedJudge, a: JudgeAnswer): string | null {
    if (this.config.x86Jit !== null && this.config.arch === 'x86_64') return null;
    if (j.against !== 'kernel' || s.kernel.verdict !== null || a.verdict.accepted || a.verdict.errno !== -ENOTSUPP) return null;
    const r = this.noJit.load(s.prog);
    return r !== null && r.errno === -ENOTSUPP ? 'jit-failure' : null;
  }
}

/** Draw chunk `chunk`'s cases exactly as fc.check runs them (run i has path "i"). */
export function drawChunk<T>(arb: fc.Arbitrary<T>, seed: number, size: number): T[] {
  const out: T[] = [];
  fc.check(
    fc.property(arb, (c) => {
      out.push(c);
      return true;
    }),
    { seed, numRuns: size },
  );
  return out;
}

/** A shrunk failure: what `check` says of the smallest failing case, and where fast-check found it. */
export interface Shrunk<R> {
  readonly found: R;
  readonly path: string;
  readonly shrinks: number;
}

/** Replay case `index` of a chunk from its seed and shrink it while `check` fails (returns non-null). */
export function shrinkAt<T, R>(arb: fc.Arbitrary<T>, seed: number, index: number, check: (c: T) => R | null): Shrunk<R> | null {
  const out = fc.check(
    fc.property(arb, (c) => check(c) === null),
    { seed, path: String(index) },
  );
  if (!out.failed) return null;
  const found = check(out.counterexample![0]);
  return found === null ? null : { found, path: out.counterexamplePath ?? String(index), shrinks: out.numShrinks };
}

/** shrinkAt with a check that asks an asynchronous judge (again at every shrink step). */
export async function shrinkAtAsync<T, R>(arb: fc.Arbitrary<T>, seed: number, index: number, check: (c: T) => Promise<R | null>): Promise<Shrunk<R> | null> {
  const out = await fc.check(
    fc.asyncProperty(arb, async (c) => (await check(c)) === null),
    { seed, path: String(index) },
  );
  if (!out.failed) return null;
  const found = await check(out.counterexample![0]);
  return found === null ? null : { found, path: out.counterexamplePath ?? String(index), shrinks: out.numShrinks };
}

/** What a lane of a batched campaign may ask of the chunk schedule (runChunks). */
export interface ChunkControl {
  /** whether to go on with the next batch: not stopped, and within the time */
  live(): boolean;
  /** milliseconds since the campaign started */
  elapsedMs(): number;
  /** end the campaign after the current chunks, not as an interruption (maxFindings) */
  halt(): void;
}

/**
 * The chunk schedule of the batched campaigns (this file's and fuzz/seccomp/batched.ts's): lane w
 * takes chunks w, w + L, ..., each drawn by drawChunk from chunkSeed(seed, c), until the runs are
 * done, the time is up or the campaign is stopped. `lane(w, ctl)` makes lane w's chunk runner (once,
 * when the lane starts); `summary` is the campaign's result when every lane has ended.
 */
export function runChunks<T, S>(
  opts: { readonly seed: number; readonly runs: number | null; readonly timeMs: number | null; readonly chunkSize: number },
  lanes: number,
  arb: fc.Arbitrary<T>,
  lane: (w: number, ctl: ChunkControl) => (cases: readonly T[], chunk: number, seed: number) => Promise<void>,
  summary: (elapsedMs: number, interrupted: boolean) => S,
): { stop(): void; readonly done: Promise<S> } {
  let stopped = false;
  let interrupted = false;
  const started = Date.now();
  const deadline = opts.timeMs === null ? Infinity : started + opts.timeMs;
  const totalChunks = opts.runs === null ? Infinity : Math.ceil(opts.runs / opts.chunkSize);
  const ctl: ChunkControl = {
    live: () => !stopped && Date.now() < deadline,
    elapsedMs: () => Date.now() - started,
    halt: () => {
      stopped = true;
    },
  };
  const run = async (w: number): Promise<void> => {
    const chunkRunner = lane(w, ctl);
    for (let n = 0; ; n++) {
      const chunk = w + lanes * n;
      if (chunk >= totalChunks || !ctl.live()) return;
      const size = opts.runs === null ? opts.chunkSize : Math.min(opts.chunkSize, opts.runs - chunk * opts.chunkSize);
      const seed = chunkSeed(opts.seed, chunk);
      await chunkRunner(drawChunk(arb, seed, size), chunk, seed);
    }
  };
  const done = Promise.all(Array.from({ length: lanes }, (_, w) => run(w))).then(() => summary(Date.now() - started, interrupted));
  return {
    stop: () => {
      stopped = true;
      interrupted = true;
    },
    done,
  };
}

/** Replay case `index` of a chunk from its seed and shrink it against one judge. */
export async function shrinkMismatch(
  spec: LaneSpec,
  j: BatchedJudge,
  arb: fc.Arbitrary<CampaignCase>,
  seed: number,
  index: number,
): Promise<{ mismatch: Mismatch; path: string; shrinks: number } | null> {
  const s = await shrinkAtAsync(arb, seed, index, async (c: CampaignCase): Promise<Mismatch | null> => {
    // the spec judges' answer (model/), whatever answered in the campaign
    const s = spec.specAnswer(c);
    if (j.judge.supports(s.prog) !== null) return null;
    const [a] = await j.judge.judge([spec.judgeCase(s, j.against)]);
    return spec.compare(s, j, a!, null);
  });
  return s === null ? null : { mismatch: s.found, path: s.path, shrinks: s.shrinks };
}

/** Replay case `index` of a chunk and shrink a spec property's finding (as `bpfspec fuzz` does). */
export function shrinkSpecFinding(spec: LaneSpec, arb: fc.Arbitrary<CampaignCase>, seed: number, index: number): { finding: Finding; path: string; shrinks: number } | null {
  const s = shrinkAt(arb, seed, index, (c: CampaignCase): Finding | null => ('valid' in c ? spec.checker.checkValid(c.valid.prog, spec.inputsOf(c)) : checkCase(spec.checker, c)));
  return s === null ? null : { finding: s.found, path: s.path, shrinks: s.shrinks };
}

export interface BatchedEvents {
  progress?(stats: BatchedStats, elapsedMs: number, findings: number): void;
  /** each finding, with what the signature set made of it ('kept': a signature already held by a case as small) */
  finding?(f: BatchedFinding, offer: ReturnType<SignatureSet<BatchedFinding>['offer']>): void;
}

export interface BatchedSummary {
  readonly seed: number;
  readonly lanes: number;
  readonly elapsedMs: number;
  readonly stats: BatchedStats;
  /** sorted by chunk */
  readonly findings: BatchedFinding[];
  readonly interrupted: boolean;
  /** the findings by signature, each with its count and smallest case */
  readonly signatures: SignatureEntry<BatchedFinding>[];
  /** stopped by maxFindings */
  readonly maxFindingsReached: boolean;
}

/** A running batched campaign: `stop()` ends it after the current batches. */
export interface RunningBatched {
  stop(): void;
  readonly done: Promise<BatchedSummary>;
}

/** Start a campaign over `lanes` (their judges already open; the caller closes them). */
export function startBatched(opts: BatchedOptions, lanes: readonly Lane[], events: BatchedEvents = {}): RunningBatched {
  const total = newBatchedStats();
  const findings: BatchedFinding[] = [];
  const arb = campaignArbitrary(opts.packetsPerProgram, opts.config);
  const signatures = new SignatureSet<BatchedFinding>();
  let maxReached = false;
  const report = (f: BatchedFinding, ctl: ChunkControl): void => {
    findings.push(f);
    const offer = signatures.offer(f.signature, f, f.size, f.chunk);
    events.finding?.(f, offer);
    if (opts.maxFindings != null && signatures.size >= opts.maxFindings) {
      maxReached = true;
      ctl.halt();
    }
  };
  const lane = (w: number, ctl: ChunkControl) => {
    const spec = new LaneSpec(opts.config, lanes[w]!, opts.syncJudges, {
      ...(opts.engine !== undefined ? { engine: opts.engine } : {}),
      ...(opts.specCheck !== undefined ? { specCheck: opts.specCheck } : {}),
    });
    return async (cases: readonly CampaignCase[], chunk: number, seed: number): Promise<void> => {
      let failAt = -1;
      let failJudge: BatchedJudge | null = null;
      let specFailAt = -1;
      let engineFailAt = -1;
      const judges = lanes[w]!.judges;
      // each judge's calls one after another unless it says they may overlap (Judge.overlapping: the
      // live kernel, whose requests queue in order): an outside implementation's adapter restarts
      // after a crash inside its call
      const turn: Promise<unknown>[] = judges.map(() => Promise.resolve());
      // Batch b's spec answers, and its questions to the judges, each asked when its last batch is answered
      const ask = (b: number) => {
        const part = cases.slice(b, b + opts.batch);
        const specs = part.map((c) => spec.answer(c));
        const asked = judges.map((j) => specs.flatMap((s, i) => (j.judge.supports(s.prog) === null ? [i] : [])));
        const answers = Promise.all(
          judges.map((j, ji) => {
            if (asked[ji]!.length === 0) return Promise.resolve([]);
            const q = asked[ji]!.map((i) => spec.judgeCase(specs[i]!, j.against));
            if (j.judge.overlapping === true) return j.judge.judge(q);
            const p = turn[ji]!.then(() => j.judge.judge(q));
            turn[ji] = p.catch(() => undefined);
            return p;
          }),
        );
        return { part, specs, asked, answers };
      };
      // One batch ahead: the next batch's answers are made while the judges work on this one, and it is
      // asked as soon as they have answered, before this one is compared and checked, so that the
      // judges (another process) work while this thread does. No batch is asked
      // once the time is up or the campaign stopped; one asked before is still compared. After a
      // finding, the batch asked beyond it is waited for and dropped: only compared batches count.
      let ahead: ReturnType<typeof ask> | null = cases.length > 0 && ctl.live() ? ask(0) : null;
      for (let b = 0; ahead !== null && failAt < 0 && specFailAt < 0 && engineFailAt < 0; b += opts.batch) {
        const { part, specs, asked } = ahead;
        const answersP = ahead.answers;
        ahead = b + opts.batch < cases.length && ctl.live() ? ask(b + opts.batch) : null;
        let answers: Awaited<typeof answersP>;
        try {
          answers = await answersP;
        } catch (e) {
          void ahead?.answers.catch(() => undefined);
          throw e;
        }
        const stats = newBatchedStats();
        for (let i = 0; i < part.length; i++) {
          const c = part[i]!;
          stats.cases++;
          if ('valid' in c) stats.programs++;
          else stats.invalid++;
          let agreed = true;
          for (let ji = 0; ji < judges.length; ji++) {
            const j = judges[ji]!;
            const js = (stats.judges[j.judge.name] ??= newJudgeStats());
            const k = asked[ji]!.indexOf(i);
            if (k < 0) {
              bump(js.unsupported, j.judge.supports(specs[i]!.prog)!);
              continue;
            }
            if (spec.compare(specs[i]!, j, answers[ji]![k]!, js) !== null) {
              // the engines answered for the spec: the spec answers the case again before anything is
              // reported (equal answers compare alike, so the mismatch stands; unequal ones are the engines')
              if (spec.recheck(c, specs[i]!).finding !== null) engineFailAt = b + i;
              else {
                failAt = b + i;
                failJudge = j;
              }
              break;
            }
            if (spec.explained !== null) agreed = false;
          }
          if (failAt >= 0 || engineFailAt >= 0) break;
          const checked = spec.check(c, specs[i]!.inputs);
          if (checked.finding !== null) {
            specFailAt = b + i;
            break;
          }
          if (agreed && judges.length > 0) addAll(stats.confirmed, checked.divergences);
        }
        mergeBatchedStats(total, stats);
        events.progress?.(total, ctl.elapsedMs(), findings.length);
      }
      // asked, never compared: its answers are waited for (the judges are free for the shrinking and
      // the next chunk) and dropped
      if (ahead !== null) await ahead.answers.catch(() => undefined);
      if (failAt >= 0) {
        const s = await shrinkMismatch(spec, failJudge!, arb, seed, failAt);
        if (s !== null)
          report(
            {
              kind: 'judge',
              mismatch: s.mismatch,
              chunk,
              seed,
              path: s.path,
              shrinks: s.shrinks,
              signature: mismatchSignature(s.mismatch, opts.config),
              size: { insns: s.mismatch.prog.length, bytes: s.mismatch.input?.skb.data.length ?? 0 },
            },
            ctl,
          );
      } else if (engineFailAt >= 0) {
        const s = shrinkAt(arb, seed, engineFailAt, (c: CampaignCase): Finding | null => spec.recheck(c, spec.answer(c)).finding);
        if (s !== null) report({ kind: 'spec', finding: s.found, chunk, seed, path: s.path, shrinks: s.shrinks, signature: findingSignature(s.found, opts.config), size: caseSize(s.found) }, ctl);
      } else if (specFailAt >= 0) {
        const s = shrinkSpecFinding(spec, arb, seed, specFailAt);
        if (s !== null) report({ kind: 'spec', finding: s.finding, chunk, seed, path: s.path, shrinks: s.shrinks, signature: findingSignature(s.finding, opts.config), size: caseSize(s.finding) }, ctl);
      }
    };
  };
  return runChunks(opts, lanes.length, arb, lane, (elapsedMs, interrupted): BatchedSummary => ({
    seed: opts.seed,
    lanes: lanes.length,
    elapsedMs,
    stats: total,
    findings: findings.sort((a, b) => a.chunk - b.chunk),
    interrupted,
    signatures: signatures.entries(),
    maxFindingsReached: maxReached,
  }));
}
