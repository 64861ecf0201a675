package ir

import (
	"fmt"
	"sort"
)

// Attrs are an op's compile-time arguments. Values are one of: int, float64, bool, string,
// []int, Shape. The text form prints them sorted by key, so equal Attrs print equally.
type Attrs map[string]any

// Int returns the int attribute k, or def when absent.
func (a Attrs) Int(k string, def int) int {
	if v, ok := a[k].(int); ok {
		return v
	}
	return def
}

// Float returns the float attribute k (an int is widened), or def when absent.
func (a Attrs) Float(k string, def float64) float64 {
	switch v := a[k].(type) {
	case float64:
		return v
	case int:
		return float64(v)
	}
	return def
}

// Bool returns the bool attribute k, or false when absent.
func (a Attrs) Bool(k string) bool {
	v, _ := a[k].(bool)
	return v
}

// String returns the string attribute k, or "" when absent.
func (a Attrs) String(k string) string {
	v, _ := a[k].(string)
	return v
}

// Ints returns the []int attribute k, or nil when absent.
func (a Attrs) Ints(k string) []int {
	v, _ := a[k].([]int)
	return v
}

// Shape returns the Shape attribute k, or nil when absent.
func (a Attrs) Shape(k string) Shape {
	v, _ := a[k].(Shape)
	return v
}

// Keys returns the attribute names in sorted order.
func (a Attrs) Keys() []string {
	ks := make([]string, 0, len(a))
	for k := range a {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Clone returns a shallow copy of a (slices are shared: attributes are never mutated).
func (a Attrs) Clone() Attrs {
	if a == nil {
		return nil
	}
	b := make(Attrs, len(a))
	for k, v := range a {
		b[k] = v
	}
	return b
}

// checkAttr reports an attribute of the wrong Go type, for the verifier and reader.
func checkAttr(k string, v any) error {
	switch v.(type) {
	case int, float64, bool, string, []int, Shape:
		return nil
	}
	return fmt.Errorf("attribute %s has unsupported type %T", k, v)
}
