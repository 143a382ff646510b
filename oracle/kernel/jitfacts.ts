// The running kernel's x86-64 JIT facts (model/jit/facts.ts), read off the JIT's own output where
// the code shows them, and from /proc and /sys where it cannot:
//   - endbr64 at the entry (CONFIG_X86_KERNEL_IBT), the eBPF-only prologue nop (nop3 from v6.10,
//     nop2 before), bytes before a helper call (call-depth accounting), the exit's `ret` / `ret; int3`
//     / `jmp x86_return_thunk`: the image of a probe program (probeImage);
//   - BMI2 register shifts: the length of a `w0 <<= w2` (5 bytes with shlx, 7 without);
//   - the short forward limit: a conditional jump over exactly 124 bytes is rel8 with is_imm8 (127)
//     and rel32 with is_imm8_jmp_offset (123);
//   - what the image cannot show: the CFI preamble (it sits before prog->bpf_func; /proc/config.gz),
//     the BHB barrier (only for classic programs of tasks without CAP_SYS_ADMIN: the kernel version,
//     and the BHI line of /sys/devices/system/cpu/vulnerabilities/spectre_v2), X86_FEATURE_HYPERVISOR
//     (/proc/cpuinfo), CAP_SYS_ADMIN (/proc/self/status).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { BpfInsn } from '../../model/ebpf/insn.js';
import type { X86JitFacts } from '../../model/jit/facts.js';
import type { JitImageOracle } from './jitimage.js';
import { readSettledJitHarden } from './sockopt.js';

const E = (code: number, dst: number, src: number, off: number, imm: number): BpfInsn => ({ code, dst, src, off, imm });
const EXIT = E(0x95, 0, 0, 0, 0);
const CALL_PRANDOM = E(0x85, 0, 0, 0, 7); // bpf_get_prandom_u32: r0 unknown to the verifier

/** r0 = random; if r0 == 5 goto +1; exit; r0 = 1; exit (the image check's first probe). */
export const PROBE_PROGRAM: readonly BpfInsn[] = [CALL_PRANDOM, E(0x15, 0, 0, 1, 5), EXIT, E(0xb7, 0, 0, 0, 1), EXIT];
/** w2 = 1; w0 = 1; w0 <<= w2; exit */
export const SHIFT_PROGRAM: readonly BpfInsn[] = [E(0xb4, 2, 0, 0, 1), E(0xb4, 0, 0, 0, 1), E(0x6c, 0, 2, 0, 0), EXIT];
/** r0 = random; if r0 == 5 goto over 124 bytes (24 x `w3 = 5`, 2 x `w3 = 0`); r0 = 0; exit */
export const LIMIT_PROGRAM: readonly BpfInsn[] = [
  CALL_PRANDOM,
  E(0x15, 0, 0, 26, 5),
  ...Array.from({ length: 24 }, () => E(0xb4, 3, 0, 0, 5)),
  E(0xb4, 3, 0, 0, 0),
  E(0xb4, 3, 0, 0, 0),
  E(0xb7, 0, 0, 0, 0),
  EXIT,
];

const ENDBR64 = [0xf3, 0x0f, 0x1e, 0xfa];
const NOP5 = [0x0f, 0x1f, 0x44, 0x00, 0x00];
const at = (img: Uint8Array, o: number, bytes: readonly number[]): boolean => bytes.every((b, i) => img[o + i] === b);

/** What the probe program's image shows. */
export interface ImageFacts {
  readonly ibt: boolean;
  readonly ebpfPrologueNop: number;
  readonly callDepthAccounting: number;
  readonly returnThunk: boolean;
  readonly sls: boolean;
}

/**
 * Read the facts off the image of PROBE_PROGRAM (emit_prologue :506, emit_call :574, the first exit
 * :2686): [endbr64] nop5 nop3|nop2 push rbp; mov rbp,rsp [endbr64] [accounting] e8 rel32, cmp, jcc,
 * leave, ret|ret int3|jmp rel32. null when the image does not have that shape.
 */
