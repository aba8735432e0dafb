package safetensors

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReadRoundTrip(t *testing.T) {
	tensors := []Tensor{
		{Name: "a", Shape: []int{2, 3}, Data: []float32{1, -2, 3.5, 0, 1e-20, -7}},
		{Name: "b.weight", Shape: []int{4}, Data: []float32{0.1, 65504, -1e30, 3.14159}},
		{Name: "scalar", Shape: nil, Data: []float32{42}},
	}
	cases := []struct {
		name  string
		dtype DType
		want  func(float32) float32
	}{
		{"F32 exact", F32, func(f float32) float32 { return f }},
		{"BF16 rounded", BF16, func(f float32) float32 { return math.Float32frombits(uint32(Float32ToBF16(f)) << 16) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.safetensors")
			if err := Write(context.Background(), path, c.dtype, tensors, map[string]string{"format": "pt"}); err != nil {
				t.Fatal(err)
			}
			f, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Metadata["format"] != "pt" {
				t.Errorf("metadata %v", f.Metadata)
			}
			for _, want := range tensors {
				info, ok := f.Info(want.Name)
				if !ok || info.DType != c.dtype || info.Len() != len(want.Data) {
					t.Fatalf("%s: info %+v", want.Name, info)
				}
				got := make([]float32, len(want.Data))
				if err := f.ReadFloat32(want.Name, got); err != nil {
					t.Fatal(err)
				}
				for i := range got {
					if got[i] != c.want(want.Data[i]) {
						t.Errorf("%s[%d] = %v, want %v", want.Name, i, got[i], c.want(want.Data[i]))
					}
				}
			}
			if err := f.ReadFloat32("missing", nil); !errors.Is(err, ErrNotFound) {
				t.Errorf("missing tensor: %v", err)
			}
		})
	}
}

func TestBF16Rounding(t *testing.T) {
	cases := []struct {
		in   uint32
		want uint16
	}{
		{0x3f800000, 0x3f80}, // 1
		{0x3f808000, 0x3f80}, // tie, even stays
		{0x3f818000, 0x3f82}, // tie, odd rounds up
		{0x3f808001, 0x3f81}, // above the tie
		{0x7f7fffff, 0x7f80}, // max float rounds to Inf
		{0xff800000, 0xff80}, // -Inf
	}
	for _, c := range cases {
		if got := Float32ToBF16(math.Float32frombits(c.in)); got != c.want {
			t.Errorf("%#08x → %#04x, want %#04x", c.in, got, c.want)
		}
	}
	if got := Float32ToBF16(float32(math.NaN())); got&0x7f80 != 0x7f80 || got&0x7f == 0 {
		t.Errorf("NaN → %#04x", got)
	}
}

func TestHalfToFloat32(t *testing.T) {
	cases := []struct {
		h    uint16
		want float32
	}{
		{0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x0001, 5.9604645e-8}, {0x03ff, 6.097555e-5},
		{0x0400, 6.1035156e-5}, {0x0000, 0}, {0x7c00, float32(math.Inf(1))}, {0x3555, 0.33325195},
	}
	for _, c := range cases {
		if got := HalfToFloat32(c.h); got != c.want {
			t.Errorf("%#04x → %v, want %v", c.h, got, c.want)
		}
	}
	if !math.IsNaN(float64(HalfToFloat32(0x7e00))) {
		t.Error("half NaN")
	}
}

