// Corpus entries record the kernel record their verdicts depend on (#14): bpf_jit_harden, the
// caller's bpf_capable(), sizeof(struct bpf_prog), the JIT's settings and the x86-64 JIT's facts;
// replay uses them, an entry written before keeps replaying as it did (and takes what a kdiff
// recorded in origin.kernel), a replay on a kernel with another bpf_jit_harden says so, and bad
// values are one `bpfspec:` line, exit 2.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { CorpusError, entryHash, hardenNote, listEntries, makeEntry, readEntry, replayEntry, type CorpusEntry } from '../fuzz/corpus.js';
import { skAttachFilter } from '../model/attach.js';
import type { Program } from '../model/cbpf/insn.js';
import { PROFILE_V6_18, type KernelConfig } from '../model/kernel.js';
import { buildSkb } from '../fuzz/skbjson.js';
import { projectRoot } from './_shared.js';
import { cliPath, spawnCli } from './cli/_run.js';

const ld = (n: number): Program => [...Array.from({ length: n }, () => ({ code: 0x20, jt: 0, jf: 0, k: 1 })), { code: 0x16, jt: 0, jf: 0, k: 0 }];
const prog = ld(3);
const len = (c: KernelConfig): number => {
  const r = skAttachFilter(prog, { ...c, optmemMax: 2 ** 31 - 1 });
  if (!('ok' in r)) throw new Error(r.rule);
  return r.migrated.len;
};
// optmem_max with room for the program unblinded and not for its blinded clone (__sk_filter_charge)
const optmem = PROFILE_V6_18.bpfProgHeaderSize + 8 * len(PROFILE_V6_18) + 8;
const harden2: KernelConfig = { ...PROFILE_V6_18, profile: 'live', optmemMax: optmem, bpfJitHarden: 2 };
const input = buildSkb(Uint8Array.of(1, 2, 3, 4, 5, 6), {});
const entry = makeEntry({ kind: 'finding', title: 'blinded charge', prog, inputs: [input], config: harden2, origin: { bpfspec: 'test' } });

/** The entry as written before #14: arch, optmem_max and load helpers only. */
const oldStyle = (e: CorpusEntry): CorpusEntry => ({ ...e, config: { arch: e.config.arch, optmem_max: e.config.optmem_max, load_helpers: e.config.load_helpers } });

test('an entry records bpf_jit_harden and the rest of the record, and replays with them', (t) => {
  t.true(len(harden2) > len(PROFILE_V6_18), 'blinding lengthens the program');
  t.is(entry.expect.attach.errno, 12); // the blinded clone's charge
  t.like(entry.config, { profile: 'live', bpf_jit_harden: 2, bpf_capable: true, bpf_prog_header: 96, jit_needed: 'jit-requested', jit_always_on: true });
  t.like(entry.config.x86_jit, { short_jump_max: 123, bhb_barrier: true, ebpf_prologue_nop: 3, cap_sys_admin: true });
  t.deepEqual(replayEntry(entry), []);
  // unblinded (the record before #14 replays at the profile's 0) the charge fits: the field matters
  t.deepEqual(replayEntry(oldStyle(entry)), ['attach: recorded -ENOMEM charge/optmem-exceeded at pc null, now accepted', 'input 0: kernel recorded null, now 33752069']); // ld [1] of 01 02 03 04 05 06
  // and the same case at harden 0 is another entry (another file)
  const h0 = makeEntry({ kind: 'finding', title: 'unblinded', prog, inputs: [input], config: { ...harden2, bpfJitHarden: 0 }, origin: { bpfspec: 'test' } });
  t.is(h0.expect.attach.errno, 0);
  t.not(entryHash(h0), entryHash(entry));
  // x86_jit null: the JIT's acceptance not modelled, recorded and replayed as such
  const nojit = makeEntry({ kind: 'finding', title: 'no jit facts', prog, inputs: [input], config: { ...harden2, x86Jit: null }, origin: { bpfspec: 'test' } });
  t.is(nojit.config.x86_jit, null);
  t.deepEqual(replayEntry(nojit), []);
});

