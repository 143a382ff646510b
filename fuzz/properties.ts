// The fuzzer's properties, as plain checks over one case (a program and the skbs it runs on):
//   1. every generated valid program is accepted; every targeted invalid one is rejected by the
//      rule it targets;
//   2. classic result == kernel-path result, except where a catalogued divergence applies, and then
//      the kernel-path result is exactly what the catalogue predicts (attach verdicts likewise);
//   3. every migrated program runs without a model fault (memory, stack bucket, step budget, helpers
//      the converter never emits);
//   4. the byte encodings round-trip (struct sock_filter and struct bpf_insn images);
//   5. every other judge of the campaign (the compiled backends, fuzz/judges.ts) gives the verdict
//      and the results of the spec judge it names (`against`): the compiled classic program the
//      classic evaluator's, the compiled eBPF program the kernel path's, on every case.
// A check returns null or a Finding; nothing is allocated on the path where everything agrees.
//
// Spec and engines: a Checker made with { engine: true } runs the engines (fuzz/judges.ts
// EngineClassicJudge, EngineKernelJudge: engine/) on every case, and its twin in spec mode (the
// spec-shaped model/ code alone) on every finding, before it is reported, and on one case in
// `specCheck` (default SPEC_CHECK_DEFAULT; 1 = every case), where the two must agree on every
// verdict, result and fault: an engine that differs from the spec is itself a finding ('judge',
// judge 'engine'). Property 4 runs on the cases the spec checks.
import { ClassicVm, EXIT_OOB } from '../model/cbpf/eval.js';
import { decodeProgram, encodeProgram, type Program, type SockFilter } from '../model/cbpf/insn.js';
import type { KernelConfig } from '../model/config.js';
import { fixedConfig } from '../model/variants.js';
import { decodeInsns, encodeInsns } from '../model/ebpf/insn.js';
import type { Fault } from '../model/ebpf/memory.js';
import type { Env, SkBuff } from '../model/skb.js';
import type { Rejection } from '../model/verdict.js';
import type { InvalidCase } from './arb/invalid.js';
import { divergenceEvents, predictAttach, RUNTIME_DIVERGENCES, type RuntimeDivergence } from './divergences.js';
import { ClassicJudge, EngineClassicJudge, EngineKernelJudge, KernelJudge, kernelSemantics, type RunJudge } from './judges.js';
import type { ClassicProgram } from '../model/cbpf/eval.js';
import type { BpfInsn } from '../model/ebpf/insn.js';
import type { EngineJitOutcome } from '../engine/migrate/convert.js';
import type { MigratedProgram } from '../model/migrate/convert.js';
import { ClassicColumns } from '../engine/cbpf/program.js';
import { BPF_MAXINSNS } from '../model/uapi.js';

/** What a finding breaks; 'judge' is property 5 (another judge differs from its spec judge). 'compiled' is the old name of 'judge' for the compiled backends, kept for corpus entries. */
export type PropertyName = 'valid-accepted' | 'invalid-rejected' | 'equivalence' | 'no-fault' | 'roundtrip' | 'judge' | 'compiled';

export interface Finding {
  readonly property: PropertyName;
  readonly message: string;
  readonly prog: Program;
  /** The skb the finding is about (null: about the program alone). */
  readonly skb: SkBuff | null;
  readonly env: Env | null;
  readonly attach: { readonly classic: Rejection | null; readonly kernel: Rejection | null };
  readonly classic: number | null;
  readonly kernel: number | null;
  readonly predicted: number | null;
  readonly fault: Fault | null;
  /** Property 5: the judge that differs from its spec judge (null for the other properties). */
  readonly judge?: string;
}

/** What a campaign counts. Plain numbers and maps, merged across workers. */
export interface Stats {
  programs: number;
  pairs: number;
  invalid: number;
  /** divergence id -> (program, skb) pairs (runtime) or programs (attach) where it showed */
  divergences: Record<string, number>;
  /** invalid rule -> cases */
  invalidRules: Record<string, number>;
}

