// The instrumented copies and their decoding, without a kernel: the copies are run on the model's
// classic evaluator and kernel path, where they must return exactly the chosen bits of the result.
import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import { ClassicJudge, KernelJudge } from '../../fuzz/judges.js';
import { validProgram } from '../../fuzz/arb/program.js';
import { X86_64 } from '../../model/config.js';
import { afUnixSkb } from '../../model/skb.js';
import { ancillaryK, SKF_AD_IFINDEX, SKF_AD_RANDOM } from '../../model/uapi.js';
import { confirmCopy, confirmCopyOf, fieldMask, fields, fieldWidth, hasDevExit, instrument, loadsRandom, planConfirms, readField, SENTINEL, shownCode } from '../../oracle/kernel/instrument.js';
import { combine } from '../../oracle/kernel/judge.js';

const S = (code: number, k: number) => ({ code, jt: 0, jf: 0, k: k >>> 0 });
const config = { ...X86_64, optmemMax: 131072, loadHelpers: 'backport' as const };

test('fieldWidth: results 0..len are told apart (0 dropped, 1..len-1 trimmed to themselves, len whole)', (t) => {
  // a 0-byte datagram: dropped vs delivered is one bit; len 2 allows fields 0..2 -> 1 bit (0..1); len 3 -> 0..3 -> 2 bits
  t.deepEqual([0, 1, 2, 3, 7, 8, 63, 64, 255, 65535].map((l) => fieldWidth(l, false)), [1, 1, 1, 2, 3, 3, 6, 6, 8, 16]);
  t.is(fieldWidth(2 ** 33, false), 32);
  // with SENTINEL the field must stay below len: max field len-1
  t.deepEqual([0, 1, 2, 3, 4, 8, 64].map((l) => fieldWidth(l, true)), [0, 0, 1, 1, 2, 3, 6]);
});

test('fields cover the 32 bits exactly once', (t) => {
  t.deepEqual(fields(6).map((f) => [f.shift, f.width]), [[0, 6], [6, 6], [12, 6], [18, 6], [24, 6], [30, 2]]);
  t.deepEqual(fields(32), [{ shift: 0, width: 32 }]);
  t.throws(() => fields(0), { instanceOf: RangeError });
  t.is(fieldMask(32), 0xffffffff);
  t.is(fieldMask(3), 7);
});

test('instrument rewrites one for one and appends the epilogues', (t) => {
  const dev = ancillaryK(SKF_AD_IFINDEX);
  const prog = [S(0x00, 0x12345678), { code: 0x15, jt: 1, jf: 0, k: 5 }, S(0x06, 0xabcd), S(0x20, dev), S(0x16, 0)];
  const v = instrument(prog, 4, 8)!;
  t.is(v.length, 5 + 3 + 4);
  t.deepEqual(v[0], prog[0]);
  t.deepEqual(v[1], prog[1]); // jumps untouched
  t.deepEqual(v[2], S(0x06, 0xbc)); // (0xabcd >> 4) & 0xff
  // epilogues in order of first use: the dev one at 5..8, E0 at 9..11
  t.deepEqual(v[3], S(0x05, 5 - 3 - 1)); // JA to the dev epilogue
  t.deepEqual(v[4], S(0x05, 9 - 4 - 1)); // JA to E0
  t.deepEqual(v.slice(5, 9), [S(0x74, 4), S(0x54, 0xff), S(0x20, dev), S(0x06, SENTINEL)]);
  t.deepEqual(v.slice(9), [S(0x74, 4), S(0x54, 0xff), S(0x16, 0)]);
  t.true(hasDevExit(prog));
  t.false(loadsRandom(prog));
  t.true(loadsRandom([S(0x20, ancillaryK(SKF_AD_RANDOM)), S(0x16, 0)]));
  // no shaping at all for the whole word
  t.deepEqual(instrument([S(0x16, 0)], 0, 32), [S(0x05, 0), S(0x16, 0)]);
  // too long to instrument
  t.is(instrument([...Array.from({ length: 4095 }, () => S(0x00, 1)), S(0x16, 0)], 0, 8), null);
});

