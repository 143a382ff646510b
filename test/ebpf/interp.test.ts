// ___bpf_prog_run (kernel/bpf/core.c:1680). Expected values are worked out by hand from the C cited.
import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import * as U from '../../model/uapi.js';
import {
  BPF_ARSH,
  BPF_CMPXCHG,
  BPF_DW,
  BPF_FETCH,
  BPF_JLE,
  BPF_JLT,
  BPF_JNE,
  BPF_JSGE,
  BPF_JSGT,
  BPF_JSLE,
  BPF_JSLT,
  BPF_MOV,
  BPF_TO_BE,
  BPF_TO_LE,
  BPF_XCHG,
  type BpfInsn,
  bpfAlu32Imm,
  bpfAlu32ImmOff,
  bpfAlu32Reg,
  bpfAlu32RegOff,
  bpfAlu64Imm,
  bpfAlu64ImmOff,
  bpfAlu64Reg,
  bpfAlu64RegOff,
  bpfAtomicOp,
  bpfBswap,
  bpfEmitCall,
  bpfEndian,
  bpfExitInsn,
  bpfJmp32A,
  bpfJmp32Imm,
  bpfJmp32Reg,
  bpfJmpA,
  bpfJmpImm,
  bpfJmpReg,
  bpfLdImm64,
  bpfLdxMem,
  bpfLdxMemsx,
  bpfMov32Imm,
  bpfMov64Imm,
  bpfMov64Reg,
  bpfRawInsn,
  bpfStMem,
  bpfStNospec,
  bpfStxMem,
} from '../../model/ebpf/insn.js';
import { EbpfVm, STACK_POISON, bpfInterpreterStackSize, bpfProgRun, compileEbpf, type EbpfStep, type HelperCall } from '../../model/ebpf/interp.js';
import { Memory, STACK_END_LO, makeFault, ptr64 } from '../../model/ebpf/memory.js';

const ld = (r: number, v: bigint): BpfInsn[] => bpfLdImm64(r, v);

function setup(helpers: Map<number, HelperCall> = new Map()) {
  const mem = new Memory();
  const data = mem.addRegion('data', 64, true);
  const ro = mem.addRegion('ro', 16, false);
  const vm = new EbpfVm(mem, helpers);
  return { mem, data, ro, vm };
}

/** Run `body` then exit; returns R0 as u64 (fails the test on a fault). */
function r0Of(body: BpfInsn[]): bigint {
  const { vm } = setup();
  vm.run(compileEbpf([...body, bpfExitInsn()]), 0, 0, 512);
  if (vm.fault) throw new Error(`fault ${vm.fault.kind}: ${vm.fault.detail}`);
  return vm.r0();
}

const M64 = 0xffffffffffffffffn;

test('ALU64 X/K: ADD SUB MUL AND OR XOR wrap mod 2^64, K sign-extended (core.c:1736 ALU)', (t) => {
  t.is(r0Of([...ld(0, M64), bpfAlu64Imm(U.BPF_ADD, 0, 1)]), 0n);
  t.is(r0Of([bpfMov64Imm(0, 0), bpfAlu64Imm(U.BPF_SUB, 0, 1)]), M64);
  // IMM -1 is (u64)(s64)-1 for ALU64 K
  t.is(r0Of([bpfMov64Imm(0, 0), bpfAlu64Imm(U.BPF_OR, 0, -1)]), M64);
  t.is(r0Of([...ld(0, 0x8000000000000000n), bpfMov64Imm(1, -1), bpfAlu64Reg(U.BPF_MUL, 0, 1)]), 0x8000000000000000n);
  t.is(r0Of([...ld(0, 0xffffffffn), bpfAlu64Reg(U.BPF_MUL, 0, 0)]), 0xfffffffe00000001n);
  t.is(r0Of([...ld(0, 0x123456789n), bpfAlu64Imm(U.BPF_MUL, 0, -2)]), BigInt.asUintN(64, -0x2468acf12n));
  t.is(r0Of([...ld(0, 0xff00ff00ff00ff00n), bpfAlu64Imm(U.BPF_AND, 0, -0x100)]), 0xff00ff00ff00ff00n);
  t.is(r0Of([...ld(0, 0xff00ff00ff00ff00n), bpfAlu64Imm(U.BPF_AND, 0, 0x0ff0)]), 0x0f00n);
  t.is(r0Of([...ld(0, 0xf0n), ...ld(1, 0xff0000000000000fn), bpfAlu64Reg(U.BPF_XOR, 0, 1)]), 0xff000000000000ffn);
  t.is(r0Of([...ld(0, 0x1n), ...ld(1, 0x100000000n), bpfAlu64Reg(U.BPF_OR, 0, 1), bpfAlu64Reg(U.BPF_AND, 0, 1)]), 0x100000000n);
  t.is(r0Of([...ld(0, 0x100000000n), bpfAlu64Imm(U.BPF_SUB, 0, 1)]), 0xffffffffn);
  t.is(r0Of([...ld(0, 5n), bpfMov64Imm(1, 7), bpfAlu64Reg(U.BPF_SUB, 0, 1)]), M64 - 1n);
  t.is(r0Of([...ld(0, 0xffffffffn), bpfMov64Imm(1, 1), bpfAlu64Reg(U.BPF_ADD, 0, 1)]), 0x100000000n);
  t.is(r0Of([...ld(0, 3n), bpfAlu64Imm(U.BPF_XOR, 0, -1)]), M64 - 3n);
});

