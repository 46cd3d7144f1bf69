#!/usr/bin/env bash
# Runs the tests of the hand-written C (the transform's payload reader and row writers, the twin's
# reader of rows into Arrow and its census counter) against a build of it with AddressSanitizer and
# UndefinedBehaviorSanitizer (stream_processor.native_twin build --sanitize): a memory error or
# undefined behaviour stops the run with its report. The fuzzing tests run with FUZZ_EXAMPLES
# (default 300). Opt-in, `make sanitize`: it preloads the compiler's sanitizer runtimes (libasan,
# libubsan) into the tooling's Python, and exits 3, saying why, when they are not installed.
# PY: the tooling venv's python; CC: the compiler (cc).
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PY:-.venv/bin/python}
cc=${CC:-cc}
# -print-file-name prints the bare name when the compiler has no such library.
asan=$("$cc" -print-file-name=libasan.so)
ubsan=$("$cc" -print-file-name=libubsan.so)
if [ ! -e "$asan" ] || [ ! -e "$ubsan" ]; then
  echo "sanitize: $cc has no sanitizer runtimes (libasan, libubsan); skipping" >&2
  exit 3
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$py" -m stream_processor.native_twin build "$work/native" --sanitize
[ -e "$work/native/MANIFEST" ] || { echo "sanitize: the sanitizer build failed" >&2; exit 1; }
# Every Python object from malloc, so ASan sees past the end of small ones too; output captured at
# the sys level only, so a report reaches the terminal. Leaks are not checked:
# the interpreter and pyarrow keep memory until exit by design.
STREAM_PROCESSOR_TEST_NATIVE_DIR="$work/native" FUZZ_EXAMPLES=${FUZZ_EXAMPLES:-300} \
  PYTHONMALLOC=malloc ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  LD_PRELOAD="$asan:$ubsan" \
  "$py" -m pytest -q -p no:cacheprovider --capture=sys tests/twin tests/unit/test_native_rows.py \
  tests/unit/test_native_payload.py "$@"
