package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/swelego/swelego/core/backend/cpu"
	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/infer"
	"github.com/swelego/swelego/core/serve"
)

type serveFlags struct {
	checkpoint, addr, name, tokenizer, template string
	threads, maxBatch, contextLen               int
	verbose                                     bool
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve --checkpoint DIR",
		Short: "Serve a checkpoint as an OpenAI-compatible chat-completions endpoint on the CPU",
		Long: `serve loads a model folder (the sft stage's sft.NAME/model, or any Hugging Face Qwen3
folder) and answers OpenAI's GET /v1/models and POST /v1/chat/completions: messages are
rendered with the chat template the model was trained with and tokenized with its
tokenizer (as the folder's swelego.json says; --tokenizer and --template override),
concurrent requests are decoded together in one batch over per-request KV caches,
with temperature, top_p, seed, stop, max_tokens, streaming, logprobs and
top_logprobs; the template's text function calls come back as tool_calls.
GET /stats shows the engine's counters. SIGINT or SIGTERM stop it after the
requests in progress.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runServe(ctx, f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.checkpoint, "checkpoint", "", "model folder to serve (required)")
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fl.StringVar(&f.name, "name", "", "model id clients ask for (default the folder's name)")
	fl.StringVar(&f.tokenizer, "tokenizer", "", "tokenizer: a built-in encoding or a tokenizer folder (default from swelego.json)")
	fl.StringVar(&f.template, "template", "", "chat template: qwen3 or openhands (default from swelego.json)")
	fl.IntVar(&f.threads, "threads", 0, "compute threads (default all cores)")
	fl.IntVar(&f.maxBatch, "max-batch", 16, "requests decoded together at most")
	fl.IntVar(&f.contextLen, "context", 0, "longest sequence, prompt and completion (default the model's max_position_embeddings)")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "log every decoding step")
	cmd.MarkFlagRequired("checkpoint")
	return cmd
}

func runServe(ctx context.Context, f serveFlags, stdout, stderr io.Writer) error {
	level := slog.LevelInfo
	if f.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(engine.NewLogHandler(stderr, logFormat, level))
	be := cpu.New(f.threads)
	defer be.Close()
	ck, err := serve.Load(ctx, f.checkpoint, be, serve.LoadOptions{Tokenizer: f.tokenizer, Template: f.template})
	if err != nil {
		return err
	}
	srv, err := serve.New(ck, serve.Options{Name: f.name, Logger: log,
		Engine: infer.Options{MaxBatch: f.maxBatch, ContextLen: f.contextLen}})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return err
	}
	// The line a script waits for: where to send requests.
	fmt.Fprintf(stdout, "serving %s on http://%s/v1 (template %s, tokenizer %s)\n", srv.Name(), ln.Addr(), ck.Template.Name(), ck.Tokenizer.Name())
	return srv.Serve(ctx, ln)
}