test('ALU32: (u32) operands, result zero-extended (core.c:1736 ALU)', (t) => {
  t.is(r0Of([...ld(0, M64), bpfAlu32Imm(U.BPF_ADD, 0, 1)]), 0n);
  t.is(r0Of([...ld(0, M64), bpfAlu32Imm(U.BPF_ADD, 0, 0)]), 0xffffffffn, 'upper half cleared');
  t.is(r0Of([bpfMov64Imm(0, 0), bpfAlu32Imm(U.BPF_SUB, 0, 1)]), 0xffffffffn);
  t.is(r0Of([bpfMov32Imm(0, -0x80000000), bpfMov64Imm(1, -1), bpfAlu32Reg(U.BPF_MUL, 0, 1)]), 0x80000000n); // INT_MIN * -1
  t.is(r0Of([bpfMov32Imm(0, 0x10001), bpfAlu32Imm(U.BPF_MUL, 0, 0x10001)]), 0x20001n);
  t.is(r0Of([...ld(0, M64), bpfAlu32Imm(U.BPF_AND, 0, 0xff)]), 0xffn);
  t.is(r0Of([bpfMov64Imm(0, -1), bpfMov64Imm(1, 2), bpfAlu32Reg(U.BPF_AND, 0, 1)]), 2n);
  t.is(r0Of([bpfMov64Imm(0, 1), bpfAlu32Imm(U.BPF_OR, 0, -0x80000000)]), 0x80000001n);
  t.is(r0Of([bpfMov64Imm(0, 1), bpfMov64Imm(1, -1), bpfAlu32Reg(U.BPF_OR, 0, 1)]), 0xffffffffn);
  t.is(r0Of([bpfMov64Imm(0, 1), bpfAlu32Imm(U.BPF_XOR, 0, 3)]), 2n);
  t.is(r0Of([bpfMov64Imm(0, 5), bpfMov64Imm(1, 6), bpfAlu32Reg(U.BPF_XOR, 0, 1)]), 3n);
  t.is(r0Of([bpfMov64Imm(0, 5), bpfMov64Imm(1, 6), bpfAlu32Reg(U.BPF_ADD, 0, 1)]), 11n);
  t.is(r0Of([bpfMov64Imm(0, 5), bpfMov64Imm(1, 6), bpfAlu32Reg(U.BPF_SUB, 0, 1)]), 0xffffffffn);
  t.is(r0Of([bpfMov64Imm(0, -1), bpfAlu32Imm(U.BPF_NEG, 0, 0)]), 1n); // (u32) -DST
  t.is(r0Of([bpfMov32Imm(0, -0x80000000), bpfAlu32Imm(U.BPF_NEG, 0, 0)]), 0x80000000n);
  t.is(r0Of([bpfMov64Imm(0, 1), bpfAlu64Imm(U.BPF_NEG, 0, 0)]), M64);
  t.is(r0Of([...ld(0, 0x8000000000000000n), bpfAlu64Imm(U.BPF_NEG, 0, 0)]), 0x8000000000000000n);
  t.is(r0Of([...ld(0, 0x100000000n), bpfAlu64Imm(U.BPF_NEG, 0, 0)]), 0xffffffff00000000n);
});

test('shifts: register counts masked by the C, immediate counts masked like x86 (core.c:1722 SHT)', (t) => {
  t.is(r0Of([bpfMov64Imm(0, 1), bpfAlu64Imm(U.BPF_LSH, 0, 63)]), 0x8000000000000000n);
  t.is(r0Of([bpfMov64Imm(0, 1), bpfAlu64Imm(U.BPF_LSH, 0, 32)]), 0x100000000n);
  t.is(r0Of([bpfMov64Imm(0, 3), bpfAlu64Imm(U.BPF_LSH, 0, 31)]), 0x180000000n);
  t.is(r0Of([bpfMov64Imm(0, 1), bpfAlu64Imm(U.BPF_LSH, 0, 64)]), 1n, '64 & 63 = 0');
  t.is(r0Of([bpfMov64Imm(0, 1), bpfMov64Imm(1, 65), bpfAlu64Reg(U.BPF_LSH, 0, 1)]), 2n, 'SRC & 63');
  t.is(r0Of([bpfMov64Imm(0, 1), bpfAlu64Imm(U.BPF_LSH, 0, 0)]), 1n);
  t.is(r0Of([bpfMov32Imm(0, 1), bpfAlu32Imm(U.BPF_LSH, 0, 31)]), 0x80000000n);
  t.is(r0Of([bpfMov32Imm(0, 1), bpfAlu32Imm(U.BPF_LSH, 0, 32)]), 1n, '32 & 31 = 0');
  t.is(r0Of([bpfMov32Imm(0, 1), bpfMov64Imm(1, 33), bpfAlu32Reg(U.BPF_LSH, 0, 1)]), 2n, '(u32) SRC & 31');
  t.is(r0Of([bpfMov64Imm(0, -1), bpfAlu64Imm(U.BPF_RSH, 0, 63)]), 1n);
  t.is(r0Of([bpfMov64Imm(0, -1), bpfAlu64Imm(U.BPF_RSH, 0, 32)]), 0xffffffffn);
  t.is(r0Of([bpfMov64Imm(0, -1), bpfAlu64Imm(U.BPF_RSH, 0, 4)]), 0x0fffffffffffffffn);
  t.is(r0Of([bpfMov64Imm(0, -1), bpfMov64Imm(1, 60), bpfAlu64Reg(U.BPF_RSH, 0, 1)]), 0xfn);
  t.is(r0Of([bpfMov64Imm(0, -1), bpfAlu32Imm(U.BPF_RSH, 0, 31)]), 1n);
  t.is(r0Of([bpfMov64Imm(0, -1), bpfMov64Imm(1, 36), bpfAlu32Reg(U.BPF_RSH, 0, 1)]), 0x0fffffffn);
  t.is(r0Of([...ld(0, 0x8000000000000000n), bpfAlu64Imm(BPF_ARSH, 0, 63)]), M64);
  t.is(r0Of([...ld(0, 0x8000000000000000n), bpfAlu64Imm(BPF_ARSH, 0, 32)]), 0xffffffff80000000n);
  t.is(r0Of([...ld(0, 0x8000000000000000n), bpfAlu64Imm(BPF_ARSH, 0, 4)]), 0xf800000000000000n);
  t.is(r0Of([...ld(0, 0x8000000000000000n), bpfMov64Imm(1, 64 + 1), bpfAlu64Reg(BPF_ARSH, 0, 1)]), 0xc000000000000000n);
  // ALU_ARSH: (u64)(u32)(((s32) DST) >> n)
  t.is(r0Of([bpfMov32Imm(0, -0x80000000), bpfAlu32Imm(BPF_ARSH, 0, 31)]), 0xffffffffn);
  t.is(r0Of([bpfMov32Imm(0, -16), bpfMov64Imm(1, 2 + 32), bpfAlu32Reg(BPF_ARSH, 0, 1)]), 0xfffffffcn);
});

