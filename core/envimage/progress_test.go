package envimage

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestStepWriter feeds a build log through the step reporter with a fake
// clock: commands and debootstrap phases are reported as they start, the
// lines within a step only after quietFor of nothing reported, and the
// log itself passes through unchanged.
func TestStepWriter(t *testing.T) {
	type write struct {
		after time.Duration // clock advance before the write
		text  string
	}
	tests := []struct {
		name   string
		writes []write
		want   []string // "elapsed step"
	}{
		{
			name: "commands",
			writes: []write{
				{0, "+ cp -a /base/. /tmp/x\n"},
				{2 * time.Second, "+ [setup as user] pip install -e .\nCollecting six\n"},
				{time.Second, "Installing collected packages: six\n"},
			},
			want: []string{"0s + cp -a /base/. /tmp/x", "2s + [setup as user] pip install -e ."},
		},
		{
			name: "debootstrap phases, not packages",
			writes: []write{
				{0, "I: Retrieving InRelease \nI: Checking Release signature\n"},
				{time.Second, "I: Retrieving adduser 3.134\nI: Retrieving apt 2.6.1\n"},
				{time.Second, "I: Validating adduser 3.134\nI: Validating apt 2.6.1\n"},
				{quietFor, "I: Validating base-files 12.4\n"},
			},
			want: []string{"0s I: Retrieving InRelease", "0s I: Checking Release signature", "1s I: Retrieving adduser 3.134", "2s I: Validating adduser 3.134", "12s I: Validating base-files 12.4"},
		},
		{
			name: "a quiet step shows its latest line",
			writes: []write{
				{0, "+ [setup as user] make\n"},
				{5 * time.Second, "cc -c a.c\n"},
				{6 * time.Second, "cc -c b.c\n"},
				{time.Second, "cc -c c.c\n"},
			},
			want: []string{"0s + [setup as user] make", "11s cc -c b.c"},
		},
		{
			name: "lines split across writes, carriage returns, blank lines",
			writes: []write{
				{0, "+ apt-get upd"},
				{0, "ate\r\n\n   \n"},
				{quietFor, "Reading package lists... 50%\rReading package lists... Done\n"},
			},
			want: []string{"0s + apt-get update", "10s Reading package lists... 50%"},
		},
		{
			name:   "long lines clipped",
			writes: []write{{0, "+ debootstrap " + strings.Repeat("é", 200) + "\n"}},
			want:   []string{"0s + debootstrap " + strings.Repeat("é", 100-len("+ debootstrap ")) + "…"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			var got []string
			var log bytes.Buffer
			w := newStepWriter("swelego/env-x:1", func(s Step) {
				if s.Image != "swelego/env-x:1" {
					t.Errorf("image %q", s.Image)
				}
				got = append(got, fmt.Sprintf("%s %s", s.Elapsed, s.Step))
			}, &log)
			w.now = func() time.Time { return now }
			w.start, w.lastShown = now, now
			var all strings.Builder
			for _, wr := range tt.writes {
				now = now.Add(wr.after)
				if n, err := w.Write([]byte(wr.text)); n != len(wr.text) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
				all.WriteString(wr.text)
			}
			if log.String() != all.String() {
				t.Errorf("log %q, want %q", log.String(), all.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
