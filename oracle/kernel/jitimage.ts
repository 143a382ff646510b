// The running kernel's x86-64 JIT, asked directly: eBPF programs loaded with bpf(BPF_PROG_LOAD)
// (oracle/kernel/jitimage.c) come back with the load errno, the image length the JIT produced
// (jited_prog_len) and the program the verifier handed it (xlated), optionally with the image itself.
// A second, independent check of model/jit beside the classic attach verdicts: the model's image
// length for the xlated program must be the kernel's, byte for byte.
import { decodeInsns, encodeInsns, type BpfInsn } from '../../model/ebpf/insn.js';
import { ensureCBinary, type BuildResult } from '../build.js';
import { HELPER_HEADERS } from './build.js';
import { FramedProcess } from './framed.js';
import { readSettledJitHarden, restoreJitHardenAfterDeath } from './sockopt.js';

/** What the kernel did with one eBPF program. */
export type JitImageOutcome =
  | { readonly loaded: true; readonly jitedLen: number; readonly xlated: BpfInsn[]; readonly image: Uint8Array | null }
  | { readonly loaded: false; readonly errno: number };

/** Compile the helper unless the cached binary for this exact source exists. Never throws. */
export function ensureJitImageBinary(env: NodeJS.ProcessEnv = process.env): BuildResult {
  return ensureCBinary({ name: 'bpfspec-jitimage', sources: ['oracle/kernel/jitimage.c'], headers: HELPER_HEADERS }, env);
}

/** Encode one request frame (u32 payload length first); `unhardened`: each load under bpf_jit_harden 0 (jitimage.c flag 2). */
export function encodeJitImageRequest(progs: readonly (readonly BpfInsn[])[], images: boolean, unhardened = false): Uint8Array {
  const bodies = progs.map((p) => encodeInsns(p));
  const size = 4 + 8 + bodies.reduce((s, b) => s + 4 + b.length, 0);
  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, size - 4, true);
  dv.setUint32(4, (images ? 1 : 0) | (unhardened ? 2 : 0), true);
  dv.setUint32(8, progs.length, true);
  let o = 12;
  for (const b of bodies) {
    dv.setUint32(o, b.length / 8, true);
    buf.set(b, o + 4);
    o += 4 + b.length;
  }
  return buf;
}

/** Decode one reply payload (without its length word) for `n` programs. */
export function decodeJitImageReply(payload: Uint8Array, n: number, images: boolean): JitImageOutcome[] {
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  let o = 0;
  const u32 = (): number => {
    if (o + 4 > payload.length) throw new Error(`jitimage reply truncated at byte ${o}`);
    const v = dv.getUint32(o, true);
    o += 4;
    return v;
  };
  const bytes = (len: number): Uint8Array => {
    if (o + len > payload.length) throw new Error(`jitimage reply truncated at byte ${o}`);
    const b = payload.slice(o, o + len);
    o += len;
    return b;
  };
  const out: JitImageOutcome[] = [];
  for (let i = 0; i < n; i++) {
    const errno = u32();
    if (errno !== 0) {
      out.push({ loaded: false, errno });
      continue;
    }
    const jitedLen = u32();
    const nx = u32();
    const d = decodeInsns(bytes(nx * 8));
    if (!d.ok) throw new Error(`jitimage reply: xlated program: ${d.error.message}`);
    const image = images ? bytes(u32()) : null;
    out.push({ loaded: true, jitedLen, xlated: d.insns, image });
  }
  if (o !== payload.length) throw new Error(`jitimage reply has ${payload.length - o} extra bytes`);
  return out;
}

/** One helper process: loads programs one request at a time. */
export class JitImageOracle {
  private constructor(private readonly proc: FramedProcess) {}

  /**
   * Build (on first use) and start the helper, and check that it can load a trivial program (`r0 = 0;
   * exit`); `missing` names what is not there (no compiler, not Linux, no CAP_BPF, no JIT).
   */
  static async open(): Promise<JitImageOracle | { missing: string }> {
    const b = ensureJitImageBinary();
    if (!b.ok) return { missing: b.missing };
    const o = new JitImageOracle(new FramedProcess('jitimage process', b.path));
    let missing: string | null = null;
    try {
      const [r] = await o.load([[{ code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 }, { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }]]);
      if (!r!.loaded) missing = `bpf(BPF_PROG_LOAD) permission (CAP_BPF): a trivial socket filter failed with errno ${r!.errno}`;
      else if (r!.jitedLen === 0) missing = 'the eBPF JIT (net.core.bpf_jit_enable is 0: the program was not JIT-compiled)';
    } catch (e) {
      missing = `a running jitimage process: ${(e as Error).message}`;
    }
    if (missing === null) return o;
    await o.close();
    return { missing };
  }

  /**
   * Load each program (one request), with its JIT image when `images`. With `unhardened`, each load
   * runs with net.core.bpf_jit_harden 0: the helper takes the harden lock exclusively, sets the
   * sysctl for that one BPF_PROG_LOAD and restores it at once (oracle/kernel/harden_lock.h), so that
   * the image is not blinded whatever the machine's setting (needs root; a window that cannot be
   * opened is the load's errno). Calls are serialised.
   */
  async load(progs: readonly (readonly BpfInsn[])[], images = false, unhardened = false): Promise<JitImageOutcome[]> {
    const before = unhardened ? readSettledJitHarden() : null;
    try {
      return await this.proc.exchange(encodeJitImageRequest(progs, images, unhardened), (frame) => decodeJitImageReply(frame, progs.length, images));
    } catch (e) {
      // killed inside a window (it restores the sysctl itself on every other way out)
      if (unhardened) restoreJitHardenAfterDeath(before, 0);
      throw e;
    }
  }

  close(): Promise<void> {
    return this.proc.close();
  }
}
