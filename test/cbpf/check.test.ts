// Tests for model/cbpf/check.ts: bpf_check_basics_ok, chk_code_allowed, bpf_anc_helper,
// bpf_check_classic and check_load_and_stores of Linux v6.6 (6.6.y tree, net/core/filter.c).
// Every expected value below is worked out by hand from the kernel text, with the line cited.
import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import {
  ALLOWED_CODES,
  BPF_ANC,
  bpfAncHelper,
  bpfCheckBasicsOk,
  bpfCheckClassic,
  checkLoadAndStores,
  chkCodeAllowed,
  isAncillaryLoad,
} from '../../model/cbpf/check.js';
import { bpfJump, bpfStmt, type Program, type SockFilter } from '../../model/cbpf/insn.js';
import {
  ANCILLARY,
  BPF_A,
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
  BPF_LEN,
  BPF_LSH,
  BPF_MEM,
  BPF_MISC,
  BPF_MOD,
  BPF_MSH,
  BPF_MUL,
  BPF_NEG,
  BPF_OR,
  BPF_RET,
  BPF_RSH,
  BPF_ST,
  BPF_STX,
  BPF_SUB,
  BPF_TAX,
  BPF_TXA,
  BPF_W,
  BPF_X,
  BPF_XOR,
  ancillaryK,
} from '../../model/uapi.js';
import type { Rejection } from '../../model/verdict.js';
import { readSharedJson } from '../_shared.js';
import { requires, sharedMissing } from '../_skip.js';

// ---------------------------------------------------------------------------------------------
// Small assembler for readability (codes spelled with the uapi names, as in the kernel).
const ret = (k: number): SockFilter => bpfStmt(BPF_RET | BPF_K, k);
const retA = (): SockFilter => bpfStmt(BPF_RET | BPF_A, 0);
const ldImm = (k: number): SockFilter => bpfStmt(BPF_LD | BPF_IMM, k);
const ldMem = (k: number): SockFilter => bpfStmt(BPF_LD | BPF_MEM, k);
const ldxMem = (k: number): SockFilter => bpfStmt(BPF_LDX | BPF_MEM, k);
const st = (k: number): SockFilter => bpfStmt(BPF_ST, k);
const stx = (k: number): SockFilter => bpfStmt(BPF_STX, k);
const alu = (op: number, k: number): SockFilter => bpfStmt(BPF_ALU | op | BPF_K, k);
const aluX = (op: number, k = 0): SockFilter => bpfStmt(BPF_ALU | op | BPF_X, k);
const ja = (k: number): SockFilter => bpfStmt(BPF_JMP | BPF_JA, k);
const jeq = (k: number, jt: number, jf: number): SockFilter => bpfJump(BPF_JMP | BPF_JEQ | BPF_K, k, jt, jf);
const ldAbs = (size: number, k: number): SockFilter => bpfStmt(BPF_LD | size | BPF_ABS, k);
const raw = (code: number, k = 0, jt = 0, jf = 0): SockFilter => ({ code, jt, jf, k: k >>> 0 });

const F = 'net/core/filter.c';
const EINVAL_NEG = -22; // include/uapi/asm-generic/errno-base.h:26 EINVAL 22, returned negated

/** Assert a check rejection: -EINVAL at stage 'check', with the rule, pc and kernel line. */
function rejects(t: import('ava').ExecutionContext, got: Rejection | null, rule: string, pc: number | null, line: number): void {
  t.deepEqual(got, { errno: EINVAL_NEG, stage: 'check', rule, pc, at: `${F}:${line}` });
}

// ---------------------------------------------------------------------------------------------
// bpf_check_basics_ok (net/core/filter.c:1040-1049)

test('basics: NULL filter is rejected (filter.c:1043)', (t) => {
  rejects(t, bpfCheckBasicsOk(null), 'filter-null', null, 1043);
});

test('basics: len 0 rejected, len 1 accepted (filter.c:1045)', (t) => {
  rejects(t, bpfCheckBasicsOk([]), 'len-zero', null, 1045);
  t.is(bpfCheckBasicsOk([ret(0)]), null);
});

test('basics: len 4096 (BPF_MAXINSNS) accepted, 4097 rejected (filter.c:1045)', (t) => {
  const p4096 = Array.from({ length: 4096 }, () => ret(0));
  t.is(bpfCheckBasicsOk(p4096), null);
  rejects(t, bpfCheckBasicsOk([...p4096, ret(0)]), 'len-too-long', null, 1045);
});

test('basics: the length rules look only at the length, not at the instructions', (t) => {
  t.is(bpfCheckBasicsOk([raw(0xffff)]), null);
});

test('bpf_check_classic does not repeat the length rules; an empty program is API misuse', (t) => {
  // filter.c:1065-1141 has no length check; 4097 RETs pass every per-insn rule.
  t.is(bpfCheckClassic(Array.from({ length: 4097 }, () => ret(1))), null);
  t.throws(() => bpfCheckClassic([]), { instanceOf: RangeError });
});

