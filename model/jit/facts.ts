// The facts the x86-64 eBPF JIT's instruction lengths depend on (arch/x86/net/bpf_jit_comp.c):
// what the kernel version wrote into do_jit, how the kernel was built, what the CPU has, and who
// attaches the filter. One flat record, so that a kernel profile is a preset of it.
//
// Trees read (line numbers in model/jit cite the first, then the second in parentheses):
//   v6.18.35  leftymods/linux-6.18.y @ 40a9e9f43 (identical to the v6.18 tag in that repository but
//             for emit_kcfi's padding loop, which classic programs on a kernel without CFI never reach)
//   6.6.80    xzxHomeAssistant/linux-6.6.y @ 8618cc741 (the 6.6.y line after c8831bdbfbab and before
//             the May 2025 BHB backports); 6.6.22 (eclipse-oniro-mirrors/kernel_linux_6.6 @ dda72fb05,
//             OpenHarmony-5.0.0-Release) for the lines before c8831bdbfbab, which are v6.6.0's.
// For the instructions bpf_convert_filter emits, do_jit encodes every instruction identically in all
// of these trees; what differs between them is a field below.

/** How the JIT's output is shaped by one kernel, its build, its CPU and the attaching task. */
export interface X86JitFacts {
  /**
   * The largest forward displacement for which a jump gets its 2-byte form. 127 (is_imm8,
   * bpf_jit_comp.c:65 (6.6.22:56)) before c8831bdbfbab ("bpf, x64: Fix a jit convergence issue",
   * v6.12; stable 6.6.y, 6.1.y and 5.15.y from the October 2024 AUTOSEL batch); 123 after it
   * (is_imm8_jmp_offset, :115 (6.6.80:106)). The lower bound stays -128 in both.
   */
  readonly shortJumpMax: number;
  /** CONFIG_X86_KERNEL_IBT: EMIT_ENDBR() emits a 4-byte endbr64 (:58), at the entry and at X86_TAIL_CALL_OFFSET. */
  readonly ibt: boolean;
  /**
   * cfi_mode, the preamble emit_cfi writes first (:449, v6.7+; the 6.6 JIT has no CFI preamble and
   * emits only EMIT_ENDBR there, which is 'none').
   */
  readonly cfi: 'none' | 'kcfi' | 'fineibt';
  /** The nops of emit_kcfi (:435): CONFIG_FUNCTION_PADDING_CFI when CONFIG_CALL_PADDING, else 0. */
  readonly cfiPadding: number;
  /** cfi_bhi (FineIBT's `cs cs call __bhi_args[arity]`, 7 bytes, in place of `jne.d32,pn`, also 7). */
  readonly cfiBhi: boolean;
  /**
   * Bytes x86_call_depth_emit_accounting (arch/x86/kernel/callthunks.c) writes before each call: 0
   * unless X86_FEATURE_CALL_DEPTH (retbleed=stuff), then SKL_TMPL_SIZE, 10 (`sarq $5, %gs:disp32`),
   * except for a target that is itself a call thunk (is_callthunk), which a kernel describes by 0.
   */
  readonly callDepthAccounting: number;
  /**
   * emit_return (:679 (6.6.80:491)): cpu_wants_rethunk() (6.6: X86_FEATURE_RETHUNK) returns through
   * `jmp x86_return_thunk` (5 bytes) instead of `ret`. This is the return-side member of the
   * retpoline family; retpolines proper (emit_indirect_jump) only serve tail calls, which migrated
   * classic programs never contain, so they change no length the model computes.
   */
  readonly returnThunk: boolean;
  /** CONFIG_MITIGATION_SLS (CONFIG_SLS in 6.6): an int3 after `ret`. */
  readonly sls: boolean;
  /** boot_cpu_has(X86_FEATURE_BMI2): shifts by a register other than rcx become shlx/shrx/sarx (:1957). */
  readonly bmi2: boolean;
  /**
   * Whether do_jit has emit_spectre_bhb_barrier at the first exit of classic programs (:1580, :2698):
   * 9f725eec8fc0 and d4e89d212d40 (v6.15; stable 6.6.91, 6.1.139, 5.15.183, May 2025). v6.6.0 and
   * 6.6.80 have no such call.
   */
  readonly bhbBarrier: boolean;
  /** X86_FEATURE_CLEAR_BHB_LOOP: the barrier calls clear_bhb_loop between push/pop of rax and rcx. */
  readonly clearBhbLoop: boolean;
  /** X86_FEATURE_CLEAR_BHB_HW: the barrier is an IBHF (5 bytes). */
  readonly clearBhbHw: boolean;
  /** X86_FEATURE_HYPERVISOR: with CLEAR_BHB_LOOP the barrier also ends with IBHF. */
  readonly hypervisor: boolean;
  /** ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN) of the task attaching the filter (no barrier when true). */
  readonly capSysAdmin: boolean;
  /**
   * The nop emit_prologue writes for programs that were not classic (:529; tail-call counter slot):
   * 2 in 6.6 (`nop2`), 3 from v6.10 (`nop3`, X86_TAIL_CALL_OFFSET 12). Never read for classic programs.
   */
  readonly ebpfPrologueNop: number;
}

