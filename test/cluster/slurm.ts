// A single-node Slurm cluster started for one test (test/cluster/slurm.test.ts), from Debian's
// slurm-wlm and munge: as root, a fresh munge key and a munged on its own socket, and a slurm.conf
// with one node of 2 CPUs (proctrack/linuxproc, task/none), its pid, spool, state and log files in a
// temporary directory, free ports, no accounting. `stop()` ends every process it started (and any
// job step left), by pid, and removes the directory; call it in every exit path (t.teardown).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

const BINARIES = ['slurmctld', 'slurmd', 'sbatch', 'squeue', 'scancel', 'sinfo', 'munged', 'mungekey'] as const;

const onPath = (name: string): boolean => (process.env.PATH ?? '').split(delimiter).some((d) => d !== '' && existsSync(join(d, name)));

/** What this machine lacks to start the cluster, or null. */
export function slurmMissing(): string | null {
  if (process.platform !== 'linux') return 'Linux (slurm-wlm and munge from Debian)';
  if (process.getuid?.() !== 0) return 'root (to start slurmctld, slurmd and munged)';
  const absent = BINARIES.filter((b) => !onPath(b) && !existsSync(join('/usr/sbin', b)));
  return absent.length === 0 ? null : `the Debian packages slurm-wlm and munge (missing: ${absent.join(', ')})`;
}

/** A free TCP port on the loopback (closed again before it is returned). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface SlurmCluster {
  /** the temporary directory (configuration, sockets, logs; a work directory for jobs) */
  readonly dir: string;
  /** the environment that talks to this cluster (SLURM_CONF and PATH with /usr/sbin) */
  readonly env: NodeJS.ProcessEnv;
  /** run a Slurm command against this cluster */
  run(cmd: string, args: readonly string[], opts?: { cwd?: string; env?: NodeJS.ProcessEnv }): { code: number; stdout: string; stderr: string };
  /** the daemons' logs, for a failure message */
  logs(): string;
  stop(): Promise<void>;
}

/** Start munged, slurmctld and slurmd; resolves once the node is idle (or rejects, having stopped everything). */
export async function startSlurm(): Promise<SlurmCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'bpfspec-slurm-'));
  const children: ChildProcess[] = [];
  const output = new Map<string, string[]>();
  const conf = join(dir, 'slurm.conf');
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: conf, PATH: `${process.env.PATH ?? ''}${delimiter}/usr/sbin` };
  for (const k of Object.keys(env)) if (k.startsWith('SLURM_') && k !== 'SLURM_CONF') delete env[k];

  const daemon = (name: string, cmd: string, args: string[]): void => {
    const c = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    output.set(name, lines);
    c.stdout!.on('data', (d: Buffer) => lines.push(d.toString()));
    c.stderr!.on('data', (d: Buffer) => lines.push(d.toString()));
    c.on('error', (e) => lines.push(`spawn error: ${e.message}`));
    children.push(c);
  };
  const run: SlurmCluster['run'] = (cmd, args, opts = {}) => {
    const r = spawnSync(cmd, args, { env: opts.env ?? env, cwd: opts.cwd ?? dir, encoding: 'utf8', timeout: 30_000 });
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
  };
  const logs = (): string => [...output].map(([n, l]) => `--- ${n}\n${l.join('').slice(-3000)}`).join('\n');

  // Every process this cluster started: the daemons, and what slurmd started (job steps, job
  // scripts, which outlive it when killed mid-job): found by the SLURM_CONF they inherited.
  const ours = (): number[] => {
    const pids: number[] = [];
    for (const p of readdirSync('/proc')) {
      if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
      try {
        if (readFileSync(`/proc/${p}/environ`, 'latin1').split('\0').includes(`SLURM_CONF=${conf}`)) pids.push(Number(p));
      } catch {
        // gone, or not ours to read
      }
    }
    return pids;
  };
  // a last resort if the test's process ends before its teardown (ava's timeout): kill by pid, synchronously
  const onExit = (): void => {
    for (const pid of [...children.map((c) => c.pid ?? 0), ...ours()])
      try {
        if (pid > 0) process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
  };
  process.once('exit', onExit);
  const stop = async (): Promise<void> => {
    process.off('exit', onExit);
    if (children.some((c) => c.exitCode === null && c.signalCode === null)) {
      // cancel what still runs, then stop the daemons (slurmd, slurmctld, munged last)
      run('scancel', ['--full', '--quiet', '--user', 'root']);
      for (let i = 0; i < 20 && run('squeue', ['-h']).stdout.trim() !== ''; i++) await sleep(250);
    }
    for (const c of [...children].reverse()) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    for (let i = 0; i < 40 && children.some((c) => c.exitCode === null && c.signalCode === null); i++) await sleep(100);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const pid of ours()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    for (const d of ['state', 'spool']) mkdirSync(join(dir, d));
    const key = join(dir, 'munge.key');
    const mk = spawnSync('mungekey', ['--create', `--keyfile=${key}`], { env, encoding: 'utf8' });
    if (mk.status !== 0) throw new Error(`mungekey: ${mk.stderr}`);
    const sock = join(dir, 'munge.sock');
    daemon('munged', 'munged', ['--foreground', '--force', `--socket=${sock}`, `--key-file=${key}`, `--pid-file=${join(dir, 'munged.pid')}`, `--log-file=${join(dir, 'munged.log')}`, `--seed-file=${join(dir, 'munged.seed')}`]);
    for (let i = 0; i < 50 && !existsSync(sock); i++) await sleep(100);
    if (!existsSync(sock)) throw new Error('munged did not create its socket');
    const [ctldPort, dPort] = [await freePort(), await freePort()];
    const host = hostname().split('.')[0]!;
    writeFileSync(join(dir, 'plugstack.conf'), '');
    writeFileSync(
      conf,
      [
        'ClusterName=bpfspectest',
        `SlurmctldHost=${host}(127.0.0.1)`,
        'SlurmUser=root',
        'SlurmdUser=root',
        `SlurmctldPort=${ctldPort}`,
        `SlurmdPort=${dPort}`,
        'AuthType=auth/munge',
        `AuthInfo=socket=${sock}`,
        'CredType=cred/munge',
        `StateSaveLocation=${join(dir, 'state')}`,
        `SlurmdSpoolDir=${join(dir, 'spool')}`,
        `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
        `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
        `PlugStackConfig=${join(dir, 'plugstack.conf')}`,
        'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none',
        'SwitchType=switch/none',
        'MpiDefault=none',
        'SchedulerType=sched/backfill',
        'SelectType=select/cons_tres',
        'SelectTypeParameters=CR_CPU',
        'ReturnToService=2',
        'JobCompType=jobcomp/none',
        'AccountingStorageType=accounting_storage/none',
        'JobAcctGatherType=jobacct_gather/none',
        `NodeName=${host} NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN`,
        `PartitionName=test Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
        '',
      ].join('\n'),
    );
    daemon('slurmctld', 'slurmctld', ['-D', '-i', '-f', conf]);
    daemon('slurmd', 'slurmd', ['-D', '-f', conf]);
    for (let i = 0; i < 150; i++) {
      if (children.some((c) => c.exitCode !== null)) throw new Error('a daemon exited');
      if (/^idle/m.test(run('sinfo', ['-h', '-o', '%T']).stdout)) return { dir, env, run, logs, stop };
      await sleep(200);
    }
    throw new Error('the node did not become idle in 30 s');
  } catch (e) {
    const text = logs();
    await stop();
    throw new Error(`${(e as Error).message}\n${text}`);
  }
}
