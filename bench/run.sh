#!/usr/bin/env bash
# Benchmark harness: dlc vs PyTorch on the MNIST autoencoder (784-256-64-256-784).
#
# Usage:  bench/run.sh                 # 1 epoch each
#         EPOCHS=5 bench/run.sh        # 5 epochs each
#         THREADS=1 bench/run.sh       # torch.set_num_threads(1) (default 2)
#         PYTHON=/path/to/python bench/run.sh
#         DLC=/path/to/dlc bench/run.sh   # use a prebuilt dlc binary, skip go build
#
# dlc side: builds ./cmd/dlc first (compile time not counted), then runs
#   dlc run examples/autoencoder/ae.dl --epochs $EPOCHS --metrics $tmp/dlc.jsonl --out $tmp
# and reads per-epoch "seconds" (training part only) and "test_loss" from the
# JSON-lines metrics file. Torch side: bench/torch_ae.py, last line is JSON.
# seconds/epoch is the mean over all epochs of the training-part time.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

EPOCHS="${EPOCHS:-1}"
THREADS="${THREADS:-2}"
PYTHON="${PYTHON:-/usr/bin/python3}"
N_TRAIN="${N_TRAIN:-60000}"   # MNIST training set size, for samples/s
AE_DL="${AE_DL:-examples/autoencoder/ae.dl}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

now() { date +%s.%N; }

# values_of KEY FILE: print every numeric value of "KEY": <number> in FILE, one per line.
values_of() {
	grep -o "\"$1\"[[:space:]]*:[[:space:]]*-\?[0-9][0-9.eE+-]*" "$2" | sed 's/.*:[[:space:]]*//' || true
}
# array_of KEY FILE: print the elements of the numeric array "KEY": [a, b, ...], one per line.
array_of() {
	grep -o "\"$1\"[[:space:]]*:[[:space:]]*\[[^]]*\]" "$2" | sed 's/.*\[//; s/\]//' | tr ',' '\n' |
		sed 's/[[:space:]]//g' | grep -v '^$' || true
}
mean() { awk '{ s += $1; n++ } END { if (n) printf "%.4f", s / n }'; }
last() { tail -n 1; }

rows=()
dlc_sec="" torch_sec=""
status=0

# ---------------------------------------------------------------- dlc
if [[ -n "${DLC:-}" ]]; then
	echo "== dlc: using prebuilt $DLC"
	dlc_bin="$DLC"
else
	echo "== dlc: building ./cmd/dlc"
	dlc_bin="$tmp/dlc"
fi
if [[ -n "${DLC:-}" ]] || go build -o "$dlc_bin" ./cmd/dlc; then
	echo "== dlc: $AE_DL, $EPOCHS epoch(s)"
	t0="$(now)"
	# --out: keep the loss-curve/reconstruction pictures out of the working tree.
	if "$dlc_bin" run "$AE_DL" --epochs "$EPOCHS" --metrics "$tmp/dlc.jsonl" --out "$tmp" --progress never; then
		t1="$(now)"
		wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
		if [[ -s "$tmp/dlc.jsonl" ]]; then
			n_lines="$(grep -c . "$tmp/dlc.jsonl" || true)"
			[[ "$n_lines" == "$EPOCHS" ]] || echo "warning: metrics file has $n_lines line(s), expected $EPOCHS" >&2
			dlc_sec="$(values_of seconds "$tmp/dlc.jsonl" | mean)"
			dlc_loss="$(values_of test_loss "$tmp/dlc.jsonl" | last)"
			echo "-- dlc metrics:"
			cat "$tmp/dlc.jsonl"
			echo "-- dlc total wall time (incl. data loading, eval): ${wall}s"
			if [[ -n "$dlc_sec" ]]; then
				rows+=("dlc|$dlc_sec|$dlc_loss")
			else
				echo "error: no \"seconds\" in dlc metrics" >&2
				status=1
			fi
		else
			echo "error: dlc wrote no metrics to $tmp/dlc.jsonl" >&2
			status=1
		fi
	else
		echo "error: dlc run failed" >&2
		status=1
	fi
else
	echo "error: go build ./cmd/dlc failed" >&2
	status=1
fi

# ---------------------------------------------------------------- torch
echo
if "$PYTHON" -c 'import torch' 2>/dev/null; then
	echo "== torch: bench/torch_ae.py, $EPOCHS epoch(s), $THREADS thread(s)"
	if "$PYTHON" bench/torch_ae.py --epochs "$EPOCHS" --threads "$THREADS" | tee "$tmp/torch.out"; then
		tail -n 1 "$tmp/torch.out" >"$tmp/torch.json"
		torch_sec="$(array_of epoch_seconds "$tmp/torch.json" | mean)"
		torch_loss="$(array_of test_loss "$tmp/torch.json" | last)"
		rows+=("torch(${THREADS}t)|$torch_sec|$torch_loss")
	else
		echo "error: torch_ae.py failed" >&2
		status=1
	fi
else
	echo "== torch: not available ($PYTHON -c 'import torch' failed); skipping the PyTorch reference"
fi

# ---------------------------------------------------------------- table
echo
printf '%-12s %14s %12s %12s\n' impl "sec/epoch" "samples/s" "test_loss"
printf '%-12s %14s %12s %12s\n' ------------ -------------- ------------ ------------
for r in "${rows[@]+"${rows[@]}"}"; do
	IFS='|' read -r impl sec loss <<<"$r"
	sps="$(awk -v n="$N_TRAIN" -v s="$sec" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "-" }')"
	[[ -n "$loss" ]] && loss="$(awk -v l="$loss" 'BEGIN { printf "%.5f", l }')"
	printf '%-12s %14.3f %12s %12s\n' "$impl" "$sec" "$sps" "${loss:--}"
done
if [[ -n "$dlc_sec" && -n "$torch_sec" ]]; then
	awk -v d="$dlc_sec" -v t="$torch_sec" 'BEGIN { if (t > 0) printf "\ndlc_seconds / torch_seconds = %.3f\n", d / t }'
fi
exit "$status"
