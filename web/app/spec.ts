// The page's one door into the specification: every import of model/, cli/ and fuzz/ is here, so
// that a rename there is one edit here. Pure TypeScript, no DOM: it parses, checks, migrates and runs
// with the model's own functions and shapes the answers for the view.
import type { JitResult } from '../../model/jit/x86.js';
import { bpfCheckFilter, KernelRunner, packetRcv, skAttachFilter, type AttachedFilter } from '../../model/attach.js';
import { CLASSIC, ClassicVm, compileClassic, kernelSemantics, type ClassicProgram, type ClassicStep } from '../../model/cbpf/eval.js';
import type { Program, SockFilter } from '../../model/cbpf/insn.js';
import { ARCHES, type KernelConfig, type LoadHelperVersion } from '../../model/config.js';
import { printBpfInsn } from '../../model/ebpf/disasm.js';
import { helperName } from '../../model/ebpf/helpers.js';
import { opcodeInfo, type BpfInsn } from '../../model/ebpf/insn.js';
import type { EbpfStep } from '../../model/ebpf/interp.js';
import type { Fault } from '../../model/ebpf/memory.js';
import { bpfConvertFilter, type ConvertResult } from '../../model/migrate/convert.js';
import { skbLen, type Env, type SkBuff } from '../../model/skb.js';
import { errnoName, BPF_LD, BPF_LDX, BPF_JMP, BPF_ABS, BPF_IND, BPF_MSH, BPF_JA, SKF_AD_OFF, bpfClass, bpfMode, bpfOp } from '../../model/uapi.js';
import { isVariantName, VARIANTS, variantConfig, type VariantName } from '../../model/variants.js';
import type { Rejection } from '../../model/verdict.js';
import { bpfImage, FORMAT_NAMES, parseProgram, type FormatName } from '../../cli/formats/index.js';
import { parseHexPacket, readPackets } from '../../cli/packets/index.js';
import { buildSkb, SKB_FIELDS, SkbSpecError } from '../../fuzz/skbjson.js';
import { ATTACH_DIVERGENCES, firedDivergences, type Divergence } from '../../fuzz/divergences.js';

export { FORMAT_NAMES, SKB_FIELDS, VARIANTS, helperName };
export type { FormatName, Program, Rejection, VariantName, Divergence, ClassicStep, EbpfStep, Fault };

// ---------------------------------------------------------------------------------------------
// Inputs

export type ParsedProgram = { readonly ok: true; readonly prog: Program; readonly format: FormatName } | { readonly ok: false; readonly message: string };

/** A program in any format bpfspec reads (detected when `format` is null), as `bpfspec check` parses it. */
export function parseProgramText(text: string, format: FormatName | null): ParsedProgram {
  const r = parseProgram(new TextEncoder().encode(text), format ?? undefined);
  if (r.ok) return { ok: true, prog: r.prog, format: r.format };
  const e = r.error;
  const where = e.line !== undefined ? `line ${e.line}${e.column !== undefined ? `:${e.column}` : ''}: ` : e.insn !== undefined ? `insn ${e.insn}: ` : '';
  return { ok: false, message: `${where}${e.message}` };
}

/** A program from a corpus entry's little-endian struct sock_filter image (hex). */
export function programFromHex(hex: string): ParsedProgram {
  return parseProgramText(hex, 'hex');
}

export interface KernelParams {
  readonly arch: string;
  readonly optmemMax: number;
  readonly loadHelpers: LoadHelperVersion;
  readonly variant: VariantName | null;
}

export const ARCH_NAMES: readonly string[] = Object.keys(ARCHES);
export const DEFAULT_PARAMS: KernelParams = { arch: 'x86_64', optmemMax: 20480, loadHelpers: 'v6.6.0', variant: null };

