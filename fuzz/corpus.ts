// The corpus: one JSON file per case (corpus/schema.json), named by a hash of its content, written
// atomically; replay re-runs an entry and compares it with what it recorded.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readFileSync, readSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import writeFileAtomic from 'write-file-atomic';
import { decodeProgram, encodeProgram, type Program } from '../model/cbpf/insn.js';
import { EXIT_OOB } from '../model/cbpf/eval.js';
import { ARCHES, type JitNeeded, type KernelConfig, type LoadHelperVersion } from '../model/config.js';
import type { X86JitFacts } from '../model/jit/facts.js';
import { fixedConfig, isVariantName, variantConfig, type VariantName } from '../model/variants.js';
import type { Env, SkBuff } from '../model/skb.js';
import { errnoName } from '../model/uapi.js';
import type { Rejection } from '../model/verdict.js';
import { ClassicJudge, KernelJudge } from './judges.js';
import type { PropertyName } from './properties.js';
import { buildSkb, clip, skbToJson, SkbSpecError } from './skbjson.js';
import { replaySeccompEntry, type SeccompEntryJson } from './seccomp/corpus.js';

export const SCHEMA_ID = 'bpfspec-corpus-1';
/** The corpus of this installation: corpus/ at the package root (a clone's whole corpus; the divergence and historical entries in the npm package). */
export const SHIPPED_CORPUS_DIR: string = fileURLToPath(new URL('../../corpus', import.meta.url));
export type EntryKind = 'finding' | 'divergence' | 'regression' | 'real-filter' | 'historical';

export interface VerdictJson {
  readonly errno: number;
  readonly stage: string | null;
  readonly rule: string | null;
  readonly pc: number | null;
}

export interface ResultJson {
  readonly classic: number | null;
  readonly kernel: number | null;
  readonly fault?: string | null;
}

