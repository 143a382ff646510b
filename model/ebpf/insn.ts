// struct bpf_insn: include/uapi/linux/bpf.h:72, its 8-byte image, the kernel's instruction builder macros
// (include/linux/filter.h:96-414) and one opcode table for the whole v6.6 instruction set
// (kernel/bpf/core.c:1508 BPF_INSN_MAP plus the off/imm variants the interpreter switches on).
// include/uapi/linux/bpf.h lines are those of the same repository's snapshot 40d9c67f876f
// (OpenHarmony-5.0.2-Release, 6.6.22): the indexed commit 79226fb0ba80 has no bpf.h to read.
import {
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_AND,
  BPF_B,
  BPF_DIV,
  BPF_H,
  BPF_IMM,
  BPF_IND,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_JSET,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_LSH,
  BPF_MEM,
  BPF_MOD,
  BPF_MUL,
  BPF_NEG,
  BPF_OR,
  BPF_RSH,
  BPF_ST,
  BPF_STX,
  BPF_SUB,
  BPF_W,
  BPF_X,
  BPF_XOR,
  bpfClass,
  bpfMode,
  bpfOp,
  bpfSize,
  bpfSrc,
} from '../uapi.js';

/** include/uapi/linux/bpf.h:72 struct bpf_insn { __u8 code; __u8 dst_reg:4; __u8 src_reg:4; __s16 off; __s32 imm; } */
export interface BpfInsn {
  readonly code: number; // u8
  readonly dst: number; // 0..15 (R0..R10, 11 = AX)
  readonly src: number; // 0..15
  readonly off: number; // s16
  readonly imm: number; // s32, normalised with | 0
}

// include/uapi/linux/bpf.h:16 eBPF-only classes and fields (the classic ones are in ../uapi.ts).
// Values verified against include/uapi/linux/bpf.h of a 6.6 tree (GrapheneOS/kernel_common-6.6 b15343a8).
export const BPF_JMP32 = 0x06; // bpf.h:17
export const BPF_ALU64 = 0x07; // bpf.h:18
export const BPF_DW = 0x18; // bpf.h:21
export const BPF_MEMSX = 0x80; // bpf.h:22
export const BPF_ATOMIC = 0xc0; // bpf.h:23
export const BPF_XADD = 0xc0; // bpf.h:24 legacy name
export const BPF_MOV = 0xb0; // bpf.h:27
export const BPF_ARSH = 0xc0; // bpf.h:28
export const BPF_END = 0xd0; // bpf.h:31
export const BPF_TO_LE = 0x00; // bpf.h:32
export const BPF_TO_BE = 0x08; // bpf.h:33
export const BPF_FROM_LE = BPF_TO_LE;
export const BPF_FROM_BE = BPF_TO_BE;
export const BPF_JNE = 0x50; // bpf.h:38
export const BPF_JLT = 0xa0; // bpf.h:39
export const BPF_JLE = 0xb0; // bpf.h:40
export const BPF_JSGT = 0x60; // bpf.h:41
export const BPF_JSGE = 0x70; // bpf.h:42
export const BPF_JSLT = 0xc0; // bpf.h:43
export const BPF_JSLE = 0xd0; // bpf.h:44
export const BPF_CALL = 0x80; // bpf.h:45
export const BPF_EXIT = 0x90; // bpf.h:46
export const BPF_FETCH = 0x01; // bpf.h:49
export const BPF_XCHG = 0xe0 | BPF_FETCH; // bpf.h:50
export const BPF_CMPXCHG = 0xf0 | BPF_FETCH; // bpf.h:51

// include/uapi/linux/bpf.h:1218 BPF_PSEUDO_MAP_FD and the other src_reg values of ld_imm64 and call (:1218-1259, named by disasm.c)
export const BPF_PSEUDO_MAP_FD = 1;
export const BPF_PSEUDO_MAP_IDX = 5;
export const BPF_PSEUDO_MAP_VALUE = 2;
export const BPF_PSEUDO_MAP_IDX_VALUE = 6;
export const BPF_PSEUDO_BTF_ID = 3;
export const BPF_PSEUDO_FUNC = 4;
export const BPF_PSEUDO_CALL = 1;
export const BPF_PSEUDO_KFUNC_CALL = 2;

// include/linux/filter.h:67 kernel-internal opcodes (never in a program from user space)
export const BPF_TAIL_CALL = 0xf0; // filter.h:67
export const BPF_PROBE_MEM = 0x20; // filter.h:70
export const BPF_PROBE_MEMSX = 0x40; // filter.h:73
export const BPF_CALL_ARGS = 0xe0; // filter.h:76
export const BPF_NOSPEC = 0xc0; // filter.h:81

