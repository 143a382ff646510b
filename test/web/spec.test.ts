// The page's door into the model (web/app/spec.ts), run in Node: the same results as `bpfspec run`,
// lockstep rows that cover both traces in order, where the runs part on every divergence entry, and
// the stack read back from the model's memory.
import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runPackets } from '../../cli/commands/run.js';
import { verdictText } from '../../cli/commands/check.js';
import { X86_64 } from '../../model/config.js';
import { PROFILES } from '../../model/kernel.js';
import { bpfMigrateFilter } from '../../model/migrate/convert.js';
import { DIVERGENCES } from '../../fuzz/divergences.js';
import { analyse, kernelConfig, lockstep, packetsFromCapture, packetsFromHex, packetSkb, parseProgramText, Runner, stackBefore, type Lockstep } from '../../web/app/spec.js';
import { projectRoot } from '../_shared.js';

const prog = (text: string) => {
  const p = parseProgramText(text, null);
  if (!p.ok) throw new Error(p.message);
  return p.prog;
};

function assertRowsCover(t: import('ava').ExecutionContext, l: Lockstep, what: string): void {
  const cs = l.rows.map((r) => r.c).filter((c) => c >= 0);
  const es = l.rows.map((r) => r.e).filter((e) => e >= 0);
  t.deepEqual([...new Set(cs)], l.classicTrace.map((_, i) => i), `${what}: every classic step, in order`);
  t.deepEqual(es, l.ebpfTrace.map((_, i) => i), `${what}: every eBPF step once, in order`);
  for (let i = 1; i < l.rows.length; i++) t.true(l.rows[i]!.tick >= l.rows[i - 1]!.tick);
}

test('spec: the page gives what bpfspec run gives, packet by packet', (t) => {
  const p = prog(readFileSync(join(projectRoot, 'examples', 'tcp-port-80.dd'), 'utf8'));
  for (const cap of ['http.pcap', 'http.pcapng']) {
    const pk = packetsFromCapture(readFileSync(join(projectRoot, 'examples', cap)), cap);
    if (!pk.ok) return t.fail(pk.message);
    const a = analyse(p, X86_64);
    t.is(a.check.text, verdictText(p, null));
    const runner = new Runner(a);
    const mine = pk.packets.map((x) => {
      const b = packetSkb(x, {});
      if (!b.ok) throw new Error(b.message);
      const r = runner.run(b.skb, b.env);
      return [r.len, r.classic, r.kernel];
    });
    const cli = runPackets(p, pk.packets.map((x, i) => ({ data: x.data, label: String(i), preset: String(x.skb.preset) })), { config: X86_64, skb: {}, trace: false, path: 'both' });
    t.deepEqual(mine, cli.results.map((r) => [r.len, r.classic, r.kernel]), cap);
  }
});

test('spec: on every divergence entry the runs part, and the catalogue names the entry and predicts the kernel path', (t) => {
  const dir = join(projectRoot, 'corpus', 'divergences');
  let runtime = 0;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    const e = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
      divergence: string;
      program: { hex: string };
      config: { arch: string; optmem_max: number; load_helpers: 'v6.6.0' | 'backport' };
      inputs: { packet: string; skb: Record<string, unknown> }[];
      expect: { results: { classic: number; kernel: number }[] };
    };
    const cfg = kernelConfig({ arch: e.config.arch, optmemMax: e.config.optmem_max, loadHelpers: e.config.load_helpers, variant: null });
    if (typeof cfg === 'string') return t.fail(cfg);
    const p = parseProgramText(e.program.hex, 'hex');
    if (!p.ok) return t.fail(p.message);
    const a = analyse(p.prog, cfg);
    const d = DIVERGENCES.find((x) => x.id === e.divergence)!;
    if (d.kind === 'attach') {
      t.true(a.check.accepted, f);
      t.false(a.attach.accepted, f);
      t.is(a.attachDivergence?.id, e.divergence, f);
      continue;
    }
    e.inputs.forEach((inp, i) => {
      const pk = packetsFromHex(inp.packet);
      if (!pk.ok) return t.fail(pk.message);
      const b = packetSkb({ data: pk.packets[0]?.data ?? new Uint8Array(0), label: f, skb: inp.skb }, {});
      if (!b.ok) return t.fail(b.message);
      const l = lockstep(a, b.skb, b.env);
      assertRowsCover(t, l, `${f} input ${i + 1}`);
      t.is(l.run.classic, e.expect.results[i]!.classic);
      t.is(l.run.kernel, e.expect.results[i]!.kernel);
      if (l.run.classic !== l.run.kernel) {
        runtime++;
        t.not(l.parting, null, `${f} input ${i + 1}: the runs part`);
        t.true(l.run.divergences.some((x) => x.id === e.divergence), `${f}: ${e.divergence} fired`);
        t.is(l.run.predicted, l.run.kernel, `${f}: the catalogue predicts the kernel path`);
      }
    });
  }
  t.true(runtime >= 5);
});

