#!/usr/bin/env python3
"""PyTorch reference for dlc's node classification at scale (issue 8), for timing side by side.

Reads the SBM graph that `go run ./bench/sbmgen -out DIR` writes (x.npy [N, F], edges.npy
[E, 2], labels.npy [N], train.npy and test.npy node lists) and trains, full batch, the
issue's model: two mean-aggregation layers with a concat update,

    h' = act(W [h || mean_{j->i} h_j] + b)

(the mean over the in-edges j->i, 0 for a node with none), 64 hidden units, ReLU after the
first layer and none after the second (its outputs are the class logits); softmax
cross-entropy on the labelled (train) nodes only; Adam; Glorot-uniform weights and zero
biases, as dlc initialises them. Aggregation gathers the source rows with index_select and
sums them onto the targets with index_add_, then divides by the in-degree.

What is timed: each epoch's forward, backward and optimiser step (time.perf_counter around
them); the evaluation after training is not. Prints one line per epoch, then the test
accuracy (on the nodes of test.npy), the median epoch time and the peak RSS, and a JSON line:
  {"impl":"torch","model":"sbm_gnn","epoch_seconds":[...],"test_accuracy":...}

  /usr/bin/python3 bench/torch_gnn.py --data /tmp/sbm [--epochs 50] [--threads 1] [--lr 0.01]
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_ref import loaded_blas  # noqa: E402


class MeanConcat(nn.Module):
    """h' = W [h || mean_{j->i} h_j] + b, the activation left to the caller."""

    def __init__(self, fin, fout):
        super().__init__()
        self.lin = nn.Linear(2 * fin, fout)
        nn.init.xavier_uniform_(self.lin.weight)
        nn.init.zeros_(self.lin.bias)

    def forward(self, h, src, dst, inv_deg):
        agg = torch.zeros_like(h).index_add_(0, dst, h.index_select(0, src))
        return self.lin(torch.cat([h, agg * inv_deg], dim=1))


class GNN(nn.Module):
    def __init__(self, fin, hidden, classes):
        super().__init__()
        self.l1 = MeanConcat(fin, hidden)
        self.l2 = MeanConcat(hidden, classes)

    def forward(self, x, src, dst, inv_deg):
        h = F.relu(self.l1(x, src, dst, inv_deg))
        return self.l2(h, src, dst, inv_deg)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the directory bench/sbmgen wrote")
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch.set_num_threads (OpenBLAS keeps its own OPENBLAS_NUM_THREADS)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    load = lambda name: np.load(os.path.join(args.data, name))
    x = torch.from_numpy(load("x.npy"))
    edges = torch.from_numpy(load("edges.npy").astype(np.int64))
    labels = torch.from_numpy(load("labels.npy").astype(np.int64))
    train = torch.from_numpy(load("train.npy").astype(np.int64))
    test = torch.from_numpy(load("test.npy").astype(np.int64))
    src, dst = edges[:, 0].contiguous(), edges[:, 1].contiguous()
    n, classes = x.shape[0], int(labels.max()) + 1
    deg = torch.zeros(n).index_add_(0, dst, torch.ones(dst.shape[0]))
    inv_deg = (1.0 / deg.clamp(min=1)).unsqueeze(1)

    blas, reference = loaded_blas()
    print("BLAS loaded by torch: %s" % blas, flush=True)
    if reference:
        print("WARNING: torch is running on the netlib REFERENCE BLAS", file=sys.stderr, flush=True)
    print("torch %s, threads=%d, OPENBLAS_NUM_THREADS=%s, OPENBLAS_CORETYPE=%s, data=%s: "
          "N=%d E=%d F=%d classes=%d train=%d test=%d hidden=%d lr=%g"
          % (torch.__version__, torch.get_num_threads(),
             os.environ.get("OPENBLAS_NUM_THREADS", "(unset)"),
             os.environ.get("OPENBLAS_CORETYPE", "(unset)"), args.data, n, src.shape[0],
             x.shape[1], classes, train.shape[0], test.shape[0], args.hidden, args.lr), flush=True)

    model = GNN(x.shape[1], args.hidden, classes)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    epoch_seconds = []
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        model.train()
        logits = model(x, src, dst, inv_deg)
        loss = F.cross_entropy(logits[train], labels[train])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        secs = time.perf_counter() - t0
        epoch_seconds.append(secs)
        print("epoch %d: loss %.5f, %.3f s" % (epoch, loss.item(), secs), flush=True)

    model.eval()
    with torch.no_grad():
        pred = model(x, src, dst, inv_deg).argmax(dim=1)
    acc = (pred[test] == labels[test]).float().mean().item()
    train_acc = (pred[train] == labels[train]).float().mean().item()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    med = statistics.median(epoch_seconds)
    print("test accuracy %.4f (train %.4f) after %d epochs; median epoch %.3f s; peak RSS %.0f MiB"
          % (acc, train_acc, args.epochs, med, rss), flush=True)
    print(json.dumps({"impl": "torch", "model": "sbm_gnn", "epoch_seconds": epoch_seconds,
                      "test_accuracy": acc, "train_accuracy": train_acc, "peak_rss_mib": rss}))


if __name__ == "__main__":
    main()
