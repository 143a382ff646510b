// Tests for model/cbpf/eval.ts, the classic evaluator (3.14 sk_run_filter semantics).
// Expected values are worked out by hand from the kernel text: "3.14:N" is net/core/filter.c of the
// 3.14.y copy cited in eval.ts, "F:N" / "C:N" the 6.6.y net/core/filter.c / kernel/bpf/core.c.
import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import {
  CLASSIC,
  ClassicVm,
  compileClassic,
  EV_CPU,
  EV_DEV_NULL,
  EV_MAC_UNSET,
  EV_NEG_FRAG,
  EV_NLATTR_GUARD,
  EV_POFF,
  EV_RANDOM,
  EV_SHIFT_WIDE,
  EV_VLAN_DEI,
  EV_VLAN_PRESENT_ODD,
  evalClassic,
  EXIT_DEV_NULL,
  EXIT_DIV0,
  EXIT_FELL_OFF,
  EXIT_INVALID,
  EXIT_LOAD_FAIL,
  EXIT_NLATTR_GUARD,
  EXIT_RET,
  MAC_UNSET_OFFSET,
  V6_6_0,
  V6_6_BACKPORT,
  type ClassicSemantics,
  type ClassicStep,
} from '../../model/cbpf/eval.js';
import { bpfJump, bpfStmt, type Program, type SockFilter } from '../../model/cbpf/insn.js';
import { DEFAULT_CONFIG, X86_64 } from '../../model/config.js';
import { newRndState, prandomU32State } from '../../model/prandom.js';
import { afUnixSkb, ethernetSkb, type SkBuff, type SkBuffFields } from '../../model/skb.js';
import {
  ancillaryK,
  SKF_AD_ALU_XOR_X,
  SKF_AD_CPU,
  SKF_AD_HATYPE,
  SKF_AD_IFINDEX,
  SKF_AD_MARK,
  SKF_AD_NLATTR,
  SKF_AD_NLATTR_NEST,
  SKF_AD_PAY_OFFSET,
  SKF_AD_PKTTYPE,
  SKF_AD_PROTOCOL,
  SKF_AD_QUEUE,
  SKF_AD_RANDOM,
  SKF_AD_RXHASH,
  SKF_AD_VLAN_TAG,
  SKF_AD_VLAN_TAG_PRESENT,
  SKF_AD_VLAN_TPID,
  SKF_LL_OFF,
  SKF_NET_OFF,
} from '../../model/uapi.js';

// Classic codes (include/uapi/linux/bpf_common.h, filter.h), written out so each test reads as asm.
const LD_IMM = 0x00, LDX_IMM = 0x01, ST = 0x02, STX = 0x03, LD_MEM = 0x60, LDX_MEM = 0x61;
const LD_W_ABS = 0x20, LD_H_ABS = 0x28, LD_B_ABS = 0x30, LD_W_IND = 0x40, LD_H_IND = 0x48, LD_B_IND = 0x50;
const LD_LEN = 0x80, LDX_LEN = 0x81, LDX_MSH = 0xb1, TAX = 0x07, TXA = 0x87, RET_K = 0x06, RET_A = 0x16;
const ADD_K = 0x04, ADD_X = 0x0c, SUB_K = 0x14, SUB_X = 0x1c, MUL_K = 0x24, MUL_X = 0x2c, DIV_K = 0x34;
const DIV_X = 0x3c, MOD_K = 0x94, MOD_X = 0x9c, AND_K = 0x54, AND_X = 0x5c, OR_K = 0x44, OR_X = 0x4c;
const XOR_K = 0xa4, XOR_X = 0xac, LSH_K = 0x64, LSH_X = 0x6c, RSH_K = 0x74, RSH_X = 0x7c, NEG = 0x84;
const JA = 0x05, JEQ_K = 0x15, JEQ_X = 0x1d, JGT_K = 0x25, JGT_X = 0x2d, JGE_K = 0x35, JGE_X = 0x3d;
const JSET_K = 0x45, JSET_X = 0x4d;

