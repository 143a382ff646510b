// `bpfspec run FILE (--packet HEX | --pcap FILE)`: the filter's result for each packet, by the classic
// evaluator, by the kernel path (migration + eBPF interpreter), or both side by side.
import { bpfCheckFilter, KernelRunner, packetRcv, skAttachFilter, type AttachedFilter } from '../../model/attach.js';
import { compileClassic, ClassicVm, type ClassicStep } from '../../model/cbpf/eval.js';
import type { Program } from '../../model/cbpf/insn.js';
import type { KernelConfig } from '../../model/config.js';
import type { EbpfStep } from '../../model/ebpf/interp.js';
import type { Fault } from '../../model/ebpf/memory.js';
import { skbLen, type Env, type SkBuff } from '../../model/skb.js';
import type { Rejection } from '../../model/verdict.js';
import { bpfImage } from '../formats/tcpdump.js';
import { InputError } from '../io.js';
import { buildSkb, SkbSpecError } from '../skbspec.js';
import { ebpfLine, faultJson } from './migrate.js';
import { verdictJson, verdictText } from './check.js';

export type PathName = 'classic' | 'kernel' | 'both';
export const PATH_NAMES: readonly PathName[] = ['classic', 'kernel', 'both'];

export interface RunPacket {
  readonly data: Uint8Array;
  /** Where the packet came from, for messages: "packet 1", "capture.pcap #3". */
  readonly label: string;
  /** The skb preset this packet's source implies (ethernet for an Ethernet capture). */
  readonly preset: string;
}

export interface RunOptions {
  readonly config: KernelConfig;
  /** skb fields (snake_case, as `bpfspec eval` takes them); `preset` overrides the per-packet one. */
  readonly skb: Record<string, unknown>;
  readonly trace: boolean;
  readonly path: PathName;
}

export interface PacketResult {
  readonly label: string;
  readonly len: number;
  readonly classic: number | null;
  readonly kernel: number | null;
  readonly fault: Fault | null;
  readonly classicTrace?: ClassicStep[];
  readonly kernelTrace?: EbpfStep[];
}

export interface RunOutcome {
  /** bpf_check_classic's verdict (what the classic evaluator needs) */
  readonly check: Rejection | null;
  /** the whole attach path's verdict (check, convert, charge, runtime) */
  readonly attach: Rejection | null;
  readonly attached: AttachedFilter | null;
  readonly results: PacketResult[];
}

export function runPackets(prog: Program, packets: readonly RunPacket[], opts: RunOptions): RunOutcome {
  const check = bpfCheckFilter(prog);
  const attachedOrRej = skAttachFilter(prog, opts.config);
  const attached = 'ok' in attachedOrRej ? attachedOrRej : null;
  const attach = 'ok' in attachedOrRej ? null : attachedOrRej;
  const wantClassic = opts.path !== 'kernel' && check === null;
  const wantKernel = opts.path !== 'classic' && attached !== null;
  const compiled = wantClassic ? compileClassic(prog) : null;
  const vm = new ClassicVm(opts.config);
  const runner = wantKernel ? new KernelRunner(opts.config) : null;
  const results = packets.map((p): PacketResult => {
    let built: { skb: SkBuff; env: Env };
    try {
      built = buildSkb(p.data, { preset: p.preset, ...opts.skb });
    } catch (e) {
      if (e instanceof SkbSpecError) throw new InputError(`${p.label}: ${e.message}`);
      throw e;
    }
    const classicTrace: ClassicStep[] | null = opts.trace && compiled ? [] : null;
    const kernelTrace: EbpfStep[] | null = opts.trace && runner ? [] : null;
    const classic = compiled ? vm.run(compiled, built.skb, built.env, classicTrace) : null;
    const kernel = runner ? runner.run(attached!, built.skb, built.env, kernelTrace) : null;
    return {
      label: p.label,
      len: skbLen(built.skb),
      classic,
      kernel,
      fault: runner ? runner.fault : null,
      ...(classicTrace ? { classicTrace } : {}),
      ...(kernelTrace ? { kernelTrace } : {}),
    };
  });
  return { check, attach, attached, results };
}

const hex32 = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

/** What the socket does with a result (net/packet/af_packet.c packet_rcv). */
export function disposition(result: number, len: number): string {
  const d = packetRcv(result, len);
  return d.dropped ? 'dropped' : `accepted, ${d.snaplen} of ${len} bytes kept`;
}

const value = (v: number): string => `${v} (${hex32(v)})`;

/** Human-readable report. */
export function runText(prog: Program, out: RunOutcome, path: PathName): string {
  const lines: string[] = [];
  if (path !== 'kernel' && out.check !== null) return `${verdictText(prog, out.check)}\n`;
  if (path === 'kernel' && out.attach !== null) return `${verdictText(prog, out.attach)}\n`;
  if (path === 'both' && out.attach !== null) lines.push(`kernel path: ${verdictText(prog, out.attach)}; classic only below`);
  for (const r of out.results) {
    const head = `${r.label} (${r.len} bytes):`;
    if (r.classic !== null && r.kernel !== null) {
      const agree = r.classic === r.kernel ? 'agree' : 'DIFFER';
      lines.push(`${head} classic ${value(r.classic)}, kernel ${value(r.kernel)}: ${agree}; ${disposition(r.kernel, r.len)}`);
    } else if (r.kernel !== null) lines.push(`${head} kernel ${value(r.kernel)}: ${disposition(r.kernel, r.len)}`);
    else if (r.classic !== null) lines.push(`${head} classic ${value(r.classic)}: ${disposition(r.classic, r.len)}`);
    if (r.fault) lines.push(`    model fault in the kernel path: ${r.fault.kind} at eBPF pc ${r.fault.pc}: ${r.fault.detail}`);
    if (r.classicTrace) {
      lines.push('  classic:    pc  A           X           instruction');
      for (const s of r.classicTrace)
        lines.push(`          ${String(s.pc).padStart(6)}  ${hex32(s.A)}  ${hex32(s.X)}  ${bpfImage(prog[s.pc]!, s.pc).replace(/^\(\d+\)\s*/, '')}`);
    }
    if (r.kernelTrace && out.attached) {
      const insns = out.attached.migrated.converted.insns;
      lines.push('  kernel:     pc  r0                  r7                  instruction');
      for (const s of r.kernelTrace) {
        const r0 = `0x${s.regs[1]!.toString(16).padStart(8, '0')}${s.regs[0]!.toString(16).padStart(8, '0')}`;
        const r7 = `0x${s.regs[15]!.toString(16).padStart(8, '0')}${s.regs[14]!.toString(16).padStart(8, '0')}`;
        lines.push(`          ${String(s.pc).padStart(6)}  ${r0}  ${r7}  ${ebpfLine(insns, s.pc).replace(/^\s*\d+: /, '')}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

export function runJson(out: RunOutcome): unknown {
  return {
    check: verdictJson(out.check),
    attach: verdictJson(out.attach),
    packets: out.results.map((r) => ({
      label: r.label,
      len: r.len,
      classic: r.classic,
      kernel: r.kernel,
      agree: r.classic !== null && r.kernel !== null ? r.classic === r.kernel : null,
      ...(r.fault ? { fault: faultJson(r.fault) } : {}),
      ...(r.classicTrace ? { trace: r.classicTrace } : {}),
      ...(r.kernelTrace ? { kernelTrace: r.kernelTrace.map((s) => ({ pc: s.pc, regs: Array.from(s.regs.subarray(0, 24)) })) } : {}),
    })),
  };
}
