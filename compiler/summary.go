package compiler

import (
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
)

// A summary is what Keras' model.summary() shows, taken from the checked program rather
// than from a run: for each network (a block no other block calls), the block calls its
// body makes, each with the shapes it returns (symbolic dimensions kept, as the checker
// inferred them: [B, 64, 14, 14]), the parameters and training state its instance
// declared, and the network's totals. The calls are recorded as the lowerer instantiates
// them (recordCall); the parameters are the module's, matched by the instance's name
// prefix, so the counts are those that checkpoints and dlc params hold.

// blockCall is one lowered block instance: its name (the prefix of its parameters,
// G.dense0), the instance whose body called it, the block (or the builtin that declares
// parameters, batchnorm), whether its body is the user's (then its own calls are listed
// under it), the call and its results.
type blockCall struct {
	instance, parent string
	block            string
	open             bool
	pos              lang.Pos
	results          []ir.Shape
}

// recordCall notes a block instance once: a block lowered again (in a training phase after
// its entry function, or in eval mode after train mode) keeps its first record, which for
// an entry point is the one with its symbolic dimensions.
func (p *Program) recordCall(c blockCall, rets ...value) {
	if p.callSeen == nil {
		p.callSeen = map[string]bool{}
	}
	if p.callSeen[c.instance] {
		return
	}
	p.callSeen[c.instance] = true
	for _, r := range rets {
		if r.kind == kTensor {
			c.results = append(c.results, r.op.Type.Shape)
		}
	}
	p.calls = append(p.calls, c)
}

// NetworkSummary is one network of a program: its calls in the order its body makes them
// (a call of a user block is followed by the calls of its body, one Depth deeper), the
// parameters and state it declares outside any call, and its totals.
type NetworkSummary struct {
	Name          string
	Pos           lang.Pos
	Calls         []CallSummary
	Params, State []*ir.Op // declared by the network's own body, not by a call
	Trainable     int      // elements of every parameter of the network
	NonTrainable  int      // elements of its training state (batch-norm running statistics)
}

// CallSummary is one block call inside a network.
type CallSummary struct {
	Name    string // the instance: dense0 (its parameters are G.dense0.weight, …)
	Block   string // the block called: dense
	Pos     lang.Pos
	Depth   int        // 0 for a call in the network's body, 1 for a call in that call's block, …
	Results []ir.Shape // the shapes it returns
	Params  []*ir.Op   // its parameters and those of the calls inside it
	State   []*ir.Op   // its training state, likewise
}

// Summary describes the networks of m, which Lower made from p, in source order. Calls
// into the standard library are shown but not opened; calls of user blocks are.
func (p *Program) Summary(m *ir.Module) []NetworkSummary {
	params, states := m.Params(), m.States()
	children := map[string][]blockCall{}
	for _, c := range p.calls {
		children[c.parent] = append(children[c.parent], c)
	}
	var out []NetworkSummary
	for _, d := range p.Main.Decls {
		b := d.Block
		if b == nil || p.blocks[b.Name] != b || p.called[b.Name] {
			continue
		}
		if _, lowered := p.callSeen[b.Name]; !lowered && m.Func(b.Name) == nil {
			continue
		}
		n := NetworkSummary{Name: b.Name, Pos: b.Pos}
		var walk func(parent string, depth int)
		walk = func(parent string, depth int) {
			for _, c := range children[parent] {
				prefix := c.instance + "."
				n.Calls = append(n.Calls, CallSummary{
					Name: strings.TrimPrefix(c.instance, parent+"."), Block: c.block, Pos: c.pos, Depth: depth,
					Results: c.results, Params: withPrefix(params, prefix), State: withPrefix(states, prefix),
				})
				if c.open {
					walk(c.instance, depth+1)
				}
			}
		}
		walk(b.Name, 0)
		own := func(ops []*ir.Op) (mine []*ir.Op, total int) {
			for _, o := range withPrefix(ops, b.Name+".") {
				total += o.Type.Shape.NumElements().Coef
				if !inCall(o, n.Calls) {
					mine = append(mine, o)
				}
			}
			return mine, total
		}
		n.Params, n.Trainable = own(params)
		n.State, n.NonTrainable = own(states)
		out = append(out, n)
	}
	return out
}

func withPrefix(ops []*ir.Op, prefix string) []*ir.Op {
	var out []*ir.Op
	for _, o := range ops {
		if strings.HasPrefix(o.Attrs.String("name"), prefix) {
			out = append(out, o)
		}
	}
	return out
}

func inCall(o *ir.Op, calls []CallSummary) bool {
	for _, c := range calls {
		for _, q := range append(c.Params[:len(c.Params):len(c.Params)], c.State...) {
			if q == o {
				return true
			}
		}
	}
	return false
}
