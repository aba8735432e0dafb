package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/swelego/swelego/core/chattemplate"
	"github.com/swelego/swelego/core/infer"
	"github.com/swelego/swelego/core/llm"
	"github.com/swelego/swelego/core/llm/openai"
	"github.com/swelego/swelego/sdk"
)

// response is a completion or a chunk as the server writes it.
type response = openai.Completion[openai.Message]

// prepared is a checked request turned into a generation.
type prepared struct {
	req    Request
	gen    infer.Request
	comp   *completion
	parse  bool // read tool calls out of the reply
	prompt int
}

// prepare renders and checks a request; errors are *APIError.
func (s *Server) prepare(r Request) (*prepared, *APIError) {
	if r.Model != s.name {
		return nil, s.unknownModel(r.Model)
	}
	pieces, err := chattemplate.Prompt(s.ck.Template, chattemplate.Conversation{Messages: r.Messages, Tools: r.Tools})
	if err != nil {
		return nil, invalid("messages", "%v", err)
	}
	enc, err := chattemplate.Encode(s.ck.Tokenizer, pieces)
	if err != nil {
		return nil, invalid("messages", "%v", err)
	}
	ctxLen, n := s.eng.ContextLen(), len(enc.IDs)
	if n >= ctxLen {
		return nil, &APIError{Status: http.StatusBadRequest, Type: typeInvalid, Param: "messages", Code: codeContextLength,
			Message: fmt.Sprintf("this model's maximum context length is %d tokens, but the messages take %d tokens, leaving none to generate", ctxLen, n)}
	}
	maxTokens := r.MaxTokens
	if maxTokens == 0 {
		maxTokens = ctxLen - n
	} else if n+maxTokens > ctxLen {
		return nil, &APIError{Status: http.StatusBadRequest, Type: typeInvalid, Param: "max_tokens", Code: codeContextLength,
			Message: fmt.Sprintf("this model's maximum context length is %d tokens: %d in the messages and %d to generate exceed it", ctxLen, n, maxTokens)}
	}
	p := &prepared{req: r, prompt: n, parse: len(r.Tools) > 0 && !r.NoTools}
	marker := ""
	if p.parse {
		marker = "<tool_call>"
		if s.format == llm.FormatOpenHands {
			marker = "<function="
		}
	}
	p.comp = newCompletion(s.ck.Tokenizer, r.Stop, marker)
	p.gen = infer.Request{Prompt: enc.IDs, MaxTokens: maxTokens, Temperature: r.Temperature, TopP: r.TopP,
		Seed: r.Seed, Emit: p.comp.emit}
	if r.Logprobs {
		p.gen.TopLogprobs = r.TopLogprobs
	}
	if err := s.eng.Check(p.gen); err != nil {
		return nil, invalid("", "%v", err)
	}
	return p, nil
}

