package torchpeer

import (
	"encoding/json"
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

// pythons are tried in turn: the one on PATH, then Debian's, where
// python3-torch installs.
var pythons = []string{"python3", "/usr/bin/python3"}

// noTorch is the reason Run gives when no python3 imports torch.
const noTorch = "skipped: no python3 with torch (apt-get install python3-torch)"

var (
	findOnce sync.Once
	python   string

	mu   sync.Mutex
	runs = map[string][]byte{} // script and arguments → what it printed
)

// Python returns a python3 that imports torch, or "" when there is none;
// it looks once per process.
func Python() string {
	findOnce.Do(func() {
		for _, p := range pythons {
			if exec.Command(p, "-c", "import torch").Run() == nil {
				python = p
				return
			}
		}
	})
	return python
}

// Run runs the reference script (a path, relative to the test's package)
// with args and --threads GOMAXPROCS, so that PyTorch uses as many threads
// as swelego, and decodes the JSON it prints into out. A script runs once
// per process and arguments, though a benchmark function runs once for
// b.N = 1 and again for the requested count: later calls decode the first
// run's output. With no python3 that imports torch, Run returns why and
// leaves out alone; "" means out holds the figures. A script that fails or
// prints something else fails tb.
//
// The script inherits the environment but OpenBLAS's tuning variables,
// which are meant for swelego's own OpenBLAS path, not PyTorch's; its
// stderr goes to the test's.
func Run(tb testing.TB, out any, script string, args ...string) string {
	tb.Helper()
	py := Python()
	if py == "" {
		return noTorch
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