export function imageFacts(img: Uint8Array): ImageFacts | null {
  let o = 0;
  const ibt = at(img, 0, ENDBR64);
  if (ibt) o += 4;
  if (!at(img, o, NOP5)) return null;
  o += 5;
  let nop: number;
  if (at(img, o, [0x0f, 0x1f, 0x00])) nop = 3;
  else if (at(img, o, [0x66, 0x90])) nop = 2;
  else return null;
  o += nop;
  if (!at(img, o, [0x55, 0x48, 0x89, 0xe5])) return null;
  o += 4;
  if (ibt) {
    if (!at(img, o, ENDBR64)) return null;
    o += 4;
  }
  // no stack, no callee-saved registers: the call site follows; everything before its e8 is accounting
  const call = img.indexOf(0xe8, o);
  if (call < 0) return null;
  const accounting = call - o;
  o = call + 5;
  // cmp rax, 5 (48 83 f8 05) and je rel8 (74 xx)
  if (!at(img, o, [0x48, 0x83, 0xf8, 0x05]) || img[o + 4] !== 0x74) return null;
  o += 6;
  if (img[o] !== 0xc9) return null; // leave
  o += 1;
  if (img[o] === 0xe9) return { ibt, ebpfPrologueNop: nop, callDepthAccounting: accounting, returnThunk: true, sls: false };
  if (img[o] !== 0xc3) return null;
  return { ibt, ebpfPrologueNop: nop, callDepthAccounting: accounting, returnThunk: false, sls: img[o + 1] === 0xcc };
}

const readText = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
};

/** [major, minor, sublevel] of a release like "6.18.44-fc". */
export function releaseTriple(release: string): [number, number, number] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : [0, 0, 0];
}

/**
 * Whether this release's do_jit calls emit_spectre_bhb_barrier (9f725eec8fc0, v6.15; the stable
 * batch of 12 May 2025: 6.14.7, 6.12.29, 6.6.91, 6.1.139, 5.15.183). A distribution kernel may carry
 * it under another number; a kernel it cannot place gets null.
 */
export function hasBhbBarrier(release: string): boolean | null {
  const [a, b, c] = releaseTriple(release);
  if (a === 0) return null;
  const v = a * 1000 + b;
  if (v >= 6015) return true;
  const first: Readonly<Record<number, number>> = { 6014: 7, 6012: 29, 6006: 91, 6001: 139, 5015: 183 };
  const f = first[v];
  if (f !== undefined) return c >= f;
  return v < 5015 ? false : null;
}

/** The facts the image cannot show, from /proc and /sys (null where unreadable). */
export interface HostFacts {
  readonly cfi: 'none' | 'kcfi' | null;
  readonly cfiPadding: number;
  readonly bhbBarrier: boolean | null;
  readonly clearBhbLoop: boolean;
  readonly clearBhbHw: boolean;
  readonly hypervisor: boolean;
  readonly capSysAdmin: boolean;
}

export function hostFacts(): HostFacts {
  let cfi: 'none' | 'kcfi' | null = null;
  let cfiPadding = 0;
  try {
    const cfg = gunzipSync(readFileSync('/proc/config.gz')).toString();
    const on = /^CONFIG_CFI(_CLANG)?=y$/m.test(cfg);
    cfi = on ? 'kcfi' : 'none';
    const pad = /^CONFIG_FUNCTION_PADDING_CFI=(\d+)$/m.exec(cfg);
    if (on && /^CONFIG_CALL_PADDING=y$/m.test(cfg) && pad) cfiPadding = Number(pad[1]);
  } catch {
    cfi = null;
  }
  const release = (readText('/proc/sys/kernel/osrelease') ?? '').trim();
  const bhi = /BHI: ([^;\n]*)/.exec(readText('/sys/devices/system/cpu/vulnerabilities/spectre_v2') ?? '')?.[1] ?? '';
  const cpuinfo = readText('/proc/cpuinfo') ?? '';
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readText('/proc/self/status') ?? '')?.[1];
  return {
    cfi,
    cfiPadding,
    bhbBarrier: hasBhbBarrier(release),
    clearBhbLoop: /SW loop/.test(bhi),
    clearBhbHw: /BHI_DIS_S/.test(bhi),
    hypervisor: /^flags\s*:.*\bhypervisor\b/m.test(cpuinfo),
    capSysAdmin: capEff !== undefined && (BigInt(`0x${capEff}`) & (1n << 21n)) !== 0n,
  };
}

