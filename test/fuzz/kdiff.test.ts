// The batched campaign (fuzz/batched.ts) and kdiff, its run with the live kernel as judge.
// Everything but the last test runs without a kernel: judges that answer asynchronously are built
// here from the compiled backends (which must equal the spec), sabotaged where a test needs a
// mismatch. The bounded kdiff is skipped with a message naming what is missing (not Linux, no C
// compiler, no permission).
import test from 'ava';
import { requires } from '../_skip.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X86_64, type KernelConfig } from '../../model/config.js';
import type { Judge, JudgeAnswer, JudgeCase, SkbInput } from '../../model/judge.js';
import { afUnixSkb } from '../../model/skb.js';
import { ENOTSUPP } from '../../model/uapi.js';
import { drawChunk, LaneSpec, mergeBatchedStats, newBatchedStats, newJudgeStats, startBatched, type BatchedOptions, type Lane } from '../../fuzz/batched.js';
import { campaignArbitrary } from '../../fuzz/campaign.js';
import { CompiledClassicJudge, CompiledEbpfJudge, type RunJudge } from '../../fuzz/judges.js';
import { unixDgramSkb } from '../../oracle/kernel/afunix.js';
import { isUnixDgramSkb, judgeResultOf, KernelOracle, LiveKernelJudge } from '../../oracle/kernel/judge.js';
import { liveConfig, readKernelParams } from '../../oracle/kernel/params.js';
import { probeBpfProgHeader } from '../../oracle/kernel/probe.js';
import { recordConfirmed } from '../../cli/commands/kdiff.js';

// Probed when the module loads, so that the live test is declared skipped (naming what is missing) when it cannot run.
const probe = await KernelOracle.open(0);
const liveMissing = 'missing' in probe ? `the live kernel oracle: ${probe.missing}` : null;
if (!('missing' in probe)) await probe.close();

/** A synchronous judge asked asynchronously (as an outside implementation would be), with a hook to sabotage answers. */
class AsyncOf implements Judge<SkbInput> {
  asked = 0;
  constructor(
    readonly inner: RunJudge,
    readonly name: string,
    readonly tamper: (a: JudgeAnswer, c: JudgeCase<SkbInput>) => JudgeAnswer = (a) => a,
    readonly unsupported: string | null = null,
  ) {}
  supports(): string | null {
    return this.unsupported;
  }
  async judge(cases: readonly JudgeCase<SkbInput>[]): Promise<readonly JudgeAnswer[]> {
    this.asked += cases.length;
    await new Promise((r) => setImmediate(r));
    return this.inner.judgeSync(cases).map((a, i) => this.tamper({ ...a, counters: { asked: 1 } }, cases[i]!));
  }
  async close(): Promise<void> {}
}

const opts = (o: Partial<BatchedOptions> = {}): BatchedOptions => ({
  seed: 20261202,
  runs: 512,
  timeMs: null,
  packetsPerProgram: 4,
  config: X86_64,
  chunkSize: 128,
  batch: 32,
  ...o,
});

test('mergeBatchedStats adds cases, confirmations and every judge count', (t) => {
  const a = newBatchedStats();
  const b = { ...newBatchedStats(), cases: 2, confirmed: { x: 1 }, judges: { live: { ...newJudgeStats(), pairs: 3, partialReasons: { y: 2 }, counters: { attaches: 5 } } } };
  mergeBatchedStats(a, b);
  mergeBatchedStats(a, b);
  t.is(a.cases, 4);
  t.deepEqual(a.confirmed, { x: 2 });
  t.is(a.judges.live!.pairs, 6);
  t.deepEqual(a.judges.live!.partialReasons, { y: 4 });
  t.deepEqual(a.judges.live!.counters, { attaches: 10 });
});

test('recordConfirmed merges counts into <dir>/<release>.json', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kdiff-'));
  const p = { release: '6.18.1-x', version: 'v', arch: 'x86_64', optmemMax: 1, bpfJitEnable: 1, bpfJitHarden: 0, jitAlwaysOn: true };
  t.is(recordConfirmed(dir, p, {}), null);
  const f = recordConfirmed(dir, p, { 'dev-null-exit-a': 3 })!;
  recordConfirmed(dir, p, { 'dev-null-exit-a': 2, 'optmem-exceeded': 1, __proto__: 4 } as Record<string, number>);
  const j = JSON.parse(readFileSync(f, 'utf8')) as { kernel: { release: string }; divergences: Record<string, number> };
  t.is(j.kernel.release, '6.18.1-x');
  t.deepEqual(j.divergences, { 'dev-null-exit-a': 5, 'optmem-exceeded': 1 });
});