const S = bpfStmt;
const J = bpfJump;
const anc = (ad: number, code = LD_W_ABS): SockFilter => S(code, ancillaryK(ad));

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const seq = (n: number, from = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
const unix = (data: Uint8Array, f: SkBuffFields = {}): SkBuff => afUnixSkb(data, f);

/** Run and return the result together with the VM, for exit/event checks. */
function go(prog: Program, skb: SkBuff = unix(seq(64)), sem: ClassicSemantics = CLASSIC, env = { cpu: 0, randomSeed: 1 }) {
  const vm = new ClassicVm(DEFAULT_CONFIG, sem);
  const ret = vm.run(compileClassic(prog), skb, env);
  return { ret, vm };
}
const r = (prog: Program, skb?: SkBuff, sem?: ClassicSemantics): number => go(prog, skb, sem).ret;

// ---------------------------------------------------------------------------------------------
// ALU (3.14:144-211): u32 arithmetic mod 2^32

test('ALU K: add/sub/mul/div/mod/and/or/xor wrap mod 2^32', (t) => {
  const alu = (a: number, code: number, k: number): number => r([S(LD_IMM, a), S(code, k), S(RET_A, 0)]);
  t.is(alu(0xffffffff, ADD_K, 2), 1); // A += K
  t.is(alu(1, SUB_K, 2), 0xffffffff); // A -= K
  t.is(alu(0x10000, MUL_K, 0x10000), 0); // 2^32 mod 2^32
  t.is(alu(0xffffffff, MUL_K, 0xffffffff), 1); // (2^32-1)^2 = 2^64 - 2^33 + 1 == 1 mod 2^32
  t.is(alu(0xffffffff, DIV_K, 2), 0x7fffffff); // 3.14:167 A /= K (unsigned)
  t.is(alu(7, DIV_K, 0x80000000), 0);
  t.is(alu(0xffffffff, MOD_K, 10), 5); // 4294967295 = 429496729*10 + 5
  t.is(alu(0xf0f0f0f0, AND_K, 0xff00ff00), 0xf000f000);
  t.is(alu(0xf0f0f0f0, OR_K, 0x0f000000), 0xfff0f0f0);
  t.is(alu(0xf0f0f0f0, XOR_K, 0xffffffff), 0x0f0f0f0f);
  t.is(alu(1, LSH_K, 31), 0x80000000);
  t.is(alu(0x80000000, RSH_K, 31), 1); // logical shift
  t.is(r([S(LD_IMM, 1), S(NEG, 0), S(RET_A, 0)]), 0xffffffff); // 3.14:209 A = -A
  t.is(r([S(LD_IMM, 0), S(NEG, 0), S(RET_A, 0)]), 0);
});

test('ALU X: the same operations with X as the operand', (t) => {
  const alu = (a: number, code: number, x: number): number =>
    r([S(LDX_IMM, x), S(LD_IMM, a), S(code, 0), S(RET_A, 0)]);
  t.is(alu(0xffffffff, ADD_X, 2), 1);
  t.is(alu(1, SUB_X, 2), 0xffffffff);
  t.is(alu(0xffffffff, MUL_X, 0xffffffff), 1);
  t.is(alu(100, DIV_X, 7), 14);
  t.is(alu(100, MOD_X, 7), 2);
  t.is(alu(0xf0f0f0f0, AND_X, 0xff00ff00), 0xf000f000);
  t.is(alu(0xf0f0f0f0, OR_X, 0x0f000000), 0xfff0f0f0);
  t.is(alu(0xf0f0f0f0, XOR_X, 0xffffffff), 0x0f0f0f0f);
  t.is(alu(3, LSH_X, 30), 0xc0000000);
  t.is(alu(0xc0000000, RSH_X, 30), 3);
});

test('DIV/MOD by X == 0 ends the filter with 0 (3.14:163, 3.14:171)', (t) => {
  for (const code of [DIV_X, MOD_X]) {
    const { ret, vm } = go([S(LD_IMM, 5), S(code, 0), S(RET_K, 1)]);
    t.is(ret, 0);
    t.is(vm.exit, EXIT_DIV0);
    t.is(vm.exitPc, 1);
  }
});

test('shifts by 32 and 33 use the x86-64 count & 31 (3.14:197)', (t) => {
  const sh = (code: number, a: number, n: number, viaX: boolean) => {
    const prog = viaX ? [S(LDX_IMM, n), S(LD_IMM, a), S(code, 0), S(RET_A, 0)] : [S(LD_IMM, a), S(code, n), S(RET_A, 0)];
    return go(prog);
  };
  for (const viaX of [true, false]) {
    const lsh = viaX ? LSH_X : LSH_K;
    const rsh = viaX ? RSH_X : RSH_K;
    t.is(sh(lsh, 0x12345678, 32, viaX).ret, 0x12345678); // shl by 32 & 31 = 0
    t.is(sh(lsh, 0x12345678, 33, viaX).ret, 0x2468acf0); // shl by 1
    t.is(sh(rsh, 0x12345678, 32, viaX).ret, 0x12345678);
    const { ret, vm } = sh(rsh, 0x12345678, 33, viaX);
    t.is(ret, 0x091a2b3c); // shr by 1
    t.is(vm.events & EV_SHIFT_WIDE, EV_SHIFT_WIDE);
    t.is(sh(rsh, 0x12345678, 31, viaX).vm.events & EV_SHIFT_WIDE, 0);
  }
});

testProp(
  'ALU K agrees with a BigInt reading of the C u32 operators',
  [fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 0xffffffff })],
  (t, a, k) => {
    const m = (x: bigint): number => Number(x & 0xffffffffn);
    const A = BigInt(a), K = BigInt(k);
    const cases: [number, number][] = [
      [ADD_K, m(A + K)], [SUB_K, m(A - K)], [MUL_K, m(A * K)], [DIV_K, m(A / K)], [MOD_K, m(A % K)],
      [AND_K, m(A & K)], [OR_K, m(A | K)], [XOR_K, m(A ^ K)],
      [LSH_K, m(A << (K & 31n))], [RSH_K, m(A >> (K & 31n))],
    ];
    for (const [code, want] of cases) t.is(r([S(LD_IMM, a), S(code, k), S(RET_A, 0)]), want, `code ${code}`);
  },
);

// ---------------------------------------------------------------------------------------------
// Jumps (3.14:212-238): pc += offset, then the loop's pc++; unsigned compares

