// Part of the mutation test command (./run.ts): the attach-path boundaries a bounded campaign rarely
// or never reaches, with expected verdicts worked out by hand from the kernel source.
//   - __sk_filter_charge (net/core/filter.c:1226): `filter_size <= optmem_max && sk_omem_alloc +
//     filter_size < optmem_max`, unsigned (int + u32), filter_size = bpf_prog_size(len) = 72 + 8 * len;
//     exercised with sk_omem_alloc > 0 (replacing a filter), at both edges and with the u32 wrap;
//   - bpf_prog_select_runtime (kernel/bpf/core.c:2373): with CONFIG_BPF_JIT_ALWAYS_ON and no JIT the
//     attach fails with -ENOTSUPP; without ALWAYS_ON the interpreter runs the same program;
//   - bpf_convert_filter's s16 jump offsets (BPF_EMIT_JMP, net/core/filter.c:701-711): the limit
//     programs of fuzz/arb/program.ts exactly at the edges (+32767 and the first iteration's -32768
//     accepted, one more rejected), through the campaign's Checker (classic vs kernel path).
import { bpfProgCreate, skAttachFilter, KernelRunner } from '../../model/attach.js';
import { STRICT_ALIGN_64, X86_64, type KernelConfig } from '../../model/config.js';
import { bpfConvertFilter } from '../../model/migrate/convert.js';
import type { BpfInsn } from '../../model/ebpf/insn.js';
import { __skFilterCharge, chargeRejection } from '../../model/migrate/charge.js';
import { NEW_SOCK, type SkFilter } from '../../model/attach.js';
import { ENOMEM, ENOTSUPP } from '../../model/uapi.js';
import type { SockFilter } from '../../model/cbpf/insn.js';
import { ethernetSkb } from '../../model/skb.js';
import { convertedLen, limitProgram, type LimitKind } from '../../fuzz/arb/index.js';
import { Checker } from '../../fuzz/properties.js';

type Fail = (msg: string) => never;

/** __sk_filter_charge of a `len`-insn program on a socket holding `omem`, as __sk_attach_prog reports it: null (charged) or its -ENOMEM. */
const skFilterCharge = (len: number, optmemMax: number, omem: number, header: number) =>
  __skFilterCharge({ ...NEW_SOCK, omemAlloc: omem }, { prog: { migrated: { len } } } as unknown as SkFilter, { optmemMax, bpfProgHeaderSize: header }) === null ? chargeRejection() : null;
const verdict = (r: ReturnType<typeof skFilterCharge>): string => (r === null ? 'ok' : `${r.errno} ${r.rule}`);

/** The charge at its edges; returns the number of checks. */
export function chargeEdges(fail: Fail): number {
  // [progLen, optmem_max, sk_omem_alloc, header, expected]; filter_size = header + 8 * progLen
  const cases: readonly (readonly [number, number, number, number, 'ok' | 'enomem'])[] = [
    [100, 20480, 0, 72, 'ok'], // 872 < 20480
    [100, 20480, 19607, 72, 'ok'], // 19607 + 872 = 20479 < 20480
    [100, 20480, 19608, 72, 'enomem'], // 20480 is not < 20480
    [100, 20480, 40000, 72, 'enomem'],
    [100, 872, 0, 72, 'enomem'], // 872 <= 872, but 0 + 872 < 872 fails
    [100, 872, 0xffffffff, 72, 'ok'], // 872 <= 872 and (u32)(0xffffffff + 872) = 871 < 872
    [100, 871, 0xfffffff0, 72, 'enomem'], // 872 > 871 (the first test), though (u32)(omem + 872) = 856 < 871
    [100, 20480, 0xffffff00, 72, 'ok'], // (u32)(0xffffff00 + 872) = 616
    [2551, 20480, 0, 72, 'enomem'], // 72 + 20408 = 20480: 20480 <= 20480, but 0 + 20480 < 20480 fails
    [2550, 20480, 7, 72, 'ok'], // 20472: 7 + 20472 = 20479 < 20480
    [2550, 20480, 8, 72, 'enomem'], // 8 + 20472 = 20480
    [10, 200, 100, 96, 'enomem'], // header 96 (6.18): 176; 100 + 176 = 276
    [10, 200, 23, 96, 'ok'], // 23 + 176 = 199
  ];
  let n = 0;
  for (const [len, max, omem, header, want] of cases) {
    const got = skFilterCharge(len, max, omem, header);
    const ok = want === 'ok' ? got === null : got !== null && got.errno === -ENOMEM && got.rule === 'optmem-exceeded';
    if (!ok) fail(`__sk_filter_charge(len ${len}, optmem_max ${max}, omem ${omem}, header ${header}): ${verdict(got)}, want ${want}`);
    n++;
  }
  // through skAttachFilter: a program whose migrated length the generators' count mirror gives
  const prog: SockFilter[] = [
    { code: 0x28, jt: 0, jf: 0, k: 12 },
    { code: 0x15, jt: 0, jf: 1, k: 0x800 },
    { code: 0x06, jt: 0, jf: 0, k: 0xffff },
    { code: 0x06, jt: 0, jf: 0, k: 0 },
  ];
  const size = 72 + 8 * convertedLen(prog, X86_64);
  const room = 20480 - size; // the largest sk_omem_alloc that still fits is room - 1
  const fits = skAttachFilter(prog, X86_64, { ...NEW_SOCK, omemAlloc: room - 1 });
  const full = skAttachFilter(prog, X86_64, { ...NEW_SOCK, omemAlloc: room });
  if (!('ok' in fits)) fail(`skAttachFilter with sk_omem_alloc ${room - 1}: ${fits.rule}`);
  if ('ok' in full || full.errno !== -ENOMEM || full.rule !== 'optmem-exceeded') fail(`skAttachFilter with sk_omem_alloc ${room}: want -ENOMEM optmem-exceeded`);
  return n + 2;
}

