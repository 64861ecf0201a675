package ir

import (
	"fmt"
	"math"
)

// Common-subexpression elimination asks, for every op a sweep keeps, whether an earlier op
// computes the same value: the same kind, the same operands (by identity), the same
// attributes and the same type. Inputs are distinct by definition and never asked about.
//
// The question is answered with a 64-bit hash into a map and an exact comparison of the one
// op found there. An earlier version keyed the map by a string spelling all of the above; on
// the DCGAN example that string was a fifth of `dlc compile`'s allocations. Two different
// ops whose hashes collide only cost a missed elimination (the later one takes the slot),
// never a wrong one, because the comparison decides.

// cseHash mixes everything cseEqual compares. Attributes are combined by addition, so their
// (random) map order does not matter; a false bool counts as absent, as Attrs.Bool reads it.
func cseHash(o *Op) uint64 {
	h := hashString(fnvOffset, o.Kind)
	for _, a := range o.Args {
		h = hashUint(h, uint64(a.ID))
	}
	var attrs uint64
	for k, v := range o.Attrs {
		if b, ok := v.(bool); ok && !b {
			continue
		}
		attrs += mix(hashAttr(hashString(fnvOffset, k), v))
	}
	h = hashUint(h, attrs)
	return hashShape(hashString(h, o.Type.DType), o.Type.Shape)
}

// hashShape mixes a shape's dimensions into h, consistently with Shape.Equal.
func hashShape(h uint64, s Shape) uint64 {
	h = hashUint(h, uint64(len(s)))
	for _, d := range s {
		h = hashUint(h, uint64(int64(d.Coef)))
		for _, sym := range d.Syms {
			h = hashString(h, sym)
		}
		h = hashUint(h, uint64(len(d.Syms)))
	}
	return h
}

// cseEqual reports whether a and b compute the same value.
func cseEqual(a, b *Op) bool {
	if a.Kind != b.Kind || len(a.Args) != len(b.Args) || a.Type.DType != b.Type.DType || !a.Type.Shape.Equal(b.Type.Shape) {
		return false
	}
	for i := range a.Args {
		if a.Args[i] != b.Args[i] {
			return false
		}
	}
	return attrsEqual(a.Attrs, b.Attrs) && attrsEqual(b.Attrs, a.Attrs)
}

// attrsEqual reports whether every attribute of a that is not a false bool is in b with an
// equal value; both directions together make the attribute sets equal.
func attrsEqual(a, b Attrs) bool {
	for k, v := range a {
		if f, ok := v.(bool); ok && !f {
			if w, ok := b[k]; ok && w != false {
				return false
			}
			continue
		}
		w, ok := b[k]
		if !ok || !attrValueEqual(v, w) {
			return false
		}
	}
	return true
}

// attrValueEqual compares two attribute values. A NaN constant equals itself (it is the same
// constant), and the integer 1 is not the float 1.0, though Attrs.Float reads both alike.
func attrValueEqual(x, y any) bool {
	switch x := x.(type) {
	case float64:
		y, ok := y.(float64)
		return ok && (x == y && math.Signbit(x) == math.Signbit(y) || math.IsNaN(x) && math.IsNaN(y))
	case int:
		y, ok := y.(int)
		return ok && x == y
	case string:
		y, ok := y.(string)
		return ok && x == y
	case bool:
		y, ok := y.(bool)
		return ok && x == y
	case Shape:
		y, ok := y.(Shape)
		return ok && x.Equal(y)
	}
	return attrText(x) == attrText(y)
}

// hashAttr mixes an attribute value into h, consistently with attrValueEqual.
func hashAttr(h uint64, v any) uint64 {
	switch v := v.(type) {
	case float64:
		if math.IsNaN(v) {
			return hashString(h, "nan")
		}
		return hashUint(hashString(h, "f"), math.Float64bits(v))
	case int:
		return hashUint(hashString(h, "i"), uint64(int64(v)))
	case string:
		return hashString(hashString(h, "s"), v)
	case bool:
		return hashString(h, "true")
	case Shape:
		return hashShape(hashString(h, "shape"), v)
	}
	return hashString(hashString(h, "other"), attrText(v))
}

// attrText spells an attribute value of a kind the IR seldom uses (a list, say).
func attrText(v any) string { return fmt.Sprint(v) }

// FNV-1a, with a final avalanche (mix) where sums of hashes are taken.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	h ^= 0xff // ends the string, so "ab"+"c" and "a"+"bc" differ
	return h * fnvPrime
}

func hashUint(h, x uint64) uint64 {
	for i := 0; i < 8; i++ {
		h ^= x & 0xff
		h *= fnvPrime
		x >>= 8
	}
	return h
}

func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
