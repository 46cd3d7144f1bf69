#!/usr/bin/env bash
# Builds the compiled form of the transform's per-event modules for the Lambda runtime's Python
# (stream_processor.infra_gen.TARGET_PYTHON) into OUT, the directory transform_lambda/native.py loads
# from when it is transform_lambda/_compiled: mypyc turns the modules into C (in a tool venv of that
# Python, mypy pinned by constraints.txt), which is compiled for ARCH: host (this machine's compiler
# and Python, for tests and benchmarks) or arm64 (the Lambda's architecture: cross-compiled against Debian's arm64
# python headers, scripts/arm64-sysroot.sh), along with the hand-written C modules
# (transform_lambda/_*.c). OUT gets the library transform_lambda__mypyc, one extension module per
# compiled module and per C module (named by its full name) and MANIFEST: the sha256 of the package's
# sources (transform_lambda.native.sources_digest) and the compiled modules' names.
# Nothing is written into the working tree.
# Exits 1 if a shared object needs a glibc newer than the Lambda's (Amazon Linux 2023: 2.34), and 3,
# saying why on stderr, when the target Python or the arm64 tools cannot be had here.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${1:?usage: build-native.sh host|arm64 OUT}
out=${2:?usage: build-native.sh host|arm64 OUT}
case "$arch" in host | arm64) ;; *) echo "build-native.sh: no such architecture: $arch" >&2; exit 2 ;; esac
v=$("${PY:-.venv/bin/python}" -c 'from stream_processor.infra_gen import TARGET_PYTHON; print(TARGET_PYTHON)')
python=$(./scripts/runtime-venv.sh "$v")  # exits 3 without that Python
python="$PWD/$python"
# mypyc runs in a tool venv of the same Python, with the mypy constraints.txt pins.
tools="$PWD/.venv/tools/mypyc-py$v"
if [ ! -x "$tools/bin/mypyc" ] || [ constraints.txt -nt "$tools/.installed" ]; then
  "$python" -m venv "$tools"
  "$tools/bin/python" -m pip install --quiet -c constraints.txt mypy setuptools 2>&1 | grep -v "is ignored" >&2 || true
  "$tools/bin/mypyc" --version >/dev/null
  touch "$tools/.installed"
fi
if [ "$arch" = arm64 ]; then
  bed=$(./scripts/arm64-sysroot.sh "$v")  # exits 3 without the arm64 tools
  # What the Lambda gets carries no debug sections (a third of the bytes); symbols stay, for stack
  # traces and profilers.
  cc=(aarch64-linux-gnu-gcc -I"$bed/root/usr/include/python$v" -I"$bed/root/usr/include" -Wl,--strip-debug)
  suffix=".cpython-${v//./}-aarch64-linux-gnu.so"
  objdump=aarch64-linux-gnu-objdump
else
  cc=(cc -I"$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')")
  suffix=$("$python" -c 'import importlib.machinery as m; print(m.EXTENSION_SUFFIXES[0])')
  objdump=objdump
fi
cc+=(-shared -fPIC -O3 -g1 -DNDEBUG -fno-strict-overflow -Wno-unused-function -Wno-unused-label
  -Wno-unreachable-code -Wno-unused-variable -Wno-unused-but-set-variable -Wno-array-bounds
  -Wno-stringop-overread -Wno-stringop-overflow -Wno-cpp)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r transform_lambda pyproject.toml "$work"/  # pyproject.toml: the mypy settings
find "$work" -name __pycache__ -prune -exec rm -rf {} +
rm -rf "$work/transform_lambda/_compiled"
# The digest of the package's sources, as transform_lambda.native checks it: of the copy compiled.
digest=$(cd "$work" && "$python" -c 'from transform_lambda.native import sources_digest; print(sources_digest())')
# The modules every log event goes through. The package __init__ files stay source (they decide which
# build to load); so do the per-record and per-batch modules.
modules=(transform_lambda/accel.py transform_lambda/decode.py transform_lambda/payload.py transform_lambda/detect.py
  transform_lambda/encode.py transform_lambda/shape.py transform_lambda/timefmt.py
  transform_lambda/transform.py)
for source in transform_lambda/parse/*.py; do
  [ "$(basename "$source")" = __init__.py ] || modules+=("$source")
done
# mypycify writes the C under build/ and describes each extension: name, sources, include dirs.
(cd "$work" && "$tools/bin/python" - "${modules[@]}" > mypyc.log 2>&1 <<'EOF') || { cat "$work/mypyc.log" >&2; exit 1; }
import sys
from mypyc.build import mypycify
with open("extensions.txt", "w") as out:
    for ext in mypycify(sys.argv[1:], group_name="transform_lambda", target_dir="build"):
        print(ext.name, " ".join(ext.sources), " ".join(ext.include_dirs), sep="\t", file=out)
EOF
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
while IFS=$'\t' read -r name sources includes; do
  flags=()
  for dir in $includes; do flags+=(-I"$dir"); done
  # shellcheck disable=SC2086  # sources: one or more paths without spaces
  (cd "$work" && "${cc[@]}" "${flags[@]}" $sources -o "$out/$name$suffix")
done < "$work/extensions.txt"
# The hand-written C modules (transform_lambda/_*.c), one extension module each, named like mypyc's.
for source in transform_lambda/_*.c; do
  [ -e "$source" ] || continue
  module=${source%.c}
  module=${module//\//.}
  (cd "$work" && "${cc[@]}" -Wall -Wextra "$source" -o "$out/$module$suffix")
  modules+=("$source")
done
{
  printf 'sources\t%s\n' "$digest"
  for source in "${modules[@]}"; do
    module=${source%.py}
    module=${module%.c}
    printf 'module\t%s\n' "${module//\//.}"
  done
} > "$out/MANIFEST"
newest=$(find "$out" -name "*.so" -exec "$objdump" -T {} + | { grep -o 'GLIBC_[0-9.]*' || true; } | sort -uV | tail -1)
if [ "$(printf '%s\nGLIBC_2.34\n' "$newest" | sort -V | tail -1)" != "GLIBC_2.34" ]; then
  echo "build-native.sh: the $arch build needs $newest; the Lambda's glibc is 2.34" >&2
  exit 1
fi
echo "build-native: python$v $arch, ${#modules[@]} modules, $(find "$out" -name "*.so" | wc -l) shared objects, newest glibc symbol $newest" >&2
