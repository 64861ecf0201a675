
# ---- everything below is the same for every exported model ----
import argparse
import gzip
import json
import math
import os
import sys

import numpy as np
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP

HERE = os.path.dirname(os.path.abspath(__file__))


def fail(msg):
    print(f"train.py: {msg}", file=sys.stderr)
    sys.exit(1)


# ---- data: the samples dlc run would load, as float32 arrays ----

def _open(path):
    if os.path.exists(path):
        return open(path, "rb")
    if os.path.exists(path + ".gz"):
        return gzip.open(path + ".gz", "rb")
    fail(f"no file {path} (nor {path}.gz)")


def _mnist_dir(flag):
    for d in (flag, os.environ.get("DLC_MNIST_DIR")):
        if d:
            return d
    import glob
    gopath = os.environ.get("GOMODCACHE") or os.path.join(os.path.expanduser("~"), "go", "pkg", "mod")
    found = sorted(glob.glob(os.path.join(gopath, "github.com", "petar", "!go!m!n!i!s!t@*", "data")))
    if found:
        return found[-1]
    fail("MNIST not found: give --data-dir DIR (the four IDX files) or set DLC_MNIST_DIR")


def load_mnist(args, data_dir):
    split = {"train": "train", "test": "t10k"}[args["split"]]
    d = _mnist_dir(data_dir)
    with _open(os.path.join(d, f"{split}-images-idx3-ubyte")) as f:
        raw = f.read()
    n, h, w = int.from_bytes(raw[4:8], "big"), int.from_bytes(raw[8:12], "big"), int.from_bytes(raw[12:16], "big")
    x = torch.frombuffer(bytearray(raw[16:16 + n * h * w]), dtype=torch.uint8).reshape(n, h * w).float() / 255
    with _open(os.path.join(d, f"{split}-labels-idx1-ubyte")) as f:
        labels = torch.frombuffer(bytearray(f.read()[8:8 + n]), dtype=torch.uint8).long()
    if args.get("digits"):
        keep = [int(c) for c in args["digits"].split(",")]
        mask = torch.zeros(n, dtype=torch.bool)
        for k in keep:
            mask |= labels == k
        x, labels = x[mask], labels[mask]
    lo, hi = int(args.get("low", "0")), int(args.get("high", "1"))
    if (lo, hi) != (0, 1):
        x = x * float(hi - lo) + float(lo)
    return x, F.one_hot(labels, 10).float()


def _one_hot(labels, classes):
    k = classes or int(labels.max()) + 1
    return F.one_hot(labels.long(), k).float()


def load_npy(args):
    x = torch.from_numpy(np.load(args["x"]).astype(np.float32))
    if x.dim() == 1:
        x = x.reshape(-1, 1)
    y = None
    if args.get("y"):
        a = np.load(args["y"])
        if a.ndim == 1 and a.dtype.kind in "iu":
            y = _one_hot(torch.from_numpy(a.astype(np.int64)), int(args.get("classes", "0")))
        else:
            y = torch.from_numpy(a.astype(np.float32))
    return x, y


def load_csv(args):
    import csv
    with open(args["path"], newline="") as f:
        rows = [r for r in csv.reader(f) if r]

    def number(s):
        try:
            float(s)
            return True
        except ValueError:
            return False
    header = None
    if rows and not all(number(v) for v in rows[0]):
        header, rows = rows[0], rows[1:]
    label = args.get("label", "-1")
    col = -1
    if label not in ("", "-1"):
        col = header.index(label) if header and label in header else int(label)
    data = torch.tensor([[float(v) for v in r] for r in rows], dtype=torch.float64)
    keep = [i for i in range(data.shape[1]) if i != col]
    x = data[:, keep].float()
    y = None
    if col >= 0:
        if args.get("target", "class") == "value":
            y = data[:, col:col + 1].float()
        else:
            y = _one_hot(data[:, col].long(), int(args.get("classes", "0")))
    return x, y


def load_samples(spec, data_dir):
    src, args = spec["source"], spec["args"]
    if src == "mnist":
        return load_mnist(args, data_dir)
    if src == "npy":
        return load_npy(args)
    if src == "csv":
        return load_csv(args)
    fail(f"data source {src} is not one train.py reads")


