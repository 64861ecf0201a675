// Package runtime executes dlc's IR on the CPU.
//
// Every value is a Tensor: a row-major, contiguous float32 array with a concrete shape
// (index inputs, ir's i32, hold int32 instead and are read only by the graph kernels). A
// kernel computes one op kind and is looked up by the op's Kind in one table (kernels), so
// an op defined in ir's op table has its execution here under the same name, and a test
// fails when one is missing. A kernel receives a Ctx, the op (for its attributes, its
// declared type and its source position) and its operands' tensors, and returns its result
// in storage it got from Ctx.alloc. Kernels never write their operands; a result shares
// storage with an operand only when the op only reinterprets it (reshape and stop_gradient
// are views, listed in viewKinds), and the executor checks that this holds.
//
// A Func's shapes may be symbolic ([B, 784]). Compile turns a Func into a Program once; each
// Run binds the symbols by unifying the declared input types with the shapes of the tensors
// it is given (B = 128), keeps the bindings in the Ctx so that kernels can evaluate shape
// attributes (reshape to [B, 7, 7]), checks every result against the op's declared type,
// and drops each intermediate tensor after its last use. Compile also plans the results'
// storage (plan.go): a buffer whose value is dead is reused by a later op, and buffers are
// kept from run to run, so a Run's outputs are valid until the program runs again.
// Parameters are supplied by their stable name (the param op's "name" attribute) and are
// only read.
//
// Errors name the op and its source line: "runtime: matmul at ae.dl:4:9: got [128, 784]
// and [512, 64], want equal inner dimensions". A bad input or shape never panics.
//
// From the plans the package also estimates what a training run holds in memory
// (EstimateMemory, GraphMemory), since only the executor knows its programs' buffers.
// Training itself (the Trainer, its optimisers and initialisers, the epoch loop,
// checkpoints and pictures) and inference with a trained model are package train
// (runtime/train), which uses this package through its exported API; nothing here uses
// train.
package runtime
