// The judges a campaign runs in this process, as a list (model/judge.ts is the one interface).
//
// The spec's two evaluators are the references: the classic evaluator (`classic`) and the kernel
// path (`kernel`, the whole attach path then the eBPF interpreter). Every other judge names the
// reference it must equal: the compiled backends (`compiled-classic` against `classic`,
// `compiled-ebpf` against `kernel`), the live kernel (`live`, oracle/kernel/judge.ts) against
// `kernel`, the outside implementations (libpcap, DPDK, x/net/bpf) against `classic`.
//
// The judges here are synchronous. Besides the batched interface (judge / judgeSync), each offers
// the hot path the campaign drives without allocating: load(prog) gives the verdict, run(skb, env)
// the u32 result of one input; judgeSync and judge are written on top of those two (the wrapping
// costs a loop and the answer objects, nothing per run).
import { __getFilter, __skAttachProg, bpfCheckFilter, KernelRunner, NEW_SOCK, skAttachFilter, type AttachedFilter } from '../model/attach.js';
import { CLASSIC, ClassicVm, compileClassic, type ClassicProgram, type ClassicSemantics } from '../model/cbpf/eval.js';
import { compileClassicProgramJs, type ClassicJsFilter } from '../engine/cbpf/jit.js';
import { EngineRunner } from '../engine/runner.js';
import { EngineChecker } from '../engine/cbpf/check.js';
import { ClassicColumns } from '../engine/cbpf/program.js';
import { BAIL, EngineKernelPath } from '../engine/kernel.js';
import type { EngineJitOutcome } from '../engine/migrate/convert.js';
import type { BpfInsn } from '../model/ebpf/insn.js';
import type { MigratedProgram } from '../model/migrate/convert.js';
import type { Program } from '../model/cbpf/insn.js';
import type { KernelConfig } from '../model/config.js';
import type { EbpfStep } from '../model/ebpf/interp.js';
import type { Fault } from '../model/ebpf/memory.js';
import type { Judge, JudgeAnswer, JudgeCase, JudgeResult, JudgeVerdict, SkbInput } from '../model/judge.js';
import type { Env, SkBuff } from '../model/skb.js';
import type { Rejection } from '../model/verdict.js';

/** The spec judge another judge must equal. */
export type Reference = 'classic' | 'kernel';

/**
 * A synchronous judge with a per-input hot path. `against` is the spec judge it must equal (null for
 * the two spec judges themselves).
 */
export interface RunJudge extends Judge<SkbInput> {
  readonly against: Reference | null;
  /** Load a program: this judge's attach verdict (null: accepted). */
  load(prog: Program): Rejection | null;
  /** Run the loaded (accepted) program on one skb: the u32 result. */
  run(skb: SkBuff, env: Env): number;
  /** A fault of the last run (the run gave 0), or null. */
  readonly fault: Fault | null;
  judgeSync(cases: readonly JudgeCase<SkbInput>[]): readonly JudgeAnswer[];
}

/** The interface's verdict for a spec-shaped rejection. */
export const verdictOf = (r: Rejection | null): JudgeVerdict =>
  r === null ? { accepted: true } : { accepted: false, errno: r.errno, rejection: r, message: `${r.stage}/${r.rule} at pc ${r.pc} (${r.at})` };

/** The interface's result for one run of a RunJudge. */
export const resultOf = (value: number, fault: Fault | null): JudgeResult =>
  fault === null ? { known: 'exact', value: value >>> 0 } : { known: 'exact', value: value >>> 0, fault: { kind: fault.kind, pc: fault.pc, detail: fault.detail } };

/** judgeSync of a RunJudge: load each program, run it on each input. */
export function judgeByRuns(j: Pick<RunJudge, 'load' | 'run' | 'fault'>, cases: readonly JudgeCase<SkbInput>[]): JudgeAnswer[] {
  return cases.map((c) => {
    const r = j.load(c.prog);
    if (r !== null) return { verdict: verdictOf(r), results: [] };
    return { verdict: { accepted: true }, results: c.inputs.map((i) => resultOf(j.run(i.skb, i.env), j.fault)) };
  });
}

