// DPDK's librte_bpf against Linux (DPDK v22.11.11 lib/bpf, Debian 12's libdpdk-dev; "D:" lines
// below): rte_bpf_convert is a port of the kernel's bpf_convert_filter, but converts LD IND with the
// wrong index register; its validator refuses programs Linux accepts; its interpreter and its x86
// JIT read out of bounds at some offsets. Two catalogues: 'dpdk' (rte_bpf_exec, the interpreter) and
// 'dpdk-jit' (the code of rte_bpf_get_jit); they share every entry but the JIT's own.
import type { Program } from '../../model/cbpf/insn.js';
import { linuxAttachLimit, type ImplCatalogue, type ImplEntry } from './catalogue.js';
import { EV_IND_INDEX_A, EV_JIT_JSET_IMM8, EV_JIT_NEGATIVE, EV_NEG_OFFSET, EV_READ_WRAP } from './model.js';

const SRC = 'DPDK v22.11.11 lib/bpf';
const EINVAL = 22;

const isJcond = (code: number): boolean => (code & 0x07) === 0x05 && code !== 0x05;

/** The classic instructions no path from pc 0 reaches (every jump forward, as the checker ensures). */
export function unreachablePcs(prog: Program): number[] {
  const seen = new Uint8Array(prog.length);
  if (prog.length > 0) seen[0] = 1;
  for (let pc = 0; pc < prog.length; pc++) {
    if (!seen[pc]) continue;
    const { code, jt, jf, k } = prog[pc]!;
    const mark = (t: number): void => {
      if (t < prog.length) seen[t] = 1;
    };
    if ((code & 0x07) === 0x06) continue; // RET
    if (code === 0x05) mark(pc + 1 + (k >>> 0));
    else if (isJcond(code)) (mark(pc + 1 + jt), mark(pc + 1 + jf));
    else mark(pc + 1);
  }
  const out: number[] = [];
  for (let pc = 0; pc < prog.length; pc++) if (!seen[pc]) out.push(pc);
  return out;
}

/** LD ABS (any size) and LDX MSH with k >= 2^31: DPDK emits an eBPF LD_ABS whose imm is negative. */
export function negativeAbsPc(prog: Program): number {
  for (let pc = 0; pc < prog.length; pc++) {
    const { code, k } = prog[pc]!;
    if ((code === 0x20 || code === 0x28 || code === 0x30 || code === 0xb1) && k >>> 0 >= 0x80000000) return pc;
  }
  return -1;
}

/**
 * The first instruction whose k Linux ignores but DPDK copies into an eBPF imm its validator requires
 * to be 0: the X forms of ALU ops and conditional jumps, and NEG (bpf_convert.c:334-339, :382-385).
 */
export function unusedKPc(prog: Program): number {
  for (let pc = 0; pc < prog.length; pc++) {
    const { code, k } = prog[pc]!;
    if (k === 0) continue;
    const cls = code & 0x07;
    if ((cls === 0x04 && ((code & 0x08) !== 0 || code === 0x84)) || (isJcond(code) && (code & 0x08) !== 0)) return pc;
  }
  return -1;
}

/** What running mis-encoded machine code ends in: SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV, or a loop the adapter stops (SIGVTALRM). */
const JIT_GARBAGE_SIGNALS: readonly number[] = [4, 5, 7, 8, 11, 26];

/**
 * Whether the JIT may jump back to the exit epilogue: the eBPF program has an EXIT (a RET, or the
 * DIV/MOD X guard) before a later EXIT or packet load, whose failure branch jumps to the same label.
 */
export const exitBeforeExitOrLoad = (prog: Program): boolean => {
  let exit = false;
  for (const { code } of prog) {
    const load = code === 0x20 || code === 0x28 || code === 0x30 || code === 0x40 || code === 0x48 || code === 0x50 || code === 0xb1;
    const isExit = (code & 0x07) === 0x06 || code === 0x3c || code === 0x9c;
    if (exit && (load || isExit)) return true;
    exit ||= isExit;
  }
  return false;
};

