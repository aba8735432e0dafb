package sdk

import (
	"encoding/json"
	"fmt"

	pb "github.com/swelego/swelego/sdk/internal/pb/pluginv1"
)

// This file converts protocol messages to sdk values; it is the inverse of
// toproto.go. Decoding errors name what was being decoded.

func infoFromProto(i *pb.Info) Info {
	out := Info{Name: i.GetName(), Version: i.GetVersion(), Description: i.GetDescription()}
	for _, v := range i.GetProtocolVersions() {
		out.ProtocolVersions = append(out.ProtocolVersions, int(v))
	}
	for _, k := range i.GetKinds() {
		out.Kinds = append(out.Kinds, Kind(k))
	}
	return out
}

// configFromProto keeps the configuration JSON as sent; nil when empty.
func configFromProto(b []byte) Config {
	if len(b) == 0 {
		return nil
	}
	return Config(b)
}

func taskFromJSON(b []byte) (Task, error) {
	var t Task
	if err := json.Unmarshal(b, &t); err != nil {
		return Task{}, fmt.Errorf("decode task: %w", err)
	}
	return t, nil
}

// trajectoryFromJSON decodes a trajectory; empty input is the zero
// trajectory (a verifier may be asked about a bare patch).
func trajectoryFromJSON(b []byte) (Trajectory, error) {
	var t Trajectory
	if len(b) == 0 {
		return t, nil
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return Trajectory{}, fmt.Errorf("decode trajectory: %w", err)
	}
	return t, nil
}

func mutationFromJSON(b []byte) (Mutation, error) {
	var m Mutation
	if err := json.Unmarshal(b, &m); err != nil {
		return Mutation{}, fmt.Errorf("decode mutation: %w", err)
	}
	return m, nil
}

func schemaFromJSON(b []byte) (Schema, error) {
	var s Schema
	if len(b) == 0 {
		return s, nil
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return Schema{}, fmt.Errorf("decode config schema: %w", err)
	}
	return s, nil
}

func toolSchemasFromProto(ts []*pb.ToolSchema) []ToolSchema {
	var out []ToolSchema
	for _, t := range ts {
		out = append(out, ToolSchema{Name: t.GetName(), Description: t.GetDescription(), Parameters: t.GetParametersJson()})
	}
	return out
}

func toolCallFromProto(c *pb.ToolCall) ToolCall {
	return ToolCall{ID: c.GetId(), Type: c.GetType(), Function: FunctionCall{Name: c.GetName(), Arguments: c.GetArguments()}}
}

func toolResultFromProto(r *pb.ToolResult) ToolResult {
	return ToolResult{Output: r.GetOutput(), ExitCode: int(r.GetExitCode()), Error: r.GetError(), Truncated: r.GetTruncated(), Finished: r.GetFinished()}
}

func lossWeightsFromProto(ws []*pb.LossWeight) []LossWeight {
	var out []LossWeight
	for _, w := range ws {
		out = append(out, LossWeight{Index: int(w.GetIndex()), Weight: w.GetWeight(), Reason: w.GetReason()})
	}
	return out
}

func statsFromProto(ss []*pb.TrajectoryStats) []TrajectoryStats {
	var out []TrajectoryStats
	for _, s := range ss {
		out = append(out, TrajectoryStats{ID: s.GetId(), Turns: int(s.GetTurns()), Tokens: int(s.GetTokens()), Resolved: s.GetResolved()})
	}
	return out
}

func stagesFromProto(ss []*pb.CurriculumStage) []CurriculumStage {
	var out []CurriculumStage
	for _, s := range ss {
		out = append(out, CurriculumStage{Name: s.GetName(), IDs: s.GetIds(), Epochs: s.GetEpochs()})
	}
	return out
}

func scoreFromProto(s *pb.Score) Score {
	return Score{Value: s.GetValue(), Label: s.GetLabel(), Details: s.GetDetails(), Parts: partsFromProto(s.GetParts())}
}

// partsFromProto copies a map of named numbers; empty is nil, so a Score
// without parts arrives as it was sent.
func partsFromProto(m map[string]float64) map[string]float64 {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]float64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// rankRequestFromProto decodes a rank request.
func rankRequestFromProto(r *pb.RankRequest) (RankRequest, error) {
	task, err := taskFromJSON(r.GetTaskJson())
	if err != nil {
		return RankRequest{}, err
	}
	out := RankRequest{Config: configFromProto(r.GetConfigJson()), Task: task}
	for _, c := range r.GetCandidates() {
		out.Candidates = append(out.Candidates, RankCandidate{Key: c.GetKey(), Score: scoreFromProto(c.GetScore())})
	}
	return out, nil
}

func execResultFromProto(r *pb.ExecResult) ExecResult {
	return ExecResult{Output: r.GetOutput(), ExitCode: int(r.GetExitCode()), TimedOut: r.GetTimedOut()}
}

func chatRequestFromProto(r *pb.ChatRequest) (ChatRequest, error) {
	out := ChatRequest{
		Model:       r.GetModel(),
		Tools:       toolSchemasFromProto(r.GetTools()),
		Temperature: r.Temperature,
		MaxTokens:   int(r.GetMaxTokens()),
		Logprobs:    r.GetLogprobs(),
		TopLogprobs: int(r.GetTopLogprobs()),
	}
	if len(r.GetExtraJson()) > 0 {
		out.Extra = r.GetExtraJson()
	}
	if err := json.Unmarshal(r.GetMessagesJson(), &out.Messages); err != nil {
		return ChatRequest{}, fmt.Errorf("decode chat messages: %w", err)
	}
	return out, nil
}

func chatResponseFromProto(r *pb.ChatResponse) (ChatResponse, error) {
	out := ChatResponse{
		FinishReason: r.GetFinishReason(),
		Logprobs:     logprobsFromProto(r.GetLogprobs()),
		Usage: Usage{
			PromptTokens:     int(r.GetUsage().GetPromptTokens()),
			CompletionTokens: int(r.GetUsage().GetCompletionTokens()),
			TotalTokens:      int(r.GetUsage().GetTotalTokens()),
		},
	}
	if err := json.Unmarshal(r.GetMessageJson(), &out.Message); err != nil {
		return ChatResponse{}, fmt.Errorf("decode chat message: %w", err)
	}
	return out, nil
}

func logprobsFromProto(ls []*pb.TokenLogprob) []TokenLogprob {
	var out []TokenLogprob
	for _, l := range ls {
		out = append(out, TokenLogprob{Token: l.GetToken(), Logprob: l.GetLogprob(), TopLogprobs: logprobsFromProto(l.GetTopLogprobs())})
	}
	return out
}

// verifyRequestFromProto decodes a verify request; the lent services are
// filled in by the server.
func verifyRequestFromProto(r *pb.VerifyRequest) (VerifyRequest, error) {
	task, err := taskFromJSON(r.GetTaskJson())
	if err != nil {
		return VerifyRequest{}, err
	}
	traj, err := trajectoryFromJSON(r.GetTrajectoryJson())
	if err != nil {
		return VerifyRequest{}, err
	}
	return VerifyRequest{Config: configFromProto(r.GetConfigJson()), Task: task, Trajectory: traj, Patch: r.GetPatch()}, nil
}
