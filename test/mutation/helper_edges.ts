// Part of the mutation test command (./run.ts): the load helpers and the CPU/random helpers on skbs a
// bounded campaign rarely draws, with expected results worked out by hand from the kernel:
//   - bpf_skb_load_helper_{8,16,32} (net/core/filter.c:228/253/278): a load that ends exactly at
//     skb->len with the bytes in the frags succeeds through skb_copy_bits (`offset > (int)skb->len -
//     len` is the only failure), one byte further it fails and the program returns 0 (F:542-545);
//     with skb_headlen 0, offset 0 goes through the helper too;
//   - negative offsets (kernel/bpf/core.c:74 bpf_internal_load_pointer_neg_helper in v6.6.0,
//     net/core/filter.c:214 bpf_skb_load_helper_convert_offset in the backport): k < SKF_LL_OFF leaves
//     ptr NULL (fault, 0); SKF_LL_OFF + j reads mac_header + j;
//   - SKF_AD_CPU = raw_smp_processor_id() (kernel/bpf/core.c:2821), SKF_AD_RANDOM against the classic
//     evaluator (the campaign's equivalence property) for a few seeds;
//   - the helper names the disassembler prints (the kernel function names).
import { KernelRunner, skAttachFilter } from '../../model/attach.js';
import { X86_64, type KernelConfig } from '../../model/config.js';
import type { SockFilter } from '../../model/cbpf/insn.js';
import { helperName, HELPER_GET_RAW_CPU_ID, HELPER_SKB_GET_NLATTR, HELPER_SKB_GET_NLATTR_NEST, HELPER_SKB_GET_PAY_OFFSET, HELPER_SKB_LOAD_8, HELPER_SKB_LOAD_16, HELPER_SKB_LOAD_32, HELPER_USER_RND_U32 } from '../../model/ebpf/helpers.js';
import { afUnixSkb, ethernetSkb, type Env, type SkBuff } from '../../model/skb.js';
import { SKF_LL_OFF } from '../../model/uapi.js';
import { Checker } from '../../fuzz/properties.js';

type Fail = (msg: string) => never;

const C = (code: number, k: number): SockFilter => ({ code, jt: 0, jf: 0, k: k >>> 0 });
const RET_A = C(0x16, 0);
const ENV: Env = { cpu: 0, randomSeed: 1 };
const LDB = 0x30;
const LDH = 0x28;
const LDW = 0x20;

const pattern = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 0x31) & 0xff || 0x5a);
const be = (b: Uint8Array, at: number, len: number): number => {
  let v = 0;
  for (let i = 0; i < len; i++) v = v * 256 + b[at + i]!;
  return v;
};

const BACKPORT: KernelConfig = { ...X86_64, loadHelpers: 'backport' };
const runners = new Map<KernelConfig, KernelRunner>();
function runOne(fail: Fail, what: string, prog: SockFilter[], skb: SkBuff, config: KernelConfig, env: Env = ENV): number {
  const f = skAttachFilter(prog, config);
  if (!('ok' in f)) return fail(`${what}: rejected ${f.rule}`);
  let r = runners.get(config);
  if (r === undefined) runners.set(config, (r = new KernelRunner(config)));
  const v = r.run(f, skb, env);
  if (r.fault !== null) fail(`${what}: fault ${r.fault.kind}`);
  return v;
}