export const newStats = (): Stats => ({ programs: 0, pairs: 0, invalid: 0, divergences: {}, invalidRules: {} });

/**
 * A fresh count for one chunk of a campaign or one spec check, whose records are null-prototype
 * objects: a chunk adds its keys in the order its cases meet them, and a plain object takes a new
 * hidden class for each new order (0.2-0.9 us per count, against 0.05-0.1 us here). Reports merge
 * them (mergeStats) into newStats()' plain records.
 */
export const newCounts = (): Stats => ({ programs: 0, pairs: 0, invalid: 0, divergences: Object.create(null) as Record<string, number>, invalidRules: Object.create(null) as Record<string, number> });

export function mergeStats(into: Stats, from: Stats): void {
  into.programs += from.programs;
  into.pairs += from.pairs;
  into.invalid += from.invalid;
  for (const [k, v] of Object.entries(from.divergences)) into.divergences[k] = (into.divergences[k] ?? 0) + v;
  for (const [k, v] of Object.entries(from.invalidRules)) into.invalidRules[k] = (into.invalidRules[k] ?? 0) + v;
}

const bump = (m: Record<string, number>, k: string): void => {
  m[k] = (m[k] ?? 0) + 1;
};

const sameVerdict = (a: Rejection | null, b: Rejection | null): boolean =>
  a === b || (a !== null && b !== null && a.errno === b.errno && a.stage === b.stage && a.rule === b.rule && a.pc === b.pc);

const verdictText = (r: Rejection | null): string => (r === null ? 'accepted' : `${r.errno} ${r.stage}/${r.rule} at pc ${r.pc}`);

/** An input of a case: the skb and environment one run sees. */
export interface CaseInput {
  readonly skb: SkBuff;
  readonly env: Env;
}

/** The classic side of a Checker: the spec's ClassicJudge or the engine's. */
type ClassicSide = RunJudge & { readonly vm: ClassicVm; readonly program: ClassicProgram };
/** The kernel side of a Checker: the spec's KernelJudge or the engine's. */
type KernelSide = RunJudge & { migratedInsns(): readonly BpfInsn[] };

/** The spec checks one case in this many, by default (`--spec-check N`; 1 = every case). */
export const SPEC_CHECK_DEFAULT = 64;

export interface CheckerOptions {
  /** run the engines on every case, the spec on findings and on one case in `specCheck` */
  readonly engine?: boolean;
  /** one case in this many is checked by the spec too (engine mode); 1 = every case */
  readonly specCheck?: number;
}

/** Checks cases against the properties, reusing its judges and VMs for every case. */
export class Checker {
  readonly classic: ClassicSide;
  readonly kernel: KernelSide;
  /** the spec-mode twin that re-judges findings and checks the sampled cases (engine mode), else null */
  readonly spec: Checker | null;
  private readonly specEvery: number;
  /** cases the spec checked besides findings (engine mode) */
  specChecked = 0;
  /** what the last check saw, for the engine/spec comparison (null: not recording) */
  private record: string[] | null = null;
  /** classic with every v6.6 decision: the catalogue's exact prediction */
  private readonly predictVm: ClassicVm;
  /** per runtime entry: classic with that entry's decision alone, for attribution */
  private readonly entryVms: readonly (readonly [RuntimeDivergence, ClassicVm])[];
  private readonly eventMask: number;
  /** The fixed kernel `config` stands for (model/variants.ts fixedConfig): what the catalogue predicts with. */
  readonly fixed: KernelConfig;
  stats: Stats = newStats();
  /** Whether to also check the byte encodings (property 4) on each program. */
  roundtrip = true;