test('the live judge: results of SKF_AD_RANDOM programs and send errors are not comparable; only AF_UNIX datagram skbs are its inputs', (t) => {
  t.deepEqual(judgeResultOf({ known: 'exact', value: 3 }, false), { known: 'exact', value: 3 });
  t.is(judgeResultOf({ known: 'exact', value: 3 }, true).known, 'none');
  const sendError = judgeResultOf({ known: 'send-error', errno: 90 }, false);
  t.is(sendError.known, 'none');
  t.regex(sendError.known === 'none' ? sendError.reason : '', /^send failed/);
  const p = { known: 'partial' as const, atLeast: 4, mask: 0xff, bits: 7, reason: 'r' };
  t.deepEqual(judgeResultOf(p, false), p);
  t.true(isUnixDgramSkb(afUnixSkb(new Uint8Array(10))));
  t.false(isUnixDgramSkb(afUnixSkb(new Uint8Array(10), { mark: 1 })));
  t.false(isUnixDgramSkb(afUnixSkb(new Uint8Array(10), { headlen: 5 })));
  t.true(isUnixDgramSkb(afUnixSkb(new Uint8Array(20000), { headlen: 20000 - 4096 })), 'a long datagram keeps its tail in a page frag');
});

test('a batched campaign of judges that equal the spec finds nothing and counts every answer', async (t) => {
  const lanes: Lane[] = [0, 1].map(() => ({
    judges: [
      { judge: new AsyncOf(new CompiledClassicJudge(X86_64), 'async-classic'), against: 'classic' as const },
      { judge: new AsyncOf(new CompiledEbpfJudge(X86_64), 'async-ebpf'), against: 'kernel' as const },
    ],
  }));
  const s = await startBatched(opts(), lanes).done;
  t.deepEqual(s.findings, []);
  t.is(s.stats.cases, 512);
  t.is(s.stats.programs + s.stats.invalid, 512);
  for (const name of ['async-classic', 'async-ebpf']) {
    const j = s.stats.judges[name]!;
    t.is(j.cases, 512);
    t.is(j.counters.asked, 512);
    t.true(j.pairs >= s.stats.programs * 3, `${name}: ${j.pairs} pairs`);
    t.is(j.exact, j.pairs);
  }
  t.true(Object.keys(s.stats.confirmed).length > 0, 'catalogue divergences shown by agreed cases are confirmed');
  // the same seed gives the same campaign, whatever the number of lanes
  const one = await startBatched(opts(), [lanes[0]!]).done;
  t.deepEqual(one.stats, s.stats);
});

test('the engines answer for the spec: the same campaign with the spec answering every case (engine: false) counts the same', async (t) => {
  const lane = (): Lane[] => [{ judges: [{ judge: new AsyncOf(new CompiledEbpfJudge(X86_64), 'async-ebpf'), against: 'kernel' as const }] }];
  const engines = await startBatched(opts({ runs: 256 }), lane()).done;
  const spec = await startBatched(opts({ runs: 256, engine: false }), lane()).done;
  t.deepEqual(engines.findings, []);
  t.deepEqual(engines.stats, spec.stats);
});

test('a lane asks one batch ahead: a judge that does not say its calls may overlap gets one at a time, one that does gets the next at once', async (t) => {
  class Counting extends AsyncOf {
    inFlight = 0;
    most = 0;
    override async judge(cases: readonly JudgeCase<SkbInput>[]): Promise<readonly JudgeAnswer[]> {
      this.most = Math.max(this.most, ++this.inFlight);
      try {
        return await super.judge(cases);
      } finally {
        this.inFlight--;
      }
    }
  }
  const one = new Counting(new CompiledEbpfJudge(X86_64), 'one');
  const both = Object.assign(new Counting(new CompiledEbpfJudge(X86_64), 'both'), { overlapping: true });
  const s = await startBatched(opts({ runs: 256 }), [{ judges: [{ judge: one, against: 'kernel' }, { judge: both, against: 'kernel' }] }]).done;
  t.deepEqual(s.findings, []);
  t.is(one.most, 1);
  t.is(both.most, 2);
  t.is(s.stats.judges.one!.cases, 256);
  t.is(s.stats.judges.both!.cases, 256);
});

