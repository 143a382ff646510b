// One outside judge's answer against Linux, case by case: the verdicts, then per packet the results.
// Linux is the spec's kernel path (skAttachFilter, then the migrated program on the eBPF
// interpreter). Every difference must be explained exactly by the implementation's catalogue
// (fuzz/impl/catalogue.ts): a runtime entry whose event fired and whose model prediction the
// implementation met, a verdict entry that predicts or explains the rejection, or Linux's attach
// limits. Anything else is a finding. Where no entry fired, the implementation must give exactly
// Linux's result.
import type { Program } from '../../model/cbpf/insn.js';
import type { KernelConfig } from '../../model/config.js';
import type { BpfInsn } from '../../model/ebpf/insn.js';
import type { JudgeAnswer, JudgeResult, SkbInput } from '../../model/judge.js';
import type { Rejection } from '../../model/verdict.js';
import { KernelJudge } from '../judges.js';
import { catalogueEvents, firedEntries, type ImplCatalogue, type ImplEntry, type Rejected, type VerdictEntry } from './catalogue.js';
import { EV_UNNAMED, ImplModel, type Prediction } from './model.js';

/** One packet's outcome as the adapter reported it (oracle/outside/protocol.ts PacketResult). */
export type ImplResult =
  | { readonly status: 'value'; readonly value: number }
  | { readonly status: 'error'; readonly message: string }
  | { readonly status: 'signal'; readonly signal: number; readonly message: string };

/** An adapter's answer for one case (oracle/outside/protocol.ts Answer, the parts compared here). */
export interface ImplRun {
  readonly verdict: { readonly code: number; readonly stage: string; readonly message: string };
  readonly results: readonly ImplResult[];
  readonly ebpf?: readonly BpfInsn[];
  readonly jit?: { readonly available: boolean; readonly results: readonly ImplResult[] };
}

/** The view of an answer a catalogue judges: the interpreter's results, or the JIT's (dpdk-jit). */
export function engineRun(run: ImplRun, engine: 'interpreter' | 'jit'): ImplRun {
  if (engine === 'interpreter' || run.verdict.code !== 0) return run;
  if (!run.jit) return { ...run, verdict: { code: -1, stage: 'rte_bpf_get_jit', message: 'the JIT was not run (no jit section)' }, results: [] };
  if (!run.jit.available) return { ...run, verdict: { code: -1, stage: 'rte_bpf_get_jit', message: 'no JIT code for this program' }, results: [] };
  return { ...run, results: run.jit.results };
}

/** An answer as a JudgeAnswer (model/judge.ts): a caught signal or a returned error is a fault with result 0. */
export function implJudgeAnswer(run: ImplRun): JudgeAnswer {
  if (run.verdict.code !== 0) return { verdict: { accepted: false, errno: 0, message: `${run.verdict.stage}: ${run.verdict.message}` }, results: [] };
  return {
    verdict: { accepted: true },
    results: run.results.map((r): JudgeResult =>
      r.status === 'value'
        ? { known: 'exact', value: r.value >>> 0 }
        : { known: 'exact', value: 0, fault: { kind: r.status, pc: -1, detail: r.status === 'error' ? r.message : `signal ${r.signal} (${r.message})` } },
    ),
  };
}

/** One packet of a case: model/judge.ts SkbInput. */
export type CaseInput = SkbInput;

/** What a comparison counts (plain numbers and maps, merged across chunks). */
export interface ImplStats {
  /** programs judged */
  programs: number;
  /** generated programs the judge does not support (counted, never judged) */
  unsupported: number;
  /** (program, packet) pairs compared */
  pairs: number;
  /** pairs where the implementation gave exactly Linux's result */
  agreed: number;
  /** programs both Linux's attach path and the implementation refused */
  bothRejected: number;
  /** catalogue entry id (or ids joined by '+') -> pairs (runtime) or programs (verdict, attach limits) */
  differences: Record<string, number>;
  /** results that were a caught signal (each explained by an entry, or a finding) */
  signals: number;
}

