#!/usr/bin/env bash
# The transform's throughput and stages again on the Python of the Lambda runtime we deploy to
# (stream_processor.infra_gen.TARGET_PYTHON), in a venv of the Lambda's own dependencies
# (scripts/runtime-venv.sh); results in $BENCH_DIR/results-py<version>.json (default .bench).
# Skipped, with a note, when that Python is not installed here or its venv cannot be made (pip needs
# the package index). Then the same, with cold start and memory, on the compiled build
# (results-py<version>-compiled.json).
# Arguments go to the bench (e.g. --quick). PY: the tooling venv's python.
set -euo pipefail
cd "$(dirname "$0")/.."
v=$("${PY:-.venv/bin/python}" -c 'from stream_processor.infra_gen import TARGET_PYTHON; print(TARGET_PYTHON)')
status=0
python=$(./scripts/runtime-venv.sh "$v") || status=$?
if [ "$status" -eq 3 ]; then
  echo "bench: python$v (the Lambda runtime's) not found; skipping its run" >&2
  exit 0
elif [ "$status" -ne 0 ]; then
  echo "bench: could not make the python$v venv (see above); skipping its run" >&2
  exit 0
fi
echo
echo "=== on the Lambda runtime's Python ($v) ==="
"$python" -m stream_processor.bench --only throughput,stages --out "${BENCH_DIR:-.bench}/results-py$v.json" "$@"

# The same again with the compiled build for this machine (scripts/build-native.sh host), in a copy of
# the tree: how much the compiled build `make package` ships saves, here. Skipped, with a note, when
# it cannot be built.
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
cp -r transform_lambda stream_processor pyproject.toml "$copy"/
find "$copy" -name __pycache__ -prune -exec rm -rf {} +
if ! PY="${PY:-.venv/bin/python}" ./scripts/build-native.sh host "$copy/transform_lambda/_compiled"; then
  echo "bench: the compiled build could not be made here; skipping its run" >&2
  exit 0
fi
repo=$PWD
repo_python=$repo/$python
out=$(cd "${BENCH_DIR:-.bench}" && pwd)/results-py$v-compiled.json
echo
echo "=== on the Lambda runtime's Python ($v), compiled ==="
# GIT_*: the results name the repository's commit, not the copy's.
# The build the package ships: its cold start and memory too.
(cd "$copy" && GIT_DIR="$repo/.git" GIT_WORK_TREE="$repo" "$repo_python" -m stream_processor.bench \
  --only throughput,stages,cold_start,memory --out "$out" "$@")
