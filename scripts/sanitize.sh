#!/usr/bin/env bash
# Runs the tests of the hand-written C (the transform's payload reader and row writers, the twin's
# reader of rows into Arrow and its census counter) against a build of it with AddressSanitizer and
# UndefinedBehaviorSanitizer (stream_processor.native_twin build --sanitize): a memory error or
# undefined behaviour stops the run with its report. It preloads the compiler's sanitizer runtimes
# (libasan, libubsan) into the tooling's Python, and exits 3, saying why, when they are not installed.
#   sanitize.sh              the twin's whole suite and the transform's C tests, the fuzzing tests with
#                            FUZZ_EXAMPLES (default 300): `make sanitize`, about 5 minutes here
#   sanitize.sh --c-tests    the test files of the C alone, FUZZ_EXAMPLES default 100: `make
#                            sanitize-c`, part of `make test`, about 2 minutes here
# PY: the tooling venv's python; CC: the compiler (cc).
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PY:-.venv/bin/python}
cc=${CC:-cc}
if [ "${1:-}" = --c-tests ]; then
  shift
  tests=(tests/twin/test_native_twin.py tests/twin/test_census_counter.py tests/twin/test_census.py
    tests/twin/test_convert_columns.py tests/unit/test_native_rows.py tests/unit/test_native_payload.py)
  examples=${FUZZ_EXAMPLES:-100}
else
  tests=(tests/twin tests/unit/test_native_rows.py tests/unit/test_native_payload.py)
  examples=${FUZZ_EXAMPLES:-300}
fi
if ! command -v "$cc" >/dev/null; then
  echo "sanitize: no C compiler ($cc); skipping" >&2
  exit 3
fi
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
STREAM_PROCESSOR_TEST_NATIVE_DIR="$work/native" FUZZ_EXAMPLES=$examples \
  PYTHONMALLOC=malloc ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  LD_PRELOAD="$asan:$ubsan" \
  "$py" -m pytest -q -p no:cacheprovider --capture=sys "${tests[@]}" "$@" || {
  status=$?
  # 3 is this script's "skipped"; pytest's own 3 (an internal error) is a failure.
  [ "$status" -ne 3 ] || status=1
  exit "$status"
}
