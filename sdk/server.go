package sdk

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/swelego/swelego/sdk/internal/pb/pluginv1"
)

// This file is the plugin side of the protocol: one gRPC server per service,
// each method converting the request in, calling the implementation and
// converting the result out. A kind the plugin does not serve answers
// UNIMPLEMENTED.

// registerServers registers every service of the protocol for p.
func registerServers(s *grpc.Server, p *Plugin, version int, b *borrower) {
	pb.RegisterPluginServiceServer(s, &pluginServer{p: p, version: version})
	pb.RegisterTaskSourceServer(s, &taskSourceServer{name: p.Name, impl: p.TaskSource})
	pb.RegisterBugInjectorServer(s, &bugInjectorServer{name: p.Name, impl: p.BugInjector, borrower: b})
	pb.RegisterToolSetServer(s, &toolSetServer{name: p.Name, impl: p.ToolSet, borrower: b})
	pb.RegisterLossMaskerServer(s, &lossMaskerServer{name: p.Name, impl: p.LossMasker})
	pb.RegisterLogParserServer(s, &logParserServer{name: p.Name, impl: p.LogParser})
	pb.RegisterLanguageServer(s, &languageServer{name: p.Name, impl: p.Language})
	pb.RegisterCurriculumServer(s, &curriculumServer{name: p.Name, impl: p.Curriculum})
	pb.RegisterVerifierServer(s, &verifierServer{name: p.Name, impl: p.Verifier, borrower: b})
}

// notServed is the error of a call to a kind the plugin does not serve.
func notServed(plugin string, k Kind) error {
	return status.Error(codes.Unimplemented, fmt.Sprintf("plugin %q does not serve %s", plugin, k))
}

type pluginServer struct {
	pb.UnimplementedPluginServiceServer
	p       *Plugin
	version int
}

func (s *pluginServer) Info(context.Context, *pb.InfoRequest) (*pb.InfoResponse, error) {
	info := s.p.Info()
	info.ProtocolVersions = []int{s.version}
	return &pb.InfoResponse{Info: infoToProto(info)}, nil
}

func (s *pluginServer) ConfigSchema(_ context.Context, req *pb.ConfigSchemaRequest) (*pb.ConfigSchemaResponse, error) {
	k := Kind(req.GetKind())
	if !knownKind(k) {
		return nil, status.Errorf(codes.InvalidArgument, "unknown plugin kind %q", k)
	}
	if !s.p.serves(k) {
		return nil, notServed(s.p.Name, k)
	}
	b, err := schemaToJSON(s.p.Schemas[k])
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.ConfigSchemaResponse{SchemaJson: b}, nil
}

func knownKind(k Kind) bool {
	for _, have := range Kinds {
		if have == k {
			return true
		}
	}
	return false
}

type taskSourceServer struct {
	pb.UnimplementedTaskSourceServer
	name string
	impl TaskSource
}

func (s *taskSourceServer) Tasks(req *pb.TasksRequest, stream pb.TaskSource_TasksServer) error {
	if s.impl == nil {
		return notServed(s.name, KindTaskSource)
	}
	ctx := stream.Context()
	send := func(t Task) error {
		b, err := taskToJSON(t)
		if err != nil {
			return err
		}
		return sendOrStop(ctx, stream.Send, &pb.TasksResponse{TaskJson: b})
	}
	return toStatus(s.impl.Tasks(ctx, configFromProto(req.GetConfigJson()), send))
}

// sendOrStop sends one message of a stream unless the host has stopped
// listening, so an implementation sees the stop at its next send.
func sendOrStop[M any](ctx context.Context, send func(*M) error, m *M) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := send(m); err != nil {
		return fmt.Errorf("send to host: %w", err)
	}
	return nil
}

type bugInjectorServer struct {
	pb.UnimplementedBugInjectorServer
	name     string
	impl     BugInjector
	borrower *borrower
}

func (s *bugInjectorServer) Mutations(req *pb.MutationsRequest, stream pb.BugInjector_MutationsServer) error {
	if s.impl == nil {
		return notServed(s.name, KindBugInjector)
	}
	lent, err := s.borrower.borrow(req.GetSandboxBrokerId(), req.GetModelBrokerId())
	if err != nil {
		return toStatus(err)
	}
	defer lent.giveBack()
	in := InjectRequest{
		Config:   configFromProto(req.GetConfigJson()),
		Repo:     req.GetRepo(),
		Language: req.GetLanguage(),
		Sandbox:  lent.sandbox,
		Model:    lent.model,
	}
	ctx := stream.Context()
	send := func(m Mutation) error {
		b, err := mutationToJSON(m)
		if err != nil {
			return err
		}
		return sendOrStop(ctx, stream.Send, &pb.MutationsResponse{MutationJson: b})
	}
	return toStatus(s.impl.Mutations(ctx, in, send))
}

