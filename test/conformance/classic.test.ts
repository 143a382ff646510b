// Conformance of the classic evaluator (model/cbpf/eval.ts) and the attach checks
// (model/cbpf/check.ts) against the outside vectors in ../shared/conformance: Linux lib/test_bpf.c,
// FreeBSD bpf_filter regression tests, alnsn/bpfjit (NetBSD libbpfjit) and golang.org/x/net/bpf.
// Every case passes or is listed, with its reason, in exclusions.ts; a suite that runs no case fails.
import test, { type ExecutionContext } from 'ava';
import { CLASSIC, ClassicVm, compileClassic, V6_6_0, type ClassicSemantics } from '../../model/cbpf/eval.js';
import type { Program } from '../../model/cbpf/insn.js';
import { X86_64 } from '../../model/config.js';
import { afUnixSkb, type SkBuff } from '../../model/skb.js';
import { EINVAL } from '../../model/uapi.js';
import { hex, sharedDir } from '../_shared.js';
import { adjustmentFor, EXCLUSIONS, exclusionFor, NETBSD_WIRELEN_REASON, type Suite } from './exclusions.js';
import {
  attachCheck,
  bsdSkb,
  goHarnessOut,
  loadFreebsd,
  loadGo,
  loadNetbsd,
  loadTestBpf,
  testBpfSkb,
} from './vectors.js';
import { requires, sharedMissing } from '../_skip.js';

const ENV = { cpu: 0, randomSeed: 1 };

/** Tally of one suite: cases and runs checked, and what was excluded. */
class Tally {
  cases = 0;
  runs = 0;
  rejections = 0;
  skipped = 0;
  differs = 0;
  adjusted = 0;
  readonly failures: string[] = [];
  constructor(readonly suite: Suite) {}
  report(t: ExecutionContext): void {
    t.log(
      `${this.suite}: ${this.cases} cases, ${this.runs} runs passed, ${this.rejections} rejections as expected, ` +
        `${this.adjusted} adjusted to Linux, ${this.differs} known differences, ${this.skipped} skipped`,
    );
    t.deepEqual(this.failures, [], `${this.suite}: failures`);
    t.true(this.runs > 0, `${this.suite} ran no case`);
  }
}

/** Expect the attach checks to reject `prog` with `errno`. */
function expectReject(tally: Tally, name: string, prog: Program, errno = -EINVAL): void {
  const rej = attachCheck(prog);
  if (rej === null) tally.failures.push(`${name}: accepted, expected ${errno}`);
  else if (rej.errno !== errno) tally.failures.push(`${name}: rejected with ${rej.errno}, expected ${errno}`);
  else tally.rejections++;
}

/** Expect the attach checks to accept `prog`; returns false (and records it) otherwise. */
function expectAccept(tally: Tally, name: string, prog: Program): boolean {
  const rej = attachCheck(prog);
  if (rej === null) return true;
  tally.failures.push(`${name}: rejected (${rej.rule} at pc ${rej.pc}), expected accepted`);
  return false;
}

/** Compare one run against its expectation, honouring a 'differs' exclusion for the case. */
function check(tally: Tally, name: string, got: number, want: number): void {
  const ex = exclusionFor(tally.suite, name);
  if (ex?.kind === 'differs') {
    if (got === want) tally.failures.push(`${name}: listed as differing but matches ${want}`);
    else if (ex.got !== undefined && got !== ex.got) tally.failures.push(`${name}: got ${got}, exclusion says ${ex.got}`);
    else tally.differs++;
    return;
  }
  if (got === want) tally.runs++;
  else tally.failures.push(`${name}: got ${got} (0x${got.toString(16)}), want ${want} (0x${want.toString(16)})`);
}

