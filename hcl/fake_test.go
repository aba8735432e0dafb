package hcl

import (
	"context"
	"fmt"
	"sync"

	"github.com/swelego/swelego/sdk"
)

// fakeSchemas serves the schemas of a few made-up plugins, as a plugin host
// would after starting them, and counts the calls.
type fakeSchemas struct {
	mu    sync.Mutex
	calls map[string]int
}

var fakePlugins = map[string]map[sdk.Kind]sdk.Schema{
	"swebench": {sdk.KindTaskSource: {Attributes: map[string]sdk.Attribute{
		"path":  {Type: sdk.TypeString, Required: true},
		"split": {Type: sdk.TypeString},
		"limit": {Type: sdk.TypeNumber},
	}}},
	"github": {sdk.KindTaskSource: {
		Attributes: map[string]sdk.Attribute{"repo": {Type: sdk.TypeString, Required: true}},
		Blocks: map[string]sdk.BlockType{
			"filter": {Nesting: sdk.NestingSingle, Schema: sdk.Schema{Attributes: map[string]sdk.Attribute{
				"labels": {Type: sdk.TypeStringList},
			}}},
			"query": {Nesting: sdk.NestingList, Schema: sdk.Schema{Attributes: map[string]sdk.Attribute{
				"q": {Type: sdk.TypeString, Required: true},
			}}},
			"extra": {Nesting: sdk.NestingMap, Schema: sdk.Schema{Attributes: map[string]sdk.Attribute{
				"value": {Type: sdk.TypeAny},
			}}},
		},
	}},
	"generative": {sdk.KindVerifier: {Attributes: map[string]sdk.Attribute{
		"threshold": {Type: sdk.TypeNumber},
	}}},
	"swetools": {sdk.KindToolSet: {Attributes: map[string]sdk.Attribute{
		"timeout": {Type: sdk.TypeNumber},
		"tools":   {Type: sdk.TypeStringList},
	}}},
	"ast": {sdk.KindBugInjector: {Attributes: map[string]sdk.Attribute{
		"rules": {Type: sdk.TypeStringList},
		"seed":  {Type: sdk.TypeNumber},
	}}},
	"badschema": {sdk.KindTaskSource: {Attributes: map[string]sdk.Attribute{
		"x": {Type: []any{"nonsense"}},
	}}},
}

func (f *fakeSchemas) ConfigSchema(_ context.Context, plugin string, kind sdk.Kind) (sdk.Schema, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[plugin+"/"+string(kind)]++
	f.mu.Unlock()
	if plugin == "oldproto" {
		return sdk.Schema{}, fmt.Errorf("plugin %q speaks plugin protocol version 0, but this swelego speaks version %d: rebuild the plugin against a newer sdk", plugin, sdk.ProtocolVersion)
	}
	kinds, ok := fakePlugins[plugin]
	if !ok {
		return sdk.Schema{}, fmt.Errorf("plugin %q not found: no swelego-plugin-%s in $SWELEGO_PLUGIN_PATH, ./.swelego/plugins or $XDG_DATA_HOME/swelego/plugins", plugin, plugin)
	}
	s, ok := kinds[kind]
	if !ok {
		return sdk.Schema{}, fmt.Errorf("plugin %q does not serve %s", plugin, kind)
	}
	return s, nil
}