test('LaneSpec.recheck: an answer of the engines that is not the spec judges\' is an engine finding', (t) => {
  const spec = new LaneSpec(X86_64, { judges: [] });
  const cases = drawChunk(campaignArbitrary(4, X86_64), 7, 64).filter((c) => 'valid' in c);
  let tampered = 0;
  for (const c of cases) {
    const s = spec.answer(c);
    // the engines' own answer is the spec's
    const same = spec.recheck(c, s);
    t.is(same.finding, null);
    t.deepEqual(same.spec, s);
    if (s.kernel.verdict !== null || s.kernel.values.length === 0) continue;
    const last = s.kernel.values.length - 1;
    const wrong = { ...s, kernel: { ...s.kernel, values: s.kernel.values.map((v, i) => (i === last ? (v + 1) >>> 0 : v)) } };
    const r = spec.recheck(c, wrong);
    t.is(r.finding?.property, 'judge');
    t.is(r.finding?.judge, 'engine');
    t.regex(r.finding!.message, new RegExp(`^input ${last}: the engines' kernel path \\d+, the spec's \\d+$`));
    t.is(r.finding!.skb, s.inputs[last]!.skb);
    tampered++;
  }
  t.true(tampered > 20);
  // in spec mode the answer is the spec's already: nothing to recheck
  const plain = new LaneSpec(X86_64, { judges: [] }, [], { engine: false });
  const c = cases[0]!;
  const s = plain.answer(c);
  t.is(plain.recheck(c, { ...s, classic: { ...s.classic, values: [] } }).finding, null);
});

test('a judge that differs is a finding, shrunk by asking the judge again, replayable from seed and path', async (t) => {
  // sabotage: any result >= 2 on an input of 3 bytes or more is answered one higher
  const bad = new AsyncOf(new CompiledEbpfJudge(X86_64), 'bad', (a, c) => ({
    ...a,
    results: a.results.map((r, i) => (r.known === 'exact' && r.value >= 2 && c.inputs[i]!.skb.data.length >= 3 ? { known: 'exact' as const, value: r.value + 1 } : r)),
  }));
  const s = await startBatched(opts({ runs: 1024 }), [{ judges: [{ judge: bad, against: 'kernel' }] }]).done;
  t.true(s.findings.length > 0);
  const f = s.findings[0]!;
  if (f.kind !== 'judge') return t.fail('expected a judge mismatch');
  t.is(f.mismatch.judge, 'bad');
  t.is(f.mismatch.kind, 'result');
  t.regex(f.mismatch.message, /kernel path (\d+), bad \d+$/);
  t.true(f.shrinks > 0);
  const len = f.mismatch.input!.skb.data.length;
  t.true(len >= 3 && len <= 8, `shrunk to a short input that still differs (${len} bytes)`);
  t.true(f.mismatch.prog.length <= 3, `shrunk program: ${JSON.stringify(f.mismatch.prog)}`);
  // the campaign asked it once per case it ran; shrinking asked it again
  t.true(bad.asked > s.stats.judges.bad!.cases, `the judge was asked again while shrinking (${bad.asked} asked, ${s.stats.judges.bad!.cases} cases)`);
});

test('a judge that cannot take a program is counted as unsupported, never compared', async (t) => {
  const j = new AsyncOf(new CompiledClassicJudge(X86_64), 'picky', (a) => ({ ...a, results: a.results.map(() => ({ known: 'exact' as const, value: 12345 })) }), 'no ancillary loads');
  const s = await startBatched(opts({ runs: 128 }), [{ judges: [{ judge: j, against: 'classic' }] }]).done;
  t.deepEqual(s.findings, []);
  t.is(j.asked, 0);
  t.deepEqual(s.stats.judges.picky!.unsupported, { 'no ancillary loads': 128 });
});

