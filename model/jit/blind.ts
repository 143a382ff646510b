// Constant blinding: with net.core.bpf_jit_harden set, the JIT compiles a clone of the program in which
// every instruction with a user-chosen 32-bit constant is rewritten so the constant never appears in
// the image: `mov ax, rnd ^ imm; xor ax, rnd; op dst, ax` (kernel/bpf/core.c bpf_jit_blind_constants).
// The clone has more instructions, and when the JIT succeeds it replaces the program: fp->len, and so
// what __sk_filter_charge charges the socket (bpf_prog_size(fp->len)), and seccomp's path length, are
// the blinded count. Whether a program is blinded is decided when it is allocated
// (bpf_prog_alloc_no_stats: fp->blinding_requested = bpf_jit_blinding_enabled(fp)).
//
// Lines: kernel/bpf/core.c of the 6.6.y tree eclipse-oniro-mirrors/kernel_linux_6.6 @ 79226fb0ba80;
// include/linux/filter.h of that repository @ 31c8f21f4c95 (the copy the index holds).
// The v6.18.35 tree (model/jit/facts.ts) has the same code for everything a migrated classic program
// contains (it adds only BPF_ST | BPF_PROBE_MEM32, an arena store, to bpf_jit_blind_insn), and its
// bpf_jit_blinding_enabled asks bpf_token_capable(prog->aux->token, CAP_BPF), which for a program
// without a token (aux->token is NULL at allocation) is capable(CAP_BPF) || capable(CAP_SYS_ADMIN),
// exactly 6.6's bpf_capable().
import { BPF_ADD, BPF_AND, BPF_DIV, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JSET, BPF_K, BPF_LD, BPF_LSH, BPF_MEM, BPF_MOD, BPF_MUL, BPF_OR, BPF_ST, BPF_SUB, BPF_XOR, ERANGE, bpfClass, bpfOp } from '../uapi.js';
import {
  BPF_ALU64,
  BPF_CALL,
  BPF_DW,
  BPF_EXIT,
  BPF_JLE,
  BPF_JLT,
  BPF_JMP32,
  BPF_JNE,
  BPF_JSGE,
  BPF_JSGT,
  BPF_JSLE,
  BPF_JSLT,
  BPF_MOV,
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  BPF_REG_AX,
  type BpfInsn,
  bpfAlu32Imm,
  bpfAlu32RegOff,
  bpfAlu64Imm,
  bpfAlu64Reg,
  bpfAlu64RegOff,
  bpfJmp32Reg,
  bpfJmpReg,
  bpfStxMem,
  bpfZextReg,
} from '../ebpf/insn.js';

const BPF_ALU = 0x04;
const BPF_JMP = 0x05;
const BPF_IMM = 0x00;
const S16_MIN = -0x8000;
const S16_MAX = 0x7fff;
const S32_MIN = -0x80000000;
const S32_MAX = 0x7fffffff;

/**
 * get_random_u32() as the model draws it: one u32 per instruction bpf_jit_blind_insn looks at. The
 * kernel's values are unpredictable; the blinded program's instruction count does not depend on them,
 * the JIT's lengths do (the sign of a 64-bit `mov ax, rnd ^ imm` picks a 7- or 6-byte encoding, a
 * `xor ax, rnd` within [-128, 127] the 4-byte one), so a verdict the x86-64 JIT model gives for a
 * blinded program is exact for the draws it was given (model/jit/x86.ts).
 */
export type BlindingRandom = () => number;

