// Command swelego-plugin-swebench serves the swebench task source and the
// swebench language as a standalone plugin binary. swelego also serves it
// from its own binary (`swelego plugin serve swebench`); this build is for
// installing it apart.
package main

import (
	"github.com/swelego/swelego/plugins/swebench"
	"github.com/swelego/swelego/sdk"
)

func main() {
	sdk.Serve(swebench.New())
}
