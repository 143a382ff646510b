// Findings, one per bug (#15): signatures, the smallest case per signature, --max-findings.
import test from 'ava';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_CONFIG } from '../../model/kernel.js';
import { variantConfig } from '../../model/variants.js';
import { campaignChecker, runChunk } from '../../fuzz/campaign.js';
import { findingSignature, insnName, SignatureSet, signatureId, smaller } from '../../fuzz/signature.js';
import { projectRoot } from '../_shared.js';

const cli = resolve(projectRoot, 'dist/cli/main.js');
const run = (args: string[]): { code: number; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: projectRoot });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};

test('insnName: the opcode and its operand kind, not its constants', (t) => {
  t.is(insnName({ code: 0x34, jt: 0, jf: 0, k: 7 }), '0x34 alu.div.k');
  t.is(insnName({ code: 0x34, jt: 0, jf: 0, k: 0xfffff000 }), '0x34 alu.div.k');
  t.is(insnName({ code: 0x3c, jt: 0, jf: 0, k: 0 }), '0x3c alu.div.x');
  t.is(insnName({ code: 0x20, jt: 0, jf: 0, k: 0xfffff000 + 4 }), '0x20 ld.w.abs.ad4');
  t.is(insnName({ code: 0x30, jt: 0, jf: 0, k: 0xfff00000 + 9 }), '0x30 ld.b.abs.net');
  t.is(insnName({ code: 0x28, jt: 0, jf: 0, k: 12 }), '0x28 ld.h.abs.pkt');
  t.is(insnName({ code: 0x15, jt: 1, jf: 2, k: 3 }), '0x15 jmp.jeq.k');
  t.is(insnName({ code: 0x05, jt: 0, jf: 0, k: 3 }), '0x05 jmp.ja');
  t.is(insnName({ code: 0x16, jt: 0, jf: 0, k: 0 }), '0x16 ret.a');
  t.is(insnName({ code: 0x87, jt: 0, jf: 0, k: 0 }), '0x87 misc.txa');
  t.is(insnName(undefined), 'none');
});

test('SignatureSet: the kept case and the counts do not depend on the order findings come in', (t) => {
  const finding = fc.record({ sig: fc.constantFrom('a', 'b', 'c'), insns: fc.integer({ min: 1, max: 5 }), bytes: fc.integer({ min: 0, max: 3 }) });
  fc.assert(
    fc.property(fc.array(finding, { minLength: 1, maxLength: 12 }), fc.integer(), (fs, seed) => {
      const withChunk = fs.map((f, chunk) => ({ ...f, chunk }));
      const shuffled = fc.sample(fc.shuffledSubarray(withChunk, { minLength: withChunk.length }), { seed, numRuns: 1 })[0]!;
      const view = (order: typeof withChunk): unknown => {
        const s = new SignatureSet<number>();
        for (const f of order) s.offer(f.sig, f.chunk, { insns: f.insns, bytes: f.bytes }, f.chunk);
        return s.entries().map((e) => [e.signature, e.count, e.best, e.firstChunk]);
      };
      t.deepEqual(view(shuffled), view(withChunk));
    }),
  );
  t.true(smaller({ insns: 2, bytes: 9 }, 9, { insns: 3, bytes: 0 }, 0));
  t.false(smaller({ insns: 3, bytes: 0 }, 5, { insns: 3, bytes: 0 }, 4));
  t.regex(signatureId('x'), /^[0-9a-f]{12}$/);
});

test('findingSignature: the reciprocal-divide bug found in different chunks has one signature naming the divide', (t) => {
  const config = variantConfig(DEFAULT_CONFIG, 'reciprocal-divide');
  const checker = campaignChecker({ config, judges: [], engine: true });
  const sigs = new Set<string>();
  let found = 0;
  for (let chunk = 0; chunk < 40 && found < 3; chunk++) {
    const r = runChunk(checker, { seed: 11, packetsPerProgram: 4, config }, chunk, 256);
    if (r.finding === null) continue;
    found++;
    t.is(r.finding.signature, findingSignature(r.finding.finding, config));
    sigs.add(r.finding.signature);
  }
  t.is(found, 3);
  t.deepEqual([...sigs], ['equivalence | classic,kernel | catalogue none | 0x34 alu.div.k']);
});

const CAMPAIGN = ['fuzz', '--variant', 'reciprocal-divide', '--runs', '6000', '--seed', '11', '--json'];

interface Summary {
  cases: number;
  findings: { signature: string; file: string | null }[];
  signatures: { id: string; signature: string; count: number; chunk: number; file: string | null }[];
  max_findings_reached: boolean;
}

test('fuzz --variant reciprocal-divide: several findings, one signature, one corpus file (its smallest case)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bpfspec-sig-'));
  const r = run([...CAMPAIGN, '--workers', '2', '--corpus', dir]);
  t.is(r.code, 1, r.stderr);
  const s = JSON.parse(r.stdout) as Summary;
  t.true(s.findings.length >= 2, `${s.findings.length} findings`);
  t.is(s.signatures.length, 1);
  t.is(s.signatures[0]!.count, s.findings.length);
  const files = readdirSync(dir);
  t.is(files.length, 1);
  t.is(s.signatures[0]!.file, join(dir, files[0]!));
  const entry = JSON.parse(readFileSync(join(dir, files[0]!), 'utf8')) as { origin: { signature: string; chunk: number }; program: { len: number } };
  t.is(entry.origin.signature, s.signatures[0]!.signature);
  t.is(entry.origin.chunk, s.signatures[0]!.chunk);
  t.false(s.max_findings_reached);
  t.is((r.stderr.match(/^finding, signature /gm) ?? []).length, 1);
  const text = run([...CAMPAIGN.filter((a) => a !== '--json'), '--workers', '1', '--corpus', mkdtempSync(join(tmpdir(), 'bpfspec-sig-'))]);
  t.is(text.code, 1);
  t.regex(text.stdout, new RegExp(`findings: ${s.findings.length} in 1 signature\\n  ${s.signatures[0]!.id}  ${s.findings.length} findings: equivalence \\| classic,kernel \\| catalogue none \\| 0x34 alu.div.k\\n`));
});

test('fuzz --max-findings 1 stops at the first signature, at the same chunk whatever the workers (exit code unchanged)', (t) => {
  const one = run([...CAMPAIGN, '--workers', '1', '--max-findings', '1', '--corpus', mkdtempSync(join(tmpdir(), 'bpfspec-sig-'))]);
  const two = run([...CAMPAIGN, '--workers', '2', '--max-findings', '1', '--corpus', mkdtempSync(join(tmpdir(), 'bpfspec-sig-'))]);
  t.is(one.code, 1, one.stderr);
  t.is(two.code, 1, two.stderr);
  const a = JSON.parse(one.stdout) as Summary;
  const b = JSON.parse(two.stdout) as Summary;
  t.true(a.max_findings_reached);
  t.is(a.findings.length, 1);
  t.true(a.cases < 6000);
  const strip = (s: Summary): unknown => ({ cases: s.cases, findings: s.findings.map((f) => f.signature), signatures: s.signatures.map(({ file: _, ...rest }) => rest) });
  t.deepEqual(strip(b), strip(a));
  t.is(run([...CAMPAIGN, '--max-findings', '0']).code, 2);
  t.regex(run([...CAMPAIGN, '--max-findings', 'x']).stderr, /^bpfspec: --max-findings x: expected a whole number/);
});
