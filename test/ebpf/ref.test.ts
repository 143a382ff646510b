// The BigInt reference of ___bpf_prog_run (test/mutation/ref_ebpf.ts) and the eBPF differential check
// built on it (test/mutation/ebpf_diff.ts): the reference is checked on values worked out by hand from
// kernel/bpf/core.c and on the bpf_conformance suite, then the model must agree with it on random
// programs over the whole interpreter instruction set.
import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import { resolve } from 'node:path';
import type { BpfInsn } from '../../model/ebpf/insn.js';
import { refRun, type RefResult } from '../mutation/ref_ebpf.js';
import { DiffRunner, EDGE_CASES, assembleGen, diffCase, showInsns } from '../mutation/ebpf_diff.js';
import { loadConformance } from '../mutation/conformance.js';
import { EBPF_EXCLUSIONS } from '../conformance/ebpf_exclusions.js';
import { sharedDir } from '../_shared.js';
import { requires, sharedMissing } from '../_skip.js';

const M64 = (1n << 64n) - 1n;
const FP = (0xffff8880n << 32n) | 0x7ffff000n;
const I = (code: number, dst: number, src: number, off: number, imm: number): BpfInsn => ({ code, dst, src, off, imm });
const EXIT = I(0x95, 0, 0, 0, 0);
const run = (insns: BpfInsn[], args: bigint[] = []): RefResult => refRun(insns, { args, fp: FP, stackSize: 512, poison: 0xcc, stepBudget: 1000 });
/** lddw dst, v (two slots) */
const lddw = (dst: number, v: bigint): BpfInsn[] => [
  I(0x18, dst, 0, 0, Number(BigInt.asIntN(32, v & 0xffffffffn))),
  I(0, 0, 0, 0, Number(BigInt.asIntN(32, v >> 32n))),
];

test('reference: 32-bit signed division and modulo take abs() as core.c does, INT_MIN included', (t) => {
  // core.c ALU_DIV_X off 1: AX = abs((s32) DST) = abs(INT_MIN) = INT_MIN as an int, stored into the u64
  // AX as 0xffffffff80000000; do_div(AX, abs((s32) SRC)) with SRC = INT_MIN: __base = (u32) INT_MIN =
  // 0x80000000, AX = 0xffffffff80000000 / 0x80000000 = 0x1ffffffff; both negative: DST = (u32) AX.
  const sdiv = run([I(0xb4, 0, 0, 0, -0x80000000), I(0xb4, 1, 0, 0, -0x80000000), I(0x3c, 0, 1, 1, 0), EXIT]);
  t.is(sdiv.fault, null);
  t.is(sdiv.regs[0], 0xffffffffn);
  t.is(sdiv.regs[11], 0x1ffffffffn);
  // ALU_MOD_K off 1, DST = -7, IMM = 2: AX = 7, AX = do_div(AX, 2) = 1, DST < 0: DST = (u32) -AX
  const smod = run([I(0xb4, 0, 0, 0, -7), I(0x94, 0, 0, 1, 2), EXIT]);
  t.is(smod.regs[0], 0xffffffffn);
  t.is(smod.regs[11], 1n);
  // ALU_DIV_K off 1, DST = 7, IMM = -2: signs differ: DST = (u32) -AX = (u32) -3
  t.is(run([I(0xb4, 0, 0, 0, 7), I(0x34, 0, 0, 1, -2), EXIT]).regs[0], 0xfffffffdn);
  // ALU_MOD_X off 0 with SRC = AX: AX = (u32) DST is written first, so the divisor is (u32) DST: 9 % 9 = 0
  const ax = run([I(0xb4, 0, 0, 0, 9), I(0x9c, 0, 11, 0, 0), EXIT]);
  t.is(ax.fault, null);
  t.is(ax.regs[0], 0n);
  t.is(ax.regs[11], 1n);
});

