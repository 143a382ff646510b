// struct seccomp_data as the kernel fills it for each system call (kernel/seccomp.c:246
// populate_seccomp_data), per architecture and entry: the number, the AUDIT_ARCH_* value, the six
// arguments as 64-bit values and the instruction pointer, with the truncations and widths of each
// entry path. Pure data and functions; the memory image the migrated program reads is in ./memory.ts.
// Citations: kernel/seccomp.c and the uapi/arch headers at the snapshot dda72fb05f8a, net/core/filter.c
// at 79226fb0ba80 (the socket model's); model/seccomp/README.md says which tree each file comes from.
import {
  AUDIT_ARCH_AARCH64,
  AUDIT_ARCH_ARM,
  AUDIT_ARCH_I386,
  AUDIT_ARCH_LOONGARCH64,
  AUDIT_ARCH_PPC64,
  AUDIT_ARCH_PPC64LE,
  AUDIT_ARCH_RISCV64,
  AUDIT_ARCH_S390X,
  AUDIT_ARCH_X86_64,
  SECCOMP_DATA_ARCH,
  SECCOMP_DATA_ARGS,
  SECCOMP_DATA_IP,
  SECCOMP_DATA_NR,
  SIZEOF_SECCOMP_DATA,
  X32_SYSCALL_BIT,
} from './uapi.js';

/** include/uapi/linux/seccomp.h:62 struct seccomp_data (u64 fields as bigint, normalised to 0..2^64-1). */
export interface SeccompData {
  /** int nr: the system call number (s32) */
  readonly nr: number;
  /** __u32 arch: an AUDIT_ARCH_* value */
  readonly arch: number;
  /** __u64 instruction_pointer */
  readonly instructionPointer: bigint;
  /** __u64 args[6] */
  readonly args: readonly bigint[];
}

const U64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const U32 = (v: bigint): bigint => BigInt.asUintN(32, v);

/** A seccomp_data from its fields (missing arguments are 0; values normalised to their C widths). */
export function seccompData(nr: number, arch: number, args: readonly bigint[] = [], ip = 0n): SeccompData {
  if (args.length > 6) throw new RangeError(`seccomp_data has 6 arguments, got ${args.length}`);
  const a = [0n, 0n, 0n, 0n, 0n, 0n];
  args.forEach((v, i) => (a[i] = U64(v)));
  return { nr: nr | 0, arch: arch >>> 0, instructionPointer: U64(ip), args: a };
}

/** How a system call reaches populate_seccomp_data on one architecture and entry path. */
export interface SeccompAbi {
  /** the name users give (--arch) */
  readonly name: string;
  /** the AUDIT_ARCH_* value syscall_get_arch returns */
  readonly audit: number;
  /** byte order of struct seccomp_data in memory (the filter loads native-endian words) */
  readonly littleEndian: boolean;
  /** bits of the argument registers syscall_get_arguments reads (32 for a 32-bit process: upper halves 0) */
  readonly argBits: 32 | 64;
  /** the name of the system call table in ./syscalls.ts, or null */
  readonly table: string | null;
  /** the kernel this ABI runs on, and whether it is that kernel's native or compat ABI (the cache, ./cache.ts) */
  readonly host: string;
  readonly compat: boolean;
  /** the kernel lines that fill seccomp_data for it */
  readonly at: string;
  readonly note: string;
}

/**
 * The ABIs bpfspec fills seccomp_data for. x86-64 lines are arch/x86/include/asm/syscall.h (6.6.y):
 * syscall_get_nr :37 returns (int)regs->orig_ax; syscall_get_arguments :97 reads di, si, dx, r10, r8, r9
 * (bx, cx, dx, si, di, bp with TS_COMPAT); syscall_get_arch :121 (AUDIT_ARCH_I386 with TS_COMPAT, else
 * X86_64: x32 tasks are X86_64). arm64: arch/arm64/include/asm/syscall.h (syscallno, orig_x0, x1..x5;
 * AUDIT_ARCH_ARM for compat tasks).
 */
export const ABIS: readonly SeccompAbi[] = [
  {
    name: 'x86_64',
    audit: AUDIT_ARCH_X86_64,
    littleEndian: true,
    argBits: 64,
    table: 'x86_64',
    host: 'x86_64',
    compat: false,
    at: 'arch/x86/include/asm/syscall.h:97',
    note: 'SYSCALL: nr = (int)rax, args rdi rsi rdx r10 r8 r9',
  },
  {
    name: 'i386',
    audit: AUDIT_ARCH_I386,
    littleEndian: true,
    argBits: 32,
    table: 'i386',
    host: 'x86_64',
    compat: true,
    at: 'arch/x86/include/asm/syscall.h:101',
    note: 'a 32-bit process (IA32 emulation): nr = eax, args ebx ecx edx esi edi ebp, upper halves 0',
  },
  {
    name: 'i386-int80',
    audit: AUDIT_ARCH_I386,
    littleEndian: true,
    argBits: 64,
    table: 'i386',
    host: 'x86_64',
    compat: true,
    at: 'arch/x86/entry/common.c int80_emulation',
    note: 'INT 0x80 from 64-bit code: nr = eax (orig_ax = ax & 0xffffffff), args are the full 64-bit rbx rcx rdx rsi rdi rbp',
  },
  {
    name: 'x32',
    audit: AUDIT_ARCH_X86_64,
    littleEndian: true,
    argBits: 64,
    table: 'x32',
    host: 'x86_64',
    compat: false,
    at: 'arch/x86/include/asm/syscall.h:121',
    note: 'SYSCALL with __X32_SYSCALL_BIT in nr; arch is AUDIT_ARCH_X86_64',
  },
  {
    name: 'aarch64',
    audit: AUDIT_ARCH_AARCH64,
    littleEndian: true,
    argBits: 64,
    table: 'aarch64',
    host: 'aarch64',
    compat: false,
    at: 'arch/arm64/include/asm/syscall.h:70',
    note: 'SVC: nr = w8 (syscallno), args orig_x0 x1..x5',
  },
  {
    name: 'arm',
    audit: AUDIT_ARCH_ARM,
    littleEndian: true,
    argBits: 32,
    table: null,
    host: 'aarch64',
    compat: true,
    at: 'arch/arm64/include/asm/syscall.h:82',
    note: 'AArch32 (compat) task on arm64: 32-bit registers',
  },
  { name: 'riscv64', audit: AUDIT_ARCH_RISCV64, littleEndian: true, argBits: 64, table: 'aarch64', host: 'riscv64', compat: false, at: 'arch/riscv/include/asm/syscall.h', note: 'asm-generic numbers (riscv adds riscv_* calls from 244)' },
  { name: 'loongarch64', audit: AUDIT_ARCH_LOONGARCH64, littleEndian: true, argBits: 64, table: null, host: 'loongarch64', compat: false, at: 'arch/loongarch/include/asm/syscall.h', note: '' },
  { name: 'ppc64le', audit: AUDIT_ARCH_PPC64LE, littleEndian: true, argBits: 64, table: null, host: 'ppc64le', compat: false, at: 'arch/powerpc/include/asm/syscall.h', note: '' },
  { name: 'ppc64', audit: AUDIT_ARCH_PPC64, littleEndian: false, argBits: 64, table: null, host: 'ppc64', compat: false, at: 'arch/powerpc/include/asm/syscall.h', note: 'big-endian: the low half of args[i] is the word at 16 + 8i + 4' },
  { name: 's390x', audit: AUDIT_ARCH_S390X, littleEndian: false, argBits: 64, table: null, host: 's390x', compat: false, at: 'arch/s390/include/asm/syscall.h', note: 'big-endian: the low half of args[i] is the word at 16 + 8i + 4' },
];

const ABI_BY_NAME: ReadonlyMap<string, SeccompAbi> = new Map(ABIS.map((a) => [a.name, a]));

/** The ABI of a name (x86_64, i386, i386-int80, x32, aarch64, arm, ...), or undefined. */
export const abiByName = (name: string): SeccompAbi | undefined => ABI_BY_NAME.get(name);

/** The ABIs whose AUDIT_ARCH_* value is `audit` (x86_64 and x32 share one). */
export const abisOfAudit = (audit: number): SeccompAbi[] => ABIS.filter((a) => a.audit === audit >>> 0);

/** The registers of one system call as user space sets them (u64 each; the ABI decides what is read). */
export interface SyscallRegs {
  /** the number register (rax, eax, w8, ...), as the caller wrote it */
  readonly nr: bigint;
  readonly args: readonly bigint[];
  /** the user instruction pointer the kernel records (KSTK_EIP: after the syscall instruction) */
  readonly ip: bigint;
}

