// The facts about the machine and the kernel build that the modelled code branches on.
// Always passed explicitly; never a global.
import type { VariantName } from './variants.js';

/** Which body of bpf_skb_load_helper_{8,16,32} the kernel has (net/core/filter.c). */
export type LoadHelperVersion =
  /** pristine v6.6.0: negative offsets go through bpf_internal_load_pointer_neg_helper (linear area only) */
  | 'v6.6.0'
  /** 6.6.y after the 2025 backport of d4bac0288a2b, and 6.15+: negative offsets are converted and may read frags */
  | 'backport';

export interface KernelConfig {
  /** Name of the architecture the facts below describe. */
  readonly arch: string;
  /** CONFIG_HAVE_EFFICIENT_UNALIGNED_ACCESS (convert_bpf_ld_abs fast path, net/core/filter.c:487). */
  readonly efficientUnalignedAccess: boolean;
  /** NET_IP_ALIGN (include/linux/skbuff.h): 0 on x86, 2 on most others. */
  readonly netIpAlign: number;
  /** true on little-endian machines: decides the pkt_type bitfield access and host-endian netlink headers. */
  readonly littleEndian: boolean;
  /** CONFIG_BPF_JIT_ALWAYS_ON (kernel/bpf/core.c:2373). */
  readonly jitAlwaysOn: boolean;
  /** Whether the eBPF JIT succeeds for the migrated program (bpf_int_jit_compile). */
  readonly jitAvailable: boolean;
  /** net.core.optmem_max, the socket option memory limit (net/core/filter.c:1229). v6.6 default 20480. */
  readonly optmemMax: number;
  /** Which load-helper body the kernel has. */
  readonly loadHelpers: LoadHelperVersion;
  /**
   * sizeof(struct bpf_prog) = offsetof(struct bpf_prog, insns), the header bpf_prog_size adds to
   * 8 bytes per eBPF insn for the socket charge (include/linux/filter.h bpf_prog_size). 72 on v6.6
   * x86-64 (derived, model/ebpf/layout.ts); 96 measured on a live 6.18 (the oracle's probe).
   */
  readonly bpfProgHeaderSize: number;
  /**
   * A historical bug to reintroduce (model/variants.ts); absent = the fixed v6.6 model. Each variant is
   * consulted at one decision point only.
   */
  readonly variant?: VariantName;
}

/** Linux v6.6.0 on x86-64 with a distribution configuration. */
export const X86_64: KernelConfig = {
  arch: 'x86_64',
  efficientUnalignedAccess: true,
  netIpAlign: 0,
  littleEndian: true,
  jitAlwaysOn: true,
  jitAvailable: true,
  optmemMax: 20480,
  loadHelpers: 'v6.6.0',
  bpfProgHeaderSize: 72,
};

/** A 64-bit little-endian machine without efficient unaligned access (NET_IP_ALIGN 2), e.g. riscv64. */
export const STRICT_ALIGN_64: KernelConfig = {
  ...X86_64,
  arch: 'riscv64',
  efficientUnalignedAccess: false,
  netIpAlign: 2,
};

export const ARCHES: Readonly<Record<string, KernelConfig>> = {
  x86_64: X86_64,
  // arm64 keeps the generic NET_IP_ALIGN 2; it only matters without efficient unaligned access.
  arm64: { ...X86_64, arch: 'arm64', netIpAlign: 2 },
  riscv64: STRICT_ALIGN_64,
};

export const DEFAULT_CONFIG = X86_64;