test('an entry written before keeps its name, and takes bpf_jit_harden and the header from a kdiff origin.kernel', (t) => {
  // shipped entries (all written before) are still named by their hash
  for (const f of listEntries([resolve(projectRoot, 'corpus')])) {
    const r = readEntry(f);
    if (r.ok && r.entry.config.bpf_jit_harden === undefined && /^[0-9a-f]{16}\.json$/.test(basename(f))) t.is(`${entryHash(r.entry)}.json`, basename(f), f);
  }
  const old = oldStyle(entry);
  const withOrigin: CorpusEntry = { ...old, origin: { bpfspec: 'test', kernel: { release: '6.18.44', bpf_jit_harden: 2, bpf_prog_header: 96 } } };
  t.deepEqual(replayEntry(withOrigin), []);
  // a bad value there is a bad entry, not a crash
  for (const bad of ['2', 3, -1, 1.5, {}]) t.throws(() => replayEntry({ ...old, origin: { bpfspec: 't', kernel: { bpf_jit_harden: bad } } }), { instanceOf: CorpusError, message: /origin\.kernel\.bpf_jit_harden/ });
  t.throws(() => replayEntry({ ...old, origin: { bpfspec: 't', kernel: { bpf_prog_header: 'x' } } }), { instanceOf: CorpusError, message: /origin\.kernel\.bpf_prog_header/ });
});

test('a replay on a kernel with another bpf_jit_harden says so', (t) => {
  t.regex(hardenNote(entry, 0)!, /^recorded under bpf_jit_harden 2 \(replayed with it\); this kernel's is 0/);
  t.is(hardenNote(entry, 2), null);
  t.is(hardenNote(entry, null), null);
  t.is(hardenNote(oldStyle(entry), 0), null); // nothing recorded: nothing to say
  t.regex(hardenNote({ ...oldStyle(entry), origin: { bpfspec: 't', kernel: { bpf_jit_harden: 1 } } }, 0)!, /bpf_jit_harden 1/);
});

test('bpfspec replay: the harden entry replays (with a NOTE on a kernel at another harden); bad recorded values are one bpfspec: line, exit 2', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bpfspec-harden-'));
  const good = join(dir, 'good.json');
  writeFileSync(good, JSON.stringify(entry));
  const r = spawnCli(['replay', good]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /1 of 1 entries replay exactly/);
  // the NOTE: the sysctl and the replay read under the harden lock held shared (never inside another
  // process's bpf_jit_harden window), where flock(1) and the sysctl are there
  const lock = process.env.BPFSPEC_JIT_HARDEN_LOCK ?? '/tmp/bpfspec-jit-harden.lock';
  const s = spawnSync('flock', ['-s', '-w', '120', lock, 'sh', '-c', `cat /proc/sys/net/core/bpf_jit_harden && "${process.execPath}" "${cliPath}" replay "${good}"`], { encoding: 'utf8' });
  if (s.status === 0) {
    const [running, ...out] = s.stdout.split('\n');
    const note = out.find((l) => l.startsWith('NOTE '));
    if (Number(running) === 2) t.is(note, undefined);
    else t.regex(note ?? '', new RegExp(`^NOTE .*good\\.json: recorded under bpf_jit_harden 2 \\(replayed with it\\); this kernel's is ${Number(running)}`));
  } else t.log('no flock(1) or no /proc/sys/net/core/bpf_jit_harden: the NOTE is checked through hardenNote only');
  const bads: [string, unknown][] = [
    ['harden3', { ...entry, config: { ...entry.config, bpf_jit_harden: 3 } }],
    ['hardenstr', { ...entry, config: { ...entry.config, bpf_jit_harden: '2' } }],
    ['header', { ...entry, config: { ...entry.config, bpf_prog_header: -8 } }],
    ['jump', { ...entry, config: { ...entry.config, x86_jit: { ...entry.config.x86_jit, short_jump_max: 1e9 } } }],
    ['jitkey', { ...entry, config: { ...entry.config, x86_jit: { ...entry.config.x86_jit, __proto__: null, extra: 1 } } }],
    ['needed', { ...entry, config: { ...entry.config, jit_needed: 'toString' } }],
    ['origin', { ...oldStyle(entry), origin: { bpfspec: 't', kernel: { bpf_jit_harden: '__proto__' } } }],
  ];
  for (const [name, e] of bads) {
    const f = join(dir, `${name}.json`);
    writeFileSync(f, JSON.stringify(e));
    const b = spawnCli(['replay', f]);
    t.is(b.code, 2, name);
    const lines = b.stderr.trim().split('\n');
    t.is(lines.length, 1, `${name}: ${b.stderr}`);
    t.regex(lines[0]!, /^bpfspec: /, name);
    t.notRegex(b.stderr, /at .*\.js:\d+/, name);
  }
  t.true(readdirSync(dir).length === bads.length + 1);
});
