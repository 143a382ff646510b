// The side-by-side report of one case: each classic step next to the eBPF instructions it became,
// A and X beside r0 and r7, and the first point where the two runs part.
import { compileClassic, ClassicVm, type ClassicStep } from '../model/cbpf/eval.js';
import type { Program } from '../model/cbpf/insn.js';
import type { KernelConfig } from '../model/config.js';
import type { EbpfStep } from '../model/ebpf/interp.js';
import type { Env, SkBuff } from '../model/skb.js';
import { KernelJudge } from '../fuzz/judges.js';
import { ebpfLine } from './commands/migrate.js';
import { bpfImage } from './formats/tcpdump.js';

const h32 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');
const reg = (s: EbpfStep, r: number): string => `${s.regs[2 * r + 1]!.toString(16).padStart(8, '0')}${h32(s.regs[2 * r]!)}`;

/** The report as lines. Works for any accepted program; says so when the kernel path rejects it. */
export function sideBySide(prog: Program, skb: SkBuff, env: Env, config: KernelConfig): string[] {
  const out: string[] = [];
  const ctrace: ClassicStep[] = [];
  const vm = new ClassicVm(config);
  const c = vm.run(compileClassic(prog), skb, env, ctrace);
  const kernel = new KernelJudge(config);
  const kv = kernel.load(prog);
  if (kv !== null) {
    out.push(`kernel path rejects the program: ${kv.errno} ${kv.stage}/${kv.rule} at pc ${kv.pc} (${kv.at}); classic result ${c}`);
    return out;
  }
  const ktrace: EbpfStep[] = [];
  const k = kernel.run(skb, env, ktrace);
  const { insns, map } = kernel.filter.migrated.converted;
  out.push(`classic ${c} (0x${h32(c)})   kernel ${k} (0x${h32(k)})${kernel.fault ? `   FAULT ${kernel.fault.kind}: ${kernel.fault.detail}` : ''}`);
  out.push('  classic step                              A         X        |  eBPF                                              r0                r7');
  let ki = 0;
  let parted = false;
  for (const step of ctrace) {
    const start = map[2 * step.pc]!;
    const end = map[2 * step.pc + 1]!;
    // the kernel steps of this classic instruction: from its first eBPF insn to the next one outside [start, end)
    while (ki < ktrace.length && ktrace[ki]!.pc !== start) ki++;
    const first = ktrace[ki];
    const same = first !== undefined && first.regs[0] === step.A && first.regs[1] === 0 && first.regs[14] === step.X && first.regs[15] === 0;
    const mark = !parted && !same ? '>>' : '  ';
    if (!same) parted = true;
    const left = `${mark}${bpfImage(prog[step.pc]!, step.pc).padEnd(40)} ${h32(step.A)}  ${h32(step.X)}`;
    if (first === undefined) {
      out.push(`${left}  |  (the kernel path never reaches eBPF ${start})`);
      continue;
    }
    let line = true;
    while (ki < ktrace.length && ktrace[ki]!.pc >= start && ktrace[ki]!.pc < end) {
      const s = ktrace[ki]!;
      out.push(`${line ? left : ' '.repeat(left.length)}  |  ${ebpfLine(insns, s.pc).padEnd(48)}  ${reg(s, 0)}  ${reg(s, 7)}`);
      line = false;
      ki++;
    }
  }
  if (!parted && c !== k) out.push('>> the runs part at the exit: same registers, different result');
  return out;
}
