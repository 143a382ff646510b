// Generator quality, measured: what a campaign reached. Features of the generated cases (every
// classic code with each operand class, every ancillary load run with and without a device, every
// divergence, every checker rule and migration failure), and the model's own branch coverage
// (V8 precise coverage, mapped to the TypeScript as c8 maps it) of model/cbpf, model/migrate and
// model/ebpf. The campaign runs in this thread so that the inspector sees every case.
import * as UAPI from '../model/uapi.js';
import * as EBPF_INSN from '../model/ebpf/insn.js';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import v8ToIstanbul from 'v8-to-istanbul';
import { ALLOWED_CODES, isAncillaryLoad } from '../model/cbpf/check.js';
import type { Program } from '../model/cbpf/insn.js';
import type { KernelConfig } from '../model/config.js';
import { bpfConvertFilter } from '../model/migrate/convert.js';
import { ANCILLARY, ancillaryK, SKF_LL_OFF, SKF_NET_OFF } from '../model/uapi.js';
import { BOUNDARY_U32 } from './arb/constants.js';
import { INVALID_RULES } from './arb/invalid.js';
import { campaignArbitrary, chunkSeed, workerChunks, type CampaignCase, type CampaignOptions } from './campaign.js';
import { DIVERGENCES } from './divergences.js';
import { Checker, type Stats } from './properties.js';

/** The operand classes a classic code can be drawn with. */
export function operandClasses(code: number): readonly string[] {
  const cls = code & 0x07;
  const mode = code & 0xe0;
  if (code === 0x84 || code === 0x07 || code === 0x87 || code === 0x16 || code === 0x80 || code === 0x81) return ['-'];
  if ((cls === 0x04 || cls === 0x05) && code !== 0x05) return (code & 0x08) !== 0 ? ['x'] : ['k-boundary', 'k-other'];
  if (cls === 0x00 && mode === 0x20) return ['pos', 'net', 'll', 'anc'];
  if (code === 0xb1) return ['pos', 'neg'];
  if (cls === 0x00 && mode === 0x40) return ['x+k'];
  return ['k'];
}

const BOUNDARY = new Set(BOUNDARY_U32.map((v) => v >>> 0));

/** The operand class of one instruction (see operandClasses). */
export function operandClass(code: number, k: number): string {
  const classes = operandClasses(code);
  if (classes.length === 1) return classes[0]!;
  if (classes[0] === 'x') return 'x';
  if (classes[0] === 'k-boundary') return BOUNDARY.has(k >>> 0) ? 'k-boundary' : 'k-other';
  const s = k | 0;
  if (code === 0xb1) return s >= 0 ? 'pos' : 'neg';
  if (isAncillaryLoad({ code, jt: 0, jf: 0, k })) return 'anc';
  if (s >= 0) return 'pos';
  if (s >= SKF_NET_OFF) return 'net';
  if (s >= SKF_LL_OFF) return 'll';
  return 'below-ll';
}

/** Every feature a default campaign should reach, by name. */
export function expectedFeatures(config: KernelConfig): string[] {
  const out: string[] = [];
  for (const code of ALLOWED_CODES) for (const c of operandClasses(code)) out.push(`code 0x${code.toString(16).padStart(2, '0')} ${c}`);
  for (const a of ANCILLARY) for (const dev of ['dev', 'no-dev']) out.push(`ancillary ${a.macro} ${dev}`);
  for (const d of DIVERGENCES) if (d.kind === 'attach' || !d.when || d.when(config)) out.push(`divergence ${d.id}`);
  for (const r of INVALID_RULES) out.push(`rule ${r}`);
  return out;
}

/** Records the features of checked cases, and the eBPF opcodes the converter emitted for them. */
export class FeatureRecorder {
  readonly seen = new Map<string, number>();
  readonly emitted = new Set<number>();
  constructor(private readonly config: KernelConfig) {}
  private hit(f: string): void {
    this.seen.set(f, (this.seen.get(f) ?? 0) + 1);
  }