// writeRaw writes a file from a header JSON and data bytes, for hand-made
// (possibly broken) files.
func writeRaw(t *testing.T, header string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "raw.safetensors")
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	b = append(b, data...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestF16File(t *testing.T) {
	data := binary.LittleEndian.AppendUint16(nil, 0x3c00)
	data = binary.LittleEndian.AppendUint16(data, 0xc000)
	path := writeRaw(t, `{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, data)
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := make([]float32, 2)
	if err := f.ReadFloat32("h", got); err != nil || got[0] != 1 || got[1] != -2 {
		t.Errorf("got %v, %v", got, err)
	}
}

func TestMalformed(t *testing.T) {
	cases := []struct {
		name   string
		header string
		data   int
	}{
		{"not an object", `[1,2]`, 0},
		{"bad json", `{"a":`, 0},
		{"unknown dtype", `{"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}}`, 4},
		{"size mismatch", `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, 4},
		{"negative shape", `{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}`, 0},
		{"gap", `{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8},
		{"overlap", `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4},
		{"data longer than header says", `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 8},
		{"data shorter than header says", `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 4},
		{"bad metadata", `{"__metadata__":{"a":1}}`, 0},
		{"extra field", `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, 4},
		{"overflowing shape", `{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}`, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeRaw(t, c.header, make([]byte, c.data))
			f, err := Open(path)
			if err == nil {
				f.Close()
				t.Fatal("opened")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
	t.Run("header length beyond file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "x")
		os.WriteFile(path, binary.LittleEndian.AppendUint64(nil, 1<<40), 0o644)
		if _, err := Open(path); !errors.Is(err, ErrInvalid) {
			t.Errorf("got %v", err)
		}
	})
}

func TestShardedSet(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	if err := Write(ctx, filepath.Join(dir, "m-1.safetensors"), F32, []Tensor{{Name: "a", Shape: []int{1}, Data: []float32{1}}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := Write(ctx, filepath.Join(dir, "m-2.safetensors"), BF16, []Tensor{{Name: "b", Shape: []int{2}, Data: []float32{2, 3}}}, nil); err != nil {
		t.Fatal(err)
	}
	idx, _ := json.Marshal(map[string]any{"weight_map": map[string]string{"a": "m-1.safetensors", "b": "m-2.safetensors"}})
	os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), idx, 0o644)
	s, err := OpenSet(dir, "model")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := s.Names(); len(n) != 2 || n[0] != "a" || n[1] != "b" {
		t.Errorf("names %v", n)
	}
	b := make([]float32, 2)
	if err := s.ReadFloat32("b", b); err != nil || b[0] != 2 || b[1] != 3 {
		t.Errorf("b = %v, %v", b, err)
	}

	bad, _ := json.Marshal(map[string]any{"weight_map": map[string]string{"a": "../m-1.safetensors"}})
	os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), bad, 0o644)
	if _, err := OpenSet(dir, "model"); !errors.Is(err, ErrInvalid) {
		t.Errorf("shard outside the folder: %v", err)
	}
	wrong, _ := json.Marshal(map[string]any{"weight_map": map[string]string{"b": "m-1.safetensors"}})
	os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), wrong, 0o644)
	if _, err := OpenSet(dir, "model"); !errors.Is(err, ErrNotFound) {
		t.Errorf("index pointing at the wrong shard: %v", err)
	}
}

// FuzzParseHeader feeds arbitrary headers to the parser: it must not panic,
// and whatever it accepts must be consistent (tensors tiling the data).
func FuzzParseHeader(f *testing.F) {
	f.Add([]byte(`{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"__metadata__":{"format":"pt"}}`))
	f.Add([]byte(`{"a":{"dtype":"BF16","shape":[],"data_offsets":[0,2]},"b":{"dtype":"F16","shape":[0],"data_offsets":[2,2]}}   `))
	f.Add([]byte(`{"x":{"dtype":"I64","shape":[3],"data_offsets":[0,24]}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, js []byte) {
		h, err := ParseHeader(js)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		var at int64
		for _, info := range h.Tensors {
			if info.Begin != at || info.End-info.Begin != int64(info.Len()*info.DType.Size()) {
				t.Fatalf("accepted inconsistent tensor %+v", info)
			}
			at = info.End
		}
		if at != h.DataSize {
			t.Fatalf("data size %d, tensors end at %d", h.DataSize, at)
		}
	})
}
