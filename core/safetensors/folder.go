package safetensors

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Set is the tensors of one logical file that may be split into shards: a
// single NAME.safetensors, or the shards NAME.safetensors.index.json lists.
type Set struct {
	files  []*File
	byName map[string]*File
}

type index struct {
	WeightMap map[string]string `json:"weight_map"`
}

// OpenSet opens dir/NAME.safetensors.index.json and its shards when the
// index exists, and dir/NAME.safetensors otherwise (NAME is usually "model").
func OpenSet(dir, name string) (*Set, error) {
	idxPath := filepath.Join(dir, name+".safetensors.index.json")
	js, err := os.ReadFile(idxPath)
	if errors.Is(err, fs.ErrNotExist) {
		f, err := Open(filepath.Join(dir, name+".safetensors"))
		if err != nil {
			return nil, err
		}
		s := &Set{files: []*File{f}, byName: map[string]*File{}}
		for _, t := range f.Tensors {
			s.byName[t.Name] = f
		}
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", idxPath, err)
	}
	var idx index
	if err := json.Unmarshal(js, &idx); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, idxPath, err)
	}
	shards := map[string]*File{}
	s := &Set{byName: map[string]*File{}}
	names := make([]string, 0, len(idx.WeightMap))
	for t := range idx.WeightMap {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, t := range names {
		shard := idx.WeightMap[t]
		if shard != filepath.Base(shard) || shard == "" || shard == "." || shard == ".." {
			s.Close()
			return nil, fmt.Errorf("%w: %s: shard name %q is not a file name", ErrInvalid, idxPath, shard)
		}
		f, ok := shards[shard]
		if !ok {
			f, err = Open(filepath.Join(dir, shard))
			if err != nil {
				s.Close()
				return nil, err
			}
			shards[shard] = f
			s.files = append(s.files, f)
		}
		if _, ok := f.Info(t); !ok {
			s.Close()
			return nil, fmt.Errorf("%s: index places %q in %s, which lacks it: %w", idxPath, t, shard, ErrNotFound)
		}
		s.byName[t] = f
	}
	return s, nil
}

// Names lists the tensors of the set, sorted.
func (s *Set) Names() []string {
	out := make([]string, 0, len(s.byName))
	for n := range s.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Info describes the named tensor.
func (s *Set) Info(name string) (Info, bool) {
	f, ok := s.byName[name]
	if !ok {
		return Info{}, false
	}
	return f.Info(name)
}

// ReadFloat32 reads the named tensor into dst (see File.ReadFloat32).
func (s *Set) ReadFloat32(name string, dst []float32) error {
	f, ok := s.byName[name]
	if !ok {
		return fmt.Errorf("%q: %w", name, ErrNotFound)
	}
	return f.ReadFloat32(name, dst)
}

// Close closes every shard.
func (s *Set) Close() error {
	var errs []error
	for _, f := range s.files {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}