  record(c: CampaignCase): void {
    if ('invalid' in c) return;
    const { prog, inputs } = c.valid;
    this.program(prog);
    const devs = new Set(inputs.map((i) => (i.skb.dev === null ? 'no-dev' : 'dev')));
    for (const insn of prog)
      if (isAncillaryLoad(insn)) {
        const a = ANCILLARY.find((x) => ancillaryK(x.ad) === insn.k >>> 0)!;
        for (const d of devs) this.hit(`ancillary ${a.macro} ${d}`);
      }
  }

  private program(prog: Program): void {
    for (const insn of prog) this.hit(`code 0x${insn.code.toString(16).padStart(2, '0')} ${operandClass(insn.code, insn.k)}`);
    const conv = bpfConvertFilter(prog, this.config);
    if ('ok' in conv) for (const insn of conv.insns) this.emitted.add(insn.code);
  }

  /** Divergences and rules from the campaign's counts. */
  stats(s: Stats): void {
    for (const [k, v] of Object.entries(s.divergences)) for (const id of k.split('+')) this.seen.set(`divergence ${id}`, (this.seen.get(`divergence ${id}`) ?? 0) + v);
    for (const [k, v] of Object.entries(s.invalidRules)) this.seen.set(`rule ${k}`, (this.seen.get(`rule ${k}`) ?? 0) + v);
  }
}

/** Why a branch a campaign never takes is out of its reach, or 'reachable' when it is not. */
export type MissReason =
  | 'reachable'
  | 'api-misuse'
  | 'opcode-not-emitted'
  | 'operand-not-emitted'
  | 'other-config'
  | 'checker-rejects'
  | 'never-faults'
  | 'skb-invariant'
  | 'trace-off'
  | 'malformed-image';

/**
 * Branches that exist for inputs a campaign never gives the model by construction, recognised by
 * their source text: what the checker rejects (the evaluators' and converter's defensive arms), the
 * faults property 3 says never happen, traces (off in campaigns), and malformed byte images (the
 * campaign round-trips valid ones; the unit tests cover the errors). Each is a claim the campaign
 * checks: a pattern that stops matching shows up as a reachable miss.
 */
export const UNREACHABLE: readonly (readonly [RegExp, MissReason])[] = [
  [/Op\.INVALID|default: \/\/ 3\.14:397|BPF_ANC\) !== 0\) return false|K >= 32\) this\.events/, 'checker-rejects'],
  [/if \(pc >= len\) \{|'jump-target-out-of-range'|case 0x21: \/\/ LDX W ABS|fail\('bad-len'|fail\('too-many-passes'|'errno' in first|prog === null\) return checkReject/, 'checker-rejects'],
  [/^default:$|^case 0x18:$/, 'checker-rejects'],
  [/MEM_UNMAPPED|MEM_OUT_OF_BOUNDS|MEM_READ_ONLY|st !== MEM_OK|st !== DIV_OK|base === 0\) return DIV_BY_ZERO|h === undefined|f !== null\) (\{|return this\.stop)|pc < 0 \|\| pc >= len|steps >= budget|lo < 0\) \{|lo > 0xffffffff|badRegister\[pc\] === 1/, 'never-faults'],
  [/trace !== null\) trace\.push/, 'trace-off'],
  [/% (SOCK_FILTER_SIZE|BPF_INSN_SIZE) !== 0|LD_IMM64_CODE|ld_imm64 at insn/, 'malformed-image'],
  [/masksScratch\.length < flen|ANC_OPS\.get\(ad\) \?\? op|prog\.length <= BPF_MAXINSNS/, 'checker-rejects'],
  // a negative-offset load is relative to a header at or after skb->head (assertSkb)
  [/off < -headroom\) return -1/, 'skb-invariant'],
  // arms for operand values the converter never emits: ALU64 and signed (off 1) div/mod, MOVSX,
  // 64-bit bswap, 1- and 2-byte stores, 64-bit compares whose operands never order that way (the
  // only signed compare emitted is `if r0 s>= 0` after a helper, on a zero-extended value)
  [/off !== 1\) return DIV_OK|same \? r\[ax\]|< 0 \? -r\[ax\]|off === 8|imm === 64\) swab64|^case [12]:$|ah !== bh\) return ah < bh|al === bl \? 0 : al < bl|^\? isMod$/, 'operand-not-emitted'],
];

