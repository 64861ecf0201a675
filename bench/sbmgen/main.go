// Command sbmgen writes the SBM graph of the node-classification benchmark (issue 8) as
// .npy files, so that PyTorch (bench/torch_gnn.py) trains on exactly the graph dlc's
// sbm(...) source generates:
//
//	x.npy      [N, F] float32  node features
//	edges.npy  [E, 2] int32    source and target of each edge (both directions stored)
//	labels.npy [N]    int32    block of each node (the class)
//	train.npy  [T]    int32    the labelled nodes (data.SplitNodes, a fraction, seeded)
//	test.npy   [N-T]  int32    the others, on which accuracy is reported
//
// The defaults are the issue's: 100,000 nodes, 1,000,000 edges, 10 blocks, 70% of the
// edges inside a block, 32 noisy features, 10% of the nodes labelled.
//
//	go run ./bench/sbmgen -out /tmp/sbm
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dlc-lang/dlc/runtime/data"
)

func main() {
	out := flag.String("out", "sbm", "the directory to write the .npy files to")
	o := data.SBMOptions{}
	flag.IntVar(&o.Nodes, "nodes", 100000, "nodes")
	flag.IntVar(&o.Edges, "edges", 1000000, "edges as stored (each node pair both ways)")
	flag.IntVar(&o.Blocks, "blocks", 10, "blocks (classes)")
	flag.Float64Var(&o.P, "p", 0.7, "share of node pairs inside a block")
	flag.IntVar(&o.Features, "features", 32, "features per node")
	flag.Float64Var(&o.Noise, "noise", data.SBMNoise, "std of the noise around each block's centroid")
	seed := flag.Uint64("seed", 1, "the graph's seed")
	labelled := flag.Float64("labelled", 0.1, "the share of nodes labelled for training")
	splitSeed := flag.Uint64("split-seed", 1, "the seed of the choice of labelled nodes")
	known := flag.Float64("known", 1, "the share of nodes whose label labels.npy keeps (the others -1, unknown), drawn with the split seed: a graph_npy run then trains and evaluates on these only (bench/graphscale)")
	flag.Parse()
	o.Seed = *seed
	if err := run(*out, o, *labelled, *splitSeed, *known); err != nil {
		fmt.Fprintln(os.Stderr, "sbmgen:", err)
		os.Exit(1)
	}
}

func run(dir string, o data.SBMOptions, labelled float64, splitSeed uint64, known float64) error {
	start := time.Now()
	g, err := data.SBM(o)
	if err != nil {
		return err
	}
	gen := time.Since(start)
	train, test, err := data.SplitNodes(g, data.NodeSplit{Fraction: labelled, Seed: splitSeed})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	labels := g.Labels
	if known < 1 {
		// A share of the nodes keeps its label, drawn as SplitNodes draws a fraction.
		keep, _, err := data.SplitNodes(g, data.NodeSplit{Fraction: known, Seed: splitSeed + 1})
		if err != nil {
			return err
		}
		labels = make([]int32, g.N)
		for i := range labels {
			labels[i] = -1
		}
		for _, v := range keep {
			labels[v] = g.Labels[v]
		}
	}
	edges := make([]int32, 0, 2*g.E())
	for e, s := range g.Src {
		edges = append(edges, s, g.Dst[e])
	}
	write := func(name string, f func(w *bufio.Writer) error) error {
		file, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		w := bufio.NewWriterSize(file, 1<<20)
		if err := f(w); err != nil {
			file.Close()
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := w.Flush(); err != nil {
			file.Close()
			return err
		}
		return file.Close()
	}
	for _, f := range []struct {
		name string
		fn   func(w *bufio.Writer) error
	}{
		{"x.npy", func(w *bufio.Writer) error { return data.WriteNPY(w, []int{g.N, g.F}, g.X) }},
		{"edges.npy", func(w *bufio.Writer) error { return data.WriteNPYInt32(w, []int{g.E(), 2}, edges) }},
		{"labels.npy", func(w *bufio.Writer) error { return data.WriteNPYInt32(w, []int{g.N}, labels) }},
		{"train.npy", func(w *bufio.Writer) error { return data.WriteNPYInt32(w, []int{len(train)}, train) }},
		{"test.npy", func(w *bufio.Writer) error { return data.WriteNPYInt32(w, []int{len(test)}, test) }},
	} {
		if err := write(f.name, f.fn); err != nil {
			return err
		}
	}
	fmt.Printf("sbm: %d nodes, %d edges, %d blocks, p %v, %d features, noise %v, seed %d: generated in %.3f s\n",
		g.N, g.E(), o.Blocks, o.P, g.F, o.Noise, o.Seed, gen.Seconds())
	fmt.Printf("labelled %d (fraction %v, split seed %d), test %d; written to %s\n", len(train), labelled, splitSeed, len(test), dir)
	return nil
}
