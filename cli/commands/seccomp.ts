// `bpfspec seccomp check|run|explain|dump`: seccomp filters through the model of seccomp(2).
import type { Command } from 'commander';
import { getSystemErrorMap } from 'node:util';
import type { Program } from '../../model/cbpf/insn.js';
import { X86_64 } from '../../model/config.js';
import { abiByName, ABIS, populateSeccompData, seccompData, seccompWordName, type SeccompAbi, type SeccompData } from '../../model/seccomp/data.js';
import { seccompRunClassic } from '../../model/seccomp/eval.js';
import { hostOfAbi, HOST_V6_6_X86_64 } from '../../model/seccomp/host.js';
import { NEW_TASK, seccompSetModeFilter, type SeccompTask } from '../../model/seccomp/prepare.js';
import { seccompFilterOutcome, seccompRunFilters, SeccompKernelRunner } from '../../model/seccomp/run.js';
import { SYSCALL_TABLES } from '../../model/seccomp/syscalls.js';
import type { Rejection } from '../../model/verdict.js';
import { ensureSeccompOracle, SeccompOracle } from '../../oracle/seccomp/driver.js';
import { parseProgram, type FormatName } from '../formats/index.js';
import { clip, ensureOutputDir, InputError, readInput } from '../io.js';
import { checkEndian, checkFormatName, FORMAT_NAMES } from '../program.js';
import { LiveSeccompJudge } from '../../oracle/seccomp/judge.js';
import { runRealFilters, writeRealFilters, type RealFilterReport } from './seccomp-real.js';
import { positiveInt } from './fuzz.js';
import { looksLikeSeccompTools, parseSeccompTools, printSeccompTools, SeccompToolsError } from './seccomp-tools.js';

/** Read a filter: seccomp-tools disassembly, or any socket-filter format. */

/** A negative errno of a system call as `ESRCH (no such process)`, or `errno N` for one Node does not name. */
export function systemErrno(negErrno: number): string {
  const e = getSystemErrorMap().get(-Math.abs(negErrno));
  return e === undefined ? `errno ${Math.abs(negErrno)}` : `${e[0]} (${e[1]})`;
}
export function loadSeccompProgram(file: string, format: string | undefined, endian: string | undefined, arch: string): Program {
  const bytes = readInput(file);
  const text = Buffer.from(bytes).toString('utf8');
  if (format === 'seccomp-tools' || (format === undefined && looksLikeSeccompTools(text))) {
    try {
      return parseSeccompTools(text, arch);
    } catch (e) {
      if (e instanceof SeccompToolsError) throw new InputError(`${file}: ${e.message}`);
      throw e;
    }
  }
  const res = parseProgram(bytes, checkFormatName(format, '--format') as FormatName | undefined, { endian: checkEndian(endian) });
  if (!res.ok) throw new InputError(`${file}: ${res.error.message}${res.error.line !== undefined ? ` (line ${res.error.line})` : ''}`);
  return res.prog;
}

const abiOf = (name: string): SeccompAbi => {
  const a = abiByName(name);
  if (a === undefined) throw new InputError(`--arch ${name}: unknown (one of ${ABIS.map((x) => x.name).join(', ')})`);
  return a;
};

/** A system call name of the ABI's table, or a number (decimal or 0x hex). */
export function syscallNumber(abi: SeccompAbi, s: string): number {
  if (/^(0x[0-9a-fA-F]+|-?\d+)$/.test(s)) {
    const v = Number(s);
    if (!Number.isSafeInteger(v) || v < -0x80000000 || v > 0xffffffff) throw new InputError(`--syscall ${s}: not a 32-bit number`);
    return v | 0;
  }
  const rows = abi.table === null ? undefined : SYSCALL_TABLES[abi.table];
  const hit = rows === undefined ? undefined : new Map(rows).get(s);
  if (hit === undefined) throw new InputError(`--syscall ${s}: no system call of that name on ${abi.name}${rows === undefined ? ' (no name table: give a number)' : ''}`);
  return hit;
}

/** A u64 from a decimal or 0x-hex string (or a JSON number). */
export function u64(v: unknown, what: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'string' && /^(0x[0-9a-fA-F]{1,16}|\d{1,20})$/.test(v.trim())) {
    const b = BigInt(v.trim());
    if (b <= 0xffff_ffff_ffff_ffffn) return b;
  }
  throw new InputError(`${what}: expected a u64 (decimal or 0x hex), got ${JSON.stringify(v)}`);
}

