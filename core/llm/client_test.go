package llm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/swelego/swelego/core/llm"
	"github.com/swelego/swelego/core/llm/llmtest"
	"github.com/swelego/swelego/sdk"
)

// newClient is a client of srv with fast backoff.
func newClient(t *testing.T, srv *llmtest.Server, cfg llm.Config, opts ...llm.Option) *llm.Client {
	t.Helper()
	cfg.BaseURL = srv.URL()
	if cfg.Model == "" {
		cfg.Model = "test-model"
	}
	opts = append([]llm.Option{llm.WithBackoff(10*time.Millisecond, 50*time.Millisecond)}, opts...)
	c, err := llm.NewClient(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var hello = sdk.ChatRequest{Messages: []sdk.Message{{Role: "user", Content: "hello"}}}

func TestChatFixtures(t *testing.T) {
	tests := []struct {
		fixture string
		want    sdk.ChatResponse
		wantErr error
		status  int
	}{
		{
			fixture: "openai_text.json",
			want: sdk.ChatResponse{
				Message:      sdk.Message{Role: "assistant", Content: "The failing test expects `parse` to accept an empty string."},
				FinishReason: "stop",
				Usage:        sdk.Usage{PromptTokens: 19, CompletionTokens: 14, TotalTokens: 33},
			},
		},
		{
			fixture: "openai_tool_calls.json",
			want: sdk.ChatResponse{
				Message: sdk.Message{Role: "assistant", ToolCalls: []sdk.ToolCall{
					{ID: "call_DdmO9pD3xa9XTPNJ32zg2hcA", Type: "function", Function: sdk.FunctionCall{Name: "execute_bash", Arguments: `{"command":"grep -rn \"def parse\" src/"}`}},
					{ID: "call_7Qe1fXk4Jp0m2c3ZbW9yTnAs", Type: "function", Function: sdk.FunctionCall{Name: "str_replace_editor", Arguments: `{"command":"view","path":"/testbed/src/parse.py","view_range":[1,40]}`}},
				}},
				FinishReason: "tool_calls",
				Usage:        sdk.Usage{PromptTokens: 412, CompletionTokens: 61, TotalTokens: 473},
			},
		},
		{
			fixture: "vllm_tool_calls.json",
			want: sdk.ChatResponse{
				Message: sdk.Message{Role: "assistant", Content: "Let me look at the failing test first.", ToolCalls: []sdk.ToolCall{
					{ID: "chatcmpl-tool-3c2b1a0f9e8d4c7b", Type: "function", Function: sdk.FunctionCall{Name: "execute_bash", Arguments: `{"command": "cd /testbed && python -m pytest tests/test_parse.py -x -q", "timeout": 120}`}},
				}},
				FinishReason: "tool_calls",
				Usage:        sdk.Usage{PromptTokens: 2210, CompletionTokens: 41, TotalTokens: 2251},
			},
		},
		{
			fixture: "openai_length.json",
			want: sdk.ChatResponse{
				Message:      sdk.Message{Role: "assistant", Content: "I will start by listing the repository and then"},
				FinishReason: "length",
				Usage:        sdk.Usage{PromptTokens: 300, CompletionTokens: 10, TotalTokens: 310},
			},
		},
		{fixture: "empty_choices.json", wantErr: llm.ErrEmptyChoices},
		{fixture: "error_400_context_length.json", status: 400},
		{fixture: "error_401_invalid_key.json", status: 401},
		{fixture: "error_400_vllm.json", status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			srv := llmtest.NewServer(t)
			srv.Enqueue(llmtest.Fixture(tt.fixture))
			got, err := newClient(t, srv, llm.Config{}).Chat(context.Background(), hello)
			switch {
			case tt.status != 0:
				var api *llm.APIError
				if !errors.As(err, &api) || api.StatusCode != tt.status {
					t.Fatalf("err = %v, want an APIError with status %d", err, tt.status)
				}
				if api.Message == "" || !strings.Contains(err.Error(), api.Message) {
					t.Errorf("error %q lacks the server's message %q", err, api.Message)
				}
				if n := len(srv.Requests()); n != 1 {
					t.Errorf("a %d was sent %d times, want no retry", tt.status, n)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("response (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestChatLogprobs(t *testing.T) {
	t.Run("fixture", func(t *testing.T) {
		srv := llmtest.NewServer(t)
		srv.Enqueue(llmtest.Fixture("vllm_logprobs.json"))
		req := hello
		req.TopLogprobs = 2
		got, err := newClient(t, srv, llm.Config{}).Chat(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Logprobs) != 7 {
			t.Fatalf("got %d tokens, want 7", len(got.Logprobs))
		}
		yes := got.Logprobs[3]
		want := sdk.TokenLogprob{Token: "YES", Logprob: -0.2231, TopLogprobs: []sdk.TokenLogprob{{Token: "YES", Logprob: -0.2231}, {Token: "NO", Logprob: -1.6094}}}
		if diff := cmp.Diff(want, yes); diff != "" {
			t.Errorf("judgement token (-want +got):\n%s", diff)
		}
		if got.Logprobs[2].TopLogprobs[1].Logprob != -9999 {
			t.Errorf("vLLM's -9999 floor was not kept: %v", got.Logprobs[2].TopLogprobs[1])
		}
		var sent map[string]any
		_ = json.Unmarshal(srv.Requests()[0].Body, &sent)
		if sent["logprobs"] != true || sent["top_logprobs"] != float64(2) {
			t.Errorf("request asked logprobs=%v top_logprobs=%v, want true and 2", sent["logprobs"], sent["top_logprobs"])
		}
	})
	t.Run("scripted", func(t *testing.T) {
		srv := llmtest.NewServer(t)
		srv.Enqueue(llmtest.Text("NO").WithLogprobs(llmtest.Token("NO", -0.05, llmtest.Alt("NO", -0.05), llmtest.Alt("YES", -3.0))))
		got, err := newClient(t, srv, llm.Config{}).Chat(context.Background(), sdk.ChatRequest{Messages: hello.Messages, Logprobs: true})
		if err != nil {
			t.Fatal(err)
		}
		want := []sdk.TokenLogprob{{Token: "NO", Logprob: -0.05, TopLogprobs: []sdk.TokenLogprob{{Token: "NO", Logprob: -0.05}, {Token: "YES", Logprob: -3}}}}
		if diff := cmp.Diff(want, got.Logprobs); diff != "" {
			t.Errorf("logprobs (-want +got):\n%s", diff)
		}
	})
}

func TestChatRequestBody(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(llmtest.Text("ok"))
	tools := loadTools(t)
	c := newClient(t, srv, llm.Config{Model: "qwen3-8b", Temperature: ptr(0.7), MaxTokens: 512})
	req := sdk.ChatRequest{
		Messages: []sdk.Message{
			{Role: "system", Content: "be brief"},
			{Role: "user", Content: "fix it"},
			{Role: "assistant", ToolCalls: []sdk.ToolCall{{ID: "call_1", Type: "function", Function: sdk.FunctionCall{Name: "execute_bash", Arguments: `{"command":"ls"}`}}}, TurnMask: ptr(true)},
			{Role: "tool", Content: "a.py", Name: "execute_bash", ToolCallID: "call_1"},
		},
		Tools:       tools,
		Temperature: ptr(0.0),
		Extra:       json.RawMessage(`{"stop": ["</function"], "temperature": 1.5, "seed": 7, "chat_template_kwargs": {"enable_thinking": false}}`),
	}
	if _, err := c.Chat(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	sent := srv.Requests()[0]
	var body map[string]json.RawMessage
	if err := json.Unmarshal(sent.Body, &body); err != nil {
		t.Fatal(err)
	}
	wantMembers := map[string]string{
		"model":                `"qwen3-8b"`,
		"temperature":          `0`, // the request's own field beats Extra and the config
		"max_tokens":           `512`,
		"stop":                 `["</function"]`,
		"seed":                 `7`,
		"chat_template_kwargs": `{"enable_thinking": false}`,
	}
	for k, want := range wantMembers {
		if got := string(body[k]); got != want {
			t.Errorf("member %s = %s, want %s", k, got, want)
		}
	}
	if _, ok := body["logprobs"]; ok {
		t.Error("logprobs sent although not asked for")
	}
	msgs := sent.Chat.Messages
	if len(msgs) != 4 {
		t.Fatalf("sent %d messages, want 4", len(msgs))
	}
	if msgs[2].Content != nil {
		t.Errorf("assistant message with only tool calls sent content %q, want null", *msgs[2].Content)
	}
	if got := msgs[2].ToolCalls[0].Function.Arguments; got != `{"command":"ls"}` {
		t.Errorf("arguments sent as %q", got)
	}
	if msgs[3].ToolCallID != "call_1" || msgs[3].Text() != "a.py" {
		t.Errorf("tool message sent as %+v", msgs[3])
	}
	if bytes.Contains(sent.Body, []byte("turn_mask")) || bytes.Contains(sent.Body, []byte("loss_weight")) {
		t.Error("training-only members leaked into the request")
	}
	if len(sent.Chat.Tools) != len(tools) || sent.Chat.Tools[1].Function.Name != "str_replace_editor" {
		t.Errorf("tools sent: %+v", sent.Chat.Tools)
	}
	if ct := sent.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if auth := sent.Header.Get("Authorization"); auth != "" {
		t.Errorf("Authorization %q sent without a key configured", auth)
	}
}

func TestChatRetries(t *testing.T) {
	tests := []struct {
		name     string
		script   []llmtest.Reply
		timeout  time.Duration
		minWait  time.Duration
		requests int
	}{
		{name: "429 then success", script: []llmtest.Reply{llmtest.RateLimited(""), llmtest.Text("ok")}, requests: 2},
		{name: "429 with Retry-After", script: []llmtest.Reply{llmtest.RateLimited("1"), llmtest.Text("ok")}, minWait: time.Second, requests: 2},
		{name: "500 then success", script: []llmtest.Reply{llmtest.ServerError(), llmtest.Text("ok")}, requests: 2},
		{name: "502 without a body then success", script: []llmtest.Reply{llmtest.Raw(502, "<html>Bad Gateway</html>"), llmtest.Text("ok")}, requests: 2},
		{name: "500 twice then success", script: []llmtest.Reply{llmtest.ServerError(), llmtest.ServerError(), llmtest.Text("ok")}, requests: 3},
		{name: "dropped connection then success", script: []llmtest.Reply{llmtest.Drop(), llmtest.Text("ok")}, requests: 2},
		{name: "hung response then success", script: []llmtest.Reply{llmtest.Hang(), llmtest.Text("ok")}, timeout: 300 * time.Millisecond, minWait: 300 * time.Millisecond, requests: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(t)
			srv.Enqueue(tt.script...)
			c := newClient(t, srv, llm.Config{Timeout: tt.timeout, MaxRetries: 3})
			start := time.Now()
			got, err := c.Chat(context.Background(), hello)
			if err != nil {
				t.Fatal(err)
			}
			if got.Message.Content != "ok" {
				t.Errorf("content %q", got.Message.Content)
			}
			if n := len(srv.Requests()); n != tt.requests {
				t.Errorf("server saw %d requests, want %d", n, tt.requests)
			}
			if el := time.Since(start); el < tt.minWait {
				t.Errorf("answered after %s, want at least %s", el, tt.minWait)
			}
		})
	}
}

func TestChatConnectionRefusedThenSuccess(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(llmtest.Text("back"))
	c := newClient(t, srv, llm.Config{MaxRetries: 8}, llm.WithBackoff(50*time.Millisecond, 200*time.Millisecond))
	srv.Stop()
	restarted := make(chan error, 1)
	go func() {
		time.Sleep(300 * time.Millisecond)
		restarted <- srv.Start()
	}()
	got, err := c.Chat(context.Background(), hello)
	if err := <-restarted; err != nil {
		t.Fatalf("restart: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if got.Message.Content != "back" {
		t.Errorf("content %q", got.Message.Content)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}

func TestChatGivesUp(t *testing.T) {
	t.Run("hung every time", func(t *testing.T) {
		srv := llmtest.NewServer(t)
		srv.Handle(func(llmtest.Request) llmtest.Reply { return llmtest.Hang() })
		c := newClient(t, srv, llm.Config{Timeout: 200 * time.Millisecond, MaxRetries: 1})
		start := time.Now()
		_, err := c.Chat(context.Background(), hello)
		if !errors.Is(err, llm.ErrTimeout) {
			t.Fatalf("err = %v, want ErrTimeout", err)
		}
		if el := time.Since(start); el < 400*time.Millisecond || el > 5*time.Second {
			t.Errorf("gave up after %s, want about two timeouts", el)
		}
		if n := len(srv.Requests()); n != 2 {
			t.Errorf("server saw %d requests, want 2", n)
		}
	})
	t.Run("500 every time", func(t *testing.T) {
		srv := llmtest.NewServer(t)
		srv.Handle(func(llmtest.Request) llmtest.Reply { return llmtest.ServerError() })
		_, err := newClient(t, srv, llm.Config{MaxRetries: 2}).Chat(context.Background(), hello)
		var api *llm.APIError
		if !errors.As(err, &api) || api.StatusCode != 500 {
			t.Fatalf("err = %v, want the last 500", err)
		}
		if !strings.Contains(err.Error(), "after 3 attempts") {
			t.Errorf("error %q does not say how often it tried", err)
		}
		if n := len(srv.Requests()); n != 3 {
			t.Errorf("server saw %d requests, want 3", n)
		}
	})
	t.Run("no retries", func(t *testing.T) {
		srv := llmtest.NewServer(t)
		srv.Handle(func(llmtest.Request) llmtest.Reply { return llmtest.ServerError() })
		_, err := newClient(t, srv, llm.Config{MaxRetries: -1}).Chat(context.Background(), hello)
		if err == nil || len(srv.Requests()) != 1 {
			t.Fatalf("err = %v after %d requests, want one failed request", err, len(srv.Requests()))
		}
	})
	t.Run("context deadline ends the retries", func(t *testing.T) {
		srv := llmtest.NewServer(t)
		srv.Handle(func(llmtest.Request) llmtest.Reply { return llmtest.Hang() })
		c := newClient(t, srv, llm.Config{Timeout: time.Minute, MaxRetries: 5})
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Chat(ctx, hello)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the context's deadline", err)
		}
		if el := time.Since(start); el > 3*time.Second {
			t.Errorf("returned after %s", el)
		}
	})
	t.Run("Retry-After beyond the deadline", func(t *testing.T) {
		srv := llmtest.NewServer(t)
		srv.Enqueue(llmtest.RateLimited("30"), llmtest.Text("too late"))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		_, err := newClient(t, srv, llm.Config{}).Chat(ctx, hello)
		var api *llm.APIError
		if !errors.As(err, &api) || api.StatusCode != 429 {
			t.Fatalf("err = %v, want the 429", err)
		}
		if el := time.Since(start); el > time.Second {
			t.Errorf("waited %s for a retry that could not happen in time", el)
		}
	})
	t.Run("malformed body is not retried", func(t *testing.T) {
		srv := llmtest.NewServer(t)
		srv.Enqueue(llmtest.Raw(200, "<html>proxy login</html>"), llmtest.Text("never"))
		_, err := newClient(t, srv, llm.Config{}).Chat(context.Background(), hello)
		if !errors.Is(err, llm.ErrBadResponse) {
			t.Fatalf("err = %v, want ErrBadResponse", err)
		}
		if !strings.Contains(err.Error(), "proxy login") {
			t.Errorf("error %q does not show the body", err)
		}
		if n := len(srv.Requests()); n != 1 {
			t.Errorf("server saw %d requests, want 1", n)
		}
	})
}

func TestChatAPIKey(t *testing.T) {
	const key = "sk-test-SECRET-0123456789abcdef"
	t.Setenv("SWELEGO_TEST_KEY", key)
	srv := llmtest.NewServer(t)
	// A hostile or careless server that echoes the credentials back.
	srv.Handle(func(r llmtest.Request) llmtest.Reply {
		auth := r.Header.Get("Authorization")
		switch len(srv.Requests()) {
		case 1:
			return llmtest.Error(http.StatusInternalServerError, "server_error", "upstream rejected "+auth)
		case 2:
			return llmtest.Raw(200, "not json, but here is your header: "+auth)
		default:
			return llmtest.Error(http.StatusUnauthorized, "invalid_request_error", "Incorrect API key provided: "+strings.TrimPrefix(auth, "Bearer "))
		}
	})
	var logs bytes.Buffer
	c := newClient(t, srv, llm.Config{APIKeyEnv: "SWELEGO_TEST_KEY", MaxRetries: 1},
		llm.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	var errs []string
	for range 2 {
		_, err := c.Chat(context.Background(), hello)
		if err == nil {
			t.Fatal("want an error")
		}
		errs = append(errs, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
	}
	for _, r := range srv.Requests() {
		if got := r.Header.Get("Authorization"); got != "Bearer "+key {
			t.Errorf("Authorization = %q, want the bearer key", got)
		}
	}
	texts := append(errs, logs.String(), fmt.Sprintf("%v %+v %#v", c, c, c))
	for _, s := range texts {
		if strings.Contains(s, key) || strings.Contains(s, key[8:]) {
			t.Errorf("the API key leaked into %q", s)
		}
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Errorf("the retry was not logged: %q", logs.String())
	}
	if !strings.Contains(errs[0], "[redacted]") {
		t.Errorf("error %q does not show where the key was removed", errs[0])
	}
}

func TestNewClientErrors(t *testing.T) {
	t.Setenv("SWELEGO_EMPTY_KEY", "")
	tests := []struct {
		name    string
		cfg     llm.Config
		wantErr error
		want    string
	}{
		{name: "key variable unset", cfg: llm.Config{APIKeyEnv: "SWELEGO_EMPTY_KEY"}, wantErr: llm.ErrNoAPIKey, want: "SWELEGO_EMPTY_KEY"},
		{name: "bad base url", cfg: llm.Config{BaseURL: "127.0.0.1:8000"}, want: "base_url"},
		{name: "oracle is not served here", cfg: llm.Config{Provider: "oracle"}, wantErr: llm.ErrProvider},
		{name: "unknown format", cfg: llm.Config{Format: "xml"}, want: "format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := llm.New(tt.cfg)
			if err == nil {
				t.Fatal("want an error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestChatMalformedNativeCalls(t *testing.T) {
	tools := loadTools(t)
	tests := []struct {
		name    string
		call    llmtest.ToolCall
		wantErr error
	}{
		{name: "invalid JSON arguments", call: llmtest.Call("execute_bash", `{"command": "ls -la`), wantErr: llm.ErrBadArguments},
		{name: "arguments not an object", call: llmtest.Call("execute_bash", `["ls"]`), wantErr: llm.ErrBadArguments},
		{name: "unknown tool", call: llmtest.Call("run_python", `{"code": "print(1)"}`), wantErr: llm.ErrUnknownTool},
		{name: "missing required parameter", call: llmtest.Call("str_replace_editor", `{"command": "view"}`), wantErr: llm.ErrMissingParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(t)
			srv.Enqueue(llmtest.Calls(tt.call).WithUsage(100, 20))
			resp, err := newClient(t, srv, llm.Config{}).Chat(context.Background(), sdk.ChatRequest{Messages: hello.Messages, Tools: tools})
			var tce *llm.ToolCallError
			if !errors.As(err, &tce) {
				t.Fatalf("err = %v, want a *ToolCallError", err)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if resp.Usage.TotalTokens != 120 {
				t.Errorf("usage %+v not returned with the error", resp.Usage)
			}
			reply := tce.Reply()
			if len(reply.ToolCalls) != 1 || reply.ToolCalls[0].Function.Arguments != tt.call.Function.Arguments {
				t.Errorf("reply %+v does not keep the call as the model wrote it", reply)
			}
			obs := tce.Observation()
			if !strings.Contains(obs, tt.call.Function.Name) || !strings.Contains(obs, "no tool was run") {
				t.Errorf("observation does not help the model:\n%s", obs)
			}
			if len(srv.Requests()) != 1 {
				t.Error("a malformed call must not be retried")
			}
		})
	}
}
