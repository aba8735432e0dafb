package sdk

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/swelego/swelego/sdk/internal/pb/pluginv1"
)

// This file converts sdk values to protocol messages. Records that must keep
// their exact JSON shape (Task, Trajectory, Mutation, chat messages, Schema)
// are encoded with their own MarshalJSON; everything else is a typed message.

func infoToProto(i Info) *pb.Info {
	out := &pb.Info{Name: i.Name, Version: i.Version, Description: i.Description}
	for _, v := range i.ProtocolVersions {
		out.ProtocolVersions = append(out.ProtocolVersions, int32(v))
	}
	for _, k := range i.Kinds {
		out.Kinds = append(out.Kinds, string(k))
	}
	return out
}

// taskToJSON calls Task.MarshalJSON directly: json.Marshal would compact
// and re-escape the raw Extra members, and they must travel byte for byte.
func taskToJSON(t Task) ([]byte, error) {
	b, err := t.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encode task %q: %w", t.InstanceID, err)
	}
	return b, nil
}

func trajectoryToJSON(t Trajectory) ([]byte, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("encode trajectory %q: %w", t.InstanceID, err)
	}
	return b, nil
}

func mutationToJSON(m Mutation) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode mutation %q: %w", m.ID, err)
	}
	return b, nil
}

func schemaToJSON(s Schema) ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode config schema: %w", err)
	}
	return b, nil
}

func toolSchemasToProto(ts []ToolSchema) []*pb.ToolSchema {
	var out []*pb.ToolSchema
	for _, t := range ts {
		out = append(out, &pb.ToolSchema{Name: t.Name, Description: t.Description, ParametersJson: t.Parameters})
	}
	return out
}

func toolCallToProto(c ToolCall) *pb.ToolCall {
	return &pb.ToolCall{Id: c.ID, Type: c.Type, Name: c.Function.Name, Arguments: c.Function.Arguments}
}

func toolResultToProto(r ToolResult) *pb.ToolResult {
	return &pb.ToolResult{Output: validUTF8(r.Output), ExitCode: int64(r.ExitCode), Error: r.Error, Truncated: r.Truncated, Finished: r.Finished}
}

func lossWeightsToProto(ws []LossWeight) []*pb.LossWeight {
	var out []*pb.LossWeight
	for _, w := range ws {
		out = append(out, &pb.LossWeight{Index: int64(w.Index), Weight: w.Weight, Reason: w.Reason})
	}
	return out
}

func statsToProto(ss []TrajectoryStats) []*pb.TrajectoryStats {
	var out []*pb.TrajectoryStats
	for _, s := range ss {
		out = append(out, &pb.TrajectoryStats{Id: s.ID, Turns: int64(s.Turns), Tokens: int64(s.Tokens), Resolved: s.Resolved})
	}
	return out
}

func stagesToProto(ss []CurriculumStage) []*pb.CurriculumStage {
	var out []*pb.CurriculumStage
	for _, s := range ss {
		out = append(out, &pb.CurriculumStage{Name: s.Name, Ids: s.IDs, Epochs: s.Epochs})
	}
	return out
}

func scoreToProto(s Score) *pb.Score {
	return &pb.Score{Value: s.Value, Label: s.Label, Details: s.Details, Parts: s.Parts}
}

// rankRequestToProto encodes a rank request.
func rankRequestToProto(r RankRequest) (*pb.RankRequest, error) {
	task, err := taskToJSON(r.Task)
	if err != nil {
		return nil, err
	}
	out := &pb.RankRequest{ConfigJson: r.Config, TaskJson: task}
	for _, c := range r.Candidates {
		out.Candidates = append(out.Candidates, &pb.RankCandidate{Key: c.Key, Score: scoreToProto(c.Score)})
	}
	return out, nil
}

func execRequestToProto(cmd string, timeout time.Duration) *pb.ExecRequest {
	req := &pb.ExecRequest{Cmd: cmd}
	if timeout != 0 {
		req.Timeout = durationpb.New(timeout)
	}
	return req
}

func execResultToProto(r ExecResult) *pb.ExecResult {
	return &pb.ExecResult{Output: validUTF8(r.Output), ExitCode: int64(r.ExitCode), TimedOut: r.TimedOut}
}

func chatRequestToProto(r ChatRequest) (*pb.ChatRequest, error) {
	msgs, err := json.Marshal(r.Messages)
	if err != nil {
		return nil, fmt.Errorf("encode chat messages: %w", err)
	}
	return &pb.ChatRequest{
		Model:        r.Model,
		MessagesJson: msgs,
		Tools:        toolSchemasToProto(r.Tools),
		Temperature:  r.Temperature,
		MaxTokens:    int64(r.MaxTokens),
		Logprobs:     r.Logprobs,
		TopLogprobs:  int64(r.TopLogprobs),
		ExtraJson:    r.Extra,
	}, nil
}

func chatResponseToProto(r ChatResponse) (*pb.ChatResponse, error) {
	msg, err := json.Marshal(r.Message)
	if err != nil {
		return nil, fmt.Errorf("encode chat message: %w", err)
	}
	return &pb.ChatResponse{
		MessageJson:  msg,
		FinishReason: r.FinishReason,
		Logprobs:     logprobsToProto(r.Logprobs),
		Usage: &pb.Usage{
			PromptTokens:     int64(r.Usage.PromptTokens),
			CompletionTokens: int64(r.Usage.CompletionTokens),
			TotalTokens:      int64(r.Usage.TotalTokens),
		},
	}, nil
}

func logprobsToProto(ls []TokenLogprob) []*pb.TokenLogprob {
	var out []*pb.TokenLogprob
	for _, l := range ls {
		out = append(out, &pb.TokenLogprob{Token: l.Token, Logprob: l.Logprob, TopLogprobs: logprobsToProto(l.TopLogprobs)})
	}
	return out
}

// verifyRequestToProto encodes a verify request; the broker ids of the lent
// services are filled in by the client.
func verifyRequestToProto(r VerifyRequest) (*pb.VerifyRequest, error) {
	task, err := taskToJSON(r.Task)
	if err != nil {
		return nil, err
	}
	traj, err := trajectoryToJSON(r.Trajectory)
	if err != nil {
		return nil, err
	}
	return &pb.VerifyRequest{ConfigJson: r.Config, TaskJson: task, TrajectoryJson: traj, Patch: r.Patch}, nil
}

// validUTF8 replaces invalid UTF-8 in command output with U+FFFD: protobuf
// strings must be valid UTF-8, and a command may print any bytes.
func validUTF8(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