const verdictText = (r: Rejection): string => `rejected: ${r.errno < 0 ? 'E' : ''}${errnoName(-r.errno)} (${r.stage}: ${r.rule}${r.pc === null ? '' : ` at pc ${r.pc}`}, ${r.at})`;
const ERRNO: ReadonlyMap<number, string> = new Map([
  [1, 'PERM'],
  [12, 'NOMEM'],
  [13, 'ACCES'],
  [14, 'FAULT'],
  [16, 'BUSY'],
  [22, 'INVAL'],
  [524, 'NOTSUPP'],
]);
const errnoName = (e: number): string => ERRNO.get(e) ?? String(e);
export const verdictJsonSeccomp = (r: Rejection | null): Record<string, unknown> =>
  r === null ? { errno: 0, name: null, stage: null, rule: null, pc: null, at: null } : { errno: -r.errno, name: `E${errnoName(-r.errno)}`, stage: r.stage, rule: r.rule, pc: r.pc, at: r.at };

function attachOne(prog: Program, abi: SeccompAbi): SeccompTask | Rejection {
  return seccompSetModeFilter(0, prog, NEW_TASK, hostOfAbi(abi.host) ?? HOST_V6_6_X86_64, X86_64);
}

/** The result of one seccomp_data through a filter: both evaluators, the cache, the outcome. */
export function seccompEvalOne(prog: Program, abi: SeccompAbi, sd: SeccompData): Record<string, unknown> {
  const t = attachOne(prog, abi);
  if ('errno' in t) return { attach: verdictJsonSeccomp(t), classic: null, kernel: null, action: null, data: null };
  const runner = new SeccompKernelRunner(abi.littleEndian);
  const host = hostOfAbi(abi.host) ?? HOST_V6_6_X86_64;
  const classic = seccompRunClassic(prog, sd, abi.littleEndian).result;
  const kernel = runner.run(t.filters[0]!, sd);
  const fault = runner.fault;
  const r = seccompRunFilters(t.filters, sd, host, (f, d) => runner.run(f, d));
  const o = seccompFilterOutcome(r.ret, sd);
  return {
    attach: verdictJsonSeccomp(null),
    classic,
    kernel,
    cached: r.cached,
    ret: r.ret,
    action: o.action,
    data: o.data,
    outcome: JSON.parse(JSON.stringify(o.outcome, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))) as unknown,
    ...(fault ? { fault: { kind: fault.kind, pc: fault.pc, detail: fault.detail } } : {}),
  };
}

/** `bpfspec eval` for a line with "seccomp": {"arch", "nr", "args", "ip"} (cli/commands/eval.ts calls it). */
export function evalSeccompLine(obj: Record<string, unknown>, prog: Program): Record<string, unknown> {
  const s = obj.seccomp;
  if (s === null || typeof s !== 'object' || Array.isArray(s)) throw new InputError('"seccomp" must be an object');
  const o = s as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!['arch', 'nr', 'args', 'ip'].includes(key)) throw new InputError(`"seccomp": unknown member "${key}"`);
  if (typeof o.arch !== 'string' || abiByName(o.arch) === undefined) throw new InputError(`"seccomp.arch" must be one of ${ABIS.map((x) => x.name).join(', ')}`);
  const abi = abiOf(o.arch);
  const nr = typeof o.nr === 'string' ? syscallNumber(abi, o.nr) : typeof o.nr === 'number' && Number.isInteger(o.nr) && o.nr >= -0x80000000 && o.nr <= 0xffffffff ? o.nr | 0 : null;
  if (nr === null) throw new InputError('"seccomp.nr" must be a 32-bit integer or a system call name');
  const argsIn = o.args ?? [];
  if (!Array.isArray(argsIn) || argsIn.length > 6) throw new InputError('"seccomp.args" must be an array of at most 6 u64');
  const args = argsIn.map((a, i) => u64(a, `"seccomp.args[${i}]"`));
  const ip = o.ip === undefined ? 0n : u64(o.ip, '"seccomp.ip"');
  const sd = populateSeccompData(abi, { nr: BigInt(nr >>> 0), args, ip });
  const r = seccompEvalOne(prog, abi, sd);
  return { attach: r.attach, classic: r.classic, kernel: r.kernel, action: r.action, data: r.data };
}

// ---- explain: every path of the filter per system call, with nr and arch known and the rest symbolic

interface Path {
  readonly ret: string;
  readonly conds: readonly string[];
}