  constructor(
    readonly config: KernelConfig,
    /** The campaign's other synchronous judges (property 5), each compared with the spec judge it names. */
    readonly others: readonly RunJudge[] = [],
    opts: CheckerOptions = {},
  ) {
    for (const j of others) if (j.against === null) throw new RangeError(`Checker: judge ${j.name} names no spec judge to be compared with`);
    const engine = opts.engine === true;
    const cols = new ClassicColumns();
    this.classic = engine ? new EngineClassicJudge(config, undefined, cols) : new ClassicJudge(config);
    this.kernel = engine ? new EngineKernelJudge(config, cols) : new KernelJudge(config);
    this.spec = engine ? new Checker(config, others) : null;
    this.specEvery = Math.max(1, Math.floor(opts.specCheck ?? SPEC_CHECK_DEFAULT));
    if (engine) this.roundtrip = false;
    // Predictions come from the fixed kernel: a historical variant (model/variants.ts) flips
    // decisions of the judges, never of the catalogue.
    const fixed = fixedConfig(config);
    this.fixed = fixed;
    const sem = kernelSemantics(fixed);
    this.predictVm = new ClassicVm(config, sem);
    this.entryVms = RUNTIME_DIVERGENCES.filter((d) => !d.when || d.when(fixed)).map(
      (d) => [d, new ClassicVm(config, { ...this.classic.vm.sem, ...d.decision })] as const,
    );
    this.eventMask = divergenceEvents(fixed);
    // the catalogue's JIT prediction reads the engine's JIT run of the same program when the kernel
    // path runs the fixed record (else it converts and runs model/jit itself)
    const k = this.kernel;
    this.jitOutcome = k instanceof EngineKernelJudge && fixed === config ? () => k.jitOutcome() : undefined;
    // in spec mode, the migration (model/migrate bpfMigrateFilter, with the JIT's passes) the kernel
    // path made of the same program under the same record, rather than a second one
    this.migration = k instanceof KernelJudge && fixed === config ? () => k.migration() : undefined;
    this.cols = engine ? cols : null;
  }

  private readonly jitOutcome: (() => EngineJitOutcome | null) | undefined;
  private readonly migration: (() => MigratedProgram | Rejection | undefined) | undefined;
  /** the columns the engine judges share (engine mode), else null */
  private readonly cols: ClassicColumns | null;

  private finding(
    property: PropertyName,
    message: string,
    prog: Program,
    input: CaseInput | null,
    attach: Finding['attach'],
    classic: number | null = null,
    kernel: number | null = null,
    predicted: number | null = null,
    fault: Fault | null = null,
  ): Finding {
    return { property, message, prog, skb: input?.skb ?? null, env: input?.env ?? null, attach, classic, kernel, predicted, fault };
  }

  /** Properties 1 (valid side), 2, 3, 4 and 5 for a valid program and its inputs. */
  checkValid(prog: Program, inputs: readonly CaseInput[]): Finding | null {
    if (this.spec === null) return this.checkValidWith(prog, inputs);
    const sample = this.sampled(prog);
    this.record = sample ? [] : null;
    const f = this.checkValidWith(prog, inputs);
    if (f === null && !sample) return null;
    return this.withSpec(prog, f, sample, () => this.spec!.checkValidWith(prog, inputs));
  }

  /** Property 1 (invalid side): the targeted rule is the one the kernel path reports. */
  checkInvalid(inv: InvalidCase): Finding | null {
    if (this.spec === null) return this.checkInvalidWith(inv);
    const sample = this.sampled(inv.prog);
    this.record = sample ? [] : null;
    const f = this.checkInvalidWith(inv);
    if (f === null && !sample) return null;
    return this.withSpec(inv.prog, f, sample, () => this.spec!.checkInvalidWith(inv));
  }

  // Which cases the spec checks is a function of the program (so a sampled case replays sampled):
  // caseHash, read from the columns the engine judges load the program into anyway (the same
  // numbers; a program longer than BPF_MAXINSNS is not copied into them).
  private sampled(prog: Program): boolean {
    if (this.specEvery === 1) return true;
    const h = prog.length > BPF_MAXINSNS ? caseHash(prog) : caseHashColumns(this.cols!.load(prog));
    return h % this.specEvery === 0;
  }

