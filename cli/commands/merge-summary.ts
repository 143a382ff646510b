// `bpfspec corpus merge DIR... --summaries FILE...`: the shards of one campaign merged into one.
//   - Summaries: each shard's `bpfspec fuzz --json` output; the merge checks they are shards of one
//     campaign (same seed, same shard count, same packets per program, no shard twice), adds up the
//     counts, concatenates the findings (by chunk) and merges the signatures (fuzz/signature.ts): the
//     counts add up, the kept case is the smallest (instructions, packet bytes, earliest chunk), as one
//     machine running every shard keeps it.
//   - Corpus entries: a finding that names its signature (origin.signature) is kept only when it is
//     the smallest case of that signature (for the same kernel parameters and variant) among the
//     directories merged, so the merged corpus holds what one machine would have written.
import { lstatSync, readFileSync } from 'node:fs';
import type { CorpusEntry } from '../../fuzz/corpus.js';
import { smaller, type CaseSize } from '../../fuzz/signature.js';
import { clip, InputError } from '../io.js';

/** The largest summary file read. */
const SUMMARY_LIMIT = 256 * 1024 * 1024;

export interface SignatureJson {
  id: string;
  signature: string;
  count: number;
  property: string;
  judge?: string;
  message: string;
  seed: number;
  path: string;
  chunk: number;
  first_chunk: number;
  insns: number;
  bytes: number;
  file: string | null;
}

export interface FindingJson {
  property: string;
  judge?: string;
  message: string;
  seed: number;
  path: string;
  chunk: number;
  signature: string;
  file: string | null;
}

/** The parts of a `fuzz --json` summary a merge reads. */
export interface ShardSummary {
  seed: number;
  shard: { index: number; count: number };
  workers: number;
  packets_per_program: number;
  elapsed_s: number;
  interrupted: boolean;
  max_findings_reached: boolean;
  cases: number;
  programs: number;
  invalid: number;
  pairs: number;
  divergences: Map<string, number>;
  invalid_rules: Map<string, number>;
  findings: FindingJson[];
  signatures: SignatureJson[];
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const own = (o: Record<string, unknown>, k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined);

function field<T>(file: string, o: Record<string, unknown>, k: string, ok: (v: unknown) => v is T, what: string): T {
  const v = own(o, k);
  if (!ok(v)) throw new InputError(`${file}: "${k}" is not ${what} (not a bpfspec fuzz --json summary?)`);
  return v;
}
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isSeed = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < 2 ** 31;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isStr = (v: unknown): v is string => typeof v === 'string';
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isArr = (v: unknown): v is unknown[] => Array.isArray(v);

function counts(file: string, o: Record<string, unknown>, k: string): Map<string, number> {
  const v = field(file, o, k, isObj, 'an object of counts');
  const m = new Map<string, number>();
  for (const [name, n] of Object.entries(v)) {
    if (!isInt(n)) throw new InputError(`${file}: "${k}"."${clip(name, 60)}" is not a count`);
    m.set(name, n);
  }
  return m;
}

function findingOf(file: string, v: unknown, i: number): FindingJson {
  if (!isObj(v)) throw new InputError(`${file}: findings[${i}] is not an object`);
  const where = `${file}: findings[${i}]`;
  const judge = own(v, 'judge');
  return {
    property: field(where, v, 'property', isStr, 'a string'),
    ...(isStr(judge) ? { judge } : {}),
    message: field(where, v, 'message', isStr, 'a string'),
    seed: field(where, v, 'seed', isSeed, 'a seed'),
    path: field(where, v, 'path', isStr, 'a string'),
    chunk: field(where, v, 'chunk', isInt, 'a chunk number'),
    signature: field(where, v, 'signature', isStr, 'a signature'),
    file: null,
  };
}

function signatureOf(file: string, v: unknown, i: number): SignatureJson {
  if (!isObj(v)) throw new InputError(`${file}: signatures[${i}] is not an object`);
  const where = `${file}: signatures[${i}]`;
  const judge = own(v, 'judge');
  const f = own(v, 'file');
  return {
    id: field(where, v, 'id', isStr, 'a string'),
    signature: field(where, v, 'signature', isStr, 'a string'),
    count: field(where, v, 'count', isInt, 'a count'),
    property: field(where, v, 'property', isStr, 'a string'),
    ...(isStr(judge) ? { judge } : {}),
    message: field(where, v, 'message', isStr, 'a string'),
    seed: field(where, v, 'seed', isSeed, 'a seed'),
    path: field(where, v, 'path', isStr, 'a string'),
    chunk: field(where, v, 'chunk', isInt, 'a chunk number'),
    first_chunk: field(where, v, 'first_chunk', isInt, 'a chunk number'),
    insns: field(where, v, 'insns', isInt, 'a count'),
    bytes: field(where, v, 'bytes', isInt, 'a count'),
    file: isStr(f) ? f : null,
  };
}

/** Read one shard's `fuzz --json` summary (a regular file); bad input is an InputError naming the file. */
export function readSummary(file: string): ShardSummary {
  let st;
  try {
    st = lstatSync(file);
  } catch (e) {
    throw new InputError(`--summaries ${clip(file)}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'cannot read'}`);
  }
  if (!st.isFile()) throw new InputError(`--summaries ${clip(file)}: not a regular file`);
  if (st.size > SUMMARY_LIMIT) throw new InputError(`--summaries ${clip(file)}: larger than ${SUMMARY_LIMIT} bytes`);
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(`--summaries ${clip(file)}: not JSON: ${clip((e as Error).message, 120)}`);
  }
  const name = clip(file);
  if (!isObj(j)) throw new InputError(`${name}: not a bpfspec fuzz --json summary (expected a JSON object)`);
  const shardText = field(name, j, 'shard', isStr, 'a shard i/N');
  const m = /^(\d{1,10})\/(\d{1,10})$/.exec(shardText);
  if (!m || Number(m[1]) >= Number(m[2])) throw new InputError(`${name}: "shard" ${clip(shardText)} is not i/N`);
  return {
    seed: field(name, j, 'seed', isSeed, 'a seed'),
    shard: { index: Number(m[1]), count: Number(m[2]) },
    workers: field(name, j, 'workers', isInt, 'a count'),
    packets_per_program: field(name, j, 'packets_per_program', isInt, 'a count'),
    elapsed_s: field(name, j, 'elapsed_s', isNum, 'a duration'),
    interrupted: field(name, j, 'interrupted', isBool, 'true or false'),
    max_findings_reached: own(j, 'max_findings_reached') === true,
    cases: field(name, j, 'cases', isInt, 'a count'),
    programs: field(name, j, 'programs', isInt, 'a count'),
    invalid: field(name, j, 'invalid', isInt, 'a count'),
    pairs: field(name, j, 'pairs', isInt, 'a count'),
    divergences: counts(name, j, 'divergences'),
    invalid_rules: counts(name, j, 'invalid_rules'),
    findings: field(name, j, 'findings', isArr, 'a list').map((v, i) => findingOf(name, v, i)),
    signatures: field(name, j, 'signatures', isArr, 'a list (a summary of bpfspec before signatures?)').map((v, i) => signatureOf(name, v, i)),
  };
}

