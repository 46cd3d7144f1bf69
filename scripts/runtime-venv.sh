#!/usr/bin/env bash
# Prints the python of a venv holding only the Lambda's dependencies plus the test tools, for Python
# VERSION (a Lambda runtime's, e.g. 3.12), creating or refreshing it under .venv/runtimes first.
# Exits 3, saying so on stderr, when that Python is not installed here.
set -euo pipefail
cd "$(dirname "$0")/.."
v=${1:?usage: runtime-venv.sh VERSION}
py=$(./scripts/find-python.sh "$v")  # exits 3 without that Python
venv=".venv/runtimes/py$v"
if [ ! -x "$venv/bin/python" ] || [ constraints.txt -nt "$venv/.installed" ]; then
  "$py" -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --upgrade pip >&2
  # The Lambda's requirements as the package names them (stream_processor.package_lambda).
  requirements=$("${PY:-.venv/bin/python}" -c \
    'from stream_processor.package_lambda import LAMBDA_REQUIREMENTS; print(*LAMBDA_REQUIREMENTS)')
  read -ra lambda_requirements <<< "$requirements"
  "$venv/bin/python" -m pip install --quiet -c constraints.txt \
    "${lambda_requirements[@]}" pytest pytest-timeout hypothesis >&2
  touch "$venv/.installed"
fi
echo "$venv/bin/python"
