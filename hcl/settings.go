package hcl

import (
	"fmt"
	"math/big"
	"reflect"
	"time"

	"github.com/zclconf/go-cty/cty"
)

// This file holds the typed settings of the core blocks: Load decodes each
// block body once, with the defaults of the table in blocks.go, into one
// of these (Block.Settings), after every check has passed. Stages receive
// them and never query a block by argument name. A field's hcl tag names
// its argument; TestSettingsMatchTable keeps fields and table in step.

// Environment is an environment block.
type Environment struct {
	Base     string   `hcl:"base"`
	Packages []string `hcl:"packages"`
	Setup    []string `hcl:"setup"`
	TestCmd  string   `hcl:"test_cmd"`
	Language string   `hcl:"language"`
	Repo     string   `hcl:"repo"`
	// Git is a path resolved against the recipe's folder, or a URL.
	Git    string `hcl:"git"`
	Parser string `hcl:"parser"`
	// A published image as the environment.
	Image          string `hcl:"image"`
	ImageNaming    string `hcl:"image_naming"`
	ImageNamespace string `hcl:"image_namespace"`
	ImageArchive   string `hcl:"image_archive"` // a path resolved against the recipe's folder
}

// Sandbox is the sandbox block. Zero limits mean none.
type Sandbox struct {
	Backend string        `hcl:"backend"`
	Memory  int64         `hcl:"memory"` // bytes
	CPUs    float64       `hcl:"cpus"`
	Pids    int           `hcl:"pids"`
	Timeout time.Duration `hcl:"timeout"`
}

// Queue is the queue block: the NATS JetStream server synthetic sources
// validate and eval stages grade through.
type Queue struct {
	URL         string        `hcl:"url"`
	AckWait     time.Duration `hcl:"ack_wait"`
	MaxAttempts int           `hcl:"max_attempts"`
	// Repos is QueueReposObjectStore or QueueReposShared; empty means
	// QueueReposObjectStore.
	Repos string `hcl:"repos"`
}

// How the workers of a queue get the repositories (Queue.Repos).
const (
	QueueReposObjectStore = "object_store"
	QueueReposShared      = "shared"
)

// Model is a model block.
type Model struct {
	Provider    string        `hcl:"provider"`
	BaseURL     string        `hcl:"base_url"`
	Name        string        `hcl:"name"`
	APIKeyEnv   string        `hcl:"api_key_env"`
	Temperature *float64      `hcl:"temperature"` // nil: the endpoint's
	MaxTokens   int           `hcl:"max_tokens"`
	Timeout     time.Duration `hcl:"timeout"`
	Format      string        `hcl:"format"`
	MaxRetries  int           `hcl:"max_retries"`
	ErrorRate   float64       `hcl:"error_rate"`
	Seed        int64         `hcl:"seed"`
	// Checkpoint is a local model's sft stage (Ref) or folder (Path).
	Checkpoint RefOrPath `hcl:"checkpoint"`
	MaxBatch   int       `hcl:"max_batch"`
}

// Toolset is a toolset block; its plugin configuration is Block.Config.
type Toolset struct {
	Plugin string `hcl:"plugin"`
}

// RefOrPath is an argument that refers to a block or names a file: one of
// Ref (a block address) and Path (resolved against the recipe's folder,
// or a literal such as "gold") is set.
type RefOrPath struct {
	Ref, Path string
}

// Attempt are the settings of one agent attempt, shared by rollout and tts
// blocks. Toolset is a toolset block's address, "" for the default.
type Attempt struct {
	Toolset      string        `hcl:"toolset"`
	MaxTurns     int           `hcl:"max_turns"`
	TokenBudget  int           `hcl:"token_budget"`
	TimeLimit    time.Duration `hcl:"time_limit"`
	SystemPrompt string        `hcl:"system_prompt"`
	TaskPrompt   string        `hcl:"task_prompt"`
	Workers      int           `hcl:"workers"`
}

// Rollout is a rollout block. Tasks and Model are block addresses.
type Rollout struct {
	Tasks    string `hcl:"tasks"`
	Model    string `hcl:"model"`
	Attempts int    `hcl:"attempts"`
	Attempt
}

// TTS is a tts block: Model set (k rollouts per task) or Candidates (a
// reranking). K is 0 when unset.
type TTS struct {
	Tasks      string    `hcl:"tasks"`
	Candidates RefOrPath `hcl:"candidates"`
	Model      string    `hcl:"model"`
	K          int       `hcl:"k"`
	Output     string    `hcl:"output"`
	Attempt
	// Verifier is the verifier block; VerifierModel the model block lent
	// to it, "" for none.
	Verifier      *PluginBody
	VerifierModel string
}

