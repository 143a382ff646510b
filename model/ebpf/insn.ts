// struct bpf_insn: include/uapi/linux/bpf.h:71.
// (Owned by the eBPF instruction-set work: encode/decode and the opcode table are added here.)

/** include/uapi/linux/bpf.h:71 struct bpf_insn { __u8 code; __u8 dst_reg:4; __u8 src_reg:4; __s16 off; __s32 imm; } */
export interface BpfInsn {
  readonly code: number; // u8
  readonly dst: number; // 0..15 (R0..R10, 11 = AX)
  readonly src: number; // 0..15
  readonly off: number; // s16
  readonly imm: number; // s32, normalised with | 0
}

// include/uapi/linux/bpf.h:13 eBPF-only classes and fields (the classic ones are in ../uapi.ts)
export const BPF_JMP32 = 0x06;
export const BPF_ALU64 = 0x07;
export const BPF_DW = 0x18;
export const BPF_MEMSX = 0x80;
export const BPF_ATOMIC = 0xc0;
export const BPF_MOV = 0xb0;
export const BPF_ARSH = 0xc0;
export const BPF_END = 0xd0;
export const BPF_TO_LE = 0x00;
export const BPF_TO_BE = 0x08;
export const BPF_JNE = 0x50;
export const BPF_JLT = 0xa0;
export const BPF_JLE = 0xb0;
export const BPF_JSGT = 0x60;
export const BPF_JSGE = 0x70;
export const BPF_JSLT = 0xc0;
export const BPF_JSLE = 0xd0;
export const BPF_CALL = 0x80;
export const BPF_EXIT = 0x90;
export const BPF_FETCH = 0x01;
export const BPF_XCHG = 0xe0 | BPF_FETCH;
export const BPF_CMPXCHG = 0xf0 | BPF_FETCH;

// include/uapi/linux/bpf.h:50 registers; include/linux/filter.h:46 the classic mapping
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
/** include/linux/filter.h:53 classic A, X and the converter's temporaries */
export const BPF_REG_A = BPF_REG_0;
export const BPF_REG_X = BPF_REG_7;
export const BPF_REG_TMP = BPF_REG_2;
export const BPF_REG_D = BPF_REG_8;
export const BPF_REG_H = BPF_REG_9;

/** include/linux/filter.h:90 */
export const MAX_BPF_STACK = 512;
