// Tests for model/migrate/convert.ts, ldabs.ts, extensions.ts: bpf_convert_filter of Linux v6.6
// (6.6.y tree eclipse-oniro-mirrors/kernel_linux_6.6, net/core/filter.c). Every expected eBPF
// sequence below is written by hand from the kernel text, with the line cited; offsets of struct
// fields are the numbers derived in model/ebpf/layout.ts (len 112, data_len 116, data 208, ...).
import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import { bpfInterpreterStackSize } from '../../model/ebpf/interp.js';
import { bpfConvertFilter, bpfConvertFilterCall, bpfMigrateFilter, type ConvertResult } from '../../model/migrate/convert.js';
import { convertBpfLdAbs, bpfSizeToBytes, ldAbsFastPath } from '../../model/migrate/ldabs.js';
import { convertSkbAccess, convertBpfExtensions } from '../../model/migrate/extensions.js';
import { bpfCheckClassic } from '../../model/cbpf/check.js';
import { bpfJump, bpfStmt, type Program, type SockFilter } from '../../model/cbpf/insn.js';
import { X86_64, STRICT_ALIGN_64, type KernelConfig } from '../../model/config.js';
import type { BpfInsn } from '../../model/ebpf/insn.js';
import { ancillaryK, EINVAL, ENOTSUPP, SKF_AD_MARK, SKF_LL_OFF, SKF_NET_OFF } from '../../model/uapi.js';
import { readSharedJson } from '../_shared.js';
import { requires, sharedMissing } from '../_skip.js';

const I = (code: number, dst: number, src: number, off: number, imm: number): BpfInsn => ({ code, dst, src, off, imm });
const S = (code: number, k: number): SockFilter => bpfStmt(code, k);
const J = (code: number, k: number, jt: number, jf: number): SockFilter => bpfJump(code, k, jt, jf);

const RET_A = S(0x16, 0);
const RET_K = (k: number): SockFilter => S(0x06, k);

function conv(prog: Program, config: KernelConfig = X86_64): ConvertResult {
  const r = bpfConvertFilter(prog, config);
  if (!('ok' in r)) throw new Error(`unexpected rejection ${JSON.stringify(r)}`);
  return r;
}
/** The eBPF expansion of classic insn pc. */
const part = (r: ConvertResult, pc: number): BpfInsn[] => r.insns.slice(r.map[2 * pc], r.map[2 * pc + 1]);

// F:602-609 prologue without packet loads; F:616-623 the 4 extra caching insns
const PROLOGUE3 = [I(0xac, 0, 0, 0, 0), I(0xac, 7, 7, 0, 0), I(0xbf, 6, 1, 0, 0)];
const PROLOGUE7 = [...PROLOGUE3, I(0x79, 8, 6, 208, 0), I(0x61, 9, 6, 112, 0), I(0x61, 2, 6, 116, 0), I(0x1c, 9, 2, 0, 0)];
const EXIT = I(0x95, 0, 0, 0, 0);

test('prologue: 3 insns, 7 with packet loads (F:602-623)', (t) => {
  const a = conv([RET_K(1)]);
  t.deepEqual(a.insns, [...PROLOGUE3, I(0xb4, 0, 0, 0, 1), EXIT]);
  t.false(a.seenLdAbs);
  const b = conv([S(0x50, 0), RET_A]); // ldb [x+0]
  t.deepEqual(b.insns.slice(0, 7), PROLOGUE7);
  t.true(b.seenLdAbs);
  t.is(b.passes, 2);
});

test('RET K = MOV32 R0,k; EXIT and RET A = EXIT (F:815-820)', (t) => {
  const r = conv([RET_K(0xffffffff), RET_A]);
  t.deepEqual(part(r, 0), [I(0xb4, 0, 0, 0, -1), EXIT]);
  t.deepEqual(part(r, 1), [EXIT]);
});

test('ALU: one raw insn, dst A, src X even for K forms and NEG, imm (s32)k (F:690)', (t) => {
  const codes = [0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x44, 0x4c, 0x54, 0x5c, 0x64, 0x6c, 0x74, 0x7c, 0xa4, 0xac, 0x34, 0x94, 0x84];
  for (const c of codes) {
    const r = conv([S(c, 0x80000001), RET_A]);
    t.deepEqual(part(r, 0), [I(c, 0, 7, 0, -0x7fffffff)], `code ${c}`);
  }
});

