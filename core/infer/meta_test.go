package infer

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestMeta(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadMeta(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("no file: %v, want os.ErrNotExist", err)
	}
	want := Meta{Tokenizer: "cl100k_base", Template: "openhands"}
	if err := WriteMeta(dir, want); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadMeta(dir); err != nil || got != want {
		t.Errorf("read back %+v, %v", got, err)
	}
	for name, body := range map[string]string{
		"not JSON":      `{`,
		"unknown field": `{"tokenizer":".","template":"qwen3","chat":"x"}`,
		"no template":   `{"tokenizer":"."}`,
	} {
		if err := os.WriteFile(filepath.Join(dir, MetaFile), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadMeta(dir); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
