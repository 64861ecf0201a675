#!/usr/bin/env bash
# Benchmark harness: dlc against PyTorch at its searched best setting per model (the MNIST
# autoencoder and classifier, the MLP GAN and DCGAN, the SBM graph network, the conv
# autoencoder), interleaved, see bench/README.md.
#
# Usage:  bench/run.sh                     # 3 pairs of 1-epoch runs per model
#         EPOCHS=2 PAIRS=5 bench/run.sh    # 5 pairs of 2-epoch runs
#         MODELS=ae bench/run.sh           # one model (ae, mlp, gan, dcgan, sbm, convae)
#         GAN_BATCHES=300 bench/run.sh     # time the GANs and convae on 300 batches (scaled to an epoch)
#         SEARCH_ROUNDS=2 bench/run.sh     # torch's 8 settings searched twice per model (0: no search)
#         SEARCH_ROUNDS=0 TORCH_SETTING=t2,ob1,isa=avx512 bench/run.sh   # a fixed torch setting
#         PYTHON=/path/to/python bench/run.sh
#         DLC=/path/to/dlc bench/run.sh    # use a prebuilt dlc binary, skip go build
#         GOFLAGS=-tags=openblas bench/run.sh   # dlc with OpenBLAS behind its GEMM
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

EPOCHS="${EPOCHS:-1}"
PAIRS="${PAIRS:-3}"
MODELS="${MODELS:-ae,mlp,gan,dcgan,sbm}"
PYTHON="${PYTHON:-/usr/bin/python3}"

if [[ ! -x /usr/bin/time ]]; then
	echo "bench/run.sh: /usr/bin/time is needed for peak RSS (apt-get install -y time)" >&2
	exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if [[ -n "${DLC:-}" ]]; then
	dlc_bin="$DLC"
else
	dlc_bin="$tmp/dlc"
	echo "== building ./cmd/dlc"
	go build -o "$dlc_bin" ./cmd/dlc
fi
echo "== dlc GEMM: $(go run ./bench/gemmkernel)"

exec "$PYTHON" bench/compare.py --dlc "$dlc_bin" --python "$PYTHON" \
	--epochs "$EPOCHS" --pairs "$PAIRS" --models "$MODELS" --gan-batches "${GAN_BATCHES:-150}" \
	--search-rounds "${SEARCH_ROUNDS:-1}" --torch-setting "${TORCH_SETTING:-t1,ob-,isa-}"
