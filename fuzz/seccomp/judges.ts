// The spec's seccomp judges (model/seccomp/judge.ts is the interface) and the registry of the others.
//
// The two spec judges are the references, as for sockets (fuzz/judges.ts): `classic`, the classic
// evaluator (3.14's sk_run_filter with seccomp_bpf_load, model/seccomp/eval.ts), and `kernel`, the
// migrated program on the eBPF interpreter with the action cache (model/seccomp/run.ts). Both give
// the seccomp(2) attach verdict of model/seccomp/prepare.ts (the model has one seccomp checker; the
// filters already installed judge the task's own seccomp() call with the judge's evaluator), each
// filter's exact u32 per input, and, when a case asks, the stack's outcome per input (the kernel
// judge's with the cache first, the classic judge's without a cache, as 3.14 had none).
//
// Other judges (the live kernel, oracle/seccomp/judge.ts) are opened by the command line and named
// with `--judges`; fuzz/ imports none of them: they register here (registerSeccompJudge).
import type { Program } from '../../model/cbpf/insn.js';
import { X86_64, type KernelConfig } from '../../model/config.js';
import type { JudgeResult, JudgeVerdict } from '../../model/judge.js';
import { seccompData } from '../../model/seccomp/data.js';
import { seccompRunClassic } from '../../model/seccomp/eval.js';
import type { SeccompHost } from '../../model/seccomp/host.js';
import type { SeccompAttachCall, SeccompInput, SeccompJudge, SeccompJudgeAnswer, SeccompJudgeCase, SeccompOutcomeMode, SeccompOutcomeResult } from '../../model/seccomp/judge.js';
import { NEW_TASK, seccompSetModeFilter, type SeccompFilter, type SeccompTask } from '../../model/seccomp/prepare.js';
import { seccompFilterOutcome, seccompRunFilters, SeccompKernelRunner, type FilterRun } from '../../model/seccomp/run.js';
import { AUDIT_ARCH_X86_64 } from '../../model/seccomp/uapi.js';
import { reject, type Rejection } from '../../model/verdict.js';
import type { Reference } from '../judges.js';

/** __NR_seccomp on x86_64: the task's own attach call, which the filters already installed see. */
export const NR_SECCOMP_X86_64 = 317;

/** The default attach call (no live task to describe): instruction pointer and fprog address 0. */
export const DEFAULT_ATTACH_CALL: SeccompAttachCall = { ip: 0n, fprog: 0n };

/** What attaching a stack did: each attach's errno (0 installed), whether the task died, the task after. */
export interface StackAttach {
  /** per filter attached, oldest first: 0, or the positive errno the call returned */
  readonly errnos: readonly number[];
  /** a filter already installed killed the task (or trapped: SIGSYS during the attach ends it) on a seccomp() call */
  readonly died: boolean;
  readonly task: SeccompTask;
  /** the first failure as the model names it (null: every filter installed or skipped by ERRNO(0)) */
  readonly rejection: Rejection | null;
}

/**
 * Attach `progs` (oldest first) one seccomp() call each, as a task does: each call is first a system
 * call the filters already installed judge (seccomp_data nr 317, args [SECCOMP_SET_MODE_FILTER, flags,
 * &fprog]). An ERRNO result skips the call (the filter is not installed; ERRNO(0) returns 0 and the
 * task goes on, as the live oracle does); a TRACE/USER_NOTIF without tracer/listener is -ENOSYS; a kill
 * or a trap ends the task. Then seccomp_set_mode_filter itself.
 */
