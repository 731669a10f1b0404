#!/usr/bin/env bash
# The test suite on PoCL's default device (the "pocl" suite: the basic
# device and the Oclgrind simulator run the same host code) again in
# build-sanitize/,
# built with AddressSanitizer (leaks included) and UndefinedBehaviorSanitizer:
# any report fails the run. The window sweep runs CLPOOL_TEST_SCALE percent
# of its parameter sets on the default device (default 25; the other window
# runs keep their own scale from tests/meson.build).
#
# Leaks proven to sit inside PoCL are suppressed in ci/lsan.supp, each with
# its evidence. UBSan needs no suppression file: it checks only code compiled
# with it (clpool and its tests), and the OpenCL runtime is not.
# Check forks a child per test; ASan and LSan work in the children (a leak
# or an error makes the child exit non-zero, which fails the test).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build-sanitize/build.ninja ]; then
  meson setup build-sanitize --werror -Dbuildtype=debugoptimized \
    -Db_sanitize=address,undefined -Dc_args='-fno-omit-frame-pointer -fno-sanitize-recover=all'
fi
ninja -C build-sanitize

# Compiled programs do not depend on how the host code was built: start from
# the main build's program cache when there is one (links, no copies).
if [ -d build/tests/program-cache ]; then
  mkdir -p build-sanitize/tests/program-cache
  cp -rnl build/tests/program-cache/. build-sanitize/tests/program-cache/ 2>/dev/null ||
    cp -rn build/tests/program-cache/. build-sanitize/tests/program-cache/
fi

# fast_unwind_on_malloc=0: PoCL and LLVM have no frame pointers, and the
# suppressions match frames deep inside them.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1:print_summary=1:fast_unwind_on_malloc=0:malloc_context_size=40"
export LSAN_OPTIONS="suppressions=$PWD/ci/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:print_summary=1"
export CLPOOL_TEST_SCALE="${CLPOOL_TEST_SCALE:-25}"
# Instrumented code is slower (and ci/test.sh runs valgrind beside): Check's
# per-tcase timeouts and meson's per-test ones are tripled.
export CK_TIMEOUT_MULTIPLIER=3
meson test -C build-sanitize --suite pocl --print-errorlogs --num-processes 2 \
  --timeout-multiplier 3