// Eval is an eval block. Backend "" means the sandbox block's.
type Eval struct {
	Tasks             string    `hcl:"tasks"`
	Predictions       RefOrPath `hcl:"predictions"`
	Backend           string    `hcl:"backend"`
	Workers           int       `hcl:"workers"`
	InstanceIDs       []string  `hcl:"instance_ids"`
	SkippedPassToPass string    `hcl:"skipped_pass_to_pass"`
}

// SFT is an sft block. Trajectories is a rollout stage (Ref) or a file.
type SFT struct {
	Trajectories RefOrPath `hcl:"trajectories"`
	Include      []string  `hcl:"include"`
	Toolset      string    `hcl:"toolset"`
	// Tokenizer is a folder resolved against the recipe's, or the name of
	// a built-in encoding.
	Tokenizer       string   `hcl:"tokenizer"`
	Template        string   `hcl:"template"`
	Model           SFTModel `hcl:"model"`
	Backend         string   `hcl:"backend"`
	Device          int      `hcl:"device"`
	Precision       string   `hcl:"precision"`
	Epochs          float64  `hcl:"epochs"`
	GlobalBatch     int      `hcl:"global_batch"`
	MicroBatch      int      `hcl:"micro_batch"`
	LR              float64  `hcl:"lr"`
	MinLRRatio      float64  `hcl:"min_lr_ratio"`
	WeightDecay     float64  `hcl:"weight_decay"`
	WarmupRatio     float64  `hcl:"warmup_ratio"`
	MaxGradNorm     float64  `hcl:"max_grad_norm"`
	MaxSeqLen       int      `hcl:"max_seq_len"`
	Overflow        string   `hcl:"overflow"`
	Packing         bool     `hcl:"packing"`
	Seed            uint64   `hcl:"seed"`
	SaveEvery       int      `hcl:"save_every"`
	KeepCheckpoints int      `hcl:"keep_checkpoints"`
	DType           string   `hcl:"dtype"`
	// Masker and Curriculum are the nested plugin blocks, nil for the
	// defaults.
	Masker, Curriculum *PluginBody
}

// SFTModel is an sft block's model block: one of Config and Checkpoint,
// resolved against the recipe's folder.
type SFTModel struct {
	Config     string  `hcl:"config"`
	Checkpoint string  `hcl:"checkpoint"`
	InitStd    float64 `hcl:"init_std"`
}

// Synthetic is a source "synthetic" block.
type Synthetic struct {
	Repo          string        `hcl:"repo"`
	Environment   string        `hcl:"environment"` // an environment block's address
	Commit        string        `hcl:"commit"`
	MaxCandidates int           `hcl:"max_candidates"`
	Workers       int           `hcl:"workers"`
	Reruns        int           `hcl:"reruns"`
	Timeout       time.Duration `hcl:"timeout"`
	Model         string        `hcl:"model"`
	Combine       *Combine      `hcl:"combine"` // nil without a combine block
	// Injectors are the injector blocks in file order.
	Injectors []*PluginBody
}

// GitHistory is a source "git_history" block.
type GitHistory struct {
	Repo           string        `hcl:"repo"`
	Environment    string        `hcl:"environment"` // an environment block's address
	Git            string        `hcl:"git"`
	Rev            string        `hcl:"rev"`
	IssuePattern   string        `hcl:"issue_pattern"`
	RequireIssue   bool          `hcl:"require_issue"`
	ExcludeMessage string        `hcl:"exclude_message"`
	Issues         string        `hcl:"issues"`
	MinIssueChars  int           `hcl:"min_issue_chars"`
	MergedAfter    string        `hcl:"merged_after"`
	MergedBefore   string        `hcl:"merged_before"`
	MinFiles       int           `hcl:"min_files"`
	MaxFiles       int           `hcl:"max_files"`
	MaxCandidates  int           `hcl:"max_candidates"`
	Workers        int           `hcl:"workers"`
	Reruns         int           `hcl:"reruns"`
	Timeout        time.Duration `hcl:"timeout"`
}

// Combine is a synthetic source's combine block. MaxBugs is 0 when unset
// (min_bugs then).
type Combine struct {
	Per      string `hcl:"per"`
	MinBugs  int    `hcl:"min_bugs"`
	MaxBugs  int    `hcl:"max_bugs"`
	MaxTasks int    `hcl:"max_tasks"`
}

