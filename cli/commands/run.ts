// `bpfspec run FILE (--packet HEX | --pcap FILE)`: the filter's result for each packet, by the classic
// evaluator, by the kernel path (migration + eBPF interpreter), or both side by side. Where the two
// differ, the catalogued divergence that explains it is named (fuzz/divergences.ts), or the report
// says none does; the socket's action comes from the kernel path, the one SO_ATTACH_FILTER runs.
import { bpfCheckFilter, KernelRunner, packetRcv, skAttachFilter, type AttachedFilter } from '../../model/attach.js';
import { compileClassic, ClassicVm, type ClassicProgram, type ClassicStep } from '../../model/cbpf/eval.js';
import type { Program } from '../../model/cbpf/insn.js';
import type { KernelConfig } from '../../model/config.js';
import type { EbpfStep } from '../../model/ebpf/interp.js';
import type { Fault } from '../../model/ebpf/memory.js';
import { skbLen, type Env, type SkBuff } from '../../model/skb.js';
import type { Rejection } from '../../model/verdict.js';
import { divergenceEvents, firedDivergences, predictAttach } from '../../fuzz/divergences.js';
import { kernelSemantics } from '../../fuzz/judges.js';
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
  /** The length on the wire, when a capture records one larger than the captured bytes. */
  readonly origLen?: number;
}

export interface RunOptions {
  readonly config: KernelConfig;
  /** skb fields (snake_case, as `bpfspec eval` takes them); `preset` overrides the per-packet one. */
  readonly skb: Record<string, unknown>;
  readonly trace: boolean;
  readonly path: PathName;
}

/** Why the two paths give different results for one packet. */
export interface Explanation {
  /** the catalogue entries whose v6.6 decision turns the classic result into the kernel's (empty: none does) */
  readonly divergences: string[];
  /** what the catalogue predicts for the kernel path (all the v6.6 decisions at once), or null when no entry fired */
  readonly predicted: number | null;
}

export interface PacketResult {
  readonly label: string;
  readonly len: number;
  readonly origLen: number | null;
  readonly classic: number | null;
  readonly kernel: number | null;
  readonly fault: Fault | null;
  /** set when classic and kernel both ran and differ */
  readonly explained?: Explanation;
  readonly classicTrace?: ClassicStep[];
  readonly kernelTrace?: EbpfStep[];
}

export interface RunOutcome {
  /** bpf_check_classic's verdict (what the classic evaluator needs) */
  readonly check: Rejection | null;
  /** the whole attach path's verdict (check, convert, charge, runtime) */
  readonly attach: Rejection | null;
  /** when the checker accepts and the attach fails: the catalogued attach divergence that predicts it, or null */
  readonly attachDivergence: string | null;
  readonly attached: AttachedFilter | null;
  readonly results: PacketResult[];
  /** which result the socket acts on: the kernel path's (the classic evaluator's with --path classic); null when there is no filter */
  readonly socketUses: 'kernel' | 'classic' | null;
}

/** Runs the classic evaluator with one catalogue decision (or all of them) switched to v6.6's. */
class Explainer {
  private readonly all: ClassicVm;
  private readonly single = new Map<string, ClassicVm>();
  private readonly mask: number;
  constructor(
    private readonly config: KernelConfig,
    private readonly base: ClassicVm,
  ) {
    this.all = new ClassicVm(config, kernelSemantics(config));
    this.mask = divergenceEvents(config);
  }

  /** After `base` ran `prog` on the skb: which entries explain the kernel's result `kernel`. */
  explain(prog: ClassicProgram, skb: SkBuff, env: Env, kernel: number): Explanation {
    const events = this.base.events & this.mask;
    if (events === 0) return { divergences: [], predicted: null };
    const predicted = this.all.run(prog, skb, env);
    const fired = firedDivergences(events, this.config);
    const single = fired.filter((d) => {
      let vm = this.single.get(d.id);
      if (vm === undefined) {
        vm = new ClassicVm(this.config, { ...this.base.sem, ...d.decision });
        this.single.set(d.id, vm);
      }
      return vm.run(prog, skb, env) === kernel;
    });
    // no single decision does it, but all of them together do: the combination explains it
    const ids = single.length > 0 ? single.map((d) => d.id) : predicted === kernel ? fired.map((d) => d.id) : [];
    return { divergences: ids, predicted };
  }
}

export function runPackets(prog: Program, packets: readonly RunPacket[], opts: RunOptions): RunOutcome {
  const check = bpfCheckFilter(prog);
  const attachedOrRej = skAttachFilter(prog, opts.config);
  const attached = 'ok' in attachedOrRej ? attachedOrRej : null;
  const attach = 'ok' in attachedOrRej ? null : attachedOrRej;
  let attachDivergence: string | null = null;
  if (check === null && attach !== null) {
    const p = predictAttach(prog, opts.config);
    const d = p?.divergence;
    if (d && d.errno === attach.errno && d.stage === attach.stage && d.rule === attach.rule && (p!.pc === null || p!.pc === attach.pc)) attachDivergence = d.id;
  }
  const wantClassic = opts.path !== 'kernel' && check === null;
  const wantKernel = opts.path !== 'classic' && attached !== null;
  const compiled = wantClassic ? compileClassic(prog) : null;
  const vm = new ClassicVm(opts.config);
  const runner = wantKernel ? new KernelRunner(opts.config) : null;
  const explainer = compiled && runner ? new Explainer(opts.config, vm) : null;
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
    const explainable = compiled !== null && explainer !== null;
    const kernel = runner ? runner.run(attached!, built.skb, built.env, kernelTrace) : null;
    const fault = runner ? runner.fault : null;
    const explained = explainable && classic !== null && kernel !== null && classic !== kernel ? explainer.explain(compiled, built.skb, built.env, kernel) : undefined;
    return {
      label: p.label,
      len: skbLen(built.skb),
      origLen: p.origLen !== undefined && p.origLen !== p.data.length ? p.origLen : null,
      classic,
      kernel,
      fault,
      ...(explained ? { explained } : {}),
      ...(classicTrace ? { classicTrace } : {}),
      ...(kernelTrace ? { kernelTrace } : {}),
    };
  });
  // SO_ATTACH_FILTER runs the migrated program; --path classic asks what a classic kernel would do
  const socketUses = opts.path === 'classic' ? (check === null ? 'classic' : null) : attached !== null ? 'kernel' : null;
  return { check, attach, attachDivergence, attached, results, socketUses };
}

