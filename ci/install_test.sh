#!/usr/bin/env bash
# Checks clpool as a user gets it: installs it into a temporary prefix, checks
# the installed files and the exported symbols, builds examples/embed_layers.c
# against the installed library through pkg-config only (shared, then the
# static archive) and runs it; then builds the same example in a throwaway
# parent project that takes clpool as a meson subproject. Run after ci/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
# Programs built by earlier runs are reused (the example builds two or three).
export CLPOOL_CACHE_DIR="${CLPOOL_CACHE_DIR:-$repo/build/install-test-cache}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
say() { echo "ci/install_test.sh: $*"; }
fail() {
  echo "ci/install_test.sh: FAILED: $*" >&2
  exit 1
}

# ---- meson install into the prefix (its own build folder, so that the
# installed clpool.pc names the prefix) ---------------------------------------
say "installing into $prefix"
meson setup "$tmp/build" --prefix "$prefix" -Dbuildtype=release --werror >"$tmp/setup.log" ||
  { cat "$tmp/setup.log"; fail "meson setup"; }
meson install -C "$tmp/build" --quiet >"$tmp/install.log" ||
  { cat "$tmp/install.log"; fail "meson install"; }

pc=$(find "$prefix" -name clpool.pc -print -quit)
[ -n "$pc" ] || fail "no clpool.pc installed"
export PKG_CONFIG_PATH=${pc%/clpool.pc}
libdir=$(pkg-config --variable=libdir clpool)
for f in "$prefix/include/clpool.h" "$prefix/bin/clpool" "$libdir/libclpool.a" \
  "$libdir/libclpool.so"; do
  [ -e "$f" ] || fail "$f is not installed"
done
[ "$(pkg-config --modversion clpool)" = "$(meson introspect --projectinfo meson.build |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')" ] ||
  fail "clpool.pc has another version than the project"

# The soname carries the major version; only the API is exported.
soname=$(readelf -d "$libdir/libclpool.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[[ $soname =~ ^libclpool\.so\.[0-9]+$ ]] || fail "soname '$soname' is not libclpool.so.MAJOR"
[ -e "$libdir/$soname" ] || fail "$soname is not installed"
exported=$(nm -D --defined-only "$libdir/libclpool.so" | awk '{print $3}')
[ -n "$exported" ] || fail "libclpool.so exports nothing"
stray=$(grep -v '^clpool_' <<<"$exported" || true)
[ -z "$stray" ] || fail "libclpool.so exports symbols outside the API: $stray"
declared=$(grep -o 'CLPOOL_API [^(]*(' "$prefix/include/clpool.h" | grep -o 'clpool_[a-z0-9_]*($' |
  tr -d '(' | sort)
missing=$(comm -23 <(echo "$declared") <(echo "$exported" | sort))
[ -z "$missing" ] || fail "declared in clpool.h but not exported: $missing"
say "$soname exports the $(wc -l <<<"$exported") functions of clpool.h and nothing else"

LD_LIBRARY_PATH="$libdir" "$prefix/bin/clpool" --version >"$tmp/version.txt" ||
  fail "the installed clpool --version"
head -n 1 "$tmp/version.txt"

# ---- the example, through pkg-config only --------------------------------------
cc=${CC:-cc}
cflags=(-std=c11 -Wall -Wextra -Wpedantic -Werror -O2)
# shellcheck disable=SC2046 # pkg-config prints several words on purpose
"$cc" "${cflags[@]}" examples/embed_layers.c -o "$tmp/embed_layers" \
  $(pkg-config --cflags --libs clpool) -lm
say "built examples/embed_layers.c with: $(pkg-config --cflags --libs clpool)"
LD_LIBRARY_PATH="$libdir" "$tmp/embed_layers" || fail "examples/embed_layers (shared library)"

# The static archive: listed first, it resolves every clpool symbol, so
# --as-needed drops the shared library that pkg-config's -lclpool names.
# shellcheck disable=SC2046
"$cc" "${cflags[@]}" examples/embed_layers.c -o "$tmp/embed_layers_static" \
  $(pkg-config --cflags clpool) "$libdir/libclpool.a" \
  -Wl,--as-needed $(pkg-config --static --libs clpool) -lm
needed=$(readelf -d "$tmp/embed_layers_static" | grep NEEDED || true)
if grep -q libclpool <<<"$needed"; then
  fail "the static example still needs libclpool.so"
fi
"$tmp/embed_layers_static" || fail "examples/embed_layers (static archive)"

# ---- clpool as a meson subproject ----------------------------------------------
parent=$tmp/parent
mkdir -p "$parent/subprojects"
ln -s "$repo" "$parent/subprojects/clpool"
cp examples/embed_layers.c "$parent/"
cat >"$parent/meson.build" <<'EOF'
project('parent', 'c', default_options : ['c_std=c11', 'warning_level=3', 'werror=true'])
clpool_dep = dependency('clpool', version : '>= 0.1.0', fallback : 'clpool')
m_dep = meson.get_compiler('c').find_library('m', required : false)
executable('embed_layers', 'embed_layers.c', dependencies : [clpool_dep, m_dep])
EOF
# PKG_CONFIG_PATH would find the installed clpool first: the fallback must run.
env -u PKG_CONFIG_PATH meson setup "$parent/build" "$parent" >"$tmp/parent.log" ||
  { cat "$tmp/parent.log"; fail "meson setup of the parent project"; }
grep -q 'Executing subproject clpool' "$tmp/parent.log" || fail "the parent did not use the subproject"
ninja -C "$parent/build" >"$tmp/parent-build.log" ||
  { cat "$tmp/parent-build.log"; fail "building the parent project"; }
"$parent/build/embed_layers" || fail "examples/embed_layers in a parent project"
say "ok (install, pkg-config shared and static, subproject)"
