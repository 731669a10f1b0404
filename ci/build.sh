#!/usr/bin/env bash
# Configures (once) and builds clpool in build/ with warnings as errors.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
  meson setup build --werror -Dbuildtype=release
fi
ninja -C build
