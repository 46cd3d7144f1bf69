#!/usr/bin/env bash
# Prints the path of an interpreter of Python VERSION (e.g. 3.13): pyenv's newest VERSION.x when
# pyenv has one (whether or not it is the active version, so a shim that is not active is not
# taken), else python<VERSION> on PATH. Exits 3, saying so on stderr, when there is none that runs.
set -euo pipefail
v=${1:?usage: find-python.sh VERSION}
py=""
if command -v pyenv >/dev/null 2>&1; then
  full=$(pyenv versions --bare 2>/dev/null | grep -E "^${v//./\\.}(\.[0-9]+)?$" | sort -V | tail -1 || true)
  [ -n "$full" ] && py="$(pyenv root)/versions/$full/bin/python$v"
fi
[ -z "$py" ] && py=$(command -v "python$v" || true)
if [ -z "$py" ] || ! "$py" -c 'import sys' >/dev/null 2>&1; then
  echo "python$v not found" >&2
  exit 3
fi
echo "$py"
