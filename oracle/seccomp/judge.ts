// The running kernel as a seccomp judge (model/seccomp/judge.ts): oracle/seccomp/oracle.c through
// its driver. Per case:
//   verdict     the filters below, then prog, installed in order in a fresh child (mode B), each
//               seccomp() call's errno as the kernel returned it; a child that died on one of those
//               calls (a filter already installed killed or trapped it) is `killed`;
//   results     prog's exact u32 per input, read by its two TRAP copies (instrument.ts), each
//               installed alone on a fresh child: the low and the high 16 bits as si_errno;
//   outcomes    (root: the sandbox) the whole stack installed with TSYNC while a second thread
//               exists, the call made by that thread, and what the task saw.
// Inputs are made into calls this machine can make (inputFor): x86_64 through SYSCALL, i386 through
// INT 0x80 when IA-32 emulation is on (else not comparable), other architectures as x86_64 calls
// with the same number and arguments; the instruction pointer is the oracle's (after its SYSCALL or
// INT 0x80 instruction).
import type { JudgeResult } from '../../model/judge.js';
import type { Program } from '../../model/cbpf/insn.js';
import { type SeccompData, seccompData } from '../../model/seccomp/data.js';
import type { SeccompAttachCall, SeccompInput, SeccompJudge, SeccompJudgeAnswer, SeccompJudgeCase, SeccompObserved, SeccompOutcomeMode, SeccompOutcomeResult } from '../../model/seccomp/judge.js';
import { SYSCALL_TABLES } from '../../model/seccomp/syscalls.js';
import { AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, SIGSYS, SYS_SECCOMP } from '../../model/seccomp/uapi.js';
import { ensureSeccompOracle, SeccompOracle, type LiveCall, type LiveObservation, type OracleProbe } from './driver.js';
import { trapCopy } from './instrument.js';

/** The live call for a seccomp_data (x86-64 SYSCALL, or INT 0x80 for i386), or why there is none. */
export function liveCall(sd: SeccompData, int80: boolean): LiveCall | string {
  if (sd.arch >>> 0 === AUDIT_ARCH_X86_64) return { abi: 0, nr: BigInt(sd.nr >>> 0), args: sd.args };
  if (sd.arch >>> 0 === AUDIT_ARCH_I386) return int80 ? { abi: 1, nr: BigInt(sd.nr >>> 0), args: sd.args } : 'INT 0x80 is not available on this kernel (IA-32 emulation off)';
  return `arch 0x${(sd.arch >>> 0).toString(16)} cannot be called on this x86-64 machine`;
}

/** An observation of the oracle in the interface's terms. */
export function observed(o: LiveObservation): SeccompObserved {
  switch (o.state) {
    case 'ret':
      return { state: 'ret', ret: o.ret };
    case 'trap':
      return { state: 'trap', code: o.code, siErrno: o.siErrno, siSyscall: o.siSyscall, siArch: o.siArch, siCallAddr: o.siCallAddr };
    case 'thread':
      return { state: 'thread' };
    case 'signal':
      return { state: 'signal', signal: o.status & 0x7f };
    case 'attach':
      return { state: 'none', reason: `an attach failed in the outcome run: [${o.attach.join(',')}]` };
    default:
      return { state: 'none', reason: `the child ended without a report (${o.state}, status 0x${o.status.toString(16)})` };
  }
}

/** The 16 bits a TRAP copy's observation shows (SIGSYS si_errno), 0 for a kill (a DIV by X == 0 exit), or null. */
const trapField = (o: LiveObservation): number | null =>
  o.state === 'trap' && o.code === SYS_SECCOMP ? o.siErrno & 0xffff : o.state === 'signal' && (o.status & 0x7f) === SIGSYS ? 0 : null;

/** The calls whose running ends the calling thread: exit, on x86_64 (60) and on i386 through INT 0x80 (1), by the syscall tables. */
const EXIT_CALLS: SeccompOutcomeMode['exitCalls'] = [
  [AUDIT_ARCH_X86_64, new Map(SYSCALL_TABLES.x86_64).get('exit')!],
  [AUDIT_ARCH_I386, new Map(SYSCALL_TABLES.i386).get('exit')!],
];

export class LiveSeccompJudge implements SeccompJudge {
  readonly name = 'live';
  readonly attachCall: SeccompAttachCall;
  readonly outcomeMode: SeccompOutcomeMode | undefined;

  constructor(
    readonly oracle: SeccompOracle,
    readonly probe: OracleProbe,
  ) {
    this.attachCall = { ip: probe.ip64, fprog: probe.fprog };
    // Outcomes only inside the sandbox (root): calls the filters let through really run.
    this.outcomeMode = probe.sandboxed ? { flags: 1, liveThreads: 2, exitCalls: EXIT_CALLS } : undefined;
  }

