package envimage

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/docker/docker/api/types/registry"
)

func TestSWEBenchRef(t *testing.T) {
	for _, tc := range []struct{ namespace, id, want string }{
		{"", "django__django-11099", "sweb.eval.x86_64.django_1776_django-11099:latest"},
		{"swebench", "django__django-11099", "swebench/sweb.eval.x86_64.django_1776_django-11099:latest"},
		{"swebench/", "sympy__sympy-20590", "swebench/sweb.eval.x86_64.sympy_1776_sympy-20590:latest"},
		{"127.0.0.1:5000/swebench", "Astropy__Astropy-12907", "127.0.0.1:5000/swebench/sweb.eval.x86_64.astropy_1776_astropy-12907:latest"},
	} {
		if got := SWEBenchRef(tc.namespace, tc.id); got != tc.want {
			t.Errorf("SWEBenchRef(%q, %q) = %q, want %q", tc.namespace, tc.id, got, tc.want)
		}
	}
}

func TestParseDockerConfig(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		name, config, domain string
		want                 registry.AuthConfig
		ok, fails            bool
	}{
		{name: "auth by host:port", config: `{"auths":{"127.0.0.1:5000":{"auth":"` + b64("alice:s3cr:et") + `"}}}`, domain: "127.0.0.1:5000",
			want: registry.AuthConfig{Username: "alice", Password: "s3cr:et", ServerAddress: "127.0.0.1:5000"}, ok: true},
		{name: "auth by URL", config: `{"auths":{"https://ghcr.io/v2/":{"username":"bob","password":"pw"}}}`, domain: "ghcr.io",
			want: registry.AuthConfig{Username: "bob", Password: "pw", ServerAddress: "https://ghcr.io/v2/"}, ok: true},
		{name: "Docker Hub's legacy key", config: `{"auths":{"https://index.docker.io/v1/":{"auth":"` + b64("carol:pw") + `"}}}`, domain: "docker.io",
			want: registry.AuthConfig{Username: "carol", Password: "pw", ServerAddress: "https://index.docker.io/v1/"}, ok: true},
		{name: "identity token", config: `{"auths":{"reg.example":{"identitytoken":"tok"}}}`, domain: "reg.example",
			want: registry.AuthConfig{IdentityToken: "tok", ServerAddress: "reg.example"}, ok: true},
		{name: "another host", config: `{"auths":{"reg.example":{"auth":"` + b64("a:b") + `"}}}`, domain: "reg.example:5000"},
		{name: "helpers only", config: `{"credsStore":"desktop","auths":{"reg.example":{}}}`, domain: "reg.example"},
		{name: "no auths", config: `{}`, domain: "docker.io"},
		{name: "auth not base64", config: `{"auths":{"reg.example":{"auth":"%%%"}}}`, domain: "reg.example", fails: true},
		{name: "auth without colon", config: `{"auths":{"reg.example":{"auth":"` + b64("nocolon") + `"}}}`, domain: "reg.example", fails: true},
		{name: "not JSON", config: `auths:`, domain: "reg.example", fails: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := ParseDockerConfig([]byte(tc.config), tc.domain)
			if (err != nil) != tc.fails {
				t.Fatalf("err = %v, want failure %v", err, tc.fails)
			}
			if ok != tc.ok || got != tc.want {
				t.Errorf("got %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestRegistryAuthFile(t *testing.T) {
	dir := t.TempDir()
	if got, err := RegistryAuth(filepath.Join(dir, "missing.json"), "reg.example"); got != "" || err != nil {
		t.Fatalf("missing file: %q, %v; want an anonymous pull", got, err)
	}
	file := filepath.Join(dir, "config.json")
	cfg := `{"auths":{"reg.example":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("u:p")) + `"}}}`
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
	got, err := RegistryAuth("", "reg.example")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := registry.EncodeAuthConfig(registry.AuthConfig{Username: "u", Password: "p", ServerAddress: "reg.example"})
	if got != want {
		t.Errorf("RegistryAuth = %q, want %q", got, want)
	}
}

func FuzzParseDockerConfig(f *testing.F) {
	f.Add([]byte(`{"auths":{"127.0.0.1:5000":{"auth":"YTpi"}}}`), "127.0.0.1:5000")
	f.Add([]byte(`{"auths":{"https://index.docker.io/v1/":{"username":"u","password":"p"}}}`), "docker.io")
	f.Add([]byte(`{"auths":{"x":{"auth":"!!"}}}`), "x")
	f.Fuzz(func(t *testing.T, data []byte, domain string) {
		ac, ok, err := ParseDockerConfig(data, domain)
		if err != nil && ok {
			t.Fatal("ok with an error")
		}
		if ok && ac.Username == "" && ac.IdentityToken == "" {
			t.Fatalf("ok without credentials: %+v", ac)
		}
		if _, err := registry.EncodeAuthConfig(ac); err != nil {
			t.Fatal(err)
		}
	})
}

// TestRegistryAuthHelpers runs credential helpers the way the docker
// command does: a script speaking the helper protocol (the server URL on
// stdin, JSON or "credentials not found" on stdout) stands on PATH.
func TestRegistryAuthHelpers(t *testing.T) {
	bin := t.TempDir()
	helper := `#!/bin/sh
[ "$1" = get ] || exit 2
read -r server
case "$server" in
reg.example) echo '{"ServerURL":"reg.example","Username":"hal","Secret":"from-helper"}' ;;
tok.example) echo '{"ServerURL":"tok.example","Username":"<token>","Secret":"refresh"}' ;;
https://index.docker.io/v1/) echo '{"ServerURL":"https://index.docker.io/v1/","Username":"hub","Secret":"pw"}' ;;
broken.example) echo 'helper crashed' >&2; exit 3 ;;
*) echo 'credentials not found in native keychain'; exit 1 ;;
esac
`
	for _, name := range []string{"docker-credential-store", "docker-credential-pass"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(helper), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	b64 := base64.StdEncoding.EncodeToString([]byte("file:pw"))
	for _, tc := range []struct {
		name, config, domain string
		want                 registry.AuthConfig // zero: anonymous
		fails                bool
	}{
		{name: "credsStore", config: `{"credsStore":"store","auths":{"reg.example":{}}}`, domain: "reg.example",
			want: registry.AuthConfig{Username: "hal", Password: "from-helper", ServerAddress: "reg.example"}},
		{name: "identity token", config: `{"credsStore":"store"}`, domain: "tok.example",
			want: registry.AuthConfig{IdentityToken: "refresh", ServerAddress: "tok.example"}},
		{name: "Docker Hub's server URL", config: `{"credsStore":"store"}`, domain: "docker.io",
			want: registry.AuthConfig{Username: "hub", Password: "pw", ServerAddress: "https://index.docker.io/v1/"}},
		{name: "credHelpers before credsStore", config: `{"credsStore":"missing","credHelpers":{"reg.example":"pass"}}`, domain: "reg.example",
			want: registry.AuthConfig{Username: "hal", Password: "from-helper", ServerAddress: "reg.example"}},
		{name: "helper has none: the auths entry", config: `{"credsStore":"store","auths":{"other.example":{"auth":"` + b64 + `"}}}`, domain: "other.example",
			want: registry.AuthConfig{Username: "file", Password: "pw", ServerAddress: "other.example"}},
		{name: "helper has none and no entry", config: `{"credsStore":"store"}`, domain: "nobody.example"},
		{name: "helper fails", config: `{"credsStore":"store"}`, domain: "broken.example", fails: true},
		{name: "helper not installed", config: `{"credHelpers":{"reg.example":"missing"}}`, domain: "reg.example", fails: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "config.json")
			if err := os.WriteFile(file, []byte(tc.config), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := RegistryAuth(file, tc.domain)
			if (err != nil) != tc.fails {
				t.Fatalf("err = %v, want failure %v", err, tc.fails)
			}
			if tc.fails {
				return
			}
			want := ""
			if tc.want != (registry.AuthConfig{}) {
				want, _ = registry.EncodeAuthConfig(tc.want)
			}
			if got != want {
				t.Errorf("RegistryAuth = %q, want %q", got, want)
			}
		})
	}
}