/** Model helper for `explain`: the paths of a filter for known nr/arch, arguments symbolic (at most `limit`). */
export function explainPaths(prog: Program, nr: number, arch: number, littleEndian: boolean, limit = 64): Path[] | null {
  const paths: Path[] = [];
  type Val = { c: number } | { e: string };
  const fmt = (v: number): string => `0x${(v >>> 0).toString(16)}`;
  const walk = (pc: number, A: Val, X: Val, mem: Val[], conds: string[], steps: number): boolean => {
    for (; pc < prog.length; pc++) {
      if (steps++ > 5000 || paths.length >= limit) return false;
      const insn = prog[pc]!;
      const k = insn.k >>> 0;
      const code = insn.code;
      const cls = code & 7;
      if (code === 0x20) A = k === 0 ? { c: nr >>> 0 } : k === 4 ? { c: arch >>> 0 } : { e: seccompWordName(k, littleEndian) };
      else if (code === 0x06) return (paths.push({ ret: fmt(k), conds: [...conds] }), true);
      else if (code === 0x16) return (paths.push({ ret: 'c' in A ? fmt(A.c) : `A (${A.e})`, conds: [...conds] }), true);
      else if (code === 0x05) pc += k;
      else if (cls === 5) {
        const rhs: Val = (code & 8) !== 0 ? X : { c: k };
        const op = { 0x10: '==', 0x20: '>', 0x30: '>=', 0x40: '&' }[code & 0xf0]!;
        if ('c' in A && 'c' in rhs) {
          const a = A.c;
          const b = rhs.c;
          const res = op === '==' ? a === b : op === '>' ? a > b : op === '>=' ? a >= b : (a & b) !== 0;
          pc += res ? insn.jt : insn.jf;
          continue;
        }
        const l = 'c' in A ? fmt(A.c) : A.e;
        const r = 'c' in rhs ? fmt(rhs.c) : rhs.e;
        const t = op === '&' ? `${l} & ${r} != 0` : `${l} ${op} ${r}`;
        const f = op === '&' ? `${l} & ${r} == 0` : `!(${l} ${op} ${r})`;
        if (insn.jt === insn.jf) {
          pc += insn.jt;
          continue;
        }
        if (!walk(pc + 1 + insn.jt, A, X, [...mem], [...conds, t], steps)) return false;
        return walk(pc + 1 + insn.jf, A, X, [...mem], [...conds, f], steps);
      } else if (code === 0x00) A = { c: k };
      else if (code === 0x01) X = { c: k };
      else if (code === 0x80) A = { c: 64 };
      else if (code === 0x81) X = { c: 64 };
      else if (code === 0x07) X = A;
      else if (code === 0x87) A = X;
      else if (code === 0x02) mem[k & 15] = A;
      else if (code === 0x03) mem[k & 15] = X;
      else if (code === 0x60) A = mem[k & 15] ?? { c: 0 };
      else if (code === 0x61) X = mem[k & 15] ?? { c: 0 };
      else if (cls === 4) {
        const src: Val = (code & 8) !== 0 ? X : { c: k };
        if ('c' in A && 'c' in src && code !== 0x84) {
          const sd = seccompData(nr, arch, [], 0n);
          // evaluate the one ALU instruction classically
          const r = seccompRunClassic([{ code: 0x00, jt: 0, jf: 0, k: A.c }, { code: 0x01, jt: 0, jf: 0, k: src.c }, { ...insn, code: (code & ~8) | 8 }, { code: 0x16, jt: 0, jf: 0, k: 0 }], sd, littleEndian);
          A = { c: r.result };
        } else if ('c' in A && code === 0x84) A = { c: -A.c >>> 0 };
        else {
          const ops: Record<number, string> = { 0x00: '+', 0x10: '-', 0x20: '*', 0x30: '/', 0x40: '|', 0x50: '&', 0x60: '<<', 0x70: '>>', 0x80: 'neg', 0xa0: '^' };
          const o = ops[code & 0xf0] ?? '?';
          const a = 'c' in A ? fmt(A.c) : A.e;
          A = { e: o === 'neg' ? `-(${a})` : `(${a} ${o} ${'c' in src ? fmt(src.c) : src.e})` };
        }
      } else return (paths.push({ ret: 'invalid instruction', conds: [...conds] }), true);
    }
    paths.push({ ret: 'ran off the end', conds: [...conds] });
    return true;
  };
  const ok = walk(0, { c: 0 }, { c: 0 }, [], [], 0);
  return ok ? paths : null;
}

