package serve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swelego/swelego/core/backend/cpu"
	"github.com/swelego/swelego/core/chattemplate"
	"github.com/swelego/swelego/core/infer"
	"github.com/swelego/swelego/core/llm"
	"github.com/swelego/swelego/core/model"
	"github.com/swelego/swelego/core/safetensors"
	"github.com/swelego/swelego/sdk"
)

// studentDir is the quickstart's tiny Qwen3 with its Qwen-style tokenizer.
const studentDir = "../../examples/quickstart/student"

// contextLen is the test checkpoint's context, short so that over-long
// requests are cheap to make.
const contextLen = 160

// tinyCheckpoint writes a model folder as the sft stage publishes one: the
// student's shape with seeded random weights, its tokenizer files and
// swelego.json. (cmd/swelego's serve test serves a checkpoint the sft
// stage trained.)
func tinyCheckpoint(t *testing.T) string {
	t.Helper()
	cfg, err := model.ReadConfig(filepath.Join(studentDir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxPositionEmbeddings = contextLen
	be := cpu.New(1)
	defer be.Close()
	m, err := model.New(be, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.InitRandom(7, 0.1)
	dir := filepath.Join(t.TempDir(), "student")
	if err := m.Save(context.Background(), dir, safetensors.F32); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"tokenizer.json", "tokenizer_config.json"} {
		data, err := os.ReadFile(filepath.Join(studentDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := infer.WriteMeta(dir, infer.Meta{Tokenizer: infer.MetaOwnTokenizer, Template: "qwen3"}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// testServer serves a checkpoint over real HTTP. With run false the
// engine is not started: the caller starts it (Server.Run) once requests
// are queued.
func testServer(t *testing.T, dir string, run bool) (*Server, *httptest.Server) {
	t.Helper()
	be := cpu.New(2)
	t.Cleanup(be.Close)
	ck, err := Load(context.Background(), dir, be, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(ck, Options{Name: "student"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	if run {
		go func() { srv.Run(ctx); close(done) }()
	} else {
		close(done)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		cancel()
		<-done
	})
	return srv, hs
}

func post(t *testing.T, url, body string) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

// completionBody is the part of a response the tests read.
type completionBody struct {
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Message struct {
			Role      string         `json:"role"`
			Content   *string        `json:"content"`
			ToolCalls []sdk.ToolCall `json:"tool_calls"`
		} `json:"message"`
		Logprobs *struct {
			Content []struct {
				Token       string  `json:"token"`
				Logprob     float64 `json:"logprob"`
				Bytes       []int   `json:"bytes"`
				TopLogprobs []struct {
					Token   string  `json:"token"`
					Logprob float64 `json:"logprob"`
				} `json:"top_logprobs"`
			} `json:"content"`
		} `json:"logprobs"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage sdk.Usage `json:"usage"`
}

func complete(t *testing.T, url, body string) completionBody {
	t.Helper()
	status, data := post(t, url, body)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, data)
	}
	var c completionBody
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	if len(c.Choices) != 1 || c.Object != "chat.completion" || c.Model != "student" {
		t.Fatalf("response %s", data)
	}
	return c
}

var conversation = `[{"role":"system","content":"You fix bugs."},{"role":"user","content":"The tests in test_text.py fail. Fix slugify."}]`

// reference decodes greedily without a cache: a full Forward over the
// whole sequence for every new token, as plain code would. It returns the
// tokens and the log-softmax of each, and the top-k alternatives.
func reference(t *testing.T, ck *Checkpoint, msgs []sdk.Message, maxTokens, k int) (ids []int32, logps []float64, tops [][]int32) {
	t.Helper()
	pieces, err := chattemplate.Prompt(ck.Template, chattemplate.Conversation{Messages: msgs})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := chattemplate.Encode(ck.Tokenizer, pieces)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ck.Tokenizer.Special(chattemplate.EndOfTurn)
	seq := slices.Clone(enc.IDs)
	V := ck.Model.Config.VocabSize
	row := make([]float32, V)
	all := make([]float32, 0)
	for range maxTokens {
		if _, err := ck.Model.Forward(&model.Batch{B: 1, T: len(seq), Tokens: seq}, 0); err != nil {
			t.Fatal(err)
		}
		all = slices.Grow(all[:0], len(seq)*V)[:len(seq)*V]
		ck.Model.Backend().Download(all, ck.Model.Logits())
		copy(row, all[(len(seq)-1)*V:])
		best := 0
		var sum float64
		for i, x := range row {
			if x > row[best] {
				best = i
			}
		}
		for _, x := range row {
			sum += math.Exp(float64(x - row[best]))
		}
		lse := float64(row[best]) + math.Log(sum)
		if best == end {
			break
		}
		order := make([]int32, V)
		for i := range order {
			order[i] = int32(i)
		}
		slices.SortStableFunc(order, func(a, b int32) int {
			switch {
			case row[a] > row[b]:
				return -1
			case row[a] < row[b]:
				return 1
			}
			return 0
		})
		ids = append(ids, int32(best))
		logps = append(logps, float64(row[best])-lse)
		tops = append(tops, order[:k])
		seq = append(seq, int32(best))
	}
	return ids, logps, tops
}

// TestGreedyLogprobs: greedy decoding over the KV cache gives the tokens
// of cache-free decoding, and the logprobs and top_logprobs the server
// reports are the model's own log-softmax.
func TestGreedyLogprobs(t *testing.T) {
	dir := tinyCheckpoint(t)
	_, hs := testServer(t, dir, true)
	const maxTokens = 24
	c := complete(t, hs.URL, fmt.Sprintf(`{"model":"student","messages":%s,"temperature":0,"max_tokens":%d,"logprobs":true,"top_logprobs":3}`, conversation, maxTokens))

	be := cpu.New(1)
	defer be.Close()
	ck, err := Load(context.Background(), dir, be, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []sdk.Message
	if err := json.Unmarshal([]byte(conversation), &msgs); err != nil {
		t.Fatal(err)
	}
	ids, logps, tops := reference(t, ck, msgs, maxTokens, 3)
	lp := c.Choices[0].Logprobs
	if lp == nil || len(lp.Content) != len(ids) {
		t.Fatalf("%d logprobs, want %d (the reference's tokens)", len(lp.Content), len(ids))
	}
	var text strings.Builder
	for i, id := range ids {
		got := lp.Content[i]
		want := ck.Tokenizer.Decode([]int{int(id)})
		text.WriteString(want)
		// JSON carries invalid UTF-8 (part of a character) as U+FFFD;
		// bytes has the token's own bytes.
		if got.Token != strings.ToValidUTF8(want, "\uFFFD") || !slices.Equal(got.Bytes, intBytes(want)) {
			t.Errorf("token %d: %q %v, cache-free decoding chose %q", i, got.Token, got.Bytes, want)
		}
		if math.Abs(got.Logprob-logps[i]) > 1e-4 {
			t.Errorf("token %d: logprob %v, log-softmax %v", i, got.Logprob, logps[i])
		}
		if len(got.TopLogprobs) != 3 || got.TopLogprobs[0].Token != got.Token {
			t.Errorf("token %d: top_logprobs %+v", i, got.TopLogprobs)
			continue
		}
		for j, alt := range got.TopLogprobs {
			if w := strings.ToValidUTF8(ck.Tokenizer.Decode([]int{int(tops[i][j])}), "\uFFFD"); alt.Token != w {
				t.Errorf("token %d alternative %d: %q, want %q", i, j, alt.Token, w)
			}
		}
	}
	if got := *c.Choices[0].Message.Content; got != text.String() {
		t.Errorf("content %q, tokens say %q", got, text.String())
	}
	wantFinish := "stop"
	if len(ids) == maxTokens {
		wantFinish = "length"
	}
	if c.Choices[0].FinishReason != wantFinish || c.Usage.CompletionTokens < len(ids) || c.Usage.TotalTokens != c.Usage.PromptTokens+c.Usage.CompletionTokens {
		t.Errorf("finish %q (want %s), usage %+v", c.Choices[0].FinishReason, wantFinish, c.Usage)
	}
}

// TestBatchedRequests: requests queued together are decoded in one batch
// (the engine's counters say so) and each gets the greedy tokens it gets
// alone.
func TestBatchedRequests(t *testing.T) {
	dir := tinyCheckpoint(t)
	prompts := []string{"Fix slugify.", "Why does test_wrap fail?", "Hello", "Read the file setup.py and list what it installs, then run the tests."}
	body := func(p string) string {
		return fmt.Sprintf(`{"model":"student","messages":[{"role":"user","content":%q}],"temperature":0,"max_tokens":16}`, p)
	}
	alone := make([]string, len(prompts))
	_, hs := testServer(t, dir, true)
	for i, p := range prompts {
		alone[i] = *complete(t, hs.URL, body(p)).Choices[0].Message.Content
	}

	srv, hs2 := testServer(t, dir, false)
	got := make([]string, len(prompts))
	var wg sync.WaitGroup
	for i, p := range prompts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = *complete(t, hs2.URL, body(p)).Choices[0].Message.Content
		}()
	}
	for srv.Engine().Pending() < len(prompts) {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Run(ctx); close(done) }()
	wg.Wait()
	cancel()
	<-done
	for i := range prompts {
		if got[i] != alone[i] {
			t.Errorf("prompt %d: batched %q, alone %q", i, got[i], alone[i])
		}
	}
	if st := srv.Engine().Stats(); st.MaxBatch != int64(len(prompts)) || st.Batched == 0 || st.Requests != int64(len(prompts)) {
		t.Errorf("stats %+v: the %d requests were not decoded together", st, len(prompts))
	}
}

type chunk struct {
	Object  string `json:"object"`
	Choices []struct {
		Delta struct {
			Role      string         `json:"role"`
			Content   *string        `json:"content"`
			ToolCalls []sdk.ToolCall `json:"tool_calls"`
		} `json:"delta"`
		Logprobs *struct {
			Content []struct {
				Token string `json:"token"`
			} `json:"content"`
		} `json:"logprobs"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *sdk.Usage `json:"usage"`
}

// stream posts a streaming request and returns its chunks; it checks the
// event framing and the closing [DONE].
func stream(t *testing.T, url, body string) []chunk {
	t.Helper()
	resp, err := http.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		data, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d, %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), data)
	}
	var out []chunk
	sc := bufio.NewScanner(resp.Body)
	done := false
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || done {
			t.Fatalf("unexpected line %q", line)
		}
		if data == "[DONE]" {
			done = true
			continue
		}
		var c chunk
		if err := json.Unmarshal([]byte(data), &c); err != nil || c.Object != "chat.completion.chunk" {
			t.Fatalf("chunk %s: %v", data, err)
		}
		out = append(out, c)
	}
	if !done {
		t.Fatal("no data: [DONE]")
	}
	return out
}

// TestStreaming: the streamed deltas add up to the non-streamed reply of
// the same seeded request, with the role first, the finish reason last,
// the usage when asked and a logprob for every token.
func TestStreaming(t *testing.T) {
	_, hs := testServer(t, tinyCheckpoint(t), true)
	req := `{"model":"student","messages":%s,"temperature":0.8,"top_p":0.9,"seed":11,"max_tokens":30,"logprobs":true%s}`
	whole := complete(t, hs.URL, fmt.Sprintf(req, conversation, ""))
	chunks := stream(t, hs.URL, fmt.Sprintf(req, conversation, `,"stream":true,"stream_options":{"include_usage":true}`))
	if len(chunks) < 4 {
		t.Fatalf("%d chunks", len(chunks))
	}
	if d := chunks[0].Choices[0].Delta; d.Role != "assistant" {
		t.Errorf("first delta %+v has no role", d)
	}
	var text strings.Builder
	tokens := 0
	var finish string
	for i, c := range chunks[:len(chunks)-1] {
		ch := c.Choices[0]
		if ch.Delta.Content != nil {
			text.WriteString(*ch.Delta.Content)
		}
		if ch.Logprobs != nil {
			tokens += len(ch.Logprobs.Content)
		}
		if ch.FinishReason != nil {
			if i != len(chunks)-2 {
				t.Errorf("finish_reason in chunk %d of %d", i, len(chunks))
			}
			finish = *ch.FinishReason
		}
	}
	last := chunks[len(chunks)-1]
	if len(last.Choices) != 0 || last.Usage == nil || *last.Usage != whole.Usage {
		t.Errorf("usage chunk %+v, want usage %+v", last, whole.Usage)
	}
	if got, want := text.String(), *whole.Choices[0].Message.Content; got != want {
		t.Errorf("streamed %q, whole %q", got, want)
	}
	if finish != whole.Choices[0].FinishReason || tokens != len(whole.Choices[0].Logprobs.Content) {
		t.Errorf("finish %q, %d streamed logprobs; whole: %q, %d", finish, tokens, whole.Choices[0].FinishReason, len(whole.Choices[0].Logprobs.Content))
	}
}

// TestSampling: a seed makes sampling reproducible, another seed samples
// something else, and a stop string cuts the reply before it.
func TestSampling(t *testing.T) {
	_, hs := testServer(t, tinyCheckpoint(t), true)
	req := func(extra string) completionBody {
		return complete(t, hs.URL, fmt.Sprintf(`{"model":"student","messages":%s,"temperature":1,"max_tokens":40%s}`, conversation, extra))
	}
	a, b := req(`,"seed":1`), req(`,"seed":1`)
	if *a.Choices[0].Message.Content != *b.Choices[0].Message.Content {
		t.Errorf("seed 1 twice: %q and %q", *a.Choices[0].Message.Content, *b.Choices[0].Message.Content)
	}
	if c := req(`,"seed":2`); *c.Choices[0].Message.Content == *a.Choices[0].Message.Content {
		t.Errorf("seeds 1 and 2 sampled the same %q", *a.Choices[0].Message.Content)
	}
	text := *a.Choices[0].Message.Content
	if len(text) < 12 {
		t.Fatalf("reply %q too short to cut", text)
	}
	// A stop string from the middle of the reply: the reply ends before
	// its first occurrence.
	stop := text[len(text)/2 : len(text)/2+3]
	want := text[:strings.Index(text, stop)]
	stopJSON, _ := json.Marshal([]string{"\u0000never", stop})
	cut := req(`,"seed":1,"stop":` + string(stopJSON))
	if got := *cut.Choices[0].Message.Content; got != want || cut.Choices[0].FinishReason != "stop" {
		t.Errorf("stop %q: %q (finish %s), want %q", stop, got, cut.Choices[0].FinishReason, want)
	}
	streamed := stream(t, hs.URL, fmt.Sprintf(`{"model":"student","messages":%s,"temperature":1,"max_tokens":40,"seed":1,"stream":true,"stop":%s}`, conversation, stopJSON))
	var got strings.Builder
	for _, c := range streamed {
		if len(c.Choices) > 0 && c.Choices[0].Delta.Content != nil {
			got.WriteString(*c.Choices[0].Delta.Content)
		}
	}
	if got.String() != want {
		t.Errorf("streamed with stop %q: %q, want %q", stop, got.String(), want)
	}
}

// TestErrors: bad requests get OpenAI's error shape and status, and the
// server answers the next request.
func TestErrors(t *testing.T) {
	_, hs := testServer(t, tinyCheckpoint(t), true)
	long := strings.Repeat("word ", contextLen)
	for _, tc := range []struct {
		name, body string
		status     int
		param      string
		code       string
	}{
		{"unknown model", `{"model":"gpt-5","messages":[{"role":"user","content":"hi"}]}`, 404, "model", "model_not_found"},
		{"malformed JSON", `{"model":"student","messages":[`, 400, "", ""},
		{"not an object", `[1,2]`, 400, "", ""},
		{"prompt too long", `{"model":"student","messages":[{"role":"user","content":"` + long + `"}]}`, 400, "messages", "context_length_exceeded"},
		{"too many tokens", `{"model":"student","messages":[{"role":"user","content":"hi"}],"max_tokens":100000}`, 400, "max_tokens", "context_length_exceeded"},
		{"too many completion tokens", `{"model":"student","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":161}`, 400, "max_tokens", "context_length_exceeded"},
		{"zero max_tokens", `{"model":"student","messages":[{"role":"user","content":"hi"}],"max_tokens":0}`, 400, "max_tokens", "invalid_value"},
		{"temperature", `{"model":"student","messages":[{"role":"user","content":"hi"}],"temperature":3}`, 400, "temperature", "invalid_value"},
		{"top_p", `{"model":"student","messages":[{"role":"user","content":"hi"}],"top_p":0}`, 400, "top_p", "invalid_value"},
		{"n", `{"model":"student","messages":[{"role":"user","content":"hi"}],"n":2}`, 400, "n", "invalid_value"},
		{"top_logprobs without logprobs", `{"model":"student","messages":[{"role":"user","content":"hi"}],"top_logprobs":2}`, 400, "top_logprobs", "invalid_value"},
		{"wrong type", `{"model":"student","messages":[{"role":"user","content":"hi"}],"max_tokens":"ten"}`, 400, "max_tokens", "invalid_value"},
		{"no messages", `{"model":"student","messages":[]}`, 400, "messages", "invalid_value"},
		{"bad role", `{"model":"student","messages":[{"role":"wizard","content":"hi"}]}`, 400, "messages[0].role", "invalid_value"},
		{"five stops", `{"model":"student","messages":[{"role":"user","content":"hi"}],"stop":["a","b","c","d","e"]}`, 400, "stop", "invalid_value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, data := post(t, hs.URL, tc.body)
			var e struct {
				Error *struct {
					Message string  `json:"message"`
					Type    string  `json:"type"`
					Param   *string `json:"param"`
					Code    *string `json:"code"`
				} `json:"error"`
			}
			if err := json.Unmarshal(data, &e); err != nil || e.Error == nil || e.Error.Message == "" || e.Error.Type == "" {
				t.Fatalf("status %d, body %s: not an OpenAI error", status, data)
			}
			param, code := "", ""
			if e.Error.Param != nil {
				param = *e.Error.Param
			}
			if e.Error.Code != nil {
				code = *e.Error.Code
			}
			if status != tc.status || param != tc.param || code != tc.code {
				t.Errorf("status %d, param %q, code %q; want %d, %q, %q (%s)", status, param, code, tc.status, tc.param, tc.code, e.Error.Message)
			}
			// The server keeps serving.
			complete(t, hs.URL, `{"model":"student","messages":[{"role":"user","content":"hi"}],"max_tokens":2}`)
		})
	}
	for _, r := range []struct{ method, path string }{{"GET", "/v1/chat/completions"}, {"POST", "/v1/models"}, {"GET", "/v1/embeddings"}} {
		req, _ := http.NewRequest(r.method, hs.URL+r.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 || !bytes.Contains(data, []byte(`"error"`)) {
			t.Errorf("%s %s: %d %s", r.method, r.path, resp.StatusCode, data)
		}
	}
}

// TestModels lists the model as OpenAI does.
func TestModels(t *testing.T) {
	_, hs := testServer(t, tinyCheckpoint(t), true)
	resp, err := http.Get(hs.URL + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID          string `json:"id"`
			Object      string `json:"object"`
			MaxModelLen int    `json:"max_model_len"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	if list.Object != "list" || len(list.Data) != 1 || list.Data[0].ID != "student" || list.Data[0].Object != "model" || list.Data[0].MaxModelLen != contextLen {
		t.Errorf("models %+v", list)
	}
}

// TestLLMClient: the project's own client talks to the server, with
// logprobs.
func TestLLMClient(t *testing.T) {
	_, hs := testServer(t, tinyCheckpoint(t), true)
	m, err := llm.New(llm.Config{BaseURL: hs.URL + "/v1", Model: "student", MaxTokens: 12})
	if err != nil {
		t.Fatal(err)
	}
	zero := 0.0
	resp, err := m.Chat(context.Background(), sdk.ChatRequest{Messages: []sdk.Message{{Role: "user", Content: "Fix slugify."}},
		Temperature: &zero, Logprobs: true, TopLogprobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Usage.CompletionTokens == 0 || len(resp.Logprobs) == 0 || len(resp.Logprobs[0].TopLogprobs) != 2 || resp.Message.Role != "assistant" {
		t.Errorf("response %+v", resp)
	}
	var text strings.Builder
	for _, lp := range resp.Logprobs {
		text.WriteString(lp.Token)
	}
	if text.String() != resp.Message.Content {
		t.Errorf("content %q, tokens %q", resp.Message.Content, text.String())
	}
}

// TestToolCalls: a reply in the template's function-call format comes back
// as tool_calls (finish_reason tool_calls); a malformed call stays text.
func TestToolCalls(t *testing.T) {
	be := cpu.New(1)
	defer be.Close()
	ck, err := Load(context.Background(), tinyCheckpoint(t), be, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(ck, Options{Name: "student"})
	if err != nil {
		t.Fatal(err)
	}
	tools := []sdk.ToolSchema{{Name: "execute_bash", Description: "Run a command.",
		Parameters: json.RawMessage(`{"type":"object","properties":{"command":{"type":"string"}},"required":["command"]}`)}}
	p := &prepared{req: Request{Messages: []sdk.Message{{Role: "user", Content: "hi"}}, Tools: tools}, parse: true}
	for _, tc := range []struct {
		name, text   string
		calls        int
		content      string
		finish, args string
	}{
		{"one call", "Let me look.\n<tool_call>\n{\"name\": \"execute_bash\", \"arguments\": {\"command\": \"ls\"}}\n</tool_call>", 1, "Let me look.", "tool_calls", `{"command":"ls"}`},
		{"no call", "All done.", 0, "All done.", "stop", ""},
		{"malformed", "<tool_call>\n{\"name\": \"execute_bash\", \"arguments\": {\"command\": }\n</tool_call>", 0, "<tool_call>\n{\"name\": \"execute_bash\", \"arguments\": {\"command\": }\n</tool_call>", "stop", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, finish := srv.reply(p, tc.text, infer.Result{Finish: "stop"})
			content := ""
			if msg.Content != nil {
				content = strings.TrimSpace(*msg.Content)
			}
			if len(msg.ToolCalls) != tc.calls || finish != tc.finish || content != tc.content {
				t.Fatalf("calls %+v, finish %q, content %q", msg.ToolCalls, finish, content)
			}
			if tc.calls > 0 {
				c := msg.ToolCalls[0]
				var got, want any
				json.Unmarshal([]byte(c.Function.Arguments), &got)
				json.Unmarshal([]byte(tc.args), &want)
				if c.Function.Name != "execute_bash" || c.ID == "" || c.Type != "function" || fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("call %+v", c)
				}
			}
		})
	}
}

// TestShutdown: Serve returns when its context ends, after the request in
// progress got its answer.
func TestShutdown(t *testing.T) {
	be := cpu.New(1)
	defer be.Close()
	ck, err := Load(context.Background(), tinyCheckpoint(t), be, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(ck, Options{Name: "student"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	url := "http://" + ln.Addr().String()
	got := make(chan int, 1)
	go func() {
		status, _ := post(t, url, `{"model":"student","messages":[{"role":"user","content":"hi"}],"max_tokens":100}`)
		got <- status
	}()
	for srv.Engine().Stats().Steps == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if status := <-got; status != http.StatusOK {
		t.Errorf("the request in progress got %d", status)
	}
	if _, err := http.Get(url + "/v1/models"); err == nil {
		t.Error("still serving after shutdown")
	}
}

func intBytes(s string) []int {
	out := make([]int, len(s))
	for i := range len(s) {
		out[i] = int(s[i])
	}
	return out
}