/** A fixed stream of u32 draws (xorshift32 from `seed`): deterministic, for the model's default and for tests. */
export function blindingRandom(seed = 0x2545f491): BlindingRandom {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** Who asks for blinding: the sysctl, the JIT's request and the allocating task's capabilities. */
export interface BlindingInputs {
  /** bpf_jit_is_ebpf(): CONFIG_BPF_JIT and an architecture with an eBPF JIT (every one the model knows) */
  readonly ebpfJit?: boolean;
  /** fp->jit_requested (ebpf_jit_enabled() at allocation) */
  readonly jitRequested: boolean;
  /** net.core.bpf_jit_harden (0, 1 or 2) */
  readonly bpfJitHarden: number;
  /** bpf_capable() of the allocating task: CAP_BPF or CAP_SYS_ADMIN in the initial user namespace */
  readonly bpfCapable: boolean;
}

// include/linux/filter.h:1099 bpf_jit_blinding_enabled
/**
 * Whether a program allocated now will be blinded: the JIT must be an eBPF JIT and requested, the
 * sysctl set, and with bpf_jit_harden 1 only for a task that is not bpf_capable(). Called from
 * bpf_prog_alloc_no_stats (kernel/bpf/core.c:118), so the sysctl's value when the program is allocated
 * counts, not when it is compiled.
 */
export function bpfJitBlindingEnabled(p: BlindingInputs): boolean {
  if (p.ebpfJit === false) return false;
  if (!p.jitRequested) return false;
  if (!p.bpfJitHarden) return false;
  if (p.bpfJitHarden === 1 && p.bpfCapable) return false;
  return true;
}

const ALU_K_BLINDED = new Set([BPF_ADD, BPF_SUB, BPF_AND, BPF_OR, BPF_XOR, BPF_MUL, BPF_MOV, BPF_DIV, BPF_MOD]);
const JMP_K_BLINDED = new Set([BPF_JEQ, BPF_JNE, BPF_JGT, BPF_JLT, BPF_JGE, BPF_JLE, BPF_JSGT, BPF_JSLT, BPF_JSGE, BPF_JSLE, BPF_JSET]);

// kernel/bpf/core.c:1251 bpf_jit_blind_insn
/**
 * The rewrite of one instruction (empty: left as it is). `aux` holds the two halves of the last
 * BPF_LD | BPF_IMM | BPF_DW seen, `rnd` is this instruction's get_random_u32(), drawn for every
 * instruction, rewritten or not. `emitZext` is clone->aux->verifier_zext (false for classic programs).
 * With `aux` null a 64-bit immediate load or a code-0 insn cannot be rewritten (the kernel's aux[] would
 * be uninitialised stack): a migrated classic program contains neither, so it is not modelled.
 */
export function bpfJitBlindInsn(from: BpfInsn, aux: readonly [BpfInsn, BpfInsn] | null, rnd: number, emitZext = false): BpfInsn[] {
  const to: BpfInsn[] = [];
  const immRnd = rnd | 0;
  // :1280 AX is the JIT's own register: an instruction that names it is left alone
  if (from.dst === BPF_REG_AX || from.src === BPF_REG_AX) return to;
  // :1283 moving 0: xor the register with itself, no constant at all
  if (from.imm === 0 && (from.code === (BPF_ALU | BPF_MOV | BPF_K) || from.code === (BPF_ALU64 | BPF_MOV | BPF_K))) {
    to.push(bpfAlu64Reg(BPF_XOR, from.dst, from.dst));
    return to;
  }
  const cls = bpfClass(from.code);
  const op = bpfOp(from.code);
  const k = (from.code & 0x08) === BPF_K;
  if (cls === BPF_ALU && k && ALU_K_BLINDED.has(op)) {
    // :1291 32-bit ALU with an immediate (shifts, NEG and END keep theirs)
    to.push(bpfAlu32Imm(BPF_MOV, BPF_REG_AX, immRnd ^ from.imm));
    to.push(bpfAlu32Imm(BPF_XOR, BPF_REG_AX, immRnd));
    to.push(bpfAlu32RegOff(from.code, from.dst, BPF_REG_AX, from.off));
  } else if (cls === BPF_ALU64 && k && ALU_K_BLINDED.has(op)) {
    // :1305
    to.push(bpfAlu64Imm(BPF_MOV, BPF_REG_AX, immRnd ^ from.imm));
    to.push(bpfAlu64Imm(BPF_XOR, BPF_REG_AX, immRnd));
    to.push(bpfAlu64RegOff(from.code, from.dst, BPF_REG_AX, from.off));
  } else if ((cls === BPF_JMP || cls === BPF_JMP32) && k && JMP_K_BLINDED.has(op)) {
    // :1319 / :1339 conditional jumps with an immediate; a backward jump now starts 2 insns later
    let off = from.off;
    if (off < 0) off -= 2;
    off = (off << 16) >> 16; // s16 off
    if (cls === BPF_JMP) {
      to.push(bpfAlu64Imm(BPF_MOV, BPF_REG_AX, immRnd ^ from.imm));
      to.push(bpfAlu64Imm(BPF_XOR, BPF_REG_AX, immRnd));
      to.push(bpfJmpReg(from.code, from.dst, BPF_REG_AX, off));
    } else {
      to.push(bpfAlu32Imm(BPF_MOV, BPF_REG_AX, immRnd ^ from.imm));
      to.push(bpfAlu32Imm(BPF_XOR, BPF_REG_AX, immRnd));
      to.push(bpfJmp32Reg(from.code, from.dst, BPF_REG_AX, off));
    }
  } else if (from.code === (BPF_LD | BPF_IMM | BPF_DW)) {
    // :1360 first half of a 64-bit immediate load: the high word into AX, shifted
    const a = aux!;
    to.push(bpfAlu64Imm(BPF_MOV, BPF_REG_AX, immRnd ^ a[1].imm));
    to.push(bpfAlu64Imm(BPF_XOR, BPF_REG_AX, immRnd));
    to.push(bpfAlu64Imm(BPF_LSH, BPF_REG_AX, 32));
    to.push(bpfAlu64Reg(BPF_MOV, a[0].dst, BPF_REG_AX));
  } else if (from.code === 0) {
    // :1366 second half: the low word or-ed in
    const a = aux!;
    to.push(bpfAlu32Imm(BPF_MOV, BPF_REG_AX, immRnd ^ a[0].imm));
    to.push(bpfAlu32Imm(BPF_XOR, BPF_REG_AX, immRnd));
    if (emitZext) to.push(bpfZextReg(BPF_REG_AX));
    to.push(bpfAlu64Reg(BPF_OR, a[0].dst, BPF_REG_AX));
  } else if (cls === BPF_ST && (from.code & 0xe0) === BPF_MEM) {
    // :1374 stores of an immediate, any size (BPF_B, BPF_H, BPF_W, BPF_DW)
    to.push(bpfAlu64Imm(BPF_MOV, BPF_REG_AX, immRnd ^ from.imm));
    to.push(bpfAlu64Imm(BPF_XOR, BPF_REG_AX, immRnd));
    to.push(bpfStxMem(from.code & 0x18, from.dst, BPF_REG_AX, from.off));
  }
  return to;
}

/** include/linux/filter.h bpf_pseudo_func: a 64-bit immediate load of a subprogram's address. */
const bpfPseudoFunc = (insn: BpfInsn): boolean => insn.code === (BPF_LD | BPF_IMM | BPF_DW) && insn.src === BPF_PSEUDO_FUNC;

// kernel/bpf/core.c:354 bpf_adj_delta_to_imm
function bpfAdjDeltaToImm(insn: BpfInsn, pos: number, endOld: number, endNew: number, curr: number): BpfInsn | null {
  const delta = endNew - endOld;
  let imm = insn.imm;
  if (curr < pos && curr + imm + 1 >= endOld) imm += delta;
  else if (curr >= endNew && curr + imm + 1 < endNew) imm -= delta;
  if (imm < S32_MIN || imm > S32_MAX) return null; // -ERANGE
  return imm === insn.imm ? insn : { ...insn, imm };
}

// kernel/bpf/core.c:372 bpf_adj_delta_to_off
/** The jump's adjusted offset, or null for -ERANGE (an offset past s16, or s32 for JMP32 | JA). */
function bpfAdjDeltaToOff(insn: BpfInsn, pos: number, endOld: number, endNew: number, curr: number): BpfInsn | null {
  const delta = endNew - endOld;
  const ja32 = insn.code === (BPF_JMP32 | 0x00);
  let off = ja32 ? insn.imm : insn.off;
  const [offMin, offMax] = ja32 ? [S32_MIN, S32_MAX] : [S16_MIN, S16_MAX];
  if (curr < pos && curr + off + 1 >= endOld) off += delta;
  else if (curr >= endNew && curr + off + 1 < endNew) off -= delta;
  if (off < offMin || off > offMax) return null;
  if (ja32) return off === insn.imm ? insn : { ...insn, imm: off };
  return off === insn.off ? insn : { ...insn, off };
}

// kernel/bpf/core.c:403 bpf_adj_branches
/**
 * Move every jump that crosses the patched range [pos, endOld) -> [pos, endNew). With `probe`, the
 * program is still the unpatched one and indices at and after the patch are counted as if it were
 * in place (the patchlet itself is skipped); nothing is written. Returns the adjusted program (or the
 * input, when probing), or null for -ERANGE.
 */
function bpfAdjBranches(insns: BpfInsn[], pos: number, endOld: number, endNew: number, probe: boolean): BpfInsn[] | null {
  const insnCnt = insns.length + (probe ? endNew - endOld : 0);
  let p = 0; // the insn pointer, in the unpatched program when probing
  for (let i = 0; i < insnCnt; i++, p++) {
    if (probe && i === pos) {
      i = endNew;
      p = endOld;
    }
    // patching the last insn: the kernel reads the slot past the program here, zeroed at allocation
    // (__GFP_ZERO) and never written since, so no jump
    if (i >= insnCnt) break;
    const insn = insns[p]!;
    let adjusted: BpfInsn | null;
    if (bpfPseudoFunc(insn)) adjusted = bpfAdjDeltaToImm(insn, pos, endOld, endNew, i);
    else {
      const cls = bpfClass(insn.code);
      if ((cls !== BPF_JMP && cls !== BPF_JMP32) || bpfOp(insn.code) === BPF_EXIT) continue;
      if (bpfOp(insn.code) !== BPF_CALL) adjusted = bpfAdjDeltaToOff(insn, pos, endOld, endNew, i);
      else if (insn.src === BPF_PSEUDO_CALL) adjusted = bpfAdjDeltaToImm(insn, pos, endOld, endNew, i);
      else continue;
    }
    // -ERANGE: the kernel returns at once for a pseudo-func, breaks out for a jump; the same error
    if (adjusted === null) return null;
    if (!probe) insns[p] = adjusted;
  }
  return insns;
}

// kernel/bpf/core.c:470 bpf_patch_insn_single
/**
 * Replace insn `off` with `patch` (in place, on a copy the caller owns). A program that grows past
 * S16_MAX instructions is first probed for jumps the growth would push out of range (-ERANGE: null).
 * The reallocation's -ENOMEM is not modelled.
 */
export function bpfPatchInsnSingle(insns: BpfInsn[], off: number, patch: readonly BpfInsn[]): BpfInsn[] | null {
  const len = patch.length;
  const insnDelta = len - 1;
  // :479 the patchlet does not expand the image
  if (insnDelta === 0) {
    insns[off] = patch[0]!;
    return insns;
  }
  const insnAdjCnt = insns.length + insnDelta;
  // :491 probe before anything is changed
  if (insnAdjCnt > S16_MAX && bpfAdjBranches(insns, off, off + 1, off + len, true) === null) return null;
  insns.splice(off, 1, ...patch);
  // :524 BUG_ON(bpf_adj_branches(...)): below S16_MAX insns no offset can overflow
  if (bpfAdjBranches(insns, off, off + 1, off + len, false) === null) throw new Error('BUG_ON: bpf_adj_branches failed after bpf_patch_insn_single');
  return insns;
}

/**
 * The blinded clone, with the original index of each of its instructions (`from`, model bookkeeping:
 * a JIT failure in the clone is reported at the instruction it came from), or why blinding failed (the
 * JIT then compiles nothing and returns the original).
 */
export type BlindResult = { readonly insns: BpfInsn[]; readonly from: Int32Array | null } | { readonly errno: number };

// kernel/bpf/core.c:1429 bpf_jit_blind_constants
/**
 * The clone the JIT compiles when fp->blinding_requested (and the program is not blinded already):
 * every instruction is offered to bpf_jit_blind_insn in turn, rewrites are patched in with
 * bpf_patch_insn_single and the walk continues after them. Returns the original instructions (the
 * same array) when blinding is not requested, or -ERANGE when a patch would push a jump out of range.
 * -ENOMEM of the clone is not modelled.
 */
export function bpfJitBlindConstants(prog: readonly BpfInsn[], blindingRequested: boolean, rnd: BlindingRandom = blindingRandom(), emitZext = false): BlindResult {
  if (!blindingRequested) return { insns: prog as BpfInsn[], from: null };
  let clone: BpfInsn[] = prog.slice();
  const from: number[] = prog.map((_, k) => k);
  let insnCnt = clone.length;
  let aux: [BpfInsn, BpfInsn] | null = null;
  for (let i = 0; i < insnCnt; i++) {
    const insn = clone[i]!;
    if (bpfPseudoFunc(insn)) {
      // :1448 the address of a subprogram is not a user constant: skip both halves
      i++;
      continue;
    }
    // :1462 keep the two halves of a 64-bit immediate load for the second rewrite
    if (insn.code === (BPF_LD | BPF_IMM | BPF_DW) && clone[i + 1]?.code === 0) aux = [insn, clone[i + 1]!];
    const patch = bpfJitBlindInsn(insn, aux, rnd(), emitZext);
    if (patch.length === 0) continue;
    const tmp = bpfPatchInsnSingle(clone, i, patch);
    if (tmp === null) return { errno: -ERANGE };
    clone = tmp;
    const insnDelta = patch.length - 1;
    from.splice(i, 1, ...patch.map(() => from[i]!));
    // :1484 walk the new program, skipping what was just inserted
    insnCnt += insnDelta;
    i += insnDelta;
  }
  return { insns: clone, from: Int32Array.from(from) };
}

/** Model helper: how many instructions blinding adds to `prog` (independent of the random draws). */
export const blindedLength = (prog: readonly BpfInsn[]): number | null => {
  const r = bpfJitBlindConstants(prog, true, () => 0x5a5a5a5a);
  return 'insns' in r ? r.insns.length : null;
};
