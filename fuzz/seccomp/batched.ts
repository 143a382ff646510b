// The seccomp campaign of batched judges: the seccomp generators' stacks and system calls go to the
// spec's seccomp judges in process and, in batches, to judges that answer asynchronously (the live
// kernel: `bpfspec kdiff --path seccomp`, `bpfspec fuzz --path seccomp --judges live`). It is
// fuzz/batched.ts's campaign with seccomp's case, inputs and answers: chunk c is drawn by fast-check
// from chunkSeed(seed, c), lane w takes chunks w, w + L, ..., every judge is compared with the spec
// judge it names, and a mismatch is shrunk by asking the judge again at every shrink step. (The
// socket campaign's startBatched and LaneSpec are typed to socket cases and skbs: SkbInput,
// CampaignCase, the socket Checker; this file is their seccomp counterpart and shares their chunk
// schedule (runChunks), shrinking (shrinkAt, shrinkAtAsync), JudgeStats and result text.)
//
// A generated stack [f0 (most recent), f1, ...] becomes one judge case per filter: fk attached on
// top of f(k+1).., its exact results on the case's inputs; the top case (f0) also asks for the
// stack's outcome per input when a judge can observe outcomes. An invalid filter is one case with no
// input. The spec's own properties (fuzz/seccomp/properties.ts: the rules, classic == migrated, no
// model fault, round-trip, the cache property) are checked on every case too.
import fc from 'fast-check';
import type { Program } from '../../model/cbpf/insn.js';
import { X86_64, type KernelConfig } from '../../model/config.js';
import { consistentResults, type JudgeResult, type JudgeVerdict } from '../../model/judge.js';
import type { SeccompData } from '../../model/seccomp/data.js';
import type { SeccompHost } from '../../model/seccomp/host.js';
import { observedText, outcomeConsistent, type SeccompAttachCall, type SeccompInput, type SeccompJudge, type SeccompJudgeAnswer, type SeccompJudgeCase, type SeccompOutcomeMode } from '../../model/seccomp/judge.js';
import { addAll, bump, newJudgeStats, resultText, runChunks, shrinkAt, shrinkAtAsync, type ChunkControl, type JudgeStats } from '../batched.js';
import type { Reference } from '../judges.js';
import { checkSeccompCase, seccompCaseArbitrary, type SeccompCase } from './campaign.js';
import { SeccompClassicJudge, SeccompKernelJudge } from './judges.js';
import { SeccompChecker, type SeccompFinding } from './properties.js';

export interface SeccompBatchedJudge {
  readonly judge: SeccompJudge;
  readonly against: Reference;
}

export interface SeccompLane {
  readonly judges: readonly SeccompBatchedJudge[];
}

export interface SeccompBatchedOptions {
  readonly seed: number;
  readonly runs: number | null;
  readonly timeMs: number | null;
  readonly inputsPerCase: number;
  /** cases per chunk (the fast-check run unit) */
  readonly chunkSize: number;
  /** campaign cases per request to a lane's judges */
  readonly batch: number;
  readonly config?: KernelConfig;
  readonly host?: SeccompHost;
}

/** What one seccomp judge answered: the socket campaign's counts plus the stack outcomes. */
export interface SeccompJudgeStats extends JudgeStats {
  /** stack outcomes compared */
  outcomes: number;
  /** outcomes compared, by the action the model predicted */
  byAction: Record<string, number>;
  /** outcomes compared whose number the model's action cache answered (no filter ran) */
  cached: number;
  /** outcomes not comparable, by reason */
  outcomeNone: Record<string, number>;
}

export interface SeccompBatchedStats {
  /** campaign cases (stacks and invalid filters) */
  cases: number;
  stacks: number;
  invalid: number;
  /** judge cases (one per filter of a stack) */
  filters: number;
  judges: Record<string, SeccompJudgeStats>;
}

const newSeccompJudgeStats = (): SeccompJudgeStats => ({ ...newJudgeStats(), outcomes: 0, byAction: {}, cached: 0, outcomeNone: {} });
export const newSeccompBatchedStats = (): SeccompBatchedStats => ({ cases: 0, stacks: 0, invalid: 0, filters: 0, judges: {} });