test('spec: programs that agree never part; the stack the page shows is the model memory, step by step', (t) => {
  const p = prog('ld #0x11223344\nst M[2]\nldx #7\nstx M[5]\nld M[2]\nret a\n');
  const a = analyse(p, X86_64);
  t.true(a.attach.accepted);
  const b = packetSkb({ data: new Uint8Array([1, 2, 3]), label: 'p', skb: {} }, {});
  if (!b.ok) return t.fail(b.message);
  const l = lockstep(a, b.skb, b.env);
  assertRowsCover(t, l, 'M program');
  t.is(l.parting, null);
  t.is(l.run.kernel, 0x11223344);
  for (let s = 0; s < l.ebpfTrace.length; s++) t.deepEqual(stackBefore(a, b.skb, b.env, s)!.regs, l.ebpfTrace[s]!.regs, `registers at step ${s}`);
  const end = stackBefore(a, b.skb, b.env, l.ebpfTrace.length)!.bytes;
  const fp = end.length;
  const word = (off: number): number => new DataView(end.buffer, end.byteOffset).getUint32(fp + off, true);
  t.is(word(-(4 * 2 + 4)), 0x11223344, 'M[2] at FP - 12');
  t.is(word(-(4 * 5 + 4)), 7, 'M[5] at FP - 24');
  const first = stackBefore(a, b.skb, b.env, 0)!.bytes;
  t.true(first.every((x) => x === 0xcc), 'nothing written yet: the model poison');
});

test('spec: bad inputs come back as messages, never exceptions', (t) => {
  t.false(parseProgramText('', null).ok);
  t.false(parseProgramText('ld [', 'bpf_asm').ok);
  const bad = packetsFromHex('zz');
  t.false(bad.ok);
  t.false(packetsFromCapture(new Uint8Array([1, 2, 3]), 'x.pcap').ok);
  t.regex(String(kernelConfig({ arch: '__proto__', optmemMax: 1, loadHelpers: 'v6.6.0', variant: null })), /unknown architecture/);
  t.regex(String(kernelConfig({ arch: 'x86_64', optmemMax: -1, loadHelpers: 'v6.6.0', variant: null })), /optmem_max/);
  t.regex(String(kernelConfig({ arch: 'x86_64', optmemMax: 1, loadHelpers: 'v6.6.0', variant: 'nope' as never })), /unknown variant/);
  const skb = packetSkb({ data: new Uint8Array(4), label: 'p', skb: {} }, { mark: -1 });
  t.false(skb.ok);
  t.regex(skb.ok ? '' : skb.message, /^p: skb field mark/);
  t.false(packetSkb({ data: new Uint8Array(4), label: 'p', skb: {} }, { constructor: 1 }).ok);
});

test('spec: the attach verdict shows the x86-64 JIT where the profile models it, as bpf_migrate_filter ran it', (t) => {
  const p = prog('ldh [12]\njeq #0x800, ok, drop\nok: ret #262144\ndrop: ret #0\n');
  for (const [name, config] of PROFILES) {
    const a = analyse(p, config);
    t.true(a.attach.accepted, name);
    const m = bpfMigrateFilter(p, config);
    if (!('ok' in m)) return t.fail(`${name}: ${m.rule}`);
    if (config.x86Jit === null || !config.jitRequested || !config.jitAvailable) {
      t.is(a.runtime?.jit === null, m.jit === null, name);
      continue;
    }
    const jit = a.runtime?.jit;
    if (!jit || m.jit === null || !m.jit.jited) return t.fail(`${name}: no JIT shown`);
    t.true(jit.jited, name);
    // the passes the model ran, the last one emitting the image whose length the view gives
    t.is(jit.passes, m.jit.passes.length, name);
    t.true(jit.passes >= 2, name);
    t.is(jit.proglen, m.jit.passes[m.jit.passes.length - 1]!.proglen, name);
    t.is(jit.lengths.length, m.converted.insns.length, `${name}: a length per eBPF insn`);
    t.is(jit.blindedLen, null, `${name}: no blinding by default`);
  }
  // under bpf_jit_harden 2 the JIT compiles the blinded clone: the immediates of the program become
  // two instructions more each, and the page says so
  const hardened = { ...PROFILES.get('v6.18')!, bpfJitHarden: 2 };
  const h = analyse(p, hardened);
  const hm = bpfMigrateFilter(p, hardened);
  if (!('ok' in hm) || hm.blinded === null) return t.fail('no blinded clone');
  t.is(h.runtime?.jit?.blindedLen, hm.blinded.length);
  t.true(hm.blinded.length > hm.converted.insns.length);
});

test('spec: a program the x86-64 JIT refuses is refused by the attach verdict, with the catalogued divergence', (t) => {
  const e = JSON.parse(readFileSync(join(projectRoot, 'corpus', 'divergences', 'x86-jit-refused.json'), 'utf8')) as { program: { hex: string }; config: { kernel?: string } };
  const p = parseProgramText(e.program.hex, 'hex');
  if (!p.ok) return t.fail(p.message);
  const a = analyse(p.prog, PROFILES.get('v6.6.0')!);
  t.true(a.check.accepted);
  t.false(a.attach.accepted);
  t.true((a.attach.rule ?? '').startsWith('jit-'), String(a.attach.rule));
  t.is(a.attachDivergence?.id, 'x86-jit-refused');
});
