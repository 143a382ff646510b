// The attach path end to end (model/attach.ts): the order of the kernel's decisions, the socket
// memory charge, and the per-packet run and delivery.
import test from 'ava';
import { bpfProgCreate, KernelRunner, packetRcv, skAttachFilter, skFilterTrimCap } from '../model/attach.js';
import { bpfStmt as S, bpfJump as J, type SockFilter } from '../model/cbpf/insn.js';
import { X86_64 } from '../model/config.js';
import { afUnixSkb } from '../model/skb.js';
import { ancillaryK, EINVAL, ENOMEM, ENOTSUPP, SKF_AD_IFINDEX } from '../model/uapi.js';

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
  t.like(skAttachFilter(prog, { ...X86_64, optmemMax: 200 }, 88), { errno: -ENOMEM }); // 88 + 112 = 200, not < 200
  t.true('ok' in skAttachFilter(prog, { ...X86_64, optmemMax: 200 }, 87));
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
