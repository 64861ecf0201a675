package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dlc run --set: a bad override is reported with the flag and what was expected, before
// anything trains; a malformed one, and --log-every without --log-dir, are usage errors.
func TestRunSetErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "m.dl")
	src := "model M(x: [B, 4]) -> [B, 3] {\n    return dense(x, 3)\n}\ntrain M {\n    data = csv(path: \"t.csv\", label: 4)\n    loss = cross_entropy\n}\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--set", "batch=0"}, 1, "--set batch=0: train: batch = 0, want a positive int"},
		{[]string{"--set", "lr=fast"}, 1, "--set lr=fast: "},
		{[]string{"--set", "epoch=3"}, 1, "--set epoch=3: unknown setting epoch (did you mean epochs?)"},
		{[]string{"--set", "batch"}, 2, `--set "batch", want KEY=VALUE`},
		{[]string{"--log-every", "5"}, 2, "--log-every needs --log-dir DIR"},
	} {
		code, _, stderr := run(t, append([]string{"run", file, "--progress", "never"}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("dlc run %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), code, stderr, tc.code, tc.want)
		}
	}
}

// dlc check --set checks the overridden settings as dlc run does, with the same messages,
// and a good override still checks clean.
func TestCheckSet(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "m.dl")
	src := "model M(x: [B, 4]) -> [B, 3] {\n    return dense(x, 3)\n}\ntrain M {\n    data = csv(path: \"t.csv\", label: 4)\n    loss = cross_entropy\n}\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "t.csv"), []byte("1,2,3,4,0\n5,6,7,8,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--set", "batch=0"}, 1, "--set batch=0: train: batch = 0, want a positive int"},
		{[]string{"--set", "epoch=3"}, 1, "--set epoch=3: unknown setting epoch (did you mean epochs?)"},
		{[]string{"--set", "validation=fraction(2)"}, 1, "--set validation=fraction(2): train: fraction: f = 2, want a number in (0, 1)"},
		{[]string{"--set", "batch"}, 2, `--set "batch", want KEY=VALUE`},
	} {
		code, _, stderr := run(t, append([]string{"check", file}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("dlc check %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), code, stderr, tc.code, tc.want)
		}
	}
	code, stdout, stderr := run(t, "check", file, "--set", "batch=2", "--set", "lr=3e-4")
	if code != 0 || !strings.Contains(stdout, ": ok") {
		t.Errorf("dlc check --set batch=2 --set lr=3e-4: exit %d, stdout %q, stderr %q; want ok", code, stdout, stderr)
	}
}
