package export

import (
	"encoding/binary"
	"math"
)

// A hand encoder of the protobuf wire format, for the few messages of onnx.proto an export
// writes (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto
// and the type messages). A message is its fields back to back, each a key (field number
// << 3 | wire type) and a value: a varint (0), a length-delimited byte string (2) or four
// little-endian bytes (5). Field numbers are onnx.proto's.

type pb []byte

func (b *pb) varint(v uint64) {
	*b = binary.AppendUvarint(*b, v)
}

func (b *pb) key(field, wire int) { b.varint(uint64(field)<<3 | uint64(wire)) }

// Int writes an integer field (int32, int64 and enums are all varints; negative ones take
// ten bytes, as protobuf's int64 does).
func (b *pb) Int(field int, v int64) {
	b.key(field, 0)
	b.varint(uint64(v))
}

func (b *pb) Bytes(field int, v []byte) {
	b.key(field, 2)
	b.varint(uint64(len(v)))
	*b = append(*b, v...)
}

func (b *pb) String(field int, s string) { b.Bytes(field, []byte(s)) }

func (b *pb) Msg(field int, m pb) { b.Bytes(field, m) }

func (b *pb) Float(field int, v float32) {
	b.key(field, 5)
	*b = binary.LittleEndian.AppendUint32(*b, math.Float32bits(v))
}

// The ONNX enums used here.
const (
	onnxFloat = 1 // TensorProto.FLOAT
	onnxInt64 = 7 // TensorProto.INT64

	attrFloat  = 1
	attrInt    = 2
	attrString = 3
	attrInts   = 7
)

// onnxAttr is one AttributeProto.
type onnxAttr struct {
	name string
	kind int
	f    float32
	i    int64
	s    string
	ints []int64
}

func (a onnxAttr) encode() pb {
	var m pb
	m.String(1, a.name)
	switch a.kind {
	case attrFloat:
		m.Float(2, a.f)
	case attrInt:
		m.Int(3, a.i)
	case attrString:
		m.String(4, a.s)
	case attrInts:
		for _, v := range a.ints {
			m.Int(8, v)
		}
	}
	m.Int(20, int64(a.kind))
	return m
}

// onnxNode is one NodeProto.
type onnxNode struct {
	op      string
	inputs  []string
	outputs []string
	name    string
	attrs   []onnxAttr
}

func (n onnxNode) encode() pb {
	var m pb
	for _, in := range n.inputs {
		m.String(1, in)
	}
	for _, out := range n.outputs {
		m.String(2, out)
	}
	m.String(3, n.name)
	m.String(4, n.op)
	for _, a := range n.attrs {
		m.Msg(5, a.encode())
	}
	return m
}

// tensorProto is an initializer: float32 values, or int64 ones (shapes, axes).
func tensorProto(name string, dims []int, f32 []float32, i64 []int64) pb {
	var m pb
	for _, d := range dims {
		m.Int(1, int64(d))
	}
	if i64 != nil {
		m.Int(2, onnxInt64)
		raw := make([]byte, 0, 8*len(i64))
		for _, v := range i64 {
			raw = binary.LittleEndian.AppendUint64(raw, uint64(v))
		}
		m.String(8, name)
		m.Bytes(9, raw)
		return m
	}
	m.Int(2, onnxFloat)
	raw := make([]byte, 0, 4*len(f32))
	for _, v := range f32 {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
	}
	m.String(8, name)
	m.Bytes(9, raw)
	return m
}

// valueInfo is a ValueInfoProto of a float tensor whose dimensions are numbers or names
// (a dynamic batch is the dimension named B).
func valueInfo(name string, elem int, dims []string, sizes []int) pb {
	var shape pb
	for i := range dims {
		var d pb
		if dims[i] != "" {
			d.String(2, dims[i])
		} else {
			d.Int(1, int64(sizes[i]))
		}
		shape.Msg(1, d)
	}
	var tensor pb
	tensor.Int(1, int64(elem))
	tensor.Msg(2, shape)
	var typ pb
	typ.Msg(1, tensor)
	var m pb
	m.String(1, name)
	m.Msg(2, typ)
	return m
}
