// Migrated programs run on the eBPF interpreter over the skb memory image (model/ebpf/skbmem.ts):
// every ancillary load and the packet loads, with results worked out by hand from the kernel text
// (net/core/filter.c convert_* and the helpers it calls). Includes the 6.6 behaviours that differ
// from classic BPF: dev == NULL exits with the current A (F:377-382), and the nlattr guards make
// A = 0 and continue (F:170-212).
import test from 'ava';
import { bpfConvertFilter } from '../../model/migrate/convert.js';
import { bpfStmt, bpfJump, type Program } from '../../model/cbpf/insn.js';
import { X86_64, STRICT_ALIGN_64, type KernelConfig } from '../../model/config.js';
import { afUnixSkb, ethernetSkb, type SkBuff } from '../../model/skb.js';
import { createSkbImage, layOutSkb } from '../../model/ebpf/skbmem.js';
import { skbHelperTable } from '../../model/ebpf/helpers.js';
import { EbpfVm, bpfProgRun, compileEbpf } from '../../model/ebpf/interp.js';
import { newRndState, prandomU32State } from '../../model/prandom.js';
import { ancillaryK, SKF_LL_OFF, SKF_NET_OFF } from '../../model/uapi.js';
import { hex } from '../_shared.js';

const S = bpfStmt;
const RET_A = S(0x16, 0);
const LD_IMM = (k: number) => S(0x00, k);
const LD_ANC = (ad: number) => S(0x20, ancillaryK(ad));

