package pipeline

import (
	"fmt"
	"time"

	"github.com/swelego/swelego/core/llm"
	"github.com/swelego/swelego/hcl"
	"github.com/swelego/swelego/sdk"
)

// endpoint makes the client of a model block whose provider is an
// OpenAI-compatible endpoint, and the name trajectories record for it.
func (s *stageBase) endpoint(b *hcl.Block) (sdk.Model, string, error) {
	cfg, err := LLMConfig(b)
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

// LLMConfig reads a model block into the client's configuration.
func LLMConfig(b *hcl.Block) (llm.Config, error) {
	cfg := llm.Config{
		Provider:   b.String("provider"),
		BaseURL:    b.String("base_url"),
		Model:      b.String("name"),
		APIKeyEnv:  b.String("api_key_env"),
		MaxTokens:  b.Int("max_tokens", 0),
		MaxRetries: b.Int("max_retries", 0),
	}
	if t := b.Attr("temperature"); !t.IsNull() {
		f, _ := t.AsBigFloat().Float64()
		cfg.Temperature = &f
	}
	if v := b.String("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return cfg, fmt.Errorf("%s: timeout: %w", b.Address, err)
		}
		cfg.Timeout = d
	}
	f, err := llm.ParseFormat(b.String("format"))
	if err != nil {
		return cfg, fmt.Errorf("%s: %w", b.Address, err)
	}
	cfg.Format = f
	return cfg, nil
}
