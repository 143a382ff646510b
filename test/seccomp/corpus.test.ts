// Seccomp corpus entries (corpus/schema.json `seccomp`, fuzz/seccomp/corpus.ts) and the judges' pieces
// in model/seccomp/judge.ts.
import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bpfJump, bpfStmt, type Program } from '../../model/cbpf/insn.js';
import { seccompData } from '../../model/seccomp/data.js';
import { HOST_V6_6_X86_64 } from '../../model/seccomp/host.js';
import { observedText, outcomeConsistent } from '../../model/seccomp/judge.js';
import { seccompFilterOutcome } from '../../model/seccomp/run.js';
import { AUDIT_ARCH_X86_64 } from '../../model/seccomp/uapi.js';
import { CorpusError, entryHash, readEntry, replayEntry, writeEntry, type CorpusEntry } from '../../fuzz/corpus.js';
import { makeSeccompEntry, seccompEntryCase } from '../../fuzz/seccomp/corpus.js';
import { attachStack, DEFAULT_ATTACH_CALL, SeccompClassicJudge, SeccompKernelJudge, stackVerdict } from '../../fuzz/seccomp/judges.js';
import { replay } from '../../cli/commands/replay.js';
import { X86_64 } from '../../model/config.js';
import { SeccompKernelRunner } from '../../model/seccomp/run.js';

const X = AUDIT_ARCH_X86_64;
const ld = (k: number) => bpfStmt(0x20, k);
const ret = (k: number) => bpfStmt(0x06, k);
// getpid (39) -> ERRNO(7), else ALLOW; and an older filter that traps openat (257)
const TOP: Program = [ld(0), bpfJump(0x15, 39, 0, 1), ret(0x50007), ret(0x7fff0000)];
const OLD: Program = [ld(0), bpfJump(0x15, 257, 0, 1), ret(0x30009), ret(0x7fff0000)];

const entry = (): CorpusEntry =>
  makeSeccompEntry({
    kind: 'finding',
    title: 'test: a two-filter stack',
    filters: [TOP, OLD],
    inputs: [seccompData(39, X), seccompData(257, X, [1n]), seccompData(0, X)],
    host: HOST_V6_6_X86_64,
    property: 'judge',
    origin: { bpfspec: 'test' },
  });

test('a seccomp entry records the stack, the calls and what both judges give; it validates, is written by content hash and replays', (t) => {
  const e = entry();
  t.is(e.seccomp!.below.length, 1);
  t.deepEqual(e.inputs, []);
  t.deepEqual(e.expect.attach, { errno: 0, stage: null, rule: null, pc: null });
  t.deepEqual(
    e.seccomp!.expect.results.map((r) => [r.classic, r.kernel, r.action, r.cached]),
    [
      [0x50007, 0x50007, 'errno', false],
      [0x7fff0000, 0x7fff0000, 'trap', false], // the top filter allows openat; the stack traps it
      [0x7fff0000, 0x7fff0000, 'allow', true], // read: both filters allow it for any argument: the cache answers
    ],
  );
  const dir = mkdtempSync(join(tmpdir(), 'bpfspec-sc-'));
  const w = writeEntry(dir, e);
  t.true(w.created);
  const back = readEntry(w.path);
  t.true(back.ok, back.ok ? '' : back.error);
  if (!back.ok) return;
  t.deepEqual(replayEntry(back.entry), []);
  t.is(entryHash(back.entry), entryHash(e));
  // the seccomp part is in the hash: other calls, another entry
  const other = makeSeccompEntry({ kind: 'finding', title: 't', filters: [TOP, OLD], inputs: [seccompData(40, X)], host: HOST_V6_6_X86_64, origin: { bpfspec: 'test' } });
  t.not(entryHash(other), entryHash(e));
  t.deepEqual(seccompEntryCase(back.entry).filters, [TOP, OLD].map((p) => p.map((i) => ({ ...i, k: i.k >>> 0 }))));
  // bpfspec replay sees it too
  const r = replay([dir]);
  t.is(r.changed.length + r.invalid.length, 0);
});

