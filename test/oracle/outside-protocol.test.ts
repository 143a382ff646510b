// The outside-judge protocol without any implementation: the binary frames (oracle/outside/protocol.ts)
// against the JSON Schema of the logical messages (protocol.schema.json, validated with ajv), malformed
// frames, and the process driver's crash isolation against a fake adapter written in JavaScript.
import test from 'ava';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { AdapterDied, OutsideProcess } from '../../oracle/outside/process.js';
import { OutsideJudge, type OutsideSpec } from '../../oracle/outside/judge.js';
import {
  batchToJson,
  decodeBatch,
  decodeMessage,
  encodeBatch,
  FRAME_ANSWER,
  FRAME_BATCH,
  FRAME_ERROR,
  FRAME_HELLO,
  FrameReader,
  messageToJson,
  ProtocolError,
  type Batch,
} from '../../oracle/outside/protocol.js';
import { afUnixSkb, DEFAULT_ENV } from '../../model/skb.js';
import { projectRoot } from '../_shared.js';

const schema = JSON.parse(readFileSync(resolve(projectRoot, 'oracle/outside/protocol.schema.json'), 'utf8')) as object;
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);
const valid = (x: unknown): string | null => (validate(x) ? null : JSON.stringify(validate.errors));

/** Little-endian frame builder for hand-made adapter messages. */
class Out {
  b: number[] = [];
  u32(v: number): this {
    this.b.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
    return this;
  }
  bytes(a: ArrayLike<number>): this {
    for (let i = 0; i < a.length; i++) this.b.push(a[i]!);
    while (this.b.length % 4 !== 0) this.b.push(0);
    return this;
  }
  str(s: string): this {
    const u = Buffer.from(s, 'utf8');
    return this.u32(u.length).bytes(u);
  }
  body(): Uint8Array {
    return Uint8Array.from(this.b);
  }
}

const insn = fc.record({ code: fc.integer({ min: 0, max: 0xffff }), jt: fc.integer({ min: 0, max: 255 }), jf: fc.integer({ min: 0, max: 255 }), k: fc.integer({ min: 0, max: 0xffffffff }) });
const packet = fc.uint8Array({ maxLength: 70 }).chain((data) => fc.integer({ min: 0, max: data.length }).map((headlen) => ({ data, headlen })));
const batchArb: fc.Arbitrary<Batch> = fc.record({
  kind: fc.constant('batch' as const),
  id: fc.integer({ min: 0, max: 0xffffffff }),
  flags: fc.record({ jit: fc.boolean(), ebpf: fc.boolean(), log: fc.boolean() }),
  program: fc.array(insn, { maxLength: 20 }),
  packets: fc.array(packet, { maxLength: 5 }),
});

test('batch frames round-trip and their logical message is the schema\'s', (t) => {
  fc.assert(
    fc.property(batchArb, (b) => {
      const frame = encodeBatch(b);
      const r = new FrameReader();
      r.push(frame);
      const f = r.next()!;
      t.is(f.kind, FRAME_BATCH);
      const back = decodeBatch(f.kind, f.body);
      t.deepEqual(batchToJson(back), batchToJson(b));
      t.is(valid(batchToJson(b)), null);
      t.is(r.next(), null);
    }),
    { numRuns: 200 },
  );
});

test('the frame reader reassembles frames split anywhere', (t) => {
  const b: Batch = { kind: 'batch', id: 7, flags: {}, program: [{ code: 6, jt: 0, jf: 0, k: 1 }], packets: [{ data: Uint8Array.of(1, 2, 3), headlen: 2 }] };
  const bytes = new Uint8Array([...encodeBatch(b), ...encodeBatch({ ...b, id: 8 })]);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const r = new FrameReader();
    r.push(bytes.subarray(0, cut));
    const got: number[] = [];
    for (let f = r.next(); f; f = r.next()) got.push(decodeBatch(f.kind, f.body).id);
    r.push(bytes.subarray(cut));
    for (let f = r.next(); f; f = r.next()) got.push(decodeBatch(f.kind, f.body).id);
    t.deepEqual(got, [7, 8], `cut at ${cut}`);
  }
});

