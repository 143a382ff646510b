// The attach path end to end (model/attach.ts): the order of the kernel's decisions, the socket
// memory charge, and the per-packet run and delivery.
import test from 'ava';
import {
  __getFilter,
  __skAttachProg,
  bpfJitCompile,
  bpfPrepareFilter,
  bpfProgCreate,
  KernelRunner,
  LIBPCAP_V3_RING,
  NEW_SOCK,
  packetRcv,
  skAttachFilter,
  skDetachFilter,
  skFilterTrimCap,
  skSetsockopt,
  skSetsockopts,
  tpacketAlign,
  tpacketRcv,
  TPACKET3_HDRLEN,
  type SockOpt,
} from '../model/attach.js';
import { bpfStmt as S, bpfJump as J, type SockFilter } from '../model/cbpf/insn.js';
import { X86_64 } from '../model/config.js';
import { afUnixSkb } from '../model/skb.js';
import { ancillaryK, EINVAL, ENOENT, ENOMEM, ENOTSUPP, EPERM, SKF_AD_IFINDEX } from '../model/uapi.js';

const RET_K = (k: number): SockFilter => S(0x06, k);
const LDB_0 = S(0x30, 0); // ldb [0]: 12 eBPF insns (kernel-spec Appendix A)

test('the first failing stage wins: length, check, convert, charge', (t) => {
  const r0 = skAttachFilter([], X86_64);
  t.like(r0, { errno: -EINVAL, stage: 'check', rule: 'len-zero' });
  const r1 = skAttachFilter([S(0x00, 1), S(0x34, 0), RET_K(0)], X86_64); // div #0
  t.like(r1, { errno: -EINVAL, stage: 'check', rule: 'div-by-zero-k', pc: 1 });
  const r2 = skAttachFilter(null, X86_64);
  t.like(r2, { errno: -EINVAL, rule: 'filter-null' });
});

// kernel-spec Appendix B 7: 3000 x ldb [0] converts to 3 + 4 + 3000*12 + 2 = 36009 eBPF insns;
// bpf_prog_size = 72 + 8*36009 bytes > optmem_max 20480 -> -ENOMEM at __sk_filter_charge (F:1232).
// With a jeq before the RET at eBPF index > 32767, the first pass of the second call computes the
// forward offset from addrs[target] == 0 and fails the s16 range check: -EINVAL wins (F:706-711).
test('Appendix B 7: ENOMEM from the charge, EINVAL when a late jump is added', (t) => {
  const body = Array.from({ length: 3000 }, () => LDB_0);
  const noJump = skAttachFilter([...body, RET_K(1)], X86_64);
  t.like(noJump, { errno: -ENOMEM, stage: 'charge' });
  const withJump = skAttachFilter([...body, J(0x15, 0, 0, 0), RET_K(1)], X86_64);
  t.like(withJump, { errno: -EINVAL, stage: 'convert' });
  // bpf_prog_create does not charge: the first program is created.
  t.true('ok' in bpfProgCreate([...body, RET_K(1)], X86_64));
});

// The charge: filter_size = 72 + 8 * n must be <= optmem_max and sk_omem_alloc + filter_size < optmem_max.
// `ret #1` migrates to 3 (prologue) + 2 = 5 insns: 72 + 40 = 112 bytes.
test('the optmem charge is strict at the limit and counts what the socket already holds', (t) => {
  const prog = [RET_K(1)];
  t.true('ok' in skAttachFilter(prog, { ...X86_64, optmemMax: 113 }));
  t.like(skAttachFilter(prog, { ...X86_64, optmemMax: 112 }), { errno: -ENOMEM });
  t.like(skAttachFilter(prog, { ...X86_64, optmemMax: 200 }, { ...NEW_SOCK, omemAlloc: 88 }), { errno: -ENOMEM }); // 88 + 112 = 200, not < 200
  t.true('ok' in skAttachFilter(prog, { ...X86_64, optmemMax: 200 }, { ...NEW_SOCK, omemAlloc: 87 }));
});

test('JIT always on without a JIT: -ENOTSUPP (kernel/bpf/core.c bpf_prog_select_runtime)', (t) => {
  t.like(skAttachFilter([RET_K(1)], { ...X86_64, jitAvailable: false }), { errno: -ENOTSUPP, stage: 'runtime' });
  t.true('ok' in skAttachFilter([RET_K(1)], { ...X86_64, jitAvailable: false, jitAlwaysOn: false }));
});

