// `bpfspec check FILE`: the kernel's verdict on a classic program.
import { bpfCheckFilter } from '../../model/attach.js';
import type { Program } from '../../model/cbpf/insn.js';
import type { KernelConfig } from '../../model/kernel.js';
import { errnoName } from '../../model/uapi.js';
import type { Rejection } from '../../model/verdict.js';

/** The attach-path checks, in the kernel's order: __get_filter's length rules, then bpf_check_classic. */
export function checkVerdict(prog: Program, config?: KernelConfig): Rejection | null {
  return bpfCheckFilter(prog, config);
}

/** The JSON shape of a verdict used by every command: errno positive, 0 when accepted. */
export function verdictJson(r: Rejection | null): { errno: number; name: string | null; stage: string | null; rule: string | null; pc: number | null; at: string | null } {
  if (r === null) return { errno: 0, name: null, stage: null, rule: null, pc: null, at: null };
  return { errno: -r.errno, name: errnoName(r.errno), stage: r.stage, rule: r.rule, pc: r.pc, at: r.at };
}

/** One line: `accepted (N instructions)` or `rejected: -EINVAL rule at pc N (file:line)`. */
export function verdictText(prog: Program, r: Rejection | null): string {
  if (r === null) return `accepted (${prog.length} instruction${prog.length === 1 ? '' : 's'})`;
  const where = r.pc === null ? '' : ` at pc ${r.pc}`;
  return `rejected: -${errnoName(r.errno)} ${r.rule}${where} (${r.at}, stage ${r.stage})`;
}