  // Engine mode, after the engines' check `f` of a case that found something or is sampled: the
  // spec's check, which decides a finding, and on a sampled case must see every verdict, result and
  // fault the engines saw.
  private withSpec(prog: Program, f: Finding | null, sample: boolean, spec: () => Finding | null): Finding | null {
    const seen = this.record;
    this.record = null;
    const twin = this.spec!;
    twin.stats = newCounts();
    twin.record = [];
    const sf = spec();
    const specSeen = twin.record;
    twin.record = null;
    if (sample) this.specChecked++;
    if (f !== null) {
      if (sf !== null) return sf;
      return this.engineFinding(`the engines found ${f.property} (${f.message}), the spec finds nothing`, f);
    }
    if (sf !== null) return { ...sf, message: `${sf.message} (missed by the engines)` };
    const n = Math.max(seen!.length, specSeen.length);
    for (let i = 0; i < n; i++)
      if (seen![i] !== specSeen[i]) return this.engineFinding(`the engines saw '${seen![i] ?? 'nothing'}', the spec '${specSeen[i] ?? 'nothing'}'`, null, prog);
    return null;
  }

  private engineFinding(message: string, like: Finding | null, prog?: Program): Finding {
    const base = like ?? this.finding('judge', message, prog!, null, { classic: null, kernel: null });
    return { ...base, property: 'judge', judge: 'engine', message };
  }

  private checkValidWith(prog: Program, inputs: readonly CaseInput[]): Finding | null {
    this.stats.programs++;
    const cv = this.classic.load(prog);
    const kv = this.kernel.load(prog);
    const attach = { classic: cv, kernel: kv };
    if (this.record !== null) this.record.push(`classic ${verdictText(cv)}`, `kernel ${verdictText(kv)}`);
    if (cv !== null) return this.finding('valid-accepted', `generated valid program rejected: ${verdictText(cv)}`, prog, null, attach);
    const ov = this.loadOthers(prog, attach);
    if (ov !== null) return ov;
    if (this.roundtrip) {
      const rt = this.checkRoundtrip(prog);
      if (rt !== null) return this.finding('roundtrip', rt, prog, null, attach);
    }
    const predicted = predictAttach(prog, this.fixed, this.jitOutcome, this.migration);
    if (kv !== null || predicted !== null) {
      const want = predicted === null ? null : predicted.divergence;
      const rule = predicted?.rule ?? want?.rule;
      if (kv === null || want === null || kv.errno !== want.errno || kv.stage !== want.stage || kv.rule !== rule || (predicted!.pc !== null && kv.pc !== predicted!.pc))
        return this.finding(
          'equivalence',
          `attach: classic accepts; kernel path ${verdictText(kv)}; catalogue predicts ${want ? `${want.errno} ${want.stage}/${rule} at pc ${predicted!.pc}` : 'accepted'}`,
          prog,
          null,
          attach,
        );
      bump(this.stats.divergences, want.id);
      return null;
    }
    if (this.roundtrip) {
      const rt = this.checkEbpfRoundtrip();
      if (rt !== null) return this.finding('roundtrip', rt, prog, null, attach);
    }
    const cp = this.classic.program;
    const others = this.others;
    for (const input of inputs) {
      this.stats.pairs++;
      const c = this.classic.run(input.skb, input.env);
      const events = this.classic.vm.events & this.eventMask;
      const k = this.kernel.run(input.skb, input.env);
      const fault = this.kernel.fault;
      if (this.record !== null) this.record.push(`classic ${c} events ${events}, kernel ${k} fault ${fault?.kind ?? 'none'} at ${fault?.pc ?? -1}`);
      if (fault !== null)
        return this.finding('no-fault', `model fault in the kernel path: ${fault.kind} at eBPF pc ${fault.pc}: ${fault.detail}`, prog, input, attach, c, k, null, fault);
      // Only historical variants (model/variants.ts) let the classic evaluator read past the skb.
      if (this.classic.vm.exit === EXIT_OOB)
        return this.finding('no-fault', `classic evaluator read past the end of the skb at pc ${this.classic.vm.exitPc}`, prog, input, attach, c, k);
      for (let j = 0; j < others.length; j++) {
        const o = others[j]!;
        const want = o.against === 'classic' ? c : k;
        const got = o.run(input.skb, input.env);
        const of = o.fault;
        if (of !== null || got !== want)
          return this.judgeFinding(
            o,
            of ? `${o.name} faulted: ${of.kind} at pc ${of.pc}: ${of.detail}` : `${o.name} ${got} != ${o.against === 'classic' ? 'classic evaluator' : 'kernel path'} ${want}`,
            prog,
            input,
            attach,
            c,
            k,
            of,
          );
      }
      if (events === 0) {
        if (c !== k) return this.finding('equivalence', `classic ${c} != kernel ${k}, and no catalogued divergence applies`, prog, input, attach, c, k);
        continue;
      }
      // A catalogued decision point was reached: the kernel must give exactly the prediction.
      const p = this.predictVm.run(cp, input.skb, input.env);
      if (k !== p) return this.finding('equivalence', `kernel ${k} != catalogue prediction ${p} (classic ${c})`, prog, input, attach, c, k, p);
      if (c !== k) this.attribute(events, k, input);
    }
    return null;
  }

