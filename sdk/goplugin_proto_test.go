package sdk_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	_ "github.com/swelego/swelego/sdk" // links go-plugin, which registers its protos
)

// TestGoPluginProtos: the go-plugin protos shipped in sdk/proto/goplugin
// for plugins in other languages name every service, method, message and
// field the way go-plugin itself (linked into this binary) registers them.
func TestGoPluginProtos(t *testing.T) {
	var text strings.Builder
	files, err := filepath.Glob(filepath.Join("proto", "goplugin", "*.proto"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no protos in proto/goplugin: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text.Write(data)
	}
	shipped := text.String()
	want := map[string]bool{"plugin.GRPCBroker": false, "plugin.GRPCController": false, "plugin.GRPCStdio": false}
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if fd.Package() != "plugin" {
			return true
		}
		for i := 0; i < fd.Services().Len(); i++ {
			s := fd.Services().Get(i)
			if _, ok := want[string(s.FullName())]; ok {
				want[string(s.FullName())] = true
			}
			mustHave(t, shipped, fmt.Sprintf(`service %s {`, s.Name()))
			for j := 0; j < s.Methods().Len(); j++ {
				m := s.Methods().Get(j)
				mustHave(t, shipped, fmt.Sprintf(`rpc %s(`, m.Name()))
			}
		}
		checkMessages(t, shipped, fd.Messages())
		return true
	})
	for name, seen := range want {
		if !seen {
			t.Errorf("go-plugin registers no %s: is it still linked?", name)
		}
	}
}

func checkMessages(t *testing.T, shipped string, msgs protoreflect.MessageDescriptors) {
	for i := 0; i < msgs.Len(); i++ {
		m := msgs.Get(i)
		mustHave(t, shipped, fmt.Sprintf(`message %s {`, m.Name()))
		for j := 0; j < m.Fields().Len(); j++ {
			f := m.Fields().Get(j)
			re := fmt.Sprintf(`\b%s\s*=\s*%d;`, regexp.QuoteMeta(string(f.Name())), f.Number())
			if !regexp.MustCompile(re).MatchString(shipped) {
				t.Errorf("%s.%s = %d is not in proto/goplugin", m.FullName(), f.Name(), f.Number())
			}
		}
		checkMessages(t, shipped, m.Messages())
	}
}

func mustHave(t *testing.T, shipped, s string) {
	t.Helper()
	if !strings.Contains(shipped, s) {
		t.Errorf("proto/goplugin lacks %q", s)
	}
}