/** The merged summary of a campaign's shards (`corpus merge --summaries`). */
export interface MergedSummary {
  seed: number;
  shards: string[];
  shard_count: number;
  missing_shards: number[];
  packets_per_program: number;
  workers: number;
  elapsed_s: number;
  interrupted: boolean;
  max_findings_reached: boolean;
  cases: number;
  programs: number;
  invalid: number;
  pairs: number;
  divergences: Record<string, number>;
  invalid_rules: Record<string, number>;
  findings: FindingJson[];
  signatures: SignatureJson[];
}

const addCounts = (into: Map<string, number>, from: Map<string, number>): void => {
  for (const [k, v] of from) into.set(k, (into.get(k) ?? 0) + v);
};

/** Merge shards of one campaign; files name the summaries in errors. */
export function mergeSummaries(files: readonly string[], shards: readonly ShardSummary[]): MergedSummary {
  if (shards.length === 0) throw new InputError('--summaries: no summary given');
  const first = shards[0]!;
  const seen = new Map<number, string>();
  const div = new Map<string, number>();
  const rules = new Map<string, number>();
  const bySig = new Map<string, SignatureJson>();
  const out: MergedSummary = {
    seed: first.seed,
    shards: [],
    shard_count: first.shard.count,
    missing_shards: [],
    packets_per_program: first.packets_per_program,
    workers: 0,
    elapsed_s: 0,
    interrupted: false,
    max_findings_reached: false,
    cases: 0,
    programs: 0,
    invalid: 0,
    pairs: 0,
    divergences: {},
    invalid_rules: {},
    findings: [],
    signatures: [],
  };
  shards.forEach((s, i) => {
    const f = clip(files[i] ?? `summary ${i}`);
    if (s.seed !== first.seed) throw new InputError(`--summaries: ${f} has seed ${s.seed}, ${clip(files[0] ?? '')} seed ${first.seed}: not shards of one campaign`);
    if (s.shard.count !== first.shard.count) throw new InputError(`--summaries: ${f} is shard ${s.shard.index}/${s.shard.count}, ${clip(files[0] ?? '')} of ${first.shard.count} shards: not shards of one campaign`);
    if (s.packets_per_program !== first.packets_per_program) throw new InputError(`--summaries: ${f} has ${s.packets_per_program} packets per program, ${clip(files[0] ?? '')} ${first.packets_per_program}`);
    const dup = seen.get(s.shard.index);
    if (dup !== undefined) throw new InputError(`--summaries: ${f} and ${dup} are both shard ${s.shard.index}/${s.shard.count}`);
    seen.set(s.shard.index, f);
    out.workers += s.workers;
    out.elapsed_s = Math.max(out.elapsed_s, s.elapsed_s);
    out.interrupted ||= s.interrupted;
    out.max_findings_reached ||= s.max_findings_reached;
    out.cases += s.cases;
    out.programs += s.programs;
    out.invalid += s.invalid;
    out.pairs += s.pairs;
    addCounts(div, s.divergences);
    addCounts(rules, s.invalid_rules);
    out.findings.push(...s.findings);
    for (const g of s.signatures) {
      const e = bySig.get(g.signature);
      if (e === undefined) {
        bySig.set(g.signature, { ...g });
        continue;
      }
      e.count += g.count;
      e.first_chunk = Math.min(e.first_chunk, g.first_chunk);
      const size = (x: SignatureJson): CaseSize => ({ insns: x.insns, bytes: x.bytes });
      if (smaller(size(g), g.chunk, size(e), e.chunk)) Object.assign(e, { ...g, count: e.count, first_chunk: e.first_chunk });
    }
  });
  out.shards = [...seen.keys()].sort((a, b) => a - b).map((i) => `${i}/${first.shard.count}`);
  for (let i = 0; i < first.shard.count && out.missing_shards.length < 1000; i++) if (!seen.has(i)) out.missing_shards.push(i);
  out.divergences = Object.fromEntries(div);
  out.invalid_rules = Object.fromEntries(rules);
  out.findings.sort((a, b) => a.chunk - b.chunk);
  out.signatures = [...bySig.values()].sort((a, b) => a.first_chunk - b.first_chunk || (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0));
  out.elapsed_s = Number(out.elapsed_s.toFixed(3));
  return out;
}

