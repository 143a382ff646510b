// The attach path and the per-packet run, end to end:
//   setsockopt(SO_ATTACH_FILTER) -> sk_attach_filter -> __get_filter -> bpf_prepare_filter
//     -> bpf_check_classic -> bpf_migrate_filter (bpf_convert_filter x2, bpf_prog_select_runtime)
//     -> __sk_attach_prog (__sk_filter_charge)
//   packet_rcv / sk_filter_trim_cap -> run_filter -> bpf_prog_run -> ___bpf_prog_run
import { bpfCheckBasicsOk, bpfCheckClassic } from './cbpf/check.js';
import type { Program } from './cbpf/insn.js';
import type { KernelConfig } from './config.js';
import { skbHelperTable, type HelperEnv } from './ebpf/helpers.js';
import { compileEbpf, EbpfVm, type CompiledEbpf, type EbpfStep } from './ebpf/interp.js';
import type { Fault } from './ebpf/memory.js';
import { createSkbImage, layOutSkb, type SkbImage } from './ebpf/skbmem.js';
import { skFilterCharge } from './migrate/charge.js';
import { bpfMigrateFilter, type MigratedProgram } from './migrate/convert.js';
import { prandomSeedState, newRndState } from './prandom.js';
import type { Env, SkBuff } from './skb.js';
import type { Rejection } from './verdict.js';

/** A filter the kernel accepted: the classic program, its migration and the runnable form. */
export interface AttachedFilter {
  readonly ok: true;
  readonly prog: Program;
  readonly migrated: MigratedProgram;
  readonly compiled: CompiledEbpf;
}

// net/core/filter.c:1538 sk_attach_filter (-> __get_filter :1491 -> bpf_prepare_filter :1322 -> __sk_attach_prog :1465)
/**
 * Attach a classic program to a fresh socket (or to one whose sk_omem_alloc is `omemAlloc`, e.g.
 * the charge of a filter it already has). The checks run in the kernel's order and the first
 * failure wins: the length rules (__get_filter :1502), bpf_check_classic (:1330), the conversion
 * and runtime selection (:1356), then the socket memory charge (:1481). `prog === null` stands for
 * a NULL filter pointer. The copy from user space (-EFAULT, optlen -EINVAL) is outside the model.
 */
export function skAttachFilter(prog: Program | null, config: KernelConfig, omemAlloc = 0): AttachedFilter | Rejection {
  const created = bpfProgCreate(prog, config);
  if (!('ok' in created)) return created;
  const charged = skFilterCharge(created.migrated.converted.insns.length, config.optmemMax, omemAlloc, config.bpfProgHeaderSize);
  if (charged !== null) return charged;
  return created;
}

// net/core/filter.c:1502 __get_filter -> bpf_check_basics_ok, then :1330 bpf_prepare_filter -> bpf_check_classic
/**
 * The checks of the attach path before migration, in the kernel's order: the length rules, then
 * bpf_check_classic (under `config`'s historical variant, if any). What the classic evaluator needs.
 */
export function bpfCheckFilter(prog: Program | null, config?: KernelConfig): Rejection | null {
  return bpfCheckBasicsOk(prog) ?? bpfCheckClassic(prog!, config);
}

// net/core/filter.c:~1370 bpf_prog_create (line approximate; the in-kernel users' path, e.g. lib/test_bpf.c: no socket, no charge)
/** bpf_check_basics_ok, then bpf_prepare_filter: check, migrate, select the runtime. */
export function bpfProgCreate(prog: Program | null, config: KernelConfig): AttachedFilter | Rejection {
  const checked = bpfCheckFilter(prog, config);
  if (checked !== null) return checked;
  const p = prog!;
  // net/core/filter.c:1356 bpf_prepare_filter -> bpf_migrate_filter
  const migrated = bpfMigrateFilter(p, config);
  if (!('ok' in migrated)) return migrated;
  return { ok: true, prog: p, migrated, compiled: compileEbpf(migrated.converted.insns) };
}

/** Mutable helper environment, updated in place before each run (no allocation per packet). */
interface MutableHelperEnv {
  skb: SkBuff;
  config: KernelConfig;
  cpu: number;
  rnd: Uint32Array;
}

/**
 * Runs attached filters on skbs the way the kernel does, with one interpreter, one memory image and
 * one helper table for every run. (engine/runner.ts runs the same filters fast and must agree.)
 */
export class KernelRunner {
  readonly vm: EbpfVm;
  readonly image: SkbImage;
  private readonly env: MutableHelperEnv;

  constructor(readonly config: KernelConfig) {
    this.image = createSkbImage();
    this.env = { skb: null as unknown as SkBuff, config, cpu: 0, rnd: newRndState(1) };
    this.vm = new EbpfVm(this.image.mem, skbHelperTable(this.env as HelperEnv));
  }

  /** The fault of the last run, or null after a normal exit. */
  get fault(): Fault | null {
    return this.vm.fault;
  }

  // net/packet/af_packet.c run_filter -> include/linux/filter.h bpf_prog_run -> kernel/bpf/core.c:2176 __bpf_prog_runN
  /**
   * The filter's u32 result for one skb. The skb is laid out in memory (the kernel's skb already is),
   * the helpers see it, and the per-CPU prandom state behind SKF_AD_RANDOM is seeded from
   * env.randomSeed at the start of each run (the kernel seeds it once, at random), so the classic
   * evaluator and this path draw the same numbers. A model fault (see fault) gives 0.
   */
  run(f: AttachedFilter, skb: SkBuff, env: Env, trace: EbpfStep[] | null = null): number {
    layOutSkb(this.image, skb, this.config);
    this.env.skb = skb;
    this.env.cpu = env.cpu;
    prandomSeedState(this.env.rnd, env.randomSeed);
    const ctx = this.image.ctx;
    return this.vm.run(f.compiled, ctx.hi, ctx.lo, f.migrated.stackSize, trace);
  }
}

/** What the receive path does with a filter result. */
export interface Delivery {
  /** the packet is dropped (result 0) */
  readonly dropped: boolean;
  /** bytes of the packet that are kept (0 when dropped) */
  readonly snaplen: number;
}

// net/packet/af_packet.c packet_rcv: `res = run_filter(skb, sk, snaplen); if (!res) drop; if (snaplen > res) snaplen = res;`
/** AF_PACKET (tcpdump): drop on 0, else keep min(result, skb->len) bytes. */
export function packetRcv(result: number, len: number): Delivery {
  if (result === 0) return { dropped: true, snaplen: 0 };
  return { dropped: false, snaplen: Math.min(result >>> 0, len) };
}

// net/core/filter.c:157 sk_filter_trim_cap: `err = pkt_len ? pskb_trim(skb, max(cap, pkt_len)) : -EPERM`
/** Other sockets (sk_filter, cap 1; TCP and UDP pass their header length): drop on 0, else trim. */
export function skFilterTrimCap(result: number, len: number, cap = 1): Delivery {
  if (result === 0) return { dropped: true, snaplen: 0 };
  return { dropped: false, snaplen: Math.min(Math.max(cap, result >>> 0), len) };
}
