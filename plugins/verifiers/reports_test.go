package verifiers

import (
	"reflect"
	"testing"

	"github.com/swelego/swelego/sdk"
)

func TestParseJUnit(t *testing.T) {
	report := `<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="2" tests="6">
<testcase classname="tests.test_a" name="test_pass" file="tests/test_a.py" line="1" time="0.001"/>
<testcase classname="tests.test_a" name="test_fail"><failure message="assert 1 == 2">x</failure></testcase>
<testcase classname="tests.test_a.TestC" name="test_err"><error message="fixture"/></testcase>
<testcase classname="tests.test_a" name="test_skip"><skipped type="pytest.skip" message="no"/></testcase>
<testcase classname="tests.test_a" name="test_xfail"><skipped type="pytest.xfail" message=""/></testcase>
<testcase classname="tests.test_a" name="test_teardown"/>
<testcase classname="tests.test_a" name="test_teardown"><error message="teardown"/></testcase>
</testsuite></testsuites>`
	got, err := ParseJUnit([]byte(report))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]sdk.TestStatus{
		"tests.test_a::test_pass": sdk.TestPassed, "tests.test_a::test_fail": sdk.TestFailed,
		"tests.test_a.TestC::test_err": sdk.TestError, "tests.test_a::test_skip": sdk.TestSkipped,
		"tests.test_a::test_xfail": sdk.TestXFail, "tests.test_a::test_teardown": sdk.TestError,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	for _, bad := range []string{"", "not xml", "<html></html>", "<testsuite><testcase"} {
		if _, err := ParseJUnit([]byte(bad)); err == nil {
			t.Errorf("ParseJUnit(%q): no error", bad)
		}
	}
}

func TestParseGoTestJSON(t *testing.T) {
	out := `# example.com/m/b
b/b.go:3:1: syntax error
{"Action":"run","Package":"example.com/m/a","Test":"TestA"}
{"Action":"pass","Package":"example.com/m/a","Test":"TestA"}
{"Action":"pass","Package":"example.com/m/a","Test":"TestA/sub"}
{"Action":"fail","Package":"example.com/m/a","Test":"TestB"}
{"Action":"skip","Package":"example.com/m/a","Test":"TestC"}
{"Action":"pass","Package":"example.com/m/a"}
{"Action":"fail","Package":"example.com/m/b"}
`
	want := map[string]sdk.TestStatus{
		"example.com/m/a/TestA": sdk.TestPassed, "example.com/m/a/TestA/sub": sdk.TestPassed,
		"example.com/m/a/TestB": sdk.TestFailed, "example.com/m/a/TestC": sdk.TestSkipped,
	}
	if got := ParseGoTestJSON([]byte(out)); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

func TestAddedFiles(t *testing.T) {
	patch := `diff --git a/pkg/x.py b/pkg/x.py
--- a/pkg/x.py
+++ b/pkg/x.py
@@ -1 +1 @@
-a
+b
diff --git a/tests/test_new.py b/tests/test_new.py
new file mode 100644
--- /dev/null
+++ b/tests/test_new.py
@@ -0,0 +1,2 @@
+def test_one():
+    pass
diff --git a/a/new_test.go b/a/new_test.go
new file mode 100644
--- /dev/null
+++ b/a/new_test.go
@@ -0,0 +1,3 @@
+package a
+func TestOne(t *testing.T) {}
+func helper(t *testing.T) {}
--- /dev/null
+++ b/../escape.py
+x
`
	got := AddedFiles(patch)
	want := []AddedFile{
		{Path: "tests/test_new.py", Lines: []string{"def test_one():", "    pass"}},
		{Path: "a/new_test.go", Lines: []string{"package a", "func TestOne(t *testing.T) {}", "func helper(t *testing.T) {}"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if names := goTestNames(want[1].Lines); !reflect.DeepEqual(names, []string{"TestOne"}) {
		t.Errorf("test names %v", names)
	}
}

func TestBelongsTo(t *testing.T) {
	tests := []struct {
		id, file string
		want     bool
	}{
		{"tests.test_sub::test_sub", "tests/test_sub.py", true},
		{"tests.test_sub.TestSub::test_neg", "tests/test_sub.py", true},
		{"test_sub::test_sub", "tests/test_sub.py", true}, // rootdir at tests/
		{"tests.test_sub", "tests/test_sub.py", true},     // a collection error
		{"tests.test_subtract::test_x", "tests/test_sub.py", false},
		{"tests.test_other::test_sub", "tests/test_sub.py", false},
	}
	for _, tt := range tests {
		if got := belongsTo(tt.id, tt.file); got != tt.want {
			t.Errorf("belongsTo(%q, %q) = %t, want %t", tt.id, tt.file, got, tt.want)
		}
	}
}