export const newImplStats = (): ImplStats => ({ programs: 0, unsupported: 0, pairs: 0, agreed: 0, bothRejected: 0, differences: {}, signals: 0 });

export function mergeImplStats(into: ImplStats, from: ImplStats): void {
  into.programs += from.programs;
  into.unsupported += from.unsupported;
  into.pairs += from.pairs;
  into.agreed += from.agreed;
  into.bothRejected += from.bothRejected;
  into.signals += from.signals;
  for (const [k, v] of Object.entries(from.differences)) into.differences[k] = (into.differences[k] ?? 0) + v;
}

const bump = (m: Record<string, number>, k: string, n = 1): void => {
  m[k] = (m[k] ?? 0) + n;
};

/** A difference no catalogue entry explains. */
export interface ImplFinding {
  readonly judge: string;
  readonly message: string;
  readonly prog: Program;
  /** the input the finding is about (null: about the verdict) */
  readonly input: number | null;
  readonly linux: { readonly verdict: string; readonly result: number | null };
  readonly impl: { readonly verdict: string; readonly result: string | null };
  readonly predicted: string | null;
}

export const resultText = (r: ImplResult | undefined): string =>
  r === undefined ? 'no result' : r.status === 'value' ? String(r.value >>> 0) : r.status === 'error' ? `error: ${r.message}` : `signal ${r.signal}: ${r.message}`;

export const predictionText = (p: Prediction): string => (p.kind === 'value' ? String(p.value >>> 0) : `out of bounds (${p.detail})`);

const rejectionText = (r: Rejection | null): string => (r === null ? 'accepted' : `${r.errno} ${r.stage}/${r.rule}`);

const runVerdictText = (v: ImplRun['verdict']): string => (v.code === 0 ? 'accepted' : `rejected by ${v.stage} (${v.code}): ${v.message}`);

/** Whether an implementation's result meets the model's prediction exactly. */
export function meetsPrediction(r: ImplResult | undefined, p: Prediction): boolean {
  if (r === undefined) return false;
  if (p.kind === 'oob') return r.status === 'value' || r.status === 'signal';
  return r.status === 'value' && r.value >>> 0 === p.value >>> 0;
}

/** The verdict entry that predicts or explains a rejection, or null. */
export function explainRejection(cat: ImplCatalogue, prog: Program, r: Rejected): VerdictEntry | null {
  for (const e of cat.entries) {
    if (e.kind !== 'verdict') continue;
    if (e.predict) {
      const p = e.predict(prog);
      if (p !== null) return p.stage === r.stage && p.code === r.code && p.reason.test(r.message) ? e : null;
    }
  }
  for (const e of cat.entries) if (e.kind === 'verdict' && e.explains?.(prog, r)) return e;
  return null;
}

/** The rejection the catalogue predicts from the program alone, or null. */
export function predictedRejection(cat: ImplCatalogue, prog: Program): { entry: VerdictEntry; stage: string; code: number; reason: RegExp } | null {
  for (const e of cat.entries) {
    if (e.kind !== 'verdict' || !e.predict) continue;
    const p = e.predict(prog);
    if (p !== null) return { entry: e, ...p };
  }
  return null;
}

/** Compares one outside judge's answers with Linux, keeping counts; reuses its VMs. */
export class ImplComparator {
  readonly kernel: KernelJudge;
  readonly model: ImplModel;
  stats: ImplStats = newImplStats();
  private readonly known: number;
  private readonly attachLimit: ImplEntry | undefined;

  constructor(
    readonly cat: ImplCatalogue,
    readonly config: KernelConfig,
  ) {
    this.kernel = new KernelJudge(config);
    this.model = new ImplModel(cat.semantics, config);
    this.known = catalogueEvents(cat);
    this.attachLimit = cat.entries.find((e) => e.kind === 'linux-attach-limit');
  }