testProp(
  'a copy returns exactly the chosen bits on the classic evaluator and the kernel path (dev NULL skbs)',
  [validProgram({ config }), fc.uint8Array({ maxLength: 80 }), fc.integer({ min: 0, max: 31 }), fc.integer({ min: 1, max: 32 })],
  (t, prog, bytes, shift, w) => {
    const width = Math.min(w, 32 - shift);
    const copy = instrument(prog, shift, width);
    if (copy === null) return void t.pass('too long to instrument');
    const skb = afUnixSkb(bytes);
    const env = { cpu: 1, randomSeed: 7 };
    const mask = fieldMask(width);
    const classic = new ClassicJudge(config);
    const classicCopy = new ClassicJudge(config);
    if (classic.load(prog) !== null || classicCopy.load(copy) !== null) return t.fail('checker rejected');
    t.is(classicCopy.run(skb, env), ((classic.run(skb, env) >>> shift) & mask) >>> 0);
    const kernel = new KernelJudge(config);
    const kernelCopy = new KernelJudge(config);
    if (kernel.load(prog) === null && kernelCopy.load(copy) === null) t.is(kernelCopy.run(skb, env), ((kernel.run(skb, env) >>> shift) & mask) >>> 0);
    return true;
  },
  { numRuns: 300 },
);

test('confirmCopy folds RET K to (K == q), sends RET A to one appended jeq #q', (t) => {
  const prog = [S(0x00, 7), { code: 0x15, jt: 1, jf: 0, k: 5 }, S(0x06, 0xabcd), S(0x06, 0x40000), S(0x16, 0)];
  const c = confirmCopy(prog, 0x40000)!;
  t.is(c.length, 5 + 3);
  t.deepEqual(c.slice(0, 2), prog.slice(0, 2)); // everything but the exits untouched: same paths, same jump offsets
  t.deepEqual(c[2], S(0x06, 0)); // 0xabcd != q
  t.deepEqual(c[3], S(0x06, 1)); // 0x40000 == q
  t.deepEqual(c[4], S(0x05, 5 - 4 - 1)); // RET A -> JA to the appended check
  t.deepEqual(c.slice(5), [{ code: 0x15, jt: 0, jf: 1, k: 0x40000 }, S(0x06, 1), S(0x06, 0)]);
  t.deepEqual(confirmCopy([S(0x06, 3)], 3), [S(0x06, 1)]); // no RET A: nothing appended
  t.is(confirmCopy([...Array.from({ length: 4094 }, () => S(0x00, 1)), S(0x16, 0)], 1), null);
});

testProp(
  'a confirmation copy returns 1 exactly when the program returns q, on the classic evaluator and the kernel path',
  [validProgram({ config }), fc.uint8Array({ maxLength: 80 }), fc.boolean(), fc.integer({ min: 1, max: 0xffffffff })],
  (t, prog, bytes, same, other) => {
    if (hasDevExit(prog) || loadsRandom(prog)) return void t.pass('read by field copies instead (see confirmCopy)');
    t.pass(); // every other case asserts below unless both judges refuse the program or its copy
    const skb = afUnixSkb(bytes);
    const env = { cpu: 1, randomSeed: 7 };
    for (const [J, name] of [[ClassicJudge, 'classic'], [KernelJudge, 'kernel']] as const) {
      const orig = new J(config);
      if (orig.load(prog) !== null) continue;
      const r = orig.run(skb, env);
      // q is never 0 in use (only packets that arrived are confirmed)
      const q = same && r !== 0 ? r : other;
      const copy = confirmCopy(prog, q);
      if (copy === null) continue;
      const judge = new J(config);
      if (judge.load(copy) !== null) continue; // a longer copy may be refused (optmem): the caller reads bits then
      t.is(judge.run(skb, env), r === q ? 1 : 0, name);
    }
    return true;
  },
  { numRuns: 300 },
);