test('MOV and MOVSX by off; other off values leave DST unchanged (core.c:1765, :1781)', (t) => {
  t.is(r0Of([bpfMov64Imm(0, -2)]), M64 - 1n);
  t.is(r0Of([bpfMov32Imm(0, -2)]), 0xfffffffen);
  t.is(r0Of([...ld(1, 0xaaaabbbb12345680n), bpfAlu64RegOff(BPF_MOV, 0, 1, 8)]), M64 - 0x7fn); // (s8)0x80 = -128
  t.is(r0Of([...ld(1, 0xaaaabbbb1234f000n), bpfAlu64RegOff(BPF_MOV, 0, 1, 16)]), BigInt.asUintN(64, -0x1000n));
  t.is(r0Of([...ld(1, 0x00000000ffffffffn), bpfAlu64RegOff(BPF_MOV, 0, 1, 32)]), M64);
  t.is(r0Of([...ld(1, 0x123456789n), bpfAlu64RegOff(BPF_MOV, 0, 1, 0)]), 0x123456789n);
  t.is(r0Of([...ld(1, 0x1ffn), bpfAlu32RegOff(BPF_MOV, 0, 1, 8)]), 0xffffffffn); // (u32)(s8)0xff
  t.is(r0Of([...ld(1, 0x7fffn), bpfAlu32RegOff(BPF_MOV, 0, 1, 16)]), 0x7fffn);
  t.is(r0Of([...ld(1, 0x123456789n), bpfAlu32RegOff(BPF_MOV, 0, 1, 0)]), 0x23456789n);
  t.is(r0Of([bpfMov64Imm(0, 7), bpfMov64Imm(1, -1), bpfAlu32RegOff(BPF_MOV, 0, 1, 32)]), 7n, 'ALU_MOV_X has no case 32');
  t.is(r0Of([bpfMov64Imm(0, 7), bpfMov64Imm(1, -1), bpfAlu64RegOff(BPF_MOV, 0, 1, 1)]), 7n);
});

test('DIV/MOD unsigned and signed (core.c:1816-1925)', (t) => {
  // ALU32 unsigned: (u32) operands
  t.is(r0Of([bpfMov64Imm(0, -1), bpfAlu32Imm(U.BPF_DIV, 0, 2)]), 0x7fffffffn);
  t.is(r0Of([bpfMov64Imm(0, -1), bpfMov64Imm(1, 10), bpfAlu32Reg(U.BPF_MOD, 0, 1)]), 5n); // 4294967295 % 10
  t.is(r0Of([bpfMov64Imm(0, 7), bpfAlu32Imm(U.BPF_MOD, 0, -1)]), 7n, '(u32) IMM = 0xffffffff');
  // ALU32 signed: quotient sign from the operand signs, remainder sign from the dividend
  t.is(r0Of([bpfMov32Imm(0, -7), bpfAlu32ImmOff(U.BPF_DIV, 0, 2, 1)]), 0xfffffffdn); // -3
  t.is(r0Of([bpfMov32Imm(0, -7), bpfAlu32ImmOff(U.BPF_DIV, 0, -2, 1)]), 3n);
  t.is(r0Of([bpfMov32Imm(0, 7), bpfMov32Imm(1, -2), bpfAlu32RegOff(U.BPF_DIV, 0, 1, 1)]), 0xfffffffdn);
  t.is(r0Of([bpfMov32Imm(0, -7), bpfAlu32ImmOff(U.BPF_MOD, 0, 2, 1)]), 0xffffffffn); // -1
  t.is(r0Of([bpfMov32Imm(0, 7), bpfAlu32ImmOff(U.BPF_MOD, 0, -2, 1)]), 1n);
  t.is(r0Of([bpfMov32Imm(0, -0x80000000), bpfAlu32ImmOff(U.BPF_DIV, 0, -1, 1)]), 0x80000000n);
  // abs(INT_MIN) = INT_MIN lands in the u64 AX as 0xffffffff80000000; / 2 = 0x7fffffffc0000000, and the
  // different signs give (u32) -AX = 0x40000000 (not INT_MIN / 2 = 0xc0000000): kernel behaviour.
  t.is(r0Of([bpfMov32Imm(0, -0x80000000), bpfAlu32ImmOff(U.BPF_DIV, 0, 2, 1)]), 0x40000000n);
  // INT_MIN % 7: AX = 0xffffffff80000000 % 7 = 0 (2^64 = 2^31 = 2 mod 7), so DST = 0, not -2
  t.is(r0Of([bpfMov32Imm(0, -0x80000000), bpfAlu32ImmOff(U.BPF_MOD, 0, 7, 1)]), 0n);
  // ALU64 unsigned with IMM sign-extended: div64_u64(DST, (u64)(s64)-1)
  t.is(r0Of([bpfMov64Imm(0, -1), bpfAlu64Imm(U.BPF_DIV, 0, -1)]), 1n);
  t.is(r0Of([...ld(0, 0x123456789abcdefn), bpfAlu64Imm(U.BPF_DIV, 0, 0x10)]), 0x123456789abcden);
  t.is(r0Of([...ld(0, 0x123456789abcdefn), bpfAlu64Imm(U.BPF_MOD, 0, 0x10)]), 0xfn);
  t.is(r0Of([bpfMov64Imm(0, 100), bpfMov64Imm(1, 7), bpfAlu64Reg(U.BPF_DIV, 0, 1)]), 14n);
  t.is(r0Of([bpfMov64Imm(0, -7), bpfAlu64ImmOff(U.BPF_DIV, 0, 2, 1)]), M64 - 2n); // -3
  t.is(r0Of([bpfMov64Imm(0, -7), bpfAlu64ImmOff(U.BPF_MOD, 0, 2, 1)]), M64); // -1
  t.is(r0Of([bpfMov64Imm(0, 7), bpfMov64Imm(1, -2), bpfAlu64RegOff(U.BPF_MOD, 0, 1, 1)]), 1n);
  t.is(r0Of([bpfMov64Imm(0, 7), bpfMov64Imm(1, 2), bpfAlu64RegOff(U.BPF_DIV, 0, 1, 3)]), 7n, 'off 3: no case');
  t.is(r0Of([bpfMov64Imm(0, 7), bpfMov64Imm(1, 2), bpfAlu64RegOff(U.BPF_MOD, 0, 1, 3)]), 7n);
  t.is(r0Of([bpfMov64Imm(0, 7), bpfMov64Imm(1, 2), bpfAlu32RegOff(U.BPF_DIV, 0, 1, 3)]), 7n);
  t.is(r0Of([bpfMov64Imm(0, 7), bpfMov64Imm(1, 2), bpfAlu32RegOff(U.BPF_MOD, 0, 1, 3)]), 7n);
});

