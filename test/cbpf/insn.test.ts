// struct sock_filter images (include/uapi/linux/filter.h:24): 8 bytes per instruction, code u16 at 0,
// jt u8 at 2, jf u8 at 3, k u32 at 4, in the byte order of the machine that wrote them.
import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import { assertInsn, bpfJump, bpfStmt, decodeProgram, encodeProgram } from '../../model/cbpf/insn.js';

test('decode: little- and big-endian records', (t) => {
  // ldh [12] = { 0x28, 0, 0, 0x0000000c }; jeq #0x800 jt 1 jf 2 = { 0x15, 1, 2, 0x800 }
  const le = Uint8Array.from([0x28, 0, 0, 0, 0x0c, 0, 0, 0, 0x15, 0, 1, 2, 0x00, 0x08, 0, 0]);
  const be = Uint8Array.from([0, 0x28, 0, 0, 0, 0, 0, 0x0c, 0, 0x15, 1, 2, 0, 0, 0x08, 0x00]);
  const want = [bpfStmt(0x28, 12), bpfJump(0x15, 0x800, 1, 2)];
  t.deepEqual(decodeProgram(le), { ok: true, prog: want });
  t.deepEqual(decodeProgram(be, 'big'), { ok: true, prog: want });
  t.deepEqual(encodeProgram(want), le);
  t.deepEqual(encodeProgram(want, 'big'), be);
});

test('decode is total: a length that is not a multiple of 8 names the trailing bytes and their offset', (t) => {
  const r = decodeProgram(new Uint8Array(19));
  t.false(r.ok);
  if (!r.ok) {
    t.is(r.error.offset, 16);
    t.regex(r.error.message, /19 bytes, not a multiple of 8: 3 trailing bytes at offset 16/);
  }
  t.deepEqual(decodeProgram(new Uint8Array(0)), { ok: true, prog: [] });
});

test('encode rejects fields wider than their C types (API misuse)', (t) => {
  t.throws(() => assertInsn({ code: 0x10000, jt: 0, jf: 0, k: 0 }, 3), { message: /insn 3: code 65536 is not a u16/ });
  t.throws(() => assertInsn({ code: 6, jt: 256, jf: 0, k: 0 }, 0), { message: /jt 256/ });
  t.throws(() => assertInsn({ code: 6, jt: 0, jf: -1, k: 0 }, 0), { message: /jf -1/ });
  t.throws(() => assertInsn({ code: 6, jt: 0, jf: 0, k: 2 ** 32 }, 0), { message: /not a u32/ });
  t.throws(() => encodeProgram([{ code: 6, jt: 0, jf: 0, k: 1.5 }]), { instanceOf: RangeError });
  t.is(bpfStmt(6, -1).k, 0xffffffff, 'BPF_STMT stores k as u32');
});

testProp(
  'decode(encode(p)) == p in both byte orders',
  [fc.array(fc.record({ code: fc.integer({ min: 0, max: 0xffff }), jt: fc.nat(255), jf: fc.nat(255), k: fc.nat(0xffffffff) }), { maxLength: 64 }), fc.constantFrom('little' as const, 'big' as const)],
  (t, prog, endian) => {
    t.deepEqual(decodeProgram(encodeProgram(prog, endian), endian), { ok: true, prog });
  },
);
