// Per system call: seccomp_run_filters over the task's filter stack (kernel/seccomp.c:406) and what
// __seccomp_filter then does with the result (kernel/seccomp.c:1203), i.e. what the task sees.
// The filters run on the migrated program (the kernel path) or on the classic evaluator; both are
// given by the caller as a function, so the same precedence and cache code serves both.
// Citations: kernel/seccomp.c and the uapi/arch headers at the snapshot dda72fb05f8a, net/core/filter.c
// at 79226fb0ba80 (the socket model's); model/seccomp/README.md says which tree each file comes from.
import { EbpfVm, type EbpfStep } from '../ebpf/interp.js';
import type { Fault } from '../ebpf/memory.js';
import { seccompCacheCheckAllow } from './cache.js';
import type { SeccompData } from './data.js';
import { seccompRunClassic } from './eval.js';
import type { SeccompHost } from './host.js';
import { createSeccompImage, layOutSeccompData, type SeccompImage } from './memory.js';
import type { SeccompFilter } from './prepare.js';
import {
  type ActionName,
  ENOSYS,
  MAX_ERRNO,
  SECCOMP_RET_ACTION_FULL,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_DATA,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_TRAP,
  SECCOMP_RET_USER_NOTIF,
  SIGSYS,
  SYS_SECCOMP,
} from './uapi.js';

// kernel/seccomp.c:396 ACTION_ONLY(ret) = (s32)(ret & SECCOMP_RET_ACTION_FULL)
export const actionOnly = (ret: number): number => (ret & SECCOMP_RET_ACTION_FULL) | 0;

/** Runs one filter on one seccomp_data: its u32 result. */
export type FilterRun = (f: SeccompFilter, sd: SeccompData) => number;

export interface RunFiltersResult {
  /** the u32 seccomp_run_filters returns */
  readonly ret: number;
  /** index in the stack (0 = most recent) of the filter whose result won, or null (ALLOW: *match unchanged) */
  readonly match: number | null;
  /** true when the cache answered and no filter ran */
  readonly cached: boolean;
  /** each filter's result, most recent first (empty when cached) */
  readonly results: readonly number[];
}

// kernel/seccomp.c:406 seccomp_run_filters
/**
 * The most recent filter's cache first (:418); then every filter, most recent first, and the result
 * with the lowest ACTION_ONLY wins; on a tie the earlier (more recent) one stays, data bits included.
 * An empty stack is the kernel's WARN_ON and KILL_PROCESS (:415).
 */
export function seccompRunFilters(filters: readonly SeccompFilter[], sd: SeccompData, host: SeccompHost, run: FilterRun): RunFiltersResult {
  if (filters.length === 0) return { ret: SECCOMP_RET_KILL_PROCESS >>> 0, match: null, cached: false, results: [] };
  const top = filters[0]!;
  if (top.cache !== null && seccompCacheCheckAllow(top.cache, sd, host)) return { ret: SECCOMP_RET_ALLOW, match: null, cached: true, results: [] };
  let ret = SECCOMP_RET_ALLOW;
  let match: number | null = null;
  const results: number[] = [];
  filters.forEach((f, i) => {
    const cur = run(f, sd) >>> 0; // :426 bpf_prog_run_pin_on_cpu(f->prog, sd)
    results.push(cur);
    if (actionOnly(cur) < actionOnly(ret)) {
      ret = cur;
      match = i;
    }
  });
  return { ret: ret >>> 0, match, cached: false, results };
}

/** What the calling thread sees after __seccomp_filter. */
export type TaskOutcome =
  /** the call is skipped and returns -errno (errno 0: returns 0) */
  | { readonly kind: 'errno'; readonly errno: number }
  /** the call is skipped and SIGSYS is forced on the thread: its handler sees this siginfo */
  | { readonly kind: 'sigsys'; readonly siSigno: number; readonly siCode: number; readonly siErrno: number; readonly siSyscall: number; readonly siArch: number; readonly siCallAddr: bigint }
  /** the call is skipped and returns -ENOSYS: TRACE without a tracer, USER_NOTIF without a listener */
  | { readonly kind: 'enosys'; readonly why: 'trace-without-tracer' | 'user-notif-without-listener' }
  /** the tracer gets PTRACE_EVENT_SECCOMP with this message, then the call is re-checked */
  | { readonly kind: 'trace-event'; readonly message: number }
  /** the listener gets a notification; the call waits for its answer */
  | { readonly kind: 'notify' }
  /** the task (or only the thread) is killed by SIGSYS; a process kill dumps core */
  | { readonly kind: 'killed'; readonly signal: number; readonly scope: 'process' | 'thread'; readonly coredump: boolean }
  /** the call runs (ALLOW, LOG) */
  | { readonly kind: 'ran' };

export interface FilterOutcome {
  /** the action __seccomp_filter's switch takes (an unknown action value falls into the kill case) */
  readonly action: ActionName;
  /** filter_ret & SECCOMP_RET_DATA */
  readonly data: number;
  readonly outcome: TaskOutcome;
  /** whether seccomp_log writes an audit record (default sysctl actions_logged: all but allow) */
  readonly logged: boolean;
}

export interface OutcomeContext {
  /** a ptracer with PTRACE_O_TRACESECCOMP is attached */
  readonly tracer?: boolean;
  /** the matching filter has a notification listener */
  readonly listener?: boolean;
  /** threads alive in the process (signal->live) */
  readonly liveThreads?: number;
  /** the matching filter was attached with SECCOMP_FILTER_FLAG_LOG */
  readonly matchLog?: boolean;
}

