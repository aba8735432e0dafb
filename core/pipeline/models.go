package pipeline

import (
	"fmt"
	"io"
	"strings"

	"github.com/swelego/swelego/hcl"
	"github.com/swelego/swelego/sdk"
)

// endpoint makes the client of a model block whose provider is an
// OpenAI-compatible endpoint.
func (s *stageBase) endpoint(b *hcl.Block) (sdk.Model, string, error) {
	return nil, "", fmt.Errorf("%s: provider %q is not available in this build", b.Address, b.String("provider"))
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }
