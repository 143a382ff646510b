// Live checks against the running kernel; skipped, with a message naming what is missing, when
// there is no Linux, no C compiler or no permission. Expected values are derived from the kernel
// source (cited) or from the running kernel's own /proc parameters.
import test from 'ava';
import { requiresSerial } from '../_skip.js';
import { KernelOracle } from '../../oracle/kernel/judge.js';
import { readKernelParams, liveConfig } from '../../oracle/kernel/params.js';
import { chargeProbeProgram, probeBpfProgHeader } from '../../oracle/kernel/probe.js';
import { skAttachFilter } from '../../model/attach.js';
import { ancillaryK, BPF_MAXINSNS, SKF_AD_CPU, SKF_AD_IFINDEX, SKF_AD_NLATTR } from '../../model/uapi.js';

const S = (code: number, k: number) => ({ code, jt: 0, jf: 0, k: k >>> 0 });
// Opened when the module loads, so that the tests are declared skipped (naming what is missing) when it cannot be.
const opened = await KernelOracle.open(0);
const oracle: KernelOracle | null = 'missing' in opened ? null : opened;
const missing = 'missing' in opened ? `the live kernel oracle: ${opened.missing}` : null;
test.after.always(async () => {
  await oracle?.close();
});

const live = (title: string, fn: (t: import('ava').ExecutionContext, o: KernelOracle) => Promise<void>): void => {
  requiresSerial(missing, title, (t) => fn(t, oracle!));
};

live('attach verdicts derived from bpf_check_classic and __get_filter', async (t, o) => {
  const v = await o.verdicts([
    [S(0x00, 5), S(0x34, 0), S(0x06, 1)], // div #0: net/core/filter.c:1084 -> -EINVAL
    [S(0x00, 1), S(0x64, 32), S(0x16, 0)], // lsh #32: F:1089 -> -EINVAL
    [], // len 0: bpf_check_basics_ok F:1040 -> -EINVAL
    Array.from({ length: BPF_MAXINSNS + 1 }, () => S(0x06, 0)), // len 4097: F:1040 -> -EINVAL
    [S(0x00, 1)], // last insn not RET: F:1134 -> -EINVAL
    [S(0x06, 1)], // accepted
  ]);
  t.deepEqual(v, [22, 22, 22, 22, 22, 0]);
});

live('A4: a jump at a far eBPF index fails the conversion (EINVAL) before the charge; without it, ENOMEM from the charge', async (t, o) => {
  const body = Array.from({ length: 3000 }, () => S(0x30, 0));
  const withJump = [...body, { code: 0x15, jt: 0, jf: 0, k: 0 }, S(0x06, 1)];
  const without = [...body, S(0x06, 1)];
  // 3000 x 12 eBPF insns + prologue: ~36000 insns. Charge: header + 8 * len >= optmem_max (131072 here) -> -ENOMEM (F:1232)
  const p = readKernelParams();
  t.true(96 + 8 * 36000 >= p.optmemMax, `optmem_max ${p.optmemMax} too large for this check`);
  t.deepEqual(await o.verdicts([withJump, without]), [22, 12]);
});

live('the bpf_prog header the charge uses, and the model configured with it agrees at the threshold', async (t, o) => {
  const p = readKernelParams();
  const h = await probeBpfProgHeader(o, liveConfig(p), p.optmemMax);
  t.not(h, null);
  t.log(`struct bpf_prog header on ${p.release}: ${h} bytes (v6.6: 72)`);
  const config = liveConfig(p, h!);
  // the longest ld #k tail that still attaches, and one more
  const n1 = Math.ceil((Math.floor(p.optmemMax / 8) - 2000) / 12);
  const progs = [0, 1000, 2000, 3000, 4095 - n1].map((n2) => chargeProbeProgram(n1, n2));
  const kernel = await o.verdicts(progs);
  t.deepEqual(kernel, progs.map((pr) => { const r = skAttachFilter(pr, config); return 'ok' in r ? 0 : -r.errno; }));
});

live('R1 live: ld #7; ld [ifindex]; ret a with skb->dev NULL returns 7 (classic: 0)', async (t, o) => {
  const [v] = await o.evaluate([{ prog: [S(0x00, 7), S(0x20, ancillaryK(SKF_AD_IFINDEX)), S(0x16, 0)], packets: [new Uint8Array(16), new Uint8Array(3)] }]);
  t.is(v!.errno, 0);
  t.deepEqual(v!.results, [{ known: 'exact', value: 7 }, { known: 'exact', value: 7 }]);
});

