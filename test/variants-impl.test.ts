// The variants that model other classic BPF implementations (model/variants.ts 'impl-libpcap-*' and
// 'impl-bsd-*'), judged by the implementations themselves: FreeBSD's own regression expectations
// (../shared/conformance/freebsd_bpf_filter.json) and, when cc and libpcap-dev are installed, the
// installed libpcap's bpf_filter() run through bench/pcap_bench.c. Under its variant the classic
// evaluator must give exactly what the other implementation gives; without it, what Linux gives.
import test from 'ava';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ClassicVm, compileClassic } from '../model/cbpf/eval.js';
import type { SockFilter } from '../model/cbpf/insn.js';
import { X86_64 } from '../model/config.js';
import { variantConfig, type VariantName } from '../model/variants.js';
import { buildSkb } from '../fuzz/skbjson.js';
import { pcapBenchInput } from '../bench/workload.js';
import { loadFreebsd } from './conformance/vectors.js';
import { hex, projectRoot } from './_shared.js';
import { requires, sharedMissing } from './_skip.js';

const I = (code: number, k = 0): SockFilter => ({ code, jt: 0, jf: 0, k: k >>> 0 });
const LD_IMM = 0x00;
const LDX_IMM = 0x01;
const LSH_X = 0x6c;
const RSH_X = 0x7c;
const RET_A = 0x16;
const IND = { W: 0x40, H: 0x48, B: 0x50 } as const;

function classic(prog: readonly SockFilter[], bytes: Uint8Array, variant: VariantName | null): number {
  const vm = new ClassicVm(variant === null ? X86_64 : variantConfig(X86_64, variant));
  const { skb, env } = buildSkb(bytes, { preset: 'af_unix' });
  return vm.run(compileClassic(prog), skb, env);
}

requires(sharedMissing, 'impl-bsd-ind-no-wrap: FreeBSD test0056-test0061 give FreeBSD\'s expected result under the variant, the wrapped load without it', (t) => {
  const cases = loadFreebsd().tests.filter((c) => /^test00(5[6-9]|6[01])$/.test(c.name));
  t.is(cases.length, 6);
  for (const c of cases) {
    const bytes = hex(c.pkt_hex);
    t.is(classic(c.insns, bytes, 'impl-bsd-ind-no-wrap'), c.expected, c.name);
    // Linux: X + k wraps to 0, so the load reads from byte 0 (the annotation's 0x01234567 / 0x0123 / 0x01)
    const size = c.insns[2]!.code === IND.W ? 4 : c.insns[2]!.code === IND.H ? 2 : 1;
    const linux = Number.parseInt(c.pkt_hex.slice(0, 2 * size), 16);
    t.is(classic(c.insns, bytes, null), linux, c.name);
  }
});

test('impl-libpcap-shift-x-ge-32: libpcap\'s `X < 32 ? A << X : 0`, against Linux\'s A << (X & 31)', (t) => {
  const a = 0x80000001;
  for (const x of [0, 1, 31, 32, 33, 63, 64, 0x80000000, 0xffffffff]) {
    const lsh = [I(LD_IMM, a), I(LDX_IMM, x), I(LSH_X), I(RET_A)];
    const rsh = [I(LD_IMM, a), I(LDX_IMM, x), I(RSH_X), I(RET_A)];
    const bytes = new Uint8Array(4);
    // bpf_filter.c: if (X < 32) A <<= X; else A = 0;  (and the same for >>=)
    t.is(classic(lsh, bytes, 'impl-libpcap-shift-x-ge-32'), x < 32 ? (a << x) >>> 0 : 0, `lsh ${x}`);
    t.is(classic(rsh, bytes, 'impl-libpcap-shift-x-ge-32'), x < 32 ? a >>> x : 0, `rsh ${x}`);
    // kernel/bpf/core.c ALU_LSH_X / ALU_RSH_X: (u32) DST << ((u32) SRC & 31)
    t.is(classic(lsh, bytes, null), (a << (x & 31)) >>> 0, `lsh ${x}`);
    t.is(classic(rsh, bytes, null), a >>> (x & 31), `rsh ${x}`);
  }
});

