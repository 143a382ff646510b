// The catalogues of other implementations (fuzz/impl): the model with Linux's decisions is the spec,
// every entry has an example that the real implementation judges as the entry predicts (and as the
// example recorded), and the validator models give the real validators' verdicts. Tests that need an
// implementation are declared skipped, naming its Debian package, when it is not installed.
import test from 'ava';
import fc from 'fast-check';
import { resolve } from 'node:path';
import { readEntry, entryCase } from '../../fuzz/corpus.js';
import { invalidProgram, validProgram, fuzzCase } from '../../fuzz/arb/index.js';
import { IMPL_CATALOGUES, restrictProgram } from '../../fuzz/impl/campaign.js';
import type { ImplName } from '../../fuzz/impl/catalogue.js';
import { ImplComparator, type ImplRun } from '../../fuzz/impl/compare.js';
import { externalDiffs, isExternalEntry } from '../../fuzz/impl/external.js';
import { ImplModel, LINUX_SEMANTICS } from '../../fuzz/impl/model.js';
import { pcapValidateFilter, xnetNewVm } from '../../fuzz/impl/validators.js';
import { KernelJudge } from '../../fuzz/judges.js';
import { X86_64 } from '../../model/config.js';
import type { Program } from '../../model/cbpf/insn.js';
import { OutsideJudge, outsidePacket } from '../../oracle/outside/judge.js';
import { outsideSpec, outsideMissing } from '../../oracle/outside/registry.js';
import { projectRoot } from '../_shared.js';
import { requires, requiresSerial } from '../_skip.js';

const config = X86_64;
const IMPLS: readonly ImplName[] = ['libpcap', 'dpdk', 'dpdk-jit', 'xnet'];

// Whether each implementation's adapter builds here (probed once, before the tests are declared).
const missing = new Map<ImplName, string | null>(IMPLS.map((n) => [n, outsideMissing(outsideSpec(n)!)]));

test('with Linux\'s decisions the outside model gives the kernel path\'s result on every supported program', (t) => {
  const model = new ImplModel(LINUX_SEMANTICS, config);
  const kernel = new KernelJudge(config);
  let pairs = 0;
  fc.assert(
    fc.property(fuzzCase({ packetsPerProgram: 4, config, program: validProgram({ config }).map((p) => restrictProgram('libpcap', p)) }), (c) => {
      if (kernel.load(c.prog) !== null) return true; // Linux's attach limits: no Linux result
      for (const i of c.inputs) {
        pairs++;
        const want = kernel.run(i.skb, i.env);
        const got = model.run(c.prog, i.skb);
        if (got.events !== 0 || got.prediction.kind !== 'value' || got.prediction.value !== want) return false;
      }
      return true;
    }),
    { numRuns: 3000, seed: 13 },
  );
  t.true(pairs > 10000);
  t.log(`${pairs} packet runs`);
});

/** Run one corpus case through an implementation and compare it with its catalogue. */
async function judgeExample(impl: ImplName, file: string): Promise<{ run: ImplRun; differences: Record<string, number>; finding: string | null; recorded: string[] | null }> {
  const r = readEntry(resolve(projectRoot, 'corpus', file));
  if (!r.ok) throw new Error(r.error);
  const { prog, inputs } = entryCase(r.entry);
  // a load that never ends (dpdk-validator-path-explosion) is killed by the driver's watchdog: a short one here
  const j = await OutsideJudge.open(outsideSpec(impl)!, { answerTimeoutMs: 15_000 });
  if ('missing' in j) throw new Error(j.missing);
  try {
    const [raw] = await j.run([{ prog, packets: inputs.map(outsidePacket) }], impl === 'dpdk-jit' ? { jit: true, ebpf: true } : impl === 'dpdk' ? { ebpf: true } : {});
    const run: ImplRun = impl === 'dpdk-jit' && raw!.verdict.code === 0 ? { ...raw!, results: raw!.jit?.results ?? [] } : raw!;
    const cmp = new ImplComparator(IMPL_CATALOGUES[impl], config);
    const f = cmp.compare(prog, inputs, run);
    const recorded = isExternalEntry(r.entry) ? externalDiffs(r.entry.external.expect, run) : null;
    return { run, differences: cmp.stats.differences, finding: f === null ? null : f.message, recorded };
  } finally {
    await j.close();
  }
}

for (const impl of IMPLS) {
  const cat = IMPL_CATALOGUES[impl];
  test(`${impl}: every catalogue entry cites its source and has a valid example`, (t) => {
    const ids = new Set<string>();
    for (const e of cat.entries) {
      t.false(ids.has(e.id), `duplicate id ${e.id}`);
      ids.add(e.id);
      t.true(e.kind === 'linux-attach-limit' || e.at.length > 0, `${e.id} cites no source line`);
      t.true(e.linuxAt.length > 0, `${e.id} cites no kernel line`);
      const r = readEntry(resolve(projectRoot, 'corpus', e.example));
      t.true(r.ok, `${e.id}: ${r.ok ? '' : r.error}`);
      if (r.ok && isExternalEntry(r.entry)) t.is(r.entry.external.catalogue, e.id);
      if (e.bug) t.regex(e.bug.report, /^reports\/[a-z0-9-]+\.md$/);
    }
  });

  for (const e of cat.entries) {
    // shared DPDK entries are judged with the implementation their example was recorded with
    requiresSerial(missing.get(impl) ?? null, `${impl}: the example of ${e.id} shows it, as the catalogue predicts and as it was recorded`, async (t) => {
      const r = readEntry(resolve(projectRoot, 'corpus', e.example));
      const who: ImplName = r.ok && isExternalEntry(r.entry) ? r.entry.external.implementation : impl;
      const got = await judgeExample(who, e.example);
      t.is(got.finding, null);
      t.true(
        Object.entries(got.differences).some(([k, v]) => v > 0 && k.split('+').includes(e.id)),
        `attributed: ${JSON.stringify(got.differences)}`,
      );
      if (got.recorded !== null) t.deepEqual(got.recorded, []);
    });
  }
}

// The validator models against the validators themselves, on programs Linux's checker rejects.
function invalidPrograms(n: number, seed: number, impl: ImplName): Program[] {
  return fc.sample(invalidProgram({ config }), { numRuns: n, seed }).map((c) => restrictProgram(impl, c.prog));
}

// each validator model gives its implementation's verdict on 1500 rejected, 300 valid and the empty program
for (const [impl, name, model, seeds] of [
  ['libpcap', "pcapValidateFilter gives bpf_validate's verdict", pcapValidateFilter, [5, 6]],
  ['xnet', "xnetNewVm gives NewVM's verdict", xnetNewVm, [7, 8]],
] as const) {
  requires(missing.get(impl) ?? null, name, async (t) => {
    const progs = [...invalidPrograms(1500, seeds[0], impl), ...fc.sample(validProgram({ config }), { numRuns: 300, seed: seeds[1] }), []];
    const j = await OutsideJudge.open(outsideSpec(impl)!);
    if ('missing' in j) throw new Error(j.missing);
    try {
      const runs = await j.run(progs.map((prog) => ({ prog, packets: [] })));
      let accepted = 0;
      progs.forEach((p, i) => {
        const real = runs[i]!.verdict.code === 0;
        if (real) accepted++;
        t.is(model(p), real, JSON.stringify(p.slice(0, 8)));
      });
      t.true(accepted > 300 && accepted < progs.length, `${accepted} accepted`);
    } finally {
      await j.close();
    }
  });
}
