// Which kernel: one record of every decision the modelled code takes differently from one kernel,
// architecture, build or historical bug to another, each field citing the kernel line it stands
// for. Every evaluator reads the same record: the classic evaluator, the checker, the converter,
// the load helpers, netlink, the runtime selection, the charge, and both compiled backends. A named
// kernel profile is a preset of the record (PROFILES: v6.6.0, v6.6.y, v6.18; `live` is probed from
// the running kernel by oracle/kernel/params.ts); an architecture a preset of its arch facts
// (ARCHES); a historical bug a preset that flips a few fields (model/variants.ts). Always passed
// explicitly; never a global.
//
// Line references: F = net/core/filter.c, C = kernel/bpf/core.c of the 6.6.y tree the model cites
// (eclipse-oniro-mirrors/kernel_linux_6.6); "3.14:" = the last pre-eBPF net/core/filter.c (as in
// model/cbpf/eval.ts).
import type { VariantName } from './variants.js';
import { JIT_V6_6_0, JIT_V6_6_Y, JIT_V6_18, MACHINE_AMD_EPYC_VM_ROOT, x86JitFacts, type X86JitFacts } from './jit/facts.js';
import { HOST_V6_18_X86_64, HOST_V6_6_AARCH64, HOST_V6_6_RISCV64, HOST_V6_6_X86_64, type SeccompHost } from './seccomp/host.js';

/** Which body of bpf_skb_load_helper_{8,16,32} the kernel has (F:228, F:253, F:278). */
export type LoadHelperVersion =
  /** pristine v6.6.0: negative offsets go through bpf_internal_load_pointer_neg_helper (linear area only) */
  | 'v6.6.0'
  /** 6.6.y after the 2025 backport of d4bac0288a2b, and 6.15+: negative offsets are converted and may read frags */
  | 'backport';

/** How bpf_prog_select_runtime sets jit_needed before the JIT runs (C:2368). */
export type JitNeeded =
  /** v6.6.0: `bool jit_needed = false;`, then true only under CONFIG_BPF_JIT_ALWAYS_ON (a failed JIT falls back to the interpreter otherwise) */
  | 'always-on'
  /** 6.6.y after 86bc9c742426 "bpf: Avoid __bpf_prog_ret0_warn when jit fails" (6.16, stable June 2025): `bool jit_needed = fp->jit_requested;`, so a failed JIT is -ENOTSUPP whenever the JIT was requested */
  | 'jit-requested';

export interface KernelConfig {
  /** The profile this record came from (v6.6.0, v6.6.y, v6.18, live), or a name its maker gave. */
  readonly profile: string;

  // ---- Architecture facts (include/linux/..., arch/*/Kconfig) --------------------------------
  /** Name of the architecture the facts below describe. */
  readonly arch: string;
  /** CONFIG_HAVE_EFFICIENT_UNALIGNED_ACCESS (convert_bpf_ld_abs fast path, F:487). */
  readonly efficientUnalignedAccess: boolean;
  /** NET_IP_ALIGN (include/linux/skbuff.h): 0 on x86, 2 on most others. */
  readonly netIpAlign: number;
  /** true on little-endian machines: decides the pkt_type bitfield access and host-endian netlink headers. */
  readonly littleEndian: boolean;

  // ---- bpf_check_classic (F:1066) -------------------------------------------------------------
  /** F:1089 `if (ftest->k >= 32) return -EINVAL` for LSH_K/RSH_K (false: the 3.14 checker, variant shift-k-unchecked). */
  readonly checkShiftK: boolean;
  /** F:1137 `return check_load_and_stores(filter, flen)` (false: before 2.6.37, variant no-check-load-and-stores). */
  readonly checkLoadAndStores: boolean;

  // ---- bpf_convert_filter (F:593) -------------------------------------------------------------
  /** F:680 the `JNE X, 0, +2; A ^= A; EXIT` guard before DIV_X/MOD_X (false: variant div-x-no-zero-guard). */
  readonly divXGuard: boolean;
  /** F:496 `bool ldx_off_ok = offset <= S16_MAX` (false: every LD ABS offset taken as an s16, variant ld-abs-s16-offset). */
  readonly ldxOffOk: boolean;

  // ---- Helpers the migrated program calls ------------------------------------------------------
  /** Which load-helper body the kernel has (F:228). */
  readonly loadHelpers: LoadHelperVersion;
  /**
   * F:204 bpf_skb_get_nlattr_nest with nla_find_nested's nla_len(): 'int' in v6.6 (nla_len < 4
   * walks nothing), 'u16' in 6.8-rc after 172db56d90d2 until "bpf: use nla_ok() instead of checking
   * nla_len directly" (variant nlattr-nest-unsigned-len: nla_len < 4 walks ~64 KiB).
   */
  readonly nlattrNestLen: 'int' | 'u16';