test('DIV X / MOD X: MOV32 X,X; JNE X,0,+2; A^=A; EXIT; then the op (F:679-690)', (t) => {
  for (const c of [0x3c, 0x9c]) {
    const r = conv([S(c, 5), RET_A]);
    t.deepEqual(part(r, 0), [I(0xbc, 7, 7, 0, 0), I(0x55, 7, 0, 2, 0), I(0xac, 0, 0, 0, 0), EXIT, I(c, 0, 7, 0, 5)]);
  }
});

test('LD/LDX IMM, MEM, LEN, TAX, TXA, ST, STX, LDX W ABS (F:824-876)', (t) => {
  const r = conv([S(0x00, 7), S(0x01, 0xfffffffe), S(0x02, 0), S(0x03, 15), S(0x60, 0), S(0x61, 15), S(0x80, 0), S(0x81, 0), S(0x07, 0), S(0x87, 0), S(0x21, 4), RET_A]);
  t.deepEqual(part(r, 0), [I(0xb4, 0, 0, 0, 7)]);
  t.deepEqual(part(r, 1), [I(0xb4, 7, 0, 0, -2)]);
  t.deepEqual(part(r, 2), [I(0x63, 10, 0, -4, 0)]);
  t.deepEqual(part(r, 3), [I(0x63, 10, 7, -64, 0)]);
  t.deepEqual(part(r, 4), [I(0x61, 0, 10, -4, 0)]);
  t.deepEqual(part(r, 5), [I(0x61, 7, 10, -64, 0)]);
  t.deepEqual(part(r, 6), [I(0x61, 0, 6, 112, 0)]);
  t.deepEqual(part(r, 7), [I(0x61, 7, 6, 112, 0)]);
  t.deepEqual(part(r, 8), [I(0xbf, 7, 0, 0, 0)]);
  t.deepEqual(part(r, 9), [I(0xbf, 0, 7, 0, 0)]);
  t.deepEqual(part(r, 10), [I(0x61, 0, 6, 4, 0)]);
  t.is(r.stackDepth, 64); // F:834 max(4*0+4, 4*15+4)
});

test('stack depth and the interpreter bucket (F:834, C:2344-2346)', (t) => {
  t.is(conv([RET_K(0)]).stackDepth, 0);
  t.is(conv([S(0x02, 7), RET_K(0)]).stackDepth, 32);
  t.is(conv([S(0x02, 8), S(0x03, 1), RET_K(0)]).stackDepth, 36);
  t.is(bpfInterpreterStackSize(0), 32);
  t.is(bpfInterpreterStackSize(32), 32);
  t.is(bpfInterpreterStackSize(36), 64);
  t.is(bpfInterpreterStackSize(64), 64);
  t.is(bpfInterpreterStackSize(512), 512);
  t.throws(() => bpfInterpreterStackSize(513));
});

test('the first (length-only) call tracks no stack depth and counts the prologue as 3 + 4 (F:626, F:890-894)', (t) => {
  const prog = [S(0x02, 3), S(0x30, 0), RET_A];
  const first = bpfConvertFilterCall(prog, X86_64, null, false);
  if ('errno' in first) throw new Error('first call rejected');
  t.is(first.stackDepth, 0);
  t.true(first.seenLdAbs);
  t.is(first.newLen, 7 + 1 + 12 + 1);
  t.is(first.insns, null);
});

// ---- jumps (F:699-785) --------------------------------------------------------------------------

test('JA: off = addrs[t] - addrs[i] - 1 (F:715)', (t) => {
  const r = conv([S(0x05, 1), RET_K(1), RET_K(2)]);
  t.deepEqual(part(r, 0), [I(0x05, 0, 0, 2, 0)]); // addrs: 3, 4, 6
});

test('Jcond with jf == 0: one jump to jt (F:747); jt == jf == 0 gives off 0', (t) => {
  const r = conv([J(0x15, 5, 1, 0), RET_K(1), RET_K(2)]);
  t.deepEqual(part(r, 0), [I(0x15, 0, 0, 2, 5)]);
  const z = conv([J(0x15, 5, 0, 0), RET_K(1)]);
  t.deepEqual(part(z, 0), [I(0x15, 0, 0, 0, 5)]);
});