test('DIV/MOD write the hidden AX register as the C does', (t) => {
  const { vm } = setup();
  // ALU_MOD_X off 0: AX = (u32) DST; DST = do_div(AX, (u32) SRC): AX ends as the quotient
  vm.run(compileEbpf([bpfMov64Imm(0, 17), bpfMov64Imm(1, 5), bpfAlu32Reg(U.BPF_MOD, 0, 1), bpfExitInsn()]), 0, 0, 32);
  t.is(vm.r0(), 2n);
  t.is(vm.reg(11), 3n);
  // ALU64_MOD_X off 0: div64_u64_rem(DST, SRC, &AX); DST = AX
  vm.run(compileEbpf([bpfMov64Imm(0, 17), bpfMov64Imm(1, 5), bpfAlu64Reg(U.BPF_MOD, 0, 1), bpfExitInsn()]), 0, 0, 32);
  t.is(vm.reg(11), 2n);
  // with DST = AX the sign test of ALU_DIV off 1 reads the new AX: -6 / 3 gives 2 (kernel quirk)
  vm.run(compileEbpf([bpfMov32Imm(11, -6), bpfMov64Imm(1, 3), bpfAlu32RegOff(U.BPF_DIV, 11, 1, 1), bpfMov64Reg(0, 11), bpfExitInsn()]), 0, 0, 32);
  t.is(vm.r0(), 2n);
});

test('division by zero and S64_MIN / -1 fault (x86 #DE)', (t) => {
  const { vm } = setup();
  const run = (insns: BpfInsn[]) => {
    vm.run(compileEbpf([...insns, bpfExitInsn()]), 0, 0, 32);
    return vm.fault?.kind;
  };
  t.is(run([bpfMov64Imm(0, 1), bpfMov64Imm(1, 0), bpfAlu32Reg(U.BPF_DIV, 0, 1)]), 'div-by-zero');
  t.is(run([bpfMov64Imm(0, 1), ...ld(1, 0x100000000n), bpfAlu32Reg(U.BPF_MOD, 0, 1)]), 'div-by-zero', '(u32) SRC = 0');
  t.is(run([bpfMov64Imm(0, 1), bpfAlu64Imm(U.BPF_MOD, 0, 0)]), 'div-by-zero');
  t.is(run([bpfMov64Imm(0, 1), bpfAlu64ImmOff(U.BPF_DIV, 0, 0, 1)]), 'div-by-zero');
  t.is(run([bpfMov64Imm(0, 1), bpfAlu32ImmOff(U.BPF_DIV, 0, 0, 1)]), 'div-by-zero');
  t.is(run([bpfMov64Imm(0, 1), bpfAlu32ImmOff(U.BPF_MOD, 0, 0, 1)]), 'div-by-zero');
  t.is(run([...ld(0, 0x8000000000000000n), bpfAlu64ImmOff(U.BPF_DIV, 0, -1, 1)]), 'div-overflow');
  t.is(run([...ld(0, 0x8000000000000000n), bpfAlu64ImmOff(U.BPF_MOD, 0, -1, 1)]), 'div-overflow');
  t.is(vm.fault?.pc, 2);
  t.is(run([bpfMov64Imm(0, 1), bpfAlu64ImmOff(U.BPF_DIV, 0, 0, 2)]), undefined, 'off 2: nothing runs');
});

test('END and BSWAP on a little-endian host (core.c:1926, :1939, :1952)', (t) => {
  const v = 0x8877665544332211n;
  t.is(r0Of([...ld(0, v), bpfEndian(BPF_TO_BE, 0, 16)]), 0x1122n);
  t.is(r0Of([...ld(0, v), bpfEndian(BPF_TO_BE, 0, 32)]), 0x11223344n);
  t.is(r0Of([...ld(0, v), bpfEndian(BPF_TO_BE, 0, 64)]), 0x1122334455667788n);
  t.is(r0Of([...ld(0, v), bpfEndian(BPF_TO_LE, 0, 16)]), 0x2211n);
  t.is(r0Of([...ld(0, v), bpfEndian(BPF_TO_LE, 0, 32)]), 0x44332211n);
  t.is(r0Of([...ld(0, v), bpfEndian(BPF_TO_LE, 0, 64)]), v);
  t.is(r0Of([...ld(0, v), bpfBswap(0, 16)]), 0x1122n);
  t.is(r0Of([...ld(0, v), bpfBswap(0, 32)]), 0x11223344n);
  t.is(r0Of([...ld(0, v), bpfBswap(0, 64)]), 0x1122334455667788n);
  t.is(r0Of([...ld(0, v), bpfEndian(BPF_TO_BE, 0, 8)]), v, 'other imm: no case');
  t.is(r0Of([...ld(0, v), bpfBswap(0, 8)]), v);
});