export function mergeSeccompBatchedStats(into: SeccompBatchedStats, from: SeccompBatchedStats): void {
  for (const k of ['cases', 'stacks', 'invalid', 'filters'] as const) into[k] += from[k];
  for (const [name, s] of Object.entries(from.judges)) {
    const t = (into.judges[name] ??= newSeccompJudgeStats());
    for (const k of ['cases', 'pairs', 'exact', 'partial', 'none', 'outcomes', 'cached'] as const) t[k] += s[k];
    for (const k of ['unsupported', 'partialReasons', 'noneReasons', 'explained', 'counters', 'byAction', 'outcomeNone'] as const) addAll(t[k], s[k]);
  }
}

/** A difference between a seccomp judge and the spec judge it must equal. */
export interface SeccompMismatch {
  readonly judge: string;
  readonly against: Reference;
  readonly kind: 'verdict' | 'result' | 'outcome' | 'cache';
  readonly message: string;
  /** the stack, most recent first (the case's prog, then below) */
  readonly filters: readonly Program[];
  /** the input (results and outcomes), as the judge and the spec ran it */
  readonly input: SeccompData | null;
}

export type SeccompBatchedFinding = { readonly chunk: number; readonly seed: number; readonly path: string; readonly shrinks: number } & (
  | { readonly kind: 'judge'; readonly mismatch: SeccompMismatch }
  | { readonly kind: 'spec'; readonly finding: SeccompFinding }
);

const verdictText = (v: JudgeVerdict): string => (v.accepted ? 'installs' : v.errno !== 0 ? `errno ${-v.errno} (${v.message})` : `does not install (${v.message})`);

/** The judge cases of one campaign case (see the header), given the lane's attach call and outcome mode. */
export function judgeCasesOf(c: SeccompCase, inputs: readonly SeccompInput[], attachCall: SeccompAttachCall | undefined, mode: SeccompOutcomeMode | undefined): SeccompJudgeCase[] {
  if (!('valid' in c)) return [{ prog: c.invalid.prog, below: [], inputs: [], ...(attachCall ? { attachCall } : {}) }];
  return stackJudgeCases(c.valid.filters.map((f) => f.prog), inputs, attachCall, mode);
}

/** The judge cases of a stack (most recent first): one per filter, the top one asking for outcomes. */
export function stackJudgeCases(progs: readonly Program[], inputs: readonly SeccompInput[], attachCall: SeccompAttachCall | undefined, mode: SeccompOutcomeMode | undefined): SeccompJudgeCase[] {
  return progs.map((prog, k) => ({ prog, below: progs.slice(k + 1), inputs, ...(attachCall ? { attachCall } : {}), ...(k === 0 && mode ? { outcomes: mode } : {}) }));
}

/**
 * Compare a judge's answer with its spec judge's (and, for outcomes, the kernel judge's prediction);
 * null when they agree. Counts into `stats` when given.
 */