test('Jcond X form: src X and imm = k (F:740-743)', (t) => {
  const r = conv([J(0x2d, 99, 1, 0), RET_K(1), RET_K(2)]);
  t.deepEqual(part(r, 0), [I(0x2d, 0, 7, 2, 99)]);
});

test('Jcond with jt == 0: JEQ/JGT/JGE inverted to JNE/JLE/JLT towards jf (F:755-771)', (t) => {
  for (const [c, inv] of [[0x15, 0x55], [0x25, 0xb5], [0x35, 0xa5], [0x1d, 0x5d], [0x2d, 0xbd], [0x3d, 0xad]] as const) {
    const r = conv([J(c, 5, 0, 1), RET_K(1), RET_K(2)]);
    t.deepEqual(part(r, 0), [I(inv, 0, (c & 8) !== 0 ? 7 : 0, 2, 5)], `code ${c}`);
  }
});

test('JSET with jt == 0 and general jt/jf: Jxx then JA (jmp_rest, F:774-784)', (t) => {
  const r = conv([J(0x45, 5, 0, 1), RET_K(1), RET_K(2)]); // addrs 3 (2 insns), 5, 7
  t.deepEqual(part(r, 0), [I(0x45, 0, 0, 1, 5), I(0x05, 0, 0, 2, 0)]);
  const g = conv([J(0x25, 5, 1, 2), RET_K(1), RET_K(2), RET_K(3)]); // addrs 3, 5, 7, 9
  t.deepEqual(part(g, 0), [I(0x25, 0, 0, 3, 5), I(0x05, 0, 0, 4, 0)]);
});

test('Jcond K with k >= 2^31: MOV32 TMP,k then the X form on TMP, slot-adjusted offsets (F:729-738)', (t) => {
  const r = conv([J(0x15, 0x80000000, 1, 0), RET_K(1), RET_K(2)]); // addrs 3 (2 insns), 5, 7
  t.deepEqual(part(r, 0), [I(0xb4, 2, 0, 0, -0x80000000), I(0x1d, 0, 2, 2, 0)]);
  const s = conv([J(0x45, 0xffffffff, 1, 2), RET_K(1), RET_K(2), RET_K(3)]); // addrs 3 (3 insns), 6, 8, 10
  t.deepEqual(part(s, 0), [I(0xb4, 2, 0, 0, -1), I(0x4d, 0, 2, 3, 0), I(0x05, 0, 0, 4, 0)]);
  const v = conv([J(0x25, 0xfffffff0, 0, 1), RET_K(1), RET_K(2)]); // inverted, addrs 3 (2), 5, 7
  t.deepEqual(part(v, 0), [I(0xb4, 2, 0, 0, -16), I(0xbd, 0, 2, 2, 0)]);
});

// ---- LDX MSH (F:787-810) -------------------------------------------------------------------------

test('LDX MSH: save A, the byte load, &0xf, <<2, swap through TMP', (t) => {
  const r = conv([S(0xb1, 14), RET_A]);
  t.true(r.seenLdAbs);
  t.deepEqual(part(r, 0), [
    I(0xbf, 7, 0, 0, 0),
    I(0xbf, 2, 9, 0, 0), I(0x17, 2, 0, 0, 14), I(0xc5, 2, 0, 2, 1), I(0x71, 0, 8, 14, 0), I(0x05, 0, 0, 8, 0),
    I(0xbf, 1, 6, 0, 0), I(0xbf, 2, 8, 0, 0), I(0xbf, 3, 9, 0, 0), I(0xb7, 4, 0, 0, 14), I(0x85, 0, 0, 0, 1),
    I(0x75, 0, 0, 2, 0), I(0xac, 0, 0, 0, 0), EXIT,
    I(0x54, 0, 0, 0, 0xf), I(0x64, 0, 0, 0, 2), I(0xbf, 2, 7, 0, 0), I(0xbf, 7, 0, 0, 0), I(0xbf, 0, 2, 0, 0),
  ]);
  // an ancillary-looking k is still a plain byte load for MSH (no extension): slow path only
  const a = conv([S(0xb1, ancillaryK(SKF_AD_MARK)), RET_A]);
  t.is(part(a, 0).length, 1 + 8 + 5);
});

// ---- convert_bpf_ld_abs (F:480-547) -------------------------------------------------------------

