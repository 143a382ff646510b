// The root entry point `bpfspec` imports in a browser: a bundle of dist/api/index.js made by esbuild for
// the browser platform has no `node:` import (nor any other Node builtin), and it runs in a fresh V8
// context that has the JavaScript builtins and the two Web APIs it uses (TextEncoder, TextDecoder) but
// no Node global (no process, Buffer, require, setTimeout): parsing, checking, migrating and running
// the example filter on the example capture there give what they give under Node.
import test from 'ava';
import { build, type Metafile } from 'esbuild';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { runInNewContext } from 'node:vm';
import { projectRoot } from '../_shared.js';
import * as api from '../../api/index.js';

const entry = resolve(projectRoot, 'dist/api/index.js');

const bundle = await build({
  entryPoints: [entry],
  bundle: true,
  platform: 'browser',
  format: 'iife',
  globalName: 'bpfspec',
  write: false,
  metafile: true,
  logLevel: 'silent',
});
const code = bundle.outputFiles[0]!.text;
const meta: Metafile = bundle.metafile;

test('the bundle of the root entry point imports no Node builtin', (t) => {
  const imports = Object.values(meta.inputs).flatMap((i) => i.imports.map((x) => x.path));
  t.deepEqual(
    imports.filter((p) => p.startsWith('node:') || /^(fs|path|os|url|crypto|worker_threads|child_process|inspector|module)$/.test(p)),
    [],
  );
  t.false(/\bfrom\s*["']node:|require\(["']node:|import\(["']node:/.test(code));
  // only the package's own files are bundled (model/, the format and capture readers, the catalogue),
  // the skb JSON reader (fuzz/skbjson.ts, pure), and fast-check (the catalogue's size calculation shares its constants with the generators)
  // (a package's path from its node_modules/ on: esbuild names a node_modules reached through a
  // symlink, as in a git worktree sharing one install, by its real path, e.g. ../main/node_modules/...)
  const inputs = Object.keys(meta.inputs).map((p) => (p.includes('node_modules/') ? p.slice(p.lastIndexOf('node_modules/')) : p.replace(/^.*?dist\//, '')));
  t.deepEqual(
    inputs.filter((p) => !/^(api|model|cli\/formats|cli\/packets|fuzz\/divergences\.js|fuzz\/judges\.js|fuzz\/skbjson\.js|fuzz\/arb\/(ebpf-size|constants)\.js|node_modules\/(fast-check|pure-rand)\/)/.test(p)),
    [],
    inputs.join(' '),
  );
  t.log(`bundle: ${code.length} bytes from ${inputs.length} files`);
});

// What the page runs, written to run inside the fresh context: everything it makes is made there.
const script = `
  const b = bpfspec;
  const prog = b.parseProgram(dd).prog;
  const capture = b.readCapture(new Uint8Array(pcap));
  const results = capture.packets.map((p) => {
    const r = b.runFilter(prog, b.skbForPacket(p), { trace: true });
    return [r.classic, r.kernel, r.kernelTrace.length];
  });
  const m = b.migrate(prog);
  let error = null;
  try { b.makeSkb('__proto__', new Uint8Array(1)); } catch (e) { error = [e.name, e.code, e instanceof b.BpfspecInputError]; }
  out = JSON.stringify({
    results,
    check: b.bpfCheckFilter(prog),
    migrated: m.insns.length,
    disasm: b.disassemble(m.insns).slice(0, 3),
    asm: b.printProgram(prog, 'bpf_asm'),
    hasNodeGlobals: [typeof process, typeof Buffer, typeof require, typeof setTimeout],
    error,
  });
`;

test('the bundle runs without Node globals and gives what Node gives', (t) => {
  const dd = readFileSync(resolve(projectRoot, 'examples/tcp-port-80.dd'), 'utf8');
  const pcap = [...readFileSync(resolve(projectRoot, 'examples/http.pcap'))];
  const ctx: Record<string, unknown> = { dd, pcap, out: null, TextEncoder, TextDecoder };
  runInNewContext(`${code}\n${script}`, ctx, { timeout: 20000 });
  const got = JSON.parse(ctx.out as string) as { results: number[][]; check: unknown; migrated: number; disasm: string[]; asm: string; hasNodeGlobals: string[]; error: unknown[] };
  t.deepEqual(got.hasNodeGlobals, ['undefined', 'undefined', 'undefined', 'undefined']);
  // examples/http.pcap: IPv4 TCP to port 80, TCP to 22, UDP to 53, IPv6 TCP from port 80, ARP (README)
  t.deepEqual(
    got.results.map(([c, k]) => [c, k]),
    [
      [0xffff, 0xffff],
      [0, 0],
      [0, 0],
      [0xffff, 0xffff],
      [0, 0],
    ],
  );
  t.true(got.results.every(([, , steps]) => steps! > 0));
  t.is(got.check, null);
  t.deepEqual(got.error, ['BpfspecInputError', 'unknown-name', true]);
  // the same calls under Node
  const prog = api.parseProgram(dd).prog;
  const m = api.migrate(prog);
  t.is(got.migrated, m.insns.length);
  t.deepEqual(got.disasm, api.disassemble(m.insns).slice(0, 3));
  t.is(got.asm, api.printProgram(prog, 'bpf_asm'));
});
