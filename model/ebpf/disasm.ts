// The kernel's eBPF disassembler: kernel/bpf/disasm.c print_bpf_insn, the text of the verifier log and of
// `bpftool prog dump xlated`.
// Line numbers are those of the v6.6 disasm.c (the deepin-community 6.6 file without the v6.9 additions
// addr_space_cast and may_goto, which v6.6 does not have).
import { BPF_ABS, BPF_ALU, BPF_IMM, BPF_IND, BPF_JMP, BPF_LD, BPF_LDX, BPF_MEM, BPF_ST, BPF_STX, BPF_X, bpfClass, bpfMode, bpfOp, bpfSize, bpfSrc } from '../uapi.js';
import {
  type BpfInsn,
  BPF_ALU64,
  BPF_ATOMIC,
  BPF_CMPXCHG,
  BPF_DW,
  BPF_END,
  BPF_EXIT,
  BPF_FETCH,
  BPF_JMP32,
  BPF_MEMSX,
  BPF_MOV,
  BPF_PSEUDO_BTF_ID,
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_KFUNC_CALL,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE,
  BPF_PSEUDO_MAP_VALUE,
  BPF_TO_BE,
  BPF_XCHG,
} from './insn.js';

/** What the C's vsnprintf prints for a NULL "%s" argument (an opcode the string tables have no entry for). */
const NULL_STR = '(null)';

// kernel/bpf/disasm.c:73 bpf_alu_string
const BPF_ALU_STRING: readonly (string | undefined)[] = ['+=', '-=', '*=', '/=', '|=', '&=', '<<=', '>>=', 'neg', '%=', '^=', '=', 's>>=', 'endian', undefined, undefined];
// kernel/bpf/disasm.c:90 bpf_alu_sign_string
const BPF_ALU_SIGN_STRING: readonly (string | undefined)[] = [, , , 's/=', , , , , , 's%='];
// kernel/bpf/disasm.c:95 bpf_movsx_string
const BPF_MOVSX_STRING: readonly (string | undefined)[] = ['(s8)', '(s16)', undefined, '(s32)'];
// kernel/bpf/disasm.c:101 bpf_atomic_alu_string
const BPF_ATOMIC_ALU_STRING: readonly (string | undefined)[] = ['add', , , , 'or', 'and', , , , , 'xor'];
// kernel/bpf/disasm.c:108 bpf_ldst_string, indexed by BPF_SIZE >> 3 (W, H, B, DW)
const BPF_LDST_STRING: readonly string[] = ['u32', 'u16', 'u8', 'u64'];
// kernel/bpf/disasm.c:115 bpf_ldsx_string (3 entries; [3] is past the array in C, printed as "(null)" here)
const BPF_LDSX_STRING: readonly (string | undefined)[] = ['s32', 's16', 's8'];
// kernel/bpf/disasm.c:121 bpf_jmp_string
const BPF_JMP_STRING: readonly (string | undefined)[] = ['jmp', '==', '>', '>=', '&', '!=', 's>', 's>=', 'call', 'exit', '<', '<=', 's<', 's<=', undefined, undefined];

const str = (s: string | undefined): string => s ?? NULL_STR;
/** printf "%+d" */
const plusD = (v: number): string => (v >= 0 ? `+${v}` : `${v}`);
/** printf "%02x" of a u8 */
const x02 = (v: number): string => (v & 0xff).toString(16).padStart(2, '0');

export interface DisasmOptions {
  /**
   * kernel/bpf/disasm.c:11 func_id_str: helper names by BPF_FUNC_* id (used for calls with src_reg 0 and
   * 0 <= imm < length). Not built in: pass the table when you need it.
   */
  readonly funcIdStr?: readonly (string | undefined)[];
  /** The cb_call callback (bpftool resolves kernel symbols with it): a name for a call, or null. */
  readonly callName?: (insn: BpfInsn) => string | null;
  /** The cb_imm callback: the text for an ld_imm64's 64-bit value (default "0x%llx"). */
  readonly immName?: (insn: BpfInsn, fullImm: bigint) => string;
  /** allow_ptr_leaks: when false, ld_imm64 of a map/BTF pseudo source prints 0. bpftool passes true (default). */
  readonly allowPtrLeaks?: boolean;
}

// kernel/bpf/disasm.c:16 __func_get_name
function funcGetName(insn: BpfInsn, fallback: string, opts: DisasmOptions): string {
  const table = opts.funcIdStr;
  if (insn.src === 0 && table && insn.imm >= 0 && insn.imm < table.length && table[insn.imm]) return table[insn.imm]!;
  if (opts.callName) {
    const res = opts.callName(insn);
    if (res) return res;
  }
  if (insn.src === BPF_PSEUDO_CALL) return plusD(insn.imm);
  if (insn.src === BPF_PSEUDO_KFUNC_CALL) return 'kernel-function';
  return fallback;
}

