package github

import (
	"reflect"
	"testing"
)

func TestClosingIssues(t *testing.T) {
	cases := []struct {
		name  string
		text  string
		want  []int
		other int
	}{
		{"fixes", "Fixes #12", []int{12}, 0},
		{"lower case and colon", "this closes: #7.", []int{7}, 0},
		{"every keyword", "close #1 closes #2 closed #3 fix #4 fixes #5 fixed #6 resolve #7 resolves #8 resolved #9", []int{1, 2, 3, 4, 5, 6, 7, 8, 9}, 0},
		{"same repository by name", "Resolves octo/widgets#44", []int{44}, 0},
		{"same repository by URL", "fixes https://github.com/octo/widgets/issues/45", []int{45}, 0},
		{"other repository", "Fixes other/repo#3", nil, 1},
		{"a mention is not a close", "See #12 and #13", nil, 0},
		{"repeats count once", "Fixes #5, fixes #5", []int{5}, 0},
		{"two issues", "Fixes #5 and closes #6", []int{5, 6}, 0},
		{"a word that only contains a keyword", "prefixes #9 suffixed #10", nil, 0},
		{"number zero", "fixes #0", nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, other := closingIssues(c.text, "octo/widgets")
			if !reflect.DeepEqual(got, c.want) || other != c.other {
				t.Errorf("closingIssues(%q) = %v, %d; want %v, %d", c.text, got, other, c.want, c.other)
			}
		})
	}
}

func FuzzClosingIssues(f *testing.F) {
	for _, s := range []string{"Fixes #12", "closes: o/r#3", "resolves https://github.com/o/r/issues/9", "#", "fix #99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		nums, _ := closingIssues(text, "o/r")
		for i, n := range nums {
			if n <= 0 || (i > 0 && nums[i-1] >= n) {
				t.Fatalf("closingIssues(%q) = %v: not positive, sorted and unique", text, nums)
			}
		}
	})
}
