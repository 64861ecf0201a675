#!/bin/bash
# bench/onnx/run.sh: every ONNX model dlc export writes for the examples passes
# onnx.checker and shape inference, and onnxruntime-node gives dlc apply's numbers.
#
#   bench/onnx/run.sh [WORK]     (from the repository root; WORK defaults to /tmp/dlc-onnx)
#
# Needs /usr/bin/python3 with onnx and numpy, node, and onnxruntime-node installed with
# npm into $WORK/ort (the script runs `npm install onnxruntime-node` there when missing).
set -euo pipefail
shopt -s nullglob
root=$(pwd)
work=${1:-/tmp/dlc-onnx}
mkdir -p "$work"
dlc="$work/dlc"
go build -o "$dlc" ./cmd/dlc
if [ ! -d "$work/ort/node_modules/onnxruntime-node" ]; then
  mkdir -p "$work/ort" && (cd "$work/ort" && npm install --silent onnxruntime-node >/dev/null)
fi
export ORT_DIR="$work/ort"
py=/usr/bin/python3
pass=0; fail=0; models=()
for ex in examples/*/*.dl; do
  name=$(basename "$(dirname "$ex")")_$(basename "$ex" .dl)
  d="$work/$name"; rm -rf "$d"; mkdir -p "$d"
  if ! "$dlc" export "$ex" --to onnx -o "$d/m.onnx" > "$d/export.out" 2>&1; then
    echo "$name: not exported: $(tail -1 "$d/export.out")"; continue
  fi
  "$dlc" export "$ex" -o "$d/torch" > /dev/null
  "$dlc" import "$d/torch/weights.safetensors" --like "$ex" -o "$d/w.safetensors" > /dev/null
  for m in "$d"/m.*.onnx; do
    role=$(basename "$m" .onnx); role=${role#m.}
    models+=("$m")
    # Random inputs of a batch of 3, named and shaped as the model's inputs.
    args=$($py - "$m" "$d/$role" <<'PY'
import sys, onnx, numpy as np
m = onnx.load(sys.argv[1]); rng = np.random.default_rng(1); out = []
for i in m.graph.input:
    dims = [d.dim_value if d.dim_value else 3 for d in i.type.tensor_type.shape.dim]
    p = f"{sys.argv[2]}.{i.name}.npy"; np.save(p, rng.random(dims, dtype=np.float32)); out.append(f"{i.name}={p}")
print(" ".join(out))
PY
)
    ins=(); for a in $args; do ins+=(--in "$a"); done
    "$dlc" apply "$ex" --init "$d/w.safetensors" --block "$role" "${ins[@]}" --out "$d/$role.dlc.npy" > /dev/null
    node "$root/bench/onnx/ort.mjs" "$m" "$d/$role.ort.npy" $args
    r=$($py -c "import numpy as np, sys; a=np.load(sys.argv[1]); b=np.load(sys.argv[2]).reshape(a.shape); s=float(np.abs(a).max()); e=float(np.abs(a-b).max()); print(('ok' if e <= 1e-5*max(s,1e-30) else 'FAIL'), f'{e:.3g}', f'{s:.3g}', a.shape)" "$d/$role.dlc.npy" "$d/$role.ort.npy")
    echo "$name $role: $r (max |ort - dlc|, max |dlc|, shape)"
    case $r in ok*) pass=$((pass+1));; *) fail=$((fail+1));; esac
  done
done
$py - "${models[@]}" <<'PY'
import sys, onnx
from onnx import shape_inference
bad = 0
for p in sys.argv[1:]:
    try:
        m = onnx.load(p); onnx.checker.check_model(m, full_check=True)
        shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
    except Exception as e:
        bad += 1; print("checker FAIL", p, str(e)[:300])
print(f"onnx {onnx.__version__}: {len(sys.argv)-1-bad} of {len(sys.argv)-1} models pass onnx.checker (full_check) and strict shape inference")
PY
echo "onnxruntime-node: $pass of $((pass+fail)) functions within 1e-5 of dlc (relative to the largest |value|)"
[ "$fail" = 0 ]