export function attachStack(
  progs: readonly Program[],
  opts: { readonly flags: number; readonly liveThreads: number; readonly call: SeccompAttachCall; readonly host: SeccompHost; readonly config: KernelConfig; readonly run: FilterRun },
): StackAttach {
  let task: SeccompTask = NEW_TASK;
  const errnos: number[] = [];
  for (const prog of progs) {
    if (task.filters.length > 0) {
      const sd = seccompData(NR_SECCOMP_X86_64, AUDIT_ARCH_X86_64, [1n, BigInt(opts.flags >>> 0), opts.call.fprog], opts.call.ip);
      const r = seccompRunFilters(task.filters, sd, opts.host, opts.run);
      const o = seccompFilterOutcome(r.ret, sd, { liveThreads: opts.liveThreads }).outcome;
      if (o.kind === 'errno' || o.kind === 'enosys') {
        const e = o.kind === 'errno' ? o.errno : 38;
        errnos.push(e);
        if (e !== 0) return { errnos, died: false, task, rejection: reject(-e, 'attach', 'seccomp-call-filtered', null, 'kernel/seccomp.c:1229') };
        continue; // ERRNO(0): seccomp() returns 0 without installing anything
      }
      if (o.kind !== 'ran') return { errnos, died: true, task, rejection: reject(0, 'attach', 'seccomp-call-killed', null, 'kernel/seccomp.c:1303') };
    }
    const t = seccompSetModeFilter(opts.flags, prog, task, opts.host, opts.config);
    if ('errno' in t) {
      errnos.push(-t.errno);
      return { errnos, died: false, task, rejection: t };
    }
    errnos.push(0);
    task = t;
  }
  return { errnos, died: false, task, rejection: null };
}

/** The interface's verdict of a stack attach. */
export function stackVerdict(a: StackAttach): JudgeVerdict {
  if (a.died) return { accepted: false, errno: 0, ...(a.rejection ? { rejection: a.rejection } : {}), message: 'killed by a filter already installed on its seccomp() call' };
  const failed = a.errnos.findIndex((e) => e !== 0);
  if (failed < 0) return { accepted: true };
  const r = a.rejection;
  return { accepted: false, errno: -a.errnos[failed]!, ...(r ? { rejection: r } : {}), message: r ? `filter ${failed} (oldest first): ${r.stage}/${r.rule}${r.pc === null ? '' : ` at pc ${r.pc}`} (${r.at})` : `filter ${failed}: errno ${a.errnos[failed]}` };
}

/** The filters of a case, oldest first (below is most recent first; prog is the newest). */
export const oldestFirst = (c: Pick<SeccompJudgeCase, 'prog' | 'below'>): Program[] => [...c.below].reverse().concat([c.prog]);

// The judge methods both spec judges share: attach, run `prog`, predict outcomes.
abstract class SpecSeccompJudge implements SeccompJudge {
  abstract readonly name: string;
  abstract readonly against: Reference | null;
  /** run one installed filter on one seccomp_data */
  protected abstract readonly run: FilterRun;
  /** the last run's model fault, or null */
  protected abstract fault(): { kind: string; pc: number; detail: string } | null;
  /** whether the stack's outcome consults the action cache */
  protected abstract readonly cache: boolean;

  constructor(
    readonly config: KernelConfig = X86_64,
    readonly host: SeccompHost = config.seccompHost,
  ) {}

  supports(_prog: Program): string | null {
    return null;
  }

  judgeSync(cases: readonly SeccompJudgeCase[]): SeccompJudgeAnswer[] {
    return cases.map((c) => this.judgeOne(c));
  }

