package main

import (
	"github.com/swelego/swelego/plugins/curriculum"
	"github.com/swelego/swelego/plugins/errormask"
	"github.com/swelego/swelego/plugins/github"
	"github.com/swelego/swelego/plugins/golang"
	"github.com/swelego/swelego/plugins/python"
	"github.com/swelego/swelego/plugins/swebench"
	"github.com/swelego/swelego/plugins/swetools"
	"github.com/swelego/swelego/plugins/verifiers"
	"github.com/swelego/swelego/sdk"
)

// builtins are the first-party plugins compiled into swelego. They still
// run out of process: the host re-executes this binary as
// `swelego plugin serve NAME`.
var builtins = map[string]func() *sdk.Plugin{
	"swebench":   swebench.New,
	"python":     python.New,
	"golang":     golang.New,
	"swetools":   swetools.New,
	"errormask":  errormask.New,
	"curriculum": curriculum.New,
	"github":     github.New,

	verifiers.NameGenerative: verifiers.NewGenerative,
	verifiers.NameTests:      verifiers.NewTests,
	verifiers.NameHybrid:     verifiers.NewHybrid,
}

// defaultLanguage is the language of tasks and environments that name
// none, as SWE-bench's tasks name none: core knows no language, so the
// binary that ships the first-party language plugins picks it.
const defaultLanguage = "python"

func pluginProtocol() int { return sdk.ProtocolVersion }
