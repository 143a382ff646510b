// Historical variants: named kernel bugs (and bugs of other classic BPF implementations) that the
// model can reintroduce, one at a time. Each variant is a preset of the kernel record
// (model/kernel.ts) that flips the decision fields the fix changed (`flips`), read where the kernel
// got it wrong; everything else stays the fixed model, and KernelConfig.variant names the preset. The fuzzer, run with a variant set, must find a
// counterexample (test/variants.test.ts), and corpus/historical/<name>.json records a minimal case with
// the right (fixed) and the wrong (variant) results.
//
// Line references are to the 6.6.y tree eclipse-oniro-mirrors/kernel_linux_6.6 (F = net/core/filter.c,
// C = kernel/bpf/core.c), and "3.14:" to the last pre-eBPF net/core/filter.c (as in model/cbpf/eval.ts).
import { FIXED_DECISIONS, type KernelConfig } from './kernel.js';
import { NLA_HDRLEN, nlaAlign, nlaLenField, nlattrGuardFails, nlaType } from './netlink.js';
import type { SkBuff } from './skb.js';

/** The variants, by name (kebab-case). */
export type VariantName =
  | 'no-check-load-and-stores'
  | 'reciprocal-divide'
  | 'nlattr-no-len-guard'
  | 'div-x-no-zero-guard'
  | 'ld-abs-s16-offset'
  | 'nlattr-nest-unsigned-len'
  | 'neg-offset-linear-only'
  | 'shift-k-unchecked'
  | 'impl-gvisor-tax-txa-swapped'
  | 'impl-libpcap-shift-x-ge-32'
  | 'impl-bsd-ind-no-wrap';

/** The fuzzer property that must catch a variant (fuzz/properties.ts PropertyName). */
export type CatchingProperty = 'invalid-rejected' | 'equivalence' | 'no-fault';

/** Which judge the variant changes. */
export type VariantSide = 'kernel path' | 'classic evaluator' | 'checker (kernel path)';

export interface VariantInfo {
  readonly name: VariantName;
  /** Digest id (kernel-spec.md section 9), or 'impl' for another implementation. */
  readonly id: string;
  /** Title of the fixing commit (or, for another implementation, the implementation and its fix). */
  readonly title: string;
  readonly year: string;
  /** Commit hash where known (null: not found; see `verified`). */
  readonly hash: string | null;
  /** Whether the title/hash was seen in a source (patch mail, tree, CVE text), not from memory. */
  readonly verified: boolean;
  /** The kernels (or implementation versions) that have the bug. */
  readonly affected: string;
  /** The kernel file:line of the decision the fix changed (in the 6.6.y tree, or 3.14 for old code). */
  readonly decisionPoint: string;
  /** Where the model consults the variant. */
  readonly modelHook: string;
  readonly side: VariantSide;
  readonly explanation: string;
  readonly catchesBy: CatchingProperty;
  /** The decision fields of the kernel record (model/kernel.ts) the bug flips. */
  readonly flips: Partial<Omit<KernelConfig, 'variant'>>;
  /** Kernel parameters the variant needs to be observable: the fixed kernel it is found against (applied by variantConfig). */
  readonly needs?: Partial<Omit<KernelConfig, 'variant'>>;
  /** True for a bug of another implementation (not a Linux bug). */
  readonly notLinux?: boolean;
}

