// seccomp's own checker: kernel/seccomp.c:280 seccomp_check_filter, the `trans` callback
// bpf_prepare_filter runs right after bpf_check_classic (net/core/filter.c:1340). It rewrites the
// program in place and rejects every code outside its allowed set.
//
// | rule                       | pc   | at                   | kernel decision                                             |
// |----------------------------|------|----------------------|-------------------------------------------------------------|
// | seccomp-load-out-of-range  | insn | kernel/seccomp.c:292 | LD|W|ABS with k >= sizeof(struct seccomp_data) (64)          |
// | seccomp-load-misaligned    | insn | kernel/seccomp.c:292 | LD|W|ABS with k & 3 (one condition with the one above)       |
// | seccomp-code-not-allowed   | insn | kernel/seccomp.c:344 | any code outside the switch's 41 cases (default label)        |
//
// Rewrites, before the load test (so a rejected program was already partly rewritten; it is freed):
//   LD|W|ABS k   -> LDX|W|ABS k  (0x20 -> 0x21: "A = *(u32 *)(ctx + k)", converted at net/core/filter.c
//                                 bpf_convert_filter's `case BPF_LDX | BPF_ABS | BPF_W`)
//   LD|W|LEN     -> LD|IMM 64    (sizeof(struct seccomp_data))
//   LDX|W|LEN    -> LDX|IMM 64
// Order against bpf_check_classic: the classic checker runs first (a program it rejects never reaches
// this one) and already applied check_load_and_stores; so LD|H|ABS, LD|IND, LDX|MSH, ancillary loads
// (which pass bpf_check_classic) are rejected here, by seccomp-code-not-allowed or, for ancillary
// LD|W|ABS k = 0xfffff000 + ..., by seccomp-load-out-of-range.
// Citations: kernel/seccomp.c and the uapi/arch headers at the snapshot dda72fb05f8a, net/core/filter.c
// at 79226fb0ba80 (the socket model's); model/seccomp/README.md says which tree each file comes from.
import type { Program, SockFilter } from '../cbpf/insn.js';
import { EINVAL } from '../uapi.js';
import { reject, type Rejection } from '../verdict.js';
import { SIZEOF_SECCOMP_DATA } from './uapi.js';

export type SeccompCheckRule = 'seccomp-load-out-of-range' | 'seccomp-load-misaligned' | 'seccomp-code-not-allowed';

export const SECCOMP_CHECK_RULE_AT: Readonly<Record<SeccompCheckRule, string>> = {
  'seccomp-load-out-of-range': 'kernel/seccomp.c:292',
  'seccomp-load-misaligned': 'kernel/seccomp.c:292',
  'seccomp-code-not-allowed': 'kernel/seccomp.c:344',
};

const LD_W_ABS = 0x20; // BPF_LD | BPF_W | BPF_ABS
const LDX_W_ABS = 0x21; // BPF_LDX | BPF_W | BPF_ABS
const LD_W_LEN = 0x80; // BPF_LD | BPF_W | BPF_LEN
const LDX_W_LEN = 0x81; // BPF_LDX | BPF_W | BPF_LEN
const LD_IMM = 0x00; // BPF_LD | BPF_IMM
const LDX_IMM = 0x01; // BPF_LDX | BPF_IMM

/**
 * kernel/seccomp.c:304-341 the 38 codes seccomp_check_filter lets through unchanged: RET K/A, the
 * ALU operations except MOD (ADD SUB MUL DIV AND OR XOR LSH RSH, K and X, and NEG), LD/LDX IMM,
 * TAX, TXA, LD/LDX MEM, ST, STX, JA and the conditional jumps (K and X). Not MOD: BPF_MOD came to
 * classic BPF after seccomp's list was written and was never added.
 */
export const SECCOMP_ALLOWED_CODES: readonly number[] = Object.freeze([
  0x06, 0x16, // RET K, RET A
  0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, // ADD SUB MUL DIV
  0x54, 0x5c, 0x44, 0x4c, 0xa4, 0xac, 0x64, 0x6c, 0x74, 0x7c, 0x84, // AND OR XOR LSH RSH NEG
  0x00, 0x01, 0x07, 0x87, 0x60, 0x61, 0x02, 0x03, // LD IMM, LDX IMM, TAX, TXA, LD MEM, LDX MEM, ST, STX
  0x05, 0x15, 0x1d, 0x35, 0x3d, 0x25, 0x2d, 0x45, 0x4d, // JA, JEQ JGE JGT JSET (K, X)
]);
const ALLOWED = new Set(SECCOMP_ALLOWED_CODES);

/** What seccomp_check_filter leaves: the rewritten program (fp->insns) and its verdict. */
export interface SeccompCheckResult {
  /** the program as the kernel holds it after the call (rewritten up to where it stopped) */
  readonly prog: SockFilter[];
  /** null = 0 (accepted) */
  readonly rejection: Rejection | null;
}

const seccompReject = (rule: SeccompCheckRule, pc: number): Rejection => reject(-EINVAL, 'check', rule, pc, SECCOMP_CHECK_RULE_AT[rule]);

// kernel/seccomp.c:280 seccomp_check_filter
/**
 * The kernel function on a copy of `filter` (the kernel rewrites fp->insns in place; the model returns
 * the rewritten copy). Runs on any program, but the kernel only calls it on one bpf_check_classic
 * accepted.
 */
export function seccompCheckFilter(filter: Program): SeccompCheckResult {
  const prog = filter.map((i) => ({ ...i }));
  for (let pc = 0; pc < prog.length; pc++) {
    const ftest = prog[pc]!;
    const code = ftest.code;
    const k = ftest.k >>> 0;
    switch (code) {
      case LD_W_ABS:
        prog[pc] = { ...ftest, code: LDX_W_ABS }; // :290 rewritten before the test
        // :292 32-bit aligned and not out of bounds
        if (k >= SIZEOF_SECCOMP_DATA) return { prog, rejection: seccompReject('seccomp-load-out-of-range', pc) };
        if ((k & 3) !== 0) return { prog, rejection: seccompReject('seccomp-load-misaligned', pc) };
        continue;
      case LD_W_LEN: // :295
        prog[pc] = { ...ftest, code: LD_IMM, k: SIZEOF_SECCOMP_DATA };
        continue;
      case LDX_W_LEN: // :299
        prog[pc] = { ...ftest, code: LDX_IMM, k: SIZEOF_SECCOMP_DATA };
        continue;
      default:
        if (ALLOWED.has(code)) continue; // :304-341 explicitly allowed
        return { prog, rejection: seccompReject('seccomp-code-not-allowed', pc) }; // :344 default: return -EINVAL
    }
  }
  return { prog, rejection: null };
}

/** Whether a code passes seccomp_check_filter at all (allowed as is, or rewritten). */
export const seccompCodeAllowed = (code: number): boolean => ALLOWED.has(code) || code === LD_W_ABS || code === LD_W_LEN || code === LDX_W_LEN;
