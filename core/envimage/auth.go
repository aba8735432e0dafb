package envimage

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/docker/docker-credential-helpers/client"
	"github.com/docker/docker-credential-helpers/credentials"
	"github.com/docker/docker/api/types/registry"
)

// dockerHubKeys are the keys the Docker config gives Docker Hub's
// credentials under.
var dockerHubKeys = []string{"https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"}

// DockerConfigFile is the Docker config file the docker command reads:
// $DOCKER_CONFIG/config.json, else ~/.docker/config.json.
func DockerConfigFile() string {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return filepath.Join(d, "config.json")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".docker", "config.json")
}

// RegistryAuth returns the X-Registry-Auth value (base64url JSON of the
// credentials) for registry host domain from the Docker config file
// (DockerConfigFile() when file is ""), as the docker command finds them:
// the credential helper credHelpers names for the host, else the
// credsStore helper, run as docker-credential-NAME with the Docker
// credential helper protocol; when the helper has none for the host, or
// no helper is configured, the auths entry for the host, with or without
// a scheme and path. A missing file, or no credentials for the host, gives
// "" (an anonymous pull).
func RegistryAuth(file, domain string) (string, error) {
	if file == "" {
		file = DockerConfigFile()
	}
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) || file == "" {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("docker config: %w", err)
	}
	if helper, err := CredentialHelper(data, domain); err != nil {
		return "", fmt.Errorf("docker config %s: %w", file, err)
	} else if helper != "" {
		ac, ok, err := helperCredentials(helper, domain)
		if err != nil {
			return "", err
		}
		if ok {
			return registry.EncodeAuthConfig(ac)
		}
	}
	ac, ok, err := ParseDockerConfig(data, domain)
	if err != nil {
		return "", fmt.Errorf("docker config %s: %w", file, err)
	}
	if !ok {
		return "", nil
	}
	return registry.EncodeAuthConfig(ac)
}

// CredentialHelper returns the name of the credential helper the Docker
// config's content names for registry host domain: its credHelpers entry
// for the host, else credsStore, else "".
func CredentialHelper(data []byte, domain string) (string, error) {
	var cfg struct {
		CredsStore  string            `json:"credsStore"`
		CredHelpers map[string]string `json:"credHelpers"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return "", err
	}
	keys := hostKeys(domain)
	for _, key := range slices.Sorted(maps.Keys(cfg.CredHelpers)) {
		if matchesHost(key, keys) && cfg.CredHelpers[key] != "" {
			return cfg.CredHelpers[key], nil
		}
	}
	return cfg.CredsStore, nil
}

// helperCredentials asks docker-credential-NAME (found on PATH) for the
// credentials of domain. ok is false when the helper has none; a helper
// that cannot be run or fails otherwise is an error, so that a pull is not
// silently anonymous.
func helperCredentials(name, domain string) (ac registry.AuthConfig, ok bool, err error) {
	server := domain
	if domain == "docker.io" {
		server = dockerHubKeys[0]
	}
	program := "docker-credential-" + name
	c, err := client.Get(client.NewShellProgramFunc(program), server)
	if credentials.IsErrCredentialsNotFound(err) {
		return ac, false, nil
	}
	if err != nil {
		return ac, false, fmt.Errorf("credential helper %s for %s: %w", program, server, err)
	}
	ac.ServerAddress = server
	if c.Username == "<token>" { // the protocol's mark of an identity token
		ac.IdentityToken = c.Secret
	} else {
		ac.Username, ac.Password = c.Username, c.Secret
	}
	return ac, ac.Username != "" || ac.IdentityToken != "", nil
}

// hostKeys are the keys the Docker config may give domain's entries
// under.
func hostKeys(domain string) []string {
	if domain == "docker.io" {
		return dockerHubKeys
	}
	return []string{domain}
}

// ParseDockerConfig reads the credentials of registry host domain from a
// Docker config file's content: an auths entry keyed by the host (or by a
// URL naming it) whose auth is base64 of "user:password", or which holds
// username and password, or an identity token. ok is false when there is
// none.
func ParseDockerConfig(data []byte, domain string) (ac registry.AuthConfig, ok bool, err error) {
	var cfg struct {
		Auths map[string]struct {
			Auth          string `json:"auth"`
			Username      string `json:"username"`
			Password      string `json:"password"`
			IdentityToken string `json:"identitytoken"`
		} `json:"auths"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return ac, false, err
	}
	keys := hostKeys(domain)
	for _, key := range slices.Sorted(maps.Keys(cfg.Auths)) {
		e := cfg.Auths[key]
		if !matchesHost(key, keys) {
			continue
		}
		ac = registry.AuthConfig{Username: e.Username, Password: e.Password, IdentityToken: e.IdentityToken, ServerAddress: key}
		if e.Auth != "" {
			raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(e.Auth))
			if err != nil {
				return registry.AuthConfig{}, false, fmt.Errorf("auths %q: auth is not base64: %w", key, err)
			}
			user, pass, found := strings.Cut(string(raw), ":")
			if !found {
				return registry.AuthConfig{}, false, fmt.Errorf("auths %q: auth is not user:password", key)
			}
			ac.Username, ac.Password = user, pass
		}
		if ac.Username == "" && ac.IdentityToken == "" {
			continue
		}
		return ac, true, nil
	}
	return registry.AuthConfig{}, false, nil
}

// matchesHost reports whether an auths key (a host, host:port or a URL)
// names one of hosts.
func matchesHost(key string, hosts []string) bool {
	h := key
	if _, rest, found := strings.Cut(h, "://"); found {
		h = rest
	}
	h, _, _ = strings.Cut(h, "/")
	for _, want := range hosts {
		if key == want || strings.EqualFold(h, want) {
			return true
		}
	}
	return false
}
