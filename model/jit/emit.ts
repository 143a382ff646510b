// The x86-64 JIT's emit_* helpers, as the number of bytes each one writes (arch/x86/net/bpf_jit_comp.c;
// line numbers: v6.18.35, then 6.6.80 in parentheses; see model/jit/facts.ts for the trees). The
// bytes themselves are not modelled: only how many there are, which is all the pass loop looks at.
import { BPF_B, BPF_H, BPF_W } from '../uapi.js';
import { BPF_REG_1, BPF_REG_10, BPF_REG_2, BPF_REG_5, BPF_REG_6, BPF_REG_7, BPF_REG_8, BPF_REG_9, BPF_REG_AX, type BpfInsn } from '../ebpf/insn.js';
import type { X86JitFacts } from './facts.js';

/** :167 AUX_REG (MAX_BPF_JIT_REG + 1 = 13, r11); :168 X86_REG_R9; :169 X86_REG_R12 (MAX_BPF_JIT_REG = MAX_BPF_EXT_REG = 12, include/linux/filter.h) */
export const AUX_REG = 13;
export const X86_REG_R9 = 14;
export const X86_REG_R12 = 15;

/** :324 the scratch buffer of one instruction: BPF_MAX_INSN_SIZE */
export const BPF_MAX_INSN_SIZE = 128;
/** :327 X86_PATCH_SIZE, the nop5 after the CFI preamble */
export const X86_PATCH_SIZE = 5;
/** include/asm/ibt.h ENDBR_INSN_SIZE */
export const ENDBR_INSN_SIZE = 4;

// arch/x86/net/bpf_jit_comp.c:65 is_imm8 (6.6.80:56)
export const isImm8 = (value: number): boolean => value <= 127 && value >= -128;

// arch/x86/net/bpf_jit_comp.c:115 is_imm8_jmp_offset (6.6.80:106): is_imm8 before c8831bdbfbab, [-128, 123] after it (facts.shortJumpMax)
export const isImm8JmpOffset = (value: number, facts: X86JitFacts): boolean => value <= facts.shortJumpMax && value >= -128;

// arch/x86/net/bpf_jit_comp.c:120 is_simm32 (6.6.80:111)
export const isSimm32 = (value: number): boolean => value === (value | 0);

// arch/x86/net/bpf_jit_comp.c:217 is_ereg (6.6.80:206): BPF registers mapped to r8..r15 (R5, R7, R8, R9, AX, AUX, R9/R12 of the JIT)
export function isEreg(reg: number): boolean {
  return reg === BPF_REG_5 || reg === AUX_REG || reg === BPF_REG_7 || reg === BPF_REG_8 || reg === BPF_REG_9 || reg === X86_REG_R9 || reg === X86_REG_R12 || reg === BPF_REG_AX;
}

// arch/x86/net/bpf_jit_comp.c:234 is_ereg_8l (6.6.80:222): also dil, sil, bpl (R1, R2, FP) need a REX byte for their low 8 bits
export const isEreg8l = (reg: number): boolean => isEreg(reg) || reg === BPF_REG_1 || reg === BPF_REG_2 || reg === BPF_REG_10;

// arch/x86/net/bpf_jit_comp.c:1042 maybe_emit_mod (6.6.80:809): a REX byte when 64-bit or when either register is r8..r15
export const maybeEmitMod = (dst: number, src: number, is64: boolean): number => (is64 || isEreg(dst) || isEreg(src) ? 1 : 0);

// arch/x86/net/bpf_jit_comp.c:1056 maybe_emit_1mod (6.6.80:823)
export const maybeEmit1mod = (reg: number, is64: boolean): number => (is64 || isEreg(reg) ? 1 : 0);

// arch/x86/net/bpf_jit_comp.c:1008 emit_insn_suffix (6.6.80:787): ModR/M + disp8, or ModR/M + disp32
export const emitInsnSuffix = (off: number): number => (isImm8(off) ? 2 : 5);

// arch/x86/net/bpf_jit_comp.c:892 emit_mov_imm32 (6.6.80:674)
export function emitMovImm32(signPropagate: boolean, dst: number, imm32: number): number {
  if (signPropagate && (imm32 | 0) < 0) return 7; // mov %rax, imm32 (REX.W C7 /0 imm32)
  if (imm32 >>> 0 === 0) return (isEreg(dst) ? 1 : 0) + 2; // xor %eax, %eax
  return (isEreg(dst) ? 1 : 0) + 5; // mov %eax, imm32
}

