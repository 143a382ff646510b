// print_bpf_insn text: each expected string is derived from the format strings of kernel/bpf/disasm.c (v6.6).
import test from 'ava';
import * as U from '../../model/uapi.js';
import {
  BPF_CMPXCHG,
  BPF_DW,
  BPF_FETCH,
  BPF_JNE,
  BPF_JSLT,
  BPF_PSEUDO_KFUNC_CALL,
  BPF_TO_BE,
  BPF_TO_LE,
  BPF_XCHG,
  bpfAlu32Imm,
  bpfAlu32ImmOff,
  bpfAlu32Reg,
  bpfAlu32RegOff,
  bpfAlu64Imm,
  bpfAlu64Reg,
  bpfAlu64RegOff,
  bpfAtomicOp,
  bpfBswap,
  bpfCallRel,
  bpfEmitCall,
  bpfEndian,
  bpfExitInsn,
  bpfJmp32A,
  bpfJmp32Reg,
  bpfJmpA,
  bpfJmpImm,
  bpfLdAbs,
  bpfLdImm64,
  bpfLdImm64Raw,
  bpfLdInd,
  bpfLdxMem,
  bpfLdxMemsx,
  bpfMov32Imm,
  bpfMov64Reg,
  bpfMovsx32Reg,
  bpfMovsx64Reg,
  bpfRawInsn,
  bpfStMem,
  bpfStNospec,
  bpfStxMem,
} from '../../model/ebpf/insn.js';
import { BPF_CLASS_STRING, disasmProgram, printBpfInsn, printBpfInsnLine } from '../../model/ebpf/disasm.js';

test('ALU and ALU64 (disasm.c:183, :188, :197)', (t) => {
  t.is(printBpfInsn(bpfMov64Reg(6, 1)), 'r6 = r1'); // "(%02x) %c%d %s %s%c%d"
  t.is(printBpfInsn(bpfAlu32Reg(U.BPF_XOR, 0, 0)), 'w0 ^= w0');
  t.is(printBpfInsn(bpfAlu64Imm(U.BPF_ADD, 1, -3)), 'r1 += -3'); // "%d" of the s32 imm
  t.is(printBpfInsn(bpfMov32Imm(0, 0xffff)), 'w0 = 65535');
  t.is(printBpfInsn(bpfAlu32Imm(U.BPF_LSH, 2, 3)), 'w2 <<= 3');
  t.is(printBpfInsn(bpfAlu64Reg(0xc0, 2, 3)), 'r2 s>>= r3');
  t.is(printBpfInsn(bpfAlu32Imm(U.BPF_NEG, 1, 0)), 'w1 = -w1'); // "(%02x) %c%d = -%c%d"
  t.is(printBpfInsn(bpfAlu64Imm(U.BPF_NEG, 1, 0)), 'r1 = -r1');
  t.is(printBpfInsn(bpfAlu64RegOff(U.BPF_DIV, 1, 2, 1)), 'r1 s/= r2'); // bpf_alu_sign_string
  t.is(printBpfInsn(bpfAlu32ImmOff(U.BPF_MOD, 1, -3, 1)), 'w1 s%= -3');
  t.is(printBpfInsn(bpfAlu64RegOff(U.BPF_DIV, 1, 2, 2)), 'r1 /= r2', 'off 2 is not sdiv');
  t.is(printBpfInsn(bpfMovsx64Reg(1, 2, 8)), 'r1 = (s8)r2'); // bpf_movsx_string[(off >> 3) - 1]
  t.is(printBpfInsn(bpfMovsx64Reg(1, 2, 32)), 'r1 = (s32)r2');
  t.is(printBpfInsn(bpfMovsx32Reg(1, 2, 16)), 'w1 = (s16)w2');
  t.is(printBpfInsn(bpfAlu32RegOff(0xb0, 1, 2, 32)), 'w1 = (s32)w2', 'is_movsx does not look at the class');
  t.is(printBpfInsn(bpfRawInsn(0xef, 1, 2, 0, 0)), 'r1 (null) r2', 'bpf_alu_string has no entry for 0xe0');
});