test('JMP compares 64 bits with IMM sign-extended; JMP32 the low words (core.c:2020 COND_JMP)', (t) => {
  // R0 = 1 if taken else 2
  const jt = (setupInsns: BpfInsn[], j: BpfInsn): bigint => r0Of([...setupInsns, { ...j, off: 2 }, bpfMov64Imm(0, 2), bpfJmpA(1), bpfMov64Imm(0, 1)]);
  const r1max = ld(1, M64);
  t.is(jt(r1max, bpfJmpImm(U.BPF_JEQ, 1, -1, 0)), 1n, '(u64)(s64) -1 == 0xffff...');
  t.is(jt(r1max, bpfJmp32Imm(U.BPF_JEQ, 1, -1, 0)), 1n);
  t.is(jt(ld(1, 0xffffffffn), bpfJmpImm(U.BPF_JEQ, 1, -1, 0)), 2n, '0xffffffff != (u64) -1');
  t.is(jt(ld(1, 0xffffffffn), bpfJmp32Imm(U.BPF_JEQ, 1, -1, 0)), 1n);
  t.is(jt(r1max, bpfJmpImm(BPF_JNE, 1, 0, 0)), 1n);
  t.is(jt(ld(1, 0x100000000n), bpfJmp32Imm(BPF_JNE, 1, 0, 0)), 2n);
  t.is(jt(r1max, bpfJmpImm(U.BPF_JGT, 1, 1, 0)), 1n, 'unsigned');
  t.is(jt(r1max, bpfJmpImm(BPF_JSGT, 1, 1, 0)), 2n, 'signed: -1 > 1 is false');
  t.is(jt(r1max, bpfJmpImm(BPF_JSLT, 1, 0, 0)), 1n);
  t.is(jt(ld(1, 0x80000000n), bpfJmpImm(BPF_JSLT, 1, 0, 0)), 2n, 'positive as s64');
  t.is(jt(ld(1, 0x80000000n), bpfJmp32Imm(BPF_JSLT, 1, 0, 0)), 1n, 'negative as s32');
  t.is(jt(ld(1, 5n), bpfJmpImm(U.BPF_JGE, 1, 5, 0)), 1n);
  t.is(jt(ld(1, 5n), bpfJmpImm(BPF_JLT, 1, 5, 0)), 2n);
  t.is(jt(ld(1, 5n), bpfJmpImm(BPF_JLE, 1, 5, 0)), 1n);
  t.is(jt(ld(1, 5n), bpfJmpImm(BPF_JSGE, 1, 6, 0)), 2n);
  t.is(jt(ld(1, 5n), bpfJmpImm(BPF_JSLE, 1, -6, 0)), 2n);
  t.is(jt(ld(1, 0x100000000n), bpfJmpImm(U.BPF_JSET, 1, -1, 0)), 1n, 'IMM sign-extended covers bit 32');
  t.is(jt(ld(1, 0x100000000n), bpfJmp32Imm(U.BPF_JSET, 1, -1, 0)), 2n);
  const two = [...ld(1, 0xffffffff00000001n), ...ld(2, 0x2n)];
  t.is(jt(two, bpfJmpReg(U.BPF_JGT, 1, 2, 0)), 1n);
  t.is(jt(two, bpfJmp32Reg(U.BPF_JGT, 1, 2, 0)), 2n);
  t.is(jt(two, bpfJmpReg(BPF_JSLT, 1, 2, 0)), 1n);
  t.is(jt(two, bpfJmp32Reg(BPF_JLT, 1, 2, 0)), 1n);
  t.is(jt(two, bpfJmp32Reg(BPF_JLE, 1, 2, 0)), 1n);
  t.is(jt(two, bpfJmp32Reg(U.BPF_JGE, 1, 2, 0)), 2n);
  t.is(jt(two, bpfJmp32Reg(BPF_JSGT, 1, 2, 0)), 2n);
  t.is(jt(two, bpfJmp32Reg(BPF_JSGE, 1, 2, 0)), 2n);
  t.is(jt(two, bpfJmp32Reg(BPF_JSLE, 1, 2, 0)), 1n);
  t.is(jt(two, bpfJmp32Reg(BPF_JNE, 1, 2, 0)), 1n);
  t.is(jt(two, bpfJmp32Reg(U.BPF_JSET, 1, 2, 0)), 2n);
  t.is(jt(two, bpfJmpReg(BPF_JSGE, 1, 2, 0)), 2n);
  t.is(jt(two, bpfJmpReg(BPF_JSLE, 1, 2, 0)), 1n);
  t.is(jt(two, bpfJmpReg(BPF_JLE, 1, 2, 0)), 2n);
  // JA by off, JMP32 JA (gotol) by imm
  t.is(r0Of([bpfMov64Imm(0, 1), bpfJmpA(1), bpfMov64Imm(0, 2)]), 1n);
  t.is(r0Of([bpfMov64Imm(0, 1), bpfJmp32A(1), bpfMov64Imm(0, 2)]), 1n);
});

test('LDX/ST/STX of every size, little-endian, MEMSX sign-extends (core.c:2070 LDST, :2092 LDSX)', (t) => {
  const { vm, data } = setup();
  data.setBytes(Uint8Array.from({ length: 16 }, (_, i) => 0xf0 + i));
  const r1 = [...ld(1, data.addr(0))];
  const run = (insns: BpfInsn[]) => {
    vm.run(compileEbpf([...r1, ...insns, bpfExitInsn()]), 0, 0, 512);
    t.is(vm.fault, null);
    return vm.r0();
  };
  t.is(run([bpfLdxMem(U.BPF_B, 0, 1, 0)]), 0xf0n);
  t.is(run([bpfLdxMem(U.BPF_H, 0, 1, 1)]), 0xf2f1n);
  t.is(run([bpfLdxMem(U.BPF_W, 0, 1, 0)]), 0xf3f2f1f0n);
  t.is(run([bpfLdxMem(BPF_DW, 0, 1, 8)]), 0xfffefdfcfbfaf9f8n);
  t.is(run([bpfLdxMemsx(U.BPF_B, 0, 1, 0)]), M64 - 0xfn); // (s8)0xf0 = -16
  t.is(run([bpfLdxMemsx(U.BPF_H, 0, 1, 0)]), 0xfffffffffffff1f0n);
  t.is(run([bpfLdxMemsx(U.BPF_W, 0, 1, 0)]), 0xfffffffff3f2f1f0n);
  // ST stores (uN) IMM; DW sign-extends IMM
  t.is(run([bpfStMem(BPF_DW, 1, 0, -2), bpfLdxMem(BPF_DW, 0, 1, 0)]), M64 - 1n);
  t.is(run([bpfStMem(U.BPF_H, 1, 0, 0x12345), bpfLdxMem(U.BPF_W, 0, 1, 0)]), 0xffff2345n, 'only 2 bytes written (after the DW store of -2)');
  t.is(run([bpfStMem(U.BPF_B, 1, 0, 0x1ff), bpfStMem(U.BPF_W, 1, 4, 7), bpfLdxMem(BPF_DW, 0, 1, 0)]), 0x00000007ffff23ffn);
  t.is(run([...ld(2, 0x1122334455667788n), bpfStxMem(U.BPF_B, 1, 2, 0), bpfStxMem(U.BPF_H, 1, 2, 2), bpfLdxMem(U.BPF_W, 0, 1, 0)]), 0x77882388n); // byte 1 still 0x23
  t.is(run([...ld(2, 0x1122334455667788n), bpfStxMem(U.BPF_W, 1, 2, 0), bpfStxMem(BPF_DW, 1, 2, 8), bpfLdxMem(BPF_DW, 0, 1, 4)]), 0x5566778800000007n); // bytes 4..7 still 07 00 00 00
  t.is(data.bytes()[15], 0x11);
});

