package runtime

import (
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/ir"
)

// A shape whose constant factor the IR accepts can still overflow once the batch size
// multiplies it: Run must refuse it with the op, never allocate a wrapped count.
func TestCheckElements(t *testing.T) {
	o := &ir.Op{Kind: "matmul", Type: ir.F32(ir.Shape{ir.Sym("B"), ir.Const(1 << 50)}), Pos: ir.Pos{File: "m.dl", Line: 3, Col: 9}}
	for _, tc := range []struct {
		b  int
		ok bool
	}{{1, true}, {8, true}, {9, false}, {1 << 40, false}, {-1, false}} {
		err := checkElements(o, map[string]int{"B": tc.b})
		if (err == nil) != tc.ok {
			t.Errorf("B = %d: %v, want ok %v", tc.b, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "m.dl:3:9") {
			t.Errorf("B = %d: %v does not name the op's line", tc.b, err)
		}
	}
}
