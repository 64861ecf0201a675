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

	"github.com/dlc-lang/dlc/ir/schema"
	"github.com/dlc-lang/dlc/runtime"
)

// initFill draws one initialiser into dst, given its fans and its argument (the
// schema's default when the init string gives none; 0 for those that take none).
type initFill func(dst []float32, fanIn, fanOut int, arg float64, rng *rand.Rand)

// initFills are the drawing rules, under schema.Initializers' names; the names, aliases,
// arguments and defaults are the schema's. TestInitializersMatchSchema keeps the two
// lists equal.
var initFills = map[string]initFill{
	"zeros": func(dst []float32, _, _ int, _ float64, _ *rand.Rand) {
		clear(dst)
	},
	"ones": func(dst []float32, _, _ int, _ float64, _ *rand.Rand) {
		for i := range dst {
			dst[i] = 1
		}
	},
	"glorot_uniform": func(dst []float32, fanIn, fanOut int, _ float64, rng *rand.Rand) {
		fillUniform(dst, math.Sqrt(6/float64(fanIn+fanOut)), rng)
	},
	"glorot_normal": func(dst []float32, fanIn, fanOut int, _ float64, rng *rand.Rand) {
		fillNormal(dst, math.Sqrt(2/float64(fanIn+fanOut)), rng)
	},
	"he_uniform": func(dst []float32, fanIn, _ int, _ float64, rng *rand.Rand) {
		fillUniform(dst, math.Sqrt(6/float64(fanIn)), rng)
	},
	"he_normal": func(dst []float32, fanIn, _ int, _ float64, rng *rand.Rand) {
		fillNormal(dst, math.Sqrt(2/float64(fanIn)), rng)
	},
	"normal": func(dst []float32, _, _ int, std float64, rng *rand.Rand) {
		fillNormal(dst, std, rng)
	},
	"uniform": func(dst []float32, _, _ int, a float64, rng *rand.Rand) {
		fillUniform(dst, a, rng)
	},
}

// InitTensor returns a new tensor of the given shape filled by the initialiser init, one
// of schema.Initializers, written as a name or a name and its one argument:
//
//	zeros, ones
//	glorot_uniform   U(-a, a), a = √(6/(fan_in+fan_out))   (alias xavier_uniform)
//	glorot_normal    N(0, 2/(fan_in+fan_out))              (alias xavier_normal)
//	he_uniform       U(-a, a), a = √(6/fan_in)             (alias kaiming_uniform)
//	he_normal        N(0, 2/fan_in)                        (alias kaiming_normal)
//	normal, normal(std)        N(0, std²)
//	uniform, uniform(limit)    U(-limit, limit)
//
// with the schema's default for an argument not given (normal's is the DCGAN init).
//
// Fans are computed from shape as the file comment describes. rng must not be nil unless init
// is zeros or ones; the caller seeds it. The compiler has checked a compiled module's
// initialisers and sizes; for a module read from its text form, an unknown initialiser, an
// argument the schema refuses, or a shape of more than schema.MaxParamElements elements is
// an error here, before anything is allocated.
func InitTensor(init string, shape []int, rng *rand.Rand) (*runtime.Tensor, error) {
	fn, fill, arg, err := initRule(init)
	if err != nil {
		return nil, err
	}
	n := 1
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("runtime: init: %s: got shape %s, want no negative dimension", fn.Name, runtime.ShapeString(shape))
		}
		if d > 0 && n > schema.MaxParamElements/d {
			return nil, fmt.Errorf("runtime: init: %s: shape %s has more than the runtime's limit of %d elements (4 GiB) per tensor",
				fn.Name, runtime.ShapeString(shape), schema.MaxParamElements)
		}
		n *= d
	}
	if rng == nil && fn.Name != "zeros" && fn.Name != "ones" {
		return nil, fmt.Errorf("runtime: init: %s needs a random source, got nil", fn.Name)
	}
	t := runtime.NewTensor(append([]int(nil), shape...)...)
	fanIn, fanOut := Fans(shape)
	fill(t.Data, fanIn, fanOut, arg, rng)
	return t, nil
}

// initRule finds init's entry in schema.Initializers (by name or alias), its drawing rule,
// and its argument: the one init gives, checked against the schema, or the default.
func initRule(init string) (fn *schema.Call, fill initFill, arg float64, err error) {
	name, arg, hasArg, err := parseInit(init)
	if err != nil {
		return nil, nil, 0, err
	}
	fn, ok := schema.Find(schema.Initializers, name)
	if !ok {
		return nil, nil, 0, fmt.Errorf("runtime: init: unknown initializer %q (want %s)", init, initNames())
	}
	if fill = initFills[fn.Name]; fill == nil {
		return nil, nil, 0, fmt.Errorf("runtime: init: initializer %s has no drawing rule in runtime/train", fn.Name)
	}
	switch {
	case hasArg && len(fn.Args) == 0:
		return nil, nil, 0, fmt.Errorf("runtime: init: %s takes no argument, got %q", name, init)
	case len(fn.Args) == 0:
		return fn, fill, 0, nil
	case !hasArg:
		if arg, err = argDefault(&fn.Args[0]); err != nil {
			return nil, nil, 0, fmt.Errorf("runtime: init: %s: %v", fn.Name, err)
		}
	case !argFits(&fn.Args[0], arg):
		return nil, nil, 0, fmt.Errorf("runtime: init: %s", fn.Args[0].Problem(fn.Name, strconv.FormatFloat(arg, 'g', -1, 64)))
	}
	return fn, fill, arg, nil
}

// initNames lists the initialisers as init strings write them: zeros, …, normal(std).
func initNames() string {
	names := make([]string, len(schema.Initializers))
	for i, c := range schema.Initializers {
		names[i] = c.Name
		if len(c.Args) > 0 {
			names[i] = c.Signature()
		}
	}
	return strings.Join(names, ", ")
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
