#!/bin/sh
# Policy decisions per second with 1,000 rules (see bench_policy.c).
#   bench/policy/run.sh [BUILDDIR] [ITERATIONS [SCENARIO]]
B=${1:-_build/default}
[ $# -gt 0 ] && shift
make -C "$B" bench/policy/bench_policy >/dev/null && "$B/bench/policy/bench_policy" "$@"