  // ---- Runtime selection: bpf_prog_select_runtime (C:2363) -------------------------------------
  /** CONFIG_BPF_JIT_ALWAYS_ON (C:2373): the interpreter is not built and every program must be JITed. */
  readonly jitAlwaysOn: boolean;
  /**
   * fp->jit_requested = ebpf_jit_enabled() (C:117 in bpf_prog_alloc_no_stats; include/linux/filter.h:
   * bpf_jit_enable && the arch has an eBPF JIT): net.core.bpf_jit_enable != 0 (forced to 1 under
   * ALWAYS_ON). Without it bpf_int_jit_compile returns the program unJITed.
   */
  readonly jitRequested: boolean;
  /** How jit_needed is set (C:2368): v6.6.0 vs the 6.6.y backport. */
  readonly jitNeeded: JitNeeded;
  /**
   * Whether bpf_int_jit_compile (arch/x86/net/bpf_jit_comp.c) produces an image when it runs. An
   * input of the model until the x86-64 JIT's own acceptance is modelled (model/jit/).
   */
  readonly jitAvailable: boolean;

  // ---- Constant blinding (model/jit/blind.ts) ----------------------------------------------------
  /**
   * net.core.bpf_jit_harden (kernel/bpf/core.c:565 `int bpf_jit_harden`, default 0): 1 blinds the
   * programs of tasks that are not bpf_capable(), 2 every program (include/linux/filter.h:1099
   * bpf_jit_blinding_enabled, read when the program is allocated). A blinded program is longer, and
   * that longer program is what __sk_filter_charge charges.
   */
  readonly bpfJitHarden: number;
  /**
   * bpf_capable() of the task attaching the filter: CAP_BPF or CAP_SYS_ADMIN in the initial user
   * namespace (include/linux/capability.h; 6.18: bpf_token_capable(NULL, CAP_BPF)). true for root.
   */
  readonly bpfCapable: boolean;

  // ---- The socket charge: __sk_filter_charge (F:1226) ------------------------------------------
  /** net.core.optmem_max (F:1229): 20480 on 64-bit until 4944566706b2 (v6.8) made it 131072. */
  readonly optmemMax: number;
  /**
   * sizeof(struct bpf_prog) = offsetof(struct bpf_prog, insns), the header bpf_prog_size adds to 8
   * bytes per eBPF insn for the charge (include/linux/filter.h bpf_prog_size). 72 on v6.6 x86-64
   * (derived, model/ebpf/layout.ts); 96 measured on a live 6.18 (the oracle's probe).
   */
  readonly bpfProgHeaderSize: number;

  // ---- What the migrated program does at the classic decision points (ClassicSemantics) ---------
  // The kernel path's own answer is what the converter emits; these fields are what it amounts to,
  // for the catalogue's predictions (kernelSemantics). The classic evaluator runs with the 3.14
  // answers (model/cbpf/eval.ts CLASSIC).
  /** IFINDEX/HATYPE with skb->dev NULL: `JNE TMP, 0, +1; EXIT` returns the current A (F:377). */
  readonly devNull: 'return0' | 'returnA';
  /** NLATTR/NLATTR_NEST guard failures: the helpers return 0 into A and the program goes on (F:170). */
  readonly nlattrGuard: 'return0' | 'zeroContinue';
  /** VLAN_TAG the full TCI, VLAN_TAG_PRESENT vlan_all != 0 (F:331, F:338). */
  readonly vlanTag: 'classic' | 'v6.6';
  /** SKF_LL_OFF loads without a mac header fail (C:81). */
  readonly macUnset: 'v3.14' | 'fail';

  // ---- The classic evaluator's own decisions (3.14 sk_run_filter; other implementations flip them) ----
  /** 3.14 DIV_K `A /= K` ('divide'); before 3.14 `A = reciprocal_divide(A, K)` ('reciprocal', variant reciprocal-divide). */
  readonly classicDivK: 'divide' | 'reciprocal';
  /** 3.14 NLATTR/NEST guards with the `skb->len < sizeof(struct nlattr)` tests ('checked'); before CVE-2014-3144/3145 ('unchecked', variant nlattr-no-len-guard). */
  readonly classicNlattrGuards: 'checked' | 'unchecked';
  /** 3.14 TAX `X = A` ('x-from-a'); gVisor's pkg/bpf does A = X ('a-from-x', variant impl-gvisor-tax-txa-swapped). */
  readonly classicTax: 'x-from-a' | 'a-from-x';
  /** 3.14 TXA `A = X` ('a-from-x'); gVisor's pkg/bpf does X = A ('x-from-a', variant impl-gvisor-tax-txa-swapped). */
  readonly classicTxa: 'a-from-x' | 'x-from-a';
  /** 3.14 LSH_X/RSH_X by X >= 32: x86 masks the count ('mask'); libpcap's bpf_filter gives 0 ('zero', variant impl-libpcap-shift-x-ge-32). */
  readonly classicShiftX: 'mask' | 'zero';
  /** 3.14 LD IND `k = X + K` in u32 arithmetic ('wrap'); BSD bpf_filter fails a sum past 2^32 ('no-wrap', variant impl-bsd-ind-no-wrap). */
  readonly classicIndSum: 'wrap' | 'no-wrap';

