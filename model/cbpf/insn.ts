// struct sock_filter and its 8-byte image: include/uapi/linux/filter.h:24.
import { BPF_MAXINSNS } from '../uapi.js';

/** include/uapi/linux/filter.h:24 struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; } */
export interface SockFilter {
  readonly code: number; // u16
  readonly jt: number; // u8
  readonly jf: number; // u8
  readonly k: number; // u32, normalised with >>> 0
}

/** A classic program, as the array user space passes in struct sock_fprog. */
export type Program = readonly SockFilter[];

export type Endian = 'little' | 'big';

/** Bytes per struct sock_filter. */
export const SOCK_FILTER_SIZE = 8;

/** include/uapi/linux/filter.h:48 BPF_STMT(code, k) */
export const bpfStmt = (code: number, k: number): SockFilter => ({ code, jt: 0, jf: 0, k: k >>> 0 });
/** include/uapi/linux/filter.h:51 BPF_JUMP(code, k, jt, jf) */
export const bpfJump = (code: number, k: number, jt: number, jf: number): SockFilter => ({ code, jt, jf, k: k >>> 0 });

/** Why a byte string is not a program image: what is wrong and the byte offset where. */
export interface DecodeError {
  readonly message: string;
  readonly offset: number;
}

export type DecodeResult = { readonly ok: true; readonly prog: SockFilter[] } | { readonly ok: false; readonly error: DecodeError };

/**
 * Decode consecutive 8-byte struct sock_filter records (host order of the machine that wrote them:
 * little-endian by default). Total: any byte string gives a program or a precise error.
 * The length limits of the attach path are not applied here; bpf_check_basics_ok owns them.
 */
export function decodeProgram(bytes: Uint8Array, endian: Endian = 'little'): DecodeResult {
  if (bytes.length % SOCK_FILTER_SIZE !== 0) {
    const whole = bytes.length - (bytes.length % SOCK_FILTER_SIZE);
    return {
      ok: false,
      error: {
        message: `program image is ${bytes.length} bytes, not a multiple of ${SOCK_FILTER_SIZE}: ${bytes.length - whole} trailing bytes at offset ${whole}`,
        offset: whole,
      },
    };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = endian === 'little';
  const prog: SockFilter[] = [];
  for (let off = 0; off < bytes.length; off += SOCK_FILTER_SIZE) {
    prog.push({
      code: view.getUint16(off, le),
      jt: view.getUint8(off + 2),
      jf: view.getUint8(off + 3),
      k: view.getUint32(off + 4, le),
    });
  }
  return { ok: true, prog };
}

/** Encode a program into its image. Throws on a field out of its C width (misuse of the API). */
export function encodeProgram(prog: Program, endian: Endian = 'little'): Uint8Array {
  const out = new Uint8Array(prog.length * SOCK_FILTER_SIZE);
  const view = new DataView(out.buffer);
  const le = endian === 'little';
  prog.forEach((insn, pc) => {
    assertInsn(insn, pc);
    const off = pc * SOCK_FILTER_SIZE;
    view.setUint16(off, insn.code, le);
    view.setUint8(off + 2, insn.jt);
    view.setUint8(off + 3, insn.jf);
    view.setUint32(off + 4, insn.k >>> 0, le);
  });
  return out;
}

const isUint = (v: number, bits: number): boolean => Number.isInteger(v) && v >= 0 && v < 2 ** bits;

/** Throws a RangeError naming the field if an instruction does not fit struct sock_filter. */
export function assertInsn(insn: SockFilter, pc: number): void {
  if (!isUint(insn.code, 16)) throw new RangeError(`insn ${pc}: code ${insn.code} is not a u16`);
  if (!isUint(insn.jt, 8)) throw new RangeError(`insn ${pc}: jt ${insn.jt} is not a u8`);
  if (!isUint(insn.jf, 8)) throw new RangeError(`insn ${pc}: jf ${insn.jf} is not a u8`);
  if (!isUint(insn.k, 32)) throw new RangeError(`insn ${pc}: k ${insn.k} is not a u32`);
}

/** The largest program struct sock_fprog can carry to the kernel (unsigned short len), for tools. */
export const MAX_FPROG_LEN = 0xffff;
export { BPF_MAXINSNS };