function actionName(ret: string): string {
  if (!ret.startsWith('0x')) return ret;
  const v = Number(ret) >>> 0;
  const o = seccompFilterOutcome(v, seccompData(0, 0));
  return `${o.action}${o.data !== 0 || o.action === 'errno' ? `(${o.data})` : ''}`;
}

export function explainText(prog: Program, abis: readonly SeccompAbi[], all: boolean): string {
  const lines: string[] = [];
  for (const abi of abis) {
    const rows = abi.table === null ? [] : SYSCALL_TABLES[abi.table] ?? [];
    const host = hostOfAbi(abi.host) ?? HOST_V6_6_X86_64;
    const t = seccompSetModeFilter(0, prog, NEW_TASK, host, X86_64);
    const cache = 'errno' in t ? null : t.filters[0]!.cache;
    lines.push(`${abi.name} (arch 0x${abi.audit.toString(16)}):`);
    const summary = new Map<string, string[]>();
    for (const [name, nr] of rows) {
      const paths = explainPaths(prog, nr, abi.audit, abi.littleEndian);
      const cached = cache !== null && !abi.compat ? cache.allowNative?.[nr] === 1 : cache?.allowCompat?.[nr] === 1;
      if (paths === null) {
        lines.push(`  ${name} (${nr}): too many paths`);
        continue;
      }
      const acts = [...new Set(paths.map((p) => actionName(p.ret)))];
      if (acts.length === 1 && !all) {
        const key = `${acts[0]}${cached ? ' [cache: always allowed]' : ''}`;
        summary.set(key, [...(summary.get(key) ?? []), name]);
        continue;
      }
      lines.push(`  ${name} (${nr}):${cached ? ' [cache: always allowed]' : ''}`);
      for (const p of paths) lines.push(`    ${actionName(p.ret)}${p.conds.length > 0 ? ` if ${p.conds.filter((c) => !/^(nr|arch)\b/.test(c)).join(' && ') || 'always'}` : ''}`);
    }
    for (const [act, names] of summary) lines.push(`  ${act}: ${names.length} calls (${names.slice(0, 12).join(', ')}${names.length > 12 ? ', ...' : ''})`);
    const other = explainPaths(prog, 0x7fffffff, abi.audit, abi.littleEndian);
    if (other !== null) lines.push(`  any other number: ${[...new Set(other.map((p) => actionName(p.ret)))].join(' or ')}`);
  }
  return `${lines.join('\n')}\n`;
}

const collectArgs = (s: string | undefined): bigint[] => {
  if (s === undefined || s === '') return [];
  const parts = s.split(',');
  if (parts.length > 6) throw new InputError('--args: at most 6 arguments');
  return parts.map((p, i) => u64(p, `--args ${i}`));
};