/** The kernel configuration of the parameters (as `bpfspec run --arch --optmem-max --load-helpers`, plus a variant). */
export function kernelConfig(p: KernelParams): KernelConfig | string {
  const base = ARCHES[p.arch];
  if (base === undefined || !Object.prototype.hasOwnProperty.call(ARCHES, p.arch)) return `unknown architecture '${p.arch}'`;
  if (!Number.isInteger(p.optmemMax) || p.optmemMax < 0 || p.optmemMax > 2 ** 31 - 1) return `optmem_max ${p.optmemMax}: expected a byte count`;
  if (p.loadHelpers !== 'v6.6.0' && p.loadHelpers !== 'backport') return `load helpers '${String(p.loadHelpers)}': expected v6.6.0 or backport`;
  const config: KernelConfig = { ...base, optmemMax: p.optmemMax, loadHelpers: p.loadHelpers };
  if (p.variant === null) return config;
  if (!isVariantName(p.variant)) return `unknown variant '${String(p.variant)}'`;
  return variantConfig(config, p.variant);
}

export interface PacketSource {
  readonly data: Uint8Array;
  readonly label: string;
  /** the skb this packet comes with (a corpus input's, or the preset its capture implies) */
  readonly skb: Readonly<Record<string, unknown>>;
}

export type PacketsResult = { readonly ok: true; readonly packets: PacketSource[]; readonly notes: string[] } | { readonly ok: false; readonly message: string };

/** Packets written as hex, one per line (blank lines and # comments skipped), af_unix skbs as `run --packet`. */
export function packetsFromHex(text: string): PacketsResult {
  const packets: PacketSource[] = [];
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const r = parseHexPacket(line);
    if (!r.ok) return { ok: false, message: `packet line ${i + 1}: ${r.error}` };
    packets.push({ data: r.data, label: `packet ${packets.length + 1}`, skb: { preset: 'af_unix' } });
  }
  return { ok: true, packets, notes: [] };
}

/** Every packet of a pcap or pcapng capture, with the preset `bpfspec run --pcap` gives it. */
export function packetsFromCapture(bytes: Uint8Array, name: string): PacketsResult {
  const r = readPackets(bytes);
  if (!r.ok) return { ok: false, message: `${name}: ${r.error}` };
  return {
    ok: true,
    packets: r.packets.map((p) => ({ data: p.data, label: `#${p.index + 1}`, skb: { preset: p.linktype === 1 ? 'ethernet' : 'af_unix' } })),
    notes: r.notes,
  };
}

export type BuiltSkb = { readonly ok: true; readonly skb: SkBuff; readonly env: Env } | { readonly ok: false; readonly message: string };