export function compareSeccomp(
  j: { readonly name: string; readonly against: Reference },
  c: SeccompJudgeCase,
  spec: SeccompJudgeAnswer,
  kernel: SeccompJudgeAnswer,
  classic: SeccompJudgeAnswer,
  a: SeccompJudgeAnswer,
  stats: SeccompJudgeStats | null,
): SeccompMismatch | null {
  const base = { judge: j.name, against: j.against, filters: [c.prog, ...c.below] };
  if (stats) {
    stats.cases++;
    if (a.counters) addAll(stats.counters, a.counters);
  }
  if (spec.verdict.accepted !== a.verdict.accepted || (!spec.verdict.accepted && !a.verdict.accepted && spec.verdict.errno !== a.verdict.errno))
    return { ...base, kind: 'verdict', message: `attach: ${j.against} ${verdictText(spec.verdict)}, ${j.name} ${verdictText(a.verdict)}`, input: null };
  if (!spec.verdict.accepted) return null;
  for (let i = 0; i < c.inputs.length; i++) {
    const r: JudgeResult = a.results[i] ?? { known: 'none', reason: 'no answer' };
    const s = spec.results[i]!;
    if (r.known === 'none') {
      if (stats) {
        stats.none++;
        bump(stats.noneReasons, r.reason);
      }
      continue;
    }
    if (stats) stats.pairs++;
    if (!consistentResults(r, s))
      return { ...base, kind: 'result', message: `input ${i}: ${j.against} ${resultText(s)}, ${j.name} ${resultText(r)}`, input: c.inputs[i]!.sd };
    if (stats) {
      if (r.known === 'exact') stats.exact++;
      else {
        stats.partial++;
        bump(stats.partialReasons, r.reason);
      }
    }
  }
  if (c.outcomes === undefined || a.outcomes === undefined || kernel.outcomes === undefined) return null;
  for (let i = 0; i < c.inputs.length; i++) {
    const o = a.outcomes[i];
    const p = kernel.outcomes[i];
    if (o === undefined || p === undefined || p.known !== 'predicted') {
      if (stats) bump(stats.outcomeNone, p?.known === 'observed' && p.observed.state === 'none' ? `model: ${p.observed.reason}` : 'no outcome');
      continue;
    }
    if (o.known !== 'observed' || o.observed.state === 'none') {
      if (stats) bump(stats.outcomeNone, o.known === 'observed' && o.observed.state === 'none' ? o.observed.reason : 'not an observation');
      continue;
    }
    const sd = c.inputs[i]!.sd;
    if (stats) {
      stats.outcomes++;
      bump(stats.byAction, p.action);
      if (p.cached) stats.cached++;
    }
    const why = outcomeConsistent(p.outcome, o.observed, sd, c.outcomes.exitCalls);
    if (why !== null) {
      // a cache mismatch when the cache answered, or when the model without the cache (the classic judge's stack) predicts what was seen
      const q = classic.outcomes?.[i];
      const nocache = q !== undefined && q.known === 'predicted' && outcomeConsistent(q.outcome, o.observed, sd, c.outcomes.exitCalls) === null;
      return {
        ...base,
        kind: p.cached || nocache ? 'cache' : 'outcome',
        message: `input ${i}: ${why}; model: ${p.action}${p.cached ? ' (the action cache answered)' : ''}; ${j.name}: ${observedText(o.observed)}`,
        input: sd,
      };
    }
  }
  return null;
}

/** One lane's spec judges and properties, reused for every case. */
export class SeccompLaneSpec {
  readonly classic: SeccompClassicJudge;
  readonly kernel: SeccompKernelJudge;
  readonly checker: SeccompChecker;
  readonly attachCall: SeccompAttachCall | undefined;
  readonly mode: SeccompOutcomeMode | undefined;

  constructor(
    readonly lane: SeccompLane,
    readonly config: KernelConfig,
    readonly host: SeccompHost,
  ) {
    this.classic = new SeccompClassicJudge(config, host);
    this.kernel = new SeccompKernelJudge(config, host);
    this.checker = new SeccompChecker(config, host);
    this.attachCall = lane.judges.find((j) => j.judge.attachCall !== undefined)?.judge.attachCall;
    this.mode = lane.judges.find((j) => j.judge.outcomeMode !== undefined)?.judge.outcomeMode;
  }

  /** The case's inputs as the lane's judges take them (each judge's inputFor in turn). */
  inputsOf(c: SeccompCase): SeccompInput[] {
    if (!('valid' in c)) return [];
    return c.valid.inputs.map((sd) => {
      let x: SeccompInput = { sd };
      for (const j of this.lane.judges) if (j.judge.inputFor) x = j.judge.inputFor(x);
      return x;
    });
  }

  /** The judge cases and the spec judges' answers. */
  answer(c: SeccompCase): { cases: SeccompJudgeCase[]; classic: SeccompJudgeAnswer[]; kernel: SeccompJudgeAnswer[] } {
    const cases = judgeCasesOf(c, this.inputsOf(c), this.attachCall, this.mode);
    return { cases, classic: this.classic.judgeSync(cases), kernel: this.kernel.judgeSync(cases) };
  }

  /** The spec's properties on the case with the lane's inputs. */
  check(c: SeccompCase): SeccompFinding | null {
    if (!('valid' in c)) return checkSeccompCase(this.checker, c);
    return this.checker.checkValid({ filters: c.valid.filters, inputs: this.inputsOf(c).map((i) => i.sd) });
  }

