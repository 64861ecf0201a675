// Command gemmkernel prints the GEMM implementation dlc would use on this machine
// ("avx512 8x32", "avx2 6x16", "gonum", or "openblas" with -tags openblas), so that the
// benchmark harness can say what it measured.
package main

import (
	"fmt"

	"github.com/dlc-lang/dlc/runtime/gemm"
)

func main() { fmt.Println(gemm.Kernel()) }