const SLOW = (k: number, helper: number): BpfInsn[] => [
  I(0xbf, 1, 6, 0, 0), I(0xbf, 2, 8, 0, 0), I(0xbf, 3, 9, 0, 0), I(0xb7, 4, 0, 0, k | 0), I(0x85, 0, 0, 0, helper),
  I(0x75, 0, 0, 2, 0), I(0xac, 0, 0, 0, 0), EXIT,
];

test('LD ABS on x86-64 at offsets 0, 1, 32767, 32768 (fast path then slow path)', (t) => {
  const ld = (code: number, k: number): BpfInsn[] => convertBpfLdAbs(S(code, k), X86_64)!;
  // B k=0: no SUB (F:499), no ENDIAN
  t.deepEqual(ld(0x30, 0), [I(0xbf, 2, 9, 0, 0), I(0xc5, 2, 0, 2, 1), I(0x71, 0, 8, 0, 0), I(0x05, 0, 0, 8, 0), ...SLOW(0, 1)]);
  // H k=1: SUB, JSLT +3, LDX H, ENDIAN 16
  t.deepEqual(ld(0x28, 1), [I(0xbf, 2, 9, 0, 0), I(0x17, 2, 0, 0, 1), I(0xc5, 2, 0, 3, 2), I(0x69, 0, 8, 1, 0), I(0xdc, 0, 0, 0, 16), I(0x05, 0, 0, 8, 0), ...SLOW(1, 2)]);
  // W k=32767 = S16_MAX: still the direct LDX (F:496)
  t.deepEqual(ld(0x20, 32767), [I(0xbf, 2, 9, 0, 0), I(0x17, 2, 0, 0, 32767), I(0xc5, 2, 0, 3, 4), I(0x61, 0, 8, 32767, 0), I(0xdc, 0, 0, 0, 32), I(0x05, 0, 0, 8, 0), ...SLOW(32767, 3)]);
  // W k=32768: TMP = D + k; LDX [TMP+0]; JSLT skips 2 more (F:502, F:507-510)
  t.deepEqual(ld(0x20, 32768), [
    I(0xbf, 2, 9, 0, 0), I(0x17, 2, 0, 0, 32768), I(0xc5, 2, 0, 5, 4), I(0xbf, 2, 8, 0, 0), I(0x07, 2, 0, 0, 32768), I(0x61, 0, 2, 0, 0), I(0xdc, 0, 0, 0, 32), I(0x05, 0, 0, 8, 0),
    ...SLOW(32768, 3),
  ]);
  // B k=32768: 15 insns (Appendix A)
  t.is(ld(0x30, 32768).length, 15);
});

test('LD ABS at negative offsets (SKF_NET_OFF / SKF_LL_OFF): slow path only, imm sign-extended k', (t) => {
  t.deepEqual(convertBpfLdAbs(S(0x30, (SKF_NET_OFF + 9) >>> 0), X86_64), SLOW(SKF_NET_OFF + 9, 1));
  t.deepEqual(convertBpfLdAbs(S(0x28, (SKF_LL_OFF + 12) >>> 0), X86_64), SLOW(SKF_LL_OFF + 12, 2));
  const r = conv([S(0x20, (SKF_NET_OFF + 0) >>> 0), RET_A]);
  t.is(part(r, 0).length, 8);
  t.true(r.seenLdAbs);
});

test('LD IND: MOV R4,X and ADD R4,k only when k != 0 (F:522-526)', (t) => {
  const ind = (code: number, k: number): BpfInsn[] => convertBpfLdAbs(S(code, k), X86_64)!;
  const tail = (h: number): BpfInsn[] => [I(0x85, 0, 0, 0, h), I(0x75, 0, 0, 2, 0), I(0xac, 0, 0, 0, 0), EXIT];
  const head = [I(0xbf, 1, 6, 0, 0), I(0xbf, 2, 8, 0, 0), I(0xbf, 3, 9, 0, 0), I(0xbf, 4, 7, 0, 0)];
  t.deepEqual(ind(0x50, 0), [...head, ...tail(1)]);
  t.deepEqual(ind(0x48, 14), [...head, I(0x07, 4, 0, 0, 14), ...tail(2)]);
  t.deepEqual(ind(0x40, 0xfffffffc), [...head, I(0x07, 4, 0, 0, -4), ...tail(3)]);
});

