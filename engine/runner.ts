// The engine's kernel-path runner: model/attach.ts KernelRunner.run, on the engine's interpreter
// (engine/ebpf/interp.ts) or compiled backend (engine/ebpf/jit.ts), with image reuse
// (engine/ebpf/skbimage.ts) as an option. Every run must equal KernelRunner.run on the same filter,
// skb and env: result, and fault kind and pc.
import type { AttachedFilter } from '../model/attach.js';
import type { KernelConfig } from '../model/kernel.js';
import { skbHelperTable, type HelperEnv } from '../model/ebpf/helpers.js';
import type { Fault } from '../model/ebpf/memory.js';
import type { EbpfStep } from '../model/ebpf/interp.js';
import { newRndState, prandomSeedState } from '../model/prandom.js';
import type { Env, SkBuff } from '../model/skb.js';
import { compileEbpfColumns, EbpfEngineVm, type EbpfColumns } from './ebpf/interp.js';
import { compileEbpfJs, EbpfJitVm, type EbpfJsProgram } from './ebpf/jit.js';
import { EngineMemory } from './ebpf/memory.js';
import { bindSkb, createReusableSkbImage, layOutSkbFresh, layOutSkbOwn, type LaidOutSkb, type ReusableSkbImage } from './ebpf/skbimage.js';

interface MutableHelperEnv {
  skb: SkBuff;
  config: KernelConfig;
  cpu: number;
  rnd: Uint32Array;
}

export interface EngineRunnerOptions {
  /**
   * Lay each skb out once, on buffers of its own kept as long as the skb object lives (a WeakMap),
   * and swap that image in on later runs of the same skb (by any program) instead of laying it out
   * again. The skb is then treated as immutable: its bytes must not change in place between runs.
   */
  readonly reuseImages?: boolean;
}

/** Runs attached filters fast; equal to model/attach.ts KernelRunner. */
export class EngineRunner {
  readonly vm: EbpfEngineVm;
  readonly image: ReusableSkbImage;
  private readonly env: MutableHelperEnv;
  private readonly images: WeakMap<SkBuff, LaidOutSkb> | null;
  private readonly columns = new WeakMap<AttachedFilter, EbpfColumns>();
  private jitVm: EbpfJitVm | null = null;
  private readonly jitted = new WeakMap<AttachedFilter, EbpfJsProgram>();

  constructor(
    readonly config: KernelConfig,
    opts: EngineRunnerOptions = {},
  ) {
    this.image = createReusableSkbImage(new EngineMemory());
    this.env = { skb: null as unknown as SkBuff, config, cpu: 0, rnd: newRndState(1) };
    this.vm = new EbpfEngineVm(this.image.mem, skbHelperTable(this.env as HelperEnv));
    this.images = opts.reuseImages === true ? new WeakMap() : null;
  }

  /** The fault of the last run(), or null. */
  get fault(): Fault | null {
    return this.vm.fault;
  }

  /** The fault of the last runCompiled(), or null. */
  get compiledFault(): Fault | null {
    return this.jitVm === null ? null : this.jitVm.fault;
  }

  private place(skb: SkBuff): void {
    const images = this.images;
    if (images === null) {
      layOutSkbFresh(this.image, skb, this.config);
      return;
    }
    let l = images.get(skb);
    if (l === undefined) {
      l = layOutSkbOwn(this.image, skb, this.config);
      images.set(skb, l);
    }
    bindSkb(this.image, l);
  }

  private enter(skb: SkBuff, env: Env): { readonly hi: number; readonly lo: number } {
    this.place(skb);
    this.env.skb = skb;
    this.env.cpu = env.cpu;
    prandomSeedState(this.env.rnd, env.randomSeed);
    return this.image.ctx;
  }

  // model/attach.ts KernelRunner.run
  /** The filter's u32 result on the engine's interpreter (the columns are decoded once per filter). */
  run(f: AttachedFilter, skb: SkBuff, env: Env, trace: EbpfStep[] | null = null): number {
    let c = this.columns.get(f);
    if (c === undefined) {
      c = compileEbpfColumns(f.migrated.converted.insns);
      this.columns.set(f, c);
    }
    const ctx = this.enter(skb, env);
    return this.vm.run(c, ctx.hi, ctx.lo, f.migrated.stackSize, trace);
  }

  // model/attach.ts KernelRunner.run
  /** The same run on the compiled backend (compiled once per filter). Faults: compiledFault. */
  runCompiled(f: AttachedFilter, skb: SkBuff, env: Env): number {
    if (this.jitVm === null) this.jitVm = new EbpfJitVm(this.image.mem, this.vm.helpers, { stepBudget: this.vm.stepBudget, stackPoison: this.vm.stackPoison });
    let p = this.jitted.get(f);
    if (p === undefined) {
      p = compileEbpfJs(f.migrated.converted.insns);
      this.jitted.set(f, p);
    }
    const ctx = this.enter(skb, env);
    return this.jitVm.run(p, ctx.hi, ctx.lo, f.migrated.stackSize);
  }
}