test('JA skips k instructions', (t) => {
  t.is(r([J(JA, 1, 0, 0), S(RET_K, 1), S(RET_K, 2)]), 2);
  t.is(r([J(JA, 0, 0, 0), S(RET_K, 1), S(RET_K, 2)]), 1);
});

test('conditional jumps K: unsigned compares, jt/jf offsets', (t) => {
  const cj = (a: number, code: number, k: number): number =>
    r([S(LD_IMM, a), J(code, k, 1, 0), S(RET_K, 10), S(RET_K, 20)]);
  t.is(cj(5, JEQ_K, 5), 20);
  t.is(cj(5, JEQ_K, 6), 10);
  t.is(cj(0x80000000, JGT_K, 1), 20); // unsigned: 2^31 > 1
  t.is(cj(1, JGT_K, 1), 10);
  t.is(cj(1, JGE_K, 1), 20);
  t.is(cj(0, JGE_K, 0xffffffff), 10);
  t.is(cj(6, JSET_K, 2), 20);
  t.is(cj(6, JSET_K, 1), 10);
  // jt and jf both non-zero
  t.is(r([S(LD_IMM, 1), J(JEQ_K, 1, 2, 1), S(RET_K, 1), S(RET_K, 2), S(RET_K, 3)]), 3);
  t.is(r([S(LD_IMM, 0), J(JEQ_K, 1, 2, 1), S(RET_K, 1), S(RET_K, 2), S(RET_K, 3)]), 2);
});

test('conditional jumps X', (t) => {
  const cj = (a: number, code: number, x: number): number =>
    r([S(LDX_IMM, x), S(LD_IMM, a), J(code, 0, 1, 0), S(RET_K, 10), S(RET_K, 20)]);
  t.is(cj(5, JEQ_X, 5), 20);
  t.is(cj(5, JEQ_X, 4), 10);
  t.is(cj(0xffffffff, JGT_X, 0x7fffffff), 20);
  t.is(cj(3, JGT_X, 3), 10);
  t.is(cj(3, JGE_X, 3), 20);
  t.is(cj(2, JGE_X, 3), 10);
  t.is(cj(0x80000000, JSET_X, 0x80000001), 20);
  t.is(cj(0x40000000, JSET_X, 0x80000001), 10);
});

// ---------------------------------------------------------------------------------------------
// Loads, stores, registers

test('LD/LDX IMM, MEM, ST/STX, TAX/TXA, RET K/A', (t) => {
  t.is(r([S(LD_IMM, 7), S(ST, 3), S(LD_IMM, 0), S(LDX_MEM, 3), S(TXA, 0), S(RET_A, 0)]), 7);
  t.is(r([S(LDX_IMM, 9), S(STX, 15), S(LD_MEM, 15), S(RET_A, 0)]), 9);
  t.is(r([S(LD_IMM, 4), S(TAX, 0), S(LD_IMM, 0), S(TXA, 0), S(RET_A, 0)]), 4);
  t.is(r([S(RET_K, 0xffffffff)]), 0xffffffff);
  t.is(r([S(RET_A, 0)]), 0); // A starts at 0 (3.14:127)
  t.is(r([S(TXA, 0), S(RET_A, 0)]), 0); // X starts at 0 (3.14:128)
});

test('LD/LDX LEN is skb->len, frags included (3.14:266)', (t) => {
  const skb = unix(seq(40), { headlen: 10 });
  t.is(r([S(LD_LEN, 0), S(RET_A, 0)], skb), 40);
  t.is(r([S(LDX_LEN, 0), S(TXA, 0), S(RET_A, 0)], skb), 40);
});

test('LD ABS W/H/B: big-endian, in bounds up to len - size (skb_header_pointer / skb_copy_bits)', (t) => {
  const skb = unix(bytes(0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa));
  t.is(r([S(LD_W_ABS, 0), S(RET_A, 0)], skb), 0x11223344);
  t.is(r([S(LD_W_ABS, 6), S(RET_A, 0)], skb), 0x778899aa); // len - 4
  t.is(r([S(LD_H_ABS, 8), S(RET_A, 0)], skb), 0x99aa); // len - 2
  t.is(r([S(LD_B_ABS, 9), S(RET_A, 0)], skb), 0xaa); // len - 1
  for (const [code, k] of [[LD_W_ABS, 7], [LD_H_ABS, 9], [LD_B_ABS, 10], [LD_W_ABS, 0x7fffffff]] as const) {
    const { ret, vm } = go([S(LD_IMM, 5), S(code, k), S(RET_K, 1)], skb);
    t.is(ret, 0, `code ${code} k ${k}`); // 3.14:247 NULL -> return 0
    t.is(vm.exit, EXIT_LOAD_FAIL);
    t.is(vm.exitPc, 1);
  }
});

test('LD ABS across the head/frag boundary reads through skb_copy_bits', (t) => {
  const skb = unix(bytes(1, 2, 3, 4, 5, 6, 7, 8), { headlen: 3 });
  t.is(r([S(LD_W_ABS, 1), S(RET_A, 0)], skb), 0x02030405); // 2 linear + 2 frag bytes
  t.is(r([S(LD_H_ABS, 6), S(RET_A, 0)], skb), 0x0708); // wholly in frags
  t.is(r([S(LD_W_ABS, 5), S(RET_A, 0)], skb), 0); // 5 > 8 - 4
});