  // ---- seccomp (kernel/seccomp.c; model/seccomp/, ws-seccomp) ------------------------------------
  /**
   * The action cache's architectures and bitmap sizes (arch/<arch>/include/asm/seccomp.h
   * SECCOMP_ARCH_NATIVE/COMPAT and their _NR) and the numbers it lets through whatever the filters
   * say (seccomp_uprobe_exception, 6.13+): model/seccomp/host.ts. Per kernel and architecture:
   * `withArch` does not change it (the seccomp commands pick the host of the ABI they run).
   */
  readonly seccompHost: SeccompHost;

  // ---- The x86-64 JIT (arch/x86/net/bpf_jit_comp.c; model/jit/) ---------------------------------
  /**
   * The facts the x86-64 JIT's lengths depend on (model/jit/facts.ts: the short-jump limit of
   * c8831bdbfbab, the BHB barrier, IBT/ENDBR and CFI, call depth accounting, the return thunk, SLS,
   * BMI2, the caller's CAP_SYS_ADMIN). With them (and arch x86_64) bpf_prog_select_runtime runs the
   * JIT's passes on the migrated program (bpf_int_jit_compile, model/jit/x86.ts) and a program it
   * cannot compile is not JITed. null: the JIT's acceptance is not modelled and `jitAvailable` alone
   * decides (another architecture, or a live kernel whose facts were not probed).
   */
  readonly x86Jit: X86JitFacts | null;

  /**
   * The historical bug this record reintroduces (model/variants.ts), as a label: the fields above
   * carry its effect. Absent: the fixed kernel.
   */
  readonly variant?: VariantName;
}

// A null-prototype lookup table: user-chosen names (profiles, arches) never reach Object.prototype.
function table<T>(entries: Record<string, T>): Readonly<Record<string, T>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, T>, entries));
}

/** The fixed decisions every profile shares (the fields variants flip). */
const FIXED = {
  checkShiftK: true,
  checkLoadAndStores: true,
  divXGuard: true,
  ldxOffOk: true,
  nlattrNestLen: 'int',
  devNull: 'returnA',
  nlattrGuard: 'zeroContinue',
  vlanTag: 'v6.6',
  macUnset: 'fail',
  classicDivK: 'divide',
  classicNlattrGuards: 'checked',
  classicTax: 'x-from-a',
  classicTxa: 'a-from-x',
  classicShiftX: 'mask',
  classicIndSum: 'wrap',
} as const satisfies Partial<KernelConfig>;

/** The architecture facts of x86-64. */
const X86_64_FACTS = { arch: 'x86_64', efficientUnalignedAccess: true, netIpAlign: 0, littleEndian: true } as const;

/**
 * Linux v6.6.0, the release, on x86-64 with a distribution configuration (CONFIG_BPF_JIT_ALWAYS_ON=y,
 * bpf_jit_enable 1): the load helpers without d4bac0288a2b, jit_needed from ALWAYS_ON only,
 * optmem_max 20480, struct bpf_prog 72 bytes.
 */
export const PROFILE_V6_6_0: KernelConfig = Object.freeze({
  profile: 'v6.6.0',
  ...X86_64_FACTS,
  ...FIXED,
  loadHelpers: 'v6.6.0',
  jitAlwaysOn: true,
  jitRequested: true,
  jitNeeded: 'always-on',
  jitAvailable: true,
  // the JIT of v6.6.0 (is_imm8's 127-byte limit, no BHB barrier) on the machine model/jit/facts.ts
  // describes (no IBT, no return thunk, BMI2, a CAP_SYS_ADMIN caller)
  x86Jit: x86JitFacts(JIT_V6_6_0, MACHINE_AMD_EPYC_VM_ROOT),
  optmemMax: 20480,
  bpfProgHeaderSize: 72,
  // the sysctl's default (kernel/bpf/core.c:565) and a caller with CAP_BPF (root): nothing is blinded
  bpfJitHarden: 0,
  bpfCapable: true,
  seccompHost: HOST_V6_6_X86_64,
});