// include/uapi/linux/bpf.h:54 registers; include/linux/filter.h:46 the classic mapping
export const BPF_REG_0 = 0;
export const BPF_REG_1 = 1;
export const BPF_REG_2 = 2;
export const BPF_REG_3 = 3;
export const BPF_REG_4 = 4;
export const BPF_REG_5 = 5;
export const BPF_REG_6 = 6;
export const BPF_REG_7 = 7;
export const BPF_REG_8 = 8;
export const BPF_REG_9 = 9;
export const BPF_REG_10 = 10;
export const MAX_BPF_REG = 11;
/** include/linux/filter.h:62 hidden register for the interpreter and constant blinding */
export const BPF_REG_AX = 11;
export const MAX_BPF_EXT_REG = 12;
export const BPF_REG_ARG1 = BPF_REG_1;
export const BPF_REG_ARG2 = BPF_REG_2;
export const BPF_REG_ARG3 = BPF_REG_3;
export const BPF_REG_ARG4 = BPF_REG_4;
export const BPF_REG_ARG5 = BPF_REG_5;
export const BPF_REG_CTX = BPF_REG_6;
export const BPF_REG_FP = BPF_REG_10;
/** include/linux/filter.h:55 classic A, X and the converter's temporaries */
export const BPF_REG_A = BPF_REG_0;
export const BPF_REG_X = BPF_REG_7;
export const BPF_REG_TMP = BPF_REG_2;
export const BPF_REG_D = BPF_REG_8;
export const BPF_REG_H = BPF_REG_9;

/** include/linux/filter.h:90 */
export const MAX_BPF_STACK = 512;

// ---------------------------------------------------------------------------------------------
// Builders: include/linux/filter.h instruction macros, same names in camelCase.

const mk = (code: number, dst: number, src: number, off: number, imm: number): BpfInsn => ({
  code: code & 0xff,
  dst,
  src,
  off: (off << 16) >> 16,
  imm: imm | 0,
});

/** include/linux/filter.h:96 BPF_ALU64_REG_OFF(OP, DST, SRC, OFF) */
export const bpfAlu64RegOff = (op: number, dst: number, src: number, off: number): BpfInsn =>
  mk(BPF_ALU64 | bpfOp(op) | BPF_X, dst, src, off, 0);
/** include/linux/filter.h:104 BPF_ALU64_REG(OP, DST, SRC) */
export const bpfAlu64Reg = (op: number, dst: number, src: number): BpfInsn => bpfAlu64RegOff(op, dst, src, 0);
/** include/linux/filter.h:107 BPF_ALU32_REG_OFF(OP, DST, SRC, OFF) */
export const bpfAlu32RegOff = (op: number, dst: number, src: number, off: number): BpfInsn =>
  mk(BPF_ALU | bpfOp(op) | BPF_X, dst, src, off, 0);
/** include/linux/filter.h:115 BPF_ALU32_REG(OP, DST, SRC) */
export const bpfAlu32Reg = (op: number, dst: number, src: number): BpfInsn => bpfAlu32RegOff(op, dst, src, 0);
/** include/linux/filter.h:120 BPF_ALU64_IMM(OP, DST, IMM) */
export const bpfAlu64Imm = (op: number, dst: number, imm: number): BpfInsn => mk(BPF_ALU64 | bpfOp(op) | BPF_K, dst, 0, 0, imm);
/** include/linux/filter.h:128 BPF_ALU32_IMM(OP, DST, IMM) */
export const bpfAlu32Imm = (op: number, dst: number, imm: number): BpfInsn => mk(BPF_ALU | bpfOp(op) | BPF_K, dst, 0, 0, imm);
/** Like BPF_ALU64_IMM with an off field (sdiv/smod: off 1). No such macro in 6.6 filter.h. */
export const bpfAlu64ImmOff = (op: number, dst: number, imm: number, off: number): BpfInsn =>
  mk(BPF_ALU64 | bpfOp(op) | BPF_K, dst, 0, off, imm);
/** Like BPF_ALU32_IMM with an off field (sdiv/smod: off 1). No such macro in 6.6 filter.h. */
export const bpfAlu32ImmOff = (op: number, dst: number, imm: number, off: number): BpfInsn =>
  mk(BPF_ALU | bpfOp(op) | BPF_K, dst, 0, off, imm);