const SHARED: readonly ImplEntry[] = [
  {
    kind: 'runtime',
    id: 'dpdk-ld-ind-index-a',
    title: 'LD IND W and B ([x + k], not ldh) are converted to an eBPF LD_IND indexed by A (R0), not X: DPDK loads at A + k',
    events: EV_IND_INDEX_A,
    implementation:
      'bpf_convert_filter maps LD IND "as-is" with `insn->src_reg = bpf_src == BPF_X ? BPF_REG_X : 0`, bpf_src = BPF_SRC(code): for `ld [x + k]` (0x40) and `ldb [x + k]` (0x50) that is 0, so src_reg is 0 = BPF_REG_A, and rte_bpf_exec (and the JIT) add imm to reg[src_reg]; `ldh [x + k]` (0x48) works by accident, its size bit BPF_H is the BPF_X bit (0x08)',
    at: [`${SRC}/bpf_convert.c:330-339`, `${SRC}/bpf_exec.c:82-88`, `${SRC}/bpf_jit_x86.c:1043-1049`],
    linux: 'LD IND loads at X + k (bpf_convert_filter emits the helper call with ARG4 = X + k)',
    linuxAt: ['net/core/filter.c:523-525'],
    bug: { report: 'reports/dpdk-ld-ind-uses-a.md' },
    example: 'external/dpdk/dpdk-ld-ind-index-a.json',
  },
  {
    kind: 'runtime',
    id: 'dpdk-no-negative-offsets',
    title: 'LD IND at SKF_NET_OFF / SKF_LL_OFF + n: DPDK fails the load (returns 0), Linux reads the network or link-layer header',
    events: EV_NEG_OFFSET,
    implementation: 'the offset is a uint32 (`uint32_t ofs = reg[src] + imm`) passed to rte_pktmbuf_read, which fails past pkt_len',
    at: [`${SRC}/bpf_exec.c:82-88`, `${SRC}/bpf_exec.c:130-140`],
    linux: 'negative offsets are relative to the network or mac header (bpf_internal_load_pointer_neg_helper)',
    linuxAt: ['kernel/bpf/core.c:74-89'],
    example: 'external/dpdk/dpdk-no-negative-offsets.json',
  },
  {
    kind: 'runtime',
    id: 'dpdk-mbuf-read-wrap',
    title: 'LD IND with offset + size past 2^32: rte_pktmbuf_read wraps the sum and reads 4 GiB past the packet (a crash)',
    events: EV_READ_WRAP,
    implementation:
      'rte_pktmbuf_read tests `off + len <= rte_pktmbuf_data_len(m)` in 32 bits (and __rte_pktmbuf_read `off + len > rte_pktmbuf_pkt_len(m)`): an offset of 0xfffffffe with len 4 passes and the load reads at data + 0xfffffffe; DPDK fixed it upstream in 45f1da4401 (2026, "mbuf: fix packet data read"), not in 22.11.11',
    at: ['DPDK v22.11.11 lib/mbuf/rte_mbuf.h:1739', 'DPDK v22.11.11 lib/mbuf/rte_mbuf.c:712-721'],
    linux: 'the offset is an int; 0xfffffffe is -2, a negative offset outside SKF_NET_OFF/SKF_LL_OFF windows that fails (the filter returns 0)',
    linuxAt: ['kernel/bpf/core.c:74-89'],
    bug: { report: 'reports/dpdk-mbuf-read-wrap.md', fixedUpstream: 'DPDK 45f1da4401 "mbuf: fix packet data read"' },
    example: 'external/dpdk/dpdk-mbuf-read-wrap.json',
  },
  {
    kind: 'verdict',
    id: 'dpdk-validator-negative-abs',
    title: 'LD ABS or LDX MSH with k >= 2^31 (SKF_NET_OFF / SKF_LL_OFF): rte_bpf_load refuses the program (EINVAL, "invalid imm field")',
    predict: (prog) => (negativeAbsPc(prog) >= 0 ? { stage: 'rte_bpf_load', code: EINVAL, reason: /invalid imm field/ } : null),
    implementation: 'the converted eBPF LD_ABS carries k as imm, and check_syntax allows only 0..INT32_MAX for LD_ABS imm',
    at: [`${SRC}/bpf_convert.c:294-301`, `${SRC}/bpf_convert.c:416-429`, `${SRC}/bpf_validate.c:1490-1506`, `${SRC}/bpf_validate.c:1773-1774`],
    linux: 'bpf_check_classic accepts LD ABS k below SKF_AD_OFF, negative ones included, and never checks MSH k; such loads read relative to the network or mac header',
    linuxAt: ['net/core/filter.c:1128', 'kernel/bpf/core.c:74-89'],
    example: 'external/dpdk/dpdk-validator-negative-abs.json',
  },
  {
    kind: 'verdict',
    id: 'dpdk-validator-unused-k',
    title: 'an X-form ALU op or jump, or NEG, whose (unused) k is not 0: rte_bpf_load refuses the program (EINVAL, "invalid imm field")',
    predict: (prog) => (unusedKPc(prog) >= 0 ? { stage: 'rte_bpf_load', code: EINVAL, reason: /invalid imm field/ } : null),
    implementation:
      'bpf_convert_filter copies k into imm for every "as-is" ALU op and NEG (`insn->imm = fp->k`) and for the X-form jumps; check_syntax allows only imm 0 for the X forms and NEG',
    at: [`${SRC}/bpf_convert.c:334-339`, `${SRC}/bpf_convert.c:381-386`, `${SRC}/bpf_validate.c:1768-1775`],
    linux: 'k of an X-form op, jump or NEG is never read (bpf_check_classic does not look at it; the converted instruction keeps it in an imm the interpreter ignores)',
    linuxAt: ['net/core/filter.c:1065-1140', 'net/core/filter.c:690'],
    bug: { report: 'reports/dpdk-validator-refuses-valid-classic.md' },
    example: 'external/dpdk/dpdk-validator-unused-k.json',
  },
  {
    kind: 'verdict',
    id: 'dpdk-validator-unreachable',
    title: 'a program with an unreachable instruction: rte_bpf_load refuses it (EINVAL, "unreachable instructions")',
    predict: (prog) => (unreachablePcs(prog).length > 0 ? { stage: 'rte_bpf_load', code: EINVAL, reason: /unreachable instructions/ } : null),
    implementation: 'validate() builds the control flow graph of the eBPF program and rejects it when a depth-first search does not reach every instruction',
    at: [`${SRC}/bpf_validate.c:1982-2086`],
    linux: 'bpf_check_classic checks that jumps stay in range and the last instruction is a RET; unreachable instructions are allowed',
    linuxAt: ['net/core/filter.c:1065-1140'],
    example: 'external/dpdk/dpdk-validator-unreachable.json',
  },
  {
    kind: 'verdict',
    id: 'dpdk-validator-ld-ind-range',
    title: 'LD IND whose index + k the validator finds always negative or above 2^32 - 1: rte_bpf_load refuses the program (EINVAL, "mbuf boundary violation")',
    explains: (prog, r) => {
      const m = /mbuf boundary violation at pc: (\d+)/.exec(r.message);
      if (r.stage !== 'rte_bpf_load' || m === null || r.ebpf === undefined) return false;
      const insn = r.ebpf[Number(m[1])];
      return insn !== undefined && (insn.code === 0x40 || insn.code === 0x48 || insn.code === 0x50) && prog.some((i) => i.code === 0x40 || i.code === 0x48 || i.code === 0x50);
    },
    implementation:
      'eval_ld_mbuf adds imm to the tracked range of the index register (A, through the converter bug) and rejects when the signed maximum is negative or the unsigned minimum exceeds UINT32_MAX',
    at: [`${SRC}/bpf_validate.c:611-621`],
    linux: 'LD IND has no check in bpf_check_classic: a negative X + k is a negative offset, an out-of-range one fails at run time (the filter returns 0)',
    linuxAt: ['net/core/filter.c:1065-1140', 'net/core/filter.c:523-525'],
    example: 'external/dpdk/dpdk-validator-ld-ind-range.json',
  },
  {
    kind: 'verdict',
    id: 'dpdk-validator-div-by-zero',
    title: 'DIV/MOD by X where A and X are constants and X is 0: rte_bpf_load refuses the program (EINVAL, "division by 0"), though the converted guard returns 0 first',
    explains: (prog, r) => {
      const m = /division by 0 at pc: (\d+)/.exec(r.message);
      if (r.stage !== 'rte_bpf_load' || m === null || r.ebpf === undefined) return false;
      const n = Number(m[1]);
      const op = r.ebpf[n];
      const guard = r.ebpf[n - 3];
      return op !== undefined && (op.code === 0x3c || op.code === 0x9c) && guard !== undefined && guard.code === 0x55 && guard.dst === 7 && guard.imm === 0 && prog.some((i) => i.code === 0x3c || i.code === 0x9c);
    },
    implementation:
      'the converter guards DIV/MOD X with `JNE X, 0, +2; A ^= A; EXIT` (bpf_convert.c:303-310), but eval_jcc narrows only the equal branch of a JNE (eval_jeq_jne on the fall-through state), so the taken branch keeps X = 0 and eval_divmod rejects a constant division by 0',
    at: [`${SRC}/bpf_convert.c:303-310`, `${SRC}/bpf_validate.c:1033-1060`, `${SRC}/bpf_validate.c:1119-1124`, `${SRC}/bpf_validate.c:518-521`],
    linux: 'DIV/MOD by X == 0 returns 0 (the same guard, F:679-688); a classic program may divide by a zero X',
    linuxAt: ['net/core/filter.c:679-688'],
    bug: { report: 'reports/dpdk-validator-refuses-valid-classic.md' },
    example: 'external/dpdk/dpdk-validator-div-by-zero.json',
  },
];