test('END and BSWAP (disasm.c:138, :148)', (t) => {
  t.is(printBpfInsn(bpfEndian(BPF_TO_BE, 0, 16)), 'r0 = be16 r0'); // "(%02x) r%d = %s%d r%d"
  t.is(printBpfInsn(bpfEndian(BPF_TO_LE, 3, 32)), 'r3 = le32 r3');
  t.is(printBpfInsn(bpfBswap(3, 64)), 'r3 = bswap64 r3'); // "(%02x) r%d = bswap%d r%d"
});

test('LDX, ST, STX and atomics (disasm.c:206-266)', (t) => {
  t.is(printBpfInsn(bpfLdxMem(U.BPF_W, 0, 6, 80)), 'r0 = *(u32 *)(r6 +80)'); // "%+d"
  t.is(printBpfInsn(bpfLdxMem(BPF_DW, 0, 10, -8)), 'r0 = *(u64 *)(r10 -8)');
  t.is(printBpfInsn(bpfLdxMemsx(U.BPF_H, 0, 1, 0)), 'r0 = *(s16 *)(r1 +0)');
  t.is(printBpfInsn(bpfRawInsn(0x99, 0, 1, 0, 0)), 'r0 = *((null) *)(r1 +0)', 'bpf_ldsx_string has no DW entry');
  t.is(printBpfInsn(bpfRawInsn(0x21, 0, 1, 0, 0)), 'BUG_ldx_21'); // PROBE_MEM is not printed
  t.is(printBpfInsn(bpfStMem(U.BPF_H, 10, -2, -1)), '*(u16 *)(r10 -2) = -1');
  t.is(printBpfInsn(bpfStxMem(U.BPF_B, 1, 2, -1)), '*(u8 *)(r1 -1) = r2');
  t.is(printBpfInsn(bpfStNospec()), 'nospec');
  t.is(printBpfInsn(bpfRawInsn(0x22, 0, 0, 0, 0)), 'BUG_st_22');
  t.is(printBpfInsn(bpfAtomicOp(BPF_DW, U.BPF_ADD, 1, 2, 0)), 'lock *(u64 *)(r1 +0) += r2');
  t.is(printBpfInsn(bpfAtomicOp(U.BPF_W, U.BPF_XOR, 1, 2, 4)), 'lock *(u32 *)(r1 +4) ^= r2');
  t.is(printBpfInsn(bpfAtomicOp(BPF_DW, U.BPF_AND | BPF_FETCH, 1, 2, -8)), 'r2 = atomic64_fetch_and((u64 *)(r1 -8), r2)');
  t.is(printBpfInsn(bpfAtomicOp(U.BPF_W, U.BPF_OR | BPF_FETCH, 1, 3, 4)), 'r3 = atomic_fetch_or((u32 *)(r1 +4), r3)');
  t.is(printBpfInsn(bpfAtomicOp(U.BPF_W, BPF_CMPXCHG, 1, 2, 0)), 'r0 = atomic_cmpxchg((u32 *)(r1 +0), r0, r2)');
  t.is(printBpfInsn(bpfAtomicOp(BPF_DW, BPF_XCHG, 1, 2, 0)), 'r2 = atomic64_xchg((u64 *)(r1 +0), r2)');
  t.is(printBpfInsn(bpfAtomicOp(BPF_DW, 0x02, 1, 2, 0)), 'BUG_db'); // "BUG_%02x"
  t.is(printBpfInsn(bpfRawInsn(0x43, 1, 2, 0, 0)), 'BUG_43');
});