test('confirmCopyOf folds RET K to its code, sends RET A to one appended jeq chain; one value is confirmCopy', (t) => {
  const prog = [S(0x00, 7), { code: 0x15, jt: 1, jf: 0, k: 5 }, S(0x06, 0xabcd), S(0x06, 0x40000), S(0x16, 0)];
  const c = confirmCopyOf(prog, [0x99, 0x40000, 0xabcd])!;
  t.deepEqual(c.slice(0, 2), prog.slice(0, 2));
  t.deepEqual(c[2], S(0x06, 3)); // 0xabcd: code 3
  t.deepEqual(c[3], S(0x06, 2)); // 0x40000: code 2
  t.deepEqual(c[4], S(0x05, 0)); // RET A -> JA to the appended chain
  t.deepEqual(c.slice(5), [
    { code: 0x15, jt: 0, jf: 1, k: 0x99 }, S(0x06, 1),
    { code: 0x15, jt: 0, jf: 1, k: 0x40000 }, S(0x06, 2),
    { code: 0x15, jt: 0, jf: 1, k: 0xabcd }, S(0x06, 3),
    S(0x06, 0),
  ]);
  t.deepEqual(confirmCopyOf(prog, [0x40000]), confirmCopy(prog, 0x40000));
  t.deepEqual(confirmCopyOf([S(0x06, 3)], [4, 3]), [S(0x06, 2)]);
  const long = [...Array.from({ length: 4090 }, () => S(0x00, 1)), S(0x16, 0)];
  t.not(confirmCopyOf(long, [1, 2]), null); // 4091 + 5
  t.is(confirmCopyOf(long, [1, 2, 3]), null); // 4091 + 7 > BPF_MAXINSNS
});

test('confirmCopyOf: an ld [ifindex]/[hatype] jumps to a chain that turns A into its code, then the same load, then ret #0', (t) => {
  const ifindex = S(0x20, ancillaryK(SKF_AD_IFINDEX));
  t.deepEqual(confirmCopyOf([S(0x00, 7), ifindex, S(0x16, 0)], [7, 9]), [
    S(0x00, 7),
    S(0x05, 1), // -> 3
    S(0x05, 9), // RET A -> 12
    { code: 0x15, jt: 0, jf: 2, k: 7 }, S(0x00, 1), S(0x05, 4), // 3: A == 7 -> A = 1, to the load at 10
    { code: 0x15, jt: 0, jf: 2, k: 9 }, S(0x00, 2), S(0x05, 1),
    S(0x00, 0), ifindex, S(0x06, 0), // 9: none -> A = 0; the load exits with A (dev NULL), else ret #0
    { code: 0x15, jt: 0, jf: 1, k: 7 }, S(0x06, 1), { code: 0x15, jt: 0, jf: 1, k: 9 }, S(0x06, 2), S(0x06, 0), // 12
  ]);
});

testProp(
  'a confirmation copy of several values returns the code of the result (0: none), on the classic evaluator and the kernel path (dev NULL skbs)',
  [validProgram({ config }), fc.uint8Array({ maxLength: 80 }), fc.uniqueArray(fc.integer({ min: 1, max: 0xffffffff }), { minLength: 1, maxLength: 6 }), fc.nat(6)],
  (t, prog, bytes, others, at) => {
    if (loadsRandom(prog)) return void t.pass('not compared (SKF_AD_RANDOM)');
    t.pass();
    const skb = afUnixSkb(bytes);
    const env = { cpu: 1, randomSeed: 7 };
    for (const [J, name] of [[ClassicJudge, 'classic'], [KernelJudge, 'kernel']] as const) {
      const orig = new J(config);
      if (orig.load(prog) !== null) continue;
      const r = orig.run(skb, env);
      // the result among the values (at a chosen code) unless it is 0 (never asked) or already there
      const qs = r !== 0 && !others.includes(r) ? [...others.slice(0, at), r, ...others.slice(at)] : others;
      const copy = confirmCopyOf(prog, qs);
      if (copy === null) continue;
      const judge = new J(config);
      if (judge.load(copy) !== null) continue;
      t.is(judge.run(skb, env), qs.indexOf(r) + 1, name);
    }
    return true;
  },
  { numRuns: 300 },
);