  /** Open the oracle (built on first use); `missing` names what is not there. */
  static async open(): Promise<LiveSeccompJudge | { missing: string }> {
    const b = ensureSeccompOracle();
    if (!b.ok) return { missing: b.missing };
    const o = new SeccompOracle(b.path);
    try {
      return new LiveSeccompJudge(o, await o.start());
    } catch (e) {
      await o.close();
      return { missing: `a working seccomp oracle (${(e as Error).message})` };
    }
  }

  supports(_prog: Program): string | null {
    return null;
  }

  inputFor(input: SeccompInput): SeccompInput {
    const sd = input.sd;
    if (sd.arch >>> 0 === AUDIT_ARCH_I386) return { sd: seccompData(sd.nr, sd.arch, sd.args, this.probe.int80 ? this.probe.ip80 : sd.instructionPointer) };
    return { sd: seccompData(sd.nr, AUDIT_ARCH_X86_64, sd.args, this.probe.ip64) };
  }

  async judge(cases: readonly SeccompJudgeCase[]): Promise<readonly SeccompJudgeAnswer[]> {
    const out: SeccompJudgeAnswer[] = [];
    for (const c of cases) out.push(await this.judgeOne(c));
    return out;
  }

  private async judgeOne(c: SeccompJudgeCase): Promise<SeccompJudgeAnswer> {
    let attaches = 0;
    const progs = [...c.below].reverse().concat([c.prog]);
    const getpid: LiveCall = { abi: 0, nr: 39n, args: [] };
    const v = (await this.oracle.run('batch', progs.map((prog) => ({ flags: 0, prog })), [getpid]))[0]!;
    attaches += progs.length;
    const died = v.attach.length < progs.length && v.attach.every((e) => e === 0);
    const failed = v.attach.findIndex((e) => e !== 0);
    if (died) return { verdict: { accepted: false, errno: 0, message: `killed after ${v.attach.length} attaches (${v.state}, status 0x${v.status.toString(16)})` }, results: [], counters: { attaches } };
    if (failed >= 0) return { verdict: { accepted: false, errno: -v.attach[failed]!, message: `seccomp() of filter ${failed} (oldest first) returned -${v.attach[failed]}` }, results: [], counters: { attaches } };
    // Exact values: prog's two TRAP copies, each alone on a fresh child, over the callable inputs.
    const calls = c.inputs.map((i) => liveCall(i.sd, this.probe.int80));
    const idx = calls.flatMap((x, i) => (typeof x === 'string' ? [] : [i]));
    const results: JudgeResult[] = calls.map((x) => (typeof x === 'string' ? { known: 'none', reason: x } : { known: 'none', reason: 'not read' }));
    const lo = trapCopy(c.prog, 0);
    const hi = trapCopy(c.prog, 16);
    if (idx.length > 0 && lo !== null && hi !== null) {
      const live = idx.map((i) => calls[i] as LiveCall);
      const obsLo = await this.oracle.run('batch', [{ flags: 0, prog: lo }], live);
      const obsHi = await this.oracle.run('batch', [{ flags: 0, prog: hi }], live);
      attaches += 2;
      idx.forEach((i, j) => {
        const a = trapField(obsLo[j]!);
        const b = trapField(obsHi[j]!);
        // e.g. a number the host's cache lets through before any filter runs (uprobe exception)
        results[i] = a === null || b === null ? { known: 'none', reason: `a TRAP copy did not trap (${obsLo[j]!.state}/${obsHi[j]!.state})` } : { known: 'exact', value: ((b << 16) | a) >>> 0 };
      });
    } else if (idx.length > 0) idx.forEach((i) => (results[i] = { known: 'none', reason: 'the TRAP copy would exceed 4096 instructions' }));
    if (c.outcomes === undefined || this.outcomeMode === undefined) return { verdict: { accepted: true }, results, counters: { attaches } };
    // The stack's outcome per callable input, one sandboxed child per call.
    const outcomes: SeccompOutcomeResult[] = calls.map((x) => ({ known: 'observed', observed: { state: 'none', reason: typeof x === 'string' ? x : 'not observed' } }));
    if (idx.length > 0) {
      const obs = await this.oracle.run('action', progs.map((prog) => ({ flags: this.outcomeMode!.flags, prog })), idx.map((i) => calls[i] as LiveCall));
      attaches += progs.length * idx.length;
      idx.forEach((i, j) => (outcomes[i] = { known: 'observed', observed: observed(obs[j]!) }));
    }
    return { verdict: { accepted: true }, results, outcomes, counters: { attaches } };
  }

  close(): Promise<void> {
    return this.oracle.close();
  }
}