test('LD IND: offset = (int)(X + k) with u32 wrap (3.14:272)', (t) => {
  const skb = unix(bytes(0x01, 0x23, 0x45, 0x67, 0x89));
  t.is(r([S(LDX_IMM, 0xffffffff), S(LD_B_IND, 2), S(RET_A, 0)], skb), 0x23); // X + 2 = 1
  t.is(r([S(LDX_IMM, 1), S(LD_W_IND, 0xffffffff), S(RET_A, 0)], skb), 0x01234567); // X + k = 0
  t.is(r([S(LDX_IMM, 3), S(LD_H_IND, 0), S(RET_A, 0)], skb), 0x6789);
  t.is(r([S(LDX_IMM, 4), S(LD_H_IND, 0), S(RET_K, 1)], skb), 0); // 4 > 5 - 2
  // X + k = 0x80000000 is a negative int below SKF_LL_OFF: NULL (3.14:47)
  t.is(r([S(LDX_IMM, 0x7fffffff), S(LD_B_IND, 1), S(RET_K, 1)], skb), 0);
});

test('LD IND with a negative (X + k) is a network-relative load', (t) => {
  const data = seq(32, 0x40);
  const skb = ethernetSkb(data); // network header at 14
  // X + k = SKF_NET_OFF + 2 -> data[16]
  t.is(r([S(LDX_IMM, 2), S(LD_B_IND, SKF_NET_OFF >>> 0), S(RET_A, 0)], skb), 0x40 + 16);
});

test('LDX MSH: X = (byte & 0xf) << 2, A preserved; failure returns 0 (3.14:281)', (t) => {
  const skb = unix(bytes(0x45, 0xff));
  t.is(r([S(LD_IMM, 0xabc), S(LDX_MSH, 0), S(RET_A, 0)], skb), 0xabc);
  t.is(r([S(LDX_MSH, 0), S(TXA, 0), S(RET_A, 0)], skb), 20);
  t.is(r([S(LDX_MSH, 1), S(TXA, 0), S(RET_A, 0)], skb), 60);
  const { ret, vm } = go([S(LD_IMM, 1), S(LDX_MSH, 2), S(RET_A, 0)], skb);
  t.is(ret, 0);
  t.is(vm.exit, EXIT_LOAD_FAIL);
  t.is(r([S(LD_IMM, 1), S(LDX_MSH, 0xffffffff), S(RET_A, 0)], skb), 0); // -1: NET-relative, far past tail
});

// ---------------------------------------------------------------------------------------------
// Negative offsets (3.14:47 bpf_internal_load_pointer_neg_helper)

test('SKF_NET_OFF / SKF_LL_OFF loads are relative to the network / mac header', (t) => {
  const data = seq(30, 0x80);
  const skb = ethernetSkb(data); // mac 0, network 14
  t.is(r([S(LD_B_ABS, (SKF_NET_OFF + 0) >>> 0), S(RET_A, 0)], skb), 0x80 + 14);
  t.is(r([S(LD_H_ABS, (SKF_LL_OFF + 12) >>> 0), S(RET_A, 0)], skb), ((0x80 + 12) << 8) | (0x80 + 13));
  // last bytes of the linear area: network + 12 = 26, size 4 -> end 30 == tail: ok
  t.is(r([S(LD_W_ABS, (SKF_NET_OFF + 12) >>> 0), S(RET_A, 0)], skb), 0x9a9b9c9d);
  t.is(r([S(LD_W_ABS, (SKF_NET_OFF + 13) >>> 0), S(RET_K, 1)], skb), 0); // one past the tail
  t.is(r([S(LD_B_ABS, (SKF_LL_OFF - 1) >>> 0), S(RET_K, 1)], skb), 0); // below SKF_LL_OFF: ptr NULL
});

test('negative offsets reach into the headroom (ptr >= skb->head)', (t) => {
  const headroom = bytes(0xa0, 0xa1, 0xa2, 0xa3);
  const skb = unix(bytes(0xb0, 0xb1), { headroom, macHeader: -4, networkHeader: -2 });
  t.is(r([S(LD_W_ABS, SKF_LL_OFF >>> 0), S(RET_A, 0)], skb), 0xa0a1a2a3);
  t.is(r([S(LD_W_ABS, SKF_NET_OFF >>> 0), S(RET_A, 0)], skb), 0xa2a3b0b1); // headroom then data
  t.is(r([S(LD_W_ABS, (SKF_LL_OFF + 3) >>> 0), S(RET_K, 1)], skb), 0); // data-relative -1..2 passes the tail (2)
});