/** A converted program with no EXIT at its end: an empty classic program, or one whose last instruction is not a RET. */
export const noFinalRet = (prog: Program): boolean => prog.length === 0 || (prog[prog.length - 1]!.code & 0x07) !== 0x06;

const noExitOverflow = (impl: string): ImplEntry => ({
  kind: 'crash',
  id: `${impl}-validator-no-exit-overflow`,
  title: 'a classic program with no final RET (or none at all): rte_bpf_load walks past the end of its instruction graph and corrupts the heap (glibc aborts)',
  signals: [],
  atLoad: true,
  applies: noFinalRet,
  implementation:
    'the converted program then ends without EXIT; validate() adds the fall-through edge of its last instruction with add_edge, which accepts nidx == nb_ins (`if (nidx > bvf->prm->nb_ins)`), and the depth-first search reads and writes the node past the array; DPDK fixed it upstream in cee21cc5be ("bpf: disallow empty program", 2026: `nidx >= nb_ins`), after 22.11.11',
  at: [`${SRC}/bpf_validate.c:1826-1847`, `${SRC}/bpf_validate.c:2047-2050`, `${SRC}/bpf_convert.c:251-283`],
  linux: 'bpf_check_basics_ok rejects an empty program and bpf_check_classic one whose last instruction is not a RET (-EINVAL)',
  linuxAt: ['net/core/filter.c:1040-1048', 'net/core/filter.c:1131-1138'],
  bug: { report: 'reports/dpdk-validator-no-exit-overflow.md', fixedUpstream: 'DPDK cee21cc5be "bpf: disallow empty program"' },
  example: `external/dpdk/${impl}-validator-no-exit-overflow.json`,
});

