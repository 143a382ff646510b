// fuzz/arb/invalid.ts optmemOverflowOf under the larger optmem_max of 6.18 (131072, live kdiff's): a
// program aimed at __sk_filter_charge's -ENOMEM must not put its tail's jumps at eBPF index >= 32768,
// where bpf_convert_filter's first pass refuses them first (-EINVAL, divergence A4). Before the cap, a
// 10-minute live kdiff met such programs as `invalid-rejected` findings (the kernel and the model
// agreeing on -EINVAL) and spent its time shrinking them.
import test from 'ava';
import { fc } from '@fast-check/ava';
import { invalidOf } from '../../fuzz/arb/invalid.js';
import { validProgram } from '../../fuzz/arb/index.js';
import { skSetsockopts } from '../../model/attach.js';
import { kernelProfile } from '../../model/kernel.js';

test('optmem-exceeded programs are refused by the charge under optmem_max 131072 and 20480', (t) => {
  for (const profile of ['v6.18', 'v6.6.y'] as const) {
    const cfg = kernelProfile(profile)!;
    const bases = fc.sample(validProgram({ weights: { short: 6, realistic: 3, medium: 1, long: 0, limits: 0, jit: 0 } }), { numRuns: 40, seed: 3 });
    let far = 0;
    bases.forEach((base, i) => {
      let x = (Math.imul(i + 1, 0x9e3779b1) | 1) >>> 0;
      const words = (): number => {
        x ^= x << 13;
        x >>>= 0;
        x ^= x >>> 17;
        x ^= x << 5;
        return (x >>>= 0);
      };
      const c = invalidOf('optmem-exceeded', base, words, cfg);
      if (c.how === 'far') far++;
      const r = skSetsockopts([{ name: 'SO_ATTACH_FILTER', prog: c.prog }], cfg).results[0]!;
      t.like(r, { errno: -12, stage: 'charge', rule: 'optmem-exceeded' }, `${profile} case ${i} (${c.how}, ${c.prog.length} insns)`);
    });
    t.true(far > 5, `${profile}: ${far} far cases`);
  }
});
