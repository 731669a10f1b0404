#!/usr/bin/env bash
# The whole test suite from a fresh machine: install, build, test on PoCL
# (pthread and basic devices) and under Oclgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
ci/setup.sh
ci/build.sh
meson test -C build --print-errorlogs --num-processes 2
# Robustness runs (ci/sanitize.sh, ci/tsan.sh, ci/valgrind.sh say what each checks).
ci/sanitize.sh
ci/tsan.sh
ci/valgrind.sh
