// Corpus entries judged by an outside implementation (corpus/external/<implementation>/ and the
// findings of outside campaigns): a normal corpus entry (the Linux side, which `bpfspec replay`
// replays as always) with an `external` record of what the implementation answered, which replay
// checks again when the implementation is installed (cli/commands/judges.ts replayExternal).
import { makeEntry, type CorpusEntry, type NewEntry } from '../corpus.js';
import type { ImplName } from './catalogue.js';
import type { ImplResult, ImplRun } from './compare.js';

export interface ExternalResultJson {
  readonly status: 'value' | 'error' | 'signal';
  readonly value?: number;
  readonly signal?: number;
  readonly message?: string;
}

export interface ExternalJson {
  readonly implementation: ImplName;
  readonly version: string;
  /** the catalogue entry the case shows, or null for an unexplained finding */
  readonly catalogue: string | null;
  readonly report?: string;
  readonly expect: { readonly verdict: { readonly code: number; readonly stage: string; readonly message?: string }; readonly results: readonly ExternalResultJson[] };
}

export type ExternalEntry = CorpusEntry & { readonly external: ExternalJson };

export const isExternalEntry = (e: CorpusEntry): e is ExternalEntry => (e as Partial<ExternalEntry>).external !== undefined;

const resultJson = (r: ImplResult): ExternalResultJson =>
  r.status === 'value' ? { status: 'value', value: r.value >>> 0 } : r.status === 'error' ? { status: 'error', message: r.message } : { status: 'signal', signal: r.signal, message: r.message };

/** What an implementation answered, as an entry records it. */
export function externalExpect(run: ImplRun): ExternalJson['expect'] {
  return {
    // pointers in the library's messages (DPDK logs `validate(0x7ffd...)`) are not part of the answer
    verdict: { code: run.verdict.code, stage: run.verdict.stage, ...(run.verdict.code !== 0 ? { message: run.verdict.message.replace(/0x[0-9a-f]{8,}/g, '0x...') } : {}) },
    results: run.results.map(resultJson),
  };
}

/** The differences between what an entry recorded and what the implementation answers now. */
export function externalDiffs(want: ExternalJson['expect'], run: ImplRun): string[] {
  const now = externalExpect(run);
  const diffs: string[] = [];
  const v = (x: ExternalJson['expect']['verdict']): string => (x.code === 0 ? `accepted (${x.stage})` : `rejected by ${x.stage} (${x.code})`);
  if (want.verdict.code !== now.verdict.code || want.verdict.stage !== now.verdict.stage) diffs.push(`verdict: recorded ${v(want.verdict)}, now ${v(now.verdict)}`);
  if (want.results.length !== now.results.length) diffs.push(`results: recorded ${want.results.length}, now ${now.results.length}`);
  const text = (r: ExternalResultJson | undefined): string => (r === undefined ? 'none' : r.status === 'value' ? String(r.value) : r.status === 'signal' ? `signal ${r.signal}` : `error (${r.message})`);
  now.results.forEach((r, i) => {
    const w = want.results[i];
    if (w === undefined) return;
    if (w.status !== r.status || w.value !== r.value || w.signal !== r.signal || (w.status === 'error' && w.message !== r.message)) diffs.push(`input ${i}: recorded ${text(w)}, now ${text(r)}`);
  });
  return diffs;
}

/** A new entry (fuzz/corpus.ts NewEntry's case fields) and the implementation's answer to it. */
export interface NewExternalEntry extends Pick<NewEntry, 'title' | 'prog' | 'inputs' | 'config' | 'origin' | 'asm' | 'notes'> {
  readonly kind: 'divergence' | 'finding';
  readonly implementation: ImplName;
  readonly version: string;
  readonly catalogue: string | null;
  readonly report?: string;
  readonly run: ImplRun;
}

/** An entry: Linux's side recorded by makeEntry, the implementation's answer in `external`. */
export function makeExternalEntry({ implementation, version, catalogue, report, run, ...entry }: NewExternalEntry): ExternalEntry {
  return {
    ...makeEntry(entry),
    external: { implementation, version, catalogue, ...(report !== undefined ? { report } : {}), expect: externalExpect(run) },
  };
}
