package openai

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/swelego/swelego/sdk"
)

// TestWrittenJSON pins the JSON every written shape makes, member names,
// nulls and left-out members included, as OpenAI's API reference has
// them: client, server and stand-in all write through these structs.
func TestWrittenJSON(t *testing.T) {
	text, empty, stop := "hi", "", "stop"
	zero := 0
	call := ToolCall{ID: "call_1", Type: "function", Function: FunctionCall{Name: "run", Arguments: `{"cmd":"ls"}`}}
	streamed := call
	streamed.Index = &zero
	cases := []struct {
		name string
		v    any
		want string
	}{
		{"user message", Message{Role: "user", Content: &text},
			`{"role":"user","content":"hi"}`},
		{"assistant message that only calls tools: content null", Message{Role: "assistant", ToolCalls: []ToolCall{call}},
			`{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"run","arguments":"{\"cmd\":\"ls\"}"}}]}`},
		{"tool result", Message{Role: "tool", Content: &empty, ToolCallID: "call_1", Name: "run"},
			`{"role":"tool","content":"","name":"run","tool_call_id":"call_1"}`},
		{"tool", Tool{Type: "function", Function: ToolFunction{Name: "run", Parameters: json.RawMessage(`{"type":"object"}`)}},
			`{"type":"function","function":{"name":"run","parameters":{"type":"object"}}}`},
		{"tool with a description", Tool{Type: "function", Function: ToolFunction{Name: "run", Description: "Runs.", Parameters: json.RawMessage(`{}`)}},
			`{"type":"function","function":{"name":"run","description":"Runs.","parameters":{}}}`},
		{"completion", Completion[Message]{ID: "c1", Object: "chat.completion", Created: 7, Model: "m",
			Choices: []Choice[Message]{{Message: &Message{Role: "assistant", Content: &text}, FinishReason: &stop}},
			Usage:   &sdk.Usage{PromptTokens: 1, CompletionTokens: 2, TotalTokens: 3}},
			`{"id":"c1","object":"chat.completion","created":7,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`},
		{"first chunk", Completion[Message]{ID: "c1", Object: "chat.completion.chunk", Created: 7, Model: "m",
			Choices: []Choice[Message]{{Delta: &Delta{Role: "assistant", Content: &empty}}}},
			`{"id":"c1","object":"chat.completion.chunk","created":7,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`},
		{"chunk of tool calls", Choice[Message]{Delta: &Delta{ToolCalls: []ToolCall{streamed}}},
			`{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"run","arguments":"{\"cmd\":\"ls\"}"}}]},"logprobs":null,"finish_reason":null}`},
		{"last chunk", Choice[Message]{Delta: &Delta{}, FinishReason: &stop},
			`{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}`},
		{"usage chunk", Completion[Message]{ID: "c1", Object: "chat.completion.chunk", Created: 7, Model: "m", Choices: []Choice[Message]{}, Usage: &sdk.Usage{TotalTokens: 3}},
			`{"id":"c1","object":"chat.completion.chunk","created":7,"model":"m","choices":[],"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":3}}`},
		{"logprobs", Logprobs{Content: []Logprob{{Token: "a", Logprob: -0.5, Bytes: []int{97}, TopLogprobs: []TopLogprob{{Token: "b", Logprob: -1, Bytes: []int{98}}}}}},
			`{"content":[{"token":"a","logprob":-0.5,"bytes":[97],"top_logprobs":[{"token":"b","logprob":-1,"bytes":[98]}]}]}`},
		{"error", ErrorBody{Error: ErrorDetail{Message: "no", Type: "invalid_request_error"}},
			`{"error":{"message":"no","type":"invalid_request_error","param":null,"code":null}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := json.Marshal(c.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("JSON\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

// TestReadJSON reads the members the servers and the client look at, in
// the forms senders use.
func TestReadJSON(t *testing.T) {
	var req ChatRequest
	body := `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]},
		{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"run","arguments":{"cmd":"ls"}}}]},
		{"role":"tool","tool_call_id":"c","name":"run","content":"ok"}],
		"tools":[{"type":"function","function":{"name":"run","description":"Runs.","parameters":{"type":"object"}}}],
		"tool_choice":"auto","temperature":0.5,"top_p":0.9,"seed":3,"n":1,"stop":["x"],"max_tokens":5,"max_completion_tokens":6,
		"stream":true,"stream_options":{"include_usage":true},"logprobs":true,"top_logprobs":2}`
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		t.Fatal(err)
	}
	f, i, i64 := func(v float64) *float64 { return &v }, func(v int) *int { return &v }, func(v int64) *int64 { return &v }
	want := ChatRequest{
		Model: "m",
		Messages: []ReceivedMessage{
			{Role: "user", Content: json.RawMessage(`[{"type":"text","text":"hi"}]`)},
			{Role: "assistant", Content: json.RawMessage(`null`), ToolCalls: []ReceivedToolCall{{ID: "c", Type: "function"}}},
			{Role: "tool", ToolCallID: "c", Name: "run", Content: json.RawMessage(`"ok"`)},
		},
		Tools:      []Tool{{Type: "function", Function: ToolFunction{Name: "run", Description: "Runs.", Parameters: json.RawMessage(`{"type":"object"}`)}}},
		ToolChoice: json.RawMessage(`"auto"`), Temperature: f(0.5), TopP: f(0.9), Seed: i64(3), N: i(1), Stop: json.RawMessage(`["x"]`),
		MaxTokens: i(5), MaxCompletionTokens: i(6), Stream: true, StreamOptions: &StreamOptions{IncludeUsage: true}, Logprobs: true, TopLogprobs: i(2),
	}
	want.Messages[1].ToolCalls[0].Function.Name = "run"
	want.Messages[1].ToolCalls[0].Function.Arguments = json.RawMessage(`{"cmd":"ls"}`)
	if !reflect.DeepEqual(req, want) {
		t.Errorf("read\n%+v\nwant\n%+v", req, want)
	}

	var c Completion[ReceivedMessage]
	body = `{"id":"c1","object":"chat.completion","created":7,"model":"m","choices":[{"index":0,
		"message":{"role":"assistant","content":"hi","tool_calls":[{"id":"x","type":"function","function":{"name":"run","arguments":"{}"}}]},
		"logprobs":{"content":[{"token":"a","logprob":-0.5,"bytes":[97],"top_logprobs":[{"token":"b","logprob":-1,"bytes":null}]}]},
		"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatal(err)
	}
	ch := c.Choices[0]
	if c.ID != "c1" || c.Usage == nil || c.Usage.TotalTokens != 3 || ch.Message == nil || string(ch.Message.Content) != `"hi"` ||
		ch.Message.ToolCalls[0].Function.Name != "run" || string(ch.Message.ToolCalls[0].Function.Arguments) != `"{}"` ||
		ch.FinishReason == nil || *ch.FinishReason != "tool_calls" || ch.Logprobs.Content[0].TopLogprobs[0].Token != "b" {
		t.Errorf("read %+v", c)
	}
}

func TestText(t *testing.T) {
	s := "x"
	if (Message{}).Text() != "" || (Message{Content: &s}).Text() != "x" {
		t.Error("Text")
	}
}