test('memory faults: unmapped, out of bounds, read-only, stack size (memory.ts)', (t) => {
  const { vm, data, ro } = setup();
  data.resize(8);
  const prog = (insns: BpfInsn[]) => compileEbpf([...insns, bpfExitInsn()]);
  vm.run(prog([bpfMov64Imm(1, 0), bpfLdxMem(U.BPF_B, 0, 1, 0)]), 0, 0, 32);
  t.like(vm.fault, { kind: 'unmapped', pc: 1, addr: 0n, size: 1, region: null, write: false });
  vm.run(prog([...ld(1, data.addr(0)), bpfLdxMem(U.BPF_W, 0, 1, 6)]), 0, 0, 32);
  t.like(vm.fault, { kind: 'out-of-bounds', pc: 2, size: 4, region: 'data' }, 'crosses the region end');
  vm.run(prog([...ld(1, data.addr(0)), bpfLdxMem(U.BPF_B, 0, 1, -1)]), 0, 0, 32);
  t.like(vm.fault, { kind: 'out-of-bounds', addr: data.addr(-1) });
  vm.run(prog([...ld(1, ro.addr(0)), bpfStMem(U.BPF_B, 1, 0, 1)]), 0, 0, 32);
  t.like(vm.fault, { kind: 'out-of-bounds' }, 'ro has size 0');
  ro.setBytes(new Uint8Array(4));
  vm.run(prog([...ld(1, ro.addr(0)), bpfStMem(U.BPF_B, 1, 0, 1)]), 0, 0, 32);
  t.like(vm.fault, { kind: 'read-only', write: true, region: 'ro' });
  vm.run(prog([...ld(1, ro.addr(0)), bpfMov64Imm(2, 1), bpfStxMem(U.BPF_W, 1, 2, 0)]), 0, 0, 32);
  t.like(vm.fault, { kind: 'read-only' });
  vm.run(prog([...ld(1, ro.addr(0)), bpfMov64Imm(2, 1), bpfAtomicOp(U.BPF_W, U.BPF_ADD, 1, 2, 0)]), 0, 0, 32);
  t.like(vm.fault, { kind: 'read-only' });
  vm.run(prog([bpfLdxMem(BPF_DW, 0, 10, -32)]), 0, 0, 32);
  t.is(vm.fault, null, 'FP-32 is inside a 32-byte stack');
  t.is(vm.r0(), 0xccccccccccccccccn, 'the stack is poisoned');
  vm.run(prog([bpfLdxMem(U.BPF_B, 0, 10, -33)]), 0, 0, 32);
  t.like(vm.fault, { kind: 'out-of-bounds', region: 'stack' }, 'below FP - stack size');
  vm.run(prog([bpfLdxMem(U.BPF_B, 0, 10, 0)]), 0, 0, 32);
  t.like(vm.fault, { kind: 'out-of-bounds' }, 'at FP');
  // the address wraps into another hi word: lo 0 - 1
  vm.run(prog([bpfMov64Imm(1, 0), bpfLdxMem(U.BPF_B, 0, 1, -1)]), 0, 0, 32);
  t.like(vm.fault, { kind: 'unmapped', addr: M64 });
  vm.run(prog([...ld(1, 0x1fffffff0n), bpfLdxMem(U.BPF_B, 0, 1, 0x7fff)]), 0, 0, 32);
  t.like(vm.fault, { kind: 'unmapped', addr: 0x200007fefn });
  t.regex(vm.fault!.detail, /no region/);
});

