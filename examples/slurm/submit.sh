#!/bin/bash
# Submit a campaign of N shards (default 4) and its merge, which runs once every shard has ended well:
#   BPFSPEC_SEED=1234 BPFSPEC_RUNS=1000000 ./submit.sh 4
# The environment (BPFSPEC_*, PATH with bpfspec on it) goes to the jobs (sbatch exports it by default).
set -euo pipefail
N=${1:-4}
here=$(cd "$(dirname "$0")" && pwd)
: "${BPFSPEC_SEED:?set BPFSPEC_SEED, the campaign seed}"
array=$(sbatch --parsable --array=0-$((N - 1)) "$here/fuzz-array.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable --dependency=afterok:"$array" "$here/merge.sbatch")
echo "array job $array ($N shards), merge job ${merge%%;*}"
