package ir

import (
	"fmt"
	"strconv"
	"strings"
)

// The train contract: what the compiler tells the trainer about a module, as typed values.
//
// A module that trains carries a TrainSpec. The compiler fills it from the train block
// (and the family block or the phases written there); the training package reads it and
// nothing else: it never looks at a function's or an input's name to learn what to do.
//
//   - Task says how an epoch walks the data: batches of samples, or a graph task (one
//     graph's nodes or edges, or a set of small graphs batched as disjoint unions).
//   - Feeds say what each input of the step and evaluation functions is fed: the batch's
//     samples or targets, a batch drawn in an order of its own, or one array of a graph.
//   - Phases are the optimiser steps, run in order over the batches: each names its step
//     function, the parameters it updates (all others are frozen while it runs), its
//     optimiser and how many batches it takes before the next phase runs.
//   - Roles name the functions the commands use on a trained model (predict, reconstruct,
//     encode, decode, corrupt, score, sample), and Noise the prior a sample is drawn from.
//
// The printer writes every field, the reader reads them back, and Verify checks that they
// agree with the module's functions.

// Task is how an epoch of training walks the data.
type Task int

const (
	// TaskSamples: batches of samples (and their targets) from a data source.
	TaskSamples Task = iota
	// TaskNode: one graph; one full-graph step per epoch, the loss over the labelled nodes.
	TaskNode
	// TaskGraph: a set of small graphs, batched as their disjoint union.
	TaskGraph
	// TaskLink: one graph; one full-graph step per epoch scoring the training edges
	// against as many fresh non-edges.
	TaskLink
	// TaskEdge: one graph whose edges carry targets (classes or values); one full-graph
	// step per epoch, the loss over the training edges' targets, the held-out edges'
	// targets evaluated.
	TaskEdge
)

var taskNames = []string{"samples", "node", "graph", "link", "edge"}

// HoldsOutEdges reports whether the task holds out a test_edges fraction of the edges.
func (t Task) HoldsOutEdges() bool { return t == TaskLink || t == TaskEdge }

func (t Task) String() string { return enumName(taskNames, int(t), "task") }

// IsGraph reports whether the task trains on graph data.
func (t Task) IsGraph() bool { return t != TaskSamples }

// FeedKind is what the trainer feeds one input of a step or evaluation function.
type FeedKind int

const (
	FeedSamples      FeedKind = iota // the batch's samples, [B, …]
	FeedTargets                      // the batch's targets: the data's y, one-hot labels, or a graph task's labels
	FeedDraw                         // samples of a second batch, drawn in an order of its own
	FeedNodeFeatures                 // a graph's node features, [N, F]
	FeedEdgeSrc                      // a graph's edge sources, i32 [E]
	FeedEdgeDst                      // a graph's edge destinations, i32 [E]
	FeedEdgeFeatures                 // a graph's edge features, [E, Fe]
	FeedNodeGraph                    // each node's graph in a batch of graphs, i32 [N]
	FeedGraphSizes                   // the node count of each graph of a batch, i32 [G]
	FeedPairSrc                      // the first node of each scored pair, i32 [P]
	FeedPairDst                      // the second node of each scored pair, i32 [P]
	FeedNodes                        // the rows of the nodes the loss or metric covers, i32 [L]
)

var feedNames = []string{"samples", "targets", "draw", "node_features", "edge_src", "edge_dst",
	"edge_features", "node_graph", "graph_sizes", "pair_src", "pair_dst", "nodes"}

func (k FeedKind) String() string { return enumName(feedNames, int(k), "feed") }

// Feed says what one input of the spec's functions is fed, by the input's name.
type Feed struct {
	Input string
	Kind  FeedKind
}

// Role is what a function of a trained module does for the commands that use it.
type Role int

const (
	RolePredict     Role = iota // the model itself: samples (or a graph) → predictions
	RoleReconstruct             // x → its reconstruction (an autoencoder; an image-to-image generator)
	RoleEncode                  // x → its code
	RoleDecode                  // a code → its reconstruction
	RoleCorrupt                 // x → x with the training noise (a denoising autoencoder)
	RoleScore                   // x → each sample's reconstruction error
	RoleSample                  // noise (and a condition) → a sample
	RoleShow                    // the train inputs → images to show side by side, one output a row
)