test('atomics: add/and/or/xor with and without fetch, xchg, cmpxchg, W and DW (core.c:2107, :2127)', (t) => {
  const { vm, data } = setup();
  const run = (init: bigint, insns: BpfInsn[]): [bigint, bigint, bigint] => {
    const b = new Uint8Array(16);
    new DataView(b.buffer).setBigUint64(0, init, true);
    data.setBytes(b);
    vm.run(compileEbpf([...ld(1, data.addr(0)), ...insns, bpfExitInsn()]), 0, 0, 32);
    t.is(vm.fault, null);
    return [vm.r0(), vm.reg(2), new DataView(data.buf.buffer).getBigUint64(0, true)];
  };
  const src = ld(2, 0xf0000000ffffffffn);
  t.deepEqual(run(0x1n, [...src, bpfAtomicOp(BPF_DW, U.BPF_ADD, 1, 2, 0)]), [0n, 0xf0000000ffffffffn, 0xf000000100000000n]);
  t.deepEqual(run(0x1n, [...src, bpfAtomicOp(U.BPF_W, U.BPF_ADD, 1, 2, 0)]), [0n, 0xf0000000ffffffffn, 0n], 'W: only the low word, wraps');
  t.deepEqual(run(0x1n, [...src, bpfAtomicOp(BPF_DW, U.BPF_ADD | BPF_FETCH, 1, 2, 0)]), [0n, 1n, 0xf000000100000000n]);
  t.deepEqual(run(0x500000001n, [...src, bpfAtomicOp(U.BPF_W, U.BPF_ADD | BPF_FETCH, 1, 2, 0)]), [0n, 1n, 0x500000000n], 'SRC = (u32) old');
  t.deepEqual(run(0xff00n, [...src, bpfAtomicOp(BPF_DW, U.BPF_AND, 1, 2, 0)]), [0n, 0xf0000000ffffffffn, 0xff00n]);
  t.deepEqual(run(0xff00n, [bpfMov64Imm(2, 0x0ff0), bpfAtomicOp(U.BPF_W, U.BPF_AND | BPF_FETCH, 1, 2, 0)]), [0n, 0xff00n, 0x0f00n]);
  t.deepEqual(run(0x1n, [...src, bpfAtomicOp(BPF_DW, U.BPF_OR | BPF_FETCH, 1, 2, 0)]), [0n, 1n, 0xf0000000ffffffffn]);
  t.deepEqual(run(0x1n, [bpfMov64Imm(2, 2), bpfAtomicOp(U.BPF_W, U.BPF_OR, 1, 2, 0)]), [0n, 2n, 3n]);
  t.deepEqual(run(0x3n, [bpfMov64Imm(2, 1), bpfAtomicOp(BPF_DW, U.BPF_XOR, 1, 2, 0)]), [0n, 1n, 2n]);
  t.deepEqual(run(0x3n, [bpfMov64Imm(2, 1), bpfAtomicOp(U.BPF_W, U.BPF_XOR | BPF_FETCH, 1, 2, 0)]), [0n, 3n, 2n]);
  t.deepEqual(run(0x1111n, [...src, bpfAtomicOp(BPF_DW, BPF_XCHG, 1, 2, 0)]), [0n, 0x1111n, 0xf0000000ffffffffn]);
  t.deepEqual(run(0x900001111n, [...src, bpfAtomicOp(U.BPF_W, BPF_XCHG, 1, 2, 0)]), [0n, 0x1111n, 0x9ffffffffn]);
  // CMPXCHG: R0 = old; store SRC if old == R0 ((u32) compare for W)
  t.deepEqual(run(0x5n, [bpfMov64Imm(0, 5), bpfMov64Imm(2, 9), bpfAtomicOp(BPF_DW, BPF_CMPXCHG, 1, 2, 0)]), [5n, 9n, 9n]);
  t.deepEqual(run(0x5n, [bpfMov64Imm(0, 4), bpfMov64Imm(2, 9), bpfAtomicOp(BPF_DW, BPF_CMPXCHG, 1, 2, 0)]), [5n, 9n, 5n]);
  t.deepEqual(run(0x700000005n, [...ld(0, 0x100000005n), bpfMov64Imm(2, 9), bpfAtomicOp(U.BPF_W, BPF_CMPXCHG, 1, 2, 0)]), [5n, 9n, 0x700000009n]);
  t.deepEqual(run(0x700000005n, [...ld(0, 0x700000005n), bpfMov64Imm(2, 9), bpfAtomicOp(BPF_DW, BPF_CMPXCHG, 1, 2, 0)]), [0x700000005n, 9n, 9n]);
  t.deepEqual(run(0x700000005n, [...ld(0, 0x600000005n), bpfMov64Imm(2, 9), bpfAtomicOp(BPF_DW, BPF_CMPXCHG, 1, 2, 0)]), [0x700000005n, 9n, 0x700000005n]);
  // unknown imm: default_label
  vm.run(compileEbpf([...ld(1, data.addr(0)), bpfAtomicOp(BPF_DW, 0x02, 1, 2, 0), bpfExitInsn()]), 0, 0, 32);
  t.like(vm.fault, { kind: 'bug', pc: 2 });
  vm.run(compileEbpf([bpfMov64Imm(1, 0), bpfAtomicOp(BPF_DW, U.BPF_ADD, 1, 2, 0), bpfExitInsn()]), 0, 0, 32);
  t.like(vm.fault, { kind: 'unmapped', write: true });
});

test('entry state: regs zeroed, R1 = ctx, FP = end of the stack; result truncated to u32 (core.c:2176)', (t) => {
  const { vm, data } = setup();
  const trace: EbpfStep[] = [];
  const res = vm.run(compileEbpf([...ld(0, 0x1_0000_0002n), bpfExitInsn()]), data.hi, data.lo(0), 64, trace);
  t.is(res, 2);
  t.is(vm.r0(), 0x100000002n);
  t.is(trace.length, 2);
  t.is(trace[0]!.pc, 0);
  t.is(trace[1]!.pc, 2, 'lddw takes two slots');
  t.is(trace[0]!.regs[2], data.lo(0));
  t.is(trace[0]!.regs[3], data.hi);
  t.is(trace[0]!.regs[20], STACK_END_LO);
  t.is(trace[0]!.regs[0], 0);
  t.is(trace[1]!.regs[1], 1);
  t.is(vm.steps, 2);
  t.is(vm.reg(10), ptr64(vm.mem.stack.hi, STACK_END_LO));
  t.is(STACK_POISON, 0xcc);
  const r = bpfProgRun(vm, compileEbpf([bpfMov64Reg(0, 1), bpfExitInsn()]), { hi: data.hi, lo: data.lo(4) }, 0, true);
  t.is(r.result, data.lo(4));
  t.is(r.r0, data.addr(4));
  t.is(r.trace!.length, 2);
  t.is(r.steps, 2);
  t.is(r.fault, null);
  // runArgs: R1..R5 given
  vm.runArgs(compileEbpf([bpfMov64Reg(0, 5), bpfAlu64Reg(U.BPF_ADD, 0, 1), bpfExitInsn()]), [1n, 2n, 3n, 4n, M64], 32);
  t.is(vm.r0(), 0n);
  t.throws(() => vm.runArgs(compileEbpf([bpfExitInsn()]), [1n, 2n, 3n, 4n, 5n, 6n], 32));
  t.throws(() => vm.run(compileEbpf([bpfExitInsn()]), 0, 0, 513));
});

test('interpreters[] buckets: round_up(max(stack_depth, 1), 32) (core.c:2341)', (t) => {
  t.is(bpfInterpreterStackSize(0), 32);
  t.is(bpfInterpreterStackSize(1), 32);
  t.is(bpfInterpreterStackSize(32), 32);
  t.is(bpfInterpreterStackSize(33), 64);
  t.is(bpfInterpreterStackSize(4 * 15 + 4), 64); // cBPF M[15]
  t.is(bpfInterpreterStackSize(512), 512);
  t.throws(() => bpfInterpreterStackSize(513));
});

