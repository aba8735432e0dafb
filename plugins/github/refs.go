package github

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// closingRe finds GitHub's closing keywords followed by an issue
// reference: "Fixes #12", "closes: owner/repo#12", "Resolves
// https://github.com/owner/repo/issues/12".
var closingRe = regexp.MustCompile(`(?i)\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?):?\s+(?:#(\d+)|([\w.-]+/[\w.-]+)#(\d+)|https?://[^\s/]+/([\w.-]+/[\w.-]+)/issues/(\d+))\b`)

// closingIssues returns the numbers of the issues of repository repo
// ("owner/name") that text closes with a keyword, sorted and without
// repeats. References to other repositories count in other.
func closingIssues(text, repo string) (numbers []int, other int) {
	seen := map[int]bool{}
	for _, m := range closingRe.FindAllStringSubmatch(text, -1) {
		num, where := m[1], ""
		switch {
		case m[3] != "":
			num, where = m[3], m[2]
		case m[5] != "":
			num, where = m[5], m[4]
		}
		if where != "" && !strings.EqualFold(where, repo) {
			other++
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil || n <= 0 || seen[n] {
			continue
		}
		seen[n] = true
		numbers = append(numbers, n)
	}
	sort.Ints(numbers)
	return numbers, other
}
