package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// childArgsEnv, when set, makes the test binary run dlc with these arguments (separated by
// newlines) and exit with its code, so a test can signal a real dlc process.
const childArgsEnv = "DLC_TEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(childArgsEnv); args != "" {
		os.Exit(mainErr(strings.Split(args, "\n"), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestInterruptSavesAndResumes sends SIGINT to a dlc run training the tiny GAN on enough
// points to run for minutes: the run must finish its step, save a checkpoint with the run
// state, say so and exit 130. Resumed to a fixed step count, that checkpoint must end
// bit-identical to an uninterrupted run stopped at the same step.
func TestInterruptSavesAndResumes(t *testing.T) {
	dir := t.TempDir()
	writePoints(t, dir, 20000)
	model := writeFile(t, dir, "gan.dl", tinyGAN)
	ckpt := filepath.Join(dir, "w.safetensors")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	args := []string{"run", model, "--epochs", "1000", "--save", ckpt, "--out", dir, "--progress", "never", "--no-summary"}
	cmd.Env = append(os.Environ(), childArgsEnv+"="+strings.Join(args, "\n"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewReader(stdout)
	first, err := lines.ReadString('\n')
	if !strings.HasPrefix(first, "training ") {
		cmd.Process.Kill()
		t.Fatalf("first line %q (%v), stderr %s", first, err, stderr.String())
	}
	time.Sleep(200 * time.Millisecond) // some steps in
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(lines)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v, want code 130\nstdout %s\nstderr %s", err, rest, stderr.String())
	}
	out := string(rest)
	m := regexp.MustCompile(`interrupted at step (\d+) `).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "wrote weights and training state to "+ckpt) ||
		!strings.Contains(stderr.String(), "finishing the current step, then saving to "+ckpt) {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out, stderr.String())
	}
	steps, _ := strconv.Atoi(m[1])
	target := fmt.Sprint(steps + 5)
	mustRun(t, "run", model, "--epochs", "1000", "--resume", ckpt, "--save", ckpt, "--steps", target, "--out", dir, "--progress", "never")
	full := filepath.Join(dir, "full.safetensors")
	mustRun(t, "run", model, "--epochs", "1000", "--save", full, "--steps", target, "--out", dir, "--progress", "never")
	sameCheckpoint(t, ckpt, full)
	if tmp, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(tmp) > 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}