var roleNames = []string{"predict", "reconstruct", "encode", "decode", "corrupt", "score", "sample", "show"}

func (r Role) String() string { return enumName(roleNames, int(r), "role") }

// Roles lists every role, in order.
func Roles() []Role {
	out := make([]Role, len(roleNames))
	for i := range out {
		out[i] = Role(i)
	}
	return out
}

// ParseRole returns the role named s.
func ParseRole(s string) (Role, bool) {
	i, ok := enumIndex(roleNames, s)
	return Role(i), ok
}

// RoleFunc names the function that plays a role.
type RoleFunc struct {
	Role Role
	Func string
}

// Noise is the prior the sample role's first input is drawn from.
type Noise int

const (
	NoiseNone    Noise = iota
	NoiseNormal        // N(0, I)
	NoiseUniform       // U[-1, 1]
)

var noiseNames = []string{"none", "normal", "uniform"}

func (n Noise) String() string { return enumName(noiseNames, int(n), "noise") }

// GraphSpec holds what only a graph task has.
type GraphSpec struct {
	Undirected bool       // the model treats the graph as undirected: its data must be symmetric
	TestEdges  float64    // a link task's held-out fraction of the edges, in (0, 1)
	Labelled   *NodeSplit // a node task's training nodes
	// Neighbors, when set, trains a node task on neighbour-sampled mini-batches: for each
	// batch of seed nodes, up to Neighbors[0] in-neighbours of each seed, then up to
	// Neighbors[1] of each of those, and so on (PyG's NeighborLoader num_neighbors).
	Neighbors []int
}

// NodeSplit chooses the nodes a node-level task learns from: Nodes when given, else
// PerClass nodes of each class, else a Fraction of the labelled nodes, drawn with the
// run's seed.
type NodeSplit struct {
	PerClass int
	Fraction float64
	Nodes    []int32
}

// Source writes the split as a train block writes it: per_class(4).
func (s *NodeSplit) Source() string {
	switch {
	case s.Nodes != nil:
		ids := make([]string, len(s.Nodes))
		for i, n := range s.Nodes {
			ids[i] = strconv.Itoa(int(n))
		}
		return "nodes([" + strings.Join(ids, ", ") + "])"
	case s.PerClass > 0:
		return fmt.Sprintf("per_class(%d)", s.PerClass)
	}
	return fmt.Sprintf("fraction(%g)", s.Fraction)
}

// TrainSpec says how `dlc run` trains a module. It is plain data: the compiler fills it, the
// training package reads it. Every function of the spec (the phases' steps and Eval) takes
// inputs that Feeds names.
type TrainSpec struct {
	Task    Task
	Feeds   []Feed
	Phases  []Phase
	Eval    string // func computing the loss and the metrics on a batch, in eval mode
	Roles   []RoleFunc
	Noise   Noise
	Graph   GraphSpec
	Data    DataSpec
	Test    *DataSpec
	Batch   int
	Epochs  int
	Seed    int64
	Shuffle bool
	// Validation, when set, is evaluated after every epoch, its metrics named val_*.
	Validation *Validation
	// EarlyStop, when set, stops the run when its monitor stops improving and restores
	// the best epoch's weights.
	EarlyStop *Monitor
	Pos       Pos
}

// Validation is the data a run validates on: a Fraction of the training data held out
// with the run's seed (of the labelled nodes for a node task, of the training edges for a
// link task), or a data source of the training data's kind.
type Validation struct {
	Fraction float64
	Data     *DataSpec
	Pos      Pos
}

// Monitor watches one metric of the epoch lines, by the name the line gives it
// (val_loss, test_accuracy, d_loss), and counts the epochs it has not improved by more
// than MinDelta; Mode says whether lower (min) or higher (max) is better. Patience is the
// epochs without improvement that an early stop or a plateau schedule waits.
type Monitor struct {
	Patience int
	Metric   string
	MinDelta float64
	Mode     string // "min" or "max"
	Pos      Pos
}

// Schedule is a phase's learning-rate schedule, one of schema.Schedules with its
// arguments (the defaults filled in); a plateau schedule watches Monitor. PerStep: the
// schedule counts the phase's optimiser steps (interval: "step"), not its epochs.
type Schedule struct {
	Name    string
	Args    map[string]float64
	Monitor *Monitor
	PerStep bool
	Pos     Pos
}