test('planConfirms: codes below the least length, or the last code equal to it', (t) => {
  t.deepEqual(planConfirms(new Map([[9, 1], [8, 1], [7, 1]])), [[7], [8], [9]]);
  t.deepEqual(planConfirms(new Map([[5, 2], [6, 2], [7, 2]])), [[5, 6], [7]]);
  t.deepEqual(planConfirms(new Map([[100, 64], [200, 3], [300, 64], [400, 1]])), [[400], [200, 100, 300]]);
  t.deepEqual(planConfirms(new Map([[1, 40], [2, 40], [3, 40]]), 2), [[1, 2], [3]]);
});

testProp(
  'a packet shows its code exactly when the copy returns it, for every code the plan gives it',
  [fc.array(fc.tuple(fc.integer({ min: 1, max: 0xffffffff }), fc.nat(20)), { minLength: 1, maxLength: 16 })],
  (t, packets) => {
    const minLen = new Map<number, number>();
    for (const [q, len] of packets) minLen.set(q, Math.min(minLen.get(q) ?? Infinity, Math.max(len, 1)));
    const plan = planConfirms(minLen);
    t.deepEqual(plan.flat().sort(), [...minLen.keys()].sort());
    for (const qs of plan) {
      const m = qs.length;
      for (const [q, len] of packets) {
        const c = qs.indexOf(q) + 1;
        if (c === 0) continue;
        // every code the copy may return (0: none of its values), as the kernel delivers it
        for (let ret = 0; ret <= m; ret++) {
          const obs = ret === 0 ? -1 : len === 0 ? 0 : Math.min(len, ret);
          t.is(shownCode(obs, len) === c, ret === c, `q ${q} len ${len} code ${c} of ${m}, returned ${ret}`);
        }
      }
    }
    t.is(shownCode(-1011, 5), null);
  },
);

test('readField', (t) => {
  t.deepEqual(readField(-1, 10, false), { field: 0 });
  t.deepEqual(readField(4, 10, false), { field: 4 });
  t.deepEqual(readField(10, 10, false), { field: 10 });
  t.deepEqual(readField(10, 10, true), { sentinel: true });
  t.deepEqual(readField(0, 0, false), { field: 1 });
  t.deepEqual(readField(-1011, 10, false), { sendErrno: 11 });
});

test('combine: all fields read gives the exact value; a rejected copy leaves the result partly known', (t) => {
  const ok = (obs: number) => ({ errno: 0, obs: Int32Array.of(obs) });
  // 64-byte packet, 6-bit fields: value 0xdeadbeef = fields 0x2f,0x3b,0x2d,0x2b,0x1e,0x3 (low to high)
  const v = 0xdeadbeef;
  const fs = fields(6).map((f) => ({ ...f, outcome: ok((v >>> f.shift) & fieldMask(f.width) || -1), obs: ((v >>> f.shift) & fieldMask(f.width)) || -1 }));
  t.deepEqual(combine(64, false, fs), { known: 'exact', value: v });
  const partial = combine(64, false, fs.map((f, i) => (i === 5 ? { ...f, outcome: { errno: 12, obs: null } } : f)));
  t.is(partial.known, 'partial');
  if (partial.known === 'partial') {
    t.is(partial.mask, 0x3fffffff);
    t.is(partial.bits, v & 0x3fffffff);
    t.is(partial.atLeast, 64);
    t.regex(partial.reason, /rejected \(errno 12\)/);
  }
  // fields give a value below the packet length although it arrived whole: never passed off as exact
  const low = fields(32).map((f) => ({ ...f, outcome: ok(5), obs: 5 }));
  t.is(combine(4, false, low).known, 'exact');
  t.is(combine(64, false, fields(6).map((f) => ({ ...f, outcome: ok(-1), obs: -1 }))).known, 'partial');
  const sent = combine(64, true, fields(6).map((f) => ({ ...f, outcome: ok(64), obs: 64 })));
  t.true(sent.known === 'partial' && /did not exit/.test(sent.reason));
});
