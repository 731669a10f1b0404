#!/usr/bin/env bash
# The fuzzing step: builds the libFuzzer targets of tests/fuzz/ with clang in
# build-fuzz/ and runs each for FUZZ_RUNS executions (default one million)
# from its seed corpus. New inputs go to build-fuzz/fuzz-corpus/<target>/
# (the committed seeds stay as they are); a crash stops the step and leaves
# its input in build-fuzz/fuzz-artifacts/<target>/ (see tests/fuzz/README.md).
#
#   ci/fuzz.sh                      every target, a million runs each
#   FUZZ_RUNS=50000000 ci/fuzz.sh   a longer run
#   ci/fuzz.sh npy                  some targets only
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${FUZZ_RUNS:-1000000}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(npy cache_entry window_plan unpool roi_plan)
fi

if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang meson setup build-fuzz --werror -Dfuzzing=true -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C build-fuzz $(printf 'tests/fuzz/fuzz_%s ' "${targets[@]}") >/dev/null

# The window, unpool and roi targets run on the default OpenCL device (PoCL
# on CI) with the disk cache off; window_plan never builds a program, unpool
# builds each variant of unpool.cl once per process, roi_plan four small
# programs.
export CLPOOL_CACHE=0
# UBSan findings stop the run; leaks are checked after every input.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
for target in "${targets[@]}"; do
  exe=build-fuzz/tests/fuzz/fuzz_$target
  seeds=(tests/fuzz/corpus/$target)
  extra=()
  lsan=${LSAN_OPTIONS:-}
  case $target in
    npy) seeds+=(tests/cli/bad_npy) ;;
    cache_entry) extra=(-max_len=512) ;;  # the entry logic needs no long payload
    window_plan) extra=(-max_len=256) ;;  # a descriptor decodes from < 160 bytes
    unpool)  # a descriptor, then up to ~1000 indices; PoCL's compiler leaks at exit
      extra=(-max_len=1024)
      lsan=suppressions=$PWD/tests/fuzz/lsan_pocl.supp ;;
    roi_plan) extra=(-max_len=1024) ;;    # 64 boxes of 5 values decode from < 1000 bytes
  esac
  work=build-fuzz/fuzz-corpus/$target
  artifacts=build-fuzz/fuzz-artifacts/$target
  log=build-fuzz/fuzz-$target.log
  mkdir -p "$work" "$artifacts"
  start=$(date +%s)
  if LSAN_OPTIONS=$lsan "$exe" -runs="$runs" -timeout=30 -print_final_stats=1 -artifact_prefix="$artifacts/" \
      ${FUZZ_SEED:+-seed=$FUZZ_SEED} "${extra[@]}" "$work" "${seeds[@]}" >"$log" 2>&1; then
    verdict=passed
  else
    verdict=FAILED
    status=1
  fi
  seconds=$(( $(date +%s) - start ))
  executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  echo "fuzz $target: $verdict, ${executed:-?} executions in ${seconds} s (${coverage:-cov: ?})"
  grep -E '^fuzz_(window_plan|unpool|roi_plan): ' "$log" | sed 's/^/  /' || true
  if [ "$verdict" = FAILED ]; then
    grep -E -A30 'ERROR|runtime error|fuzz_[a-z_]*: ' "$log" | head -60 || true
    echo "  full log: $log; crashing input: $(ls "$artifacts" | head -1)"
  fi
done
exit $status