test('LD: ABS, IND, ld_imm64 (disasm.c:274-304)', (t) => {
  t.is(printBpfInsn(bpfLdAbs(U.BPF_H, 12)), 'r0 = *(u16 *)skb[12]');
  t.is(printBpfInsn(bpfLdInd(U.BPF_B, 7, 14)), 'r0 = *(u8 *)skb[r7 + 14]');
  const [lo, hi] = bpfLdImm64(1, 0x1122334455667788n);
  t.is(printBpfInsn(lo, hi), 'r1 = 0x1122334455667788'); // "0x%llx"
  const [mlo, mhi] = bpfLdImm64Raw(1, 1, 5n);
  t.is(printBpfInsn(mlo, mhi), 'r1 = 0x5');
  t.is(printBpfInsn(mlo, mhi, { allowPtrLeaks: false }), 'r1 = 0x0', 'map fd hidden without allow_ptr_leaks');
  t.is(printBpfInsn(lo, hi, { immName: (_i, v) => `imm(${v})` }), 'r1 = imm(1234605616436508552)');
  t.throws(() => printBpfInsn(lo));
  t.is(printBpfInsn(bpfRawInsn(0x00, 0, 0, 0, 0)), 'BUG_ld_00');
});

test('JMP and JMP32 (disasm.c:314-342)', (t) => {
  t.is(printBpfInsn(bpfJmpImm(BPF_JSLT, 2, 2, 3)), 'if r2 s< 0x2 goto pc+3'); // "if %c%d %s 0x%x goto pc%+d"
  t.is(printBpfInsn(bpfJmpImm(U.BPF_JEQ, 1, -1, 1)), 'if r1 == 0xffffffff goto pc+1');
  t.is(printBpfInsn(bpfJmp32Reg(BPF_JNE, 1, 2, 0)), 'if w1 != w2 goto pc+0');
  t.is(printBpfInsn(bpfJmpA(-1)), 'goto pc-1');
  t.is(printBpfInsn(bpfJmp32A(70000)), 'gotol pc+70000');
  t.is(printBpfInsn(bpfExitInsn()), 'exit');
  t.is(printBpfInsn(bpfRawInsn(0x96, 0, 0, 0, 0)), 'if w0 exit 0x0 goto pc+0', 'JMP32 | EXIT is no exit for the printer');
  t.is(printBpfInsn(bpfEmitCall(7)), 'call unknown#7'); // strcpy(tmp, "unknown")
  t.is(printBpfInsn(bpfEmitCall(1), undefined, { funcIdStr: ['bpf_unspec', 'bpf_map_lookup_elem'] }), 'call bpf_map_lookup_elem#1');
  t.is(printBpfInsn(bpfEmitCall(5), undefined, { callName: () => 'bpf_skb_load_helper_32' }), 'call bpf_skb_load_helper_32#5');
  t.is(printBpfInsn(bpfEmitCall(5), undefined, { callName: () => null }), 'call unknown#5');
  t.is(printBpfInsn(bpfCallRel(4)), 'call pc+4'); // "%+d"
  t.is(printBpfInsn(bpfRawInsn(0x85, 0, BPF_PSEUDO_KFUNC_CALL, 0, 7)), 'call kernel-function#7');
});

test('prefixed form and whole programs', (t) => {
  t.is(printBpfInsn(bpfMov64Reg(6, 1), undefined, { pc: 0 }), '  0: (bf) r6 = r1');
  t.is(printBpfInsnLine(bpfExitInsn()), '(95) exit');
  t.is(printBpfInsn(bpfAtomicOp(BPF_DW, 0x02, 1, 2, 0), undefined, { pc: 12, pcWidth: 4 }), '  12: BUG_db');
  t.deepEqual(disasmProgram([bpfMov64Reg(6, 1), ...bpfLdImm64(0, 1n), bpfExitInsn()]), [
    '  0: (bf) r6 = r1',
    '  1: (18) r0 = 0x1',
    '  3: (95) exit',
  ]);
  t.deepEqual(disasmProgram([bpfExitInsn(), bpfLdImm64(0, 1n)[0]]), ['  0: (95) exit', '  1: (18) <ld_imm64 without its second slot>']);
  t.deepEqual(BPF_CLASS_STRING, ['ld', 'ldx', 'st', 'stx', 'alu', 'jmp', 'jmp32', 'alu64']);
});