// The installed libpcap as judge: bench/pcap_bench.c prints, per program, the sum of its results
// over the packets; with one packet per program that is the result.
function libpcapResults(progs: readonly (readonly SockFilter[])[], packet: Uint8Array): { results: number[]; version: string } | { skip: string } {
  const dir = mkdtempSync(join(tmpdir(), 'bpfspec-pcap-'));
  try {
    const bin = join(dir, 'pcap_bench');
    const cc = spawnSync('cc', ['-O1', '-o', bin, resolve(projectRoot, 'bench', 'pcap_bench.c'), '-lpcap'], { encoding: 'utf8' });
    if (cc.error || cc.status !== 0) return { skip: `cannot build bench/pcap_bench.c against libpcap: ${cc.error?.message ?? cc.stderr.trim().split('\n')[0]}` };
    const input = join(dir, 'in.bin');
    writeFileSync(input, pcapBenchInput(progs.map((prog, i) => ({ name: String(i), prog })), [packet]));
    const r = spawnSync(bin, [input, '0'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`pcap_bench failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as { sums: number[]; version: string };
    return { results: out.sums, version: out.version };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Whether bench/pcap_bench.c builds here against the installed libpcap (probed when the module loads).
const pcapMissing: string | null = (() => {
  const dir = mkdtempSync(join(tmpdir(), 'bpfspec-pcap-'));
  try {
    const cc = spawnSync('cc', ['-O1', '-o', join(dir, 'pcap_bench'), resolve(projectRoot, 'bench', 'pcap_bench.c'), '-lpcap'], { encoding: 'utf8' });
    return cc.error || cc.status !== 0 ? `libpcap-dev and cc (bench/pcap_bench.c does not build: ${cc.error?.message ?? cc.stderr.trim().split('\n')[0]})` : null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
})();

requires(pcapMissing, 'the installed libpcap agrees with the evaluator under each impl variant (shifts by X; LD IND near the 2^32 wrap)', (t) => {
  const packet = hex('0123456789abcdef0011223344556677');
  const n = packet.length;
  // shifts: any A, X
  const shifts = fc.sample(fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.oneof(fc.integer({ min: 0, max: 70 }), fc.integer({ min: 0, max: 0xffffffff })), fc.boolean()), { seed: 7, numRuns: 200 })
    .map(([a, x, left]) => [I(LD_IMM, a), I(LDX_IMM, x), I(left ? LSH_X : RSH_X), I(RET_A)]);
  // LD IND: sums that wrap past 2^32 (BSD fails them, Linux wraps) or stay below 2^31 (both read, or
  // both fail past the end). Sums in [2^31, 2^32) are negative offsets to Linux (SKF_NET_OFF...), a
  // space libpcap does not have: not what this variant is about.
  const sizes = [IND.W, IND.H, IND.B];
  const inds = fc.sample(fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: -2, max: n + 2 }), fc.integer({ min: 0, max: 2 }), fc.boolean()), { seed: 8, numRuns: 300 })
    .map(([x, target, s, wrap]) => {
      // pick k so that X + k = target (+ 2^32 when wrapping); X is clamped below target when not
      const xx = wrap ? Math.max(x, target + 1) : Math.min(x, Math.max(target, 0));
      const k = wrap ? (target - xx + 0x100000000) >>> 0 : (target - xx) >>> 0;
      return [I(LDX_IMM, xx), I(sizes[s]!, k), I(RET_A)];
    })
    .filter((p) => {
      const sum = p[0]!.k + p[1]!.k;
      return sum > 0xffffffff || sum < 0x80000000;
    });
  const progs = [...shifts, ...inds];
  const lp = libpcapResults(progs, packet);
  if ('skip' in lp) throw new Error(lp.skip);
  t.log(`judge: ${lp.version}; ${shifts.length} shift programs, ${inds.length} LD IND programs`);
  let linuxDiffers = 0;
  progs.forEach((prog, i) => {
    const variant: VariantName = i < shifts.length ? 'impl-libpcap-shift-x-ge-32' : 'impl-bsd-ind-no-wrap';
    t.is(classic(prog, packet, variant), lp.results[i]!, `${variant} program ${i}: ${JSON.stringify(prog)}`);
    if (classic(prog, packet, null) !== lp.results[i]) linuxDiffers++;
  });
  // the samples do reach the differences (else the comparison above would prove little)
  t.true(linuxDiffers >= 20, `${linuxDiffers} programs where Linux and libpcap differ`);
});
