// The live kernel as judge of seccomp: generated stacks and system calls through the model and
// through seccomp(2) (oracle/seccomp). Per case:
//   1. the attach verdicts: each filter of the stack installed in order (the model's seccomp_set_mode_filter);
//   2. each filter's exact u32 result per call, read by its two TRAP copies (oracle/seccomp/instrument.ts),
//      compared with the classic evaluator and the migrated program;
//   3. with the sandbox (root): the stack itself, the call made by a second thread, and what the task
//      sees (errno and its cap, SIGSYS and its siginfo, ENOSYS, the thread or the process killed, or
//      the call running), compared with the model's seccomp_run_filters (cache first) and
//      __seccomp_filter. A number the cache marks allowed must run even if a filter would deny it:
//      the model predicts with the cache, and a disagreement there is reported as a cache mismatch.
// The instruction pointer of every live call is the oracle's (after its SYSCALL instruction).
import fc from 'fast-check';
import type { Program } from '../../model/cbpf/insn.js';
import { X86_64, type KernelConfig } from '../../model/config.js';
import { type SeccompData, seccompData } from '../../model/seccomp/data.js';
import { seccompRunClassic } from '../../model/seccomp/eval.js';
import { HOST_V6_18_X86_64, type SeccompHost } from '../../model/seccomp/host.js';
import { NEW_TASK, seccompSetModeFilter, type SeccompTask } from '../../model/seccomp/prepare.js';
import { seccompFilterOutcome, seccompRunFilters, SeccompKernelRunner, type TaskOutcome } from '../../model/seccomp/run.js';
import { AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, SIGSYS, SYS_SECCOMP } from '../../model/seccomp/uapi.js';
import { trapCopy } from '../../oracle/seccomp/instrument.js';
import { SeccompOracle, type LiveCall, type LiveObservation } from '../../oracle/seccomp/driver.js';
import { chunkSeed } from '../campaign.js';
import { seccompValidCase, seccompInvalidCase } from './arb.js';

export interface SeccompKdiffStats {
  cases: number;
  filters: number;
  calls: number;
  verdicts: number;
  /** exact per-filter results read from the kernel and compared */
  values: number;
  /** stack outcomes (actions) observed and compared */
  actions: number;
  /** calls whose number the model's cache marked allowed (observed running) */
  cached: number;
  notComparable: number;
  byAction: Record<string, number>;
}

export interface SeccompMismatch {
  readonly what: 'verdict' | 'value' | 'action' | 'cache';
  readonly detail: string;
  readonly filters: readonly Program[];
  readonly input: SeccompData | null;
}

const newStats = (): SeccompKdiffStats => ({ cases: 0, filters: 0, calls: 0, verdicts: 0, values: 0, actions: 0, cached: 0, notComparable: 0, byAction: {} });

/** The live call for a seccomp_data (x86-64 SYSCALL, or INT 0x80 for i386), or why there is none. */
export function liveCall(sd: SeccompData, int80: boolean): LiveCall | string {
  if (sd.arch >>> 0 === AUDIT_ARCH_X86_64) return { abi: 0, nr: BigInt(sd.nr >>> 0), args: sd.args };
  if (sd.arch >>> 0 === AUDIT_ARCH_I386) return int80 ? { abi: 1, nr: BigInt(sd.nr >>> 0), args: sd.args } : 'INT 0x80 is not available on this kernel (IA-32 emulation off)';
  return `arch 0x${(sd.arch >>> 0).toString(16)} cannot be called on this x86-64 machine`;
}

/** Whether an observation is what the model's outcome predicts; null when it is, else why not. */
export function outcomeMatches(o: TaskOutcome, obs: LiveObservation, sd: SeccompData, exitNrs: readonly number[]): string | null {
  switch (o.kind) {
    case 'errno':
      return obs.state === 'ret' && obs.ret === BigInt(-o.errno) ? null : `expected the call to return -${o.errno}`;
    case 'enosys':
      return obs.state === 'ret' && obs.ret === -38n ? null : `expected -ENOSYS (${o.why})`;
    case 'sigsys':
      if (obs.state !== 'trap') return 'expected SIGSYS (trap)';
      if (obs.code !== SYS_SECCOMP || obs.siErrno !== o.siErrno || obs.siSyscall !== o.siSyscall || obs.siArch >>> 0 !== o.siArch >>> 0 || obs.siCallAddr !== o.siCallAddr)
        return `expected siginfo errno ${o.siErrno} syscall ${o.siSyscall} arch 0x${o.siArch.toString(16)} addr 0x${o.siCallAddr.toString(16)}`;
      return null;
    case 'killed':
      if (o.scope === 'thread') return obs.state === 'thread' ? null : 'expected the calling thread to be killed';
      return obs.state === 'signal' && (obs.status & 0x7f) === SIGSYS ? null : 'expected the process killed by SIGSYS';
    case 'ran':
      if (obs.state === 'trap' && obs.code === SYS_SECCOMP) return 'expected the call to run, got a seccomp SIGSYS';
      if (obs.state === 'signal' && (obs.status & 0x7f) === SIGSYS) return 'expected the call to run, got killed by SIGSYS';
      if (obs.state === 'thread' && !exitNrs.includes(sd.nr)) return 'expected the call to run, the thread ended';
      if (obs.state === 'attach') return 'attach failed';
      return null;
    default:
      return `outcome ${o.kind} is not observable here`;
  }
}

