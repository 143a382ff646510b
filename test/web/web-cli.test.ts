// `bpfspec web`: bad flags and a missing page give one line and exit 2.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { projectRoot } from '../_shared.js';

const cli = resolve(projectRoot, 'dist/cli/main.js');
const run = (args: string[]): { code: number; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: projectRoot, timeout: 30_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};

test('web: bad flags are one line, exit 2', (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'bpfspec-web-empty-'));
  for (const [args, msg] of [
    [['--port', 'http'], /^bpfspec: --port http: expected a port number 0\.\.65535/],
    [['--port', '70000'], /^bpfspec: --port 70000: expected a port number/],
    [['--host', 'a b'], /^bpfspec: --host a b: expected a host name or address/],
    [['--dir', empty], /^bpfspec: .*index\.html: the page is not built \(run npm run build:web -- --out DIR\)/],
  ] as const) {
    const r = run(['web', ...args]);
    t.is(r.code, 2, args.join(' '));
    t.regex(r.stderr, msg);
    t.is(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: one line`);
    t.is(r.stdout, '');
  }
  const unknown = run(['web', '--bogus']);
  t.is(unknown.code, 2);
  t.is(unknown.stderr.trim().split('\n').length, 1);
});
