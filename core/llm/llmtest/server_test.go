package llmtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/swelego/swelego/core/llm/llmtest"
)

func post(t *testing.T, srv *llmtest.Server, body string) (int, map[string]any) {
	t.Helper()
	res, err := http.Post(srv.URL()+"/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("body %q is not JSON: %v", data, err)
	}
	return res.StatusCode, out
}

func TestServerChecksRequests(t *testing.T) {
	tests := []struct {
		name, body string
		want       string // part of the error message; "" for success
	}{
		{name: "valid", body: `{"model":"m","messages":[{"role":"user","content":"hi"}]}`},
		{name: "valid tool round", body: `{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"ok"}]}`},
		{name: "no model", body: `{"messages":[{"role":"user","content":"hi"}]}`, want: "model"},
		{name: "no messages", body: `{"model":"m","messages":[]}`, want: "empty array"},
		{name: "bad JSON", body: `{"model":`, want: "parse the JSON"},
		{name: "unanswered call", body: `{"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"user","content":"?"}]}`, want: "must be followed by tool messages"},
		{name: "orphan tool message", body: `{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"tool","tool_call_id":"zz","content":"x"}]}`, want: "must be a response"},
		{name: "null user content", body: `{"model":"m","messages":[{"role":"user","content":null}]}`, want: "got null"},
		{name: "bad role", body: `{"model":"m","messages":[{"role":"robot","content":"x"}]}`, want: "Supported values"},
		{name: "streaming", body: `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`, want: "streaming"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(t)
			srv.Enqueue(llmtest.Text("fine"))
			status, body := post(t, srv, tt.body)
			if tt.want == "" {
				if status != 200 || body["object"] != "chat.completion" {
					t.Fatalf("status %d body %v", status, body)
				}
				choice := body["choices"].([]any)[0].(map[string]any)
				if choice["finish_reason"] != "stop" || choice["message"].(map[string]any)["content"] != "fine" {
					t.Errorf("choice %v", choice)
				}
				if _, ok := choice["logprobs"]; !ok {
					t.Error("logprobs member missing (OpenAI sends null)")
				}
				if u := body["usage"].(map[string]any); u["total_tokens"].(float64) <= 0 {
					t.Errorf("usage %v", u)
				}
				return
			}
			if status != 400 {
				t.Fatalf("status %d, want 400", status)
			}
			e := body["error"].(map[string]any)
			if !strings.Contains(e["message"].(string), tt.want) || e["type"] != "invalid_request_error" {
				t.Errorf("error %v, want a message with %q", e, tt.want)
			}
			if n := len(srv.Requests()); n != 1 {
				t.Errorf("recorded %d requests", n)
			}
		})
	}
}

func TestServerScript(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(llmtest.Calls(llmtest.Call("f", `{"x":1}`)))
	srv.Handle(func(r llmtest.Request) llmtest.Reply {
		return llmtest.Text("from handler: " + r.Chat.Messages[0].Text())
	})
	status, body := post(t, srv, `{"model":"m","messages":[{"role":"user","content":"a"}]}`)
	msg := body["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)
	if status != 200 || msg["content"] != nil || msg["tool_calls"].([]any)[0].(map[string]any)["id"] != "call_1_0" {
		t.Errorf("queued tool-call reply: %d %v", status, msg)
	}
	_, body = post(t, srv, `{"model":"m","messages":[{"role":"user","content":"b"}]}`)
	msg = body["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)
	if msg["content"] != "from handler: b" {
		t.Errorf("handler reply: %v", msg)
	}
	if got := srv.Requests()[1].Chat.Model; got != "m" {
		t.Errorf("recorded model %q", got)
	}
}

func TestFixturesAreJSON(t *testing.T) {
	names := llmtest.FixtureNames()
	if len(names) < 5 {
		t.Fatalf("only %d fixtures", len(names))
	}
	for _, n := range names {
		r := llmtest.Fixture(n)
		if !json.Valid(r.Body) {
			t.Errorf("%s is not valid JSON", n)
		}
		if strings.HasPrefix(n, "error_") == (r.Status == 200) {
			t.Errorf("%s answers status %d", n, r.Status)
		}
	}
}
