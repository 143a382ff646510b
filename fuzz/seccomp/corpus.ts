// Corpus entries of seccomp cases (corpus/schema.json `seccomp`): the filter `program` attached on top
// of the filters `seccomp.below` (most recent first), the system calls it sees (`seccomp.inputs`, as
// `bpfspec eval` takes them), the host whose action cache applies (a name of model/seccomp/host.ts),
// and what the spec's seccomp judges give: `expect.check` is bpf_check_classic then
// seccomp_check_filter on the program alone, `expect.attach` seccomp(2)'s verdict for the stack
// (fuzz/seccomp/judges.ts attachStack), and per input `seccomp.expect.results` the classic and the
// migrated u32 of the program alone, the action the whole stack gives and whether the action cache
// answered. The socket fields stay as the schema requires them: `inputs` is empty and
// `expect.results` too. fuzz/corpus.ts writes, hashes and replays these entries like the others.
import { bpfCheckBasicsOk, bpfCheckClassic } from '../../model/cbpf/check.js';
import { decodeProgram, encodeProgram, type Program } from '../../model/cbpf/insn.js';
import { X86_64 } from '../../model/config.js';
import { seccompData, type SeccompData } from '../../model/seccomp/data.js';
import { SECCOMP_HOSTS, type SeccompHost } from '../../model/seccomp/host.js';
import { seccompCheckFilter } from '../../model/seccomp/check.js';
import type { SeccompOutcomeMode } from '../../model/seccomp/judge.js';
import type { Rejection } from '../../model/verdict.js';
import { configJson, CorpusError, SCHEMA_ID, verdictJson, type CorpusEntry, type EntryKind, type VerdictJson } from '../corpus.js';
import { attachStack, DEFAULT_ATTACH_CALL, SeccompClassicJudge, SeccompKernelJudge } from './judges.js';

/** One system call of a seccomp entry. */
export interface SeccompInputJson {
  /** AUDIT_ARCH_* value as 0x hex */
  readonly arch: string;
  readonly nr: number;
  /** six u64 as 0x hex */
  readonly args: readonly string[];
  readonly ip: string;
}

export interface SeccompResultJson {
  readonly classic: number | null;
  readonly kernel: number | null;
  /** the action of the whole stack (model/seccomp/run.ts seccompAction), null when it does not attach */
  readonly action: string | null;
  /** whether the action cache answered (no filter ran) */
  readonly cached: boolean;
  readonly fault?: string;
}

