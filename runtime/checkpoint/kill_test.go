package checkpoint

import (
	"bufio"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dlc-lang/dlc/runtime/atomicfile"
)

// killChildEnv, when set, makes the test binary a child that saves a big
// checkpoint slowly to the path it names, to be killed part-way.
const killChildEnv = "DLC_CHECKPOINT_KILL_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(killChildEnv); path != "" {
		// 8M values (32 MB) written 64 KB at a time with a pause after
		// each: well over a second, so the parent can kill mid-save.
		testHookWrite = func(w io.Writer) io.Writer { return slowWriter{w, new(int)} }
		big := map[string]Tensor{"w": {Shape: []int{8 << 20}, Data: make([]float32, 8<<20)}}
		if err := Save(path, big, nil); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(3)
		}
		os.Exit(4) // finished: the parent was too slow to kill
	}
	os.Exit(m.Run())
}

// slowWriter pauses after each write and says on stdout once it is a megabyte in.
type slowWriter struct {
	w io.Writer
	n *int
}

func (s slowWriter) Write(p []byte) (int, error) {
	time.Sleep(5 * time.Millisecond)
	n, err := s.w.Write(p)
	if *s.n < 1<<20 && *s.n+n >= 1<<20 {
		os.Stdout.WriteString("a megabyte in\n")
	}
	*s.n += n
	return n, err
}

// TestKillDuringSave kills a process while it saves over a checkpoint:
// the old checkpoint must still load, and nothing of the killed save is
// left: on Linux its temporary file had no name (O_TMPFILE); elsewhere the
// next save removes the partial file once it is stale.
func TestKillDuringSave(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.safetensors")
	old := map[string]Tensor{"w": {Shape: []int{2}, Data: []float32{1, 2}}}
	if err := Save(path, old, nil); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), killChildEnv+"="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the child has written at least a megabyte of the new file.
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	cmd.Process.Signal(syscall.SIGKILL)
	err = cmd.Wait()
	if line != "a megabyte in\n" {
		t.Fatalf("the child never got a megabyte into its save (exit %v, stderr %q)", err, stderr.String())
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed mid-save: %v, stderr %q", err, stderr.String())
	}

	got, _, err := Load(path)
	if err != nil {
		t.Fatalf("old checkpoint no longer loads: %v", err)
	}
	if d := got["w"].Data; len(d) != 2 || d[0] != 1 || d[1] != 2 {
		t.Fatalf("old checkpoint now holds %v, want [1 2]", d)
	}
	// A named partial file, where there is one, is removed by the next save
	// once it has sat untouched long enough to be stale.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if atomicfile.IsTemp(e.Name(), "w.safetensors") {
			long := time.Now().Add(-time.Hour)
			os.Chtimes(filepath.Join(dir, e.Name()), long, long)
		}
	}
	if err := Save(path, map[string]Tensor{"w": {Shape: []int{1}, Data: []float32{math.Pi}}}, nil); err != nil {
		t.Fatal(err)
	}
	entries, _ = os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "w.safetensors" {
			t.Errorf("left behind %s", e.Name())
		}
	}
}

// Inputs of unknown size are read no further than their header claims;
// files too big are refused from their size alone.
func TestLoadBounded(t *testing.T) {
	t.Run("dev zero", func(t *testing.T) {
		_, _, err := Load("/dev/zero")
		if want := "checkpoint: /dev/zero: header is not a JSON object"; err == nil || err.Error() != want {
			t.Errorf("got error %v, want %s", err, want)
		}
	})
	t.Run("fifo claiming gigabytes", func(t *testing.T) {
		fifo := filepath.Join(t.TempDir(), "pipe")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skip(err)
		}
		go func() {
			f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			f.Write(file(`{"a":{"dtype":"F32","shape":[805306368],"data_offsets":[0,3221225472]}}`, 16))
			f.Close()
		}()
		_, _, err := Load(fifo)
		want := "checkpoint: " + fifo + `: tensor "a": data_offsets [0, 3221225472] run past the 16-byte data section`
		if err == nil || err.Error() != want {
			t.Errorf("got error %v\nwant error %s", err, want)
		}
	})
	t.Run("sparse file over the limit", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "huge.safetensors")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if err := os.Truncate(path, MaxFileBytes+1); err != nil {
			t.Skip(err)
		}
		_, _, err = Load(path)
		want := "checkpoint: " + path + ": file is 4294967297 bytes, want at most 4294967296"
		if err == nil || err.Error() != want {
			t.Errorf("got error %v\nwant error %s", err, want)
		}
	})
	t.Run("directory", func(t *testing.T) {
		dir := t.TempDir()
		_, _, err := Load(dir)
		if want := "checkpoint: " + dir + ": is a directory, want a safetensors file"; err == nil || err.Error() != want {
			t.Errorf("got error %v, want %s", err, want)
		}
	})
}
