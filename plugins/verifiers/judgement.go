package verifiers

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"unicode"

	"github.com/swelego/swelego/sdk"
)

// ErrNoJudgement is returned when the judge's answer holds no judgement:
// no <judgement> tag, nothing after the last one, or a token there that is
// neither YES nor NO with neither among its alternatives. It is never
// turned into a score.
var ErrNoJudgement = errors.New("no judgement in the judge's answer")

// judgementTag matches the opening tag, in any case and in both spellings
// (judgement, judgment), since judges write either.
var judgementTag = regexp.MustCompile(`(?i)<judge?ment>`)

// Verdicts.
const (
	VerdictYes = "YES"
	VerdictNo  = "NO"
)

// Judgement is what the judge said at the judgement token.
type Judgement struct {
	// Index is the position of the judgement token in the answer's
	// tokens: the token holding the first non-space character after the
	// last <judgement> tag of the text the tokens spell.
	Index int
	// Chosen is the chosen token's text at Index.
	Chosen string
	// Verdict is what the chosen token says: VerdictYes, VerdictNo, or ""
	// when it is neither.
	Verdict string
	// LogYes and LogNo are the log of the summed probabilities of the YES
	// and NO variants among the alternatives (top_logprobs) at Index;
	// -Inf when no variant is among them.
	LogYes, LogNo float64
}

// InTop reports whether YES or NO was among the alternatives at the
// judgement token.
func (j Judgement) InTop() bool { return !math.IsInf(j.LogYes, -1) || !math.IsInf(j.LogNo, -1) }

// PYes is the score of the judgement: P(YES)/(P(YES)+P(NO)) over the
// alternatives at the judgement token, the softmax of the two
// log-probabilities (1 or 0 when only one of them is among the
// alternatives). When neither is, it falls back to the chosen token: 1 for
// YES, 0 for NO, and fallback is true. A judgement with neither is
// ErrNoJudgement.
func (j Judgement) PYes() (p float64, fallback bool, err error) {
	switch {
	case j.InTop():
		// 1/(1+exp(lnNo-lnYes)) is the two-way softmax; it stays exact
		// when both log-probabilities are very small.
		return 1 / (1 + math.Exp(j.LogNo-j.LogYes)), false, nil
	case j.Verdict == VerdictYes:
		return 1, true, nil
	case j.Verdict == VerdictNo:
		return 0, true, nil
	}
	return 0, false, fmt.Errorf("%w: the token after <judgement> is %q and neither YES nor NO is among its alternatives", ErrNoJudgement, j.Chosen)
}

// FindJudgement finds the judgement token among the tokens of a judge's
// answer by position, not by assuming its index: it spells the text the
// tokens make, finds the end of the last <judgement> tag, and takes the
// token that holds the first non-space character after it. This holds for
// tokenisers that split the tag over several tokens, merge its end with
// the verdict ("ment>YES"), or put the verdict after a space or newline.
//
// The YES and NO variants among the token's alternatives are matched by
// one rule: an alternative must start with the part of the chosen token
// that still belongs to the tag (">" when the token is ">YES"; nothing
// when the tag ended before the token); after that part and any leading
// white space, its leading letters must be "yes" or "no" in any case, and
// the next character, if any, must not be a letter. So " YES", "Yes",
// "yes</" and ">NO" match; "Y", "Nope", "YESS" and "NOT" do not. The
// probabilities of all matching variants are summed (an alternative
// listed twice counts once).
func FindJudgement(tokens []sdk.TokenLogprob) (Judgement, error) {
	var text strings.Builder
	starts := make([]int, len(tokens))
	for i, t := range tokens {
		starts[i] = text.Len()
		text.WriteString(t.Token)
	}
	s := text.String()
	tags := judgementTag.FindAllStringIndex(s, -1)
	if len(tags) == 0 {
		return Judgement{}, fmt.Errorf("%w: the answer has no <judgement> tag", ErrNoJudgement)
	}
	end := tags[len(tags)-1][1]
	at := strings.IndexFunc(s[end:], func(r rune) bool { return !unicode.IsSpace(r) })
	if at < 0 {
		return Judgement{}, fmt.Errorf("%w: nothing follows the last <judgement> tag", ErrNoJudgement)
	}
	at += end
	i := tokenAt(starts, tokens, at)
	tagPart := ""
	if starts[i] < end {
		tagPart = s[starts[i]:end]
	}
	j := Judgement{Index: i, Chosen: tokens[i].Token, Verdict: verdictOf(tokens[i].Token, tagPart), LogYes: math.Inf(-1), LogNo: math.Inf(-1)}
	seen := make(map[string]bool, len(tokens[i].TopLogprobs))
	for _, alt := range tokens[i].TopLogprobs {
		if seen[alt.Token] || math.IsNaN(alt.Logprob) || math.IsInf(alt.Logprob, 1) {
			continue // listed twice, or not a log-probability
		}
		seen[alt.Token] = true
		lp := math.Min(alt.Logprob, 0) // a rounding error above 0 is probability 1
		switch verdictOf(alt.Token, tagPart) {
		case VerdictYes:
			j.LogYes = logAddExp(j.LogYes, lp)
		case VerdictNo:
			j.LogNo = logAddExp(j.LogNo, lp)
		}
	}
	return j, nil
}

// tokenAt returns the index of the token whose text holds byte offset at
// of the spelled text (at is inside the text, so such a token exists).
func tokenAt(starts []int, tokens []sdk.TokenLogprob, at int) int {
	for i := len(starts) - 1; i >= 0; i-- {
		if starts[i] <= at && at < starts[i]+len(tokens[i].Token) {
			return i
		}
	}
	return len(starts) - 1 // unreachable: at < len(text)
}

// verdictOf applies FindJudgement's matching rule to one token.
func verdictOf(token, tagPart string) string {
	rest, ok := strings.CutPrefix(token, tagPart)
	if !ok {
		return ""
	}
	rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
	n := 0
	for n < len(rest) && isASCIILetter(rest[n]) {
		n++
	}
	if n < len(rest) {
		if r := []rune(rest[n:])[0]; unicode.IsLetter(r) {
			return "" // a non-ASCII letter continues the word
		}
	}
	switch strings.ToLower(rest[:n]) {
	case "yes":
		return VerdictYes
	case "no":
		return VerdictNo
	}
	return ""
}

func isASCIILetter(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }

// logAddExp is log(exp(a)+exp(b)) without overflow or underflow.
func logAddExp(a, b float64) float64 {
	if math.IsInf(a, -1) {
		return b
	}
	if math.IsInf(b, -1) {
		return a
	}
	if a < b {
		a, b = b, a
	}
	return a + math.Log1p(math.Exp(b-a))
}
