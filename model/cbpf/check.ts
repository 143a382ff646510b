// The classic checker of the socket-filter attach path, Linux v6.6:
//   __get_filter -> bpf_check_basics_ok            (net/core/filter.c:1040, called at :1502)
//   bpf_prepare_filter -> bpf_check_classic        (net/core/filter.c:1065)
//                          -> chk_code_allowed      (net/core/filter.c:974)
//                          -> bpf_anc_helper        (include/linux/filter.h, near the end)
//                          -> check_load_and_stores (net/core/filter.c:921)
// Line numbers are those of the 6.6.y tree eclipse-oniro-mirrors/kernel_linux_6.6 @ 79226fb0ba80.
//
// Every rejection is -EINVAL at stage 'check'. The rules, in the order the kernel tries them:
//
// | rule                   | pc       | at                     | kernel decision                                       |
// |------------------------|----------|------------------------|-------------------------------------------------------|
// | filter-null            | null     | net/core/filter.c:1043 | bpf_check_basics_ok: filter == NULL                   |
// | len-zero               | null     | net/core/filter.c:1045 | bpf_check_basics_ok: flen == 0                        |
// | len-too-long           | null     | net/core/filter.c:1045 | bpf_check_basics_ok: flen > BPF_MAXINSNS (4096)       |
// | code-not-allowed       | insn     | net/core/filter.c:1076 | !chk_code_allowed(code), full u16 code (table :976)   |
// | div-by-zero-k          | insn     | net/core/filter.c:1084 | ALU DIV_K or MOD_K with k == 0                        |
// | shift-k-too-large      | insn     | net/core/filter.c:1089 | ALU LSH_K or RSH_K with k >= 32                       |
// | mem-index-out-of-range | insn     | net/core/filter.c:1097 | LD_MEM, LDX_MEM, ST, STX with k >= BPF_MEMWORDS (16)  |
// | ja-out-of-range        | insn     | net/core/filter.c:1105 | JA with k >= (u32)(flen - pc - 1)                     |
// | jump-out-of-range      | insn     | net/core/filter.c:1117 | Jcond with pc+jt+1 >= flen or pc+jf+1 >= flen         |
// | ancillary-k-invalid    | insn     | net/core/filter.c:1128 | LD_ABS (W/H/B) not ancillary and k >= (u32)SKF_AD_OFF |
// | last-not-ret           | flen - 1 | net/core/filter.c:1134 | last code is neither RET_K (0x06) nor RET_A (0x16)    |
// | mem-read-before-write  | the load | net/core/filter.c:944  | check_load_and_stores: M[k] not valid at LD/LDX MEM   |
//
// Order: bpf_check_basics_ok runs in __get_filter before bpf_check_classic (which does not repeat
// it). In bpf_check_classic one loop visits pc = 0, 1, ... and for each instruction first asks
// chk_code_allowed, then the one per-opcode check of that code; the first failure returns. Only when
// every instruction passes is the last-RET rule applied, and only then check_load_and_stores. So a
// per-instruction failure at any pc wins over last-not-ret, which wins over mem-read-before-write.
//
// Not modelled: the -ENOMEM of check_load_and_stores when kmalloc_array fails (net/core/filter.c:929);
// the model assumes allocation succeeds.
import type { KernelConfig } from '../config.js';
import {
  BPF_A,
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_AND,
  BPF_IMM,
  BPF_IND,
  BPF_LEN,
  BPF_MISC,
  BPF_MSH,
  BPF_MUL,
  BPF_NEG,
  BPF_OR,
  BPF_SUB,
  BPF_TAX,
  BPF_TXA,
  BPF_XOR,
  BPF_B,
  BPF_DIV,
  BPF_H,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_JSET,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_LSH,
  BPF_MAXINSNS,
  BPF_MEM,
  BPF_MEMWORDS,
  BPF_MOD,
  BPF_RET,
  BPF_RSH,
  BPF_ST,
  BPF_STX,
  BPF_W,
  BPF_X,
  EINVAL,
  SKF_AD_OFF,
  SKF_AD_VLAN_TPID,
} from '../uapi.js';
import { reject, type Rejection } from '../verdict.js';
import type { Program, SockFilter } from './insn.js';

