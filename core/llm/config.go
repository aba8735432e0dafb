package llm

import (
	"fmt"
	"time"

	"github.com/swelego/swelego/sdk"
)

// Providers a model block may name. This package serves ProviderOpenAI;
// the oracle test teacher lives in core/agent.
const (
	ProviderOpenAI = "openai"
	ProviderOracle = "oracle"
)

// Format is how tool calls travel between the agent and the model.
type Format string

// Tool-call formats.
const (
	// FormatNative uses the endpoint's own tools / tool_calls members.
	FormatNative Format = "native"
	// FormatOpenHands writes calls as OpenHands' text:
	// <function=NAME>\n<parameter=P>value</parameter>\n</function>.
	FormatOpenHands Format = "openhands"
	// FormatQwen writes calls as Qwen's text:
	// <tool_call>\n{"name": …, "arguments": {…}}\n</tool_call>.
	FormatQwen Format = "qwen"
)

// ParseFormat reads a format name; "" means FormatNative.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case "":
		return FormatNative, nil
	case FormatNative, FormatOpenHands, FormatQwen:
		return f, nil
	}
	return "", fmt.Errorf("unknown tool-call format %q (want native, openhands or qwen)", s)
}

// Defaults for the zero values of Config.
const (
	DefaultBaseURL    = "https://api.openai.com/v1"
	DefaultTimeout    = 10 * time.Minute
	DefaultMaxRetries = 4
)

// Config is a recipe's model block.
type Config struct {
	// Provider is "openai" (any OpenAI-compatible endpoint); "" means openai.
	Provider string
	// BaseURL is the API root, such as http://127.0.0.1:8000/v1; requests
	// go to BaseURL + "/chat/completions". "" means DefaultBaseURL.
	BaseURL string
	// Model is the model name sent when a request names none.
	Model string
	// APIKeyEnv names the environment variable holding the API key, sent as
	// "Authorization: Bearer …"; "" sends no key. The key itself never
	// appears in errors or logs.
	APIKeyEnv string
	// Temperature and MaxTokens are defaults for requests that set none.
	Temperature *float64
	MaxTokens   int
	// Timeout bounds one attempt (connect to last byte); 0 means
	// DefaultTimeout. The context bounds the whole call, retries included.
	Timeout time.Duration
	// MaxRetries is how many times a failed attempt (429, 5xx, connection
	// error, timeout) is retried; 0 means DefaultMaxRetries, negative means
	// never.
	MaxRetries int
	// Format is how tool calls travel; "" means FormatNative.
	Format Format
}

// New returns the model a Config describes: a Client, wrapped in
// WithTextFormat when Format is a text format.
func New(cfg Config, opts ...Option) (sdk.Model, error) {
	switch cfg.Provider {
	case "", ProviderOpenAI:
	default:
		return nil, fmt.Errorf("%w: %q (this client serves %q)", ErrProvider, cfg.Provider, ProviderOpenAI)
	}
	format, err := ParseFormat(string(cfg.Format))
	if err != nil {
		return nil, err
	}
	c, err := NewClient(cfg, opts...)
	if err != nil {
		return nil, err
	}
	if format == FormatNative {
		return c, nil
	}
	return WithTextFormat(c, format), nil
}