export interface SeccompKdiffOptions {
  readonly seed: number;
  readonly runs: number | null;
  readonly timeMs: number | null;
  readonly inputsPerCase: number;
  readonly config?: KernelConfig;
  readonly host?: SeccompHost;
  /** also compare the stack's outcome (needs the sandbox: root) */
  readonly actions?: boolean;
}

export interface SeccompKdiffSummary {
  readonly seed: number;
  readonly elapsedMs: number;
  readonly stats: SeccompKdiffStats;
  readonly mismatches: SeccompMismatch[];
  readonly sandboxed: boolean;
  readonly int80: boolean;
  readonly notes: string[];
}

/** Compare one stack (progs[0] most recent) and its inputs with the kernel. */
export async function kdiffStack(
  oracle: SeccompOracle,
  progs: readonly Program[],
  inputs: readonly SeccompData[],
  opts: { config: KernelConfig; host: SeccompHost; actions: boolean },
  stats: SeccompKdiffStats,
): Promise<SeccompMismatch[]> {
  const probe = oracle.probe!;
  const out: SeccompMismatch[] = [];
  stats.cases++;
  stats.filters += progs.length;
  // The model: attach in order, oldest first, each attach being itself a system call the filters
  // already installed judge (seccomp(1, flags, &fprog) from the oracle's SYSCALL instruction).
  const runnerA = new SeccompKernelRunner();
  const predictAttach = (flags: number, threads: number): { errnos: number[]; died: boolean; task: SeccompTask } => {
    let task: SeccompTask = NEW_TASK;
    const errnos: number[] = [];
    for (let i = progs.length - 1; i >= 0; i--) {
      if (task.filters.length > 0) {
        const sd = seccompData(317, AUDIT_ARCH_X86_64, [1n, BigInt(flags), probe.fprog], probe.ip64);
        const r = seccompRunFilters(task.filters, sd, opts.host, (f, d) => runnerA.run(f, d));
        const o = seccompFilterOutcome(r.ret, sd, { liveThreads: threads }).outcome;
        if (o.kind === 'errno') return { errnos: [...errnos, o.errno], died: false, task };
        if (o.kind === 'enosys') return { errnos: [...errnos, 38], died: false, task };
        if (o.kind !== 'ran') return { errnos, died: true, task };
      }
      const t = seccompSetModeFilter(flags, progs[i]!, task, opts.host, opts.config);
      if ('errno' in t) return { errnos: [...errnos, -t.errno], died: false, task };
      errnos.push(0);
      task = t;
    }
    return { errnos, died: false, task };
  };
  const model = predictAttach(0, 1);
  const task = model.task;
  const oldestFirst = [...progs].reverse().map((prog) => ({ flags: 0, prog }));
  const getpid: LiveCall = { abi: 0, nr: 39n, args: [] };
  const verdict = (await oracle.run('batch', oldestFirst, [getpid]))[0]!;
  stats.verdicts++;
  const liveErrnos = verdict.attach;
  const liveDied = verdict.attach.length < progs.length && verdict.attach.every((e) => e === 0);
  if (liveErrnos.join(',') !== model.errnos.join(',') || liveDied !== model.died)
    out.push({ what: 'verdict', detail: `attach errnos: model [${model.errnos.join(',')}]${model.died ? ' then killed' : ''}, kernel [${liveErrnos.join(',')}]${liveDied ? ' then killed' : ''}`, filters: progs, input: null });
  if (model.died || model.errnos.some((e) => e !== 0) || out.length > 0) return out;
  // Live inputs: the oracle's instruction pointer.
  const calls: { sd: SeccompData; call: LiveCall }[] = [];
  for (const sdIn of inputs) {
    // an arch this machine cannot call becomes x86_64 (same number and arguments); i386 stays i386
    const sd0 = sdIn.arch >>> 0 === AUDIT_ARCH_X86_64 || sdIn.arch >>> 0 === AUDIT_ARCH_I386 ? sdIn : seccompData(sdIn.nr, AUDIT_ARCH_X86_64, sdIn.args, sdIn.instructionPointer);
    const c0 = liveCall(sd0, probe.int80);
    if (typeof c0 === 'string') {
      stats.notComparable++;
      continue;
    }
    const sd = seccompData(sd0.nr, sd0.arch, sd0.args, c0.abi === 1 ? probe.ip80 : probe.ip64);
    calls.push({ sd, call: c0 });
  }
  if (calls.length === 0) return out;
  stats.calls += calls.length;
  // 2. exact values, filter by filter
  const runner = new SeccompKernelRunner();
  for (let i = 0; i < task.filters.length; i++) {
    const f = task.filters[i]!;
    const lo = trapCopy(f.prog, 0);
    const hi = trapCopy(f.prog, 16);
    if (lo === null || hi === null) {
      stats.notComparable += calls.length;
      continue;
    }
    const obsLo = await oracle.run('batch', [{ flags: 0, prog: lo }], calls.map((c) => c.call));
    const obsHi = await oracle.run('batch', [{ flags: 0, prog: hi }], calls.map((c) => c.call));
    calls.forEach(({ sd }, j) => {
      const field = (o: LiveObservation): number | null => (o.state === 'trap' && o.code === SYS_SECCOMP ? o.siErrno & 0xffff : o.state === 'signal' && (o.status & 0x7f) === SIGSYS ? 0 : null);
      const a = field(obsLo[j]!);
      const b = field(obsHi[j]!);
      if (a === null || b === null) {
        stats.notComparable++; // e.g. a number the host's cache passes through (uprobe exception)
        return;
      }
      const live = ((b << 16) | a) >>> 0;
      const classic = seccompRunClassic(f.prog, sd).result;
      const kernel = runner.run(f, sd);
      stats.values++;
      if (live !== classic || live !== kernel)
        out.push({ what: 'value', detail: `filter ${i} (most recent first): kernel 0x${live.toString(16)}, classic 0x${classic.toString(16)}, migrated 0x${kernel.toString(16)}`, filters: progs, input: sd });
    });
  }
  // 3. the stack's outcome
  if (!opts.actions || !probe.sandboxed) return out;
  // In the action mode every filter is attached with TSYNC (flags 1) while a second thread exists.
  const withTsync = predictAttach(1, 2);
  if (withTsync.died || withTsync.errnos.some((e) => e !== 0)) {
    stats.notComparable += calls.length;
    return out;
  }
  const obs = await oracle.run('action', oldestFirst.map((f) => ({ ...f, flags: 1 })), calls.map((c) => c.call));
  calls.forEach(({ sd }, j) => {
    const r = seccompRunFilters(task.filters, sd, opts.host, (f, d) => runner.run(f, d));
    const predicted = seccompFilterOutcome(r.ret, sd, { liveThreads: 2, matchLog: r.match !== null && task.filters[r.match]!.log });
    stats.actions++;
    stats.byAction[predicted.action] = (stats.byAction[predicted.action] ?? 0) + 1;
    if (r.cached) stats.cached++;
    const why = obs[j]!.state === 'attach' ? `attach failed in the action run: [${obs[j]!.attach.join(',')}]` : outcomeMatches(predicted.outcome, obs[j]!, sd, [60]);
    if (why !== null) {
      const nocache = seccompRunFilters(task.filters.map((f) => ({ ...f, cache: null })), sd, opts.host, (f, d) => runner.run(f, d));
      out.push({
        what: r.cached || nocache.ret !== r.ret ? 'cache' : 'action',
        detail: `${why}; model: ${predicted.action} data ${predicted.data}${r.cached ? ' (cache)' : ''}; kernel: ${obs[j]!.state} ret ${obs[j]!.ret} signo ${obs[j]!.signo} code ${obs[j]!.code} si_errno ${obs[j]!.siErrno} status 0x${obs[j]!.status.toString(16)}`,
        filters: progs,
        input: sd,
      });
    }
  });
  return out;
}