test('a changed seccomp entry is reported by replay, naming what changed; a broken one is a corpus error', (t) => {
  const e = entry();
  const s = e.seccomp!;
  const changed: CorpusEntry = { ...e, seccomp: { ...s, expect: { results: s.expect.results.map((r, i) => (i === 1 ? { ...r, action: 'allow' } : r)) } } };
  t.deepEqual(replayEntry(changed), ['seccomp input 1: action recorded allow, now trap']);
  const attach: CorpusEntry = { ...e, expect: { ...e.expect, attach: { errno: 22, stage: 'check', rule: 'x', pc: 0 } } };
  t.regex(replayEntry(attach)[0]!, /^attach: recorded errno 22 check\/x at pc 0, now accepted/);
  t.throws(() => replayEntry({ ...e, seccomp: { ...s, host: 'vax' } }), { instanceOf: CorpusError, message: /unknown host 'vax'/ });
  t.throws(() => replayEntry({ ...e, seccomp: { ...s, inputs: [{ ...s.inputs[0]!, args: ['0x1'] }] } }), { instanceOf: CorpusError, message: /six u64/ });
  t.throws(() => replayEntry({ ...e, seccomp: { ...s, below: ['0600'] } }), { instanceOf: CorpusError });
  // the schema refuses what it does not know
  const dir = mkdtempSync(join(tmpdir(), 'bpfspec-sc-'));
  const p = join(dir, 'x.json');
  writeFileSync(p, JSON.stringify({ ...e, seccomp: { ...s, extra: 1 } }));
  const r = readEntry(p);
  t.false(r.ok);
  writeFileSync(p, JSON.stringify({ ...e, seccomp: { ...s, inputs: [{ ...s.inputs[0]!, ip: '12' }] } }));
  t.false(readEntry(p).ok);
  t.truthy(readFileSync(p));
});

test('attaching a stack: the task\'s own seccomp() calls go through the filters already installed (ERRNO(0) skips, ERRNO(n) stops, a kill ends the task)', (t) => {
  const run = (() => {
    const r = new SeccompKernelRunner();
    return (f: Parameters<SeccompKernelRunner['run']>[0], sd: Parameters<SeccompKernelRunner['run']>[1]) => r.run(f, sd);
  })();
  const opts = { flags: 0, liveThreads: 1, call: DEFAULT_ATTACH_CALL, host: HOST_V6_6_X86_64, config: X86_64, run };
  const seccompIs = (k: number): Program => [ld(0), bpfJump(0x15, 317, 0, 1), ret(k), ret(0x7fff0000)];
  const skipped = attachStack([seccompIs(0x50000), TOP, OLD], opts);
  t.deepEqual(skipped.errnos, [0, 0, 0]);
  t.is(skipped.task.filters.length, 1); // TOP and OLD were never installed
  t.deepEqual(stackVerdict(skipped), { accepted: true });
  const denied = attachStack([seccompIs(0x50001), TOP], opts);
  t.deepEqual(denied.errnos, [0, 1]);
  t.like(stackVerdict(denied), { accepted: false, errno: -1 });
  const killed = attachStack([seccompIs(0x80000000), TOP], opts);
  t.true(killed.died);
  t.like(stackVerdict(killed), { accepted: false, errno: 0 });
  const enosys = attachStack([seccompIs(0x7ff00000), TOP], opts);
  t.deepEqual(enosys.errnos, [0, 38]);
  const bad = attachStack([[bpfStmt(0x28, 0), ret(0)]], opts);
  t.like(stackVerdict(bad), { accepted: false, errno: -22 });
  // the judges agree with each other on a stack
  const c = { prog: TOP, below: [OLD], inputs: [{ sd: seccompData(257, X) }], outcomes: { flags: 0, liveThreads: 1, exitCalls: [] } };
  const [a] = new SeccompClassicJudge().judgeSync([c]);
  const [b] = new SeccompKernelJudge().judgeSync([c]);
  t.deepEqual(a!.results, b!.results);
  t.like(b!.outcomes![0], { known: 'predicted', action: 'trap' });
  t.is(new SeccompKernelJudge().supports(TOP), null);
});

