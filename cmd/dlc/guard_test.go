package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// An output in use by another dlc process is refused while that process holds it, and
// the holder's exit on SIGTERM leaves neither its lock file nor a temporary file.
func TestOutputLockedByAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	writePoints(t, dir, 20000)
	model := writeFile(t, dir, "gan.dl", tinyGAN)
	metrics := filepath.Join(dir, "m.jsonl")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	args := []string{"run", model, "--epochs", "1000", "--metrics", metrics, "--save", filepath.Join(dir, "w.safetensors"), "--out", dir, "--progress", "never"}
	cmd.Env = append(os.Environ(), childArgsEnv+"="+strings.Join(args, "\n"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewReader(stdout)
	for {
		line, err := lines.ReadString('\n')
		if strings.HasPrefix(line, "training ") {
			break
		}
		if err != nil {
			cmd.Process.Kill()
			t.Fatalf("no training line: %v", err)
		}
	}
	code, _, stderr := run(t, "run", model, "--epochs", "1", "--metrics", metrics, "--out", dir)
	want := fmt.Sprintf("--metrics %s: in use by another dlc process (pid %d); refusing to write it at the same time", metrics, cmd.Process.Pid)
	if code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("second run: exit %d, stderr %q; want exit 1 and %q", code, stderr, want)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Errorf("holder: %v, want exit %d", err, exitInterrupted)
	}
	for _, pat := range []string{".*.lock", ".*.tmp*"} {
		if left, _ := filepath.Glob(filepath.Join(dir, pat)); len(left) > 0 {
			t.Errorf("left behind: %v", left)
		}
	}
}

// An infinite test loss does not stop the run: --metrics writes it as null (JSON has no
// infinity), names it under non_finite, and the epoch's checkpoint is written.
func TestNonFiniteMetricWrittenAsNull(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "d.csv", "a,y\n0.1,1\n0.2,2\n0.3,3\n0.4,4\n")
	writeFile(t, dir, "t.csv", "a,y\n0,3e38\n0,-3e38\n")
	model := writeFile(t, dir, "m.dl", `model M(x: [B, 1]) -> [B, 1] {
    return dense(x, 1)
}
train M {
    data      = csv(path: "d.csv", label: "y", target: "value")
    test      = csv(path: "t.csv", label: "y", target: "value")
    loss      = mse
    optimizer = adam(lr: 0.01)
    batch     = 2
    epochs    = 1
    seed      = 1
}
`)
	metrics, ckpt := filepath.Join(dir, "m.jsonl"), filepath.Join(dir, "w.safetensors")
	if code, _, stderr := run(t, "run", model, "--metrics", metrics, "--save", ckpt, "--out", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, _ := os.ReadFile(metrics)
	if !strings.Contains(string(b), `"test_loss":null`) || !strings.Contains(string(b), `"non_finite":["test_loss"]`) {
		t.Errorf("metrics line %s: want test_loss null, listed under non_finite", b)
	}
	if _, err := os.Stat(ckpt); err != nil {
		t.Errorf("the epoch's checkpoint was not written: %v", err)
	}
}
