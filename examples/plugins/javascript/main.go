package main

import "github.com/swelego/swelego/sdk"

// Version is the plugin's version.
const Version = "0.1.0"

func main() {
	sdk.Serve(&sdk.Plugin{
		Name:        "javascript",
		Version:     Version,
		Description: "JavaScript language plugin: Node's built-in test runner (TAP), a token-level bug injector",
		LogParser:   LogParser{},
		Schemas:     map[sdk.Kind]sdk.Schema{sdk.KindLogParser: {}},
	})
}
