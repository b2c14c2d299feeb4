#!/bin/sh
# Instruction counts of each scaling row (core/benches/scaling.rs) under
# callgrind, which the machine's load and caches do not move: for each n, the
# count of building the input and running the operation, minus the count of
# building the input alone. Prints a markdown table with the ratio of each doubling.
# Usage: bench/scaling/instructions.sh BENCH_BINARY
set -eu
bin=$1
count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" --once "$@" 2>&1 | sed -n 's/.*Collected : //p'
}
echo "| n = | 2000 | 4000 | 8000 | 16000 | doublings |"
echo "| --- | ---: | ---: | ---: | ---: | --- |"
for row in "actions" "roles" "unknown roles" "grants" "instance grants" "keys in a JWKS"; do
  counts=""
  for n in 2000 4000 8000 16000; do
    counts="$counts $(( $(count "$row" $n) - $(count "$row" $n setup) ))"
  done
  echo "$counts" | awk -v row="$row" '{
    line = "| " row " |"; ratios = ""
    for (i = 1; i <= NF; i++) {
      line = line sprintf(" %.1f M |", $i / 1e6)
      if (i > 1) ratios = ratios (i > 2 ? ", " : "") sprintf("%.2f×", $i / $(i - 1))
    }
    print line " " ratios " |"
  }'
done
