// Package export takes a dlc model out of dlc: to a PyTorch package (model.py, train.py,
// weights.safetensors) and back (a torch state_dict onto dlc's checkpoint names).
//
// It reads the module as the compiler lowered it (ir, before the optimising passes, so
// that every op is one of the op table's plain kinds) and its typed train contract
// (ir.TrainSpec): each block's function becomes an nn.Module's forward, each phase's step
// function a training step whose gradients torch's autograd takes, the feeds, optimisers
// and data sources the loop's settings. The translation is a table, one entry per op kind
// (python.go); an op without one is an error naming it and its .dl line. Weights move
// between the two layouts by LayoutsOf (layout.go): the names are dlc's, and only dense
// weights are transposed. It reads checkpoints through runtime/checkpoint and a graph
// task's data through runtime/data; cmd/dlc only wires it.
package export
