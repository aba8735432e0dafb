package serve

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/swelego/swelego/core/chattemplate"
	"github.com/swelego/swelego/core/infer"
	"github.com/swelego/swelego/core/llm"
	"github.com/swelego/swelego/sdk"
)

// Options configures a Server.
type Options struct {
	// Name is the model id clients ask for (default the folder's name).
	Name string
	// Engine configures batching; its EndTokens are filled in from the
	// tokenizer.
	Engine infer.Options
	// MaxBodyBytes caps a request body (default 64 MiB).
	MaxBodyBytes int64
	Logger       *slog.Logger
}

// Server answers the OpenAI protocol for one checkpoint.
type Server struct {
	ck      *Checkpoint
	eng     *infer.Engine
	name    string
	format  llm.Format
	created int64
	maxBody int64
	log     *slog.Logger
	mux     *http.ServeMux
}

// New makes a server for a loaded checkpoint. Its engine decodes once Run
// or Serve runs.
func New(ck *Checkpoint, opts Options) (*Server, error) {
	if opts.Name == "" {
		opts.Name = filepath.Base(ck.Dir)
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 64 << 20
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	// The template's special tokens must be the tokenizer's.
	probe, err := chattemplate.Prompt(ck.Template, chattemplate.Conversation{Messages: []sdk.Message{{Role: "user", Content: "hi"}}})
	if err == nil {
		_, err = chattemplate.Encode(ck.Tokenizer, probe)
	}
	if err != nil {
		return nil, fmt.Errorf("template %s with tokenizer %s: %w", ck.Template.Name(), ck.Tokenizer.Name(), err)
	}
	eo := opts.Engine
	eo.EndTokens = nil
	for _, s := range []string{chattemplate.EndOfTurn, "<|endoftext|>"} {
		if id, ok := ck.Tokenizer.Special(s); ok {
			eo.EndTokens = append(eo.EndTokens, int32(id))
		}
	}
	if eo.Logger == nil {
		eo.Logger = opts.Logger
	}
	s := &Server{ck: ck, eng: infer.New(ck.Model, eo), name: opts.Name, created: time.Now().Unix(),
		maxBody: opts.MaxBodyBytes, log: opts.Logger, format: llm.FormatQwen}
	if ck.Template.Name() == "openhands" {
		s.format = llm.FormatOpenHands
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("/v1/chat/completions", s.only(http.MethodPost, s.chat))
	s.mux.HandleFunc("/v1/models", s.only(http.MethodGet, s.models))
	s.mux.HandleFunc("/v1/models/{id}", s.only(http.MethodGet, s.model))
	s.mux.HandleFunc("/stats", s.only(http.MethodGet, s.stats))
	s.mux.HandleFunc("/health", s.only(http.MethodGet, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		(&APIError{Status: http.StatusNotFound, Type: typeNotFound, Message: fmt.Sprintf("no route %s %s", r.Method, r.URL.Path)}).write(w)
	})
	return s, nil
}

// Name is the model id the server answers to.
func (s *Server) Name() string { return s.name }

// Engine is the server's inference engine (its Stats show batching).
func (s *Server) Engine() *infer.Engine { return s.eng }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Run runs the engine until ctx ends (Serve runs it itself).
func (s *Server) Run(ctx context.Context) error { return s.eng.Run(ctx) }

// Serve answers on ln until ctx ends, then stops taking connections,
// lets the requests in progress finish (up to 30 seconds) and stops the
// engine.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	engCtx, stopEngine := context.WithCancel(context.WithoutCancel(ctx))
	defer stopEngine()
	engDone := make(chan error, 1)
	go func() { engDone <- s.eng.Run(engCtx) }()
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		stopEngine()
		<-engDone
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing the requests in progress")
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := hs.Shutdown(shutCtx)
	stopEngine()
	<-engDone
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func (s *Server) only(method string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			w.Header().Set("Allow", method)
			(&APIError{Status: http.StatusMethodNotAllowed, Type: typeInvalid, Code: codeMethodNotAllow,
				Message: fmt.Sprintf("%s %s: use %s", r.Method, r.URL.Path, method)}).write(w)
			return
		}
		h(w, r)
	}
}

type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
	// MaxModelLen is the context length (vLLM's member).
	MaxModelLen int `json:"max_model_len"`
}

func (s *Server) modelObject() modelObject {
	return modelObject{ID: s.name, Object: "model", Created: s.created, OwnedBy: "swelego", MaxModelLen: s.eng.ContextLen()}
}

func (s *Server) models(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []modelObject{s.modelObject()}})
}

func (s *Server) model(w http.ResponseWriter, r *http.Request) {
	if id := r.PathValue("id"); id != s.name {
		s.unknownModel(id).write(w)
		return
	}
	writeJSON(w, http.StatusOK, s.modelObject())
}

func (s *Server) stats(w http.ResponseWriter, _ *http.Request) {
	st := s.eng.Stats()
	writeJSON(w, http.StatusOK, map[string]any{"steps": st.Steps, "batched_steps": st.Batched, "max_batch": st.MaxBatch,
		"requests": st.Requests, "tokens": st.Tokens, "pending": s.eng.Pending()})
}

func (s *Server) unknownModel(id string) *APIError {
	return &APIError{Status: http.StatusNotFound, Type: typeInvalid, Param: "model", Code: codeModelNotFound,
		Message: fmt.Sprintf("the model %q does not exist: this server serves %q", id, s.name)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return "chatcmpl-" + hex.EncodeToString(b[:])
}

// readBody reads a request body up to the server's limit.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *APIError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &APIError{Status: http.StatusRequestEntityTooLarge, Type: typeInvalid,
				Message: fmt.Sprintf("the request body is over %d bytes", s.maxBody)}
		}
		return nil, &APIError{Status: http.StatusBadRequest, Type: typeInvalid, Message: "reading the request body: " + err.Error()}
	}
	return body, nil
}
