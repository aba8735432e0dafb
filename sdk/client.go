package sdk

import (
	"context"

	"google.golang.org/grpc"

	pb "github.com/swelego/swelego/sdk/internal/pb/pluginv1"
)

// Client is the host's handle on one plugin binary. go-plugin's Dispense
// with DispenseName returns it (see PluginSets), and sdktest.Connect returns
// one for a plugin served in-process. Its accessors return gRPC-backed
// implementations of the plugin kind interfaces; calling a kind the plugin
// does not serve fails with an error wrapping ErrNotServed.
//
// Calls that take a Sandbox or Model lend it to the plugin for the length of
// the call. Errors keep the plugin's text; errors.Is matches
// context.Canceled, context.DeadlineExceeded, ErrNotLent and ErrNotServed.
type Client struct {
	lender *lender
	base   pb.PluginServiceClient
	tasks  pb.TaskSourceClient
	inject pb.BugInjectorClient
	tools  pb.ToolSetClient
	mask   pb.LossMaskerClient
	curric pb.CurriculumClient
	verify pb.VerifierClient
	parse  pb.LogParserClient
	lang   pb.LanguageClient
}

func newClient(conn *grpc.ClientConn, l *lender) *Client {
	return &Client{
		lender: l,
		base:   pb.NewPluginServiceClient(conn),
		tasks:  pb.NewTaskSourceClient(conn),
		inject: pb.NewBugInjectorClient(conn),
		tools:  pb.NewToolSetClient(conn),
		mask:   pb.NewLossMaskerClient(conn),
		curric: pb.NewCurriculumClient(conn),
		verify: pb.NewVerifierClient(conn),
		parse:  pb.NewLogParserClient(conn),
		lang:   pb.NewLanguageClient(conn),
	}
}

// Info asks the plugin for its name, version, protocol versions and kinds.
func (c *Client) Info(ctx context.Context) (Info, error) {
	resp, err := c.base.Info(ctx, &pb.InfoRequest{})
	if err != nil {
		return Info{}, fromStatus(err)
	}
	return infoFromProto(resp.GetInfo()), nil
}

// ConfigSchema asks the plugin for the configuration schema of kind k.
func (c *Client) ConfigSchema(ctx context.Context, k Kind) (Schema, error) {
	resp, err := c.base.ConfigSchema(ctx, &pb.ConfigSchemaRequest{Kind: string(k)})
	if err != nil {
		return Schema{}, fromStatus(err)
	}
	return schemaFromJSON(resp.GetSchemaJson())
}

// TaskSource returns the plugin's task source.
func (c *Client) TaskSource() TaskSource { return taskSourceClient{c} }

// BugInjector returns the plugin's bug injector.
func (c *Client) BugInjector() BugInjector { return bugInjectorClient{c} }

// ToolSet returns the plugin's tool set.
func (c *Client) ToolSet() ToolSet { return toolSetClient{c} }

// LogParser returns the plugin's test-log parser.
func (c *Client) LogParser() LogParser { return logParserClient{c} }

// Language returns the plugin's language. Its answers are checked
// against the kind's contract (CheckLanguageSpec, CheckTestReport); an
// answer that breaks it is an error wrapping ErrContract.
func (c *Client) Language() Language { return languageClient{c} }

// LossMasker returns the plugin's loss masker.
func (c *Client) LossMasker() LossMasker { return lossMaskerClient{c} }

// Curriculum returns the plugin's curriculum.
func (c *Client) Curriculum() Curriculum { return curriculumClient{c} }

// Verifier returns the plugin's verifier. The value also implements
// Ranker; its Rank returns an error matching ErrNotServed when the plugin's
// verifier does not rank.
func (c *Client) Verifier() Verifier { return verifierClient{c} }