export const VARIANTS: readonly VariantInfo[] = Object.freeze([
  {
    name: 'no-check-load-and-stores',
    id: 'H1',
    title: 'filter: make sure filters dont read uninitialized memory',
    year: '2010',
    hash: null,
    verified: false,
    affected: 'Linux before 2.6.37 (CVE-2010-4158; title/CVE pairing UNVERIFIED)',
    decisionPoint: 'net/core/filter.c:1137 (bpf_check_classic calls check_load_and_stores)',
    modelHook: 'model/cbpf/check.ts bpfCheckClassic (KernelConfig.checkLoadAndStores)',
    flips: { checkLoadAndStores: false },
    side: 'checker (kernel path)',
    explanation:
      'Without check_load_and_stores a program may read a scratch cell M[k] that no path wrote. The kernel accepts it and the load returns stale kernel stack (an info leak). In the 6.6 model the cell is an eBPF stack slot, which the model fills with poison bytes (the kernel never zeroes it), so `ld M[k]; ret a` returns the poison word.',
    catchesBy: 'invalid-rejected',
  },
  {
    name: 'reciprocal-divide',
    id: 'H2',
    title: 'bpf: do not use reciprocal divide',
    year: '2014',
    hash: null,
    verified: true,
    affected: 'Linux 2.6.x (reciprocal DIV_K in sk_run_filter and the JITs) up to v3.13; fixed in v3.14',
    decisionPoint: '3.14: sk_run_filter BPF_S_ALU_DIV_K (A = reciprocal_divide(A, K), with K = reciprocal_value(K) set by sk_chk_filter)',
    modelHook: 'model/cbpf/eval.ts ClassicVm.run, Op.DIV_K (KernelConfig.classicDivK)',
    flips: { classicDivK: 'reciprocal' },
    side: 'classic evaluator',
    explanation:
      'sk_chk_filter replaced K by reciprocal_value(K) = (u32)((2^32 + K - 1) / K) and sk_run_filter computed A = (u32)(((u64)A * R) >> 32). That is not A / K: for K = 1 the reciprocal is (u32)2^32 = 0, so every A / 1 gave 0, and for large K and A the quotient can be off by one (Jakub Zawadzki).',
    catchesBy: 'equivalence',
  },
  {
    name: 'nlattr-no-len-guard',
    id: 'H3',
    title: 'filter: prevent nla extensions to peek beyond the end of the message',
    year: '2014',
    hash: null,
    verified: true,
    affected: 'Linux 2.6.27 .. 3.14 (CVE-2014-3144, CVE-2014-3145); fixed in v3.15-rc and stable',
    decisionPoint: '3.14: sk_run_filter SKF_AD_NLATTR / SKF_AD_NLATTR_NEST guards (6.6: F:178 and F:204)',
    modelHook: 'model/cbpf/eval.ts ClassicVm.nlattr (KernelConfig.classicNlattrGuards)',
    flips: { classicNlattrGuards: 'unchecked' },
    side: 'classic evaluator',
    explanation:
      'Before the fix there was no `skb->len < sizeof(struct nlattr)` test, so on a packet shorter than 4 bytes `A > skb->len - sizeof(struct nlattr)` compared against a wrapped size_t and never fired; and the NEST test was written `nla->nla_len > A - skb->len`, operands swapped, so it almost never fired either. nla_find / nla_find_nested then walked past the end of the skb. The model reports the read past skb->len as EXIT_OOB (a fault of the classic evaluator).',
    catchesBy: 'no-fault',
  },
  {
    name: 'div-x-no-zero-guard',
    id: 'H8',
    title: 'bpf: fix subprog verifier bypass by div/mod by 0 exception',
    year: '2018',
    hash: null,
    verified: true,
    affected:
      'a combination, not a released kernel: the pre-2018 conversion (no guard; the interpreter itself returned 0 on X == 0) with the 6.6 interpreter, which no longer checks. Before the fix cBPF was correct by the interpreter; the fix moved the check into the converted program',
    decisionPoint: 'net/core/filter.c:680 (bpf_convert_filter emits JNE X,0,+2; A ^= A; EXIT before DIV_X/MOD_X)',
    modelHook: 'model/migrate/convert.ts bpfConvertFilter, ALU DIV_X/MOD_X (KernelConfig.divXGuard)',
    flips: { divXGuard: false },
    side: 'kernel path',
    explanation:
      'Since the fix the interpreter no longer tests the divisor (the verifier or the converter must). Without the converter guard, `div x` with X == 0 reaches the 6.6 interpreter, which divides by zero: a #DE trap (kernel oops) on x86. The model reports the fault.',
    catchesBy: 'no-fault',
  },
  {
    name: 'ld-abs-s16-offset',
    id: 'H10',
    title: 'ld_abs rewrite: LDX off is an s16, large offsets need TMP = D + offset (title/hash UNVERIFIED)',
    year: '2018',
    hash: null,
    verified: false,
    affected: 'hypothetical unless a 4.18-era kernel is found without ldx_off_ok (every copy seen, from 4.18 on, has it)',
    decisionPoint: 'net/core/filter.c:496 (bool ldx_off_ok = offset <= S16_MAX)',
    modelHook: 'model/migrate/ldabs.ts convertBpfLdAbs (KernelConfig.ldxOffOk)',
    flips: { ldxOffOk: false },
    side: 'kernel path',
    explanation:
      'The inline fast path loads with `LDX A, [D + off]`, and off is an s16. Without ldx_off_ok an LD ABS k with 32767 < k < headlen is emitted with off = (s16)k, i.e. k - 65536 for k < 65536: the load reads before skb->data (out of bounds) instead of byte k.',
    catchesBy: 'no-fault',
  },
  {
    name: 'nlattr-nest-unsigned-len',
    id: 'H14',
    title: 'bpf: use nla_ok() instead of checking nla_len directly',
    year: '2023',
    hash: null,
    verified: true,
    affected: 'Linux 6.8-rc after 172db56d90d2 "netlink: Return unsigned value for nla_len()", until the fix (v6.6 itself is not affected)',
    decisionPoint: 'net/core/filter.c:204 (if (nla->nla_len > skb->len - a) return 0; 6.8: if (!nla_ok(nla, skb->len - a)))',
    modelHook: 'model/netlink.ts bpfSkbGetNlattrNest (KernelConfig.nlattrNestLen)',
    flips: { nlattrNestLen: 'u16' },
    side: 'kernel path',
    explanation:
      'With nla_len() returning u16, an attribute at A whose nla_len < 4 passes the nla_len <= skb->len - A test, and nla_find_nested walks nla_len() = (u16)(nla_len - 4), about 64 KiB, past the end of the skb (syzbot). The model reports the read past skb->len as a helper fault.',
    catchesBy: 'no-fault',
  },
  {
    name: 'neg-offset-linear-only',
    id: 'H15',
    title: 'bpf: support SKF_NET_OFF and SKF_LL_OFF on skb frags',
    year: '2025',
    hash: 'd4bac0288a2b',
    verified: true,
    affected: 'every kernel before v6.15 and before the 5.15/6.1/6.6 stable backports (the model runs it as a 6.6.y kernel that should have the backport)',
    decisionPoint: 'net/core/filter.c:228 (bpf_skb_load_helper_8 and _16/_32: bpf_skb_load_helper_convert_offset, then skb_copy_bits)',
    modelHook: 'model/ebpf/helpers.ts bpfSkbLoadHelper (KernelConfig.loadHelpers)',
    flips: { loadHelpers: 'v6.6.0' },
    side: 'kernel path',
    explanation:
      'Before the fix a negative (SKF_NET_OFF / SKF_LL_OFF) offset went through bpf_internal_load_pointer_neg_helper, which only accepts bytes in the linear area: a header in frags (tun IFF_NAPI_FRAGS, iwlwifi) made the load fail and the filter drop the packet. Run with loadHelpers = backport, the fuzzer expects the fixed result.',
    catchesBy: 'equivalence',
    needs: { loadHelpers: 'backport' },
  },
  {
    name: 'shift-k-unchecked',
    id: 'H17',
    title: 'bpf_check_classic: reject LSH_K/RSH_K with k >= 32 (origin commit not found)',
    year: '2014',
    hash: null,
    verified: false,
    affected: 'the v3.14 sk_chk_filter and earlier (which accepted the shift); every 2016+ copy rejects it',
    decisionPoint: 'net/core/filter.c:1089 (if (ftest->k >= 32) return -EINVAL)',
    modelHook: 'model/cbpf/check.ts bpfCheckClassic (KernelConfig.checkShiftK)',
    flips: { checkShiftK: false },
    side: 'checker (kernel path)',
    explanation:
      'A shift by an immediate >= 32 is undefined behaviour in C (the interpreter) and architecture-dependent in the JITs (x86 masks the count, others do not). Without the check the program is accepted.',
    catchesBy: 'invalid-rejected',
  },
  {
    // ws-judges (#13): the hypothetical impl-tax-as-a-equals-x, now gVisor's interpreter (read in its source)
    name: 'impl-gvisor-tax-txa-swapped',
    id: 'impl',
    title: 'gVisor pkg/bpf: TAX runs as A = X and TXA as X = A (the reverse of Linux; not a Linux bug)',
    year: '2018',
    hash: null,
    verified: true,
    affected:
      'gVisor (runsc): application seccomp filters are compiled by bpf.Compile and run by bpf.Exec in the sentry (pkg/sentry/syscalls/linux/sys_seccomp.go:76, pkg/sentry/kernel/seccomp.go:173); pkg/bpf/bpf.go:108-109 define Tax = 0x00 "A = X" and Txa = 0x80 "X = A", and pkg/bpf/interpreter.go:377-380 (Exec) and :650-653 (InstrumentedExec) run BPF_MISC|BPF_TAX (0x07) as m.A = m.X and BPF_MISC|BPF_TXA (0x87) as m.X = m.A; unchanged since the initial check-in (d02b74a5d, 2018); read at google/gvisor at 3c5eee17dc45 (2026-08-21), not run here (gVisor is not installable)',
    decisionPoint: '3.14: sk_run_filter BPF_S_MISC_TAX (X = A) and BPF_S_MISC_TXA (A = X); 6.6: bpf_convert_filter BPF_MISC|BPF_TAX -> MOV64 X, A and BPF_MISC|BPF_TXA -> MOV64 A, X (model/migrate/convert.ts)',
    modelHook: 'model/cbpf/eval.ts ClassicVm.run, Op.TAX and Op.TXA (KernelConfig.classicTax, classicTxa)',
    flips: { classicTax: 'a-from-x', classicTxa: 'x-from-a' },
    side: 'classic evaluator',
    explanation:
      'TAX copies A into X and TXA copies X into A. gVisor runs them the other way round, so any filter that moves A and X through TAX/TXA computes something else, e.g. `ld #5; tax; txa; ret a` returns 0 instead of 5 (gVisor: A = X = 0, then X = A = 0). Its own disassembler (pkg/bpf/decoder.go:241-244) prints 0x07 as "X <- A", the Linux meaning. Report: corpus/reports/gvisor-tax-txa-swapped.md.',
    catchesBy: 'equivalence',
    notLinux: true,
  },
  {
    name: 'impl-libpcap-shift-x-ge-32',
    id: 'impl',
    title: 'libpcap bpf_filter: LSH/RSH by X >= 32 give 0 (libpcap defines the shift that C leaves undefined; Linux masks the count)',
    year: '-',
    hash: null,
    verified: true,
    affected:
      'libpcap bpf_filter.c (pcapint_filter_with_aux_data: `if (X < 32) A <<= X; else A = 0;`), e.g. 1.10.3 as packaged by Debian, measured on this machine; so pcap_offline_filter disagrees with the kernel the filter is attached to',
    decisionPoint: '3.14: sk_run_filter BPF_S_ALU_LSH_X / RSH_X (A <<= X; x86 masks the count); 6.6: kernel/bpf/core.c ALU_LSH_X `DST = (u32) DST << ((u32) SRC & 31)`',
    modelHook: 'model/cbpf/eval.ts ClassicVm.run, Op.LSH_X / Op.RSH_X (KernelConfig.classicShiftX)',
    flips: { classicShiftX: 'zero' },
    side: 'classic evaluator',
    explanation:
      'A shift by a register count >= 32 is undefined in C. The kernel shifts by X & 31 (the x86 instruction masks the count, and the 6.6 interpreter masks it explicitly), so `ld #0x80000001; ldx #32; lsh x; ret a` returns 0x80000001. libpcap gives 0. A filter tested with pcap_offline_filter (or tcpdump -r) can therefore behave differently once attached with SO_ATTACH_FILTER.',
    catchesBy: 'equivalence',
    notLinux: true,
  },
  {
    name: 'impl-bsd-ind-no-wrap',
    id: 'impl',
    title: 'BSD bpf_filter (libpcap, FreeBSD): LD IND with X + k past 2^32 fails the load (Linux wraps the sum)',
    year: '-',
    hash: null,
    verified: true,
    affected:
      'libpcap bpf_filter.c (`if (pc->k > buflen || X > buflen - pc->k || ...) return 0;`, 1.10.3 measured on this machine) and FreeBSD sys/net/bpf_filter.c (its regression tests test0056-test0061 expect 0, ../shared/conformance/freebsd_bpf_filter.json)',
    decisionPoint: '3.14: sk_run_filter BPF_S_LD_W_IND (k = X + K, u32 arithmetic); 6.6: net/core/filter.c:523-525 (ARG4 = X, then ARG4 += offset in 64 bits; the load helper takes the offset as an int)',
    modelHook: 'model/cbpf/eval.ts ClassicVm.loadInd, LD_W_IND / LD_H_IND / LD_B_IND (KernelConfig.classicIndSum)',
    flips: { classicIndSum: 'no-wrap' },
    side: 'classic evaluator',
    explanation:
      'The BSD code checks k and X against the buffer length separately so that their sum cannot wrap; a sum of 2^32 or more fails the load and the filter returns 0. Linux adds them (u32 in the classic interpreter, 64-bit then truncated to int by bpf_skb_load_helper_* in 6.6), so X = 0xffffffff with `ld [x + 1]` loads byte 0.',
    catchesBy: 'equivalence',
    notLinux: true,
  },
] satisfies VariantInfo[]);

