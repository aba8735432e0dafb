package serve

import (
	"errors"
	"testing"
)

// FuzzParseRequest: any body either decodes into a request whose values
// are in range or fails with an *APIError of status 400 — never a panic.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"m","messages":[{"role":"system","content":[{"type":"text","text":"a"}]},{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},{"role":"tool","tool_call_id":"c","content":"ok"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":"auto"}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"stop":["a","b"],"max_tokens":3,"temperature":0.5,"top_p":0.9,"seed":-4,"logprobs":true,"top_logprobs":5,"stream":true,"stream_options":{"include_usage":true}}`,
		`{"model":"m","messages":[{"role":"user"}],"tool_choice":{"type":"function","function":{"name":"g"}}}`,
		`{"model":"m","messages":[],"n":2}`,
		`{"model":1}`, `[`, `null`, `{}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseRequest(body)
		if err != nil {
			var ae *APIError
			if !errors.As(err, &ae) || ae.Status != 400 || ae.Message == "" || ae.Type == "" {
				t.Fatalf("error %v is not a 400 APIError", err)
			}
			return
		}
		if r.Model == "" || len(r.Messages) == 0 {
			t.Fatalf("accepted a request without model or messages: %+v", r)
		}
		if r.Temperature < 0 || r.Temperature > 2 || r.TopP <= 0 || r.TopP > 1 || r.MaxTokens < 0 ||
			r.TopLogprobs < 0 || r.TopLogprobs > maxTopLogprobs || len(r.Stop) > maxStops || (r.TopLogprobs > 0 && !r.Logprobs) {
			t.Fatalf("accepted values out of range: %+v", r)
		}
		for _, m := range r.Messages {
			switch m.Role {
			case "system", "user", "assistant", "tool":
			default:
				t.Fatalf("accepted role %q", m.Role)
			}
		}
		for _, s := range r.Stop {
			if s == "" {
				t.Fatal("accepted an empty stop string")
			}
		}
	})
}
