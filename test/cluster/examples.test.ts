// examples/kubernetes and examples/slurm (#15): the manifests parse and agree with --shard auto.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { projectRoot } from '../_shared.js';

const k8s = resolve(projectRoot, 'examples/kubernetes');
const slurm = resolve(projectRoot, 'examples/slurm');

const docs = (file: string): Record<string, any>[] => {
  const all = parseAllDocuments(readFileSync(join(k8s, file), 'utf8'));
  for (const d of all) if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
  return all.map((d) => d.toJS() as Record<string, any>);
};

test('examples/kubernetes: every manifest is YAML of a known kind', (t) => {
  const files = readdirSync(k8s).filter((f) => f.endsWith('.yaml'));
  t.deepEqual(files.sort(), ['fuzz-job.yaml', 'merge-job.yaml', 'pvc.yaml']);
  for (const f of files) for (const d of docs(f)) t.true(['Job', 'PersistentVolumeClaim'].includes(d.kind), `${f}: ${d.kind}`);
});

test('examples/kubernetes: an Indexed Job whose JOB_COMPLETIONS is its completion count, writing corpus and summary to the volume the merge reads', (t) => {
  const [job] = docs('fuzz-job.yaml');
  const spec = job!.spec;
  t.is(job!.apiVersion, 'batch/v1');
  t.is(spec.completionMode, 'Indexed');
  const c = spec.template.spec.containers[0];
  const env = new Map<string, string>(c.env.map((e: { name: string; value: string }) => [e.name, e.value]));
  t.is(env.get('JOB_COMPLETIONS'), String(spec.completions));
  t.is(spec.parallelism, spec.completions);
  const script = c.args.join('\n') as string;
  t.regex(script, /bpfspec fuzz --shard auto /);
  t.regex(script, /--corpus "\/campaign\/corpus\/\$shard"/);
  t.regex(script, /--json > /);
  const claim = spec.template.spec.volumes[0].persistentVolumeClaim.claimName;
  const [merge] = docs('merge-job.yaml');
  t.is(merge!.spec.template.spec.volumes[0].persistentVolumeClaim.claimName, claim);
  t.regex(merge!.spec.template.spec.containers[0].args.join('\n'), /bpfspec corpus merge \/campaign\/corpus\/shard-\* -o \/campaign\/merged \\\n\s+--summaries \/campaign\/summaries\/shard-\*\.json --json/);
  const [pvc] = docs('pvc.yaml');
  t.is(pvc!.metadata.name, claim);
  t.deepEqual(pvc!.spec.accessModes, ['ReadWriteMany']);
  // the pod's script is valid sh
  const sh = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
  t.is(sh.status, 0, sh.stderr);
});

test('examples/slurm: the scripts are valid bash, the merge depends on the array with afterok', (t) => {
  for (const f of ['fuzz-array.sbatch', 'merge.sbatch', 'submit.sh']) {
    const r = spawnSync('bash', ['-n', join(slurm, f)], { encoding: 'utf8' });
    t.is(r.status, 0, `${f}: ${r.stderr}`);
  }
  t.regex(readFileSync(join(slurm, 'submit.sh'), 'utf8'), /--dependency=afterok:"\$array"/);
  t.regex(readFileSync(join(slurm, 'fuzz-array.sbatch'), 'utf8'), /bpfspec fuzz --shard auto /);
});