const pathExplosion = (impl: string): ImplEntry => ({
  kind: 'crash',
  id: `${impl}-validator-path-explosion`,
  title: 'a long program with many conditional jumps: rte_bpf_load does not finish (the driver kills the adapter after its watchdog, 30 s)',
  signals: [],
  atLoad: true,
  reason: /answered nothing for/,
  applies: (prog) => prog.filter((i) => isJcond(i.code)).length >= 128,
  implementation:
    "evaluate() walks every path of the eBPF program's control flow, saving and comparing register states at conditional jumps to prune (prune_eval_state); on a long program with many conditional jumps whose states do not prune, the walk does not end in minutes (a classic program of 4090 instructions and 1328 jumps, which bpf_check_classic accepts, was still validating when killed after 7 minutes here); DPDK reworked the pruning after 22.11 (1c39f3f240, 2026: 'unnecessary work for validator contributing to exponential code paths grow')",
  at: [`${SRC}/bpf_validate.c:2387-2509`, `${SRC}/bpf_validate.c:2336-2384`],
  linux: 'bpf_check_classic is linear (one pass, and check_load_and_stores one more); the attach path then converts once (here it refuses the migrated program for optmem, -ENOMEM)',
  linuxAt: ['net/core/filter.c:1065-1140', 'net/core/filter.c:1232'],
  example: `external/dpdk/${impl}-validator-path-explosion.json`,
});

