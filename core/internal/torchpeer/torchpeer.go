package torchpeer

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Config124M is a GPT-2-small-sized Qwen3: hidden 768, 12 layers, 12
// query and 12 key/value heads of 64, SwiGLU width 2048 (3·768·2048 ≈
// GPT-2's 2·768·3072 MLP weights), vocab 50304, tied embeddings: 123.6M
// parameters. The training, SFT and decoding benchmarks all time it.
const Config124M = `{"hidden_size":768,"num_hidden_layers":12,"num_attention_heads":12,"num_key_value_heads":12,
"head_dim":64,"intermediate_size":2048,"vocab_size":50304,"rms_norm_eps":1e-6,"rope_theta":10000,
"max_position_embeddings":1024,"tie_word_embeddings":true}`

var (
	mu    sync.Mutex
	found = map[string]string{} // interpreter name → the one that imports torch, "" for none
	runs  = map[string][]byte{} // script and arguments → what it printed
)

// Interpreter returns the interpreter of script that imports torch, or ""
// when there is none: the program its "#!/usr/bin/env NAME" line names,
// found on PATH, else in /usr/bin, where Debian's torch package installs.
// It looks once per process and interpreter.
func Interpreter(script string) (string, error) {
	name, err := shebang(script)
	if err != nil {
		return "", err
	}
	mu.Lock()
	defer mu.Unlock()
	if p, ok := found[name]; ok {
		return p, nil
	}
	found[name] = ""
	for _, p := range []string{name, "/usr/bin/" + name} {
		if exec.Command(p, "-c", "import torch").Run() == nil {
			found[name] = p
			break
		}
	}
	return found[name], nil
}

// shebang is the program a script's "#!/usr/bin/env NAME" line names.
func shebang(script string) (string, error) {
	f, err := os.Open(script)
	if err != nil {
		return "", err
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	name, ok := strings.CutPrefix(strings.TrimSpace(line), "#!/usr/bin/env ")
	if !ok || name == "" || strings.ContainsAny(name, " /") {
		return "", fmt.Errorf("%s: the first line must be #!/usr/bin/env NAME, not %q", script, strings.TrimSpace(line))
	}
	return name, nil
}

// Run runs the reference script (a path, relative to the test's package)
// with args and --threads GOMAXPROCS, so that PyTorch uses as many threads
// as swelego, and decodes the JSON it prints into out. A script runs once
// per process and arguments, though a benchmark function runs once for
// b.N = 1 and again for the requested count: later calls decode the first
// run's output. With no interpreter that imports torch, Run returns why and
// leaves out alone; "" means out holds the figures. A script that fails or
// prints something else fails tb.
//
// The script inherits the environment but OpenBLAS's tuning variables,
// which are meant for swelego's own OpenBLAS path, not PyTorch's; its
// stderr goes to the test's.
func Run(tb testing.TB, out any, script string, args ...string) string {
	tb.Helper()
	py, err := Interpreter(script)
	if err != nil {
		tb.Fatal(err)
	}
	if py == "" {
		return "skipped: the reference needs torch (make deps installs Debian's)"
	}
	args = append([]string{script}, append(args, "--threads", strconv.Itoa(runtime.GOMAXPROCS(0)))...)
	key := strings.Join(args, "\x00")
	mu.Lock()
	defer mu.Unlock()
	printed, ok := runs[key]
	if !ok {
		cmd := exec.Command(py, args...)
		cmd.Env = peerEnv(os.Environ())
		cmd.Stderr = os.Stderr
		var err error
		if printed, err = cmd.Output(); err != nil {
			tb.Fatalf("%s: %v", script, err)
		}
		runs[key] = printed
	}
	if err := json.Unmarshal(printed, out); err != nil {
		tb.Fatalf("%s output %q: %v", script, printed, err)
	}
	return ""
}

// peerEnv is env without OpenBLAS's tuning variables.
func peerEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "OPENBLAS_CORETYPE=") && !strings.HasPrefix(kv, "OPENBLAS_L2_SIZE=") {
			out = append(out, kv)
		}
	}
	return out
}
