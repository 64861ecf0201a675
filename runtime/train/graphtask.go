package train

import (
	"io"
	"math/rand/v2"

	"github.com/dlc-lang/dlc/runtime"
)

// Training a model that takes a graph (compiler/graphtask.go lowers its functions). The
// train spec's Task says the level:
//
//   - node: one full-graph step per epoch. The loss covers the labelled nodes (the spec's
//     "labelled" split: explicit nodes, k per class, or a fraction, drawn with the run's
//     seed); evaluation covers every other node with a known label.
//   - graph: the data is a set of small graphs; an epoch is a pass over them in batches of
//     spec.Batch graphs, each batch their disjoint union. The test set is the test source.
//   - link: SplitEdges holds out the spec's TestEdges fraction of the edges with as many
//     sampled non-edges; each epoch is one full-graph step scoring every training edge
//     against as many fresh non-edges. The test metric is the AUROC of the held-out pairs.
//
// The spec's Feeds say what each input of the functions gets: the node features, one of
// the graph's arrays, the scored pairs, or the rows the loss covers and their targets.
//
// The tasks are below, run by the one epoch loop (Train); graphrun.go loads and splits
// the data, graphepoch.go steps and evaluates it, graphfeed.go makes the functions'
// inputs, graphresume.go and graphmemory.go add a checkpoint's data identity and the
// memory estimate.

// TrainGraph runs the train spec of a graph model as o says. It is Train, which runs every
// task; it remains for the callers that name a graph run.
func TrainGraph(tr *Trainer, o RunOptions) error { return Train(tr, o) }

// graphTask is what the graph tasks share: the run's data, loaded and split at setup,
// evaluated as the task says, and the memory estimate at its sizes.
type graphTask struct {
	tr  *Trainer
	run *graphRun
}

func (g *graphTask) setup(out io.Writer) (*rand.PCG, *graphIdentity, error) {
	r, err := newGraphRun(g.tr, g.tr.Spec.Task, g.tr.Spec, out)
	if err != nil {
		return nil, nil, err
	}
	g.run = r
	return r.pcg, r.id, nil
}

func (g *graphTask) check(o RunOptions, out io.Writer) error { return g.run.checkMemory(o, out) }

func (g *graphTask) evaluate() (float64, map[string]float64, bool, error) {
	if !g.run.hasTest() {
		return 0, nil, false, nil
	}
	loss, m, err := g.run.evaluate()
	return loss, m, true, err
}

func (g *graphTask) validate() (float64, map[string]float64, bool, error) {
	if !g.run.hasValidation() {
		return 0, nil, false, nil
	}
	loss, m, err := g.run.validate()
	return loss, m, true, err
}

func (g *graphTask) pictures(string, string, io.Writer) error { return nil }

func (g *graphTask) epochPictures(string, string, int, io.Writer) error { return nil }

// oneGraphTask is a node or link task: an epoch is one step on the whole graph. Its
// progress counts the run's epochs: o.Progress hears of an epoch before its step (so that
// a bar shows during it) and after, in a map kept from epoch to epoch.
type oneGraphTask struct {
	graphTask
	losses map[string]float64
}

func (g *oneGraphTask) words() taskWords { return taskWords{graphLine: true} }

func (g *oneGraphTask) trainEpoch(l *loop, p *EpochProgress) (EpochStats, error) {
	p.begin()
	if l.o.Progress != nil {
		l.o.Progress(l.epoch, l.epoch-1, l.spec.Epochs, g.losses)
	}
	if l.halted() {
		return EpochStats{}, nil
	}
	loss, samples, err := g.run.fullGraphStep()
	if err != nil {
		return EpochStats{}, err
	}
	if l.o.Progress != nil {
		g.losses[l.spec.Phases[0].Name] = loss
		l.o.Progress(l.epoch, l.epoch, l.spec.Epochs, g.losses)
	}
	return EpochStats{Loss: loss, Samples: samples, Complete: true}, nil
}

// graphSetTask is a graph-level task: an epoch is a pass over the set of graphs in
// batches of spec.Batch graphs, each batch their disjoint union, in an order drawn from
// the run's generator (drawn, to keep the generator's course, even when not shuffled).
// Its means are over graphs, and its progress counts the epoch's graphs.
type graphSetTask struct{ graphTask }

func (g *graphSetTask) words() taskWords {
	return taskWords{unit: "graphs", total: g.run.set.Len(), graphLine: true}
}

func (g *graphSetTask) trainEpoch(l *loop, p *EpochProgress) (EpochStats, error) {
	r := g.run
	order := r.rng.Perm(r.set.Len())
	if !l.spec.Shuffle {
		for i := range order {
			order[i] = i
		}
	}
	feed := func(fn string, idx, _ []int) (map[string]*runtime.Tensor, error) {
		return r.batchInputs(fn, r.set, idx)
	}
	e, err := g.tr.startPass(feed, order, nil, p, l.step)
	if err != nil {
		return EpochStats{}, err
	}
	e.finishFirst = true
	return g.tr.runPass(e, l.o.Steps, l.o.Stop)
}
