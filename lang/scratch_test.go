package lang

import (
	"strings"
	"testing"
)

func BenchmarkScratchFlat(b *testing.B) {
	s := []byte(strings.Repeat("train T { a = 1 }\n", 20000))
	for i := 0; i < b.N; i++ {
		Parse("p.dl", s)
	}
}
