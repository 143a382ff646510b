// What the x86-64 JIT's sizing passes do NOT guarantee, pinned on the spec (model/jit/x86.ts
// bpfIntJitCompile), so that no shortcut of engine/jit/x86.ts assumes it: a jump's length can GROW
// between two sizing passes before PADDING_PASSES, and a program whose total settles well before
// PADDING_PASSES can still be refused (in the emitting pass). Both follow from do_jit's exits
// (arch/x86/net/bpf_jit_comp.c:2687 BPF_EXIT after the first: jmp_offset = ctx->cleanup_addr -
// addrs[i]; :2693 the first sets cleanup_addr; model/jit/x86.ts lines 396-398): the cleanup address
// is this pass's, addrs[i] the previous pass's, so when the code before the first
// exit shrinks in pass n + 1 (a jump there spans past a later exit, over code that shrank in pass n),
// that exit's backward offset grows by the shrink and can leave the imm8 range (2 -> 5 bytes); the
// jumps over it then grow in turn. So "every jump only shrinks, each changes size at most once, and
// a program that settles before PADDING_PASSES is jited" is false, and the engine keeps the passes.
import test from 'ava';
import { EngineConverter } from '../../engine/migrate/convert.js';
import { ClassicColumns } from '../../engine/cbpf/program.js';
import type { Program } from '../../model/cbpf/insn.js';
import { X86_64 } from '../../model/config.js';
import { bpfIntJitCompile, PADDING_PASSES, type JitResult } from '../../model/jit/x86.js';
import { bpfConvertFilter } from '../../model/migrate/convert.js';

// Found by sampling fuzz/arb/jit-boundary.ts jitBoundaryProgram (v6.6 facts, maxLength 60, maxAims 4,
// 200 programs for each of seeds 1..39: 431 of 7800 programs show a growing insn): the shortest.
// JSET at pc 1 (jt 29, jf 30) spans the exits at pc 2 (the first: the cleanup), 8 and 31. [code, jt, jf, k] each.
const GROWS: Program = (
  [
    [2, 0, 0, 0], [77, 29, 30, 2], [22, 0, 0, 0], [7, 0, 0, 0], [97, 0, 0, 0], [1, 0, 0, 5], [7, 0, 0, 0], [0, 0, 0, 5], [6, 0, 0, 5], [97, 0, 0, 0],
    [1, 0, 0, 5], [7, 0, 0, 0], [0, 0, 0, 5], [0, 0, 0, 0], [97, 0, 0, 0], [1, 0, 0, 5], [7, 0, 0, 0], [0, 0, 0, 5], [0, 0, 0, 0], [97, 0, 0, 0],
    [1, 0, 0, 5], [7, 0, 0, 0], [0, 0, 0, 5], [0, 0, 0, 0], [97, 0, 0, 0], [1, 0, 0, 5], [7, 0, 0, 0], [0, 0, 0, 5], [0, 0, 0, 0], [97, 0, 0, 0],
    [1, 0, 0, 5], [22, 0, 0, 0], [0, 0, 0, 5], [0, 0, 0, 0], [97, 0, 0, 0], [1, 0, 0, 5], [7, 0, 0, 0], [0, 0, 0, 5], [0, 0, 0, 0], [0, 0, 0, 0],
    [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0],
    [0, 0, 0, 0], [6, 0, 0, 65535],
  ] as const
).map(([code, jt, jf, k]) => ({ code, jt, jf, k }));

/** The first insn (eBPF index, pass) whose length grows from one sizing pass to the next, after the pass on the first estimates. */
function firstGrowth(r: JitResult): { k: number; pass: number; from: number; to: number } | null {
  const ps = r.passes;
  for (let n = 2; n < ps.length; n++) {
    const a = ps[n - 1]!;
    const b = ps[n]!;
    if (a.padding || b.padding || a.emitting || b.emitting) continue;
    for (let k = 0; k < b.lengths.length; k++) if (a.lengths[k]! >= 0 && b.lengths[k]! > a.lengths[k]!) return { k, pass: b.pass, from: a.lengths[k]!, to: b.lengths[k]! };
  }
  return null;
}

test('the sizing passes are not monotone: an exit grows between two passes before PADDING_PASSES, and the program is refused before them', (t) => {
  const facts = X86_64.x86Jit!;
  const c = bpfConvertFilter(GROWS, X86_64);
  if (!('ok' in c)) return t.fail('the fixture does not convert');
  const spec = bpfIntJitCompile({ insns: c.insns, stackDepth: c.stackDepth, wasClassic: true }, facts);
  const g = firstGrowth(spec);
  if (g === null) return t.fail('no insn grows between two sizing passes');
  t.log(`eBPF insn ${g.k} (code 0x${c.insns[g.k]!.code.toString(16)}): ${g.from} -> ${g.to} bytes in pass ${g.pass}; ${spec.jited ? 'jited' : `${spec.reason} in pass ${spec.pass}`}`);
  t.true(g.pass < PADDING_PASSES);
  t.is(c.insns[g.k]!.code, 0x95, 'the insn that grows is an exit');
  // the refusal comes before any padding pass: no "settles before PADDING_PASSES, so jited" shortcut
  t.false(spec.jited);
  if (spec.jited) return;
  t.true(spec.pass < PADDING_PASSES, `refused in pass ${spec.pass}`);
  // and the engine's attach path (converter, then the JIT's steps) gives the spec's outcome
  const conv = new EngineConverter(X86_64);
  t.is(conv.bpfConvertFilter(new ClassicColumns().load(GROWS)), null);
  const e = conv.jit()!.result;
  t.deepEqual(e.jited ? { jited: true } : { jited: false, reason: e.reason, pass: e.pass, insn: e.insn }, { jited: false, reason: spec.reason, pass: spec.pass, insn: spec.insn });
});