test('strict-alignment arch: the F:495 precedence slip `offset + ip_align % size == 0` as written', (t) => {
  const cfg = STRICT_ALIGN_64; // no efficient unaligned access, NET_IP_ALIGN 2
  // k=0: B (2%1=0) and H (2%2=0) get the fast path; W (2%4=2, 0+2 != 0) does not
  t.true(ldAbsFastPath(S(0x30, 0), cfg));
  t.true(ldAbsFastPath(S(0x28, 0), cfg));
  t.false(ldAbsFastPath(S(0x20, 0), cfg));
  // k=2 B: the intended (2+2)%1 == 0 would be true; the written 2 + 0 == 0 is false
  t.false(ldAbsFastPath(S(0x30, 2), cfg));
  t.false(ldAbsFastPath(S(0x28, 14), cfg));
  t.deepEqual(convertBpfLdAbs(S(0x20, 0), cfg), SLOW(0, 3));
  t.deepEqual(convertBpfLdAbs(S(0x28, 0), cfg), [I(0xbf, 2, 9, 0, 0), I(0xc5, 2, 0, 3, 2), I(0x69, 0, 8, 0, 0), I(0xdc, 0, 0, 0, 16), I(0x05, 0, 0, 8, 0), ...SLOW(0, 2)]);
  // with NET_IP_ALIGN 0 only offset 0 passes
  const cfg0 = { ...cfg, netIpAlign: 0 };
  t.true(ldAbsFastPath(S(0x20, 0), cfg0));
  t.false(ldAbsFastPath(S(0x20, 4), cfg0));
  // never for IND, never for negative offsets
  t.false(ldAbsFastPath(S(0x50, 0), X86_64));
  t.false(ldAbsFastPath(S(0x30, 0xffffffff), X86_64));
});

test('bpf_size_to_bytes and a size convert_bpf_ld_abs rejects', (t) => {
  t.deepEqual([0x10, 0x08, 0x00, 0x18].map(bpfSizeToBytes), [1, 2, 4, 8]);
  t.is(bpfSizeToBytes(0x07), -22);
  t.is(convertBpfLdAbs(S(0x38, 0), X86_64), null); // LD|ABS|DW: F:538 default: return false
});

// ---- convert_bpf_extensions (F:350-478) ---------------------------------------------------------

test('every ancillary load, emitted sequence (F:357-465)', (t) => {
  const ext = (ad: number): BpfInsn[] | null => convertBpfExtensions(S(0x20, ancillaryK(ad)), X86_64);
  const call = (h: number): BpfInsn[] => [I(0xbf, 1, 6, 0, 0), I(0xbf, 2, 0, 0, 0), I(0xbf, 3, 7, 0, 0), I(0x85, 0, 0, 0, h)];
  t.deepEqual(ext(0), [I(0x69, 0, 6, 180, 0), I(0xdc, 0, 0, 0, 16)]); // PROTOCOL
  t.deepEqual(ext(4), [I(0x71, 0, 6, 128, 0), I(0x54, 0, 0, 0, 7)]); // PKTTYPE
  t.deepEqual(ext(8), [I(0x79, 2, 6, 16, 0), I(0x55, 2, 0, 1, 0), EXIT, I(0x61, 0, 2, 224, 0)]); // IFINDEX
  t.deepEqual(ext(12), call(5)); // NLATTR
  t.deepEqual(ext(16), call(6)); // NLATTR_NEST
  t.deepEqual(ext(20), [I(0x61, 0, 6, 168, 0)]); // MARK
  t.deepEqual(ext(24), [I(0x69, 0, 6, 124, 0)]); // QUEUE
  t.deepEqual(ext(28), [I(0x79, 2, 6, 16, 0), I(0x55, 2, 0, 1, 0), EXIT, I(0x69, 0, 2, 304, 0)]); // HATYPE
  t.deepEqual(ext(32), [I(0x61, 0, 6, 152, 0)]); // RXHASH
  t.deepEqual(ext(36), call(7)); // CPU
  t.deepEqual(ext(40), [I(0xac, 0, 7, 0, 0)]); // ALU_XOR_X
  t.deepEqual(ext(44), [I(0x69, 0, 6, 158, 0)]); // VLAN_TAG
  t.deepEqual(ext(48), [I(0x61, 0, 6, 156, 0), I(0x15, 0, 0, 1, 0), I(0xb4, 0, 0, 0, 1)]); // VLAN_TAG_PRESENT
  t.deepEqual(ext(52), call(4)); // PAY_OFFSET
  t.deepEqual(ext(56), call(8)); // RANDOM
  t.deepEqual(ext(60), [I(0x69, 0, 6, 156, 0), I(0xdc, 0, 0, 0, 16)]); // VLAN_TPID
  t.is(ext(64), null); // SKF_AD_MAX: default, return false
  t.is(ext(2), null);
});

