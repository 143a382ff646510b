// Numbers of the seccomp user-space API, Linux v6.6: include/uapi/linux/seccomp.h,
// include/uapi/linux/audit.h (AUDIT_ARCH_*), include/uapi/linux/elf-em.h (EM_*), include/linux/err.h.
// Citations: kernel/seccomp.c and the uapi/arch headers at the snapshot dda72fb05f8a, net/core/filter.c
// at 79226fb0ba80 (the socket model's); model/seccomp/README.md says which tree each file comes from.

// include/uapi/linux/seccomp.h:9 seccomp.mode
export const SECCOMP_MODE_DISABLED = 0;
export const SECCOMP_MODE_STRICT = 1;
export const SECCOMP_MODE_FILTER = 2;

// include/uapi/linux/seccomp.h:15 operations of seccomp(2)
export const SECCOMP_SET_MODE_STRICT = 0;
export const SECCOMP_SET_MODE_FILTER = 1;
export const SECCOMP_GET_ACTION_AVAIL = 2;
export const SECCOMP_GET_NOTIF_SIZES = 3;

// include/uapi/linux/seccomp.h:21 flags of SECCOMP_SET_MODE_FILTER
export const SECCOMP_FILTER_FLAG_TSYNC = 1 << 0;
export const SECCOMP_FILTER_FLAG_LOG = 1 << 1;
export const SECCOMP_FILTER_FLAG_SPEC_ALLOW = 1 << 2;
export const SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3;
export const SECCOMP_FILTER_FLAG_TSYNC_ESRCH = 1 << 4;
export const SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 1 << 5;
/** include/linux/seccomp.h SECCOMP_FILTER_FLAG_MASK: every flag above (0x3f in v6.6). */
export const SECCOMP_FILTER_FLAG_MASK = 0x3f;

// include/uapi/linux/seccomp.h:38 return values: the upper 16 bits order the actions, compared as s32
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_KILL = SECCOMP_RET_KILL_THREAD;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;

// include/uapi/linux/seccomp.h:49 masks
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_ACTION = 0x7fff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;

/** The kernel's names of the actions (kernel/seccomp.c:2235 SECCOMP_RET_*_NAME, /proc/sys/kernel/seccomp/actions_avail). */
export type ActionName = 'kill_process' | 'kill_thread' | 'trap' | 'errno' | 'user_notif' | 'trace' | 'log' | 'allow';

export const ACTIONS: readonly { readonly name: ActionName; readonly value: number }[] = [
  { name: 'kill_process', value: SECCOMP_RET_KILL_PROCESS },
  { name: 'kill_thread', value: SECCOMP_RET_KILL_THREAD },
  { name: 'trap', value: SECCOMP_RET_TRAP },
  { name: 'errno', value: SECCOMP_RET_ERRNO },
  { name: 'user_notif', value: SECCOMP_RET_USER_NOTIF },
  { name: 'trace', value: SECCOMP_RET_TRACE },
  { name: 'log', value: SECCOMP_RET_LOG },
  { name: 'allow', value: SECCOMP_RET_ALLOW },
];

/** The value of an action name, or undefined (a Map: user strings are never object keys). */
export const ACTION_BY_NAME: ReadonlyMap<string, number> = new Map(ACTIONS.map((a) => [a.name, a.value]));

/**
 * struct seccomp_data (include/uapi/linux/seccomp.h:62): int nr; __u32 arch; __u64 instruction_pointer;
 * __u64 args[6]. Offsets and sizeof, the same on every architecture.
 */
export const SECCOMP_DATA_NR = 0;
export const SECCOMP_DATA_ARCH = 4;
export const SECCOMP_DATA_IP = 8;
export const SECCOMP_DATA_ARGS = 16;
export const SIZEOF_SECCOMP_DATA = 64;

/** include/linux/err.h:18 MAX_ERRNO: SECCOMP_RET_ERRNO's data is capped to it. */
export const MAX_ERRNO = 4095;

/** kernel/seccomp.c:240 MAX_INSNS_PER_PATH = (1 << 18) / sizeof(struct sock_filter): 32768. */
export const MAX_INSNS_PER_PATH = (1 << 18) / 8;

// include/uapi/linux/elf-em.h
export const EM_386 = 3;
export const EM_MIPS = 8;
export const EM_PPC64 = 21;
export const EM_S390 = 22;
export const EM_ARM = 40;
export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
export const EM_RISCV = 243;
export const EM_LOONGARCH = 258;

// include/uapi/linux/audit.h:385
export const AUDIT_ARCH_64BIT = 0x80000000;
export const AUDIT_ARCH_LE = 0x40000000;

// include/uapi/linux/audit.h:388-443 (as u32)
export const AUDIT_ARCH_X86_64 = (EM_X86_64 | AUDIT_ARCH_64BIT | AUDIT_ARCH_LE) >>> 0; // 0xc000003e
export const AUDIT_ARCH_I386 = (EM_386 | AUDIT_ARCH_LE) >>> 0; // 0x40000003
export const AUDIT_ARCH_AARCH64 = (EM_AARCH64 | AUDIT_ARCH_64BIT | AUDIT_ARCH_LE) >>> 0; // 0xc00000b7
export const AUDIT_ARCH_ARM = (EM_ARM | AUDIT_ARCH_LE) >>> 0; // 0x40000028
export const AUDIT_ARCH_RISCV64 = (EM_RISCV | AUDIT_ARCH_64BIT | AUDIT_ARCH_LE) >>> 0; // 0xc00000f3
export const AUDIT_ARCH_S390X = (EM_S390 | AUDIT_ARCH_64BIT) >>> 0; // 0x80000016
export const AUDIT_ARCH_PPC64 = (EM_PPC64 | AUDIT_ARCH_64BIT) >>> 0; // 0x80000015
export const AUDIT_ARCH_PPC64LE = (EM_PPC64 | AUDIT_ARCH_64BIT | AUDIT_ARCH_LE) >>> 0; // 0xc0000015
export const AUDIT_ARCH_MIPSEL64 = (EM_MIPS | AUDIT_ARCH_64BIT | AUDIT_ARCH_LE) >>> 0; // 0xc0000008
export const AUDIT_ARCH_LOONGARCH64 = (EM_LOONGARCH | AUDIT_ARCH_64BIT | AUDIT_ARCH_LE) >>> 0; // 0xc0000102

/** arch/x86/include/uapi/asm/unistd.h __X32_SYSCALL_BIT: x32 system call numbers carry it. */
export const X32_SYSCALL_BIT = 0x40000000;

// include/uapi/asm-generic/siginfo.h:306 SYS_SECCOMP, the si_code of a seccomp SIGSYS
export const SYS_SECCOMP = 1;
/** SIGSYS on x86 and arm64 (arch/x86/include/uapi/asm/signal.h). */
export const SIGSYS = 31;
/** include/uapi/asm-generic/errno.h ENOSYS. */
export const ENOSYS = 38;
/** include/uapi/asm-generic/errno-base.h EACCES. */
export const EACCES = 13;
/** include/uapi/asm-generic/errno-base.h EBUSY. */
export const EBUSY = 16;
