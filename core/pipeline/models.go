package pipeline

import (
	"fmt"

	"github.com/swelego/swelego/core/llm"
	"github.com/swelego/swelego/hcl"
	"github.com/swelego/swelego/sdk"
)

// settingsOf returns a block's typed settings (hcl.Block.Settings), or an
// error naming the block when it has none of type T: a recipe loaded with
// errors, or a block of another type.
func settingsOf[T any](b *hcl.Block) (*T, error) {
	if b == nil {
		return nil, fmt.Errorf("no such block")
	}
	s, ok := b.Settings.(*T)
	if !ok || s == nil {
		var zero T
		return nil, fmt.Errorf("%s: no decoded %T settings (the recipe must load without errors)", b.Address, zero)
	}
	return s, nil
}

// modelBlock returns the recipe's model block at addr and its settings.
func (s *stageBase) modelBlock(addr string) (*hcl.Block, *hcl.Model, error) {
	b := s.recipe.Block(addr)
	if b == nil {
		return nil, nil, fmt.Errorf("%s: model %q is not in the recipe", s.block.Address, addr)
	}
	m, err := settingsOf[hcl.Model](b)
	return b, m, err
}

// endpoint makes the client of a model block whose provider is an
// OpenAI-compatible endpoint, and the name trajectories record for it.
func (s *stageBase) endpoint(b *hcl.Block) (sdk.Model, string, error) {
	mc, err := settingsOf[hcl.Model](b)
	if err != nil {
		return nil, "", err
	}
	cfg, err := LLMConfig(b.Address, mc)
	if err != nil {
		return nil, "", err
	}
	m, err := llm.New(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", b.Address, err)
	}
	name := cfg.Model
	if name == "" {
		name = b.Address
	}
	return m, name, nil
}

// LLMConfig turns a model block's settings into the client's
// configuration; address names the block in errors.
func LLMConfig(address string, m *hcl.Model) (llm.Config, error) {
	cfg := llm.Config{
		Provider:   m.Provider,
		BaseURL:    m.BaseURL,
		Model:      m.Name,
		APIKeyEnv:  m.APIKeyEnv,
		MaxTokens:  m.MaxTokens,
		MaxRetries: m.MaxRetries,
		Timeout:    m.Timeout,
	}
	if m.Temperature != nil {
		t := *m.Temperature
		cfg.Temperature = &t
	}
	f, err := llm.ParseFormat(m.Format)
	if err != nil {
		return cfg, fmt.Errorf("%s: %w", address, err)
	}
	cfg.Format = f
	return cfg, nil
}
