package sdk

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/swelego/swelego/sdk/internal/pb/pluginv1"
)

// ValidateConfigRequest asks a plugin to check the configuration of one of
// its kinds. Config is what the kind's calls will receive: the evaluated
// block, already checked against the kind's Schema (types, required
// attributes) and with its defaults applied.
type ValidateConfigRequest struct {
	Kind   Kind
	Config Config
}

// ValidateConfigResponse holds what is wrong with the configuration; no
// diagnostics means nothing is.
type ValidateConfigResponse struct {
	Diagnostics Diagnostics
}

// ConfigValidator is implemented by a kind's implementation (the value in
// Plugin.BugInjector, Plugin.LossMasker, …) that checks its configuration
// beyond what its Schema can say: a rule name it does not know, a pattern
// that does not compile, a range that is empty. `swelego validate` calls it
// for every block of the recipe that configures the kind and reports each
// diagnostic at the attribute its Path names, with file, line and column;
// an error diagnostic makes the recipe invalid, a warning does not.
//
// A kind implementation that does not implement ConfigValidator has no
// diagnostics. The returned error is for a failure to validate at all, not
// for a bad configuration: that is a diagnostic.
type ConfigValidator interface {
	ValidateConfig(ctx context.Context, req ValidateConfigRequest) (ValidateConfigResponse, error)
}

// ValidateConfig asks the plugin to check cfg as a configuration of kind k.
// A plugin built before the call existed answers UNIMPLEMENTED, which reads
// as no diagnostics, as does a plugin whose kind does not implement
// ConfigValidator. A kind the plugin does not serve is reported the same
// way: check Info().Serves first.
func (c *Client) ValidateConfig(ctx context.Context, k Kind, cfg Config) (Diagnostics, error) {
	resp, err := c.base.ValidateConfig(ctx, &pb.ValidateConfigRequest{Kind: string(k), ConfigJson: cfg})
	if status.Code(err) == codes.Unimplemented {
		return nil, nil
	}
	if err != nil {
		return nil, fromStatus(err)
	}
	return diagnosticsFromProto(resp.GetDiagnostics()), nil
}

// ValidateConfig is the plugin side of Client.ValidateConfig.
func (s *pluginServer) ValidateConfig(ctx context.Context, req *pb.ValidateConfigRequest) (*pb.ValidateConfigResponse, error) {
	k := Kind(req.GetKind())
	if !knownKind(k) {
		return nil, status.Errorf(codes.InvalidArgument, "unknown plugin kind %q", k)
	}
	if !s.p.serves(k) {
		return nil, notServed(s.p.Name, k)
	}
	v, ok := s.p.kindImpl(k).(ConfigValidator)
	if !ok {
		return &pb.ValidateConfigResponse{}, nil
	}
	resp, err := v.ValidateConfig(ctx, ValidateConfigRequest{Kind: k, Config: configFromProto(req.GetConfigJson())})
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.ValidateConfigResponse{Diagnostics: diagnosticsToProto(resp.Diagnostics)}, nil
}

// kindImpl returns the implementation p serves for kind k, or nil.
func (p *Plugin) kindImpl(k Kind) any {
	if !p.serves(k) {
		return nil
	}
	switch k {
	case KindTaskSource:
		return p.TaskSource
	case KindBugInjector:
		return p.BugInjector
	case KindToolSet:
		return p.ToolSet
	case KindLossMasker:
		return p.LossMasker
	case KindCurriculum:
		return p.Curriculum
	case KindVerifier:
		return p.Verifier
	case KindLogParser:
		return p.LogParser
	case KindLanguage:
		return p.Language
	}
	return nil
}

func diagnosticsToProto(ds Diagnostics) []*pb.Diagnostic {
	out := make([]*pb.Diagnostic, 0, len(ds))
	for _, d := range ds {
		sev := pb.Diagnostic_ERROR
		if d.Severity == SeverityWarning {
			sev = pb.Diagnostic_WARNING
		}
		out = append(out, &pb.Diagnostic{Severity: sev, Summary: d.Summary, Detail: d.Detail, Attribute: pathToProto(d.Path)})
	}
	return out
}

func pathToProto(p Path) *pb.AttributePath {
	if len(p) == 0 {
		return nil
	}
	out := &pb.AttributePath{}
	for _, s := range p {
		step := &pb.AttributePath_Step{}
		switch s := s.(type) {
		case AttributeName:
			step.Selector = &pb.AttributePath_Step_AttributeName{AttributeName: string(s)}
		case ElementKeyString:
			step.Selector = &pb.AttributePath_Step_ElementKeyString{ElementKeyString: string(s)}
		case ElementKeyInt:
			step.Selector = &pb.AttributePath_Step_ElementKeyInt{ElementKeyInt: int64(s)}
		default:
			continue
		}
		out.Steps = append(out.Steps, step)
	}
	return out
}

// diagnosticsFromProto converts a plugin's diagnostics; a severity the
// host does not know is an error, so that nothing slips through as a
// warning.
func diagnosticsFromProto(ds []*pb.Diagnostic) Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		sev := SeverityError
		if d.GetSeverity() == pb.Diagnostic_WARNING {
			sev = SeverityWarning
		}
		out = append(out, Diagnostic{Severity: sev, Summary: d.GetSummary(), Detail: d.GetDetail(), Path: pathFromProto(d.GetAttribute())})
	}
	return out
}

// pathFromProto converts an attribute path; it ends at a step with no
// selector (one a newer protocol added), naming the value above it.
func pathFromProto(p *pb.AttributePath) Path {
	var out Path
	for _, s := range p.GetSteps() {
		switch sel := s.GetSelector().(type) {
		case *pb.AttributePath_Step_AttributeName:
			out = append(out, AttributeName(sel.AttributeName))
		case *pb.AttributePath_Step_ElementKeyString:
			out = append(out, ElementKeyString(sel.ElementKeyString))
		case *pb.AttributePath_Step_ElementKeyInt:
			out = append(out, ElementKeyInt(sel.ElementKeyInt))
		default:
			return out
		}
	}
	return out
}
