// Command swelego-plugin-github serves the github task source as a
// standalone plugin binary. swelego also serves it from its own binary
// (`swelego plugin serve github`); this build is for installing it apart.
package main

import (
	"github.com/swelego/swelego/plugins/github"
	"github.com/swelego/swelego/sdk"
)

func main() {
	sdk.Serve(github.New())
}
