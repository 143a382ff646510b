// seccomp(SECCOMP_SET_MODE_FILTER), end to end (kernel/seccomp.c and net/core/filter.c, 6.6.y):
//   seccomp_set_mode_filter (seccomp.c:1901): flag checks
//     -> seccomp_prepare_user_filter -> seccomp_prepare_filter (:648): length, no_new_privs or CAP_SYS_ADMIN
//          -> bpf_prog_create_from_user(..., seccomp_check_filter, save_orig) (filter.c:1416)
//               -> bpf_check_basics_ok (filter.c:1424), copy, orig_prog saved
//               -> bpf_prepare_filter (filter.c:1322): bpf_check_classic (:1330), then
//                  seccomp_check_filter (:1340), then bpf_migrate_filter (:1356)
//     -> seccomp_attach_filter (:876): the path length limit, the LOG flag, seccomp_cache_prepare
// Every rejection is a value naming errno, stage, rule, pc and kernel line. Not modelled: the -EFAULT
// of copying from user space, -ENOMEM of allocations, TSYNC's thread checks (one thread), the
// listener's file descriptor (NEW_LISTENER is recorded; -EBUSY for a second listener is modelled).
// Citations: kernel/seccomp.c and the uapi/arch headers at the snapshot dda72fb05f8a, net/core/filter.c
// at 79226fb0ba80 (the socket model's); model/seccomp/README.md says which tree each file comes from.
import { bpfCheckBasicsOk } from '../cbpf/check.js';
import { bpfPrepareFilter } from '../attach.js';
import type { Program, SockFilter } from '../cbpf/insn.js';
import type { KernelConfig } from '../config.js';
import { compileEbpf, type CompiledEbpf } from '../ebpf/interp.js';
import type { MigratedProgram } from '../migrate/convert.js';
import { BPF_MAXINSNS, EINVAL, ENOMEM } from '../uapi.js';
import { reject, type Rejection } from '../verdict.js';
import { type ActionCache, seccompCachePrepare } from './cache.js';
import { seccompCheckFilter } from './check.js';
import type { SeccompHost } from './host.js';
import {
  EACCES,
  EBUSY,
  MAX_INSNS_PER_PATH,
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_MASK,
  SECCOMP_FILTER_FLAG_NEW_LISTENER,
  SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_TSYNC_ESRCH,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
} from './uapi.js';

/** A prepared and attached filter: struct seccomp_filter with its bpf_prog. */
export interface SeccompFilter {
  /** orig_prog: the program as the user passed it (what PTRACE_SECCOMP_GET_FILTER returns, what the cache emulates) */
  readonly prog: Program;
  /** fp->insns after seccomp_check_filter's rewrites (what was migrated) */
  readonly insns: readonly SockFilter[];
  readonly migrated: MigratedProgram;
  readonly compiled: CompiledEbpf;
  /** SECCOMP_FILTER_FLAG_LOG */
  readonly log: boolean;
  /** SECCOMP_FILTER_FLAG_NEW_LISTENER: a notification listener exists for it */
  readonly listener: boolean;
  /** the action cache (null until attached) */
  readonly cache: ActionCache | null;
}

/** The seccomp state of a single-threaded task. */
export interface SeccompTask {
  /** task_no_new_privs (prctl(PR_SET_NO_NEW_PRIVS, 1)) */
  readonly noNewPrivs: boolean;
  /** ns_capable(current_user_ns(), CAP_SYS_ADMIN) */
  readonly capSysAdmin: boolean;
  /** current->seccomp.filter and its prev chain: index 0 is the most recent filter */
  readonly filters: readonly SeccompFilter[];
}

/** A task with no filter, no_new_privs set and no CAP_SYS_ADMIN (what the live oracle's child is). */
export const NEW_TASK: SeccompTask = { noNewPrivs: true, capSysAdmin: false, filters: [] };

// bpf_prepare_filter (net/core/filter.c:1322) is model/attach.ts bpfPrepareFilter: the socket path calls it
// with no trans, seccomp with seccomp_check_filter.
export { bpfPrepareFilter };

// net/core/filter.c:1416 bpf_prog_create_from_user
/** bpf_check_basics_ok (:1424; `prog === null` is a NULL filter pointer), then bpf_prepare_filter with `trans`. */
export function bpfProgCreateFromUser(
  prog: Program | null,
  trans: ((p: Program) => { prog: SockFilter[]; rejection: Rejection | null }) | null,
  config: KernelConfig,
): { readonly insns: SockFilter[]; readonly migrated: MigratedProgram } | Rejection {
  const basics = bpfCheckBasicsOk(prog);
  if (basics !== null) return basics;
  return bpfPrepareFilter(prog!, trans, config);
}

