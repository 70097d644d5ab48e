#!/bin/sh
# Masking throughput: the pii scanner against a plain PCRE2 loop, one core;
# then the fixed cost per short value (bench_value).  Builds both (-O2) in
# a build dir and runs them.
#   bench/mask/run.sh [BUILD_DIR] [MB] [SECONDS]
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/_build/bench}
if [ ! -f "$build/Makefile" ]; then
	mkdir -p "$build"
	(cd "$build" && "$src/configure" -q CFLAGS="-O2 -g")
fi
make -C "$build" -s bench/mask/bench_mask bench/mask/bench_value
"$build/bench/mask/bench_mask" "${2:-8}" "${3:-1}"
echo
"$build/bench/mask/bench_value"