const checksDifferently = (impl: string): ImplEntry => ({
  kind: 'linux-rejects',
  id: `${impl}-checks-differently`,
  title: "DPDK's converter and validator refuse most, not all, of what Linux's bpf_check_classic rejects (its verdict there is not predicted; accepted programs must run without crashing)",
  implementation:
    'rte_bpf_convert refuses unknown codes and jumps past the end; rte_bpf_load refuses what its validator finds (loops, unreachable code, field ranges, undefined registers); it has no check_load_and_stores, no shift-k limit and no SKF_AD window rule',
  at: [`${SRC}/bpf_convert.c:241-521`, `${SRC}/bpf_validate.c:1982-2554`],
  linux: 'bpf_check_classic (the 49 codes, jump bounds, shift k < 32, SKF_AD window, scratch written before read)',
  linuxAt: ['net/core/filter.c:1065-1140'],
  example: `external/dpdk/${impl}-checks-differently.json`,
});

export const DPDK_CATALOGUE: ImplCatalogue = {
  name: 'dpdk',
  source: SRC,
  semantics: { shiftX: 'mask', loads: 'dpdk', indIndex: 'dpdk', ldxLen: 'x' },
  entries: [...SHARED, linuxAttachLimit('dpdk', 'external/dpdk/dpdk-runs-past-linux-limits.json'), checksDifferently('dpdk'), noExitOverflow('dpdk'), pathExplosion('dpdk')],
};