// ---------------------------------------------------------------------------------------------
// chk_code_allowed (net/core/filter.c:974-1038)

/** The codes[] initialisers at filter.c:978-1031, spelled as in the kernel. */
const KERNEL_CODE_INITIALISERS: readonly number[] = [
  BPF_ALU | BPF_ADD | BPF_K, BPF_ALU | BPF_ADD | BPF_X,
  BPF_ALU | BPF_SUB | BPF_K, BPF_ALU | BPF_SUB | BPF_X,
  BPF_ALU | BPF_MUL | BPF_K, BPF_ALU | BPF_MUL | BPF_X,
  BPF_ALU | BPF_DIV | BPF_K, BPF_ALU | BPF_DIV | BPF_X,
  BPF_ALU | BPF_MOD | BPF_K, BPF_ALU | BPF_MOD | BPF_X,
  BPF_ALU | BPF_AND | BPF_K, BPF_ALU | BPF_AND | BPF_X,
  BPF_ALU | BPF_OR | BPF_K, BPF_ALU | BPF_OR | BPF_X,
  BPF_ALU | BPF_XOR | BPF_K, BPF_ALU | BPF_XOR | BPF_X,
  BPF_ALU | BPF_LSH | BPF_K, BPF_ALU | BPF_LSH | BPF_X,
  BPF_ALU | BPF_RSH | BPF_K, BPF_ALU | BPF_RSH | BPF_X,
  BPF_ALU | BPF_NEG,
  BPF_LD | BPF_W | BPF_ABS, BPF_LD | BPF_H | BPF_ABS, BPF_LD | BPF_B | BPF_ABS,
  BPF_LD | BPF_W | BPF_LEN,
  BPF_LD | BPF_W | BPF_IND, BPF_LD | BPF_H | BPF_IND, BPF_LD | BPF_B | BPF_IND,
  BPF_LD | BPF_IMM, BPF_LD | BPF_MEM,
  BPF_LDX | BPF_W | BPF_LEN, BPF_LDX | BPF_B | BPF_MSH, BPF_LDX | BPF_IMM, BPF_LDX | BPF_MEM,
  BPF_ST, BPF_STX,
  BPF_MISC | BPF_TAX, BPF_MISC | BPF_TXA,
  BPF_RET | BPF_K, BPF_RET | BPF_A,
  BPF_JMP | BPF_JA,
  BPF_JMP | BPF_JEQ | BPF_K, BPF_JMP | BPF_JEQ | BPF_X,
  BPF_JMP | BPF_JGE | BPF_K, BPF_JMP | BPF_JGE | BPF_X,
  BPF_JMP | BPF_JGT | BPF_K, BPF_JMP | BPF_JGT | BPF_X,
  BPF_JMP | BPF_JSET | BPF_K, BPF_JMP | BPF_JSET | BPF_X,
];

test('ALLOWED_CODES: exactly the 49 kernel initialisers, sorted, no duplicates', (t) => {
  t.is(KERNEL_CODE_INITIALISERS.length, 49);
  t.is(new Set(KERNEL_CODE_INITIALISERS).size, 49);
  t.is(ALLOWED_CODES.length, 49);
  t.deepEqual([...ALLOWED_CODES], [...KERNEL_CODE_INITIALISERS].sort((a, b) => a - b));
  for (let i = 1; i < ALLOWED_CODES.length; i++) t.true(ALLOWED_CODES[i - 1]! < ALLOWED_CODES[i]!);
  t.is(Math.max(...ALLOWED_CODES), 0xb1); // BPF_LDX|BPF_B|BPF_MSH: ARRAY_SIZE(codes) = 0xb2
});

test('chkCodeAllowed: spot checks from the table (filter.c:976-1037)', (t) => {
  t.false(chkCodeAllowed(0x08)); // LD|H|IMM: only LD|IMM (size W) is listed
  t.false(chkCodeAllowed(0x21)); // LDX|W|ABS: the seccomp load, not in the socket table
  t.false(chkCodeAllowed(0x0e)); // RET|X: only RET|K and RET|A
  t.false(chkCodeAllowed(0x8c)); // ALU|NEG|X
  t.false(chkCodeAllowed(0xa1)); // LDX|W|MSH: only LDX|B|MSH
  t.true(chkCodeAllowed(0xb1)); // LDX|B|MSH, the highest initialiser
  for (let c = 0xb2; c <= 0xff; c++) t.false(chkCodeAllowed(c), `0x${c.toString(16)}`); // >= ARRAY_SIZE (:1034)
  for (const c of [0x100, 0x106, 0x116, 0x120, 0x1b1, 0x8006, 0xffff]) t.false(chkCodeAllowed(c), `0x${c.toString(16)}`);
  t.true(chkCodeAllowed(0x00)); // BPF_LD | BPF_IMM
  t.true(chkCodeAllowed(0x16)); // BPF_RET | BPF_A
});

