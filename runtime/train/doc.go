// Package train trains dlc models and runs the trained ones, on package runtime's
// executor: it imports runtime, and runtime knows nothing of it.
//
// A Trainer holds a module's parameters, its training state and one Optimizer per phase
// of the module's train spec, and compiles the spec's functions to runtime Programs at
// first use. Train runs the spec as epochs: it starts the parameters (drawn by the
// initialisers' rules or loaded from a checkpoint), loads the data, and in each epoch
// cycles the phases over the batches (a GAN's discriminator step, then its generator step
// on the same batch), each phase's step function giving its gradients to its own
// optimiser. One loop runs every spec, over a task (task.go) that brings the data, an
// epoch's training and the evaluation: the samples task, or a graph task whose epoch is one
// full-graph step (node and link tasks) or a pass over a set of small graphs.
// After each epoch a run evaluates on the test set (and the validation data), writes a
// metrics line (and, with a log directory, CSV rows: runlog.go), watches its monitors
// (monitor.go: the best checkpoint, early stopping, plateau schedules) and the family's
// pictures (samples from fixed noise; at the end the loss curve and reconstructions), and
// with Save a checkpoint that holds, besides the parameters, the optimisers' state and the
// run's position, so that a resumed run computes what the uninterrupted one would have,
// bit for bit (resume.go, graphresume.go). Inference runs a trained Trainer: ApplyBlock
// and ApplyRole run one of a block's functions over data in batches, FuncRows and
// ApplyRows a function of several inputs, each fed from a file or the data as training
// fed it (feedrows.go), Sample draws from a generative family, Score judges a generator by a classifier, PredictGraph and LinkScorer
// run graph models; evaluate.go holds what the commands compute from a trained model's
// outputs (anomaly scores and their Report, the error against targets, link
// probabilities), and outputs.go names what the command line needs of the packages below
// train (tensors, .npy and atomic files, node pairs, the memory estimate), so that it
// imports train alone. The optimisers' and initialisers' names, arguments and defaults are
// ir/schema's (optim.go, init.go hold the update and drawing rules): the compiler checks
// them, and NewOptimizer and InitTensor refuse, with an error, what a module read from
// its text form gets wrong.
package train