export const DPDK_JIT_CATALOGUE: ImplCatalogue = {
  name: 'dpdk-jit',
  source: SRC,
  semantics: { shiftX: 'mask', loads: 'dpdk-jit', indIndex: 'dpdk', ldxLen: 'x', jsetImm8: 'broken' },
  entries: [
    ...SHARED,
    {
      kind: 'runtime',
      id: 'dpdk-jit-negative-offset',
      title: 'JIT: LD IND with a negative index + k reads before the packet (out of bounds); the interpreter fails the load',
      events: EV_JIT_NEGATIVE,
      implementation:
        "emit_ldmb_fast_path computes off = (s64)imm + reg in 64 bits and takes the fast path when data_len - off >= size: a negative off passes and the JIT loads at buf_addr + data_off + off, before the packet; rte_bpf_exec truncates the offset to uint32 and fails the load",
      at: [`${SRC}/bpf_jit_x86.c:1043-1086`],
      linux: 'a negative offset is relative to the network or mac header, and fails outside the linear area',
      linuxAt: ['kernel/bpf/core.c:74-89'],
      bug: { report: 'reports/dpdk-jit-ld-negative-offset.md' },
      example: 'external/dpdk/dpdk-jit-negative-offset.json',
    },
    {
      kind: 'runtime',
      id: 'dpdk-jit-jset-imm8',
      title: 'JIT: JSET K with k in 0..127 is mis-encoded (TEST r64, imm32 emitted with an 8-bit immediate): the code that runs is undefined, in practice a crash',
      events: EV_JIT_JSET_IMM8,
      implementation:
        'emit_jcc_imm emits `test dreg, imm` through emit_tst_imm: REX.W F7 /0 always takes a 32-bit immediate, but emit_tst_imm writes imm_size(imm) bytes, 1 when imm fits an int8; the CPU then takes the first three bytes of the following jcc as the rest of the immediate and decodes the remainder as instructions',
      at: [`${SRC}/bpf_jit_x86.c:893-913`, `${SRC}/bpf_jit_x86.c:126-131`, `${SRC}/bpf_jit_x86.c:1452-1465`],
      linux: 'JSET K jumps when A & k != 0',
      linuxAt: ['kernel/bpf/core.c:2020-2056'],
      bug: { report: 'reports/dpdk-jit-jset-imm8.md' },
      example: 'external/dpdk/dpdk-jit-jset-imm8.json',
      crashes: { signals: JIT_GARBAGE_SIGNALS, applies: (prog) => prog.some((i) => i.code === 0x45 && i.k >>> 0 <= 127) },
    },
    {
      kind: 'crash',
      id: 'dpdk-jit-shift-imm-misencoded',
      title: 'JIT: a shift by an immediate that does not fit an int8 (k >= 128) carries a 4-byte immediate after `shl r, imm8`: undefined code, in practice a crash (Linux rejects such shifts)',
      signals: JIT_GARBAGE_SIGNALS,
      applies: (prog) => prog.some((i) => (i.code === 0x64 || i.code === 0x74) && ((i.k | 0) < -128 || (i.k | 0) > 127)),
      implementation: 'emit_shift_imm writes imm_size(imm) bytes of immediate (4 when it does not fit an int8) after the C1 /4 opcode, whose immediate is always one byte',
      at: [`${SRC}/bpf_jit_x86.c:437-443`, `${SRC}/bpf_jit_x86.c:126-131`],
      linux: 'bpf_check_classic rejects LSH/RSH K with k >= 32 (-EINVAL)',
      linuxAt: ['net/core/filter.c:1089'],
      bug: { report: 'reports/dpdk-jit-jset-imm8.md' },
      example: 'external/dpdk/dpdk-jit-shift-imm-misencoded.json',
    },
    {
      kind: 'crash',
      id: 'dpdk-jit-backward-jump-disp8',
      title: 'JIT: a backward jump of 127 or 128 bytes (to the exit epilogue) gets a truncated 8-bit displacement and lands 256 bytes further on: a crash',
      signals: JIT_GARBAGE_SIGNALS,
      applies: exitBeforeExitOrLoad,
      implementation:
        "emit_abs_jcc and emit_abs_jmp choose the 2-byte form when imm_size(joff) and imm_size(joff + 6) are 1, joff measured from the jump's start, then subtract the 2-byte length: a target 127 or 128 bytes back gives -129 or -130, written as an int8 (+127, +126). The JIT's exit label is one epilogue, emitted at the first EXIT; a later EXIT (emit_abs_jmp) or a packet load's failure branch (emit_ldmb_slow_path) jumps back to it. Which programs put a jump at that distance depends on the code size, which the model does not compute: the entry explains a JIT crash on a program with an exit before a later exit or load",
      at: [`${SRC}/bpf_jit_x86.c:125-131`, `${SRC}/bpf_jit_x86.c:698-724`, `${SRC}/bpf_jit_x86.c:791-843`, `${SRC}/bpf_jit_x86.c:994`, `${SRC}/bpf_jit_x86.c:1118-1121`, `${SRC}/bpf_jit_x86.c:1240-1251`],
      linux: 'the jumps run as written: the interpreter follows the offsets, and the x86-64 JIT tests the displacement measured from the end of the jump (jmp_offset = addrs[i + insn->off] - addrs[i], then is_imm8) with sizes from the previous pass, repeating until the image converges',
      linuxAt: ['kernel/bpf/core.c:2020-2056', 'arch/x86/net/bpf_jit_comp.c:1783 (6.6.22)'],
      bug: { report: 'reports/dpdk-jit-backward-jump-disp8.md' },
      example: 'external/dpdk/dpdk-jit-backward-jump-disp8.json',
    },
    linuxAttachLimit('dpdk-jit', 'external/dpdk/dpdk-jit-runs-past-linux-limits.json'),
    checksDifferently('dpdk-jit'),
    noExitOverflow('dpdk-jit'),
    pathExplosion('dpdk-jit'),
  ],
};