// kernel/seccomp.c:246 populate_seccomp_data
/**
 * The seccomp_data the kernel fills for a call made through `abi` with these registers:
 * sd->nr = syscall_get_nr (the low 32 bits of the number register, as an int: x86 orig_ax, INT 0x80's
 * `regs->orig_ax = regs->ax & GENMASK(31, 0)`, arm64 syscallno); sd->arch = syscall_get_arch;
 * sd->args[i] = syscall_get_arguments (unsigned long registers: the full 64 bits of a 64-bit register,
 * so INT 0x80 from 64-bit code passes the upper halves of rbx..rbp through; 32-bit processes have
 * 32-bit registers); sd->instruction_pointer = KSTK_EIP. x32: the number keeps __X32_SYSCALL_BIT,
 * which the caller sets (the kernel does not add it).
 */
export function populateSeccompData(abi: SeccompAbi, regs: SyscallRegs): SeccompData {
  const nr = Number(U32(regs.nr)) | 0;
  const args = [0, 1, 2, 3, 4, 5].map((i) => {
    const v = U64(regs.args[i] ?? 0n);
    return abi.argBits === 32 ? U32(v) : v;
  });
  const ip = abi.argBits === 32 ? U32(regs.ip) : U64(regs.ip);
  return { nr, arch: abi.audit, instructionPointer: ip, args };
}

/** The x32 number of a system call of the x32 table (the table already carries the bit); exported for tools. */
export const x32Nr = (nr: number): number => (nr | X32_SYSCALL_BIT) >>> 0;

/**
 * The 64 bytes of struct seccomp_data in the ABI's byte order (what the kernel's stack copy holds and
 * what PTRACE/SECCOMP_IOCTL_NOTIF_RECV show). Model helper (no kernel function): the layout of the struct.
 */
export function seccompDataBytes(sd: SeccompData, littleEndian = true): Uint8Array {
  const out = new Uint8Array(SIZEOF_SECCOMP_DATA);
  const dv = new DataView(out.buffer);
  dv.setInt32(SECCOMP_DATA_NR, sd.nr | 0, littleEndian);
  dv.setUint32(SECCOMP_DATA_ARCH, sd.arch >>> 0, littleEndian);
  dv.setBigUint64(SECCOMP_DATA_IP, U64(sd.instructionPointer), littleEndian);
  for (let i = 0; i < 6; i++) dv.setBigUint64(SECCOMP_DATA_ARGS + 8 * i, U64(sd.args[i] ?? 0n), littleEndian);
  return out;
}

/**
 * The 16 u32 words a filter can load (k = 0, 4, ..., 60), each as the machine reads it from the
 * struct in its own byte order: word k/4 is `*(u32 *)((u8 *)sd + k)`. On little-endian machines
 * args[i] is lo at 16 + 8i and hi at 20 + 8i; on big-endian ones the other way round.
 */
export function seccompDataWords(sd: SeccompData, littleEndian = true): Uint32Array {
  const bytes = seccompDataBytes(sd, littleEndian);
  const dv = new DataView(bytes.buffer);
  const words = new Uint32Array(SIZEOF_SECCOMP_DATA / 4);
  for (let w = 0; w < words.length; w++) words[w] = dv.getUint32(4 * w, littleEndian);
  return words;
}

/** What each loadable word of seccomp_data is, for explanations (`nr`, `args[1].lo`, `instruction_pointer.hi`, ...). */
export function seccompWordName(k: number, littleEndian = true): string {
  if (k === SECCOMP_DATA_NR) return 'nr';
  if (k === SECCOMP_DATA_ARCH) return 'arch';
  const half = (off: number): string => (((off & 4) === 0) === littleEndian ? 'lo' : 'hi');
  if (k === SECCOMP_DATA_IP || k === SECCOMP_DATA_IP + 4) return `instruction_pointer.${half(k)}`;
  if (k >= SECCOMP_DATA_ARGS && k < SIZEOF_SECCOMP_DATA && (k & 3) === 0) return `args[${(k - SECCOMP_DATA_ARGS) >> 3}].${half(k)}`;
  return `[${k}]`;
}

/** An input of a seccomp filter for the judges (model/judge.ts Judge<SeccompInput>): one system call's data. */
export interface SeccompInput {
  readonly data: SeccompData;
  /** byte order of the ABI (default little-endian) */
  readonly littleEndian?: boolean;
}