if (sharedDir === null) {
  requires(sharedMissing, 'classic conformance suites', () => undefined);
} else {
  // ---------------------------------------------------------------------------------------------
  // lib/test_bpf.c CLASSIC tests

  const runTestBpf = (t: ExecutionContext, suite: Suite, sem: ClassicSemantics): void => {
    const file = loadTestBpf();
    const d = file.header.skb_defaults;
    const tally = new Tally(suite);
    for (const tc of file.tests) {
      tally.cases++;
      if (exclusionFor(suite, tc.name)?.kind === 'skip') {
        tally.skipped++;
        continue;
      }
      if (tc.expected_errcode !== undefined) {
        expectReject(tally, tc.name, tc.insns, tc.expected_errcode);
        continue;
      }
      if (!expectAccept(tally, tc.name, tc.insns)) continue;
      const p = compileClassic(tc.insns);
      // The nlattr tests carry both host-endian data variants: run each on its own kind of host.
      const hosts = tc.data_hex_big_endian_host === undefined ? [false] : [false, true];
      for (const bigEndianHost of hosts) {
        const vm = new ClassicVm({ ...X86_64, littleEndian: !bigEndianHost }, sem);
        for (const { len, ret } of tc.results) {
          const skb = testBpfSkb(tc, d, len, bigEndianHost);
          check(tally, tc.name, vm.run(p, skb, ENV), ret);
        }
      }
    }
    tally.report(t);
  };

  test('test_bpf: CLASSIC tests with every decision switched to v6.6.0 (what the vectors were run on)', (t) => {
    runTestBpf(t, 'test_bpf', V6_6_0);
  });

  test('test_bpf: CLASSIC tests under the classic (3.14) semantics', (t) => {
    runTestBpf(t, 'test_bpf/classic', CLASSIC);
  });

  // ---------------------------------------------------------------------------------------------
  // FreeBSD tools/regression/bpf/bpf_filter

  test('freebsd bpf_filter regression tests', (t) => {
    const tally = new Tally('freebsd');
    const vm = new ClassicVm();
    for (const tc of loadFreebsd().tests) {
      tally.cases++;
      if (exclusionFor('freebsd', tc.name)?.kind === 'skip') {
        tally.skipped++;
        continue;
      }
      const adj = adjustmentFor('freebsd', tc.name);
      if (adj !== undefined) tally.adjusted++;
      if (!tc.valid || adj?.linux === 'reject') {
        // The FreeBSD validator's rules are a subset of Linux's (header freebsd_vs_linux).
        expectReject(tally, tc.name, tc.insns);
        continue;
      }
      if (!expectAccept(tally, tc.name, tc.insns)) continue;
      // buflen readable bytes; wirelen only matters to BPF_LEN (test0007/0008 are excluded).
      const skb = bsdSkb(tc.pkt_hex, tc.buflen);
      check(tally, tc.name, vm.run(compileClassic(tc.insns), skb, ENV), adj !== undefined ? (adj.linux as number) : tc.expected);
    }
    tally.report(t);
  });

  // ---------------------------------------------------------------------------------------------
  // alnsn/bpfjit (NetBSD libbpfjit)

  test('netbsd bpfjit tests', (t) => {
    const tally = new Tally('netbsd');
    const vm = new ClassicVm();
    let wirelenRuns = 0;
    for (const prog of loadNetbsd().programs) {
      tally.cases++;
      if (!prog.linux_v6_6_checker_accepts_annotation) {
        // Linux rejects what BSD runs: unwritten scratch reads, LD|ABS k >= SKF_AD_OFF, DIV|K 0, empty.
        expectReject(tally, prog.name, prog.insns);
        continue;
      }
      if (!expectAccept(tally, prog.name, prog.insns)) continue;
      const p = compileClassic(prog.insns);
      prog.runs.forEach((run, i) => {
        const linux = run.linux_model_ret_if_skb_len_eq_buflen_annotation;
        if (linux !== undefined) wirelenRuns++;
        const want = linux ?? run.ret;
        check(tally, `${prog.name}#${i} (buflen ${run.buflen}, wirelen ${run.wirelen})`, vm.run(p, bsdSkb(run.pkt_hex, run.buflen), ENV), want);
      });
    }
    tally.adjusted = wirelenRuns;
    t.log(`netbsd: ${wirelenRuns} runs use the Linux expectation because ${NETBSD_WIRELEN_REASON}`);
    tally.report(t);
  });

  // ---------------------------------------------------------------------------------------------
  // golang.org/x/net/bpf

  test('go x/net/bpf VM tests', (t) => {
    const tally = new Tally('go');
    const vm = new ClassicVm();
    for (const tc of loadGo().tests) {
      tally.cases++;
      if (tc.assemble_error !== undefined) {
        // The Go assembler refused the operands: there is no raw program to give to Linux.
        tally.skipped++;
        continue;
      }
      if (tc.newvm_error !== undefined) {
        expectReject(tally, tc.name, tc.insns);
        continue;
      }
      if (!expectAccept(tally, tc.name, tc.insns)) continue;
      const p = compileClassic(tc.insns);
      for (const run of tc.runs) {
        const input = hex(run.in_hex);
        const skb: SkBuff = afUnixSkb(input);
        const raw = vm.run(p, skb, ENV);
        check(tally, `${tc.name} raw`, raw, run.go_vm_raw_ret);
        check(tally, `${tc.name} harness`, goHarnessOut(raw, input.length), run.harness_out);
      }
    }
    tally.report(t);
  });

  test('every exclusion names a case that exists in its suite', (t) => {
    const names: Record<Suite, Set<string>> = {
      test_bpf: new Set(loadTestBpf().tests.map((c) => c.name)),
      'test_bpf/classic': new Set(loadTestBpf().tests.map((c) => c.name)),
      freebsd: new Set(loadFreebsd().tests.map((c) => c.name)),
      netbsd: new Set(loadNetbsd().programs.map((c) => c.name)),
      go: new Set(loadGo().tests.map((c) => c.name)),
    };
    for (const e of EXCLUSIONS) t.true(names[e.suite].has(e.name), `${e.suite}: ${e.name}`);
    for (const e of EXCLUSIONS) t.true(e.reason.length > 20, `${e.suite}: ${e.name} has a reason`);
  });
}