/** Register `bpfspec seccomp ...` on the program; what the commands print goes to `deps.out` (main's standard output). */
export function registerSeccomp(program: Command, deps: { readonly out: (s: string) => void }): void {
  const { out } = deps;
  const sc = program.command('seccomp').description('seccomp filters: the seccomp(2) attach path, per-call actions, the action cache, the live kernel');
  const fmt = (c: Command): Command =>
    c
      .option('-f, --format <format>', `input format: seccomp-tools or ${FORMAT_NAMES.join(', ')} (detected when unambiguous)`)
      .option('--endian <order>', 'byte order of raw images', 'little')
      .option('--arch <abi>', `the ABI (${ABIS.map((a) => a.name).join(', ')})`, 'x86_64');
  fmt(sc.command('check'))
    .description("seccomp(SECCOMP_SET_MODE_FILTER)'s verdict (exit 0 installed, 1 rejected)")
    .argument('<file>', "filter file ('-' for stdin)")
    .option('--to <format>', 'also print the filter as seccomp-tools disassembly (--to seccomp-tools)')
    .option('--json', 'print JSON')
    .action((file: string, o: { format?: string; endian?: string; arch: string; json?: boolean; to?: string }) => {
      const abi = abiOf(o.arch);
      const prog = loadSeccompProgram(file, o.format, o.endian, o.arch);
      if (o.to !== undefined && o.to !== 'seccomp-tools') throw new InputError(`--to ${o.to}: only seccomp-tools (use bpfspec fmt for the socket formats)`);
      const t = attachOne(prog, abi);
      const rej = 'errno' in t ? t : null;
      if (o.json) out(`${JSON.stringify({ file, insns: prog.length, attach: verdictJsonSeccomp(rej), ebpfInsns: rej ? null : (t as SeccompTask).filters[0]!.migrated.converted.insns.length })}\n`);
      else out(`${file}: ${rej ? verdictText(rej) : `installed (${prog.length} insns, ${(t as SeccompTask).filters[0]!.migrated.converted.insns.length} eBPF)`}\n${o.to ? printSeccompTools(prog, o.arch) : ''}`);
      process.exitCode = rej ? 1 : 0;
    });
  fmt(sc.command('run'))
    .description('the filter on one system call: both evaluators, the cache, the action and what the task sees')
    .argument('<file>', "filter file ('-' for stdin)")
    .requiredOption('--syscall <name|nr>', 'the system call (a name of the ABI table, or a number)')
    .option('--args <a,b,...>', 'up to six u64 arguments (decimal or 0x hex)')
    .option('--ip <addr>', 'the instruction pointer', '0')
    .option('--json', 'print JSON')
    .action((file: string, o: { format?: string; endian?: string; arch: string; syscall: string; args?: string; ip: string; json?: boolean }) => {
      const abi = abiOf(o.arch);
      const prog = loadSeccompProgram(file, o.format, o.endian, o.arch);
      const nr = syscallNumber(abi, o.syscall);
      const sd = populateSeccompData(abi, { nr: BigInt(nr >>> 0), args: collectArgs(o.args), ip: u64(o.ip, '--ip') });
      const r = seccompEvalOne(prog, abi, sd);
      if (o.json) out(`${JSON.stringify(r)}\n`);
      else if (r.classic === null) out(`${file}: ${JSON.stringify(r.attach)}\n`);
      else
        out(
          `${abi.name} nr ${sd.nr} args [${sd.args.map((a) => `0x${a.toString(16)}`).join(', ')}] ip 0x${sd.instructionPointer.toString(16)}\n` +
            `  classic 0x${(r.classic as number).toString(16)}, migrated 0x${(r.kernel as number).toString(16)}${r.classic === r.kernel ? '' : '  DIFFER'}\n` +
            `  ${r.cached ? 'cache: always allowed (no filter runs); ' : ''}action ${String(r.action)} data ${String(r.data)}: ${JSON.stringify(r.outcome)}\n`,
        );
      process.exitCode = 0;
    });
  fmt(sc.command('explain'))
    .description('per architecture and system call: the action, and the argument conditions that change it, over every path')
    .argument('<file>', "filter file ('-' for stdin)")
    .option('--all', 'list every call, also those with one action')
    .action((file: string, o: { format?: string; endian?: string; arch: string; all?: boolean }) => {
      const first = abiOf(o.arch);
      const prog = loadSeccompProgram(file, o.format, o.endian, o.arch);
      const abis = first.name === 'x86_64' ? [first, abiOf('i386'), abiOf('x32')] : [first];
      out(explainText(prog, abis, o.all === true));
    });
  sc.command('dump')
    .description("a running process's filters (PTRACE_SECCOMP_GET_FILTER; root), most recent first")
    .argument('<pid>', 'process id')
    .option('--to <format>', 'seccomp-tools (default) or hex')
    .action(async (pid: string, o: { to?: string }) => {
      if (!/^\d+$/.test(pid)) throw new InputError(`${pid}: not a process id`);
      if (o.to !== undefined && o.to !== 'seccomp-tools' && o.to !== 'hex') throw new InputError(`--to ${o.to}: seccomp-tools or hex`);
      const b = ensureSeccompOracle();
      if (!b.ok) throw new InputError(`dump needs ${b.missing}`);
      const oracle = new SeccompOracle(b.path, { ...process.env, BPFSPEC_SECCOMP_NO_SANDBOX: '1' });
      try {
        const progs = await oracle.dump(Number(pid));
        if (typeof progs === 'number') throw new InputError(`dump ${pid}: PTRACE_SECCOMP_GET_FILTER failed with ${systemErrno(progs)}${-progs === 1 || -progs === 13 ? ' (needs root and a tracer not itself under seccomp)' : ''}`);
        progs.forEach((p, i) => {
          out(`# filter ${i} (${i === 0 ? 'most recent' : 'older'}), ${p.length} insns\n`);
          out(o.to === 'hex' ? `${Buffer.from(p.flatMap((x) => [x.code & 0xff, x.code >> 8, x.jt, x.jf, x.k & 0xff, (x.k >>> 8) & 0xff, (x.k >>> 16) & 0xff, x.k >>> 24])).toString('hex')}\n` : printSeccompTools(p));
        });
        if (progs.length === 0) out(`# process ${pid} has no seccomp filter\n`);
      } finally {
        await oracle.close();
      }
    });
  sc.command('export-real')
    .description('regenerate corpus/real-filters/seccomp: Docker, Podman and systemd filters and libseccomp programs, exported by libseccomp (seccomp_export_bpf)')
    .option('-o, --output <dir>', 'directory to write', 'corpus/real-filters/seccomp')
    .action((o: { output: string }) => {
      ensureOutputDir(o.output, '-o'); // one line, exit 2, for a file or device given as the directory
      const r = writeRealFilters(o.output, 'bpfspec seccomp export-real');
      for (const w of r.written) out(`${w}\n`);
      for (const k of r.skipped) process.stderr.write(`bpfspec: skipped ${k}\n`);
      process.exitCode = r.skipped.length > 0 ? 1 : 0;
    });
  sc.command('real')
    .description('the real filters through check, run and kdiff: every system call number of x86_64 and i386 with generated arguments (exit 1 on a finding or mismatch)')
    .argument('[dir]', 'the real filters', 'corpus/real-filters/seccomp')
    .option('--per-nr <n>', 'argument sets per system call number', '3')
    .option('--seed <n>', 'seed of the arguments', '1')
    .option('--live', 'also the live kernel (oracle/seccomp; outcomes need root)')
    .option('--json', 'print JSON')
    .action(async (dir: string, o: { perNr: string; seed: string; live?: boolean; json?: boolean }) => {
      const perNr = positiveInt('--per-nr', o.perNr, 9999);
      if (!/^\d{1,9}$/.test(o.seed)) throw new InputError(`--seed ${clip(o.seed)}: expected a whole number`);
      let judge: LiveSeccompJudge | null = null;
      if (o.live) {
        const j = await LiveSeccompJudge.open();
        if ('missing' in j) throw new InputError(`--live needs ${j.missing}`);
        judge = j;
      }
      try {
        const started = Date.now();
        const r = await runRealFilters(dir, { perNr, seed: Number(o.seed), lane: judge === null ? null : { judges: [{ judge, against: 'kernel' }] } });
        const bad = r.some((x) => Object.values(x.model).some((m) => m.finding !== null) || (x.live?.mismatches.length ?? 0) > 0 || x.attach !== 'installed');
        if (o.json) out(`${JSON.stringify({ elapsedMs: Date.now() - started, int80: judge?.probe.int80 ?? null, sandboxed: judge?.probe.sandboxed ?? null, filters: r })}\n`);
        else out(realText(r, judge, Date.now() - started));
        process.exitCode = bad ? 1 : 0;
      } finally {
        await judge?.close();
      }
    });
}