test('extensions ignore the load size, and are never used for LD IND (F:669-671)', (t) => {
  const b = conv([S(0x30, ancillaryK(0)), RET_A]); // ldb [SKF_AD_PROTOCOL]
  t.deepEqual(part(b, 0), [I(0x69, 0, 6, 180, 0), I(0xdc, 0, 0, 0, 16)]);
  t.false(b.seenLdAbs);
  const ind = conv([S(0x40, ancillaryK(0)), RET_A]); // ld [x + 0xfffff000]: a packet load
  t.is(part(ind, 0).length, 9);
  t.true(ind.seenLdAbs);
});

test('big-endian bit-fields: PKTTYPE masks 7<<5 and shifts right 5 (F:317-321)', (t) => {
  const be = { ...X86_64, littleEndian: false };
  t.deepEqual(convertSkbAccess(4, 0, 6, be), [I(0x71, 0, 6, 128, 0), I(0x54, 0, 0, 0, 0xe0), I(0x74, 0, 0, 0, 5)]);
  t.deepEqual(convertSkbAccess(12, 0, 6, X86_64), []); // a field convert_skb_access does not know
});

// ---- failures ----------------------------------------------------------------------------------

test('bad length: len <= 0 or > BPF_MAXINSNS is -EINVAL (F:582)', (t) => {
  t.like(bpfConvertFilter([], X86_64), { errno: -EINVAL, stage: 'convert', rule: 'bad-len', pc: null, at: 'net/core/filter.c:582' });
  t.like(bpfConvertFilter(Array(4097).fill(RET_K(0)), X86_64), { errno: -EINVAL, rule: 'bad-len' });
  t.true('ok' in bpfConvertFilter(Array(4096).fill(RET_K(0)), X86_64));
});

test('unknown opcode: goto err (F:879); jump target out of range (F:704)', (t) => {
  t.like(bpfConvertFilter([S(0x0e, 0)], X86_64), { errno: -EINVAL, rule: 'unknown-opcode', pc: 0 }); // RET X
  t.like(bpfConvertFilter([RET_K(0), S(0x05, 5)], X86_64), { errno: -EINVAL, rule: 'jump-target-out-of-range', pc: 1 });
  t.like(bpfConvertFilter([J(0x15, 0, 0, 3), RET_K(0)], X86_64), { errno: -EINVAL, rule: 'jump-target-out-of-range', pc: 0 });
  // JA with k = 0xffffffff: (i + k + 1) wraps to i, in range; off = addrs[i] - addrs[i] - 1 = -1
  const r = conv([RET_K(0), S(0x05, 0xffffffff), RET_K(1)]);
  t.deepEqual(part(r, 1), [I(0x05, 0, 0, -1, 0)]);
});

test('A4: a forward jump at eBPF index >= 32768 fails in iteration 1 of the 2nd call (addrs[t] still 0)', (t) => {
  const ldb0 = S(0x30, 0); // 12 insns each (fast path 4 + slow path 8)
  // prologue 7 + 2730*12 = 32767: the jump at index 32767 gets off = 0 - 32767 - 1 = -32768 in
  // iteration 1 (F:706-711: still in range), then the real offset in iteration 2
  const ok = conv([...Array(2730).fill(ldb0), J(0x15, 0, 0, 0), RET_K(1)]);
  t.is(ok.map[2 * 2730], 32767);
  t.is(ok.insns[32767]!.off, 0);
  // one more insn before it: index 32768, off = -32769 < S16_MIN
  const bad = bpfConvertFilter([...Array(2730).fill(ldb0), S(0x00, 0), J(0x15, 0, 0, 0), RET_K(1)], X86_64);
  t.like(bad, { errno: -EINVAL, stage: 'convert', rule: 'jump-offset-overflow', pc: 2731, at: 'net/core/filter.c:710' });
  // the length-only call does not fail (off = -slot there)
  const first = bpfConvertFilterCall([...Array(2730).fill(ldb0), S(0x00, 0), J(0x15, 0, 0, 0), RET_K(1)], X86_64, null, false);
  t.false('errno' in first);
  // digest Appendix B item 7: 3000 x ldb [0] + jeq #0,0,0 + ret #1 -> EINVAL
  t.like(bpfConvertFilter([...Array(3000).fill(ldb0), J(0x15, 0, 0, 0), RET_K(1)], X86_64), { errno: -EINVAL, rule: 'jump-offset-overflow' });
});

