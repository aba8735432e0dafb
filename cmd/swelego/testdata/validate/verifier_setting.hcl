# Settings of the hybrid verifier out of range, and a test runner it does
# not know.

source "swebench" "bundled" {
  path = "../../../../examples/tasks/bundled.jsonl"
}

tts "best" {
  tasks      = source.swebench.bundled
  candidates = "../../../../examples/rerank/candidates.jsonl"

  verifier "verifier-hybrid" {
    keep_fraction = 1.5
    runner        = "pytst"
  }
}
