package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Request is one request the server received.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
	// Chat is the decoded body (zero when it did not decode).
	Chat ChatRequest
}

// Server is the stand-in endpoint. Replies come from the queue (Enqueue)
// first, then from the handler (Handle); with neither, the server answers
// 400 so a test notices the missing script.
type Server struct {
	// Lenient turns off the checks OpenAI makes of a request (a model
	// name, tool messages answering the calls of the message before, …).
	Lenient bool

	mu       sync.Mutex
	addr     string
	srv      *http.Server
	queue    []Reply
	handler  func(Request) Reply
	requests []Request
	seq      int
}

// NewServer starts a server on a free port of 127.0.0.1 and stops it when
// the test ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{}
	if err := s.listen("127.0.0.1:0"); err != nil {
		t.Fatalf("llmtest: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// URL is the API root to configure a client with: http://127.0.0.1:PORT/v1.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "http://" + s.addr + "/v1"
}

// Enqueue adds replies to the script, answered in order.
func (s *Server) Enqueue(r ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, r...)
}

// Handle answers requests when the queue is empty. f runs on the server's
// goroutines, one call per request.
func (s *Server) Handle(f func(Request) Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handler = f
}

// Requests returns the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Stop closes the listener and every connection (hanging replies end):
// connecting fails until Start.
func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Start listens again on the address the server had.
func (s *Server) Start() error {
	s.mu.Lock()
	addr := s.addr
	running := s.srv != nil
	s.mu.Unlock()
	if running {
		return nil
	}
	return s.listen(addr)
}

func (s *Server) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(s.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.addr = ln.Addr().String()
	s.srv = srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return nil
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := readAll(r)
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	if err == nil {
		req.Chat, _ = decodeChat(body)
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.seq++
	seq := s.seq
	s.mu.Unlock()

	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/chat/completions") {
		writeError(w, http.StatusNotFound, "invalid_request_error", fmt.Sprintf("Unknown request URL: %s %s.", r.Method, r.URL.Path))
		return
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "could not read the request body")
		return
	}
	if !s.Lenient {
		if msg := validate(body); msg != "" {
			writeError(w, http.StatusBadRequest, "invalid_request_error", msg)
			return
		}
	}

	reply, ok := s.next(req)
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("llmtest: no reply scripted for request %d", seq))
		return
	}
	if reply.Delay > 0 {
		select {
		case <-time.After(reply.Delay):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case reply.Drop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
			}
		}
		return
	case reply.Hang:
		<-r.Context().Done()
		return
	}
	for k, vs := range reply.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	status := reply.Status
	switch {
	case reply.Body != nil:
		if status == 0 {
			status = http.StatusOK
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(reply.Body)
	case reply.Error != nil:
		if status == 0 {
			status = http.StatusBadRequest
		}
		writeJSON(w, status, ErrorBody{Error: *reply.Error})
	default:
		if status == 0 {
			status = http.StatusOK
		}
		writeJSON(w, status, s.complete(reply.Completion, req, seq))
	}
}

func (s *Server) next(req Request) (Reply, bool) {
	s.mu.Lock()
	if len(s.queue) > 0 {
		r := s.queue[0]
		s.queue = s.queue[1:]
		s.mu.Unlock()
		return r, true
	}
	h := s.handler
	s.mu.Unlock()
	if h == nil {
		return Reply{}, false
	}
	return h(req), true
}

