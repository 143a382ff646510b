// Campaigns: bounded, deterministic, split the same way whatever the workers, and clean on the
// current model (no finding in >= 20,000 cases).
import test from 'ava';
import { X86_64 } from '../../model/config.js';
import { afUnixSkb } from '../../model/skb.js';
import { chunkSeed, replaySeedPath, runChunk, runWorker, workerChunks, type CampaignOptions } from '../../fuzz/campaign.js';
import { CompiledEbpfJudge, EngineClassicJudge, EngineKernelJudge, KernelJudge } from '../../fuzz/judges.js';
import { Checker, newStats, mergeStats, type Stats } from '../../fuzz/properties.js';

const base: CampaignOptions = {
  seed: 20261201,
  runs: 20_000,
  timeMs: null,
  workers: 1,
  shard: { index: 0, count: 1 },
  packetsPerProgram: 2,
  config: X86_64,
  chunkSize: 256,
};

test('a bounded campaign of 20,000 cases finds nothing and reaches the divergences', (t) => {
  const findings: string[] = [];
  const stats = runWorker(base, 0, {
    progress: (_s, f) => {
      if (f) findings.push(`${f.finding.property}: ${f.finding.message} (seed ${f.seed}, path ${f.path})`);
    },
    shouldStop: () => false,
  });
  t.deepEqual(findings, []);
  t.is(stats.programs + stats.invalid, 20_000);
  t.true(stats.pairs >= stats.programs);
  t.true(stats.invalid > 1000);
  for (const id of ['dev-null-exit-a', 'nlattr-guard-continue', 'vlan-present-odd', 'jump-offset-overflow', 'optmem-exceeded'])
    t.true((stats.divergences[id] ?? 0) > 0, `${id} not reached: ${JSON.stringify(stats.divergences)}`);
  t.log(JSON.stringify(stats.divergences));
});

test('the same seed gives the same campaign; chunks do not depend on the number of workers', (t) => {
  const opts = { ...base, runs: 600, chunkSize: 100 };
  const run = (workers: number): Stats => {
    const total = newStats();
    for (let w = 0; w < workers; w++) mergeStats(total, runWorker({ ...opts, workers }, w, { progress: () => {}, shouldStop: () => false }));
    return total;
  };
  const one = run(1);
  t.deepEqual(run(1), one);
  t.deepEqual(run(3), one);
  // a different seed gives a different campaign
  t.notDeepEqual(run.call(null, 1), runWorkerStats({ ...opts, seed: 1 }));
});

function runWorkerStats(opts: CampaignOptions): Stats {
  return runWorker(opts, 0, { progress: () => {}, shouldStop: () => false });
}

test('shards and workers partition the chunks', (t) => {
  const opts = { runs: 1000, chunkSize: 64, shard: { index: 0, count: 1 } };
  const all = [...workerChunks(opts, 0, 1)].map((c) => c.chunk);
  t.deepEqual(all, Array.from({ length: 16 }, (_, i) => i));
  t.is([...workerChunks(opts, 0, 1)].reduce((n, c) => n + c.size, 0), 1000);
  const shards = [0, 1, 2].flatMap((i) => [0, 1].flatMap((w) => [...workerChunks({ ...opts, shard: { index: i, count: 3 } }, w, 2)].map((c) => c.chunk)));
  t.deepEqual(shards.sort((a, b) => a - b), all);
  t.not(chunkSeed(1, 0), chunkSeed(1, 1));
  t.not(chunkSeed(1, 0), chunkSeed(2, 0));
});

test('a finding is shrunk, counted up to the failing case, and replays from its seed and path', (t) => {
  // Sabotage: the kernel judge runs with optmem_max 1000 while the catalogue predicts with 20480, so
  // any program that migrates to more than (1000 - 72) / 8 = 116 eBPF insns is an unexplained
  // attach mismatch (the charge rule, net/core/filter.c:1232).
  const checker = new Checker(X86_64);
  Object.defineProperty(checker, 'kernel', { value: new KernelJudge({ ...X86_64, optmemMax: 1000 }) });
  let found = null;
  for (let chunk = 0; chunk < 40 && !found; chunk++) found = runChunk(checker, base, chunk, 256).finding;
  t.not(found, null);
  if (!found) return;
  t.is(found.finding.property, 'equivalence');
  t.regex(found.finding.message, /kernel path -12 charge\/optmem-exceeded/);
  t.like(found.finding.attach.kernel, { stage: 'charge', rule: 'optmem-exceeded' });
  t.true(found.shrinks > 0);
  // with the real model the recorded case does not fail
  t.is(replaySeedPath(X86_64, base.packetsPerProgram, found.seed, found.path), null);
});

test('with the compiled judge, the compiled backends agree with both interpreters on every case', (t) => {
  const findings: string[] = [];
  const stats = runWorker({ ...base, runs: 3000, judges: ['compiled-classic', 'compiled-ebpf'] }, 0, {
    progress: (_s, f) => {
      if (f) findings.push(`${f.finding.property}: ${f.finding.message} (seed ${f.seed}, path ${f.path})`);
    },
    shouldStop: () => false,
  });
  t.deepEqual(findings, []);
  t.true(stats.pairs > 2000);
});