/** Runtime selection without a JIT; returns the number of checks. */
export function runtimeEdges(fail: Fail): number {
  const prog: SockFilter[] = [
    { code: 0x20, jt: 0, jf: 0, k: 0xfffff004 }, // ld pkt_type
    { code: 0x04, jt: 0, jf: 0, k: 1 },
    { code: 0x16, jt: 0, jf: 0, k: 0 }, // ret a
  ];
  const alwaysOn: KernelConfig = { ...X86_64, jitAvailable: false, jitAlwaysOn: true };
  const r = skAttachFilter(prog, alwaysOn);
  if ('ok' in r || r.errno !== -ENOTSUPP || r.stage !== 'runtime' || r.rule !== 'jit-required') fail(`JIT always on without a JIT: want -ENOTSUPP runtime/jit-required`);
  const interp: KernelConfig = { ...X86_64, jitAvailable: false, jitAlwaysOn: false };
  const f = skAttachFilter(prog, interp);
  if (!('ok' in f)) return fail(`no JIT, not always on: rejected ${f.rule}`);
  if (f.migrated.jited) fail('no JIT, not always on: migrated.jited is true');
  const withJit = skAttachFilter(prog, X86_64);
  if (!('ok' in withJit) || !withJit.migrated.jited) fail('x86-64: the JIT must be used');
  // the interpreter runs the same program: pkt_type 3 (PACKET_OTHERHOST) + 1
  const skb = ethernetSkb(new Uint8Array(60), { pktType: 3 });
  const got = new KernelRunner(interp).run(f, skb, { cpu: 0, randomSeed: 1 });
  if (got !== 4) fail(`no JIT: ld pkt_type; add #1; ret a gave ${got}, want 4`);
  return 4;
}

/**
 * The conversion limits exactly at their edges (delta -1: the last offset or position that fits;
 * delta 0: the first that does not): expected verdicts from BPF_EMIT_JMP's s16 test and the charge,
 * and the campaign's classic-vs-kernel check on one packet.
 */
export function limitEdges(fail: Fail, config: KernelConfig = X86_64): number {
  const checker = new Checker(config);
  checker.roundtrip = false;
  const skb = ethernetSkb(new Uint8Array(64));
  const rules: Record<LimitKind, string> = { 'ja-offset': 'jump-offset-overflow', 'jump-position': 'jump-offset-overflow', optmem: 'optmem-exceeded' };
  let n = 0;
  for (const kind of ['ja-offset', 'jump-position', 'optmem'] as const) {
    for (const delta of [-1, 0]) {
      const prog = limitProgram(kind, delta, 7, config);
      // the jump limits need ~32768 eBPF instructions, far over optmem_max: judge the conversion alone
      const r = kind === 'optmem' ? skAttachFilter(prog, config) : bpfProgCreate(prog, config);
      if (delta < 0 && !('ok' in r)) fail(`limit ${kind} delta ${delta}: rejected ${r.rule}, want accepted`);
      if (delta >= 0 && ('ok' in r || r.rule !== rules[kind])) fail(`limit ${kind} delta ${delta}: ${'ok' in r ? 'accepted' : r.rule}, want ${rules[kind]}`);
      const finding = checker.checkValid(prog, [{ skb, env: { cpu: 0, randomSeed: 1 } }]);
      if (finding !== null) fail(`limit ${kind} delta ${delta}: ${finding.property}: ${finding.message}`);
      n++;
    }
  }
  return n;
}

