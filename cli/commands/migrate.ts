// `bpfspec migrate FILE`: the classic program with, under each instruction, the eBPF instructions
// bpf_convert_filter made of it (as the kernel's print_bpf_insn prints them), then the stack depth,
// the interpreter bucket and the attach verdict.
import { bpfCheckFilter, skAttachFilter } from '../../model/attach.js';
import type { Program } from '../../model/cbpf/insn.js';
import type { KernelConfig } from '../../model/config.js';
import { printBpfInsn } from '../../model/ebpf/disasm.js';
import { helperName } from '../../model/ebpf/helpers.js';
import type { BpfInsn } from '../../model/ebpf/insn.js';
import { bpfInterpreterStackSize } from '../../model/ebpf/interp.js';
import type { Fault } from '../../model/ebpf/memory.js';
import { bpfConvertFilter } from '../../model/migrate/convert.js';
import { bpfImage } from '../formats/tcpdump.js';
import { verdictJson, verdictText } from './check.js';

const DISASM = { callName: (insn: BpfInsn) => helperName(insn.imm) };

/** One eBPF instruction as `bpftool prog dump xlated` prints it: "  12: (85) call bpf_skb_load_helper_8#1". */
export const ebpfLine = (insns: readonly BpfInsn[], pc: number): string =>
  printBpfInsn(insns[pc]!, insns[pc + 1], { ...DISASM, pc, pcWidth: 5 });

export const faultJson = (f: Fault): unknown => JSON.parse(JSON.stringify(f, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v)));

/**
 * bpf_convert_filter runs only on a program bpf_check_classic accepted (net/core/filter.c
 * bpf_prepare_filter): a rejected one is shown as it is, with the verdict, and never converted (its
 * scratch slots and jumps may be out of range, as the checker says).
 */
const convertIfChecked = (prog: Program, config: KernelConfig): ReturnType<typeof bpfConvertFilter> | null => (bpfCheckFilter(prog) === null ? bpfConvertFilter(prog, config) : null);

export function migrateText(prog: Program, config: KernelConfig): string {
  const conv = convertIfChecked(prog, config);
  const attach = skAttachFilter(prog, config);
  const lines: string[] = [];
  if (conv !== null && 'ok' in conv) {
    const { insns, map } = conv;
    const firstClassic = map[0]!;
    for (let pc = 0; pc < firstClassic; pc++) lines.push(`       ${ebpfLine(insns, pc)}`);
    prog.forEach((insn, i) => {
      lines.push(bpfImage(insn, i));
      for (let pc = map[2 * i]!; pc < map[2 * i + 1]!; pc++) lines.push(`       ${ebpfLine(insns, pc)}`);
    });
    lines.push('');
    lines.push(`classic instructions: ${prog.length}; eBPF instructions: ${insns.length}; conversion passes: ${conv.passes}`);
    lines.push(`stack depth: ${conv.stackDepth} bytes; interpreter: __bpf_prog_run${bpfInterpreterStackSize(conv.stackDepth)}`);
  } else {
    prog.forEach((insn, i) => lines.push(bpfImage(insn, i)));
    lines.push('');
  }
  lines.push(`attach (optmem_max ${config.optmemMax}): ${verdictText(prog, 'ok' in attach ? null : attach)}`);
  return `${lines.join('\n')}\n`;
}

export function migrateJson(prog: Program, config: KernelConfig): unknown {
  const conv = convertIfChecked(prog, config);
  const attach = skAttachFilter(prog, config);
  if (conv === null) return { attach: verdictJson('ok' in attach ? null : attach), insns: prog.map((insn, i) => ({ classic: insn, text: bpfImage(insn, i), ebpf: [] })) };
  return {
    attach: verdictJson('ok' in attach ? null : attach),
    ...('ok' in conv
      ? {
          insns: prog.map((insn, i) => ({
            classic: insn,
            text: bpfImage(insn, i),
            ebpf: Array.from({ length: conv.map[2 * i + 1]! - conv.map[2 * i]! }, (_, j) => {
              const pc = conv.map[2 * i]! + j;
              return { pc, insn: conv.insns[pc], text: printBpfInsn(conv.insns[pc]!, conv.insns[pc + 1], DISASM) };
            }),
          })),
          prologue: Array.from({ length: conv.map[0]! }, (_, pc) => ({ pc, insn: conv.insns[pc], text: printBpfInsn(conv.insns[pc]!, undefined, DISASM) })),
          ebpf_len: conv.insns.length,
          stack_depth: conv.stackDepth,
          interpreter_stack: 'ok' in attach ? attach.migrated.stackSize : null,
          passes: conv.passes,
        }
      : { convert: verdictJson(conv) }),
  };
}
