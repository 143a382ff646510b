// The library API (api/): what each entry point answers, and that bad input of any shape gets a
// BpfspecInputError with the right code (never another exception, never a crash of this process).
import test from 'ava';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { projectRoot } from '../_shared.js';
import { requiresSerial } from '../_skip.js';
import { findCompiler } from '../../oracle/build.js';
import { platform } from 'node:os';
import * as api from '../../api/index.js';
import * as arb from '../../api/arbitraries.js';
import * as fz from '../../api/fuzz.js';
import { BpfspecInputError, type BpfspecErrorCode } from '../../api/errors.js';
import { DEFAULT_HEAD_CAPACITY } from '../../model/ebpf/skbmem.js';
import type { Judge, JudgeAnswer, JudgeCase, SkbInput } from '../../model/judge.js';

const ex = (f: string): Buffer => readFileSync(resolve(projectRoot, 'examples', f));
const dd = ex('tcp-port-80.dd');
const prog = api.parseProgram(dd).prog;
const capture = api.readCapture(ex('http.pcap'));
const scratch = mkdtempSync(join(tmpdir(), 'bpfspec-api-'));

/** The code of the BpfspecInputError fn throws (fails the test on any other outcome). */
function codeOf(fn: () => unknown): BpfspecErrorCode | 'no error' | string {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return e instanceof BpfspecInputError ? e.code : `other: ${String(e)}`;
  }
}

test('programs: every format parses and prints back; parse errors name the line and column', (t) => {
  for (const f of api.FORMAT_NAMES) {
    const out = api.printProgram(prog, f);
    if (f === 'tcpdump-d') continue; // lossy for fields bpf_image does not show (checkExpressible says)
    t.deepEqual(api.parseProgram(out, { format: f }).prog, prog, f);
  }
  t.is(api.detectFormat(dd), 'tcpdump-dd');
  t.deepEqual(api.decodeProgram(api.encodeProgram(prog, 'big'), 'big'), prog);
  const e = t.throws(() => api.parseProgram('ld [12]\nldz #1\nret a\n', { format: 'bpf_asm' }), { instanceOf: BpfspecInputError });
  t.is(e.code, 'parse-error');
  t.is(e.details.line, 2);
  t.is(typeof e.details.column, 'number');
  t.is(codeOf(() => api.decodeProgram(new Uint8Array(9))), 'parse-error');
  t.is(codeOf(() => api.parseProgram(dd, { format: '__proto__' as api.FormatName })), 'unknown-name');
  t.is(codeOf(() => api.printProgram([{ code: 0x10000, jt: 0, jf: 0, k: 0 }], 'json')), 'invalid-argument');
  // k as a negative s32 is normalised: SKF_AD_OFF + SKF_AD_PROTOCOL
  t.is(api.parseProgram(api.printProgram([{ code: 0x28, jt: 0, jf: 0, k: -4096 }, { code: 0x16, jt: 0, jf: 0, k: 0 }], 'json')).prog[0]!.k, 0xfffff000);
});

