package main

import (
	"fmt"
	"os"

	"github.com/swelego/swelego/sdk"
)

// Version is the plugin's version.
const Version = "0.1.0"

// New returns the plugin: one binary serving the language, its bug
// injector and its log parser.
func New() *sdk.Plugin {
	return &sdk.Plugin{
		Name:        "javascript",
		Version:     Version,
		Description: "JavaScript language plugin (third-party example): Node's built-in test runner read as TAP, a token-level bug injector",
		Language:    Language{},
		BugInjector: Injector{Warn: func(err error) { fmt.Fprintln(os.Stderr, "warning:", err) }},
		LogParser:   LogParser{},
		Schemas: map[sdk.Kind]sdk.Schema{
			sdk.KindBugInjector: InjectorSchema,
			sdk.KindLogParser:   {},
			sdk.KindLanguage:    {},
		},
	}
}

func main() {
	sdk.Serve(New())
}
