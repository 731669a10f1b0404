#!/usr/bin/env bash
# Builds the API reference (docs/Doxyfile over include/clpool.h) into
# build/docs/html; any doxygen warning fails it (WARN_AS_ERROR).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v doxygen >/dev/null || {
  echo "ci/docs.sh: doxygen is missing (ci/setup.sh installs it)" >&2
  exit 1
}
CLPOOL_VERSION=$(meson introspect --projectinfo meson.build |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')
[ -n "$CLPOOL_VERSION" ] || {
  echo "ci/docs.sh: no version found in meson.build" >&2
  exit 1
}
export CLPOOL_VERSION
rm -rf build/docs
mkdir -p build/docs
doxygen docs/Doxyfile
echo "ci/docs.sh: API reference in build/docs/html/index.html (clpool $CLPOOL_VERSION)"
