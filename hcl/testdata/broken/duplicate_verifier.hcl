source "swebench" "verified" {
  path = "tasks.jsonl"
}

tts "best" {
  tasks      = source.swebench.verified
  candidates = "candidates.jsonl"

  verifier "generative" {
    threshold = 0.5
  }

  verifier "generative" {
    threshold = 0.7
  }
}
