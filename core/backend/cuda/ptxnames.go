package cuda

import (
	"regexp"
	"sort"
	"strings"
)

var (
	entryRE = regexp.MustCompile(`(?m)^\.visible \.entry ([A-Za-z_][A-Za-z0-9_]*)\(([^)]*)\)`)
	paramRE = regexp.MustCompile(`\.param \.(\w+) `)
)

// kernelNames lists the kernels (.visible .entry) a PTX module defines,
// sorted.
func kernelNames(ptx string) []string {
	var names []string
	for name := range ptxParams(ptx) {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// ptxParams maps each kernel a PTX module defines to its parameter types,
// space-separated, in kernelParams's notation.
func ptxParams(ptx string) map[string]string {
	out := map[string]string{}
	for _, m := range entryRE.FindAllStringSubmatch(ptx, -1) {
		var types []string
		for _, p := range paramRE.FindAllStringSubmatch(m[2], -1) {
			types = append(types, p[1])
		}
		out[m[1]] = strings.Join(types, " ")
	}
	return out
}
