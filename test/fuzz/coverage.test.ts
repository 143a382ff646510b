// Generator quality: the feature classification, and a short coverage campaign.
import test from 'ava';
import { X86_64 } from '../../model/config.js';
import { ancillaryK, SKF_AD_IFINDEX, SKF_LL_OFF, SKF_NET_OFF } from '../../model/uapi.js';
import { classifyMiss, coverageCampaign, expectedFeatures, operandClass, operandClasses } from '../../fuzz/coverage.js';

test('operand classes follow the code: K/X forms, load offsets, MSH sign', (t) => {
  t.deepEqual(operandClasses(0x04), ['k-boundary', 'k-other']); // add #k
  t.deepEqual(operandClasses(0x0c), ['x']); // add x
  t.deepEqual(operandClasses(0x05), ['k']); // ja
  t.deepEqual(operandClasses(0x20), ['pos', 'net', 'll', 'anc']); // ld [k]
  t.is(operandClass(0x04, 0x80000000), 'k-boundary');
  t.is(operandClass(0x04, 12345), 'k-other');
  t.is(operandClass(0x20, ancillaryK(SKF_AD_IFINDEX)), 'anc');
  t.is(operandClass(0x28, (SKF_NET_OFF + 9) >>> 0), 'net');
  t.is(operandClass(0x30, (SKF_LL_OFF + 1) >>> 0), 'll');
  t.is(operandClass(0x30, (SKF_LL_OFF - 1) >>> 0), 'below-ll');
  t.is(operandClass(0xb1, 0xffffffff), 'neg');
  // The 49 codes: 6 without operand (neg, tax, txa, ret a, ld/ldx len), 14 K-form ALU/JMP codes with
  // two classes, 14 X forms, ja, 3 LD ABS with four, MSH with two, 3 LD IND, 7 more with a plain k
  // (ld/ldx imm and mem, st, stx, ret k): 6 + 28 + 14 + 1 + 12 + 2 + 3 + 7 = 73.
  const expected = expectedFeatures(X86_64);
  t.is(expected.filter((f) => f.startsWith('code ')).length, 73);
  t.is(expected.filter((f) => f.startsWith('ancillary ')).length, 32);
  t.false(expected.includes('divergence neg-offset-frags'), 'applies only with the backported load helpers');
  t.true(expectedFeatures({ ...X86_64, loadHelpers: 'backport' }).includes('divergence neg-offset-frags'));
});

test('a short coverage campaign reaches every code and ancillary load and measures the model', async (t) => {
  const r = await coverageCampaign({
    seed: 11,
    runs: 6000,
    timeMs: null,
    workers: 1,
    shard: { index: 0, count: 1 },
    packetsPerProgram: 4,
    config: X86_64,
    chunkSize: 256,
  });
  t.is(r.findings, 0);
  t.deepEqual(
    r.features.missed.filter((f) => f.startsWith('code ') || f.startsWith('ancillary ')),
    [],
  );
  const convert = r.model.find((f) => f.file === 'model/migrate/convert.ts');
  t.truthy(convert);
  t.true(convert!.covered / convert!.branches > 0.8);
  t.log(`features ${r.features.reached}/${r.features.expected}; missed: ${r.features.missed.join(', ') || 'none'}`);
});

test('missed branches are classified by what puts them out of a campaign\'s reach', (t) => {
  const interp = ['switch (code) {', '  case 0x0f: // ALU64_ADD_X', '    add64(r, d, r[s]!, r[s + 1]!);', '  case 0xbf: // MOV64_X', '    if (x) y();'];
  const emitted = new Set([0xbf]);
  t.is(classifyMiss('model/ebpf/interp.ts', interp, 3, emitted), 'opcode-not-emitted');
  t.is(classifyMiss('model/ebpf/interp.ts', interp, 5, emitted), 'reachable');
  t.is(classifyMiss('model/cbpf/eval.ts', ['  throw new RangeError(`bad`);'], 1, emitted), 'api-misuse');
  t.is(classifyMiss('model/migrate/convert.ts', ["    if (len <= 0 || len > BPF_MAXINSNS) return fail('bad-len', null);"], 1, emitted), 'checker-rejects');
  t.is(classifyMiss('model/ebpf/memory.ts', ['    if (r === undefined) return MEM_UNMAPPED;'], 1, emitted), 'never-faults');
  t.is(classifyMiss('model/migrate/extensions.ts', ['  if (!config.littleEndian) out.push(x);'], 1, emitted), 'other-config');
  t.is(classifyMiss('model/cbpf/eval.ts', ['  if (A > len) return fail();'], 1, emitted), 'reachable');
});
