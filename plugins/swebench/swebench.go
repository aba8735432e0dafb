package swebench

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/jsonl"
)

// Version is the plugin's version.
const Version = "0.1.0"

// Config is the `source "swebench" "NAME" { … }` block.
type Config struct {
	// Path of the instance file, relative to the recipe's directory.
	Path string `json:"path"`
	// InstanceIDs keeps only these instances when set.
	InstanceIDs []string `json:"instance_ids"`
	// Repos keeps only instances of these repositories when set.
	Repos []string `json:"repos"`
	// Limit stops after this many tasks when positive.
	Limit int `json:"limit"`
	// SkipInvalid logs and skips malformed records instead of failing.
	SkipInvalid bool `json:"skip_invalid"`
	// Source and PatchDirection fill the fields of records that lack them.
	Source         string `json:"source"`
	PatchDirection string `json:"patch_direction"`
}

// Schema is the configuration the task source accepts.
var Schema = sdk.Schema{Attributes: map[string]sdk.Attribute{
	"path":            {Type: sdk.TypeString, Required: true, Description: "SWE-bench instance file (.json, .jsonl, optionally .gz), relative to the recipe"},
	"instance_ids":    {Type: sdk.TypeStringList, Description: "keep only these instance ids"},
	"repos":           {Type: sdk.TypeStringList, Description: "keep only instances of these repositories (owner/name)"},
	"limit":           {Type: sdk.TypeNumber, Description: "stop after this many tasks"},
	"skip_invalid":    {Type: sdk.TypeBool, Description: "skip malformed records, and records that lack a field grading needs, with a warning instead of failing"},
	"source":          {Type: sdk.TypeString, Description: "source field for records without one (real or synthetic; default real)"},
	"patch_direction": {Type: sdk.TypeString, Description: "patch_direction for records without one (fix or introduce; default fix)"},
}}

// New returns the plugin: a task source, and the language "swebench" that
// runs and reads tests as SWE-bench (and SWE-smith) do.
func New() *sdk.Plugin {
	return &sdk.Plugin{
		Name:        "swebench",
		Version:     Version,
		Description: "reads SWE-bench / SWE-smith instance files (JSON or JSON Lines); the language \"swebench\": SWE-bench's test command and log parser per repository and version, SWE-smith's single test command",
		TaskSource:  Source{Warn: func(err error) { fmt.Fprintln(os.Stderr, "warning:", err) }},
		Language:    Language{},
		Schemas:     map[sdk.Kind]sdk.Schema{sdk.KindTaskSource: Schema, sdk.KindLanguage: {}},
	}
}

// Source reads tasks from a SWE-bench-format file.
type Source struct {
	// Warn receives skipped records when SkipInvalid is set.
	Warn func(error)
}

var _ sdk.TaskSource = Source{}

// Tasks sends the file's tasks in file order. A record that lacks what its
// kind of task needs to be graded (sdk.Task.CheckGradable: FAIL_TO_PASS;
// base_commit; test_patch for a real task whose patch is the fix) is an
// error naming the file, line and instance, or skipped with a warning under
// skip_invalid. source and patch_direction defaults apply first, so a file
// of SWE-smith tasks without test_patch loads with source = "synthetic" or
// patch_direction = "introduce".
func (s Source) Tasks(ctx context.Context, cfg sdk.Config, send func(sdk.Task) error) error {
	var c Config
	if err := cfg.Decode(&c); err != nil {
		return err
	}
	if c.Path == "" {
		return errors.New("swebench: path is required")
	}
	if err := checkChoice("source", c.Source, sdk.SourceReal, sdk.SourceSynthetic); err != nil {
		return err
	}
	if err := checkChoice("patch_direction", c.PatchDirection, sdk.PatchFixes, sdk.PatchIntroduces); err != nil {
		return err
	}
	f, err := os.Open(c.Path)
	if err != nil {
		return fmt.Errorf("swebench: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(c.Path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("swebench: %s: %w", c.Path, err)
		}
		defer gz.Close()
		r = gz
	}
	keepID := set(c.InstanceIDs)
	keepRepo := set(c.Repos)
	dec := jsonl.NewDecoder(r, c.Path)
	sent := 0
	for c.Limit <= 0 || sent < c.Limit {
		if err := ctx.Err(); err != nil {
			return err
		}
		var t sdk.Task
		err := dec.Next(&t)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err == nil && t.InstanceID == "" {
			err = &jsonl.Error{File: c.Path, Line: dec.Line(), Err: errors.New("record has no instance_id")}
		}
		if err != nil {
			var rec *jsonl.Error
			if c.SkipInvalid && errors.As(err, &rec) && s.Warn != nil {
				s.Warn(err)
				continue
			}
			return fmt.Errorf("swebench: %w", err)
		}
		if (keepID != nil && !keepID[t.InstanceID]) || (keepRepo != nil && !keepRepo[t.Repo]) {
			continue
		}
		if t.Source == "" {
			t.Source = or(c.Source, sdk.SourceReal)
		}
		if t.PatchDirection == "" {
			t.PatchDirection = or(c.PatchDirection, sdk.PatchFixes)
		}
		if err := t.CheckGradable(); err != nil {
			rerr := &jsonl.Error{File: c.Path, Line: dec.Line(), Err: err}
			if c.SkipInvalid && s.Warn != nil {
				s.Warn(rerr)
				continue
			}
			return fmt.Errorf("swebench: %w", rerr)
		}
		if err := send(t); err != nil {
			return err
		}
		sent++
	}
	return nil
}

func checkChoice(name, v string, allowed ...string) error {
	if v == "" {
		return nil
	}
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("swebench: %s = %q, want one of %s", name, v, strings.Join(allowed, ", "))
}

func set(items []string) map[string]bool {
	if len(items) == 0 {
		return nil
	}
	m := make(map[string]bool, len(items))
	for _, s := range items {
		m[s] = true
	}
	return m
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}