test('chkCodeAllowed: values that are not u16 are never allowed (API edge)', (t) => {
  t.false(chkCodeAllowed(-1));
  t.false(chkCodeAllowed(0x10006));
  t.false(chkCodeAllowed(1.5));
});

test('chkCodeAllowed agrees with ALLOWED_CODES on every u16 (exhaustive)', (t) => {
  const allowed = new Set(KERNEL_CODE_INITIALISERS);
  let count = 0;
  for (let c = 0; c <= 0xffff; c++) {
    if (chkCodeAllowed(c) !== allowed.has(c)) t.fail(`code 0x${c.toString(16)}`);
    if (chkCodeAllowed(c)) count++;
  }
  t.is(count, 49);
});

testProp('property: chkCodeAllowed(c) iff c in ALLOWED_CODES, over all u16', [fc.integer({ min: 0, max: 0xffff })], (t, c) => {
  t.is(chkCodeAllowed(c), ALLOWED_CODES.includes(c));
});

test('bpf_check_classic: a code outside the table is rejected at its pc (filter.c:1076)', (t) => {
  rejects(t, bpfCheckClassic([raw(0x08, 1), ret(0)]), 'code-not-allowed', 0, 1076);
  t.is(bpfCheckClassic([raw(0x00, 1), ret(0)]), null); // LD|W|IMM: its neighbour with size W passes
  rejects(t, bpfCheckClassic([ldImm(0), raw(0x21, 0), retA()]), 'code-not-allowed', 1, 1076);
  rejects(t, bpfCheckClassic([raw(0x0e)]), 'code-not-allowed', 0, 1076); // RET|X
  rejects(t, bpfCheckClassic([raw(0x106)]), 'code-not-allowed', 0, 1076); // RET|K with bit 8
  t.is(bpfCheckClassic([raw(0xb1, 0xffffffff), ret(0)]), null);
  rejects(t, bpfCheckClassic([raw(0xb2), ret(0)]), 'code-not-allowed', 0, 1076);
});

test('bpf_check_classic ignores fields the opcode does not use', (t) => {
  // filter.c:1080-1130 only look at k, jt, jf for the cases listed; TAX with jt/jf/k set passes.
  t.is(bpfCheckClassic([raw(BPF_MISC | BPF_TAX, 0xffffffff, 255, 255), raw(BPF_RET | BPF_A, 0xdead, 9, 9)]), null);
  t.is(bpfCheckClassic([raw(BPF_ALU | BPF_NEG, 99, 1, 1), raw(BPF_MISC | BPF_TXA, 7), ret(0)]), null);
});

// ---------------------------------------------------------------------------------------------
// Per-opcode checks in bpf_check_classic (net/core/filter.c:1080-1130)

test('div-by-zero-k: DIV|K and MOD|K with k == 0 rejected, k == 1 accepted (filter.c:1084)', (t) => {
  rejects(t, bpfCheckClassic([ldImm(5), alu(BPF_DIV, 0), retA()]), 'div-by-zero-k', 1, 1084);
  t.is(bpfCheckClassic([ldImm(5), alu(BPF_DIV, 1), retA()]), null);
  rejects(t, bpfCheckClassic([ldImm(5), alu(BPF_MOD, 0), retA()]), 'div-by-zero-k', 1, 1084);
  t.is(bpfCheckClassic([ldImm(5), alu(BPF_MOD, 1), retA()]), null);
  // DIV|X / MOD|X are not checked (a zero X is a run-time matter), whatever k says.
  t.is(bpfCheckClassic([ldImm(5), aluX(BPF_DIV, 0), aluX(BPF_MOD, 0), retA()]), null);
});

test('shift-k-too-large: LSH|K / RSH|K with k >= 32 rejected, k == 31 accepted (filter.c:1089)', (t) => {
  t.is(bpfCheckClassic([ldImm(1), alu(BPF_LSH, 31), retA()]), null);
  rejects(t, bpfCheckClassic([ldImm(1), alu(BPF_LSH, 32), retA()]), 'shift-k-too-large', 1, 1089); // Appendix B item 4
  t.is(bpfCheckClassic([ldImm(1), alu(BPF_RSH, 31), retA()]), null);
  rejects(t, bpfCheckClassic([ldImm(1), alu(BPF_RSH, 32), retA()]), 'shift-k-too-large', 1, 1089);
  rejects(t, bpfCheckClassic([ldImm(1), alu(BPF_RSH, 0xffffffff), retA()]), 'shift-k-too-large', 1, 1089);
  // No check on X shifts.
  t.is(bpfCheckClassic([ldImm(1), aluX(BPF_LSH, 99), aluX(BPF_RSH, 0xffffffff), retA()]), null);
});