func (s *Server) chat(w http.ResponseWriter, hr *http.Request) {
	body, aerr := s.readBody(w, hr)
	if aerr != nil {
		aerr.write(w)
		return
	}
	r, err := ParseRequest(body)
	if err != nil {
		var ae *APIError
		if !errors.As(err, &ae) {
			ae = &APIError{Status: http.StatusBadRequest, Type: typeInvalid, Message: err.Error()}
		}
		ae.write(w)
		return
	}
	p, aerr := s.prepare(r)
	if aerr != nil {
		aerr.write(w)
		return
	}
	if r.Stream {
		s.stream(w, hr, p)
		return
	}
	res, err := s.eng.Generate(hr.Context(), p.gen)
	if err != nil {
		s.generateError(w, hr, err)
		return
	}
	text, toks := p.comp.final()
	msg, finish := s.reply(p, text, res)
	out := response{ID: newID(), Object: "chat.completion", Created: time.Now().Unix(), Model: s.name,
		Choices: []openai.Choice[openai.Message]{{Message: msg, FinishReason: &finish}},
		Usage:   &sdk.Usage{PromptTokens: res.PromptTokens, CompletionTokens: res.CompletionTokens, TotalTokens: res.PromptTokens + res.CompletionTokens}}
	if r.Logprobs {
		out.Choices[0].Logprobs = s.logprobs(toks)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) generateError(w http.ResponseWriter, hr *http.Request, err error) {
	if hr.Context().Err() != nil {
		return // the client left
	}
	s.log.Error("generation failed", "error", err)
	(&APIError{Status: http.StatusInternalServerError, Type: typeServer, Message: err.Error()}).write(w)
}

// reply makes the assistant message of a finished generation: tool calls
// read out of the text when the request has tools.
func (s *Server) reply(p *prepared, text string, res infer.Result) (*openai.Message, string) {
	finish := res.Finish
	msg := &openai.Message{Role: "assistant", Content: &text}
	if !p.parse {
		return msg, finish
	}
	parsed, err := llm.ParseReply(s.format, text, p.req.Tools, len(p.req.Messages))
	if err != nil || len(parsed.ToolCalls) == 0 {
		return msg, finish // a call that cannot be read stays text
	}
	content := parsed.Content
	msg.Content = &content
	if strings.TrimSpace(content) == "" {
		msg.Content = nil
	}
	for _, c := range parsed.ToolCalls {
		msg.ToolCalls = append(msg.ToolCalls, openai.ToolCall{ID: c.ID, Type: "function", Function: c.Function})
	}
	if finish == infer.FinishStop {
		finish = "tool_calls"
	}
	return msg, finish
}

// logprobs writes tokens in OpenAI's logprobs shape.
func (s *Server) logprobs(toks []infer.Token) *openai.Logprobs {
	out := &openai.Logprobs{Content: []openai.Logprob{}}
	for _, t := range toks {
		text, bs := s.tokenText(t.ID)
		lp := openai.Logprob{Token: text, Logprob: t.Logprob, Bytes: bs, TopLogprobs: []openai.TopLogprob{}}
		for _, a := range t.Top {
			text, bs := s.tokenText(a.ID)
			lp.TopLogprobs = append(lp.TopLogprobs, openai.TopLogprob{Token: text, Logprob: a.Logprob, Bytes: bs})
		}
		out.Content = append(out.Content, lp)
	}
	return out
}

// tokenText is a token's text and its bytes (the text is sent as JSON,
// where bytes that are part of a character become U+FFFD).
func (s *Server) tokenText(id int32) (string, []int) {
	text := s.ck.Tokenizer.Decode([]int{int(id)})
	bs := make([]int, len(text))
	for i := range len(text) {
		bs[i] = int(text[i])
	}
	return text, bs
}

// stream answers with server-sent events: a first chunk with the role,
// content deltas as text becomes safe to send, tool calls at the end,
// a last chunk with the finish reason, the usage chunk when asked, and
// data: [DONE].
func (s *Server) stream(w http.ResponseWriter, hr *http.Request, p *prepared) {
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	id, created := newID(), time.Now().Unix()
	send := func(choices []openai.Choice[openai.Message], usage *sdk.Usage) {
		if choices == nil {
			choices = []openai.Choice[openai.Message]{}
		}
		data, _ := json.Marshal(response{ID: id, Object: "chat.completion.chunk", Created: created, Model: s.name, Choices: choices, Usage: usage})
		fmt.Fprintf(w, "data: %s\n\n", data)
		if flusher != nil {
			flusher.Flush()
		}
	}
	empty := ""
	send([]openai.Choice[openai.Message]{{Delta: &openai.Delta{Role: "assistant", Content: &empty}}}, nil)

	type result struct {
		res infer.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := s.eng.Generate(hr.Context(), p.gen)
		done <- result{res, err}
	}()
	sent, sentToks := 0, 0
	delta := func(text string, upTo int) {
		var lp *openai.Logprobs
		if p.req.Logprobs && upTo > sentToks {
			lp = s.logprobs(p.comp.tokensFrom(sentToks)[:upTo-sentToks])
		}
		if len(text) == sent && lp == nil {
			return
		}
		part := text[sent:]
		send([]openai.Choice[openai.Message]{{Delta: &openai.Delta{Content: &part}, Logprobs: lp}}, nil)
		sent, sentToks = len(text), upTo
	}
	var end result
	for running := true; running; {
		select {
		case <-p.comp.notify:
		case end = <-done:
			running = false
		}
		if running {
			text, n := p.comp.streamable()
			if len(text) > sent {
				delta(text, n)
			}
		}
	}
	if end.err != nil {
		if hr.Context().Err() == nil {
			s.log.Error("generation failed", "error", end.err)
			data, _ := json.Marshal(map[string]any{"error": map[string]any{"message": end.err.Error(), "type": typeServer}})
			fmt.Fprintf(w, "data: %s\n\n", data)
		}
		return
	}
	text, toks := p.comp.final()
	msg, finish := s.reply(p, text, end.res)
	if len(msg.ToolCalls) == 0 {
		delta(text, len(toks))
	} else {
		if msg.Content != nil && len(*msg.Content) > sent && strings.HasPrefix(*msg.Content, text[:sent]) {
			delta(*msg.Content, len(toks))
		}
		var lp *openai.Logprobs
		if p.req.Logprobs && len(toks) > sentToks {
			lp = s.logprobs(toks[sentToks:])
		}
		calls := msg.ToolCalls
		for k := range calls {
			calls[k].Index = &k
		}
		send([]openai.Choice[openai.Message]{{Delta: &openai.Delta{ToolCalls: calls}, Logprobs: lp}}, nil)
	}
	send([]openai.Choice[openai.Message]{{Delta: &openai.Delta{}, FinishReason: &finish}}, nil)
	if p.req.IncludeUsage {
		res := end.res
		send(nil, &sdk.Usage{PromptTokens: res.PromptTokens, CompletionTokens: res.CompletionTokens, TotalTokens: res.PromptTokens + res.CompletionTokens})
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	if flusher != nil {
		flusher.Flush()
	}
}
