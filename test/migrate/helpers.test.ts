// Tests for model/ebpf/helpers.ts: the load helpers in both bodies (pristine v6.6.0 and the 6.6.y
// backport of d4bac0288a2b), the negative-offset resolution, and the helper table. Expected values
// are worked out by hand from net/core/filter.c:214-301, kernel/bpf/core.c:74-89 and skb_copy_bits.
import test from 'ava';
import {
  HELPERS,
  HELPER_FUNCS,
  bpfInternalLoadPointerNegHelper,
  bpfSkbLoadHelper,
  bpfSkbLoadHelperConvertOffset,
  helperName,
  skbCopyBits,
  skbHelperTable,
  type HelperEnv,
} from '../../model/ebpf/helpers.js';
import { X86_64, type KernelConfig } from '../../model/config.js';
import { afUnixSkb, type SkBuff } from '../../model/skb.js';
import { newRndState, prandomU32State } from '../../model/prandom.js';
import { EFAULT, SKF_LL_OFF, SKF_NET_OFF } from '../../model/uapi.js';

const V660: KernelConfig = { ...X86_64, loadHelpers: 'v6.6.0' };
const BACK: KernelConfig = { ...X86_64, loadHelpers: 'backport' };
const env = (skb: SkBuff, config: KernelConfig): HelperEnv => ({ skb, config, cpu: 3, rnd: newRndState(42) });

// headroom a0..a3, data 10..15 with 4 linear bytes and 2 in frags, network header at 2, mac at -4
const skb1 = afUnixSkb(Uint8Array.of(0x10, 0x11, 0x12, 0x13, 0x14, 0x15), {
  headlen: 4,
  headroom: Uint8Array.of(0xa0, 0xa1, 0xa2, 0xa3),
  networkHeader: 2,
  macHeader: -4,
});
const load = (cfg: KernelConfig, skb: SkBuff, off: number, len: number): number => bpfSkbLoadHelper(env(skb, cfg), skb.headlen, off, len);

test('positive offsets: linear, across into frags (skb_copy_bits), past the end (-EFAULT)', (t) => {
  for (const cfg of [V660, BACK]) {
    t.is(load(cfg, skb1, 0, 1), 0x10);
    t.is(load(cfg, skb1, 2, 2), 0x1213); // headlen - 2 = 2 >= 2: direct
    t.is(load(cfg, skb1, 3, 2), 0x1314); // 4 - 3 < 2: skb_copy_bits(3, 2), 3 <= 6 - 2
    t.is(load(cfg, skb1, 2, 4), 0x12131415);
    t.is(load(cfg, skb1, 3, 4), -EFAULT); // 3 > 6 - 4
    t.is(load(cfg, skb1, 6, 1), -EFAULT);
  }
});

test('SKF_NET_OFF: linear in both; into frags only after the backport (digest R7 / H15)', (t) => {
  t.is(load(V660, skb1, SKF_NET_OFF + 0, 1), 0x12);
  t.is(load(BACK, skb1, SKF_NET_OFF + 0, 1), 0x12);
  t.is(load(V660, skb1, SKF_NET_OFF + 2, 2), -EFAULT); // pos 4, 4 + 2 > tail (headlen 4)
  t.is(load(BACK, skb1, SKF_NET_OFF + 2, 2), 0x1415); // converted to 4, skb_copy_bits
  t.is(load(BACK, skb1, SKF_NET_OFF + 4, 2), -EFAULT); // 6 > 6 - 2
});

test('SKF_LL_OFF: mac header in the headroom; unset mac header fails; below SKF_LL_OFF fails', (t) => {
  for (const cfg of [V660, BACK]) {
    t.is(load(cfg, skb1, SKF_LL_OFF + 0, 1), 0xa0);
    t.is(load(cfg, skb1, SKF_LL_OFF + 2, 2), 0xa2a3);
    t.is(load(cfg, skb1, SKF_LL_OFF + 3, 4), 0xa3101112);
    t.is(load(cfg, { ...skb1, macHeader: null }, SKF_LL_OFF, 1), -EFAULT);
    t.is(load(cfg, skb1, SKF_LL_OFF - 1, 1), -EFAULT);
  }
  t.is(bpfSkbLoadHelperConvertOffset(skb1, SKF_LL_OFF - 1), -0x80000000);
  t.is(bpfInternalLoadPointerNegHelper(skb1, SKF_LL_OFF - 1, 1), null);
});

test('backport: a negative converted offset straddling headroom and frags goes through skb_copy_bits', (t) => {
  // headlen 0 (all frags), network header 2 bytes into the headroom
  const s = afUnixSkb(Uint8Array.of(0x20, 0x21), { headlen: 0, headroom: Uint8Array.of(0xb0, 0xb1), networkHeader: -2 });
  t.is(load(BACK, s, SKF_NET_OFF, 2), 0xb0b1); // 0 - (-2) = 2 >= 2: direct from data - 2
  t.is(load(BACK, s, SKF_NET_OFF, 4), 0xb0b12021); // -2 <= 2 - 4: copy 2 from head, 2 from frags
  t.is(load(V660, s, SKF_NET_OFF, 4), -EFAULT); // pos -2 + 4 > tail 0
  t.is(load(V660, s, SKF_NET_OFF, 2), 0xb0b1);
  t.is(skbCopyBits(s, -2, 4), 0xb0b12021);
  t.throws(() => skbCopyBits(s, -3, 1), { instanceOf: RangeError });
});

test('helper table: names, ids, and the R0 convention (negative results sign-extended)', (t) => {
  t.is(helperName(1), 'bpf_skb_load_helper_8');
  t.is(helperName(8), 'bpf_user_rnd_u32');
  t.is(helperName(99), 'helper#99');
  t.is(HELPERS.length, 8);
  const e = env(skb1, BACK);
  t.is(HELPER_FUNCS[7]!(e, 0, 0, 0), 3);
  t.is(HELPER_FUNCS[8]!(e, 0, 0, 0), prandomU32State(newRndState(42)));
  t.is(HELPER_FUNCS[2]!(e, 0, 4, 2), 0x1213);
  const table = skbHelperTable(env(skb1, BACK));
  const regs = new Uint32Array(32);
  regs[6] = 4; // R3 = headlen
  regs[8] = 6; // R4 = offset 6: past the end
  t.is(table.get(1)!(regs, undefined as never, 0), null);
  t.deepEqual([regs[0], regs[1]], [(-EFAULT) >>> 0, 0xffffffff]);
  regs[8] = 1;
  table.get(3)!(regs, undefined as never, 0);
  t.deepEqual([regs[0], regs[1]], [0x11121314, 0]);
});
