#!/usr/bin/env python3
"""PyTorch reference for dlc's convolutional autoencoder (examples/autoencoder/conv.dl).

  encoder: conv 1->16 k3 p1, ReLU, max-pool 2; conv 16->8 k3 p1, ReLU, max-pool 2
           (1x28x28 -> 16x14x14 -> 8x7x7)
  decoder: nearest upsample 2, conv 8->16 k3 p1, ReLU; nearest upsample 2,
           conv 16->16 k3 p1, ReLU; conv 16->1 k3 p1, sigmoid
  loss:    mean binary cross-entropy per pixel against the input.
As dlc trains it: pixels in [0, 1], batch 64 shuffled every epoch with the last partial
batch kept (938 steps), Adam lr 1e-3 betas (0.9, 0.999) eps 1e-8, Glorot-uniform weights
(fans as PyTorch computes them for conv weights, as dlc does) and zero biases. The test
loss is the mean per pixel over the 10,000 test images.

Prints the BLAS torch loaded, one line per epoch and a JSON line for bench/compare.py:
  {"impl":"torch","model":"convae","epoch_seconds":[...],"test_loss":[...],...}
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_ref import find_data_dir, loaded_blas, read_idx_images  # noqa: E402

BATCH = 64
LR = 1e-3


class ConvAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc1 = nn.Conv2d(1, 16, 3, padding=1)
        self.enc2 = nn.Conv2d(16, 8, 3, padding=1)
        self.dec1 = nn.Conv2d(8, 16, 3, padding=1)
        self.dec2 = nn.Conv2d(16, 16, 3, padding=1)
        self.dec3 = nn.Conv2d(16, 1, 3, padding=1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.enc1(x)), 2)
        z = F.max_pool2d(F.relu(self.enc2(h)), 2)
        h = F.relu(self.dec1(F.interpolate(z, scale_factor=2, mode="nearest")))
        h = F.relu(self.dec2(F.interpolate(h, scale_factor=2, mode="nearest")))
        return torch.sigmoid(self.dec3(h))


def test_loss(model, x, chunk=1000):
    total = 0.0
    with torch.no_grad():
        for i in range(0, x.shape[0], chunk):
            xb = x[i:i + chunk]
            total += F.binary_cross_entropy(model(xb), xb, reduction="sum").item()
    return total / x.numel()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=("convae",), default="convae")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--steps", type=int, default=0, help="stop after this many batches (0: whole epochs)")
    ap.add_argument("--data", default=None, help="dir with *-idx3-ubyte.gz (default: GoMNIST data/)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch.set_num_threads (OpenBLAS keeps its own OPENBLAS_NUM_THREADS)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    data = args.data or find_data_dir()
    xtrain = torch.from_numpy(read_idx_images(os.path.join(data, "train-images-idx3-ubyte.gz"))).view(-1, 1, 28, 28)
    xtest = torch.from_numpy(read_idx_images(os.path.join(data, "t10k-images-idx3-ubyte.gz"))).view(-1, 1, 28, 28)
    n = xtrain.shape[0]

    blas, reference = loaded_blas()
    print("BLAS loaded by torch: %s" % blas, flush=True)
    if reference:
        print("WARNING: torch is running on the netlib REFERENCE BLAS; any ratio against it "
              "is meaningless. Install OpenBLAS: apt-get install -y libopenblas0-pthread",
              file=sys.stderr, flush=True)
    print("torch %s, model=convae, threads=%d, batch=%d, seed=%d"
          % (torch.__version__, torch.get_num_threads(), BATCH, args.seed), flush=True)

    model = ConvAE()
    opt = torch.optim.Adam(model.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-8)
    gen = torch.Generator().manual_seed(args.seed)
    epoch_seconds, train_losses, test_losses = [], [], []
    steps = 0
    for epoch in range(1, args.epochs + 1):
        model.train()
        perm = torch.randperm(n, generator=gen)
        loss_sum, seen = 0.0, 0
        t0 = time.perf_counter()
        for i in range(0, n, BATCH):
            xb = xtrain[perm[i:i + BATCH]]
            loss = F.binary_cross_entropy(model(xb), xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * xb.shape[0]
            seen += xb.shape[0]
            steps += 1
            if args.steps and steps >= args.steps:
                break
        secs = time.perf_counter() - t0
        model.eval()
        epoch_seconds.append(secs)
        train_losses.append(loss_sum / seen)
        test_losses.append(test_loss(model, xtest))
        print("epoch %d  train_loss %.5f  test_loss %.5f  %.2f s/epoch  %.0f samples/s"
              % (epoch, train_losses[-1], test_losses[-1], secs, seen / secs), flush=True)
        if args.steps and steps >= args.steps:
            break

    print(json.dumps({
        "impl": "torch",
        "model": "convae",
        "blas": blas,
        "reference_blas": reference,
        "threads": args.threads,
        "steps": steps,
        "epoch_seconds": [round(s, 4) for s in epoch_seconds],
        "train_loss": [round(v, 6) for v in train_losses],
        "test_loss": [round(v, 6) for v in test_losses],
    }), flush=True)


if __name__ == "__main__":
    main()