/**
 * The 6.6.y stable tree the model's citations come from, with the backports that change what the
 * model observes: d4bac0288a2b (load helpers read frags at negative offsets, 2025) and 86bc9c742426
 * (jit_needed = fp->jit_requested, June 2025). optmem_max stays 20480 (4944566706b2 is v6.8, not
 * backported); struct bpf_prog as v6.6.0.
 */
export const PROFILE_V6_6_Y: KernelConfig = Object.freeze({
  ...PROFILE_V6_6_0,
  profile: 'v6.6.y',
  loadHelpers: 'backport',
  jitNeeded: 'jit-requested',
  // c8831bdbfbab (123-byte limit, 6.6.y since October 2024) and the BHB barrier (6.6.91)
  x86Jit: x86JitFacts(JIT_V6_6_Y, MACHINE_AMD_EPYC_VM_ROOT),
});

/**
 * Linux 6.18 on x86-64, this machine's kernel (6.18.44): sizeof(struct bpf_prog) 96 and optmem_max
 * 131072 (both measured live), the load helpers of 6.15+, jit_needed = fp->jit_requested, JIT always on.
 */
export const PROFILE_V6_18: KernelConfig = Object.freeze({
  ...PROFILE_V6_6_Y,
  profile: 'v6.18',
  optmemMax: 131072,
  bpfProgHeaderSize: 96,
  // the JIT facts measured on this machine's 6.18.44 (oracle/kernel/jitfacts.ts)
  x86Jit: x86JitFacts(JIT_V6_18, MACHINE_AMD_EPYC_VM_ROOT),
  seccompHost: HOST_V6_18_X86_64,
});

/** The profiles by name (`--kernel NAME`); `live` is made from the running kernel (oracle/kernel/params.ts). */
export const PROFILES: ReadonlyMap<string, KernelConfig> = new Map([
  ['v6.6.0', PROFILE_V6_6_0],
  ['v6.6.y', PROFILE_V6_6_Y],
  ['v6.18', PROFILE_V6_18],
]);

/** Every name `--kernel` takes. */
export const PROFILE_NAMES: readonly string[] = [...PROFILES.keys(), 'live'];

/**
 * The default profile: v6.6.y, because the model's line citations come from that tree, so a reader
 * who puts the cited file beside the model sees the code the model runs (v6.6.0 differs from it in
 * the load helpers and jit_needed).
 */
export const DEFAULT_PROFILE = 'v6.6.y';

/** The architectures' facts by name (`--arch NAME`). */
export const ARCH_FACTS: ReadonlyMap<string, Pick<KernelConfig, 'arch' | 'efficientUnalignedAccess' | 'netIpAlign' | 'littleEndian'>> = new Map([
  ['x86_64', X86_64_FACTS],
  // arm64 keeps the generic NET_IP_ALIGN 2; it only matters without efficient unaligned access.
  ['arm64', { arch: 'arm64', efficientUnalignedAccess: true, netIpAlign: 2, littleEndian: true }],
  // a 64-bit little-endian machine without efficient unaligned access (NET_IP_ALIGN 2)
  ['riscv64', { arch: 'riscv64', efficientUnalignedAccess: false, netIpAlign: 2, littleEndian: true }],
]);

/** A profile by name, or undefined (Map lookup: any string is safe). */
export const kernelProfile = (name: string): KernelConfig | undefined => PROFILES.get(name);

/** `config` with the facts of architecture `arch` (undefined for an unknown name). */
export function withArch(config: KernelConfig, arch: string): KernelConfig | undefined {
  const facts = ARCH_FACTS.get(arch);
  return facts === undefined ? undefined : { ...config, ...facts };
}

/** The default profile on x86-64. */
export const DEFAULT_CONFIG: KernelConfig = PROFILE_V6_6_Y;

/** Linux v6.6.0 on x86-64 (the profile v6.6.0; tests name the release they mean). */
export const X86_64: KernelConfig = PROFILE_V6_6_0;

/** v6.6.0 on a 64-bit little-endian machine without efficient unaligned access (NET_IP_ALIGN 2), e.g. riscv64. */
export const STRICT_ALIGN_64: KernelConfig = Object.freeze({ ...PROFILE_V6_6_0, ...ARCH_FACTS.get('riscv64')!, seccompHost: HOST_V6_6_RISCV64 });

/** v6.6.0 per architecture (null prototype: look names up safely). */
export const ARCHES: Readonly<Record<string, KernelConfig | undefined>> = table<KernelConfig>({
  x86_64: X86_64,
  arm64: Object.freeze({ ...PROFILE_V6_6_0, ...ARCH_FACTS.get('arm64')!, seccompHost: HOST_V6_6_AARCH64 }),
  riscv64: STRICT_ALIGN_64,
});

/** The decision fields a historical variant may flip, with their fixed values. */
export const FIXED_DECISIONS: Readonly<Partial<KernelConfig>> = Object.freeze({ ...FIXED });
