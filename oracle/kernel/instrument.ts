// Instrumented copies of a program: the live kernel shows only min(len, result) of a filter's
// result (sk_filter_trim_cap, net/core/filter.c:157: 0 drops, else pskb_trim(skb, max(1, result))),
// so the oracle runs copies whose exits return chosen bits of the result instead. Every rewrite is
// one instruction for one (no jump offset moves); the code they jump to is appended at the end
// (appending moves no existing jump target either).
//
//   RET K                        -> RET ((K >> s) & mask)                       (folded)
//   RET A                        -> JA E0;  E0: rsh #s; and #mask; ret a
//   LD [SKF_AD_IFINDEX/HATYPE]   -> JA Ei;  Ei: rsh #s; and #mask; <the same load>; ret #SENTINEL
//
// The last line is there because of a kernel path that returns without a RET: with skb->dev NULL
// (every AF_UNIX datagram) the migrated program exits with the current A at those loads
// (net/core/filter.c:372-386 convert_bpf_extensions: `if (dev == NULL) exit`). The copy therefore
// shapes A first and then executes the real load: if the kernel exits there it returns the field;
// if it does not, the copy returns SENTINEL, which the decoder recognises and reports. Every other
// exit of a migrated program returns 0 (failed packet load F:541, division by X == 0 F:680), whose
// fields are all 0, consistent with any shift.
import type { Program, SockFilter } from '../../model/cbpf/insn.js';
import { ancillaryK, BPF_MAXINSNS, SKF_AD_HATYPE, SKF_AD_IFINDEX, SKF_AD_RANDOM } from '../../model/uapi.js';

export const SENTINEL = 0xffffffff;

const RET_K = 0x06;
const RET_A = 0x16;
const JA = 0x05;
const RSH_K = 0x74;
const AND_K = 0x54;
const JEQ_K = 0x15;
const LD_IMM = 0x00;
const LD_ABS = new Set([0x20, 0x28, 0x30]);
const DEV_K = new Set([ancillaryK(SKF_AD_IFINDEX), ancillaryK(SKF_AD_HATYPE)]);
const RANDOM_K = ancillaryK(SKF_AD_RANDOM);

const stmt = (code: number, k: number): SockFilter => ({ code, jt: 0, jf: 0, k: k >>> 0 });

/** Whether the program has an ld [SKF_AD_IFINDEX] / [SKF_AD_HATYPE] (an exit without RET when dev is NULL). */
export const hasDevExit = (prog: Program): boolean => prog.some((i) => LD_ABS.has(i.code) && DEV_K.has(i.k >>> 0));

/** Whether the program loads SKF_AD_RANDOM (its results are not reproducible). */
export function loadsRandom(prog: Program): boolean {
  for (let pc = 0; pc < prog.length; pc++) {
    const i = prog[pc]!;
    if (i.k >>> 0 === RANDOM_K && (i.code === 0x20 || i.code === 0x28 || i.code === 0x30)) return true;
  }
  return false;
}

/** The field mask of a `width`-bit field. */
export const fieldMask = (width: number): number => (width >= 32 ? 0xffffffff : ((1 << width) >>> 0) - 1);

/**
 * How many bits a variant may return for a packet of `len` bytes so that the received length names
 * the field exactly: results 1..len-1 arrive trimmed to themselves, 0 is dropped, len arrives whole;
 * a zero-length datagram still tells dropped (0) from delivered (>= 1). With `sentinel`, len itself
 * must stay free to mean SENTINEL, so fields stay below len.
 */
export function fieldWidth(len: number, sentinel: boolean): number {
  const maxField = sentinel ? len - 1 : Math.max(len, 1);
  if (maxField < 1) return 0;
  return Math.min(32, Math.floor(Math.log2(maxField + 1)));
}

/** One instrumented copy: returns bits [shift, shift + width) of the result. */
export interface Variant {
  readonly shift: number;
  readonly width: number;
  readonly prog: Program;
}