/** The action the switch of __seccomp_filter takes for a return value (unknown values: the kill case, process). */
export function seccompAction(ret: number): ActionName {
  switch ((ret & SECCOMP_RET_ACTION_FULL) >>> 0) {
    case SECCOMP_RET_ERRNO:
      return 'errno';
    case SECCOMP_RET_TRAP:
      return 'trap';
    case SECCOMP_RET_TRACE:
      return 'trace';
    case SECCOMP_RET_USER_NOTIF:
      return 'user_notif';
    case SECCOMP_RET_LOG:
      return 'log';
    case SECCOMP_RET_ALLOW:
      return 'allow';
    case SECCOMP_RET_KILL_THREAD:
      return 'kill_thread';
    default:
      return 'kill_process'; // :1304 `case SECCOMP_RET_KILL_PROCESS: default:`
  }
}

// kernel/seccomp.c:1203 __seccomp_filter (after seccomp_run_filters)
/**
 * What the task sees for a result `ret` of seccomp_run_filters on `sd`:
 * ERRNO: -min(data, MAX_ERRNO) (:1229); TRAP: SIGSYS with si_errno = data, si_code SYS_SECCOMP,
 * si_call_addr = KSTK_EIP, si_arch, si_syscall (force_sig_seccomp, kernel/signal.c:1858); TRACE: the
 * tracer's event, or -ENOSYS without one (:1248); USER_NOTIF: the listener, or -ENOSYS without one
 * (seccomp_do_user_notification :1116); LOG and ALLOW: the call runs; KILL_THREAD: do_exit(SIGSYS) unless
 * it is the last thread, then like KILL_PROCESS: SIGSYS with a core dump (:1303-1320).
 * Logging (seccomp_log :963 with the default actions_logged): KILL_*, LOG always; TRAP, ERRNO, TRACE,
 * USER_NOTIF only with SECCOMP_FILTER_FLAG_LOG on the matching filter; ALLOW never.
 */
export function seccompFilterOutcome(ret: number, sd: SeccompData, ctx: OutcomeContext = {}): FilterOutcome {
  const data = ret & SECCOMP_RET_DATA;
  const action = seccompAction(ret);
  const requested = ctx.matchLog === true;
  switch (action) {
    case 'errno':
      return { action, data, outcome: { kind: 'errno', errno: Math.min(data, MAX_ERRNO) }, logged: requested };
    case 'trap':
      return {
        action,
        data,
        outcome: { kind: 'sigsys', siSigno: SIGSYS, siCode: SYS_SECCOMP, siErrno: data, siSyscall: sd.nr | 0, siArch: sd.arch >>> 0, siCallAddr: sd.instructionPointer },
        logged: requested,
      };
    case 'trace':
      if (ctx.tracer !== true) return { action, data, outcome: { kind: 'enosys', why: 'trace-without-tracer' }, logged: requested };
      return { action, data, outcome: { kind: 'trace-event', message: data }, logged: false };
    case 'user_notif':
      if (ctx.listener !== true) return { action, data, outcome: { kind: 'enosys', why: 'user-notif-without-listener' }, logged: requested };
      return { action, data, outcome: { kind: 'notify' }, logged: false };
    case 'log':
      return { action, data, outcome: { kind: 'ran' }, logged: true };
    case 'allow':
      return { action, data, outcome: { kind: 'ran' }, logged: false };
    case 'kill_thread':
      if ((ctx.liveThreads ?? 1) > 1) return { action, data, outcome: { kind: 'killed', signal: SIGSYS, scope: 'thread', coredump: false }, logged: true };
      return { action, data, outcome: { kind: 'killed', signal: SIGSYS, scope: 'process', coredump: true }, logged: true };
    default:
      return { action, data, outcome: { kind: 'killed', signal: SIGSYS, scope: 'process', coredump: true }, logged: true };
  }
}

/** The errno of an ENOSYS outcome, for printing. */
export const OUTCOME_ENOSYS = ENOSYS;

/**
 * Runs migrated seccomp filters the way the kernel does: the eBPF interpreter with R1 pointing at a
 * seccomp_data region, reusing one VM and one image for every call.
 */
export class SeccompKernelRunner {
  readonly vm: EbpfVm;
  readonly image: SeccompImage;

  constructor(readonly littleEndian = true) {
    this.image = createSeccompImage();
    this.vm = new EbpfVm(this.image.mem, new Map());
  }

  /** The fault of the last run, or null. */
  get fault(): Fault | null {
    return this.vm.fault;
  }

  // kernel/seccomp.c:426 bpf_prog_run_pin_on_cpu(f->prog, sd) -> the eBPF interpreter (kernel/bpf/core.c:2176)
  /** The migrated filter's u32 result on `sd` (0 after a model fault, see fault). */
  run(f: SeccompFilter, sd: SeccompData, trace: EbpfStep[] | null = null): number {
    layOutSeccompData(this.image, sd, this.littleEndian);
    return this.vm.run(f.compiled, this.image.ctx.hi, this.image.ctx.lo, f.migrated.stackSize, trace);
  }
}

/** A FilterRun on the classic evaluator. */
export const classicRun =
  (littleEndian = true): FilterRun =>
  (f, sd) =>
    seccompRunClassic(f.prog, sd, littleEndian).result;
