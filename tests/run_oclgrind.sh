#!/bin/sh
# Runs one test program in its small mode (CLPOOL_TEST_SMALL=1, no fork)
# under oclgrind: optimised kernels with API and data-race checks; unoptimised
# kernels with data-race and uninitialized-value checks (oclgrind 21.10's
# uninitialized plugin aborts on the LLVM 'freeze' instruction that optimised
# builds contain); the 8- and 16-wide vector variants with data-race checks.
# Fails when the program fails or oclgrind reports anything. The disk program cache
# is off: a cached optimised binary would otherwise reach the second pass.
# Usage: run_oclgrind.sh OCLGRIND PROGRAM [ARGS...]
set -u
oclgrind=$1
shift
dir=$(mktemp -d "${TMPDIR:-/tmp}/clpool-oclgrind.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT

status=0
run_pass() {
    name=$1
    shift
    log=$dir/$name.log
    err=$dir/$name.stderr
    echo "run_oclgrind: pass '$name': oclgrind $*" >&2
    CLPOOL_TEST_SMALL=1 CK_FORK=no CLPOOL_CACHE=0 "$oclgrind" --log "$log" "$@" 2>"$err"
    rc=$?
    cat "$err" >&2
    if [ "$rc" -ne 0 ]; then
        echo "run_oclgrind: pass '$name' exited with status $rc" >&2
        status=1
    fi
    # Everything oclgrind reports goes to its log, so any line there is a
    # finding ("Invalid read of size 4 ...", "Read-write data race at ...",
    # "Uninitialized value written to ...", "OCLGRIND FATAL ERROR ...").
    if [ -s "$log" ] && grep -q '[^[:space:]]' "$log"; then
        echo "run_oclgrind: pass '$name': oclgrind reported:" >&2
        head -n 200 "$log" >&2
        status=1
    fi
    # In case a report bypasses --log.
    if grep -E -q '^(Invalid |Uninitialized |Unaligned |Work-group divergence|Oclgrind|OCLGRIND)|data race at' "$err"; then
        echo "run_oclgrind: pass '$name': oclgrind findings on stderr" >&2
        status=1
    fi
}

# oclgrind's device calls itself a GPU, so the library picks its GPU variants
# (one output per work-item, one work-item per chunk, scalar global loads).
run_pass api-races --check-api --data-races "$@"
run_pass uninitialized --build-options -cl-opt-disable --data-races --uninitialized "$@"
# The vector variants, forced through the library's tuning overrides: the CPU
# one (8 outputs per work-item, a work-item per row; with the plane shape
# baked into the program) and the 16-wide one.
CLPOOL_TUNE_RUN=8 CLPOOL_TUNE_ROWS=1 CLPOOL_TUNE_BAKE=1 run_pass run8-rows --data-races "$@"
CLPOOL_TUNE_RUN=16 CLPOOL_TUNE_ROWS=0 run_pass run16-chunks --data-races "$@"
[ "$status" -eq 0 ] && echo "run_oclgrind: clean"
exit "$status"
