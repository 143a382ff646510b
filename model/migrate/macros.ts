// The include/linux/filter.h instruction macros that bpf_convert_filter uses, as small functions
// returning plain BpfInsn records. Kept here until model/ebpf/insn.ts exports its own builders;
// each one is a line-for-line mirror of the macro named in its comment.
import { BPF_ALU, BPF_JMP, BPF_K, BPF_LDX, BPF_MEM, BPF_STX, BPF_X, bpfOp, bpfSize, bpfSrc } from '../uapi.js';
import { BPF_ALU64, BPF_CALL, BPF_END, BPF_EXIT, BPF_MOV, type BpfInsn } from '../ebpf/insn.js';

const insn = (code: number, dst: number, src: number, off: number, imm: number): BpfInsn => ({
  code,
  dst,
  src,
  off: (off << 16) >> 16,
  imm: imm | 0,
});

/** include/linux/filter.h:115 BPF_ALU32_REG */
export const BPF_ALU32_REG = (op: number, dst: number, src: number): BpfInsn => insn(BPF_ALU | bpfOp(op) | BPF_X, dst, src, 0, 0);
/** include/linux/filter.h:120 BPF_ALU64_IMM */
export const BPF_ALU64_IMM = (op: number, dst: number, imm: number): BpfInsn => insn(BPF_ALU64 | bpfOp(op) | BPF_K, dst, 0, 0, imm);
/** include/linux/filter.h:128 BPF_ALU32_IMM */
export const BPF_ALU32_IMM = (op: number, dst: number, imm: number): BpfInsn => insn(BPF_ALU | bpfOp(op) | BPF_K, dst, 0, 0, imm);
/** include/linux/filter.h:138 BPF_ENDIAN(TYPE, DST, LEN): code BPF_ALU | BPF_END | BPF_SRC(TYPE) */
export const BPF_ENDIAN = (type: number, dst: number, len: number): BpfInsn => insn(BPF_ALU | BPF_END | bpfSrc(type), dst, 0, 0, len);
/** include/linux/filter.h:148 BPF_MOV64_REG */
export const BPF_MOV64_REG = (dst: number, src: number): BpfInsn => insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
/** include/linux/filter.h:156 BPF_MOV32_REG */
export const BPF_MOV32_REG = (dst: number, src: number): BpfInsn => insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0);
/** include/linux/filter.h:166 BPF_MOV64_IMM */
export const BPF_MOV64_IMM = (dst: number, imm: number): BpfInsn => insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
/** include/linux/filter.h:174 BPF_MOV32_IMM */
export const BPF_MOV32_IMM = (dst: number, imm: number): BpfInsn => insn(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, imm);
/** include/linux/filter.h:228 BPF_MOV32_RAW(TYPE, DST, SRC, IMM) */
export const BPF_MOV32_RAW = (type: number, dst: number, src: number, imm: number): BpfInsn =>
  insn(BPF_ALU | BPF_MOV | bpfSrc(type), dst, src, 0, imm);
/** include/linux/filter.h:258 BPF_LDX_MEM(SIZE, DST, SRC, OFF) */
export const BPF_LDX_MEM = (size: number, dst: number, src: number, off: number): BpfInsn =>
  insn(BPF_LDX | bpfSize(size) | BPF_MEM, dst, src, off, 0);
/** include/linux/filter.h:268 BPF_STX_MEM(SIZE, DST, SRC, OFF) */
export const BPF_STX_MEM = (size: number, dst: number, src: number, off: number): BpfInsn =>
  insn(BPF_STX | bpfSize(size) | BPF_MEM, dst, src, off, 0);
/** include/linux/filter.h:325 BPF_JMP_IMM(OP, DST, IMM, OFF) */
export const BPF_JMP_IMM = (op: number, dst: number, imm: number, off: number): BpfInsn =>
  insn(BPF_JMP | bpfOp(op) | BPF_K, dst, 0, off, imm);
/** include/linux/filter.h:355 BPF_JMP_A(OFF) */
export const BPF_JMP_A = (off: number): BpfInsn => insn(BPF_JMP, 0, 0, off, 0);
/** include/linux/filter.h:377 BPF_EMIT_CALL(FUNC): imm is the helper's symbolic id (model/ebpf/helpers.ts) */
export const BPF_EMIT_CALL = (helperId: number): BpfInsn => insn(BPF_JMP | BPF_CALL, 0, 0, 0, helperId);
/** include/linux/filter.h:387 BPF_RAW_INSN(CODE, DST, SRC, OFF, IMM) */
export const BPF_RAW_INSN = (code: number, dst: number, src: number, off: number, imm: number): BpfInsn =>
  insn(code, dst, src, off, imm);
/** include/linux/filter.h:397 BPF_EXIT_INSN() */
export const BPF_EXIT_INSN = (): BpfInsn => insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
