// Command swelego-plugin-verifier-tests serves the tests verifier as a
// standalone plugin binary. swelego also serves it from its own binary
// (`swelego plugin serve verifier-tests`); this build is for installing it
// apart.
package main

import (
	"github.com/swelego/swelego/plugins/verifiers"
	"github.com/swelego/swelego/sdk"
)

func main() {
	sdk.Serve(verifiers.NewTests())
}
