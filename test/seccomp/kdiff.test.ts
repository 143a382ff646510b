import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { platform } from 'node:os';
import { bpfJump, bpfStmt } from '../../model/cbpf/insn.js';
import { ensureSeccompOracle, SeccompOracle } from '../../oracle/seccomp/driver.js';
import { trapCopy } from '../../oracle/seccomp/instrument.js';
import { startSeccompBatched } from '../../fuzz/seccomp/batched.js';
import { HOST_V6_18_X86_64 } from '../../model/seccomp/host.js';
import { LiveSeccompJudge } from '../../oracle/seccomp/judge.js';
import { seccompRunClassic } from '../../model/seccomp/eval.js';
import { seccompData } from '../../model/seccomp/data.js';
import test from 'ava';
import { requiresSerial } from '../_skip.js';

const build = platform() === 'linux' && existsSync('/proc/self/status') ? ensureSeccompOracle() : { ok: false as const, missing: 'Linux' };
const missing = build.ok ? null : build.missing;
const rootMissing = missing ?? (process.getuid?.() === 0 ? null : 'root (the sandbox the calls run in)');

test('TRAP copies: every exit traps with 16 bits of the result', (t) => {
  const prog = [bpfStmt(0x20, 0), bpfJump(0x15, 1, 0, 1), bpfStmt(0x06, 0x7fff0000), bpfStmt(0x16, 0)];
  const lo = trapCopy(prog, 0)!;
  const hi = trapCopy(prog, 16)!;
  for (const nr of [1, 2, 0x12345678]) {
    const sd = seccompData(nr, 0xc000003e);
    const want = seccompRunClassic(prog, sd).result;
    const l = seccompRunClassic(lo, sd).result;
    const h = seccompRunClassic(hi, sd).result;
    t.is(l >>> 16, 3);
    t.is(h >>> 16, 3);
    t.is((((h & 0xffff) << 16) | (l & 0xffff)) >>> 0, want);
  }
  t.is(trapCopy([...Array(4095).fill(bpfStmt(0x04, 0)), bpfStmt(0x16, 0)], 0), null);
});

requiresSerial(missing, 'the live seccomp judge: verdicts, exact values and (as root) outcomes agree with the kernel judge on 120 generated cases (the batched seccomp campaign)', async (t) => {
  const j = await LiveSeccompJudge.open();
  if ('missing' in j) return void t.fail(j.missing);
  try {
    const r = await startSeccompBatched({ seed: 11, runs: 120, timeMs: null, inputsPerCase: 3, chunkSize: 64, batch: 8, host: HOST_V6_18_X86_64 }, [{ judges: [{ judge: j, against: 'kernel' }] }]).done;
    t.deepEqual(r.findings.map((f) => (f.kind === 'judge' ? `${f.mismatch.kind}: ${f.mismatch.message}` : `${f.finding.property}: ${f.finding.detail}`)), []);
    t.is(r.stats.cases, 120);
    const live = r.stats.judges.live!;
    t.true(live.exact > 0);
    t.true(live.cases >= 120);
    if (j.probe.sandboxed) t.true(live.outcomes > 0);
    t.log(JSON.stringify(live));
  } finally {
    await j.close();
  }
});

requiresSerial(rootMissing, 'the live oracle reports the outcome classes: errno and its cap, SIGSYS siginfo, ENOSYS, kill thread, kill process, the call running', async (t) => {
  const o = new SeccompOracle((build as { path: string }).path);
  try {
    const p = await o.start();
    const call = { abi: 0 as const, nr: 39n, args: [] };
    const one = async (k: number) => (await o.run('action', [{ flags: 1, prog: [bpfStmt(0x06, k)] }], [call]))[0]!;
    t.like(await one(0x0005ffff), { state: 'ret', ret: -4095n });
    t.like(await one(0x00030007), { state: 'trap', signo: 31, code: 1, siErrno: 7, siSyscall: 39, siArch: 0xc000003e, siCallAddr: p.ip64 });
    t.like(await one(0x7ff00000), { state: 'ret', ret: -38n });
    t.like(await one(0x7fc00000), { state: 'ret', ret: -38n });
    t.like(await one(0x00000000), { state: 'thread' });
    t.is((await one(0x80000000)).status & 0x7f, 31);
    t.is((await one(0x7fff0000)).state, 'ret');
  } finally {
    await o.close();
  }
});

requiresSerial(rootMissing, 'bpfspec seccomp dump: a process that does not exist is one line naming ESRCH, exit 2', (t) => {
  // pid_max is at most 4194304 (PID_MAX_LIMIT on 64-bit), so this process cannot exist
  const r = spawnSync(process.execPath, ['dist/cli/main.js', 'seccomp', 'dump', '4194305'], { encoding: 'utf8' });
  t.is(r.status, 2, r.stderr);
  t.is(r.stderr, 'bpfspec: dump 4194305: PTRACE_SECCOMP_GET_FILTER failed with ESRCH (no such process)\n');
});
