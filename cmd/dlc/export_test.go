package main

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/compiler"
	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/train"
)

func examplesList(t *testing.T) []string {
	t.Helper()
	ex, err := filepath.Glob("../../examples/*/*.dl")
	if err != nil || len(ex) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	return ex
}

func exampleName(ex string) string {
	return filepath.Base(filepath.Dir(ex)) + "_" + strings.TrimSuffix(filepath.Base(ex), ".dl")
}

func mustDLC(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := run(t, args...)
	if code != 0 {
		t.Fatalf("dlc %s: exit %d: %s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// TestExportImportRoundTrip: every example exports, and dlc → torch → dlc gives the same
// checkpoint, byte for byte (so the same bits), as does torch → dlc → torch.
func TestExportImportRoundTrip(t *testing.T) {
	for _, ex := range examplesList(t) {
		t.Run(exampleName(ex), func(t *testing.T) {
			dir := t.TempDir()
			mustDLC(t, "export", ex, "-o", filepath.Join(dir, "a"))
			back1 := filepath.Join(dir, "back1.safetensors")
			mustDLC(t, "import", filepath.Join(dir, "a", "weights.safetensors"), "--like", ex, "-o", back1)
			mustDLC(t, "export", ex, "--init", back1, "-o", filepath.Join(dir, "b"))
			back2 := filepath.Join(dir, "back2.safetensors")
			mustDLC(t, "import", filepath.Join(dir, "b", "weights.safetensors"), "--like", ex, "-o", back2)
			for _, pair := range [][2]string{{back1, back2}, {filepath.Join(dir, "a", "weights.safetensors"), filepath.Join(dir, "b", "weights.safetensors")}} {
				a, _ := os.ReadFile(pair[0])
				b, _ := os.ReadFile(pair[1])
				if len(a) == 0 || !bytes.Equal(a, b) {
					t.Errorf("%s and %s differ (%d, %d bytes)", pair[0], pair[1], len(a), len(b))
				}
			}
		})
	}
}

func TestImportErrors(t *testing.T) {
	dir := t.TempDir()
	pt := writeFile(t, dir, "model.pt", "PK\x03\x04rest of a zip")
	code, _, errs := run(t, "run", example, "--init", pt, "--epochs", "0")
	if code == 0 || !strings.Contains(errs, "zip archive") || !strings.Contains(errs, "dlc import") {
		t.Errorf("--init with a zip: exit %d, %s", code, errs)
	}
	pk := writeFile(t, dir, "old.pt", "\x80\x02\x8a\x0alegacy")
	if code, _, errs := run(t, "run", example, "--init", pk, "--epochs", "0"); code == 0 || !strings.Contains(errs, "pickle") {
		t.Errorf("--init with a pickle: exit %d, %s", code, errs)
	}
	// A torch file of another model: what is missing and what did not map are named.
	mustDLC(t, "export", "../../examples/classifier/mlp.dl", "-o", filepath.Join(dir, "mlp"))
	code, _, errs = run(t, "import", filepath.Join(dir, "mlp", "weights.safetensors"), "--like", example, "-o", filepath.Join(dir, "w.safetensors"))
	if code == 0 || !strings.Contains(errs, "missing: Dec.dense0.bias") {
		t.Errorf("import of another model: exit %d, %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "w.safetensors")); err == nil {
		t.Errorf("a failed import wrote its output")
	}
}

const python = "/usr/bin/python3"

func needTorch(t *testing.T) {
	t.Helper()
	if err := exec.Command(python, "-c", "import torch, numpy").Run(); err != nil {
		t.Skipf("%s has no torch: %v", python, err)
	}
}

// TestExportForwardParity: on the same weights and inputs, every exported function of one
// output (the blocks, the roles, the family's functions) gives dlc apply's numbers to 1e-5
// relative (of the largest magnitude). Runs when /usr/bin/python3 has torch.
func TestExportForwardParity(t *testing.T) {
	needTorch(t)
	// Every example takes about five minutes on two busy cores; by default a family of
	// each kind runs, DLC_EXPORT_ALL=1 runs them all.
	some := map[string]bool{"autoencoder_ae": true, "autoencoder_conv": true, "autoencoder_tied": true,
		"gan_dcgan": true, "gnn_karate": true}
	for _, ex := range examplesList(t) {
		if os.Getenv("DLC_EXPORT_ALL") == "" && !some[exampleName(ex)] {
			continue
		}
		t.Run(exampleName(ex), func(t *testing.T) {
			src, _ := os.ReadFile(ex)
			m, _, err := compiler.Compile(ex, src, compiler.Options{})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			pkg := filepath.Join(dir, "pkg")
			mustDLC(t, "export", ex, "-o", pkg)
			w := filepath.Join(dir, "w.safetensors")
			mustDLC(t, "import", filepath.Join(pkg, "weights.safetensors"), "--like", ex, "-o", w)
			var script strings.Builder
			fmt.Fprintf(&script, "import sys, numpy as np, torch\nsys.path.insert(0, %q)\nimport model\nnets = model.load(%q)\n", pkg, pkg)
			type check struct{ fn, dlcOut, pyOut string }
			var checks []check
			rng := rand.New(rand.NewPCG(1, 2))
			if m.Train.Task.IsGraph() {
				if m.Train.Task != ir.TaskNode {
					t.Skip("the graph and link tasks' data are not exported yet")
				}
				fn, _ := m.Train.Role(ir.RolePredict)
				c := check{fn, filepath.Join(dir, "dlc.npy"), filepath.Join(dir, "py.npy")}
				mustDLC(t, "apply", ex, "--init", w, "--out", c.dlcOut)
				fmt.Fprintf(&script, "d = {k: torch.from_numpy(np.load(%q + '/data/' + k + '.npy')) for k in ('x', 'src', 'dst')}\n", pkg)
				fmt.Fprintf(&script, "with torch.no_grad(): y = model.apply(nets, %q, d['x'], d['src'].int(), d['dst'].int())\nnp.save(%q, y.numpy())\n", fn, c.pyOut)
				checks = append(checks, c)
			} else {
				for _, f := range m.Funcs {
					if isStepFunc(m, f.Name) || len(f.Outputs) != 1 || f.Name == m.Train.Eval || draws(f) {
						continue
					}
					var ins, pyArgs []string
					for _, in := range f.Inputs {
						shape, err := in.Type.Shape.Eval(map[string]int{"B": 3})
						if err != nil || in.Type.DType != ir.DTypeF32 {
							t.Fatalf("%s: input %s %v", f.Name, in.Attrs.String("name"), in.Type)
						}
						x := &train.Tensor{Shape: shape, Data: make([]float32, 0)}
						n := 1
						for _, d := range shape {
							n *= d
						}
						for range n {
							x.Data = append(x.Data, rng.Float32())
						}
						p := filepath.Join(dir, f.Name+"."+in.Attrs.String("name")+".npy")
						if err := train.WriteNPY(p, x); err != nil {
							t.Fatal(err)
						}
						ins = append(ins, "--in", in.Attrs.String("name")+"="+p)
						pyArgs = append(pyArgs, fmt.Sprintf("torch.from_numpy(np.load(%q))", p))
					}
					c := check{f.Name, filepath.Join(dir, f.Name+".dlc.npy"), filepath.Join(dir, f.Name+".py.npy")}
					mustDLC(t, append([]string{"apply", ex, "--init", w, "--block", f.Name, "--out", c.dlcOut}, ins...)...)
					fmt.Fprintf(&script, "with torch.no_grad(): y = model.apply(nets, %q, %s)\nnp.save(%q, y.numpy())\n", f.Name, strings.Join(pyArgs, ", "), c.pyOut)
					checks = append(checks, c)
				}
			}
			cmd := exec.Command(python, "-c", script.String())
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("python: %v\n%s", err, out)
			}
			for _, c := range checks {
				a, err := train.ReadNPY(c.dlcOut)
				if err != nil {
					t.Fatal(err)
				}
				b, err := train.ReadNPY(c.pyOut)
				if err != nil {
					t.Fatal(err)
				}
				if len(a.Data) != len(b.Data) {
					t.Errorf("%s: dlc gives %v, torch %v", c.fn, a.Shape, b.Shape)
					continue
				}
				scale, worst := 0.0, 0.0
				for i := range a.Data {
					scale = max(scale, math.Abs(float64(a.Data[i])))
					worst = max(worst, math.Abs(float64(a.Data[i])-float64(b.Data[i])))
				}
				if worst > 1e-5*max(scale, 1e-30) {
					t.Errorf("%s: torch differs from dlc by %.3g (largest |value| %.3g)", c.fn, worst, scale)
				} else {
					t.Logf("%s %v: max |torch - dlc| = %.3g, max |dlc| = %.3g", c.fn, a.Shape, worst, scale)
				}
			}
		})
	}
}

// draws reports whether f draws random numbers (a denoising autoencoder's corrupt):
// torch's draws are not dlc's.
func draws(f *ir.Func) bool {
	for _, o := range f.Ops {
		if d, ok := ir.Lookup(o.Kind); ok && d.Impure && o.Kind != "state" {
			return true
		}
	}
	return false
}

func isStepFunc(m *ir.Module, fn string) bool {
	for _, ph := range m.Train.Phases {
		if ph.Step == fn {
			return true
		}
	}
	return false
}

// TestExportTrainParity: five steps of the exported train.py from the same weights give
// dlc run's weights to float32 rounding (karate: Adam, full-graph steps, no draws). With
// Adam a weight whose gradient is near eps moves by lr·g/(|g|+eps), which turns a rounding
// difference in g into a larger one, so the bound is 1e-6 of each tensor's largest value.
func TestExportTrainParity(t *testing.T) {
	needTorch(t)
	ex := "../../examples/gnn/karate.dl"
	dir := t.TempDir()
	pkg := filepath.Join(dir, "pkg")
	mustDLC(t, "export", ex, "-o", pkg)
	w0 := filepath.Join(dir, "w0.safetensors")
	mustDLC(t, "import", filepath.Join(pkg, "weights.safetensors"), "--like", ex, "-o", w0)
	d5 := filepath.Join(dir, "dlc5.safetensors")
	mustDLC(t, "run", ex, "--init", w0, "--steps", "5", "--epochs", "5", "--save", d5, "--progress", "never", "--out", dir)
	t5 := filepath.Join(dir, "torch5.safetensors")
	cmd := exec.Command(python, "train.py", "--steps", "5", "--epochs", "5", "--save", t5)
	cmd.Dir = pkg
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("train.py: %v\n%s", err, out)
	}
	back := filepath.Join(dir, "torch5_dlc.safetensors")
	mustDLC(t, "import", t5, "--like", ex, "-o", back)
	src, _ := os.ReadFile(ex)
	m, _, err := compiler.Compile(ex, src, compiler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	load := func(p string) map[string]*train.Tensor {
		tr, err := train.NewTrainer(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := train.StartVars(tr, p, 0); err != nil {
			t.Fatal(err)
		}
		return tr.Vars
	}
	start, a, b := load(w0), load(d5), load(back)
	for n, x := range a {
		worst, scale, moved := 0.0, 0.0, 0.0
		for i, v := range x.Data {
			scale = max(scale, math.Abs(float64(v)))
			worst = max(worst, math.Abs(float64(v)-float64(b[n].Data[i])))
			moved = max(moved, math.Abs(float64(v)-float64(start[n].Data[i])))
		}
		if moved == 0 {
			t.Errorf("%s did not move in 5 steps", n)
		}
		if worst > 1e-6*scale {
			t.Errorf("%s: torch's weights differ from dlc's by %.3g after 5 steps (largest %.3g, moved %.3g)", n, worst, scale, moved)
		} else {
			t.Logf("%s: max |torch - dlc| %.3g after 5 steps (largest %.3g, moved %.3g)", n, worst, scale, moved)
		}
	}
}