// Clip is a phase's gradient clipping: Kind "norm" bounds the global L2 norm of its
// gradients by Max, "value" each element's magnitude.
type Clip struct {
	Kind string
	Max  float64
	Pos  Pos
}

// Source writes the schedule as a train block writes it, arguments in name order.
func (s *Schedule) Source() string {
	args := make([]string, 0, len(s.Args)+2)
	for _, k := range sortedKeys(s.Args) {
		args = append(args, fmt.Sprintf("%s: %g", k, s.Args[k]))
	}
	if m := s.Monitor; m != nil {
		args = append(args, fmt.Sprintf("monitor: %q", m.Metric), fmt.Sprintf("mode: %q", m.Mode))
	}
	if s.PerStep {
		args = append(args, `interval: "step"`)
	}
	return s.Name + "(" + strings.Join(args, ", ") + ")"
}

// Source writes the clipping as a train block writes it: norm(1).
func (c *Clip) Source() string { return fmt.Sprintf("%s(%g)", c.Kind, c.Max) }

// Source writes the monitor as early_stopping takes it.
func (m *Monitor) Source() string {
	return fmt.Sprintf("patience(%d, monitor: %q, min_delta: %g, mode: %q)", m.Patience, m.Metric, m.MinDelta, m.Mode)
}

// Source writes the validation as a train block writes it.
func (v *Validation) Source() string {
	if v.Data != nil {
		return v.Data.Written()
	}
	return fmt.Sprintf("fraction(%g)", v.Fraction)
}

// Phase is one kind of optimiser step. Its Step function outputs the loss, one gradient per
// name in Params, the new value of every state it updates (batch-norm running statistics)
// and the metrics it reports (see OutputKind); Params lists exactly the parameters it has
// gradients for.
type Phase struct {
	Name      string
	Step      string
	Params    []string
	Optimizer OptSpec
	Repeat    int       // runs of this phase, one batch each, before the next phase runs
	Schedule  *Schedule // the learning rate's schedule; nil: constant
	Clip      *Clip     // gradient clipping before the optimiser's step; nil: none
}

// Phase returns the phase named name, or nil.
func (t *TrainSpec) Phase(name string) *Phase {
	for i := range t.Phases {
		if t.Phases[i].Name == name {
			return &t.Phases[i]
		}
	}
	return nil
}

// Role returns the function that plays role r, if one does.
func (t *TrainSpec) Role(r Role) (string, bool) {
	for _, rf := range t.Roles {
		if rf.Role == r {
			return rf.Func, true
		}
	}
	return "", false
}

// Feed returns what input is fed.
func (t *TrainSpec) Feed(input string) (FeedKind, bool) {
	for _, f := range t.Feeds {
		if f.Input == input {
			return f.Kind, true
		}
	}
	return 0, false
}

// FeedInput returns the input fed kind, if one is.
func (t *TrainSpec) FeedInput(kind FeedKind) (string, bool) {
	for _, f := range t.Feeds {
		if f.Kind == kind {
			return f.Input, true
		}
	}
	return "", false
}

// DataSpec names a data source and its arguments, e.g. mnist(split: "train").
type DataSpec struct {
	Source string
	Args   map[string]string
	// Parts are the sources a combination joins (concat's a and b), in order; printed as
	// the arguments a, b, ….
	Parts []DataSpec
	Pos   Pos
}

// Written writes the data source as a train block writes it, a combination's parts first,
// then the arguments in name order: a number bare, anything else quoted,
// mnist(split: "test").
func (d DataSpec) Written() string {
	args := make([]string, 0, len(d.Parts)+len(d.Args))
	for i, part := range d.Parts {
		args = append(args, PartName(i)+": "+part.Written())
	}
	for _, k := range sortedKeys(d.Args) {
		v := d.Args[k]
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			v = strconv.Quote(v)
		}
		args = append(args, k+": "+v)
	}
	return d.Source + "(" + strings.Join(args, ", ") + ")"
}

// PartName is the argument name of a combination's i-th source: a, b, ….
func PartName(i int) string { return string(rune('a' + i)) }

// OptSpec names an optimiser and its hyperparameters, e.g. adam(lr: 1e-3).
type OptSpec struct {
	Name string
	Args map[string]float64
	Pos  Pos
}