  /**
   * A given stack (most recent first) on given calls, every filter through every judge of the lane:
   * the mismatches (at most `limit`), counting into `stats` (by judge name). For the real filters.
   */
  async compareStack(progs: readonly Program[], sds: readonly SeccompData[], stats: Record<string, SeccompJudgeStats>, limit = 20): Promise<SeccompMismatch[]> {
    const inputs = sds.map((sd) => {
      let x: SeccompInput = { sd };
      for (const j of this.lane.judges) if (j.judge.inputFor) x = j.judge.inputFor(x);
      return x;
    });
    const cases = stackJudgeCases(progs, inputs, this.attachCall, this.mode);
    const ca = this.classic.judgeSync(cases);
    const ka = this.kernel.judgeSync(cases);
    const out: SeccompMismatch[] = [];
    for (const j of this.lane.judges) {
      const js = (stats[j.judge.name] ??= newSeccompJudgeStats());
      const answers = await j.judge.judge(cases);
      for (let k = 0; k < cases.length; k++) {
        // every input separately, so that one mismatch does not hide the others
        const c = cases[k]!;
        const one = (i: number): SeccompJudgeCase => ({ ...c, inputs: [c.inputs[i]!] });
        const pick = (a: SeccompJudgeAnswer, i: number): SeccompJudgeAnswer => ({ verdict: a.verdict, results: a.results.length === 0 ? [] : [a.results[i]!], ...(a.outcomes ? { outcomes: [a.outcomes[i]!] } : {}) });
        const spec = j.against === 'kernel' ? ka[k]! : ca[k]!;
        const first = compareSeccomp({ name: j.judge.name, against: j.against }, { ...c, inputs: [] }, spec, ka[k]!, ca[k]!, answers[k]!, js);
        if (first !== null) {
          out.push(first);
          continue;
        }
        for (let i = 0; i < c.inputs.length && out.length < limit; i++) {
          const m = compareSeccomp({ name: j.judge.name, against: j.against }, one(i), pick(spec, i), pick(ka[k]!, i), pick(ca[k]!, i), pick(answers[k]!, i), js);
          js.cases--;
          if (m !== null) out.push({ ...m, message: m.message.replace(/^input 0/, `input ${i}`) });
        }
      }
    }
    return out;
  }

  /** Ask one judge about a campaign case and compare; the first mismatch, or null. */
  async compareCase(c: SeccompCase, j: SeccompBatchedJudge, stats: SeccompJudgeStats | null): Promise<SeccompMismatch | null> {
    const s = this.answer(c);
    const asked = s.cases.filter((x) => j.judge.supports(x.prog) === null);
    const answers = asked.length === 0 ? [] : await j.judge.judge(asked);
    let k = 0;
    for (let i = 0; i < s.cases.length; i++) {
      const x = s.cases[i]!;
      const why = j.judge.supports(x.prog);
      if (why !== null) {
        if (stats) bump(stats.unsupported, why);
        continue;
      }
      const spec = j.against === 'kernel' ? s.kernel[i]! : s.classic[i]!;
      const m = compareSeccomp({ name: j.judge.name, against: j.against }, x, spec, s.kernel[i]!, s.classic[i]!, answers[k++]!, stats);
      if (m !== null) return m;
    }
    return null;
  }
}

export interface SeccompBatchedSummary {
  readonly seed: number;
  readonly lanes: number;
  readonly elapsedMs: number;
  readonly stats: SeccompBatchedStats;
  /** sorted by chunk */
  readonly findings: SeccompBatchedFinding[];
  readonly interrupted: boolean;
}

export interface RunningSeccompBatched {
  stop(): void;
  readonly done: Promise<SeccompBatchedSummary>;
}

