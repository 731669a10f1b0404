#!/usr/bin/env bash
# tests/test_api (the pocl suite's "api" test) under valgrind memcheck in
# build/: any memory error or definite leak fails the run. What is proven to
# sit inside the OpenCL runtime or the C library is suppressed in
# ci/valgrind.supp, each with its evidence. CK_FORK=no keeps the whole suite
# in the one process valgrind checks.
#
# Under valgrind PoCL sees a CPU without AVX-512 (valgrind does not emulate
# it), so the device has another name and every program is a cache miss that
# PoCL compiles with LLVM under valgrind: minutes on a cold machine. The
# compiled programs stay in build/tests/program-cache and ~/.cache/pocl, so
# later runs are quicker.
set -euo pipefail
cd "$(dirname "$0")/.."
ci/build.sh >/dev/null
log_dir="$PWD/build/meson-logs"
rm -f "$log_dir"/valgrind-*.log
export CK_FORK=no
status=0
meson test -C build --print-errorlogs --timeout-multiplier 10 \
  --wrapper "valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
--errors-for-leak-kinds=definite --num-callers=40 \
--suppressions=$PWD/ci/valgrind.supp --log-file=$log_dir/valgrind-%p.log" \
  api || status=$?
# One log per process; PoCL's short-lived children (it runs the linker) leave
# only a header, as valgrind does not follow exec.
for f in "$log_dir"/valgrind-*.log; do
  if grep -q "ERROR SUMMARY" "$f"; then
    echo "== $f"
    grep -E "ERROR SUMMARY|definitely lost|indirectly lost|possibly lost" "$f" || true
  else
    rm -f "$f"
  fi
done
exit "$status"