live('all 32 bits of a result that does not fit the packet are recovered', async (t, o) => {
  const pkt = new Uint8Array(64);
  pkt.set([0xde, 0xad, 0xbe, 0xef]);
  const [a, b, c] = await o.evaluate([
    { prog: [S(0x20, 0), S(0x16, 0)], packets: [pkt] }, // ld [0] big-endian word: 0xdeadbeef
    { prog: [S(0x06, 0xffffffff)], packets: [new Uint8Array(0), new Uint8Array(1)] },
    { prog: [S(0x00, 0x12345678), S(0x20, ancillaryK(SKF_AD_IFINDEX)), S(0x06, 1)], packets: [new Uint8Array(40)] },
  ]);
  t.deepEqual(a!.results, [{ known: 'exact', value: 0xdeadbeef }]);
  t.deepEqual(b!.results, [{ known: 'exact', value: 0xffffffff }, { known: 'exact', value: 0xffffffff }]);
  t.true(b!.attaches === 33); // 1 plain run + 32 one-bit copies
  t.deepEqual(c!.results, [{ known: 'exact', value: 0x12345678 }]);
});

live('with expectations, one confirmation copy settles whole packets; a wrong expectation falls back to the bits', async (t, o) => {
  const prog = [S(0x06, 0xffffffff)];
  const packets = [new Uint8Array(0), new Uint8Array(1), new Uint8Array(70)];
  const [right] = await o.evaluate([{ prog, packets, expect: [0xffffffff, 0xffffffff, 0xffffffff] }]);
  t.deepEqual(right!.results, packets.map(() => ({ known: 'exact', value: 0xffffffff })));
  t.is(right!.attaches, 2); // the program, then one copy testing 0xffffffff
  t.is(right!.confirmed, 3);
  const [wrong] = await o.evaluate([{ prog, packets, expect: [5, 0xffffffff, 3] }]);
  t.deepEqual(wrong!.results, packets.map(() => ({ known: 'exact', value: 0xffffffff })));
  // the program; copies testing 5 and 0xffffffff; at once, 6 six-bit copies for the 70-byte packet (3 < 70
  // is already wrong); after the check of 5 fails, 32 one-bit copies for the empty packet
  t.is(wrong!.attaches, 1 + 2 + 6 + 32);
  t.is(wrong!.confirmed, 1);
  // RET A through the appended check; results below the length need no copy at all
  const pkt = new Uint8Array(64);
  pkt.set([0xde, 0xad, 0xbe, 0xef]);
  const [a] = await o.evaluate([{ prog: [S(0x20, 0), S(0x16, 0)], packets: [pkt, new Uint8Array(2)], expect: [0xdeadbeef, 0] }]);
  t.deepEqual(a!.results, [{ known: 'exact', value: 0xdeadbeef }, { known: 'exact', value: 0 }]);
  t.is(a!.attaches, 2);
});

live('several expected values are confirmed by one copy (codes below the packet lengths); a wrong one still falls back to the bits', async (t, o) => {
  const word = (v: number, len: number): Uint8Array => {
    const b = new Uint8Array(len);
    new DataView(b.buffer).setUint32(0, v);
    return b;
  };
  const prog = [S(0x20, 0), S(0x16, 0)]; // ld [0]; ret a
  const values = [0x11223344, 0xfffffff0, 0x80000000, 0x11223344, 0x7fffffff];
  const packets = values.map((v, i) => word(v, 8 + i));
  const [right] = await o.evaluate([{ prog, packets, expect: values }]);
  t.deepEqual(right!.results, values.map((v) => ({ known: 'exact', value: v })));
  t.is(right!.attaches, 2); // the program and one copy testing the four distinct values
  t.is(right!.confirmed, 5);
  const [wrong] = await o.evaluate([{ prog, packets, expect: values.map((v, i) => (i === 2 ? 0x80000001 : v)) }]);
  t.deepEqual(wrong!.results, right!.results);
  t.is(wrong!.confirmed, 4);
  t.is(wrong!.attaches, 2 + 11); // ... and the 3-bit copies of the 10-byte packet whose value was not confirmed
});

