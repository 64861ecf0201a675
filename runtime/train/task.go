package train

import (
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/data"
)

// A task is what one kind of training brings to the epoch loop (Train), as a model brings
// its training and validation steps to PyTorch Lightning's fit loop: its data, an epoch's
// training, its evaluation, and the generator and data identity a checkpoint saves. The
// loop does the rest, the same for every task: start or resume, each epoch's metrics
// line, checkpoint and pictures, the stop, the loss curve at the end.
//
// The samples task (batches of samples, the phases cycling over them with their repeat
// counts) is below; the graph tasks (node, link and edge: one full-graph step an epoch;
// graph: batches of small graphs) are in graphtask.go, and a node task on
// neighbour-sampled mini-batches in graphsample.go.
type task interface {
	// setup loads the data, splits it as the task says and writes the run's first line.
	// It returns the generator that draws the epochs' order or pairs, whose state at an
	// epoch's start a checkpoint saves, and the identity of the training data that a
	// resumed run must match (nil: none is checked).
	setup(out io.Writer) (*rand.PCG, *graphIdentity, error)
	// words says how the loop's lines speak of the task; it is asked after setup.
	words() taskWords
	// check runs once before the first epoch (a graph task's memory estimate).
	check(o RunOptions, out io.Writer) error
	// trainEpoch trains epoch l.epoch, or what is left of it after p, which it updates,
	// until the epoch is done or l.halted says stop; it tells l.step of its progress.
	trainEpoch(l *loop, p *EpochProgress) (EpochStats, error)
	// evaluate returns the loss and metrics on the test data; ok is false without any.
	evaluate() (loss float64, metrics map[string]float64, ok bool, err error)
	// validate returns them on the validation data (the spec's Validation, held out or
	// loaded at setup); ok is false without any.
	validate() (loss float64, metrics map[string]float64, ok bool, err error)
	// epochPictures writes what the model shows after each epoch (epoch counts from 1).
	epochPictures(dir, base string, epoch int, out io.Writer) error
	// pictures writes the task's pictures at the end of a run, besides the loss curve.
	pictures(dir, base string, out io.Writer) error
}

// taskWords is how the loop's lines speak of a task.
type taskWords struct {
	// unit names what an epoch's progress counts ("samples", "graphs"), and total how many
	// of them an epoch has; unit is "" when an epoch is one full-graph step.
	unit  string
	total int
	// graphLine ends an epoch's line in its seconds to three places, and counts the run's
	// steps in its record, as graph runs have always written them; other lines end in the
	// seconds to one place and the samples a second, and count the epoch's steps.
	graphLine bool
}

// newTask returns the task of tr's train spec.
func newTask(tr *Trainer, o RunOptions) task {
	switch tr.Spec.Task {
	case ir.TaskSamples:
		batch := o.EvalBatch
		if batch <= 0 {
			batch = DefaultEvalBatch
		}
		return &samplesTask{tr: tr, evalBatch: batch, data: data.Options{MNISTDir: o.MNISTDir}, identify: o.Save != "" || o.Resume != ""}
	case ir.TaskGraph:
		return &graphSetTask{graphTask{tr: tr}}
	case ir.TaskNode:
		if tr.Spec.Graph.Neighbors != nil {
			return &sampledNodeTask{graphTask: graphTask{tr: tr}}
		}
	}
	return &oneGraphTask{graphTask: graphTask{tr: tr}, losses: map[string]float64{}}
}

// samplesTask trains on batches of samples from a data source, shuffled each epoch by its
// own generator, and evaluates on the test source in batches of evalBatch.
type samplesTask struct {
	tr          *Trainer
	evalBatch   int
	pcg         *rand.PCG
	rng         *rand.Rand
	train, test *data.Set
	val         *data.Set // the validation data, or nil
	data        data.Options
	// identify makes setup name the training data (identifySamples), which a checkpoint
	// records and a resumed run checks; only a run that saves or resumes needs it.
	identify bool
}

func (s *samplesTask) setup(out io.Writer) (*rand.PCG, *graphIdentity, error) {
	spec := s.tr.Spec
	var err error
	if s.train, err = data.Load(spec.Data, s.data); err != nil {
		return nil, nil, err
	}
	if spec.Test != nil {
		if s.test, err = data.Load(*spec.Test, s.data); err != nil {
			return nil, nil, err
		}
	}
	// Checked now, not at the first step (or, for the test set, after a whole epoch).
	if err := checkLoaded(s.tr.Module, s.train, s.test); err != nil {
		return nil, nil, err
	}
	if s.train, s.val, err = validationSet(spec, s.train, s.data); err != nil {
		return nil, nil, err
	}
	s.pcg = rand.NewPCG(uint64(spec.Seed), 0x73687566)
	s.rng = rand.New(s.pcg)
	held := ""
	if s.val != nil {
		held = fmt.Sprintf(" (%d validation samples)", s.val.Len())
	}
	fmt.Fprintf(out, "training %s: %d samples%s, batch %d, %d epochs, %s\n", phasesString(s.tr), s.train.Len(), held, spec.Batch, spec.Epochs, optString(s.tr))
	if !s.identify {
		return s.pcg, nil, nil
	}
	return s.pcg, identifySamples(s.train), nil
}

func (s *samplesTask) words() taskWords { return taskWords{unit: "samples", total: s.train.Len()} }

func (s *samplesTask) check(RunOptions, io.Writer) error { return nil }

func (s *samplesTask) trainEpoch(l *loop, p *EpochProgress) (EpochStats, error) {
	return s.tr.EpochFrom(s.train, s.rng, s.tr.Spec.Shuffle, p, l.o.Steps, l.o.Stop, l.step)
}

func (s *samplesTask) evaluate() (float64, map[string]float64, bool, error) {
	if s.test == nil {
		return 0, nil, false, nil
	}
	loss, m, err := s.tr.Evaluate(s.test, s.evalBatch)
	return loss, m, true, err
}

func (s *samplesTask) validate() (float64, map[string]float64, bool, error) {
	if s.val == nil {
		return 0, nil, false, nil
	}
	loss, m, err := s.tr.Evaluate(s.val, s.evalBatch)
	return loss, m, true, err
}

func (s *samplesTask) epochPictures(dir, base string, epoch int, out io.Writer) error {
	if err := epochPictures(s.tr, dir, base, epoch, out); err != nil {
		return err
	}
	set := s.test
	if set == nil {
		set = s.train
	}
	return showPicture(s.tr, dir, base, set, epoch, out)
}

func (s *samplesTask) pictures(dir, base string, out io.Writer) error {
	return reconstructions(s.tr, dir, base, s.test, s.train, out)
}