/** The fields (shift, width) that cover all 32 bits with fields of at most `width` bits. */
export function fields(width: number): { shift: number; width: number }[] {
  if (width < 1) throw new RangeError(`fields: width ${width} < 1`);
  const out: { shift: number; width: number }[] = [];
  for (let s = 0; s < 32; s += width) out.push({ shift: s, width: Math.min(width, 32 - s) });
  return out;
}

/** The copy of `prog` that returns (result >> shift) & mask(width); null when it would exceed BPF_MAXINSNS. */
export function instrument(prog: Program, shift: number, width: number): Program | null {
  const mask = fieldMask(width);
  const shape: SockFilter[] = [];
  if (shift > 0) shape.push(stmt(RSH_K, shift));
  if (shift + width < 32) shape.push(stmt(AND_K, mask));
  return rewriteExits(
    prog,
    (k) => ((k >>> 0) >>> shift) & mask,
    () => [...shape, stmt(RET_A, 0)],
    (_at, code, k) => [...shape, stmt(code, k), stmt(RET_K, SENTINEL)],
  );
}

/**
 * The copy of `prog` with its exits rewritten, as instrument() and confirmCopyOf() rewrite them: each
 * RET K returns retK(K); every RET A jumps to one shared tail (retA); each distinct ld
 * [ifindex]/[hatype] (an exit with the current A when skb->dev is NULL) jumps to a tail of its own
 * (devLoad, given where that tail starts, must execute the load itself). Tails go after the program,
 * in order of first use; null when the copy would exceed BPF_MAXINSNS.
 */
function rewriteExits(
  prog: Program,
  retK: (k: number) => number,
  retA: () => SockFilter[],
  devLoad: (at: number, code: number, k: number) => SockFilter[],
): Program | null {
  const n = prog.length;
  const out: SockFilter[] = prog.slice();
  const tail: SockFilter[] = [];
  let e = -1;
  const devTails = new Map<string, number>();
  for (let pc = 0; pc < n; pc++) {
    const insn = prog[pc]!;
    if (insn.code === RET_K) out[pc] = stmt(RET_K, retK(insn.k));
    else if (insn.code === RET_A) {
      if (e < 0) {
        e = n + tail.length;
        tail.push(...retA());
      }
      out[pc] = stmt(JA, e - pc - 1);
    } else if (LD_ABS.has(insn.code) && DEV_K.has(insn.k >>> 0)) {
      const key = `${insn.code}:${insn.k >>> 0}`;
      let at = devTails.get(key);
      if (at === undefined) {
        at = n + tail.length;
        devTails.set(key, at);
        tail.push(...devLoad(at, insn.code, insn.k));
      }
      out[pc] = stmt(JA, at - pc - 1);
    }
  }
  if (n + tail.length > BPF_MAXINSNS) return null;
  return tail.length === 0 ? out : [...out, ...tail];
}

/** What one variant's observation says about its field. */
export type FieldReading = { readonly field: number } | { readonly sentinel: true } | { readonly sendErrno: number };

/**
 * Read a variant's field from what arrived of a `len`-byte packet: -1 dropped (field 0), n < len
 * (field n), len (field len, or SENTINEL when fields stay below len), or a send error.
 */
export function readField(obs: number, len: number, sentinel: boolean): FieldReading {
  if (obs <= -1000) return { sendErrno: -1000 - obs };
  if (obs < 0) return { field: 0 };
  if (len === 0) return { field: 1 };
  if (obs < len) return { field: obs };
  return sentinel ? { sentinel: true } : { field: len };
}

/**
 * The confirmation copy of `prog` for an expected result `q` (the model's prediction): every exit
 * returns 1 when the result equals q and 0 otherwise, so one attach tells, for every packet expected
 * to give q, whether the kernel agrees (delivered) or not (dropped), whatever the packet's length.
 * confirmCopyOf(prog, [q]).
 */
