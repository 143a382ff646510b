// Each installed adapter speaks the protocol: its hello and its answers (accepted, rejected, a caught
// signal, DPDK's ebpf/jit/log sections) are the schema's logical messages, and it reports the version
// of the library it runs. Skipped, naming the Debian package, where an implementation is missing.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { OutsideJudge } from '../../oracle/outside/judge.js';
import { messageToJson, type Answer } from '../../oracle/outside/protocol.js';
import { outsideMissing, outsideSpec } from '../../oracle/outside/registry.js';
import type { SockFilter } from '../../model/cbpf/insn.js';
import { projectRoot } from '../_shared.js';
import { requiresSerial } from '../_skip.js';

const schema = JSON.parse(readFileSync(resolve(projectRoot, 'oracle/outside/protocol.schema.json'), 'utf8')) as object;
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);

const I = (code: number, k = 0, jt = 0, jf = 0): SockFilter => ({ code, jt, jf, k: k >>> 0 });
const pkt = Uint8Array.from({ length: 64 }, (_, i) => i + 1);

interface Expectation {
  readonly implementation: RegExp;
  /** programs and what the adapter must answer for the 64-byte packet 01 02 ... (split after 10 bytes) */
  readonly cases: readonly { readonly prog: SockFilter[]; readonly check: (a: Answer) => boolean; readonly what: string }[];
}

const value = (v: number) => (a: Answer): boolean => a.verdict.code === 0 && a.results.length === 1 && a.results[0]!.status === 'value' && (a.results[0] as { value: number }).value === v;

const EXPECT: Readonly<Record<string, Expectation>> = {
  libpcap: {
    implementation: /^libpcap$/,
    cases: [
      { prog: [I(0x30, 3), I(0x16)], check: value(4), what: 'ldb [3]' },
      { prog: [I(0x80), I(0x16)], check: value(64), what: 'ld len (wirelen)' },
      { prog: [I(0x00, 1)], check: (a) => a.verdict.code !== 0 && a.verdict.stage === 'bpf_validate', what: 'no RET: bpf_validate refuses' },
      { prog: [I(0x0e)], check: (a) => a.results[0]?.status === 'signal' && (a.results[0] as { signal: number }).signal === 6, what: 'ret|x: abort() caught' },
    ],
  },
  dpdk: {
    implementation: /^dpdk$/,
    cases: [
      { prog: [I(0x30, 30), I(0x16)], check: value(31), what: 'ldb [30] across the mbuf segments' },
      { prog: [I(0x20, 8), I(0x16)], check: value(0x090a0b0c), what: 'ld [8] straddling the segment boundary' },
      { prog: [I(0x20, 0xfffff000), I(0x16)], check: (a) => a.verdict.code === 1 && a.verdict.stage === 'rte_bpf_convert' && /not supported/.test(a.verdict.message), what: 'SKF_AD_PROTOCOL: rte_bpf_convert refuses' },
      { prog: [I(0x06, 0), I(0x06, 1)], check: (a) => a.verdict.code === 22 && /unreachable/.test(a.verdict.message) && (a.ebpf?.length ?? 0) === 7, what: 'unreachable: the validator refuses, the ebpf section is there' },
    ],
  },
  xnet: {
    implementation: /^golang\.org\/x\/net\/bpf$/,
    cases: [
      { prog: [I(0x30, 3), I(0x16)], check: value(4), what: 'ldb [3]' },
      { prog: [I(0x20, 0xfffff000), I(0x16)], check: (a) => a.verdict.code !== 0 && /extension 0 not implemented/.test(a.verdict.message), what: 'SKF_AD_PROTOCOL: NewVM refuses' },
      { prog: [I(0x84), I(0x16)], check: (a) => a.results[0]?.status === 'error' && /NegateA/.test((a.results[0] as { message: string }).message), what: 'neg: Run returns an error' },
    ],
  },
};

for (const name of ['libpcap', 'dpdk', 'xnet'] as const) {
  requiresSerial(outsideMissing(outsideSpec(name)!), `${name} adapter: hello, verdicts, results and sections are the protocol's`, async (t) => {
    const j = await OutsideJudge.open(outsideSpec(name)!);
    if ('missing' in j) throw new Error(j.missing);
    try {
      t.true(validate(messageToJson(j.hello)), JSON.stringify(validate.errors));
      t.regex(j.hello.implementation, EXPECT[name]!.implementation);
      t.regex(j.hello.version, /\d+\.\d+/);
      const cases = EXPECT[name]!.cases;
      const answers = await j.run(
        cases.map((c) => ({ prog: c.prog, packets: [{ data: pkt, headlen: 10 }] })),
        name === 'dpdk' ? { jit: true, ebpf: true, log: true } : {},
      );
      answers.forEach((a, i) => {
        t.true(validate(messageToJson(a)), `${cases[i]!.what}: ${JSON.stringify(validate.errors)}`);
        t.true(cases[i]!.check(a), `${cases[i]!.what}: ${JSON.stringify(messageToJson(a)).slice(0, 400)}`);
        if (name === 'dpdk' && a.verdict.code === 0) {
          t.true(a.jit?.available, cases[i]!.what);
          t.deepEqual(a.jit?.results, a.results, `${cases[i]!.what}: the JIT agrees here`);
          t.is(typeof a.log, 'string');
        }
      });
      t.is(j.restarts, 0);
    } finally {
      await j.close();
    }
  });
}
