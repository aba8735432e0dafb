// Command swelego-plugin-verifier-hybrid serves the hybrid verifier as a
// standalone plugin binary. swelego also serves it from its own binary
// (`swelego plugin serve verifier-hybrid`); this build is for installing it
// apart.
package main

import (
	"github.com/swelego/swelego/plugins/verifiers"
	"github.com/swelego/swelego/sdk"
)

func main() {
	sdk.Serve(verifiers.NewHybrid())
}