/** include/linux/filter.h BPF_ANC = BIT(15): marks an ancillary load in bpf_anc_helper's result. */
export const BPF_ANC = 1 << 15;

/** The rule names bpfCheckBasicsOk, bpfCheckClassic and checkLoadAndStores can return. */
export type CheckRule =
  | 'filter-null'
  | 'len-zero'
  | 'len-too-long'
  | 'code-not-allowed'
  | 'div-by-zero-k'
  | 'shift-k-too-large'
  | 'mem-index-out-of-range'
  | 'ja-out-of-range'
  | 'jump-out-of-range'
  | 'ancillary-k-invalid'
  | 'last-not-ret'
  | 'mem-read-before-write';

/** The kernel line that decides each rule (net/core/filter.c in the 6.6.y tree). */
export const CHECK_RULE_AT: Readonly<Record<CheckRule, string>> = {
  'filter-null': 'net/core/filter.c:1043',
  'len-zero': 'net/core/filter.c:1045',
  'len-too-long': 'net/core/filter.c:1045',
  'code-not-allowed': 'net/core/filter.c:1076',
  'div-by-zero-k': 'net/core/filter.c:1084',
  'shift-k-too-large': 'net/core/filter.c:1089',
  'mem-index-out-of-range': 'net/core/filter.c:1097',
  'ja-out-of-range': 'net/core/filter.c:1105',
  'jump-out-of-range': 'net/core/filter.c:1117',
  'ancillary-k-invalid': 'net/core/filter.c:1128',
  'last-not-ret': 'net/core/filter.c:1134',
  'mem-read-before-write': 'net/core/filter.c:944',
};

const checkReject = (rule: CheckRule, pc: number | null): Rejection =>
  reject(-EINVAL, 'check', rule, pc, CHECK_RULE_AT[rule]);

/** (u32)SKF_AD_OFF = 0xfffff000: the first k of the LD|ABS ancillary window. */
const SKF_AD_OFF_U32 = SKF_AD_OFF >>> 0;
/** (u32)(SKF_AD_OFF + SKF_AD_VLAN_TPID) = 0xfffff03c: the last ancillary k bpf_anc_helper knows. */
const SKF_AD_LAST_U32 = (SKF_AD_OFF + SKF_AD_VLAN_TPID) >>> 0;

// include/linux/filter.h bpf_anc_helper (6.6.y; line UNVERIFIED, the function sits after bpf_needs_clear_a)
/**
 * BPF_ANC | SKF_AD_x when insn is LD|W|ABS, LD|H|ABS or LD|B|ABS and k is exactly
 * (u32)(SKF_AD_OFF + SKF_AD_x) for one of the 16 BPF_ANCILLARY cases (PROTOCOL 0 .. VLAN_TPID 60,
 * all multiples of 4); otherwise insn.code unchanged. The size bits do not matter: all three sizes
 * map the same k to the same extension. Any other code, including LD|ABS with other bits of the u16
 * set, returns the code (the switch is on the full code).
 * The kernel BUG_ONs when code already has BPF_ANC set; here that is API misuse and throws.
 */
export function bpfAncHelper(insn: SockFilter): number {
  const code = insn.code;
  if ((code & BPF_ANC) !== 0) throw new RangeError(`bpf_anc_helper: code 0x${code.toString(16)} has BPF_ANC set (kernel BUG_ON)`);
  if (code === (BPF_LD | BPF_W | BPF_ABS) || code === (BPF_LD | BPF_H | BPF_ABS) || code === (BPF_LD | BPF_B | BPF_ABS)) {
    const k = insn.k >>> 0;
    // The 16 case labels SKF_AD_OFF + {0,4,...,60}, compared against the u32 k.
    if (k >= SKF_AD_OFF_U32 && k <= SKF_AD_LAST_U32 && (k & 3) === 0) return BPF_ANC | (k - SKF_AD_OFF_U32);
  }
  return code;
}