/** Start a seccomp campaign over `lanes` (their judges already open; the caller closes them). */
export function startSeccompBatched(
  opts: SeccompBatchedOptions,
  lanes: readonly SeccompLane[],
  events: { progress?(s: SeccompBatchedStats, elapsedMs: number, findings: number): void; finding?(f: SeccompBatchedFinding): void } = {},
): RunningSeccompBatched {
  const total = newSeccompBatchedStats();
  const findings: SeccompBatchedFinding[] = [];
  const arb = seccompCaseArbitrary(opts.inputsPerCase);
  const config = opts.config ?? X86_64;
  const host = opts.host ?? config.seccompHost;
  const report = (f: SeccompBatchedFinding): void => {
    findings.push(f);
    events.finding?.(f);
  };
  const lane = (w: number, ctl: ChunkControl) => {
    const spec = new SeccompLaneSpec(lanes[w]!, config, host);
    return async (cases: readonly SeccompCase[], chunk: number, seed: number): Promise<void> => {
      let failAt = -1;
      let failJudge: SeccompBatchedJudge | null = null;
      let specFailAt = -1;
      for (let b = 0; b < cases.length && failAt < 0 && specFailAt < 0; b += opts.batch) {
        if (!ctl.live()) break;
        const part = cases.slice(b, b + opts.batch);
        const stats = newSeccompBatchedStats();
        const specs = part.map((c) => spec.answer(c));
        const judges = lanes[w]!.judges;
        // every judge gets the batch's judge cases in one request
        const answers = await Promise.all(
          judges.map((j) => {
            const asked = specs.flatMap((s) => s.cases.filter((x) => j.judge.supports(x.prog) === null));
            return asked.length === 0 ? Promise.resolve([] as readonly SeccompJudgeAnswer[]) : j.judge.judge(asked);
          }),
        );
        const next = judges.map(() => 0);
        for (let i = 0; i < part.length && failAt < 0; i++) {
          const c = part[i]!;
          const s = specs[i]!;
          stats.cases++;
          if ('valid' in c) stats.stacks++;
          else stats.invalid++;
          stats.filters += s.cases.length;
          for (let ji = 0; ji < judges.length && failAt < 0; ji++) {
            const j = judges[ji]!;
            const js = (stats.judges[j.judge.name] ??= newSeccompJudgeStats());
            for (let k = 0; k < s.cases.length; k++) {
              const x = s.cases[k]!;
              const why = j.judge.supports(x.prog);
              if (why !== null) {
                bump(js.unsupported, why);
                continue;
              }
              const ref = j.against === 'kernel' ? s.kernel[k]! : s.classic[k]!;
              if (compareSeccomp({ name: j.judge.name, against: j.against }, x, ref, s.kernel[k]!, s.classic[k]!, answers[ji]![next[ji]!++]!, js) !== null) {
                failAt = b + i;
                failJudge = j;
                break;
              }
            }
          }
          if (failAt >= 0) break;
          if (spec.check(c) !== null) {
            specFailAt = b + i;
            break;
          }
        }
        mergeSeccompBatchedStats(total, stats);
        events.progress?.(total, ctl.elapsedMs(), findings.length);
      }
      if (failAt >= 0) {
        const s = await shrinkSeccompMismatch(spec, failJudge!, arb, seed, failAt);
        if (s !== null) report({ kind: 'judge', mismatch: s.mismatch, chunk, seed, path: s.path, shrinks: s.shrinks });
      } else if (specFailAt >= 0) {
        const s = shrinkSeccompSpec(spec, arb, seed, specFailAt);
        if (s !== null) report({ kind: 'spec', finding: s.finding, chunk, seed, path: s.path, shrinks: s.shrinks });
      }
    };
  };
  return runChunks(opts, lanes.length, arb, lane, (elapsedMs, interrupted): SeccompBatchedSummary => ({
    seed: opts.seed,
    lanes: lanes.length,
    elapsedMs,
    stats: total,
    findings: findings.sort((a, b) => a.chunk - b.chunk),
    interrupted,
  }));
}

/** Replay case `index` of a chunk from its seed and shrink it against one judge (asking it again at every step). */
export async function shrinkSeccompMismatch(
  spec: SeccompLaneSpec,
  j: SeccompBatchedJudge,
  arb: fc.Arbitrary<SeccompCase>,
  seed: number,
  index: number,
): Promise<{ mismatch: SeccompMismatch; path: string; shrinks: number } | null> {
  const s = await shrinkAtAsync(arb, seed, index, (c: SeccompCase) => spec.compareCase(c, j, null));
  return s === null ? null : { mismatch: s.found, path: s.path, shrinks: s.shrinks };
}

/** Replay case `index` of a chunk and shrink a spec property's finding. */
export function shrinkSeccompSpec(spec: SeccompLaneSpec, arb: fc.Arbitrary<SeccompCase>, seed: number, index: number): { finding: SeccompFinding; path: string; shrinks: number } | null {
  const s = shrinkAt(arb, seed, index, (c: SeccompCase) => spec.check(c));
  return s === null ? null : { finding: s.found, path: s.path, shrinks: s.shrinks };
}
