// The kernel record and its profiles (model/kernel.ts), runtime selection (bpf_prog_select_runtime)
// as each profile has it, and the semantics the catalogue predicts with.
import test from 'ava';
import { skAttachFilter } from '../model/attach.js';
import { CLASSIC, kernelSemantics, V6_6_0, V6_6_BACKPORT } from '../model/cbpf/eval.js';
import type { Program } from '../model/cbpf/insn.js';
import {
  ARCH_FACTS,
  ARCHES,
  DEFAULT_CONFIG,
  DEFAULT_PROFILE,
  FIXED_DECISIONS,
  kernelProfile,
  PROFILE_NAMES,
  PROFILE_V6_18,
  PROFILE_V6_6_0,
  PROFILE_V6_6_Y,
  PROFILES,
  withArch,
  X86_64,
  type KernelConfig,
} from '../model/kernel.js';
import { bpfProgSelectRuntime } from '../model/migrate/convert.js';
import { ENOTSUPP } from '../model/uapi.js';
import { InputError } from '../cli/io.js';
import { resolveKernel } from '../cli/kernel.js';

test('profiles: v6.6.0, v6.6.y and v6.18 by name (live is probed), each naming itself; v6.6.y is the default', (t) => {
  t.deepEqual(PROFILE_NAMES, ['v6.6.0', 'v6.6.y', 'v6.18', 'live']);
  for (const [name, p] of PROFILES) t.is(p.profile, name);
  t.is(DEFAULT_PROFILE, 'v6.6.y');
  t.is(DEFAULT_CONFIG, PROFILE_V6_6_Y);
  t.is(X86_64, PROFILE_V6_6_0);
  // what tells them apart, and nothing else
  const diff = (a: KernelConfig, b: KernelConfig): string[] => Object.keys(a).filter((k) => (a as unknown as Record<string, unknown>)[k] !== (b as unknown as Record<string, unknown>)[k]).sort();
  t.deepEqual(diff(PROFILE_V6_6_0, PROFILE_V6_6_Y), ['jitNeeded', 'loadHelpers', 'profile', 'x86Jit']);
  t.deepEqual(diff(PROFILE_V6_6_Y, PROFILE_V6_18), ['bpfProgHeaderSize', 'optmemMax', 'profile', 'seccompHost', 'x86Jit']);
  // the x86-64 JIT: is_imm8 (127) before c8831bdbfbab, 123 after; the BHB barrier from 6.6.91; nop3 from v6.10 (model/jit/facts.ts)
  t.like(PROFILE_V6_6_0.x86Jit, { shortJumpMax: 127, bhbBarrier: false, ebpfPrologueNop: 2 });
  t.like(PROFILE_V6_6_Y.x86Jit, { shortJumpMax: 123, bhbBarrier: true, ebpfPrologueNop: 2 });
  t.like(PROFILE_V6_18.x86Jit, { shortJumpMax: 123, bhbBarrier: true, ebpfPrologueNop: 3 });
  t.like(PROFILE_V6_6_0, { loadHelpers: 'v6.6.0', jitNeeded: 'always-on', optmemMax: 20480, bpfProgHeaderSize: 72 });
  t.like(PROFILE_V6_6_Y, { loadHelpers: 'backport', jitNeeded: 'jit-requested' });
  t.like(PROFILE_V6_18, { optmemMax: 131072, bpfProgHeaderSize: 96, jitAlwaysOn: true });
  for (const p of PROFILES.values()) {
    t.true(Object.isFrozen(p));
    for (const [k, v] of Object.entries(FIXED_DECISIONS)) t.is((p as unknown as Record<string, unknown>)[k], v, `${p.profile}.${k}`);
  }
});

test('user-chosen names are looked up safely: no prototype keys', (t) => {
  for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    t.is(kernelProfile(name), undefined, name);
    t.is(withArch(DEFAULT_CONFIG, name), undefined, name);
    t.is(ARCHES[name], undefined, name);
  }
  t.like(withArch(PROFILE_V6_18, 'riscv64'), { profile: 'v6.18', arch: 'riscv64', efficientUnalignedAccess: false, netIpAlign: 2, bpfProgHeaderSize: 96 });
  t.deepEqual([...ARCH_FACTS.keys()], ['x86_64', 'arm64', 'riscv64']);
  t.is(ARCHES.x86_64, X86_64);
});