// decodeSettings fills the struct out points to from val, a body that
// attrs decoded and whose checks passed: unset arguments take the table's
// default, paths resolve against dir. A mismatch between table and struct
// is a bug of this package and panics in tests (TestSettingsMatchTable).
func decodeSettings(attrs []*Attribute, val cty.Value, dir string, out any) error {
	rv := reflect.ValueOf(out).Elem()
	fields := map[string]reflect.Value{}
	collectFields(rv, fields)
	for _, a := range attrs {
		if a.Kind == KindObject {
			continue // a plugin's configuration: Block.Config
		}
		f, ok := fields[a.Name]
		if !ok {
			return fmt.Errorf("no field for argument %q in %s", a.Name, rv.Type())
		}
		v := cty.NullVal(cty.DynamicPseudoType)
		if val.Type().IsObjectType() && val.Type().HasAttribute(a.Name) {
			v = val.GetAttr(a.Name)
		}
		if err := setField(a, v, dir, f); err != nil {
			return fmt.Errorf("%s: %w", a.Name, err)
		}
	}
	return nil
}

// collectFields indexes the tagged fields of a struct, embedded ones too.
func collectFields(rv reflect.Value, into map[string]reflect.Value) {
	t := rv.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			collectFields(rv.Field(i), into)
			continue
		}
		if name := sf.Tag.Get("hcl"); name != "" {
			into[name] = rv.Field(i)
		}
	}
}

// setField stores one argument's value, or its default when v is null.
func setField(a *Attribute, v cty.Value, dir string, f reflect.Value) error {
	if !v.IsWhollyKnown() {
		return fmt.Errorf("value not known")
	}
	if v.IsNull() {
		if a.Kind == KindBlock {
			if f.Kind() == reflect.Pointer {
				return nil // no block: nil
			}
			return decodeSettings(a.Block, cty.EmptyObjectVal, dir, f.Addr().Interface())
		}
		if a.Default == nil {
			return nil // the zero value
		}
		d := reflect.ValueOf(a.Default)
		if f.Kind() == reflect.Pointer {
			p := reflect.New(f.Type().Elem())
			p.Elem().Set(d.Convert(f.Type().Elem()))
			f.Set(p)
			return nil
		}
		if !d.CanConvert(f.Type()) {
			return fmt.Errorf("default %v does not fit %s", a.Default, f.Type())
		}
		f.Set(d.Convert(f.Type()))
		return nil
	}
	switch a.Kind {
	case KindString:
		f.SetString(v.AsString())
	case KindBool:
		f.SetBool(v.True())
	case KindStrings:
		var list []string
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			list = append(list, e.AsString())
		}
		f.Set(reflect.ValueOf(list))
	case KindNumber:
		n, _ := v.AsBigFloat().Float64()
		if f.Kind() == reflect.Pointer {
			f.Set(reflect.ValueOf(&n))
		} else {
			f.SetFloat(n)
		}
	case KindWhole:
		i, acc := v.AsBigFloat().Int64()
		if acc != big.Exact {
			return fmt.Errorf("not a whole number")
		}
		if f.Kind() == reflect.Uint64 {
			f.SetUint(uint64(i))
		} else {
			f.SetInt(i)
		}
	case KindDuration:
		d, err := time.ParseDuration(v.AsString())
		if err != nil {
			return err
		}
		f.SetInt(int64(d))
	case KindSize:
		n, err := ParseSize(v.AsString())
		if err != nil {
			return err
		}
		f.SetInt(n)
	case KindPath:
		f.SetString(a.resolve(v.AsString(), dir))
	case KindRef:
		f.SetString(refAddress(v))
	case KindPathOrRef:
		var rp RefOrPath
		if v.Type() == cty.String {
			rp.Path = a.resolve(v.AsString(), dir)
		} else {
			rp.Ref = refAddress(v)
		}
		f.Set(reflect.ValueOf(rp))
	case KindBlock:
		target := f
		if f.Kind() == reflect.Pointer {
			f.Set(reflect.New(f.Type().Elem()))
			target = f.Elem()
		}
		return decodeSettings(a.Block, v, dir, target.Addr().Interface())
	default:
		return fmt.Errorf("kind %d has no field", a.Kind)
	}
	return nil
}

// resolve makes a path absolute against dir, leaving literals and URLs.
func (a *Attribute) resolve(p, dir string) string {
	for _, l := range a.Literals {
		if p == l {
			return p
		}
	}
	if a.URL && isURL(p) {
		return p
	}
	return resolvePath(dir, p)
}
