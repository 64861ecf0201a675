#!/usr/bin/env python3
"""PyTorch references for dlc's GAN examples, for timing side by side (bench/).

--model gan   (examples/gan/mlp.dl): G 100-256-512-784 (LeakyReLU 0.2, tanh out),
              D 784-512-256-1 (LeakyReLU 0.2, a logit).
--model dcgan (examples/gan/dcgan.dl): G dense 100->128*7*7, BN, ReLU, reshape,
              ConvTranspose 128->64 k4 s2 p1, BN, ReLU, ConvTranspose 64->1 k4 s2 p1, tanh;
              D Conv 1->64 k4 s2 p1, LeakyReLU 0.2, Conv 64->128 k4 s2 p1, BN, LeakyReLU 0.2,
              flatten, dense 6272->1.
Both as dlc trains them: pixels in [-1, 1], batch 64 shuffled, Adam lr 2e-4 betas (0.5,
0.999); per batch one discriminator step on the real batch and a detached fake batch
(loss bce(D(x), 1) + bce(D(G(z)), 0), from logits), then one generator step on fresh noise
with the non-saturating loss bce(D(G(z)), 1); Glorot-uniform weights, zero biases.

Prints the BLAS it loaded, one line per epoch, and a JSON line for the harness:
  {"impl":"torch","model":...,"epoch_seconds":[...],"d_loss":[...],"g_loss":[...]}
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_ref import find_data_dir, loaded_blas, read_idx_images  # noqa: E402


def mlp_gan():
    g = nn.Sequential(nn.Linear(100, 256), nn.LeakyReLU(0.2), nn.Linear(256, 512), nn.LeakyReLU(0.2),
                      nn.Linear(512, 784), nn.Tanh())
    d = nn.Sequential(nn.Linear(784, 512), nn.LeakyReLU(0.2), nn.Linear(512, 256), nn.LeakyReLU(0.2),
                      nn.Linear(256, 1))
    return g, d, (784,)


class View(nn.Module):
    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.view(x.shape[0], *self.shape)


def dcgan():
    g = nn.Sequential(nn.Linear(100, 128 * 7 * 7), nn.BatchNorm1d(128 * 7 * 7), nn.ReLU(), View(128, 7, 7),
                      nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
                      nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())
    d = nn.Sequential(nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
                      nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
                      nn.Flatten(), nn.Linear(128 * 7 * 7, 1))
    return g, d, (1, 28, 28)


def glorot(m):
    if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.xavier_uniform_(m.weight)
        nn.init.zeros_(m.bias)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["gan", "dcgan"], required=True)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--steps", type=int, default=0, help="stop after this many batches (0: whole epochs)")
    ap.add_argument("--data", default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    data = args.data or find_data_dir()
    x = read_idx_images(os.path.join(data, "train-images-idx3-ubyte.gz"))
    x = torch.from_numpy(x * 2 - 1)
    g, d, shape = mlp_gan() if args.model == "gan" else dcgan()
    g.apply(glorot)
    d.apply(glorot)
    og = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    od = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    n, batch = x.shape[0], 64
    blas, reference = loaded_blas()
    print("BLAS loaded by torch: %s" % blas, file=sys.stderr)
    secs, dl, gl = [], [], []
    steps = 0
    for epoch in range(args.epochs):
        perm = torch.randperm(n)
        start = time.perf_counter()
        sd = sg = 0.0
        k = 0
        for lo in range(0, n, batch):
            xb = x[perm[lo:lo + batch]].view(-1, *shape)
            b = xb.shape[0]
            fake = g(torch.randn(b, 100)).detach()
            lr_, lf = d(xb), d(fake)
            loss_d = F.binary_cross_entropy_with_logits(lr_, torch.ones_like(lr_)) + \
                F.binary_cross_entropy_with_logits(lf, torch.zeros_like(lf))
            od.zero_grad()
            loss_d.backward()
            od.step()
            lf = d(g(torch.randn(b, 100)))
            loss_g = F.binary_cross_entropy_with_logits(lf, torch.ones_like(lf))
            og.zero_grad()
            loss_g.backward()
            og.step()
            sd += loss_d.item()
            sg += loss_g.item()
            k += 1
            steps += 1
            if args.steps and steps >= args.steps:
                break
        secs.append(time.perf_counter() - start)
        dl.append(sd / k)
        gl.append(sg / k)
        print("epoch %d  d_loss %.4f  g_loss %.4f  %.1fs" % (epoch + 1, dl[-1], gl[-1], secs[-1]), file=sys.stderr)
        if args.steps and steps >= args.steps:
            break
    print(json.dumps({"impl": "torch", "model": args.model, "blas": blas, "reference_blas": reference,
                      "epoch_seconds": secs, "d_loss": dl, "g_loss": gl, "steps": steps}))


if __name__ == "__main__":
    main()
