package sdk

import (
	"context"
	"encoding/json"
	"fmt"

	pb "github.com/swelego/swelego/sdk/internal/pb/pluginv1"
)

// This file is the host side of the language kind. Requests and answers
// travel as the sdk types' JSON; answers are checked against the kind's
// contract before the host sees them.

type languageClient struct{ c *Client }

func (k languageClient) Describe(ctx context.Context, cfg Config) (LanguageSpec, error) {
	resp, err := k.c.lang.Describe(ctx, &pb.DescribeRequest{ConfigJson: cfg})
	if err != nil {
		return LanguageSpec{}, fromStatus(err)
	}
	var spec LanguageSpec
	if err := decodeAnswer("language spec", resp.GetSpecJson(), &spec); err != nil {
		return LanguageSpec{}, err
	}
	if err := CheckLanguageSpec(spec); err != nil {
		return LanguageSpec{}, err
	}
	return spec, nil
}

func (k languageClient) TestCommand(ctx context.Context, cfg Config, req TestCommandRequest) (TestCommand, error) {
	in, err := json.Marshal(req)
	if err != nil {
		return TestCommand{}, fmt.Errorf("encode test command request: %w", err)
	}
	resp, err := k.c.lang.TestCommand(ctx, &pb.TestCommandRequest{ConfigJson: cfg, RequestJson: in})
	if err != nil {
		return TestCommand{}, fromStatus(err)
	}
	var cmd TestCommand
	if err := decodeAnswer("test command", resp.GetCommandJson(), &cmd); err != nil {
		return TestCommand{}, err
	}
	if err := CheckTestCommand(req, cmd); err != nil {
		return TestCommand{}, err
	}
	return cmd, nil
}

func (k languageClient) ParseTestRun(ctx context.Context, cfg Config, run TestRun) (TestReport, error) {
	in, err := json.Marshal(run)
	if err != nil {
		return TestReport{}, fmt.Errorf("encode test run: %w", err)
	}
	resp, err := k.c.lang.ParseTestRun(ctx, &pb.ParseTestRunRequest{ConfigJson: cfg, RunJson: in})
	if err != nil {
		return TestReport{}, fromStatus(err)
	}
	var rep TestReport
	if err := decodeAnswer("test report", resp.GetReportJson(), &rep); err != nil {
		return TestReport{}, err
	}
	if rep.Statuses == nil {
		rep.Statuses = map[string]TestStatus{}
	}
	if err := CheckTestReport(rep); err != nil {
		return TestReport{}, err
	}
	return rep, nil
}

func (k languageClient) CheckCommand(ctx context.Context, cfg Config, req CheckRequest) (string, error) {
	in, err := json.Marshal(req)
	if err != nil {
		return "", fmt.Errorf("encode check request: %w", err)
	}
	resp, err := k.c.lang.CheckCommand(ctx, &pb.CheckCommandRequest{ConfigJson: cfg, RequestJson: in})
	if err != nil {
		return "", fromStatus(err)
	}
	return resp.GetCommand(), nil
}

// decodeAnswer decodes a plugin's JSON answer; one that does not decode
// breaks the contract.
func decodeAnswer(what string, b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: decode %s: %v", ErrContract, what, err)
	}
	return nil
}
