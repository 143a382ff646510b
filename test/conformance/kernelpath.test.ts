// The lib/test_bpf.c classic vectors through the kernel path: bpf_prog_create (check, migrate, select
// runtime; no socket charge, as test_bpf uses it) and the eBPF interpreter on the migrated program.
// Every expected failure must be rejected with the expected errno — "BPF_MAXINSNS: jump over MSH" by
// bpf_convert_filter — and every other case must give the expected result for every data length.
import test from 'ava';
import { bpfProgCreate, KernelRunner } from '../../model/attach.js';
import { X86_64 } from '../../model/config.js';
import { EINVAL } from '../../model/uapi.js';
import { sharedDir } from '../_shared.js';
import { loadTestBpf, testBpfSkb } from './vectors.js';
import { requires, sharedMissing } from '../_skip.js';

const ENV = { cpu: 0, randomSeed: 1 };

if (sharedDir === null) {
  requires(sharedMissing, 'test_bpf through the kernel path', () => undefined);
} else {
  test('test_bpf CLASSIC tests through bpf_prog_create and the eBPF interpreter', (t) => {
    const file = loadTestBpf();
    const d = file.header.skb_defaults;
    const failures: string[] = [];
    let runs = 0;
    let rejections = 0;
    let convertRejections = 0;
    for (const tc of file.tests) {
      // The nlattr tests carry host-endian data for both byte orders: run each on its own host.
      const hosts = tc.data_hex_big_endian_host === undefined ? [false] : [false, true];
      for (const bigEndianHost of hosts) {
        const config = { ...X86_64, littleEndian: !bigEndianHost };
        const f = bpfProgCreate(tc.insns, config);
        if (tc.expected_errcode !== undefined) {
          if ('ok' in f) failures.push(`${tc.name}: accepted, expected ${tc.expected_errcode}`);
          else if (f.errno !== tc.expected_errcode) failures.push(`${tc.name}: ${f.errno} (${f.rule}), expected ${tc.expected_errcode}`);
          else {
            rejections++;
            if (f.stage === 'convert') convertRejections++;
          }
          continue;
        }
        if (!('ok' in f)) {
          failures.push(`${tc.name}: rejected ${f.errno} ${f.rule} at ${f.pc}`);
          continue;
        }
        const runner = new KernelRunner(config);
        for (const { len, ret } of tc.results) {
          const got = runner.run(f, testBpfSkb(tc, d, len, bigEndianHost), ENV);
          if (runner.fault) failures.push(`${tc.name} len ${len}: fault ${runner.fault.kind} ${runner.fault.detail}`);
          else if (got !== ret) failures.push(`${tc.name} len ${len}: got ${got} (0x${got.toString(16)}), want ${ret} (0x${ret.toString(16)})`);
          else runs++;
        }
      }
    }
    t.log(`test_bpf kernel path: ${runs} runs passed, ${rejections} rejections as expected (${convertRejections} by bpf_convert_filter)`);
    t.deepEqual(failures, []);
    t.true(runs > 150);
    // "BPF_MAXINSNS: jump over MSH" passes bpf_check_classic and fails in bpf_convert_filter (-EINVAL).
    const jump = file.tests.find((c) => c.name === 'BPF_MAXINSNS: jump over MSH')!;
    const r = bpfProgCreate(jump.insns, X86_64);
    t.false('ok' in r);
    if (!('ok' in r)) t.deepEqual([r.errno, r.stage, r.rule], [-EINVAL, 'convert', 'jump-offset-overflow']);
    t.is(convertRejections, 1);
  });
}
