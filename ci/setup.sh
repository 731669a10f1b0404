#!/usr/bin/env bash
# Installs what clpool needs to build, test, fuzz (clang and its libFuzzer
# runtime) and benchmark on Debian 12, only if something is missing. Runs
# apt-get as root, or through sudo.
set -euo pipefail

packages=(
  gcc pkg-config python3 meson ninja-build
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo
  check oclgrind valgrind doxygen
  libdnnl-dev libxnnpack-dev libpthreadpool-dev
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "ci/setup.sh: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
