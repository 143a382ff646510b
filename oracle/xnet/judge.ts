// golang.org/x/net/bpf as a judge (oracle/xnet/adapter.go): bpf.Disassemble, bpf.NewVM, vm.Run.
// Built offline in GOPATH mode from Debian's golang-golang-x-net-dev (golang-go).
//
// What x/net/bpf supports (golang-golang-x-net-dev 1:0.7.0, bpf/vm.go): NewVM refuses every
// LoadExtension but ExtLen ("extension %d not implemented", vm.go:56-61), so Linux's SKF_AD_*
// ancillary loads are unsupported; and its VM has no NegateA (vm.go:97-99 "TODO: implement
// NegateA"; Run returns "unknown Instruction" for it, vm.go:144-145), so BPF_ALU|BPF_NEG is
// unsupported. Every other of the 49 classic codes disassembles (instructions.go:33-147) and runs.
import { spawnSync } from 'node:child_process';
import type { Program } from '../../model/cbpf/insn.js';
import { ensureGoBinary, type BuildResult } from '../build.js';
import type { OutsideSpec } from '../outside/judge.js';
import { firstAncillary, firstCode } from '../outside/support.js';

export const XNET_SOURCE = 'golang.org/x/net v0.7.0 bpf';
const GOPATH = '/usr/share/gocode';

export function ensureXnetAdapter(env: NodeJS.ProcessEnv = process.env): BuildResult {
  return ensureGoBinary({ name: 'bpfspec-xnet', sources: ['oracle/xnet/adapter.go'], gopath: GOPATH, requires: [{ importPath: 'golang.org/x/net/bpf', debian: 'golang-golang-x-net-dev' }] }, env);
}

/** The installed x/net version, as the Debian package names it (passed to the adapter for its hello). */
export function xnetVersion(): string {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'golang-golang-x-net-dev'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? `golang-golang-x-net-dev ${r.stdout.trim()} (${GOPATH})` : `unknown (${GOPATH}/src/golang.org/x/net)`;
}

/** Whether x/net/bpf's VM implements what the program uses (null), or why not. */
export function xnetSupports(prog: Program): string | null {
  const anc = firstAncillary(prog);
  if (anc !== null) return `SKF_AD_* ancillary loads (e.g. ld [${anc.macro}]): NewVM implements only the ExtLen extension (${XNET_SOURCE}/vm.go:56-61)`;
  const neg = firstCode(prog, 0x84);
  if (neg >= 0) return `neg (BPF_ALU|BPF_NEG): the VM has no NegateA (${XNET_SOURCE}/vm.go:97-99, Run fails at vm.go:144-145)`;
  return null;
}

let version: string | null = null;

export const XNET: OutsideSpec = {
  name: 'xnet',
  describe: 'golang.org/x/net/bpf: Disassemble, NewVM, VM.Run',
  build: () => ensureXnetAdapter(),
  get args(): readonly string[] {
    version ??= xnetVersion();
    return [version];
  },
  supports: xnetSupports,
  engine: 'interpreter',
};