/** The CPU, build and caller facts of one machine (no kernel-version fact among them). */
export type X86MachineFacts = Omit<X86JitFacts, 'shortJumpMax' | 'bhbBarrier' | 'ebpfPrologueNop'>;
/** The facts a kernel version fixes. */
export type X86KernelJitFacts = Pick<X86JitFacts, 'shortJumpMax' | 'bhbBarrier' | 'ebpfPrologueNop'>;

/** Pristine v6.6.0 (and 6.6.y up to the October 2024 backport of c8831bdbfbab). */
export const JIT_V6_6_0: X86KernelJitFacts = { shortJumpMax: 127, bhbBarrier: false, ebpfPrologueNop: 2 };
/** 6.6.y after c8831bdbfbab and the May 2025 BHB backports (6.6.91 on). */
export const JIT_V6_6_Y: X86KernelJitFacts = { shortJumpMax: 123, bhbBarrier: true, ebpfPrologueNop: 2 };
/** v6.18 (this machine's 6.18.44 included). */
export const JIT_V6_18: X86KernelJitFacts = { shortJumpMax: 123, bhbBarrier: true, ebpfPrologueNop: 3 };

/**
 * The machine these facts were measured on (6.18.44, AMD EPYC under a hypervisor, attaching as root),
 * from /proc/config.gz, /sys/devices/system/cpu/vulnerabilities and the JIT image of a probe program
 * (oracle/kernel/jitimage.c): CONFIG_X86_KERNEL_IBT unset and no CONFIG_CFI (no endbr64, no preamble:
 * the image starts with nop5), no call-depth accounting (the helper call is a bare `e8 rel32`), no
 * return thunk and no CONFIG_MITIGATION_SLS (the exit is `leave; ret`), BMI2 in /proc/cpuinfo,
 * "BHI: Not affected" (neither CLEAR_BHB feature), and CAP_SYS_ADMIN.
 */
export const MACHINE_AMD_EPYC_VM_ROOT: X86MachineFacts = {
  ibt: false,
  cfi: 'none',
  cfiPadding: 0,
  cfiBhi: false,
  callDepthAccounting: 0,
  returnThunk: false,
  sls: false,
  bmi2: true,
  clearBhbLoop: false,
  clearBhbHw: false,
  hypervisor: true,
  capSysAdmin: true,
};

/** One kernel version on one machine. */
export const x86JitFacts = (kernel: X86KernelJitFacts, machine: X86MachineFacts): X86JitFacts => ({ ...machine, ...kernel });

/** The default: v6.18 on the measured machine. */
export const DEFAULT_JIT_FACTS: X86JitFacts = x86JitFacts(JIT_V6_18, MACHINE_AMD_EPYC_VM_ROOT);