/** Whether the run found what exit code 1 reports: the program rejected, or a difference no catalogue entry explains. */
export function runFailed(out: RunOutcome, path: PathName): boolean {
  if (path === 'classic') return out.check !== null;
  if (out.attach !== null) return true;
  return out.results.some((r) => r.explained !== undefined && r.explained.divergences.length === 0);
}

const hex32 = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

/** What the socket does with a result (net/packet/af_packet.c packet_rcv). */
export function disposition(result: number, len: number): string {
  const d = packetRcv(result, len);
  return d.dropped ? 'dropped' : `accepted, ${d.snaplen} of ${len} bytes kept`;
}

const value = (v: number): string => `${v} (${hex32(v)})`;

export interface Totals {
  readonly packets: number;
  readonly accepted: number;
  readonly dropped: number;
  /** accepted but cut to the filter's result (snaplen < len) */
  readonly truncated: number;
}

/** What the socket did over all packets, from the result it uses. */
export function totals(out: RunOutcome): Totals | null {
  if (out.socketUses === null) return null;
  let accepted = 0;
  let dropped = 0;
  let truncated = 0;
  for (const r of out.results) {
    const v = out.socketUses === 'kernel' ? r.kernel : r.classic;
    if (v === null) continue;
    const d = packetRcv(v, r.len);
    if (d.dropped) dropped++;
    else {
      accepted++;
      if (d.snaplen < r.len) truncated++;
    }
  }
  return { packets: out.results.length, accepted, dropped, truncated };
}

const explanationText = (e: Explanation): string =>
  e.divergences.length > 0
    ? `catalogued divergence ${e.divergences.join(' + ')} explains it`
    : e.predicted === null
      ? 'no catalogued divergence applies: unexplained'
      : `no catalogued divergence explains it (the catalogue predicts ${e.predicted}): unexplained`;

/** Human-readable report. */
export function runText(prog: Program, out: RunOutcome, path: PathName, summary?: { readonly capture: boolean }): string {
  const lines: string[] = [];
  if (path !== 'kernel' && out.check !== null) return `${verdictText(prog, out.check)}\n`;
  if (path === 'kernel' && out.attach !== null) return `${verdictText(prog, out.attach)}\n`;
  if (path === 'both' && out.attach !== null) {
    const why = out.attachDivergence !== null ? `catalogued divergence ${out.attachDivergence}` : 'no catalogued divergence predicts it: unexplained';
    lines.push(`kernel path: ${verdictText(prog, out.attach)}; ${why}; SO_ATTACH_FILTER fails, so the socket gets no filter; classic results only below`);
  }
  for (const r of out.results) {
    const head = `${r.label} (${r.len} bytes${r.origLen !== null ? ` of ${r.origLen} on the wire` : ''}):`;
    if (r.classic !== null && r.kernel !== null) {
      const agree = r.classic === r.kernel ? 'agree' : `DIFFER (${explanationText(r.explained!)}; the socket uses the kernel path's result)`;
      lines.push(`${head} classic ${value(r.classic)}, kernel ${value(r.kernel)}: ${agree}; ${disposition(r.kernel, r.len)}`);
    } else if (r.kernel !== null) lines.push(`${head} kernel ${value(r.kernel)}: ${disposition(r.kernel, r.len)}`);
    else if (r.classic !== null) lines.push(`${head} classic ${value(r.classic)}: ${out.attach !== null ? 'the socket has no filter (the kernel path rejects the program)' : disposition(r.classic, r.len)}`);
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
  const t = totals(out);
  if (summary?.capture && t !== null)
    lines.push(
      `${t.packets} packet${t.packets === 1 ? '' : 's'}: ${t.accepted} accepted (${t.truncated} of them truncated to the filter's snaplen), ${t.dropped} dropped` +
        ` (by the ${out.socketUses === 'kernel' ? 'kernel path, as the socket runs it' : 'classic evaluator'})`,
    );
  return `${lines.join('\n')}\n`;
}

export function runJson(out: RunOutcome): Record<string, unknown> {
  return {
    check: verdictJson(out.check),
    attach: verdictJson(out.attach),
    attach_divergence: out.check === null && out.attach !== null ? out.attachDivergence : null,
    socket_uses: out.socketUses,
    packets: out.results.map((r) => ({
      label: r.label,
      len: r.len,
      ...(r.origLen !== null ? { orig_len: r.origLen } : {}),
      classic: r.classic,
      kernel: r.kernel,
      agree: r.classic !== null && r.kernel !== null ? r.classic === r.kernel : null,
      ...(r.explained ? { divergences: r.explained.divergences, explained: r.explained.divergences.length > 0, predicted: r.explained.predicted } : {}),
      ...(r.fault ? { fault: faultJson(r.fault) } : {}),
      ...(r.classicTrace ? { trace: r.classicTrace } : {}),
      ...(r.kernelTrace ? { kernelTrace: r.kernelTrace.map((s) => ({ pc: s.pc, regs: Array.from(s.regs.subarray(0, 24)) })) } : {}),
    })),
    totals: totals(out),
  };
}
