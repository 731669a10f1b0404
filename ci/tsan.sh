#!/usr/bin/env bash
# ThreadSanitizer on the threads suite (several threads sharing one context)
# in build-tsan/, on both PoCL devices; any report fails the run.
#
# PoCL is not instrumented: TSan sees its locks and thread starts through
# its interceptors but not its own memory accesses, so it checks clpool's
# code and the tests, and the order PoCL's locks, events and clFinish
# establish. Measured usable with PoCL 3.1: no report with warm or cold
# (POCL_KERNEL_CACHE=0) kernel caches, and it reports the race when the
# program cache's lock is dropped around a build.
# CK_FORK=no: TSan does not support new threads in a child forked from a
# multi-threaded process.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build-tsan/build.ninja ]; then
  meson setup build-tsan --werror -Dbuildtype=debugoptimized -Db_sanitize=thread
fi
ninja -C build-tsan
if [ -d build/tests/program-cache ]; then
  mkdir -p build-tsan/tests/program-cache
  cp -rnl build/tests/program-cache/. build-tsan/tests/program-cache/ 2>/dev/null ||
    cp -rn build/tests/program-cache/. build-tsan/tests/program-cache/
fi
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
export CK_FORK=no
export CK_TIMEOUT_MULTIPLIER=3
meson test -C build-tsan --print-errorlogs --num-processes 2 --timeout-multiplier 3 \
  threads threads-basic