export interface MissedBranch {
  readonly line: number;
  readonly reason: MissReason;
  readonly text: string;
}

export interface BranchCoverage {
  readonly file: string;
  readonly branches: number;
  readonly covered: number;
  readonly lines: number;
  readonly linesCovered: number;
  /** source lines (of the TypeScript file) with a branch never taken, and why */
  readonly missed: MissedBranch[];
}

// What puts a missed branch out of a socket-filter campaign's reach, read from its source line.
const API_MISUSE = /throw new (RangeError|Error)\(|BUG_ON/;
// configuration facts a campaign holds fixed: byte order, alignment, JIT, helper version, the
// historical variant (and what only a variant produces), the runner's image-reuse option
const OTHER_CONFIG =
  /littleEndian|\ble \?|unalignedOk|efficientUnalignedAccess|netIpAlign|ipAlign|jitAlwaysOn|jitAvailable|jitRequested|jitNeeded|jit-required|\bloadHelpers\b|variant|checkShiftK|checkLoadAndStores|divXGuard|ldxOffOk|nestLen|classicDivK|classicNlattrGuards|classicTax|classicTxa|classicShiftX|classicIndSum|NLA_OOB|NLATTR_OOB|headRegion\.buf !== own\.head/;

/**
 * Classify a missed branch of `lines` (the TypeScript source) at 1-based `line`: a throw for API
 * misuse; one of the UNREACHABLE patterns; a decision on a configuration fact (campaigns run one
 * configuration); in the eBPF interpreter, an opcode arm the converter never emitted (the nearest
 * `case 0x..:` above it); else reachable.
 */
export function classifyMiss(file: string, lines: readonly string[], line: number, emitted: ReadonlySet<number>): MissReason {
  const text = lines[line - 1] ?? '';
  if (API_MISUSE.test(text) || API_MISUSE.test(lines[line] ?? '')) return 'api-misuse';
  for (const [re, reason] of UNREACHABLE) if (re.test(text.trim())) return reason;
  if (OTHER_CONFIG.test(text)) return 'other-config';
  if (file.endsWith('ebpf/interp.ts') || file.endsWith('ebpf/jit.ts')) {
    // the nearest case labels above: `case 0x..:` or `case BPF_ALU64 | BPF_ADD | BPF_X:` (several per line)
    // a miss on a line of several labels is one of its labels: reachable only if all were emitted
    const here = caseCodes(text);
    if (here.length > 0) return here.every((c) => emitted.has(c)) ? 'reachable' : 'opcode-not-emitted';
    for (let i = line - 2; i >= 0 && i >= line - 60; i--) {
      const codes = caseCodes(lines[i]!);
      if (codes.length > 0) return codes.some((c) => emitted.has(c)) ? 'reachable' : 'opcode-not-emitted';
    }
  }
  return 'reachable';
}

/** The constants a case label may name (model/uapi.ts and model/ebpf/insn.ts). */
const CODE_NAMES: ReadonlyMap<string, number> = new Map(
  [...Object.entries(UAPI), ...Object.entries(EBPF_INSN)].filter((e): e is [string, number] => /^BPF_[A-Z0-9_]+$/.test(e[0]) && typeof e[1] === 'number'),
);

/** The opcodes of the case labels on one source line (none when it has no case label of constants). */
export function caseCodes(line: string): number[] {
  const out: number[] = [];
  for (const m of line.matchAll(/\bcase ([^:]+):/g)) {
    let v = 0;
    let ok = true;
    for (const part of m[1]!.split('|').map((x) => x.trim())) {
      const n = /^0x[0-9a-f]+$/i.test(part) ? Number(part) : CODE_NAMES.get(part);
      if (n === undefined) ok = false;
      else v |= n;
    }
    if (ok) out.push(v);
  }
  return out;
}

export interface CoverageReport {
  readonly features: { readonly reached: number; readonly expected: number; readonly missed: string[] };
  readonly model: BranchCoverage[];
  /** the eBPF opcodes the converter emitted over the campaign */
  readonly emitted: number[];
  readonly stats: Stats;
  readonly findings: number;
}

const MODEL_DIRS = ['/model/cbpf/', '/model/migrate/', '/model/ebpf/'];

interface IstanbulFile {
  path: string;
  branchMap: Record<string, { loc: { start: { line: number } } }>;
  b: Record<string, number[]>;
  s: Record<string, number>;
  statementMap: Record<string, { start: { line: number } }>;
}

async function toBranchCoverage(fns: readonly { url: string; functions: unknown[] }[], emitted: ReadonlySet<number>, projectRoot: string): Promise<BranchCoverage[]> {
  const out: BranchCoverage[] = [];
  for (const script of fns) {
    if (!script.url.startsWith('file://') || !MODEL_DIRS.some((d) => script.url.includes(`/dist${d}`))) continue;
    const path = fileURLToPath(script.url);
    const conv = v8ToIstanbul(path, 0);
    await conv.load();
    conv.applyCoverage(script.functions as Parameters<typeof conv.applyCoverage>[0]);
    for (const f of Object.values(conv.toIstanbul() as Record<string, IstanbulFile>)) {
      let branches = 0;
      let covered = 0;
      const missed = new Set<number>();
      for (const [id, counts] of Object.entries(f.b)) {
        for (const n of counts) {
          branches++;
          if (n > 0) covered++;
          else missed.add(f.branchMap[id]!.loc.start.line);
        }
      }
      const lines = new Map<number, boolean>();
      for (const [id, n] of Object.entries(f.s)) {
        const line = f.statementMap[id]!.start.line;
        lines.set(line, (lines.get(line) ?? false) || n > 0);
      }
      const file = f.path.slice(f.path.indexOf('/model/') + 1);
      let src: string[] = [];
      try {
        src = readFileSync(`${projectRoot}/${file}`, 'utf8').split('\n');
      } catch {
        // no source beside dist: every miss counts as reachable
      }
      out.push({
        file,
        branches,
        covered,
        lines: lines.size,
        linesCovered: [...lines.values()].filter(Boolean).length,
        missed: [...missed]
          .sort((a, b) => a - b)
          .map((line) => ({ line, reason: classifyMiss(file, src, line, emitted), text: (src[line - 1] ?? '').trim() })),
      });
    }
    conv.destroy();
  }
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

/**
 * Run the campaign's chunks in this thread (the same cases as `bpfspec fuzz` with this seed, one
 * worker) under V8 precise coverage, recording features. `deadline` bounds it in time.
 */
export async function coverageCampaign(opts: CampaignOptions, progress?: (s: Stats, ms: number) => void, shouldStop?: () => boolean): Promise<CoverageReport> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  const checker = new Checker(opts.config);
  const rec = new FeatureRecorder(opts.config);
  const arb = campaignArbitrary(opts.packetsPerProgram, opts.config);
  const started = Date.now();
  const deadline = opts.timeMs === null ? Infinity : started + opts.timeMs;
  let findings = 0;
  const total: Stats = { programs: 0, pairs: 0, invalid: 0, divergences: {}, invalidRules: {} };
  for (const { chunk, size } of workerChunks({ ...opts, shard: opts.shard }, 0, 1)) {
    if (Date.now() >= deadline || shouldStop?.()) break; // shouldStop: Ctrl-C (cli/commands/fuzz.ts runCoverage)
    checker.stats = total;
    for (const c of fc.sample(arb, { seed: chunkSeed(opts.seed, chunk), numRuns: size })) {
      rec.record(c);
      if (('valid' in c ? checker.checkValid(c.valid.prog, c.valid.inputs) : checker.checkInvalid(c.invalid)) !== null) findings++;
    }
    progress?.(total, Date.now() - started);
    // let the event loop breathe (SIGINT, progress output)
    await new Promise((r) => setImmediate(r));
  }
  const { result } = (await session.post('Profiler.takePreciseCoverage')) as { result: { url: string; functions: unknown[] }[] };
  await session.post('Profiler.stopPreciseCoverage');
  session.disconnect();
  rec.stats(total);
  const expected = expectedFeatures(opts.config);
  const missed = expected.filter((f) => !rec.seen.has(f));
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const model = await toBranchCoverage(result, rec.emitted, root);
  return { features: { reached: expected.length - missed.length, expected: expected.length, missed }, model, emitted: [...rec.emitted].sort((a, b) => a - b), stats: total, findings };
}