test('a far JA over MSH loads overflows the real offset too (iteration 2)', (t) => {
  // 1 JA over n x ldxb 4*([32768]&0xf) (21 insns each): off = 21n; overflow from n = 1561
  const msh = S(0xb1, 32768);
  const fits = conv([S(0x05, 1560), ...Array(1560).fill(msh), RET_K(0)]);
  t.is(part(fits, 0)[0]!.off, 21 * 1560);
  t.like(bpfConvertFilter([S(0x05, 1561), ...Array(1561).fill(msh), RET_K(0)], X86_64), { errno: -EINVAL, rule: 'jump-offset-overflow', pc: 0 });
});

interface ConformanceTest {
  name: string;
  flags: string[];
  insns: SockFilter[];
  expected_errcode?: number;
}

requires(sharedMissing, 'conformance: test_bpf "BPF_MAXINSNS: jump over MSH" fails here with -EINVAL; every runnable test converts', (t) => {
  const { tests } = readSharedJson<{ tests: ConformanceTest[] }>('conformance/test_bpf_classic.json');
  const msh = tests.find((x) => x.name === 'BPF_MAXINSNS: jump over MSH')!;
  t.is(bpfCheckClassic(msh.insns), null);
  t.like(bpfConvertFilter(msh.insns, X86_64), { errno: msh.expected_errcode, stage: 'convert', rule: 'jump-offset-overflow', pc: 0 });
  for (const x of tests.filter((y) => !y.flags.includes('FLAG_EXPECTED_FAIL'))) t.true('ok' in bpfConvertFilter(x.insns, X86_64), x.name);
});

test('bpf_migrate_filter: -ENOTSUPP when the JIT is required but fails (C:2393); sizes otherwise', (t) => {
  t.like(bpfMigrateFilter([RET_K(0)], { ...X86_64, jitAvailable: false }), { errno: -ENOTSUPP, stage: 'runtime' });
  const m = bpfMigrateFilter([S(0x02, 9), RET_K(0)], { ...X86_64, jitAlwaysOn: false, jitAvailable: false });
  t.like(m, { ok: true, progSize: 72 + 8 * 6, stackSize: 64, jited: false });
  t.like(bpfMigrateFilter([S(0x0e, 0)], X86_64), { errno: -EINVAL });
});

// ---- properties ----------------------------------------------------------------------------------

/** Appendix A of kernel-spec.md, re-derived from F:480-885 for x86-64: eBPF insns per classic insn. */
function tableCount(fp: SockFilter): number {
  const k = fp.k >>> 0;
  const ldabs = (size: number, kk: number): number => {
    if ((kk | 0) < 0) return 8;
    const endian = size !== 1 ? 1 : 0;
    return 1 + (kk !== 0 ? 1 : 0) + 1 + (kk <= 32767 ? 1 : 3) + endian + 1 + 8;
  };
  const extCounts: Record<number, number> = { 0: 2, 4: 2, 8: 4, 12: 4, 16: 4, 20: 1, 24: 1, 28: 4, 32: 1, 36: 4, 40: 1, 44: 1, 48: 3, 52: 4, 56: 4, 60: 2 };
  switch (fp.code) {
    case 0x3c: case 0x9c: return 5;
    case 0x06: return 2;
    case 0x20: case 0x28: case 0x30: {
      const ad = k - 0xfffff000;
      if (k >= 0xfffff000 && extCounts[ad] !== undefined) return extCounts[ad]!;
      return ldabs(fp.code === 0x30 ? 1 : fp.code === 0x28 ? 2 : 4, k);
    }
    case 0x40: case 0x48: case 0x50: return k === 0 ? 8 : 9;
    case 0xb1: return 1 + ldabs(1, k) + 5;
    case 0x15: case 0x1d: case 0x25: case 0x2d: case 0x35: case 0x3d: case 0x45: case 0x4d: {
      const tmp = (fp.code & 8) === 0 && (k | 0) < 0 ? 1 : 0;
      const two = fp.jf !== 0 && (fp.jt !== 0 || (fp.code & 0xf0) === 0x40);
      return tmp + (two ? 2 : 1);
    }
    default: return 1;
  }
}
const usesPacket = (fp: SockFilter): boolean =>
  fp.code === 0xb1 || fp.code === 0x40 || fp.code === 0x48 || fp.code === 0x50 ||
  ((fp.code === 0x20 || fp.code === 0x28 || fp.code === 0x30) && !(fp.k >>> 0 >= 0xfffff000 && (fp.k >>> 0) - 0xfffff000 < 64 && ((fp.k >>> 0) & 3) === 0));

