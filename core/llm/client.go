package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/swelego/swelego/core/llm/openai"
	"github.com/swelego/swelego/sdk"
)

// maxBody bounds how much of a response the client reads.
const maxBody = 64 << 20

// Client is an OpenAI-compatible chat-completions client. It is safe for
// concurrent use.
type Client struct {
	endpoint    string
	model       string
	key         secret
	temperature *float64
	maxTokens   int
	timeout     time.Duration
	maxRetries  int

	http       *http.Client
	log        *slog.Logger
	minBackoff time.Duration
	maxBackoff time.Duration
}

var _ sdk.Model = (*Client)(nil)

// Option configures a Client beyond what a recipe sets.
type Option func(*Client)

// WithHTTPClient sends requests through hc instead of a client of the
// package's own. Its Timeout should be zero: Config.Timeout bounds each
// attempt.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithLogger logs retries to l (at Warn). Logs never hold the API key.
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// WithBackoff sets the first and the largest wait between attempts
// (defaults 500ms and 30s). Each wait doubles the one before, with jitter.
func WithBackoff(first, largest time.Duration) Option {
	return func(c *Client) { c.minBackoff, c.maxBackoff = first, largest }
}

// NewClient returns a native-format client for cfg. It reads the API key
// from the environment now, so a missing key fails here, not mid-run.
func NewClient(cfg Config, opts ...Option) (*Client, error) {
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("model base_url %q: want an http(s) URL such as http://127.0.0.1:8000/v1", base)
	}
	c := &Client{
		endpoint:    strings.TrimRight(base, "/") + "/chat/completions",
		model:       cfg.Model,
		temperature: cfg.Temperature,
		maxTokens:   cfg.MaxTokens,
		timeout:     cfg.Timeout,
		maxRetries:  cfg.MaxRetries,
		minBackoff:  500 * time.Millisecond,
		maxBackoff:  30 * time.Second,
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = DefaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if cfg.APIKeyEnv != "" {
		v := os.Getenv(cfg.APIKeyEnv)
		if v == "" {
			return nil, fmt.Errorf("%w: %s", ErrNoAPIKey, cfg.APIKeyEnv)
		}
		c.key = secret(v)
	}
	for _, o := range opts {
		o(c)
	}
	if c.http == nil {
		c.http = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.minBackoff <= 0 {
		c.minBackoff = time.Millisecond
	}
	if c.maxBackoff < c.minBackoff {
		c.maxBackoff = c.minBackoff
	}
	return c, nil
}

// String names the endpoint; the key is never printed.
func (c *Client) String() string { return "llm.Client(" + c.endpoint + ")" }

// GoString is String, so %#v does not print the key either.
func (c *Client) GoString() string { return c.String() }

// secret is an API key; it prints as a placeholder.
type secret string

func (s secret) String() string   { return "[redacted]" }
func (s secret) GoString() string { return "[redacted]" }

// redact removes the key from text that came from outside (an error body
// that echoes the request, say).
func (c *Client) redact(s string) string {
	if c.key == "" {
		return s
	}
	return strings.ReplaceAll(s, string(c.key), "[redacted]")
}

// Chat sends req and returns the first choice. Failed attempts (429, 5xx,
// connection errors, per-attempt timeouts) are retried with exponential
// backoff and jitter, honouring Retry-After, until MaxRetries or ctx ends.
// A reply whose tool calls cannot be read comes back whole together with a
// *ToolCallError.
func (c *Client) Chat(ctx context.Context, req sdk.ChatRequest) (sdk.ChatResponse, error) {
	body, err := c.requestBody(req)
	if err != nil {
		return sdk.ChatResponse{}, fmt.Errorf("chat completion: %w", err)
	}
	for attempt := 0; ; attempt++ {
		wr, retryAfter, err := c.attempt(ctx, body)
		if err == nil {
			resp, err := c.response(req, wr)
			if err != nil {
				var tce *ToolCallError
				if errors.As(err, &tce) {
					return resp, err
				}
				return resp, fmt.Errorf("chat completion: %w", err)
			}
			return resp, nil
		}
		if ctx.Err() != nil {
			return sdk.ChatResponse{}, fmt.Errorf("chat completion: %w (last attempt: %v)", ctx.Err(), err)
		}
		if !retryable(err) || attempt >= c.maxRetries {
			if attempt > 0 {
				return sdk.ChatResponse{}, fmt.Errorf("chat completion failed after %d attempts: %w", attempt+1, err)
			}
			return sdk.ChatResponse{}, fmt.Errorf("chat completion: %w", err)
		}
		delay := c.backoff(attempt, retryAfter)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < delay {
			return sdk.ChatResponse{}, fmt.Errorf("chat completion: next retry in %s is past the deadline: %w", delay.Round(time.Millisecond), err)
		}
		c.log.Warn("chat completion failed; retrying", "endpoint", c.endpoint, "attempt", attempt+1, "max_attempts", c.maxRetries+1, "delay", delay, "error", err.Error())
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return sdk.ChatResponse{}, fmt.Errorf("chat completion: %w (last attempt: %v)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

// requestBody builds the JSON body: the config's defaults, then the
// request's Extra members verbatim, then the request's own fields.
func (c *Client) requestBody(req sdk.ChatRequest) ([]byte, error) {
	body := map[string]json.RawMessage{}
	set := func(k string, v any) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(v)
		body[k] = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	if c.model != "" {
		set("model", c.model)
	}
	if c.temperature != nil {
		set("temperature", *c.temperature)
	}
	if c.maxTokens > 0 {
		set("max_tokens", c.maxTokens)
	}
	if len(bytes.TrimSpace(req.Extra)) > 0 && !bytes.Equal(bytes.TrimSpace(req.Extra), []byte("null")) {
		members, err := objectMembers(req.Extra)
		if err != nil {
			return nil, fmt.Errorf("request extra members: %w", err)
		}
		for _, m := range members {
			body[m.Key] = m.Value
		}
	}
	if req.Model != "" {
		set("model", req.Model)
	}
	set("messages", encodeMessages(req.Messages))
	if len(req.Tools) > 0 {
		set("tools", encodeTools(req.Tools))
	}
	if req.Temperature != nil {
		set("temperature", *req.Temperature)
	}
	if req.MaxTokens > 0 {
		set("max_tokens", req.MaxTokens)
	}
	if req.Logprobs || req.TopLogprobs > 0 {
		set("logprobs", true)
	}
	if req.TopLogprobs > 0 {
		set("top_logprobs", req.TopLogprobs)
	}
	if _, ok := body["model"]; !ok {
		return nil, errors.New("no model name: set the model block's name or the request's model")
	}
	// Written by hand so Extra's members go out byte for byte.
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(jsonString(k))
		b.WriteByte(':')
		b.Write(body[k])
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// attemptError marks a failure worth retrying.
type attemptError struct{ err error }

func (e *attemptError) Error() string { return e.err.Error() }
func (e *attemptError) Unwrap() error { return e.err }

func retryable(err error) bool {
	var ae *attemptError
	if errors.As(err, &ae) {
		return true
	}
	var api *APIError
	return errors.As(err, &api) && api.Temporary()
}

// attempt makes one HTTP exchange. It returns the decoded completion, or an
// error and the server's Retry-After.
func (c *Client) attempt(ctx context.Context, body []byte) (*wireResponse, time.Duration, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(actx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	if c.key != "" {
		hr.Header.Set("Authorization", "Bearer "+string(c.key))
	}
	res, err := c.http.Do(hr)
	if err != nil {
		return nil, 0, c.transportError(ctx, actx, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxBody+1))
	if err != nil {
		return nil, 0, c.transportError(ctx, actx, err)
	}
	if len(data) > maxBody {
		return nil, 0, fmt.Errorf("%w: body larger than %d bytes", ErrBadResponse, maxBody)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return nil, retryAfter(res.Header.Get("Retry-After")), c.apiError(res.StatusCode, data)
	}
	var wr wireResponse
	if err := json.Unmarshal(data, &wr); err != nil {
		return nil, 0, fmt.Errorf("%w: %v; body starts %q", ErrBadResponse, err, c.redact(excerpt(data)))
	}
	return &wr, 0, nil
}

// transportError classifies a failed exchange: the caller's context, the
// per-attempt timeout, or a connection problem (all but the first retried).
func (c *Client) transportError(ctx, actx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if actx.Err() != nil {
		return &attemptError{fmt.Errorf("%w (%s)", ErrTimeout, c.timeout)}
	}
	return &attemptError{fmt.Errorf("connect to %s: %s", c.endpoint, c.redact(err.Error()))}
}

func (c *Client) apiError(status int, data []byte) error {
	e := &APIError{StatusCode: status}
	var we wireError
	if json.Unmarshal(data, &we) == nil && (we.Error != nil || we.Message != "") {
		if we.Error != nil {
			e.Message, e.Type, e.Code = we.Error.Message, we.Error.Type, errorCode(we.Error.Code)
		} else {
			e.Message, e.Type, e.Code = we.Message, we.Type, errorCode(we.Code)
		}
	} else if len(bytes.TrimSpace(data)) > 0 {
		e.Message = excerpt(data)
	}
	e.Message = c.redact(e.Message)
	e.Code = c.redact(e.Code)
	e.Type = c.redact(e.Type)
	return e
}

// response turns the completion into the first choice, checking its tool
// calls against the offered tools.
func (c *Client) response(req sdk.ChatRequest, wr *wireResponse) (sdk.ChatResponse, error) {
	if len(wr.Choices) == 0 {
		return sdk.ChatResponse{}, ErrEmptyChoices
	}
	ch := wr.Choices[0]
	for _, other := range wr.Choices {
		if other.Index == 0 {
			ch = other
			break
		}
	}
	var msg openai.ReceivedMessage
	if ch.Message != nil {
		msg = *ch.Message
	}
	content, err := decodeContent(msg.Content)
	if err != nil {
		return sdk.ChatResponse{}, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	role := msg.Role
	if role == "" {
		role = "assistant"
	}
	resp := sdk.ChatResponse{Message: sdk.Message{Role: role, Content: content}}
	if ch.FinishReason != nil {
		resp.FinishReason = *ch.FinishReason
	}
	if wr.Usage != nil {
		resp.Usage = *wr.Usage
	}
	if ch.Logprobs != nil {
		resp.Logprobs = decodeLogprobs(ch.Logprobs.Content)
	}
	for k, wc := range msg.ToolCalls {
		call := sdk.ToolCall{ID: wc.ID, Type: wc.Type, Function: sdk.FunctionCall{Name: wc.Function.Name, Arguments: decodeArguments(wc.Function.Arguments)}}
		if call.ID == "" {
			call.ID = CallID(len(req.Messages), k)
		}
		if call.Type == "" {
			call.Type = "function"
		}
		resp.Message.ToolCalls = append(resp.Message.ToolCalls, call)
	}
	if problems := checkNativeCalls(resp.Message.ToolCalls, req.Tools); len(problems) > 0 {
		return resp, &ToolCallError{Message: resp.Message, Problems: problems, Format: FormatNative}
	}
	return resp, nil
}

// checkNativeCalls finds calls whose arguments are not a JSON object, that
// name a tool not offered, or that miss a required parameter.
func checkNativeCalls(calls []sdk.ToolCall, tools []sdk.ToolSchema) []CallProblem {
	if len(calls) == 0 {
		return nil
	}
	set := newToolSet(tools)
	var problems []CallProblem
	for k, call := range calls {
		p := CallProblem{Index: k, ID: call.ID, Name: call.Function.Name, Text: call.Function.Arguments}
		args := strings.TrimSpace(call.Function.Arguments)
		if args == "" {
			args = "{}"
		}
		members, err := objectMembers([]byte(args))
		if err != nil {
			p.Err = fmt.Errorf("%w: %v (arguments %q)", ErrBadArguments, err, excerpt([]byte(call.Function.Arguments)))
			problems = append(problems, p)
			continue
		}
		if set.empty() {
			continue
		}
		spec := set.lookup(call.Function.Name)
		if spec == nil {
			p.Err = fmt.Errorf("%w %q (offered: %s)", ErrUnknownTool, call.Function.Name, strings.Join(toolNames(set), ", "))
			problems = append(problems, p)
			continue
		}
		if err := checkRequired(spec, members); err != nil {
			p.Err = err
			problems = append(problems, p)
		}
	}
	return problems
}

func checkRequired(spec *toolSpec, members []member) error {
	have := map[string]bool{}
	for _, m := range members {
		have[m.Key] = true
	}
	for _, p := range spec.Params {
		if p.Required && !have[p.Name] {
			return fmt.Errorf("%w: %q", ErrMissingParameter, p.Name)
		}
	}
	return nil
}

func toolNames(set *toolSet) []string {
	out := make([]string, len(set.order))
	for i, t := range set.order {
		out[i] = t.Name
	}
	return out
}

// backoff is the wait before retry number attempt+1: the first backoff
// doubled per attempt, capped, with jitter in [d/2, d], and at least the
// server's Retry-After.
func (c *Client) backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := c.minBackoff
	for i := 0; i < attempt && d < c.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.maxBackoff)
	d = d/2 + rand.N(d/2+1)
	return max(d, retryAfter)
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
		return time.Duration(n * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// excerpt is the start of a body for an error message.
func excerpt(data []byte) string {
	const n = 200
	s := strings.TrimSpace(string(data))
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
