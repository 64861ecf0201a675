package export

import (
	_ "embed"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/ir/schema"
	"github.com/dlc-lang/dlc/runtime/atomicfile"
	"github.com/dlc-lang/dlc/runtime/checkpoint"
	"github.com/dlc-lang/dlc/runtime/data"
)

// Torch is what a torch export needs: the module as lowered (before optimisation, so that
// every op is one the translation table knows) and its variables in dlc's layout.
type Torch struct {
	Module *ir.Module
	Vars   map[string]checkpoint.Tensor
	Source string // the .dl file, for the header comments
	// Graph holds a graph task's data as dlc loads it, written beside train.py as .npy
	// files (the generators karate, sbm and cycles have no Python twin).
	Graph *GraphData
	// Note says why train.py was not written, when it was not.
	Note string
}

// GraphData is one graph as the trainer sees it.
type GraphData struct {
	N, F     int
	X        []float32
	Src, Dst []int32
	Labels   []int32 // -1 unknown; nil if none
	Classes  int
	Train    []int32 // the labelled nodes the loss sees
}

//go:embed torch_runtime.py
var torchRuntime string

//go:embed torch_train.py
var torchTrain string

// block is one nn.Module: a block's variables and, when the block is a function of the
// module, its forward.
type block struct {
	name  string // the block's name in the .dl file
	class string // its Python class
	vars  []*ir.Op
	fn    *ir.Func
}