/** Checked-valid programs: straight-line bodies, forward jumps in range, stores before loads, RET last. */
const arbProgram: fc.Arbitrary<SockFilter[]> = fc
  .array(
    fc.oneof(
      fc.constantFrom(0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x3c, 0x44, 0x4c, 0x54, 0x5c, 0x6c, 0x7c, 0x84, 0x9c, 0xa4, 0xac, 0x00, 0x01, 0x07, 0x87, 0x80, 0x81, 0x02, 0x03, 0x16, 0x06).chain((code) =>
        fc.integer({ min: 1, max: 15 }).map((k) => S(code, k)),
      ),
      fc.tuple(fc.constantFrom(0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0xb1), fc.oneof(fc.constantFrom(0, 1, 14, 32767, 32768, 0xfff00000, 0xffe00010, 0xffffefff), fc.nat())).map(([c, k]) => S(c, k)),
      fc.tuple(fc.constantFrom(0x20, 0x28, 0x30), fc.integer({ min: 0, max: 15 })).map(([c, i]) => S(c, 0xfffff000 + 4 * i)),
      fc.tuple(fc.constantFrom(0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d), fc.oneof(fc.nat(), fc.integer({ min: 0x80000000, max: 0xffffffff })), fc.nat(3), fc.nat(3)).map(([c, k, jt, jf]) => J(c, k, jt, jf)),
      fc.nat(3).map((k) => S(0x05, k)),
    ),
    { minLength: 0, maxLength: 40 },
  )
  .map((body) => {
    // make jumps land in range: 4 RET K pads at the end; stores for every M[k] first
    const stores = Array.from({ length: 16 }, (_, k) => S(0x02, k));
    return [...stores, ...body, RET_K(0), RET_K(1), RET_K(2), RET_K(3), RET_K(4)];
  });

testProp('property: converted length == prologue + sum of the Appendix A table', [arbProgram], (t, prog) => {
  t.is(bpfCheckClassic(prog), null);
  const r = conv(prog);
  const expected = 3 + (prog.some(usesPacket) ? 4 : 0) + prog.reduce((s, fp) => s + tableCount(fp), 0);
  t.is(r.insns.length, expected);
  for (let pc = 0; pc < prog.length; pc++) t.is(r.map[2 * pc + 1]! - r.map[2 * pc]!, tableCount(prog[pc]!));
  t.is(r.seenLdAbs, prog.some(usesPacket));
  t.is(r.passes, 2);
});

testProp(
  'property: every program bpf_check_classic accepts converts or fails with a modelled -EINVAL, never throws',
  [fc.array(fc.record({ code: fc.nat(0xff), jt: fc.nat(255), jf: fc.nat(255), k: fc.oneof(fc.nat(40), fc.integer({ min: 0, max: 0xffffffff })) }), { minLength: 1, maxLength: 30 }), fc.constantFrom(X86_64, STRICT_ALIGN_64)],
  (t, prog, cfg) => {
    const p = [...prog, RET_K(0)];
    const r = bpfConvertFilter(p, cfg);
    if ('ok' in r) {
      t.is(r.insns.length, r.map[2 * p.length - 1]);
      // every jump in the result lands inside the program
      r.insns.forEach((ins, idx) => {
        if ((ins.code & 7) === 5 && ins.code !== 0x85 && ins.code !== 0x95) t.true(idx + 1 + ins.off >= 0 && idx + 1 + ins.off < r.insns.length);
      });
    } else {
      t.is(r.errno, -EINVAL);
      if (bpfCheckClassic(p) === null) t.is(r.rule, 'jump-offset-overflow');
    }
  },
);
