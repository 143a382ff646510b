// `bpfspec replay [PATH...]` and `bpfspec corpus merge DIR... -o OUT`.
import { mkdirSync } from 'node:fs';
import { CorpusError, entryHash, listEntries, readEntry, replayEntry, writeEntry } from '../../fuzz/corpus.js';
import { InputError } from '../io.js';

export interface ReplayReport {
  readonly files: number;
  readonly passed: number;
  readonly changed: { readonly file: string; readonly differences: string[] }[];
  readonly invalid: string[];
}

/** Replay every entry under `paths`; corrupt files are reported, not thrown. */
export function replay(paths: readonly string[]): ReplayReport {
  let files: string[];
  try {
    files = listEntries(paths);
  } catch (e) {
    if (e instanceof CorpusError) throw new InputError(e.message);
    throw e;
  }
  const changed: ReplayReport['changed'] = [];
  const invalid: string[] = [];
  let passed = 0;
  for (const file of files) {
    const r = readEntry(file);
    if (!r.ok) {
      invalid.push(r.error);
      continue;
    }
    try {
      const d = replayEntry(r.entry);
      if (d.length === 0) passed++;
      else changed.push({ file, differences: d });
    } catch (e) {
      if (e instanceof CorpusError) invalid.push(`${file}: ${e.message}`);
      else throw e;
    }
  }
  return { files: files.length, passed, changed, invalid };
}

export function replayText(r: ReplayReport): string {
  const lines: string[] = [];
  for (const c of r.changed) lines.push(`CHANGED ${c.file}`, ...c.differences.map((d) => `  ${d}`));
  for (const i of r.invalid) lines.push(`INVALID ${i}`);
  lines.push(`${r.passed} of ${r.files} entries replay exactly; ${r.changed.length} changed, ${r.invalid.length} invalid`);
  return `${lines.join('\n')}\n`;
}

/** Merge the entries of several corpus directories (e.g. shard outputs) into `out`, deduplicated by hash. */
export function mergeCorpora(dirs: readonly string[], out: string): { read: number; written: number; duplicates: number; invalid: string[] } {
  let files: string[];
  try {
    files = listEntries(dirs);
  } catch (e) {
    if (e instanceof CorpusError) throw new InputError(e.message);
    throw e;
  }
  mkdirSync(out, { recursive: true });
  const seen = new Set<string>();
  let written = 0;
  let duplicates = 0;
  const invalid: string[] = [];
  for (const file of files) {
    const r = readEntry(file);
    if (!r.ok) {
      invalid.push(r.error);
      continue;
    }
    const h = entryHash(r.entry);
    if (seen.has(h)) {
      duplicates++;
      continue;
    }
    seen.add(h);
    if (writeEntry(out, r.entry).created) written++;
    else duplicates++;
  }
  return { read: files.length, written, duplicates, invalid };
}

/** One program to import: its title and instructions. */
export interface ImportProgram {
  readonly title: string;
  readonly prog: import('../../model/cbpf/insn.js').SockFilter[];
}

/**
 * Read programs to import: a JSON-lines file with one `{"insns": [...], "expr"?: ...}` object per line
 * (e.g. ../shared/corpus-seeds/tcpdump_filters.jsonl; lines without insns are skipped), or one
 * program file in any format bpfspec reads.
 */
export function readImportPrograms(path: string, text: string, parseOne: () => import('../../model/cbpf/insn.js').SockFilter[]): ImportProgram[] {
  if (!path.endsWith('.jsonl')) return [{ title: path, prog: parseOne() }];
  const out: ImportProgram[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(line) as Record<string, unknown>;
    } catch (e) {
      throw new InputError(`${path}:${i + 1}: not JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(obj.insns)) return;
    const prog = (obj.insns as Record<string, unknown>[]).map((insn, pc) => {
      const ok = (v: unknown, bits: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** bits;
      if (!ok(insn.code, 16) || !ok(insn.jt, 8) || !ok(insn.jf, 8) || !ok(insn.k, 32)) throw new InputError(`${path}:${i + 1}: insn ${pc} is not {code u16, jt u8, jf u8, k u32}`);
      return { code: insn.code, jt: insn.jt, jf: insn.jf, k: insn.k };
    });
    const label = typeof obj.expr === 'string' ? `tcpdump "${obj.expr}"` : `line ${i + 1}`;
    out.push({ title: `${label} (${path.split('/').pop()} #${obj.id ?? i})`, prog });
  });
  if (out.length === 0) throw new InputError(`${path}: no line with "insns"`);
  return out;
}
