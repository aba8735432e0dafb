package safetensors

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
)

// File is an open safetensors file whose header has been read; tensor data
// is read on demand.
type File struct {
	Header
	path   string
	f      *os.File
	data   int64 // file offset of the data section
	byName map[string]int
}

// Open reads and validates the header of the file at path.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open safetensors: %w", err)
	}
	sf, err := readHeader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	return sf, nil
}

func readHeader(f *os.File, path string) (*File, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	var lenBuf [8]byte
	if _, err := io.ReadFull(f, lenBuf[:]); err != nil {
		return nil, fmt.Errorf("%w: %s: reading header length: %v", ErrInvalid, path, err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > MaxHeaderSize || int64(n) > st.Size()-8 {
		return nil, fmt.Errorf("%w: %s: header length %d out of range", ErrInvalid, path, n)
	}
	js := make([]byte, n)
	if _, err := io.ReadFull(f, js); err != nil {
		return nil, fmt.Errorf("%w: %s: reading header: %v", ErrInvalid, path, err)
	}
	h, err := ParseHeader(js)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	data := 8 + int64(n)
	if h.DataSize != st.Size()-data {
		return nil, fmt.Errorf("%w: %s: header describes %d data bytes, file has %d", ErrInvalid, path, h.DataSize, st.Size()-data)
	}
	sf := &File{Header: *h, path: path, f: f, data: data, byName: make(map[string]int, len(h.Tensors))}
	for i, t := range h.Tensors {
		sf.byName[t.Name] = i
	}
	return sf, nil
}

// Close closes the underlying file.
func (f *File) Close() error { return f.f.Close() }

// Info returns the description of the named tensor.
func (f *File) Info(name string) (Info, bool) {
	i, ok := f.byName[name]
	if !ok {
		return Info{}, false
	}
	return f.Tensors[i], true
}

// ReadFloat32 reads the named tensor into dst, converting from its dtype
// (F32, BF16 or F16). dst must hold exactly the tensor's element count.
func (f *File) ReadFloat32(name string, dst []float32) error {
	info, ok := f.Info(name)
	if !ok {
		return fmt.Errorf("%s: %q: %w", f.path, name, ErrNotFound)
	}
	if info.Len() != len(dst) {
		return fmt.Errorf("%s: tensor %q has %d elements (shape %v), want %d", f.path, name, info.Len(), info.Shape, len(dst))
	}
	size := info.DType.Size()
	switch info.DType {
	case F32, BF16, F16:
	default:
		return fmt.Errorf("%s: tensor %q: %w %s", f.path, name, ErrDType, info.DType)
	}
	const chunk = 1 << 20 // elements per read
	buf := make([]byte, min(len(dst), chunk)*size)
	for at := 0; at < len(dst); at += chunk {
		n := min(chunk, len(dst)-at)
		b := buf[:n*size]
		if _, err := f.f.ReadAt(b, f.data+info.Begin+int64(at*size)); err != nil {
			return fmt.Errorf("%s: reading %q: %w", f.path, name, err)
		}
		decode(dst[at:at+n], b, info.DType)
	}
	return nil
}

func decode(dst []float32, b []byte, d DType) {
	switch d {
	case F32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case BF16:
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16)
		}
	case F16:
		for i := range dst {
			dst[i] = HalfToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
		}
	}
}

// Float32ToBF16 rounds f to bfloat16, to nearest with ties to even; NaN
// stays NaN.
func Float32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if f != f {
		return uint16(b>>16) | 0x40 // keep the sign, force a quiet NaN
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// HalfToFloat32 converts an IEEE 754 half-precision value.
func HalfToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	man := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+112)<<23 | man<<13)
	case man == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal half: normalise it.
	e := uint32(113)
	for man&0x400 == 0 {
		man <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (man&0x3ff)<<13)
}

// Tensor is a float32 tensor to write.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// Write writes tensors to path in the given dtype (F32 or BF16), in the
// order given, with optional metadata. The file appears atomically: it is
// written to a temporary name in the same folder and renamed.
func Write(ctx context.Context, path string, dtype DType, tensors []Tensor, metadata map[string]string) error {
	if dtype != F32 && dtype != BF16 {
		return fmt.Errorf("write %s: %w %s", path, ErrDType, dtype)
	}
	size := int64(dtype.Size())
	header := make(map[string]any, len(tensors)+1)
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var at int64
	for _, t := range tensors {
		n := 1
		for _, d := range t.Shape {
			n *= d
		}
		if n != len(t.Data) {
			return fmt.Errorf("write %s: tensor %q: shape %v does not hold %d values", path, t.Name, t.Shape, len(t.Data))
		}
		if _, dup := header[t.Name]; dup || t.Name == "__metadata__" {
			return fmt.Errorf("write %s: duplicate tensor name %q", path, t.Name)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[t.Name] = map[string]any{"dtype": dtype, "shape": shape, "data_offsets": []int64{at, at + int64(n)*size}}
		at += int64(n) * size
	}
	js, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// Pad the header with spaces so the data starts 8-byte aligned.
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	w := bufio.NewWriterSize(tmp, 1<<20)
	err = writeBody(ctx, w, js, dtype, tensors)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func writeBody(ctx context.Context, w *bufio.Writer, js []byte, dtype DType, tensors []Tensor) error {
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(js)))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := w.Write(js); err != nil {
		return err
	}
	var b [4]byte
	for _, t := range tensors {
		if err := ctx.Err(); err != nil {
			return err
		}
		for _, v := range t.Data {
			var err error
			if dtype == F32 {
				binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
				_, err = w.Write(b[:4])
			} else {
				binary.LittleEndian.PutUint16(b[:], Float32ToBF16(v))
				_, err = w.Write(b[:2])
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}
