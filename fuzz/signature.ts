// Findings, one per bug: a finding's signature names the bug it shows rather than the case that
// shows it, so that a campaign against a buggy model (or kernel) keeps one case per bug instead of
// hundreds. A signature is made of
//   - the property the case breaks (fuzz/properties.ts PropertyName),
//   - the judges that disagree (classic,kernel for properties 1-4; the other judge for property 5),
//   - the catalogue state: which catalogued divergences (fuzz/divergences.ts) the case reached
//     (their decision points fired in the classic run, or the attach prediction), or none,
//   - the first instruction where the runs part: the classic instruction after which the classic
//     evaluator's A and X and the kernel path's r0 and r7 first differ (as `bpfspec run` marks it),
//     the instruction of a model fault, or the instruction an attach verdict names; written as the
//     opcode and its operand kind (`0x34 alu.div.k`), never its position or constant, so that the
//     same bug in two programs gets the same signature.
// A signature is a function of the finding alone: the same seed gives the same signatures, whatever
// the number of workers or shards. Among the findings of one signature the campaign keeps the
// smallest case (fewest instructions, then fewest packet bytes, then the earliest chunk).
import { createHash } from 'node:crypto';
import { ClassicVm, compileClassic, type ClassicStep } from '../model/cbpf/eval.js';
import type { Program, SockFilter } from '../model/cbpf/insn.js';
import type { KernelConfig } from '../model/config.js';
import type { EbpfStep } from '../model/ebpf/interp.js';
import { fixedConfig } from '../model/variants.js';
import { SKF_AD_OFF, SKF_LL_OFF, SKF_NET_OFF } from '../model/uapi.js';
import type { Rejection } from '../model/verdict.js';
import { firedDivergences, predictAttach } from './divergences.js';
import { KernelJudge } from './judges.js';
import type { Finding } from './properties.js';

const SIZES = new Map([
  [0x00, 'w'],
  [0x08, 'h'],
  [0x10, 'b'],
]);
const MODES = new Map([
  [0x00, 'imm'],
  [0x20, 'abs'],
  [0x40, 'ind'],
  [0x60, 'mem'],
  [0x80, 'len'],
  [0xa0, 'msh'],
]);
const ALU_OPS = new Map([
  [0x00, 'add'],
  [0x10, 'sub'],
  [0x20, 'mul'],
  [0x30, 'div'],
  [0x40, 'or'],
  [0x50, 'and'],
  [0x60, 'lsh'],
  [0x70, 'rsh'],
  [0x80, 'neg'],
  [0x90, 'mod'],
  [0xa0, 'xor'],
]);
const JMP_OPS = new Map([
  [0x00, 'ja'],
  [0x10, 'jeq'],
  [0x20, 'jgt'],
  [0x30, 'jge'],
  [0x40, 'jset'],
]);
const RVALS = new Map([
  [0x00, 'k'],
  [0x08, 'x'],
  [0x10, 'a'],
]);

/** The region an absolute or indirect load's k names: an ancillary field, the network or link layer, or the packet. */
function region(k: number): string {
  const s = k | 0;
  if (s >= SKF_AD_OFF && s < 0) return `ad${s - SKF_AD_OFF}`;
  if (s >= SKF_NET_OFF && s < 0) return 'net';
  if (s >= SKF_LL_OFF && s < 0) return 'll';
  return s < 0 ? 'neg' : 'pkt';
}

/** An instruction by its opcode and operand kind: `0x34 alu.div.k`, `0x20 ld.w.abs.ad4` (not its constants). */
export function insnName(insn: SockFilter | undefined): string {
  if (insn === undefined) return 'none';
  const code = insn.code;
  const hex = `0x${code.toString(16).padStart(2, '0')}`;
  const src = (code & 0x08) !== 0 ? 'x' : 'k';
  let name: string;
  switch (code & 0x07) {
    case 0:
    case 1: {
      const mode = MODES.get(code & 0xe0) ?? '?';
      name = `${(code & 7) === 0 ? 'ld' : 'ldx'}.${SIZES.get(code & 0x18) ?? '?'}.${mode}${mode === 'abs' || mode === 'ind' ? `.${region(insn.k)}` : ''}`;
      break;
    }
    case 2:
      name = 'st';
      break;
    case 3:
      name = 'stx';
      break;
    case 4:
      name = `alu.${ALU_OPS.get(code & 0xf0) ?? '?'}.${src}`;
      break;
    case 5:
      name = `jmp.${JMP_OPS.get(code & 0xf0) ?? '?'}${(code & 0xf0) === 0 ? '' : `.${src}`}`;
      break;
    case 6:
      name = `ret.${RVALS.get(code & 0x18) ?? '?'}`;
      break;
    default:
      name = (code & 0xf8) === 0x80 ? 'misc.txa' : (code & 0xf8) === 0 ? 'misc.tax' : 'misc.?';
  }
  return `${hex} ${name}`;
}

const rejectionPart = (r: Rejection, prog: Program): string => `${r.stage}/${r.rule}${r.pc !== null ? ` at ${insnName(prog[r.pc])}` : ''}`;

/** The catalogued divergences whose decision points the classic run of (prog, skb) reached, or 'none'. */
function cataloguePart(f: Finding, config: KernelConfig): string {
  const fixed = fixedConfig(config);
  if (f.skb === null || f.env === null) {
    let p: ReturnType<typeof predictAttach> = null;
    try {
      p = predictAttach(f.prog, fixed);
    } catch {
      p = null;
    }
    return p === null ? 'none' : p.divergence.id;
  }
  const vm = new ClassicVm(config);
  vm.run(compileClassic(f.prog), f.skb, f.env);
  const ids = firedDivergences(vm.events, fixed).map((d) => d.id);
  return ids.length === 0 ? 'none' : ids.join('+');
}

