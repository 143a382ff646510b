// The hostile-input harness: scenarios for each entry point of the bpfspec command (files to write,
// arguments, stdin), run in this process through main() (or spawned for a sample), and the rules
// every outcome must keep:
//   - the exit code is 0, 1 or 2 (never 3, an internal error, never a signal);
//   - on exit 2, stderr is exactly one line; every stderr line starts `bpfspec:` and is at most
//     1,000 characters; nothing looks like a stack trace;
//   - eval answers each input line with exactly one JSON object line carrying "id";
//   - each run finishes within the harness's bound.
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli } from '../../cli/main.js';
import type { FormatName } from '../../cli/formats/index.js';
import { runCli, spawnCli, type CliResult } from '../cli/_run.js';
import {
  captureArb,
  corpusEntries,
  corpusEntryArb,
  evalLineArb,
  flagValueArb,
  formatInputArb,
  hostileString,
  hostileToken,
  importJsonlArb,
  mutateText,
} from './generators.js';

export const ENTRY_POINTS = ['format', 'capture', 'corpus-entry', 'corpus-import', 'eval', 'packet-hex', 'skb', 'flags', 'expr'] as const;
export type EntryPoint = (typeof ENTRY_POINTS)[number];

/** One run of the command: files to create in a fresh directory, then argv (with @name placeholders). */
export interface Scenario {
  readonly entry: EntryPoint;
  readonly args: readonly string[];
  readonly files: Readonly<Record<string, string | Uint8Array>>;
  /** eval's input lines (joined with LF) */
  readonly lines?: readonly string[];
  /** end the eval input with a newline */
  readonly trailingNewline?: boolean;
}

/** Inputs a scenario feeds: eval lines count one each. */
export const inputsOf = (s: Scenario): number => (s.lines ? Math.max(s.lines.length, 1) : 1);

const PROG = 'ld #7\nret a\n';

/**
 * The per-run bound, a hang detector: no input of the CI sizes (at most a few hundred KB) comes near
 * it even on a loaded machine. Linear time is checked on megabyte inputs by test/hostile/linear.test.ts.
 */
export const RUN_BOUND_MS = 60_000;

// ---------------------------------------------------------------------------------------------
// Scenario arbitraries

const formatScenario: fc.Arbitrary<Scenario> = formatInputArb.chain((fi) =>
  fc.constantFrom('check', 'migrate', 'fmt').chain((cmd) =>
    fc.constantFrom('little', 'big', null).map((endian) => ({
      entry: 'format' as const,
      args: [cmd, '@prog', ...(fi.format === 'auto' ? [] : ['--format', fi.format as FormatName]), ...(cmd === 'fmt' ? ['--to', 'bpf_asm'] : []), ...(endian ? ['--endian', endian] : [])],
      files: { prog: fi.bytes },
    })),
  ),
);

const captureScenario: fc.Arbitrary<Scenario> = fc.tuple(captureArb, fc.constantFrom([], ['--json'], ['--path', 'kernel'], ['--skb', 'ethernet'])).map(([cap, extra]) => ({
  entry: 'capture' as const,
  args: ['run', '@prog', '--pcap', '@cap', ...extra],
  files: { prog: PROG, cap },
}));

const skbScenario: fc.Arbitrary<Scenario> = fc
  .tuple(
    fc.array(fc.tuple(fc.oneof(hostileToken, fc.constantFrom('preset', 'dev', 'mark', 'headlen', 'headroom', 'mac_header', 'cpu', 'vlan_present')), fc.oneof(hostileString(40), fc.constantFrom('1:1', '0x10', '-5', 'null', '{"ifindex":1}', '{"type":[[[]]]}'))), { maxLength: 3 }),
    fc.option(fc.oneof(hostileToken, fc.constantFrom('ethernet', 'af_unix'))),
  )
  .map(([sets, preset]) => ({
    entry: 'skb' as const,
    args: ['run', '@prog', '--packet', '0011223344556677', ...sets.flatMap(([k, v]) => ['--set', `${k}=${v}`]), ...(preset !== null ? ['--skb', preset] : [])],
    files: { prog: PROG },
  }));

const packetScenario: fc.Arbitrary<Scenario> = fc
  .array(fc.oneof(mutateText('00 11:22-33.44 0x55'), hostileString(64), fc.integer({ min: 262140, max: 262150 }).map((n) => 'ab'.repeat(n))), { minLength: 1, maxLength: 3 })
  .map((packets) => ({ entry: 'packet-hex' as const, args: ['run', '@prog', ...packets.flatMap((p) => ['--packet', p])], files: { prog: PROG } }));

const corpusScenario = (entries: readonly unknown[]): fc.Arbitrary<Scenario> =>
  corpusEntryArb(entries).map((text) => ({ entry: 'corpus-entry' as const, args: ['replay', '@entry.json'], files: { 'entry.json': text } }));

const importScenario: fc.Arbitrary<Scenario> = importJsonlArb.map((text) => ({
  entry: 'corpus-import' as const,
  args: ['corpus', 'import', '@in.jsonl', '--packet', '00', '-o', '@out'],
  files: { 'in.jsonl': text },
}));

