// Part of the mutation test command (./run.ts): the engine's image-reuse path
// (`new EngineRunner(config, { reuseImages: true })`, engine/runner.ts: each skb laid out once by
// layOutSkbOwn and swapped in by bindSkb) against the spec's runner (layOutSkb on every run). Both lay out the same
// struct sk_buff bytes, so every (filter, skb) must give the same result and the same fault, in any
// order of skbs: an skb with skb->dev NULL after one with a device and the reverse, an skb seen a
// second time (the cached image), and a fresh runner whose image was left bound to a cached layout
// (layOutSkb must go back to the image's own buffers).
import type { AttachedFilter } from '../../model/attach.js';
import type { KernelConfig } from '../../model/config.js';
import type { Fault } from '../../model/ebpf/memory.js';
import { EngineRunner } from '../../engine/runner.js';
import { bindSkb, layOutSkbOwn } from '../../engine/ebpf/skbimage.js';

/** What compareReuse needs of a runner (model/attach.ts KernelRunner, engine/runner.ts EngineRunner). */
interface Runner {
  run(f: AttachedFilter, skb: SkBuff, env: Env): number;
  readonly fault: Fault | null;
}
import { afUnixSkb, ethernetSkb, type Env, type SkBuff } from '../../model/skb.js';

const ENV: Env = { cpu: 3, randomSeed: 7 };

const bytes = (n: number, seed: number): Uint8Array => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (seed * 131 + i * 29 + (i >> 3)) & 0xff;
  return b;
};

/**
 * A few skbs that differ in every laid-out part: with and without skb->dev, headroom, paged frags,
 * an unset mac header, lengths from 0 to 1600.
 */
export function reusePool(): SkBuff[] {
  const eth = bytes(98, 1);
  eth.set([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00, 0x45, 0x00], 0);
  return [
    ethernetSkb(eth, { mark: 0x11223344, hash: 0xdeadbeef, queueMapping: 5, vlanTci: 0x1234, vlanProto: 0x8100, vlanPresent: true, pktType: 3 }),
    afUnixSkb(bytes(40, 2)), // dev NULL, no mac header
    afUnixSkb(bytes(300, 3), { headlen: 120, headroom: bytes(32, 4), macHeader: -14, networkHeader: 0, protocol: 0x86dd, dev: { ifindex: 9, type: 772 }, pktType: 7 }),
    afUnixSkb(new Uint8Array(0), { dev: { ifindex: 0x7fffffff, type: 0xffff }, mark: 1 }),
    afUnixSkb(bytes(1600, 5), { headlen: 1500, macHeader: 0, networkHeader: 14, protocol: 0x0800, mark: 0xffffffff }),
    afUnixSkb(bytes(14, 6), { headroom: bytes(2, 7), macHeader: -2, dev: null, hash: 0x80000000 }),
  ];
}

type Fail = (msg: string) => never;

/**
 * Run `f` on `skbs` (in this order, then reversed: the last one twice in a row) with the fresh runner
 * and the reuse runner; any difference in result or fault kind fails. Returns the number of runs.
 */
export function compareReuse(fail: Fail, what: string, f: AttachedFilter, skbs: readonly SkBuff[], fresh: Runner, reuse: Runner): number {
  const order = [...skbs, ...[...skbs].reverse()]; // every skb twice (the second time cached), dev and no dev both ways
  for (let i = 0; i < order.length; i++) {
    const skb = order[i]!;
    const want = fresh.run(f, skb, ENV);
    const wantFault = fresh.fault?.kind ?? null;
    const got = reuse.run(f, skb, ENV);
    const gotFault = reuse.fault?.kind ?? null;
    if (got !== want || gotFault !== wantFault)
      fail(`reuseImages ${what} run ${i}: reuse gave ${got} (fault ${gotFault}), fresh ${want} (fault ${wantFault})`);
  }
  return order.length;
}

/**
 * A fresh (non-reuse) runner `dirty` whose image was left showing a cached layout of `prev` (bindSkb)
 * must lay `skb` out in its own buffers and give what the fresh runner `clean` gives.
 */
export function compareRebind(fail: Fail, what: string, f: AttachedFilter, prev: SkBuff, skb: SkBuff, config: KernelConfig, clean: Runner, dirty: EngineRunner): void {
  const want = clean.run(f, skb, ENV);
  const wantFault = clean.fault?.kind ?? null;
  bindSkb(dirty.image, layOutSkbOwn(dirty.image, prev, config));
  const got = dirty.run(f, skb, ENV);
  const gotFault = dirty.fault?.kind ?? null;
  if (got !== want || gotFault !== wantFault) fail(`layOutSkb after bindSkb ${what}: ${got} (fault ${gotFault}), clean runner ${want} (fault ${wantFault})`);
  // and the own buffers must hold `skb` now, not the cached image's bytes
  if (dirty.image.headRegion.buf !== dirty.image.own.head || dirty.image.skbRegion.buf !== dirty.image.own.ctx || dirty.image.devRegion.buf !== dirty.image.own.dev)
    fail(`layOutSkb after bindSkb ${what}: the image still shows a cached layout`);
}
