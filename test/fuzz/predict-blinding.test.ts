// The catalogue's attach prediction under constant blinding (net.core.bpf_jit_harden): the charged
// length is the blinded clone's, and a program whose clone cannot be made (a jump pushed past S16_MAX
// by the patches, bpf_patch_insn_single -ERANGE) is refused by every JIT's fallback with the JIT
// required. Found by a kdiff under bpf_jit_harden 2, where the catalogue predicted the charge instead.
import test from 'ava';
import { actual, predicted } from './_attach-verdicts.js';
import type { Program } from '../../model/cbpf/insn.js';
import { PROFILES, type KernelConfig } from '../../model/kernel.js';

const ret1 = { code: 0x06, jt: 0, jf: 0, k: 1 };
/** jeq #1 whose false branch jumps over n `ldb [i]` (13 eBPF insns each on v6.18, 21 once blinded) to `ret #1`. */
const jumpOver = (n: number): Program => [
  { code: 0x15, jt: 0, jf: n, k: 1 },
  ...Array.from({ length: n }, (_, i) => ({ code: 0x30, jt: 0, jf: 0, k: i + 1 })),
  ret1,
];
/** n `ld #k` (k != 0: three insns each once blinded) and `ret #1`. */
const lds = (n: number): Program => [...Array.from({ length: n }, (_, i) => ({ code: 0x00, jt: 0, jf: 0, k: i + 1 })), ret1];


const v618 = PROFILES.get('v6.18')!;
const configs: [string, KernelConfig][] = [
  ['v6.18, harden 2, the JIT modelled', { ...v618, bpfJitHarden: 2 }],
  ['v6.18, harden 2, the JIT not modelled', { ...v618, bpfJitHarden: 2, x86Jit: null }],
  ['v6.18, harden 1 without CAP_BPF', { ...v618, bpfJitHarden: 1, bpfCapable: false }],
];

for (const [name, config] of configs) {
  test(`${name}: a jump the blinding pushes past S16_MAX is refused at runtime, as predicted`, (t) => {
    // 2000 ldb: 26,010 eBPF insns unblinded (the jump fits), about 42,000 blinded
    const prog = jumpOver(2000);
    const big = { ...config, optmemMax: 2 ** 31 - 1 };
    const a = actual(prog, big);
    t.truthy(a?.startsWith('runtime/jit-'), String(a));
    t.is(predicted(prog, big), a);
    // unblinded, the same program attaches
    t.is(actual(prog, { ...big, bpfJitHarden: 0 }), null);
  });

  test(`${name}: the charge is the blinded clone's: the ENOMEM limit moves, as predicted`, (t) => {
    // 1000 ld #k: 1,001 eBPF insns unblinded, 3,007 blinded (bpf_prog_size 24,152 bytes with v6.18's 96-byte header)
    let agreed = 0;
    for (let n = 996; n <= 1000; n++) {
      const prog = lds(n);
      for (const optmemMax of [8192, 20480, 24152, 24153, 24160, 40000]) {
        const c = { ...config, optmemMax };
        t.is(predicted(prog, c), actual(prog, c), `n ${n}, optmem_max ${optmemMax}`);
        agreed++;
      }
    }
    // and the limit really moved: a program that fits unblinded does not once blinded
    const prog = lds(1000);
    t.is(actual(prog, { ...config, bpfJitHarden: 0, optmemMax: 20480 }), null);
    t.is(actual(prog, { ...config, optmemMax: 20480 }), 'charge/optmem-exceeded');
    t.is(actual(prog, { ...config, optmemMax: 24152 }), 'charge/optmem-exceeded');
    t.is(actual(prog, { ...config, optmemMax: 24153 }), null);
    t.is(agreed, 30);
  });
}