export function helperEdges(fail: Fail): number {
  let n = 0;
  const expect = (what: string, got: number, want: number): void => {
    if (got !== want) fail(`${what}: ${got}, want ${want}`);
    n++;
  };
  for (const config of [X86_64, BACKPORT]) {
    const h = config.loadHelpers;
    // 100 bytes, 60 linear and 40 in the frags
    const data = pattern(100);
    const fr = afUnixSkb(data, { headlen: 60 });
    expect(`${h} ldb [99] (frag, last byte)`, runOne(fail, 'ldb', [C(LDB, 99), RET_A], fr, config), data[99]!);
    expect(`${h} ldh [98]`, runOne(fail, 'ldh', [C(LDH, 98), RET_A], fr, config), be(data, 98, 2));
    expect(`${h} ldw [96]`, runOne(fail, 'ldw', [C(LDW, 96), RET_A], fr, config), be(data, 96, 4));
    expect(`${h} ldw [97] (past skb->len)`, runOne(fail, 'ldw', [C(LDW, 97), RET_A], fr, config), 0);
    expect(`${h} ldw [58] (linear/frag boundary)`, runOne(fail, 'ldw', [C(LDW, 58), RET_A], fr, config), be(data, 58, 4));
    // skb_headlen 0: offset 0 is loaded by the helper
    const allFrag = afUnixSkb(pattern(10), { headlen: 0 });
    expect(`${h} ldb [0] (headlen 0)`, runOne(fail, 'ldb', [C(LDB, 0), RET_A], allFrag, config), pattern(10)[0]!);
    // mac header at 4: SKF_LL_OFF + 1 reads data[5]; SKF_LL_OFF - 1 is below every base: ptr NULL, 0
    const mac = afUnixSkb(pattern(20), { macHeader: 4, networkHeader: 18 });
    expect(`${h} ldb [SKF_LL_OFF + 1]`, runOne(fail, 'll', [C(LDB, SKF_LL_OFF + 1), RET_A], mac, config), pattern(20)[5]!);
    expect(`${h} ldb [SKF_LL_OFF - 1]`, runOne(fail, 'll-1', [C(LDB, SKF_LL_OFF - 1), RET_A], mac, config), 0);
  }
  // SKF_AD_CPU (ld [SKF_AD_OFF + 36]) returns raw_smp_processor_id()
  const ldCpu = [C(LDW, 0xfffff000 + 36), RET_A];
  const eth = ethernetSkb(pattern(60));
  for (const cpu of [1, 5, 63]) expect(`ld cpu on cpu ${cpu}`, runOne(fail, 'cpu', ldCpu, eth, X86_64, { cpu, randomSeed: 1 }), cpu);
  // SKF_AD_RANDOM (ld [SKF_AD_OFF + 56]) against the classic evaluator, and not constant
  const checker = new Checker(X86_64);
  const ldRand = [C(LDW, 0xfffff000 + 56), C(0x00 | 0x07, 0), C(LDW, 0xfffff000 + 56), C(0x04 | 0xa0 | 0x08, 0), RET_A]; // A = rnd; X = A; A = rnd; A ^= X
  const inputs = [11, 12, 13].map((randomSeed) => ({ skb: eth, env: { cpu: 2, randomSeed } }));
  const finding = checker.checkValid(ldRand, inputs);
  if (finding !== null) fail(`ld random: ${finding.message}`);
  const r1 = runOne(fail, 'rnd', [C(LDW, 0xfffff000 + 56), RET_A], eth, X86_64, { cpu: 0, randomSeed: 11 });
  const r2 = runOne(fail, 'rnd', [C(LDW, 0xfffff000 + 56), RET_A], eth, X86_64, { cpu: 0, randomSeed: 12 });
  if (r1 === r2) fail('ld random: two seeds gave the same number');
  n += 2;
  // the disassembler's helper names: the kernel functions
  const names: [number, string][] = [
    [HELPER_SKB_LOAD_8, 'bpf_skb_load_helper_8'],
    [HELPER_SKB_LOAD_16, 'bpf_skb_load_helper_16'],
    [HELPER_SKB_LOAD_32, 'bpf_skb_load_helper_32'],
    [HELPER_SKB_GET_PAY_OFFSET, 'bpf_skb_get_pay_offset'],
    [HELPER_SKB_GET_NLATTR, 'bpf_skb_get_nlattr'],
    [HELPER_SKB_GET_NLATTR_NEST, 'bpf_skb_get_nlattr_nest'],
    [HELPER_GET_RAW_CPU_ID, 'bpf_get_raw_cpu_id'],
    [HELPER_USER_RND_U32, 'bpf_user_rnd_u32'],
  ];
  for (const [id, name] of names) if (helperName(id) !== name) fail(`helperName(${id}) = ${helperName(id)}, want ${name}`);
  if (helperName(12345) !== 'helper#12345') fail(`helperName(12345) = ${helperName(12345)}`);
  return n + names.length + 1;
}