// Source writes the optimiser as a train block writes it, arguments in name order:
// adam(beta1: 0.5, lr: 0.0002).
func (o OptSpec) Source() string {
	args := make([]string, 0, len(o.Args))
	for _, k := range sortedKeys(o.Args) {
		args = append(args, fmt.Sprintf("%s: %g", k, o.Args[k]))
	}
	return o.Name + "(" + strings.Join(args, ", ") + ")"
}

// OutputKind is what a function's output is to the trainer. The kind is spelled in the
// output's name (the IR text form writes `output grad:NAME = …`); Output.Kind reads it and
// OutputName writes it, so that no other package spells or parses the names.
type OutputKind int

const (
	OutValue  OutputKind = iota // a plain result (out, score)
	OutLoss                     // the scalar loss
	OutGrad                     // the gradient of a parameter
	OutState                    // the new value of a state (running statistics)
	OutMetric                   // a scalar the trainer reports
)

var outputPrefixes = []string{"", "", "grad:", "state:", "metric:"}

// ValueOutput is the name of the output that holds the inner value name (a block's local,
// such as Club.h), which a module compiled to expose it adds.
func ValueOutput(name string) string { return "value:" + name }

// OutputName is the name of an output of kind k for name (a parameter, state or metric
// name; ignored for the loss).
func OutputName(k OutputKind, name string) string {
	if k == OutLoss {
		return "loss"
	}
	return outputPrefixes[k] + name
}

// Kind returns what the output is and the name it is of: the parameter of a gradient, the
// state, the metric, or the output's own name.
func (o Output) Kind() (OutputKind, string) {
	return ParseOutputName(o.Name)
}

// ParseOutputName splits an output name into its kind and what it names.
func ParseOutputName(s string) (OutputKind, string) {
	if s == "loss" {
		return OutLoss, ""
	}
	for k := OutGrad; k <= OutMetric; k++ {
		if p := outputPrefixes[k]; len(s) > len(p) && s[:len(p)] == p {
			return k, s[len(p):]
		}
	}
	return OutValue, s
}

func enumName(names []string, i int, what string) string {
	if i < 0 || i >= len(names) {
		return fmt.Sprintf("%s(%d)", what, i)
	}
	return names[i]
}

func enumIndex(names []string, s string) (int, bool) {
	for i, n := range names {
		if n == s {
			return i, true
		}
	}
	return 0, false
}

// Setting is one resolved setting of a run, as a train block writes it: batch = 128.
type Setting struct{ Name, Value string }

// Settings lists the run's resolved settings, every default filled in, in the order a
// train block writes them: what `dlc run` prints and saves beside a run's logs. A setting
// of one phase among several is named PHASE.NAME (d.optimizer).
func (t *TrainSpec) Settings() []Setting {
	out := []Setting{{"data", t.Data.Written()}}
	if t.Test != nil {
		out = append(out, Setting{"test", t.Test.Written()})
	}
	if t.Validation != nil {
		out = append(out, Setting{"validation", t.Validation.Source()})
	}
	out = append(out, Setting{"batch", strconv.Itoa(t.Batch)}, Setting{"epochs", strconv.Itoa(t.Epochs)},
		Setting{"seed", strconv.FormatInt(t.Seed, 10)}, Setting{"shuffle", strconv.FormatBool(t.Shuffle)})
	if g := t.Graph; t.Task == TaskLink {
		out = append(out, Setting{"test_edges", strconv.FormatFloat(g.TestEdges, 'g', -1, 64)})
	}
	if s := t.Graph.Labelled; s != nil {
		out = append(out, Setting{"labelled", s.Source()})
	}
	if t.EarlyStop != nil {
		out = append(out, Setting{"early_stopping", t.EarlyStop.Source()})
	}
	for _, ph := range t.Phases {
		prefix := ""
		if len(t.Phases) > 1 {
			prefix = ph.Name + "."
		}
		out = append(out, Setting{prefix + "optimizer", ph.Optimizer.Source()})
		if ph.Schedule != nil {
			out = append(out, Setting{prefix + "schedule", ph.Schedule.Source()})
		}
		if ph.Clip != nil {
			out = append(out, Setting{prefix + "clip", ph.Clip.Source()})
		}
		if ph.Repeat != 1 {
			out = append(out, Setting{prefix + "repeat", strconv.Itoa(ph.Repeat)})
		}
	}
	return out
}
