// Judges: anything that answers "what does the kernel do with this program and this skb" — an
// attach verdict, then a u32 result per skb — behind one small interface. The campaign compares
// judges; it knows nothing else about them.
import { bpfCheckFilter, KernelRunner, skAttachFilter, type AttachedFilter } from '../model/attach.js';
import { CLASSIC, ClassicVm, compileClassic, V6_6_0, V6_6_BACKPORT, type ClassicProgram, type ClassicSemantics } from '../model/cbpf/eval.js';
import type { Program } from '../model/cbpf/insn.js';
import type { KernelConfig } from '../model/config.js';
import type { EbpfStep } from '../model/ebpf/interp.js';
import type { Fault } from '../model/ebpf/memory.js';
import type { Env, SkBuff } from '../model/skb.js';
import type { Rejection } from '../model/verdict.js';

/** The judges a campaign can compare: 'compiled' adds bpfspec's compiled backends (both of them). */
export type JudgeName = 'classic' | 'kernel' | 'compiled';
export const JUDGE_NAMES: readonly JudgeName[] = ['classic', 'kernel', 'compiled'];

export interface Judge {
  readonly name: Exclude<JudgeName, 'compiled'>;
  /** Load a program; the verdict of this judge's attach path (null: accepted). */
  load(prog: Program): Rejection | null;
  /** Run the loaded (accepted) program on one skb: the u32 result. */
  run(skb: SkBuff, env: Env): number;
  /** A model fault of the last run, or null. */
  readonly fault: Fault | null;
}

/** The classic evaluator: bpf_check_classic's verdict, then sk_run_filter semantics. */
export class ClassicJudge implements Judge {
  readonly name = 'classic' as const;
  readonly vm: ClassicVm;
  readonly fault = null;
  private compiled: ClassicProgram | null = null;

  constructor(readonly config: KernelConfig, sem: ClassicSemantics = CLASSIC) {
    this.vm = new ClassicVm(config, sem);
  }

  load(prog: Program): Rejection | null {
    // The fixed checker: a historical variant (config.variant) perturbs the kernel path only, so that
    // the classic side stays the reference the variant is found against.
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
export class KernelJudge implements Judge {
  readonly name = 'kernel' as const;
  readonly runner: KernelRunner;
  private attached: AttachedFilter | null = null;

  constructor(readonly config: KernelConfig) {
    this.runner = new KernelRunner(config);
  }

  load(prog: Program): Rejection | null {
    const r = skAttachFilter(prog, this.config);
    this.attached = 'ok' in r ? r : null;
    return 'ok' in r ? null : r;
  }

  get filter(): AttachedFilter {
    if (this.attached === null) throw new Error('KernelJudge.run before an accepting load');
    return this.attached;
  }

  run(skb: SkBuff, env: Env, trace: EbpfStep[] | null = null): number {
    return this.runner.run(this.filter, skb, env, trace);
  }

  get fault(): Fault | null {
    return this.runner.fault;
  }
}

/** The classic semantics with every decision switched to what the configured v6.6 kernel does. */
export const kernelSemantics = (config: KernelConfig): ClassicSemantics => (config.loadHelpers === 'backport' ? V6_6_BACKPORT : V6_6_0);
