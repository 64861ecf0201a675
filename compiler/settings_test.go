package compiler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/ir/schema"
)

const (
	aeBlocks = "encoder E(x: [B, 16]) -> [B, 4] {\n    return sigmoid(dense(x, 4))\n}\n" +
		"decoder D(z: [B, 4]) -> [B, 16] {\n    return sigmoid(dense(z, 16))\n}\n"
	mlp      = "model M(x: [B, 4]) -> [B, 1] {\n    return dense(x, 1)\n}\n"
	ganBlock = "generator G(z: [B, 8]) -> [B, 4] {\n    return tanh(dense(z, 4))\n}\n" +
		"discriminator C(x: [B, 4]) -> [B, 1] {\n    return dense(x, 1)\n}\n"
	layerModel = "model M(x: [N, 4], g: graph) -> [N, 4] {\n    return L(x, g)\n}\n"
)

func compileErr(t *testing.T, src string) string {
	t.Helper()
	_, _, err := Compile("m.dl", []byte(src), Options{})
	if err == nil {
		return ""
	}
	return err.Error()
}

// The settings train.go and gan.go read by hand are those of their schema tables, so that
// spec.md's generated tables list what the compiler accepts.
func TestTrainAndGANTables(t *testing.T) {
	for _, tc := range []struct {
		src   string
		table []schema.Setting
	}{
		{mlp + "train M {\n    data = csv(path: \"a\")\n    bogus = 1\n}\n", schema.TrainSettings},
		{ganBlock + "gan GAN(gen: G, disc: C) {\n    bogus = 1\n}\n", schema.GANSettings},
		{aeBlocks + "autoencoder AE(enc: E, dec: D) {\n    bogus = 1\n}\n", schema.AutoencoderSettings},
	} {
		want := "(want " + strings.Join(schema.Names(tc.table), ", ") + ")"
		if got := compileErr(t, tc.src); !strings.Contains(got, want) {
			t.Errorf("got %s\nwant the settings %s", got, want)
		}
	}
}