test('mem-index-out-of-range: LD/LDX MEM, ST, STX with k >= 16 rejected, 15 accepted (filter.c:1097)', (t) => {
  t.is(bpfCheckClassic([st(15), ldMem(15), retA()]), null);
  rejects(t, bpfCheckClassic([st(15), ldMem(16), retA()]), 'mem-index-out-of-range', 1, 1097);
  rejects(t, bpfCheckClassic([st(16), retA()]), 'mem-index-out-of-range', 0, 1097);
  t.is(bpfCheckClassic([stx(15), ldxMem(15), retA()]), null);
  rejects(t, bpfCheckClassic([stx(16), retA()]), 'mem-index-out-of-range', 0, 1097);
  rejects(t, bpfCheckClassic([stx(15), ldxMem(16), retA()]), 'mem-index-out-of-range', 1, 1097);
  rejects(t, bpfCheckClassic([st(0xffffffff), retA()]), 'mem-index-out-of-range', 0, 1097);
});

test('ja-out-of-range: JA to the last insn passes, one further fails (filter.c:1105)', (t) => {
  // flen 3, pc 0: reject iff k >= (u32)(3 - 0 - 1) = 2; k = 1 lands on pc 2 (the last).
  t.is(bpfCheckClassic([ja(1), ret(0), ret(1)]), null);
  rejects(t, bpfCheckClassic([ja(2), ret(0), ret(1)]), 'ja-out-of-range', 0, 1105);
  rejects(t, bpfCheckClassic([ja(0xffffffff), ret(0)]), 'ja-out-of-range', 0, 1105); // k is unsigned: no backward jump
  t.is(bpfCheckClassic([ldImm(0), ja(0), ret(1)]), null); // pc 1: k 0 < 3 - 1 - 1 = 1
  rejects(t, bpfCheckClassic([ldImm(0), ja(1), ret(1)]), 'ja-out-of-range', 1, 1105);
});

test('jump-out-of-range: jt/jf reaching the last insn pass, one further fails (filter.c:1117)', (t) => {
  // flen 3, pc 0: reject iff 0 + j + 1 >= 3, i.e. j >= 2.
  t.is(bpfCheckClassic([jeq(0, 1, 0), ret(0), ret(1)]), null);
  t.is(bpfCheckClassic([jeq(0, 0, 1), ret(0), ret(1)]), null);
  rejects(t, bpfCheckClassic([jeq(0, 2, 0), ret(0), ret(1)]), 'jump-out-of-range', 0, 1117);
  rejects(t, bpfCheckClassic([jeq(0, 0, 2), ret(0), ret(1)]), 'jump-out-of-range', 0, 1117);
  for (const op of [BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET]) {
    for (const src of [BPF_K, BPF_X]) {
      const code = BPF_JMP | op | src;
      t.is(bpfCheckClassic([raw(code, 0, 1, 1), ret(0), ret(1)]), null, `0x${code.toString(16)}`);
      rejects(t, bpfCheckClassic([raw(code, 0, 255, 0), ret(0), ret(1)]), 'jump-out-of-range', 0, 1117);
    }
  }
});

test('ancillary: all 16 SKF_AD offsets accepted for W, H and B (filter.c:1121-1128)', (t) => {
  t.is(ANCILLARY.length, 16);
  for (const size of [BPF_W, BPF_H, BPF_B]) {
    for (const { ad, macro } of ANCILLARY) {
      t.is(bpfCheckClassic([ldAbs(size, ancillaryK(ad)), retA()]), null, `${macro} size 0x${size.toString(16)}`);
    }
  }
});

test('ancillary-k-invalid: LD|ABS k >= 0xfffff000 that is not one of the 16 (filter.c:1128)', (t) => {
  for (const size of [BPF_W, BPF_H, BPF_B]) {
    for (const k of [0xfffff001, 0xfffff040, 0xffffffff, 0xfffff03d, 0xfffff002]) {
      rejects(t, bpfCheckClassic([ldAbs(size, k), retA()]), 'ancillary-k-invalid', 0, 1128);
    }
    // Appendix B item 9: just below the window is an ordinary (network-offset) load.
    t.is(bpfCheckClassic([ldAbs(size, 0xffffefff), retA()]), null);
    t.is(bpfCheckClassic([ldAbs(size, 0x80000000), retA()]), null);
    t.is(bpfCheckClassic([ldAbs(size, 0xfff00000), retA()]), null); // SKF_NET_OFF
  }
});

test('ancillary: IND and MSH have no k check', (t) => {
  for (const code of [BPF_LD | BPF_W | BPF_IND, BPF_LD | BPF_H | BPF_IND, BPF_LD | BPF_B | BPF_IND, BPF_LDX | BPF_B | BPF_MSH]) {
    for (const k of [0xffffffff, 0xfffff001, 0xfffff040, ancillaryK(0), 0]) {
      t.is(bpfCheckClassic([raw(code, k), retA()]), null, `0x${code.toString(16)} k 0x${k.toString(16)}`);
    }
  }
});

