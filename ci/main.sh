#!/usr/bin/env bash
# The main job from a fresh machine: install, build, list the devices and run
# the layer benchmark on the default device (PoCL's CPU device without a GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
ci/setup.sh
ci/build.sh
build/src/cli/clpool devices
build/bench/clpool-bench "$@"