// Files returns the package's files by name: model.py, train.py, weights.safetensors
// (as tensors, for the caller to save) and, for a graph task, its data.
func (t *Torch) Files() (map[string]string, map[string]checkpoint.Tensor, error) {
	m := t.Module
	if m.Train == nil {
		return nil, nil, fmt.Errorf("export: %s has no train block: export needs the model a train block trains", t.Source)
	}
	lay := LayoutsOf(m)
	blocks, err := blocksOf(m)
	if err != nil {
		return nil, nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# model.py: %s, exported by dlc export --to torch.\n", filepath.Base(t.Source))
	b.WriteString(`#
# One nn.Module per block of the .dl file, named as the block. Each forward computes what
# dlc's function of the block computes, in evaluation mode: dropout off, batch norm with
# its running statistics (train.py writes the training-mode steps). The family's functions
# (reconstruct, encode, sample, …) take the dict of blocks. load(dir) returns that dict
# with weights.safetensors loaded: torch's names and layout (nn.Linear.weight [out, in]).
import json
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

`)
	for _, bl := range blocks {
		if err := writeBlock(&b, bl, lay); err != nil {
			return nil, nil, err
		}
	}
	names := map[string]string{}
	for _, f := range m.Funcs {
		if isBlockFunc(f) || isStep(m, f.Name) {
			continue
		}
		py := pyFuncName(f.Name)
		names[f.Name] = py
		if err := writeFreeFunc(&b, f, py, f.Outputs, lay, "", "nets"); err != nil {
			return nil, nil, err
		}
	}
	b.WriteString("# dlc's functions by name, and the functions of each role.\nFUNCTIONS = {\n")
	for _, bl := range blocks {
		if bl.fn != nil {
			fmt.Fprintf(&b, "    %q: lambda nets, *a: nets[%q](*a),\n", bl.name, bl.name)
		}
	}
	for _, n := range sortedKeys(names) {
		fmt.Fprintf(&b, "    %q: %s,\n", n, names[n])
	}
	b.WriteString("}\nROLES = {\n")
	for _, r := range m.Train.Roles {
		fmt.Fprintf(&b, "    %q: %q,\n", r.Role.String(), r.Func)
	}
	b.WriteString("}\n\n\ndef blocks():\n    \"\"\"A fresh module per block, by name (weights not loaded).\"\"\"\n    nets = {\n")
	for _, bl := range blocks {
		fmt.Fprintf(&b, "        %q: %s(),\n", bl.name, bl.class)
	}
	b.WriteString("    }\n    for n in nets.values():\n        n.nets = nets  # a block reading another's weights (tied) finds it here\n    return nets\n\n")
	b.WriteString(torchRuntime)
	files := map[string]string{"model.py": b.String()}
	tr, err := t.trainPy(lay)
	if err != nil {
		return nil, nil, err
	}
	if tr != "" {
		files["train.py"] = tr
	}
	return files, ToTorch(t.Vars, lay), nil
}

// isBlockFunc reports whether f is a block's own function (Enc), not a family's (AE.loss).
func isBlockFunc(f *ir.Func) bool { return !strings.Contains(f.Name, ".") }

func isStep(m *ir.Module, fn string) bool {
	for _, ph := range m.Train.Phases {
		if ph.Step == fn {
			return true
		}
	}
	return false
}

// pyFuncName is the Python name of a family's function: AE.reconstruct → AE_reconstruct.
func pyFuncName(n string) string { return pyArg(strings.ReplaceAll(n, ".", "_")) }

// blocksOf groups the variables by the block that owns them, the first part of their name.
func blocksOf(m *ir.Module) ([]*block, error) {
	byName := map[string]*block{}
	var order []*block
	get := func(n string) *block {
		if bl, ok := byName[n]; ok {
			return bl
		}
		cls := n
		if !pyIdent(cls) || cls == "Tensor" {
			cls = "Block_" + pyArg(n)
		}
		bl := &block{name: n, class: cls}
		byName[n] = bl
		order = append(order, bl)
		return bl
	}
	for _, f := range m.Funcs {
		if isBlockFunc(f) {
			get(f.Name).fn = f
		}
	}
	for _, v := range append(m.Params(), m.States()...) {
		owner, _, ok := strings.Cut(v.Attrs.String("name"), ".")
		if !ok {
			return nil, fmt.Errorf("%s: export: variable %s has no block prefix", v.Pos, v.Attrs.String("name"))
		}
		bl := get(owner)
		bl.vars = append(bl.vars, v)
	}
	return order, nil
}

// writeBlock writes one block's class: its layers and variables, and its forward.
func writeBlock(b *strings.Builder, bl *block, lay Layouts) error {
	fmt.Fprintf(b, "class %s(nn.Module):\n", bl.class)
	if bl.fn != nil && len(bl.fn.Ops) > 0 {
		fmt.Fprintf(b, "    \"\"\"%s (%s), as dlc's function @%s computes it.\"\"\"\n\n", bl.name, bl.fn.Ops[0].Pos, bl.name)
	} else {
		fmt.Fprintf(b, "    \"\"\"The variables named %s.* (no function of its own).\"\"\"\n\n", bl.name)
	}
	b.WriteString("    def __init__(self):\n        super().__init__()\n")
	made := map[string]bool{"": true}
	container := func(path string) {
		parts := strings.Split(path, ".")
		for i := 1; i <= len(parts); i++ {
			p := strings.Join(parts[:i], ".")
			if !made[p] {
				made[p] = true
				fmt.Fprintf(b, "        self.%s = nn.Module()\n", p)
			}
		}
	}
	for _, v := range bl.vars {
		n := v.Attrs.String("name")
		_, rest, _ := strings.Cut(n, ".")
		for _, c := range strings.Split(rest, ".") {
			if !pyIdent(c) {
				return fmt.Errorf("%s: export: variable %s: %q is not a Python name", v.Pos, n, c)
			}
		}
		dir, leaf := "", rest
		if i := strings.LastIndex(rest, "."); i >= 0 {
			dir, leaf = rest[:i], rest[i+1:]
		}
		shape, err := v.Type.Shape.Eval(nil)
		if err != nil {
			return fmt.Errorf("%s: export: %s: %v", v.Pos, n, err)
		}
		switch lay[n] {
		case LayoutLinear:
			if dir == "" {
				return fmt.Errorf("%s: export: dense weight %s has no layer name", v.Pos, n)
			}
			if i := strings.LastIndex(dir, "."); i >= 0 {
				container(dir[:i])
			}
			made[dir] = true
			_, bias := lay[biasOf(n)]
			bias = bias && lay[biasOf(n)] == LayoutLinearBias
			fmt.Fprintf(b, "        self.%s = nn.Linear(%d, %d, bias=%s)\n", dir, shape[0], shape[1], pyBool(bias))
			continue
		case LayoutLinearBias:
			continue
		}
		container(dir)
		owner := "self"
		if dir != "" {
			owner += "." + dir
		}
		size := "(" + strings.Trim(strings.Join(strings.Fields(fmt.Sprint(shape)), ", "), "[]") + ")"
		if len(shape) == 1 {
			size = fmt.Sprintf("(%d,)", shape[0])
		}
		if v.Kind == "state" {
			fmt.Fprintf(b, "        %s.register_buffer(%q, torch.zeros%s)\n", owner, leaf, size)
		} else {
			fmt.Fprintf(b, "        %s.%s = nn.Parameter(torch.zeros%s)\n", owner, leaf, size)
		}
	}
	if len(bl.vars) == 0 {
		b.WriteString("        pass\n")
	}
	b.WriteString("\n")
	if bl.fn != nil {
		root := func(owner string) string {
			if owner == bl.name {
				return "self"
			}
			return fmt.Sprintf("self.nets[%q]", owner)
		}
		p, err := translate(bl.fn, bl.fn.Outputs, lay, root)
		if err != nil {
			return err
		}
		writeDef(b, "    ", "forward", append([]string{"self"}, argNames(bl.fn)...), p, bl.fn.Outputs, "")
	}
	b.WriteString("\n")
	return nil
}

func argNames(f *ir.Func) []string {
	var out []string
	for _, in := range f.Inputs {
		out = append(out, pyArg(in.Attrs.String("name")))
	}
	return out
}

// writeFreeFunc writes a family's function of the blocks.
func writeFreeFunc(b *strings.Builder, f *ir.Func, py string, outs []ir.Output, lay Layouts, doc, nets string) error {
	root := func(owner string) string { return fmt.Sprintf("%s[%q]", nets, owner) }
	p, err := translate(f, outs, lay, root)
	if err != nil {
		return err
	}
	if doc == "" {
		doc = "dlc's function @" + f.Name
	}
	writeDef(b, "", py, append([]string{nets}, argNames(f)...), p, outs, doc)
	b.WriteString("\n")
	return nil
}

// writeDef writes a def of the translated body. Plain results come back as one value or a
// tuple; a function with a loss, metrics or states returns a dict by output name.
func writeDef(b *strings.Builder, indent, name string, args []string, p *pyFunc, outs []ir.Output, doc string) {
	fmt.Fprintf(b, "%sdef %s(%s):\n", indent, name, strings.Join(args, ", "))
	if doc != "" {
		fmt.Fprintf(b, "%s    \"\"\"%s\"\"\"\n", indent, doc)
	}
	for _, l := range p.lines {
		fmt.Fprintf(b, "%s    %s\n", indent, l)
	}
	plain := true
	for _, o := range outs {
		if k, _ := o.Kind(); k != ir.OutValue {
			plain = false
		}
	}
	var rs []string
	for i, o := range outs {
		if plain {
			rs = append(rs, fmt.Sprintf("out_%d", i))
		} else {
			rs = append(rs, fmt.Sprintf("%q: out_%d", o.Name, i))
		}
	}
	if plain {
		fmt.Fprintf(b, "%s    return %s\n", indent, strings.Join(rs, ", "))
	} else {
		fmt.Fprintf(b, "%s    return {%s}\n", indent, strings.Join(rs, ", "))
	}
}

// trainOutputs are a step's outputs torch computes itself: the loss, states and metrics,
// not the gradients.
func trainOutputs(f *ir.Func) []ir.Output {
	var outs []ir.Output
	for _, o := range f.Outputs {
		if k, _ := o.Kind(); k != ir.OutGrad {
			outs = append(outs, o)
		}
	}
	return outs
}

// trainPy writes train.py: the spec, each phase's step, and the loop (torch_train.py).
func (t *Torch) trainPy(lay Layouts) (string, error) {
	m, spec := t.Module, t.Module.Train
	var b strings.Builder
	fmt.Fprintf(&b, "# train.py: trains %s as dlc run does, exported by dlc export --to torch.\n", filepath.Base(t.Source))
	b.WriteString(`#
#   python train.py --device cpu|cuda [--epochs N] [--save W.safetensors]
#   torchrun --nproc_per_node=N train.py ...   (DistributedDataParallel: gloo on CPU, nccl on GPU)
#   (Debian's torch 1.13 under Python 3.11: torchrun --redirects 2 --tee 2 --nproc_per_node=N …)
#
# The steps below are dlc's step functions in training mode (dropout on, batch norm on the
# batch's statistics, updating the running ones); torch's autograd takes the place of the
# gradients dlc derives. Random draws come from torch's generator, not dlc's.
import model
from model import torch, F, segment_sum, segment_mean, segment_amax, segment_amin, segment_count, sum_to, _device

`)
	switch spec.Task {
	case ir.TaskSamples, ir.TaskNode:
	default:
		t.Note = fmt.Sprintf("train.py is not written for a %s task yet (only for batches of samples and node tasks); model.py and the weights are", spec.Task)
		return "", nil
	}
	if why := unexported(spec); why != "" {
		t.Note = "train.py is not written: it does not reproduce " + why + " yet; model.py and the weights are"
		return "", nil
	}
	for i, ph := range spec.Phases {
		f := m.Func(ph.Step)
		if f == nil {
			return "", fmt.Errorf("export: phase %s: no step function %s", ph.Name, ph.Step)
		}
		doc := fmt.Sprintf("phase %s (@%s): the loss, metrics and new states of one batch", ph.Name, ph.Step)
		if err := writeFreeFunc(&b, f, fmt.Sprintf("step_%d", i), trainOutputs(f), lay, doc, "nets"); err != nil {
			return "", err
		}
	}
	b.WriteString("PHASES = [\n")
	for i, ph := range spec.Phases {
		f := m.Func(ph.Step)
		fmt.Fprintf(&b, "    dict(name=%q, step=step_%d, inputs=%s, params=%s, optimizer=%q, args=%s, repeat=%d),\n",
			ph.Name, i, pyStrings(inputNames(f)), pyStrings(ph.Params), ph.Optimizer.Name, pyFloatDict(optimizerArgs(ph.Optimizer)), ph.Repeat)
	}
	b.WriteString("]\n")
	fmt.Fprintf(&b, "TASK = %q\n", spec.Task.String())
	feeds := map[string]string{}
	for _, f := range spec.Feeds {
		feeds[f.Input] = f.Kind.String()
	}
	fmt.Fprintf(&b, "FEEDS = %s\n", pyStringDict(feeds))
	shapes := map[string]string{}
	for _, f := range m.Funcs {
		for _, in := range f.Inputs {
			n := in.Attrs.String("name")
			if k, ok := spec.Feed(n); ok && (k == ir.FeedSamples || k == ir.FeedTargets || k == ir.FeedDraw) && len(in.Type.Shape) > 0 {
				tail, err := in.Type.Shape[1:].Eval(nil)
				if err != nil {
					return "", fmt.Errorf("export: input %s of %s: %v", n, f.Name, err)
				}
				shapes[n] = pyTuple(tail)
				if len(tail) == 0 {
					shapes[n] = "()"
				}
			}
		}
	}
	var sh []string
	for _, k := range sortedKeys(shapes) {
		sh = append(sh, fmt.Sprintf("%q: %s", k, shapes[k]))
	}
	fmt.Fprintf(&b, "SAMPLE_SHAPES = {%s}\n", strings.Join(sh, ", "))
	evalInputs := []string{}
	if f := m.Func(spec.Eval); f != nil {
		evalInputs = inputNames(f)
	}
	fmt.Fprintf(&b, "EVAL = %q\nEVAL_INPUTS = %s\n", spec.Eval, pyStrings(evalInputs))
	fmt.Fprintf(&b, "DATA = %s\n", pyData(&spec.Data))
	fmt.Fprintf(&b, "TEST = %s\n", pyData(spec.Test))
	fmt.Fprintf(&b, "BATCH = %d\nEPOCHS = %d\nSEED = %d\nSHUFFLE = %s\n", spec.Batch, spec.Epochs, spec.Seed, pyBool(spec.Shuffle))
	fmt.Fprintf(&b, "SOURCE = %q\n", filepath.Base(t.Source))
	b.WriteString(torchTrain)
	return b.String(), nil
}

// optimizerArgs is every argument of an optimiser, the schema's defaults filled in.
func optimizerArgs(o ir.OptSpec) map[string]float64 {
	a := maps.Clone(o.Args)
	if a == nil {
		a = map[string]float64{}
	}
	if c, ok := schema.Find(schema.Optimizers, o.Name); ok {
		for _, s := range c.Args {
			if _, given := a[s.Name]; given || s.Default == "" {
				continue
			}
			switch s.Default {
			case "true":
				a[s.Name] = 1
			case "false":
				a[s.Name] = 0
			default:
				if v, err := strconv.ParseFloat(s.Default, 64); err == nil {
					a[s.Name] = v
				}
			}
		}
	}
	return a
}

// unexported names a train block setting train.py does not reproduce, or "".
func unexported(spec *ir.TrainSpec) string {
	switch {
	case spec.Validation != nil:
		return "validation (" + spec.Validation.Source() + ")"
	case spec.EarlyStop != nil:
		return "early_stopping (" + spec.EarlyStop.Source() + ")"
	}
	for _, ph := range spec.Phases {
		if ph.Schedule != nil {
			return "phase " + ph.Name + "'s schedule (" + ph.Schedule.Source() + ")"
		}
		if ph.Clip != nil {
			return "phase " + ph.Name + "'s clipping (" + ph.Clip.Source() + ")"
		}
	}
	return ""
}

func inputNames(f *ir.Func) []string {
	var out []string
	for _, in := range f.Inputs {
		out = append(out, in.Attrs.String("name"))
	}
	return out
}

func pyStrings(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func pyStringDict(m map[string]string) string {
	var q []string
	for _, k := range sortedKeys(m) {
		q = append(q, fmt.Sprintf("%q: %q", k, m[k]))
	}
	return "{" + strings.Join(q, ", ") + "}"
}

func pyFloatDict(m map[string]float64) string {
	var q []string
	for _, k := range sortedKeys(m) {
		q = append(q, fmt.Sprintf("%q: %s", k, pyFloat64(m[k])))
	}
	return "{" + strings.Join(q, ", ") + "}"
}

func pyFloat64(v float64) string { return fmt.Sprintf("%v", v) }

func pyData(d *ir.DataSpec) string {
	if d == nil {
		return "None"
	}
	return fmt.Sprintf("dict(source=%q, args=%s)", d.Source, pyStringDict(d.Args))
}

// GraphArrays returns a graph task's data as the .npy files train.py reads.
func (g *GraphData) Arrays() map[string]checkpoint.Tensor {
	f := func(xs []int32) []float32 {
		out := make([]float32, len(xs))
		for i, x := range xs {
			out[i] = float32(x)
		}
		return out
	}
	ts := map[string]checkpoint.Tensor{
		"x":     {Shape: []int{g.N, g.F}, Data: slices.Clone(g.X)},
		"src":   {Shape: []int{len(g.Src)}, Data: f(g.Src)},
		"dst":   {Shape: []int{len(g.Dst)}, Data: f(g.Dst)},
		"train": {Shape: []int{len(g.Train)}, Data: f(g.Train)},
	}
	if g.Labels != nil {
		ts["labels"] = checkpoint.Tensor{Shape: []int{len(g.Labels)}, Data: f(g.Labels)}
		ts["classes"] = checkpoint.Tensor{Shape: []int{1}, Data: []float32{float32(g.Classes)}}
	}
	return ts
}

// Write writes the package into dir (made if missing): model.py, train.py, the weights and
// a graph task's data/*.npy, each file replaced atomically. It returns the paths written.
func (t *Torch) Write(dir string) ([]string, error) {
	files, weights, err := t.Files()
	if err != nil {
		return nil, err
	}
	if t.Module.Train.Task == ir.TaskNode && t.Graph == nil {
		if t.Graph, err = LoadGraphData(t.Module.Train); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("export: %v", err)
	}
	var wrote []string
	for _, n := range sortedKeys(files) {
		p := filepath.Join(dir, n)
		if err := atomicfile.WriteFile(p, []byte(files[n]), 0o644); err != nil {
			return wrote, err
		}
		wrote = append(wrote, p)
	}
	p := filepath.Join(dir, "weights.safetensors")
	if err := checkpoint.Save(p, weights, map[string]string{"dlc.source": filepath.Base(t.Source), "dlc.layout": "torch"}); err != nil {
		return wrote, err
	}
	wrote = append(wrote, p)
	if t.Graph != nil {
		if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
			return wrote, fmt.Errorf("export: %v", err)
		}
		arrs := t.Graph.Arrays()
		for _, n := range sortedKeys(arrs) {
			a := arrs[n]
			p := filepath.Join(dir, "data", n+".npy")
			if err := atomicfile.Write(p, 0o644, func(w io.Writer) error { return data.WriteNPY(w, a.Shape, a.Data) }); err != nil {
				return wrote, err
			}
			wrote = append(wrote, p)
		}
	}
	return wrote, nil
}