test('mac header never set: 3.14 reads head + 0xffff + k (no was_set check); 6.6 fails', (t) => {
  // A linear skb long enough that head + 0xffff + 2 is inside it; no headroom, so head == data.
  const data = new Uint8Array(MAC_UNSET_OFFSET + 8);
  data[MAC_UNSET_OFFSET + 2] = 0x5a;
  data[MAC_UNSET_OFFSET] = 0x33;
  const skb = unix(data); // macHeader null
  const prog = [S(LD_B_ABS, (SKF_LL_OFF + 2) >>> 0), S(RET_A, 0)];
  const classic = go(prog, skb, CLASSIC);
  t.is(classic.ret, 0x5a);
  t.is(classic.vm.events & EV_MAC_UNSET, EV_MAC_UNSET);
  const v66 = go(prog, skb, { ...CLASSIC, macUnset: 'fail' });
  t.is(v66.ret, 0); // C:81 / F:222 skb_mac_header_was_set() false -> fail
  t.is(v66.vm.events & EV_MAC_UNSET, EV_MAC_UNSET);
  // A short skb: the unset offset lies past the tail, so 3.14 fails too.
  t.is(r(prog, unix(seq(64))), 0);
  // With headroom the pointer is still head + 0xffff: data-relative 0xffff - headroom.
  const skb2 = unix(data, { headroom: new Uint8Array(2) });
  t.is(r(prog, skb2), 0x33); // head + 0xffff + 2 = data + 0xffff
});

test('negative-offset loads reaching frags fail (linear) or read the frags (backport)', (t) => {
  const data = seq(40, 0);
  const skb = ethernetSkb(data, { headlen: 20 }); // network at 14; linear part ends at 20
  const prog = [S(LD_W_ABS, (SKF_NET_OFF + 4) >>> 0), S(RET_A, 0)]; // bytes 18..21: crosses into frags
  const lin = go(prog, skb, CLASSIC);
  t.is(lin.ret, 0);
  t.is(lin.vm.events & EV_NEG_FRAG, EV_NEG_FRAG);
  const frags = go(prog, skb, { ...CLASSIC, negativeLoads: 'frags' });
  t.is(frags.ret, 0x12131415);
  t.is(frags.vm.events & EV_NEG_FRAG, EV_NEG_FRAG);
  // past skb->len: fails in both modes, and is not a frag event
  const far = go([S(LD_W_ABS, (SKF_NET_OFF + 23) >>> 0), S(RET_K, 1)], skb, V6_6_BACKPORT);
  t.is(far.ret, 0);
  t.is(far.vm.events & EV_NEG_FRAG, 0);
  // wholly linear: no event
  t.is(go([S(LD_B_ABS, SKF_NET_OFF >>> 0), S(RET_A, 0)], skb).vm.events & EV_NEG_FRAG, 0);
});

// ---------------------------------------------------------------------------------------------
// Ancillary loads (3.14:316-391; any load size, LD|ABS only)

const metaSkb = (f: SkBuffFields = {}): SkBuff =>
  unix(seq(20), {
    protocol: 0x86dd,
    pktType: 3,
    dev: { ifindex: 577, type: 588 },
    mark: 0x12345678,
    queueMapping: 123,
    hash: 0xdeadbeef,
    vlanTci: 0x0abc,
    vlanProto: 0x8100,
    vlanPresent: true,
    ...f,
  });

test('PROTOCOL, PKTTYPE, IFINDEX, HATYPE, MARK, QUEUE, RXHASH, VLAN_TPID', (t) => {
  const skb = metaSkb();
  const ld = (ad: number, code = LD_W_ABS): number => r([anc(ad, code), S(RET_A, 0)], skb);
  t.is(ld(SKF_AD_PROTOCOL), 0x86dd);
  t.is(ld(SKF_AD_PROTOCOL, LD_B_ABS), 0x86dd); // size ignored for ancillary loads
  t.is(ld(SKF_AD_PROTOCOL, LD_H_ABS), 0x86dd);
  t.is(ld(SKF_AD_PKTTYPE), 3);
  t.is(ld(SKF_AD_IFINDEX), 577);
  t.is(ld(SKF_AD_HATYPE), 588);
  t.is(ld(SKF_AD_MARK), 0x12345678);
  t.is(ld(SKF_AD_QUEUE), 123);
  t.is(ld(SKF_AD_RXHASH), 0xdeadbeef);
  t.is(ld(SKF_AD_VLAN_TPID), 0x8100); // F:420 ntohs(vlan_proto)
  // IND / MSH at the same k are packet loads, not ancillary: (int)(0 + 0xfffff000) is NET-relative, far away
  t.is(r([S(LD_W_IND, ancillaryK(SKF_AD_PROTOCOL)), S(RET_K, 1)], skb), 0);
  t.is(r([S(LDX_MSH, ancillaryK(SKF_AD_PROTOCOL)), S(RET_K, 1)], skb), 0);
  // negative ifindex is an int: A = (u32)ifindex
  t.is(r([anc(SKF_AD_IFINDEX), S(RET_A, 0)], metaSkb({ dev: { ifindex: -2, type: 1 } })), 0xfffffffe);
});