/**
 * True when insn is an ancillary load: LD|ABS of size W, H or B (the three codes bpf_anc_helper
 * switches on) whose k is one of the 16 SKF_AD values. Never throws (a code with BPF_ANC set is
 * simply not an ancillary load).
 */
export function isAncillaryLoad(insn: SockFilter): boolean {
  if ((insn.code & BPF_ANC) !== 0) return false;
  return (bpfAncHelper(insn) & BPF_ANC) !== 0;
}

// net/core/filter.c:976 the codes[] initialisers of chk_code_allowed, in the kernel's order
const CODES_INIT: readonly number[] = [
  // 32 bit ALU operations
  BPF_ALU | BPF_ADD | BPF_K, BPF_ALU | BPF_ADD | BPF_X, BPF_ALU | BPF_SUB | BPF_K, BPF_ALU | BPF_SUB | BPF_X,
  BPF_ALU | BPF_MUL | BPF_K, BPF_ALU | BPF_MUL | BPF_X, BPF_ALU | BPF_DIV | BPF_K, BPF_ALU | BPF_DIV | BPF_X,
  BPF_ALU | BPF_MOD | BPF_K, BPF_ALU | BPF_MOD | BPF_X, BPF_ALU | BPF_AND | BPF_K, BPF_ALU | BPF_AND | BPF_X,
  BPF_ALU | BPF_OR | BPF_K, BPF_ALU | BPF_OR | BPF_X, BPF_ALU | BPF_XOR | BPF_K, BPF_ALU | BPF_XOR | BPF_X,
  BPF_ALU | BPF_LSH | BPF_K, BPF_ALU | BPF_LSH | BPF_X, BPF_ALU | BPF_RSH | BPF_K, BPF_ALU | BPF_RSH | BPF_X,
  BPF_ALU | BPF_NEG,
  // Load instructions
  BPF_LD | BPF_W | BPF_ABS, BPF_LD | BPF_H | BPF_ABS, BPF_LD | BPF_B | BPF_ABS, BPF_LD | BPF_W | BPF_LEN,
  BPF_LD | BPF_W | BPF_IND, BPF_LD | BPF_H | BPF_IND, BPF_LD | BPF_B | BPF_IND, BPF_LD | BPF_IMM,
  BPF_LD | BPF_MEM, BPF_LDX | BPF_W | BPF_LEN, BPF_LDX | BPF_B | BPF_MSH, BPF_LDX | BPF_IMM, BPF_LDX | BPF_MEM,
  // Store instructions
  BPF_ST, BPF_STX,
  // Misc instructions
  BPF_MISC | BPF_TAX, BPF_MISC | BPF_TXA,
  // Return instructions
  BPF_RET | BPF_K, BPF_RET | BPF_A,
  // Jump instructions
  BPF_JMP | BPF_JA, BPF_JMP | BPF_JEQ | BPF_K, BPF_JMP | BPF_JEQ | BPF_X, BPF_JMP | BPF_JGE | BPF_K,
  BPF_JMP | BPF_JGE | BPF_X, BPF_JMP | BPF_JGT | BPF_K, BPF_JMP | BPF_JGT | BPF_X, BPF_JMP | BPF_JSET | BPF_K,
  BPF_JMP | BPF_JSET | BPF_X,
]; // prettier-ignore

/** The 49 codes chk_code_allowed accepts, sorted (for generators and tests). */
export const ALLOWED_CODES: readonly number[] = Object.freeze([...CODES_INIT].sort((a, b) => a - b));

/** static const bool codes[]: ARRAY_SIZE is one past the highest initialiser, BPF_LDX | BPF_B | BPF_MSH = 0xb1. */
const CODES_ARRAY_SIZE = Math.max(...CODES_INIT) + 1;
const CODES: Uint8Array = (() => {
  const table = new Uint8Array(CODES_ARRAY_SIZE);
  for (const code of CODES_INIT) table[code] = 1;
  return table;
})();

