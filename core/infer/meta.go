package infer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// MetaFile is the file in a published model folder that says how the
// model reads its input.
const MetaFile = "swelego.json"

// MetaOwnTokenizer as Meta.Tokenizer means the folder's own tokenizer
// files (tokenizer.json …).
const MetaOwnTokenizer = "."

// Meta is what a model folder's swelego.json holds: the tokenizer and chat
// template the model was trained with, which a Hugging Face folder does
// not say (a built-in tokenizer has no files).
type Meta struct {
	// Tokenizer is a built-in encoding's name (cl100k_base) or
	// MetaOwnTokenizer.
	Tokenizer string `json:"tokenizer"`
	// Template is the chat template's name (qwen3, openhands).
	Template string `json:"template"`
}

// WriteMeta writes dir's swelego.json.
func WriteMeta(dir string, m Meta) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, MetaFile), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write model metadata: %w", err)
	}
	return nil
}

// ReadMeta reads dir's swelego.json; the error wraps os.ErrNotExist when
// the folder has none.
func ReadMeta(dir string) (Meta, error) {
	path := filepath.Join(dir, MetaFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return Meta{}, fmt.Errorf("read model metadata: %w", err)
	}
	var m Meta
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Meta{}, fmt.Errorf("%s: %w", path, err)
	}
	if m.Tokenizer == "" || m.Template == "" {
		return Meta{}, fmt.Errorf("%s: %w", path, errors.New("tokenizer and template are required"))
	}
	return m, nil
}