test('helper calls: table lookup, R0 set by the helper, R1..R5 kept; faults propagate', (t) => {
  const helpers = new Map<number, HelperCall>([
    [
      7,
      (regs) => {
        regs[0] = (regs[2]! + regs[4]!) >>> 0; // R0 = R1 + R2 (low words)
        regs[1] = 0;
        return null;
      },
    ],
    [8, (_r, _m, pc) => makeFault('helper', pc, 'boom')],
  ]);
  const { vm } = setup(helpers);
  vm.run(compileEbpf([bpfMov64Imm(1, 3), bpfMov64Imm(2, 4), bpfEmitCall(7), bpfAlu64Reg(U.BPF_ADD, 0, 1), bpfExitInsn()]), 0, 0, 32);
  t.is(vm.r0(), 10n);
  vm.run(compileEbpf([bpfEmitCall(8), bpfExitInsn()]), 0, 0, 32);
  t.like(vm.fault, { kind: 'helper', pc: 0, detail: 'boom' });
  vm.run(compileEbpf([bpfEmitCall(9), bpfExitInsn()]), 0, 0, 32);
  t.like(vm.fault, { kind: 'unknown-helper', pc: 0 });
});

test('faults: unknown opcode (default_label), bad register, pc out of range, step budget, internal opcodes', (t) => {
  const { vm, data } = setup();
  const run = (insns: BpfInsn[]) => {
    const res = vm.run(compileEbpf(insns), 0, 0, 32);
    t.is(res, 0);
    return vm.fault;
  };
  t.like(run([bpfRawInsn(0xdf, 0, 0, 0, 16), bpfExitInsn()]), { kind: 'bug', pc: 0, detail: 'BPF interpreter: unknown opcode df (imm: 0x10)' });
  t.like(run([bpfRawInsn(0x8c, 0, 0, 0, 0), bpfExitInsn()]), { kind: 'bug' }, 'ALU | NEG | X');
  t.like(run([bpfRawInsn(0x20, 0, 0, 0, 0), bpfExitInsn()]), { kind: 'bug' }, 'LD | ABS is rewritten before it could run');
  t.like(run([bpfRawInsn(0x00, 0, 0, 0, 0), bpfExitInsn()]), { kind: 'bug' });
  t.like(run([bpfMov64Imm(12, 1), bpfExitInsn()]), { kind: 'bad-register', pc: 0 });
  t.like(run([bpfAlu64Reg(U.BPF_ADD, 0, 13), bpfExitInsn()]), { kind: 'bad-register' });
  t.is(run([bpfJmpA(0), { ...bpfExitInsn(), dst: 15, src: 15 }]), null, 'unused register fields are not checked');
  t.like(run([bpfMov64Imm(0, 1)]), { kind: 'pc-out-of-range', pc: 1 });
  t.like(run([bpfJmpA(-2), bpfExitInsn()]), { kind: 'pc-out-of-range', pc: -1 });
  t.like(run([bpfLdImm64(0, 1n)[0]]), { kind: 'pc-out-of-range', pc: 1 });
  t.like(run([]), { kind: 'pc-out-of-range', pc: 0 });
  vm.stepBudget = 100;
  t.like(run([bpfJmpA(-1), bpfExitInsn()]), { kind: 'step-budget' });
  t.is(vm.steps, 100);
  vm.stepBudget = 1 << 20;
  t.like(run([bpfRawInsn(0xe5, 0, 0, 0, 0), bpfExitInsn()]), { kind: 'unsupported' });
  t.like(run([bpfRawInsn(0xf5, 0, 0, 0, 0), bpfExitInsn()]), { kind: 'unsupported' });
  // ST_NOSPEC is a no-op; PROBE_MEM reads like LDX and gives 0 on a fault
  data.setBytes(Uint8Array.of(0x80, 0xff, 0, 0, 0, 0, 0, 0));
  vm.run(compileEbpf([bpfStNospec(), ...ld(1, data.addr(0)), bpfRawInsn(0x51, 0, 1, 0, 0), bpfExitInsn()]), 0, 0, 32);
  t.is(vm.r0(), M64 - 0x7fn, 'PROBE_MEMSX_B');
  vm.run(compileEbpf([...ld(1, data.addr(0)), bpfRawInsn(0x29, 0, 1, 0, 0), bpfExitInsn()]), 0, 0, 32);
  t.is(vm.r0(), 0xff80n, 'PROBE_MEM_H');
  vm.run(compileEbpf([bpfMov64Imm(0, 5), bpfRawInsn(0x39, 0, 0, 0, 0), bpfExitInsn()]), 0, 0, 32);
  t.is(vm.fault, null);
  t.is(vm.r0(), 0n, 'PROBE_MEM_DW from NULL reads 0');
});

testProp(
  'ALU64 ADD/SUB/MUL/AND/OR/XOR/LSH/RSH agree with a BigInt reading of the C u64 operators',
  [fc.bigInt({ min: 0n, max: M64 }), fc.bigInt({ min: 0n, max: M64 })],
  (t, a, b) => {
    const cases: [number, bigint][] = [
      [U.BPF_ADD, (a + b) & M64],
      [U.BPF_SUB, (a - b) & M64],
      [U.BPF_MUL, (a * b) & M64],
      [U.BPF_AND, a & b],
      [U.BPF_OR, a | b],
      [U.BPF_XOR, a ^ b],
      [U.BPF_LSH, (a << (b & 63n)) & M64],
      [U.BPF_RSH, a >> (b & 63n)],
      [BPF_ARSH, BigInt.asUintN(64, BigInt.asIntN(64, a) >> (b & 63n))],
    ];
    for (const [op, want] of cases) t.is(r0Of([...ld(0, a), ...ld(1, b), bpfAlu64Reg(op, 0, 1)]), want, `op ${op.toString(16)}`);
    if (b !== 0n) {
      t.is(r0Of([...ld(0, a), ...ld(1, b), bpfAlu64Reg(U.BPF_DIV, 0, 1)]), a / b);
      t.is(r0Of([...ld(0, a), ...ld(1, b), bpfAlu64Reg(U.BPF_MOD, 0, 1)]), a % b);
      const sa = BigInt.asIntN(64, a);
      const sb = BigInt.asIntN(64, b);
      if (!(sa === -(1n << 63n) && sb === -1n)) {
        t.is(r0Of([...ld(0, a), ...ld(1, b), bpfAlu64RegOff(U.BPF_DIV, 0, 1, 1)]), BigInt.asUintN(64, sa / sb));
        t.is(r0Of([...ld(0, a), ...ld(1, b), bpfAlu64RegOff(U.BPF_MOD, 0, 1, 1)]), BigInt.asUintN(64, sa % sb));
      }
    }
  },
  { numRuns: 200 },
);
