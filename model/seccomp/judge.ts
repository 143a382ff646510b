// Seccomp judges: the judge interface of model/judge.ts with seccomp's context. Types and one pure
// comparison; the spec's seccomp judges are in fuzz/seccomp/judges.ts, the live kernel's in
// oracle/seccomp/judge.ts.
//
// A seccomp case is one filter `prog` attached on top of the filters `below` (most recent first,
// already installed on the task), and the system calls it then sees:
//   verdict      seccomp(SECCOMP_SET_MODE_FILTER) of every filter in order, oldest first: accepted
//                when all are installed, else the errno of the first that is not (errno 0 with
//                `killed` when a filter already installed kills the task on its own seccomp() call);
//   results[i]   the u32 `prog` alone returns for inputs[i] (exact for the spec; the live kernel
//                reads it through TRAP copies);
//   outcomes[i]  (optional, when the case asks for them) what the task sees for inputs[i] with the
//                whole stack installed: seccomp_run_filters (the cache first) then __seccomp_filter.
// Citations: kernel/seccomp.c and the uapi/arch headers at the snapshot dda72fb05f8a, net/core/filter.c
// at 79226fb0ba80 (the socket model's); model/seccomp/README.md says which tree each file comes from.
import type { Program } from '../cbpf/insn.js';
import type { Judge, JudgeAnswer, JudgeCase } from '../judge.js';
import type { SeccompData } from './data.js';
import type { TaskOutcome } from './run.js';
import { SIGSYS, SYS_SECCOMP } from './uapi.js';

/** An input of a seccomp filter: one system call's seccomp_data. */
export interface SeccompInput {
  readonly sd: SeccompData;
}

/** How the task that attaches the stack calls seccomp(2): what the filters already installed see of that call. */
export interface SeccompAttachCall {
  /** the instruction pointer after the task's SYSCALL instruction */
  readonly ip: bigint;
  /** the address of the struct sock_fprog it passes (args[2]) */
  readonly fprog: bigint;
}

/** The conditions outcomes are observed under (the live oracle attaches with TSYNC while a second thread runs). */
export interface SeccompOutcomeMode {
  /** flags of every seccomp(SECCOMP_SET_MODE_FILTER) call in the outcome run */
  readonly flags: number;
  /** threads alive in the process when the call is made (decides KILL_THREAD's scope) */
  readonly liveThreads: number;
  /**
   * The system calls whose running ends the calling thread, as (AUDIT_ARCH_*, nr): exit, 60 on
   * x86_64 and 1 on i386 (INT 0x80, where the kernel runs it)
   */
  readonly exitCalls: readonly (readonly [arch: number, nr: number])[];
}

export interface SeccompJudgeCase extends JudgeCase<SeccompInput> {
  /** the filters installed before `prog`, most recent first */
  readonly below: readonly Program[];
  /** the task's own seccomp(2) calls, as the filters already installed see them (default: ip 0, fprog 0) */
  readonly attachCall?: SeccompAttachCall;
  /** ask for the stack's outcome per input, observed under this mode */
  readonly outcomes?: SeccompOutcomeMode;
}

/** What the task was seen to do for one call (the live oracle), or predicted to (the spec). */
export type SeccompObserved =
  /** the call returned this value (rax, signed) */
  | { readonly state: 'ret'; readonly ret: bigint }
  /** SIGSYS reached the thread's handler with this siginfo */
  | { readonly state: 'trap'; readonly code: number; readonly siErrno: number; readonly siSyscall: number; readonly siArch: number; readonly siCallAddr: bigint }
  /** the calling thread ended and the process lives on */
  | { readonly state: 'thread' }
  /** the process died of this signal */
  | { readonly state: 'signal'; readonly signal: number }
  /** nothing comparable */
  | { readonly state: 'none'; readonly reason: string };

/** A judge's outcome for one input: a prediction (the spec's TaskOutcome) or an observation. */
export type SeccompOutcomeResult = { readonly known: 'predicted'; readonly outcome: TaskOutcome; readonly action: string; readonly cached: boolean } | { readonly known: 'observed'; readonly observed: SeccompObserved };

export interface SeccompJudgeAnswer extends JudgeAnswer {
  /** per input, when the case asked for outcomes */
  readonly outcomes?: readonly SeccompOutcomeResult[];
}

/** A judge of seccomp filters. */
export interface SeccompJudge extends Judge<SeccompInput> {
  judge(cases: readonly SeccompJudgeCase[]): Promise<readonly SeccompJudgeAnswer[]>;
  judgeSync?(cases: readonly SeccompJudgeCase[]): readonly SeccompJudgeAnswer[];
  /** how this judge's task calls seccomp(2) (the campaign gives the spec the same), when it knows */
  readonly attachCall?: SeccompAttachCall;
  /** the mode this judge observes outcomes in, or absent when it cannot observe them */
  readonly outcomeMode?: SeccompOutcomeMode;
}

/**
 * Whether an observation is what a predicted outcome means (null), or why not. ERRNO and ENOSYS are
 * seen as the call's return value; a call that runs may return anything (it really ran), but not a
 * seccomp SIGSYS or a kill; a thread that ends is a run only for the numbers that end it (exit).
 */
export function outcomeConsistent(o: TaskOutcome, obs: SeccompObserved, sd: SeccompData, exitCalls: SeccompOutcomeMode['exitCalls']): string | null {
  if (obs.state === 'none') return null;
  switch (o.kind) {
    case 'errno':
      return obs.state === 'ret' && obs.ret === BigInt(-o.errno) ? null : `expected the call to return -${o.errno}`;
    case 'enosys':
      return obs.state === 'ret' && obs.ret === -38n ? null : `expected -ENOSYS (${o.why})`;
    case 'sigsys':
      if (obs.state !== 'trap') return 'expected SIGSYS (trap)';
      if (obs.code !== SYS_SECCOMP || obs.siErrno !== o.siErrno || obs.siSyscall !== o.siSyscall || obs.siArch >>> 0 !== o.siArch >>> 0 || obs.siCallAddr !== o.siCallAddr)
        return `expected siginfo errno ${o.siErrno} syscall ${o.siSyscall} arch 0x${(o.siArch >>> 0).toString(16)} addr 0x${o.siCallAddr.toString(16)}`;
      return null;
    case 'killed':
      if (o.scope === 'thread') return obs.state === 'thread' ? null : 'expected the calling thread to be killed';
      return obs.state === 'signal' && obs.signal === SIGSYS ? null : 'expected the process killed by SIGSYS';
    case 'ran':
      if (obs.state === 'trap' && obs.code === SYS_SECCOMP) return 'expected the call to run, got a seccomp SIGSYS';
      if (obs.state === 'signal' && obs.signal === SIGSYS) return 'expected the call to run, got killed by SIGSYS';
      if (obs.state === 'thread' && !exitCalls.some(([arch, nr]) => arch === sd.arch >>> 0 && nr === sd.nr)) return 'expected the call to run, the thread ended';
      return null;
    default:
      return `outcome ${o.kind} is not observable here`;
  }
}

/** An observation as one line. */
export const observedText = (o: SeccompObserved): string =>
  o.state === 'ret'
    ? `returned ${o.ret}`
    : o.state === 'trap'
      ? `SIGSYS code ${o.code} si_errno ${o.siErrno} syscall ${o.siSyscall} arch 0x${(o.siArch >>> 0).toString(16)} addr 0x${o.siCallAddr.toString(16)}`
      : o.state === 'thread'
        ? 'the calling thread ended'
        : o.state === 'signal'
          ? `the process died of signal ${o.signal}`
          : `nothing comparable (${o.reason})`;