const J = (code: number, dst: number, src: number, off: number, imm: number): BpfInsn => ({ code, dst, src, off, imm });
const C = (code: number, jt: number, jf: number, k: number): SockFilter => ({ code, jt, jf, k: k >>> 0 });

/**
 * bpf_convert_filter's output for the conditional-jump shapes, written out by hand from
 * net/core/filter.c:569-911 (prologue F:602-609; LD IMM; F:721-786 the jumps: one jump when jf == 0,
 * JEQ/JGT/JGE inverted to JNE/JLE/JLT when jt == 0, JSET and jt, jf != 0 as Jxx + JA, a negative K
 * zero-extended into TMP (R2) first, imm = k for the X forms too; RET K = mov32 r0, k; exit).
 * A = R0, X = R7, CTX = R6 (include/linux/filter.h). BPF_EMIT_JMP: off = addrs[t] - addrs[i] - 1 - slot.
 */
export function conversionShapes(fail: Fail): number {
  const prog: SockFilter[] = [
    C(0x00, 0, 0, 5), // 0: ld #5                         addrs 3
    C(0x15, 1, 0, 5), // 1: jeq #5, 1, 0   (to 3 / 2)     addrs 4
    C(0x2d, 0, 1, 0), // 2: jgt x, 0, 1    (to 3 / 4)     addrs 5
    C(0x35, 0, 1, 3), // 3: jge #3, 0, 1   (to 4 / 5)     addrs 6
    C(0x45, 0, 1, 1), // 4: jset #1, 0, 1  (to 5 / 6)     addrs 7 (2 insns)
    C(0x15, 1, 1, -1), // 5: jeq #-1, 1, 1 (to 7 / 7)     addrs 9 (3 insns)
    C(0x06, 0, 0, 1), // 6: ret #1                        addrs 12
    C(0x06, 0, 0, 2), // 7: ret #2                        addrs 14
  ];
  const want: BpfInsn[] = [
    J(0xac, 0, 0, 0, 0), // xor32 A, A
    J(0xac, 7, 7, 0, 0), // xor32 X, X
    J(0xbf, 6, 1, 0, 0), // mov64 CTX, ARG1
    J(0xb4, 0, 0, 0, 5),
    J(0x15, 0, 0, 1, 5), // jeq A, 5 -> 6
    J(0xbd, 0, 7, 1, 0), // jle A, X -> 7 (inverted jgt, to jf)
    J(0xa5, 0, 0, 2, 3), // jlt A, 3 -> 9 (inverted jge)
    J(0x45, 0, 0, 1, 1), // jset A, 1 -> 9
    J(0x05, 0, 0, 3, 0), // ja -> 12 (slot 1)
    J(0xb4, 2, 0, 0, -1), // mov32 TMP, 0xffffffff
    J(0x1d, 0, 2, 3, 0), // jeq A, TMP -> 14 (slot 1)
    J(0x05, 0, 0, 2, 0), // ja -> 14 (slot 2)
    J(0xb4, 0, 0, 0, 1),
    J(0x95, 0, 0, 0, 0),
    J(0xb4, 0, 0, 0, 2),
    J(0x95, 0, 0, 0, 0),
  ];
  const r = bpfConvertFilter(prog, X86_64);
  if (!('ok' in r) || r.ok !== true) return fail(`conversion shapes: ${'ok' in r ? 'ok is not true' : r.rule}`);
  if (r.insns.length !== want.length) fail(`conversion shapes: ${r.insns.length} eBPF insns, want ${want.length}`);
  want.forEach((w, i) => {
    const g = r.insns[i]!;
    if (g.code !== w.code || g.dst !== w.dst || g.src !== w.src || g.off !== w.off || g.imm !== w.imm)
      fail(`conversion shapes: insn ${i} ${JSON.stringify(g)}, want ${JSON.stringify(w)}`);
  });
  const addrs = [3, 4, 5, 6, 7, 9, 12, 14];
  const ends = [4, 5, 6, 7, 9, 12, 14, 16];
  for (let i = 0; i < prog.length; i++)
    if (r.map[2 * i] !== addrs[i] || r.map[2 * i + 1] !== ends[i]) fail(`conversion shapes: map of pc ${i} = [${r.map[2 * i]}, ${r.map[2 * i + 1]}], want [${addrs[i]}, ${ends[i]}]`);
  if (r.map.length !== 2 * prog.length) fail(`conversion shapes: map of ${r.map.length} entries`);
  if (r.passes !== 2) fail(`conversion shapes: ${r.passes} passes, want 2`);
  const m = skAttachFilter(prog, X86_64);
  if (!('ok' in m) || m.ok !== true || m.migrated.ok !== true || m.migrated.progSize !== 72 + 8 * 16) fail('conversion shapes: the attached filter');
  // a conversion rejection names the kernel line
  const bad = bpfProgCreate(limitProgram('ja-offset', 0, 7), X86_64);
  if ('ok' in bad || !bad.at.startsWith('net/core/filter.c:')) fail(`jump-offset-overflow: at ${'ok' in bad ? '-' : bad.at}`);
  return want.length;
}

