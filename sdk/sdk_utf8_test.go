package sdk

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestOutputInvalidUTF8(t *testing.T) {
	bad := "ok \xff\xfe end"
	if got := execResultToProto(ExecResult{Output: bad}).GetOutput(); !utf8.ValidString(got) || !strings.HasPrefix(got, "ok ") || !strings.HasSuffix(got, " end") {
		t.Errorf("exec output %q", got)
	}
	if got := toolResultToProto(ToolResult{Output: bad}).GetOutput(); !utf8.ValidString(got) {
		t.Errorf("tool output %q", got)
	}
}
