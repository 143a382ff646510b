// struct bpf_insn builders, image codec and the opcode table (include/linux/filter.h, kernel/bpf/core.c:1508).
import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import * as U from '../../model/uapi.js';
import {
  BPF_INSN_MAP_CODES,
  BPF_ALU64,
  BPF_ATOMIC,
  BPF_CMPXCHG,
  BPF_DW,
  BPF_FETCH,
  BPF_JMP32,
  BPF_JNE,
  BPF_JSGE,
  BPF_JSLT,
  BPF_MEMSX,
  BPF_MOV,
  BPF_TO_BE,
  BPF_XCHG,
  OPCODE_TABLE,
  assertBpfInsn,
  bpfAlu32Imm,
  bpfAlu32ImmOff,
  bpfAlu32Reg,
  bpfAlu64Imm,
  bpfAlu64ImmOff,
  bpfAlu64Reg,
  bpfAtomicOp,
  bpfBswap,
  bpfCallRel,
  bpfEmitCall,
  bpfEndian,
  bpfExitInsn,
  bpfJmp32A,
  bpfJmp32Imm,
  bpfJmp32Reg,
  bpfJmpA,
  bpfJmpImm,
  bpfJmpReg,
  bpfLdAbs,
  bpfLdImm64,
  bpfLdInd,
  bpfLdMapFd,
  bpfLdxMem,
  bpfLdxMemsx,
  bpfMov32Imm,
  bpfMov32Raw,
  bpfMov32Reg,
  bpfMov64Imm,
  bpfMov64Raw,
  bpfMov64Reg,
  bpfMovsx32Reg,
  bpfMovsx64Reg,
  bpfOpcodeInInsntable,
  bpfRawInsn,
  bpfStMem,
  bpfStNospec,
  bpfStxMem,
  bpfStxXadd,
  bpfZextReg,
  decodeInsns,
  encodeInsns,
  inInterpreterJumptable,
  insnIsZext,
  ldImm64Value,
  opcodeEntries,
  opcodeInfo,
  type BpfInsn,
} from '../../model/ebpf/insn.js';

test('builders give the opcode bytes of the kernel-spec table (digest §1.4)', (t) => {
  t.is(bpfAlu32Reg(U.BPF_XOR, 0, 0).code, 0xac);
  t.is(bpfAlu32Reg(U.BPF_SUB, 0, 7).code, 0x1c);
  t.is(bpfAlu32Imm(U.BPF_AND, 0, 1).code, 0x54);
  t.is(bpfAlu32Imm(U.BPF_LSH, 0, 1).code, 0x64);
  t.is(bpfMov32Imm(0, 1).code, 0xb4);
  t.is(bpfMov32Reg(0, 7).code, 0xbc);
  t.is(bpfMov64Reg(6, 1).code, 0xbf);
  t.is(bpfMov64Imm(0, 1).code, 0xb7);
  t.is(bpfAlu64Imm(U.BPF_ADD, 1, 1).code, 0x07);
  t.is(bpfAlu64Imm(U.BPF_SUB, 1, 1).code, 0x17);
  t.is(bpfEndian(BPF_TO_BE, 0, 16).code, 0xdc);
  t.deepEqual(
    [U.BPF_B, U.BPF_H, U.BPF_W, BPF_DW].map((s) => bpfLdxMem(s, 0, 1, 0).code),
    [0x71, 0x69, 0x61, 0x79],
  );
  t.is(bpfStxMem(U.BPF_W, 10, 0, -4).code, 0x63);
  t.is(bpfJmpA(3).code, 0x05);
  t.is(bpfJmpImm(U.BPF_JEQ, 0, 1, 1).code, 0x15);
  t.is(bpfJmpImm(BPF_JNE, 0, 1, 1).code, 0x55);
  t.is(bpfJmpImm(BPF_JSGE, 0, 1, 1).code, 0x75);
  t.is(bpfJmpImm(BPF_JSLT, 0, 1, 1).code, 0xc5);
  t.is(bpfEmitCall(7).code, 0x85);
  t.is(bpfExitInsn().code, 0x95);
});

