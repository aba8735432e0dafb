// Command swelego-plugin-errormask serves the errormask loss masker as a
// standalone plugin binary. swelego also serves it from its own binary
// (`swelego plugin serve errormask`); this build is for installing it apart.
package main

import (
	"github.com/swelego/swelego/plugins/errormask"
	"github.com/swelego/swelego/sdk"
)

func main() {
	sdk.Serve(errormask.New())
}