/**
 * The running kernel's JIT facts: the probes' images and lengths, and hostFacts. `missing` says what
 * could not be settled (an image of an unexpected shape, an unreadable /proc/config.gz, a release the
 * BHB table cannot place). Under net.core.bpf_jit_harden 1 or 2 (or an unreadable sysctl) the probes
 * are loaded with the sysctl at 0 for the duration of each load (JitImageOracle.load `unhardened`:
 * under the harden lock held exclusively, restored at once): a blinded image has the shape of no
 * probe (every immediate goes through r10 with a random key), and the facts are the machine's and
 * the kernel's, not the sysctl's (the model blinds with them, model/jit/blind.ts).
 */
export async function liveJitFacts(oracle: JitImageOracle): Promise<X86JitFacts | { missing: string }> {
  const unhardened = readSettledJitHarden() !== 0;
  const [probe, shift, limit] = await oracle.load([PROBE_PROGRAM, SHIFT_PROGRAM, LIMIT_PROGRAM], true, unhardened);
  if (!probe!.loaded || !shift!.loaded || !limit!.loaded) {
    const errno = [probe, shift, limit].find((r) => !r!.loaded) as { errno: number };
    return {
      missing: unhardened
        ? `probe programs loaded with bpf_jit_harden 0 (the machine's is not 0; loading under the harden lock with the sysctl at 0 failed with errno ${errno.errno}: root is needed to set it)`
        : `a probe program the verifier accepts (errno ${errno.errno})`,
    };
  }
  const img = imageFacts(probe!.image!);
  if (img === null) return { missing: 'a JIT image of the expected shape (probe program)' };
  const h = hostFacts();
  if (h.cfi === null) return { missing: '/proc/config.gz (CONFIG_CFI)' };
  if (h.bhbBarrier === null) return { missing: 'a kernel release the BHB-barrier table can place' };
  // the shift program: prologue, w2 = 1 (5), w0 = 1 (5), the shift, leave; ret
  const prologue = (img.ibt ? 8 : 0) + 5 + img.ebpfPrologueNop + 4;
  const exit = 1 + (img.returnThunk ? 5 : 1 + (img.sls ? 1 : 0));
  const shiftLen = shift!.jitedLen - prologue - 5 - 5 - exit;
  if (shiftLen !== 5 && shiftLen !== 7) return { missing: `a register shift of 5 or 7 bytes (got ${shiftLen})` };
  // the limit program: prologue, call, cmp (4) + the jump, 124 bytes, r0 = 0 (2), the exit
  const jumpLen = limit!.jitedLen - prologue - img.callDepthAccounting - 5 - 4 - 124 - 2 - exit;
  if (jumpLen !== 2 && jumpLen !== 6) return { missing: `a conditional jump of 2 or 6 bytes (got ${jumpLen})` };
  return {
    shortJumpMax: jumpLen === 2 ? 127 : 123,
    ibt: img.ibt,
    cfi: h.cfi,
    cfiPadding: h.cfiPadding,
    cfiBhi: false,
    callDepthAccounting: img.callDepthAccounting,
    returnThunk: img.returnThunk,
    sls: img.sls,
    bmi2: shiftLen === 5,
    bhbBarrier: h.bhbBarrier,
    clearBhbLoop: h.clearBhbLoop,
    clearBhbHw: h.clearBhbHw,
    hypervisor: h.hypervisor,
    capSysAdmin: h.capSysAdmin,
    ebpfPrologueNop: img.ebpfPrologueNop,
  };
}
