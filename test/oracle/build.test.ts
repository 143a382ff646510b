// oracle/build.ts: a C helper's cached binary is keyed by the headers it includes from the package too,
// so an edit of a shared header (oracle/outside/frame.h, oracle/kernel/pipe.h) rebuilds its helpers.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCBinary, findCompiler, shippedSource } from '../../oracle/build.js';
import { requires } from '../_skip.js';

const cc = findCompiler();

requires(cc === null ? 'a C compiler' : null, 'a header edit rebuilds the helper; the same header finds the cached binary', (t) => {
  // sources "shipped" beside dist/ (paths from the package root), removed afterwards
  const rel = `dist/.build-test-${process.pid}`;
  const root = new URL(`${rel}/`, shippedSource(''));
  mkdirSync(root, { recursive: true });
  const cache = mkdtempSync(join(tmpdir(), 'bpfspec-build-test-'));
  try {
    writeFileSync(new URL('main.c', root), '#include <stdio.h>\n#include "value.h"\nint main(void) { printf("%d\\n", VALUE); return 0; }\n');
    const build = (value: number) => {
      writeFileSync(new URL('value.h', root), `#define VALUE ${value}\n`);
      const b = ensureCBinary({ name: 'bpfspec-build-test', sources: [`${rel}/main.c`], headers: [`${rel}/value.h`] }, { ...process.env, BPFSPEC_CACHE: cache });
      if (!b.ok) throw new Error(b.missing);
      return { ...b, prints: execFileSync(b.path, { encoding: 'utf8' }).trim() };
    };
    const one = build(1);
    t.true(one.built);
    t.is(one.prints, '1');
    const two = build(2);
    t.true(two.built, 'the edited header rebuilt the helper');
    t.not(two.path, one.path);
    t.is(two.prints, '2');
    const again = build(1);
    t.false(again.built);
    t.is(again.path, one.path);
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  }
});