test('-ENOTSUPP where the kernel path attaches is a JIT failure only under CONFIG_BPF_JIT_ALWAYS_ON, and only while the JIT is not modelled', async (t) => {
  const notsupp = (config: KernelConfig): AsyncOf =>
    new AsyncOf(new CompiledEbpfJudge(config), 'nojit', (a) => (a.verdict.accepted ? { verdict: { accepted: false, errno: -ENOTSUPP, message: 'jit' }, results: [] } : a));
  // KernelConfig.x86Jit null: the x86-64 JIT's acceptance is not modelled, its -ENOTSUPP is explained
  const unmodelled: KernelConfig = { ...X86_64, x86Jit: null };
  const on = await startBatched(opts({ runs: 128, config: unmodelled }), [{ judges: [{ judge: notsupp(unmodelled), against: 'kernel' }] }]).done;
  t.deepEqual(on.findings, []);
  t.true((on.stats.judges.nojit!.explained['jit-failure'] ?? 0) > 50);
  // with the JIT modelled (model/jit) the kernel path predicts it: an -ENOTSUPP it does not predict is a finding
  const modelled = await startBatched(opts({ runs: 128 }), [{ judges: [{ judge: notsupp(X86_64), against: 'kernel' }] }]).done;
  t.true(modelled.findings.length > 0);
  const off: KernelConfig = { ...X86_64, jitAlwaysOn: false, x86Jit: null };
  const s = await startBatched(opts({ runs: 128, config: off }), [{ judges: [{ judge: notsupp(off), against: 'kernel' }] }]).done;
  t.true(s.findings.length > 0);
  const f = s.findings[0]!;
  t.true(f.kind === 'judge' && f.mismatch.kind === 'verdict' && /kernel path accepts, nojit -ENOTSUPP/.test(f.mismatch.message));
});

test('a judge that takes only some inputs gets them made by inputFor, and the spec runs the same inputs', async (t) => {
  const inner = new CompiledEbpfJudge(X86_64);
  const seen: boolean[] = [];
  const j = new AsyncOf(inner, 'unix', (a, c) => {
    for (const i of c.inputs) seen.push(isUnixDgramSkb(i.skb) && i.env.cpu === 7);
    return a;
  });
  Object.assign(j, { inputFor: (i: SkbInput): SkbInput => ({ skb: unixDgramSkb(i.skb.data), env: { cpu: 7, randomSeed: i.env.randomSeed } }) });
  const s = await startBatched(opts({ runs: 256 }), [{ judges: [{ judge: j, against: 'kernel' }] }]).done;
  t.deepEqual(s.findings, []);
  t.true(seen.length > 500);
  t.true(seen.every((x) => x));
});

requires(liveMissing, 'bounded kdiff: 5,120 cases against the live kernel, no unexplained mismatch', async (t) => {
  const judges: LiveKernelJudge[] = [];
  for (const cpu of [0, 1]) {
    const o = await KernelOracle.open(cpu);
    if ('missing' in o) throw new Error(`oracle on CPU ${cpu}: ${o.missing}`);
    judges.push(new LiveKernelJudge(o));
  }
  try {
    const params = readKernelParams();
    const header = await probeBpfProgHeader(judges[0]!.oracle, liveConfig(params), params.optmemMax);
    const config = liveConfig(params, header ?? undefined);
    const s = await startBatched({ seed: 20240601, runs: 5120, timeMs: null, packetsPerProgram: 16, config, chunkSize: 256, batch: 32 }, judges.map((judge) => ({ judges: [{ judge, against: 'kernel' as const }] }))).done;
    const live = s.stats.judges.live!;
    t.log(`${params.release}: ${s.stats.cases} cases, ${live.pairs} pairs (${live.exact} exact, ${live.partial} partly known) in ${(s.elapsedMs / 1000).toFixed(1)}s; confirmed ${JSON.stringify(s.stats.confirmed)}; ${JSON.stringify(live.counters)}`);
    t.is(s.stats.cases, 5120);
    t.true(live.pairs > 40000);
    t.true(live.counters.attaches! >= 5120);
    t.deepEqual(
      s.findings.map((f) => (f.kind === 'judge' ? f.mismatch.message : f.finding.message)),
      [],
    );
  } finally {
    await Promise.all(judges.map((j) => j.close()));
  }
});