// complete fills in what a real server always sends.
func (s *Server) complete(c *Completion, req Request, seq int) Completion {
	var out Completion
	if c != nil {
		out = *c
	}
	if len(out.Choices) == 0 && c == nil {
		out = *Text("").Completion
	}
	out.Choices = append([]Choice(nil), out.Choices...)
	for i := range out.Choices {
		// A choice always has a message and a finish reason, copied so
		// that the ids below do not stay in the reply.
		var m Message
		if out.Choices[i].Message != nil {
			m = *out.Choices[i].Message
		}
		if out.Choices[i].FinishReason == nil {
			out.Choices[i].FinishReason = new(string)
		}
		m.ToolCalls = append([]ToolCall(nil), m.ToolCalls...)
		for k := range m.ToolCalls {
			if m.ToolCalls[k].ID == "" {
				m.ToolCalls[k].ID = fmt.Sprintf("call_%d_%d", seq, k)
			}
		}
		out.Choices[i].Message = &m
	}
	if out.ID == "" {
		out.ID = fmt.Sprintf("chatcmpl-llmtest-%d", seq)
	}
	if out.Object == "" {
		out.Object = "chat.completion"
	}
	if out.Created == 0 {
		out.Created = time.Now().Unix()
	}
	if out.Model == "" {
		out.Model = req.Chat.Model
	}
	if out.Usage == nil {
		prompt := 0
		for _, m := range req.Chat.Messages {
			prompt += estimateTokens(m.Text()) + 4
		}
		completion := 0
		for _, ch := range out.Choices {
			completion += estimateTokens(ch.Message.Text())
			for _, tc := range ch.Message.ToolCalls {
				completion += estimateTokens(tc.Function.Name + tc.Function.Arguments)
			}
		}
		out.Usage = &Usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion}
	}
	return out
}

// estimateTokens is a rough count, about four bytes a token.
func estimateTokens(s string) int { return (len(s) + 3) / 4 }

func readAll(r *http.Request) ([]byte, error) {
	defer r.Body.Close()
	return io.ReadAll(io.LimitReader(r.Body, 256<<20))
}

func decodeChat(body []byte) (ChatRequest, error) {
	var c ChatRequest
	if err := json.Unmarshal(body, &c); err != nil {
		return c, err
	}
	_ = json.Unmarshal(body, &c.Members)
	return c, nil
}

// validate makes the checks OpenAI makes of a chat request and returns its
// complaint, or "".
func validate(body []byte) string {
	var c ChatRequest
	if err := json.Unmarshal(body, &c); err != nil {
		return "We could not parse the JSON body of your request: " + err.Error()
	}
	if c.Model == "" {
		return "you must provide a model parameter"
	}
	if len(c.Messages) == 0 {
		return "Invalid 'messages': empty array. Expected an array with minimum length 1."
	}
	if c.Stream {
		return "llmtest: streaming is not supported"
	}
	for i, t := range c.Tools {
		if t.Type != "function" || t.Function.Name == "" {
			return fmt.Sprintf("Invalid 'tools[%d]': want type \"function\" and a function name.", i)
		}
	}
	var open map[string]bool // ids of calls not yet answered
	for i, m := range c.Messages {
		switch m.Role {
		case "system", "user", "assistant", "tool", "developer":
		default:
			return fmt.Sprintf("Invalid value: '%s'. Supported values are: 'system', 'assistant', 'user', 'tool', and 'developer'.", m.Role)
		}
		if m.Role == "tool" {
			if !open[m.ToolCallID] {
				return fmt.Sprintf("Invalid parameter: messages[%d] with role 'tool' must be a response to a preceding message with 'tool_calls'.", i)
			}
			delete(open, m.ToolCallID)
			continue
		}
		if len(open) > 0 {
			return fmt.Sprintf("An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. Missing before messages[%d].", i)
		}
		if m.Content == nil && (m.Role != "assistant" || len(m.ToolCalls) == 0) {
			return fmt.Sprintf("Invalid value for 'messages[%d].content': expected a string, got null.", i)
		}
		open = map[string]bool{}
		for _, tc := range m.ToolCalls {
			if tc.ID == "" || tc.Type != "function" || tc.Function.Name == "" {
				return fmt.Sprintf("Invalid 'messages[%d].tool_calls': each call needs an id, type \"function\" and a function name.", i)
			}
			open[tc.ID] = true
		}
	}
	if len(open) > 0 {
		return "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'."
	}
	return ""
}

func writeError(w http.ResponseWriter, status int, typ, msg string) {
	writeJSON(w, status, ErrorBody{Error: ErrorDetail{Message: msg, Type: typ}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		data = []byte(`{"error":{"message":"llmtest: cannot encode the reply","type":"server_error","param":null,"code":null}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
