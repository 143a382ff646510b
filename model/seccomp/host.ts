// The facts about the running kernel that seccomp's decisions branch on, per kernel build: the
// native and compat architectures of the action cache with their system call counts
// (arch/*/include/asm/seccomp.h SECCOMP_ARCH_NATIVE{,_NR}, SECCOMP_ARCH_COMPAT{,_NR}) and the numbers
// the cache always allows whatever the filters say (seccomp_uprobe_exception, after v6.6).
// A record of data, passed explicitly; never a global. The kernel profiles carry it
// (model/kernel.ts KernelConfig.seccompHost: v6.6.0 and v6.6.y HOST_V6_6_X86_64, v6.18 HOST_V6_18_X86_64,
// arm64 and riscv64 their v6.6 hosts); the presets are defined here, beside their type.
// Citations: kernel/seccomp.c and the uapi/arch headers at the snapshot dda72fb05f8a, net/core/filter.c
// at 79226fb0ba80 (the socket model's); model/seccomp/README.md says which tree each file comes from.
import { AUDIT_ARCH_AARCH64, AUDIT_ARCH_ARM, AUDIT_ARCH_I386, AUDIT_ARCH_RISCV64, AUDIT_ARCH_X86_64 } from './uapi.js';

export interface SeccompCacheArch {
  /** the AUDIT_ARCH_* value sd->arch must equal for this bitmap */
  readonly audit: number;
  /** bits of the bitmap: the architecture's number of system calls */
  readonly nr: number;
}

export interface SeccompHost {
  readonly name: string;
  /** SECCOMP_ARCH_NATIVE / SECCOMP_ARCH_NATIVE_NR, or null when the kernel has no action cache */
  readonly native: SeccompCacheArch | null;
  /** SECCOMP_ARCH_COMPAT / SECCOMP_ARCH_COMPAT_NR (CONFIG_COMPAT), or null */
  readonly compat: SeccompCacheArch | null;
  /**
   * seccomp_uprobe_exception (kernel/seccomp.c of v6.13+, not in v6.6): native system calls the
   * cache emulator reports as always allowed before looking at the filter: __NR_uretprobe (x86-64
   * 335, since the 2025 "seccomp: passthrough uretprobe systemcall without filtering"), and
   * __NR_uprobe (336, with the uprobe system call in 6.18).
   */
  readonly uprobeException: readonly number[];
}

/**
 * Linux v6.6 on x86-64 with IA32 emulation (arch/x86/include/asm/seccomp.h:20-26): native x86_64 with
 * NR_syscalls = 454 (syscall_64.tbl ends at 453 map_shadow_stack), compat i386 with IA32_NR_syscalls =
 * 453 (syscall_32.tbl ends at 452 fchmodat2). x32 numbers (bit 30) are out of range: never cached.
 */
export const HOST_V6_6_X86_64: SeccompHost = {
  name: 'v6.6-x86_64',
  native: { audit: AUDIT_ARCH_X86_64, nr: 454 },
  compat: { audit: AUDIT_ARCH_I386, nr: 453 },
  uprobeException: [],
};

/** Linux v6.6 on arm64 (arch/arm64/include/asm/seccomp.h:22-28): aarch64 __NR_syscalls 453, arm __NR_compat_syscalls 453. */
export const HOST_V6_6_AARCH64: SeccompHost = {
  name: 'v6.6-aarch64',
  native: { audit: AUDIT_ARCH_AARCH64, nr: 453 },
  compat: { audit: AUDIT_ARCH_ARM, nr: 453 },
  uprobeException: [],
};

/** Linux v6.6 on riscv64 without CONFIG_COMPAT (arch/riscv/include/asm/seccomp.h). */
export const HOST_V6_6_RISCV64: SeccompHost = {
  name: 'v6.6-riscv64',
  native: { audit: AUDIT_ARCH_RISCV64, nr: 453 },
  compat: null,
  uprobeException: [],
};

/**
 * A 6.18 x86-64 kernel (the machine bpfspec's kdiff runs on), read in the 6.18.y tree
 * leftymods/linux-6.18.y @ 40a9e9f43 (Makefile 6.18.35): syscall_64.tbl's last native number is 469
 * (file_setattr) and syscall_32.tbl's 469, so NR_syscalls = IA32_NR_syscalls = 470; kernel/seccomp.c:744
 * seccomp_uprobe_exception lets __NR_uretprobe (335) and __NR_uprobe (336) of the native arch through
 * (seccomp_is_const_allow :781 asks it first).
 */
export const HOST_V6_18_X86_64: SeccompHost = {
  name: 'v6.18-x86_64',
  native: { audit: AUDIT_ARCH_X86_64, nr: 470 },
  compat: { audit: AUDIT_ARCH_I386, nr: 470 },
  uprobeException: [335, 336],
};

export const SECCOMP_HOSTS: ReadonlyMap<string, SeccompHost> = new Map(
  [HOST_V6_6_X86_64, HOST_V6_6_AARCH64, HOST_V6_6_RISCV64, HOST_V6_18_X86_64].map((h) => [h.name, h]),
);

/** The v6.6 host an ABI's system calls run on (i386 and x32 on x86-64, arm on arm64), or null. */
export function hostOfAbi(host: string): SeccompHost | null {
  if (host === 'x86_64') return HOST_V6_6_X86_64;
  if (host === 'aarch64') return HOST_V6_6_AARCH64;
  if (host === 'riscv64') return HOST_V6_6_RISCV64;
  return null;
}