test('IFINDEX/HATYPE with dev == NULL: classic returns 0, v6.6 returns the current A', (t) => {
  for (const ad of [SKF_AD_IFINDEX, SKF_AD_HATYPE]) {
    const prog = [S(LD_IMM, 7), anc(ad), S(RET_K, 99)];
    const skb = unix(seq(4)); // dev null
    const c = go(prog, skb, CLASSIC); // 3.14:323 if (!skb->dev) return 0
    t.is(c.ret, 0);
    t.is(c.vm.exit, EXIT_DEV_NULL);
    t.is(c.vm.events, EV_DEV_NULL);
    const v = go(prog, skb, { ...CLASSIC, devNull: 'returnA' }); // F:377 JNE TMP,0,+1; EXIT with R0 = A
    t.is(v.ret, 7);
    t.is(v.vm.exit, EXIT_DEV_NULL);
  }
});

test('ALU_XOR_X: A ^= X', (t) => {
  t.is(r([S(LDX_IMM, 0xff00), S(LD_IMM, 0x0ff0), anc(SKF_AD_ALU_XOR_X), S(RET_A, 0)]), 0xf0f0);
});

test('CPU is env.cpu and raises EV_CPU', (t) => {
  const vm = new ClassicVm();
  const ret = vm.run(compileClassic([anc(SKF_AD_CPU), S(RET_A, 0)]), unix(seq(1)), { cpu: 3, randomSeed: 1 });
  t.is(ret, 3);
  t.is(vm.events, EV_CPU);
});

test('RANDOM draws prandom_u32_state from a state seeded per run from env.randomSeed', (t) => {
  const prog = [anc(SKF_AD_RANDOM), S(ST, 0), anc(SKF_AD_RANDOM), S(TAX, 0), S(LD_MEM, 0), S(SUB_X, 0), S(RET_A, 0)];
  const st = newRndState(42);
  const first = prandomU32State(st);
  const second = prandomU32State(st);
  const vm = new ClassicVm();
  const p = compileClassic(prog);
  t.is(vm.run(p, unix(seq(1)), { cpu: 0, randomSeed: 42 }), (first - second) >>> 0);
  t.is(vm.events, EV_RANDOM);
  // a second run restarts the sequence
  t.is(vm.run(compileClassic([anc(SKF_AD_RANDOM), S(RET_A, 0)]), unix(seq(1)), { cpu: 0, randomSeed: 42 }), first);
});

test('VLAN_TAG: classic clears bit 12 (vlan_tx_tag_get, 3.14:344); v6.6 gives the full TCI (F:331)', (t) => {
  const prog = [anc(SKF_AD_VLAN_TAG), S(RET_A, 0)];
  const dei = metaSkb({ vlanTci: 0xffff });
  const c = go(prog, dei, CLASSIC);
  t.is(c.ret, 0xefff);
  t.is(c.vm.events, EV_VLAN_DEI);
  t.is(go(prog, dei, { ...CLASSIC, vlanTag: 'v6.6' }).ret, 0xffff);
  const plain = go(prog, metaSkb({ vlanTci: 0x0abc }), CLASSIC);
  t.is(plain.ret, 0x0abc);
  t.is(plain.vm.events, 0);
});

test('VLAN_TAG_PRESENT: classic reads skb.vlanPresent; v6.6 tests vlan_all != 0 (F:338)', (t) => {
  const prog = [anc(SKF_AD_VLAN_TAG_PRESENT), S(RET_A, 0)];
  const both = (f: SkBuffFields) => [go(prog, metaSkb(f), CLASSIC), go(prog, metaSkb(f), V6_6_0)] as const;
  let [c, v] = both({ vlanPresent: true, vlanTci: 1, vlanProto: 0x8100 });
  t.deepEqual([c.ret, v.ret, c.vm.events], [1, 1, 0]);
  [c, v] = both({ vlanPresent: false, vlanTci: 0, vlanProto: 0 });
  t.deepEqual([c.ret, v.ret, c.vm.events], [0, 0, 0]);
  // an odd producer: proto set, no classic present bit
  [c, v] = both({ vlanPresent: false, vlanTci: 0, vlanProto: 0x8100 });
  t.deepEqual([c.ret, v.ret, c.vm.events], [0, 1, EV_VLAN_PRESENT_ODD]);
  [c, v] = both({ vlanPresent: true, vlanTci: 0, vlanProto: 0 });
  t.deepEqual([c.ret, v.ret, c.vm.events], [1, 0, EV_VLAN_PRESENT_ODD]);
});