test('builders fill the fields as the filter.h macros do', (t) => {
  t.deepEqual(bpfAlu64Reg(U.BPF_ADD, 1, 2), { code: 0x0f, dst: 1, src: 2, off: 0, imm: 0 });
  t.deepEqual(bpfAlu64Imm(U.BPF_DIV, 3, -1), { code: 0x37, dst: 3, src: 0, off: 0, imm: -1 });
  t.deepEqual(bpfAlu64ImmOff(U.BPF_DIV, 3, 5, 1), { code: 0x37, dst: 3, src: 0, off: 1, imm: 5 });
  t.deepEqual(bpfAlu32ImmOff(U.BPF_MOD, 3, 5, 1), { code: 0x94, dst: 3, src: 0, off: 1, imm: 5 });
  // imm is an s32: 0xffffffff becomes -1
  t.is(bpfMov32Imm(0, 0xffffffff).imm, -1);
  t.deepEqual(bpfZextReg(5), { code: 0xbc, dst: 5, src: 5, off: 0, imm: 1 });
  t.true(insnIsZext(bpfZextReg(5)));
  t.false(insnIsZext(bpfMov32Reg(5, 5)));
  t.deepEqual(bpfLdImm64(1, 0x1122334455667788n), [
    { code: 0x18, dst: 1, src: 0, off: 0, imm: 0x55667788 },
    { code: 0x00, dst: 0, src: 0, off: 0, imm: 0x11223344 },
  ]);
  const [a, b] = bpfLdImm64(2, -1n);
  t.is(a.imm, -1);
  t.is(b.imm, -1);
  t.is(ldImm64Value(a, b), 0xffffffffffffffffn);
  t.deepEqual(bpfLdMapFd(1, 3)[0], { code: 0x18, dst: 1, src: 1, off: 0, imm: 3 });
  t.deepEqual(bpfMov64Raw(U.BPF_X, 1, 2, 0), { code: 0xbf, dst: 1, src: 2, off: 0, imm: 0 });
  t.deepEqual(bpfMov32Raw(U.BPF_K, 1, 0, 9), { code: 0xb4, dst: 1, src: 0, off: 0, imm: 9 });
  t.deepEqual(bpfLdAbs(U.BPF_H, 12), { code: 0x28, dst: 0, src: 0, off: 0, imm: 12 });
  t.deepEqual(bpfLdInd(U.BPF_B, 7, 1), { code: 0x50, dst: 0, src: 7, off: 0, imm: 1 });
  t.deepEqual(bpfLdxMemsx(U.BPF_B, 0, 1, -2), { code: 0x91, dst: 0, src: 1, off: -2, imm: 0 });
  t.deepEqual(bpfAtomicOp(BPF_DW, U.BPF_ADD | BPF_FETCH, 1, 2, 8), { code: 0xdb, dst: 1, src: 2, off: 8, imm: 1 });
  t.deepEqual(bpfStxXadd(U.BPF_W, 1, 2, 0), { code: 0xc3, dst: 1, src: 2, off: 0, imm: 0 });
  t.deepEqual(bpfStMem(BPF_DW, 10, -8, 7), { code: 0x7a, dst: 10, src: 0, off: -8, imm: 7 });
  t.deepEqual(bpfJmpReg(U.BPF_JGT, 1, 2, -3), { code: 0x2d, dst: 1, src: 2, off: -3, imm: 0 });
  t.deepEqual(bpfJmp32Imm(U.BPF_JSET, 1, 4, 2), { code: 0x46, dst: 1, src: 0, off: 2, imm: 4 });
  t.deepEqual(bpfJmp32Reg(U.BPF_JGE, 1, 2, 2), { code: 0x3e, dst: 1, src: 2, off: 2, imm: 0 });
  t.deepEqual(bpfJmp32A(70000), { code: 0x06, dst: 0, src: 0, off: 0, imm: 70000 });
  t.deepEqual(bpfCallRel(4), { code: 0x85, dst: 0, src: 1, off: 0, imm: 4 });
  t.deepEqual(bpfBswap(3, 64), { code: 0xd7, dst: 3, src: 0, off: 0, imm: 64 });
  t.deepEqual(bpfMovsx64Reg(1, 2, 16), { code: 0xbf, dst: 1, src: 2, off: 16, imm: 0 });
  t.deepEqual(bpfMovsx32Reg(1, 2, 8), { code: 0xbc, dst: 1, src: 2, off: 8, imm: 0 });
  t.deepEqual(bpfStNospec(), { code: 0xc2, dst: 0, src: 0, off: 0, imm: 0 });
  t.deepEqual(bpfRawInsn(0x8d, 1, 2, 3, 4), { code: 0x8d, dst: 1, src: 2, off: 3, imm: 4 });
  // off is an s16: 0xffff becomes -1
  t.is(bpfJmpA(0xffff).off, -1);
});

