package verifiers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/swelego/swelego/sdk"
)

// ErrConfig is wrapped by the errors of a configuration a verifier
// refuses.
var ErrConfig = errors.New("invalid verifier configuration")

// GenerativeConfig configures the generative verifier; absent attributes
// keep the defaults of DefaultGenerativeConfig.
type GenerativeConfig struct {
	// MaxLogTokens bounds the interaction log in the prompt, in tokens
	// counted as BytesPerToken bytes each; a longer log is cut in the
	// middle. 0 leaves the log out.
	MaxLogTokens int `json:"max_log_tokens"`
	// TopLogprobs is how many alternatives the judge returns per token.
	TopLogprobs int `json:"top_logprobs"`
	// MaxTokens bounds the judge's answer.
	MaxTokens int `json:"max_tokens"`
	// Prompt replaces the judge prompt; see DefaultPrompt for the
	// placeholders it may use.
	Prompt string `json:"prompt"`
}

// DefaultGenerativeConfig is the configuration of an empty block.
func DefaultGenerativeConfig() GenerativeConfig {
	return GenerativeConfig{MaxLogTokens: 16000, TopLogprobs: 20, MaxTokens: 32}
}

// BytesPerToken is the rule that turns a token budget into bytes: four
// bytes of text per token, about what BPE tokenisers of code models give
// for English and source code. It needs no tokenizer, so the plugin stays
// independent of the judge model.
const BytesPerToken = 4

// DefaultPrompt is the judge prompt. The placeholders {{repo}},
// {{problem_statement}}, {{log}} and {{patch}} are replaced by the task's
// repository, its problem statement, the condensed interaction log and the
// candidate patch; a prompt override may use any of them.
const DefaultPrompt = `You review the work of a software engineering agent. The agent was given the issue below in a checkout of the repository {{repo}}, worked in it with tools, and ended with the patch below.

Decide whether the patch resolves the issue. It resolves the issue when the behaviour the issue asks for is what the code now does, for the inputs the issue names and the ones like them, and the behaviour the issue does not mention is kept. A patch that only silences the symptom, special-cases the example of the issue, or edits tests to make them pass does not resolve it.

<issue>
{{problem_statement}}
</issue>

<agent_log>
{{log}}
</agent_log>

<patch>
{{patch}}
</patch>

Give your decision as <judgement>YES</judgement> if the patch resolves the issue, or <judgement>NO</judgement> if it does not. Write nothing else.`

// systemPrompt sets the judge's role.
const systemPrompt = "You are an experienced software engineer who reviews patches carefully and answers in the format asked for."

func (c GenerativeConfig) check() error {
	switch {
	case c.MaxLogTokens < 0:
		return fmt.Errorf("%w: max_log_tokens is %d, want 0 or more", ErrConfig, c.MaxLogTokens)
	case c.TopLogprobs < 1:
		return fmt.Errorf("%w: top_logprobs is %d, want at least 1 (the YES and NO alternatives are read from them)", ErrConfig, c.TopLogprobs)
	case c.MaxTokens < 1:
		return fmt.Errorf("%w: max_tokens is %d, want at least 1", ErrConfig, c.MaxTokens)
	}
	return nil
}

// GenerativeSchema is the configuration the generative verifier accepts.
var GenerativeSchema = sdk.Schema{Attributes: map[string]sdk.Attribute{
	"max_log_tokens": {Type: sdk.TypeNumber, Default: DefaultGenerativeConfig().MaxLogTokens, Description: "budget of the interaction log in the judge prompt, in tokens of 4 bytes; a longer log is cut in the middle (0 leaves the log out)"},
	"top_logprobs":   {Type: sdk.TypeNumber, Default: DefaultGenerativeConfig().TopLogprobs, Description: "alternatives asked for per token; P(YES) and P(NO) are read from them"},
	"max_tokens":     {Type: sdk.TypeNumber, Default: DefaultGenerativeConfig().MaxTokens, Description: "most tokens the judge may answer with"},
	"prompt":         {Type: sdk.TypeString, Description: "replaces the judge prompt; {{repo}}, {{problem_statement}}, {{log}} and {{patch}} are filled in"},
}}

// Generative is the generative verifier: a judge model, lent by the host,
// reads the task, the condensed interaction log and the patch and answers
// <judgement>YES</judgement> or <judgement>NO</judgement>; the score is
// P(YES)/(P(YES)+P(NO)) at the judgement token (FindJudgement).
type Generative struct{}

