#!/usr/bin/env bash
# bench/graphscale/run.sh BINARY: the graph-scale runs of issue 20, one at a time, each
# under /usr/bin/time -v for its peak RSS (Maximum resident set size):
#
#   full10m      full batch, 1M nodes and 10M edges (sbm), against its memory estimate
#   sampled10m   the same graph and model on neighbour-sampled mini-batches
#   full100m     10M nodes and 100M edges (bench/sbmgen, 2% of the labels kept) full
#                batch: refused by its memory estimate, over the machine's memory
#   sampled100m  the same on neighbour-sampled mini-batches
#
# The 100M-edge graph is written once to sbm100m/ (about 2.1 GB of .npy files). Each run
# writes NAME.out (its output), NAME.jsonl (its metrics) and NAME.time (time -v) here. The
# machine is shared: the load average is printed before each run; read the times with it.
# ONLY="sampled10m sampled100m" restricts it to those runs.
set -u
if [ $# -ne 1 ]; then echo "usage: $0 BINARY" >&2; exit 2; fi
BIN=$(readlink -f "$1")
cd "$(dirname "$(readlink -f "$0")")" || exit 1
run() {
  local name=$1
  if [ -n "${ONLY:-}" ] && ! [[ " $ONLY " == *" $name "* ]]; then return; fi
  echo "== $name  (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  /usr/bin/time -v "$BIN" run "$name.dl" --progress never --out /tmp --metrics "$name.jsonl" >"$name.out" 2>"$name.time"
  echo "   exit $?"
  grep -vE 'Command being timed' "$name.time" | grep -E '^dlc|Maximum resident|Elapsed' | sed 's/^\s*/   /'
  grep -E '^(training|sampling|memory|epoch)' "$name.out" | sed 's/^/   /'
}
run full10m
run sampled10m
if [[ -z "${ONLY:-}" || " $ONLY " == *100m* ]] && [ ! -f sbm100m/labels.npy ]; then
  echo "== writing sbm100m/ (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  /usr/bin/time -v go run ../sbmgen -out sbm100m -nodes 10000000 -edges 100000000 -known 0.02 2>sbmgen.time
  grep -E 'Maximum resident|Elapsed' sbmgen.time | sed 's/^\s*/   /'
fi
run full100m
run sampled100m
