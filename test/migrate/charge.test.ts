// Tests for model/migrate/charge.ts: bpf_prog_size, __sk_filter_charge, sk_filter_charge and
// sk_filter_uncharge (net/core/filter.c:1215-1249).
import test from 'ava';
import { NEW_SOCK, type SkFilter, type Sock } from '../../model/attach.js';
import { __skFilterCharge, bpfProgSize, chargeRejection, skFilterCharge, skFilterUncharge } from '../../model/migrate/charge.js';
import { bpfConvertFilter } from '../../model/migrate/convert.js';
import { bpfStmt } from '../../model/cbpf/insn.js';
import { X86_64 } from '../../model/config.js';
import { ENOMEM } from '../../model/uapi.js';

/** A filter whose program is `len` eBPF insns long (the charge reads fp->prog->len only). */
const filterOf = (len: number): SkFilter => ({ prog: { migrated: { len } } }) as unknown as SkFilter;
/** __sk_filter_charge of a `len`-insn program on a socket holding `omem`: the new sk_omem_alloc, or null. */
const charge = (len: number, optmemMax: number, omem = 0, header = 72): number | null =>
  __skFilterCharge({ ...NEW_SOCK, omemAlloc: omem }, filterOf(len), { optmemMax, bpfProgHeaderSize: header })?.omemAlloc ?? null;

test('bpf_prog_size = max(sizeof(struct bpf_prog) = 72, offsetof(insns[n]) = 72 + 8n)', (t) => {
  t.is(bpfProgSize(0), 72);
  t.is(bpfProgSize(1), 80);
  t.is(bpfProgSize(10), 152);
  t.is(bpfProgSize(4096), 72 + 32768);
});

test('__sk_filter_charge: size <= optmem_max && omem + size < optmem_max (F:1232, strict <)', (t) => {
  t.is(charge(2550, 20480), 20472); // 72 + 20400 = 20472 < 20480: charged
  t.is(charge(2551, 20480), null); // 20480 is not < 20480
  t.is(charge(2550, 20480, 8), null); // 8 + 20472 = 20480
  t.is(charge(2550, 20480, 7), 20479);
  t.is(charge(0, 0), null);
  t.is(charge(0, 72), null); // 72 <= 72 but 72 < 72 fails
  t.is(charge(0, 73), 72);
  t.like(chargeRejection(), { errno: -ENOMEM, stage: 'charge', rule: 'optmem-exceeded', pc: null, at: 'net/core/filter.c:1232' });
});

test('sk_filter_charge charges like __sk_filter_charge; sk_filter_uncharge takes the same size off', (t) => {
  const cfg = { optmemMax: 20480, bpfProgHeaderSize: 72 };
  const sk: Sock = { ...NEW_SOCK, omemAlloc: 100 };
  const charged = skFilterCharge(sk, filterOf(10), cfg);
  t.is(charged?.omemAlloc, 100 + 152);
  t.is(skFilterUncharge(charged!, filterOf(10), cfg).omemAlloc, 100);
  t.is(skFilterCharge(sk, filterOf(2550), cfg), null);
});

test('digest Appendix B 7: 3000 x ldb [0] + ret #1 converts, then fails the charge with -ENOMEM', (t) => {
  const r = bpfConvertFilter([...Array(3000).fill(bpfStmt(0x30, 0)), bpfStmt(0x06, 1)], X86_64);
  if (!('ok' in r)) return void t.fail();
  t.is(r.insns.length, 7 + 3000 * 12 + 2);
  t.is(charge(r.insns.length, X86_64.optmemMax), null);
});

test('the struct bpf_prog header is a kernel parameter: 96 bytes (6.18, measured live) moves the threshold by 3 insns', (t) => {
  // 96 + 8n < 20480  <=>  n <= 2547;  72 + 8n < 20480  <=>  n <= 2550
  t.is(bpfProgSize(0, 96), 96);
  t.not(charge(2547, 20480, 0, 96), null);
  t.is(charge(2548, 20480, 0, 96), null);
  t.not(charge(2548, 20480), null);
});
