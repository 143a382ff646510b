// seccomp-tools' disassembly, both ways, against seccomp-tools' own output (its README's examples,
// test/seccomp/fixtures/seccomp-tools-readme.txt) and on generated filters.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { bpfJump, bpfStmt, type Program } from '../../model/cbpf/insn.js';
import { decodeFilter } from '../../fuzz/seccomp/arb.js';
import { aContexts, looksLikeSeccompTools, parseSeccompTools, printSeccompTools, SeccompToolsError } from '../../cli/commands/seccomp-tools.js';

const fixtures = (): Map<string, string> => {
  const text = readFileSync('test/seccomp/fixtures/seccomp-tools-readme.txt', 'utf8');
  const out = new Map<string, string>();
  let name: string | null = null;
  let lines: string[] = [];
  for (const l of text.split('\n')) {
    if (l.startsWith('## ')) {
      if (name !== null) out.set(name, `${lines.join('\n')}\n`);
      name = l.slice(3);
      lines = [];
    } else if (name !== null && l !== '') lines.push(l);
  }
  if (name !== null) out.set(name, `${lines.join('\n')}\n`);
  return out;
};
const FIX = fixtures();
/** The same text as `seccomp-tools disasm --asm-able` gives it: line numbers and statements only. */
const asmAble = (text: string): string =>
  text
    .split('\n')
    .filter((l) => /^\s*\d{4}:/.test(l))
    .map((l) => l.replace(/^\s*(\d{4}): 0x\w\w 0x\w\w 0x\w\w 0x\w{8}  /, '$1: '))
    .join('\n');

test('the README examples: three outputs of seccomp-tools', (t) => {
  t.deepEqual([...FIX.keys()], ['twctf-2016-diary', 'libseccomp.asm', 'example.asm']);
});

for (const [name, text] of FIX) {
  test(`seccomp-tools' ${name}: parsed from its hex columns, printed back exactly as seccomp-tools printed it`, (t) => {
    t.true(looksLikeSeccompTools(text));
    const prog = parseSeccompTools(text);
    t.is(prog.length, text.split('\n').filter((l) => /^\s*\d{4}:/.test(l)).length);
    t.is(printSeccompTools(prog), text);
  });
  test(`seccomp-tools' ${name}: its statements alone (--asm-able) give the same program`, (t) => {
    const fromColumns = parseSeccompTools(text);
    t.deepEqual(parseSeccompTools(asmAble(text)), fromColumns);
  });
}

test('printing follows seccomp-tools: decimal immediates and shifts, hex ALU constants, names only where A holds nr or arch on every path', (t) => {
  const prog: Program = [
    bpfStmt(0x00, 20), // A = 20
    bpfStmt(0x01, 7), // X = 7
    bpfStmt(0x64, 3), // A <<= 3
    bpfStmt(0x04, 0x10), // A += 0x10
    bpfStmt(0x0c, 0), // A += X
    bpfStmt(0x84, 0), // A = -A
    bpfStmt(0x80, 0), // A = 64
    bpfStmt(0x61, 2), // X = mem[2]
    bpfStmt(0x03, 1), // mem[1] = X
    bpfStmt(0x07, 0), // X = A
    bpfStmt(0x87, 0), // A = X
    bpfJump(0x15, 39, 0, 0), // no-op
    bpfStmt(0x05, 0), // JA +0
    bpfStmt(0x20, 0), // A = sys_number
    bpfJump(0x15, 39, 1, 0), // if (A == getpid)
    bpfStmt(0x20, 4), // A = arch (the line after reaches with A = nr from 14 and A = arch from 15)
    bpfJump(0x15, 0xc00000b7, 0, 3), // mixed contexts: decimal
    bpfStmt(0x20, 4),
    bpfJump(0x15, 0x40000028, 0, 1), // an arch seccomp-tools does not name: 0x hex
    bpfStmt(0x06, 0x00030005), // TRAP's data is not shown
    bpfStmt(0x06, 0x7ffc0000),
  ];
  const lines = printSeccompTools(prog).split('\n').slice(2);
  const stmt = (i: number): string => lines[i]!.slice(34);
  t.deepEqual(
    [...Array(prog.length).keys()].map(stmt),
    [
      'A = 20',
      'X = 7',
      'A <<= 3',
      'A += 0x10',
      'A += X',
      'A = -A',
      'A = 64',
      'X = mem[2]',
      'mem[1] = X',
      'X = A',
      'A = X',
      '/* no-op */',
      'goto 0013',
      'A = sys_number',
      'if (A == getpid) goto 0016',
      'A = arch',
      `if (A != ${0xc00000b7}) goto 0020`,
      'A = arch',
      'if (A != 0x40000028) goto 0020',
      'return TRAP',
      'return LOG',
    ],
  );
  // what A holds: line 16 is reached from 14 (A = nr) and 15 (A = arch)
  t.deepEqual(aContexts(prog)[16]!.map((c) => c.a).sort(), [0, 4]);
  // an older seccomp-tools printed an unnamed arch as hex without 0x: still read
  t.deepEqual(parseSeccompTools(' 0000: A = arch\n 0001: if (A != c00000b7) goto 0003\n 0002: return ALLOW\n 0003: return KILL\n')[1], bpfJump(0x15, 0xc00000b7, 0, 1));
});

/** Whether the statements alone say everything the instruction holds (the hex column is then not needed). */
const lossless = (prog: Program): boolean =>
  prog.every((i) => {
    if (i.code === 0x06) {
      const action = (i.k & 0xffff0000) >>> 0;
      return [0x80000000, 0, 0x30000, 0x7fc00000, 0x7ff00000, 0x7ffc0000, 0x7fff0000].includes(action) ? (i.k & 0xffff) === 0 : action === 0x50000;
    }
    if ((i.code & 7) === 5 && i.code !== 0x05) return i.jt !== i.jf && ((i.code & 8) === 0 || i.k === 0);
    if ((i.code & 7) === 5) return true;
    if (i.code === 0x80 || i.code === 0x81) return false; // `A = 64` reads back as an immediate
    return [0x07, 0x87, 0x84, 0x16].includes(i.code) ? i.k === 0 : (i.code & 8) === 0 || i.k === 0;
  });

