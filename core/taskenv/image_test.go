package taskenv

import (
	"encoding/json"
	"testing"

	"github.com/swelego/swelego/sdk"
)

func TestImageRef(t *testing.T) {
	task := func(image, imageName string) sdk.Task {
		tk := sdk.Task{InstanceID: "django__django-11099", Repo: "django/django", Image: image}
		if imageName != "" {
			raw, _ := json.Marshal(imageName)
			tk.Extra = map[string]json.RawMessage{"image_name": raw}
		}
		return tk
	}
	swebench := Environment{ImageNaming: "swebench", ImageNamespace: "swebench"}
	for _, tc := range []struct {
		name string
		env  Environment
		task sdk.Task
		want string
	}{
		{"built environment", Environment{}, task("", ""), ""},
		{"SWE-bench naming", swebench, task("", ""), "swebench/sweb.eval.x86_64.django_1776_django-11099:latest"},
		{"SWE-bench naming without namespace", Environment{ImageNaming: "swebench"}, task("", ""), "sweb.eval.x86_64.django_1776_django-11099:latest"},
		{"the environment's image", Environment{Image: "env/img:1"}, task("", ""), "env/img:1"},
		{"the environment's image before naming", Environment{Image: "env/img:1", ImageNaming: "swebench"}, task("", ""), "env/img:1"},
		{"a record's image_name wins", swebench, task("", "jyangballin/swesmith.x86_64.oauthlib_1776_oauthlib.1fd52536"), "jyangballin/swesmith.x86_64.oauthlib_1776_oauthlib.1fd52536"},
		{"the task's image wins", Environment{Image: "env/img:1"}, task("task/img:2", "other/img:3"), "task/img:2"},
		{"a blank image_name is none", Environment{}, task("", "  "), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.env.ImageRef(tc.task); got != tc.want {
				t.Errorf("ImageRef = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestImageEnvironmentNeedsNoSource: a task that runs in a published image
// needs no repository source (the image brings it), and the defaults of
// Options.Images reach the environment of a task no environment serves;
// a task with neither still needs its repository found.
func TestImageEnvironmentNeedsNoSource(t *testing.T) {
	m := New(Options{Store: t.TempDir(), DefaultLanguage: "python", Images: ImageDefaults{Naming: "swebench", Namespace: "127.0.0.1:5000/swebench"}})
	e, err := m.Environment(sdk.Task{InstanceID: "a__b-1", Repo: "a/b"})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.ImageRef(sdk.Task{InstanceID: "a__b-1"}); got != "127.0.0.1:5000/swebench/sweb.eval.x86_64.a_1776_b-1:latest" {
		t.Errorf("ImageRef = %q", got)
	}
	built := New(Options{Store: t.TempDir(), DefaultLanguage: "python"})
	if _, err := built.Environment(sdk.Task{InstanceID: "a__b-1", Repo: "a/b"}); err == nil {
		t.Error("a task with no image and no repository source has an environment")
	}
	// An environment block's own image settings win over the defaults.
	m = New(Options{Store: t.TempDir(), DefaultLanguage: "python", Images: ImageDefaults{Naming: "swebench"},
		Environments: []Environment{{Name: "own", Repo: "a/b", Image: "own/img:1"}}})
	if e, err := m.Environment(sdk.Task{InstanceID: "a__b-1", Repo: "a/b"}); err != nil || e.ImageRef(sdk.Task{InstanceID: "a__b-1"}) != "own/img:1" {
		t.Errorf("environment %+v, %v: want own/img:1", e, err)
	}
}