test('runner: ld #7; ld [ifindex]; ret a on an AF_UNIX skb (no dev) returns 7 (kernel-spec R1)', (t) => {
  const f = skAttachFilter([S(0x00, 7), S(0x20, ancillaryK(SKF_AD_IFINDEX)), S(0x16, 0)], X86_64);
  if (!('ok' in f)) return t.fail(JSON.stringify(f));
  const runner = new KernelRunner(X86_64);
  t.is(runner.run(f, afUnixSkb(new Uint8Array(4)), { cpu: 0, randomSeed: 1 }), 7);
  t.is(runner.fault, null);
  t.is(runner.run(f, afUnixSkb(new Uint8Array(4), { dev: { ifindex: 9, type: 1 } }), { cpu: 0, randomSeed: 1 }), 9);
});

test('delivery: packet_rcv keeps min(result, len); sk_filter_trim_cap keeps max(cap, result)', (t) => {
  t.deepEqual(packetRcv(0, 60), { dropped: true, snaplen: 0 });
  t.deepEqual(packetRcv(0xffffffff, 60), { dropped: false, snaplen: 60 });
  t.deepEqual(packetRcv(20, 60), { dropped: false, snaplen: 20 });
  t.deepEqual(skFilterTrimCap(0, 60), { dropped: true, snaplen: 0 });
  t.deepEqual(skFilterTrimCap(4, 60, 20), { dropped: false, snaplen: 20 });
  t.deepEqual(skFilterTrimCap(100, 60, 8), { dropped: false, snaplen: 60 });
});

// ---- The socket: SO_ATTACH_FILTER over a filter, SO_DETACH_FILTER, SO_LOCK_FILTER (net/core/sock.c sk_setsockopt) ----

const R1 = [RET_K(1)]; // 5 eBPF insns: 72 + 40 = 112 bytes
const R3 = [S(0x00, 7), RET_K(1)]; // 6 eBPF insns: 120 bytes

test('replacing a filter: the new one is charged while the old one still counts, then the old one is uncharged', (t) => {
  const first = skAttachFilter(R1, X86_64);
  if (!('ok' in first)) return void t.fail();
  t.like(first.sk, { omemAlloc: 112, filterLocked: false });
  t.is(first.sk.filter?.prog.prog, R1);
  const second = skAttachFilter(R3, X86_64, first.sk);
  if (!('ok' in second)) return void t.fail();
  t.is(second.sk.omemAlloc, 120, 'the old charge is gone');
  t.is(second.sk.filter?.prog.prog, R3);
  // the room needed is both charges: 112 + 120 = 232 must be < optmem_max
  const tight = { ...X86_64, optmemMax: 232 };
  const a = skAttachFilter(R1, tight);
  if (!('ok' in a)) return void t.fail();
  t.like(skAttachFilter(R3, tight, a.sk), { errno: -ENOMEM, stage: 'charge' }, '112 + 120 = 232 is not < 232, although 120 alone fits');
  t.true('ok' in skAttachFilter(R3, { ...X86_64, optmemMax: 233 }, a.sk));
});

test('setsockopt: SO_DETACH_FILTER without a filter is -ENOENT; SO_LOCK_FILTER makes attach and detach -EPERM and cannot be undone', (t) => {
  const run = (ops: SockOpt[]) => skSetsockopts(ops, X86_64);
  t.like(run([{ name: 'SO_DETACH_FILTER' }]).results[0], { errno: -ENOENT });
  const seq = run([
    { name: 'SO_ATTACH_FILTER', prog: R1 },
    { name: 'SO_ATTACH_FILTER', prog: R3 },
    { name: 'SO_DETACH_FILTER' },
    { name: 'SO_DETACH_FILTER' },
    { name: 'SO_ATTACH_FILTER', prog: R1 },
    { name: 'SO_LOCK_FILTER', val: 1 },
    { name: 'SO_ATTACH_FILTER', prog: R3 },
    { name: 'SO_DETACH_FILTER' },
    { name: 'SO_LOCK_FILTER', val: 0 },
    { name: 'SO_LOCK_FILTER', val: 5 },
    { name: 'SO_ATTACH_FILTER', prog: [] },
  ]);
  const errnos = seq.results.map((r) => (r === 0 ? 0 : r.errno));
  t.deepEqual(errnos, [0, 0, 0, -ENOENT, 0, 0, -EPERM, -EPERM, -EPERM, 0, -EPERM]);
  // the locked socket keeps the filter it had, and its charge
  t.like(seq.sk, { omemAlloc: 112, filterLocked: true });
  t.is(seq.sk.filter?.prog.prog, R1);
  // the lock comes before any check of the program (__get_filter): even an empty program is -EPERM
  t.like(seq.results[10], { errno: -EPERM, rule: 'filter-locked' });
  // a failed attach leaves the socket as it was
  const failed = skSetsockopt({ ...NEW_SOCK, omemAlloc: 7 }, { name: 'SO_ATTACH_FILTER', prog: [S(0x34, 0), RET_K(0)] }, X86_64);
  t.like(failed, { sk: { omemAlloc: 7, filter: null }, ret: { errno: -EINVAL } });
  // SO_LOCK_FILTER 0 on an unlocked socket is allowed (and changes nothing)
  t.is(skSetsockopt(NEW_SOCK, { name: 'SO_LOCK_FILTER', val: 0 }, X86_64).ret, 0);
});