export interface CorpusEntry {
  readonly schema: typeof SCHEMA_ID;
  readonly kind: EntryKind;
  readonly title: string;
  readonly property?: PropertyName;
  readonly divergence?: string;
  readonly message?: string;
  readonly config: ConfigJson;
  readonly program: { readonly hex: string; readonly asm?: string; readonly len?: number };
  readonly inputs: readonly { readonly packet: string; readonly skb: Record<string, unknown> }[];
  readonly expect: { readonly check: VerdictJson; readonly attach: VerdictJson; readonly results: readonly ResultJson[] };
  readonly origin: { readonly bpfspec: string; readonly seed?: number; readonly path?: string; readonly source?: string; readonly kernel?: Record<string, unknown>; readonly chunk?: number; readonly signature?: string };
  readonly notes?: string;
  /** A historical variant (kind 'historical'): its name and what the buggy model gives; `expect` is the fixed model. */
  readonly variant?: { readonly name: VariantName; readonly expect: CorpusEntry['expect'] };
  /** A seccomp case (ws-seccomp, fuzz/seccomp/corpus.ts): the stack below the program, the system calls, what the seccomp judges give. */
  readonly seccomp?: SeccompEntryJson;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const unhex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

export const verdictJson = (r: Rejection | null): VerdictJson =>
  r === null ? { errno: 0, stage: null, rule: null, pc: null } : { errno: -r.errno, stage: r.stage, rule: r.rule, pc: r.pc };

/** The x86-64 JIT's facts as an entry records them (snake_case keys of model/jit/facts.ts X86JitFacts). */
export interface X86JitJson {
  readonly short_jump_max: number;
  readonly ibt: boolean;
  readonly cfi: X86JitFacts['cfi'];
  readonly cfi_padding: number;
  readonly cfi_bhi: boolean;
  readonly call_depth_accounting: number;
  readonly return_thunk: boolean;
  readonly sls: boolean;
  readonly bmi2: boolean;
  readonly bhb_barrier: boolean;
  readonly clear_bhb_loop: boolean;
  readonly clear_bhb_hw: boolean;
  readonly hypervisor: boolean;
  readonly cap_sys_admin: boolean;
  readonly ebpf_prologue_nop: number;
}

/** [entry key, X86JitFacts key], in the order entries write them. */
const X86_JIT_KEYS: readonly (readonly [keyof X86JitJson, keyof X86JitFacts])[] = [
  ['short_jump_max', 'shortJumpMax'],
  ['ibt', 'ibt'],
  ['cfi', 'cfi'],
  ['cfi_padding', 'cfiPadding'],
  ['cfi_bhi', 'cfiBhi'],
  ['call_depth_accounting', 'callDepthAccounting'],
  ['return_thunk', 'returnThunk'],
  ['sls', 'sls'],
  ['bmi2', 'bmi2'],
  ['bhb_barrier', 'bhbBarrier'],
  ['clear_bhb_loop', 'clearBhbLoop'],
  ['clear_bhb_hw', 'clearBhbHw'],
  ['hypervisor', 'hypervisor'],
  ['cap_sys_admin', 'capSysAdmin'],
  ['ebpf_prologue_nop', 'ebpfPrologueNop'],
];

/**
 * The kernel record an entry was made with (corpus/schema.json): the architecture, optmem_max and
 * the load helpers (every entry), and, since #14, every other field of the record the socket path's
 * verdicts depend on: sizeof(struct bpf_prog), bpf_jit_harden and the caller's bpf_capable()
 * (blinding and its charge), the JIT's requested/always-on/needed/available and the x86-64 JIT's
 * facts (its -ENOTSUPP). An entry without them (written before) replays as it always did.
 */
export interface ConfigJson {
  readonly arch: string;
  readonly optmem_max: number;
  readonly load_helpers: LoadHelperVersion;
  readonly profile?: string;
  readonly bpf_prog_header?: number;
  readonly bpf_jit_harden?: number;
  readonly bpf_capable?: boolean;
  readonly jit_requested?: boolean;
  readonly jit_always_on?: boolean;
  readonly jit_needed?: JitNeeded;
  readonly jit_available?: boolean;
  readonly x86_jit?: X86JitJson | null;
}

/** The architecture, optmem_max and load helpers only (what entries recorded before #14; seccomp entries still do). */
export const configJson = (c: KernelConfig): ConfigJson => ({ arch: c.arch, optmem_max: c.optmemMax, load_helpers: c.loadHelpers });

/** The whole record a socket entry's verdicts depend on (configJson and the fields after it). */
export const kernelConfigJson = (c: KernelConfig): ConfigJson => ({
  ...configJson(c),
  profile: c.profile,
  bpf_prog_header: c.bpfProgHeaderSize,
  bpf_jit_harden: c.bpfJitHarden,
  bpf_capable: c.bpfCapable,
  jit_requested: c.jitRequested,
  jit_always_on: c.jitAlwaysOn,
  jit_needed: c.jitNeeded,
  jit_available: c.jitAvailable,
  x86_jit: c.x86Jit === null ? null : (Object.fromEntries(X86_JIT_KEYS.map(([j, f]) => [j, c.x86Jit![f]])) as unknown as X86JitJson),
});

/** The fields kernelConfigJson adds to configJson, in a fixed order (entryHash). */
const EXTENDED_KEYS = ['profile', 'bpf_prog_header', 'bpf_jit_harden', 'bpf_capable', 'jit_requested', 'jit_always_on', 'jit_needed', 'jit_available', 'x86_jit'] as const;

/**
 * What an entry written before #14 knows of the kernel beyond its config: a kdiff finding's
 * origin.kernel recorded the live kernel's bpf_jit_harden and sizeof(struct bpf_prog), and its
 * `expect` was made with them. origin.kernel is free-form, so a value there is checked here.
 */
function originKernel(e: Pick<CorpusEntry, 'origin'>): { harden?: number; header?: number } {
  const k = e.origin.kernel;
  if (k === undefined || k === null || typeof k !== 'object') return {};
  const h = Object.hasOwn(k, 'bpf_jit_harden') ? k.bpf_jit_harden : null;
  const b = Object.hasOwn(k, 'bpf_prog_header') ? k.bpf_prog_header : null;
  if (h !== null && h !== 0 && h !== 1 && h !== 2) throw new CorpusError(`origin.kernel.bpf_jit_harden ${clip(JSON.stringify(h) ?? String(h))}: expected 0, 1, 2 or null`);
  if (b !== null && !(Number.isInteger(b) && (b as number) >= 0 && (b as number) <= 1048576)) throw new CorpusError(`origin.kernel.bpf_prog_header ${clip(JSON.stringify(b) ?? String(b))}: expected a byte count or null`);
  return { ...(h !== null ? { harden: h } : {}), ...(b !== null ? { header: b as number } : {}) };
}

/**
 * The kernel configuration an entry records (throws CorpusError on an unknown architecture or a bad
 * origin.kernel value): the v6.6.0 profile of its architecture with every recorded field. An entry
 * written before the fields after load_helpers were recorded takes bpf_jit_harden and the header from
 * its origin.kernel when a kdiff recorded them there.
 */
export function configFromJson(j: ConfigJson, e?: Pick<CorpusEntry, 'origin'>): KernelConfig {
  // an own property only: "toString" or "__proto__" name no architecture
  const base = typeof j.arch === 'string' && Object.hasOwn(ARCHES, j.arch) ? ARCHES[j.arch] : undefined;
  if (!base) throw new CorpusError(`unknown arch '${clip(String(j.arch))}' (one of ${Object.keys(ARCHES).join(', ')})`);
  const old = e !== undefined && j.bpf_jit_harden === undefined && j.bpf_prog_header === undefined ? originKernel(e) : {};
  const x = j.x86_jit;
  return {
    ...base,
    optmemMax: j.optmem_max,
    loadHelpers: j.load_helpers,
    ...(j.profile !== undefined ? { profile: j.profile } : {}),
    bpfProgHeaderSize: j.bpf_prog_header ?? old.header ?? base.bpfProgHeaderSize,
    bpfJitHarden: j.bpf_jit_harden ?? old.harden ?? base.bpfJitHarden,
    bpfCapable: j.bpf_capable ?? base.bpfCapable,
    jitRequested: j.jit_requested ?? base.jitRequested,
    jitAlwaysOn: j.jit_always_on ?? base.jitAlwaysOn,
    jitNeeded: j.jit_needed ?? base.jitNeeded,
    jitAvailable: j.jit_available ?? base.jitAvailable,
    x86Jit: x === undefined ? base.x86Jit : x === null ? null : (Object.fromEntries(X86_JIT_KEYS.map(([jk, f]) => [f, x[jk]])) as unknown as X86JitFacts),
  };
}

/**
 * What a replay here should say about an entry made under another bpf_jit_harden than this kernel's
 * (`running`): the model replays it with the recorded value, but the kernel here would blind (or not)
 * otherwise, so its live verdict may differ. null when they agree or either is unknown.
 */
export function hardenNote(e: CorpusEntry, running: number | null): string | null {
  if (running === null || e.seccomp !== undefined) return null;
  let recorded: number | undefined;
  try {
    recorded = e.config.bpf_jit_harden ?? originKernel(e).harden;
  } catch {
    return null; // a bad origin.kernel value: the replay reports the entry invalid
  }
  if (recorded === undefined || recorded === running) return null;
  return `recorded under bpf_jit_harden ${recorded} (replayed with it); this kernel's is ${running}: its live verdict may differ (bpfspec kdiff --jit-harden ${recorded} judges under the recorded value)`;
}

export class CorpusError extends Error {}

/** One run of a program on one skb, as an entry records it. */
export interface EntryInput {
  readonly skb: SkBuff;
  readonly env: Env;
}

/** Both judges on a program and its inputs: what an entry's `expect` records. */
export function evaluate(prog: Program, inputs: readonly EntryInput[], config: KernelConfig): CorpusEntry['expect'] {
  const classic = new ClassicJudge(config);
  const kernel = new KernelJudge(config);
  const cv = classic.load(prog);
  const kv = kernel.load(prog);
  const results = inputs.map(({ skb, env }): ResultJson => {
    const c = cv === null ? classic.run(skb, env) : null;
    const k = kv === null ? kernel.run(skb, env) : null;
    // A classic read past the skb happens only under a historical variant (model/variants.ts H3).
    const classicOob = cv === null && classic.vm.exit === EXIT_OOB ? `classic read past the end of the skb at pc ${classic.vm.exitPc}` : null;
    const fault = kv === null && kernel.fault ? `${kernel.fault.kind} at eBPF pc ${kernel.fault.pc}` : classicOob;
    return fault === null ? { classic: c, kernel: k } : { classic: c, kernel: k, fault };
  });
  return { check: verdictJson(cv), attach: verdictJson(kv), results };
}

export interface NewEntry {
  readonly kind: EntryKind;
  readonly title: string;
  readonly prog: Program;
  readonly inputs: readonly EntryInput[];
  readonly config: KernelConfig;
  readonly origin: CorpusEntry['origin'];
  readonly property?: PropertyName;
  readonly divergence?: string;
  readonly message?: string;
  readonly asm?: string;
  readonly notes?: string;
  /** Also record what this historical variant gives (model/variants.ts); `config` stays the fixed model's. */
  readonly variant?: VariantName;
}

/**
 * Build an entry, recording what both judges do now. With a historical variant (n.variant, or a
 * config.variant, as a `fuzz --variant` campaign has), `expect` records the fixed model and
 * `variant.expect` the variant.
 */
export function makeEntry(n: NewEntry): CorpusEntry {
  const fixed = fixedConfig(n.config);
  const variant = n.variant ?? n.config.variant;
  return {
    schema: SCHEMA_ID,
    kind: n.kind,
    title: n.title,
    ...(n.property ? { property: n.property } : {}),
    ...(n.divergence ? { divergence: n.divergence } : {}),
    ...(n.message ? { message: n.message } : {}),
    config: kernelConfigJson(fixed),
    program: { hex: hex(encodeProgram(n.prog)), len: n.prog.length, ...(n.asm !== undefined ? { asm: n.asm } : {}) },
    inputs: n.inputs.map(({ skb, env }) => ({ packet: hex(skb.data), skb: skbToJson(skb, env) })),
    expect: evaluate(n.prog, n.inputs, fixed),
    origin: n.origin,
    ...(n.notes ? { notes: n.notes } : {}),
    ...(variant ? { variant: { name: variant, expect: evaluate(n.prog, n.inputs, variantConfig(fixed, variant)) } } : {}),
  };
}

/** 16 hex digits of the SHA-256 of what defines the case: config, program image and inputs. */
export function entryHash(e: Pick<CorpusEntry, 'config' | 'program' | 'inputs' | 'seccomp'>): string {
  // the fields after load_helpers only when recorded (older entries keep their names)
  const ext = EXTENDED_KEYS.filter((k) => e.config[k] !== undefined).map((k) => [k, e.config[k]]);
  const key = JSON.stringify([
    e.config.arch,
    e.config.optmem_max,
    e.config.load_helpers,
    e.program.hex,
    e.inputs,
    ...(e.seccomp ? [e.seccomp.host, e.seccomp.below, e.seccomp.inputs] : []),
    ...(ext.length > 0 ? [ext] : []),
  ]);
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/**
 * Write an entry as DIR/<hash>.json (atomically: temp file + rename); returns the path and whether it
 * is new. Whatever already has that name (an entry, or anything else: a FIFO, a device, a symbolic
 * link) is left alone, never renamed over. Throws CorpusError with one line when it cannot write.
 */
export function writeEntry(dir: string, e: CorpusEntry): { path: string; created: boolean } {
  const path = join(dir, `${entryHash(e)}.json`);
  let exists = true;
  try {
    lstatSync(path);
  } catch {
    exists = false;
  }
  if (exists) return { path, created: false };
  try {
    writeFileAtomic.sync(path, `${JSON.stringify(e, null, 2)}\n`);
  } catch (err) {
    throw new CorpusError(`${path}: cannot write: ${clip((err as Error).message, 200)}`);
  }
  return { path, created: true };
}

/** The largest entry file read (the largest entry on disk is well under 1 MiB). */
export const ENTRY_LIMIT = 64 * 1024 * 1024;

let validator: ((x: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null } | null = null;
/** The compiled validator of corpus/schema.json (compiled once; api/fuzz.ts checks entries with it too). */
export function schemaValidator(): NonNullable<typeof validator> {
  if (validator === null) {
    const schema = JSON.parse(readFileSync(new URL('../../corpus/schema.json', import.meta.url), 'utf8')) as object;
    validator = new Ajv2020({ allErrors: false, strict: false }).compile(schema);
  }
  return validator;
}

/** Read a whole regular file, refusing anything else (a FIFO would block, a device never ends). */
function readRegular(path: string, limit: number): string {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new CorpusError(`${kindOf(st)}, not a regular file`);
    if (st.size > limit) throw new CorpusError(`${st.size} bytes: larger than any entry (at most ${limit})`);
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

const kindOf = (st: Stats): string =>
  st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : st.isSocket() ? 'a socket' : 'a special file';

/** A system error as a short phrase. */
function fsError(e: unknown): string {
  if (e instanceof CorpusError) return e.message;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file (a dangling symbolic link?)';
  if (code === 'ELOOP') return 'too many levels of symbolic links (a symbolic link loop)';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return clip((e as Error).message, 200);
}

/** Read and validate one entry file; errors name the file and the first problem. Never throws. */
export function readEntry(path: string): { ok: true; entry: CorpusEntry } | { ok: false; error: string } {
  let text: string;
  try {
    text = readRegular(path, ENTRY_LIMIT);
  } catch (e) {
    return { ok: false, error: `${path}: ${fsError(e)}` };
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `${path}: not JSON: ${clip((e as Error).message, 120)}` };
  }
  const v = schemaValidator();
  let valid: boolean;
  try {
    valid = v(obj);
  } catch (e) {
    return { ok: false, error: `${path}: not a corpus entry: ${clip((e as Error).message, 120)}` };
  }
  if (!valid) {
    const err = v.errors?.[0];
    return { ok: false, error: `${path}: not a corpus entry: ${err ? `${clip(err.instancePath || '/')} ${clip(err.message ?? '')}` : 'schema mismatch'}` };
  }
  return { ok: true, entry: obj as CorpusEntry };
}

/** The program and inputs an entry describes (throws CorpusError naming what is wrong). */
export function entryCase(e: CorpusEntry): { prog: Program; inputs: EntryInput[]; config: KernelConfig } {
  const dec = decodeProgram(unhex(e.program.hex));
  if (!dec.ok) throw new CorpusError(`program: ${dec.error.message}`);
  const config = configFromJson(e.config, e);
  const inputs = e.inputs.map((inp, i) => {
    try {
      return buildSkb(unhex(inp.packet), inp.skb);
    } catch (err) {
      if (err instanceof SkbSpecError) throw new CorpusError(`input ${i}: ${err.message}`);
      throw err;
    }
  });
  return { prog: dec.prog, inputs, config };
}

const verdictText = (v: VerdictJson): string => (v.errno === 0 ? 'accepted' : `-${errnoName(v.errno)} ${v.stage}/${v.rule} at pc ${v.pc}`);

/** Re-run an entry: the differences from what it recorded (empty when it replays exactly). */
export function replayEntry(e: CorpusEntry): string[] {
  if (e.seccomp !== undefined) {
    // a seccomp entry replays on its host; its config must still name a known architecture (an
    // unknown one, "__proto__" included, is an invalid entry, as for socket entries)
    configFromJson(e.config);
    return replaySeccompEntry(e); // seccomp cases (ws-seccomp)
  }
  const { prog, inputs, config } = entryCase(e);
  const diffs = expectDiffs(e.expect, evaluate(prog, inputs, config), '');
  // A historical entry replays twice: the fixed model must give `expect`, the variant `variant.expect`.
  if (e.variant) {
    if (!isVariantName(e.variant.name)) throw new CorpusError(`unknown variant '${e.variant.name}'`);
    diffs.push(...expectDiffs(e.variant.expect, evaluate(prog, inputs, variantConfig(config, e.variant.name)), `variant ${e.variant.name}: `));
  }
  return diffs;
}

function expectDiffs(want: CorpusEntry['expect'], now: CorpusEntry['expect'], prefix: string): string[] {
  const diffs: string[] = [];
  for (const key of ['check', 'attach'] as const) {
    const a = want[key];
    const b = now[key];
    if (a.errno !== b.errno || a.stage !== b.stage || a.rule !== b.rule || a.pc !== b.pc)
      diffs.push(`${prefix}${key}: recorded ${verdictText(a)}, now ${verdictText(b)}`);
  }
  if (want.results.length !== now.results.length) diffs.push(`${prefix}results: recorded ${want.results.length}, now ${now.results.length}`);
  now.results.forEach((r, i) => {
    const w = want.results[i];
    if (!w) return;
    if (w.classic !== r.classic) diffs.push(`${prefix}input ${i}: classic recorded ${w.classic}, now ${r.classic}`);
    if (w.kernel !== r.kernel) diffs.push(`${prefix}input ${i}: kernel recorded ${w.kernel}, now ${r.kernel}`);
    if ((w.fault ?? null) !== (r.fault ?? null)) diffs.push(`${prefix}input ${i}: fault recorded ${w.fault ?? 'none'}, now ${r.fault ?? 'none'}`);
  });
  return diffs;
}

/** Folders under a corpus that hold other records, not entries (kdiff's live confirmations). */
export const NOT_ENTRY_DIRS: readonly string[] = ['confirmed'];

/** Why stat could not follow `p` (error `e`): whether `p` is a symbolic link, and the phrase for it. */
function unfollowable(p: string, e: unknown): { link: boolean; why: string } {
  let link = false;
  try {
    link = lstatSync(p).isSymbolicLink();
  } catch {
    // not there at all
  }
  return { link, why: link && (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'dangling symbolic link' : fsError(e) };
}

/** Every entry file under the given files and directories, and the paths that could not be read. */
export interface EntryScan {
  /** entry files, in walk order (directories sorted by name) */
  readonly files: string[];
  /** one line per path that is not usable: a dangling symbolic link, a loop, a special file, a missing path */
  readonly problems: string[];
}

/**
 * Walk the given files and directories (recursively; schema.json, dot files and NOT_ENTRY_DIRS
 * excluded). Never throws: a dangling symbolic link, a symbolic link loop, a special file or a path
 * that does not exist is reported in `problems` and the walk goes on. A directory reached twice
 * (through a symbolic link to an ancestor) is walked once.
 */
export function scanEntries(paths: readonly string[]): EntryScan {
  const files: string[] = [];
  const problems: string[] = [];
  const seenDirs = new Set<string>();
  const walk = (p: string, top: boolean): void => {
    let st: Stats;
    try {
      st = statSync(p);
    } catch (e) {
      const { link, why } = unfollowable(p, e);
      problems.push(`${p}: ${top && !link && (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : why}`);
      return;
    }
    if (st.isDirectory()) {
      const key = `${st.dev}:${st.ino}`;
      if (seenDirs.has(key)) return;
      seenDirs.add(key);
      let names: string[];
      try {
        names = readdirSync(p).sort();
      } catch (e) {
        problems.push(`${p}: ${fsError(e)}`);
        return;
      }
      for (const name of names) {
        if (name.startsWith('.') || NOT_ENTRY_DIRS.includes(name)) continue;
        const child = join(p, name);
        if (name.endsWith('.json') && name !== 'schema.json') walk(child, false);
        else {
          // descend into directories (through links too); other files are not entries
          let isDir = false;
          try {
            isDir = statSync(child).isDirectory();
          } catch (e) {
            // a file that vanished is no problem; a link that cannot be followed is
            const { link, why } = unfollowable(child, e);
            if (link) problems.push(`${child}: ${why}`);
          }
          if (isDir) walk(child, false);
        }
      }
    } else if (st.isFile()) files.push(p);
    else problems.push(`${p}: ${kindOf(st)}, not a regular file`);
  };
  for (const p of paths) walk(p, true);
  return { files, problems };
}

/** Every entry file under the given files and directories (see scanEntries); throws CorpusError on the first problem. */
export function listEntries(paths: readonly string[]): string[] {
  const { files, problems } = scanEntries(paths);
  if (problems.length > 0) throw new CorpusError(problems[0]!);
  return files;
}
