package serve

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/swelego/swelego/core/backend"
	"github.com/swelego/swelego/core/chattemplate"
	"github.com/swelego/swelego/core/infer"
	"github.com/swelego/swelego/core/model"
	"github.com/swelego/swelego/core/tokenizer"
)

// Checkpoint is a model folder loaded for serving: the weights, the
// tokenizer and the chat template it was trained with.
type Checkpoint struct {
	Dir       string
	Model     *model.Model
	Tokenizer tokenizer.Tokenizer
	Template  chattemplate.Template
}

// LoadOptions override what a model folder's swelego.json says.
type LoadOptions struct {
	// Tokenizer is a built-in encoding or a tokenizer folder.
	Tokenizer string
	// Template is a chat template name.
	Template string
}

// Load reads a model folder as the sft stage publishes it (Hugging Face
// layout plus infer.MetaFile). Without a swelego.json, the options must
// name the template, and the tokenizer is the folder's own unless named.
func Load(ctx context.Context, dir string, be backend.Backend, opts LoadOptions) (*Checkpoint, error) {
	meta, err := infer.ReadMeta(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if opts.Tokenizer != "" {
		meta.Tokenizer = opts.Tokenizer
	}
	if opts.Template != "" {
		meta.Template = opts.Template
	}
	if meta.Template == "" {
		return nil, fmt.Errorf("%s has no %s saying which chat template the model was trained with: name one (--template)", dir, infer.MetaFile)
	}
	tokSpec := meta.Tokenizer
	if tokSpec == "" || tokSpec == infer.MetaOwnTokenizer {
		tokSpec = dir
	}
	tok, err := tokenizer.Load(ctx, tokSpec)
	if err != nil {
		return nil, err
	}
	tmpl, err := chattemplate.Get(meta.Template)
	if err != nil {
		return nil, err
	}
	m, err := model.Load(ctx, dir, be)
	if err != nil {
		return nil, err
	}
	if v := tok.VocabSize(); v > m.Config.VocabSize {
		return nil, fmt.Errorf("tokenizer %s has %d ids but the model's vocabulary has %d", tok.Name(), v, m.Config.VocabSize)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return &Checkpoint{Dir: abs, Model: m, Tokenizer: tok, Template: tmpl}, nil
}