/** Known bugs that get no variant, and why (nothing bpfspec observes can change). */
export const NOT_MODELLED: readonly { readonly id: string; readonly title: string; readonly why: string }[] = Object.freeze([
  { id: 'H4', title: 'internal-BPF conversion (3.15): dev == NULL and nlattr guard behaviour', why: 'not a bug: catalogued divergences R1-R4 (fuzz/divergences.ts)' },
  { id: 'H5', title: 'bpf: use different interpreter depending on required stack size', why: 'not a bug: M[k] stack layout and interpreter buckets, already the 6.6 model' },
  { id: 'H6', title: 'bpf: add BPF_J{LT,LE,SLT,SLE} instructions', why: 'not a bug: a different but equivalent jump encoding' },
  { id: 'H7', title: '68fda450a7df bpf: fix 32-bit divide by zero', why: 'MOV32 X,X only matters when X has upper bits set, which a migrated program never has; on x86 the interpreter result is unchanged' },
  { id: 'H9', title: 'e0cea7ce988c bpf: implement ld_abs/ld_ind in native bpf', why: 'not a bug: the baseline of the 6.6 conversion' },
  { id: 'H11', title: 'bpf: Fix clobbering of r2 in bpf_gen_ld_abs', why: 'native eBPF LD_IND with src = r1 only; the cBPF conversion never emits it' },
  { id: 'H12', title: '28131e9d9333 bpf: Fix up register-based shifts in interpreter to silence KUBSAN', why: 'values unchanged on x86 (the CPU masks the count); only a sanitizer report' },
  { id: 'H13', title: 'e88b2c6e5a4d bpf: Fix 32 bit src register truncation on div/mod', why: 'eBPF verifier rewrite only; classic programs are not verified' },
  { id: 'H16', title: 'e5f635edd393 fix operator precedence in convert_bpf_ld_abs alignment check', why: 'only picks the slow path on strict-alignment arches; the result is identical' },
  { id: 'H18', title: 'classic x86 cBPF JIT bugs (2011-2014)', why: 'the classic JIT is not modelled (a no-op on x86-64 since 4.x)' },
]);