type toolSetServer struct {
	pb.UnimplementedToolSetServer
	name     string
	impl     ToolSet
	borrower *borrower
}

func (s *toolSetServer) Tools(ctx context.Context, req *pb.ToolsRequest) (*pb.ToolsResponse, error) {
	if s.impl == nil {
		return nil, notServed(s.name, KindToolSet)
	}
	tools, err := s.impl.Tools(ctx, configFromProto(req.GetConfigJson()))
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.ToolsResponse{Tools: toolSchemasToProto(tools)}, nil
}

func (s *toolSetServer) Execute(ctx context.Context, req *pb.ExecuteRequest) (*pb.ExecuteResponse, error) {
	if s.impl == nil {
		return nil, notServed(s.name, KindToolSet)
	}
	lent, err := s.borrower.borrow(req.GetSandboxBrokerId(), 0)
	if err != nil {
		return nil, toStatus(err)
	}
	defer lent.giveBack()
	in := ToolRequest{Config: configFromProto(req.GetConfigJson()), Call: toolCallFromProto(req.GetCall()), Sandbox: lent.sandbox}
	res, err := s.impl.Execute(ctx, in)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.ExecuteResponse{Result: toolResultToProto(res)}, nil
}

type logParserServer struct {
	pb.UnimplementedLogParserServer
	name string
	impl LogParser
}

func (s *logParserServer) ParseLog(ctx context.Context, req *pb.ParseLogRequest) (*pb.ParseLogResponse, error) {
	if s.impl == nil {
		return nil, notServed(s.name, KindLogParser)
	}
	st, err := s.impl.ParseLog(ctx, configFromProto(req.GetConfigJson()), req.GetLog())
	if err != nil {
		return nil, toStatus(err)
	}
	out := make(map[string]string, len(st))
	for id, v := range st {
		out[id] = string(v)
	}
	return &pb.ParseLogResponse{Statuses: out}, nil
}

type lossMaskerServer struct {
	pb.UnimplementedLossMaskerServer
	name string
	impl LossMasker
}

func (s *lossMaskerServer) Mask(ctx context.Context, req *pb.MaskRequest) (*pb.MaskResponse, error) {
	if s.impl == nil {
		return nil, notServed(s.name, KindLossMasker)
	}
	t, err := trajectoryFromJSON(req.GetTrajectoryJson())
	if err != nil {
		return nil, invalidArgument(err)
	}
	ws, err := s.impl.Mask(ctx, configFromProto(req.GetConfigJson()), t)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.MaskResponse{Weights: lossWeightsToProto(ws)}, nil
}

type curriculumServer struct {
	pb.UnimplementedCurriculumServer
	name string
	impl Curriculum
}

func (s *curriculumServer) Stages(ctx context.Context, req *pb.StagesRequest) (*pb.StagesResponse, error) {
	if s.impl == nil {
		return nil, notServed(s.name, KindCurriculum)
	}
	stages, err := s.impl.Stages(ctx, configFromProto(req.GetConfigJson()), statsFromProto(req.GetStats()))
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.StagesResponse{Stages: stagesToProto(stages)}, nil
}

type verifierServer struct {
	pb.UnimplementedVerifierServer
	name     string
	impl     Verifier
	borrower *borrower
}

func (s *verifierServer) Verify(ctx context.Context, req *pb.VerifyRequest) (*pb.VerifyResponse, error) {
	if s.impl == nil {
		return nil, notServed(s.name, KindVerifier)
	}
	in, err := verifyRequestFromProto(req)
	if err != nil {
		return nil, invalidArgument(err)
	}
	lent, err := s.borrower.borrow(req.GetSandboxBrokerId(), req.GetModelBrokerId())
	if err != nil {
		return nil, toStatus(err)
	}
	defer lent.giveBack()
	in.Sandbox, in.Model = lent.sandbox, lent.model
	score, err := s.impl.Verify(ctx, in)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.VerifyResponse{Score: scoreToProto(score)}, nil
}

// Rank answers UNIMPLEMENTED unless the plugin's verifier also ranks.
func (s *verifierServer) Rank(ctx context.Context, req *pb.RankRequest) (*pb.RankResponse, error) {
	if s.impl == nil {
		return nil, notServed(s.name, KindVerifier)
	}
	r, ok := s.impl.(Ranker)
	if !ok {
		return nil, status.Error(codes.Unimplemented, fmt.Sprintf("the verifier of plugin %q does not rank", s.name))
	}
	in, err := rankRequestFromProto(req)
	if err != nil {
		return nil, invalidArgument(err)
	}
	scores, err := r.Rank(ctx, in)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.RankResponse{Scores: scores}, nil
}