test('bpfAncHelper mirrors include/linux/filter.h bpf_anc_helper', (t) => {
  t.is(BPF_ANC, 0x8000);
  for (const size of [BPF_W, BPF_H, BPF_B]) {
    for (const { ad } of ANCILLARY) t.is(bpfAncHelper(ldAbs(size, ancillaryK(ad))), 0x8000 | ad);
    t.is(bpfAncHelper(ldAbs(size, 0xfffff001)), BPF_LD | size | BPF_ABS);
    t.is(bpfAncHelper(ldAbs(size, 0xfffff040)), BPF_LD | size | BPF_ABS);
    t.is(bpfAncHelper(ldAbs(size, 0xffffeffc)), BPF_LD | size | BPF_ABS);
  }
  t.is(bpfAncHelper(raw(BPF_LD | BPF_W | BPF_IND, ancillaryK(8))), BPF_LD | BPF_W | BPF_IND);
  t.is(bpfAncHelper(raw(0x38, ancillaryK(8))), 0x38); // LD|DW|ABS: not one of the three case labels
  t.is(bpfAncHelper(raw(0x120, ancillaryK(8))), 0x120); // the switch is on the full u16 code
  t.is(bpfAncHelper(ret(ancillaryK(0))), BPF_RET | BPF_K);
  t.throws(() => bpfAncHelper(raw(0x8020, ancillaryK(0))), { instanceOf: RangeError }); // kernel BUG_ON
});

test('isAncillaryLoad: LD|ABS W/H/B with one of the 16 k, nothing else', (t) => {
  for (const size of [BPF_W, BPF_H, BPF_B]) {
    for (const { ad } of ANCILLARY) t.true(isAncillaryLoad(ldAbs(size, ancillaryK(ad))));
    t.false(isAncillaryLoad(ldAbs(size, 0xfffff040)));
    t.false(isAncillaryLoad(ldAbs(size, 14)));
  }
  t.false(isAncillaryLoad(raw(BPF_LD | BPF_B | BPF_IND, ancillaryK(0))));
  t.false(isAncillaryLoad(raw(0x8020, ancillaryK(0))));
});

test('last-not-ret: the last insn must be RET|K or RET|A (filter.c:1134)', (t) => {
  rejects(t, bpfCheckClassic([ldImm(0)]), 'last-not-ret', 0, 1134);
  rejects(t, bpfCheckClassic([ret(0), ldImm(0)]), 'last-not-ret', 1, 1134);
  rejects(t, bpfCheckClassic([ret(0), raw(BPF_MISC | BPF_TAX)]), 'last-not-ret', 1, 1134);
  t.is(bpfCheckClassic([ldImm(0), ret(0)]), null);
  t.is(bpfCheckClassic([ldImm(0), retA()]), null);
  t.is(bpfCheckClassic([ret(0)]), null);
  // A RET in the middle is fine; nothing requires reachability.
  t.is(bpfCheckClassic([ret(0), ldImm(3), retA()]), null);
});

// ---------------------------------------------------------------------------------------------
// Order of the checks (filter.c:1072-1140)

test('order: chk_code_allowed comes before the per-opcode check of the same insn', (t) => {
  // 0x134 = DIV|K with bit 8 set and k 0: not in the table, so the div check is never reached.
  rejects(t, bpfCheckClassic([raw(0x134, 0), ret(0)]), 'code-not-allowed', 0, 1076);
  // A last insn RET|X: code-not-allowed at its pc, not last-not-ret.
  rejects(t, bpfCheckClassic([ldImm(0), raw(0x0e)]), 'code-not-allowed', 1, 1076);
});

test('order: the lowest failing pc wins, whatever its rule', (t) => {
  rejects(t, bpfCheckClassic([alu(BPF_DIV, 0), alu(BPF_LSH, 32), ret(0)]), 'div-by-zero-k', 0, 1084);
  rejects(t, bpfCheckClassic([alu(BPF_LSH, 32), raw(0x08), ret(0)]), 'shift-k-too-large', 0, 1089);
  rejects(t, bpfCheckClassic([raw(0x08), alu(BPF_DIV, 0), ret(0)]), 'code-not-allowed', 0, 1076);
});

test('order: a per-insn failure anywhere wins over last-not-ret', (t) => {
  rejects(t, bpfCheckClassic([ldImm(0), alu(BPF_LSH, 32)]), 'shift-k-too-large', 1, 1089);
  rejects(t, bpfCheckClassic([ja(0)]), 'ja-out-of-range', 0, 1105); // flen 1: k 0 >= 0
  rejects(t, bpfCheckClassic([jeq(0, 0, 0)]), 'jump-out-of-range', 0, 1117);
});

