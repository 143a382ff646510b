// `bpfspec migrate` with the x86-64 JIT: the bytes of each eBPF instruction in each pass and the
// attach verdict with the JIT in it (cli/commands/migrate.ts), run as a user would run it.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { projectRoot } from '../_shared.js';

const cli = resolve(projectRoot, 'dist/cli/main.js');
const scratch = mkdtempSync(join(tmpdir(), 'bpfspec-jit-'));
const run = (args: string[]): { code: number; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: projectRoot });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};
const file = (name: string, body: string): string => {
  const p = join(scratch, name);
  writeFileSync(p, body);
  return p;
};

// corpus/reports/x86-jit-convergence.md: refused by the 6.18.44 JIT with -ENOTSUPP ("bpf_jit: fatal error")
const MINIMAL = 'jset #0x3f, l4, l5\nret a\nld [65536]\nldb [1]\nl4: ret #0\nl5: ret #65535\n';

test('migrate: a table of bytes per eBPF instruction and pass, and the JIT refusing the reproducer', (t) => {
  const r = run(['migrate', file('min.asm', MINIMAL)]);
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  const head = lines.findIndex((l) => l.startsWith('x86-64 JIT: bytes per eBPF instruction'));
  t.true(head > 0);
  t.regex(lines[head + 1]!, /^\s+pc\s+p0\s+p1\s+p2\s+p3\s+p4\s+emit$/);
  // eBPF insn 8 (the JA of jset's false branch) and 40 (ret #0's exit, a jump back to the epilogue) trade 3 bytes
  t.regex(lines.find((l) => /^\s+8\s/.test(l))!, /^\s+8\s+5\s+5\s+5\s+2!\s+5!\s+2!$/);
  t.regex(lines.find((l) => /^\s+40\s/.test(l))!, /^\s+40\s+5\s+5\s+2!\s+5!\s+2!\s+-$/);
  t.true(lines.some((l) => /^JIT: refused in pass 5 at eBPF insn 8: bpf_jit: fatal error/.test(l)));
  t.true(lines.some((l) => /attach \(optmem_max 20480\): rejected: -ENOTSUPP jit-emit-mismatch at pc 0/.test(l)));
  const j = JSON.parse(run(['migrate', file('min2.asm', MINIMAL), '--json']).stdout) as {
    attach: { errno: number; rule: string };
    jit: { jited: boolean; reason: string; insn: number; passes: { proglen: number; lengths: number[] }[] };
  };
  t.deepEqual([j.attach.errno, j.attach.rule], [524, 'jit-emit-mismatch']);
  t.deepEqual([j.jit.jited, j.jit.reason, j.jit.insn, j.jit.passes.length], [false, 'emit-mismatch', 8, 6]);
  t.is(j.jit.passes[3]!.proglen, j.jit.passes[4]!.proglen);
});

test('migrate: an accepted program shows its passes and image length', (t) => {
  const r = run(['migrate', file('ret1.asm', 'ret #1\n')]);
  t.is(r.code, 0, r.stderr);
  // prologue 12 (nop5; push rbp; mov rbp,rsp; push rbx; push r13), w0^=w0 2, w7^=w7 3, r6=r1 3,
  // w0 = 1 5, exit: pop r13; pop rbx; leave; ret 5
  t.true(r.stdout.includes('JIT: 3 passes, image 30 bytes'), r.stdout);
  t.regex(r.stdout, /attach \(optmem_max 20480\): accepted/);
});