// kernel/bpf/core.c:2363 bpf_prog_select_runtime: JITed (true), interpreter (false), -ENOTSUPP (null)
test('bpf_prog_select_runtime: jit_needed as v6.6.0 and as 6.6.y after 86bc9c742426', (t) => {
  const sel = (p: KernelConfig, o: Partial<KernelConfig>): boolean | null => {
    const c = { ...p, ...o };
    // mov32 r0, 1; exit
    const insns = [{ code: 0xb4, dst: 0, src: 0, off: 0, imm: 1 }, { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }];
    const r = bpfProgSelectRuntime({ insns, stackDepth: 0, jitRequested: c.jitRequested, blindingRequested: false }, c);
    return 'ok' in r ? r.jited : null;
  };
  for (const p of [PROFILE_V6_6_0, PROFILE_V6_6_Y]) {
    t.is(sel(p, {}), true, `${p.profile}: the JIT compiles it`);
    t.is(sel(p, { jitAvailable: false }), null, `${p.profile}: ALWAYS_ON and the JIT failed: -ENOTSUPP (C:2393)`);
    t.is(sel(p, { jitAlwaysOn: false, jitRequested: false }), false, `${p.profile}: bpf_jit_enable 0: the interpreter`);
    t.is(sel(p, { jitAlwaysOn: false, jitRequested: false, jitAvailable: false }), false, `${p.profile}: not requested, so never tried`);
  }
  // the difference: a failed JIT without ALWAYS_ON but with bpf_jit_enable 1
  t.is(sel(PROFILE_V6_6_0, { jitAlwaysOn: false, jitAvailable: false }), false, 'v6.6.0: jit_needed = false, falls back to the interpreter');
  t.is(sel(PROFILE_V6_6_Y, { jitAlwaysOn: false, jitAvailable: false }), null, '6.6.y: jit_needed = fp->jit_requested: -ENOTSUPP');
  const prog: Program = [{ code: 0x06, jt: 0, jf: 0, k: 1 }];
  const r = skAttachFilter(prog, { ...PROFILE_V6_6_Y, jitAlwaysOn: false, jitAvailable: false });
  t.like(r, { errno: -ENOTSUPP, stage: 'runtime', rule: 'jit-required', at: 'kernel/bpf/core.c:2393' });
  const i = skAttachFilter(prog, { ...PROFILE_V6_6_0, jitAlwaysOn: false, jitAvailable: false });
  t.true('ok' in i && !i.migrated.jited);
});

test("the charge follows the profile: 1,169 x ld [1] + ret a at optmem_max 131072 fits v6.6's 72-byte struct bpf_prog, not v6.18's 96", (t) => {
  const prog: Program = [...Array.from({ length: 1169 }, () => ({ code: 0x20, jt: 0, jf: 0, k: 1 })), { code: 0x16, jt: 0, jf: 0, k: 0 }];
  const on = (c: KernelConfig): number => {
    const r = skAttachFilter(prog, c);
    return 'ok' in r ? 0 : r.errno;
  };
  t.is(on({ ...PROFILE_V6_6_Y, optmemMax: 131072 }), 0);
  t.is(on(PROFILE_V6_18), -12);
  t.is(on({ ...PROFILE_V6_18, bpfProgHeaderSize: 72 }), 0);
});

test('kernelSemantics: the decisions a kernel record describes, one frozen object per answer', (t) => {
  t.deepEqual(kernelSemantics(PROFILE_V6_6_0), V6_6_0);
  t.deepEqual(kernelSemantics(PROFILE_V6_6_Y), V6_6_BACKPORT);
  t.is(kernelSemantics(PROFILE_V6_6_Y), kernelSemantics(PROFILE_V6_18));
  t.true(Object.isFrozen(kernelSemantics(PROFILE_V6_6_0)));
  // a record with the 3.14 answers gives the classic semantics back
  t.deepEqual(kernelSemantics({ ...PROFILE_V6_6_0, devNull: 'return0', nlattrGuard: 'return0', vlanTag: 'classic', macUnset: 'v3.14' }), CLASSIC);
});

test('--kernel NAME picks a profile, and the individual flags still override its fields', (t) => {
  t.is(resolveKernel({}, null), PROFILE_V6_6_Y);
  t.is(resolveKernel({ kernel: 'v6.18' }, null), PROFILE_V6_18);
  t.like(resolveKernel({ kernel: 'v6.18', optmemMax: '20480', loadHelpers: 'v6.6.0', bpfProgHeader: '80', arch: 'arm64' }, null), {
    profile: 'v6.18',
    optmemMax: 20480,
    loadHelpers: 'v6.6.0',
    bpfProgHeaderSize: 80,
    arch: 'arm64',
    netIpAlign: 2,
  });
  const live = { ...PROFILE_V6_18, profile: 'live', optmemMax: 4096 };
  t.is(resolveKernel({ kernel: 'live' }, live), live);
  t.is(resolveKernel({}, live, 'live'), live, 'kdiff: live unless --kernel says otherwise');
  t.is(resolveKernel({ kernel: 'v6.6.0' }, live, 'live'), PROFILE_V6_6_0);
  t.like(resolveKernel({ kernel: 'v6.6.0', variant: 'reciprocal-divide' }, null), { profile: 'v6.6.0', variant: 'reciprocal-divide', classicDivK: 'reciprocal' });
  for (const [f, msg] of [
    [{ kernel: '__proto__' }, /--kernel __proto__: unknown kernel profile \(one of v6.6.0, v6.6.y, v6.18, live\)/],
    [{ kernel: 'live' }, /--kernel live: the running kernel was not probed/],
    [{ arch: 'constructor' }, /--arch constructor: unknown architecture/],
    [{ optmemMax: '-1' }, /--optmem-max -1: expected a byte count/],
    [{ bpfProgHeader: '1e3' }, /--bpf-prog-header 1e3: expected a byte count/],
    [{ loadHelpers: 'toString' }, /--load-helpers toString: expected v6.6.0 or backport/],
    [{ variant: '__proto__' }, /--variant __proto__: unknown variant/],
  ] as const)
    t.throws(() => resolveKernel(f, null), { instanceOf: InputError, message: msg });
});