// arch/x86/net/bpf_jit_comp.c:958 emit_mov_reg (6.6.80:737): the 64-bit move of a register to itself emits nothing (EMIT_mov, :131)
export function emitMovReg(is64: boolean, dst: number, src: number): number {
  if (is64) return dst !== src ? 3 : 0;
  return (isEreg(dst) || isEreg(src) ? 1 : 0) + 2;
}

// arch/x86/net/bpf_jit_comp.c:975 emit_movsx_reg (6.6.80:754) (movs[bwl]q / movs[bw]l)
export function emitMovsxReg(numBits: number, is64: boolean, dst: number, src: number): number {
  if (is64) return numBits === 8 || numBits === 16 ? 4 : numBits === 32 ? 3 : 0;
  if (numBits === 8) return 4;
  if (numBits === 16) return (isEreg(dst) || isEreg(src) ? 1 : 0) + 3;
  return 0;
}

// arch/x86/net/bpf_jit_comp.c:1068 emit_ldx (6.6.80:835)
export function emitLdx(size: number, dst: number, src: number, off: number): number {
  let n: number;
  switch (size) {
    case BPF_B: // movzx rax, byte ptr [rax + off]
    case BPF_H: // movzx rax, word ptr [rax + off]
      n = 3;
      break;
    case BPF_W: // mov eax, dword ptr [rax + off]
      n = isEreg(dst) || isEreg(src) ? 2 : 1;
      break;
    default: // BPF_DW: mov rax, qword ptr [rax + off]
      n = 2;
  }
  return n + emitInsnSuffix(off);
}

// arch/x86/net/bpf_jit_comp.c:1098 emit_ldsx (6.6.80:865)
export function emitLdsx(size: number, off: number): number {
  // movsx rax, byte/word ptr (REX 0F BE/BF) or movsxd (REX 63)
  return (size === BPF_W ? 2 : 3) + emitInsnSuffix(off);
}

// arch/x86/net/bpf_jit_comp.c:1179 emit_stx (6.6.80:888)
export function emitStx(size: number, dst: number, src: number, off: number): number {
  let n: number;
  switch (size) {
    case BPF_B: // mov byte ptr [rax + off], al (a REX byte for sil, dil, bpl too)
      n = isEreg(dst) || isEreg8l(src) ? 2 : 1;
      break;
    case BPF_H:
      n = isEreg(dst) || isEreg(src) ? 3 : 2;
      break;
    case BPF_W:
      n = isEreg(dst) || isEreg(src) ? 2 : 1;
      break;
    default: // BPF_DW
      n = 2;
  }
  return n + emitInsnSuffix(off);
}

// arch/x86/net/bpf_jit_comp.c:1539 emit_shiftx (6.6.80:1058): emit_3vex (:1502 (6.6.80:1021)) is 3 bytes, then F7 /r
export const emitShiftx = (): number => 3 + 2;

// arch/x86/net/bpf_jit_comp.c:355 push_callee_regs (6.6.80:308), and :378 (6.6.80:323) pop_callee_regs: rbx 1 byte, r13..r15 2 each
export const pushCalleeRegs = (used: readonly boolean[]): number => (used[0] ? 1 : 0) + (used[1] ? 2 : 0) + (used[2] ? 2 : 0) + (used[3] ? 2 : 0);
export const popCalleeRegs = pushCalleeRegs;

// arch/x86/net/bpf_jit_comp.c:1474 detect_reg_usage (6.6.80:972): which of R6..R9 (rbx, r13, r14, r15) the program names at all
export function detectRegUsage(insns: readonly BpfInsn[]): boolean[] {
  const used = [false, false, false, false];
  for (const insn of insns) {
    if (insn.dst === BPF_REG_6 || insn.src === BPF_REG_6) used[0] = true;
    if (insn.dst === BPF_REG_7 || insn.src === BPF_REG_7) used[1] = true;
    if (insn.dst === BPF_REG_8 || insn.src === BPF_REG_8) used[2] = true;
    if (insn.dst === BPF_REG_9 || insn.src === BPF_REG_9) used[3] = true;
  }
  return used;
}

