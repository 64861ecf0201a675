// Package stdlib holds dlc's standard library: layers written in the .dl language itself,
// embedded in the binary. A file is named by its import path: "std/nn" is nn.dl. The
// compiler loads std/nn into every program (it is the prelude); other std files are loaded by
// `import`.
package stdlib

import (
	"embed"
	"strings"
)

//go:embed *.dl
var files embed.FS

// Source returns the text of the standard file with import path p (e.g. "std/nn").
func Source(p string) ([]byte, bool) {
	name, ok := strings.CutPrefix(p, "std/")
	if !ok || strings.ContainsAny(name, "/.") {
		return nil, false
	}
	b, err := files.ReadFile(name + ".dl")
	return b, err == nil
}

// Paths returns the import paths of every standard file.
func Paths() []string {
	ents, _ := files.ReadDir(".")
	var ps []string
	for _, e := range ents {
		ps = append(ps, "std/"+strings.TrimSuffix(e.Name(), ".dl"))
	}
	return ps
}
