// --shard auto (#15): the shard of a Kubernetes Indexed Job or a Slurm job array.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { autoShard, shardOption } from '../../cli/shard.js';
import { projectRoot } from '../_shared.js';

test('Kubernetes Indexed Job: JOB_COMPLETION_INDEX of JOB_COMPLETIONS', (t) => {
  t.deepEqual(shardOption('auto', { JOB_COMPLETION_INDEX: '2', JOB_COMPLETIONS: '4' }), { index: 2, count: 4 });
  t.throws(() => autoShard({ JOB_COMPLETION_INDEX: '2' }), { message: /JOB_COMPLETIONS is not set/ });
  t.throws(() => autoShard({ JOB_COMPLETION_INDEX: '4', JOB_COMPLETIONS: '4' }), { message: /index 4 is not below the count 4/ });
  t.throws(() => autoShard({ JOB_COMPLETION_INDEX: '-1', JOB_COMPLETIONS: '4' }), { message: /JOB_COMPLETION_INDEX -1 is not a whole number/ });
});

test('Slurm job array: SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT', (t) => {
  t.deepEqual(shardOption('auto', { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '3', SLURM_ARRAY_TASK_STEP: '1' }), { index: 3, count: 4 });
  // an array 1-4 is shards 0/4 to 3/4
  t.deepEqual(shardOption('auto', { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '4' }), { index: 0, count: 4 });
  t.throws(() => autoShard({ SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '4', SLURM_ARRAY_TASK_STEP: '2' }), { message: /step 2: use a contiguous --array range/ });
  t.throws(() => autoShard({ SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '5' }), { message: /not one contiguous range/ });
  t.throws(() => autoShard({ SLURM_ARRAY_TASK_ID: '1' }), { message: /SLURM_ARRAY_TASK_COUNT is not set/ });
  t.throws(() => autoShard({ SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '2', JOB_COMPLETION_INDEX: '0' }), { message: /both/ });
  t.deepEqual(shardOption('1/3', {}), { index: 1, count: 3 });
});

test('bpfspec fuzz --shard auto: one bpfspec: line and exit 2 without a scheduler; the shard from the environment with one', (t) => {
  const cli = resolve(projectRoot, 'dist/cli/main.js');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SLURM_') && !k.startsWith('JOB_COMPLETION')));
  const none = spawnSync(process.execPath, [cli, 'fuzz', '--shard', 'auto', '--runs', '10'], { encoding: 'utf8', env });
  t.is(none.status, 2);
  t.regex(none.stderr, /^bpfspec: --shard auto: no batch scheduler found: set JOB_COMPLETION_INDEX and JOB_COMPLETIONS \(Kubernetes Indexed Job\) or SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT \(Slurm job array\), or give --shard i\/N\n$/);
  const k8s = spawnSync(process.execPath, [cli, 'fuzz', '--shard', 'auto', '--runs', '600', '--seed', '3', '--workers', '1', '--json'], {
    encoding: 'utf8',
    env: { ...env, JOB_COMPLETION_INDEX: '1', JOB_COMPLETIONS: '3' },
  });
  t.is(k8s.status, 0, k8s.stderr);
  const s = JSON.parse(k8s.stdout) as { shard: string; cases: number };
  t.is(s.shard, '1/3');
  // 600 cases are chunks 0 (256), 1 (256), 2 (88): shard 1 of 3 runs chunk 1 alone
  t.is(s.cases, 256);
});
