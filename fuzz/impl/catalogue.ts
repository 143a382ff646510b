// Catalogues of documented semantic differences of other classic BPF implementations, one per
// implementation (fuzz/impl/libpcap.ts, dpdk.ts, xnet.ts), like fuzz/divergences.ts for the kernel
// path: every difference between an outside judge and Linux is either an entry here, whose
// prediction the implementation must meet exactly, or a finding. An entry is a documented semantic
// difference (the implementation's defined behaviour departs from Linux's) or a bug of the
// implementation, which then names its report (corpus/reports/<name>.md).
//
// Runtime entries own an event bit of the model (fuzz/impl/model.ts): the model, run with the
// implementation's semantics, records the bit where that decision changes an outcome and gives the
// exact result the implementation must return. Verdict entries predict a rejection: from the program
// alone where the implementation's check can be computed (`predict`), or by recognising the
// implementation's own reason and checking it against the program (`explains`).
import type { Program } from '../../model/cbpf/insn.js';
import type { BpfInsn } from '../../model/ebpf/insn.js';
import type { ImplSemantics } from './model.js';

export type ImplName = 'libpcap' | 'dpdk' | 'dpdk-jit' | 'xnet';

interface EntryBase {
  readonly id: string;
  readonly title: string;
  /** what the implementation does, with its source lines */
  readonly implementation: string;
  readonly at: readonly string[];
  /** what Linux does, with the kernel lines (6.6.y) */
  readonly linux: string;
  readonly linuxAt: readonly string[];
  /** set when the difference is a bug of the implementation: its report, and the upstream fix if any */
  readonly bug?: { readonly report: string; readonly fixedUpstream?: string };
  /** the corpus entry (under corpus/) that shows it, judged by the implementation itself in the tests */
  readonly example: string;
}

export interface RuntimeEntry extends EntryBase {
  readonly kind: 'runtime';
  /** the model event bits (fuzz/impl/model.ts EV_*) whose presence is the predicate */
  readonly events: number;
  /** the crashes it also explains on programs Linux's checker rejects (no model run there) */
  readonly crashes?: { readonly signals: readonly number[]; readonly applies: (prog: Program) => boolean };
}

/** What a verdict entry sees of the implementation's rejection. */
export interface Rejected {
  readonly stage: string;
  readonly code: number;
  readonly message: string;
  /** the converted program, when the implementation converts (DPDK) */
  readonly ebpf?: readonly BpfInsn[];
}

export interface VerdictEntry extends EntryBase {
  readonly kind: 'verdict';
  /** the rejection computed from the program alone (stage and reason), or null when it does not apply */
  readonly predict?: (prog: Program) => { readonly stage: string; readonly code: number; readonly reason: RegExp } | null;
  /** whether this entry explains a rejection the implementation reported (checked against the program) */
  readonly explains?: (prog: Program, r: Rejected) => boolean;
}

/**
 * The implementation accepts a program Linux's attach path refuses for its own limits (an eBPF jump
 * offset past s16, the optmem charge): there is no Linux result, and the implementation must give
 * the model's. Shared by every outside judge (none has those limits).
 */
export interface AttachLimitEntry extends EntryBase {
  readonly kind: 'linux-attach-limit';
}

/**
 * A program Linux's checker (bpf_check_classic) rejects: there is no Linux result, so what is compared
 * is the implementation's own verdict (predicted exactly by a model of its validator, `accepts`,
 * where one is given) and, when it accepts, that it runs without crashing; results are not compared.
 */
export interface LinuxRejectsEntry extends EntryBase {
  readonly kind: 'linux-rejects';
  /** the implementation's validator as a model: whether it accepts the program (absent: not predicted) */
  readonly accepts?: (prog: Program) => boolean;
}

/** A fatal signal (or a timeout) the implementation is known to hit on programs it accepts. */
export interface CrashEntry extends EntryBase {
  readonly kind: 'crash';
  /** the signal numbers it explains (the adapters' guard: SIGABRT 6, SIGSEGV 11, SIGVTALRM 26 for a run that does not end (100 ms of CPU)) */
  readonly signals: readonly number[];
  /** whether the program has what makes the implementation crash there */
  readonly applies: (prog: Program) => boolean;
  /** it crashes the load (the adapter dies before answering: verdict stage 'adapter'), not a run */
  readonly atLoad?: boolean;
  /** what the adapter's death must say (e.g. the driver's watchdog), when that matters */
  readonly reason?: RegExp;
}

export type ImplEntry = RuntimeEntry | VerdictEntry | AttachLimitEntry | LinuxRejectsEntry | CrashEntry;

export interface ImplCatalogue {
  readonly name: ImplName;
  /** the implementation and version the catalogue was written from */
  readonly source: string;
  /** the model semantics that predict it */
  readonly semantics: ImplSemantics;
  readonly entries: readonly ImplEntry[];
}

/** The shared entry for Linux's attach limits, with the implementation's example. */
export const linuxAttachLimit = (impl: string, example: string): AttachLimitEntry => ({
  kind: 'linux-attach-limit',
  id: `${impl}-runs-past-linux-limits`,
  title: `Linux's attach path refuses the migrated program (eBPF jump offset or optmem); ${impl} has no such limit and runs it`,
  implementation: `${impl} runs the classic program as it is (no eBPF size or socket memory limit)`,
  at: [],
  linux:
    'bpf_convert_filter rejects an eBPF jump offset outside s16 with -EINVAL (BPF_EMIT_JMP), and __sk_filter_charge refuses a program larger than optmem_max with -ENOMEM (fuzz/divergences.ts jump-offset-overflow, optmem-exceeded)',
  linuxAt: ['net/core/filter.c:701', 'net/core/filter.c:710', 'net/core/filter.c:1232'],
  example,
});

/** The runtime entries whose events are all in `events`... any of them: the attribution of a difference. */
export function firedEntries(cat: ImplCatalogue, events: number): RuntimeEntry[] {
  return cat.entries.filter((e): e is RuntimeEntry => e.kind === 'runtime' && (e.events & events) !== 0);
}

/** The union of the event bits the catalogue names: a run with any other bit is not explained. */
export function catalogueEvents(cat: ImplCatalogue): number {
  let m = 0;
  for (const e of cat.entries) if (e.kind === 'runtime') m |= e.events;
  return m;
}