// kernel/bpf/disasm.c:157 is_sdiv_smod
const isSdivSmod = (insn: BpfInsn): boolean => (bpfOp(insn.code) === 0x30 || bpfOp(insn.code) === 0x90) && insn.off === 1;
// kernel/bpf/disasm.c:163 is_movsx
const isMovsx = (insn: BpfInsn): boolean => bpfOp(insn.code) === BPF_MOV && (insn.off === 8 || insn.off === 16 || insn.off === 32);

/**
 * kernel/bpf/disasm.c:169 print_bpf_insn: the whole line the kernel prints, without the trailing newline,
 * e.g. "(bf) r6 = r1" or, for an instruction the printer does not know, "BUG_ld_00" (no code prefix).
 * `next` is the second slot of an ld_imm64 (required for code 0x18).
 */
export function printBpfInsnLine(insn: BpfInsn, next?: BpfInsn, opts: DisasmOptions = {}): string {
  const code = insn.code;
  const cls = bpfClass(code);
  const c = `(${x02(code)}) `;
  if (cls === BPF_ALU || cls === BPF_ALU64) {
    const w = cls === BPF_ALU ? 'w' : 'r';
    if (bpfOp(code) === BPF_END) {
      // disasm.c:148 print_bpf_bswap_insn / disasm.c:138 print_bpf_end_insn
      if (cls === BPF_ALU64) return `${c}r${insn.dst} = bswap${insn.imm} r${insn.dst}`;
      return `${c}r${insn.dst} = ${bpfSrc(code) === BPF_TO_BE ? 'be' : 'le'}${insn.imm} r${insn.dst}`;
    }
    if (bpfOp(code) === 0x80) return `${c}${w}${insn.dst} = -${w}${insn.dst}`; // disasm.c:183 NEG
    const opStr = isSdivSmod(insn) ? BPF_ALU_SIGN_STRING[bpfOp(code) >> 4] : BPF_ALU_STRING[bpfOp(code) >> 4];
    if (bpfSrc(code) === BPF_X) {
      // disasm.c:188
      const sx = isMovsx(insn) ? str(BPF_MOVSX_STRING[(insn.off >> 3) - 1]) : '';
      return `${c}${w}${insn.dst} ${str(opStr)} ${sx}${w}${insn.src}`;
    }
    return `${c}${w}${insn.dst} ${str(opStr)} ${insn.imm}`; // disasm.c:197
  }
  if (cls === BPF_STX) {
    const sz = BPF_LDST_STRING[bpfSize(code) >> 3]!;
    const at = `(r${insn.dst} ${plusD(insn.off)})`;
    const mode = bpfMode(code);
    if (mode === BPF_MEM) return `${c}*(${sz} *)${at} = r${insn.src}`; // disasm.c:206
    if (mode === BPF_ATOMIC) {
      const imm = insn.imm;
      const dw = bpfSize(code) === BPF_DW ? '64' : '';
      if (imm === 0x00 || imm === 0x50 || imm === 0x40 || imm === 0xa0)
        return `${c}lock *(${sz} *)${at} ${str(BPF_ALU_STRING[imm >> 4])} r${insn.src}`; // disasm.c:214
      if (imm === (0x00 | BPF_FETCH) || imm === (0x50 | BPF_FETCH) || imm === (0x40 | BPF_FETCH) || imm === (0xa0 | BPF_FETCH))
        return `${c}r${insn.src} = atomic${dw}_fetch_${str(BPF_ATOMIC_ALU_STRING[(imm & 0xf0) >> 4])}((${sz} *)${at}, r${insn.src})`; // disasm.c:225
      if (imm === BPF_CMPXCHG) return `${c}r0 = atomic${dw}_cmpxchg((${sz} *)${at}, r0, r${insn.src})`; // disasm.c:233
      if (imm === BPF_XCHG) return `${c}r${insn.src} = atomic${dw}_xchg((${sz} *)${at}, r${insn.src})`; // disasm.c:241
    }
    return `BUG_${x02(code)}`; // disasm.c:247
  }
  if (cls === BPF_ST) {
    if (bpfMode(code) === BPF_MEM) return `${c}*(${BPF_LDST_STRING[bpfSize(code) >> 3]!} *)(r${insn.dst} ${plusD(insn.off)}) = ${insn.imm}`; // disasm.c:251
    if (bpfMode(code) === 0xc0) return `${c}nospec`; // disasm.c:257 BPF_NOSPEC
    return `BUG_st_${x02(code)}`; // disasm.c:259
  }
  if (cls === BPF_LDX) {
    const mode = bpfMode(code);
    if (mode !== BPF_MEM && mode !== BPF_MEMSX) return `BUG_ldx_${x02(code)}`; // disasm.c:263
    const sz = mode === BPF_MEM ? BPF_LDST_STRING[bpfSize(code) >> 3]! : str(BPF_LDSX_STRING[bpfSize(code) >> 3]);
    return `${c}r${insn.dst} = *(${sz} *)(r${insn.src} ${plusD(insn.off)})`; // disasm.c:266
  }
  if (cls === BPF_LD) {
    const sz = BPF_LDST_STRING[bpfSize(code) >> 3]!;
    if (bpfMode(code) === BPF_ABS) return `${c}r0 = *(${sz} *)skb[${insn.imm}]`; // disasm.c:274
    if (bpfMode(code) === BPF_IND) return `${c}r0 = *(${sz} *)skb[r${insn.src} + ${insn.imm}]`; // disasm.c:279
    if (bpfMode(code) === BPF_IMM && bpfSize(code) === BPF_DW) {
      // disasm.c:287: "we already made sure that the second part of the ldimm64 insn is accessible"
      if (next === undefined) throw new RangeError('ld_imm64 needs its second slot (next)');
      let imm = (BigInt(next.imm >>> 0) << 32n) | BigInt(insn.imm >>> 0);
      const isPtr =
        insn.src === BPF_PSEUDO_MAP_FD ||
        insn.src === BPF_PSEUDO_MAP_VALUE ||
        insn.src === BPF_PSEUDO_MAP_IDX ||
        insn.src === BPF_PSEUDO_MAP_IDX_VALUE ||
        insn.src === BPF_PSEUDO_BTF_ID;
      if (isPtr && opts.allowPtrLeaks === false) imm = 0n;
      // disasm.c:43 __func_imm_name
      const text = opts.immName ? opts.immName(insn, imm) : `0x${imm.toString(16)}`;
      return `${c}r${insn.dst} = ${text}`; // disasm.c:299
    }
    return `BUG_ld_${x02(code)}`; // disasm.c:304
  }
  // BPF_JMP32 || BPF_JMP (the only classes left)
  const op = bpfOp(code);
  const w = cls === BPF_JMP32 ? 'w' : 'r';
  if (op === 0x80) {
    // BPF_CALL, disasm.c:314 / disasm.c:320
    if (insn.src === BPF_PSEUDO_CALL) return `${c}call pc${funcGetName(insn, '', opts)}`;
    return `${c}call ${funcGetName(insn, 'unknown', opts)}#${insn.imm}`;
  }
  if (code === (BPF_JMP | 0x00)) return `${c}goto pc${plusD(insn.off)}`; // disasm.c:326
  if (code === (BPF_JMP32 | 0x00)) return `${c}gotol pc${plusD(insn.imm)}`; // disasm.c:329
  if (code === (BPF_JMP | BPF_EXIT)) return `${c}exit`; // disasm.c:332
  if (bpfSrc(code) === BPF_X) return `${c}if ${w}${insn.dst} ${str(BPF_JMP_STRING[op >> 4])} ${w}${insn.src} goto pc${plusD(insn.off)}`; // disasm.c:334
  return `${c}if ${w}${insn.dst} ${str(BPF_JMP_STRING[op >> 4])} 0x${(insn.imm >>> 0).toString(16)} goto pc${plusD(insn.off)}`; // disasm.c:342
}