test('the compiled judge catches a backend that disagrees', (t) => {
  const compiled = new CompiledEbpfJudge(X86_64);
  const checker = new Checker(X86_64, [compiled]);
  // ret #7 on an empty AF_UNIX skb: all four engines give 7 (net/core/filter.c:815 RET K)
  t.is(checker.checkValid([{ code: 0x06, jt: 0, jf: 0, k: 7 }], [{ skb: afUnixSkb(new Uint8Array(0)), env: { cpu: 0, randomSeed: 1 } }]), null);
  // sabotage the compiled eBPF path: the runner's compiled run now returns 8
  const runner = compiled.runner;
  const real = runner.runCompiled.bind(runner);
  runner.runCompiled = (f, skb, env) => real(f, skb, env) + 1;
  const f = checker.checkValid([{ code: 0x06, jt: 0, jf: 0, k: 7 }], [{ skb: afUnixSkb(new Uint8Array(0)), env: { cpu: 0, randomSeed: 1 } }]);
  t.like(f, { property: 'judge', judge: 'compiled-ebpf', kernel: 7 });
  t.regex(f!.message, /compiled-ebpf 8 != kernel path 7/);
});

test('another judge whose verdict differs from its spec judge is a finding (property 5)', (t) => {
  const compiled = new CompiledEbpfJudge({ ...X86_64, optmemMax: 100 });
  const checker = new Checker(X86_64, [compiled]);
  // 11 insns migrate to 15 eBPF insns (prologue included): 72 + 8 * 15 = 192 bytes charged, over the sabotaged judge's optmem_max 100
  const f = checker.checkValid(
    Array.from({ length: 10 }, () => ({ code: 0x00, jt: 0, jf: 0, k: 1 })).concat([{ code: 0x06, jt: 0, jf: 0, k: 7 }]),
    [{ skb: afUnixSkb(new Uint8Array(0)), env: { cpu: 0, randomSeed: 1 } }],
  );
  t.like(f, { property: 'judge', judge: 'compiled-ebpf' });
  t.regex(f!.message, /attach: compiled-ebpf -12 charge\/optmem-exceeded at pc null, kernel path accepted/);
  t.throws(() => new Checker(X86_64, [new KernelJudge(X86_64)]), { instanceOf: RangeError });
});

test('engine mode: a finding of the engines is re-judged by the spec; an engine that differs from the spec is itself a finding', (t) => {
  const skb = afUnixSkb(new Uint8Array(0));
  const env = { cpu: 0, randomSeed: 1 };
  const ret7 = [{ code: 0x06, jt: 0, jf: 0, k: 7 }];
  // the engines alone agree with the spec: nothing to report, whatever the sample
  const clean = new Checker(X86_64, [], { engine: true, specCheck: 1 });
  t.is(clean.checkValid(ret7, [{ skb, env }]), null);
  t.is(clean.specChecked, 1);
  // sabotage the engine's kernel path: the engines see classic 7 != kernel 8, the spec sees nothing
  const bad = new Checker(X86_64, [], { engine: true, specCheck: 1 << 30 });
  const engine = bad.kernel as EngineKernelJudge;
  const real = engine.run.bind(engine);
  engine.run = (s, e) => real(s, e) + 1;
  const f = bad.checkValid(ret7, [{ skb, env }]);
  t.like(f, { property: 'judge', judge: 'engine' });
  t.regex(f!.message, /the engines found equivalence \(classic 7 != kernel 8.*\), the spec finds nothing/);
  // a sabotage that finds nothing (both sides wrong alike) is caught on the cases the spec checks
  const sampled = new Checker(X86_64, [], { engine: true, specCheck: 1 });
  const ec = sampled.classic as EngineClassicJudge;
  const ek = sampled.kernel as EngineKernelJudge;
  const rc = ec.run.bind(ec);
  const rk = ek.run.bind(ek);
  ec.run = (s, e) => rc(s, e) + 1;
  ek.run = (s, e) => rk(s, e) + 1;
  const g = sampled.checkValid(ret7, [{ skb, env }]);
  t.like(g, { property: 'judge', judge: 'engine' });
  t.regex(g!.message, /the engines saw 'classic 8 .*', the spec 'classic 7 .*'/);
});

test('engine mode: the spec checks a content-determined share of the cases (so a sampled case replays sampled)', (t) => {
  const checker = new Checker(X86_64, [], { engine: true, specCheck: 8 });
  const stats = runWorker({ ...base, runs: 2048 }, 0, { progress: () => {}, shouldStop: () => false });
  t.true(stats.programs > 0);
  const skb = afUnixSkb(new Uint8Array(2));
  let n = 0;
  for (let k = 0; k < 800; k++) {
    const before = checker.specChecked;
    checker.checkValid([{ code: 0x06, jt: 0, jf: 0, k }], [{ skb, env: { cpu: 0, randomSeed: 1 } }]);
    const first = checker.specChecked - before;
    checker.checkValid([{ code: 0x06, jt: 0, jf: 0, k }], [{ skb, env: { cpu: 0, randomSeed: 1 } }]);
    t.is(checker.specChecked - before, 2 * first, 'the same case is sampled again');
    n += first;
  }
  t.true(n > 800 / 8 / 2 && n < (800 / 8) * 2, `${n} of 800 sampled at 1 in 8`);
});
