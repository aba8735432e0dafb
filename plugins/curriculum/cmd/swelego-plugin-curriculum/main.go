// Command swelego-plugin-curriculum serves the curriculum plugin as a
// standalone plugin binary. swelego also serves it from its own binary
// (`swelego plugin serve curriculum`); this build is for installing it apart.
package main

import (
	"github.com/swelego/swelego/plugins/curriculum"
	"github.com/swelego/swelego/sdk"
)

func main() {
	sdk.Serve(curriculum.New())
}