def load_graph():
    d = os.path.join(HERE, "data")
    g = {k: torch.from_numpy(np.load(os.path.join(d, k + ".npy"))) for k in ("x", "src", "dst", "train")}
    if os.path.exists(os.path.join(d, "labels.npy")):
        g["labels"] = torch.from_numpy(np.load(os.path.join(d, "labels.npy"))).long()
        g["classes"] = int(np.load(os.path.join(d, "classes.npy"))[0])
    return g


# ---- the loop ----

def variable(nets, name):
    """The tensor of dlc's variable name in the blocks (the same object training updates)."""
    block, rest = name.split(".", 1)
    obj = nets[block]
    parts = rest.split(".")
    for p in parts[:-1]:
        obj = getattr(obj, p)
    return getattr(obj, parts[-1])


class Phase(torch.nn.Module):
    """One phase's step as a module of every block, so that DDP sees the parameters."""

    def __init__(self, nets, step):
        super().__init__()
        self.nets = torch.nn.ModuleDict(nets)
        self.step = step

    def forward(self, *inputs):
        return self.step(self.nets, *inputs)


def optimizer(ph, params):
    a = ph["args"]
    if ph["optimizer"] == "sgd":
        return torch.optim.SGD(params, lr=a["lr"], momentum=a.get("momentum", 0), dampening=a.get("dampening", 0),
                               nesterov=a.get("nesterov", 0) == 1, weight_decay=a.get("weight_decay", 0))
    make = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[ph["optimizer"]]
    return make(params, lr=a["lr"], betas=(a["beta1"], a["beta2"]), eps=a["eps"], weight_decay=a["weight_decay"])