test('outcomeConsistent: what the live kernel shows is compared with what the model predicts', (t) => {
  const sd = seccompData(39, X, [], 0x401000n);
  const o = (ret: number, threads = 1) => seccompFilterOutcome(ret, sd, { liveThreads: threads }).outcome;
  t.is(outcomeConsistent(o(0x50007), { state: 'ret', ret: -7n }, sd, []), null);
  t.regex(outcomeConsistent(o(0x50007), { state: 'ret', ret: 0n }, sd, [])!, /-7/);
  t.is(outcomeConsistent(o(0x7ff00000), { state: 'ret', ret: -38n }, sd, []), null);
  t.regex(outcomeConsistent(o(0x7ff00000), { state: 'ret', ret: -1n }, sd, [])!, /ENOSYS/);
  const trap = { state: 'trap' as const, code: 1, siErrno: 9, siSyscall: 39, siArch: X, siCallAddr: 0x401000n };
  t.is(outcomeConsistent(o(0x30009), trap, sd, []), null);
  t.regex(outcomeConsistent(o(0x30009), { ...trap, siErrno: 8 }, sd, [])!, /siginfo/);
  t.regex(outcomeConsistent(o(0x30009), { state: 'ret', ret: 0n }, sd, [])!, /SIGSYS/);
  t.is(outcomeConsistent(o(0, 2), { state: 'thread' }, sd, []), null);
  t.regex(outcomeConsistent(o(0, 2), { state: 'ret', ret: 0n }, sd, [])!, /thread/);
  t.is(outcomeConsistent(o(0x80000000), { state: 'signal', signal: 31 }, sd, []), null);
  t.regex(outcomeConsistent(o(0x80000000), { state: 'signal', signal: 9 }, sd, [])!, /SIGSYS/);
  t.is(outcomeConsistent(o(0x7fff0000), { state: 'ret', ret: -1n }, sd, []), null); // it ran, and failed on its own
  t.regex(outcomeConsistent(o(0x7fff0000), trap, sd, [])!, /seccomp SIGSYS/);
  t.regex(outcomeConsistent(o(0x7fff0000), { state: 'signal', signal: 31 }, sd, [])!, /killed/);
  t.regex(outcomeConsistent(o(0x7fff0000), { state: 'thread' }, sd, [])!, /thread ended/);
  t.is(outcomeConsistent(o(0x7fff0000), { state: 'thread' }, sd, [[X, 39]]), null); // exit ends it
  // only for the arch it is listed for: i386's exit (1) is not x86_64's write (1)
  t.regex(outcomeConsistent(o(0x7fff0000), { state: 'thread' }, sd, [[0x40000003, 39]])!, /thread ended/);
  const sd32 = seccompData(1, 0x40000003, [], 0x8049000n);
  t.is(outcomeConsistent(seccompFilterOutcome(0x7fff0000, sd32, { liveThreads: 1 }).outcome, { state: 'thread' }, sd32, [[X, 60], [0x40000003, 1]]), null);
  t.regex(outcomeConsistent(seccompFilterOutcome(0x7fff0000, sd32, { liveThreads: 1 }).outcome, { state: 'thread' }, sd32, [[X, 60]])!, /thread ended/);
  t.is(outcomeConsistent(o(0x7fff0000), { state: 'none', reason: 'x' }, sd, []), null);
  t.regex(outcomeConsistent({ kind: 'notify' }, { state: 'ret', ret: 0n }, sd, [])!, /not observable/);
  t.deepEqual(
    [{ state: 'ret', ret: -1n }, trap, { state: 'thread' }, { state: 'signal', signal: 31 }, { state: 'none', reason: 'why' }].map((x) => observedText(x as Parameters<typeof observedText>[0])),
    ['returned -1', 'SIGSYS code 1 si_errno 9 syscall 39 arch 0xc000003e addr 0x401000', 'the calling thread ended', 'the process died of signal 31', 'nothing comparable (why)'],
  );
});