/**
 * The length of every LD ABS/IND conversion (convert_bpf_ld_abs, net/core/filter.c:480: the inline
 * fast path only for ABS with offset >= 0 on an arch with efficient unaligned access, or, without,
 * when `offset + ip_align % size == 0` (the kernel's precedence); an ldx offset over S16_MAX takes
 * two more insns; offset 0 skips the SUB; IND with k == 0 skips the ADD) against the generators'
 * count mirror (fuzz/arb/ebpf-size.ts), on x86-64 and on a strict-alignment arch (NET_IP_ALIGN 2).
 */
export function ldAbsLengths(fail: Fail): number {
  const ks = [0, 1, 2, 3, 4, 6, 12, 14, 0x7ffe, 0x7fff, 0x8000, 0x7fffffff, 0xffffffff, 0xfffffffe, 0xfffffffd, 0xfffffff0, 0x80000000];
  let n = 0;
  // also a strict-alignment arch with NET_IP_ALIGN 0 (offset + 0 % size == 0 only at offset 0)
  for (const config of [X86_64, STRICT_ALIGN_64, { ...STRICT_ALIGN_64, arch: 'strict-ip-align-0', netIpAlign: 0 }]) {
    for (const code of [0x20, 0x28, 0x30, 0x40, 0x48, 0x50]) {
      for (const k of ks) {
        const prog = [C(code, 0, 0, k), C(0x16, 0, 0, 0)];
        const r = bpfConvertFilter(prog, config);
        if (!('ok' in r)) return fail(`ld 0x${code.toString(16)} k 0x${k.toString(16)} (${config.arch}): ${r.rule}`);
        const want = convertedLen(prog, config);
        if (r.insns.length !== want) fail(`ld 0x${code.toString(16)} k 0x${k.toString(16)} (${config.arch}): ${r.insns.length} eBPF insns, the count mirror says ${want}`);
        n++;
      }
    }
  }
  // two by hand, strict alignment (ip_align 2): ldh [0]: 0 + 2 % 2 == 0, fast path: prologue 7 +
  // (mov, jslt, ldx, endian, ja) 5 + slow path (3 movs, mov imm, call, jsge, xor, exit) 8 + ret a 1;
  // ldw [2]: 2 + 2 % 4 = 4 != 0, slow path only: 7 + 8 + 1
  const h0 = bpfConvertFilter([C(0x28, 0, 0, 0), C(0x16, 0, 0, 0)], STRICT_ALIGN_64);
  const w2 = bpfConvertFilter([C(0x20, 0, 0, 2), C(0x16, 0, 0, 0)], STRICT_ALIGN_64);
  if (!('ok' in h0) || h0.insns.length !== 21) fail(`strict-align ldh [0]: want 21 eBPF insns`);
  if (!('ok' in w2) || w2.insns.length !== 16) fail(`strict-align ldw [2]: want 16 eBPF insns`);
  return n + 2;
}
