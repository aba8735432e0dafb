package sdk

import (
	"context"
	"encoding/json"
	"fmt"

	pb "github.com/swelego/swelego/sdk/internal/pb/pluginv1"
)

// This file is the plugin side of the language kind.

type languageServer struct {
	pb.UnimplementedLanguageServer
	name string
	impl Language
}

func (s *languageServer) Describe(ctx context.Context, req *pb.DescribeRequest) (*pb.DescribeResponse, error) {
	if s.impl == nil {
		return nil, notServed(s.name, KindLanguage)
	}
	spec, err := s.impl.Describe(ctx, configFromProto(req.GetConfigJson()))
	if err != nil {
		return nil, toStatus(err)
	}
	b, err := encodeAnswer("language spec", spec)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.DescribeResponse{SpecJson: b}, nil
}

func (s *languageServer) TestCommand(ctx context.Context, req *pb.TestCommandRequest) (*pb.TestCommandResponse, error) {
	if s.impl == nil {
		return nil, notServed(s.name, KindLanguage)
	}
	var in TestCommandRequest
	if err := json.Unmarshal(req.GetRequestJson(), &in); err != nil {
		return nil, invalidArgument(fmt.Errorf("decode test command request: %w", err))
	}
	cmd, err := s.impl.TestCommand(ctx, configFromProto(req.GetConfigJson()), in)
	if err != nil {
		return nil, toStatus(err)
	}
	b, err := encodeAnswer("test command", cmd)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.TestCommandResponse{CommandJson: b}, nil
}

func (s *languageServer) ParseTestRun(ctx context.Context, req *pb.ParseTestRunRequest) (*pb.ParseTestRunResponse, error) {
	if s.impl == nil {
		return nil, notServed(s.name, KindLanguage)
	}
	var run TestRun
	if err := json.Unmarshal(req.GetRunJson(), &run); err != nil {
		return nil, invalidArgument(fmt.Errorf("decode test run: %w", err))
	}
	rep, err := s.impl.ParseTestRun(ctx, configFromProto(req.GetConfigJson()), run)
	if err != nil {
		return nil, toStatus(err)
	}
	b, err := encodeAnswer("test report", rep)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.ParseTestRunResponse{ReportJson: b}, nil
}

func (s *languageServer) CheckCommand(ctx context.Context, req *pb.CheckCommandRequest) (*pb.CheckCommandResponse, error) {
	if s.impl == nil {
		return nil, notServed(s.name, KindLanguage)
	}
	var in CheckRequest
	if err := json.Unmarshal(req.GetRequestJson(), &in); err != nil {
		return nil, invalidArgument(fmt.Errorf("decode check request: %w", err))
	}
	cmd, err := s.impl.CheckCommand(ctx, configFromProto(req.GetConfigJson()), in)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.CheckCommandResponse{Command: cmd}, nil
}

func encodeAnswer(what string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", what, err)
	}
	return b, nil
}