  // Count a divergence against the entries whose decision alone turns the classic result into the
  // kernel's; when no single one does, against the combination of those that fired.
  private attribute(events: number, k: number, input: CaseInput): void {
    const cp = this.classic.program;
    let hit = false;
    for (const [d, vm] of this.entryVms) {
      if ((events & d.events) === 0) continue;
      if (vm.run(cp, input.skb, input.env) === k) {
        bump(this.stats.divergences, d.id);
        hit = true;
      }
    }
    if (!hit)
      bump(
        this.stats.divergences,
        this.entryVms
          .filter(([d]) => (events & d.events) !== 0)
          .map(([d]) => d.id)
          .join('+'),
      );
  }

  private judgeFinding(o: RunJudge, message: string, prog: Program, input: CaseInput | null, attach: Finding['attach'], c: number | null, k: number | null, fault: Fault | null): Finding {
    return { ...this.finding('judge', message, prog, input, attach, c, k, null, fault), judge: o.name };
  }

  // Property 5 for verdicts: each other judge loads the program and must accept it exactly when its
  // spec judge does, and reject it with the same errno.
  private loadOthers(prog: Program, attach: Finding['attach']): Finding | null {
    for (const o of this.others) {
      const want = o.against === 'classic' ? attach.classic : attach.kernel;
      const got = o.load(prog);
      if ((got === null) !== (want === null) || (got !== null && want !== null && got.errno !== want.errno))
        return this.judgeFinding(o, `attach: ${o.name} ${verdictText(got)}, ${o.against === 'classic' ? 'classic evaluator' : 'kernel path'} ${verdictText(want)}`, prog, null, attach, null, null, null);
    }
    return null;
  }

  private checkInvalidWith(inv: InvalidCase): Finding | null {
    this.stats.invalid++;
    bump(this.stats.invalidRules, inv.targets);
    const kv = this.kernel.load(inv.prog);
    const cv = this.classic.load(inv.prog);
    const attach = { classic: cv, kernel: kv };
    if (this.record !== null) this.record.push(`classic ${verdictText(cv)}`, `kernel ${verdictText(kv)}`);
    if (kv === null || kv.rule !== inv.targets || kv.stage !== inv.stage || (inv.pc !== null && kv.pc !== inv.pc))
      return this.finding(
        'invalid-rejected',
        `program aimed at ${inv.stage}/${inv.targets}${inv.pc === null ? '' : ` at pc ${inv.pc}`} (${inv.how}): kernel path ${verdictText(kv)}`,
        inv.prog,
        null,
        attach,
      );
    // The check stage is the same code on both sides: its verdicts must be identical.
    if (inv.stage === 'check' && !sameVerdict(cv, kv))
      return this.finding('invalid-rejected', `checker verdicts differ: classic ${verdictText(cv)}, kernel ${verdictText(kv)}`, inv.prog, null, attach);
    return this.loadOthers(inv.prog, attach);
  }