live('an ld [ifindex] exit (skb->dev NULL) is confirmed by one copy too', async (t, o) => {
  const prog = [S(0x00, 7), S(0x20, ancillaryK(SKF_AD_IFINDEX)), S(0x16, 0)];
  const [v] = await o.evaluate([{ prog, packets: [new Uint8Array(16), new Uint8Array(3)], expect: [7, 7] }]);
  t.deepEqual(v!.results, [{ known: 'exact', value: 7 }, { known: 'exact', value: 7 }]);
  t.is(v!.attaches, 2); // without expectations: 1 + 32 one-bit copies (the 3-byte packet leaves len for SENTINEL)
  t.is(v!.confirmed, 1);
  const [w] = await o.evaluate([{ prog, packets: [new Uint8Array(16), new Uint8Array(3)], expect: [7, 8] }]);
  t.deepEqual(w!.results, v!.results);
  t.is(w!.attaches, 2 + 32);
});

live('the answers do not depend on how the first request is split into parts', async (t, o) => {
  const progs = [
    [S(0x06, 0xffffffff)],
    [S(0x20, 0), S(0x16, 0)],
    [S(0x00, 7), S(0x20, ancillaryK(SKF_AD_IFINDEX)), S(0x16, 0)],
    [S(0x80, 0), S(0x16, 0)], // ld len; ret a
    [S(0x00, 1)], // rejected: the last insn is not RET
    [S(0x30, 3), S(0x16, 0)],
  ];
  const packets = [0, 1, 3, 9, 64, 200].map((n) => Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff));
  const cases = Array.from({ length: 23 }, (_, i) => ({
    prog: progs[i % progs.length]!,
    packets: packets.slice(i % 3),
    // right, wrong and no expectations in turn
    ...(i % 4 === 3 ? {} : { expect: packets.slice(i % 3).map((p) => (i % 4 === 2 ? p.length + 1 : 0xffffffff)) }),
  }));
  const whole = await o.evaluate(cases, cases.length);
  for (const part of [1, 5, 8]) t.deepEqual(await o.evaluate(cases, part), whole, `parts of ${part}`);
  t.true(whole.some((v) => v.confirmed > 0) && whole.some((v) => v.errno !== 0));
});

live('SKF_AD_CPU is the CPU the oracle is pinned to', async (t, o) => {
  const [v] = await o.evaluate([{ prog: [S(0x20, ancillaryK(SKF_AD_CPU)), S(0x16, 0)], packets: [new Uint8Array(100)] }]);
  t.deepEqual(v!.results, [{ known: 'exact', value: o.cpu }]);
});

live('the linear/non-linear boundary of AF_UNIX datagrams is SKB_MAX_ALLOC = 16064', async (t, o) => {
  // ld #4; ld [nlattr] with X = 1: bpf_skb_get_nlattr returns 0 for a non-linear skb, else the offset of
  // the first attribute of type 1 at or after A (net/core/filter.c:170): here the attribute at 4.
  const pk = (len: number): Uint8Array => {
    const b = new Uint8Array(len);
    b.set([4, 0, 1, 0], 4);
    return b;
  };
  const prog = [S(0x01, 1), S(0x00, 4), S(0x20, ancillaryK(SKF_AD_NLATTR)), S(0x16, 0)];
  const [v] = await o.evaluate([{ prog, packets: [pk(16064), pk(16065)] }]);
  t.deepEqual(v!.results, [{ known: 'exact', value: 4 }, { known: 'exact', value: 0 }]);
});

live('a 14-insn program the x86-64 JIT of 6.18.44 fails on: -ENOTSUPP, as the model says with jitAvailable false', async (t, o) => {
  // found by kdiff (corpus/findings/3bb647a51b63a690.json); kernel log: "bpf_jit: fatal error"
  const prog = [
    { code: 21, jt: 2, jf: 2, k: 0 }, { code: 21, jt: 0, jf: 3, k: 0 }, { code: 69, jt: 6, jf: 8, k: 63 }, S(22, 0), S(4, 4294967294), S(156, 0),
    S(48, 4294963260), S(177, 1), S(128, 0), S(92, 0), S(22, 0), S(0, 0), S(0, 0), S(6, 0),
  ];
  const [v] = await o.verdicts([prog]);
  t.log(`kernel verdict ${v}`);
  t.true(v === 0 || v === 524);
  const r = skAttachFilter(prog, { ...liveConfig(readKernelParams(), 96), jitAvailable: v === 0 });
  t.is('ok' in r ? 0 : -r.errno, v);
});
