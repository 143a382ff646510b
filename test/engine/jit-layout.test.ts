// engine/jit/x86.ts EngineJit.layout (and engine/migrate/convert.ts EngineConverter.mapInto) against the model (model/jit/x86.ts bpfIntJitCompile): addrs[]
// of the last pass that completed, as the model's passes record it (prologue, then each insn's
// length), and the outcome (layoutResult), on the programs fuzz/arb/jit-boundary.ts lays out (jitBoundaryProgram, converted by the
// engine's converter, repeats and all) and on eBPF programs with jumps both ways, under several JIT
// facts and kernel configs. Both of layout()'s ways are taken: the steps' passes and, for what they
// leave or the JIT refuses, the per-insn passes.
import test from 'ava';
import fc from 'fast-check';
import { ClassicColumns } from '../../engine/cbpf/program.js';
import { EngineJit } from '../../engine/jit/x86.js';
import { EbpfBuffer, EngineConverter } from '../../engine/migrate/convert.js';
import { jitBoundaryEbpf, jitBoundaryProgram } from '../../fuzz/arb/jit-boundary.js';
import type { KernelConfig } from '../../model/config.js';
import type { BpfInsn } from '../../model/ebpf/insn.js';
import { JIT_V6_6_0, JIT_V6_6_Y, JIT_V6_18, MACHINE_AMD_EPYC_VM_ROOT, x86JitFacts, type X86JitFacts } from '../../model/jit/facts.js';
import { bpfIntJitCompile, type JitResult } from '../../model/jit/x86.js';
import { bpfConvertFilter } from '../../model/migrate/convert.js';
import { PROFILE_V6_6_0, PROFILE_V6_6_Y, PROFILE_V6_18 } from '../../model/kernel.js';
import { ebpfForJit, specLayout } from './jit-arb.js';

const FACTS: readonly (readonly [string, X86JitFacts])[] = [
  ['v6.6.0', x86JitFacts(JIT_V6_6_0, MACHINE_AMD_EPYC_VM_ROOT)],
  ['v6.6.y', x86JitFacts(JIT_V6_6_Y, MACHINE_AMD_EPYC_VM_ROOT)],
  ['v6.18', x86JitFacts(JIT_V6_18, MACHINE_AMD_EPYC_VM_ROOT)],
  ['v6.18 ibt, retpoline, unprivileged', { ...x86JitFacts(JIT_V6_18, MACHINE_AMD_EPYC_VM_ROOT), ibt: true, returnThunk: true, capSysAdmin: false, bmi2: false }],
];
const CONFIGS: readonly (readonly [string, KernelConfig])[] = [
  ['v6.6.0', PROFILE_V6_6_0],
  ['v6.6.y', PROFILE_V6_6_Y],
  ['v6.18', PROFILE_V6_18],
];

/** The outcome without the passes (the engine does not record them). */
const outcome = (r: JitResult): unknown => (r.jited ? { jited: true, proglen: r.proglen, jitedLen: r.jitedLen } : { jited: false, reason: r.reason, message: r.message, pass: r.pass, insn: r.insn });

const copy = (a: Int32Array | null): Int32Array | null => (a === null ? null : a.slice());

/** How many layouts took each way, and how many programs the JIT refused. */
interface Tally {
  steps: number;
  insns: number;
  refused: number;
}

function check(t: { deepEqual(a: unknown, b: unknown, m?: string): void }, jit: EngineJit, b: EbpfBuffer, stackDepth: number, wasClassic: boolean, facts: X86JitFacts, tally: Tally, what: string): void {
  const insns = b.toInsns();
  const spec = bpfIntJitCompile({ insns, stackDepth, wasClassic }, facts);
  const got = copy(jit.layout(b, stackDepth, wasClassic, facts));
  t.deepEqual(got, specLayout(spec, insns.length), what);
  t.deepEqual(outcome(jit.layoutResult), outcome(spec), `${what}: the outcome`);
  if (jit.lastPath === 'steps') tally.steps++;
  else tally.insns++;
  if (!spec.jited) tally.refused++;
}

for (const [fname, facts] of FACTS)
  for (const [cname, config] of CONFIGS) {
    test(`EngineJit.layout == the model's last completed pass on jitBoundaryProgram programs (facts ${fname}, config ${cname})`, (t) => {
      const jit = new EngineJit();
      const conv = new EngineConverter(config);
      const cols = new ClassicColumns();
      const tally: Tally = { steps: 0, insns: 0, refused: 0 };
      fc.assert(
        fc.property(jitBoundaryProgram({ facts, config, maxLength: 80, maxAims: 4 }), (prog) => {
          if (conv.bpfConvertFilter(cols.load(prog)) !== null) return;
          // EngineConverter.mapInto == model/migrate/convert.ts bpfConvertFilter's map, into a used buffer
          const spec = bpfConvertFilter(prog, config);
          const into = conv.mapInto(new Int32Array(2 * prog.length + 8).fill(-7)).slice(0, 2 * prog.length);
          t.deepEqual(into, 'ok' in spec ? spec.map : null, `${fname}/${cname}: mapInto`);
          check(t, jit, conv.out, conv.stackDepth, true, facts, tally, `${fname}/${cname}`);
        }),
        { numRuns: 150, seed: 71 },
      );
      t.log(`${fname}/${cname}: ${tally.steps} by steps, ${tally.insns} by insns, ${tally.refused} refused`);
      t.true(tally.steps > 100, `only ${tally.steps} layouts by steps`);
    });
  }

test('EngineJit.layout == the model on programs the JIT refuses and on eBPF with jumps both ways (both ways taken)', (t) => {
  const jit = new EngineJit();
  const tally: Tally = { steps: 0, insns: 0, refused: 0 };
  const buffer = (insns: readonly BpfInsn[]): EbpfBuffer => {
    const b = new EbpfBuffer();
    b.reserve(insns.length);
    for (const x of insns) b.pushInsn(x);
    return b;
  };
  for (const [fname, facts] of FACTS) {
    const conv = new EngineConverter(PROFILE_V6_6_0);
    const cols = new ClassicColumns();
    for (const prog of fc.sample(jitBoundaryProgram({ facts }), { numRuns: 400, seed: 72 }))
      if (conv.bpfConvertFilter(cols.load(prog)) === null) check(t, jit, conv.out, conv.stackDepth, true, facts, tally, `${fname} classic`);
    for (const p of fc.sample(jitBoundaryEbpf({ facts }), { numRuns: 100, seed: 73 })) check(t, jit, buffer(p), 32, false, facts, tally, `${fname} eBPF`);
    for (const backward of [false, true])
      for (const p of fc.sample(ebpfForJit({ backward, maxLength: 100 }), { numRuns: 100, seed: backward ? 74 : 75 })) check(t, jit, buffer(p), 16, false, facts, tally, `${fname} random eBPF`);
  }
  t.log(`${tally.steps} by steps, ${tally.insns} by insns, ${tally.refused} refused`);
  t.true(tally.steps > 0 && tally.insns > 0, 'one of the two ways was never taken');
  t.true(tally.refused > 0, 'no program refused');
});