// arch/x86/net/bpf_jit_comp.c:58 EMIT_ENDBR: 4 bytes with CONFIG_X86_KERNEL_IBT, nothing without
export const emitEndbr = (facts: X86JitFacts): number => (facts.ibt ? ENDBR_INSN_SIZE : 0);

// arch/x86/net/bpf_jit_comp.c:418 emit_fineibt: endbr, subl $hash,%eax, then `cs cs call __bhi_args[]` or `jne.d32,pn 3`, then the poisoned endbr
export const emitFineibt = (facts: X86JitFacts): number => emitEndbr(facts) + 5 + (facts.cfiBhi ? 2 + 5 : 7) + emitEndbr(facts);

// arch/x86/net/bpf_jit_comp.c:435 emit_kcfi: movl $hash,%eax, CONFIG_FUNCTION_PADDING_CFI nops (with CONFIG_CALL_PADDING), endbr
export const emitKcfi = (facts: X86JitFacts): number => 5 + facts.cfiPadding + emitEndbr(facts);

// arch/x86/net/bpf_jit_comp.c:449 emit_cfi (v6.7+); 6.6.80:354 emits only EMIT_ENDBR at this point, which is cfi 'none'
export function emitCfi(facts: X86JitFacts): number {
  switch (facts.cfi) {
    case 'fineibt':
      return emitFineibt(facts);
    case 'kcfi':
      return emitKcfi(facts);
    default:
      return emitEndbr(facts);
  }
}

// arch/x86/net/bpf_jit_comp.c:506 emit_prologue (6.6.80:343), for a main program that is not an exception callback and cannot
// tail call (the attach path's programs): CFI preamble, nop5, the eBPF-only nop, push rbp; mov rbp,rsp,
// endbr, sub rsp (when the stack is used)
export function emitPrologue(stackDepth: number, ebpfFromCbpf: boolean, facts: X86JitFacts): number {
  let n = emitCfi(facts) + X86_PATCH_SIZE;
  if (!ebpfFromCbpf) n += facts.ebpfPrologueNop; // :529 nop3 (6.6.80:356 nop2)
  n += 1 + 3; // push rbp; mov rbp, rsp
  n += emitEndbr(facts); // :549 X86_TAIL_CALL_OFFSET is here
  if (stackDepth !== 0) n += 7; // :552 sub rsp, round_up(stack_depth, 8)
  return n;
}

// arch/x86/kernel/callthunks.c x86_call_depth_emit_accounting: the accounting template, or nothing
export const x86CallDepthEmitAccounting = (facts: X86JitFacts): number => facts.callDepthAccounting;

// arch/x86/net/bpf_jit_comp.c:574 emit_call (6.6.80:389) -> :559 emit_patch: e8 rel32. The -ERANGE of a target beyond +-2 GiB cannot
// happen for kernel helpers (kernel text and the BPF pack allocator are within 2 GiB of each other, and
// in the sizing passes, where image is NULL, the offset of a helper in the top 2 GiB from a small
// address still fits in s32).
export const emitCall = (): number => 5;

// arch/x86/net/bpf_jit_comp.c:679 emit_return (6.6.80:491)
export function emitReturn(facts: X86JitFacts): number {
  if (facts.returnThunk) return 5; // jmp x86_return_thunk
  return 1 + (facts.sls ? 1 : 0); // ret; int3
}

// arch/x86/net/bpf_jit_comp.c:1580 emit_spectre_bhb_barrier (v6.15+, 6.6.91+)
export function emitSpectreBhbBarrier(facts: X86JitFacts): number {
  let n = 0;
  if (facts.clearBhbLoop) n += 2 + x86CallDepthEmitAccounting(facts) + emitCall() + 2; // push rax; push rcx; call clear_bhb_loop; pop rcx; pop rax
  if ((facts.clearBhbLoop && facts.hypervisor) || facts.clearBhbHw) n += 5; // ibhf
  return n;
}

// arch/x86/net/bpf_jit_comp.c:393 emit_nops (6.6.80:991): `len` bytes of nops (ASM_NOP_MAX at a time)
export const emitNops = (len: number): number => Math.max(len, 0);
