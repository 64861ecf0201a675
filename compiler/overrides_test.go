package compiler

import (
	"bytes"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/ir"
)

const (
	setModel = "model M(x: [B, 4]) -> [B, 3] {\n    return dense(x, 3)\n}\n" +
		"train M {\n    data = csv(path: \"t.csv\", label: 4)\n    test = csv(path: \"t.csv\", label: 4)\n    loss = cross_entropy\n    optimizer = adam(lr: 1e-3, beta1: 0.5)\n}\n"
	setGAN = ganBlock + "gan GAN(gen: G, disc: C) {\n    noise = normal(8)\n}\n" +
		"train GAN {\n    data = csv(path: \"t.csv\")\n    optimizer = adam(lr: 2e-4)\n}\n"
	setPhases = "discriminator DA(x: [B, 4]) -> [B, 1] {\n    return dense(x, 1)\n}\n" +
		"train T(x: [B, 4]) {\n    data = csv(path: \"t.csv\")\n    phase d {\n        updates = [DA]\n        loss = mean(square(DA(x) - 1))\n    }\n}\n"
)

func compileSet(t *testing.T, src string, sets ...string) (*ir.Module, error) {
	t.Helper()
	var os []Override
	for _, kv := range sets {
		k, v, _ := strings.Cut(kv, "=")
		os = append(os, Override{Key: k, Value: v})
	}
	m, _, err := Compile("m.dl", []byte(src), Options{Overrides: os})
	return m, err
}

// TestOverrides: --set changes a setting, an argument of a setting's call (lr short for
// optimizer.lr), a family's phase's and a written phase's, as the file would.
func TestOverrides(t *testing.T) {
	m, err := compileSet(t, setModel, "batch=256", "lr=3e-4", "early_stopping=patience(3, monitor: \"test_accuracy\")", "schedule=step(every: 2)", "clip=norm(1)")
	if err != nil {
		t.Fatal(err)
	}
	tr := m.Train
	if tr.Batch != 256 || tr.Phases[0].Optimizer.Args["lr"] != 3e-4 || tr.Phases[0].Optimizer.Args["beta1"] != 0.5 {
		t.Errorf("batch %d, optimizer %s", tr.Batch, tr.Phases[0].Optimizer.Source())
	}
	if es := tr.EarlyStop; es == nil || es.Patience != 3 || es.Metric != "test_accuracy" || es.Mode != "max" {
		t.Errorf("early stop %+v", es)
	}
	if sc := tr.Phases[0].Schedule; sc == nil || sc.Args["every"] != 2 || sc.Args["gamma"] != 0.1 {
		t.Errorf("schedule %+v", sc)
	}
	if c := tr.Phases[0].Clip; c == nil || c.Kind != "norm" || c.Max != 1 {
		t.Errorf("clip %+v", c)
	}

	// A path in a --set value is the working directory's, not the .dl file's.
	ovs := []Override{{Key: "test", Value: `csv(path: "sub/t.csv", label: 4)`}}
	if m, _, err := Compile("dir/m.dl", []byte(setModel), Options{Overrides: ovs}); err != nil {
		t.Error(err)
	} else if m.Train.Test.Args["path"] != "sub/t.csv" || m.Train.Data.Args["path"] != "dir/t.csv" {
		t.Errorf("--set test=…: test %+v, data %+v", m.Train.Test, m.Train.Data)
	}

	m, err = compileSet(t, setGAN, "d.lr=1e-4", "g.schedule=exponential(0.9)", "d.clip=value(0.5)")
	if err != nil {
		t.Fatal(err)
	}
	d, g := m.Train.Phase("d"), m.Train.Phase("g")
	if d.Optimizer.Args["lr"] != 1e-4 || g.Optimizer.Args["lr"] != 2e-4 || g.Schedule == nil || d.Schedule != nil || d.Clip == nil || g.Clip != nil {
		t.Errorf("gan phases: d %s %+v, g %s %+v", d.Optimizer.Source(), d.Clip, g.Optimizer.Source(), g.Schedule)
	}

	m, err = compileSet(t, setPhases, "d.lr=0.5", "d.repeat=2")
	if err != nil {
		t.Fatal(err)
	}
	if ph := m.Train.Phase("d"); ph.Optimizer.Args["lr"] != 0.5 || ph.Repeat != 2 {
		t.Errorf("written phase d: %s, repeat %d", ph.Optimizer.Source(), ph.Repeat)
	}
}

// TestOverrideErrors: a bad --set names the flag and what was expected.
func TestOverrideErrors(t *testing.T) {
	for _, tc := range []struct{ set, want string }{
		{"batch=0", "--set batch=0: train: batch = 0, want a positive int"},
		{"batch=abc", "--set batch=abc: "},
		{"bach=3", "--set bach=3: unknown setting bach (did you mean batch?)"},
		{"optimizer.lrr=3", "--set optimizer.lrr=3: train: adam: unknown argument lrr (did you mean lr?)"},
		{"lr=-1", "--set lr=-1: train: adam: lr = -1, want a number ≥ 0"},
		{"early_stopping.n=3", "--set early_stopping.n=3: train: the train block sets no early_stopping"},
		{"epochs=(", "--set epochs=(: want KEY=VALUE"},
		{"early_stopping=patience(2, monitor: \"val_loss\")", "needs validation"},
		{"early_stopping=patience(2, monitor: \"test_acuracy\")", "did you mean test_accuracy?"},
		{"schedule=linear(1)", "unknown schedule linear (want step, exponential, cosine, plateau)"},
	} {
		_, err := compileSet(t, setModel, tc.set)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--set %s: got %v, want %q", tc.set, err, tc.want)
		}
	}
	if _, err := compileSet(t, setGAN, "d.momentum=1"); err == nil || !strings.Contains(err.Error(), "phase d has no setting momentum") {
		t.Errorf("d.momentum: %v", err)
	}
}

// TestLoopSettingsRoundTrip: the loop's settings are printed in the IR's text form and
// read back to the same module.
func TestLoopSettingsRoundTrip(t *testing.T) {
	m, err := compileSet(t, setGAN, "validation=fraction(0.25)", "early_stopping=patience(4, monitor: \"d_loss\", min_delta: 0.01)",
		"d.schedule=plateau(2, monitor: \"val_loss\")", "g.schedule=cosine(warmup: 1)", "clip=norm(2)")
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := ir.Print(&a, m); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"validation fraction 0.25", `early_stopping 4 "d_loss" 0.01 min`, `schedule plateau(`, `monitor 2 "val_loss" 0.0 min`, "clip norm 2.0"} {
		if !strings.Contains(a.String(), want) {
			t.Errorf("IR lacks %q", want)
		}
	}
	back, err := ir.Parse("m.ir", a.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := ir.Print(&b, back); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Errorf("round trip differs:\n%s\n---\n%s", a.String(), b.String())
	}
}