test('reference: 64-bit division, S64_MIN / -1 and divide by zero trap; other off values do nothing', (t) => {
  // ALU64_MOD_X off 1: AX = div64_s64(-7, 2) = -3; DST = DST - AX * SRC = -7 + 6 = -1
  const r = run([...lddw(0, BigInt.asUintN(64, -7n)), I(0xb7, 1, 0, 0, 2), I(0x9f, 0, 1, 1, 0), EXIT]);
  t.is(r.regs[0], BigInt.asUintN(64, -1n));
  t.is(r.regs[11], BigInt.asUintN(64, -3n));
  // ALU64_DIV_K off 0: IMM = -1 is (u64) -1 for div64_u64: 5 / 0xffff...ff = 0
  t.is(run([I(0xb7, 0, 0, 0, 5), I(0x37, 0, 0, 0, -1), EXIT]).regs[0], 0n);
  t.is(run([...lddw(0, 1n << 63n), I(0x37, 0, 0, 1, -1), EXIT]).fault, 'div-overflow');
  t.is(run([I(0xb7, 0, 0, 0, 5), I(0x3f, 0, 1, 0, 0), EXIT]).fault, 'div-by-zero');
  // switch (OFF) has no default: off 2 leaves DST alone even with a zero divisor
  const off2 = run([I(0xb7, 0, 0, 0, 5), I(0x3f, 0, 1, 2, 0), I(0x3c, 0, 1, 2, 0), EXIT]);
  t.is(off2.fault, null);
  t.is(off2.regs[0], 5n);
});

test('reference: MOVSX, BSWAP, END and shifts', (t) => {
  // ALU64_MOV_X off 8: DST = (s8) SRC; ALU_MOV_X off 16: DST = (u32)(s16) SRC
  const m = run([I(0xb7, 1, 0, 0, 0x1280), I(0xbf, 0, 1, 8, 0), I(0xb4, 2, 0, 0, 0x18000), I(0xbc, 3, 2, 16, 0), I(0xbf, 4, 1, 24, 0), EXIT]);
  t.is(m.regs[0], 0xffffffffffffff80n);
  t.is(m.regs[3], 0xffff8000n);
  t.is(m.regs[4], 0n, 'off 24: no case, DST unchanged');
  // ALU64_END_TO_LE imm 32 (bswap32): __swab32 then (u32); ALU_END_TO_BE imm 16 on a little-endian host
  const lo = lddw(0, 0x1122334455667788n);
  t.is(run([...lo, I(0xd7, 0, 0, 0, 32), EXIT]).regs[0], 0x88776655n);
  t.is(run([...lo, I(0xdc, 0, 0, 0, 16), EXIT]).regs[0], 0x8877n);
  t.is(run([...lo, I(0xd4, 0, 0, 0, 32), EXIT]).regs[0], 0x55667788n);
  t.is(run([...lo, I(0xd7, 0, 0, 0, 64), EXIT]).regs[0], 0x8877665544332211n);
  // ALU_ARSH_K: (u64)(u32)(((s32) DST) >> IMM); ALU64_ARSH_X: SRC & 63
  t.is(run([I(0xb4, 0, 0, 0, -16), I(0xc4, 0, 0, 0, 2), EXIT]).regs[0], 0xfffffffcn);
  t.is(run([I(0xb7, 0, 0, 0, -16), I(0xb7, 1, 0, 0, 66), I(0xcf, 0, 1, 0, 0), EXIT]).regs[0], BigInt.asUintN(64, -4n));
});

