package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

// calls invokes one method of each kind.
var calls = []struct {
	name string
	call func(c *sdk.Client) error
}{
	{"task source", func(c *sdk.Client) error {
		return c.TaskSource().Tasks(context.Background(), nil, func(sdk.Task) error { return nil })
	}},
	{"bug injector", func(c *sdk.Client) error {
		return c.BugInjector().Mutations(context.Background(), sdk.InjectRequest{}, func(sdk.Mutation) error { return nil })
	}},
	{"tool set tools", func(c *sdk.Client) error {
		_, err := c.ToolSet().Tools(context.Background(), nil)
		return err
	}},
	{"tool set execute", func(c *sdk.Client) error {
		_, err := c.ToolSet().Execute(context.Background(), sdk.ToolRequest{Sandbox: newHostSandbox()})
		return err
	}},
	{"loss masker", func(c *sdk.Client) error {
		_, err := c.LossMasker().Mask(context.Background(), nil, trajectory())
		return err
	}},
	{"curriculum", func(c *sdk.Client) error {
		_, err := c.Curriculum().Stages(context.Background(), nil, nil)
		return err
	}},
	{"verifier", func(c *sdk.Client) error {
		_, err := c.Verifier().Verify(context.Background(), sdk.VerifyRequest{Model: &hostModel{}})
		return err
	}},
	{"verifier rank", func(c *sdk.Client) error {
		_, err := c.Verifier().(sdk.Ranker).Rank(context.Background(), sdk.RankRequest{Candidates: []sdk.RankCandidate{{Key: "a"}}})
		return err
	}},
	{"language describe", func(c *sdk.Client) error {
		_, err := c.Language().Describe(context.Background(), nil)
		return err
	}},
	{"language test command", func(c *sdk.Client) error {
		_, err := c.Language().TestCommand(context.Background(), nil, sdk.TestCommandRequest{Purpose: sdk.PurposeGrade})
		return err
	}},
	{"language parse test run", func(c *sdk.Client) error {
		_, err := c.Language().ParseTestRun(context.Background(), nil, sdk.TestRun{Output: "x"})
		return err
	}},
	{"language check command", func(c *sdk.Client) error {
		_, err := c.Language().CheckCommand(context.Background(), nil, sdk.CheckRequest{Files: []string{"a.x"}})
		return err
	}},
}

// TestImplementationErrors checks that an error of the implementation
// reaches the host with its text.
func TestImplementationErrors(t *testing.T) {
	c := sdktest.Connect(t, failing{err: fmt.Errorf("load dataset: %w", errBoom)}.plugin())
	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(c)
			if err == nil {
				t.Fatal("no error")
			}
			if want := "load dataset: boom: the implementation failed"; err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
			if errors.Is(err, sdk.ErrNotServed) || errors.Is(err, sdk.ErrNotLent) || errors.Is(err, context.Canceled) {
				t.Errorf("error %v matches a sentinel it should not", err)
			}
		})
	}
}

// TestNotServed checks the kinds a plugin does not implement.
func TestNotServed(t *testing.T) {
	c := sdktest.Connect(t, &sdk.Plugin{Name: "empty"})
	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(c)
			if !errors.Is(err, sdk.ErrNotServed) {
				t.Fatalf("error %v does not wrap sdk.ErrNotServed", err)
			}
			if !strings.HasPrefix(err.Error(), `plugin "empty" does not serve `) {
				t.Errorf("error text %q", err)
			}
		})
	}
	t.Run("config schema", func(t *testing.T) {
		if _, err := c.ConfigSchema(context.Background(), sdk.KindVerifier); !errors.Is(err, sdk.ErrNotServed) {
			t.Errorf("schema of a kind not served: %v", err)
		}
		_, err := c.ConfigSchema(context.Background(), "no_such_kind")
		if err == nil || err.Error() != `unknown plugin kind "no_such_kind"` {
			t.Errorf("schema of an unknown kind: %v", err)
		}
	})
}

// panicky is a verifier with a bug.
type panicky struct{}

func (panicky) Verify(ctx context.Context, req sdk.VerifyRequest) (sdk.Score, error) {
	var m map[string]int
	m["x"]++
	return sdk.Score{}, nil
}

// TestPanicBecomesError checks that a panicking implementation fails its
// call and leaves the plugin serving.
func TestPanicBecomesError(t *testing.T) {
	c := sdktest.Connect(t, &sdk.Plugin{Name: "panicky", Verifier: panicky{}})
	_, err := c.Verifier().Verify(context.Background(), sdk.VerifyRequest{})
	if err == nil || !strings.Contains(err.Error(), "panic: assignment to entry in nil map") {
		t.Fatalf("error %v, want the panic", err)
	}
	if _, err := c.Info(context.Background()); err != nil {
		t.Fatalf("plugin stopped serving after a panic: %v", err)
	}
}