/** The first classic instruction where the classic run and the kernel path's part (see the file comment). */
function partingPart(f: Finding, config: KernelConfig): string {
  const prog = f.prog;
  if (f.skb === null || f.env === null) {
    const r = f.attach.kernel ?? f.attach.classic;
    return r !== null ? rejectionPart(r, prog) : 'attach accepted';
  }
  const kernel = new KernelJudge(config);
  if (kernel.load(prog) !== null) {
    const r = f.attach.kernel ?? f.attach.classic;
    return r !== null ? rejectionPart(r, prog) : 'attach';
  }
  const { map } = kernel.filter.migrated.converted;
  const classicPcOf = (epc: number): number => {
    for (let pc = 0; pc < prog.length; pc++) if (epc >= map[2 * pc]! && epc < map[2 * pc + 1]!) return pc;
    return -1;
  };
  const ktrace: EbpfStep[] = [];
  kernel.run(f.skb, f.env, ktrace);
  if (f.fault !== null) {
    const pc = classicPcOf(f.fault.pc);
    return `fault ${f.fault.kind} at ${pc < 0 ? 'the prologue' : insnName(prog[pc])}`;
  }
  const ctrace: ClassicStep[] = [];
  new ClassicVm(config).run(compileClassic(prog), f.skb, f.env, ctrace);
  // as cli/report.ts sideBySide: compare A, X with r0, r7 where each classic step starts
  let ki = 0;
  let prev: ClassicStep | null = null;
  for (const step of ctrace) {
    const start = map[2 * step.pc]!;
    while (ki < ktrace.length && ktrace[ki]!.pc !== start) ki++;
    const first = ktrace[ki];
    const same = first !== undefined && first.regs[0] === step.A && first.regs[1] === 0 && first.regs[14] === step.X && first.regs[15] === 0;
    if (!same) return prev === null ? `entry of ${insnName(prog[step.pc])}` : insnName(prog[prev.pc]);
    prev = step;
  }
  return prev === null ? 'no step' : `exit at ${insnName(prog[prev.pc])}`;
}

/** The signature of a finding (see the file comment): `property | judges | catalogue | where the runs part`. */
export function findingSignature(f: Finding, config: KernelConfig): string {
  const judges = f.property === 'judge' || f.property === 'compiled' ? (f.judge ?? 'judge') : 'classic,kernel';
  let parting: string;
  let catalogue: string;
  try {
    catalogue = cataloguePart(f, config);
    parting = partingPart(f, config);
  } catch (e) {
    // a model that throws on the case is itself the bug: its signature is where it throws
    catalogue = 'unknown';
    parting = `throws ${e instanceof Error ? e.constructor.name : 'value'}`;
  }
  return `${f.property} | ${judges} | catalogue ${catalogue} | ${parting}`;
}

/** A short stable id of a signature (12 hex digits of its SHA-256), for file names and tables. */
export const signatureId = (signature: string): string => createHash('sha256').update(signature).digest('hex').slice(0, 12);

/** How big a finding's case is: instructions, then packet bytes (smaller is kept). */
export interface CaseSize {
  readonly insns: number;
  readonly bytes: number;
}

export const caseSize = (f: Finding): CaseSize => ({ insns: f.prog.length, bytes: f.skb?.data.length ?? 0 });

/** Whether case a (found in chunk ca) is smaller than case b (chunk cb): instructions, bytes, then the earlier chunk. */
export function smaller(a: CaseSize, ca: number, b: CaseSize, cb: number): boolean {
  if (a.insns !== b.insns) return a.insns < b.insns;
  if (a.bytes !== b.bytes) return a.bytes < b.bytes;
  return ca < cb;
}

/** One signature of a campaign: how many findings showed it and the smallest of them. */
export interface SignatureEntry<F> {
  readonly signature: string;
  readonly id: string;
  count: number;
  best: F;
  bestSize: CaseSize;
  bestChunk: number;
  /** the chunk of its first finding (signatures are listed in this order) */
  firstChunk: number;
}

/**
 * The signatures of a campaign. Findings may be offered in any order: the kept case of a signature
 * is the smallest by `smaller`, so the result depends only on the set of findings.
 */
export class SignatureSet<F> {
  private readonly bySig = new Map<string, SignatureEntry<F>>();

  /** Count a finding; 'new' for a signature not seen before, 'smaller' when it replaces the kept case, else 'kept'. */
  offer(signature: string, f: F, size: CaseSize, chunk: number): { status: 'new' | 'smaller' | 'kept'; entry: SignatureEntry<F>; previous: F | null } {
    const e = this.bySig.get(signature);
    if (e === undefined) {
      const entry: SignatureEntry<F> = { signature, id: signatureId(signature), count: 1, best: f, bestSize: size, bestChunk: chunk, firstChunk: chunk };
      this.bySig.set(signature, entry);
      return { status: 'new', entry, previous: null };
    }
    e.count++;
    if (chunk < e.firstChunk) e.firstChunk = chunk;
    if (!smaller(size, chunk, e.bestSize, e.bestChunk)) return { status: 'kept', entry: e, previous: null };
    const previous = e.best;
    e.best = f;
    e.bestSize = size;
    e.bestChunk = chunk;
    return { status: 'smaller', entry: e, previous };
  }

  get size(): number {
    return this.bySig.size;
  }

  has(signature: string): boolean {
    return this.bySig.has(signature);
  }

  /** The signatures, by the chunk of their first finding, then by name. */
  entries(): SignatureEntry<F>[] {
    return [...this.bySig.values()].sort((a, b) => a.firstChunk - b.firstChunk || (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0));
  }
}