export function confirmCopy(prog: Program, q: number): Program | null {
  return confirmCopyOf(prog, [q]);
}

/**
 * The confirmation copy of `prog` for distinct expected results `qs` (code j + 1 for qs[j]): every
 * exit returns j + 1 when the result equals qs[j] and 0 when it equals none of them, so one attach
 * tests several expected values at once (which packets it settles: planConfirms).
 *
 *   RET K                        -> RET (code of K, or 0)                     (folded)
 *   RET A                        -> JA E;  E: jeq #qs[0], 0, 1; ret #1; jeq #qs[1], 0, 1; ret #2; ...; ret #0
 *   LD [SKF_AD_IFINDEX/HATYPE]   -> JA Di; Di: jeq #qs[0], 0, 2; ld #1; ja L; ...; ld #0; L: <the same load>; ret #0
 *
 * The last line is instrument()'s: with skb->dev NULL the migrated program exits there with the
 * current A, so the copy turns A into its code first and then executes the real load; should the
 * kernel not exit there, the copy returns 0 ("none": the caller reads the bits, and the field copies
 * report it). The other exits of a migrated program (a failed packet load, division by X == 0) return
 * 0, read as "none"; no q is ever 0 here (they are only asked for packets that arrived, result >= 1).
 * Null when the copy would exceed BPF_MAXINSNS.
 */
export function confirmCopyOf(prog: Program, qs: readonly number[]): Program | null {
  const want = qs.map((q) => q >>> 0);
  return rewriteExits(
    prog,
    (k) => want.indexOf(k >>> 0) + 1,
    () => [...want.flatMap((q, j) => [{ code: JEQ_K, jt: 0, jf: 1, k: q }, stmt(RET_K, j + 1)]), stmt(RET_K, 0)],
    (at, code, k) => {
      const load = at + 3 * want.length + 1;
      const chain = want.flatMap((q, j) => [{ code: JEQ_K, jt: 0, jf: 2, k: q }, stmt(LD_IMM, j + 1), stmt(JA, load - (at + 3 * j + 2) - 1)]);
      return [...chain, stmt(LD_IMM, 0), stmt(code, k), stmt(RET_K, 0)];
    },
  );
}

/**
 * Which expected values share a confirmation copy. A packet of `len` bytes shows min(L, code) of the
 * code its copy returns (L = max(len, 1): 1..len-1 arrive trimmed to themselves, 0 is dropped, len
 * or more arrive whole, and an empty datagram tells only delivered from dropped), so a packet
 * expecting q is settled by a copy of m codes when q's code c is below L (it shows c exactly when the
 * result is q), or when c == m == L (only the last code shows L). `minLen` is, per expected value,
 * the least L of the packets expecting it. The values are taken by ascending L (ties: by value) and
 * given codes 1, 2, ... in one copy while they fit; each list returned is one copy's qs, in code order.
 */
export function planConfirms(minLen: ReadonlyMap<number, number>, maxCodes = 64): number[][] {
  const order = [...minLen].sort((a, b) => a[1] - b[1] || a[0] - b[0]);
  const copies: number[][] = [];
  let cur: number[] = [];
  for (const [q, l] of order) {
    if (cur.length + 1 > l || cur.length >= maxCodes) {
      copies.push(cur);
      cur = [];
    }
    cur.push(q);
    // code == L: it must be the copy's last
    if (cur.length === l) {
      copies.push(cur);
      cur = [];
    }
  }
  if (cur.length > 0) copies.push(cur);
  return copies;
}

/**
 * What a packet of `len` bytes shows of the code its confirmation copy returned: min(max(len, 1),
 * code), with 0 for dropped (obs -1) and null for a failed send (obs <= -1000).
 */
export function shownCode(obs: number, len: number): number | null {
  if (obs <= -1000) return null;
  if (obs < 0) return 0;
  return len === 0 ? 1 : obs;
}