const evalScenario: fc.Arbitrary<Scenario> = fc.tuple(fc.array(evalLineArb, { minLength: 1, maxLength: 12 }), fc.boolean()).map(([lines, trailingNewline]) => ({
  entry: 'eval' as const,
  args: ['eval'],
  files: {},
  lines,
  trailingNewline,
}));

const exprScenario: fc.Arbitrary<Scenario> = fc
  .tuple(fc.oneof(mutateText('tcp port 80 and ip[2:2] > 576'), hostileString(64)), fc.constantFrom('check', 'compile'))
  .map(([expr, cmd]) => ({ entry: 'expr' as const, args: cmd === 'compile' ? ['compile', expr] : ['check', '--expr', expr], files: {} }));

interface OptionInfo {
  readonly flag: string;
  readonly takesValue: boolean;
  readonly output: boolean;
}

/** Every command's options, read from the command definition itself. */
function commandOptions(): Map<string, OptionInfo[]> {
  const cli = buildCli({ out: () => undefined, err: () => undefined, stdin: (async function* () {})() }, { code: 0 });
  const map = new Map<string, OptionInfo[]>();
  const walk = (c: typeof cli, prefix: string[]): void => {
    for (const sub of c.commands) {
      const name = [...prefix, sub.name()];
      map.set(
        name.join(' '),
        sub.options.map((o) => ({
          flag: (o.long ?? o.short)!,
          takesValue: o.required || o.optional,
          output: ['--output', '--corpus', '--confirmed'].includes(o.long ?? ''),
        })),
      );
      walk(sub, name);
    }
  };
  walk(cli, []);
  return map;
}

let optionsCache: Map<string, OptionInfo[]> | null = null;

/** A user string as a path argument: kept unless it is '-' or names something that exists here. */
const safePath = (p: string): string => (p.startsWith('@') ? p : p === '-' || existsSync(p) ? '@missing' : p);

/**
 * Random flag sets for every command. Output options always point into the scenario's own directory,
 * positional files are the scenario's files (never '-': in this process stdin is the test runner's),
 * and fuzz, kdiff and judges --campaign always get a --time they must refuse, so that no campaign starts.
 */
const flagsScenario: fc.Arbitrary<Scenario> = fc.constant(null).chain(() => {
  optionsCache ??= commandOptions();
  // `web` serves the page until stopped: not a command that ends on its own
  const commands = [...optionsCache.keys()].filter((c) => c !== 'web');
  return fc
    .tuple(
      fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...commands) }, { weight: 1, arbitrary: hostileString(20) }),
      fc.array(fc.tuple(fc.nat(), flagValueArb, fc.boolean()), { maxLength: 5 }),
      fc.array(fc.oneof(fc.constantFrom('@prog', '@cap', '@dir', '@missing', '@out'), hostileString(20)), { maxLength: 3 }),
      fc.constantFrom('0.0001ms', '0', 'forever', '-1s', '1e3', '99999999h'),
      fc.constantFrom('@out', '@out/sub/dir', '@null', '@file', '@dir'),
    )
    .map(([cmd, opts, positional, badTime, outTarget]) => {
      const known = optionsCache!.get(cmd) ?? [];
      const args: string[] = [...cmd.split(' ')];
      let hasOutput = false;
      for (const [i, value, unknown] of opts) {
        const o = known.length === 0 || (unknown && i % 7 === 0) ? { flag: `--${value.replace(/^-+/, '') || 'x'}`, takesValue: false, output: false } : known[i % known.length]!;
        args.push(o.flag);
        if (o.output) {
          args.push(outTarget);
          hasOutput = true;
        } else if (o.takesValue) args.push(safePath(value));
      }
      // positional files and paths: never '-' (in this process stdin is the test runner's), never an
      // existing path outside the scenario's directory (`replay ..` would walk the whole machine)
      args.push(...positional.map(safePath));
      if (cmd === 'fuzz' || cmd === 'kdiff' || (cmd === 'judges' && args.includes('--campaign'))) args.push('--time', badTime);
      // a command whose output has a default (corpus/...) always gets one in the scenario's directory
      const outOpt = known.find((o) => o.output);
      if (outOpt !== undefined && !hasOutput) args.push(outOpt.flag, outTarget);
      // and a command that reads the repository's corpus by default always gets a path of its own
      if ((cmd === 'replay' || cmd === 'seccomp real') && positional.length === 0) args.push('@dir');
      return { entry: 'flags' as const, args, files: { prog: PROG, cap: new Uint8Array([1, 2, 3]), file: 'x' } };
    });
});

/** The scenario arbitrary of an entry point. */
export function scenarioArb(entry: EntryPoint): fc.Arbitrary<Scenario> {
  switch (entry) {
    case 'format':
      return formatScenario;
    case 'capture':
      return captureScenario;
    case 'corpus-entry':
      return corpusScenario(corpusEntries());
    case 'corpus-import':
      return importScenario;
    case 'eval':
      return evalScenario;
    case 'packet-hex':
      return packetScenario;
    case 'skb':
      return skbScenario;
    case 'flags':
      return flagsScenario;
    case 'expr':
      return exprScenario;
  }
}