// Verify asks the lent model for its judgement of the candidate.
func (Generative) Verify(ctx context.Context, req sdk.VerifyRequest) (sdk.Score, error) {
	cfg := DefaultGenerativeConfig()
	if err := req.Config.Decode(&cfg); err != nil {
		return sdk.Score{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if err := cfg.check(); err != nil {
		return sdk.Score{}, err
	}
	return judge(ctx, cfg, req)
}

// judge scores one candidate with the lent model.
func judge(ctx context.Context, cfg GenerativeConfig, req sdk.VerifyRequest) (sdk.Score, error) {
	if req.Model == nil {
		return sdk.Score{}, fmt.Errorf("generative verifier: the host lent no model; name one in the verifier block (model = model.NAME): %w", sdk.ErrNotLent)
	}
	zero := 0.0
	resp, err := req.Model.Chat(ctx, sdk.ChatRequest{
		Messages: []sdk.Message{
			{Role: "system", Content: systemPrompt},
			{Role: "user", Content: JudgePrompt(cfg, req.Task, req.Trajectory, req.Patch)},
		},
		Temperature: &zero,
		MaxTokens:   cfg.MaxTokens,
		Logprobs:    true,
		TopLogprobs: cfg.TopLogprobs,
	})
	if err != nil {
		return sdk.Score{}, fmt.Errorf("generative verifier: ask the judge: %w", err)
	}
	return scoreAnswer(resp)
}

// scoreAnswer reads the score from the judge's answer.
func scoreAnswer(resp sdk.ChatResponse) (sdk.Score, error) {
	tokens, noLogprobs := resp.Logprobs, false
	if len(tokens) == 0 {
		// The endpoint sent no log-probabilities: read the text, whose
		// verdict can only fall back to 1 or 0.
		tokens, noLogprobs = []sdk.TokenLogprob{{Token: resp.Message.Content}}, true
	}
	j, err := FindJudgement(tokens)
	if err != nil {
		return sdk.Score{}, fmt.Errorf("generative verifier: %w (answer %q)", err, clip(resp.Message.Content, 200))
	}
	p, fallback, err := j.PYes()
	if err != nil {
		return sdk.Score{}, fmt.Errorf("generative verifier: %w (answer %q)", err, clip(resp.Message.Content, 200))
	}
	details := fmt.Sprintf("P(YES)/(P(YES)+P(NO)) = %.6g at token %d (%q)", p, j.Index, j.Chosen)
	switch {
	case noLogprobs:
		details = fmt.Sprintf("the endpoint returned no log-probabilities; score %g from the verdict %s", p, j.Verdict)
	case fallback:
		details = fmt.Sprintf("neither YES nor NO among the alternatives at token %d (%q); score %g from the chosen token", j.Index, j.Chosen, p)
	}
	label := j.Verdict
	if label == "" {
		label = "UNCLEAR"
	}
	return sdk.Score{Value: p, Label: label, Details: details, Parts: map[string]float64{"p_yes": p}}, nil
}

// JudgePrompt writes the judge prompt of a candidate: cfg.Prompt (or
// DefaultPrompt) with the placeholders filled in, the interaction log
// condensed to cfg.MaxLogTokens.
func JudgePrompt(cfg GenerativeConfig, task sdk.Task, traj sdk.Trajectory, patch string) string {
	prompt := cfg.Prompt
	if prompt == "" {
		prompt = DefaultPrompt
	}
	log := CondenseLog(RenderLog(traj), cfg.MaxLogTokens*BytesPerToken)
	return strings.NewReplacer(
		"{{repo}}", task.Repo,
		"{{problem_statement}}", strings.TrimSpace(task.ProblemStatement),
		"{{log}}", log,
		"{{patch}}", strings.TrimRight(patch, "\n"),
	).Replace(prompt)
}

// RenderLog writes a trajectory's messages as plain text, one section per
// message: the assistant's words and tool calls, and what the tools
// answered. System messages are left out (they are the agent's
// instructions, the same for every candidate).
func RenderLog(t sdk.Trajectory) string {
	var b strings.Builder
	for _, m := range t.Messages {
		if m.Role == "system" {
			continue
		}
		content := strings.TrimSpace(m.Content)
		if content == "" && len(m.ToolCalls) == 0 {
			continue
		}
		fmt.Fprintf(&b, "[%s]\n", m.Role)
		if content != "" {
			b.WriteString(content)
			b.WriteByte('\n')
		}
		for _, c := range m.ToolCalls {
			fmt.Fprintf(&b, "[call %s] %s\n", c.Function.Name, c.Function.Arguments)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// CondenseLog keeps at most limit bytes of log: when it is longer, the
// first and the last half of the budget stay and the middle is replaced by
// a line saying how much was cut. Cuts fall on UTF-8 boundaries, and on a
// line boundary when one is near. A limit of 0 or less keeps nothing.
func CondenseLog(log string, limit int) string {
	if limit <= 0 {
		return ""
	}
	if len(log) <= limit {
		return log
	}
	head := log[:runeStart(log, limit/2)]
	if nl := strings.LastIndexByte(head, '\n'); nl >= len(head)-200 && nl > 0 {
		head = head[:nl+1]
	}
	tail := log[runeStart(log, len(log)-limit/2):]
	if nl := strings.IndexByte(tail, '\n'); nl >= 0 && nl < 200 && nl+1 < len(tail) {
		tail = tail[nl+1:]
	}
	cut := len(log) - len(head) - len(tail)
	return fmt.Sprintf("%s\n[... %d bytes (about %d tokens) of the log cut here ...]\n%s",
		strings.TrimRight(head, "\n"), cut, (cut+BytesPerToken-1)/BytesPerToken, tail)
}

// runeStart moves i back to the start of the UTF-8 sequence it is in.
func runeStart(s string, i int) int {
	for i > 0 && i < len(s) && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}

// clip shortens s to about n bytes for an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:runeStart(s, n)] + "…"
}
