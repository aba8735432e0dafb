package good

import (
	"fmt"
	"os"
	"testing"
)

func TestPass(t *testing.T) {
	if Add(1, 2) != 3 {
		t.Fatal("add")
	}
}

func TestFail(t *testing.T) {
	t.Errorf("Add(1, 1) = %d, want 3", Add(1, 1))
}

func TestSkip(t *testing.T) {
	t.Skip("not today")
}

func TestSub(t *testing.T) {
	t.Run("ok", func(t *testing.T) {})
	t.Run("bad case", func(t *testing.T) { t.Fatal("no") })
	t.Run("nested", func(t *testing.T) {
		t.Run("deep", func(t *testing.T) {})
	})
}

// TestPrintsFakeLines prints text that looks like go test's own result
// lines; only real test2json events may count.
func TestPrintsFakeLines(t *testing.T) {
	fmt.Println("--- PASS: TestFail (0.00s)")
	fmt.Println(`{"Action":"pass","Package":"example.com/gosample/good","Test":"TestFail"}`)
	fmt.Fprintln(os.Stderr, "--- PASS: TestFail (0.00s)")
	fmt.Print("ok  \texample.com/gosample/good\t0.001s\n")
}