const BY_NAME: ReadonlyMap<string, VariantInfo> = new Map(VARIANTS.map((v) => [v.name, v]));

/** The names, in registry order. */
export const VARIANT_NAMES: readonly VariantName[] = VARIANTS.map((v) => v.name);

/** Whether a string names a variant. */
export const isVariantName = (s: string): s is VariantName => BY_NAME.has(s);

/** The registry entry of a variant (throws on an unknown name: API misuse). */
export function variantInfo(name: string): VariantInfo {
  const v = BY_NAME.get(name);
  if (!v) throw new RangeError(`unknown variant '${name}' (known: ${VARIANT_NAMES.join(', ')})`);
  return v;
}

/** A configuration running `name` on top of `base`: the parameters the variant needs, then its flips. */
export function variantConfig(base: KernelConfig, name: VariantName): KernelConfig {
  const v = variantInfo(name);
  return { ...base, ...(v.needs ?? {}), ...v.flips, variant: name };
}

/**
 * The fixed kernel a configuration stands for: without a variant, itself; with one, the flipped
 * fields back at their fixed values (or at what the variant needs). The campaign's predictions, and
 * the classic judge's checker, come from it.
 */
export function fixedConfig(config: KernelConfig): KernelConfig {
  if (config.variant === undefined) return config;
  const v = variantInfo(config.variant);
  const back: Record<string, unknown> = {};
  const fixed = FIXED_DECISIONS as Record<string, unknown>;
  const needs = (v.needs ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(v.flips)) back[k] = k in needs ? needs[k] : fixed[k];
  const { variant: _variant, ...rest } = config;
  return { ...rest, ...(back as Partial<KernelConfig>) };
}