// The Judge methods every RunJudge shares.
abstract class SyncJudge {
  abstract load(prog: Program): Rejection | null;
  abstract run(skb: SkBuff, env: Env): number;
  abstract readonly fault: Fault | null;
  supports(_prog: Program): string | null {
    return null;
  }
  judgeSync(cases: readonly JudgeCase<SkbInput>[]): readonly JudgeAnswer[] {
    return judgeByRuns(this, cases);
  }
  judge(cases: readonly JudgeCase<SkbInput>[]): Promise<readonly JudgeAnswer[]> {
    return Promise.resolve(this.judgeSync(cases));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The classic evaluator: bpf_check_classic's verdict, then sk_run_filter semantics. */
export class ClassicJudge extends SyncJudge implements RunJudge {
  readonly name = 'classic';
  readonly against = null;
  readonly vm: ClassicVm;
  readonly fault = null;
  private compiled: ClassicProgram | null = null;

  constructor(readonly config: KernelConfig, sem: ClassicSemantics = CLASSIC) {
    super();
    this.vm = new ClassicVm(config, sem);
  }

  load(prog: Program): Rejection | null {
    // The fixed checker: a historical variant's checker decisions (checkShiftK, checkLoadAndStores)
    // perturb the kernel path only, so that the classic side stays the reference the variant is found
    // against. The classic evaluator itself reads the record's classic* decisions.
    const verdict = bpfCheckFilter(prog);
    this.compiled = verdict === null ? compileClassic(prog) : null;
    return verdict;
  }

  /** The decoded program (after an accepting load), for re-runs under other semantics. */
  get program(): ClassicProgram {
    if (this.compiled === null) throw new Error('ClassicJudge.run before an accepting load');
    return this.compiled;
  }

  run(skb: SkBuff, env: Env): number {
    return this.vm.run(this.program, skb, env);
  }
}

/** The kernel path: the whole attach path, then the migrated program on the eBPF interpreter. */
export class KernelJudge extends SyncJudge implements RunJudge {
  readonly name = 'kernel';
  readonly against = null;
  readonly runner: KernelRunner;
  private attached: AttachedFilter | null = null;

  constructor(readonly config: KernelConfig) {
    super();
    this.runner = new KernelRunner(config);
  }

  private rejection: Rejection | null = null;
  /** the migration of a program the charge refused (__get_filter made it), else null */
  private uncharged: MigratedProgram | null = null;

  // model/attach.ts skAttachFilter on a fresh socket, as its two steps: __getFilter (the checks, the
  // migration and the JIT), then __skAttachProg (the charge), so that a program the charge refuses
  // keeps the migration __getFilter made (migration(): predictAttach reads it instead of migrating
  // the program again). test/fuzz/judges.test.ts compares the verdicts with skAttachFilter's.
  load(prog: Program): Rejection | null {
    this.uncharged = null;
    const fp = __getFilter(prog, NEW_SOCK, this.config);
    if (!('ok' in fp)) {
      this.attached = null;
      this.rejection = fp;
      return fp;
    }
    const r = __skAttachProg(fp, NEW_SOCK, this.config);
    this.attached = 'sk' in r ? fp : null;
    this.rejection = 'sk' in r ? null : r;
    if (this.rejection !== null) this.uncharged = fp.migrated;
    return this.rejection;
  }

  /**
   * bpfMigrateFilter's outcome in the last load (what model/attach.ts bpfPrepareFilter got from it: the
   * migrated program of an accepted one or of one the charge refused, or its own rejection at the
   * convert or runtime stage, which nothing else gives), or undefined when the load did not get that far.
   */
  migration(): MigratedProgram | Rejection | undefined {
    if (this.attached !== null) return this.attached.migrated;
    if (this.uncharged !== null) return this.uncharged;
    const r = this.rejection;
    return r !== null && (r.stage === 'convert' || r.stage === 'runtime') ? r : undefined;
  }

  get filter(): AttachedFilter {
    if (this.attached === null) throw new Error('KernelJudge.run before an accepting load');
    return this.attached;
  }

  /** The migrated program of the last accepting load. */
  migratedInsns(): readonly BpfInsn[] {
    return this.filter.migrated.converted.insns;
  }

  run(skb: SkBuff, env: Env, trace: EbpfStep[] | null = null): number {
    return this.runner.run(this.filter, skb, env, trace);
  }

  get fault(): Fault | null {
    return this.runner.fault;
  }
}

/** bpfspec's compiled classic backend (engine/cbpf/jit.ts): must equal the classic evaluator. */
export class CompiledClassicJudge extends SyncJudge implements RunJudge {
  readonly name = 'compiled-classic';
  readonly against = 'classic';
  readonly fault = null;
  private fn: ClassicJsFilter | null = null;

  constructor(readonly config: KernelConfig) {
    super();
  }

  load(prog: Program): Rejection | null {
    const verdict = bpfCheckFilter(prog);
    this.fn = verdict === null ? compileClassicProgramJs(compileClassic(prog), this.config) : null;
    return verdict;
  }

  run(skb: SkBuff, env: Env): number {
    if (this.fn === null) throw new Error('CompiledClassicJudge.run before an accepting load');
    return this.fn(skb, env);
  }
}

/** bpfspec's compiled eBPF backend (engine/ebpf/jit.ts) on the migrated program: must equal the kernel path. */
export class CompiledEbpfJudge extends SyncJudge implements RunJudge {
  readonly name = 'compiled-ebpf';
  readonly against = 'kernel';
  readonly runner: EngineRunner;
  private attached: AttachedFilter | null = null;

  constructor(readonly config: KernelConfig) {
    super();
    this.runner = new EngineRunner(config);
  }

  load(prog: Program): Rejection | null {
    const r = skAttachFilter(prog, this.config);
    this.attached = 'ok' in r ? r : null;
    return 'ok' in r ? null : r;
  }

  run(skb: SkBuff, env: Env): number {
    if (this.attached === null) throw new Error('CompiledEbpfJudge.run before an accepting load');
    return this.runner.runCompiled(this.attached, skb, env);
  }

  get fault(): Fault | null {
    return this.runner.compiledFault;
  }
}

/**
 * The engine's classic side (engine/cbpf/check.ts on the program's columns, then the spec's classic
 * evaluator on the same columns): must equal ClassicJudge. The campaigns' hot path.
 */
export class EngineClassicJudge extends SyncJudge implements RunJudge {
  readonly name = 'engine-classic';
  readonly against = 'classic';
  readonly fault = null;
  readonly vm: ClassicVm;
  private readonly checker = new EngineChecker();
  private accepted = false;

  /** `cols`: columns shared with the case's other engine judges (a program is copied into them once) */
  constructor(readonly config: KernelConfig, sem: ClassicSemantics = CLASSIC, readonly cols = new ClassicColumns()) {
    super();
    this.vm = new ClassicVm(config, sem);
  }

  load(prog: Program): Rejection | null {
    this.cols.load(prog);
    // the fixed checker, as ClassicJudge (a variant's checker decisions perturb the kernel path only)
    const verdict = this.checker.check(this.cols);
    this.accepted = verdict === null;
    return verdict;
  }

  /** The decoded program (after an accepting load). */
  get program(): ClassicColumns {
    if (!this.accepted) throw new Error('EngineClassicJudge.run before an accepting load');
    return this.cols;
  }

  run(skb: SkBuff, env: Env): number {
    return this.vm.run(this.program, skb, env);
  }
}

/**
 * The engine's kernel path (engine/kernel.ts): must equal KernelJudge. A run the engine cannot
 * answer for sure (BAIL) is answered by the spec (KernelJudge's attach and runner, made on demand),
 * with its fault. The campaigns' hot path.
 */
export class EngineKernelJudge extends SyncJudge implements RunJudge {
  readonly name = 'engine-kernel';
  readonly against = 'kernel';
  readonly engine: EngineKernelPath;
  private prog: Program = [];
  private spec: KernelJudge | null = null;
  private specLoaded = false;
  /** the fault of the last run (only runs the spec answered can have one) */
  fault: Fault | null = null;
  /** runs the spec answered (BAIL, or a program the engine does not follow) */
  specRuns = 0;

  /** `cols`: columns shared with the case's other engine judges */
  constructor(readonly config: KernelConfig, readonly cols = new ClassicColumns()) {
    super();
    this.engine = new EngineKernelPath(config);
  }

  load(prog: Program): Rejection | null {
    this.prog = prog;
    this.specLoaded = false;
    return this.engine.load(this.cols.load(prog));
  }

  run(skb: SkBuff, env: Env): number {
    const r = this.engine.run(skb, env);
    if (r !== BAIL) {
      this.fault = null;
      return r;
    }
    this.specRuns++;
    if (this.spec === null) this.spec = new KernelJudge(this.config);
    if (!this.specLoaded) {
      this.spec.load(this.prog);
      this.specLoaded = true;
    }
    const v = this.spec.run(skb, env);
    this.fault = this.spec.fault;
    return v;
  }

  /** The migrated program of the last accepting load. */
  migratedInsns(): BpfInsn[] {
    return this.engine.converter.out.toInsns();
  }

  /** The x86-64 JIT's outcome in the last load (null: the program did not convert, or the record does not model the JIT). */
  jitOutcome(): EngineJitOutcome | null {
    return this.engine.converter.lastJit;
  }
}

/** A judge `--judges` can name and a campaign can build in any thread. */
export interface JudgeEntry {
  readonly name: string;
  readonly against: Reference | null;
  readonly description: string;
  make(config: KernelConfig): RunJudge;
}

/** The judges every campaign can build itself (the live kernel and outside implementations are opened by the CLI). */
export const BUILTIN_JUDGES: ReadonlyMap<string, JudgeEntry> = new Map<string, JudgeEntry>([
  ['classic', { name: 'classic', against: null, description: 'the classic evaluator (model/cbpf/eval.ts)', make: (c) => new ClassicJudge(c) }],
  ['kernel', { name: 'kernel', against: null, description: 'the kernel path: attach, migrate, eBPF interpreter (model/attach.ts)', make: (c) => new KernelJudge(c) }],
  ['compiled-classic', { name: 'compiled-classic', against: 'classic', description: 'the compiled classic backend (engine/cbpf/jit.ts)', make: (c) => new CompiledClassicJudge(c) }],
  ['compiled-ebpf', { name: 'compiled-ebpf', against: 'kernel', description: 'the compiled eBPF backend on the migrated program (engine/ebpf/jit.ts)', make: (c) => new CompiledEbpfJudge(c) }],
  ['engine-classic', { name: 'engine-classic', against: 'classic', description: "the engine's checker on the program's columns (engine/cbpf)", make: (c) => new EngineClassicJudge(c) }],
  ['engine-kernel', { name: 'engine-kernel', against: 'kernel', description: "the engine's kernel path: checker, converter, the migrated program on the skb (engine/kernel.ts)", make: (c) => new EngineKernelJudge(c) }],
]);

/**
 * A judge the command line opens for a batched campaign (fuzz/batched.ts): the live kernel
 * (oracle/kernel), outside implementations (oracle/libpcap, ...). fuzz/ imports none of them: the
 * command line registers them here (registerJudge), and campaigns open them by name.
 */
export interface OpenableJudge {
  readonly name: string;
  readonly against: Reference;
  readonly description: string;
  /**
   * Whether the judge is the running kernel, so that the model must describe it (the command probes
   * it and uses the live profile, as `bpfspec kdiff` does).
   */
  readonly live?: boolean;
  /** Open the instance of lane `lane` (of `lanes`); `missing` names what is not there (a package, root, ...). */
  open(ctx: { readonly config: KernelConfig; readonly lane: number; readonly lanes: number }): Promise<Judge<SkbInput> | { readonly missing: string }>;
}

const OPENABLE = new Map<string, OpenableJudge>();

/** Register a judge for `--judges` (names are unique; built-in names cannot be taken). */
export function registerJudge(j: OpenableJudge): void {
  if (BUILTIN_JUDGES.has(j.name) || JUDGE_ALIASES.has(j.name)) throw new RangeError(`registerJudge: '${j.name}' is a built-in judge`);
  OPENABLE.set(j.name, j);
}

/** A registered judge by name, or undefined. */
export const openableJudge = (name: string): OpenableJudge | undefined => OPENABLE.get(name);

/** Every name `--judges` knows: the built-in judges, then the registered ones. */
export const knownJudgeNames = (): Set<string> => new Set([...BUILTIN_JUDGES.keys(), ...OPENABLE.keys()]);

/** Names that stand for several judges. */
export const JUDGE_ALIASES: ReadonlyMap<string, readonly string[]> = new Map([['compiled', ['compiled-classic', 'compiled-ebpf']]]);

/** The default list: the two spec judges. */
export const DEFAULT_JUDGES: readonly string[] = ['classic', 'kernel'];

/**
 * A `--judges` list: comma-separated names of `known` (and aliases), expanded and deduplicated in
 * order. Throws a RangeError naming an unknown judge. The two spec judges are always part of a
 * campaign (every other judge is compared with one of them); naming them is optional.
 */
export function expandJudgeNames(text: string, known: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const raw of text.split(',')) {
    const n = raw.trim();
    if (n === '') continue;
    const names = JUDGE_ALIASES.get(n) ?? (known.has(n) ? [n] : null);
    if (names === null) throw new RangeError(`unknown judge '${n}' (known: ${[...known, ...JUDGE_ALIASES.keys()].join(', ')})`);
    for (const m of names) if (!out.includes(m)) out.push(m);
  }
  return out;
}

/** (moved to model/cbpf/eval.ts) */
export { kernelSemantics } from '../model/cbpf/eval.js';
