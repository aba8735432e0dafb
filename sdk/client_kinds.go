package sdk

import (
	"context"
	"errors"
	"io"

	pb "github.com/swelego/swelego/sdk/internal/pb/pluginv1"
)

// This file is the host side of each plugin kind: the sdk interface
// implemented by a gRPC call. Streams deliver items as they arrive and are
// cancelled when the send callback returns an error.

var (
	_ TaskSource  = taskSourceClient{}
	_ BugInjector = bugInjectorClient{}
	_ ToolSet     = toolSetClient{}
	_ LossMasker  = lossMaskerClient{}
	_ LogParser   = logParserClient{}
	_ Language    = languageClient{}
	_ Curriculum  = curriculumClient{}
	_ Verifier    = verifierClient{}
	_ Ranker      = verifierClient{}
)

type taskSourceClient struct{ c *Client }

func (k taskSourceClient) Tasks(ctx context.Context, cfg Config, send func(Task) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := k.c.tasks.Tasks(ctx, &pb.TasksRequest{ConfigJson: cfg})
	if err != nil {
		return fromStatus(err)
	}
	return receive(stream.Recv, func(r *pb.TasksResponse) error {
		t, err := taskFromJSON(r.GetTaskJson())
		if err != nil {
			return err
		}
		return send(t)
	})
}

type bugInjectorClient struct{ c *Client }

func (k bugInjectorClient) Mutations(ctx context.Context, req InjectRequest, send func(Mutation) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lent := k.c.lender.lend(req.Sandbox, req.Model)
	defer lent.release()
	stream, err := k.c.inject.Mutations(ctx, &pb.MutationsRequest{
		ConfigJson:      req.Config,
		Repo:            req.Repo,
		Language:        req.Language,
		SandboxBrokerId: lent.sandboxID,
		ModelBrokerId:   lent.modelID,
	})
	if err != nil {
		return fromStatus(err)
	}
	return receive(stream.Recv, func(r *pb.MutationsResponse) error {
		m, err := mutationFromJSON(r.GetMutationJson())
		if err != nil {
			return err
		}
		return send(m)
	})
}

// receive reads a server stream to its end, handing each message to
// handle; it returns handle's first error as it is. The caller cancels the
// stream's context on return, which stops the plugin's side.
func receive[M any](recv func() (*M, error), handle func(*M) error) error {
	for {
		m, err := recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fromStatus(err)
		}
		if err := handle(m); err != nil {
			return err
		}
	}
}

type toolSetClient struct{ c *Client }

func (k toolSetClient) Tools(ctx context.Context, cfg Config) ([]ToolSchema, error) {
	resp, err := k.c.tools.Tools(ctx, &pb.ToolsRequest{ConfigJson: cfg})
	if err != nil {
		return nil, fromStatus(err)
	}
	return toolSchemasFromProto(resp.GetTools()), nil
}

func (k toolSetClient) Execute(ctx context.Context, req ToolRequest) (ToolResult, error) {
	lent := k.c.lender.lend(req.Sandbox, nil)
	defer lent.release()
	resp, err := k.c.tools.Execute(ctx, &pb.ExecuteRequest{
		ConfigJson:      req.Config,
		Call:            toolCallToProto(req.Call),
		SandboxBrokerId: lent.sandboxID,
	})
	if err != nil {
		return ToolResult{}, fromStatus(err)
	}
	return toolResultFromProto(resp.GetResult()), nil
}

type logParserClient struct{ c *Client }

func (k logParserClient) ParseLog(ctx context.Context, cfg Config, log string) (map[string]TestStatus, error) {
	resp, err := k.c.parse.ParseLog(ctx, &pb.ParseLogRequest{ConfigJson: cfg, Log: log})
	if err != nil {
		return nil, fromStatus(err)
	}
	out := make(map[string]TestStatus, len(resp.GetStatuses()))
	for id, st := range resp.GetStatuses() {
		out[id] = TestStatus(st)
	}
	return out, nil
}

type lossMaskerClient struct{ c *Client }

func (k lossMaskerClient) Mask(ctx context.Context, cfg Config, t Trajectory) ([]LossWeight, error) {
	traj, err := trajectoryToJSON(t)
	if err != nil {
		return nil, err
	}
	resp, err := k.c.mask.Mask(ctx, &pb.MaskRequest{ConfigJson: cfg, TrajectoryJson: traj})
	if err != nil {
		return nil, fromStatus(err)
	}
	return lossWeightsFromProto(resp.GetWeights()), nil
}

type curriculumClient struct{ c *Client }

func (k curriculumClient) Stages(ctx context.Context, cfg Config, stats []TrajectoryStats) ([]CurriculumStage, error) {
	resp, err := k.c.curric.Stages(ctx, &pb.StagesRequest{ConfigJson: cfg, Stats: statsToProto(stats)})
	if err != nil {
		return nil, fromStatus(err)
	}
	return stagesFromProto(resp.GetStages()), nil
}

type verifierClient struct{ c *Client }

func (k verifierClient) Verify(ctx context.Context, req VerifyRequest) (Score, error) {
	in, err := verifyRequestToProto(req)
	if err != nil {
		return Score{}, err
	}
	lent := k.c.lender.lend(req.Sandbox, req.Model)
	defer lent.release()
	in.SandboxBrokerId, in.ModelBrokerId = lent.sandboxID, lent.modelID
	resp, err := k.c.verify.Verify(ctx, in)
	if err != nil {
		return Score{}, fromStatus(err)
	}
	return scoreFromProto(resp.GetScore()), nil
}

// Rank asks the plugin's verifier to rank the candidates of a task; the
// error matches ErrNotServed when it does not rank, and wraps ErrContract
// when its answer breaks Ranker's contract (CheckRanking).
func (k verifierClient) Rank(ctx context.Context, req RankRequest) (map[string]float64, error) {
	in, err := rankRequestToProto(req)
	if err != nil {
		return nil, err
	}
	resp, err := k.c.verify.Rank(ctx, in)
	if err != nil {
		return nil, fromStatus(err)
	}
	scores := resp.GetScores()
	if scores == nil {
		scores = map[string]float64{}
	}
	if err := CheckRanking(req, scores); err != nil {
		return nil, err
	}
	return scores, nil
}