// The checker's messages, one per way a setting or an argument can be wrong.
func TestCheckSettings(t *testing.T) {
	ae := func(s string) string { return aeBlocks + "autoencoder AE(enc: E, dec: D) {\n    " + s + "\n}\n" }
	train := func(s string) string { return mlp + "train M {\n    loss = mse\n    " + s + "\n}\n" }
	optim := func(s string) string { return train("data = csv(path: \"a\")\n    " + s) }
	layer := func(s string) string { return "layer L(h: [N, F], g: graph) -> [N, F] {\n" + s + "}\n" + layerModel }
	param := func(init string) string {
		return "model M(x: [B, 4]) -> [B, 4] {\n    w = param([4, 4], init: \"" + init + "\")\n    return matmul(x, w)\n}\n"
	}
	for _, tc := range []struct{ src, want string }{
		{ae("sparsty = l1(1e-3)"), "m.dl:8:5: AE: unknown setting sparsty (did you mean sparsity?)"},
		{ae("loss = mse\n    loss = bce"), "m.dl:9:5: AE: loss set twice"},
		{ae("loss = hinge"), "AE: loss = hinge, want bce, mse or l1, or an expression of x, z and recon"},
		{ae("reduction = \"sum\""), ""},
		{ae("penalty = l1(1e-3)"), "AE: penalty = l1(…), want l2(lambda)"},
		{ae("corrupt = mask(1.5)"), "m.dl:8:20: AE: mask: q = 1.5, want a number in [0, 1]"},
		{ae("sparsity = kl(0.05, 3, 4)"), "AE: kl takes 2 arguments (rho, beta), got 3"},
		{ae("sparsity = kl(rho: 0.05)"), "AE: kl: missing argument beta, want a number ≥ 0"},
		{ae("sparsity = kl(rho: 0.05, rho: 0.1)"), "AE: kl: argument rho given twice"},
		{ae("sparsity = kl(0.05, beta: 3)"), ""},
		{ae("contractive = \"a\""), "AE: contractive = \"a\", want a number ≥ 0"},
		{optim("optimizer = adam(lr: 1e-3, beta9: 0.5)"), "m.dl:7:32: train: adam: unknown argument beta9 (did you mean beta1?)"},
		{optim("optimizer = adamm(lr: 1e-3)"), "train: unknown optimizer adamm (did you mean adam?)"},
		{optim("optimizer = adam(beta1: 1)"), "train: adam: beta1 = 1, want a number in [0, 1)"},
		{optim("optimizer = sgd(nesterov: 2)"), "train: sgd: nesterov = 2, want true or false"},
		{optim("optimizer = sgd(momentum: 0.9, nesterov: 1)"), ""},
		{optim("optimizer = sgd(nesterov: true)"), "train: sgd: nesterov needs momentum > 0 and dampening 0"},
		{train("data = csv(pth: \"a\")"), "train: csv: unknown argument pth (did you mean path?)"},
		{train("data = csv(\"a\")"), "train: csv: arguments are named, want path: …"},
		{train("data = karate(3)"), "train: karate takes no arguments"},
		{train("data = parquet()"), "train: unknown data source parquet (want mnist, mnist_pairs, csv, npy"},
		{train("data = csv(label: 3)"), "train: csv: missing argument path, want a file path"},
		{train("data = csv(path: \" \")"), "train: csv: path = \" \", want a file path"},
		{train("data = sbm(nodes: 10, blocks: 2, edges: 20, p: 1.5)"), "train: sbm: p = 1.5, want a number in [0, 1]"},
		{train("data = mnist(split: \"train\", digits: \"1,1\")"), "want digits 0-9 separated by commas"},
		{param("he_normall"), "m.dl:2:29: param: unknown initializer he_normall (did you mean he_normal?)"},
		{param("normal(-0.1)"), "param: init \"normal(-0.1)\": std = -0.1, want a number ≥ 0"},
		{param("zeros(1)"), "param: init \"zeros(1)\": zeros takes no argument"},
		{param("normal(0.1"), "param: init \"normal(0.1\": missing closing parenthesis"},
		{param("normal(a)"), "param: init \"normal(a)\": want one number, normal(std)"},
		{param(" xavier_uniform "), ""},
		{param("uniform(0.1)"), ""},
		{layer("    message = h[g.src]\n    aggregate = median\n    update = aggregated\n"), "layer L: aggregate = median, want sum, mean, max or min"},
		{layer("    message = h[g.src]\n    aggregate = sum\n"), "layer L: missing update = …"},
		{layer("    message = h[g.src]\n    self_loops = true\n"), "layer L: set self_loops before the message"},
		{layer("    self_loops = 1.5\n"), "layer L: self_loops = 1.5, want true or false"},
		{layer("    normalize = \"sym\"\n    message = h[g.src]\n    aggregate = mean\n    update = aggregated\n"), ""},
	} {
		got := compileErr(t, tc.src)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("%s\ngot error %q\nwant %q", tc.src, got, tc.want)
		}
	}
}

// Every example's train block and gan family passes its table, so that train.go and
// gan.go can read their settings through checkSettings without refusing a valid program.
func TestTablesAcceptExamples(t *testing.T) {
	files, _ := filepath.Glob("../examples/*/*.dl")
	if len(files) < 10 {
		t.Fatalf("%d examples, want at least 10", len(files))
	}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		_, p, err := Compile(file, src, Options{})
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		for _, tr := range p.trains {
			if _, err := p.checkSettings("train", schema.TrainSettings, tr.Settings, tr.EndPos); err != nil {
				t.Errorf("%s: %v", file, err)
			}
		}
		for _, f := range p.families {
			if f.Kind != "gan" {
				continue
			}
			if _, err := p.checkSettings(f.Name, schema.GANSettings, f.Settings, f.EndPos); err != nil {
				t.Errorf("%s: %v", file, err)
			}
		}
	}
}