  /** The crash entry (or runtime entry's crashes) that explains a run ending in `signal`, or undefined. */
  private crashEntry(prog: Program, signal: number): ImplEntry | undefined {
    return this.cat.entries.find(
      (x) => (x.kind === 'crash' && x.atLoad !== true && x.signals.includes(signal) && x.applies(prog)) || (x.kind === 'runtime' && x.crashes !== undefined && x.crashes.signals.includes(signal) && x.crashes.applies(prog)),
    );
  }

  private get linuxRejectsEntry(): Extract<ImplEntry, { kind: 'linux-rejects' }> | undefined {
    return this.cat.entries.find((e): e is Extract<ImplEntry, { kind: 'linux-rejects' }> => e.kind === 'linux-rejects');
  }

  // Linux's checker rejects, the implementation accepts: its validator model must predict that, and
  // every run must end (a value, or an error the implementation returns) or crash in a catalogued way.
  private linuxRejects(prog: Program, inputs: readonly CaseInput[], run: ImplRun, verdicts: { linux: string; impl: string }): ImplFinding | null {
    const e = this.linuxRejectsEntry;
    const lres = { verdict: verdicts.linux, result: null };
    if (e === undefined) return this.finding(`Linux's checker rejects, ${this.cat.name} accepts`, prog, null, lres, { verdict: verdicts.impl, result: null });
    if (e.accepts !== undefined && !e.accepts(prog))
      return this.finding(`${this.cat.name} accepts a program its validator model (${e.id}) rejects`, prog, null, lres, { verdict: verdicts.impl, result: null });
    bump(this.stats.differences, e.id);
    for (let i = 0; i < run.results.length && i < inputs.length; i++) {
      const r = run.results[i]!;
      if (r.status !== 'signal') continue;
      this.stats.signals++;
      const c = this.crashEntry(prog, r.signal);
      if (c === undefined) return this.finding(`${this.cat.name} crashed (${resultText(r)}) on a program it accepted, and no catalogue entry explains it`, prog, i, lres, { verdict: verdicts.impl, result: resultText(r) });
      bump(this.stats.differences, c.id);
    }
    return null;
  }

  private finding(message: string, prog: Program, input: number | null, linux: ImplFinding['linux'], impl: ImplFinding['impl'], predicted: string | null = null): ImplFinding {
    return { judge: this.cat.name, message, prog, input, linux, impl, predicted };
  }

