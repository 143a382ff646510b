// The helper-process plumbing of the kernel oracles (oracle/kernel/framed.ts), with stand-in helpers:
// `cat` echoes every request frame as its reply, `sh` exits or never reads.
import test from 'ava';
import { FramedProcess } from '../../oracle/kernel/framed.js';

const frame = (...bytes: number[]): Uint8Array => Uint8Array.of(bytes.length, 0, 0, 0, ...bytes);

test('exchanges are answered in order, one frame each, however the bytes arrive', async (t) => {
  const p = new FramedProcess('cat process', 'cat');
  const replies = await Promise.all([p.exchange(frame(1, 2, 3), (b) => [...b]), p.exchange(frame(), (b) => b.length), p.exchange(frame(9), (b) => [...b])]);
  t.deepEqual(replies, [[1, 2, 3], 0, [9]]);
  // a decode error rejects that exchange only
  await t.throwsAsync(p.exchange(frame(4), () => { throw new Error('bad reply'); }), { message: 'bad reply' });
  t.deepEqual(await p.exchange(frame(5), (b) => [...b]), [5]);
  await p.close();
});

test('several requests sent in one serial turn are answered in order; a death rejects every pending one', async (t) => {
  const p = new FramedProcess('cat process', 'cat');
  const replies = await p.serial(() => Promise.all([1, 2, 3, 4].map((n) => p.exchangeNow(frame(...Array.from({ length: n }, () => n)), (b) => [...b]))));
  t.deepEqual(replies, [[1], [2, 2], [3, 3, 3], [4, 4, 4, 4]]);
  // a later exchange waits for the turn
  t.deepEqual(await p.exchange(frame(7), (b) => [...b]), [7]);
  await p.close();
  const dies = new FramedProcess('sh process', 'sh', ['-c', 'head -c 5 >/dev/null; echo gone >&2; exit 4']);
  const pending = await dies.serial(() => Promise.allSettled([dies.exchangeNow(frame(1), (b) => b), dies.exchangeNow(frame(2), (b) => b)]));
  t.deepEqual(pending.map((r) => r.status), ['rejected', 'rejected']);
  t.regex(String((pending[1] as PromiseRejectedResult).reason), /sh process (exited \(4\): gone|input)/);
  await dies.close();
});

test('requests sent at once from calls that overlap (no serial turn) each get their own reply, also around a waiting exchange', async (t) => {
  const p = new FramedProcess('cat process', 'cat');
  // two callers' batches interleaved (as oracle/kernel/judge.ts runParts sends a batch asked ahead), and an exchange queued between them
  const a = [1, 2, 3].map((n) => p.exchangeNow(frame(10 + n, n), (b) => [...b]));
  const mid = p.exchange(frame(50), (b) => [...b]);
  const b = [4, 5].map((n) => p.exchangeNow(frame(20 + n), (b) => [...b]));
  t.deepEqual(await Promise.all([...a, mid, ...b]), [[11, 1], [12, 2], [13, 3], [50], [24], [25]]);
  await p.close();
});

test('a helper that exits fails the pending exchange and every later one, with its stderr', async (t) => {
  const p = new FramedProcess('sh process', 'sh', ['-c', 'echo broken >&2; exit 3']);
  await t.throwsAsync(p.exchange(null, (b) => b), { message: /^sh process exited \(3\): broken$/ });
  await t.throwsAsync(p.exchange(frame(1), (b) => b), { message: /exited \(3\)/ });
  await p.close();
});

test('a helper that cannot start, or stops reading, rejects instead of crashing bpfspec', async (t) => {
  const missing = new FramedProcess('nope process', '/nonexistent/bpfspec-helper');
  await t.throwsAsync(missing.exchange(frame(1), (b) => b), { message: /nope process/ });
  await missing.close();
  // closes stdin at once and lingers: the write gets EPIPE (or the exit comes first)
  const deaf = new FramedProcess('deaf process', 'sh', ['-c', 'exec 0<&-; sleep 0.2']);
  await t.throwsAsync(deaf.exchange(new Uint8Array(1 << 20), (b) => b), { message: /deaf process (input|exited)/ });
  await deaf.close();
});
