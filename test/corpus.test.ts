// The corpus replays exactly, and every divergence catalogue entry has an example that shows it.
import test from 'ava';
import { resolve } from 'node:path';
import { entryCase, listEntries, readEntry, replayEntry } from '../fuzz/corpus.js';
import { DIVERGENCES } from '../fuzz/divergences.js';
import { Checker } from '../fuzz/properties.js';
import { projectRoot } from './_shared.js';

const corpus = resolve(projectRoot, 'corpus');

test('every corpus entry is valid and replays exactly', (t) => {
  const files = listEntries([corpus]);
  t.true(files.length >= DIVERGENCES.length);
  const problems: string[] = [];
  for (const f of files) {
    const r = readEntry(f);
    if (!r.ok) problems.push(r.error);
    else for (const d of replayEntry(r.entry)) problems.push(`${f}: ${d}`);
  }
  t.deepEqual(problems, []);
  t.log(`${files.length} entries replayed`);
});

// What each example must show, worked out by hand from the kernel source (kernel-spec.md section 8):
// [classic, kernel] per input, or the kernel path's rejection.
const EXPECTED: Record<string, { results?: [number | null, number | null][]; attach?: [number, string] }> = {
  // ld #7; ld #ifidx; ret a: no dev -> classic 0, v6.6 exits with A = 7 (F:377-382); dev 3 -> 3, 3
  'dev-null-exit-a': { results: [[0, 7], [3, 3]] },
  // ld #100; ld #nla; ret #9 on 20 bytes: A > len - 4 -> classic 0; v6.6 A = 0, ret #9 (F:170-188)
  'nlattr-guard-continue': { results: [[0, 9]] },
  // TCI 0x1064: classic 0x1064 & ~0x1000 = 0x64; v6.6 full TCI (F:331)
  'vlan-tag-dei': { results: [[0x64, 0x1064]] },
  // tag put with proto|tci == 0: classic 1, v6.6 vlan_all != 0 -> 0; tci 5 without a tag: 0 and 1 (F:338)
  'vlan-present-odd': { results: [[1, 0], [0, 1]] },
  // ldb [SKF_NET_OFF+9], headlen 8: classic (linear only) 0; backport reads the frag byte 0x11 (F:214)
  'neg-offset-frags': { results: [[0, 0x11]] },
  // ldb [SKF_LL_OFF+1], mac unset: 3.14 reads head + 0xffff + 1 = 0x42; v6.6 fails -> 0 (C:81)
  'mac-unset-ll': { results: [[0x42, 0]] },
  // JA over 1562 MSH of 21 eBPF insns: offset 32802 > 32767 -> -EINVAL (F:710)
  'jump-offset-overflow': { attach: [22, 'jump-offset-overflow'] },
  // 190 x 14 + 7 + 1 = 2668 eBPF insns: 72 + 8 * 2668 = 21416 > 20480 -> -ENOMEM (F:1232)
  'optmem-exceeded': { attach: [12, 'optmem-exceeded'] },
  // v6.6.0's JIT (127-byte short jumps): two jumps trade sizes, the emitting pass refuses -> -ENOTSUPP (bpf_jit_comp.c:2741)
  'x86-jit-refused': { attach: [524, 'jit-emit-mismatch'] },
};

for (const d of DIVERGENCES) {
  test(`divergence ${d.id}: its example shows it and the catalogue predicts it`, (t) => {
    const r = readEntry(resolve(corpus, d.example));
    if (!r.ok) return t.fail(r.error);
    t.is(r.entry.divergence, d.id);
    const want = EXPECTED[d.id]!;
    if (want.results) t.deepEqual(r.entry.expect.results.map((x) => [x.classic, x.kernel]), want.results);
    if (want.attach) t.deepEqual([r.entry.expect.attach.errno, r.entry.expect.attach.rule], want.attach);
    const { prog, inputs, config } = entryCase(r.entry);
    const checker = new Checker(config);
    t.is(checker.checkValid(prog, inputs), null, 'the kernel path gives exactly what the catalogue predicts');
    t.true((checker.stats.divergences[d.id] ?? 0) > 0, `attributed to ${d.id}: ${JSON.stringify(checker.stats.divergences)}`);
  });
}