// ---------------------------------------------------------------------------------------------
// Running and checking

/** A scratch directory with private special files: /dev/null and /dev/full copies (mknod, as root). */
export class Workspace {
  readonly root = mkdtempSync(join(tmpdir(), 'bpfspec-hostile-'));
  readonly null: string | null;
  readonly full: string | null;
  private n = 0;
  constructor() {
    this.null = this.mknod('null', 1, 3);
    this.full = this.mknod('full', 1, 7);
  }

  private mknod(name: string, major: number, minor: number): string | null {
    const p = join(this.root, name);
    return spawnSync('mknod', [p, 'c', String(major), String(minor)], { stdio: 'ignore' }).status === 0 ? p : null;
  }

  /** A fresh directory with the scenario's files; the argv with its placeholders resolved. */
  prepare(s: Scenario): { dir: string; args: string[] } {
    const dir = join(this.root, `s${this.n++}`);
    mkdirSync(dir);
    mkdirSync(join(dir, 'dir'));
    for (const [name, body] of Object.entries(s.files)) writeFileSync(join(dir, name), body);
    const at = (v: string): string => {
      if (v === '@null') return this.null ?? join(dir, 'null-missing');
      if (v === '@full') return this.full ?? join(dir, 'full-missing');
      return v.replace(/^@([A-Za-z0-9._-]+)/, (_m, name: string) => join(dir, name));
    };
    return { dir, args: s.args.map(at) };
  }

  cleanup(dir: string): void {
    rmSync(dir, { recursive: true, force: true });
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

const evalInput = (s: Scenario): string => (s.lines ?? []).join('\n') + (s.trailingNewline ? '\n' : '');

/** The rules every outcome keeps; returns what was broken (empty when none). */
export function violations(s: Scenario, r: CliResult & { signal?: NodeJS.Signals | null }, boundMs = RUN_BOUND_MS): string[] {
  const v: string[] = [];
  if (r.signal) v.push(`killed by ${r.signal}`);
  if (![0, 1, 2].includes(r.code)) v.push(`exit code ${r.code}`);
  const errLines = r.stderr.split('\n').filter((l, i, a) => !(l === '' && i === a.length - 1));
  if (r.stderr !== '' && !r.stderr.endsWith('\n')) v.push('stderr does not end with a newline');
  for (const l of errLines) {
    if (!l.startsWith('bpfspec:')) v.push(`stderr line not starting 'bpfspec:': ${JSON.stringify(l.slice(0, 120))}`);
    if (l.length > 1000) v.push(`stderr line of ${l.length} characters`);
  }
  if (r.code === 2 && errLines.length !== 1) v.push(`exit 2 with ${errLines.length} stderr lines`);
  if (/internal error/.test(r.stderr)) v.push('internal error');
  if (/\n\s+at \S+ \(|^\s+at /m.test(r.stderr) || /\n\s+at \S+ \(/.test(r.stdout)) v.push('stack trace');
  if (r.ms > boundMs) v.push(`took ${Math.round(r.ms)} ms (bound ${boundMs})`);
  if (s.lines !== undefined && r.code === 0) {
    const input = evalInput(s);
    const expected = input === '' ? 0 : input.split('\n').length - (input.endsWith('\n') ? 1 : 0);
    const out = r.stdout === '' ? [] : r.stdout.replace(/\n$/, '').split('\n');
    if (out.length !== expected) v.push(`eval: ${expected} input lines, ${out.length} output lines`);
    for (const line of out) {
      try {
        const o = JSON.parse(line) as unknown;
        if (o === null || typeof o !== 'object' || !line.startsWith('{"id":')) v.push(`eval: output line without id: ${line.slice(0, 120)}`);
      } catch {
        v.push(`eval: output line not JSON: ${line.slice(0, 120)}`);
      }
      if (line.includes('\r')) v.push('eval: raw CR in an output line');
      // a line's error is fine; an internal error (an exception of bpfspec itself) is not
      if (line.includes('"error":"internal error')) v.push(`eval: ${line.slice(0, 200)}`);
    }
  }
  return v;
}

/** Run a scenario in this process; the result and the rules it broke. */
export async function runScenario(ws: Workspace, s: Scenario, boundMs = RUN_BOUND_MS): Promise<{ result: CliResult; violations: string[]; args: string[] }> {
  const { dir, args } = ws.prepare(s);
  try {
    const result = await runCli(args, s.lines !== undefined ? evalInput(s) : '');
    return { result, violations: violations(s, result, boundMs), args };
  } finally {
    ws.cleanup(dir);
  }
}

/** Run a scenario as a real process. */
export function spawnScenario(ws: Workspace, s: Scenario, boundMs = RUN_BOUND_MS): { result: CliResult; violations: string[]; args: string[] } {
  const { dir, args } = ws.prepare(s);
  try {
    const result = spawnCli(args, s.lines !== undefined ? evalInput(s) : '', boundMs * 3);
    return { result, violations: violations(s, result, boundMs * 3), args };
  } finally {
    ws.cleanup(dir);
  }
}
