package chattemplate

import (
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
)

// Prompt is the rendered conversation with the assistant turn opened.
func TestPrompt(t *testing.T) {
	c := Conversation{Messages: []sdk.Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Hi"}}}
	for _, name := range Names {
		t.Run(name, func(t *testing.T) {
			tmpl, err := Get(name)
			if err != nil {
				t.Fatal(err)
			}
			rendered, err := tmpl.Render(c)
			if err != nil {
				t.Fatal(err)
			}
			prompt, err := Prompt(tmpl, c)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := Join(prompt), Join(rendered)+"<|im_start|>assistant\n"; got != want {
				t.Errorf("prompt %q, want %q", got, want)
			}
			last := prompt[len(prompt)-2]
			if last.Kind != Special || last.Text != "<|im_start|>" || strings.Contains(Join(prompt), EndOfTurn+"\n<|im_start|>assistant\n"+EndOfTurn) {
				t.Errorf("pieces %+v", prompt[len(prompt)-2:])
			}
		})
	}
}
