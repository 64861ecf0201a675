package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tinyCycle is a CycleGAN written as phases, small enough to train in a test: domain A is
// the 6-dimensional points of writePoints, domain B the same points reversed, drawn in an
// order of its own.
const tinyCycle = `
generator GAB(a: [B, 6]) -> [B, 6] {
    return dense(relu(dense(a, 16)), 6)
}
generator GBA(b: [B, 6]) -> [B, 6] {
    return dense(relu(dense(b, 16)), 6)
}
discriminator DA(x: [B, 6]) -> [B, 1] {
    return dense(leaky_relu(dense(x, 16), 0.2), 1)
}
discriminator DB(x: [B, 6]) -> [B, 1] {
    return dense(leaky_relu(dense(x, 16), 0.2), 1)
}
train Cycle(a: [B, 6], other: [B, 6] = draw) {
    data      = csv(path: "points.csv", label: "")
    optimizer = adam(lr: 0.005, beta1: 0.5)
    batch     = 16
    epochs    = 12
    seed      = 3
    phase d {
        updates = [DA, DB]
        b       = other * -1
        loss    = mean(square(DA(a) - 1)) + mean(square(DA(GBA(b)))) + mean(square(DB(b) - 1)) + mean(square(DB(GAB(a))))
    }
    phase g {
        updates = [GAB, GBA]
        b       = other * -1
        adv     = mean(square(DB(GAB(a)) - 1)) + mean(square(DA(GBA(b)) - 1))
        cycle   = mean(abs(GBA(GAB(a)) - a)) + mean(abs(GAB(GBA(b)) - b))
        loss    = adv + 10 * cycle
        report  = [adv, cycle]
    }
}
`

// TestWrittenPhasesTrain runs a train block that writes its own phases with dlc run: the
// epoch lines carry each phase's loss and the reports, the cycle error falls, and two runs
// of one seed give the same numbers.
func TestWrittenPhasesTrain(t *testing.T) {
	dir := t.TempDir()
	writePoints(t, dir, 128)
	model := writeFile(t, dir, "cycle.dl", tinyCycle)
	var lines [2][]map[string]float64
	for i := range lines {
		mpath := filepath.Join(dir, "m.json")
		code, out, stderr := run(t, "run", model, "--metrics", mpath, "--out", dir, "--progress", "never")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if !strings.Contains(out, "training Cycle.d, Cycle.g:") || !strings.Contains(out, " cycle ") {
			t.Errorf("no phases or reports in:\n%s", out)
		}
		b, err := os.ReadFile(mpath)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var m map[string]float64
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatal(err)
			}
			delete(m, "seconds")
			lines[i] = append(lines[i], m)
		}
	}
	first, last := lines[0][0], lines[0][len(lines[0])-1]
	t.Logf("cycle %.4f -> %.4f, g_loss %.4f -> %.4f, d_loss %.4f -> %.4f", first["cycle"], last["cycle"], first["g_loss"], last["g_loss"], first["d_loss"], last["d_loss"])
	if !(last["cycle"] < 0.6*first["cycle"]) {
		t.Errorf("cycle error %.4f after %d epochs, %.4f after the first: want it to fall by 40%%", last["cycle"], len(lines[0]), first["cycle"])
	}
	for e := range lines[0] {
		for k, v := range lines[0][e] {
			if lines[1][e][k] != v {
				t.Errorf("epoch %d: %s = %v, then %v with the same seed", e+1, k, v, lines[1][e][k])
			}
		}
	}
}