/** include/linux/filter.h:138 BPF_ENDIAN(TYPE, DST, LEN): type BPF_TO_LE or BPF_TO_BE, len 16/32/64 */
export const bpfEndian = (type: number, dst: number, len: number): BpfInsn => mk(BPF_ALU | BPF_END | bpfSrc(type), dst, 0, 0, len);
/** The v4 unconditional byte swap, BPF_ALU64 | BPF_END | BPF_TO_LE (no macro in 6.6 filter.h; core.c ALU64_END_TO_LE). */
export const bpfBswap = (dst: number, len: number): BpfInsn => mk(BPF_ALU64 | BPF_END | BPF_TO_LE, dst, 0, 0, len);
/** include/linux/filter.h:148 BPF_MOV64_REG(DST, SRC) */
export const bpfMov64Reg = (dst: number, src: number): BpfInsn => mk(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
/** include/linux/filter.h:156 BPF_MOV32_REG(DST, SRC) */
export const bpfMov32Reg = (dst: number, src: number): BpfInsn => mk(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0);
/** include/linux/filter.h:166 BPF_MOV64_IMM(DST, IMM) */
export const bpfMov64Imm = (dst: number, imm: number): BpfInsn => mk(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
/** include/linux/filter.h:174 BPF_MOV32_IMM(DST, IMM) */
export const bpfMov32Imm = (dst: number, imm: number): BpfInsn => mk(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, imm);
/** MOVSX: BPF_ALU64_REG_OFF(BPF_MOV, DST, SRC, 8|16|32) (64-bit) — the v4 sign-extending move. */
export const bpfMovsx64Reg = (dst: number, src: number, bits: number): BpfInsn => bpfAlu64RegOff(BPF_MOV, dst, src, bits);
/** MOVSX: BPF_ALU32_REG_OFF(BPF_MOV, DST, SRC, 8|16) (32-bit). */
export const bpfMovsx32Reg = (dst: number, src: number, bits: number): BpfInsn => bpfAlu32RegOff(BPF_MOV, dst, src, bits);
/** include/linux/filter.h:183 BPF_ZEXT_REG(DST): mov32 with imm 1 */
export const bpfZextReg = (dst: number): BpfInsn => mk(BPF_ALU | BPF_MOV | BPF_X, dst, dst, 0, 1);
/** include/linux/filter.h:191 insn_is_zext */
export const insnIsZext = (insn: BpfInsn): boolean => insn.code === (BPF_ALU | BPF_MOV | BPF_X) && insn.imm === 1;

/** include/linux/filter.h:200 BPF_LD_IMM64_RAW(DST, SRC, IMM): two slots; IMM as a bigint (u64 or s64) */
export function bpfLdImm64Raw(dst: number, src: number, imm: bigint): [BpfInsn, BpfInsn] {
  const u = BigInt.asUintN(64, imm);
  return [
    mk(BPF_LD | BPF_DW | BPF_IMM, dst, src, 0, Number(u & 0xffffffffn)),
    mk(0, 0, 0, 0, Number(u >> 32n)), // code 0: "zero is reserved opcode"
  ];
}
/** include/linux/filter.h:197 BPF_LD_IMM64(DST, IMM) */
export const bpfLdImm64 = (dst: number, imm: bigint): [BpfInsn, BpfInsn] => bpfLdImm64Raw(dst, 0, imm);
/** include/linux/filter.h:215 BPF_LD_MAP_FD(DST, MAP_FD) */
export const bpfLdMapFd = (dst: number, fd: number): [BpfInsn, BpfInsn] => bpfLdImm64Raw(dst, BPF_PSEUDO_MAP_FD, BigInt(fd >>> 0));
/** include/linux/filter.h:220 BPF_MOV64_RAW(TYPE, DST, SRC, IMM) */
export const bpfMov64Raw = (type: number, dst: number, src: number, imm: number): BpfInsn =>
  mk(BPF_ALU64 | BPF_MOV | bpfSrc(type), dst, src, 0, imm);
/** include/linux/filter.h:228 BPF_MOV32_RAW(TYPE, DST, SRC, IMM) */
export const bpfMov32Raw = (type: number, dst: number, src: number, imm: number): BpfInsn =>
  mk(BPF_ALU | BPF_MOV | bpfSrc(type), dst, src, 0, imm);
/** include/linux/filter.h:238 BPF_LD_ABS(SIZE, IMM) (legacy; the interpreter has no label for it) */
export const bpfLdAbs = (size: number, imm: number): BpfInsn => mk(BPF_LD | bpfSize(size) | BPF_ABS, 0, 0, 0, imm);
/** include/linux/filter.h:248 BPF_LD_IND(SIZE, SRC, IMM) (legacy; the interpreter has no label for it) */
export const bpfLdInd = (size: number, src: number, imm: number): BpfInsn => mk(BPF_LD | bpfSize(size) | BPF_IND, 0, src, 0, imm);
/** include/linux/filter.h:258 BPF_LDX_MEM(SIZE, DST, SRC, OFF) */
export const bpfLdxMem = (size: number, dst: number, src: number, off: number): BpfInsn =>
  mk(BPF_LDX | bpfSize(size) | BPF_MEM, dst, src, off, 0);
/** BPF_LDX | SIZE | BPF_MEMSX: the v4 sign-extending load (no macro in 6.6 filter.h). */
export const bpfLdxMemsx = (size: number, dst: number, src: number, off: number): BpfInsn =>
  mk(BPF_LDX | bpfSize(size) | BPF_MEMSX, dst, src, off, 0);
/** include/linux/filter.h:268 BPF_STX_MEM(SIZE, DST, SRC, OFF) */
export const bpfStxMem = (size: number, dst: number, src: number, off: number): BpfInsn =>
  mk(BPF_STX | bpfSize(size) | BPF_MEM, dst, src, off, 0);
/** include/linux/filter.h:292 BPF_ATOMIC_OP(SIZE, OP, DST, SRC, OFF) */
export const bpfAtomicOp = (size: number, op: number, dst: number, src: number, off: number): BpfInsn =>
  mk(BPF_STX | bpfSize(size) | BPF_ATOMIC, dst, src, off, op);
/** include/linux/filter.h:301 BPF_STX_XADD(SIZE, DST, SRC, OFF) */
export const bpfStxXadd = (size: number, dst: number, src: number, off: number): BpfInsn => bpfAtomicOp(size, BPF_ADD, dst, src, off);
/** include/linux/filter.h:305 BPF_ST_MEM(SIZE, DST, OFF, IMM) */
export const bpfStMem = (size: number, dst: number, off: number, imm: number): BpfInsn =>
  mk(BPF_ST | bpfSize(size) | BPF_MEM, dst, 0, off, imm);
/** include/linux/filter.h:315 BPF_JMP_REG(OP, DST, SRC, OFF) */
export const bpfJmpReg = (op: number, dst: number, src: number, off: number): BpfInsn => mk(BPF_JMP | bpfOp(op) | BPF_X, dst, src, off, 0);
/** include/linux/filter.h:325 BPF_JMP_IMM(OP, DST, IMM, OFF) */
export const bpfJmpImm = (op: number, dst: number, imm: number, off: number): BpfInsn => mk(BPF_JMP | bpfOp(op) | BPF_K, dst, 0, off, imm);
/** include/linux/filter.h:335 BPF_JMP32_REG(OP, DST, SRC, OFF) */
export const bpfJmp32Reg = (op: number, dst: number, src: number, off: number): BpfInsn =>
  mk(BPF_JMP32 | bpfOp(op) | BPF_X, dst, src, off, 0);
/** include/linux/filter.h:345 BPF_JMP32_IMM(OP, DST, IMM, OFF) */
export const bpfJmp32Imm = (op: number, dst: number, imm: number, off: number): BpfInsn =>
  mk(BPF_JMP32 | bpfOp(op) | BPF_K, dst, 0, off, imm);
/** include/linux/filter.h:355 BPF_JMP_A(OFF) */
export const bpfJmpA = (off: number): BpfInsn => mk(BPF_JMP | BPF_JA, 0, 0, off, 0);
/** BPF_JMP32 | BPF_JA, "gotol": the jump distance is imm (core.c JMP32_JA; no macro in 6.6 filter.h). */
export const bpfJmp32A = (imm: number): BpfInsn => mk(BPF_JMP32 | BPF_JA, 0, 0, 0, imm);
/** include/linux/filter.h:365 BPF_CALL_REL(TGT) */
export const bpfCallRel = (tgt: number): BpfInsn => mk(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, tgt);
/**
 * include/linux/filter.h:377 BPF_EMIT_CALL(FUNC). The kernel's imm is FUNC - __bpf_call_base (an address
 * difference); the model passes the helper's number in the interpreter's helper table instead.
 */
export const bpfEmitCall = (imm: number): BpfInsn => mk(BPF_JMP | BPF_CALL, 0, 0, 0, imm);
/** include/linux/filter.h:387 BPF_RAW_INSN(CODE, DST, SRC, OFF, IMM) */
export const bpfRawInsn = (code: number, dst: number, src: number, off: number, imm: number): BpfInsn => mk(code, dst, src, off, imm);
/** include/linux/filter.h:397 BPF_EXIT_INSN() */
export const bpfExitInsn = (): BpfInsn => mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
/** include/linux/filter.h:407 BPF_ST_NOSPEC() */
export const bpfStNospec = (): BpfInsn => mk(BPF_ST | BPF_NOSPEC, 0, 0, 0, 0);

// ---------------------------------------------------------------------------------------------
// The 8-byte image (little-endian host: dst_reg is the low nibble of byte 1).

/** Bytes per struct bpf_insn. */
export const BPF_INSN_SIZE = 8;

export interface InsnDecodeError {
  readonly message: string;
  readonly offset: number;
}
export type InsnDecodeResult =
  | { readonly ok: true; readonly insns: BpfInsn[] }
  | { readonly ok: false; readonly error: InsnDecodeError };

const isUint = (v: number, bits: number): boolean => Number.isInteger(v) && v >= 0 && v < 2 ** bits;
const isInt = (v: number, bits: number): boolean => Number.isInteger(v) && v >= -(2 ** (bits - 1)) && v < 2 ** (bits - 1);

/** Throws a RangeError naming the field if an instruction does not fit struct bpf_insn (API misuse). */
export function assertBpfInsn(insn: BpfInsn, pc: number): void {
  if (!isUint(insn.code, 8)) throw new RangeError(`insn ${pc}: code ${insn.code} is not a u8`);
  if (!isUint(insn.dst, 4)) throw new RangeError(`insn ${pc}: dst_reg ${insn.dst} is not a 4-bit field`);
  if (!isUint(insn.src, 4)) throw new RangeError(`insn ${pc}: src_reg ${insn.src} is not a 4-bit field`);
  if (!isInt(insn.off, 16)) throw new RangeError(`insn ${pc}: off ${insn.off} is not an s16`);
  if (!isInt(insn.imm, 32)) throw new RangeError(`insn ${pc}: imm ${insn.imm} is not an s32`);
}

/** Encode instructions (ld_imm64 is already two slots) into their little-endian image. */
export function encodeInsns(insns: readonly BpfInsn[]): Uint8Array {
  const out = new Uint8Array(insns.length * BPF_INSN_SIZE);
  const view = new DataView(out.buffer);
  insns.forEach((insn, pc) => {
    assertBpfInsn(insn, pc);
    const o = pc * BPF_INSN_SIZE;
    view.setUint8(o, insn.code);
    view.setUint8(o + 1, (insn.src << 4) | insn.dst);
    view.setInt16(o + 2, insn.off, true);
    view.setInt32(o + 4, insn.imm, true);
  });
  return out;
}

/**
 * Decode a little-endian image into instructions, one per 8-byte slot (the second slot of an ld_imm64
 * stays a slot of its own, as in the kernel's insnsi[]). Total: bytes that are not a whole number of
 * slots give an error, and an ld_imm64 whose second slot is missing is reported.
 */
export function decodeInsns(bytes: Uint8Array): InsnDecodeResult {
  if (bytes.length % BPF_INSN_SIZE !== 0) {
    const whole = bytes.length - (bytes.length % BPF_INSN_SIZE);
    return {
      ok: false,
      error: { message: `image is ${bytes.length} bytes, not a multiple of ${BPF_INSN_SIZE}: trailing bytes at offset ${whole}`, offset: whole },
    };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const insns: BpfInsn[] = [];
  for (let o = 0; o < bytes.length; o += BPF_INSN_SIZE) {
    const regs = view.getUint8(o + 1);
    insns.push({ code: view.getUint8(o), dst: regs & 0x0f, src: regs >> 4, off: view.getInt16(o + 2, true), imm: view.getInt32(o + 4, true) });
  }
  for (let pc = 0; pc < insns.length; pc += insns[pc]!.code === LD_IMM64_CODE ? 2 : 1) {
    if (insns[pc]!.code === LD_IMM64_CODE && pc + 1 >= insns.length)
      return { ok: false, error: { message: `ld_imm64 at insn ${pc} has no second slot`, offset: pc * BPF_INSN_SIZE } };
  }
  return { ok: true, insns };
}

/** BPF_LD | BPF_IMM | BPF_DW (0x18) */
export const LD_IMM64_CODE = BPF_LD | BPF_IMM | BPF_DW;

/** The 64-bit immediate of the ld_imm64 pair at insns[pc] (u64): (u32)insn[0].imm | (u64)(u32)insn[1].imm << 32 */
export const ldImm64Value = (lo: BpfInsn, hi: BpfInsn): bigint => (BigInt(hi.imm >>> 0) << 32n) | BigInt(lo.imm >>> 0);

// ---------------------------------------------------------------------------------------------
// The opcode table.

/** What selects a variant of an opcode: the off field (MOVSX, SDIV/SMOD) or the imm field (END, atomics). */
export interface OpcodeSelector {
  readonly field: 'off' | 'imm';
  readonly value: number;
}

export interface OpcodeInfo {
  /** The opcode byte. */
  readonly code: number;
  /** null: the entry covers every off/imm; else the off or imm value this entry is for. */
  readonly selector: OpcodeSelector | null;
  /** Mnemonic in the assembler syntax of RFC 9669 / bpf_conformance (add32, ldxw, jslt32, lock fetch add, ...). */
  readonly mnemonic: string;
  /** The interpreter label in kernel/bpf/core.c (BPF_INSN_MAP name, e.g. ALU64_ADD_X). */
  readonly label: string;
  /** The include/linux/filter.h builder that emits it (e.g. BPF_ALU64_REG(BPF_ADD, ...)). */
  readonly macro: string;
  /** One line of semantics, in the C of ___bpf_prog_run. */
  readonly semantics: string;
  /** false for the kernel-internal opcodes (ST_NOSPEC, PROBE_MEM, CALL_ARGS, TAIL_CALL). */
  readonly uapi: boolean;
}

const ALU_OPS: readonly [number, string, string][] = [
  [BPF_ADD, 'ADD', '+'],
  [BPF_SUB, 'SUB', '-'],
  [BPF_MUL, 'MUL', '*'],
  [BPF_DIV, 'DIV', '/'],
  [BPF_OR, 'OR', '|'],
  [BPF_AND, 'AND', '&'],
  [BPF_LSH, 'LSH', '<<'],
  [BPF_RSH, 'RSH', '>>'],
  [BPF_NEG, 'NEG', '-'],
  [BPF_MOD, 'MOD', '%'],
  [BPF_XOR, 'XOR', '^'],
  [BPF_MOV, 'MOV', '='],
  [BPF_ARSH, 'ARSH', 's>>'],
];

const JMP_OPS: readonly [number, string, string, 'u' | 's'][] = [
  [BPF_JEQ, 'JEQ', '==', 'u'],
  [BPF_JGT, 'JGT', '>', 'u'],
  [BPF_JGE, 'JGE', '>=', 'u'],
  [BPF_JSET, 'JSET', '&', 'u'],
  [BPF_JNE, 'JNE', '!=', 'u'],
  [BPF_JSGT, 'JSGT', '>', 's'],
  [BPF_JSGE, 'JSGE', '>=', 's'],
  [BPF_JLT, 'JLT', '<', 'u'],
  [BPF_JLE, 'JLE', '<=', 'u'],
  [BPF_JSLT, 'JSLT', '<', 's'],
  [BPF_JSLE, 'JSLE', '<=', 's'],
];

const SIZES: readonly [number, string, string, number][] = [
  [BPF_B, 'B', 'b', 8],
  [BPF_H, 'H', 'h', 16],
  [BPF_W, 'W', 'w', 32],
  [BPF_DW, 'DW', 'dw', 64],
];

const ATOMIC_OPS: readonly [number, string][] = [
  [BPF_ADD, 'add'],
  [BPF_AND, 'and'],
  [BPF_OR, 'or'],
  [BPF_XOR, 'xor'],
];

function buildOpcodeTable(): OpcodeInfo[] {
  const t: OpcodeInfo[] = [];
  const add = (code: number, selector: OpcodeSelector | null, mnemonic: string, label: string, macro: string, semantics: string, uapi = true): void => {
    t.push({ code, selector, mnemonic, label, macro, semantics, uapi });
  };
  // kernel/bpf/core.c:1722-1964 ALU and ALU64
  for (const cls of [BPF_ALU, BPF_ALU64]) {
    const is64 = cls === BPF_ALU64;
    const C = is64 ? 'ALU64' : 'ALU';
    const sfx = is64 ? '' : '32';
    for (const [op, name, sym] of ALU_OPS) {
      for (const src of [BPF_X, BPF_K]) {
        const S = src === BPF_X ? 'X' : 'K';
        const code = cls | op | src;
        const label = `${C}_${name}_${S}`;
        const mnem = name.toLowerCase() + sfx;
        const reg = src === BPF_X;
        const macro = reg ? `BPF_${is64 ? 'ALU64' : 'ALU32'}_REG(BPF_${name}, dst, src)` : `BPF_${is64 ? 'ALU64' : 'ALU32'}_IMM(BPF_${name}, dst, imm)`;
        const operand = reg ? (is64 ? 'SRC' : '(u32) SRC') : is64 ? '(s64) IMM' : '(u32) IMM';
        if (op === BPF_NEG) {
          if (src === BPF_K) add(code, null, mnem, `${C}_NEG`, `BPF_${is64 ? 'ALU64' : 'ALU32'}_IMM(BPF_NEG, dst, 0)`, is64 ? 'DST = -DST' : 'DST = (u32) -DST');
          continue; // ALU|NEG|X (0x8c, 0x8f) is not in BPF_INSN_MAP
        }
        if (op === BPF_MOV) {
          if (reg) {
            add(code, { field: 'off', value: 0 }, mnem, label, macro, is64 ? 'DST = SRC' : 'DST = (u32) SRC');
            const widths = is64 ? [8, 16, 32] : [8, 16];
            for (const w of widths)
              add(code, { field: 'off', value: w }, `movsx${w}${is64 ? '64' : '32'}`, label, `BPF_${is64 ? 'ALU64' : 'ALU32'}_REG_OFF(BPF_MOV, dst, src, ${w})`, is64 ? `DST = (s${w}) SRC` : `DST = (u32)(s${w}) SRC`);
          } else add(code, null, mnem, label, is64 ? 'BPF_MOV64_IMM(dst, imm)' : 'BPF_MOV32_IMM(dst, imm)', is64 ? 'DST = (s64) IMM' : 'DST = (u32) IMM');
          continue;
        }
        if (op === BPF_DIV || op === BPF_MOD) {
          const o = op === BPF_DIV ? '/' : '%';
          add(code, { field: 'off', value: 0 }, mnem, label, macro, `DST = ${is64 ? 'DST' : '(u32) DST'} ${o} ${operand} (unsigned; divisor 0 traps)`);
          add(code, { field: 'off', value: 1 }, 's' + mnem, label, macro.replace(/\)$/, '') + ' with off 1)', `DST = ${is64 ? '(s64) DST' : 'abs((s32) DST)'} ${o} ${is64 ? '(s64) S' : 'abs((s32) S)'} (signed; divisor 0 traps)`);
          continue;
        }
        if (op === BPF_LSH || op === BPF_RSH || op === BPF_ARSH) {
          const mask = is64 ? 63 : 31;
          const lhs = op === BPF_ARSH ? (is64 ? '(s64) DST' : '(s32) DST') : is64 ? 'DST' : '(u32) DST';
          const cop = op === BPF_LSH ? '<<' : '>>';
          add(code, null, mnem, label, macro, reg ? `DST = ${lhs} ${cop} (SRC & ${mask})` : `DST = ${lhs} ${cop} IMM (count >= ${is64 ? 64 : 32} is C UB; x86 masks it & ${mask})`);
          continue;
        }
        add(code, null, mnem, label, macro, `DST = ${is64 ? 'DST' : '(u32) DST'} ${sym} ${operand}`);
      }
    }
  }
  // kernel/bpf/core.c:1926 END
  for (const [src, S, m] of [
    [BPF_TO_BE, 'TO_BE', 'be'],
    [BPF_TO_LE, 'TO_LE', 'le'],
  ] as const) {
    for (const w of [16, 32, 64])
      add(BPF_ALU | BPF_END | src, { field: 'imm', value: w }, `${m}${w}`, `ALU_END_${S}`, `BPF_ENDIAN(BPF_${S}, dst, ${w})`, `DST = (u${w}) cpu_to_${m}${w}(DST)`);
  }
  for (const w of [16, 32, 64])
    add(BPF_ALU64 | BPF_END | BPF_TO_LE, { field: 'imm', value: w }, `bswap${w}`, 'ALU64_END_TO_LE', `BPF_RAW_INSN(BPF_ALU64 | BPF_END | BPF_TO_LE, dst, 0, 0, ${w})`, `DST = (u${w}) __swab${w}(DST)`);
  // kernel/bpf/core.c:1967 CALL, EXIT, JA
  add(BPF_JMP | BPF_CALL, null, 'call', 'JMP_CALL', 'BPF_EMIT_CALL(func)', 'R0 = (__bpf_call_base + IMM)(R1, R2, R3, R4, R5)');
  add(BPF_JMP | BPF_EXIT, null, 'exit', 'JMP_EXIT', 'BPF_EXIT_INSN()', 'return R0');
  add(BPF_JMP | BPF_JA, null, 'ja', 'JMP_JA', 'BPF_JMP_A(off)', 'insn += OFF + 1');
  add(BPF_JMP32 | BPF_JA, null, 'ja32', 'JMP32_JA', 'BPF_RAW_INSN(BPF_JMP32 | BPF_JA, 0, 0, 0, imm)', 'insn += IMM + 1');
  // kernel/bpf/core.c COND_JMP
  for (const cls of [BPF_JMP, BPF_JMP32]) {
    const is64 = cls === BPF_JMP;
    const C = is64 ? 'JMP' : 'JMP32';
    for (const [op, name, sym, sign] of JMP_OPS) {
      for (const src of [BPF_X, BPF_K]) {
        const S = src === BPF_X ? 'X' : 'K';
        const w = is64 ? 64 : 32;
        const rhs = src === BPF_X ? `(${sign}${w}) SRC` : `(${sign}${w}) IMM`;
        add(
          cls | op | src,
          null,
          name.toLowerCase() + (is64 ? '' : '32'),
          `${C}_${name}_${S}`,
          src === BPF_X ? `BPF_${C}_REG(BPF_${name}, dst, src, off)` : `BPF_${C}_IMM(BPF_${name}, dst, imm, off)`,
          `if ((${sign}${w}) DST ${sym} ${rhs}) insn += OFF`,
        );
      }
    }
  }
  // kernel/bpf/core.c LDST, LDSX, LD_IMM_DW
  for (const [sz, S, m, bits] of SIZES) {
    add(BPF_STX | BPF_MEM | sz, null, `stx${m}`, `STX_MEM_${S}`, `BPF_STX_MEM(BPF_${S}, dst, src, off)`, `*(u${bits} *)(DST + OFF) = SRC`);
    add(BPF_ST | BPF_MEM | sz, null, `st${m}`, `ST_MEM_${S}`, `BPF_ST_MEM(BPF_${S}, dst, off, imm)`, `*(u${bits} *)(DST + OFF) = IMM`);
    add(BPF_LDX | BPF_MEM | sz, null, `ldx${m}`, `LDX_MEM_${S}`, `BPF_LDX_MEM(BPF_${S}, dst, src, off)`, `DST = *(u${bits} *)(SRC + OFF)`);
    if (sz !== BPF_DW)
      add(BPF_LDX | BPF_MEMSX | sz, null, `ldxs${m}`, `LDX_MEMSX_${S}`, `BPF_RAW_INSN(BPF_LDX | BPF_${S} | BPF_MEMSX, dst, src, off, 0)`, `DST = *(s${bits} *)(SRC + OFF)`);
  }
  add(LD_IMM64_CODE, null, 'lddw', 'LD_IMM_DW', 'BPF_LD_IMM64(dst, imm64)', 'DST = (u64)(u32) insn[0].imm | (u64)(u32) insn[1].imm << 32; insn++');
  // kernel/bpf/core.c:2107 STX_ATOMIC_W / STX_ATOMIC_DW, the operation in imm
  for (const sz of [BPF_W, BPF_DW]) {
    const S = sz === BPF_W ? 'W' : 'DW';
    const m = sz === BPF_W ? '32' : '';
    const code = BPF_STX | BPF_ATOMIC | sz;
    const label = `STX_ATOMIC_${S}`;
    for (const [op, name] of ATOMIC_OPS) {
      const macro = `BPF_ATOMIC_OP(BPF_${S}, BPF_${name.toUpperCase()}`;
      add(code, { field: 'imm', value: op }, `lock ${name}${m}`, label, `${macro}, dst, src, off)`, `atomic${sz === BPF_DW ? '64' : ''}_${name}(SRC, DST + OFF)`);
      add(code, { field: 'imm', value: op | BPF_FETCH }, `lock fetch ${name}${m}`, label, `${macro} | BPF_FETCH, dst, src, off)`, `SRC = atomic${sz === BPF_DW ? '64' : ''}_fetch_${name}(SRC, DST + OFF)`);
    }
    add(code, { field: 'imm', value: BPF_XCHG }, `lock xchg${m}`, label, `BPF_ATOMIC_OP(BPF_${S}, BPF_XCHG, dst, src, off)`, `SRC = atomic${sz === BPF_DW ? '64' : ''}_xchg(DST + OFF, SRC)`);
    add(code, { field: 'imm', value: BPF_CMPXCHG }, `lock cmpxchg${m}`, label, `BPF_ATOMIC_OP(BPF_${S}, BPF_CMPXCHG, dst, src, off)`, `R0 = atomic${sz === BPF_DW ? '64' : ''}_cmpxchg(DST + OFF, R0, SRC)`);
  }
  // kernel/bpf/core.c:1686 non-UAPI opcodes of the jumptable
  add(BPF_JMP | BPF_CALL_ARGS, null, 'call_args', 'JMP_CALL_ARGS', '(bpf_patch_call_args)', 'R0 = (__bpf_call_base_args + IMM)(R1..R5, insn + OFF + 1)', false);
  add(BPF_JMP | BPF_TAIL_CALL, null, 'tail_call', 'JMP_TAIL_CALL', '(verifier fixup of bpf_tail_call)', 'tail call through the prog array in R2, index R3', false);
  add(BPF_ST | BPF_NOSPEC, null, 'nospec', 'ST_NOSPEC', 'BPF_ST_NOSPEC()', 'barrier_nospec()', false);
  for (const [sz, S, m, bits] of SIZES) {
    add(BPF_LDX | BPF_PROBE_MEM | sz, null, `probe_ldx${m}`, `LDX_PROBE_MEM_${S}`, '(verifier rewrite of LDX_MEM)', `DST = probe_read(u${bits}, SRC + OFF) (0 on fault)`, false);
    if (sz !== BPF_DW)
      add(BPF_LDX | BPF_PROBE_MEMSX | sz, null, `probe_ldxs${m}`, `LDX_PROBE_MEMSX_${S}`, '(verifier rewrite of LDX_MEMSX)', `DST = probe_read(s${bits}, SRC + OFF) (0 on fault)`, false);
  }
  return t;
}

/** Every (code, selector) the v6.6 interpreter implements, UAPI ones first. */
export const OPCODE_TABLE: readonly OpcodeInfo[] = buildOpcodeTable();

const BY_CODE: readonly (readonly OpcodeInfo[])[] = (() => {
  const a: OpcodeInfo[][] = Array.from({ length: 256 }, () => []);
  for (const e of OPCODE_TABLE) a[e.code]!.push(e);
  return a;
})();

/** The entries of one opcode byte (several when off or imm selects a variant); empty if not in the jumptable. */
export const opcodeEntries = (code: number): readonly OpcodeInfo[] => BY_CODE[code & 0xff]!;

/**
 * The table entry that describes an instruction, or undefined when the interpreter would hit
 * default_label (unknown code or, for atomics, unknown imm) or silently do nothing (MOV/DIV/MOD with an
 * off, END with an imm, that the C switch has no case for).
 */
export function opcodeInfo(insn: BpfInsn): OpcodeInfo | undefined {
  for (const e of BY_CODE[insn.code & 0xff]!) {
    if (e.selector === null) return e;
    if ((e.selector.field === 'off' ? insn.off : insn.imm) === e.selector.value) return e;
  }
  return undefined;
}

/** kernel/bpf/core.c:1508 BPF_INSN_MAP as a set of codes (the jumptable's UAPI labels). */
export const BPF_INSN_MAP_CODES: ReadonlySet<number> = new Set(OPCODE_TABLE.filter((e) => e.uapi).map((e) => e.code));

/** kernel/bpf/core.c:1649 bpf_opcode_in_insntable: BPF_INSN_MAP plus the six legacy LD_ABS/LD_IND codes. */
export function bpfOpcodeInInsntable(code: number): boolean {
  if (BPF_INSN_MAP_CODES.has(code)) return true;
  return bpfClass(code) === BPF_LD && (bpfMode(code) === BPF_ABS || bpfMode(code) === BPF_IND) && bpfSize(code) !== BPF_DW;
}

/** The interpreter's jumptable (core.c:1684): whether ___bpf_prog_run has a label for this code. */
export const inInterpreterJumptable = (code: number): boolean => BY_CODE[code & 0xff]!.length > 0;
