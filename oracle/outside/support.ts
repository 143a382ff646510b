// Support claims shared by the outside judges: what a classic program uses that an implementation
// may not implement. Each judge states its own claim with its source lines (oracle/<name>/judge.ts).
import type { Program } from '../../model/cbpf/insn.js';
import { ANCILLARY, SKF_AD_OFF } from '../../model/uapi.js';

const LD_ABS = new Set([0x20, 0x28, 0x30]);
const ANC_NAME: ReadonlyMap<number, string> = new Map(ANCILLARY.map((a) => [(SKF_AD_OFF + a.ad) >>> 0, a.macro]));

/** The first LD ABS of one of Linux's 16 SKF_AD_* ancillary offsets: its pc and macro, or null. */
export function firstAncillary(prog: Program): { pc: number; macro: string } | null {
  for (let pc = 0; pc < prog.length; pc++) {
    const i = prog[pc]!;
    if (!LD_ABS.has(i.code)) continue;
    const m = ANC_NAME.get(i.k >>> 0);
    if (m !== undefined) return { pc, macro: m };
  }
  return null;
}

/** The first instruction with this code, or -1. */
export function firstCode(prog: Program, code: number): number {
  for (let pc = 0; pc < prog.length; pc++) if (prog[pc]!.code === code) return pc;
  return -1;
}
