#!/usr/bin/env bash
# The whole test suite from a fresh machine: install, build, test on PoCL
# (pthread and basic devices) and under Oclgrind, then the fuzz targets
# (a million executions each, ci/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ci/setup.sh
ci/build.sh
meson test -C build --print-errorlogs --num-processes 2
ci/fuzz.sh