// net/core/filter.c:974 chk_code_allowed
/** Whether the full u16 code is in the socket-filter opcode table (code >= 0xb2 is never allowed, :1034). */
export function chkCodeAllowed(code: number): boolean {
  // The kernel indexes codes[] by the u16 code; `>>> 0` sends negative (non-u16) input above the table.
  return (code >>> 0) < CODES_ARRAY_SIZE && CODES[code] === 1;
}

// net/core/filter.c:1040 bpf_check_basics_ok
/**
 * The length rules __get_filter applies (net/core/filter.c:1502) before it copies the program in:
 * filter != NULL and 1 <= flen <= BPF_MAXINSNS. null = fine. `prog === null` models a NULL
 * sock_fprog.filter pointer. (sock_fprog.len is an unsigned short, so a real flen is <= 0xffff.)
 */
export function bpfCheckBasicsOk(prog: Program | null): Rejection | null {
  if (prog === null) return checkReject('filter-null', null);
  if (prog.length === 0) return checkReject('len-zero', null);
  if (prog.length > BPF_MAXINSNS) return checkReject('len-too-long', null);
  return null;
}

// net/core/filter.c:921 check_load_and_stores
/**
 * Rejects a LD|MEM / LDX|MEM whose scratch cell is not written on every path that reaches it, the
 * kernel's way: one forward pass, a u16 memvalid of written cells, and masks[pc] ANDed with the
 * memvalid of every jump that targets pc.
 * - memvalid &= masks[pc] at each pc (:935); ST/STX set bit k (:940); a jump ANDs its memvalid into
 *   its targets' masks and then sets memvalid = ~0 (:951-952, :963-965), so the next pc starts from
 *   its mask alone.
 * - Kernel quirk kept: RET does NOT reset memvalid, so an instruction after a RET inherits the
 *   pre-RET state (ANDed with its mask); code no jump targets keeps masks = 0xffff and inherits
 *   whatever falls through. Dead code can therefore be rejected (`jeq #0,1,0; st M[1]; ret #0;
 *   ld M[1]; ret a` fails at pc 3).
 * Precondition (what bpf_check_classic guarantees before it calls this): every k of a memory insn is
 * < 16 and every jump target is < flen. On an unchecked program the kernel would write out of
 * bounds; the model's typed array ignores such writes instead.
 */
export function checkLoadAndStores(prog: Program): Rejection | null {
  const flen = prog.length;
  const masks = new Uint16Array(flen); // kmalloc_array(flen, sizeof(*masks)) (:929)
  masks.fill(0xffff); // memset(masks, 0xff, flen * sizeof(*masks)) (:932)
  let memvalid = 0; // u16, one bit per cell
  for (let pc = 0; pc < flen; pc++) {
    memvalid &= masks[pc];
    const insn = prog[pc]!;
    switch (insn.code) {
      case BPF_ST:
      case BPF_STX:
        memvalid = (memvalid | (1 << insn.k)) & 0xffff;
        break;
      case BPF_LD | BPF_MEM:
      case BPF_LDX | BPF_MEM:
        if ((memvalid & (1 << insn.k)) === 0) return checkReject('mem-read-before-write', pc);
        break;
      case BPF_JMP | BPF_JA:
        masks[pc + 1 + (insn.k >>> 0)] &= memvalid;
        memvalid = 0xffff; // memvalid = ~0 truncated to u16
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
      case BPF_JMP | BPF_JEQ | BPF_X:
      case BPF_JMP | BPF_JGE | BPF_K:
      case BPF_JMP | BPF_JGE | BPF_X:
      case BPF_JMP | BPF_JGT | BPF_K:
      case BPF_JMP | BPF_JGT | BPF_X:
      case BPF_JMP | BPF_JSET | BPF_K:
      case BPF_JMP | BPF_JSET | BPF_X:
        masks[pc + 1 + insn.jt] &= memvalid;
        masks[pc + 1 + insn.jf] &= memvalid;
        memvalid = 0xffff;
        break;
      default:
        break; // everything else, RET included, leaves memvalid alone
    }
  }
  return null;
}

