package verifiers

import (
	"errors"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/swelego/swelego/sdk"
)

func tok(text string, lp float64, top ...sdk.TokenLogprob) sdk.TokenLogprob {
	return sdk.TokenLogprob{Token: text, Logprob: lp, TopLogprobs: top}
}

func alt(text string, lp float64) sdk.TokenLogprob { return sdk.TokenLogprob{Token: text, Logprob: lp} }

// softmax2 is P(YES)/(P(YES)+P(NO)) written the plain way.
func softmax2(lpYes, lpNo float64) float64 {
	return math.Exp(lpYes) / (math.Exp(lpYes) + math.Exp(lpNo))
}

func TestFindJudgement(t *testing.T) {
	tests := []struct {
		name      string
		tokens    []sdk.TokenLogprob
		wantIndex int
		wantP     float64
		fallback  bool
		wantErr   bool
	}{
		{
			name:      "tag in one token",
			tokens:    []sdk.TokenLogprob{tok("<judgement>", 0), tok("YES", -0.2, alt("YES", -0.2), alt("NO", -1.9)), tok("</judgement>", 0)},
			wantIndex: 1, wantP: softmax2(-0.2, -1.9),
		},
		{
			name: "tag split over four tokens after some words",
			tokens: []sdk.TokenLogprob{
				tok("The", -0.1), tok(" patch", -0.3), tok(" fixes", -0.5), tok(" it", -0.2), tok(".\n", -0.1),
				tok("<", 0), tok("jud", 0), tok("gement", 0), tok(">", 0),
				tok("NO", -0.7, alt("NO", -0.7), alt("YES", -0.69), alt("Maybe", -4)),
				tok("</", 0), tok("judgement", 0), tok(">", 0),
			},
			wantIndex: 9, wantP: softmax2(-0.69, -0.7),
		},
		{
			name: "end of the tag merged with the verdict",
			tokens: []sdk.TokenLogprob{
				tok("<jud", 0), tok("gement", 0), tok(">YES", -0.05, alt(">YES", -0.05), alt(">NO", -3.1), alt("YES", -9)),
				tok("</judgement>", 0),
			},
			wantIndex: 2, wantP: softmax2(-0.05, -3.1),
		},
		{
			name: "verdict after a newline token, variants summed",
			tokens: []sdk.TokenLogprob{
				tok("<judgement>", 0), tok("\n", 0),
				tok(" Yes", -1.0, alt(" Yes", -1.0), alt("YES", -1.5), alt(" No", -1.2), alt("no", -3), alt(" Nope", -2), alt(" Yes", -0.1)),
			},
			wantIndex: 2, wantP: math.Exp(logAddExp(-1.0, -1.5)) / (math.Exp(logAddExp(-1.0, -1.5)) + math.Exp(logAddExp(-1.2, -3))),
		},
		{
			name:      "the last tag counts",
			tokens:    []sdk.TokenLogprob{tok("say <judgement>YES</judgement> or <judgement>NO</judgement>: ", 0), tok("<judgement>", 0), tok("NO", -0.01, alt("NO", -0.01), alt("YES", -4.6))},
			wantIndex: 2, wantP: softmax2(-4.6, -0.01),
		},
		{
			name:      "verdict merged with the closing tag",
			tokens:    []sdk.TokenLogprob{tok("<judgment>", 0), tok("yes</", -0.3, alt("yes</", -0.3), alt("no</", -1.4))},
			wantIndex: 1, wantP: softmax2(-0.3, -1.4),
		},
		{
			name:      "only YES among the alternatives",
			tokens:    []sdk.TokenLogprob{tok("<judgement>", 0), tok("YES", -0.001, alt("YES", -0.001), alt("Y", -7))},
			wantIndex: 1, wantP: 1,
		},
		{
			name:      "neither among the alternatives: the chosen token decides",
			tokens:    []sdk.TokenLogprob{tok("<judgement>", 0), tok("NO", -0.2, alt("NOT", -0.1), alt("None", -2))},
			wantIndex: 1, wantP: 0, fallback: true,
		},
		{
			name:      "no alternatives at all",
			tokens:    []sdk.TokenLogprob{tok("<judgement>YES</judgement>", 0)},
			wantIndex: 0, wantP: 1, fallback: true,
		},
		{name: "no tag", tokens: []sdk.TokenLogprob{tok("YES", 0, alt("YES", 0))}, wantErr: true},
		{name: "nothing after the tag", tokens: []sdk.TokenLogprob{tok("<judgement>", 0), tok("  ", 0)}, wantErr: true},
		{name: "no tokens", tokens: nil, wantErr: true},
		{name: "neither verdict anywhere", tokens: []sdk.TokenLogprob{tok("<judgement>", 0), tok("Maybe", 0, alt("Maybe", 0), alt("Nope", -1))}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := FindJudgement(tt.tokens)
			var p float64
			var fallback bool
			if err == nil {
				p, fallback, err = j.PYes()
			}
			if tt.wantErr {
				if !errors.Is(err, ErrNoJudgement) {
					t.Fatalf("err = %v, want ErrNoJudgement", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if j.Index != tt.wantIndex {
				t.Errorf("judgement token %d, want %d", j.Index, tt.wantIndex)
			}
			if math.Abs(p-tt.wantP) > 1e-9 || fallback != tt.fallback {
				t.Errorf("P(YES) = %.12f (fallback %t), want %.12f (fallback %t)", p, fallback, tt.wantP, tt.fallback)
			}
		})
	}
}

func TestVerdictOf(t *testing.T) {
	tests := []struct{ token, tagPart, want string }{
		{"YES", "", VerdictYes}, {" yes", "", VerdictYes}, {"\nYes.", "", VerdictYes}, {"YES</", "", VerdictYes},
		{"NO", "", VerdictNo}, {" No", "", VerdictNo}, {">NO", ">", VerdictNo}, {"ment> yes", "ment>", VerdictYes},
		{"NOT", "", ""}, {"Nope", "", ""}, {"YESS", "", ""}, {"Y", "", ""}, {"Noé", "", ""},
		{"YES", ">", ""}, // an alternative that does not close the tag is another continuation
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := verdictOf(tt.token, tt.tagPart); got != tt.want {
			t.Errorf("verdictOf(%q, %q) = %q, want %q", tt.token, tt.tagPart, got, tt.want)
		}
	}
}

func TestCondenseLog(t *testing.T) {
	var log []byte
	for i := range 400 {
		log = append(log, []byte("line "+string(rune('a'+i%26))+" é ünïcode\n")...)
	}
	tests := []struct {
		name  string
		limit int
	}{{"small", 100}, {"medium", 1001}, {"odd", 777}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CondenseLog(string(log), tt.limit)
			if len(got) > tt.limit+100 {
				t.Errorf("condensed to %d bytes, limit %d", len(got), tt.limit)
			}
			if !utf8.ValidString(got) {
				t.Error("invalid UTF-8")
			}
			if got[:10] != string(log[:10]) || got[len(got)-10:] != string(log[len(log)-10:]) {
				t.Error("head or tail lost")
			}
			if !strings.Contains(got, "of the log cut here") {
				t.Error("no cut marker")
			}
		})
	}
	if got := CondenseLog("short", 100); got != "short" {
		t.Errorf("short log changed: %q", got)
	}
	if got := CondenseLog("anything", 0); got != "" {
		t.Errorf("limit 0 kept %q", got)
	}
}
