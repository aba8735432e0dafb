// Command swelego-plugin-swetools serves the swetools tool set as a
// standalone plugin binary. swelego also serves it from its own binary
// (`swelego plugin serve swetools`); this build is for installing it apart.
package main

import (
	"github.com/swelego/swelego/plugins/swetools"
	"github.com/swelego/swelego/sdk"
)

func main() {
	sdk.Serve(swetools.New())
}