function realText(r: readonly RealFilterReport[], judge: LiveSeccompJudge | null, ms: number): string {
  const f = (n: number): string => n.toLocaleString('en-US');
  const lines: string[] = [];
  for (const x of r) {
    lines.push(`${x.name}: ${x.filters} filter(s) of ${x.insns.join(', ')} insns, ${x.attach}`);
    for (const [abi, m] of Object.entries(x.model))
      lines.push(`  model ${abi}: ${f(m.calls)} calls, classic == migrated, cache marks ${f(m.cacheMarked)} numbers; ${Object.entries(m.actions).map(([k, v]) => `${k} ${f(v)}`).join(', ')}${m.finding ? `; FINDING ${m.finding}` : ''}`);
    if (x.live)
      lines.push(
        `  live x86_64: ${f(x.live.verdicts)} verdicts, ${f(x.live.values)} exact values, ${f(x.live.outcomes)} outcomes (${Object.entries(x.live.byAction).map(([k, v]) => `${k} ${f(v)}`).join(', ')}; ${f(x.live.cached)} by the cache), ${f(x.live.none)} values not comparable${Object.keys(x.live.outcomeNone).length ? ` (${Object.entries(x.live.outcomeNone).map(([k, v]) => `${k}: ${f(v)}`).join('; ')})` : ''}, mismatches ${x.live.mismatches.length}`,
        ...x.live.mismatches.map((m) => `    ${m}`),
      );
  }
  if (judge !== null && !judge.probe.int80) lines.push('note: INT 0x80 is disabled on this kernel (IA-32 emulation off): i386 is compared model-side only');
  if (judge !== null && !judge.probe.sandboxed) lines.push('note: no sandbox (not root): outcomes not compared');
  lines.push(`${r.length} real filters in ${(ms / 1000).toFixed(1)} s`);
  return `${lines.join('\n')}\n`;
}
