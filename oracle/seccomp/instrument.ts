// Instrumented copies of a seccomp filter that show its exact 32-bit result through seccomp itself:
// every exit returns SECCOMP_RET_TRAP with 16 bits of the result as data, which the kernel hands to
// the SIGSYS handler as si_errno (force_sig_seccomp, kernel/signal.c:1858). Two copies (low and high
// half) read the whole u32. Rewrites are one instruction for one (no jump moves); the shaping code for
// RET A is appended at the end (appending moves no jump target either), as oracle/kernel/instrument.ts
// does for sockets.
//
//   RET K   -> RET (TRAP | ((K >> s) & 0xffff))               (folded)
//   RET A   -> JA E;  E: [rsh #16]; and #0xffff; or #TRAP; ret a
//
// A migrated seccomp program has one other exit: DIV X with X == 0 returns 0 (net/core/filter.c:680),
// SECCOMP_RET_KILL_THREAD, which kills the single-threaded child by SIGSYS without a handler: read as 0.
import type { Program, SockFilter } from '../../model/cbpf/insn.js';
import { BPF_MAXINSNS } from '../../model/uapi.js';
import { SECCOMP_RET_TRAP } from '../../model/seccomp/uapi.js';

const RET_K = 0x06;
const RET_A = 0x16;
const JA = 0x05;
const RSH_K = 0x74;
const AND_K = 0x54;
const OR_K = 0x44;
const stmt = (code: number, k: number): SockFilter => ({ code, jt: 0, jf: 0, k: k >>> 0 });

/** The copy of `prog` whose every exit traps with the low (shift 0) or high (shift 16) half of the result as data. */
export function trapCopy(prog: Program, shift: 0 | 16): Program | null {
  const n = prog.length;
  const out: SockFilter[] = prog.slice();
  let e = -1;
  for (let pc = 0; pc < n; pc++) {
    const insn = prog[pc]!;
    if (insn.code === RET_K) out[pc] = stmt(RET_K, (SECCOMP_RET_TRAP | (((insn.k >>> 0) >>> shift) & 0xffff)) >>> 0);
    else if (insn.code === RET_A) {
      if (e < 0) e = n;
      out[pc] = stmt(JA, e - pc - 1);
    }
  }
  if (e < 0) return out;
  const tail = shift === 16 ? [stmt(RSH_K, 16), stmt(OR_K, SECCOMP_RET_TRAP), stmt(RET_A, 0)] : [stmt(AND_K, 0xffff), stmt(OR_K, SECCOMP_RET_TRAP), stmt(RET_A, 0)];
  if (n + tail.length > BPF_MAXINSNS) return null;
  return [...out, ...tail];
}