  /** Property 4: the program image and the migrated eBPF image decode to what was encoded. */
  checkRoundtrip(prog: Program): string | null {
    for (const endian of ['little', 'big'] as const) {
      const back = decodeProgram(encodeProgram(prog, endian), endian);
      if (!back.ok || !sameProgram(back.prog, prog)) return `struct sock_filter image does not round-trip (${endian}-endian)`;
    }
    return null;
  }

  /** Property 4 for the migrated program (after an accepting kernel load). */
  checkEbpfRoundtrip(): string | null {
    const insns = this.kernel.migratedInsns();
    const back = decodeInsns(encodeInsns(insns));
    if (!back.ok || back.insns.length !== insns.length) return 'struct bpf_insn image does not round-trip';
    for (let i = 0; i < insns.length; i++) {
      const a = insns[i]!;
      const b = back.insns[i]!;
      if (a.code !== b.code || a.dst !== b.dst || a.src !== b.src || a.off !== b.off || a.imm !== b.imm) return `struct bpf_insn ${i} does not round-trip`;
    }
    return null;
  }
}

/**
 * A 32-bit hash of a program (FNV-1a over its length and the code, k, jt and jf of its first and last
 * CASE_HASH_INSNS instructions, then finished by fmix32): the spec-check sample.
 */
export function caseHash(prog: Program): number {
  let h = Math.imul(0x811c9dc5 ^ prog.length, 0x01000193);
  const n = prog.length;
  for (let i = 0; i < n; i++) {
    // the ends of a long program (a fill in the middle adds nothing and costs a walk)
    if (i === CASE_HASH_INSNS && n > 2 * CASE_HASH_INSNS) i = n - CASE_HASH_INSNS;
    const x = prog[i]!;
    h = Math.imul(h ^ x.code, 0x01000193);
    h = Math.imul(h ^ (x.k >>> 0), 0x01000193);
    h = Math.imul(h ^ ((x.jt << 8) | x.jf), 0x01000193);
  }
  return fmix32(h);
}

/** caseHash of the program `cols` holds (loaded by ClassicColumns.load: the same fields, checked to their C widths). */
export function caseHashColumns(cols: ClassicColumns): number {
  const n = cols.len;
  const code = cols.code;
  const k = cols.k;
  const jt = cols.jt;
  const jf = cols.jf;
  let h = Math.imul(0x811c9dc5 ^ n, 0x01000193);
  for (let i = 0; i < n; i++) {
    if (i === CASE_HASH_INSNS && n > 2 * CASE_HASH_INSNS) i = n - CASE_HASH_INSNS;
    h = Math.imul(h ^ code[i]!, 0x01000193);
    h = Math.imul(h ^ k[i]!, 0x01000193);
    h = Math.imul(h ^ ((jt[i]! << 8) | jf[i]!), 0x01000193);
  }
  return fmix32(h);
}

// MurmurHash3's finaliser. FNV's multiply carries low bits up, never down: without it the low 6 bits
// of the hash (h % 64, the sample) depend only on the low 6 bits of every field, so that programs
// differing only above them (a long fill of one instruction at offsets 64 apart, say) were sampled
// all together or not at all (test/fuzz/predict.test.ts).
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Instructions caseHash reads at each end of a program. */
export const CASE_HASH_INSNS = 64;

export function sameProgram(a: readonly SockFilter[], b: readonly SockFilter[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.code !== y.code || x.jt !== y.jt || x.jf !== y.jf || x.k >>> 0 !== y.k >>> 0) return false;
  }
  return true;
}
