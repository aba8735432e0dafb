package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
)

// DType is a tensor's element type as the header spells it.
type DType string

// The dtypes this package converts to and from float32. Headers may name
// others (I64, U8, …); such tensors are listed but cannot be read as floats.
const (
	F32  DType = "F32"
	BF16 DType = "BF16"
	F16  DType = "F16"
)

// MaxHeaderSize bounds the JSON header (the format's reference
// implementation uses the same 100 MB limit).
const MaxHeaderSize = 100 << 20

// ErrInvalid is wrapped by every error about a malformed file.
var ErrInvalid = errors.New("invalid safetensors file")

// ErrNotFound is returned when a requested tensor is not in the file or
// folder.
var ErrNotFound = errors.New("tensor not found")

// ErrDType is returned when a tensor's dtype cannot be converted to or from
// float32.
var ErrDType = errors.New("unsupported dtype")

// Size is the byte size of one element of d, or 0 for an unknown dtype.
func (d DType) Size() int {
	switch d {
	case F32, "I32", "U32":
		return 4
	case BF16, F16, "I16", "U16":
		return 2
	case "F64", "I64", "U64":
		return 8
	case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2":
		return 1
	}
	return 0
}

// Info describes one tensor of a file.
type Info struct {
	Name  string
	DType DType
	Shape []int
	// Begin and End are byte offsets into the data section.
	Begin, End int64
}

// Len is the number of elements.
func (i Info) Len() int {
	n := 1
	for _, d := range i.Shape {
		n *= d
	}
	return n
}

// Header is a parsed, validated header.
type Header struct {
	Metadata map[string]string
	// Tensors in data order.
	Tensors []Info
	// DataSize is the byte length of the data section the header describes.
	DataSize int64
}

type rawInfo struct {
	DType   DType   `json:"dtype"`
	Shape   []int64 `json:"shape"`
	Offsets []int64 `json:"data_offsets"`
}

// ParseHeader parses and validates the JSON header of a safetensors file
// (the bytes after the 8-byte length). Tensors must be of a known dtype,
// have non-negative shapes whose byte size matches their offsets, and tile
// the data section without gaps or overlaps, as the format requires.
func ParseHeader(js []byte) (*Header, error) {
	js = bytes.TrimRight(js, " ")
	if len(js) == 0 || js[0] != '{' {
		return nil, fmt.Errorf("%w: header is not a JSON object", ErrInvalid)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(js, &raw); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrInvalid, err)
	}
	h := &Header{}
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &h.Metadata); err != nil {
				return nil, fmt.Errorf("%w: __metadata__ must map strings to strings: %v", ErrInvalid, err)
			}
			continue
		}
		var ri rawInfo
		dec := json.NewDecoder(bytes.NewReader(msg))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ri); err != nil {
			return nil, fmt.Errorf("%w: tensor %q: %v", ErrInvalid, name, err)
		}
		info, err := checkInfo(name, ri)
		if err != nil {
			return nil, err
		}
		h.Tensors = append(h.Tensors, info)
	}
	sort.Slice(h.Tensors, func(a, b int) bool {
		ta, tb := h.Tensors[a], h.Tensors[b]
		if ta.Begin != tb.Begin {
			return ta.Begin < tb.Begin
		}
		return ta.End < tb.End
	})
	var at int64
	for _, t := range h.Tensors {
		if t.Begin != at {
			return nil, fmt.Errorf("%w: tensor %q starts at byte %d, want %d (gap or overlap)", ErrInvalid, t.Name, t.Begin, at)
		}
		at = t.End
	}
	h.DataSize = at
	return h, nil
}

func checkInfo(name string, ri rawInfo) (Info, error) {
	size := ri.DType.Size()
	if size == 0 {
		return Info{}, fmt.Errorf("%w: tensor %q: unknown dtype %q", ErrInvalid, name, ri.DType)
	}
	if len(ri.Offsets) != 2 {
		return Info{}, fmt.Errorf("%w: tensor %q: data_offsets must be [begin, end]", ErrInvalid, name)
	}
	n := int64(1)
	shape := make([]int, len(ri.Shape))
	for i, d := range ri.Shape {
		if d < 0 || (d > 0 && n > math.MaxInt64/8/d) {
			return Info{}, fmt.Errorf("%w: tensor %q: bad shape %v", ErrInvalid, name, ri.Shape)
		}
		n *= d
		shape[i] = int(d)
	}
	begin, end := ri.Offsets[0], ri.Offsets[1]
	if begin < 0 || end < begin {
		return Info{}, fmt.Errorf("%w: tensor %q: bad data_offsets %v", ErrInvalid, name, ri.Offsets)
	}
	if end-begin != n*int64(size) {
		return Info{}, fmt.Errorf("%w: tensor %q: %d bytes for shape %v of %s", ErrInvalid, name, end-begin, ri.Shape, ri.DType)
	}
	return Info{Name: name, DType: ri.DType, Shape: shape, Begin: begin, End: end}, nil
}
