// The properties a seccomp campaign checks on every case:
//   1. a generated valid stack is accepted (seccomp(SECCOMP_SET_MODE_FILTER) for each filter) and an
//      invalid filter is rejected by the rule it targets, at its pc;
//   2. classic == migrated: every filter's result on every seccomp_data is the same u32 from the
//      classic evaluator and from the migrated program on the eBPF interpreter, and the stack's
//      result (precedence, match) is the same;
//   3. the kernel path never hits a model fault;
//   4. the encoding round-trips (image -> program -> image);
//   5. the cache property: a number the action cache marks always allowed (for the native or the
//      compat architecture) gets SECCOMP_RET_ALLOW from every filter of the stack, by both
//      evaluators, for the case's arguments and instruction pointers and for random ones.
import { decodeProgram, encodeProgram, type Program } from '../../model/cbpf/insn.js';
import { X86_64, type KernelConfig } from '../../model/config.js';
import { cachedNumbers, seccompUprobeException } from '../../model/seccomp/cache.js';
import { type SeccompData, seccompData } from '../../model/seccomp/data.js';
import { seccompRunClassic } from '../../model/seccomp/eval.js';
import type { SeccompHost } from '../../model/seccomp/host.js';
import { NEW_TASK, seccompSetModeFilter, type SeccompTask } from '../../model/seccomp/prepare.js';
import type { JudgeResult } from '../../model/judge.js';
import type { SeccompOutcomeMode } from '../../model/seccomp/judge.js';
import { SeccompKernelRunner, type TaskOutcome } from '../../model/seccomp/run.js';
import { SECCOMP_RET_ALLOW } from '../../model/seccomp/uapi.js';
import type { SeccompInvalidCase, SeccompValidCase } from './arb.js';
import { SeccompClassicJudge, SeccompKernelJudge } from './judges.js';

export interface SeccompStats {
  cases: number;
  valid: number;
  invalid: number;
  filters: number;
  inputs: number;
  /** numbers the cache emulator marked always allowed, summed over stacks and both architectures */
  cacheMarked: number;
  /** stacks with at least one marked number */
  cacheStacks: number;
  /** (number, seccomp_data) pairs the cache property was checked on */
  cacheChecks: number;
  /** inputs the cache answered (no filter ran) */
  cacheHits: number;
  /** the stack's action per input, by name */
  actions: Record<string, number>;
  shapes: Record<string, number>;
  rules: Record<string, number>;
}

export const newSeccompStats = (): SeccompStats => ({ cases: 0, valid: 0, invalid: 0, filters: 0, inputs: 0, cacheMarked: 0, cacheStacks: 0, cacheChecks: 0, cacheHits: 0, actions: {}, shapes: {}, rules: {} });

export function mergeSeccompStats(into: SeccompStats, s: SeccompStats): void {
  for (const k of ['cases', 'valid', 'invalid', 'filters', 'inputs', 'cacheMarked', 'cacheStacks', 'cacheChecks', 'cacheHits'] as const) into[k] += s[k];
  for (const k of ['actions', 'shapes', 'rules'] as const) for (const [n, v] of Object.entries(s[k])) into[k][n] = (into[k][n] ?? 0) + v;
}

const bump = (r: Record<string, number>, k: string): void => {
  r[k] = (r[k] ?? 0) + 1;
};

export interface SeccompFinding {
  readonly property: 'valid-rejected' | 'invalid-accepted' | 'wrong-rule' | 'classic-vs-kernel' | 'stack-mismatch' | 'model-fault' | 'round-trip' | 'cache-unsafe';
  readonly detail: string;
  /** the filters (most recent first) and the seccomp_data of the failing input, when there is one */
  readonly filters: readonly Program[];
  readonly input: SeccompData | null;
}

/** A deterministic 32-bit generator for the cache property's extra inputs and `seccomp real`'s arguments (xorshift32). */
export function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
}

/** The outcome mode of the spec's own stack check: plain attaches on a single-threaded task. */
const SPEC_OUTCOME_MODE: SeccompOutcomeMode = { flags: 0, liveThreads: 1, exitCalls: [] };

const hexOf = (r: JudgeResult): string => (r.known === 'exact' ? r.value.toString(16) : r.known);
const outcomeKey = (o: TaskOutcome): string => JSON.stringify(o, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v));

export class SeccompChecker {
  stats = newSeccompStats();
  readonly runner = new SeccompKernelRunner();
  readonly classic: SeccompClassicJudge;
  readonly kernel: SeccompKernelJudge;

  constructor(
    readonly config: KernelConfig = X86_64,
    readonly host: SeccompHost = config.seccompHost,
  ) {
    this.classic = new SeccompClassicJudge(config, host);
    this.kernel = new SeccompKernelJudge(config, host);
  }