/** The skb of a packet: its own fields, then the form's overrides (as `run --set` over the preset). */
export function packetSkb(p: PacketSource, overrides: Readonly<Record<string, unknown>>): BuiltSkb {
  try {
    const { skb, env } = buildSkb(p.data, { ...p.skb, ...overrides });
    return { ok: true, skb, env };
  } catch (e) {
    if (e instanceof SkbSpecError) return { ok: false, message: `${p.label}: ${e.message}` };
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// The attach path

export interface VerdictView {
  readonly accepted: boolean;
  readonly errno: string | null;
  readonly stage: string | null;
  readonly rule: string | null;
  readonly pc: number | null;
  readonly at: string | null;
  /** one line, as `bpfspec check` prints it */
  readonly text: string;
}

/** A verdict as `bpfspec check` words it: `accepted (N instructions)` or `rejected: -EINVAL rule at pc N (file:line, stage S)`. */
export function verdictView(prog: Program, r: Rejection | null): VerdictView {
  if (r === null) return { accepted: true, errno: null, stage: null, rule: null, pc: null, at: null, text: `accepted (${prog.length} instruction${prog.length === 1 ? '' : 's'})` };
  const where = r.pc === null ? '' : ` at pc ${r.pc}`;
  return {
    accepted: false,
    errno: `-${errnoName(r.errno)}`,
    stage: r.stage,
    rule: r.rule,
    pc: r.pc,
    at: r.at,
    text: `rejected: -${errnoName(r.errno)} ${r.rule}${where} (${r.at}, stage ${r.stage})`,
  };
}

export interface MigrationInsn {
  readonly pc: number;
  readonly code: number;
  /** as `bpfspec migrate` prints it: "(bf) r6 = r1" */
  readonly text: string;
  /** the classic instruction it came from, or -1 for the prologue */
  readonly owner: number;
  /** the interpreter's label for the opcode (kernel/bpf/core.c BPF_INSN_MAP), and its one-line C */
  readonly label: string;
  readonly semantics: string;
}

export interface ClassicInsnView {
  readonly pc: number;
  readonly insn: SockFilter;
  /** as `tcpdump -d` prints it: "(000) ldh      [12]" */
  readonly text: string;
  /** the eBPF instructions it became: [first, end) */
  readonly ebpf: readonly [number, number] | null;
  /** the model function of the conversion case that emitted them */
  readonly convertedBy: string;
}

export interface Migration {
  readonly converted: ConvertResult;
  readonly insns: MigrationInsn[];
  /** eBPF pc -> classic pc (-1: prologue) */
  readonly owner: Int32Array;
}

export interface Analysis {
  readonly prog: Program;
  readonly config: KernelConfig;
  readonly classic: ClassicInsnView[];
  /** bpf_check_classic's verdict (the classic evaluator's checker, fixed: as `bpfspec check`) */
  readonly check: VerdictView;
  /** the whole attach path under the configuration (check, convert, charge, runtime) */
  readonly attach: VerdictView;
  readonly attached: AttachedFilter | null;
  /** null when bpf_convert_filter rejects (or the checker rejected first) */
  readonly migration: Migration | null;
  /** runtime selection: JIT or the interpreter and its stack size; the socket charge */
  readonly runtime: {
    readonly jited: boolean;
    readonly interpreter: string;
    readonly stackDepth: number;
    readonly progSize: number;
    readonly optmemMax: number;
    readonly passes: number;
    /** the x86-64 JIT's passes (model/jit/x86.ts) where the configuration models it, else null */
    readonly jit: JitView | null;
  } | null;
  /** the catalogued attach divergence when classic accepts and the kernel path refuses */
  readonly attachDivergence: Divergence | null;
}

const DISASM = { callName: (insn: BpfInsn) => helperName(insn.imm) };

/** One eBPF instruction as `bpfspec migrate` prints it, without the pc: "(bf) r6 = r1". */
export function ebpfText(insns: readonly BpfInsn[], pc: number): string {
  return printBpfInsn(insns[pc]!, insns[pc + 1], { ...DISASM, pc, pcWidth: 1 }).replace(/^\d+: /, '');
}

/** Which conversion case of bpf_convert_filter (by its model function) handles a classic instruction. */
function convertedBy(insn: SockFilter): string {
  const cls = bpfClass(insn.code);
  if (cls === BPF_LD && bpfMode(insn.code) === BPF_ABS && (insn.k | 0) >= SKF_AD_OFF && (insn.k | 0) < 0) return 'convertBpfExtensions';
  if (cls === BPF_LD && (bpfMode(insn.code) === BPF_ABS || bpfMode(insn.code) === BPF_IND)) return 'convertBpfLdAbs';
  if (cls === BPF_LDX && bpfMode(insn.code) === BPF_MSH) return 'convertBpfLdAbs';
  if (cls === BPF_JMP) return bpfOp(insn.code) === BPF_JA ? 'emitJmp' : 'convertCondJump';
  // the other cases are written inline in bpf_convert_filter's switch (the model: expandInsn, under bpfConvertFilterCall)
  return 'bpfConvertFilterCall';
}

/** What bpf_int_jit_compile (model/jit/x86.ts) did with the migrated program. */
export interface JitView {
  readonly jited: boolean;
  /** passes run (the sizing passes and the emitting one) */
  readonly passes: number;
  /** the image length in bytes when it converged, else null */
  readonly proglen: number | null;
  /** the failure's reason (model/jit/x86.ts JitFailure) when it did not, else null */
  readonly reason: string | null;
  /** the constant-blinded clone's length (bpf_jit_harden), or null when not blinded */
  readonly blindedLen: number | null;
  /** bytes per eBPF instruction in the last pass */
  readonly lengths: readonly number[];
}

const jitView = (r: JitResult): JitView => ({
  jited: r.jited,
  passes: r.passes.length,
  proglen: r.jited ? r.proglen : null,
  reason: r.jited ? null : r.reason,
  blindedLen: r.blinded === null ? null : r.blinded.length,
  lengths: r.passes.length > 0 ? Array.from(r.passes[r.passes.length - 1]!.lengths) : [],
});

/** Check, migrate and attach a program under a configuration, keeping every intermediate the view shows. */
export function analyse(prog: Program, config: KernelConfig): Analysis {
  const checkR = bpfCheckFilter(prog);
  const attachR = skAttachFilter(prog, config);
  const attached = 'ok' in attachR ? attachR : null;
  let migration: Migration | null = null;
  // the migration the kernel path makes: after the checker under this configuration (a historical
  // variant may let through what the fixed checker, the classic side's, rejects)
  const conv = bpfCheckFilter(prog, config) === null ? bpfConvertFilter(prog, config) : null;
  if (conv !== null && 'ok' in conv) {
    const owner = new Int32Array(conv.insns.length).fill(-1);
    for (let i = 0; i < prog.length; i++) for (let pc = conv.map[2 * i]!; pc < conv.map[2 * i + 1]!; pc++) owner[pc] = i;
    const insns = conv.insns.map((insn, pc): MigrationInsn => {
      const op = opcodeInfo(insn);
      return { pc, code: insn.code, text: ebpfText(conv.insns, pc), owner: owner[pc]!, label: op?.label ?? '', semantics: op?.semantics ?? '' };
    });
    migration = { converted: conv, insns, owner };
  }
  const classic = prog.map(
    (insn, pc): ClassicInsnView => ({
      pc,
      insn,
      text: bpfImage(insn, pc),
      ebpf: migration ? [migration.converted.map[2 * pc]!, migration.converted.map[2 * pc + 1]!] : null,
      convertedBy: convertedBy(insn),
    }),
  );
  const attachRej = 'ok' in attachR ? null : attachR;
  const attachDivergence = checkR === null && attachRej !== null ? (ATTACH_DIVERGENCES.find((d) => d.rule === attachRej.rule && d.stage === attachRej.stage) ?? null) : null;
  const runtime =
    attached !== null
      ? {
          jited: attached.migrated.jited,
          interpreter: `__bpf_prog_run${attached.migrated.stackSize}`,
          stackDepth: attached.migrated.converted.stackDepth,
          progSize: attached.migrated.progSize,
          optmemMax: config.optmemMax,
          passes: attached.migrated.converted.passes,
          jit: attached.migrated.jit === null ? null : jitView(attached.migrated.jit),
        }
      : null;
  return { prog, config, classic, check: verdictView(prog, checkR), attach: verdictView(prog, attachRej), attached, migration, runtime, attachDivergence };
}

// ---------------------------------------------------------------------------------------------
// Runs

export interface PacketRun {
  readonly len: number;
  readonly classic: number | null;
  readonly kernel: number | null;
  readonly fault: Fault | null;
  /** the catalogued runtime divergences the classic run reached (whatever the results) */
  readonly divergences: Divergence[];
  /** the catalogue's prediction of the kernel result (classic with the v6.6 decisions), when one fired */
  readonly predicted: number | null;
  /** what the socket does with the kernel path's result (packet_rcv) */
  readonly disposition: string;
}

/** Runs every packet through both evaluators, reusing one machine of each (as `bpfspec run`). */
export class Runner {
  private readonly classicProg: ClassicProgram | null;
  private readonly classicVm: ClassicVm;
  private readonly predictVm: ClassicVm;
  private readonly kernel: KernelRunner | null;

  constructor(readonly a: Analysis) {
    this.classicProg = a.check.accepted ? compileClassic(a.prog) : null;
    this.classicVm = new ClassicVm(a.config);
    this.predictVm = new ClassicVm(a.config, kernelSemantics(a.config));
    this.kernel = a.attached ? new KernelRunner(a.config) : null;
  }

  run(skb: SkBuff, env: Env): PacketRun {
    const classic = this.classicProg ? this.classicVm.run(this.classicProg, skb, env) : null;
    const divergences = this.classicProg ? firedDivergences(this.classicVm.events, this.a.config) : [];
    const predicted = divergences.length > 0 && this.classicProg ? this.predictVm.run(this.classicProg, skb, env) : null;
    const kernel = this.kernel ? this.kernel.run(this.a.attached!, skb, env) : null;
    const fault = this.kernel ? this.kernel.fault : null;
    const len = skbLen(skb);
    const shown = kernel ?? classic;
    return { len, classic, kernel, fault, divergences, predicted, disposition: shown === null ? '' : disposition(shown, len) };
  }
}

/** What the socket does with a result (net/packet/af_packet.c packet_rcv), as `bpfspec run` says it. */
export function disposition(result: number, len: number): string {
  const d = packetRcv(result, len);
  return d.dropped ? 'dropped' : `accepted, ${d.snaplen} of ${len} bytes kept`;
}

// ---------------------------------------------------------------------------------------------
// Lockstep traces

/** One row of the stepper: a classic step and an eBPF step shown together (either may be absent). */
export interface Row {
  /** index into the classic trace, or -1 (the prologue, or after the classic run ended) */
  readonly c: number;
  /** index into the eBPF trace, or -1 (no kernel run, or after it ended) */
  readonly e: number;
  /** which lockstep tick (one classic instruction and the eBPF instructions it became) */
  readonly tick: number;
}

export interface Parting {
  /** the first tick at which the runs differ, or null when they never do */
  readonly tick: number;
  /** the first row of that tick */
  readonly row: number;
  readonly why: string;
}

export interface Lockstep {
  readonly classicTrace: ClassicStep[];
  readonly ebpfTrace: EbpfStep[];
  readonly rows: Row[];
  /** per tick, its first row */
  readonly tickStart: number[];
  readonly parting: Parting | null;
  readonly run: PacketRun;
  readonly classicExit: { readonly pc: number; readonly steps: number } | null;
}

const lo32 = (regs: Uint32Array, r: number): number => regs[2 * r]! >>> 0;

/**
 * Both runs of one packet with their traces, grouped into lockstep ticks: the eBPF steps are grouped
 * by the classic instruction that emitted them (bpf_convert_filter's addrs[]), so tick k pairs the
 * k-th classic step with the k-th group (the prologue is a tick of its own, with no classic step).
 */
export function lockstep(a: Analysis, skb: SkBuff, env: Env): Lockstep {
  const run = new Runner(a).run(skb, env);
  const classicTrace: ClassicStep[] = [];
  const ebpfTrace: EbpfStep[] = [];
  let classicExit: Lockstep['classicExit'] = null;
  if (a.check.accepted) {
    const vm = new ClassicVm(a.config, CLASSIC);
    vm.run(compileClassic(a.prog), skb, env, classicTrace);
    classicExit = { pc: vm.exitPc, steps: vm.steps };
  }
  if (a.attached) new KernelRunner(a.config).run(a.attached, skb, env, ebpfTrace);
  const owner = a.migration?.owner ?? null;
  // eBPF groups: maximal runs of steps with the same owner
  const groups: { owner: number; from: number; to: number }[] = [];
  for (let i = 0; i < ebpfTrace.length; i++) {
    const o = owner ? owner[ebpfTrace[i]!.pc]! : -1;
    const g = groups[groups.length - 1];
    if (g !== undefined && g.owner === o && g.to === i) g.to = i + 1;
    else groups.push({ owner: o, from: i, to: i + 1 });
  }
  const rows: Row[] = [];
  const tickStart: number[] = [];
  let gi = 0;
  let tick = 0;
  if (groups.length > 0 && groups[0]!.owner === -1) {
    tickStart.push(rows.length);
    for (let e = groups[0]!.from; e < groups[0]!.to; e++) rows.push({ c: -1, e, tick });
    gi = 1;
    tick++;
  }
  const ticks = Math.max(classicTrace.length, groups.length - gi);
  let parting: Parting | null = null;
  for (let k = 0; k < ticks; k++, tick++) {
    const c = k < classicTrace.length ? k : -1;
    const g = groups[gi + k];
    tickStart.push(rows.length);
    if (parting === null) {
      const why = partsAt(a, c >= 0 ? classicTrace[c]! : null, g ? ebpfTrace[g.from]! : null, g ? g.owner : -1);
      if (why !== null) parting = { tick, row: rows.length, why };
    }
    if (g === undefined) rows.push({ c, e: -1, tick });
    else for (let e = g.from; e < g.to; e++) rows.push({ c, e, tick });
  }
  if (parting === null && run.classic !== null && run.kernel !== null && run.classic !== run.kernel) {
    const last = tickStart.length - 1;
    parting = { tick: last, row: tickStart[last]!, why: `both runs end here with different results: classic ${hex32(run.classic)}, kernel path ${hex32(run.kernel)}` };
  }
  if (rows.length === 0) rows.push({ c: -1, e: -1, tick: 0 });
  if (tickStart.length === 0) tickStart.push(0);
  return { classicTrace, ebpfTrace, rows, tickStart, parting, run, classicExit };
}

function partsAt(a: Analysis, c: ClassicStep | null, e: EbpfStep | null, owner: number): string | null {
  if (a.attached === null || !a.check.accepted) return null;
  if (c === null && e === null) return null;
  if (c === null) return `the classic run has ended; the kernel path goes on at eBPF pc ${e!.pc} (classic pc ${owner})`;
  if (e === null) return `the kernel path has ended; the classic run goes on at pc ${c.pc}`;
  if (owner !== c.pc) return `the classic run is at pc ${c.pc}, the kernel path at eBPF pc ${e.pc}, which classic pc ${owner} became`;
  if (lo32(e.regs, 0) !== c.A >>> 0) return `A = ${hex32(c.A)} but r0 = ${hex32(lo32(e.regs, 0))} (the converter keeps A in r0)`;
  if (lo32(e.regs, 7) !== c.X >>> 0) return `X = ${hex32(c.X)} but r7 = ${hex32(lo32(e.regs, 7))} (the converter keeps X in r7)`;
  return null;
}

export const hex32 = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

/** A register of an eBPF step as a u64 hex string. */
export function reg64(step: EbpfStep, r: number): string {
  return `0x${step.regs[2 * r + 1]!.toString(16).padStart(8, '0')}${step.regs[2 * r]!.toString(16).padStart(8, '0')}`;
}

/**
 * The interpreter's stack before eBPF step `step` (the bytes from FP - stack size up to FP), read from
 * the model's own memory: the run is repeated with a step budget of `step`, which stops it right before
 * that step. The registers it stopped with are returned too, so the caller can check them against the trace.
 */
export function stackBefore(a: Analysis, skb: SkBuff, env: Env, step: number): { readonly bytes: Uint8Array; readonly regs: Uint32Array } | null {
  if (a.attached === null) return null;
  const runner = new KernelRunner(a.config);
  runner.vm.stepBudget = step;
  runner.run(a.attached, skb, env);
  return { bytes: runner.vm.mem.stack.bytes().slice(), regs: runner.vm.regs.slice(0, 24) };
}

/** The classic view of a step's M[] cell k in the migrated program: it lives at FP - (4k + 4) (F:824). */
export const memSlotOffset = (k: number): number => -(4 * k + 4);
