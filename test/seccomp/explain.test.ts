// `bpfspec seccomp explain`: per system call, the actions and the argument conditions of every path.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { bpfJump, bpfStmt, encodeProgram, type Program } from '../../model/cbpf/insn.js';
import { abiByName, seccompData } from '../../model/seccomp/data.js';
import { seccompRunClassic } from '../../model/seccomp/eval.js';
import { seccompFilterOutcome } from '../../model/seccomp/run.js';
import { AUDIT_ARCH_I386, AUDIT_ARCH_X86_64 } from '../../model/seccomp/uapi.js';
import { decodeData, decodeFilter } from '../../fuzz/seccomp/arb.js';
import { explainPaths, explainText } from '../../cli/commands/seccomp.js';

const ld = (k: number) => bpfStmt(0x20, k);
const ret = (k: number) => bpfStmt(0x06, k);
const jeq = (k: number, jt: number, jf: number) => bpfJump(0x15, k, jt, jf);

// x86_64 only (else KILL_PROCESS); personality (135): ERRNO(1) when the low half of args[0] is 8, else
// ALLOW; getpid (39): TRAP(5); everything else ALLOW.
const PROG: Program = [
  ld(4),
  jeq(AUDIT_ARCH_X86_64, 1, 0),
  ret(0x80000000),
  ld(0),
  jeq(135, 0, 4),
  ld(16),
  jeq(8, 0, 1),
  ret(0x00050001),
  ret(0x7fff0000),
  jeq(39, 0, 1),
  ret(0x00030005),
  ret(0x7fff0000),
];

test('explainPaths: the conditions of every path for one number, arguments symbolic', (t) => {
  t.deepEqual(explainPaths(PROG, 135, AUDIT_ARCH_X86_64, true), [
    { ret: '0x50001', conds: ['args[0].lo == 0x8'] },
    { ret: '0x7fff0000', conds: ['!(args[0].lo == 0x8)'] },
  ]);
  t.deepEqual(explainPaths(PROG, 39, AUDIT_ARCH_X86_64, true), [{ ret: '0x30005', conds: [] }]);
  t.deepEqual(explainPaths(PROG, 39, AUDIT_ARCH_I386, true), [{ ret: '0x80000000', conds: [] }]);
  // a path budget: more paths than the limit is "too many" (null)
  t.is(explainPaths(PROG, 135, AUDIT_ARCH_X86_64, true, 1), null);
});

test('explainText: per ABI, the calls with conditions listed, the others grouped by action, the cache marked', (t) => {
  const text = explainText(PROG, [abiByName('x86_64')!, abiByName('i386')!], false);
  const lines = text.split('\n');
  const at = lines.indexOf('  personality (135):');
  t.true(at > 0, text);
  t.deepEqual(lines.slice(at + 1, at + 3), ['    errno(1) if args[0].lo == 0x8', '    allow if !(args[0].lo == 0x8)']);
  t.true(lines.includes('  trap(5): 1 calls (getpid)'), text);
  // every other x86_64 call is allowed whatever its arguments, and the action cache says so
  t.true(lines.some((l) => /^ {2}allow \[cache: always allowed\]: \d+ calls \(read, write, /.test(l)), text);
  t.is(lines.filter((l) => l === '  any other number: allow').length, 1);
  // i386: every call is killed, and the cache marks none
  const i386 = lines.indexOf('i386 (arch 0x40000003):');
  t.regex(lines[i386 + 1]!, /^ {2}kill_process: \d+ calls \(restart_syscall, exit, fork, /);
  t.is(lines[i386 + 2], '  any other number: kill_process');
});

/** The action name explain prints for a filter result. */
const actionOf = (v: number): string => {
  const o = seccompFilterOutcome(v, seccompData(0, 0));
  return `${o.action}${o.data !== 0 || o.action === 'errno' ? `(${o.data})` : ''}`;
};

test('explain is complete: for generated filters and calls, the classic evaluator\'s action is one of the actions explain lists for that number', (t) => {
  let checked = 0;
  fc.assert(
    fc.property(fc.array(fc.nat({ max: 0xffffffff }), { maxLength: 300 }), fc.array(fc.nat({ max: 0xffffffff }), { maxLength: 24 }), (fg, dg) => {
      const f = decodeFilter(fg);
      const sd = decodeData(dg, f.consts);
      const paths = explainPaths(f.prog, sd.nr, sd.arch, true, 4096);
      if (paths === null) return true; // too many paths for the budget
      const want = actionOf(seccompRunClassic(f.prog, sd).result);
      const listed = paths.map((p) => (p.ret.startsWith('0x') ? actionOf(Number(p.ret)) : p.ret));
      // RET A with A not constant is listed as "A (...)": any action may come of it
      if (listed.some((l) => l.startsWith('A ('))) return true;
      checked++;
      return listed.includes(want);
    }),
    { seed: 23, numRuns: 1500 },
  );
  t.true(checked > 1000, `only ${checked} cases were checked`);
});

test('bpfspec seccomp explain on a file: exit 0; a bad --arch is one line and exit 2', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bpfspec-ex-'));
  writeFileSync(join(dir, 'f.bpf'), encodeProgram(PROG));
  const ok = spawnSync(process.execPath, ['dist/cli/main.js', 'seccomp', 'explain', join(dir, 'f.bpf'), '--format', 'raw'], { encoding: 'utf8' });
  t.is(ok.status, 0, ok.stderr);
  t.true(ok.stdout.includes('    errno(1) if args[0].lo == 0x8'), ok.stdout);
  t.true(ok.stdout.includes('x32 (arch 0xc000003e):'));
  const bad = spawnSync(process.execPath, ['dist/cli/main.js', 'seccomp', 'explain', join(dir, 'f.bpf'), '--format', 'raw', '--arch', 'vax'], { encoding: 'utf8' });
  t.is(bad.status, 2);
  t.regex(bad.stderr, /^bpfspec: --arch vax: unknown/);
});