test('encodeInsns writes the lddw image of bpf_conformance lddw.data -- raw', (t) => {
  // tests/lddw.data: 0x5566778800000018 0x1122334400000000 0x0000000000000095
  const bytes = encodeInsns([...bpfLdImm64(0, 0x1122334455667788n), bpfExitInsn()]);
  const v = new DataView(bytes.buffer);
  t.is(v.getBigUint64(0, true), 0x5566778800000018n);
  t.is(v.getBigUint64(8, true), 0x1122334400000000n);
  t.is(v.getBigUint64(16, true), 0x95n);
  // dst is the low nibble of byte 1 on a little-endian host (bpf.h:72)
  t.is(encodeInsns([bpfMov64Reg(6, 1)])[1], 0x16);
});

const arbInsn: fc.Arbitrary<BpfInsn> = fc.record({
  code: fc.integer({ min: 0, max: 255 }).filter((c) => c !== 0x18),
  dst: fc.integer({ min: 0, max: 15 }),
  src: fc.integer({ min: 0, max: 15 }),
  off: fc.integer({ min: -32768, max: 32767 }),
  imm: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
});

testProp('decodeInsns(encodeInsns(p)) = p', [fc.array(arbInsn, { maxLength: 30 })], (t, prog) => {
  const d = decodeInsns(encodeInsns(prog));
  t.true(d.ok);
  if (d.ok) t.deepEqual(d.insns, prog);
});

testProp('encodeInsns(decodeInsns(b)) = b for whole-slot images without a trailing lddw', [fc.array(arbInsn, { maxLength: 20 })], (t, prog) => {
  const bytes = encodeInsns(prog);
  const d = decodeInsns(bytes);
  t.true(d.ok);
  if (d.ok) t.deepEqual(encodeInsns(d.insns), bytes);
});

test('decodeInsns reports trailing bytes and a missing ld_imm64 second slot', (t) => {
  const r = decodeInsns(new Uint8Array(11));
  t.false(r.ok);
  if (!r.ok) t.is(r.error.offset, 8);
  const lone = decodeInsns(encodeInsns([bpfExitInsn(), bpfLdImm64(0, 1n)[0]]));
  t.false(lone.ok);
  if (!lone.ok) t.is(lone.error.offset, 8);
  // an lddw pair followed by exit decodes (the second slot's code 0 is not taken for a head)
  const ok = decodeInsns(encodeInsns([...bpfLdImm64(0, 1n), bpfExitInsn()]));
  t.true(ok.ok);
});

test('assertBpfInsn rejects fields out of their C width', (t) => {
  t.throws(() => assertBpfInsn({ code: 256, dst: 0, src: 0, off: 0, imm: 0 }, 0), { message: /code/ });
  t.throws(() => assertBpfInsn({ code: 0, dst: 16, src: 0, off: 0, imm: 0 }, 0), { message: /dst_reg/ });
  t.throws(() => assertBpfInsn({ code: 0, dst: 0, src: -1, off: 0, imm: 0 }, 0), { message: /src_reg/ });
  t.throws(() => assertBpfInsn({ code: 0, dst: 0, src: 0, off: 32768, imm: 0 }, 0), { message: /off/ });
  t.throws(() => assertBpfInsn({ code: 0, dst: 0, src: 0, off: 0, imm: 2 ** 31 }, 0), { message: /imm/ });
  t.throws(() => encodeInsns([{ code: 0.5, dst: 0, src: 0, off: 0, imm: 0 }]));
});

