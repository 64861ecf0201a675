#!/usr/bin/env python3
"""Run dlc and PyTorch interleaved on the same models and compare them.

For each model, runs dlc then torch, PAIRS times (dlc, torch, dlc, torch, ...), each run
a fresh process under /usr/bin/time -v for its peak RSS. dlc's seconds per epoch come
from its --metrics file (training loop only), torch's from torch_ref.py's JSON line
(training loop only). Prints per model the median seconds per epoch of each side, the
dlc/torch ratio of each pair (median, min, max), the peak RSS of each side (the largest
over its runs) and the last test loss of each.

PyTorch runs at its best setting for each model, searched before the pairs: a short run
of each of the 8 combinations of torch threads 1 or 2, OPENBLAS_NUM_THREADS 1 or unset
and ATEN_CPU_CAPABILITY unset (Debian's torch then uses its AVX2 kernels) or avx512, the
fastest kept (SETTINGS, search_torch). OPENBLAS_CORETYPE is removed from torch's
environment only, so that OpenBLAS picks its own (AVX-512) kernels. The chosen setting
is printed beside every ratio. The BLAS that torch loaded is printed; a run on the netlib
reference BLAS is flagged loudly.

Usage: compare.py --dlc BIN [--python PY] [--epochs N] [--pairs N] [--models ae,mlp]
                  [--search-rounds N] [--torch-setting t1,ob-,isa-]
(bench/run.sh builds dlc and calls this).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)

# model name -> (dlc source, torch script, its --model)
MODELS = {
    "ae": ("examples/autoencoder/ae.dl", "torch_ref.py", "ae"),
    "mlp": ("examples/classifier/mlp.dl", "torch_ref.py", "mlp"),
    "gan": ("examples/gan/mlp.dl", "torch_gan.py", "gan"),
    "dcgan": ("examples/gan/dcgan.dl", "torch_gan.py", "dcgan"),
    "sbm": ("examples/gnn/sbm.dl", "torch_gnn.py", "sbm"),
    "convae": ("examples/autoencoder/conv.dl", "torch_convae.py", "convae"),
}
# The SBM graph network (issue 8) runs SBM_EPOCHS full-graph epochs per run and is timed by
# its median epoch on both sides (the first epoch of each pays for fresh memory pages, which
# are slow to get on this VM); its "loss" columns hold the test accuracy. torch reads the
# graph bench/sbmgen writes (the same generator and seeds as the sbm(...) source), and runs
# with glibc keeping freed memory (MALLOC_MMAP_MAX_=0, MALLOC_TRIM_THRESHOLD_), its fastest
# setting here (bench/README.md).
SBM_EPOCHS = 10
# The GANs are timed on their first BATCHES batches of 64 (one discriminator and one
# generator step each) and scaled to the epoch's 938 batches: a whole DCGAN epoch per run,
# times the pairs, would take an hour.
GANS = {"gan", "dcgan"}
GAN_EPOCH_BATCHES = 938
# The conv autoencoder is timed the same way (one optimiser step per batch of 64): torch's
# whole epoch takes about a minute on this machine.
STEPPED = GANS | {"convae"}

# Torch's settings searched per model: (torch threads, OPENBLAS_NUM_THREADS or None for
# unset, ATEN_CPU_CAPABILITY or None for unset). Named by setting_name.
SETTINGS = [(t, ob, isa) for t in (1, 2) for ob in (None, "1") for isa in (None, "avx512")]
# The short run of each setting in the search: batches for the stepped models, epochs for
# the others (sbm: full-graph epochs, timed by the median).
SEARCH_BATCHES = {"gan": 60, "dcgan": 30, "convae": 60}
SEARCH_EPOCHS = {"ae": 1, "mlp": 1, "sbm": 4}


def setting_name(st):
    """t2,ob1,isa=avx512: torch threads, OPENBLAS_NUM_THREADS (ob- unset), ATEN_CPU_CAPABILITY."""
    t, ob, isa = st
    return "t%d,ob%s,%s" % (t, ob or "-", "isa=" + isa if isa else "isa-")


def parse_setting(text):
    for st in SETTINGS:
        if setting_name(st) == text:
            return st
    sys.exit("compare.py: --torch-setting %r, want one of %s"
             % (text, ", ".join(setting_name(st) for st in SETTINGS)))


def timed(cmd, env=None):
    """Run cmd under /usr/bin/time -v; return (stdout, stderr, peak RSS in MiB)."""
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, cwd=REPO, env=env,
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        raise RuntimeError("%s exited with %d" % (" ".join(cmd), p.returncode))
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    if not m:
        raise RuntimeError("no peak RSS in /usr/bin/time output of %s" % cmd[0])
    return p.stdout, p.stderr, int(m.group(1)) / 1024


def run_dlc(dlc, model, epochs, tmp, batches):
    metrics = os.path.join(tmp, "dlc.jsonl")
    if os.path.exists(metrics):
        os.remove(metrics)
    cmd = [dlc, "run", MODELS[model][0], "--epochs", str(epochs),
           "--metrics", metrics, "--out", tmp, "--progress", "never"]
    if model in STEPPED:
        steps = 2 * batches if model in GANS else batches  # a GAN batch is a D and a G step
        cmd = [dlc, "run", MODELS[model][0], "--epochs", "1", "--steps", str(steps),
               "--metrics", metrics, "--out", tmp, "--progress", "never"]
    if model == "sbm":
        cmd[cmd.index("--epochs") + 1] = str(SBM_EPOCHS)
    _, _, rss = timed(cmd)
    if model == "sbm":
        with open(metrics) as f:
            lines = [json.loads(l) for l in f if l.strip()]
        return statistics.median(l["seconds"] for l in lines), lines[-1]["test_accuracy"], rss
    if model in STEPPED:
        with open(metrics) as f:
            line = json.loads(f.readline())
        loss = line["g_loss"] if model in GANS else line["test_loss"]
        return line["seconds"] * GAN_EPOCH_BATCHES / batches, loss, rss
    with open(metrics) as f:
        lines = [json.loads(l) for l in f if l.strip()]
    if len(lines) != epochs:
        raise RuntimeError("dlc wrote %d metric lines, want %d" % (len(lines), epochs))
    secs = statistics.mean(l["seconds"] for l in lines)
    return secs, lines[-1]["test_loss"], rss


def run_torch(python, model, epochs, batches, tmp, setting):
    threads, ob, isa = setting
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)  # let OpenBLAS pick its AVX-512 kernels
    env.pop("OPENBLAS_NUM_THREADS", None)
    env.pop("ATEN_CPU_CAPABILITY", None)
    if ob:
        env["OPENBLAS_NUM_THREADS"] = ob
    if isa:
        env["ATEN_CPU_CAPABILITY"] = isa
    cmd = [python, os.path.join(BENCH, MODELS[model][1]), "--model", MODELS[model][2],
           "--epochs", str(epochs), "--threads", str(threads)]
    if model == "sbm":
        graph = os.path.join(tmp, "sbm")
        if not os.path.exists(os.path.join(graph, "test.npy")):
            subprocess.run(["go", "run", "./bench/sbmgen", "-out", graph], cwd=REPO, check=True)
        cmd = [python, os.path.join(BENCH, MODELS[model][1]), "--data", graph,
               "--epochs", str(epochs), "--threads", str(threads)]
        env["MALLOC_MMAP_MAX_"] = "0"
        env["MALLOC_TRIM_THRESHOLD_"] = "2000000000"
    if model in STEPPED:
        cmd += ["--steps", str(batches)]
    out, err, rss = timed(cmd, env)
    sys.stderr.write(err.split("\tCommand being timed")[0])  # torch's own warnings
    res = json.loads(out.strip().splitlines()[-1])
    if model == "sbm":
        return statistics.median(res["epoch_seconds"]), res["test_accuracy"], rss, res
    if model in GANS:
        return res["epoch_seconds"][0] * GAN_EPOCH_BATCHES / batches, res["g_loss"][-1], rss, res
    if model in STEPPED:
        return res["epoch_seconds"][0] * GAN_EPOCH_BATCHES / batches, res["test_loss"][-1], rss, res
    return statistics.mean(res["epoch_seconds"]), res["test_loss"][-1], rss, res


def search_torch(python, model, tmp, rounds):
    """Times a short run of every setting, rounds times round-robin (so that a busy minute
    hits every setting alike), and returns the setting with the least median time and
    the table of times, in seconds per epoch."""
    times = {st: [] for st in SETTINGS}
    for r in range(rounds):
        order = SETTINGS if r % 2 == 0 else SETTINGS[::-1]
        for st in order:
            if model in STEPPED:
                secs = run_torch(python, model, 1, SEARCH_BATCHES[model], tmp, st)[0]
            else:
                secs = run_torch(python, model, SEARCH_EPOCHS[model], 0, tmp, st)[0]
            times[st].append(secs)
    best = min(SETTINGS, key=lambda st: statistics.median(times[st]))
    return best, times


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dlc", required=True, help="the dlc binary")
    ap.add_argument("--python", default="/usr/bin/python3", help="interpreter with torch")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--models", default="ae,mlp,gan,dcgan,sbm")
    ap.add_argument("--gan-batches", type=int, default=150,
                    help="batches a GAN or conv autoencoder run is timed on, scaled to a 938-batch epoch")
    ap.add_argument("--search-rounds", type=int, default=1,
                    help="short runs of each torch setting in the search (0: no search, use --torch-setting)")
    ap.add_argument("--torch-setting", default=setting_name((1, None, None)),
                    help="torch's setting when there is no search, e.g. t2,ob1,isa=avx512")
    args = ap.parse_args()
    fixed = parse_setting(args.torch_setting)
    models = [m for m in args.models.split(",") if m]
    for m in models:
        if m not in MODELS:
            sys.exit("compare.py: unknown model %r, want one of %s" % (m, ", ".join(MODELS)))
    if args.pairs < 1 or args.epochs < 1:
        sys.exit("compare.py: --pairs and --epochs must be at least 1")
    has_torch = subprocess.run([args.python, "-c", "import torch"],
                               capture_output=True).returncode == 0
    if not has_torch:
        print("== torch: not importable by %s; dlc only (see bench/README.md)" % args.python)

    load0 = os.getloadavg()[0]
    results = {}
    blas = None
    with tempfile.TemporaryDirectory() as tmp:
        for model in models:
            r = results[model] = {"dlc": [], "torch": [], "setting": fixed}
            if has_torch and args.search_rounds > 0:
                best, times = search_torch(args.python, model, tmp, args.search_rounds)
                r["setting"] = best
                print("%-4s torch settings (s/epoch of short runs): %s -> %s" % (
                    model, "  ".join("%s %.3f" % (setting_name(st), statistics.median(v))
                                     for st, v in times.items()), setting_name(best)), flush=True)
            for i in range(args.pairs):
                secs, loss, rss = run_dlc(args.dlc, model, args.epochs, tmp, args.gan_batches)
                r["dlc"].append((secs, loss, rss))
                line = "%-4s pair %d: dlc %7.3f s/epoch" % (model, i + 1, secs)
                if has_torch:
                    epochs = SBM_EPOCHS if model == "sbm" else args.epochs
                    secs, loss, rss, res = run_torch(args.python, model, epochs, args.gan_batches,
                                                     tmp, r["setting"])
                    r["torch"].append((secs, loss, rss))
                    if "blas" in res:
                        blas = res
                    line += "  torch %7.3f s/epoch  ratio %.3f  (torch %s)" % (
                        secs, r["dlc"][-1][0] / secs, setting_name(r["setting"]))
                print(line, flush=True)

    print()
    if blas is not None:
        print("torch settings: tN = N torch threads; ob1 = OPENBLAS_NUM_THREADS=1, ob- = unset "
              "(all cores); isa=avx512 = ATEN_CPU_CAPABILITY=avx512, isa- = unset (AVX2); "
              "OPENBLAS_CORETYPE unset")
        print("torch loaded BLAS: %s" % blas["blas"])
        if blas["reference_blas"]:
            print("!" * 78)
            print("!! torch ran on the netlib REFERENCE BLAS: the ratios below are meaningless.")
            print("!! apt-get install -y libopenblas0-pthread, then run again.")
            print("!" * 78)
    print("epochs per run: %d, pairs: %d (interleaved dlc, torch, ...)" % (args.epochs, args.pairs))
    if "sbm" in models:
        print("sbm: %d epochs per run, timed by the median epoch; its loss columns are the test accuracy"
              % SBM_EPOCHS)
    load1, cores = os.getloadavg()[0], os.cpu_count() or 1
    print("load average: %.1f at the start, %.1f at the end, on %d cores" % (load0, load1, cores))
    if max(load0, load1) > cores:
        print("WARNING: other processes were busy on this machine; the timings are noisy "
              "(compare the min and max of the ratios).")
    print()
    head = "%-5s %12s %12s %23s %-18s %10s %10s %10s %10s" % (
        "model", "dlc s/ep", "torch s/ep", "ratio med [min, max]", "torch setting", "dlc MiB",
        "torch MiB", "dlc loss", "torch loss")
    print(head)
    print("-" * len(head))
    for model in models:
        d, t = results[model]["dlc"], results[model]["torch"]
        dmed = statistics.median(x[0] for x in d)
        row = "%-5s %12.3f" % (model, dmed)
        if t:
            ratios = [a[0] / b[0] for a, b in zip(d, t)]
            row += " %12.3f %9.3f [%.3f, %.3f] %-18s %10.0f %10.0f %10.5f %10.5f" % (
                statistics.median(x[0] for x in t), statistics.median(ratios), min(ratios),
                max(ratios), setting_name(results[model]["setting"]), max(x[2] for x in d),
                max(x[2] for x in t), d[-1][1], t[-1][1])
        else:
            row += " %12s %23s %10.0f %10s %10.5f" % ("-", "-", max(x[2] for x in d), "-", d[-1][1])
        print(row)


if __name__ == "__main__":
    main()
