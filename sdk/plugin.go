package sdk

// ProtocolVersion is the major version of the plugin protocol this sdk
// speaks. A host and a plugin must agree on it; a mismatch is refused with
// an error naming both versions.
const ProtocolVersion = 1

// Plugin is what one plugin binary serves: its identity and an
// implementation for each kind it provides. Leave a kind nil to not serve it.
// Schemas gives the configuration schema of each served kind; a kind without
// an entry accepts an empty block only.
type Plugin struct {
	Name        string
	Version     string
	Description string

	TaskSource  TaskSource
	BugInjector BugInjector
	ToolSet     ToolSet
	LossMasker  LossMasker
	Curriculum  Curriculum
	Verifier    Verifier
	LogParser   LogParser
	Language    Language

	Schemas map[Kind]Schema
}

// Info describes the plugin as its base service reports it.
func (p *Plugin) Info() Info {
	info := Info{Name: p.Name, Version: p.Version, Description: p.Description, ProtocolVersions: []int{ProtocolVersion}}
	for _, k := range Kinds {
		if p.serves(k) {
			info.Kinds = append(info.Kinds, k)
		}
	}
	return info
}

func (p *Plugin) serves(k Kind) bool {
	switch k {
	case KindTaskSource:
		return p.TaskSource != nil
	case KindBugInjector:
		return p.BugInjector != nil
	case KindToolSet:
		return p.ToolSet != nil
	case KindLossMasker:
		return p.LossMasker != nil
	case KindCurriculum:
		return p.Curriculum != nil
	case KindVerifier:
		return p.Verifier != nil
	case KindLogParser:
		return p.LogParser != nil
	case KindLanguage:
		return p.Language != nil
	}
	return false
}