test('reference: atomics, stores, sign-extending and probe loads on the stack', (t) => {
  const r = run([
    I(0x7a, 10, 0, -8, -2), // *(u64 *)(fp - 8) = (s64) -2
    I(0xb7, 1, 0, 0, 3),
    I(0xc3, 10, 1, -8, 0x01), // atomic_fetch_add((u32) 3, (u32 *)(fp - 8)): r1 = 0xfffffffe
    I(0xb7, 0, 0, 0, 1),
    I(0xb7, 2, 0, 0, 9),
    I(0xdb, 10, 2, -8, 0xf1), // cmpxchg64: old 0xffffffff00000001 != 1: no write, r0 = old
    I(0x91, 3, 10, -4, 0), // r3 = *(s8 *)(fp - 4) = (s8) 0xff (byte 4 of the u64 at fp - 8)
    I(0x39, 4, 5, 0, 0), // probe load through r5 = 0: zero
    EXIT,
  ]);
  t.is(r.fault, null);
  t.is(r.regs[1], 0xfffffffen);
  t.is(r.regs[0], 0xffffffff00000001n);
  t.is(r.regs[3], M64);
  t.is(r.regs[4], 0n);
  t.deepEqual([...r.stack.slice(504)], [0x01, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
  t.is(run([I(0x61, 0, 10, 0, 0), EXIT]).fault, 'out-of-bounds');
  t.is(run([I(0x61, 0, 1, 0, 0), EXIT]).fault, 'unmapped');
  t.is(run([I(0xc3, 10, 1, -8, 0xe0), EXIT]).fault, 'bug', 'BPF_XCHG without BPF_FETCH: default_label');
  t.is(run([I(0x8c, 0, 1, 0, 0), EXIT]).fault, 'bug', 'ALU_NEG_X is not in BPF_INSN_MAP');
});
test('reference: JMP32 compares the low halves, JMP32_JA jumps by imm, lddw needs its second slot', (t) => {
  const r = run([...lddw(1, 0x1_00000005n), I(0xb7, 0, 0, 0, 1), I(0x16, 1, 0, 1, 5), I(0xb7, 0, 0, 0, 2), I(0x06, 0, 0, 0, 1), I(0xb7, 0, 0, 0, 3), EXIT]);
  t.is(r.regs[0], 1n);
  t.is(run([I(0x18, 0, 0, 0, 1)]).fault, 'pc-out-of-range');
});

const confDir = sharedDir === null ? null : resolve(sharedDir, 'conformance', 'bpf_conformance');
if (confDir === null) {
  requires(sharedMissing, 'reference passes the bpf_conformance suite', () => undefined);
} else {
  test('reference passes the bpf_conformance suite (predicted faults for the exclusions)', (t) => {
    const excluded = new Map(EBPF_EXCLUSIONS.map((e) => [e.file, e.fault]));
    const mem = 0xffff888140000000n;
    let passed = 0;
    const failures: string[] = [];
    const cases = loadConformance(confDir);
    for (const { c, prog } of cases) {
      const r = refRun(prog.insns, { args: [mem, BigInt(c.mem.length)], fp: FP, stackSize: 512, poison: 0, stepBudget: 1 << 16, regions: [{ base: mem, bytes: c.mem }] });
      let want = excluded.get(c.name);
      if (want === 'unknown-helper') want = 'bug'; // the reference does not model CALL
      if (want !== undefined ? r.fault === want : r.fault === null && r.regs[0] === c.result) passed++;
      else failures.push(`${c.name}: fault ${r.fault} r0 0x${r.regs[0]!.toString(16)}`);
    }
    t.deepEqual(failures, []);
    t.is(passed, cases.length);
    t.true(passed > 200);
  });
}

test('assembleGen resolves forward jumps onto instruction starts (short ones skip 1..3) and ends with EXIT', (t) => {
  const p = assembleGen([
    { kind: 'jmp', insn: I(0x05, 0, 0, 0, 0), target: 0.99 },
    { kind: 'lddw', dst: 1, v: 0x1122334455667788n },
    { kind: 'jmp', insn: I(0x06, 0, 0, 0, 0), target: 0 },
    { kind: 'insn', insn: I(0xb7, 0, 0, 0, 1) },
  ]);
  t.is(p.length, 6);
  t.deepEqual(p[0], I(0x05, 0, 0, 4, 0)); // to the EXIT at 5
  t.deepEqual(p[1], I(0x18, 1, 0, 0, 0x55667788));
  t.deepEqual(p[2], I(0, 0, 0, 0, 0x11223344));
  t.deepEqual(p[3], I(0x06, 0, 0, 0, 1)); // a short jump skips at least one instruction; JMP32_JA by imm
  t.deepEqual(p[5], EXIT);
});

const runner = new DiffRunner();
test('the interpreter model agrees with the reference on the hand-made edge programs', (t) => {
  t.true(EDGE_CASES.length >= 10);
  for (const c of EDGE_CASES) t.is(runner.check(c, true), null, showInsns(c.insns));
});

testProp(
  'the interpreter model agrees with the reference on random programs (registers, AX, stack, fault)',
  [diffCase(), fc.boolean()],
  (t, c, trace) => {
    const d = runner.check(c, trace);
    if (d !== null) t.log(showInsns(c.insns));
    t.is(d, null);
  },
  { numRuns: 3000 },
);
