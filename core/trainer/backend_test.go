package trainer

import (
	"errors"
	"strings"
	"testing"

	"github.com/swelego/swelego/core/backend/cuda"
)

func TestOpenBackend(t *testing.T) {
	cases := []struct {
		name     string
		o        BackendOptions
		wantName string // the backend's Name when it opens
		wantErr  string // a part of the error otherwise
		notBuilt bool   // the error wraps cuda.ErrNotBuilt
		cudaOnly bool   // only meaningful in a build without the cuda tag
	}{
		{name: "cpu", o: BackendOptions{Name: "cpu", Threads: 1}, wantName: "cpu"},
		{name: "default is cpu", o: BackendOptions{Threads: 1}, wantName: "cpu"},
		{name: "cuda without the tag", o: BackendOptions{Name: "cuda", Device: 1, Precision: "bfloat16"},
			wantErr: "cuda backend (device 1): built without CUDA; rebuild with -tags cuda", notBuilt: true, cudaOnly: true},
		{name: "cuda bad precision", o: BackendOptions{Name: "cuda", Precision: "fp8"}, wantErr: `precision "fp8"`},
		{name: "cuda negative device", o: BackendOptions{Name: "cuda", Device: -1}, wantErr: "device -1"},
		{name: "unknown", o: BackendOptions{Name: "tpu"}, wantErr: `backend "tpu": want cpu or cuda`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.cudaOnly && cuda.Built {
				t.Skip("this binary has the cuda backend")
			}
			be, err := OpenBackend(c.o)
			if c.wantErr != "" {
				if err == nil {
					be.Close()
					t.Fatalf("opened %s, want an error with %q", be.Name(), c.wantErr)
				}
				if !strings.Contains(err.Error(), c.wantErr) {
					t.Errorf("error %q, want it to contain %q", err, c.wantErr)
				}
				if errors.Is(err, cuda.ErrNotBuilt) != c.notBuilt {
					t.Errorf("errors.Is(%v, ErrNotBuilt) = %v, want %v", err, !c.notBuilt, c.notBuilt)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer be.Close()
			if be.Name() != c.wantName {
				t.Errorf("Name() = %q, want %q", be.Name(), c.wantName)
			}
		})
	}
}
