package hcl

import (
	"testing"

	units "github.com/docker/go-units"
)

func TestParseSize(t *testing.T) {
	cases := []struct {
		in   string
		want int64 // 0: an error
	}{
		{"512m", 512 << 20},
		{"2g", 2 << 30},
		{"2G", 2 << 30},
		{"4gb", 4 << 30},
		{"1.5GiB", 3 << 29},
		{"1024", 1024},
		{"100b", 100},
		{"64 k", 64 << 10},
		{"1t", 1 << 40},
		{"1p", 1 << 50},
		{"2 gigs", 0},
		{"", 0},
		{"g", 0},
		{"-1g", 0},
		{"0", 0},
		{"0.0001", 0},
		{"1.g", 0},
		{"1e3", 0},
		{"2gb ", 0},
		{"2  g", 0},
		{"2x", 0},
		{"2gi", 0},
		{"9999999p", 0},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSize(tc.in)
			if tc.want == 0 {
				if err == nil {
					t.Fatalf("ParseSize(%q) = %d, want an error", tc.in, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
		})
	}
}

// FuzzParseSize checks that ParseSize never panics, returns a size above
// zero when it accepts, and agrees with Docker's units.RAMInBytes (which
// the sandbox block's memory was read with before it was checked at
// validate) on every size it accepts.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"512m", "2g", "1.5GiB", "1024", "2 gigs", "64 k", "1p", "0", "-1g", "1e3", "9999999p"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			return
		}
		if n <= 0 {
			t.Fatalf("ParseSize(%q) = %d, not above zero", s, n)
		}
		want, err := units.RAMInBytes(s)
		if err != nil || want != n {
			t.Fatalf("ParseSize(%q) = %d, units.RAMInBytes = %d, %v", s, n, want, err)
		}
	})
}