test('adapter messages decode to the schema\'s logical messages', (t) => {
  const hello = decodeMessage(FRAME_HELLO, new Out().str('dpdk').str('DPDK 22.11.11').u32(2).str('interpreter').str('jit').body());
  t.deepEqual(hello, { kind: 'hello', implementation: 'dpdk', version: 'DPDK 22.11.11', engines: ['interpreter', 'jit'] });
  t.is(valid(messageToJson(hello)), null);
  // answer: accepted, results (value, error, signal), sections ebpf (1 insn), jit (available, 1 result), log
  const ebpf = new Out().u32(1).bytes([0x95, 0x00, 0, 0, 0, 0, 0, 0]).body();
  const jit = new Out().u32(1).u32(1).u32(0).u32(42).body();
  const log = new Out().str('validate: ok').body();
  const answer = new Out()
    .u32(9)
    .u32(0)
    .str('rte_bpf_load')
    .str('')
    .u32(3)
    .u32(0)
    .u32(42)
    .u32(1)
    .u32(0)
    .str('unknown Instruction')
    .u32(2)
    .u32(11)
    .str('Segmentation fault')
    .u32(3)
    .u32(1)
    .u32(ebpf.length)
    .bytes(ebpf)
    .u32(2)
    .u32(jit.length)
    .bytes(jit)
    .u32(3)
    .u32(log.length)
    .bytes(log)
    .body();
  const a = decodeMessage(FRAME_ANSWER, answer);
  t.is(valid(messageToJson(a)), null);
  t.like(a, { kind: 'answer', id: 9, verdict: { code: 0, stage: 'rte_bpf_load' }, log: 'validate: ok' });
  if (a.kind !== 'answer') throw new Error('not an answer');
  t.deepEqual(a.results, [{ status: 'value', value: 42 }, { status: 'error', message: 'unknown Instruction' }, { status: 'signal', signal: 11, message: 'Segmentation fault' }]);
  t.deepEqual(a.ebpf, [{ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }]);
  t.deepEqual(a.jit, { available: true, results: [{ status: 'value', value: 42 }] });
  // a rejection with a negative code
  const rej = decodeMessage(FRAME_ANSWER, new Out().u32(1).u32(-22 >>> 0).str('rte_bpf_load').str('invalid').u32(0).u32(0).body());
  t.like(rej, { verdict: { code: -22 } });
  t.is(valid(messageToJson(rej)), null);
  const err = decodeMessage(FRAME_ERROR, new Out().str('malformed batch frame: trailing bytes').body());
  t.is(valid(messageToJson(err)), null);
});

test('malformed adapter frames are ProtocolErrors that name what is wrong', (t) => {
  t.throws(() => decodeMessage(FRAME_ANSWER, new Out().u32(1).body()), { instanceOf: ProtocolError, message: /truncated reading verdict code/ });
  t.throws(() => decodeMessage(FRAME_HELLO, new Out().str('x').str('y').u32(0).u32(5).body()), { instanceOf: ProtocolError, message: /trailing bytes after hello/ });
  t.throws(() => decodeMessage(77, new Uint8Array(0)), { instanceOf: ProtocolError, message: /unknown frame kind 77/ });
  t.throws(() => decodeMessage(FRAME_ANSWER, new Out().u32(1).u32(0).str('s').str('m').u32(1).u32(9).u32(0).u32(0).body()), { instanceOf: ProtocolError, message: /unknown status 9/ });
  t.throws(() => decodeMessage(FRAME_ANSWER, new Out().u32(1).u32(0).str('s').str('m').u32(0x7fffffff).body()), { instanceOf: ProtocolError, message: /exceeds the frame/ });
  t.throws(() => decodeMessage(FRAME_ANSWER, new Out().u32(1).u32(0).str('s').str('m').u32(0).u32(1).u32(99).u32(0).body()), { instanceOf: ProtocolError, message: /unknown section tag 99/ });
  const r = new FrameReader();
  r.push(new Out().u32(2).body());
  t.throws(() => r.next(), { instanceOf: ProtocolError, message: /frame size 2/ });
  t.throws(() => encodeBatch({ kind: 'batch', id: 1, flags: {}, program: [], packets: [{ data: new Uint8Array(2), headlen: 3 }] }), { instanceOf: RangeError });
});

// A fake adapter: says hello, answers each batch with the program length as its value per packet;
// a program whose first k is 0xdead kills it (SIGKILL) on a packet starting with 0xee, 0xdea0 kills
// it always (at load), and 0xab0 makes it exit 128 + 6 (a load crash it caught).
const FAKE = `
const out = (kind, parts) => { const body = Buffer.concat(parts); const h = Buffer.alloc(8); h.writeUInt32LE(body.length + 4, 0); h.writeUInt32LE(kind, 4); process.stdout.write(Buffer.concat([h, body])); };
const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0, 0); return b; };
const str = (s) => { const u = Buffer.from(s); const pad = Buffer.alloc((4 - (u.length % 4)) % 4); return Buffer.concat([u32(u.length), u, pad]); };
out(1, [str('fake'), str('1.0'), u32(1), str('interpreter')]);
let buf = Buffer.alloc(0);
process.stdin.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  for (;;) {
    if (buf.length < 4) return;
    const size = buf.readUInt32LE(0);
    if (buf.length < 4 + size) return;
    const f = buf.subarray(4, 4 + size); buf = buf.subarray(4 + size);
    let o = 4; const id = f.readUInt32LE(o); o += 8; const n = f.readUInt32LE(o); o += 4;
    const k0 = n > 0 ? f.readUInt32LE(o + 4) : 0; o += 8 * n;
    const np = f.readUInt32LE(o); o += 4; const pk = [];
    for (let i = 0; i < np; i++) { const len = f.readUInt32LE(o + 4); pk.push(f.subarray(o + 8, o + 8 + len)); o += 8 + ((len + 3) & ~3); }
    if (k0 === 0xab0) process.exit(134);
    if ((k0 === 0xdead && pk.some((p) => p[0] === 0xee)) || k0 === 0xdea0) process.kill(process.pid, 'SIGKILL');
    const res = pk.map(() => Buffer.concat([u32(0), u32(n)]));
    out(3, [u32(id), u32(0), str('fake_load'), str(''), u32(np), ...res, u32(0)]);
  }
});
`;