// kernel/seccomp.c:648 seccomp_prepare_filter
/**
 * `len` is fprog->len (the program's length unless the caller models a NULL pointer with a length).
 * Rejections: len 0 or > BPF_MAXINSNS (-EINVAL, :659); neither no_new_privs nor CAP_SYS_ADMIN
 * (-EACCES, :670, checked after the length); then bpf_prog_create_from_user's.
 */
export function seccompPrepareFilter(prog: Program | null, task: SeccompTask, config: KernelConfig, len = prog?.length ?? 1): SeccompFilter | Rejection {
  if (len === 0) return reject(-EINVAL, 'check', 'len-zero', null, 'kernel/seccomp.c:659');
  if (len > BPF_MAXINSNS) return reject(-EINVAL, 'check', 'len-too-long', null, 'kernel/seccomp.c:659');
  if (!task.noNewPrivs && !task.capSysAdmin) return reject(-EACCES, 'permission', 'no-new-privs', null, 'kernel/seccomp.c:670');
  const created = bpfProgCreateFromUser(prog, seccompCheckFilter, config); // :680
  if ('errno' in created) return created;
  return {
    prog: prog!.map((i) => ({ ...i })),
    insns: created.insns,
    migrated: created.migrated,
    compiled: compileEbpf(created.migrated.converted.insns),
    log: false,
    listener: false,
    cache: null,
  };
}

// kernel/seccomp.c:876 seccomp_attach_filter
/**
 * The path limit counts the migrated eBPF programs (filter->prog->len is the length
 * bpf_migrate_filter set), plus 4 per filter already attached: total > MAX_INSNS_PER_PATH (32768) is
 * -ENOMEM (:889). Then the LOG flag, filter->prev = the current filter, and the cache (:917).
 */
export function seccompAttachFilter(flags: number, filter: SeccompFilter, task: SeccompTask, host: SeccompHost): SeccompTask | Rejection {
  let totalInsns = filter.migrated.len; // :885 filter->prog->len: the constant-blinded clone's length when the JIT compiled one
  for (const walker of task.filters) totalInsns += walker.migrated.len + 4; // :887 4 instr penalty
  if (totalInsns > MAX_INSNS_PER_PATH) return reject(-ENOMEM, 'attach', 'path-too-long', null, 'kernel/seccomp.c:889');
  const prev = task.filters[0] ?? null;
  const cache = seccompCachePrepare(filter.prog, prev?.cache ?? null, host);
  const attached: SeccompFilter = { ...filter, log: (flags & SECCOMP_FILTER_FLAG_LOG) !== 0, cache };
  return { ...task, filters: [attached, ...task.filters] };
}

// kernel/seccomp.c:1871 has_duplicate_listener
/** Whether the task already has a filter with a listener (a second NEW_LISTENER is -EBUSY). */
export function hasDuplicateListener(task: SeccompTask): boolean {
  return task.filters.some((f) => f.listener);
}

// kernel/seccomp.c:1901 seccomp_set_mode_filter
/**
 * seccomp(SECCOMP_SET_MODE_FILTER, flags, &fprog) on a single-threaded task: the new task state, or
 * the rejection (the syscall's -errno). TSYNC succeeds (there are no other threads).
 */
export function seccompSetModeFilter(flags: number, prog: Program | null, task: SeccompTask, host: SeccompHost, config: KernelConfig, len?: number): SeccompTask | Rejection {
  const f = flags >>> 0;
  if ((f & ~SECCOMP_FILTER_FLAG_MASK) !== 0) return reject(-EINVAL, 'flags', 'flags-unknown', null, 'kernel/seccomp.c:1911');
  if ((f & SECCOMP_FILTER_FLAG_TSYNC) !== 0 && (f & SECCOMP_FILTER_FLAG_NEW_LISTENER) !== 0 && (f & SECCOMP_FILTER_FLAG_TSYNC_ESRCH) === 0)
    return reject(-EINVAL, 'flags', 'flags-tsync-listener', null, 'kernel/seccomp.c:1921');
  if ((f & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) !== 0 && (f & SECCOMP_FILTER_FLAG_NEW_LISTENER) === 0)
    return reject(-EINVAL, 'flags', 'flags-killable-without-listener', null, 'kernel/seccomp.c:1930');
  const prepared = seccompPrepareFilter(prog, task, config, len); // :1935
  if ('errno' in prepared) return prepared;
  const listener = (f & SECCOMP_FILTER_FLAG_NEW_LISTENER) !== 0;
  if (listener && hasDuplicateListener(task)) return reject(-EBUSY, 'attach', 'duplicate-listener', null, 'kernel/seccomp.c:1967');
  return seccompAttachFilter(f, { ...prepared, listener }, task, host);
}
