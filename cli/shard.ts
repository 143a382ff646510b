// --shard i/N or --shard auto: which shard of a campaign this process runs. `auto` reads it from the
// batch scheduler that started the process:
//   - a Kubernetes Indexed Job: JOB_COMPLETION_INDEX (set by Kubernetes in every pod of an Indexed
//     Job, 0 to completions-1) and JOB_COMPLETIONS, the completion count, which the Job passes in
//     itself (the downward API does not expose spec.completions): an env entry with the same number
//     as spec.completions (examples/kubernetes/fuzz-job.yaml);
//   - a Slurm job array: SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT and SLURM_ARRAY_TASK_MIN (set by
//     sbatch --array): i = id - min, N = count, so an array 1-4 is shards 0/4 to 3/4. The array must
//     be one contiguous range with step 1 (SLURM_ARRAY_TASK_MAX - MIN + 1 = COUNT), else some shards
//     would never run.
// Anything else is one `bpfspec:` line (exit 2).
import { parseShard } from './commands/fuzz.js';
import { clip, InputError } from './io.js';

export interface ShardSpec {
  readonly index: number;
  readonly count: number;
}

type Env = Readonly<Record<string, string | undefined>>;

const num = (env: Env, name: string, source: string): number => {
  const v = env[name];
  if (v === undefined || !/^\d{1,10}$/.test(v.trim())) throw new InputError(`--shard auto: ${source}: ${name} ${v === undefined ? 'is not set' : `${clip(v)} is not a whole number`}`);
  return Number(v.trim());
};

/** The shard of a Kubernetes Indexed Job or a Slurm job array, from the environment. */
export function autoShard(env: Env): ShardSpec & { readonly source: string } {
  const k8s = env.JOB_COMPLETION_INDEX !== undefined;
  const slurm = env.SLURM_ARRAY_TASK_ID !== undefined;
  if (k8s && slurm) throw new InputError('--shard auto: both JOB_COMPLETION_INDEX (Kubernetes) and SLURM_ARRAY_TASK_ID (Slurm) are set; give --shard i/N');
  let index: number;
  let count: number;
  let source: string;
  if (k8s) {
    source = 'Kubernetes Indexed Job';
    index = num(env, 'JOB_COMPLETION_INDEX', source);
    if (env.JOB_COMPLETIONS === undefined) throw new InputError('--shard auto: Kubernetes Indexed Job: JOB_COMPLETIONS is not set (set it in the Job to spec.completions)');
    count = num(env, 'JOB_COMPLETIONS', source);
  } else if (slurm) {
    source = 'Slurm job array';
    const id = num(env, 'SLURM_ARRAY_TASK_ID', source);
    count = num(env, 'SLURM_ARRAY_TASK_COUNT', source);
    const min = env.SLURM_ARRAY_TASK_MIN === undefined ? 0 : num(env, 'SLURM_ARRAY_TASK_MIN', source);
    if (env.SLURM_ARRAY_TASK_STEP !== undefined && num(env, 'SLURM_ARRAY_TASK_STEP', source) !== 1)
      throw new InputError(`--shard auto: Slurm job array: step ${clip(env.SLURM_ARRAY_TASK_STEP)}: use a contiguous --array range (e.g. --array=0-${count - 1})`);
    if (env.SLURM_ARRAY_TASK_MAX !== undefined && num(env, 'SLURM_ARRAY_TASK_MAX', source) - min + 1 !== count)
      throw new InputError(`--shard auto: Slurm job array: ${count} tasks from ${min} to ${clip(env.SLURM_ARRAY_TASK_MAX)} is not one contiguous range (use e.g. --array=0-${count - 1})`);
    if (id < min) throw new InputError(`--shard auto: Slurm job array: SLURM_ARRAY_TASK_ID ${id} is below SLURM_ARRAY_TASK_MIN ${min}`);
    index = id - min;
  } else {
    throw new InputError(
      '--shard auto: no batch scheduler found: set JOB_COMPLETION_INDEX and JOB_COMPLETIONS (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (Slurm job array), or give --shard i/N',
    );
  }
  if (count < 1 || index >= count) throw new InputError(`--shard auto: ${source}: index ${index} is not below the count ${count}`);
  return { index, count, source };
}

/** --shard: `i/N`, or `auto` (from the environment, see autoShard). */
export function shardOption(text: string, env: Env = process.env): ShardSpec {
  if (text === 'auto') {
    const { index, count } = autoShard(env);
    return { index, count };
  }
  return parseShard(text);
}
