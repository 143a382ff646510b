// `bpfspec migrate FILE`: the classic program with, under each instruction, the eBPF instructions
// bpf_convert_filter made of it (as the kernel's print_bpf_insn prints them), then the stack depth,
// the interpreter bucket, the x86-64 JIT's bytes per eBPF instruction in each pass (model/jit, under the
// record's JIT facts), and the attach verdict (the JIT's included: bpf_prog_select_runtime).
import { bpfCheckFilter, skAttachFilter } from '../../model/attach.js';
import type { Program } from '../../model/cbpf/insn.js';
import type { KernelConfig } from '../../model/config.js';
import { printBpfInsn } from '../../model/ebpf/disasm.js';
import { helperName } from '../../model/ebpf/helpers.js';
import type { BpfInsn } from '../../model/ebpf/insn.js';
import { bpfInterpreterStackSize } from '../../model/ebpf/interp.js';
import type { Fault } from '../../model/ebpf/memory.js';
import { archIntJitCompile, blindingRequested, bpfConvertFilter, type ConvertResult } from '../../model/migrate/convert.js';
import type { JitResult } from '../../model/jit/x86.js';
import { bpfImage } from '../formats/tcpdump.js';
import { verdictJson, verdictText } from './check.js';

const DISASM = { callName: (insn: BpfInsn) => helperName(insn.imm) };

/** One eBPF instruction as `bpftool prog dump xlated` prints it: "  12: (85) call bpf_skb_load_helper_8#1". */
export const ebpfLine = (insns: readonly BpfInsn[], pc: number): string =>
  printBpfInsn(insns[pc]!, insns[pc + 1], { ...DISASM, pc, pcWidth: 5 });

export const faultJson = (f: Fault): unknown => JSON.parse(JSON.stringify(f, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v)));

/**
 * The x86-64 JIT of a converted program, as the record's JIT facts make it, constant blinding included
 * (bpf_int_jit_compile through the model's runtime selection; null: not modelled for this record).
 */
export function migrateJit(conv: ConvertResult, config: KernelConfig): JitResult | null {
  if (config.arch !== 'x86_64' || config.x86Jit === null || !config.jitRequested || !config.jitAvailable) return null;
  return archIntJitCompile({ insns: conv.insns, stackDepth: conv.stackDepth, jitRequested: config.jitRequested, blindingRequested: blindingRequested(config) }, config).jit;
}

/** The JIT section: bytes per eBPF insn in each do_jit pass, then the outcome. */
function jitLines(conv: ConvertResult, jit: JitResult): string[] {
  const passes = jit.passes;
  const insns = jit.blinded ?? conv.insns;
  const head = passes.map((p) => (p.emitting ? 'emit' : `p${p.pass}${p.padding ? '*' : ''}`).padStart(5)).join('');
  const lines = [''];
  if (jit.blinded !== null) lines.push(`the JIT compiles the constant-blinded clone: pc below are the clone's ${jit.blinded.length} instructions`);
  lines.push(`x86-64 JIT: bytes per eBPF instruction in each pass (model/jit; * = padding pass)`, `   pc${head}`);
  lines.push(`  pro${passes.map((p) => String(p.prologue).padStart(5)).join('')}`);
  insns.forEach((_, pc) => {
    const cells = passes.map((p, k) => {
      const v = p.lengths[pc]!;
      const moved = k > 0 && v >= 0 && passes[k - 1]!.lengths[pc]! >= 0 && v !== passes[k - 1]!.lengths[pc]!;
      return (v < 0 ? '-' : `${v}${moved ? '!' : ''}`).padStart(5);
    });
    lines.push(`${String(pc).padStart(5)}${cells.join('')}`);
  });
  lines.push(`  sum${passes.map((p) => String(p.proglen).padStart(5)).join('')}`);
  lines.push(
    jit.jited
      ? `JIT: ${passes.length} passes, image ${jit.jitedLen} bytes`
      : `JIT: refused in pass ${jit.pass}${jit.insn === null ? '' : ` at eBPF insn ${jit.insn}`}: ${jit.message ?? `no two passes of equal length in ${jit.pass}`} (${jit.reason}; the program stays interpreted, -ENOTSUPP when the JIT is required)`,
  );
  return lines;
}

/**
 * bpf_convert_filter runs only on a program bpf_check_classic accepted (net/core/filter.c
 * bpf_prepare_filter): a rejected one is shown as it is, with the verdict, and never converted (its
 * scratch slots and jumps may be out of range, as the checker says).
 */
const convertIfChecked = (prog: Program, config: KernelConfig): ReturnType<typeof bpfConvertFilter> | null => (bpfCheckFilter(prog) === null ? bpfConvertFilter(prog, config) : null);

export function migrateText(prog: Program, config: KernelConfig): string {
  const conv = convertIfChecked(prog, config);
  const jit = conv !== null && 'ok' in conv ? migrateJit(conv, config) : null;
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
    if (jit?.blinded) lines.push(`constant blinding (bpf_jit_harden ${config.bpfJitHarden}${config.bpfCapable ? '' : ', caller without CAP_BPF'}): ${jit.blinded.length} eBPF instructions compiled${jit.jited ? ' and charged' : ''}`);
    lines.push(`stack depth: ${conv.stackDepth} bytes; interpreter: __bpf_prog_run${bpfInterpreterStackSize(conv.stackDepth)}`);
    if (jit !== null) lines.push(...jitLines(conv, jit));
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
  const jit = 'ok' in conv ? migrateJit(conv, config) : null;
  return {
    attach: verdictJson('ok' in attach ? null : attach),
    jit:
      jit === null
        ? null
        : {
            jited: jit.jited,
            ...(jit.jited ? { image_len: jit.jitedLen } : { reason: jit.reason, message: jit.message, pass: jit.pass, insn: jit.insn }),
            blinded_len: jit.blinded === null ? null : jit.blinded.length,
            passes: jit.passes.map((p) => ({ pass: p.pass, padding: p.padding, emitting: p.emitting, prologue: p.prologue, proglen: p.proglen, lengths: Array.from(p.lengths) })),
          },
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
          // fp->len after bpf_prog_select_runtime (the blinded clone's when the JIT compiled one): what is charged
          prog_len: 'ok' in attach ? attach.migrated.len : null,
          stack_depth: conv.stackDepth,
          interpreter_stack: 'ok' in attach ? attach.migrated.stackSize : null,
          passes: conv.passes,
        }
      : { convert: verdictJson(conv) }),
  };
}