  judge(cases: readonly SeccompJudgeCase[]): Promise<readonly SeccompJudgeAnswer[]> {
    return Promise.resolve(this.judgeSync(cases));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  judgeOne(c: SeccompJudgeCase): SeccompJudgeAnswer {
    const call = c.attachCall ?? DEFAULT_ATTACH_CALL;
    const progs = oldestFirst(c);
    const a = attachStack(progs, { flags: 0, liveThreads: 1, call, host: this.host, config: this.config, run: this.run });
    const verdict = stackVerdict(a);
    if (!verdict.accepted) return { verdict, results: [] };
    // prog's own values: prog alone on a fresh task (what the live judge's TRAP copies read; in the
    // stack an ERRNO(0) on its seccomp() call may have skipped it, and the path limit only tightens)
    const alone = seccompSetModeFilter(0, c.prog, NEW_TASK, this.host, this.config);
    if ('errno' in alone) throw new Error(`seccomp judge: a filter the stack installs is rejected alone (${alone.rule})`);
    const top = alone.filters[0]!;
    const results = c.inputs.map((i): JudgeResult => {
      const value = this.run(top, i.sd) >>> 0;
      const f = this.fault();
      return f === null ? { known: 'exact', value } : { known: 'exact', value, fault: f };
    });
    if (c.outcomes === undefined) return { verdict, results };
    return { verdict, results, outcomes: this.outcomes(progs, c.inputs, c.outcomes, call) };
  }

  /** The stack's outcome per input, with the stack attached the way `mode` attaches it. */
  outcomes(progs: readonly Program[], inputs: readonly SeccompInput[], mode: SeccompOutcomeMode, call: SeccompAttachCall): SeccompOutcomeResult[] {
    const a = attachStack(progs, { flags: mode.flags, liveThreads: mode.liveThreads, call, host: this.host, config: this.config, run: this.run });
    if (!stackVerdict(a).accepted) return inputs.map(() => ({ known: 'observed', observed: { state: 'none', reason: 'the stack does not attach in the outcome run' } }));
    const filters: readonly SeccompFilter[] = this.cache ? a.task.filters : a.task.filters.map((f) => ({ ...f, cache: null }));
    return inputs.map(({ sd }): SeccompOutcomeResult => {
      const r = seccompRunFilters(filters, sd, this.host, this.run);
      const o = seccompFilterOutcome(r.ret, sd, { liveThreads: mode.liveThreads, matchLog: r.match !== null && filters[r.match]!.log });
      return { known: 'predicted', outcome: o.outcome, action: o.action, cached: r.cached };
    });
  }
}

/** The classic evaluator of seccomp filters (3.14's sk_run_filter with seccomp_bpf_load); no action cache. */
export class SeccompClassicJudge extends SpecSeccompJudge {
  readonly name = 'classic';
  readonly against = null;
  protected readonly cache = false;
  protected readonly run: FilterRun = (f, sd) => seccompRunClassic(f.prog, sd).result;
  protected fault(): null {
    return null;
  }
}

/** The kernel path: the migrated program on the eBPF interpreter; the stack's outcome consults the action cache first. */
export class SeccompKernelJudge extends SpecSeccompJudge {
  readonly name = 'kernel';
  readonly against = null;
  protected readonly cache = true;
  readonly runner = new SeccompKernelRunner();
  protected readonly run: FilterRun = (f, sd) => this.runner.run(f, sd);
  protected fault(): { kind: string; pc: number; detail: string } | null {
    const f = this.runner.fault;
    return f === null ? null : { kind: f.kind, pc: f.pc, detail: f.detail };
  }
}

/** A seccomp judge `--judges` can name (with `--path seccomp`), opened by the command line. */
export interface OpenableSeccompJudge {
  readonly name: string;
  readonly against: Reference;
  readonly description: string;
  /** Open the instance of lane `lane`; `missing` names what is not there (a package, root, Linux). */
  open(ctx: { readonly config: KernelConfig; readonly host: SeccompHost; readonly lane: number; readonly lanes: number }): Promise<SeccompJudge | { readonly missing: string }>;
}

const OPENABLE = new Map<string, OpenableSeccompJudge>();

/** The spec judges every seccomp campaign has. */
export const SECCOMP_SPEC_JUDGES: readonly string[] = ['classic', 'kernel'];

/** Register a seccomp judge for `--judges` (names are unique; the spec judges' names cannot be taken). */
export function registerSeccompJudge(j: OpenableSeccompJudge): void {
  if (SECCOMP_SPEC_JUDGES.includes(j.name)) throw new RangeError(`registerSeccompJudge: '${j.name}' is a spec judge`);
  OPENABLE.set(j.name, j);
}

/** A registered seccomp judge by name, or undefined. */
export const openableSeccompJudge = (name: string): OpenableSeccompJudge | undefined => OPENABLE.get(name);

/** Every name `--judges` knows with `--path seccomp`. */
export const knownSeccompJudgeNames = (): Set<string> => new Set([...SECCOMP_SPEC_JUDGES, ...OPENABLE.keys()]);