def main():
    ap = argparse.ArgumentParser(description=f"Train {SOURCE}'s model as dlc run does.")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (under torchrun: cuda:LOCAL_RANK)")
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--batch", type=int, default=BATCH, help="the global batch, split over the processes")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--steps", type=int, default=0, help="stop after this many optimiser steps (0: no limit)")
    ap.add_argument("--shuffle", default="true" if SHUFFLE else "false", choices=["true", "false"])
    ap.add_argument("--init", default=os.path.join(HERE, "weights.safetensors"), help="start from these weights (torch layout)")
    ap.add_argument("--save", default="trained.safetensors", help="write the weights here after every epoch (torch layout; dlc import reads it)")
    ap.add_argument("--data-dir", default="", help="the directory of MNIST's four IDX files")
    ap.add_argument("--log", default="", help="write one JSON line per step (phase, loss, metrics) to this file")
    o = ap.parse_args()

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    dev = torch.device(o.device)
    if world > 1:
        cuda = o.device.startswith("cuda")
        if cuda:
            dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(dev)
        dist.init_process_group("nccl" if cuda else "gloo")
    torch.manual_seed(o.seed + rank)

    nets = model.blocks()
    model.load_weights(nets, o.init)
    for n in nets.values():
        n.to(dev).train()
    phases = []
    for ph in PHASES:
        mod = Phase(nets, ph["step"])
        if world > 1:
            # A phase that updates some blocks only (a GAN's) leaves the others' gradients
            # unused; DDP must then look for them.
            every = sum(1 for net in nets.values() for _ in net.parameters())
            mod = DDP(mod, find_unused_parameters=len(ph["params"]) < every)
        params = [variable(nets, n) for n in ph["params"]]
        phases.append((ph, mod, optimizer(ph, params)))
    log = open(o.log, "w") if o.log and rank == 0 else None

    if TASK == "samples":
        x, y = load_samples(DATA, o.data_dir)
        tx, ty = load_samples(TEST, o.data_dir) if TEST else (None, None)
    else:
        g = load_graph()

    def feed(names, rows, xs, ys, draw_rows=None):
        out = []
        for n in names:
            kind = FEEDS[n]
            if kind == "samples":
                out.append(xs[rows].reshape((len(rows),) + SAMPLE_SHAPES[n]).to(dev))
            elif kind == "targets":
                out.append(ys[rows].reshape((len(rows),) + SAMPLE_SHAPES[n]).to(dev))
            elif kind == "draw":
                out.append(xs[draw_rows].reshape((len(draw_rows),) + SAMPLE_SHAPES[n]).to(dev))
            else:
                fail(f"input {n} is fed {kind}, which train.py does not feed for a samples task")
        return out

    def graph_feed(names, nodes):
        labels = g.get("labels")
        out = []
        for n in names:
            kind = FEEDS[n]
            v = {"node_features": lambda: g["x"], "edge_src": lambda: g["src"].int(), "edge_dst": lambda: g["dst"].int(),
                 "nodes": lambda: nodes.int(), "targets": lambda: F.one_hot(labels[nodes.long()], g["classes"]).float()}.get(kind)
            if v is None:
                fail(f"input {n} is fed {kind}, which train.py does not feed for a node task")
            out.append(v().to(dev))
        return out

    steps = 0

    def run(ph, mod, opt, inputs):
        nonlocal steps
        opt.zero_grad(set_to_none=True)
        out = mod(*inputs)
        out["loss"].backward()
        opt.step()
        with torch.no_grad():
            for k, v in out.items():
                if k.startswith("state:"):
                    variable(nets, k[len("state:"):]).copy_(v)
        steps += 1
        rec = {"step": steps, "phase": ph["name"], "loss": out["loss"].item()}
        rec.update({k[len("metric:"):]: v.item() for k, v in out.items() if k.startswith("metric:")})
        if log:
            log.write(json.dumps(rec) + "\n")
        return rec

    def evaluate(inputs_of, batches):
        for n in nets.values():
            n.eval()
        sums, count = {}, 0
        with torch.no_grad():
            for rows, inputs in batches:
                out = model.FUNCTIONS[EVAL](nets, *inputs_of(inputs))
                for k, v in out.items():
                    sums[k] = sums.get(k, 0.0) + v.item() * rows
                count += rows
        for n in nets.values():
            n.train()
        return {k: v / max(count, 1) for k, v in sums.items()}

    gen = torch.Generator().manual_seed(o.seed)
    for epoch in range(1, o.epochs + 1):
        losses, done = {}, False
        if TASK == "samples":
            n = x.shape[0]
            order = torch.randperm(n, generator=gen) if o.shuffle == "true" else torch.arange(n)
            draw = torch.randperm(n, generator=gen)
            batches = [order[i:i + o.batch] for i in range(0, n, o.batch)]
            bi = 0
            while bi < len(batches) and not done:
                for pi, (ph, mod, opt) in enumerate(phases):
                    for _ in range(ph["repeat"]):
                        if pi == 0:
                            if bi >= len(batches):
                                break
                            rows = batches[bi]
                            drows = draw[bi * o.batch:bi * o.batch + len(rows)]
                            bi += 1
                        mine = rows[rank::world]
                        rec = run(ph, mod, opt, feed(ph["inputs"], mine, x, y, drows[rank::world]))
                        losses.setdefault(ph["name"], []).append(rec["loss"])
                        if o.steps and steps >= o.steps:
                            done = True
                            break
                    if done:
                        break
            ex, ey = (tx, ty) if tx is not None else (x, y)
            evb = [(len(r), r) for r in [torch.arange(i, min(i + o.batch, ex.shape[0])) for i in range(0, ex.shape[0], o.batch)]]
            metrics = evaluate(lambda r: feed(EVAL_INPUTS, r, ex, ey), evb)
        else:
            train_nodes = g["train"].long()
            for ph, mod, opt in phases:
                for _ in range(ph["repeat"]):
                    rec = run(ph, mod, opt, graph_feed(ph["inputs"], train_nodes))
                    losses.setdefault(ph["name"], []).append(rec["loss"])
            rest = torch.tensor([i for i in range(g["x"].shape[0]) if i not in set(train_nodes.tolist())
                                 and int(g["labels"][i]) >= 0], dtype=torch.long)
            metrics = evaluate(lambda r: graph_feed(EVAL_INPUTS, r), [(len(rest), rest)]) if len(rest) else {}
            done = bool(o.steps and steps >= o.steps)
        if rank == 0:
            parts = [f"{k} {sum(v) / len(v):.4f}" for k, v in losses.items()]
            parts += [f"test {k.replace('metric:', '')} {v:.4f}" for k, v in metrics.items()]
            print(f"epoch {epoch}: " + ", ".join(parts), flush=True)
            model.save(nets, o.save, {"dlc.source": SOURCE, "dlc.steps": str(steps)})
        if done:
            break
    if log:
        log.close()
    if world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