  /** Attach a stack (filters[0] most recent): the task, or the finding. */
  attach(progs: readonly Program[]): SeccompTask | SeccompFinding {
    let task = NEW_TASK;
    for (let i = progs.length - 1; i >= 0; i--) {
      const t = seccompSetModeFilter(0, progs[i]!, task, this.host, this.config);
      if ('errno' in t) return { property: 'valid-rejected', detail: `filter ${i}: ${t.rule} at pc ${t.pc} (${t.at}, errno ${t.errno})`, filters: progs, input: null };
      task = t;
    }
    return task;
  }

  checkValid(c: SeccompValidCase): SeccompFinding | null {
    this.stats.cases++;
    this.stats.valid++;
    const progs = c.filters.map((f) => f.prog);
    for (const f of c.filters) bump(this.stats.shapes, f.shape);
    this.stats.filters += progs.length;
    for (const p of progs) {
      const back = decodeProgram(encodeProgram(p));
      if (!back.ok || back.prog.length !== p.length || back.prog.some((x, i) => x.code !== p[i]!.code || x.jt !== p[i]!.jt || x.jf !== p[i]!.jf || x.k !== p[i]!.k >>> 0))
        return { property: 'round-trip', detail: 'encodeProgram/decodeProgram changed the program', filters: progs, input: null };
    }
    const task = this.attach(progs);
    if ('property' in task) return task;
    const filters = task.filters;
    // Properties 1-3 through the spec judges (fuzz/seccomp/judges.ts): each filter alone on a fresh
    // task (its verdict and its u32 per input), then the whole stack attached as a task attaches it
    // (each seccomp() call judged by the filters already installed) with its outcome per input.
    const inputs = c.inputs.map((sd) => ({ sd }));
    const cases = [...progs.map((prog) => ({ prog, below: [], inputs })), { prog: progs[0]!, below: progs.slice(1), inputs, outcomes: SPEC_OUTCOME_MODE }];
    const ca = this.classic.judgeSync(cases);
    const ka = this.kernel.judgeSync(cases);
    this.stats.inputs += c.inputs.length;
    for (let k = 0; k < progs.length; k++) {
      const a = ca[k]!;
      const b = ka[k]!;
      if (!a.verdict.accepted || !b.verdict.accepted)
        return { property: 'valid-rejected', detail: `filter ${k}: classic ${a.verdict.accepted ? 'installs' : a.verdict.message}, kernel ${b.verdict.accepted ? 'installs' : b.verdict.message}`, filters: progs, input: null };
      for (let i = 0; i < inputs.length; i++) {
        const x = a.results[i]!;
        const y = b.results[i]!;
        if (y.known === 'exact' && y.fault) return { property: 'model-fault', detail: `filter ${k}: ${y.fault.kind} at eBPF pc ${y.fault.pc}: ${y.fault.detail}`, filters: progs, input: c.inputs[i]! };
        if (x.known !== 'exact' || y.known !== 'exact' || x.value !== y.value)
          return { property: 'classic-vs-kernel', detail: `filter ${k}: classic 0x${hexOf(x)}, kernel 0x${hexOf(y)}`, filters: progs, input: c.inputs[i]! };
      }
    }
    // The stack: the same verdict from both (a filter may deny or kill the task's own later seccomp()
    // calls: the kernel does so too), and the same outcome per input: the classic judge runs every
    // filter (no cache, as 3.14), the kernel judge asks the cache first (where the cache answered,
    // this is the cache property on the case's own inputs).
    const sa = ca[progs.length]!;
    const sk = ka[progs.length]!;
    if (sa.verdict.accepted !== sk.verdict.accepted || (!sa.verdict.accepted && !sk.verdict.accepted && (sa.verdict.errno !== sk.verdict.errno || sa.verdict.message !== sk.verdict.message)))
      return { property: 'stack-mismatch', detail: `attaching the stack: classic ${sa.verdict.accepted ? 'installs' : sa.verdict.message}, kernel ${sk.verdict.accepted ? 'installs' : sk.verdict.message}`, filters: progs, input: null };
    if (!sk.verdict.accepted) {
      const r = sk.verdict.rejection;
      if (r === undefined || (r.rule !== 'seccomp-call-filtered' && r.rule !== 'seccomp-call-killed'))
        return { property: 'valid-rejected', detail: `the stack: ${sk.verdict.message}`, filters: progs, input: null };
      bump(this.stats.actions, `stack not attached (${r.rule})`);
    }
    const co = sa.outcomes ?? [];
    const ko = sk.outcomes ?? [];
    for (let i = 0; i < co.length; i++) {
      const p = co[i]!;
      const q = ko[i]!;
      if (p.known !== 'predicted' || q.known !== 'predicted') return { property: 'stack-mismatch', detail: 'no outcome predicted', filters: progs, input: c.inputs[i]! };
      if (q.cached) this.stats.cacheHits++;
      // v6.13+: uretprobe/uprobe bypass every filter by design (seccomp_uprobe_exception, through the cache)
      if (q.cached && seccompUprobeException(c.inputs[i]!, this.host)) {
        bump(this.stats.actions, 'allow (uprobe exception)');
        continue;
      }
      if (p.action !== q.action || outcomeKey(p.outcome) !== outcomeKey(q.outcome))
        return {
          property: q.cached ? 'cache-unsafe' : 'stack-mismatch',
          detail: `classic (every filter) ${p.action} ${outcomeKey(p.outcome)}, kernel${q.cached ? ' (the action cache answered)' : ''} ${q.action} ${outcomeKey(q.outcome)}`,
          filters: progs,
          input: c.inputs[i]!,
        };
      bump(this.stats.actions, q.action);
    }
    const classicRun = (i: number, sd: SeccompData): number => seccompRunClassic(filters[i]!.prog, sd).result;
    const kernelRun = (i: number, sd: SeccompData): number | SeccompFinding => {
      const v = this.runner.run(filters[i]!, sd);
      const fault = this.runner.fault;
      if (fault !== null) return { property: 'model-fault', detail: `filter ${i}: ${fault.kind} at eBPF pc ${fault.pc}: ${fault.detail}`, filters: progs, input: sd };
      return v;
    };
    // The cache property, on both architectures of the host.
    const top = filters[0]!.cache!;
    const marked: { nr: number; arch: number }[] = [];
    // numbers the host lets through whatever the filters say (the uprobe exception, v6.13+) are not the
    // emulator's claim about the filter: left out
    if (this.host.native !== null) for (const nr of cachedNumbers(top.allowNative)) if (!seccompUprobeException({ nr, arch: this.host.native.audit }, this.host)) marked.push({ nr, arch: this.host.native.audit });
    if (this.host.compat !== null) for (const nr of cachedNumbers(top.allowCompat)) marked.push({ nr, arch: this.host.compat.audit });
    this.stats.cacheMarked += marked.length;
    if (marked.length > 0) this.stats.cacheStacks++;
    if (marked.length === 0) return null;
    const seed = c.inputs.reduce((h, sd) => (Math.imul(h ^ sd.nr, 0x01000193) ^ Number(sd.args[0]! & 0xffffffffn)) >>> 0, progs.length);
    const rnd = xorshift(seed);
    const samples: SeccompData[] = [];
    // every marked number once with the case's first input's arguments, then random ones
    const pickMarked = (): { nr: number; arch: number } => marked[rnd() % marked.length]!;
    const base = c.inputs[0]!;
    const chosen = marked.length <= 8 ? marked : Array.from({ length: 8 }, pickMarked);
    for (const m of chosen) {
      samples.push(seccompData(m.nr, m.arch, base.args, base.instructionPointer));
      const big = (): bigint => (BigInt(rnd() % 3 === 0 ? 0 : rnd()) << 32n) | BigInt(rnd() % 2 === 0 ? rnd() % 64 : rnd());
      samples.push(seccompData(m.nr, m.arch, [big(), big(), big(), big(), big(), big()], big()));
    }
    for (const sd of samples) {
      this.stats.cacheChecks++;
      for (let i = 0; i < filters.length; i++) {
        const a = classicRun(i, sd);
        const b = kernelRun(i, sd);
        if (typeof b !== 'number') return b;
        if (a !== SECCOMP_RET_ALLOW || b !== SECCOMP_RET_ALLOW)
          return {
            property: 'cache-unsafe',
            detail: `the cache marks nr ${sd.nr} (arch 0x${sd.arch.toString(16)}) always allowed, but filter ${i} returns classic 0x${a.toString(16)}, kernel 0x${b.toString(16)}`,
            filters: progs,
            input: sd,
          };
      }
    }
    return null;
  }

  checkInvalid(c: SeccompInvalidCase): SeccompFinding | null {
    this.stats.cases++;
    this.stats.invalid++;
    bump(this.stats.rules, c.rule);
    const t = seccompSetModeFilter(0, c.prog, NEW_TASK, this.host, this.config);
    if (!('errno' in t)) return { property: 'invalid-accepted', detail: `expected ${c.rule} at pc ${c.pc}`, filters: [c.prog], input: null };
    if (t.rule !== c.rule || t.pc !== c.pc) return { property: 'wrong-rule', detail: `expected ${c.rule} at pc ${c.pc}, got ${t.rule} at pc ${t.pc}`, filters: [c.prog], input: null };
    return null;
  }
}