/** The merged summary as text. */
export function mergedSummaryText(m: MergedSummary): string {
  const fmt = (n: number): string => n.toLocaleString('en-US');
  const lines = [
    `campaign seed ${m.seed}: shards ${m.shards.length} of ${m.shard_count}${m.missing_shards.length > 0 ? ` (missing: ${m.missing_shards.join(', ')})` : ''}${m.interrupted ? ', some interrupted' : ''}${m.max_findings_reached ? ', some stopped at --max-findings' : ''}`,
    `${fmt(m.cases)} cases (${fmt(m.programs)} valid programs, ${fmt(m.invalid)} invalid), ${fmt(m.pairs)} (program, packet) pairs, longest shard ${m.elapsed_s.toFixed(1)}s`,
    `divergences: ${
      Object.entries(m.divergences)
        .filter(([, v]) => v > 0)
        .map(([k, v]) => `${k}=${fmt(v)}`)
        .join(' ') || 'none'
    }`,
    `findings: ${m.findings.length} in ${m.signatures.length} signature${m.signatures.length === 1 ? '' : 's'}`,
    ...m.signatures.map((s) => `  ${s.id}  ${fmt(s.count)} finding${s.count === 1 ? '' : 's'}: ${s.signature}\n    smallest (${s.insns} insns, ${s.bytes} packet bytes): ${s.message} (seed ${s.seed}, path ${s.path}, chunk ${s.chunk})`),
  ];
  return `${lines.join('\n')}\n`;
}

/** The key and size of a corpus finding that names its signature, or null (kept as any entry). */
export function entrySignature(e: CorpusEntry): { key: string; size: CaseSize; chunk: number } | null {
  const sig = e.origin.signature;
  if (e.kind !== 'finding' || typeof sig !== 'string') return null;
  const chunk = typeof e.origin.chunk === 'number' && Number.isSafeInteger(e.origin.chunk) ? e.origin.chunk : Number.MAX_SAFE_INTEGER;
  const bytes = e.inputs.reduce((n, i) => n + i.packet.length / 2, 0);
  return { key: `${JSON.stringify(e.config)}|${e.variant?.name ?? ''}|${sig}`, size: { insns: e.program.len ?? e.program.hex.length / 16, bytes }, chunk };
}