// net/core/filter.c:1065 bpf_check_classic
/**
 * The whole kernel function: per-instruction checks in pc order, then the last-RET rule, then
 * check_load_and_stores. null = accepted (the kernel returns 0). The length rules are NOT applied
 * here (the kernel runs them earlier, in bpf_check_basics_ok); an empty program is API misuse
 * (the kernel would read filter[-1]) and throws. `config` only matters for its checkShiftK and
 * checkLoadAndStores decisions (flipped by the historical variants shift-k-unchecked and
 * no-check-load-and-stores, model/variants.ts).
 */
export function bpfCheckClassic(prog: Program, config?: KernelConfig): Rejection | null {
  const flen = prog.length;
  if (flen === 0) throw new RangeError('bpf_check_classic needs flen >= 1 (bpf_check_basics_ok rejects flen == 0 first)');
  for (let pc = 0; pc < flen; pc++) {
    const ftest = prog[pc]!;
    const code = ftest.code;
    if (!chkCodeAllowed(code)) return checkReject('code-not-allowed', pc); // :1076
    const k = ftest.k >>> 0;
    switch (code) {
      case BPF_ALU | BPF_DIV | BPF_K:
      case BPF_ALU | BPF_MOD | BPF_K:
        if (k === 0) return checkReject('div-by-zero-k', pc); // :1084
        break;
      case BPF_ALU | BPF_LSH | BPF_K:
      case BPF_ALU | BPF_RSH | BPF_K:
        if (k >= 32 && (config?.checkShiftK ?? true)) return checkReject('shift-k-too-large', pc); // :1089 (KernelConfig.checkShiftK; false in the 3.14 checker)
        break;
      case BPF_LD | BPF_MEM:
      case BPF_LDX | BPF_MEM:
      case BPF_ST:
      case BPF_STX:
        if (k >= BPF_MEMWORDS) return checkReject('mem-index-out-of-range', pc); // :1097
        break;
      case BPF_JMP | BPF_JA:
        // (unsigned int)(flen - pc - 1): never wraps, since pc < flen.
        if (k >= flen - pc - 1) return checkReject('ja-out-of-range', pc); // :1105
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
      case BPF_JMP | BPF_JEQ | BPF_X:
      case BPF_JMP | BPF_JGE | BPF_K:
      case BPF_JMP | BPF_JGE | BPF_X:
      case BPF_JMP | BPF_JGT | BPF_K:
      case BPF_JMP | BPF_JGT | BPF_X:
      case BPF_JMP | BPF_JSET | BPF_K:
      case BPF_JMP | BPF_JSET | BPF_X:
        if (pc + ftest.jt + 1 >= flen || pc + ftest.jf + 1 >= flen) return checkReject('jump-out-of-range', pc); // :1117
        break;
      case BPF_LD | BPF_W | BPF_ABS:
      case BPF_LD | BPF_H | BPF_ABS:
      case BPF_LD | BPF_B | BPF_ABS:
        // anc_found = bpf_anc_helper(ftest) & BPF_ANC; the compare k >= SKF_AD_OFF is unsigned (:1125-1128).
        if ((bpfAncHelper(ftest) & BPF_ANC) === 0 && k >= SKF_AD_OFF_U32) return checkReject('ancillary-k-invalid', pc);
        break;
      default:
        break;
    }
  }
  const last = prog[flen - 1]!.code;
  if (last !== (BPF_RET | BPF_K) && last !== (BPF_RET | BPF_A)) return checkReject('last-not-ret', flen - 1); // :1134, return -EINVAL at :1140
  if (config !== undefined && !config.checkLoadAndStores) return null; // KernelConfig.checkLoadAndStores: the pre-2010 checker stops here
  return checkLoadAndStores(prog); // :1137
}
