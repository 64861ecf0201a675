#!/usr/bin/env bash
# bench/killloop.sh DLC [ROUNDS]: kill dlc with SIGKILL, then with SIGINT, ROUNDS times each
# (default 10), at a random moment of each writing command: sample, apply, embed and
# run --save. After every kill no temporary file of an output may be left (.NAME.tmpDIGITS),
# and the last good output must still load: a .npy is checked for a whole array after
# its header, a checkpoint is loaded by dlc run --init --epochs 0, a PNG must end in its
# IEND chunk. Lock files a SIGKILL leaves (.NAME.lock, which the next writer takes over and
# removes) are counted apart. Prints one line per command and signal; exits 1 on a failure.
set -u
DLC=${1:?usage: killloop.sh DLC [ROUNDS]}
ROUNDS=${2:-10}
DLC=$(realpath "$DLC")
W=$(mktemp -d /tmp/dlc-killloop.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W"

python3 - <<'PY'
import random
r = random.Random(1)
with open("p.csv", "w") as f:
    f.write("a,b,c,d\n")
    for _ in range(20000):
        u, v = r.gauss(0, 1), r.gauss(0, 1)
        f.write("%.4f,%.4f,%.4f,%.4f\n" % (u, v, u + v, u - v))
with open("d.csv", "w") as f:
    f.write("a,b,c,d,y\n")
    for i in range(6000):
        u, v = r.gauss(0, 1), r.gauss(0, 1)
        f.write("%.4f,%.4f,%.4f,%.4f,%.4f\n" % (u, v, u * v, u - v, u + v))
import struct
n = 1000000
hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, 4), }" % n
hdr += " " * (127 - len(hdr) - 10) + "\n"
with open("x.npy", "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
    f.write(struct.pack("<f", 0.5) * (4 * n))
PY
cat > gan.dl <<'DL'
generator G(z: [B, 4]) -> [B, 4] {
    return dense(relu(dense(z, 32)), 4)
}
discriminator D(x: [B, 4]) -> [B, 1] {
    return dense(leaky_relu(dense(x, 32), 0.2), 1)
}
gan GAN(gen: G, disc: D) {
    noise = normal(4)
}
train GAN {
    data      = csv(path: "p.csv", label: "")
    optimizer = adam(lr: 0.001, beta1: 0.5)
    batch     = 16
    epochs    = 1000
    seed      = 5
}
DL
cat > ae.dl <<'DL'
encoder Enc(x: [B, 4]) -> [B, 3] {
    return dense(relu(dense(x, 16)), 3)
}
decoder Dec(z: [B, 3]) -> [B, 4] {
    return dense(relu(dense(z, 16)), 4)
}
autoencoder AE(enc: Enc, dec: Dec) {
    loss = mse
}
train AE {
    data      = csv(path: "d.csv", label: "y", target: "value")
    optimizer = adam(lr: 0.01)
    batch     = 64
    epochs    = 1
    seed      = 1
}
DL

"$DLC" run gan.dl --epochs 1 --save g.safetensors --out out --progress never >/dev/null || exit 1
"$DLC" run ae.dl --save a.safetensors --out out --progress never >/dev/null || exit 1

# check_npy FILE: a whole float32 array after the header.
check_npy() {
    python3 - "$1" <<'PY'
import ast, os, struct, sys
p = sys.argv[1]
b = open(p, "rb").read(10)
assert b[:6] == b"\x93NUMPY", "magic"
hl = struct.unpack("<H", b[8:10])[0]
h = ast.literal_eval(open(p, "rb").read(10 + hl)[10:].decode())
n = 1
for d in h["shape"]:
    n *= d
assert os.path.getsize(p) == 10 + hl + 4 * n, "size"
PY
}
check_png() { python3 -c "import sys; b=open(sys.argv[1],'rb').read(); assert b[:8]==b'\x89PNG\r\n\x1a\n' and b[-8:-4]==b'IEND'" "$1"; }
check_ckpt() { "$DLC" run gan.dl --init "$1" --epochs 0 --progress never --out out >/dev/null 2>&1; }

fail=0
# loop NAME SIGNAL CHECK FILE... -- COMMAND...: ROUNDS kills of COMMAND with SIGNAL at a
# random moment within its first 1.5 s; FILE... are its outputs, each checked with CHECK.
loop() {
    local name=$1 sig=$2 check=$3; shift 3
    local files=()
    while [ "$1" != -- ]; do files+=("$1"); shift; done
    shift
    "$@" >/dev/null 2>&1 # the first good output
    local killed=0 finished=0 temps=0 locks=0 bad=0
    for _ in $(seq "$ROUNDS"); do
        "$@" >/dev/null 2>&1 &
        local pid=$!
        sleep "0.$(( RANDOM % 15 ))$(( RANDOM % 10 ))"
        if kill -0 "$pid" 2>/dev/null; then kill -s "$sig" "$pid"; killed=$((killed + 1)); else finished=$((finished + 1)); fi
        wait "$pid" 2>/dev/null
        temps=$((temps + $(find . -name '.*.tmp[0-9]*' | wc -l)))
        for f in "${files[@]}"; do
            [ -e ".$f.lock" ] && locks=$((locks + 1))
        done
        find . -name '.*.tmp[0-9]*' -delete
        for f in "${files[@]}"; do
            $check "$f" || { bad=$((bad + 1)); echo "  $name: $f does not load after $sig"; }
        done
    done
    echo "$name $sig: $ROUNDS rounds ($killed killed mid-run, $finished had finished), temporary files left: $temps, rounds that left its lock file: $locks, outputs that no longer load: $bad"
    [ "$temps" -eq 0 ] && [ "$bad" -eq 0 ] || fail=1
}
for sig in KILL INT; do
    loop sample $sig check_npy s.npy -- "$DLC" sample gan.dl --init g.safetensors -n 1000000 -o s.npy
    loop apply $sig check_npy y.npy -- "$DLC" apply gan.dl --block D --init g.safetensors --in x.npy --out y.npy
    loop embed $sig check_npy c.npy -- "$DLC" embed ae.dl --init a.safetensors --data train -n 3000 -o c.npy
    loop "run --save" $sig check_ckpt w.safetensors -- "$DLC" run gan.dl --save w.safetensors --out out --progress never
done
# A later run takes over what a SIGKILL left: its lock files.
"$DLC" sample gan.dl --init g.safetensors -n 10 -o s.npy >/dev/null
echo "after one more sample: lock files of s.npy left: $(find . -name '.s.npy.lock' | wc -l)"
exit $fail
