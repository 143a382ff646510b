// The page's build: one HTML file; the model bundled from model/ itself (no copy), no Node API in it;
// the page's own code type-checks against the DOM.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPage } from '../../web/build/build.js';
import { projectRoot } from '../_shared.js';

const out = mkdtempSync(join(tmpdir(), 'bpfspec-webbuild-'));
const built = await buildPage({ root: projectRoot, outDir: out });

test('build: one self-contained HTML file with no Node API in its script', (t) => {
  const html = readFileSync(built.html, 'utf8');
  t.is(built.html, join(out, 'index.html'));
  t.true(html.startsWith('<!doctype html>'));
  const script = html.slice(html.lastIndexOf('<script>') + 8, html.lastIndexOf('</script>'));
  t.true(script.length > 100_000, 'the script is inline');
  t.notRegex(script, /\bnode:|\brequire\(|\bprocess\.(env|stdout|exit)|\bBuffer\.from/);
  t.false(/<script[^>]*\bsrc=/.test(html), 'nothing loaded from elsewhere');
  t.false(/<link[^>]*\bhref=/.test(html));
});

test('build: the model is bundled from model/ as it is, imported, not copied', (t) => {
  const inputs = built.inputs.map((i) => i.path);
  for (const f of ['model/attach.ts', 'model/cbpf/check.ts', 'model/cbpf/eval.ts', 'model/migrate/convert.ts', 'model/ebpf/interp.ts', 'model/ebpf/disasm.ts'])
    t.true(inputs.includes(f), `${f} is in the bundle`);
  for (const i of built.inputs) {
    t.regex(i.path, /^(model|cli\/formats|cli\/packets|fuzz|web\/app)\//, `${i.path}: only the model, the pure CLI formats and packets, the fuzzer's catalogue and the page`);
    t.is(i.sha256, createHash('sha256').update(readFileSync(join(projectRoot, i.path))).digest('hex'), i.path);
  }
  // the page's own code has no model function of its own: nothing under web/ defines a kernel-named function
  for (const f of readdirSync(join(projectRoot, 'web', 'app')).filter((n) => n.endsWith('.ts'))) {
    const text = readFileSync(join(projectRoot, 'web', 'app', f), 'utf8');
    t.notRegex(text, /\/\/ (net\/core|kernel\/bpf)\/\w+\.c:\d+ \w+\n(export )?function/, `${f} mirrors no kernel function itself`);
  }
  // the page imports the model, the formats and the catalogue through one module only
  const outside = readdirSync(join(projectRoot, 'web', 'app'))
    .filter((n) => n.endsWith('.ts'))
    .filter((n) => /from '\.\.\/\.\.\//.test(readFileSync(join(projectRoot, 'web', 'app', n), 'utf8')));
  t.deepEqual(outside, ['spec.ts']);
});

test('build: the corpus and the examples are data in the page; the page type-checks against the DOM', (t) => {
  t.true(built.entries >= 15, `${built.entries} corpus entries`);
  t.true(built.citations.entries.length >= 100);
  const tsc = spawnSync(join(projectRoot, 'node_modules', '.bin', 'tsc'), ['-p', join(projectRoot, 'web', 'tsconfig.json'), '--noEmit'], { encoding: 'utf8', cwd: projectRoot });
  t.is(tsc.status, 0, `${tsc.stdout}${tsc.stderr}`);
});
