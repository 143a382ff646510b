// fuzz/arb/jit-boundary.ts's shortcuts (the last program's answers kept, the seek's skip of a variant
// it already tried) change no program: jitBoundaryProgram and the campaign's `jit` flavour
// (fuzz/genome.ts decodeProgram) shape the same programs with them and without them, under several
// JIT facts and kernel configs; and the shortcuts are taken. A conversion patched from the one
// before (fillers swapped, jumps retargeted) is the buffer a fresh conversion makes.
import test from 'ava';
import fc from 'fast-check';
import { jitBoundaryProgram, shapingShortcuts } from '../../fuzz/arb/jit-boundary.js';
import { decodeProgram } from '../../fuzz/genome.js';
import type { SockFilter } from '../../model/cbpf/insn.js';
import type { KernelConfig } from '../../model/config.js';
import { JIT_V6_6_0, JIT_V6_18, MACHINE_AMD_EPYC_VM_ROOT, x86JitFacts, type X86JitFacts } from '../../model/jit/facts.js';
import { PROFILE_V6_6_0, PROFILE_V6_6_Y, PROFILE_V6_18 } from '../../model/kernel.js';

/** the programs of `make`, with the shortcuts on or off, and how many shortcuts were taken */
function shaped<T>(on: boolean, make: () => T): { out: T; taken: number } {
  const before = shapingShortcuts.lastAnswers + shapingShortcuts.variantsSkipped;
  shapingShortcuts.on = on;
  try {
    const out = make();
    return { out, taken: shapingShortcuts.lastAnswers + shapingShortcuts.variantsSkipped - before };
  } finally {
    shapingShortcuts.on = true;
  }
}

const FACTS: readonly (readonly [string, X86JitFacts])[] = [
  ['v6.6.0', x86JitFacts(JIT_V6_6_0, MACHINE_AMD_EPYC_VM_ROOT)],
  ['v6.18', x86JitFacts(JIT_V6_18, MACHINE_AMD_EPYC_VM_ROOT)],
];

test.serial('jitBoundaryProgram: the same programs with the shortcuts and without them', (t) => {
  for (const [name, facts] of FACTS) {
    const arb = jitBoundaryProgram({ facts, config: PROFILE_V6_6_Y, maxAims: 4 });
    const fast = shaped(true, () => fc.sample(arb, { numRuns: 300, seed: 81 }));
    const plain = shaped(false, () => fc.sample(arb, { numRuns: 300, seed: 81 }));
    t.is(plain.taken, 0, `${name}: a shortcut taken while off`);
    t.true(fast.taken > 300, `${name}: only ${fast.taken} shortcuts taken`);
    t.deepEqual(fast.out, plain.out, name);
  }
});

const CONFIGS: readonly (readonly [string, KernelConfig])[] = [
  ['v6.6.0', PROFILE_V6_6_0],
  ['v6.18', PROFILE_V6_18],
];

test.serial("the campaign's jit flavour (decodeProgram): the same programs with the shortcuts and without them", (t) => {
  // genome words: the head, then (k, high bits, jump) triples
  const words = fc.array(fc.nat({ max: 0xffffffff }), { minLength: 24, maxLength: 240 }).map((w) => Uint32Array.from(w));
  const genomes = fc.sample(words, { numRuns: 300, seed: 82 });
  for (const [name, config] of CONFIGS) {
    const fast = shaped(true, () => genomes.map((p): SockFilter[] => decodeProgram(p, 'jit', config)));
    const plain = shaped(false, () => genomes.map((p): SockFilter[] => decodeProgram(p, 'jit', config)));
    t.true(fast.taken > 300, `${name}: only ${fast.taken} shortcuts taken`);
    t.deepEqual(fast.out, plain.out, name);
  }
});

test.serial('the shaping converts by patching the buffer of the program before: each patched buffer is what a conversion makes', (t) => {
  const words = fc.array(fc.nat({ max: 0xffffffff }), { minLength: 24, maxLength: 240 }).map((w) => Uint32Array.from(w));
  const genomes = fc.sample(words, { numRuns: 200, seed: 83 });
  const before = shapingShortcuts.patched;
  shapingShortcuts.verify = true;
  try {
    for (const [, config] of CONFIGS) for (const p of genomes) decodeProgram(p, 'jit', config);
    for (const [, facts] of FACTS) fc.sample(jitBoundaryProgram({ facts, config: PROFILE_V6_6_Y, maxAims: 4 }), { numRuns: 200, seed: 84 });
  } finally {
    shapingShortcuts.verify = false;
  }
  // verifyPatch throws on a difference; and patches were made (fillers, jump targets)
  t.true(shapingShortcuts.patched - before > 1000, `only ${shapingShortcuts.patched - before} patched conversions`);
});
