package pipeline

import (
	"fmt"
	"strings"
	"testing"
)

// TestTTSFingerprint checks what a tts stage's fingerprint follows: a
// rolling-out stage its rollouts' settings and policy, not the verifier
// (its scores carry the verifier's identity) nor k (rollout i is the same
// whatever k); a reranking stage the verifier and the model lent to it.
func TestTTSFingerprint(t *testing.T) {
	recipe := func(tts, verifier, judgeURL string) string {
		return fmt.Sprintf(`
source "swebench" "a" {}
model "policy" {
  provider   = "oracle"
  error_rate = 0.5
}
model "judge" {
  provider = "openai"
  base_url = %q
}
tts "t" {
  tasks = source.swebench.a
  %s
  verifier %q {
    model = model.judge
  }
}
`, judgeURL, tts, verifier)
	}
	fingerprint := func(src string) string {
		rec := loadRecipe(t, src)
		stages, err := Stages(rec, nil, testLanguages)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range stages {
			if st.Address() == "tts.t" {
				return st.(*ttsStage).Fingerprint()
			}
		}
		t.Fatal("no tts.t")
		return ""
	}
	const (
		roll  = "model = model.policy\n  k = 4\n  max_turns = 8"
		judge = "http://judge-a/v1"
	)
	base := fingerprint(recipe(roll, "v1", judge))
	rerank := fingerprint(recipe(`candidates = "c.jsonl"`, "v1", judge))
	tests := []struct {
		name string
		src  string
		want string // "" when it must differ from base
		base string
	}{
		{"rollouts: another verifier", recipe(roll, "v2", judge), base, base},
		{"rollouts: another judge", recipe(roll, "v1", "http://judge-b/v1"), base, base},
		{"rollouts: another k", recipe("model = model.policy\n  k = 8\n  max_turns = 8", "v1", judge), base, base},
		{"rollouts: another workers", recipe(roll+"\n  workers = 3", "v1", judge), base, base},
		{"rollouts: another max_turns", recipe("model = model.policy\n  k = 4\n  max_turns = 9", "v1", judge), "", base},
		{"rollouts: another policy", replace(recipe(roll, "v1", judge), "error_rate = 0.5", "error_rate = 0.2"), "", base},
		{"reranking: another verifier", recipe(`candidates = "c.jsonl"`, "v2", judge), "", rerank},
		{"reranking: another judge", recipe(`candidates = "c.jsonl"`, "v1", "http://judge-b/v1"), "", rerank},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fingerprint(tt.src)
			if tt.want != "" && got != tt.want {
				t.Errorf("fingerprint %s changed from %s", got, tt.want)
			}
			if tt.want == "" && got == tt.base {
				t.Errorf("fingerprint %s did not change", got)
			}
		})
	}
}

func replace(s, old, new string) string { return strings.Replace(s, old, new, 1) }
