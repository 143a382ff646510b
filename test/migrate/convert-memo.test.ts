// The converter's memo (model/migrate/convert.ts ConvertMemo, expandInsn, CallState.keep) is a
// speed-up only: bpfConvertFilter must give exactly what the spec-shaped calls give without it
// (bpfConvertFilterCall with memo = null, the kernel's two calls of bpf_migrate_filter F:1277/F:1297),
// on valid, targeted-invalid and raw random programs, for both kernel configs.
import { fc, testProp } from '@fast-check/ava';
import { bpfConvertFilter, bpfConvertFilterCall, type ConvertResult } from '../../model/migrate/convert.js';
import type { SockFilter } from '../../model/cbpf/insn.js';
import { X86_64, STRICT_ALIGN_64, type KernelConfig } from '../../model/config.js';
import type { Rejection } from '../../model/verdict.js';
import { invalidProgram, validProgram } from '../../fuzz/arb/index.js';

// The two calls exactly as bpf_migrate_filter makes them, with no memo.
function specShaped(prog: readonly SockFilter[], config: KernelConfig): ConvertResult | Rejection {
  const first = bpfConvertFilterCall(prog, config, null, false, null);
  if ('errno' in first) return first;
  const second = bpfConvertFilterCall(prog, config, first.newLen, first.seenLdAbs, null);
  if ('errno' in second) return second;
  const map = new Int32Array(2 * prog.length);
  for (let i = 0; i < prog.length; i++) {
    map[2 * i] = second.addrs![i]!;
    map[2 * i + 1] = second.ends![i]!;
  }
  return { ok: true, insns: second.insns!, stackDepth: second.stackDepth, seenLdAbs: second.seenLdAbs, map, passes: second.passes };
}

const plain = (r: ConvertResult | Rejection): unknown =>
  'errno' in r ? r : { ...r, insns: r.insns.map((i) => ({ ...i })), map: Array.from(r.map) };

const rawInsn = fc.record({
  code: fc.oneof(fc.constantFrom(0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0xb1, 0x15, 0x25, 0x35, 0x45, 0x05, 0x02, 0x03, 0x60, 0x61, 0x06, 0x16, 0x3c, 0x9c), fc.nat(0xffff)),
  jt: fc.nat(255),
  jf: fc.nat(255),
  k: fc.oneof(fc.nat(80), fc.constantFrom(0xfffff000, 0xfffff004, 0xfffff020, 0xffeffff0, 0xfff00000, 15, 16, 0x8000, 0xffffffff), fc.nat({ max: 0xffffffff })),
});

for (const config of [X86_64, STRICT_ALIGN_64]) {
  const name = config === X86_64 ? 'x86-64' : 'strict-align';
  testProp(`memo == spec-shaped calls on valid programs (${name})`, [validProgram({ config })], (t, prog) => {
    t.deepEqual(plain(bpfConvertFilter(prog, config)), plain(specShaped(prog, config)));
  }, { numRuns: 300 });
  testProp(`memo == spec-shaped calls on targeted invalid programs (${name})`, [invalidProgram({ config })], (t, inv) => {
    t.deepEqual(plain(bpfConvertFilter(inv.prog, config)), plain(specShaped(inv.prog, config)));
  }, { numRuns: 100 });
  testProp(`memo == spec-shaped calls on raw instruction sequences (${name})`, [fc.array(rawInsn, { minLength: 1, maxLength: 60 })], (t, prog) => {
    t.deepEqual(plain(bpfConvertFilter(prog, config)), plain(specShaped(prog, config)));
  }, { numRuns: 300 });
}