test('BPF_INSN_MAP has the 119 UAPI codes of core.c:1508', (t) => {
  // 27 ALU + 26 ALU64 + CALL + EXIT + 22 JMP32 + 22 JMP + 2 JA + 6 STX + 4 ST + 7 LDX + LD_IMM_DW
  t.is(BPF_INSN_MAP_CODES.size, 119);
  t.false(BPF_INSN_MAP_CODES.has(0xdf), 'ALU64 | END | TO_BE is not in the map');
  t.false(BPF_INSN_MAP_CODES.has(0x8c), 'ALU | NEG | X is not in the map');
  t.false(BPF_INSN_MAP_CODES.has(0xd3), 'STX | ATOMIC | B is not in the map');
  t.true(BPF_INSN_MAP_CODES.has(0xdb));
  t.true(BPF_INSN_MAP_CODES.has(0x06), 'JMP32 | JA (gotol)');
  t.true(BPF_INSN_MAP_CODES.has(U.BPF_LDX | BPF_MEMSX | U.BPF_W));
  t.false(BPF_INSN_MAP_CODES.has(0xc2), 'ST_NOSPEC is internal');
  t.true(inInterpreterJumptable(0xc2));
  t.false(inInterpreterJumptable(0x00));
});

test('bpf_opcode_in_insntable adds the six legacy LD_ABS/LD_IND codes (core.c:1649)', (t) => {
  for (const c of [0x20, 0x28, 0x30, 0x40, 0x48, 0x50]) t.true(bpfOpcodeInInsntable(c), c.toString(16));
  t.false(bpfOpcodeInInsntable(0x38), 'LD|ABS|DW');
  t.false(bpfOpcodeInInsntable(0x00));
  t.true(bpfOpcodeInInsntable(0x18));
});

test('opcodeInfo picks the off/imm variant', (t) => {
  t.is(opcodeInfo(bpfAlu64Reg(U.BPF_DIV, 1, 2))?.mnemonic, 'div');
  t.is(opcodeInfo({ ...bpfAlu32Reg(U.BPF_MOD, 1, 2), off: 1 })?.mnemonic, 'smod32');
  t.is(opcodeInfo({ ...bpfAlu32Reg(U.BPF_MOD, 1, 2), off: 2 }), undefined);
  t.is(opcodeInfo(bpfMovsx64Reg(1, 2, 32))?.mnemonic, 'movsx3264');
  t.is(opcodeInfo(bpfMovsx32Reg(1, 2, 32)), undefined, 'ALU_MOV_X has no case 32');
  t.is(opcodeInfo(bpfEndian(BPF_TO_BE, 1, 16))?.mnemonic, 'be16');
  t.is(opcodeInfo(bpfBswap(1, 32))?.mnemonic, 'bswap32');
  t.is(opcodeInfo(bpfEndian(BPF_TO_BE, 1, 8)), undefined);
  t.is(opcodeInfo(bpfAtomicOp(BPF_DW, BPF_CMPXCHG, 1, 2, 0))?.mnemonic, 'lock cmpxchg');
  t.is(opcodeInfo(bpfAtomicOp(U.BPF_W, BPF_XCHG, 1, 2, 0))?.mnemonic, 'lock xchg32');
  t.is(opcodeInfo(bpfAtomicOp(U.BPF_W, U.BPF_OR | BPF_FETCH, 1, 2, 0))?.label, 'STX_ATOMIC_W');
  t.is(opcodeInfo(bpfAtomicOp(U.BPF_W, 0x02, 1, 2, 0)), undefined);
  t.is(opcodeInfo(bpfAlu64Imm(U.BPF_NEG, 1, 0))?.label, 'ALU64_NEG');
  t.is(opcodeInfo(bpfExitInsn())?.macro, 'BPF_EXIT_INSN()');
  t.is(opcodeInfo(bpfJmp32Imm(BPF_JSLT, 1, 0, 0))?.label, 'JMP32_JSLT_K');
  t.is(opcodeInfo({ code: 0x00, dst: 0, src: 0, off: 0, imm: 0 }), undefined);
  t.is(opcodeEntries(BPF_ALU64 | BPF_MOV | U.BPF_X).length, 4);
  t.is(opcodeEntries(0x00).length, 0);
  t.is(opcodeEntries(BPF_JMP32 | BPF_ATOMIC).length, 1, '0xc6 is JMP32_JSLT_K');
  // every table entry names a label and a one-line semantics
  for (const e of OPCODE_TABLE) {
    t.regex(e.label, /^[A-Z0-9_]+$/);
    t.true(e.semantics.length > 0 && !e.semantics.includes('\n'));
  }
});
