#!/usr/bin/env bash
# Builds the compiled form of the transform's per-event modules (scripts/build-native.sh) for this host
# and runs the transform's tests against it, in a copy of the working tree holding the build as
# transform_lambda/_compiled, as a package made with `make package` holds it: the source stays
# compilable, the compiled build answers as the source does, and the package loads it. Then the arm64
# build, the Lambda's architecture (glibc symbols checked against the Lambda's), whose handler tests run
# on Debian's arm64 python under qemu (scripts/arm64-sysroot.sh), and then the arm64 package itself
# (package_lambda --native), unzipped and run alone. Each part is skipped, with a note, when its Python
# or test bed is not to be had here; the package index must be reachable (pip). PY: the tooling venv's
# python.
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
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# What the tests need of the working tree, with a compiled build for ARCH, in $work/ARCH.
tree_with_build() {
  mkdir -p "$work/$1"
  cp -r transform_lambda stream_processor tests fixtures pyproject.toml "$work/$1"/
  find "$work/$1" -name __pycache__ -prune -exec rm -rf {} +
  ./scripts/build-native.sh "$1" "$work/$1/transform_lambda/_compiled"
}
# Loads the build (every module of its manifest from its extension file) or says why not.
check_loaded='
import sys, transform_lambda.handler, transform_lambda.native as n
assert n.STATUS == n.COMPILED, n.STATUS
_, modules = n.read_manifest(sys.argv[1])
for name in modules:
    __import__(name)
    assert sys.modules[name].__file__.endswith(".so"), sys.modules[name].__file__
print(f"compiled: {len(modules)} modules load from the build")
'
tree_with_build host
repo=$PWD
cd "$work/host"
"$python" -c "$check_loaded" transform_lambda/_compiled
"$python" -m pytest -q -p no:cacheprovider tests/unit tests/functional/test_handler.py
cd "$repo"

# arm64: the same modules built for arm64 (mypyc again, then the cross-compiler), checked and run under
# emulation.
status=0
bed=$(./scripts/arm64-sysroot.sh "$v") || status=$?
if [ "$status" -eq 3 ]; then
  echo "compiled: no arm64 test bed here; skipping the arm64 build" >&2
  exit 0
elif [ "$status" -ne 0 ]; then
  exit "$status"
fi
tree_with_build arm64
cd "$work/arm64"
if aarch64-linux-gnu-objdump -h transform_lambda/_compiled/*.so | grep -q '[.]debug_'; then
  echo "compiled: the arm64 build carries debug sections" >&2
  exit 1
fi
run=(env PYTHONPATH="$bed/site" qemu-aarch64-static -L "$bed/root" "$bed/root/usr/bin/python$v")
"${run[@]}" -c 'import platform; assert platform.machine() == "aarch64", platform.machine()'
"${run[@]}" -c "$check_loaded" transform_lambda/_compiled
# A smoke run: emulation costs about 30x, so the handler's tests, not all of them.
"${run[@]}" -m pytest -q -p no:cacheprovider tests/functional/test_handler.py

# The package as `make package` makes it, unzipped and run on its own (its dependencies are in
# it; the runtime's boto3 is not needed without a stream to re-ingest into), against the source here.
cd "$repo"
events=(fixtures/events/*.json "$work/mixed.json")
"${PY:-.venv/bin/python}" -c '
import json, sys
from stream_processor.bench.workload import MIB, firehose_event
json.dump(firehose_event(MIB // 4).event, open(sys.argv[1], "w"))
' "$work/mixed.json"
"${PY:-.venv/bin/python}" -m stream_processor.package_lambda --out "$work/package/transform_lambda.zip" \
  --target-python "$python" --native "$work/arm64/transform_lambda/_compiled"
mkdir "$work/package/unzipped"
"${PY:-.venv/bin/python}" -m zipfile -e "$work/package/transform_lambda.zip" "$work/package/unzipped"
smoke() {  # OUT PYTHON...: the smoke run, its logs shown only when it fails
  local out=$1
  shift
  "$@" scripts/package-smoke.py "$out" "${events[@]}" > "$work/smoke.log" 2>&1 || {
    tail -20 "$work/smoke.log" >&2
    exit 1
  }
}
smoke "$work/source.txt" env PYTHONPATH="$repo" "$python"
smoke "$work/package.txt" env PYTHONPATH="$work/package/unzipped" qemu-aarch64-static -L "$bed/root" \
  "$bed/root/usr/bin/python$v"
# Every accelerator the package ships must load on arm64: one that did not would answer the same
# bytes, only slower, so the digests alone would not tell.
if ! grep -qx "$(printf 'accelerators\torjson,isal,pybase64,msgspec')" "$work/package.txt"; then
  echo "compiled: the package runs without some accelerator: $(grep accelerators "$work/package.txt")" >&2
  exit 1
fi
if [ "$(tail -1 "$work/package.txt")" != "$(printf 'build\tcompiled')" ]; then
  echo "compiled: the package did not run its compiled build: $(tail -1 "$work/package.txt")" >&2
  exit 1
fi
if ! diff <(head -n -1 "$work/source.txt") <(head -n -1 "$work/package.txt") >&2; then
  echo "compiled: the packaged arm64 build answered differently from the source" >&2
  exit 1
fi
echo "compiled: the arm64 package answers ${#events[@]} events as the source does, from its compiled build"
