// `bpfspec replay [PATH...]`, `bpfspec corpus merge DIR... -o OUT` and reading `corpus import` input.
import { lstatSync } from 'node:fs';
import { readSettledJitHarden } from '../../oracle/kernel/sockopt.js';
import { CorpusError, entryHash, hardenNote, readEntry, replayEntry, scanEntries, writeEntry, type CorpusEntry } from '../../fuzz/corpus.js';
import { smaller, type CaseSize } from '../../fuzz/signature.js';
import type { SockFilter } from '../../model/cbpf/insn.js';
import { clip, ensureOutputDir, InputError } from '../io.js';
import { entrySignature } from './merge-summary.js';

export interface ReplayReport {
  readonly files: number;
  readonly passed: number;
  readonly changed: { readonly file: string; readonly differences: string[] }[];
  readonly invalid: string[];
  /** entries made under another bpf_jit_harden than this kernel's (replayed with the recorded one) */
  readonly notes: string[];
}

/** Why replaying one entry failed, as one line (a model exception is reported, never thrown). */
const failure = (file: string, e: unknown): string =>
  e instanceof CorpusError ? `${file}: ${e.message}` : `${file}: cannot replay: ${clip(e instanceof Error ? e.message : String(e), 200)}`;

/** A path named on the command line must exist (a dangling link is reported by the walk instead). */
function checkTopLevel(paths: readonly string[]): void {
  for (const p of paths) {
    try {
      lstatSync(p);
    } catch {
      throw new InputError(`${clip(p)}: no such file or directory`);
    }
  }
}

/**
 * Replay every entry under `paths`. Corrupt files, dangling symbolic links, loops and special files
 * are reported in `invalid` and the replay goes on with the rest; nothing is thrown.
 */
export function replay(paths: readonly string[]): ReplayReport {
  checkTopLevel(paths);
  const scan = scanEntries(paths);
  const changed: ReplayReport['changed'] = [];
  const invalid: string[] = [...scan.problems];
  const notes: string[] = [];
  // the machine's value, read under the harden lock (never another process's transient window)
  const harden = readSettledJitHarden();
  let passed = 0;
  for (const file of scan.files) {
    const r = readEntry(file);
    if (!r.ok) {
      invalid.push(r.error);
      continue;
    }
    const note = hardenNote(r.entry, harden);
    if (note !== null) notes.push(`${file}: ${note}`);
    try {
      const d = replayEntry(r.entry);
      if (d.length === 0) passed++;
      else changed.push({ file, differences: d });
    } catch (e) {
      invalid.push(failure(file, e));
    }
  }
  return { files: scan.files.length + scan.problems.length, passed, changed, invalid, notes };
}

export function replayText(r: ReplayReport): string {
  const lines: string[] = [];
  for (const c of r.changed) lines.push(`CHANGED ${c.file}`, ...c.differences.map((d) => `  ${d}`));
  for (const i of r.invalid) lines.push(`INVALID ${i}`);
  for (const n of r.notes) lines.push(`NOTE ${n}`);
  lines.push(`${r.passed} of ${r.files} entries replay exactly; ${r.changed.length} changed, ${r.invalid.length} invalid`);
  return `${lines.join('\n')}\n`;
}

export interface MergeReport {
  readonly read: number;
  readonly written: number;
  readonly duplicates: number;
  /** findings left out because a smaller case of their signature was merged (cli/commands/merge-summary.ts) */
  readonly superseded: number;
  readonly invalid: string[];
}

/**
 * Merge the entries of several corpus directories (e.g. shard outputs) into `out`, deduplicated by
 * hash; of the findings that name a signature, only the smallest case of each is written.
 */
export function mergeCorpora(dirs: readonly string[], out: string): MergeReport {
  checkTopLevel(dirs);
  ensureOutputDir(out, '-o');
  const scan = scanEntries(dirs);
  const seen = new Set<string>();
  let written = 0;
  let duplicates = 0;
  const invalid: string[] = [...scan.problems];
  const entries: CorpusEntry[] = [];
  for (const file of scan.files) {
    const r = readEntry(file);
    if (r.ok) entries.push(r.entry);
    else invalid.push(r.error);
  }
  // the smallest case of each signature (instructions, packet bytes, earliest chunk)
  const best = new Map<string, { entry: CorpusEntry; size: CaseSize; chunk: number }>();
  for (const entry of entries) {
    const sig = entrySignature(entry);
    if (sig === null) continue;
    const b = best.get(sig.key);
    if (b === undefined || smaller(sig.size, sig.chunk, b.size, b.chunk)) best.set(sig.key, { entry, ...sig });
  }
  let superseded = 0;
  for (const entry of entries) {
    const sig = entrySignature(entry);
    if (sig !== null && best.get(sig.key)!.entry !== entry && entryHash(best.get(sig.key)!.entry) !== entryHash(entry)) {
      superseded++;
      continue;
    }
    const h = entryHash(entry);
    if (seen.has(h)) {
      duplicates++;
      continue;
    }
    seen.add(h);
    // a CorpusError (a special file in the way) is bad input: main() prints it as one line, exit 2
    if (writeEntry(out, entry).created) written++;
    else duplicates++;
  }
  return { read: scan.files.length + scan.problems.length, written, duplicates, superseded, invalid };
}

/** One program to import: its title and instructions. */
export interface ImportProgram {
  readonly title: string;
  readonly prog: SockFilter[];
}

const u = (v: unknown, bits: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** bits;

/**
 * Read programs to import: a JSON-lines file with one `{"insns": [...], "expr"?: ...}` object per line
 * (e.g. ../shared/corpus-seeds/tcpdump_filters.jsonl; objects without insns are skipped); `corpus
 * import` reads any other file as one program (cli/program.ts). A bad line is an InputError naming its line number.
 */
export function readImportPrograms(path: string, text: string): ImportProgram[] {
  const out: ImportProgram[] = [];
  const name = path.split('/').pop();
  let start = 0;
  for (let i = 0; start <= text.length; i++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (line.trim() === '') continue;
    const where = `${path}:${i + 1}`;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw new InputError(`${where}: not JSON: ${clip((e as Error).message, 120)}`);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new InputError(`${where}: expected a JSON object {"insns": [...]}`);
    const rec = obj as Record<string, unknown>;
    if (!Object.hasOwn(rec, 'insns')) continue;
    if (!Array.isArray(rec.insns)) throw new InputError(`${where}: "insns" is not an array`);
    const prog = (rec.insns as unknown[]).map((insn, pc): SockFilter => {
      const r = insn !== null && typeof insn === 'object' && !Array.isArray(insn) ? (insn as Record<string, unknown>) : null;
      if (r === null || !u(r.code, 16) || !u(r.jt, 8) || !u(r.jf, 8) || !u(r.k, 32)) throw new InputError(`${where}: insn ${pc} is not {code u16, jt u8, jf u8, k u32}`);
      return { code: r.code, jt: r.jt, jf: r.jf, k: r.k };
    });
    const label = typeof rec.expr === 'string' ? `tcpdump "${clip(rec.expr, 120)}"` : `line ${i + 1}`;
    const id = typeof rec.id === 'string' || typeof rec.id === 'number' ? clip(String(rec.id), 40) : String(i);
    out.push({ title: `${label} (${name} #${id})`, prog });
  }
  if (out.length === 0) throw new InputError(`${path}: no line with "insns"`);
  return out;
}