test('skDetachFilter / __getFilter / __skAttachProg: one function per kernel function', (t) => {
  t.like(skDetachFilter({ ...NEW_SOCK, filterLocked: true }, X86_64), { errno: -EPERM });
  t.like(__getFilter(R1, { ...NEW_SOCK, filterLocked: true }, X86_64), { errno: -EPERM, stage: 'permission' });
  const fp = __getFilter(R1, NEW_SOCK, X86_64);
  if (!('ok' in fp)) return void t.fail();
  const r = __skAttachProg(fp, NEW_SOCK, X86_64);
  if (!('sk' in r)) return void t.fail();
  t.is(r.released, null);
  const again = __skAttachProg(fp, r.sk, X86_64);
  if (!('sk' in again)) return void t.fail();
  t.is(again.released, r.sk.filter);
  t.is(again.sk.omemAlloc, 112);
  t.false(bpfJitCompile(R1), 'no classic JIT');
  t.like(bpfPrepareFilter([RET_K(0)], null, X86_64), { insns: [RET_K(0)] });
});

// ---- tpacket_rcv: the TPACKET_V3 ring tcpdump reads from (net/packet/af_packet.c:2237) ----

test('tpacket_rcv: same verdict and snaplen as packet_rcv, the full length in tp_len, macoff/netoff from the ring', (t) => {
  // libpcap on Ethernet: tp_hdrlen 68, maclen 14: netoff = TPACKET_ALIGN(68 + 16) + 4 = 100, macoff = 86
  t.is(TPACKET3_HDRLEN, 68);
  t.like(tpacketRcv(96, 1514, 14), { dropped: false, snaplen: 96, tpLen: 1514, macoff: 86, netoff: 100, drop: null });
  t.like(tpacketRcv(0x40000, 60, 14), { snaplen: 60, tpLen: 60 });
  t.like(tpacketRcv(0, 60, 14), { dropped: true, drop: 'filter', counted: false });
  for (const [res, len] of [[0, 60], [1, 60], [60, 60], [61, 60], [0xffffffff, 1514]] as const) {
    const p = packetRcv(res, len);
    const v = tpacketRcv(res, len, 14);
    t.is(v.dropped, p.dropped);
    t.is(v.snaplen, p.snaplen);
  }
  // a cooked (SOCK_DGRAM) socket: macoff = netoff = TPACKET_ALIGN(68) + 16 + reserve
  t.like(tpacketRcv(100, 200, 14, { ...LIBPCAP_V3_RING, sockType: 'dgram' }), { macoff: 100, netoff: 100 });
});

test('tpacket_rcv: where it departs from packet_rcv (a full ring, the block size, netoff, no frame)', (t) => {
  t.like(tpacketRcv(96, 1514, 14, { ...LIBPCAP_V3_RING, room: 'none' }), { dropped: true, drop: 'no-room', counted: true });
  t.like(tpacketRcv(96, 1514, 14, { ...LIBPCAP_V3_RING, room: 'low' }), { dropped: false, snaplen: 96 });
  // a small block: macoff + snaplen must fit max_frame_len; packet_rcv would keep 1000 bytes
  t.like(tpacketRcv(1000, 1514, 14, { ...LIBPCAP_V3_RING, maxFrameLen: 4096 - 48 - 3000 }), { dropped: false, snaplen: 4096 - 48 - 3000 - 86 });
  t.is(packetRcv(1000, 1514).snaplen, 1000);
  // a block smaller than macoff: snaplen 0 and macoff max_frame_len (still delivered)
  t.like(tpacketRcv(1000, 1514, 14, { ...LIBPCAP_V3_RING, maxFrameLen: 50 }), { dropped: false, snaplen: 0, macoff: 50 });
  t.like(tpacketRcv(1000, 1514, 14, { ...LIBPCAP_V3_RING, tpReserve: 70000 }), { dropped: true, drop: 'netoff-too-large', counted: true });
  t.like(tpacketRcv(1000, 1514, 14, { ...LIBPCAP_V3_RING, frameAvailable: false }), { dropped: true, drop: 'no-frame', counted: true });
  t.is(tpacketAlign(84), 96);
});
