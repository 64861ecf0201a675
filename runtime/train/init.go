package train

// Parameter initialisers. The scaled ones follow torch.nn.init: glorot (xavier) keeps the
// activation variance equal going forward and backward, so its scale depends on both fans; he
// (kaiming, for relu) keeps the forward variance, so it depends on fan_in alone. The fans come
// from dlc's weight layouts, which differ from torch's for dense layers:
//
//	rank 1 (bias, norm scale)      [n]                    fan_in = fan_out = n
//	rank 2 (dense, x·W)            [in, out]              fan_in = in, fan_out = out
//	rank ≥3 (conv)                 [out_ch, in_ch, k...]  fan_in = in_ch·Πk, fan_out = out_ch·Πk
//
// Random numbers come from the caller's math/rand/v2 generator, so a seeded run is
// reproducible and initialisers never touch a global source.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/dlc-lang/dlc/runtime"
)

// initRule is one initialiser: how to fill a tensor given its fans and the optional argument.
type initRule struct {
	arg  string  // name of the optional argument ("std", "limit"), or "" if it takes none
	def  float64 // the argument's default
	fill func(dst []float32, fanIn, fanOut int, arg float64, rng *rand.Rand)
}

var initRules = map[string]initRule{
	"zeros": {fill: func(dst []float32, _, _ int, _ float64, _ *rand.Rand) {
		clear(dst)
	}},
	"ones": {fill: func(dst []float32, _, _ int, _ float64, _ *rand.Rand) {
		for i := range dst {
			dst[i] = 1
		}
	}},
	"glorot_uniform": {fill: func(dst []float32, fanIn, fanOut int, _ float64, rng *rand.Rand) {
		fillUniform(dst, math.Sqrt(6/float64(fanIn+fanOut)), rng)
	}},
	"glorot_normal": {fill: func(dst []float32, fanIn, fanOut int, _ float64, rng *rand.Rand) {
		fillNormal(dst, math.Sqrt(2/float64(fanIn+fanOut)), rng)
	}},
	"he_uniform": {fill: func(dst []float32, fanIn, _ int, _ float64, rng *rand.Rand) {
		fillUniform(dst, math.Sqrt(6/float64(fanIn)), rng)
	}},
	"he_normal": {fill: func(dst []float32, fanIn, _ int, _ float64, rng *rand.Rand) {
		fillNormal(dst, math.Sqrt(2/float64(fanIn)), rng)
	}},
	"normal": {arg: "std", def: 0.02, fill: func(dst []float32, _, _ int, std float64, rng *rand.Rand) {
		fillNormal(dst, std, rng)
	}},
	"uniform": {arg: "limit", def: 0.05, fill: func(dst []float32, _, _ int, a float64, rng *rand.Rand) {
		fillUniform(dst, a, rng)
	}},
}

// initAliases maps torch's names to dlc's.
var initAliases = map[string]string{
	"xavier_uniform":  "glorot_uniform",
	"xavier_normal":   "glorot_normal",
	"kaiming_uniform": "he_uniform",
	"kaiming_normal":  "he_normal",
}

const initNames = "zeros, ones, glorot_uniform, glorot_normal, he_uniform, he_normal, normal(std), uniform(limit)"

// InitTensor returns a new tensor of the given shape filled by the initialiser init:
//
//	zeros, ones
//	glorot_uniform   U(-a, a), a = √(6/(fan_in+fan_out))   (alias xavier_uniform)
//	glorot_normal    N(0, 2/(fan_in+fan_out))              (alias xavier_normal)
//	he_uniform       U(-a, a), a = √(6/fan_in)             (alias kaiming_uniform)
//	he_normal        N(0, 2/fan_in)                        (alias kaiming_normal)
//	normal, normal(std)        N(0, std²), std 0.02 by default (the DCGAN init)
//	uniform, uniform(limit)    U(-limit, limit), limit 0.05 by default
//
// Fans are computed from shape as the file comment describes. rng must not be nil unless init
// is zeros or ones; the caller seeds it.
func InitTensor(init string, shape []int, rng *rand.Rand) (*runtime.Tensor, error) {
	name, arg, hasArg, err := parseInit(init)
	if err != nil {
		return nil, err
	}
	if a, ok := initAliases[name]; ok {
		name = a
	}
	rule, ok := initRules[name]
	if !ok {
		return nil, fmt.Errorf("runtime: init: unknown initializer %q (want %s)", init, initNames)
	}
	switch {
	case hasArg && rule.arg == "":
		return nil, fmt.Errorf("runtime: init: %s takes no argument, got %q", name, init)
	case !hasArg:
		arg = rule.def
	case !(arg >= 0) || math.IsInf(arg, 1):
		return nil, fmt.Errorf("runtime: init: %s: %s: got %g, want a finite value >= 0", name, rule.arg, arg)
	}
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("runtime: init: %s: got shape %s, want no negative dimension", name, runtime.ShapeString(shape))
		}
	}
	if rng == nil && name != "zeros" && name != "ones" {
		return nil, fmt.Errorf("runtime: init: %s needs a random source, got nil", name)
	}
	t := runtime.NewTensor(append([]int(nil), shape...)...)
	fanIn, fanOut := Fans(shape)
	rule.fill(t.Data, fanIn, fanOut, arg, rng)
	return t, nil
}

// parseInit splits "normal(0.02)" into "normal" and 0.02; "normal" has no argument.
func parseInit(s string) (name string, arg float64, hasArg bool, err error) {
	s = strings.TrimSpace(s)
	open := strings.IndexByte(s, '(')
	if open < 0 {
		return s, 0, false, nil
	}
	name = strings.TrimSpace(s[:open])
	if !strings.HasSuffix(s, ")") {
		return "", 0, false, fmt.Errorf("runtime: init: %q: missing closing parenthesis", s)
	}
	body := strings.TrimSpace(s[open+1 : len(s)-1])
	arg, err = strconv.ParseFloat(body, 64)
	if err != nil {
		return "", 0, false, fmt.Errorf("runtime: init: %q: got argument %q, want one number", s, body)
	}
	return name, arg, true, nil
}

// Fans returns the fan-in and fan-out of a weight of the given shape in dlc's layouts: [n] has
// both n; [in, out] (dense, x·W) has in and out; [out_ch, in_ch, k...] (conv) has
// in_ch·Πk and out_ch·Πk. A scalar has both 1.
func Fans(shape []int) (fanIn, fanOut int) {
	switch len(shape) {
	case 0:
		return 1, 1
	case 1:
		return shape[0], shape[0]
	case 2:
		return shape[0], shape[1]
	}
	receptive := 1
	for _, k := range shape[2:] {
		receptive *= k
	}
	return shape[1] * receptive, shape[0] * receptive
}

func fillUniform(dst []float32, a float64, rng *rand.Rand) {
	for i := range dst {
		dst[i] = float32((2*rng.Float64() - 1) * a)
	}
}

func fillNormal(dst []float32, std float64, rng *rand.Rand) {
	for i := range dst {
		dst[i] = float32(rng.NormFloat64() * std)
	}
}