function run(prog: Program, skb: SkBuff, config: KernelConfig = X86_64, cpu = 0, seed = 1): number {
  const c = bpfConvertFilter(prog, config);
  if (!('ok' in c)) throw new Error(`rejected: ${JSON.stringify(c)}`);
  const img = createSkbImage();
  layOutSkb(img, skb, config);
  const vm = new EbpfVm(img.mem, skbHelperTable({ skb, config, cpu, rnd: newRndState(seed) }));
  const r = bpfProgRun(vm, compileEbpf(c.insns), img.ctx, c.stackDepth);
  if (r.fault) throw new Error(`fault: ${JSON.stringify(r.fault, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
  return r.result;
}

// Ethernet broadcast, IPv4 TCP 10.0.0.1 -> 10.0.0.2, ports 0x1234 -> 80, doff 5
const FRAME = hex(
  'ffffffffffff 020000000002 0800' +
    '45000028 0000 4000 4006 0000 0a000001 0a000002' +
    '1234 0050 00000000 00000000 5000 0000 0000 0000',
);

test('IFINDEX / HATYPE: dev present -> dev->ifindex / dev->type; dev NULL -> EXIT with the current A (digest R1/R2)', (t) => {
  const eth = ethernetSkb(FRAME);
  t.is(run([LD_IMM(7), LD_ANC(8), RET_A], eth), 2);
  t.is(run([LD_IMM(7), LD_ANC(28), RET_A], eth), 1);
  const unix = afUnixSkb(Uint8Array.of(1, 2, 3));
  t.is(run([LD_IMM(7), LD_ANC(8), RET_A], unix), 7);
  t.is(run([LD_IMM(7), LD_ANC(28), S(0x06, 99)], unix), 7);
  t.is(run([LD_IMM(0xfffffff0), S(0x30, ancillaryK(8)), S(0x06, 1)], { ...unix }), 0xfffffff0);
});

test('NLATTR / NLATTR_NEST guards give A = 0 and the program continues (digest R3/R4, Appendix B 2)', (t) => {
  const s = afUnixSkb(new Uint8Array(20));
  t.is(run([LD_IMM(100), LD_ANC(12), S(0x06, 9)], s), 9);
  t.is(run([LD_IMM(100), LD_ANC(12), RET_A], s), 0);
  t.is(run([LD_IMM(100), LD_ANC(16), S(0x06, 9)], s), 9);
  // a = 0, attribute {len 8, type 2} then {len 8, type 5}: nla_find(type 5) -> offset 8
  const nl = afUnixSkb(hex('0800 0200 00000000 0800 0500 00000000'));
  t.is(run([S(0x01, 5), LD_IMM(0), LD_ANC(12), RET_A], nl), 8);
  t.is(run([S(0x01, 6), LD_IMM(0), LD_ANC(12), RET_A], nl), 0); // no attribute of type 6
  // nested: attribute at 0 of length 16 holding {len 8, type 3}: nla_find_nested -> offset 4
  const nest = afUnixSkb(hex('1000 0100 0800 0300 00000000 00000000'));
  t.is(run([S(0x01, 3), LD_IMM(0), LD_ANC(16), RET_A], nest), 4);
  // non-linear skb: 0 (F:174)
  t.is(run([S(0x01, 5), LD_IMM(0), LD_ANC(12), RET_A], { ...nl, headlen: 8 }), 0);
});

test('PROTOCOL, PKTTYPE, MARK, QUEUE, RXHASH, VLAN_TAG (full TCI), VLAN_TAG_PRESENT, VLAN_TPID', (t) => {
  const s = ethernetSkb(FRAME, { mark: 0xdeadbeef, queueMapping: 5, hash: 0x12345678, vlanTci: 0xf123, vlanProto: 0x8100, vlanPresent: true });
  t.is(run([LD_ANC(0), RET_A], s), 0x0800);
  t.is(run([S(0x30, ancillaryK(0)), RET_A], s), 0x0800); // size ignored (Appendix B 10)
  t.is(run([LD_ANC(4), RET_A], s), 1); // broadcast destination
  t.is(run([LD_ANC(20), RET_A], s), 0xdeadbeef);
  t.is(run([LD_ANC(24), RET_A], s), 5);
  t.is(run([LD_ANC(32), RET_A], s), 0x12345678);
  t.is(run([LD_ANC(44), RET_A], s), 0xf123); // bit 12 kept (digest R5)
  t.is(run([LD_ANC(48), RET_A], s), 1);
  t.is(run([LD_ANC(60), RET_A], s), 0x8100);
  const plain = ethernetSkb(FRAME);
  t.is(run([LD_IMM(5), LD_ANC(48), RET_A], plain), 0);
  t.is(run([LD_ANC(60), RET_A], plain), 0);
  // big-endian bit-fields: the image puts pkt_type in the top 3 bits, the program shifts it back
  t.is(run([LD_ANC(4), RET_A], s, { ...X86_64, littleEndian: false }), 1);
});

test('CPU, RANDOM, ALU_XOR_X, PAY_OFFSET', (t) => {
  const s = ethernetSkb(FRAME);
  t.is(run([LD_ANC(36), RET_A], s, X86_64, 3), 3);
  t.is(run([LD_ANC(56), RET_A], s, X86_64, 0, 77), prandomU32State(newRndState(77)));
  t.is(run([S(0x01, 5), LD_IMM(3), LD_ANC(40), RET_A], s), 6);
  t.is(run([LD_ANC(52), RET_A], s), 14 + 20 + 20); // thoff 34 + tcp doff 5 * 4
});

test('packet loads: fast path, slow path into frags, out of bounds -> 0, IND wrap, MSH', (t) => {
  const eth = ethernetSkb(FRAME);
  for (const cfg of [X86_64, STRICT_ALIGN_64]) {
    t.is(run([S(0x28, 12), RET_A], eth, cfg), 0x0800);
    t.is(run([S(0x20, 26), RET_A], eth, cfg), 0x0a000001);
    t.is(run([S(0x30, 0), RET_A], eth, cfg), 0xff);
    t.is(run([LD_IMM(9), S(0x20, 51), RET_A], eth, cfg), 0); // 51 + 4 > 54: return 0
    t.is(run([S(0x01, 0xfffffffe), S(0x48, 14), RET_A], eth, cfg), 0x0800); // (int)(X + 14) = 12
    t.is(run([S(0xb1, 14), S(0x87, 0), RET_A], eth, cfg), 20); // 4 * (0x45 & 0xf)
    t.is(run([S(0x00, 33), S(0xb1, 1000), S(0x06, 1)], eth, cfg), 0); // MSH load failure returns 0
    // frags: only 16 linear bytes; the word at 26 is read through skb_copy_bits
    t.is(run([S(0x20, 26), RET_A], { ...eth, headlen: 16 }, cfg), 0x0a000001);
    t.is(run([S(0x28, 14), RET_A], { ...eth, headlen: 15 }, cfg), 0x4500);
  }
});

test('LD ABS k = 0x8000 on a linear skb > 32772 bytes (digest Appendix B 5: the ldx_off_ok path)', (t) => {
  const data = new Uint8Array(0x8010);
  data.set([0xde, 0xad, 0xbe, 0xef], 0x8000);
  t.is(run([S(0x20, 0x8000), RET_A], afUnixSkb(data)), 0xdeadbeef);
  t.is(run([S(0x30, 0x8003), RET_A], afUnixSkb(data)), 0xef);
});

test('negative offsets: SKF_NET_OFF / SKF_LL_OFF, into headroom, into frags per helper version, mac unset', (t) => {
  const eth = ethernetSkb(FRAME);
  t.is(run([S(0x30, (SKF_NET_OFF + 9) >>> 0), RET_A], eth), 6); // IPv4 protocol byte
  t.is(run([S(0x28, (SKF_LL_OFF + 12) >>> 0), RET_A], eth), 0x0800);
  // network header in the frags (Appendix B 6): v6.6.0 returns 0, the backport reads it
  const frag = { ...eth, headlen: 14 };
  t.is(run([S(0x30, (SKF_NET_OFF + 9) >>> 0), RET_A], frag, { ...X86_64, loadHelpers: 'v6.6.0' }), 0);
  t.is(run([S(0x30, (SKF_NET_OFF + 9) >>> 0), RET_A], frag, { ...X86_64, loadHelpers: 'backport' }), 6);
  // mac header in the headroom (SOCK_DGRAM-like: data at the network header)
  const dgram = afUnixSkb(FRAME.subarray(14), { headroom: FRAME.subarray(0, 14), macHeader: -14, networkHeader: 0 });
  t.is(run([S(0x28, (SKF_LL_OFF + 12) >>> 0), RET_A], dgram), 0x0800);
  // mac header unset: LL loads fail in both versions -> 0
  for (const v of ['v6.6.0', 'backport'] as const) t.is(run([LD_IMM(1), S(0x30, SKF_LL_OFF >>> 0), S(0x06, 5)], afUnixSkb(FRAME), { ...X86_64, loadHelpers: v }), 0);
});

test('DIV/MOD by X == 0 return 0; jumps with k >= 2^31 compare as u32', (t) => {
  const s = afUnixSkb(new Uint8Array(4));
  t.is(run([S(0x01, 0), LD_IMM(5), S(0x3c, 0), S(0x06, 1)], s), 0); // Appendix B 3
  t.is(run([S(0x01, 0), LD_IMM(5), S(0x9c, 0), S(0x06, 1)], s), 0);
  t.is(run([S(0x01, 2), LD_IMM(7), S(0x9c, 0), RET_A], s), 1);
  t.is(run([LD_IMM(0x90000000), bpfJump(0x25, 0x80000000, 0, 1), S(0x06, 1), S(0x06, 2)], s), 1);
  t.is(run([LD_IMM(0x70000000), bpfJump(0x25, 0x80000000, 0, 1), S(0x06, 1), S(0x06, 2)], s), 2);
  t.is(run([LD_IMM(3), S(0x02, 9), LD_IMM(0), S(0x60, 9), RET_A], s), 3); // M[9] round trip, 64-byte stack
});

test('skb image: a head larger than the region capacity is API misuse', (t) => {
  const img = createSkbImage(undefined, 16);
  t.throws(() => layOutSkb(img, afUnixSkb(new Uint8Array(17)), X86_64), { instanceOf: RangeError });
  layOutSkb(img, afUnixSkb(new Uint8Array(16)), X86_64);
  t.is(img.headRegion.size, 16);
});