test('order: last-not-ret and per-insn rules win over mem-read-before-write', (t) => {
  rejects(t, bpfCheckClassic([ldMem(0), ldImm(0)]), 'last-not-ret', 1, 1134);
  rejects(t, bpfCheckClassic([ldMem(0), alu(BPF_DIV, 0), retA()]), 'div-by-zero-k', 1, 1084);
  rejects(t, bpfCheckClassic([ldMem(0), retA()]), 'mem-read-before-write', 0, 944);
});

// ---------------------------------------------------------------------------------------------
// check_load_and_stores (net/core/filter.c:921-972)

test('clas: Appendix B item 8, RET does not reset memvalid: rejected at pc 3 (filter.c:944)', (t) => {
  // pc0 jeq: masks[2] &= 0, masks[1] &= 0, memvalid = ~0. pc1: memvalid = 0, st -> 0b10.
  // pc2 ret: memvalid &= masks[2] = 0. pc3: memvalid &= 0xffff = 0 -> M[1] not valid.
  const prog = [jeq(0, 1, 0), st(1), ret(0), ldMem(1), retA()];
  rejects(t, bpfCheckClassic(prog), 'mem-read-before-write', 3, 944);
  rejects(t, checkLoadAndStores(prog), 'mem-read-before-write', 3, 944);
});

test('clas: a store on both branches is accepted, on one branch only rejected', (t) => {
  // 0 jeq #0, jt 0 -> 1, jf 2 -> 3 | 1 st M[0] | 2 ja 1 -> 4 | 3 st M[0] | 4 ld M[0] | 5 ret a
  // masks[1] = masks[3] = 0; pc2 ja: masks[4] &= 0b1. pc3: 0 | 1. pc4: 1 & masks[4] = 1: valid.
  t.is(bpfCheckClassic([jeq(0, 0, 2), st(0), ja(1), st(0), ldMem(0), retA()]), null);
  // Same with pc 3 not storing: pc4 memvalid = 0 & 1 = 0.
  rejects(t, bpfCheckClassic([jeq(0, 0, 2), st(0), ja(1), ldImm(0), ldMem(0), retA()]), 'mem-read-before-write', 4, 944);
  // Store only before the fall-through of a jeq whose other edge skips it.
  rejects(t, bpfCheckClassic([ldImm(0), jeq(0, 0, 1), stx(2), ldxMem(2), retA()]), 'mem-read-before-write', 3, 944);
});

test('clas: a store before a jump is valid on both targets', (t) => {
  t.is(bpfCheckClassic([st(7), jeq(1, 0, 1), ldMem(7), ldxMem(7), retA()]), null);
  t.is(bpfCheckClassic([st(0), ja(0), ldMem(0), retA()]), null);
  // A jump that does not carry the store: the target starts from its mask only.
  rejects(t, bpfCheckClassic([ldImm(0), jeq(0, 0, 0), ldMem(0), retA()]), 'mem-read-before-write', 2, 944);
});

test('clas: unreachable code inherits the fall-through state', (t) => {
  // pc2 is dead (after RET), masks[2] = 0xffff, so it inherits memvalid 0b100 from pc0: accepted.
  t.is(bpfCheckClassic([st(2), ret(0), ldMem(2), retA()]), null);
  // Dead code with nothing stored before it is rejected although it can never run.
  rejects(t, bpfCheckClassic([ret(0), ldMem(2), retA()]), 'mem-read-before-write', 1, 944);
  // Dead code after an unconditional JA starts from memvalid = ~0: every cell counts as written.
  t.is(bpfCheckClassic([ja(1), ldMem(5), retA()]), null);
});

test('clas: each cell is tracked separately', (t) => {
  rejects(t, bpfCheckClassic([st(3), ldMem(4), retA()]), 'mem-read-before-write', 1, 944);
  t.is(bpfCheckClassic([st(0), st(15), ldMem(15), ldxMem(0), retA()]), null);
});

test('clas: the masks buffer does not leak state between calls, and grows past 4096', (t) => {
  // First call leaves masks[2] = 0 (jeq with memvalid 0 targets pc 2).
  rejects(t, checkLoadAndStores([ldImm(0), jeq(0, 0, 0), ldMem(0), retA()]), 'mem-read-before-write', 2, 944);
  // Second call: pc 2 must start from a fresh 0xffff mask and inherit M[0] from pc 0.
  t.is(checkLoadAndStores([st(0), ldImm(0), ldMem(0), retA()]), null);
  const long: SockFilter[] = [st(1), ...Array.from({ length: 5000 }, () => ldImm(0)), ldMem(1), retA()];
  t.is(checkLoadAndStores(long), null);
  const longBad: SockFilter[] = [...Array.from({ length: 5000 }, () => ldImm(0)), ldMem(1), retA()];
  rejects(t, checkLoadAndStores(longBad), 'mem-read-before-write', 5000, 944);
  t.is(checkLoadAndStores([st(1), ldMem(1), retA()]), null);
});

