#!/usr/bin/env bash
# The whole test suite from a fresh machine: install, build, test on PoCL
# (pthread and basic devices) and under Oclgrind; then the installed library
# (examples/ built through pkg-config, and as a meson subproject), the API
# reference (doxygen, warnings as errors) and the fuzz targets (a million
# executions each, ci/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ci/setup.sh
ci/build.sh
meson test -C build --print-errorlogs --num-processes 2
ci/install_test.sh
ci/docs.sh
ci/fuzz.sh
# Robustness runs (ci/sanitize.sh, ci/tsan.sh, ci/valgrind.sh say what each
# checks). valgrind runs one thread at a time, so it runs beside the others
# (in its own process group, ended if they fail); its output follows theirs.
mkdir -p build/meson-logs
setsid ci/valgrind.sh > build/meson-logs/valgrind-run.txt 2>&1 &
valgrind_pid=$!
trap 'kill -- -"$valgrind_pid" 2>/dev/null || true' EXIT
ci/sanitize.sh
ci/tsan.sh
valgrind_status=0
wait "$valgrind_pid" || valgrind_status=$?
trap - EXIT
cat build/meson-logs/valgrind-run.txt
test "$valgrind_status" -eq 0