// ---------------------------------------------------------------------------------------------
// The historical bodies the variants run (the fixed model never calls them).

// lib/reciprocal_div.c reciprocal_value (2.6.20 .. 3.13 text; reciprocal-divide, H2)
/** (u32)((2^32 + (k - 1)) / k) for a u32 k >= 1: 0 for k = 1, since 2^32 does not fit. */
export function reciprocalValue(k: number): number {
  return Math.floor((0x100000000 + ((k - 1) >>> 0)) / (k >>> 0)) >>> 0;
}

// include/linux/reciprocal_div.h reciprocal_divide (2.6.20 .. 3.13 text; reciprocal-divide, H2)
/** (u32)(((u64)a * r) >> 32): the high word of the 64-bit product of two u32s. */
export function reciprocalDivide(a: number, r: number): number {
  const aH = a >>> 16;
  const aL = a & 0xffff;
  const rH = r >>> 16;
  const rL = r & 0xffff;
  const lh = aL * rH;
  const hl = aH * rL;
  const mid = ((aL * rL) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (aH * rH + Math.floor(lh / 0x10000) + Math.floor(hl / 0x10000) + Math.floor(mid / 0x10000)) >>> 0;
}

/** nlaFindUnchecked: the walk read a header byte outside `bytes` (the kernel reads past the skb). */
export const NLA_OOB = -2;
/** bpfSkbGetNlattrNestU16: the helper read past the end of the skb. */
export const NLATTR_OOB = -(2 ** 40);

// lib/nlattr.c nla_find, as the pre-fix callers ran it (nlattr-no-len-guard H3, nlattr-nest-unsigned-len H14)
/**
 * nla_find with an unchecked `len`: the same walk as model/netlink.ts nlaFind (nla_ok, nla_type,
 * nla_next), but `start` and `len` may point past `bytes`, as the buggy callers let them. Returns the
 * offset of the first attribute of `type`, -1 when the walk stops, or NLA_OOB as soon as it reads a
 * header byte outside `bytes` (nla_ok reads nla_len, then nla_type; both are 2-byte reads).
 */
export function nlaFindUnchecked(bytes: Uint8Array, start: number, len: number, type: number, littleEndian: boolean): number {
  const attrtype = type | 0;
  let rem = len | 0;
  let pos = start;
  while (rem >= NLA_HDRLEN) {
    if (pos < 0 || pos + 2 > bytes.length) return NLA_OOB; // nla_ok reads nla->nla_len
    const l = nlaLenField(bytes, pos, littleEndian);
    if (l < NLA_HDRLEN || l > rem) return -1;
    if (pos + 4 > bytes.length) return NLA_OOB; // nla_type reads nla->nla_type
    if (nlaType(bytes, pos, littleEndian) === attrtype) return pos;
    const totlen = nlaAlign(l);
    rem = (rem - totlen) | 0;
    pos += totlen;
  }
  return -1;
}

// 3.14 sk_run_filter BPF_S_ANC_NLATTR / BPF_S_ANC_NLATTR_NEST before "filter: prevent nla extensions to
// peek beyond the end of the message" (CVE-2014-3144/3145; nlattr-no-len-guard, H3)
/**
 * The pre-fix guards: nonlinear -> -1 (return 0); `A > skb->len - sizeof(struct nlattr)` compared as
 * size_t, so it never fires when len < 4; NEST's `nla->nla_len > A - skb->len` with the operands
 * swapped (u32), which never fires before an out-of-bounds read (see below). Then the walks run
 * unchecked: NLA_OOB as soon as a read leaves the skb, else the new A.
 */
export function skRunFilterNlattrUnchecked(skb: SkBuff, A: number, X: number, nest: boolean, littleEndian: boolean): number {
  const len = skb.data.length;
  if (skb.headlen < len) return -1; // skb_is_nonlinear(skb)
  if (len >= 4 && A > len - 4) return -1; // wraps (never fires) when len < 4
  let at: number;
  if (!nest) {
    // nla_find(&skb->data[A], skb->len - A, X): the u32 difference becomes an int
    at = nlaFindUnchecked(skb.data, A, (len - A) | 0, X | 0, littleEndian);
  } else {
    if (A + 2 > len) return NLA_OOB; // reading nla->nla_len past the end
    const nlaLen = nlaLenField(skb.data, A, littleEndian);
    // The swapped test `nla->nla_len > A - skb->len` (u32) never fires here: for A < len, A - len wraps
    // above any u16, and A >= len has already read nla_len out of bounds (above).
    // nla_find_nested: nla_find(nla_data(nla), nla_len(nla) = nla_len - 4 as an int, X)
    at = nlaFindUnchecked(skb.data, A + 4, nlaLen - 4, X | 0, littleEndian);
  }
  return at === NLA_OOB ? NLA_OOB : at < 0 ? 0 : at;
}

// net/core/filter.c:190 bpf_skb_get_nlattr_nest with the u16 nla_len() of 6.8-rc after 172db56d90d2
// (nlattr-nest-unsigned-len, H14; the fix: `if (!nla_ok(nla, skb->len - a)) return 0;`)
/**
 * The v6.6 guards, then nla_find_nested with nla_len() = (u16)(nla_len - 4): an attribute with
 * nla_len < 4 makes the walk cover ~64 KiB past the skb. NLATTR_OOB when it reads outside.
 */
export function bpfSkbGetNlattrNestU16(skb: SkBuff, a: number, x: number, littleEndian: boolean): number {
  if (nlattrGuardFails(skb, a, true, littleEndian)) return 0;
  const start = a >>> 0;
  const payload = (nlaLenField(skb.data, start, littleEndian) - NLA_HDRLEN) & 0xffff;
  const nla = nlaFindUnchecked(skb.data, start + NLA_HDRLEN, payload, x | 0, littleEndian);
  return nla === NLA_OOB ? NLATTR_OOB : nla >= 0 ? nla : 0;
}