// ---------------------------------------------------------------------------------------------
// Independent reference checker, written straight from the kernel text (filter.c:921-1141), in a
// deliberately different style (names, Sets, plain arrays), to compare against the model.

const REF_ALLOWED = new Set<number>(KERNEL_CODE_INITIALISERS);
const REF_ANC_K = new Set<number>(ANCILLARY.map(({ ad }) => (-0x1000 + ad) >>> 0));
const REF_JCOND = new Set<number>([BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JSET].flatMap((op) => [BPF_JMP | op | BPF_K, BPF_JMP | op | BPF_X]));

type RefVerdict = { rule: string; pc: number } | null;

function refCheckClassic(filter: Program): RefVerdict {
  const flen = filter.length;
  for (let pc = 0; pc < flen; pc++) {
    const { code, jt, jf, k } = filter[pc]!;
    if (!REF_ALLOWED.has(code)) return { rule: 'code-not-allowed', pc };
    if (code === (BPF_ALU | BPF_DIV | BPF_K) || code === (BPF_ALU | BPF_MOD | BPF_K)) {
      if (k === 0) return { rule: 'div-by-zero-k', pc };
    } else if (code === (BPF_ALU | BPF_LSH | BPF_K) || code === (BPF_ALU | BPF_RSH | BPF_K)) {
      if (k >= 32) return { rule: 'shift-k-too-large', pc };
    } else if (code === (BPF_LD | BPF_MEM) || code === (BPF_LDX | BPF_MEM) || code === BPF_ST || code === BPF_STX) {
      if (k >= 16) return { rule: 'mem-index-out-of-range', pc };
    } else if (code === (BPF_JMP | BPF_JA)) {
      if (k >= flen - pc - 1) return { rule: 'ja-out-of-range', pc };
    } else if (REF_JCOND.has(code)) {
      if (pc + jt + 1 >= flen || pc + jf + 1 >= flen) return { rule: 'jump-out-of-range', pc };
    } else if (code === (BPF_LD | BPF_W | BPF_ABS) || code === (BPF_LD | BPF_H | BPF_ABS) || code === (BPF_LD | BPF_B | BPF_ABS)) {
      if (!REF_ANC_K.has(k) && k >= 0xfffff000) return { rule: 'ancillary-k-invalid', pc };
    }
  }
  const last = filter[flen - 1]!.code;
  if (last !== (BPF_RET | BPF_K) && last !== (BPF_RET | BPF_A)) return { rule: 'last-not-ret', pc: flen - 1 };
  // check_load_and_stores
  const masks: number[] = new Array<number>(flen).fill(0xffff);
  let memvalid = 0;
  for (let pc = 0; pc < flen; pc++) {
    memvalid = memvalid & masks[pc]!;
    const { code, jt, jf, k } = filter[pc]!;
    if (code === BPF_ST || code === BPF_STX) memvalid = (memvalid | (1 << k)) & 0xffff;
    else if (code === (BPF_LD | BPF_MEM) || code === (BPF_LDX | BPF_MEM)) {
      if ((memvalid & (1 << k)) === 0) return { rule: 'mem-read-before-write', pc };
    } else if (code === (BPF_JMP | BPF_JA)) {
      masks[pc + 1 + k] = masks[pc + 1 + k]! & memvalid;
      memvalid = 0xffff;
    } else if (REF_JCOND.has(code)) {
      masks[pc + 1 + jt] = masks[pc + 1 + jt]! & memvalid;
      masks[pc + 1 + jf] = masks[pc + 1 + jf]! & memvalid;
      memvalid = 0xffff;
    }
  }
  return null;
}

test('reference checker sanity: it agrees with the hand-worked cases', (t) => {
  t.deepEqual(refCheckClassic([jeq(0, 1, 0), st(1), ret(0), ldMem(1), retA()]), { rule: 'mem-read-before-write', pc: 3 });
  t.deepEqual(refCheckClassic([ldImm(1), alu(BPF_LSH, 32), retA()]), { rule: 'shift-k-too-large', pc: 1 });
  t.is(refCheckClassic([ldAbs(BPF_B, ancillaryK(60)), retA()]), null);
});

// Arbitraries: mostly allowed codes, k near every boundary, small jump offsets, usually a RET at the end.
const arbCode = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...KERNEL_CODE_INITIALISERS) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xbf }) },
);
const arbK = fc.oneof(
  fc.constantFrom(0, 1, 2, 15, 16, 31, 32, 0xffffefff, 0xfffff000, 0xfffff001, 0xfffff03c, 0xfffff040, 0xffffffff),
  fc.integer({ min: 0, max: 20 }),
  fc.integer({ min: 0, max: 15 }).map((i) => (0xfffff000 + 4 * i) >>> 0),
  fc.integer({ min: 0, max: 0xffffffff }),
);
const arbJ = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 4 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) });
const arbInsn: fc.Arbitrary<SockFilter> = fc.record({ code: arbCode, jt: arbJ, jf: arbJ, k: arbK });
const arbProgram = fc
  .tuple(fc.array(arbInsn, { minLength: 0, maxLength: 16 }), fc.oneof(fc.constant(ret(0)), fc.constant(retA()), arbInsn))
  .map(([body, last]) => [...body, last]);