test('PAY_OFFSET is skb_get_poff: IPv4/TCP over Ethernet -> 14 + 20 + 20', (t) => {
  // Ethernet II, IPv4 ihl 5, protocol 6 (TCP), not a fragment; TCP doff 5.
  const pkt = new Uint8Array(14 + 20 + 20 + 4);
  pkt.set([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00], 0);
  pkt.set([0x45, 0, 0, 44, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  pkt.set([0, 80, 0x30, 0x39, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0], 34);
  const { ret, vm } = go([anc(SKF_AD_PAY_OFFSET), S(RET_A, 0)], ethernetSkb(pkt));
  t.is(ret, 54); // net/core/flow_dissector.c skb_get_poff: thoff 34 + doff*4 20
  t.is(vm.events, EV_POFF);
});

// Netlink attributes are host-endian {u16 nla_len, u16 nla_type} (include/uapi/linux/netlink.h).
const nla = (le: boolean, len: number, type: number): number[] =>
  le ? [len & 0xff, len >> 8, type & 0xff, type >> 8] : [len >> 8, len & 0xff, type >> 8, type & 0xff];

test('NLATTR: offset of nla_find(&data[A], len - A, X), else 0 (3.14:353)', (t) => {
  for (const le of [true, false]) {
    const cfg = { ...X86_64, littleEndian: le };
    // attr type 1 (8 bytes) at 0, attr type 2 (8 bytes) at 8
    const data = Uint8Array.from([...nla(le, 8, 1), 1, 1, 1, 1, ...nla(le, 8, 2), 2, 2, 2, 2]);
    const ld = (a: number, x: number): number =>
      new ClassicVm(cfg).run(compileClassic([S(LDX_IMM, x), S(LD_IMM, a), anc(SKF_AD_NLATTR), S(RET_A, 0)]), unix(data));
    t.is(ld(0, 2), 8, `le=${le}`);
    t.is(ld(0, 1), 0); // found at offset 0: A = 0 as well
    t.is(ld(0, 3), 0); // not found
    t.is(ld(8, 2), 8);
    t.is(ld(8, 1), 0); // the search starts at A
  }
});

test('NLATTR guards: classic returns 0, v6.6 sets A = 0 and continues (F:170)', (t) => {
  const data = Uint8Array.from([...nla(true, 8, 1), 0, 0, 0, 0]);
  const prog = (a: number) => [S(LD_IMM, a), anc(SKF_AD_NLATTR), S(RET_K, 9)];
  const cases: [string, number, SkBuff][] = [
    ['A > len - 4', 9, unix(data)],
    ['nonlinear', 0, unix(data, { headlen: 4 })],
    ['len < 4', 0, unix(bytes(8, 0, 1))],
  ];
  for (const [name, a, skb] of cases) {
    const c = go(prog(a), skb, CLASSIC);
    t.is(c.ret, 0, name);
    t.is(c.vm.exit, EXIT_NLATTR_GUARD);
    t.is(c.vm.events, EV_NLATTR_GUARD);
    const v = go([...prog(a).slice(0, 2), S(RET_A, 0)], skb, { ...CLASSIC, nlattrGuard: 'zeroContinue' });
    t.is(v.ret, 0, name);
    t.is(v.vm.exit, EXIT_RET);
    t.is(go(prog(a), skb, V6_6_0).ret, 9, name);
  }
  t.is(r(prog(4), unix(data)), 9); // A = len - 4 = 4 passes the guard (no attr at 4: A = 0, go on)
});

test('NLATTR_NEST: nla_find_nested(&data[A], X) and the nla_len > len - A guard (3.14:371)', (t) => {
  for (const le of [true, false]) {
    const cfg = { ...X86_64, littleEndian: le };
    // at 0: a nest of len 20 (type 1) holding type 5 at 4 and type 6 at 12; then 4 bytes of padding
    const data = Uint8Array.from([
      ...nla(le, 20, 1), ...nla(le, 8, 5), 5, 5, 5, 5, ...nla(le, 8, 6), 6, 6, 6, 6, 0, 0, 0, 0,
    ]);
    const run = (a: number, x: number, d = data, sem = CLASSIC) =>
      new ClassicVm(cfg, sem).run(
        compileClassic([S(LDX_IMM, x), S(LD_IMM, a), anc(SKF_AD_NLATTR_NEST), S(RET_A, 0)]),
        unix(d),
      );
    t.is(run(0, 6), 12, `le=${le}`);
    t.is(run(0, 5), 4);
    t.is(run(0, 7), 0);
    // nla_len 20 > len - A when the skb is cut to 19 bytes: return 0 (classic) / A = 0 (6.6)
    const cut = data.slice(0, 19);
    const vm = new ClassicVm(cfg, CLASSIC);
    t.is(vm.run(compileClassic([S(LDX_IMM, 6), anc(SKF_AD_NLATTR_NEST), S(RET_K, 9)]), unix(cut)), 0);
    t.is(vm.events, EV_NLATTR_GUARD);
    const vm66 = new ClassicVm(cfg, V6_6_0);
    t.is(vm66.run(compileClassic([S(LDX_IMM, 6), anc(SKF_AD_NLATTR_NEST), S(RET_K, 9)]), unix(cut)), 9);
  }
});

// ---------------------------------------------------------------------------------------------
// Programs the checker rejects: the evaluator still ends, with 0

test('unaccepted programs terminate with 0 and say why', (t) => {
  const cases: [string, Program, number][] = [
    ['unknown code (LDX|W|ABS 0x21)', [S(LD_IMM, 1), S(0x21, 0), S(RET_A, 0)], EXIT_INVALID],
    ['RET|X 0x0e', [S(LD_IMM, 1), S(0x0e, 0)], EXIT_INVALID],
    ['ST M[16]', [S(LD_IMM, 1), S(ST, 16), S(RET_A, 0)], EXIT_INVALID],
    ['LD M[16]', [S(LD_IMM, 1), S(LD_MEM, 16), S(RET_A, 0)], EXIT_INVALID],
    ['DIV #0', [S(LD_IMM, 1), S(DIV_K, 0), S(RET_A, 0)], EXIT_INVALID],
    ['MOD #0', [S(LD_IMM, 1), S(MOD_K, 0), S(RET_A, 0)], EXIT_INVALID],
    ['no final RET', [S(LD_IMM, 1)], EXIT_FELL_OFF],
    ['JA past the end', [S(LD_IMM, 1), J(JA, 5, 0, 0), S(RET_A, 0)], EXIT_FELL_OFF],
    ['JEQ past the end', [S(LD_IMM, 1), J(JEQ_K, 1, 9, 9), S(RET_A, 0)], EXIT_FELL_OFF],
    ['empty program', [], EXIT_FELL_OFF],
  ];
  for (const [name, prog, exit] of cases) {
    const { ret, vm } = go(prog);
    t.is(ret, 0, name);
    t.is(vm.exit, exit, name);
  }
  // uninitialised scratch memory reads 0 (check_load_and_stores keeps accepted programs from it)
  t.is(r([S(LD_IMM, 3), S(LD_MEM, 5), S(RET_A, 0)]), 0);
  // an unknown SKF_AD offset runs as a NET-relative load (int)k, which fails on a normal skb
  t.is(r([S(LD_W_ABS, ancillaryK(0x40)), S(RET_K, 1)]), 0);
});

testProp(
  'any program terminates without throwing within len steps',
  [fc.array(fc.record({ code: fc.integer({ min: 0, max: 0xffff }), jt: fc.nat(255), jf: fc.nat(255), k: fc.nat(0xffffffff) }), { maxLength: 40 })],
  (t, prog) => {
    const vm = new ClassicVm();
    const ret = vm.run(compileClassic(prog), unix(seq(32), { dev: null }));
    t.true(ret >= 0 && ret <= 0xffffffff);
    t.true(vm.steps <= prog.length);
  },
);

test('compileClassic rejects fields outside their C widths (API misuse)', (t) => {
  t.throws(() => compileClassic([{ code: 0x10000, jt: 0, jf: 0, k: 0 }]), { instanceOf: RangeError });
  t.throws(() => compileClassic([{ code: 6, jt: 0, jf: 0, k: -1 }]), { instanceOf: RangeError });
});

// ---------------------------------------------------------------------------------------------
// VM bookkeeping and tracing

test('trace records pc, code, k and the registers before each step; steps and exitPc', (t) => {
  const trace: ClassicStep[] = [];
  const prog = [S(LD_IMM, 5), S(ST, 2), S(TAX, 0), J(JEQ_K, 5, 1, 0), S(RET_K, 1), S(RET_A, 0)];
  const vm = new ClassicVm();
  const ret = vm.run(compileClassic(prog), unix(seq(1)), undefined, trace);
  t.is(ret, 5);
  t.deepEqual(
    trace.map((s) => [s.pc, s.code, s.k, s.A, s.X, s.M[2]]),
    [
      [0, LD_IMM, 5, 0, 0, 0],
      [1, ST, 2, 5, 0, 0],
      [2, TAX, 0, 5, 0, 5],
      [3, JEQ_K, 5, 5, 5, 5],
      [5, RET_A, 0, 5, 5, 5],
    ],
  );
  t.is(trace[0]!.M.length, 16);
  t.is(vm.steps, 5);
  t.is(vm.exitPc, 5);
  t.is(vm.exit, EXIT_RET);
  t.is(vm.a, 5);
  t.is(vm.x, 5);
});

test('a VM is reusable: state and events are reset between runs', (t) => {
  const vm = new ClassicVm();
  const p1 = compileClassic([S(LD_IMM, 9), S(ST, 0), anc(SKF_AD_CPU), S(RET_A, 0)]);
  const p2 = compileClassic([S(LD_MEM, 0), S(RET_A, 0)]); // reads M[0] unwritten: the model gives 0
  vm.run(p1, unix(seq(1)));
  t.is(vm.mem[0], 9);
  t.is(vm.events, EV_CPU);
  t.is(vm.run(p2, unix(seq(1))), 0);
  t.is(vm.events, 0);
  t.is(vm.mem[0], 0);
});

test('evalClassic is compile + run, with optional semantics and trace', (t) => {
  const prog = [S(LD_IMM, 7), anc(SKF_AD_IFINDEX), S(RET_K, 1)];
  t.is(evalClassic(prog, unix(seq(1))), 0);
  t.is(evalClassic(prog, unix(seq(1)), undefined, { sem: V6_6_0 }), 7);
  const trace: ClassicStep[] = [];
  t.is(evalClassic([S(RET_K, 3)], unix(seq(1)), { cpu: 0, randomSeed: 0 }, { trace, config: X86_64 }), 3);
  t.is(trace.length, 1);
});

test('semantics records: CLASSIC, V6_6_0 and V6_6_BACKPORT', (t) => {
  t.deepEqual({ ...CLASSIC }, { devNull: 'return0', nlattrGuard: 'return0', vlanTag: 'classic', negativeLoads: 'linear', macUnset: 'v3.14' });
  t.deepEqual({ ...V6_6_0 }, { devNull: 'returnA', nlattrGuard: 'zeroContinue', vlanTag: 'v6.6', negativeLoads: 'linear', macUnset: 'fail' });
  t.is(V6_6_BACKPORT.negativeLoads, 'frags');
  t.true(Object.isFrozen(CLASSIC));
});
