// The bpf_conformance eBPF ISA tests (../shared/conformance/bpf_conformance/*.data) run through the
// model of ___bpf_prog_run. Runner semantics (bpf_conformance src/runner.cc plugins): r1 = pointer to
// the "-- mem" bytes, r2 = their length, a 512-byte stack, expected "-- result" = the full 64-bit r0.
import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { EbpfVm, compileEbpf } from '../../model/ebpf/interp.js';
import { encodeInsns } from '../../model/ebpf/insn.js';
import { Memory } from '../../model/ebpf/memory.js';
import { sharedDir } from '../_shared.js';
import { assemble, insnWord, parseDataFile, parseU64, type ConformanceCase } from './bpf_conformance_asm.js';
import { EBPF_EXCLUSIONS } from './ebpf_exclusions.js';
import { requires, sharedMissing } from '../_skip.js';

const dir = sharedDir === null ? null : resolve(sharedDir, 'conformance', 'bpf_conformance');

function loadCases(): ConformanceCase[] {
  return readdirSync(dir!)
    .filter((f) => f.endsWith('.data'))
    .sort()
    .map((f) => parseDataFile(f, readFileSync(resolve(dir!, f), 'utf8')));
}

interface Outcome {
  readonly r0: bigint;
  readonly fault: string | null;
  readonly detail: string;
}

function runCase(c: ConformanceCase, vm: EbpfVm, memRegion: ReturnType<Memory['addRegion']>): Outcome {
  const prog = compileEbpf(assemble(c.asm));
  memRegion.setBytes(c.mem);
  vm.runArgs(prog, [memRegion.addr(0), BigInt(c.mem.length)], 512);
  return { r0: vm.r0(), fault: vm.fault?.kind ?? null, detail: vm.fault?.detail ?? '' };
}

if (dir === null) {
  requires(sharedMissing, 'every bpf_conformance file runs through the interpreter model', () => undefined);
} else {
  test('every bpf_conformance file runs through the interpreter model', (t) => {
    const cases = loadCases();
    t.true(cases.length > 0, 'no .data files found');
    const excluded = new Map(EBPF_EXCLUSIONS.map((e) => [e.file, e]));
    const mem = new Memory(512);
    const region = mem.addRegion('mem', 4096, true);
    const vm = new EbpfVm(mem, new Map(), { stepBudget: 1 << 16 });
    let passed = 0;
    let checkedExclusions = 0;
    const failures: string[] = [];
    for (const c of cases) {
      const ex = excluded.get(c.name);
      let out: Outcome;
      try {
        out = runCase(c, vm, region);
      } catch (e) {
        failures.push(`${c.name}: ${(e as Error).message}`);
        continue;
      }
      if (ex) {
        if (out.fault === ex.fault) checkedExclusions++;
        else failures.push(`${c.name}: excluded (${ex.reason}) but the model gave fault=${out.fault} r0=0x${out.r0.toString(16)}, expected fault ${ex.fault}`);
        continue;
      }
      if (c.result === null) {
        failures.push(`${c.name}: no -- result section`);
        continue;
      }
      if (out.fault !== null) failures.push(`${c.name}: fault ${out.fault} (${out.detail}), expected r0 0x${c.result.toString(16)}`);
      else if (out.r0 !== c.result) failures.push(`${c.name}: r0 0x${out.r0.toString(16)}, expected 0x${c.result.toString(16)}`);
      else passed++;
    }
    for (const e of EBPF_EXCLUSIONS) t.true(cases.some((c) => c.name === e.file), `exclusion ${e.file} names no file`);
    t.log(`bpf_conformance: ${passed} passed, ${checkedExclusions} excluded with the predicted fault, of ${cases.length} files`);
    t.deepEqual(failures, []);
    t.true(passed > 0, 'a run of 0 passing cases must fail');
    t.is(passed + checkedExclusions, cases.length);
  });

  test('"-- raw" sections match the assembler and encodeInsns', (t) => {
    const withRaw = loadCases().filter((c) => c.raw !== null);
    t.true(withRaw.length > 0);
    for (const c of withRaw) {
      const insns = assemble(c.asm);
      t.deepEqual(insns.map(insnWord), c.raw, c.name);
      const bytes = encodeInsns(insns);
      const view = new DataView(bytes.buffer);
      t.deepEqual(
        insns.map((_, i) => view.getBigUint64(i * 8, true)),
        c.raw,
        `${c.name}: encodeInsns image`,
      );
    }
  });
}

test('parseU64 follows std::stoull (hex with 0x, decimal, negative wraps)', (t) => {
  t.is(parseU64('0x10'), 16n);
  t.is(parseU64('10'), 10n);
  t.is(parseU64('-1'), 0xffffffffffffffffn);
  t.is(parseU64('+5'), 5n);
});

test('assembler: labels, default exit label, offsets and two-slot lddw', (t) => {
  const insns = assemble('mov %r0, 1\nja L\nmov %r0, 2\nL:\njne %r0, 1, exit\nlddw %r1, 0x1122334455667788\nexit\n');
  t.deepEqual(insns[1], { code: 0x05, dst: 0, src: 0, off: 1, imm: 0 });
  // jne at pc 3 -> the first exit at pc 6: off = 6 - 3 - 1
  t.deepEqual(insns[3], { code: 0x55, dst: 0, src: 0, off: 2, imm: 1 });
  t.deepEqual(insns[4], { code: 0x18, dst: 1, src: 0, off: 0, imm: 0x55667788 });
  t.deepEqual(insns[5], { code: 0x00, dst: 0, src: 0, off: 0, imm: 0x11223344 });
  t.throws(() => assemble('bogus %r0'), { message: /Invalid mnemonic/ });
  t.throws(() => assemble('ja nowhere\nexit'), { message: /Invalid label/ });
  t.throws(() => assemble('mov %r16, 1'), { message: /Invalid register/ });
});