export interface PrintOptions extends DisasmOptions {
  /** When set, print the prefixed form "%*d: (code) text" (the verifier log / bpftool xlated line). */
  readonly pc?: number;
  /** Width of the pc in the prefixed form (default 3: "  0: (bf) r6 = r1"). */
  readonly pcWidth?: number;
}

/**
 * The text of one instruction as print_bpf_insn prints it, without the "(code) " part
 * (e.g. "r0 = *(u32 *)(r6 +80)", "if r2 s< 0x2 goto pc+3", "exit"); with opts.pc, the prefixed form
 * "  0: (bf) r6 = r1". BUG lines (the printer's own unknown-opcode text) are returned as the kernel prints them.
 */
export function printBpfInsn(insn: BpfInsn, next?: BpfInsn, opts: PrintOptions = {}): string {
  const line = printBpfInsnLine(insn, next, opts);
  if (opts.pc !== undefined) return `${String(opts.pc).padStart(opts.pcWidth ?? 3)}: ${line}`;
  return line.startsWith('(') ? line.slice(5) : line;
}

/** Disassemble a whole program, one line per instruction (an ld_imm64 pair is one line, its second slot skipped). */
export function disasmProgram(insns: readonly BpfInsn[], opts: DisasmOptions & { readonly pcWidth?: number } = {}): string[] {
  const out: string[] = [];
  for (let pc = 0; pc < insns.length; pc++) {
    const insn = insns[pc]!;
    const isPair = insn.code === (BPF_LD | BPF_IMM | BPF_DW);
    if (isPair && pc + 1 >= insns.length) {
      out.push(`${String(pc).padStart(opts.pcWidth ?? 3)}: (${x02(insn.code)}) <ld_imm64 without its second slot>`);
      break;
    }
    out.push(printBpfInsn(insn, isPair ? insns[pc + 1] : undefined, { ...opts, pc }));
    if (isPair) pc++;
  }
  return out;
}

/** kernel/bpf/disasm.c:62 bpf_class_string */
export const BPF_CLASS_STRING: readonly string[] = ['ld', 'ldx', 'st', 'stx', 'alu', 'jmp', 'jmp32', 'alu64'];