test('the attach path: check, attach, migration, disassembly', (t) => {
  t.is(api.bpfCheckFilter(prog), null);
  t.is(api.bpfCheckFilter([])!.rule, 'len-zero');
  t.is(api.bpfCheckFilter(null)!.rule, 'filter-null');
  t.is(codeOf(() => api.bpfCheckClassic([])), 'invalid-argument');
  t.is(api.bpfCheckClassic([{ code: 0x06, jt: 0, jf: 0, k: 0 }, { code: 0x00, jt: 0, jf: 0, k: 5 }])!.rule, 'last-not-ret');
  t.is(api.bpfCheckClassic([{ code: 0x06, jt: 0, jf: 0, k: 0 }, { code: 0x05, jt: 0, jf: 0, k: 5 }])!.rule, 'ja-out-of-range');
  const a = api.skAttachFilter(prog);
  t.false(api.isRejection(a));
  const small = api.skAttachFilter(prog, api.kernelConfig({ optmemMax: 512 }));
  t.true(api.isRejection(small));
  t.is((small as api.Rejection).rule, 'optmem-exceeded');
  const m = api.migrate(prog);
  t.is(m.steps.length, prog.length);
  t.is(m.prologue.length + m.steps.reduce((n, s) => n + s.ebpf.length, 0), m.insns.length);
  t.is(m.interpreter, '__bpf_prog_run32');
  t.regex(m.steps[0]!.text, /^\(000\) ldh\s+\[12\]/);
  const lines = api.disassemble(m.insns);
  t.is(lines.length, m.insns.length);
  t.true(lines.some((l) => /call bpf_skb_load_helper_16#2/.test(l)));
  const conv = api.bpfConvertFilter(prog);
  t.false(api.isRejection(conv));
  t.is(codeOf(() => api.disassemble([{ code: 1, dst: 99, src: 0, off: 0, imm: 0 }])), 'invalid-argument');
});

test('running: both paths agree on the example capture, with traces and the socket disposition', (t) => {
  const results = capture.packets.map((p) => api.runFilter(prog, api.skbForPacket(p), { trace: true }));
  t.deepEqual(
    results.map((r) => [r.classic, r.kernel, r.agree]),
    [
      [0xffff, 0xffff, true],
      [0, 0, true],
      [0, 0, true],
      [0xffff, 0xffff, true],
      [0, 0, true],
    ],
  );
  t.deepEqual(results[0]!.delivery, { dropped: false, snaplen: 54 });
  const tr = results[0]!.kernelTrace!;
  t.true(tr.length > 0);
  t.is(api.ebpfRegister(tr[tr.length - 1]!, 0), 0xffffn);
  t.is(results[0]!.classicTrace![0]!.pc, 0);
  const f = api.loadFilter(prog);
  t.is(f.kernel(api.skbForPacket(capture.packets[3]!)), 0xffff);
  t.is(f.classic(api.skbForPacket(capture.packets[1]!)), 0);
  const rejected = api.loadFilter([{ code: 0x06, jt: 0, jf: 0, k: 0 }, { code: 0x05, jt: 0, jf: 0, k: 9 }]);
  t.is(rejected.check!.rule, 'ja-out-of-range');
  t.is(codeOf(() => rejected.kernel(api.afUnixSkb(new Uint8Array(4)))), 'program-rejected');
  const r = rejected.run(api.afUnixSkb(new Uint8Array(4)));
  t.deepEqual([r.classic, r.kernel, r.delivery], [null, null, null]);
  t.deepEqual(api.packetRcv(0xffff, 60), { dropped: false, snaplen: 60 });
  t.deepEqual(api.skFilterTrimCap(0, 60), { dropped: true, snaplen: 0 });
});

test('skbs: presets, field checks, the kernel path model limit', (t) => {
  const eth = api.makeSkb('ethernet', capture.packets[0]!.data, { mark: 5, headlen: 20 });
  t.is(eth.networkHeader, 14);
  t.is(eth.mark, 5);
  t.is(eth.headlen, 20);
  t.is(codeOf(() => api.makeSkb('toString' as api.PresetName, new Uint8Array(1))), 'unknown-name');
  t.is(codeOf(() => api.afUnixSkb(new Uint8Array(4), { headlen: 5 })), 'invalid-argument');
  t.is(codeOf(() => api.afUnixSkb(new Uint8Array(4), { colour: 1 } as never)), 'invalid-argument');
  t.is(codeOf(() => api.afUnixSkb([1, 2] as never)), 'invalid-argument');
  t.is(codeOf(() => api.ethernetSkb(new Uint8Array(20), { dev: { ifindex: 1, type: 70000 } })), 'invalid-argument');
  const big = api.afUnixSkb(new Uint8Array(DEFAULT_HEAD_CAPACITY + 1));
  t.is(api.runFilter(prog, big, { path: 'classic' }).classic, 0);
  t.is(codeOf(() => api.runFilter(prog, big)), 'model-limit');
  // the same bytes fit when the tail is in frags
  t.is(api.runFilter(prog, api.afUnixSkb(new Uint8Array(DEFAULT_HEAD_CAPACITY + 1), { headlen: 100 })).kernel, 0);
  t.deepEqual(api.parseHexPacket('0x45:00 00-54'), Uint8Array.of(0x45, 0, 0, 0x54));
  t.is(codeOf(() => api.parseHexPacket('4')), 'parse-error');
  t.is(codeOf(() => api.readCapture(new Uint8Array(40))), 'bad-capture');
  t.is(api.readCapture(ex('http.pcapng')).packets.length, capture.packets.length);
});

test('kernel configurations and variants: names are looked up in tables, fields checked', (t) => {
  t.deepEqual(api.kernelConfig(), api.DEFAULT_CONFIG);
  t.is(api.kernelConfig({ arch: 'riscv64' }).netIpAlign, 2);
  t.is(api.kernelConfig().profile, api.DEFAULT_PROFILE);
  t.is(api.kernelConfig({ profile: 'v6.18' }).optmemMax, 131072);
  t.is(api.kernelConfig({ profile: 'v6.6.0', arch: 'arm64', optmemMax: 4096 }).netIpAlign, 2);
  t.deepEqual([...api.KERNEL_PROFILES], ['v6.6.0', 'v6.6.y', 'v6.18']);
  for (const profile of ['live', '__proto__', 'v6.7']) t.is(codeOf(() => api.kernelConfig({ profile })), 'unknown-name', profile);
  t.is(api.kernelConfig({ variant: 'neg-offset-linear-only' }).variant, 'neg-offset-linear-only');
  t.is(codeOf(() => api.bpfCheckFilter(prog, { ...api.DEFAULT_CONFIG, devNull: 'returnB' } as never)), 'unknown-name');
  t.is(codeOf(() => api.bpfCheckFilter(prog, { ...api.DEFAULT_CONFIG, arch: 'mips' } as never)), 'unknown-name');
  t.is(codeOf(() => api.bpfCheckFilter(prog, { ...api.DEFAULT_CONFIG, x86Jit: {} } as never)), 'invalid-argument');
  t.is(codeOf(() => api.bpfCheckFilter(prog, { ...api.DEFAULT_CONFIG, x86Jit: { ...api.DEFAULT_CONFIG.x86Jit, shortJumpMax: -1 } } as never)), 'invalid-argument');
  t.is(api.bpfCheckFilter(prog, { ...api.DEFAULT_CONFIG, x86Jit: null }), null);
  for (const name of api.KERNEL_PROFILES) t.is(api.bpfCheckFilter(prog, api.kernelConfig({ profile: name })), null);
  for (const arch of ['__proto__', 'toString', 'hasOwnProperty', 'constructor']) t.is(codeOf(() => api.kernelConfig({ arch })), 'unknown-name', arch);
  t.is(codeOf(() => api.kernelConfig({ optmemMax: -1 })), 'invalid-argument');
  t.is(codeOf(() => api.kernelConfig({ loadHelpers: 'v7' as never })), 'unknown-name');
  t.is(codeOf(() => api.kernelConfig({ speed: 'fast' } as never)), 'invalid-argument');
  t.is(codeOf(() => api.variantConfig(api.X86_64, '__proto__' as never)), 'unknown-name');
  t.is(codeOf(() => api.bpfCheckFilter(prog, { ...api.X86_64, optmemMax: '1' } as never)), 'invalid-argument');
  t.is(codeOf(() => api.bpfCheckFilter(prog, { ...api.X86_64, extra: 1 } as never)), 'invalid-argument');
  t.is(codeOf(() => api.bpfCheckFilter(prog, { ...api.X86_64, variant: 'nope' } as never)), 'unknown-name');
  for (const name of api.ARCH_NAMES) t.is(api.bpfCheckFilter(prog, api.kernelConfig({ arch: name })), null);
  for (const v of api.VARIANT_NAMES) t.is(codeOf(() => api.bpfCheckFilter(prog, api.kernelConfig({ variant: v }))), 'no error', v);
});

// The configuration a corpus entry records, as fuzz/corpus.ts reads it: v6.6.0 on its architecture, its optmem_max and load helpers.
const entryConfig = (e: fz.CorpusEntry): api.KernelConfig =>
  api.kernelConfig({ profile: 'v6.6.0', arch: e.config.arch, optmemMax: e.config.optmem_max, loadHelpers: e.config.load_helpers });

test('the divergence catalogue predicts its own examples', (t) => {
  for (const d of api.RUNTIME_DIVERGENCES) {
    const e = fz.readEntry(resolve(projectRoot, 'corpus', d.example));
    const { prog: p, inputs, config } = {
      prog: api.decodeProgram(Uint8Array.from(Buffer.from(e.program.hex, 'hex'))),
      inputs: e.inputs.map((i) => fz.skbFromJson(Uint8Array.from(Buffer.from(i.packet, 'hex')), i.skb)),
      config: entryConfig(e),
    };
    const shown = inputs.map((i, n) => {
      const pr = api.predictRun(p, i.skb, { env: i.env, config });
      t.is(pr.kernel, e.expect.results[n]!.kernel as number, `${d.id} input ${n}`);
      t.is(pr.classic, e.expect.results[n]!.classic as number, `${d.id} input ${n}`);
      return pr.divergences.some((x) => x.id === d.id) && pr.classic !== pr.kernel;
    });
    t.true(shown.some(Boolean), d.id);
  }
  for (const d of api.ATTACH_DIVERGENCES) {
    const e = fz.readEntry(resolve(projectRoot, 'corpus', d.example));
    const p = api.decodeProgram(Uint8Array.from(Buffer.from(e.program.hex, 'hex')));
    t.is(api.predictAttach(p, entryConfig(e))?.divergence.id, d.id);
  }
  t.is(api.predictAttach(prog), null);
  t.is(codeOf(() => api.predictAttach([{ code: 0x06, jt: 0, jf: 0, k: 0 }, { code: 0x05, jt: 0, jf: 0, k: 9 }])), 'program-rejected');
});

// Every synchronous function of the three entry points, called with values of any shape: it answers,
// or it throws a BpfspecInputError; nothing else (no TypeError from inside the model, no hang).
// (writeEntry, which writes files, and the campaigns and openLiveKernel, which are asynchronous, are tested apart.)
const SKIP = new Set(['BpfspecInputError', 'writeEntry', 'runCampaign', 'runJudgeCampaign', 'openLiveKernel']);
const FUNCTIONS = ([...Object.entries(api), ...Object.entries(arb), ...Object.entries(fz)] as [string, unknown][]).filter(
  (e): e is [string, (...a: unknown[]) => unknown] => typeof e[1] === 'function' && !SKIP.has(e[0]),
);

const nearValid = fc.oneof(
  fc.anything({ maxDepth: 2 }),
  fc.constantFrom<unknown>(prog, capture.packets[0], api.afUnixSkb(new Uint8Array(8)), api.X86_64, 'raw', 'json', 'af_unix', '__proto__', new Uint8Array(3), -1, 2 ** 40, null, undefined, {}),
  fc.array(fc.record({ code: fc.integer({ min: -2, max: 0x10001 }), jt: fc.nat(300), jf: fc.nat(300), k: fc.oneof(fc.integer(), fc.double()) }), { maxLength: 5 }),
  fc.record(
    {
      config: fc.constantFrom<unknown>(api.X86_64, { arch: 'x86_64' }, null),
      env: fc.anything({ maxDepth: 1 }),
      path: fc.string(),
      trace: fc.anything({ maxDepth: 0 }),
      weights: fc.dictionary(fc.constantFrom('short', 'long', 'nope', '__proto__'), fc.integer({ min: -1, max: 3 })),
      kinds: fc.array(fc.constantFrom('raw', 'ipv4', 'x')),
      judges: fc.array(fc.constantFrom('classic', 'compiled', 'x')),
    },
    { requiredKeys: [] },
  ),
);

test('bad input of any shape to any function of the API: a BpfspecInputError or an answer', (t) => {
  t.true(FUNCTIONS.length > 60, String(FUNCTIONS.length));
  const others: string[] = [];
  fc.assert(
    fc.property(fc.nat(FUNCTIONS.length - 1), fc.array(nearValid, { maxLength: 4 }), (i, args) => {
      const [name, fn] = FUNCTIONS[i]!;
      try {
        const r = fn(...args);
        if (r !== null && typeof r === 'object' && 'run' in r && typeof (r as api.Filter).run === 'function') (r as api.Filter).run(args[1] as api.SkBuff);
        if (r !== null && typeof r === 'object' && 'check' in r && typeof (r as fz.CaseChecker).check === 'function') (r as fz.CaseChecker).check(args[1] as fz.CheckableCase);
        if (r !== null && typeof r === 'object' && 'generate' in r) fc.sample(r as fc.Arbitrary<unknown>, { numRuns: 2, seed: i });
      } catch (e) {
        if (!(e instanceof BpfspecInputError)) others.push(`${name}(${args.map((a) => typeof a).join(', ')}): ${String(e)}`);
      }
    }),
    { numRuns: 5000, seed: 12 },
  );
  t.deepEqual(others.slice(0, 5), []);
});

test('arbitraries: options are validated; what they draw is what they promise', (t) => {
  t.is(codeOf(() => arb.validProgram({ weights: Object.fromEntries(arb.FLAVOURS.map((f) => [f, 0])) })), 'invalid-argument');
  t.is(codeOf(() => arb.validProgram({ weights: { tiny: 1 } as never })), 'unknown-name');
  t.is(codeOf(() => arb.invalidProgram({ rules: [] })), 'invalid-argument');
  t.is(codeOf(() => arb.invalidProgram({ rules: ['no-such-rule' as never] })), 'unknown-name');
  t.is(codeOf(() => arb.packet({ kinds: ['eth-ipv5' as never] })), 'unknown-name');
  t.is(codeOf(() => arb.packet({ fragWeight: 17 })), 'invalid-argument');
  t.is(codeOf(() => arb.fuzzCase({ packetsPerProgram: 0 })), 'invalid-argument');
  t.is(codeOf(() => arb.fuzzCase({ program: [] as never })), 'invalid-argument');
  t.is(codeOf(() => arb.packetFor([{ code: 0x06, jt: 0, jf: 0, k: 0.5 }])), 'invalid-argument');
  fc.assert(fc.property(arb.validProgram({ weights: { long: 0, limits: 0, jit: 0 } }), (p) => api.bpfCheckFilter(p) === null), { numRuns: 300, seed: 3 });
  fc.assert(fc.property(arb.invalidProgram(), (c) => api.skAttachFilter(c.prog) !== null && (api.skAttachFilter(c.prog) as api.Rejection).rule === c.targets), { numRuns: 200, seed: 3 });
  fc.assert(fc.property(arb.packet({ kinds: ['eth-vlan'], fragWeight: 0 }), (p) => p.kind === 'eth-vlan' && p.headlen === p.bytes.length && p.preset === 'ethernet'), { numRuns: 100, seed: 3 });
  fc.assert(fc.property(arb.skbCase(), (c) => api.runFilter(prog, c.skb, { env: c.env }).agree === true), { numRuns: 200, seed: 3 });
  t.deepEqual([...arb.FLAVOURS].sort(), ['jit', 'limits', 'long', 'medium', 'realistic', 'short']);
  t.true(arb.TEMPLATE_NAMES.length > 5);
});

test('fuzz: a campaign with the compiled judges, the same seed giving the same counts; replaying a case', async (t) => {
  const a = await fz.runCampaign({ runs: 512, seed: 5, judges: ['compiled'], workers: 2 });
  const b = await fz.runCampaign({ runs: 512, seed: 5, workers: 1 });
  t.is(a.findings.length, 0);
  t.is(a.stats.programs + a.stats.invalid, 512);
  t.deepEqual([a.stats.programs, a.stats.pairs, a.stats.divergences], [b.stats.programs, b.stats.pairs, b.stats.divergences]);
  t.is(fz.replayCampaignCase(5, '3', {}), null);
  // a historical bug is found, written to the corpus and replayed
  const dir = join(scratch, 'findings');
  const v = await fz.runCampaign({ runs: 256, seed: 1, config: api.kernelConfig({ variant: 'div-x-no-zero-guard' }), corpus: dir });
  t.true(v.findings.length > 0);
  t.is(v.written.length, v.findings.length);
  const e = fz.readEntry(v.written[0]!);
  t.is(e.kind, 'finding');
  t.deepEqual(fz.replayEntry(e), []);
  const f = v.findings[0]!;
  t.not(fz.replayCampaignCase(f.seed, f.path, { config: api.kernelConfig({ variant: 'div-x-no-zero-guard' }) }), null);
  // maxFindings: the campaign stops at the first signature, short of its runs
  const m = await fz.runCampaign({ runs: 1 << 20, seed: 1, workers: 2, config: api.kernelConfig({ variant: 'div-x-no-zero-guard' }), maxFindings: 1 });
  t.true(m.maxFindingsReached);
  t.is(m.signatures.length, 1);
  t.true(m.stats.programs + m.stats.invalid < 1 << 20);
  const u = await fz.runCampaign({ runs: 256, seed: 1, config: api.kernelConfig({ variant: 'div-x-no-zero-guard' }) });
  t.false(u.maxFindingsReached);
});

test('fuzz: bad options are rejected before anything starts; a throwing callback rejects the promise; abort stops', async (t) => {
  for (const [opts, code] of [
    [{}, 'invalid-argument'],
    [{ runs: 10, timeMs: 10 }, 'invalid-argument'],
    [{ runs: 0 }, 'invalid-argument'],
    [{ runs: 10, judges: ['libpcap'] }, 'unknown-name'],
    [{ runs: 10, workers: 0 }, 'invalid-argument'],
    [{ runs: 10, maxFindings: 0 }, 'invalid-argument'],
    [{ runs: 10, shard: { index: 2, count: 2 } }, 'invalid-argument'],
    [{ runs: 10, onProgress: 'x' }, 'invalid-argument'],
    [{ runs: 10, corpus: join(projectRoot, 'package.json') }, 'invalid-argument'],
  ] as const) {
    const e = await t.throwsAsync(fz.runCampaign(opts as never), { instanceOf: BpfspecInputError });
    t.is(e?.code, code, JSON.stringify(opts));
  }
  await t.throwsAsync(
    fz.runCampaign({
      runs: 2048,
      seed: 1,
      onProgress: () => {
        throw new Error('from the callback');
      },
    }),
    { message: 'from the callback' },
  );
  const ac = new AbortController();
  const run = fz.runCampaign({ timeMs: 60000, seed: 1, signal: ac.signal, onProgress: () => ac.abort() });
  const s = await run;
  t.true(s.interrupted);
  t.true(s.elapsedMs < 30000);
});

// A judge of one's own, with a planted bug: `jgt` taken as `jge`. The campaign must report it.
function toyJudge(planted: boolean): Judge<SkbInput> {
  return {
    name: planted ? 'toy-jge' : 'toy',
    supports: (p) => (p.some((i) => i.code === 0x25 || i.code === 0x2d) ? null : 'no jgt'),
    judge: async (cases: readonly JudgeCase<SkbInput>[]) =>
      cases.map((c): JudgeAnswer => {
        const patched = planted ? c.prog.map((i) => (i.code === 0x25 ? { ...i, code: 0x35 } : i.code === 0x2d ? { ...i, code: 0x3d } : i)) : c.prog;
        const f = api.loadFilter(patched);
        if (f.check !== null) return { verdict: { accepted: false, errno: f.check.errno, message: f.check.rule }, results: [] };
        return { verdict: { accepted: true }, results: c.inputs.map((i) => ({ known: 'exact', value: f.classic(i.skb, i.env) })) };
      }),
    close: async () => {},
  };
}

test('fuzz: campaigns against judges of one\'s own find a planted bug; malformed answers are typed errors', async (t) => {
  const clean = await fz.runJudgeCampaign({ runs: 256, seed: 2, judges: [{ judge: toyJudge(false), against: 'classic' }] });
  t.is(clean.findings.length, 0);
  t.true(clean.stats.judges.toy!.pairs > 0);
  const buggy = await fz.runJudgeCampaign({ runs: 256, seed: 2, judges: [{ judge: toyJudge(true), against: 'classic' }] });
  t.true(buggy.findings.length > 0);
  const f = buggy.findings[0]!;
  t.is(f.kind, 'judge');
  if (f.kind === 'judge') t.true(f.mismatch.prog.length <= 12 && f.mismatch.prog.some((i) => i.code === 0x25 || i.code === 0x2d), JSON.stringify(f.mismatch.prog));
  const bad: Judge<SkbInput> = { ...toyJudge(false), name: 'bad', judge: async () => [{ verdict: { accepted: 'yes' } }] as never };
  const e = await t.throwsAsync(fz.runJudgeCampaign({ runs: 10, seed: 1, judges: [{ judge: bad, against: 'kernel' }] }), { instanceOf: BpfspecInputError });
  t.regex(e!.message, /judge 'bad'/);
  t.is(
    await fz.runJudgeCampaign({ runs: 10, judges: [{ judge: toyJudge(false), against: 'classic' }, { judge: toyJudge(false), against: 'kernel' }] }).then(
      () => 'no error',
      (x: unknown) => (x instanceof BpfspecInputError ? x.code : String(x)),
    ),
    'invalid-argument',
  );
});

test('the corpus: read, make, write, replay; corrupt entries are typed errors', (t) => {
  const report = fz.replayCorpus([resolve(projectRoot, 'corpus/divergences'), resolve(projectRoot, 'corpus/historical')]);
  t.is(report.passed, report.files);
  t.true(report.files >= 19);
  const skb = api.skbForPacket(capture.packets[0]!);
  const e = fz.makeEntry({ kind: 'real-filter', title: 'tcp port 80', prog, inputs: [{ skb, env: api.DEFAULT_ENV }] });
  t.deepEqual(e.expect.results, [{ classic: 0xffff, kernel: 0xffff }]);
  const dir = join(scratch, 'corpus');
  const w = fz.writeEntry(dir, e);
  t.true(w.created);
  t.false(fz.writeEntry(dir, e).created);
  t.is(w.path, join(dir, `${fz.entryHash(e)}.json`));
  t.deepEqual(fz.readEntry(w.path), e);
  t.deepEqual(fz.listEntries([dir]), [w.path]);
  const back = fz.skbFromJson(skb.data, fz.skbToJson(skb));
  t.deepEqual(back.skb, skb);
  t.is(codeOf(() => fz.readEntry(join(dir, 'nope.json'))), 'not-found');
  const bad = join(scratch, 'bad.json');
  writeFileSync(bad, '{"schema": "bpfspec-corpus-1"}');
  t.is(codeOf(() => fz.readEntry(bad)), 'bad-corpus-entry');
  writeFileSync(bad, '[[[[');
  t.is(codeOf(() => fz.readEntry(bad)), 'bad-corpus-entry');
  t.is(codeOf(() => fz.replayEntry({ ...e, program: { hex: 'zz' } })), 'bad-corpus-entry');
  t.is(codeOf(() => fz.replayEntry({ ...e, config: { ...e.config, arch: '__proto__' } })), 'bad-corpus-entry');
  t.is(codeOf(() => fz.replayEntry({ ...e, inputs: [{ packet: '00', skb: { preset: '__proto__' } }] })), 'bad-corpus-entry');
  t.is(codeOf(() => fz.writeEntry(bad, e)), 'invalid-argument');
  t.is(codeOf(() => fz.makeEntry({ kind: 'nope' as never, title: 't', prog, inputs: [] })), 'unknown-name');
  t.is(codeOf(() => fz.skbFromJson(new Uint8Array(1), { preset: '__proto__' })), 'invalid-argument');
  t.is(codeOf(() => fz.listEntries([join(scratch, 'missing')])), 'not-found');
  const mixed = fz.replayCorpus([dir, bad]);
  t.deepEqual([mixed.files, mixed.passed, mixed.invalid.length], [2, 1, 1]);
  t.is(fz.SHIPPED_CORPUS, resolve(projectRoot, 'corpus'));
  t.is(fz.VERSION, (JSON.parse(readFileSync(resolve(projectRoot, 'package.json'), 'utf8')) as { version: string }).version);
});

test('fuzz: the properties on one case, with a checker reused', (t) => {
  const c = fz.createChecker({ judges: ['compiled-classic'] });
  const skb = api.skbForPacket(capture.packets[0]!);
  t.is(c.check({ valid: { prog, inputs: [{ skb, env: api.DEFAULT_ENV }] } }), null);
  t.is(c.check({ invalid: { prog: [{ code: 0x06, jt: 0, jf: 0, k: 0 }, { code: 0x00, jt: 0, jf: 0, k: 9 }], targets: 'last-not-ret', stage: 'check', pc: null, how: '' } }), null);
  t.is(c.stats.programs, 1);
  t.is(c.stats.invalid, 1);
  const f = fz.checkCase({ invalid: { prog, targets: 'last-not-ret', stage: 'check', pc: null, how: 'not really' } });
  t.is(f?.property, 'invalid-rejected');
  t.is(codeOf(() => c.check({ valid: { prog, inputs: [{ skb: {} as never, env: api.DEFAULT_ENV }] } })), 'invalid-argument');
  t.is(codeOf(() => c.check({} as never)), 'invalid-argument');
});

const liveMissing = platform() !== 'linux' ? 'Linux (a live kernel to attach filters to)' : findCompiler() === null ? 'a C compiler (cc, gcc or clang; Debian: gcc)' : null;

requiresSerial(liveMissing, 'fuzz: the live kernel as a judge of a campaign (what bpfspec kdiff runs)', async (t) => {
  t.is(await fz.openLiveKernel({ cpu: 1e6 }).then(() => 'no error', (e: unknown) => (e instanceof BpfspecInputError ? e.code : String(e))), 'invalid-argument');
  const live = await fz.openLiveKernel();
  try {
    t.is(typeof live.kernel.release, 'string');
    const s = await fz.runJudgeCampaign({ runs: 128, seed: 4, config: live.config, judges: [{ judge: live.judge, against: 'kernel' }] });
    t.deepEqual(s.findings, []);
    t.true(s.stats.judges.live!.pairs > 0);
  } finally {
    await live.judge.close();
  }
});