/** A time- or count-bounded live campaign on the generators' stacks (valid and invalid). */
export async function runSeccompKdiff(oracle: SeccompOracle, opts: SeccompKdiffOptions, progress?: (s: SeccompKdiffStats) => void): Promise<SeccompKdiffSummary> {
  const started = Date.now();
  const probe = oracle.probe ?? (await oracle.start());
  const config = opts.config ?? X86_64;
  const host = opts.host ?? HOST_V6_18_X86_64;
  const stats = newStats();
  const mismatches: SeccompMismatch[] = [];
  const notes: string[] = [];
  if (!probe.int80) notes.push('INT 0x80 unavailable: i386 inputs are not comparable on this kernel');
  if (!probe.sandboxed) notes.push('no sandbox (not root): stack outcomes not compared, only verdicts and values');
  const deadline = opts.timeMs === null ? Infinity : started + opts.timeMs;
  const arb = fc.oneof({ weight: 9, arbitrary: seccompValidCase(opts.inputsPerCase).map((v) => ({ v })) }, { weight: 1, arbitrary: seccompInvalidCase().map((inv) => ({ inv })) });
  for (let chunk = 0; ; chunk++) {
    if (Date.now() >= deadline || (opts.runs !== null && stats.cases >= opts.runs)) break;
    const samples = fc.sample(arb, { seed: chunkSeed(opts.seed, chunk), numRuns: 64 });
    for (const s of samples) {
      if (Date.now() >= deadline || (opts.runs !== null && stats.cases >= opts.runs)) break;
      const progs = 'v' in s ? s.v.filters.map((f) => f.prog) : [s.inv.prog];
      const inputs = 'v' in s ? s.v.inputs : [];
      const m = await kdiffStack(oracle, progs, inputs, { config, host, actions: opts.actions ?? true }, stats);
      mismatches.push(...m);
      progress?.(stats);
    }
  }
  return { seed: opts.seed, elapsedMs: Date.now() - started, stats, mismatches, sandboxed: probe.sandboxed, int80: probe.int80, notes };
}
