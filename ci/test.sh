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