test('generated seccomp filters: print then parse gives the program (hex columns always, statements alone when they say everything)', (t) => {
  let viaStatements = 0;
  fc.assert(
    fc.property(fc.array(fc.nat({ max: 0xffffffff }), { maxLength: 300 }), (genome) => {
      const prog = decodeFilter(genome).prog.map((i) => ({ code: i.code, jt: i.jt, jf: i.jf, k: i.k >>> 0 }));
      const text = printSeccompTools(prog);
      if (JSON.stringify(parseSeccompTools(text)) !== JSON.stringify(prog)) return false;
      if (!lossless(prog)) return true;
      viaStatements++;
      return JSON.stringify(parseSeccompTools(asmAble(text))) === JSON.stringify(prog);
    }),
    { seed: 17, numRuns: 400 },
  );
  t.true(viaStatements > 100, `only ${viaStatements} programs went through statements alone`);
});

test('bad seccomp-tools text is refused with the line it is on', (t) => {
  const e = t.throws(() => parseSeccompTools(' 0000: A = arch\n 0001: if (A != ARCH_X86_64) goto 0003\n 0002: return NOPE\n'), { instanceOf: SeccompToolsError });
  t.is(e.line, 3);
  t.throws(() => parseSeccompTools(' 0000: A = arch\n 0002: return ALLOW\n'), { message: /expected line 0001, found 0002/ });
  t.throws(() => parseSeccompTools(' 0000: if (A == 1) goto 0000\n'), { message: /jump target out of range/ });
  t.throws(() => parseSeccompTools(' 0000: if (A == no_such_call) goto 0001\n 0001: return ALLOW\n'), { message: /unknown value/ });
  t.throws(() => parseSeccompTools(' 0000: return ERRNO(70000)\n'), { message: /16 bits/ });
  t.throws(() => parseSeccompTools('\n'), { message: /no instruction/ });
  // an asm-able line may carry a comment, as seccomp-tools prints argument names
  t.deepEqual(parseSeccompTools(' 0000: A = args[0] # x32_mmap(addr, len)\n 0001: return ALLOW\n')[0], bpfStmt(0x20, 16));
});

test('bpfspec seccomp check reads seccomp-tools text and writes it back (--to seccomp-tools); bad text is one line and exit 2', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bpfspec-st-'));
  const text = FIX.get('libseccomp.asm')!;
  writeFileSync(join(dir, 'f.txt'), text);
  const ok = spawnSync(process.execPath, ['dist/cli/main.js', 'seccomp', 'check', join(dir, 'f.txt'), '--to', 'seccomp-tools'], { encoding: 'utf8' });
  t.is(ok.status, 0, ok.stderr);
  t.true(ok.stdout.endsWith(text), ok.stdout);
  writeFileSync(join(dir, 'bad.txt'), ' 0000: A = arch\n 0001: jump somewhere\n');
  const bad = spawnSync(process.execPath, ['dist/cli/main.js', 'seccomp', 'check', join(dir, 'bad.txt')], { encoding: 'utf8' });
  t.is(bad.status, 2);
  t.regex(bad.stderr, /^bpfspec: .*line 2: not a seccomp-tools statement/);
  t.is(bad.stderr.trim().split('\n').length, 1);
});

test('system call names follow the architecture every path proved (i386.read after A == ARCH_I386), amd64 names x32 numbers, other tests print hex', (t) => {
  const prog: Program = [
    bpfStmt(0x20, 4),
    bpfJump(0x15, 0x40000003, 0, 3), // if (A != ARCH_I386) goto 0005
    bpfStmt(0x20, 0),
    bpfJump(0x15, 3, 0, 1), // i386 read is 3
    bpfStmt(0x06, 0x7fff0000),
    bpfStmt(0x20, 0),
    bpfJump(0x15, 0x40000000, 0, 1), // x32 read
    bpfStmt(0x06, 0x7fff0000),
    bpfJump(0x35, 39, 0, 1), // >= : hex
    bpfStmt(0x06, 0),
    bpfStmt(0x06, 0x50001),
  ];
  const text = printSeccompTools(prog);
  const lines = text.split('\n').slice(2).map((l) => l.slice(34));
  t.is(lines[3], 'if (A != i386.read) goto 0005');
  t.is(lines[6], 'if (A != x32_read) goto 0008');
  t.is(lines[8], 'if (A < 0x27) goto 0010');
  t.deepEqual(parseSeccompTools(asmAble(text)), prog);
});

test('a line no path reaches names nothing (seccomp-tools has no context for it): numbers in decimal', (t) => {
  const prog: Program = [bpfStmt(0x20, 0), bpfStmt(0x05, 1), bpfJump(0x15, 39, 0, 0), bpfJump(0x15, 39, 1, 0), bpfStmt(0x06, 0), bpfStmt(0x06, 0x7fff0000)];
  const lines = printSeccompTools(prog).split('\n').slice(2).map((l) => l.slice(34));
  t.is(lines[2], '/* no-op */');
  t.is(lines[3], 'if (A == getpid) goto 0005');
  t.is(printSeccompTools([bpfStmt(0x05, 1), bpfJump(0x15, 39, 1, 0), bpfStmt(0x06, 0), bpfStmt(0x06, 0)]).split('\n')[3]!.slice(34), 'if (A == 39) goto 0003');
});
