#!/usr/bin/env bash
# Runs the transform's own tests (tests/unit and the handler tests: no pyarrow or duckdb; a few
# unit tests drive stream_processor's bench, which needs neither) on the Python versions of the
# Lambda runtimes (the one we deploy to and the one before), each in a venv holding only the
# Lambda's dependencies plus the test tools (scripts/runtime-venv.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
versions=${LAMBDA_PYTHONS:-"3.12 3.13"}
for v in $versions; do
  status=0
  python=$(./scripts/runtime-venv.sh "$v") || status=$?
  if [ "$status" -eq 3 ]; then
    echo "lambda-runtimes: python$v not found; skipping it" >&2
    continue
  elif [ "$status" -ne 0 ]; then
    exit "$status"
  fi
  echo "lambda-runtimes: python$v ($("$python" -c 'import platform; print(platform.python_version())'))"
  # The runtime has no pyarrow/duckdb: prove the transform and its tests never need them.
  "$python" -c 'import transform_lambda.handler, sys; assert not {"pyarrow", "duckdb", "stream_processor"} & set(sys.modules)'
  "$python" -m pytest -q -p no:cacheprovider tests/unit tests/functional/test_handler.py
done
