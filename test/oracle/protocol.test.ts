// The pipe protocol (oracle/kernel/driver.ts) and the af_unix skb shape, without a kernel.
import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import { encodeProgram } from '../../model/cbpf/insn.js';
import { decodeReply, encodeRequest } from '../../oracle/kernel/driver.js';
import { SKB_MAX_ALLOC, unixDgramHeadlen, unixDgramSkb } from '../../oracle/kernel/afunix.js';
import { liveConfig, releaseVersion } from '../../oracle/kernel/params.js';
import { hex } from '../_shared.js';

test('request frame: length, jobs, programs as struct sock_filter, packets', (t) => {
  const req = encodeRequest([{ progs: [[{ code: 0x06, jt: 0, jf: 0, k: 1 }]], packets: [Uint8Array.of(0xaa, 0xbb)] }]);
  // payload 30 bytes: njobs 1 | nprogs 1 | flen 1 | 06 00 00 00 01 00 00 00 | npkts 1 | len 2 | aa bb
  t.deepEqual(req, hex('1e000000 01000000 01000000 01000000 0600000001000000 01000000 02000000 aabb'));
});

const insn = fc.record({ code: fc.integer({ min: 0, max: 0xffff }), jt: fc.nat(0xff), jf: fc.nat(0xff), k: fc.nat(0xffffffff) });
testProp(
  'request frame: every program is encodeProgram\'s image, every packet its bytes, in order',
  [fc.array(fc.record({ progs: fc.array(fc.array(insn, { maxLength: 6 }), { maxLength: 3 }), packets: fc.array(fc.uint8Array({ maxLength: 9 }), { maxLength: 3 }) }), { maxLength: 4 })],
  (t, jobs) => {
    const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
    const body = [
      ...u32(jobs.length),
      ...jobs.flatMap((j) => [
        ...u32(j.progs.length),
        ...j.progs.flatMap((p) => [...u32(p.length), ...encodeProgram(p, 'little')]),
        ...u32(j.packets.length),
        ...j.packets.flatMap((p) => [...u32(p.length), ...p]),
      ]),
    ];
    t.deepEqual([...encodeRequest(jobs)], [...u32(body.length), ...body]);
  },
);

test('request frame: an instruction field that does not fit struct sock_filter is named, not truncated', (t) => {
  for (const bad of [{ code: 0x10000, jt: 0, jf: 0, k: 0 }, { code: 6, jt: 0.5, jf: 0.5, k: 0 }, { code: 6, jt: 0, jf: 256, k: 0 }, { code: 6, jt: 0, jf: 0, k: -1 }, { code: 6, jt: 0, jf: 0, k: NaN }])
    t.throws(() => encodeRequest([{ progs: [[{ code: 6, jt: 0, jf: 0, k: 0 }, bad]], packets: [] }]), { instanceOf: RangeError, message: /^insn 1: / });
});

test('reply: errno per program, observations only for attached ones', (t) => {
  const jobs = [{ progs: [[], []], packets: [new Uint8Array(3), new Uint8Array(4)] }];
  const r = decodeReply(hex('16000000 00000000 05000000 ffffffff'), jobs);
  t.is(r[0]![0]!.errno, 22);
  t.is(r[0]![0]!.obs, null);
  t.is(r[0]![1]!.errno, 0);
  t.deepEqual([...r[0]![1]!.obs!], [5, -1]);
  t.throws(() => decodeReply(hex('00000000 01000000'), jobs), { message: /truncated/ });
  t.throws(() => decodeReply(hex('16000000 00'), [{ progs: [[]], packets: [] }]), { message: /extra bytes/ });
});

test('unix_dgram_sendmsg headlen: linear up to SKB_MAX_ALLOC, then page-aligned frags', (t) => {
  t.is(SKB_MAX_ALLOC, 16384 - 320);
  t.is(unixDgramHeadlen(100), 100);
  t.is(unixDgramHeadlen(16064), 16064);
  t.is(unixDgramHeadlen(16065), 16065 - 4096); // data_len = PAGE_ALIGN(1)
  t.is(unixDgramHeadlen(16064 + 8192), 16064); // PAGE_ALIGN(8192) = 8192
  t.is(unixDgramHeadlen(16064 + 17 * 4096 + 100), 100 + 16064); // capped at MAX_SKB_FRAGS pages
  const skb = unixDgramSkb(new Uint8Array(20000));
  t.is(skb.headlen, 20000 - 4096);
  t.is(skb.dev, null);
  t.is(skb.macHeader, null);
});

test('live parameters -> model configuration', (t) => {
  t.deepEqual(releaseVersion('6.18.44-fc'), [6, 18]);
  t.deepEqual(releaseVersion('x'), [0, 0]);
  const p = { release: '6.18.44', version: '', arch: 'x86_64', optmemMax: 131072, bpfJitEnable: 1, bpfJitHarden: 0, jitAlwaysOn: true };
  t.is(liveConfig(p).loadHelpers, 'backport');
  t.is(liveConfig({ ...p, release: '6.6.0' }).loadHelpers, 'v6.6.0');
  // the live optmem_max and struct bpf_prog header (96 measured on 6.18) go to the model as they are
  t.like(liveConfig(p, 104), { profile: 'live', optmemMax: 131072, bpfProgHeaderSize: 104 });
  // unprobed, the header is the release line's profile's: v6.18's 96, v6.6's 72
  t.like(liveConfig(p), { optmemMax: 131072, bpfProgHeaderSize: 96 });
  t.like(liveConfig({ ...p, release: '6.6.90' }), { bpfProgHeaderSize: 72, loadHelpers: 'v6.6.0', jitNeeded: 'always-on' });
  // bpf_jit_enable 0 without ALWAYS_ON: the JIT is not requested (fp->jit_requested, kernel/bpf/core.c:117)
  t.like(liveConfig({ ...p, jitAlwaysOn: false, bpfJitEnable: 0 }), { jitAlwaysOn: false, jitRequested: false });
  t.like(liveConfig({ ...p, jitAlwaysOn: null, bpfJitEnable: null }), { jitAlwaysOn: true, jitRequested: true });
});
