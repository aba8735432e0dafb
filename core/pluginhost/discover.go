package pluginhost

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// BinaryPrefix starts the file name of every plugin binary.
const BinaryPrefix = "swelego-plugin-"

// ErrNotFound is returned when no binary or built-in plugin has the name.
var ErrNotFound = errors.New("plugin not found")

// SourceBuiltin in a plugin block's source forces the plugin built into
// swelego even when a binary of the same name is on the search path.
const SourceBuiltin = "builtin"

// DefaultSearchPath lists the folders searched for plugin binaries, in
// order: each entry of $SWELEGO_PLUGIN_PATH, ./.swelego/plugins under dir,
// and $XDG_DATA_HOME/swelego/plugins (~/.local/share when unset).
func DefaultSearchPath(getenv func(string) string, dir string) []string {
	var out []string
	for _, p := range filepath.SplitList(getenv("SWELEGO_PLUGIN_PATH")) {
		if p != "" {
			out = append(out, p)
		}
	}
	out = append(out, filepath.Join(dir, ".swelego", "plugins"))
	data := getenv("XDG_DATA_HOME")
	if data == "" {
		if home := getenv("HOME"); home != "" {
			data = filepath.Join(home, ".local", "share")
		}
	}
	if data != "" {
		out = append(out, filepath.Join(data, "swelego", "plugins"))
	}
	return out
}

// Decl is what a recipe's `plugin "NAME" { source, version }` block says.
type Decl struct {
	// Source is a path to a binary (relative to the recipe's folder when it
	// contains a slash), another plugin name to look up, or "builtin".
	Source string
	// Version is a version constraint such as ">= 0.1, < 1.0".
	Version string
}

// Location is where a plugin comes from once resolved.
type Location struct {
	Name    string
	Path    string // the binary; empty for built-in plugins
	Builtin bool
	// Serves is the built-in plugin a built-in location runs: Name, or
	// the plugin name a plugin block's source gives (plugin "judge" {
	// source = "verifier-tests" }).
	Serves string
	Source string // the recipe's source, or "search path" / "builtin"
}

func (l Location) String() string {
	if l.Builtin {
		if l.Serves != "" && l.Serves != l.Name {
			return fmt.Sprintf("%s (%s, built into swelego)", l.Name, l.Serves)
		}
		return fmt.Sprintf("%s (built into swelego)", l.Name)
	}
	return fmt.Sprintf("%s (%s)", l.Name, l.Path)
}

// resolve finds the plugin called name.
func (h *Host) resolve(name string) (Location, error) {
	decl := h.opts.Decls[name]
	switch {
	case decl.Source == SourceBuiltin:
		if _, ok := h.opts.Builtins[name]; !ok {
			return Location{}, fmt.Errorf("%w: %q is not built into swelego%s (built in: %s)", ErrNotFound, name, didYouMean(name, h.builtinNames()), strings.Join(h.builtinNames(), ", "))
		}
		return Location{Name: name, Builtin: true, Serves: name, Source: SourceBuiltin}, nil
	case strings.ContainsRune(decl.Source, '/') || strings.ContainsRune(decl.Source, filepath.Separator):
		p := decl.Source
		if !filepath.IsAbs(p) {
			p = filepath.Join(h.opts.Dir, p)
		}
		if err := checkExecutable(p); err != nil {
			return Location{}, fmt.Errorf("%w: %q: %w", ErrNotFound, name, err)
		}
		return Location{Name: name, Path: p, Source: decl.Source}, nil
	}
	lookup := name
	if decl.Source != "" {
		lookup = decl.Source
	}
	for _, dir := range h.opts.SearchPath {
		p := filepath.Join(dir, BinaryPrefix+lookup)
		if checkExecutable(p) == nil {
			abs, err := filepath.Abs(p)
			if err != nil {
				return Location{}, err
			}
			return Location{Name: name, Path: abs, Source: "search path"}, nil
		}
	}
	if _, ok := h.opts.Builtins[lookup]; ok {
		return Location{Name: name, Builtin: true, Serves: lookup, Source: SourceBuiltin}, nil
	}
	return Location{}, h.notFound(lookup)
}

// notFound says that no plugin is called name: where binaries were looked
// for, the installed plugin with the closest name, and every installed one.
func (h *Host) notFound(name string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%q", name)
	var names, found, builtin []string
	for _, l := range h.Discover() {
		names = append(names, l.Name)
		if l.Builtin {
			builtin = append(builtin, l.Name)
		} else {
			found = append(found, l.String())
		}
	}
	b.WriteString(didYouMean(name, names))
	fmt.Fprintf(&b, ": no %s%s on the search path (%s), and no plugin of that name is built into swelego", BinaryPrefix, name, strings.Join(h.opts.SearchPath, ", "))
	if len(found) == 0 {
		b.WriteString("; no plugin binaries are installed on the search path")
	} else {
		fmt.Fprintf(&b, "; installed: %s", strings.Join(found, ", "))
	}
	if len(builtin) > 0 {
		fmt.Fprintf(&b, "; built in: %s", strings.Join(builtin, ", "))
	}
	return fmt.Errorf("%w: %s", ErrNotFound, b.String())
}

func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("%s is a directory", p)
	}
	if fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not executable", p)
	}
	return nil
}

// Discover lists every plugin binary on the search path and every built-in
// plugin, first occurrence of a name winning.
func (h *Host) Discover() []Location {
	seen := map[string]bool{}
	var out []Location
	for _, dir := range h.opts.SearchPath {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name, ok := strings.CutPrefix(e.Name(), BinaryPrefix)
			p := filepath.Join(dir, e.Name())
			if !ok || seen[name] || checkExecutable(p) != nil {
				continue
			}
			seen[name] = true
			out = append(out, Location{Name: name, Path: p, Source: "search path"})
		}
	}
	for _, name := range h.builtinNames() {
		if !seen[name] {
			out = append(out, Location{Name: name, Builtin: true, Serves: name, Source: SourceBuiltin})
		}
	}
	return out
}

// Identity names the exact plugin a name resolves to — the binary's
// SHA-256, or "builtin:NAME" — so a stage can tell when a plugin was
// swapped under it.
func (h *Host) Identity(name string) (string, error) {
	if _, ok := h.reattach[name]; ok {
		return "reattached:" + name, nil
	}
	loc, err := h.resolve(name)
	if err != nil {
		return "", err
	}
	if loc.Builtin {
		return "builtin:" + loc.Serves, nil
	}
	sum, err := fileSHA256(loc.Path)
	if err != nil {
		return "", fmt.Errorf("checksum plugin %s: %w", loc, err)
	}
	return fmt.Sprintf("sha256:%x", sum), nil
}

// didYouMean is ` (did you mean "X"?)` for the option X closest to got, or "".
func didYouMean(got string, options []string) string {
	if best := sdk.Closest(got, options); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}