  /** Compare the implementation's answer on one program and its inputs with Linux's; null when explained. */
  compare(prog: Program, inputs: readonly CaseInput[], run: ImplRun): ImplFinding | null {
    this.stats.programs++;
    const lv = this.kernel.load(prog);
    const accepted = run.verdict.code === 0;
    const verdicts = { linux: rejectionText(lv), impl: runVerdictText(run.verdict) };
    if (run.verdict.stage === 'adapter') {
      // the implementation crashed loading the program (oracle/outside/judge.ts isolates it)
      const c = this.cat.entries.find((x) => x.kind === 'crash' && x.atLoad === true && (x.reason === undefined || x.reason.test(run.verdict.message)) && x.applies(prog));
      if (c === undefined) return this.finding(`${this.cat.name} crashed loading the program: ${run.verdict.message}`, prog, null, { verdict: verdicts.linux, result: null }, { verdict: verdicts.impl, result: null });
      bump(this.stats.differences, c.id);
      return null;
    }
    if (!accepted && lv !== null && lv.stage === 'check') {
      const e = this.linuxRejectsEntry;
      if (e?.accepts !== undefined && e.accepts(prog))
        return this.finding(`${this.cat.name} rejects a program its validator model (${e.id}) accepts`, prog, null, { verdict: verdicts.linux, result: null }, { verdict: verdicts.impl, result: null });
    }
    if (!accepted) {
      if (lv !== null) {
        this.stats.bothRejected++;
        return null;
      }
      const e = explainRejection(this.cat, prog, { stage: run.verdict.stage, code: run.verdict.code, message: run.verdict.message, ...(run.ebpf ? { ebpf: run.ebpf } : {}) });
      if (e === null) {
        const p = predictedRejection(this.cat, prog);
        const why = p ? `the catalogue predicts ${p.entry.id} (${p.stage} ${p.code} ${p.reason})` : 'no catalogue entry explains it';
        return this.finding(`Linux accepts, ${this.cat.name} rejects: ${why}`, prog, null, { verdict: verdicts.linux, result: null }, { verdict: verdicts.impl, result: null });
      }
      bump(this.stats.differences, e.id);
      return null;
    }
    const p = predictedRejection(this.cat, prog);
    if (p !== null)
      return this.finding(`${this.cat.name} accepts a program its catalogue predicts rejected (${p.entry.id})`, prog, null, { verdict: verdicts.linux, result: null }, { verdict: verdicts.impl, result: null });
    if (lv !== null && lv.stage === 'check') return this.linuxRejects(prog, inputs, run, verdicts);
    if (lv !== null) {
      if (this.attachLimit === undefined)
        return this.finding(`Linux's attach path rejects (${rejectionText(lv)}), ${this.cat.name} accepts`, prog, null, { verdict: verdicts.linux, result: null }, { verdict: verdicts.impl, result: null });
      bump(this.stats.differences, this.attachLimit.id);
    }
    if (run.results.length !== inputs.length)
      return this.finding(`${run.results.length} results for ${inputs.length} packets`, prog, null, { verdict: verdicts.linux, result: null }, { verdict: verdicts.impl, result: null });
    for (let i = 0; i < inputs.length; i++) {
      const { skb, env } = inputs[i]!;
      this.stats.pairs++;
      const r = run.results[i]!;
      if (r.status === 'signal') this.stats.signals++;
      const m = this.model.run(prog, skb);
      let linux: number | null = null;
      if (lv === null) {
        linux = this.kernel.run(skb, env);
        if (this.kernel.fault !== null)
          return this.finding(`the spec's kernel path faulted: ${this.kernel.fault.kind}: ${this.kernel.fault.detail}`, prog, i, { verdict: verdicts.linux, result: linux }, { verdict: verdicts.impl, result: resultText(r) });
      }
      const lres = { verdict: verdicts.linux, result: linux };
      const ires = { verdict: verdicts.impl, result: resultText(r) };
      if ((m.events & (EV_UNNAMED | ~this.known)) !== 0)
        return this.finding(`the ${this.cat.name} model departs from Linux where no catalogue entry names it (events ${m.events})`, prog, i, lres, ires, predictionText(m.prediction));
      // a crash whose cause the model cannot compute (the JIT's code layout): a crash entry must apply
      if (r.status === 'signal' && !meetsPrediction(r, m.prediction)) {
        const c = this.crashEntry(prog, r.signal);
        if (c !== undefined) {
          bump(this.stats.differences, c.id);
          continue;
        }
      }
      if (linux !== null && m.events === 0) {
        if (r.status === 'value' && r.value >>> 0 === linux >>> 0) {
          this.stats.agreed++;
          continue;
        }
        return this.finding(`Linux ${linux >>> 0}, ${this.cat.name} ${resultText(r)}, and no catalogue entry applies`, prog, i, lres, ires, predictionText(m.prediction));
      }
      if (!meetsPrediction(r, m.prediction)) {
        const ids = firedEntries(this.cat, m.events).map((e) => e.id);
        return this.finding(
          `${this.cat.name} ${resultText(r)} is not the catalogue's prediction ${predictionText(m.prediction)}${ids.length ? ` (${ids.join(', ')})` : ' (Linux refused the program)'}`,
          prog,
          i,
          lres,
          ires,
          predictionText(m.prediction),
        );
      }
      if (linux !== null && r.status === 'value' && r.value >>> 0 === linux >>> 0) this.stats.agreed++;
      else if (linux !== null)
        bump(
          this.stats.differences,
          firedEntries(this.cat, m.events)
            .map((e) => e.id)
            .join('+'),
        );
    }
    return null;
  }
}
