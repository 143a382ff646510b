// `bpfspec run FILE (--packet HEX | --pcap FILE)`: the filter's result for each packet.
import { compileClassic, ClassicVm, type ClassicStep } from '../../model/cbpf/eval.js';
import type { Program } from '../../model/cbpf/insn.js';
import type { KernelConfig } from '../../model/config.js';
import { skbLen, type Env, type SkBuff } from '../../model/skb.js';
import { printProgram } from '../formats/index.js';
import { InputError } from '../io.js';
import { buildSkb, SkbSpecError } from '../skbspec.js';
import { checkVerdict, verdictJson, verdictText } from './check.js';

export interface RunPacket {
  readonly data: Uint8Array;
  /** Where the packet came from, for messages: "--packet 1", "capture.pcap #3". */
  readonly label: string;
  /** The skb preset this packet's source implies (ethernet for an Ethernet capture). */
  readonly preset: string;
}

export interface RunOptions {
  readonly config: KernelConfig;
  /** skb fields (snake_case, as `bpfspec eval` takes them); `preset` overrides the per-packet one. */
  readonly skb: Record<string, unknown>;
  readonly trace: boolean;
}

/** What the socket does with the result (net/core/filter.c:157 sk_filter_trim_cap, packet_rcv). */
export const disposition = (result: number, len: number): string =>
  result === 0 ? 'dropped' : `accepted, ${Math.min(result, len)} of ${len} bytes kept`;

export interface PacketResult {
  readonly label: string;
  readonly len: number;
  readonly classic: number;
  readonly trace?: ClassicStep[];
}

export function runPackets(prog: Program, packets: readonly RunPacket[], opts: RunOptions): { verdict: ReturnType<typeof checkVerdict>; results: PacketResult[] } {
  const verdict = checkVerdict(prog);
  if (verdict !== null) return { verdict, results: [] };
  const compiled = compileClassic(prog);
  const vm = new ClassicVm(opts.config);
  const results = packets.map((p): PacketResult => {
    let built: { skb: SkBuff; env: Env };
    try {
      built = buildSkb(p.data, { preset: p.preset, ...opts.skb });
    } catch (e) {
      if (e instanceof SkbSpecError) throw new InputError(`${p.label}: ${e.message}`);
      throw e;
    }
    const trace: ClassicStep[] | null = opts.trace ? [] : null;
    const classic = vm.run(compiled, built.skb, built.env, trace);
    return { label: p.label, len: skbLen(built.skb), classic, ...(trace ? { trace } : {}) };
  });
  return { verdict, results };
}

const hex32 = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

/** Human-readable report. */
export function runText(prog: Program, out: ReturnType<typeof runPackets>): string {
  const lines: string[] = [];
  if (out.verdict !== null) return `${verdictText(prog, out.verdict)}\n`;
  const listing = out.results.some((r) => r.trace) ? String(printProgram(prog, 'tcpdump-d')).split('\n') : [];
  for (const r of out.results) {
    lines.push(`${r.label} (${r.len} bytes): classic ${r.classic} (${hex32(r.classic)}): ${disposition(r.classic, r.len)}`);
    if (r.trace) {
      lines.push('    pc  A           X           instruction');
      for (const s of r.trace)
        lines.push(`  ${String(s.pc).padStart(4)}  ${hex32(s.A)}  ${hex32(s.X)}  ${(listing[s.pc] ?? '').replace(/^\(\d+\)\s*/, '')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function runJson(out: ReturnType<typeof runPackets>): unknown {
  return {
    attach: verdictJson(out.verdict),
    packets: out.results.map((r) => ({ label: r.label, len: r.len, classic: r.classic, ...(r.trace ? { trace: r.trace } : {}) })),
  };
}