export interface SeccompEntryJson {
  /** model/seccomp/host.ts: the kernel whose action cache applies */
  readonly host: string;
  /** older filters, most recent first, as struct sock_filter images in hex */
  readonly below: readonly string[];
  readonly inputs: readonly SeccompInputJson[];
  /** the seccomp campaign's property (fuzz/seccomp/properties.ts) or `judge` for a judge's mismatch */
  readonly property?: string;
  readonly expect: { readonly results: readonly SeccompResultJson[] };
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const h64 = (v: bigint): string => `0x${v.toString(16)}`;

export const seccompInputJson = (sd: SeccompData): SeccompInputJson => ({ arch: `0x${(sd.arch >>> 0).toString(16)}`, nr: sd.nr, args: sd.args.map(h64), ip: h64(sd.instructionPointer) });

function u64(s: unknown, what: string): bigint {
  if (typeof s !== 'string' || !/^0x[0-9a-f]{1,16}$/.test(s)) throw new CorpusError(`${what}: expected 0x and at most 16 hex digits`);
  return BigInt(s);
}

/** The seccomp_data of an entry's input (throws CorpusError naming the field). */
export function seccompInputFromJson(j: SeccompInputJson, i: number): SeccompData {
  const arch = u64(j.arch, `seccomp.inputs[${i}].arch`);
  if (arch > 0xffffffffn) throw new CorpusError(`seccomp.inputs[${i}].arch: not a u32`);
  if (!Number.isInteger(j.nr) || j.nr < -0x80000000 || j.nr > 0x7fffffff) throw new CorpusError(`seccomp.inputs[${i}].nr: not an s32`);
  if (!Array.isArray(j.args) || j.args.length !== 6) throw new CorpusError(`seccomp.inputs[${i}].args: expected six u64`);
  return seccompData(j.nr, Number(arch), j.args.map((a, k) => u64(a, `seccomp.inputs[${i}].args[${k}]`)), u64(j.ip, `seccomp.inputs[${i}].ip`));
}

function decode(hexText: string, what: string): Program {
  const d = decodeProgram(Uint8Array.from(Buffer.from(hexText, 'hex')));
  if (!d.ok) throw new CorpusError(`${what}: ${d.error.message}`);
  return d.prog;
}

function hostOf(name: string): SeccompHost {
  const h = SECCOMP_HOSTS.get(name);
  if (h === undefined) throw new CorpusError(`seccomp.host: unknown host '${name.slice(0, 40)}' (one of ${[...SECCOMP_HOSTS.keys()].join(', ')})`);
  return h;
}

/** The stack outcome mode entries record: plain attaches on a single-threaded task. */
const ENTRY_MODE: SeccompOutcomeMode = { flags: 0, liveThreads: 1, exitCalls: [] };

/** bpf_check_classic then seccomp_check_filter on the program alone (the check stage of seccomp(2)). */
export function seccompCheckVerdict(prog: Program): Rejection | null {
  return bpfCheckBasicsOk(prog) ?? bpfCheckClassic(prog, X86_64) ?? seccompCheckFilter(prog).rejection;
}

/** What the spec's seccomp judges give for a stack and its inputs: an entry's `expect` and `seccomp.expect`. */
export function evaluateSeccomp(prog: Program, below: readonly Program[], inputs: readonly SeccompData[], host: SeccompHost): { check: VerdictJson; attach: VerdictJson; results: SeccompResultJson[] } {
  const classic = new SeccompClassicJudge(X86_64, host);
  const kernel = new SeccompKernelJudge(X86_64, host);
  const c = { prog, below, inputs: inputs.map((sd) => ({ sd })), outcomes: ENTRY_MODE };
  const [ca] = classic.judgeSync([c]);
  const [ka] = kernel.judgeSync([c]);
  const a = attachStack([...below].reverse().concat([prog]), { flags: 0, liveThreads: 1, call: DEFAULT_ATTACH_CALL, host, config: X86_64, run: (f, sd) => kernel.runner.run(f, sd) });
  const attach = a.rejection === null ? verdictJson(null) : verdictJson(a.rejection);
  const check = verdictJson(seccompCheckVerdict(prog));
  if (!ka!.verdict.accepted) return { check, attach, results: [] };
  const results = inputs.map((_, i): SeccompResultJson => {
    const x = ca!.results[i]!;
    const y = ka!.results[i]!;
    const o = ka!.outcomes?.[i];
    const fault = y.known === 'exact' && y.fault ? `${y.fault.kind} at eBPF pc ${y.fault.pc}` : undefined;
    return {
      classic: x.known === 'exact' ? x.value : null,
      kernel: y.known === 'exact' ? y.value : null,
      action: o !== undefined && o.known === 'predicted' ? o.action : null,
      cached: o !== undefined && o.known === 'predicted' && o.cached,
      ...(fault ? { fault } : {}),
    };
  });
  return { check, attach, results };
}

export interface NewSeccompEntry {
  readonly kind: EntryKind;
  readonly title: string;
  /** the stack, most recent first (filters[0] is the entry's program) */
  readonly filters: readonly Program[];
  readonly inputs: readonly SeccompData[];
  readonly host: SeccompHost;
  readonly origin: CorpusEntry['origin'];
  readonly property?: string;
  readonly message?: string;
  readonly asm?: string;
  readonly notes?: string;
}

/** A seccomp corpus entry, recording what the spec's seccomp judges give now. */
export function makeSeccompEntry(n: NewSeccompEntry): CorpusEntry {
  const [prog, ...below] = n.filters;
  if (prog === undefined) throw new RangeError('makeSeccompEntry: no filter');
  const e = evaluateSeccomp(prog, below, n.inputs, n.host);
  return {
    schema: SCHEMA_ID,
    kind: n.kind,
    title: n.title,
    ...(n.message ? { message: n.message } : {}),
    config: configJson(X86_64),
    program: { hex: hex(encodeProgram(prog)), len: prog.length, ...(n.asm !== undefined ? { asm: n.asm } : {}) },
    inputs: [],
    expect: { check: e.check, attach: e.attach, results: [] },
    origin: n.origin,
    ...(n.notes ? { notes: n.notes } : {}),
    seccomp: {
      host: n.host.name,
      below: below.map((p) => hex(encodeProgram(p))),
      inputs: n.inputs.map(seccompInputJson),
      ...(n.property ? { property: n.property } : {}),
      expect: { results: e.results },
    },
  };
}

/** The stack and inputs a seccomp entry describes (throws CorpusError naming what is wrong). */
export function seccompEntryCase(e: CorpusEntry): { filters: Program[]; inputs: SeccompData[]; host: SeccompHost } {
  const s = e.seccomp;
  if (s === undefined) throw new CorpusError('not a seccomp entry');
  const prog = decode(e.program.hex, 'program');
  const below = s.below.map((b, i) => decode(b, `seccomp.below[${i}]`));
  return { filters: [prog, ...below], inputs: s.inputs.map(seccompInputFromJson), host: hostOf(s.host) };
}

const vtext = (v: VerdictJson): string => (v.errno === 0 && v.rule === null ? 'accepted' : `errno ${v.errno} ${v.stage}/${v.rule} at pc ${v.pc}`);
const same = (a: VerdictJson, b: VerdictJson): boolean => a.errno === b.errno && a.stage === b.stage && a.rule === b.rule && a.pc === b.pc;

/** Re-run a seccomp entry: the differences from what it recorded (empty when it replays exactly). */
export function replaySeccompEntry(e: CorpusEntry): string[] {
  const { filters, inputs, host } = seccompEntryCase(e);
  const [prog, ...below] = filters;
  const now = evaluateSeccomp(prog!, below, inputs, host);
  const diffs: string[] = [];
  if (!same(e.expect.check, now.check)) diffs.push(`check: recorded ${vtext(e.expect.check)}, now ${vtext(now.check)}`);
  if (!same(e.expect.attach, now.attach)) diffs.push(`attach: recorded ${vtext(e.expect.attach)}, now ${vtext(now.attach)}`);
  const want = e.seccomp!.expect.results;
  if (want.length !== now.results.length) diffs.push(`seccomp results: recorded ${want.length}, now ${now.results.length}`);
  now.results.forEach((r, i) => {
    const w = want[i];
    if (!w) return;
    for (const k of ['classic', 'kernel', 'action', 'cached'] as const) if (w[k] !== r[k]) diffs.push(`seccomp input ${i}: ${k} recorded ${String(w[k])}, now ${String(r[k])}`);
    if ((w.fault ?? null) !== (r.fault ?? null)) diffs.push(`seccomp input ${i}: fault recorded ${w.fault ?? 'none'}, now ${r.fault ?? 'none'}`);
  });
  return diffs;
}
