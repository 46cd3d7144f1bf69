#!/usr/bin/env bash
# Runs the transform's own tests (tests/unit and the handler tests: no pyarrow, duckdb or
# stream_processor) on the Python versions of the Lambda runtimes we deploy to, each in a venv
# holding only the Lambda's dependencies plus the test tools.
set -euo pipefail
cd "$(dirname "$0")/.."
versions=${LAMBDA_PYTHONS:-"3.12 3.13"}
for v in $versions; do
  py=""
  if command -v pyenv >/dev/null 2>&1; then
    full=$(pyenv versions --bare 2>/dev/null | grep -E "^${v//./\\.}(\.[0-9]+)?$" | sort -V | tail -1 || true)
    [ -n "$full" ] && py="$(pyenv root)/versions/$full/bin/python$v"
  fi
  [ -z "$py" ] && py=$(command -v "python$v" || true)
  if [ -z "$py" ] || ! "$py" -c 'import sys' >/dev/null 2>&1; then
    echo "lambda-runtimes: python$v not found; skipping it" >&2
    continue
  fi
  venv=".venv/runtimes/py$v"
  if [ ! -x "$venv/bin/python" ] || [ constraints.txt -nt "$venv/.installed" ]; then
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet -c constraints.txt \
      aws-lambda-powertools aws-kinesis-agg six orjson isal pybase64 pytest pytest-timeout hypothesis
    touch "$venv/.installed"
  fi
  echo "lambda-runtimes: python$v ($("$venv/bin/python" -c 'import platform; print(platform.python_version())'))"
  # The runtime has no pyarrow/duckdb: prove the transform and its tests never need them.
  "$venv/bin/python" -c 'import transform_lambda.handler, sys; assert not {"pyarrow", "duckdb", "stream_processor"} & set(sys.modules)'
  "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/unit tests/functional/test_handler.py
done
