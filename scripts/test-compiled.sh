#!/usr/bin/env bash
# Compiles the transform's per-event modules with mypyc for the Python of the Lambda runtime we deploy
# to (stream_processor.infra_gen.TARGET_PYTHON) and runs the transform's tests against the compiled
# modules, so the source stays compilable and a compiled build behaves as the source does. Then the
# same C is cross-compiled for arm64, the Lambda's architecture: every shared object must need no
# glibc newer than the Lambda's (Amazon Linux 2023: 2.34), and the handler's tests run on Debian's
# arm64 python under qemu (scripts/arm64-sysroot.sh). A copy of the working tree is compiled (nothing
# is written into it). Each part is skipped, with a note, when its Python or test bed is not to be
# had here. PY: the tooling venv's python.
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
# What the tests need of the working tree, copied into $1 (from the repository root).
copy_tree() {
  cp -r transform_lambda stream_processor tests fixtures pyproject.toml "$1"/
  find "$1" -name __pycache__ -prune -exec rm -rf {} +
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
copy_tree "$work"
# The modules every log event goes through; the per-record and per-batch ones stay source.
modules=(transform_lambda/__init__.py transform_lambda/accel.py transform_lambda/decode.py
  transform_lambda/detect.py transform_lambda/encode.py transform_lambda/shape.py
  transform_lambda/timefmt.py transform_lambda/transform.py transform_lambda/parse/*.py)
(cd "$work" && "$tools/bin/mypyc" "${modules[@]}" > mypyc.log 2>&1) || { cat "$work/mypyc.log" >&2; exit 1; }
echo "compiled: python$v, ${#modules[@]} modules compiled with mypyc"
repo=$PWD
cd "$work"
"$python" -c '
import transform_lambda.transform as t, transform_lambda.parse.vpc_flow as v, transform_lambda.accel as a
assert all(m.__file__.endswith(".so") for m in (t, v, a)), [t.__file__, v.__file__, a.__file__]
'
# The A/B tool's own tests build git revisions from the working tree's source modules.
"$python" -m pytest -q -p no:cacheprovider tests/unit tests/functional/test_handler.py \
  --deselect tests/unit/test_bench_ab.py::test_bench_ab_imports_the_revision_beside_the_working_tree \
  --deselect tests/unit/test_bench_ab.py::test_bench_ab_times_both_trees_and_tells_whether_they_answer_alike

# arm64: the C mypyc wrote above, cross-compiled, checked and run under emulation.
status=0
bed=$("$repo/scripts/arm64-sysroot.sh" "$v") || status=$?
if [ "$status" -eq 3 ]; then
  echo "compiled: no arm64 test bed here; skipping the arm64 build" >&2
  exit 0
elif [ "$status" -ne 0 ]; then
  exit "$status"
fi
librt=$("$tools/bin/python" -c 'import mypyc, os; print(os.path.join(os.path.dirname(mypyc.__file__), "lib-rt"))')
suffix="cpython-${v//./}-aarch64-linux-gnu.so"
arm="$work/arm64"
mkdir -p "$arm"
(cd "$repo" && copy_tree "$arm")
cc=(aarch64-linux-gnu-gcc -shared -fPIC -O3 -g1 -DNDEBUG -fno-strict-overflow -Wno-unused-function
  -Wno-unused-label -Wno-unreachable-code -Wno-unused-variable -Wno-unused-but-set-variable -Wno-array-bounds
  -Wno-stringop-overread -Wno-stringop-overflow -Wno-cpp
  -I"$bed/root/usr/include/python$v" -I"$bed/root/usr/include")
native=$(ls build/__native_*.c)
group=$(basename "$native" .c)
"${cc[@]}" -I"$librt" -Ibuild "$native" -o "$arm/${group#__native_}__mypyc.$suffix"
for shim in build/transform_lambda.c build/transform_lambda/*.c build/transform_lambda/parse/*.c; do
  module=${shim#build/}
  module=${module%.c}
  # A package's shim is named for the package: it is the package's __init__.
  [ -d "build/$module" ] && module="$module/__init__"
  "${cc[@]}" "$shim" -o "$arm/$module.$suffix"
done
newest=$(find "$arm" -name "*.so" -exec aarch64-linux-gnu-objdump -T {} + | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
if [ "$(printf '%s\nGLIBC_2.34\n' "$newest" | sort -V | tail -1)" != "GLIBC_2.34" ]; then
  echo "compiled: the arm64 build needs $newest; the Lambda's glibc is 2.34" >&2
  exit 1
fi
echo "compiled: arm64, $(find "$arm" -name "*.so" | wc -l) shared objects, newest glibc symbol $newest"
cd "$arm"
run=(env PYTHONPATH="$bed/site" qemu-aarch64-static -L "$bed/root" "$bed/root/usr/bin/python$v")
"${run[@]}" -c '
import platform, transform_lambda.transform as t, transform_lambda.parse.vpc_flow as v
assert platform.machine() == "aarch64", platform.machine()
assert t.__file__.endswith("aarch64-linux-gnu.so"), t.__file__
'
# A smoke run: emulation costs about 30x, so the handler's tests, not all of them.
"${run[@]}" -m pytest -q -p no:cacheprovider tests/functional/test_handler.py
