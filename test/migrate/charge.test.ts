// Tests for model/migrate/charge.ts: bpf_prog_size and __sk_filter_charge (net/core/filter.c:1226).
import test from 'ava';
import { bpfProgSize, skFilterCharge } from '../../model/migrate/charge.js';
import { bpfConvertFilter } from '../../model/migrate/convert.js';
import { bpfStmt } from '../../model/cbpf/insn.js';
import { X86_64 } from '../../model/config.js';
import { ENOMEM } from '../../model/uapi.js';

test('bpf_prog_size = max(sizeof(struct bpf_prog) = 72, offsetof(insns[n]) = 72 + 8n)', (t) => {
  t.is(bpfProgSize(0), 72);
  t.is(bpfProgSize(1), 80);
  t.is(bpfProgSize(10), 152);
  t.is(bpfProgSize(4096), 72 + 32768);
});

test('__sk_filter_charge: size <= optmem_max && omem + size < optmem_max (F:1232, strict <)', (t) => {
  t.is(skFilterCharge(2550, 20480), null); // 72 + 20400 = 20472 < 20480
  t.like(skFilterCharge(2551, 20480), { errno: -ENOMEM, stage: 'charge', rule: 'optmem-exceeded', pc: null, at: 'net/core/filter.c:1232' }); // 20480 is not < 20480
  t.like(skFilterCharge(2550, 20480, 8), { errno: -ENOMEM }); // 8 + 20472 = 20480
  t.is(skFilterCharge(2550, 20480, 7), null);
  t.like(skFilterCharge(0, 0), { errno: -ENOMEM });
  t.like(skFilterCharge(0, 72), { errno: -ENOMEM }); // 72 <= 72 but 72 < 72 fails
  t.is(skFilterCharge(0, 73), null);
});

test('digest Appendix B 7: 3000 x ldb [0] + ret #1 converts, then fails the charge with -ENOMEM', (t) => {
  const r = bpfConvertFilter([...Array(3000).fill(bpfStmt(0x30, 0)), bpfStmt(0x06, 1)], X86_64);
  if (!('ok' in r)) return void t.fail();
  t.is(r.insns.length, 7 + 3000 * 12 + 2);
  t.like(skFilterCharge(r.insns.length, X86_64.optmemMax), { errno: -ENOMEM });
});

test('the struct bpf_prog header is a kernel parameter: 96 bytes (6.18, measured live) moves the threshold by 3 insns', (t) => {
  // 96 + 8n < 20480  <=>  n <= 2547;  72 + 8n < 20480  <=>  n <= 2550
  t.is(bpfProgSize(0, 96), 96);
  t.is(skFilterCharge(2547, 20480, 0, 96), null);
  t.like(skFilterCharge(2548, 20480, 0, 96), { errno: -ENOMEM });
  t.is(skFilterCharge(2548, 20480), null);
});