const dir = mkdtempSync(join(tmpdir(), 'bpfspec-fake-adapter-'));
const script = join(dir, 'fake.cjs');
writeFileSync(script, FAKE);
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const fakeSpec: OutsideSpec = {
  name: 'fake',
  describe: 'a fake adapter',
  build: () => ({ ok: true, path: process.execPath, built: false }),
  args: [script],
  supports: () => null,
  engine: 'interpreter',
};

const input = (bytes: number[]): { skb: ReturnType<typeof afUnixSkb>; env: typeof DEFAULT_ENV } => ({ skb: afUnixSkb(Uint8Array.from(bytes)), env: DEFAULT_ENV });
const prog = (k0: number, n = 2): { code: number; jt: number; jf: number; k: number }[] => [{ code: 0, jt: 0, jf: 0, k: k0 }, ...Array.from({ length: n - 1 }, () => ({ code: 6, jt: 0, jf: 0, k: 0 }))];

test('the process driver pipelines batches and answers them in order', async (t) => {
  const p = await OutsideProcess.start(process.execPath, [script]);
  t.deepEqual(p.hello, { kind: 'hello', implementation: 'fake', version: '1.0', engines: ['interpreter'] });
  const answers = await p.send(Array.from({ length: 50 }, (_, i) => ({ flags: {}, program: prog(i, 1 + (i % 5)), packets: [{ data: Uint8Array.of(i), headlen: 1 }] })));
  t.deepEqual(answers.map((a) => a.results[0]), Array.from({ length: 50 }, (_, i) => ({ status: 'value', value: 1 + (i % 5) })));
  for (const a of answers) t.is(valid(messageToJson(a)), null);
  await p.close();
  await t.throwsAsync(p.send([{ flags: {}, program: prog(1), packets: [] }]), { instanceOf: AdapterDied });
});

test('a crash is pinned to its packet or to the load, and the judge goes on after it', async (t) => {
  const j = await OutsideJudge.open(fakeSpec);
  if ('missing' in j) throw new Error(j.missing);
  try {
    const answers = await j.judge([
      { prog: prog(1), inputs: [input([1])] },
      { prog: prog(0xdead), inputs: [input([1]), input([0xee]), input([2])] }, // dies on the second packet only
      { prog: prog(2, 3), inputs: [input([3])] },
      { prog: prog(0xdea0), inputs: [input([4])] }, // dies at load
      { prog: prog(0xab0), inputs: [input([4])] }, // exits 134: a load crash it caught
      { prog: prog(3, 4), inputs: [input([5])] },
    ]);
    t.deepEqual(answers[0], { verdict: { accepted: true }, results: [{ known: 'exact', value: 2 }] });
    const pinned = answers[1]!;
    t.true(pinned.verdict.accepted);
    t.deepEqual(pinned.results[0], { known: 'exact', value: 2 });
    t.like(pinned.results[1], { known: 'exact', value: 0, fault: { kind: 'signal' } });
    t.regex(pinned.results[1]!.known === 'exact' ? (pinned.results[1]!.fault?.detail ?? '') : '', /died running this packet/);
    t.deepEqual(pinned.results[2], { known: 'exact', value: 2 });
    t.deepEqual(answers[2], { verdict: { accepted: true }, results: [{ known: 'exact', value: 3 }] });
    t.regex(answers[3]!.verdict.accepted ? '' : answers[3]!.verdict.message, /adapter: the adapter died loading the program/);
    t.regex(answers[4]!.verdict.accepted ? '' : answers[4]!.verdict.message, /died loading the program \(adapter exited with status 134/);
    t.deepEqual(answers[5], { verdict: { accepted: true }, results: [{ known: 'exact', value: 4 }] });
    // 0xdead: one restart after the batch, one after its crashing packet; 0xdea0: two; 0xab0: one
    t.is(j.restarts, 5);
  } finally {
    await j.close();
  }
});

test('an adapter that is not there, or breaks the protocol, is a one-line reason', async (t) => {
  const gone = await OutsideJudge.open({ ...fakeSpec, build: () => ({ ok: false, missing: 'libfoo-dev (foo.h not found)' }) });
  t.deepEqual(gone, { missing: 'libfoo-dev (foo.h not found)' });
  const bad = join(dir, 'bad.cjs');
  writeFileSync(bad, 'process.stdout.write(Buffer.from([8,0,0,0, 3,0,0,0, 0,0,0,0]));');
  const broken = await OutsideJudge.open({ ...fakeSpec, args: [bad] });
  t.true('missing' in broken);
  t.regex('missing' in broken ? broken.missing : '', /first frame is kind 3, not hello/);
});
