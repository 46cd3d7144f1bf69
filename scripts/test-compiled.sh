#!/usr/bin/env bash
# Compiles the transform's per-event modules with mypyc for the Python of the Lambda runtime we deploy
# to (stream_processor.infra_gen.TARGET_PYTHON) and runs the transform's tests against the compiled
# modules, so the source stays compilable and a compiled build behaves as the source does. A copy of
# the working tree is compiled (nothing is written into it). Skipped, with a note, when that Python is
# not installed here. PY: the tooling venv's python.
set -euo pipefail
cd "$(dirname "$0")/.."
v=$("${PY:-.venv/bin/python}" -c 'from stream_processor.infra_gen import TARGET_PYTHON; print(TARGET_PYTHON)')
status=0
python=$(./scripts/runtime-venv.sh "$v") || status=$?
if [ "$status" -eq 3 ]; then
  echo "compiled: python$v (the Lambda runtime's) not found; skipping" >&2
  exit 0
elif [ "$status" -ne 0 ]; then
  exit "$status"
fi
python="$PWD/$python"
# mypyc runs in a tool venv of the same Python, with the mypy constraints.txt pins.
tools="$PWD/.venv/tools/mypyc-py$v"
if [ ! -x "$tools/bin/mypyc" ] || [ constraints.txt -nt "$tools/.installed" ]; then
  "$python" -m venv "$tools"
  "$tools/bin/python" -m pip install --quiet -c constraints.txt mypy setuptools 2>&1 | grep -v "is ignored" >&2 || true
  "$tools/bin/mypyc" --version >/dev/null
  touch "$tools/.installed"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r transform_lambda stream_processor tests fixtures pyproject.toml "$work"/
find "$work" -name __pycache__ -prune -exec rm -rf {} +
# The modules every log event goes through; the per-record and per-batch ones stay source.
modules=(transform_lambda/__init__.py transform_lambda/accel.py transform_lambda/decode.py
  transform_lambda/detect.py transform_lambda/encode.py transform_lambda/shape.py
  transform_lambda/timefmt.py transform_lambda/transform.py transform_lambda/parse/*.py)
(cd "$work" && "$tools/bin/mypyc" "${modules[@]}" > mypyc.log 2>&1) || { cat "$work/mypyc.log" >&2; exit 1; }
echo "compiled: python$v, ${#modules[@]} modules compiled with mypyc"
cd "$work"
"$python" -c '
import transform_lambda.transform as t, transform_lambda.parse.vpc_flow as v, transform_lambda.accel as a
assert all(m.__file__.endswith(".so") for m in (t, v, a)), [t.__file__, v.__file__, a.__file__]
'
# The A/B tool's own tests build git revisions from the working tree's source modules.
"$python" -m pytest -q -p no:cacheprovider tests/unit tests/functional/test_handler.py \
  --deselect tests/unit/test_bench_ab.py::test_bench_ab_imports_the_revision_beside_the_working_tree \
  --deselect tests/unit/test_bench_ab.py::test_bench_ab_times_both_trees_and_tells_whether_they_answer_alike