testProp(
  'property: the model agrees with the reference on rule and pc (biased programs)',
  [arbProgram],
  (t, prog) => {
    const got = bpfCheckClassic(prog);
    const want = refCheckClassic(prog);
    t.deepEqual(got === null ? null : { rule: got.rule, pc: got.pc }, want);
    if (got !== null) {
      t.is(got.errno, EINVAL_NEG);
      t.is(got.stage, 'check');
    }
  },
  { numRuns: 3000 },
);

// Programs made only of stores, memory loads, jumps and RETs over cells 0..3, so that most of them
// pass the per-insn rules and reach check_load_and_stores.
const arbMemInsn: fc.Arbitrary<SockFilter> = fc.record({
  code: fc.constantFrom(
    BPF_ST, BPF_STX, BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM, BPF_LD | BPF_IMM,
    BPF_JMP | BPF_JA, BPF_JMP | BPF_JEQ | BPF_K, BPF_JMP | BPF_JGT | BPF_X, BPF_JMP | BPF_JSET | BPF_K,
    BPF_RET | BPF_K, BPF_RET | BPF_A,
  ),
  jt: fc.integer({ min: 0, max: 3 }),
  jf: fc.integer({ min: 0, max: 3 }),
  k: fc.integer({ min: 0, max: 3 }),
});
const arbMemProgram = fc
  .tuple(fc.array(arbMemInsn, { minLength: 0, maxLength: 12 }), fc.constantFrom(ret(0), retA()))
  .map(([body, last]) => [...body, last]);

testProp(
  'property: the model agrees with the reference on memory/jump programs (check_load_and_stores)',
  [arbMemProgram],
  (t, prog) => {
    const got = bpfCheckClassic(prog);
    t.deepEqual(got === null ? null : { rule: got.rule, pc: got.pc }, refCheckClassic(prog));
  },
  { numRuns: 3000 },
);

const arbRawInsn: fc.Arbitrary<SockFilter> = fc.record({
  code: fc.integer({ min: 0, max: 0xffff }),
  jt: fc.integer({ min: 0, max: 255 }),
  jf: fc.integer({ min: 0, max: 255 }),
  k: fc.integer({ min: 0, max: 0xffffffff }),
});

testProp(
  'property: bpfCheckClassic never throws on arbitrary programs of length 1..64, and agrees with the reference',
  [fc.array(arbRawInsn, { minLength: 1, maxLength: 64 })],
  (t, prog) => {
    let got: Rejection | null = null;
    t.notThrows(() => {
      got = bpfCheckClassic(prog);
    });
    const want = refCheckClassic(prog);
    const g = got as Rejection | null;
    t.deepEqual(g === null ? null : { rule: g.rule, pc: g.pc }, want);
    if (g !== null) {
      t.true(g.pc !== null && g.pc >= 0 && g.pc < prog.length);
      t.is(g.errno, EINVAL_NEG);
    }
  },
  { numRuns: 2000 },
);

// ---------------------------------------------------------------------------------------------
// Outside vectors: lib/test_bpf.c CLASSIC tests (../shared/conformance/test_bpf_classic.json).

interface ClassicVector {
  readonly name: string;
  readonly insns: SockFilter[];
  readonly expected_errcode?: number;
  readonly rejection_stage_annotation?: string;
}

requires(sharedMissing, 'test_bpf.c CLASSIC vectors: expected-fail rejected with their errno at check time, others accepted', (t) => {
  const { tests } = readSharedJson<{ tests: ClassicVector[] }>('conformance/test_bpf_classic.json');
  t.true(tests.length > 100);
  let expectedFail = 0;
  let convertOnly = 0;
  for (const v of tests) {
    // __get_filter order: bpf_check_basics_ok first, then bpf_check_classic (filter.c:1502, :1333).
    const verdict = bpfCheckBasicsOk(v.insns) ?? bpfCheckClassic(v.insns);
    if (v.expected_errcode === undefined) {
      t.is(verdict, null, v.name);
    } else if ((v.rejection_stage_annotation ?? '').includes('bpf_convert_filter')) {
      // "BPF_MAXINSNS: jump over MSH": passes the checker, fails later in bpf_convert_filter.
      convertOnly++;
      t.is(verdict, null, v.name);
    } else {
      expectedFail++;
      t.not(verdict, null, v.name);
      t.is(verdict?.errno, v.expected_errcode, v.name);
    }
  }
  t.is(expectedFail, 11);
  t.is(convertOnly, 1);
});
