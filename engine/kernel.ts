// The engine's kernel path: model/attach.ts skAttachFilter (engine/cbpf/check.ts,
// engine/migrate/convert.ts) and KernelRunner.run (engine/ebpf/skbprog.ts on the skb itself) for one
// kernel record, reusing every buffer from program to program. A run the engine cannot answer for
// sure (BAIL: the spec would fault, or the program is not one the engine follows) is answered by the
// spec's KernelRunner, which the caller asks (see EngineKernelPath.run).
import type { KernelConfig } from '../model/kernel.js';
import type { HelperEnv } from '../model/ebpf/helpers.js';
import { newRndState, prandomSeedState } from '../model/prandom.js';
import type { Env, SkBuff } from '../model/skb.js';
import type { Rejection } from '../model/verdict.js';
import { EngineChecker } from './cbpf/check.js';
import type { ClassicColumns } from './cbpf/program.js';
import { analyzeSkbProgram, BAIL, SkbProgramBuffer, skbProgramOfConverted, SkbVm, type SkbProgram } from './ebpf/skbprog.js';
import { compileSkbProgram, newSkbRuntime, type SkbFilterFn, type SkbRuntime } from './ebpf/skbjit.js';
import { EngineConverter } from './migrate/convert.js';

export { BAIL } from './ebpf/skbprog.js';

/** A migrated program compiled by the engine (EngineKernelPath.compile). */
export interface EngineFilter {
  readonly fn: SkbFilterFn;
  /** it calls bpf_user_rnd_u32 (the prandom state is seeded per run) */
  readonly random: boolean;
}

/** The engine's attach and run for one kernel record. */
export class EngineKernelPath {
  readonly checker = new EngineChecker();
  readonly converter: EngineConverter;
  readonly vm: SkbVm;
  private readonly env: { skb: SkBuff; config: KernelConfig; cpu: number; rnd: Uint32Array };
  /** the loaded program, or null (not accepted, or not one the engine follows) */
  program: SkbProgram | null = null;
  /** why the loaded (accepted) program is not one the engine follows, or null */
  unsupported: string | null = null;
  private random = false;
  private readonly rt: SkbRuntime;
  /** the analysed program's buffers, reused from program to program */
  private readonly analysed = new SkbProgramBuffer();

  constructor(readonly config: KernelConfig) {
    this.converter = new EngineConverter(config);
    this.env = { skb: null as unknown as SkBuff, config, cpu: 0, rnd: newRndState(1) };
    this.vm = new SkbVm(this.env as HelperEnv & { skb: SkBuff; cpu: number });
    this.rt = newSkbRuntime(this.env as HelperEnv);
  }

  /** The loaded program compiled (engine/ebpf/skbjit.ts), for many runs; null when not compiled. */
  compile(): EngineFilter | null {
    const p = this.program;
    if (p === null) return null;
    const fn = compileSkbProgram(p);
    return fn === null ? null : { fn, random: this.random };
  }

  // model/attach.ts KernelRunner.run
  /** A compiled program's result on one skb, or BAIL (then the spec must answer). */
  runCompiled(f: EngineFilter, skb: SkBuff, env: Env): number {
    this.env.skb = skb;
    this.env.cpu = env.cpu;
    if (f.random) prandomSeedState(this.env.rnd, env.randomSeed);
    return f.fn(skb, this.rt);
  }

  // model/attach.ts skAttachFilter
  /** Attach `p`: null when accepted (then run() may be called), else the spec's rejection. */
  load(p: ClassicColumns): Rejection | null {
    this.program = null;
    this.unsupported = null;
    const checked = this.checker.check(p, this.config);
    if (checked !== null) return checked;
    const a = this.converter.attach(p);
    if ('errno' in a) return a;
    const cv = this.converter;
    const sp =
      cv.plain && cv.maxLoadWord * 4 <= a.stackSize
        ? skbProgramOfConverted(a.insns, cv.fixes, cv.nfix, a.stackSize, cv.helperMask, this.analysed)
        : analyzeSkbProgram(a.insns, a.stackSize, this.analysed);
    if (typeof sp === 'string') this.unsupported = sp;
    else {
      this.program = sp;
      this.random = sp.helpers.includes(8);
    }
    return null;
  }

  // model/attach.ts KernelRunner.run
  /** The loaded program's result on one skb, or BAIL (then the spec must answer). */
  run(skb: SkBuff, env: Env): number {
    const p = this.program;
    if (p === null) return BAIL;
    this.env.skb = skb;
    this.env.cpu = env.cpu;
    if (this.random) prandomSeedState(this.env.rnd, env.randomSeed);
    return this.vm.run(p, skb);
  }
}
